"""Heading trees: laws, official documents, speeches, and the false positives to avoid."""

from __future__ import annotations

from pathlib import Path

from ingest import parse_bytes, parse_file
from ingest.structure import cn_number, find_sections

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
LAW = "laws/全国/行政法规/重大行政决策程序暂行条例(2019-04-20).md"
PLAN = "seeds/002_5300b03fe4b43074.txt"


def paths(text: str) -> list[list[str]]:
    return [s.path for s in find_sections(text)]


def test_chinese_numbers():
    assert [cn_number(s) for s in ("一", "十", "十二", "二十五", "一百零三", "一百四十三", "7", "①", "其次")] == [
        1, 10, 12, 25, 103, 143, 7, 1, 2,
    ]  # fmt: skip


def test_law_chapter_section_article_paths():
    doc = parse_file(CORPUS / LAW, LAW)
    all_paths = [s.path for s in doc.sections]
    assert ["第一章 总则"] in all_paths
    assert ["第三章 合法性审查和集体讨论决定", "第一节 合法性审查", "第二十五条"] in all_paths
    chunk = next(c for c in doc.chunks if "不得以征求意见等方式代替合法性审查" in c.text)
    assert chunk.section == ["第三章 合法性审查和集体讨论决定", "第一节 合法性审查", "第二十五条"]
    assert chunk.text.endswith("可以明示法律风险，提交决策机关讨论。")  # the whole article, both paragraphs
    # one article, one chunk: 第二十四条 does not run on into the next chapter or article
    art24 = next(c for c in doc.chunks if c.section[-1] == "第二十四条")
    assert "第二十五条" not in art24.text and "第三章" not in art24.text
    # the (一)(二) items of an article are enumerations, not sections
    assert not any(s.path[-1].startswith("(") for s in doc.sections)
    # the '# 标题' line is the title, not a section
    assert all(s.path[0] != "重大行政决策程序暂行条例" for s in doc.sections)
    assert doc.title == "重大行政决策程序暂行条例"
    # the bare chapter heading joins the first article's chunk instead of standing alone
    first = doc.chunks[0]
    assert first.section == ["第一章 总则", "第一条"] and "\n第一章 总则\n" in first.text
    # Markdown heading marks are not part of the text: passages, quotes and exports never show '##'
    assert "#" not in doc.text and doc.text.startswith("重大行政决策程序暂行条例\n")
    chapter3 = next(s for s in doc.sections if s.path == ["第三章 合法性审查和集体讨论决定"])
    assert doc.text[chapter3.start:].startswith("第三章 合法性审查和集体讨论决定\n")


def test_markdown_heading_marks_leave_the_text_but_stay_headings():
    from ingest import parse_bytes

    raw = "# 某市政务服务办法\n\n## 第一章 总则 ##\n\n第一条 为了规范政务服务，制定本办法。\n\n" \
          "　### 第一节 一般规定\n\n第二条 本办法适用于本市。\n\n第三条 政务服务应当便民。\n\n#不是标题\n"
    doc = parse_bytes(raw.encode(), "办法.md")
    assert doc.title == "某市政务服务办法"
    assert doc.text.startswith("某市政务服务办法\n\n第一章 总则\n\n第一条")
    assert "## " not in doc.text and "#不是标题" in doc.text  # no space after '#': not a heading
    paths = [s.path for s in doc.sections]
    assert ["第一章 总则", "第一节 一般规定", "第三条"] in paths
    for s in doc.sections:  # a section starts at its heading line, marks gone
        assert doc.text[s.start:].startswith(s.path[-1])
    for c in doc.chunks:
        assert doc.text[c.start:c.end] == c.text


def test_plan_paths_and_responsible_units():
    doc = parse_file(CORPUS / PLAN, PLAN)
    by_path = {tuple(s.path): s for s in doc.sections}
    section = by_path[("二、完善依法行政制度体系", "(二)健全行政决策机制")]
    assert section.level == 2
    assert section.meta["responsible"] == "区政府办公室、区司法局、区级有关部门"
    assert by_path[("二、完善依法行政制度体系",)].level == 1
    chunk = next(c for c in doc.chunks if "建立重大行政决策终身责任追究制度及责任倒查机制" in c.text)
    assert chunk.section == ["二、完善依法行政制度体系", "(二)健全行政决策机制"]
    # headings nest: the eight top-level parts, each with its items
    assert [s.path[0] for s in doc.sections if s.level == 1] == [
        "一、统筹推进法治政府建设", "二、完善依法行政制度体系", "三、提升行政执法规范化水平",
        "四、强化行政权力制约和监督", "五、依法有效化解社会矛盾纠纷", "六、全面提升公务员法治意识和依法行政能力",
        "七、加强法治政府建设宣传和理论研究", "八、强化法治政府建设保障措施",
    ]  # fmt: skip


def test_speech_markers_nest_under_numbered_parts():
    doc = parse_file(CORPUS / "seeds/003_00e7c5445595ef47.txt", "seeds/003.txt")
    all_paths = [s.path for s in doc.sections]
    assert [
        "二、坚持系统观念,着力增强全州法治政府建设的责任感和使命感",
        "三要高质量规范行政决策",
    ] in all_paths
    # an inline 一是 (mid-paragraph) is not a heading
    assert not any(p[-1].startswith("一是严格规范执法行为") for p in all_paths)


def test_line_start_only_and_numbering_rules():
    text = "\n".join([
        "根据第一条的规定，1.5亿元资金已经到位，一、二两项工作同步推进。",
        "一、总体要求",
        "（一）指导思想。坚持依法行政。",
        "（三）没有（二）的（三）是正文。",
        "1.5万人参加培训。",
        "（二）基本原则。",
        "1.健全制度。",
        "2.压实责任。",
        "二、主要任务",
        "（一）深化改革。",
    ])  # fmt: skip
    assert paths(text) == [
        ["一、总体要求"],
        ["一、总体要求", "（一）指导思想"],
        ["一、总体要求", "（二）基本原则"],
        ["一、总体要求", "（二）基本原则", "1.健全制度"],
        ["一、总体要求", "（二）基本原则", "2.压实责任"],
        ["二、主要任务"],
        ["二、主要任务", "（一）深化改革"],
    ]


def test_articles_inside_sentences_are_not_headings():
    text = "第一条 为了规范管理，制定本办法。\n第二条 本办法适用于全市。\n依照本办法第一条规定执行。\n第三条 本办法自公布之日起施行。"
    assert paths(text) == [["第一条"], ["第二条"], ["第三条"]]


def test_table_of_contents_is_not_a_second_tree():
    text = "\n".join([
        "目  录", "第一章 总则", "第二章 附则",
        "第一章 总则", "第一条 为了规范管理，制定本条例。", "第二条 本条例适用于本市。",
        "第二章 附则", "第三条 本条例自公布之日起施行。",
    ])  # fmt: skip
    assert paths(text) == [
        ["第一章 总则"], ["第一章 总则", "第一条"], ["第一章 总则", "第二条"],
        ["第二章 附则"], ["第二章 附则", "第三条"],
    ]  # fmt: skip


def test_section_spans_nest():
    doc = parse_file(CORPUS / PLAN, PLAN)
    for i, s in enumerate(doc.sections):
        assert 0 <= s.start < s.end <= len(doc.text)
        if s.level > 1:
            parent = next(p for p in reversed(doc.sections[:i]) if p.level == s.level - 1)
            assert parent.path == s.path[:-1]
            assert parent.start < s.start and s.end <= parent.end


def test_markdown_headings_rank_above_patterns():
    text = "# 某规定\n\n## 一、受案范围\n\n第一条 人民法院受理下列案件。\n\n第二条 前款所称案件。\n\n第三条 其他。\n\n## 二、管辖\n\n第四条 基层人民法院管辖第一审案件。"
    doc = parse_bytes(text.encode(), "rule.md")
    assert [s.path for s in doc.sections] == [
        ["一、受案范围"], ["一、受案范围", "第一条"], ["一、受案范围", "第二条"], ["一、受案范围", "第三条"],
        ["二、管辖"], ["二、管辖", "第四条"],
    ]  # fmt: skip
    assert doc.title == "某规定"
