"""What a legal text says of its own validity: level (效力级别), organ (制定机关), 公布/施行 dates, the
history of 通过/公布/修正/修订/施行 events, a version key shared by every version of the same text,
and the texts it repeals. Whether it is in force on a date needs the other versions and the
repealing texts in the index: kb/validity.py works that out from these facts.

Sources: the dated lines of a promulgation header (before ``<!-- INFO END -->`` in LawRefBook files,
or the parenthesised note under a title), then the body: 本条例自X年X月X日起施行, 自公布之日起施行,
有效期N年, …《X》同时废止. The vocabulary is data: data/validity.tsv.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from ingest.data import rows
from ingest.dates import DATE_RE, iso, parse_date

LEVELS = (
    "law", "admin_regulation", "local_regulation", "dept_rule", "local_rule",
    "judicial_interpretation", "normative", "none",
)  # fmt: skip
EVENTS = ("通过", "批准", "公布", "修正", "修订", "施行")
VERSION_EVENTS = frozenset({"通过", "批准", "公布", "修正", "修订"})
HEADER_LINES = 15  # a promulgation note sits right under the title
_DATE = DATE_RE.pattern
_DATE_NC = r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"  # DATE in the table's patterns
# a date that opens a clause of a header: not the nested 并经2021年12月3日…批准 of an approval
_CLAUSE_DATE = re.compile(rf"(?:^|(?<=[\s（(，,、；;和])|(?<=根据)|(?<=自)){_DATE}")
_TITLE = re.compile(r"《([^《》]*(?:《[^《》]*》[^《》]*)*)》")
_CN_NUM = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2, "十": 10}


@cache
def _table(kind: str) -> tuple[tuple[str, ...], ...]:
    return tuple(r[1:] for r in rows("validity.tsv") if r[0] == kind)


def _pairs(kind: str) -> dict[str, str]:
    """A two-column table as a mapping from its first column to its second."""
    return {r[0]: r[1] for r in _table(kind)}


@cache
def _event_re() -> re.Pattern:
    verbs = sorted((v for v, _ in _table("event")), key=len, reverse=True)
    return re.compile(f"(?:{'|'.join(verbs)})+$")


@cache
def _with_date(pattern: str) -> re.Pattern:
    return re.compile(pattern.replace("DATE", _DATE_NC))


def extract(raw: str, text: str, meta: dict[str, str]) -> dict:
    """Validity facts of one document; ``meta`` = the fields of ingest.metadata.extract."""
    history = header_history(raw)
    organ = _organ(history, meta)
    level = level_of(meta.get("doc_type", ""), organ, meta.get("title", ""))
    organ = organ or _pairs("organ-default").get(level, "")
    if level == "none":
        return {"level": level, "organ": organ, "promulgated": "", "effective": "", "expires": "",
                "history": [], "version_key": "", "version_date": "", "repeals": []}
    body_date, on_issue, clause = _effective_clause(text)
    if body_date and not any(h["event"] == "施行" and h["date"] == body_date for h in history):
        history.append({"date": body_date, "event": "施行", "text": clause})
    history.sort(key=lambda h: (h["date"], EVENTS.index(h["event"])))
    made = [h["date"] for h in history if h["event"] in VERSION_EVENTS]
    published = [h["date"] for h in history if h["event"] == "公布"]
    stated = meta.get("date", "") if len(meta.get("date", "")) == 10 else ""
    if published:
        promulgated = min(published)
    elif stated and made and min(made) <= stated <= (body_date or "9999") and \
            not any(h["event"] in ("修正", "修订") for h in history):
        promulgated = stated  # 通过 on the 12th, 公布 on the 27th (the file's own date) for an unamended text
    else:
        promulgated = min(made) if made else stated
    version_date = max(made) if made else promulgated
    starts = [h["date"] for h in history if h["event"] == "施行" and h["date"] >= version_date]
    if starts:
        effective = min(starts)
    elif on_issue or history:
        # an amended text keeps its original 施行 article; the amendment takes effect when adopted
        effective = version_date
    else:
        effective = ""
    return {
        "level": level, "organ": organ, "promulgated": promulgated, "effective": effective,
        "expires": _expiry(text, effective or promulgated), "history": history,
        "version_key": version_key(meta.get("title", "")), "version_date": version_date,
        "repeals": repeals(text),
    }  # fmt: skip


# -- header ------------------------------------------------------------------------------------
def header_lines(raw: str) -> list[str]:
    """The promulgation note: LawRefBook's lines before <!-- INFO END -->, else the dated or
    parenthesised lines right under the title. Wrapped lines are joined."""
    if "<!-- INFO END -->" in raw[:6000]:
        block = raw[: raw.index("<!-- INFO END -->")].split("\n")[1:]
    else:
        block = []
        lines = [unicodedata.normalize("NFKC", ln).strip(" \t\u3000") for ln in raw[:6000].split("\n")]
        for i, s in enumerate(lines[1:HEADER_LINES], 1):
            if s.startswith("(") and DATE_RE.match(s[1:].lstrip()):
                # a parenthesised note, wrapped over lines in PDFs: up to its closing parenthesis
                note = s
                for more in lines[i + 1: i + 40]:
                    if note.rstrip().endswith(")"):
                        break
                    note += more
                block = [note]
                break
            if s and DATE_RE.match(s) and _event_re().search(_bare(s).rstrip(")。 ")):
                block.append(s)
            elif block and s:
                break
    out: list[str] = []
    for line in block:
        s = unicodedata.normalize("NFKC", line).strip(" \t\u3000")
        if not s:
            continue
        if out and not DATE_RE.match(s.lstrip("(（")) and not s.startswith("根据"):
            out[-1] += s  # a title wrapped onto the next line
        else:
            out.append(s)
    return out


def header_history(raw: str) -> list[dict]:
    """[{date, event, text}] from the promulgation note; nested dates (通过并经2021年12月3日…批准的
    《…》修正) stay inside their clause."""
    out: list[dict] = []
    for line in header_lines(raw):
        line = line.strip("()（）")
        starts = [m.start() for m in _CLAUSE_DATE.finditer(line)]
        for i, s in enumerate(starts):
            clause = line[s: starts[i + 1] if i + 1 < len(starts) else len(line)]
            clause = re.sub(r"(?:根据|自)$", "", clause.strip(" \u3000，,、；;"))
            date = parse_date(clause)
            for event in clause_events(clause):
                out.append({"date": date, "event": event, "text": clause})
    return out


def clause_events(clause: str) -> list[str]:
    """The events a dated clause records, from the verbs that close it."""
    bare = _bare(clause).rstrip("()（）。 \u3000")
    if bare.endswith("的") or bare.endswith("》"):
        for cue, event in _table("event-title"):
            if any(cue == "*" or cue in t for t in _TITLE.findall(clause)):
                return [event]
    m = _event_re().search(bare)
    if not m:
        return []
    verbs = _pairs("event")
    found, tail = [], m.group(0)
    while tail:
        verb = next(v for v in sorted(verbs, key=len, reverse=True) if tail.startswith(v))
        found.append(verbs[verb])
        tail = tail[len(verb):]
    if found[0] in ("修正", "修订"):
        found = [e for e in found if e != "通过"]
    return list(dict.fromkeys(found))


def _bare(s: str) -> str:
    """``s`` without the titles in it (the verbs inside 《关于修改〈…〉的决定》 are not events)."""
    prev = None
    while prev != s:
        prev, s = s, _TITLE.sub("", s)
    return s


# -- body --------------------------------------------------------------------------------------
def _effective_clause(text: str) -> tuple[str, bool, str]:
    """(date stated in the body, whether it takes effect on issue, the sentence)."""
    tail = unicodedata.normalize("NFKC", text[-3000:])
    found: tuple[str, bool, str] = ("", False, "")
    for kind, pattern in _table("effective"):
        for m in _with_date(pattern).finditer(tail):
            sentence = _sentence(tail, m.start(), m.end())
            if kind == "date":
                return parse_date(m.group(0)), False, sentence
            if not found[1]:
                found = ("", True, sentence)
    return found


def _expiry(text: str, start: str) -> str:
    tail = unicodedata.normalize("NFKC", text[-3000:])
    for kind, pattern in _table("expires"):
        m = _with_date(pattern).search(tail)
        if not m:
            continue
        if kind == "until":
            return parse_date(m.group(0))
        years = _number(m.group(1))
        if start and years:
            y, mo, d = int(start[:4]) + years, int(start[5:7]), int(start[8:10])
            return iso(y, mo, min(d, 28) if mo == 2 else d)
    return ""


def repeals(text: str) -> list[dict]:
    """Texts this one repeals: [{title, key, date, doc_number}]. Clauses are read sentence by
    sentence; the date nearest before a title (its 通过/公布 date) narrows which version."""
    out: list[dict] = []
    norm = unicodedata.normalize("NFKC", text)
    for sentence in re.split(r"[。；;\n]", norm):
        if "废止" not in sentence or "《" not in sentence:
            continue
        sentence = sentence.strip(" \u3000")
        for kind, cue in _table("repeal"):
            if kind == "tail" and sentence.endswith(cue):
                part = re.split(r"施行[，,]", sentence)[-1]
                out += _targets(part[: -len(cue)])
                break
            if kind == "lead" and cue in sentence:
                for m in re.finditer(re.escape(cue), sentence):
                    out += _targets(sentence[m.end() - 1:], first_only=True, dates_after=True)
                break
    seen, unique = set(), []
    for t in out:
        if (t["key"], t["date"], t["doc_number"]) not in seen:
            seen.add((t["key"], t["date"], t["doc_number"]))
            unique.append(t)
    return unique


def _targets(part: str, first_only: bool = False, dates_after: bool = False) -> list[dict]:
    out: list[dict] = []
    last = 0
    for m in _TITLE.finditer(part):
        before = part[last:m.start()]
        after = part[m.end(): m.end() + 60]
        date_src = after.split("）")[0].split(")")[0] if dates_after else before
        dates = DATE_RE.findall(date_src)
        number = re.match(r"\s*[（(]([^（）()]*〔\d{4}〕[^（）()]*号)[）)]", after)
        title = m.group(1)
        out.append({"title": title, "key": version_key(title),
                    "date": iso(*map(int, dates[0])) if dates else "",
                    "doc_number": number.group(1) if number else ""})
        last = m.end()
        if first_only:
            break
    return out


def _sentence(text: str, start: int, end: int) -> str:
    a = max(text.rfind(c, 0, start) for c in "。\n") + 1
    b = min((i for i in (text.find(c, end) for c in "。\n") if i != -1), default=len(text))
    return text[a: b + 1].strip(" \u3000\n")


def _number(s: str) -> int:
    if s.isdigit():
        return int(s)
    if s == "十":
        return 10
    if "十" in s:
        head, _, tail = s.partition("十")
        return _CN_NUM.get(head, 1) * 10 + _CN_NUM.get(tail, 0)
    return _CN_NUM.get(s, 0)


# -- key, organ, level ---------------------------------------------------------------------------
def version_key(title: str) -> str:
    """The same law across files and years: 中华人民共和国立法法（2015年修正） → 立法法."""
    key = re.sub(r"\s", "", unicodedata.normalize("NFKC", title or ""))
    distinct = any(cue in key for (cue, *_rest) in _table("distinct"))
    for kind, a, *b in _table("key"):
        if kind == "replace":
            key = key.replace(a, b[0])
        elif kind == "drop":
            key = re.sub(a, "", key)
        elif kind == "suffix" and not distinct:
            key = re.sub(a, "", key)
    return key.strip("《》")


def _organ(history: list[dict], meta: dict[str, str]) -> str:
    """The body named in the first dated line of the header (国务院, 上海市人民代表大会常务委员会), else the issuer."""
    from ingest.metadata import header_issuer
    first = [re.sub(r"\s", "", h["text"]) for h in history if h["event"] != "施行"][:1]
    organ = header_issuer(first) or meta.get("issuer", "")
    for kind, a, *b in _table("key"):
        if kind == "replace":
            organ = organ.replace(a, b[0])
    return organ.removeprefix("中华人民共和国")


def level_of(doc_type: str, organ: str, title: str) -> str:
    """效力级别 from the doc type, the organ and the title (data/validity.tsv)."""
    bare = re.sub(r"\s", "", title)
    for level, dtype, *regexes in _table("level"):
        organ_re = regexes[0] if regexes else ""
        title_re = regexes[1] if len(regexes) > 1 else ""
        if dtype not in ("*", doc_type):
            continue
        if organ_re and not re.search(organ_re, organ):
            continue
        if title_re and not re.search(title_re, bare):
            continue
        return level
    return "none"
