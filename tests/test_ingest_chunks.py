"""Chunk offsets are exact for every shipped document, and for generated texts with headings."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import SUPPORTED_SUFFIXES, parse_bytes, parse_file
from ingest.chunk import MAX_CHARS

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
WS = " \t\n\r\u3000\xa0"


def shipped() -> list[str]:
    return sorted(
        p.relative_to(CORPUS).as_posix()
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix in SUPPORTED_SUFFIXES and p.name != "README.md"
    )


@cache
def parsed(rel: str):
    return parse_file(CORPUS / rel, rel)


def check_document(doc) -> None:
    text = doc.text
    assert doc.chunks, doc.path
    first_heading = doc.sections[0].start if doc.sections else len(text)
    by_path: dict[tuple[str, ...], list] = {}
    for s in doc.sections:
        assert 0 <= s.start < s.end <= len(text)
        assert s.start == 0 or text[s.start - 1] == "\n"  # a heading starts a line
        by_path.setdefault(tuple(s.path), []).append(s)
    prev_end = 0
    for i, c in enumerate(doc.chunks):
        assert text[c.start : c.end] == c.text
        assert c.ordinal == i
        assert c.text and c.text == c.text.strip(WS)
        assert prev_end <= c.start < c.end  # in order, never overlapping
        assert len(c.text) <= MAX_CHARS
        prev_end = c.end
        if not c.section:  # preamble before the first heading
            assert c.end <= first_heading
            continue
        # the chunk lies inside its section; only bare ancestor headings may precede the section
        section = next(s for s in by_path[tuple(c.section)] if s.start < c.end <= s.end)
        assert c.end <= section.end
        top = next(s for s in by_path[(c.section[0],)] if s.start <= section.start < s.end)
        assert c.start >= top.start or c.start < first_heading  # only a short preamble may join
        assert c.end <= top.end  # never across a top-level section
        if c.start < section.start:
            offset = text.rfind("\n", 0, c.start) + 1  # chunks strip the indentation of their first line
            lead = text[offset : section.start]
            starts = {s.start for s in doc.sections if s.start < section.start}
            for line in lead.split("\n"):
                if line.strip(WS):
                    assert offset in starts or offset < first_heading, (doc.path, line)
                offset += len(line) + 1
    # nothing is lost: only whitespace lies between and around chunks
    gaps = [text[a.end : b.start] for a, b in zip(doc.chunks, doc.chunks[1:], strict=False)]
    assert all(not g.strip(WS) for g in gaps)
    assert not text[: doc.chunks[0].start].strip(WS) and not text[doc.chunks[-1].end :].strip(WS)
    if doc.pages:
        for c in doc.chunks:
            assert c.page == next(p for s, e, p in doc.pages if s <= c.start < e)
    else:
        assert all(c.page is None for c in doc.chunks)


@pytest.mark.parametrize("rel", shipped())
def test_shipped_document_offsets(rel):
    check_document(parsed(rel))


def test_shipped_corpus_size_and_kinds():
    rels = shipped()
    assert len(rels) >= 30
    total = sum(len(parsed(r).text) for r in rels)
    assert 120_000 <= total <= 160_000, total
    assert {Path(r).suffix for r in rels} >= {".txt", ".md", ".html", ".pdf"}
    types = {parsed(r).doc_type for r in rels}
    assert types >= {
        "law",
        "regulation",
        "local_regulation",
        "rule",
        "judicial_interpretation",
        "speech",
        "plan",
        "report",
        "work_report",
        "news",
        "other",
    }
    # the comparison feature: 优化营商环境条例 from three provinces and the nation
    regions = {parsed(r).region for r in rels if parsed(r).title.endswith("优化营商环境条例")}
    assert {r[:3] for r in regions} >= {"山东省", "河南省", "广东省", "全国"}


def test_chunk_sizes_on_a_long_paragraph():
    doc = parsed("seeds/000_b28d6b4caa93905a.txt")  # one 1,800-character paragraph
    sizes = [len(c.text) for c in doc.chunks]
    assert len(sizes) >= 3 and all(200 <= n <= MAX_CHARS for n in sizes), sizes
    assert all(c.text.endswith("。") for c in doc.chunks)  # split at sentence ends


# --- generated documents ------------------------------------------------------------------------

CN = "一二三四五六七八九十"
WORDS = [
    "依法行政",
    "法治政府",
    "重大行政决策",
    "规范性文件",
    "行政执法",
    "备案审查",
    "公众参与",
    "合法性审查",
    "营商环境",
    "政务公开",
    "责任追究",
    "1.5亿元",
    "第一条",
    "一、二",
    "（三）",
    "xx市",
]


@st.composite
def sentences(draw) -> str:
    n = draw(st.integers(1, 6))
    parts = []
    for _ in range(n):
        words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=40))
        end = draw(st.sampled_from(["。", "；", "！", "，", "", "。\n", "\n\n"]))
        parts.append("".join(words) + end)
    return "".join(parts)


@st.composite
def heading(draw) -> str:
    i = draw(st.integers(0, 9))
    kind = draw(st.sampled_from(["yi", "paren", "arabic", "zhang", "tiao", "shi", "md"]))
    title = draw(st.sampled_from(WORDS[:10]))
    return {
        "yi": f"{CN[i]}、{title}",
        "paren": f"（{CN[i]}）{title}。",
        "arabic": f"{i + 1}.{title}",
        "zhang": f"第{CN[i]}章 {title}",
        "tiao": f"第{CN[i]}条 ",
        "shi": f"{CN[i]}是{title}，",
        "md": "#" * (i % 3 + 1) + f" {title}",
    }[kind]


@st.composite
def documents(draw) -> str:
    blocks = draw(st.lists(st.one_of(heading(), sentences()), min_size=1, max_size=25))
    out = []
    for block in blocks:
        indent = draw(st.sampled_from(["", "", "\u3000\u3000", "  "]))
        out.append(indent + block + draw(st.sampled_from(["\n", "\n\n", "\n\n\n\n", " \n"])))
    return "".join(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.sampled_from(["gen.txt", "gen.md"]))
def test_generated_documents_keep_exact_offsets(text, name):
    if not text.strip():
        return
    doc = parse_bytes(text.encode("utf-8"), name)
    check_document(doc)
    for i, s in enumerate(doc.sections):  # headings nest: a level only under a higher one
        if s.level > 1:
            parent = next(p for p in reversed(doc.sections[:i]) if p.level < s.level)
            assert parent.level == s.level - 1 and parent.path == s.path[:-1]
            assert parent.start < s.start and s.end <= parent.end
