"""Comparison matrix (对比表) mechanics over the fake embedder: shape of the JSON, proposed aspects,
empty cells, the same-passage rule, one version per law group, exports, and the CLI."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HIT_FIELDS

from kb.errors import InvalidInput
from kb.matrix import EMPTY, alternatives, assign, evidence, same_passage
from kb.records import Hit

TOPIC = "重大行政决策"
ASPECTS = "公众参与,专家论证,风险评估,合法性审查,集体讨论决定"


@pytest.fixture(scope="module")
def m(fake_kb):
    return fake_kb.matrix(TOPIC, aspects=ASPECTS, places="全国,河南,火星")


def test_shape_rows_columns_and_cells(m, fake_kb):
    assert set(m) >= {"query", "by", "aspects", "columns", "cells"}
    assert m["query"] == TOPIC and m["by"] == "region" and not m["proposed"]
    assert m["aspects"] == ASPECTS.split(",") and m["columns"] == ["全国", "河南", "火星"]
    assert [(c["aspect"], c["column"]) for c in m["cells"]] == [(a, col) for a in m["aspects"] for col in m["columns"]]
    national = [c for c in m["cells"] if c["column"] == "全国"]
    assert all(c["hit"] is not None for c in national)  # the 条例 has a section on each
    for c in national:
        h = c["hit"]
        assert set(h) == HIT_FIELDS and h["region"] == "全国"
        doc = fake_kb.document(h["doc_id"])
        assert doc.text[h["start"]:h["end"]] == h["text"]  # exact span
        assert "#" not in h["text"]  # no Markdown heading marks in passages
        assert h["citation"].startswith("《重大行政决策程序暂行条例》第")
    # a place without documents is a column of findings, not an error
    assert all(c["hit"] is None and c["note"] is None for c in m["cells"] if c["column"] == "火星")


def test_cells_of_a_column_are_distinct_passages_unless_said(m):
    for col in m["columns"]:
        hits = [(c["hit"], c["note"]) for c in m["cells"] if c["column"] == col and c["hit"]]
        for i, (a, note_a) in enumerate(hits):
            for b, note_b in hits[i + 1:]:
                same = a["doc_id"] == b["doc_id"] and a["start"] == b["start"]
                assert not same or note_a or note_b


def hit(doc: str, start: int, end: int, section: list[str] | None = None, text: str = "") -> Hit:
    return Hit(doc_id=doc, path=doc, title="某条例", doc_type="regulation", region="全国", date="", section=section or [],
               text=text or "x" * (end - start), start=start, end=end, page=None, score=1.0, citation=f"{doc}:{start}")


def test_assign_shares_a_passage_only_when_nothing_else_fits():
    p, q = hit("a", 0, 100), hit("a", 200, 300)
    # B's only passage is also A's best: A (more candidates) takes its second, B keeps p
    out = assign(["A", "B"], {"A": [p, q], "B": [p]})
    assert out["A"] == (q, None) and out["B"] == (p, None)
    # both have only p: the second says it repeats the first
    out = assign(["A", "B"], {"A": [p], "B": [p]})
    assert out["A"] == (p, None) and out["B"][0] is p and "与「A」为同一段落" in out["B"][1]
    assert assign(["A"], {"A": []}) == {"A": (None, None)}
    assert same_passage(p, hit("a", 40, 140)) and not same_passage(p, hit("a", 90, 190))
    assert not same_passage(p, hit("b", 0, 100))


def test_evidence_prefers_the_part_of_the_text_named_by_the_aspect():
    principle = hit("a", 0, 10, ["第一章 总则", "第三条"], "坚持市场化原则，营造良好的市场发展环境。")
    chapter = hit("a", 20, 30, ["第三章 市场和要素环境", "第十二条"], "优化市场主体登记。")
    assert evidence(chapter, "市场环境") > evidence(principle, "市场环境")
    assert alternatives("法治保障/法治环境") == ["法治保障", "法治环境"]
    assert evidence(hit("a", 0, 1, ["第四章 法治环境"], "依法保护。"), "法治保障/法治环境") == 2


def test_aspects_are_proposed_from_the_best_normative_text(fake_kb):
    m = fake_kb.matrix(TOPIC, places="全国")
    assert m["proposed"] and m["proposed_from"] == "重大行政决策程序暂行条例"
    assert {"公众参与", "专家论证", "风险评估", "合法性审查"} <= set(m["aspects"])
    assert "总则" not in m["aspects"] and "附则" not in m["aspects"]


def test_headings_as_aspects():
    from kb.aspects import aspect_of, headings_as_aspects

    sections = [{"path": p} for p in (
        ["第一章 总  则"], ["第一章 总  则", "第一条"], ["第二章 决策草案的形成"], ["第二章 决策草案的形成", "第一节 决策启动"],
        ["第二章 决策草案的形成", "第二节 公众参与"], ["第二章 决策草案的形成", "第二节 公众参与", "第十四条"],
        ["第四章 处 理"], ["第五章 法律责任"], ["第六章 附则"])]
    assert headings_as_aspects(sections) == ["决策启动", "公众参与", "处理"]
    assert aspect_of("（三）健全行政决策机制") == "健全行政决策机制"


def test_auto_columns_and_other_groupings(fake_kb):
    m = fake_kb.matrix(TOPIC, aspects="合法性审查")
    assert m["columns"] and m["columns"][0] == "全国" and len(m["columns"]) <= 8
    by_type = fake_kb.matrix(TOPIC, aspects="合法性审查", places="regulation,news", by="doc_type")
    assert by_type["columns"] == ["regulation", "news"]
    assert all(c["hit"]["doc_type"] == c["column"] for c in by_type["cells"] if c["hit"])


@pytest.mark.parametrize("kwargs, field", [
    ({"query": " "}, "q"),
    ({"by": "planet"}, "by"),
    ({"by": "year", "places": "去年"}, "places"),
    ({"aspects": ",".join(f"要点{i}" for i in range(13))}, "aspects"),
])
def test_bad_input_names_the_field(fake_kb, kwargs, field):
    args = {"query": TOPIC, "aspects": "公众参与", **kwargs}
    with pytest.raises(InvalidInput) as err:
        fake_kb.matrix(args.pop("query"), **args)
    assert err.value.detail.startswith(field)


def test_one_version_per_law_group(tmp_path):
    """Two versions of one regulation (same region, type and title): cells come from the latest."""
    from kb.core import KnowledgeBase

    src = tmp_path / "src"
    src.mkdir()
    body = "# 某省政务服务条例\n\n{date} 某省人民代表大会常务委员会公布\n\n## 第一章 总则\n\n第一条 为了规范政务服务，制定本条例。\n\n" \
           "## 第二章 政务服务\n\n第二条 政务服务事项应当{what}。\n\n第三条 本条例自公布之日起施行。\n"
    (src / "某省政务服务条例(2018-01-01).md").write_text(body.format(date="2018年1月1日", what="进驻大厅办理"), "utf-8")
    (src / "某省政务服务条例(2023-06-01).md").write_text(body.format(date="2023年6月1日", what="全程网办"), "utf-8")
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake")
    assert not kb.ingest([src]).failed
    rows = kb.documents()[1]
    assert len({(r["title"], r["region"], r["doc_type"]) for r in rows}) == 1 and len(rows) == 2
    m = kb.matrix("政务服务", aspects="政务服务", places=rows[0]["region"])
    cell = m["cells"][0]
    assert cell["hit"] is not None and cell["hit"]["date"] == "2023-06-01" and "全程网办" in cell["hit"]["text"]
    assert "#" not in cell["hit"]["text"]
    kb.close()


# ---- exports ----------------------------------------------------------------------------------
def test_docx_is_a_word_table_with_numbered_sources(m, fake_kb):
    from docx import Document
    from docx.oxml.ns import qn

    from kb.matrix_export import export_matrix

    content, media, name = export_matrix(fake_kb, m, "docx")
    assert media.startswith("application/vnd.openxmlformats") and name.endswith(".docx") and TOPIC in name
    doc = Document(io.BytesIO(content))
    assert doc.paragraphs[0].text == f"{TOPIC}对比表" and doc.paragraphs[0].style.name == "公文标题"
    table = doc.tables[0]
    assert len(table.rows) == len(m["aspects"]) + 1 and len(table.columns) == len(m["columns"]) + 1
    assert [c.text for c in table.rows[0].cells] == ["要点", *m["columns"]]
    assert [r.cells[0].text for r in table.rows[1:]] == m["aspects"]
    grid = {(c["aspect"], c["column"]): c for c in m["cells"]}
    texts = [p.text for p in doc.paragraphs]
    sources = texts[texts.index("出处") + 1:]
    for i, a in enumerate(m["aspects"], 1):
        for j, col in enumerate(m["columns"], 1):
            cell, h = table.cell(i, j), grid[(a, col)]["hit"]
            if h is None:
                assert cell.text == EMPTY
                continue
            assert cell.paragraphs[0].text == h["text"].strip("\n")  # verbatim
            n = int(cell.paragraphs[1].text.rsplit("［", 1)[1].split("］")[0])
            assert cell.paragraphs[1].text.startswith("——" + h["citation"])
            assert sources[n - 1].startswith(f"{n}. 《{h['title']}》")  # its numbered source
    assert all(s.endswith("。") for s in sources)
    rfonts = doc.styles["表格文字"].element.rPr.rFonts
    assert rfonts.get(qn("w:eastAsia")) == "仿宋_GB2312"


def test_md_and_csv(m, fake_kb):
    from kb.matrix_export import export_matrix

    md = export_matrix(fake_kb, m, "md")[0].decode("utf-8")
    assert md.startswith(f"# {TOPIC}对比表\n\n| 要点 | 全国 | 河南 | 火星 |\n|---|---|---|---|\n")
    assert md.count(EMPTY) == sum(c["hit"] is None for c in m["cells"]) and "## 出处" in md
    raw = export_matrix(fake_kb, m, "csv")[0]
    assert raw.startswith("\ufeff".encode())  # Excel reads the BOM as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["要点", "全国", "河南", "火星"] and [r[0] for r in rows[1:6]] == m["aspects"]
    first = m["cells"][0]["hit"]
    assert rows[1][1].startswith(first["text"].strip("\n")) and first["citation"] in rows[1][1]
    with pytest.raises(InvalidInput):
        export_matrix(fake_kb, m, "pdf")


# ---- CLI --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def index_dir(fake_kb):
    return str(fake_kb.dir)


def kb_cli(*args: str) -> subprocess.CompletedProcess:
    """The installed `kb` script, as a user runs it."""
    script = Path(sys.executable).parent / "kb"
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=300)


def test_cli_matrix_json_text_and_export(index_dir, tmp_path):
    res = kb_cli("compare", TOPIC, "--aspects", "公众参与,专家论证", "--places", "全国,火星", "--json", "--index", index_dir)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["aspects"] == ["公众参与", "专家论证"] and out["columns"] == ["全国", "火星"]
    assert len(out["cells"]) == 4 and all(set(c["hit"]) == HIT_FIELDS for c in out["cells"] if c["hit"])
    text = kb_cli("compare", TOPIC, "--matrix", "--places", "全国,火星", "--index", index_dir)
    assert text.returncode == 0 and "对比要点取自《重大行政决策程序暂行条例》" in text.stdout
    assert f"火星：{EMPTY}" in text.stdout and "■ 公众参与" in text.stdout
    target = tmp_path / "表.docx"
    res = kb_cli("compare", TOPIC, "--aspects", "公众参与", "--places", "全国", "--export", str(target), "--index", index_dir)
    assert res.returncode == 0 and target.stat().st_size > 5000 and target.read_bytes()[:2] == b"PK"
    bad = kb_cli("compare", TOPIC, "--aspects", "公众参与", "--export", str(tmp_path / "x.pdf"), "--index", index_dir)
    assert bad.returncode == 1 and "--export" in bad.stderr and "Traceback" not in bad.stderr
