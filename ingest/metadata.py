"""Per-document metadata: title, date, region, doc_type, issuer, 文号.

Read from what the file states first (the 国务院 page table, <meta> tags, Word title), then from the
raw text (labelled lines such as 发布时间:/日期:, a LawRefBook promulgation header, the signature at the
end), then from the path (laws/山东/…, 全国_2020_2020-01-02_….md, 条例(2019-04-20).md). The vocabulary
is data: fields.tsv, national.txt, doc_types.tsv, gazetteer.tsv.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from ingest import region
from ingest.data import rows
from ingest.dates import DATE_RE, month_day_date, parse_date
from ingest.records import Section

DOC_TYPES = (
    "law", "regulation", "local_regulation", "rule", "judicial_interpretation",
    "normative", "speech", "plan", "report", "work_report", "news", "notice", "other",
)  # fmt: skip
REGION_HEAD, REGION_TAIL = 3000, 1500
_HEADER_LINE = re.compile(r"^[（(]?\s*(?:19|20)\d{2}年\d{1,2}月\d{1,2}日")
_HEADER_END = re.compile(r"(通过|公布|发布|施行|批准|修正|修订)[^，。；]{0,3}$")
_HEX_NAME = re.compile(r"^(?:\d+_)?[0-9a-f]{8,}$")
_TITLE_JUNK = re.compile(r"^[（(]转载[）)]|\s*[-_|｜]\s*$")
_NO_ISSUER = ("本网", "本站")
_ISSUER_HEADER = (
    # (regex on a LawRefBook header line, how to build the issuer from its groups)
    (re.compile(r"(?:由)?(.*?)(?:第?[一二三四五六七八九十]+届)?(全国人民代表大会常务委员会|全国人民代表大会|人民代表大会常务委员会|人民代表大会|人大常委会)"), "{1}{2}"),
    (re.compile(r"(?:由)?(最高人民法院|最高人民检察院)"), "{1}"),
    (re.compile(r"(?:中华人民共和国)?(\S+?)令(?:第|\()"), "{1}"),
    (re.compile(r"(国务院|\S+?部|\S+?总局)(?:第\d+次(?:常务|部务|局务)会议|部长办公会议|批准|发布)"), "{1}"),
)  # fmt: skip


@cache
def _fields() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in rows("fields.tsv"):
        out.setdefault(r[0], []).append(r[1])
    return out


@cache
def _label_re() -> re.Pattern:
    labels = sorted({lab for f in ("date", "issuer", "doc_number", "title") for lab in _fields()[f]}, key=len)
    alts = "|".join(re.escape(lab).replace("标题", "标[\\s\u3000]*题") for lab in reversed(labels))
    return re.compile(
        rf"(?:^|[\s\u3000])({alts})[\s\u3000]*[:：][\s\u3000]*(\S[^\n]*?)(?=\s{{2,}}|\s+\S+[:：]|$)"
    )


@cache
def _national() -> tuple[str, ...]:
    return tuple(r[0] for r in rows("national.txt"))


@cache
def _type_cues() -> list[tuple[str, str, str, int]]:
    return [(t, where, cue, int(w)) for t, where, cue, w in (r[:4] for r in rows("doc_types.tsv"))]


def extract(
    raw: str, text: str, path: str, stated: dict[str, str], sections: list[Section]
) -> dict[str, str]:
    """Metadata of one document. ``raw`` = text before cleaning, ``text`` = canonical text,
    ``stated`` = fields the file format itself carries (HTML table/meta tags, Word title)."""
    # full-width digits and colons (２０１２年, 日期：) read like ASCII ones in the head
    head_lines = [
        unicodedata.normalize("NFKC", line).strip() for line in raw[:3000].split("\n") if line.strip()
    ][:40]
    labelled = _labelled(head_lines)
    header = [line for line in head_lines[:12] if _HEADER_LINE.match(line) and _HEADER_END.search(line)]
    title = _title(stated, raw, text, path)
    issuer = _issuer(stated, labelled, text, header, title)
    doc_number = _doc_number(stated, labelled, head_lines, header)
    date = _date(stated, labelled, path, header, text)
    national = _is_national(title, issuer, header, raw[:300], path)
    articles = sum(1 for s in sections if re.fullmatch(r"第.+条(之.+)?", s.path[-1]))
    doc_type = _doc_type(title, issuer, header, doc_number, raw, text, articles, national, path)
    where = "全国" if national else _region(title, issuer, header, text, path)
    return {
        "title": title, "date": date, "region": where, "doc_type": doc_type,
        "issuer": issuer, "doc_number": doc_number,
    }  # fmt: skip


def _labelled(head_lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    order = {lab: (field, i) for field, labs in _fields().items() for i, lab in enumerate(labs)}
    best: dict[str, int] = {}
    for line in head_lines:
        if len(line) > 100:
            continue
        for m in _label_re().finditer(line):
            label = re.sub(r"[\s\u3000]", "", m.group(1))
            field, rank = order[label]
            value = m.group(2).strip()
            if field == "date":
                value = parse_date(value)
            if value and rank < best.get(field, 99):
                found[field], best[field] = value, rank
    return found


def _title(stated: dict[str, str], raw: str, text: str, path: str) -> str:
    if stated.get("title"):
        return _tidy_title(stated["title"])
    first = next((line.strip() for line in raw.split("\n") if line.strip()), "")
    md = re.match(r"^#{1,6}\s+(.+?)\s*#*$", first)
    if md:
        return _tidy_title(md.group(1))
    from_name = _title_from_path(path)
    title_words = [cue for _, where, cue, _ in _type_cues() if where == "title"]
    candidates: list[str] = []
    for line in [line.strip(" \t\u3000\xa0") for line in text.split("\n")[:30] if line.strip()][:12]:
        # the title block ends at the body (a sentence, a salutation such as 同志们：) or at a
        # parenthesised promulgation note or 文号 under the title
        if len(line) > 100 or line.endswith((":", "：")) or re.search(r"[。；]", line) or line[0] in "(（":
            break
        if line.startswith(("—", "-", "－", "【")) or "http" in line or DATE_RE.fullmatch(line):
            continue
        if re.search(r"〔\d{4}〕", line):
            continue
        candidates.append(_tidy_title(line))
    if candidates:
        titled = [c for c in candidates if any(w in c for w in title_words)]
        best = titled[-1] if titled else candidates[0]
        # a curated file name (全国_2013_…关于政府工作报告的决议.txt) says more than a bare 政府工作报告
        return from_name if from_name and best in from_name and len(from_name) > len(best) else best
    if from_name:
        return from_name
    sentences = [s.strip() for s in re.split(r"[。！？\n]", text.strip()[:600]) if s.strip()]
    sentence = next((s for s in sentences[:3] if len(s) >= 10), sentences[0] if sentences else "")
    return sentence[:40] + ("…" if len(sentence) > 40 else "")


def _tidy_title(t: str) -> str:
    t = _TITLE_JUNK.sub("", " ".join(t.split())).strip()
    if re.fullmatch(r"(?:[\u4e00-\u9fff] )+[\u4e00-\u9fff]", t):  # 政 府 工 作 报 告 → 政府工作报告
        t = t.replace(" ", "")
    return t.strip(" ：:，,")


def _title_from_path(path: str) -> str:
    stem = re.split(r"[/\\]", path)[-1].rsplit(".", 1)[0]
    stem = re.sub(r"\(\d{4}-\d{2}-\d{2}\)$", "", stem)
    if _HEX_NAME.match(stem):
        return ""
    parts = stem.split("_")
    if len(parts) >= 3 and re.fullmatch(r"\d{4}", parts[1]):  # <region>_<year>_[<date>_]<title>
        parts = parts[2:]
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", parts[0]) and len(parts) > 1:
            parts = parts[1:]
    return "_".join(parts).strip()


def _date(stated: dict[str, str], labelled: dict[str, str], path: str, header: list[str], text: str) -> str:
    if stated.get("date") and parse_date(stated["date"]):
        return parse_date(stated["date"])
    if labelled.get("date"):
        return labelled["date"]
    name = re.split(r"[/\\]", path)[-1]
    m = re.search(r"(?:^|[(_（])((?:19|20)\d{2}-\d{2}-\d{2})(?:$|[)_）.])", name)
    if m and parse_date(m.group(1)):
        return m.group(1)
    for line in header:
        if parse_date(line):
            return parse_date(line)
    for line in text[:300].split("\n")[:8]:  # ——2013年2月28日在…人民代表大会…会议上 (work reports)
        if line.lstrip(" \u3000").startswith(("—", "-", "－")) and parse_date(line):
            return parse_date(line)
    tail = [line.strip() for line in text[-400:].split("\n") if line.strip()][-4:]
    for line in reversed(tail):  # the signature date: a line that is only a date
        if len(line) <= 16 and parse_date(line):
            return parse_date(line)
    m = re.search(r"_((?:19|20)\d{2})_", name)
    if m:
        return m.group(1)
    return month_day_date(text)


def _issuer(
    stated: dict[str, str], labelled: dict[str, str], text: str, header: list[str], title: str
) -> str:
    for value in (stated.get("issuer", ""), labelled.get("issuer", "")):
        for junk in _NO_ISSUER:
            value = value.removeprefix(junk)
        if value.strip():
            return value.strip()
    signature = _signature(text)
    if signature:
        return signature
    from_header = header_issuer(header)
    if from_header:
        return from_header
    suffixes = "|".join(re.escape(s) for s in _fields()["org_suffix"])
    m = re.match(rf"^(.{{2,30}}?(?:{suffixes}))(?:关于|(?:19|20)\d{{2}}年)", title)
    return m.group(1) if m else ""


def header_issuer(header: list[str]) -> str:
    """The body named in the first promulgation line: 国务院, 烟台市人民代表大会常务委员会, …"""
    for line in header[:1]:
        body = _HEADER_LINE.sub("", line).strip(" )")
        for pattern, template in _ISSUER_HEADER:
            m = pattern.match(body)
            if m:
                issuer = template.format(None, *m.groups()).removeprefix("中华人民共和国")
                return re.sub(r"第?[一二三四五六七八九十]+届", "", issuer)
    return ""


def _signature(text: str) -> str:
    """发文机关 signed at the end: a short organisation line next to a date line."""
    lines = [line.strip(" \t\u3000\xa0") for line in text[-600:].split("\n")]
    lines = [line for line in lines if line][-6:]
    suffixes = tuple(_fields()["org_suffix"])
    for i, line in enumerate(lines):
        if len(line) <= 30 and line.endswith(suffixes) and not re.search(r"[，。；：,;:、]", line):
            near = lines[i + 1 : i + 3] + lines[max(0, i - 1) : i]
            if any(len(n) <= 16 and parse_date(n) for n in near):
                return line
    return ""


def _doc_number(
    stated: dict[str, str], labelled: dict[str, str], head_lines: list[str], header: list[str]
) -> str:
    for value in (stated.get("doc_number", ""), labelled.get("doc_number", "")):
        if value.strip():
            return value.strip().removeprefix("中华人民共和国")
    patterns = [re.compile(p) for p in _fields()["doc_number_re"]]
    # only lines that are a 文号 on their own (or promulgation headers), not numbers cited in the body
    for line in header + [line for line in head_lines[:20] if len(line) <= 30]:
        for p in patterns:
            m = p.search(line)
            if m and (line in header or len(m.group(1)) >= len(line.strip()) - 2):
                return re.sub(r"\s", "", m.group(1)).removeprefix("中华人民共和国")
    return ""


def _is_national(title: str, issuer: str, header: list[str], head: str, path: str) -> bool:
    names = _national()
    if title.startswith(names) or issuer.startswith(names):
        return True
    if header_issuer(header).startswith(names):
        return True
    if "新闻联播" in head or "央视网消息" in head:
        return True
    parts = re.split(r"[/\\]", path)
    return "全国" in parts[:-1] or parts[-1].startswith("全国_")


def _path_type(path: str) -> str:
    """LawRefBook folders say what a law text is: 行政法规/ → regulation, 司法解释/ → judicial_interpretation."""
    folders = re.split(r"[/\\]", path)[:-1]
    for doc_type, where, cue, _ in _type_cues():
        if where == "path" and cue in folders:
            return doc_type
    return ""


def _doc_type(
    title: str,
    issuer: str,
    header: list[str],
    number: str,
    raw: str,
    text: str,
    articles: int,
    national: bool,
    path: str,
) -> str:
    hinted = _path_type(path)
    if hinted:
        return hinted
    said = " ".join([issuer, header_issuer(header), number])
    if articles >= 3 or (header and "<!-- INFO END -->" in raw[:3000]):
        if title.startswith(("最高人民法院", "最高人民检察院")) or re.search(
            "最高人民法院|最高人民检察院", said
        ):
            return "judicial_interpretation"
        if said.startswith("全国人民代表大会") or (
            title.startswith("中华人民共和国") and re.search(r"(?<![办方])法$", title)
        ):
            return "law"
        if re.search(r"国务院|部令|总局令|部$|总局$|署令", said):
            return "regulation"
        if "人民政府令" in said or "人民政府令" in text[:300]:
            return "rule"
        if re.search("人民代表大会|人大常委会", said):
            return "local_regulation"
        if re.search("人民代表大会|人大常委会", title):
            return "law" if national else "local_regulation"
        if re.search(r"(条例|规定|办法|细则)$", title):
            return "regulation" if national else ("local_regulation" if title.endswith("条例") else "normative")
    scores = dict.fromkeys(DOC_TYPES, 0)
    head, body = raw[:600], text
    for doc_type, where, cue, weight in _type_cues():
        if doc_type not in scores:
            continue
        if where == "title" and cue in title.replace(" ", ""):
            scores[doc_type] += weight
        elif where == "head" and cue in head:
            scores[doc_type] += weight
        elif where == "body":
            scores[doc_type] += weight * min(3, body.count(cue))
    best = max(DOC_TYPES, key=lambda t: scores[t])
    return best if scores[best] >= 5 else "other"


def _region(title: str, issuer: str, header: list[str], text: str, path: str) -> str:
    weighted: list[tuple[str, float]] = []
    weighted += [(p, 5) for p in region.path_hints(path)]
    weighted += [(p, 3) for p in region.mentions(" ".join([title, issuer, *header]))]
    # head and tail of the text: enough to find the place while keeping ingest fast on long laws
    weighted += [(p, 1) for p in region.mentions(text[:REGION_HEAD])]
    weighted += [(p, 1) for p in region.mentions(text[max(REGION_HEAD, len(text) - REGION_TAIL) :])]
    return region.choose(weighted)
