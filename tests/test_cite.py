"""Citation strings, one test per branch."""

from __future__ import annotations

import pytest

from kb.cite import citation, without_version

LAW_PATH = ["第二章 决策草案的形成", "第三节 合法性审查", "第二十五条 决策草案提交决策机关讨论前，应当进行合法性审查。"]


@pytest.mark.parametrize("doc_type", ["law", "regulation", "rule", "local_regulation", "judicial_interpretation"])
def test_legal_texts_cite_the_article(doc_type):
    assert citation("重大行政决策程序暂行条例", doc_type, "2019-04-20", LAW_PATH) == "《重大行政决策程序暂行条例》第二十五条"


def test_article_variants():
    assert citation("某条例", "law", "", ["第一百零二条之一"]) == "《某条例》第一百零二条之一"
    assert citation("某条例", "law", "", ["第3条 总则"]) == "《某条例》第3条"


def test_legal_text_without_article_cites_chapter_or_title():
    assert citation("行政处罚法", "law", "", ["第五章 行政处罚的决定", "第一节 一般规定"]) == "《行政处罚法》第五章第一节"
    assert citation("《行政处罚法》", "law", "", []) == "《行政处罚法》"  # no doubled 《》
    assert citation("行政处罚法", "law", "", ["序言"]) == "《行政处罚法》"


def test_other_documents_cite_date_and_section_path():
    got = citation("某乡2022年度法治政府建设情况报告", "report", "2023-02-28", ["一、主要工作。", "（二）推进依法行政。"])
    assert got == "《某乡2022年度法治政府建设情况报告》（2023-02-28） 一、主要工作 › （二）推进依法行政"
    assert citation("工作方案", "plan", "", []) == "《工作方案》"
    assert citation("工作方案", "plan", "", ["  ", "三、保障措施"]) == "《工作方案》 三、保障措施"


def test_long_headings_are_shortened_and_untitled_documents_named():
    long = "1." + "加强规范性文件管理" * 10
    got = citation("", "news", "2021-05-01", [long])
    assert got.startswith("《未命名文档》（2021-05-01） 1.加强") and got.endswith("…")
    assert len(got) < 70


def test_span_citation_narrows_to_the_article_or_the_shared_sections():
    from kb.cite import span_citation

    law = ("条例", "regulation", "2019-04-20")
    one = ["第三章 合法性审查", "第二十五条"]
    assert span_citation(*law, one, one) == "《条例》第二十五条"
    assert span_citation(*law, one, ["第三章 合法性审查", "第二十七条"]) == "《条例》第二十五条至第二十七条"
    plan = ("方案", "plan", "2023-02-28")
    assert span_citation(*plan, ["一、总体要求", "（一）目标"], ["一、总体要求", "（二）原则"]) == \
        "《方案》（2023-02-28） 一、总体要求"


def test_a_citation_without_its_version_label():
    assert without_version("《北京市优化营商环境条例》（2024年修订）第十条") == "《北京市优化营商环境条例》第十条"
    assert without_version("《上海市人民代表大会常务委员会规范性文件备案审查条例》（2024年）第十一条") == \
        "《上海市人民代表大会常务委员会规范性文件备案审查条例》第十一条"
    assert without_version("《方案》（2023-02-28） 一、总体要求") == "《方案》（2023-02-28） 一、总体要求"
    assert without_version("《条例》第十条") == "《条例》第十条"
