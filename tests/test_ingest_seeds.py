"""The five seed documents: boilerplate removed, body kept, metadata as an official would file it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from ingest import parse_bytes, parse_file
from ingest.metadata import parse_date

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SEEDS = {
    "000": "seeds/000_b28d6b4caa93905a.txt",
    "001": "seeds/001_e48bf0a5d726f318.txt",
    "002": "seeds/002_5300b03fe4b43074.txt",
    "003": "seeds/003_00e7c5445595ef47.txt",
    "004": "seeds/004_6277130b06efc827.txt",
}


@cache
def seed(key: str):
    return parse_file(CORPUS / SEEDS[key], SEEDS[key])


def test_seed_000_news_in_yancheng():
    doc = seed("000")
    assert doc.doc_type == "news"
    assert doc.region == "河南省漯河市郾城区"
    assert doc.date == "2023-12-13"  # 12月13日下午 … 2023年度
    # the truncated copy of the first paragraph and the disclaimers are gone, the body is whole
    assert doc.text.startswith("第35次周例会。12月13日下午")
    assert doc.text.count("第35次周例会") == 1
    for junk in ("慎重声明", "特别提醒", "中国财经新闻网", "tousu@prcfe.com"):
        assert junk not in doc.text
    assert doc.text.endswith("以此推动法治政府建设全面提质增效。")


def test_seed_001_news_in_xindu():
    doc = seed("001")
    assert (doc.doc_type, doc.region, doc.date) == ("news", "四川省成都市新都区", "2016-10-12")
    assert doc.title == "强化政治担当 推进依法治区"
    for junk in ("浏览量", "来源:新都资讯", "编辑:罗雨涵", "条评论", "发布时间"):
        assert junk not in doc.text
    assert doc.text.endswith("区领导钟思勇、刘怒海、郑自强、杨巧琳参加会议。")
    assert [s.path[0][:2] for s in doc.sections] == ["一是", "二是", "三是"]


def test_seed_002_plan_without_region():
    doc = seed("002")
    assert doc.doc_type == "plan"
    assert doc.region == ""  # xx市xx区: unknown
    assert doc.date == ""


def test_seed_003_speech_in_qianxinan():
    doc = seed("003")
    assert doc.doc_type == "speech"
    assert doc.region == "贵州省黔西南布依族苗族自治州"
    assert doc.date in ("2024-09-13", "2023")
    assert doc.title == "在2023年法治政府建设工作会议上的讲话"
    for junk in ("手机版", "您的当前位置", "恒微文秘网", "Copyright", "Powered by", "ICP备", "下面是小编"):
        assert junk not in doc.text
    assert doc.text.split("\n")[-1] != "Top"
    assert "同志们:" in doc.text
    assert doc.text.endswith("以高质量法治保障全州经济社会高质量发展!")


def test_seed_004_report_in_qingquan():
    doc = seed("004")
    assert doc.doc_type == "report"
    assert doc.region == "重庆市酉阳土家族苗族自治县清泉乡"
    assert doc.date == "2023-02-28"  # the 日期: line wins over the signature date 2023年2月23日
    assert doc.issuer == "清泉乡人民政府"
    assert doc.title == "酉阳土家族苗族自治县清泉乡人民政府2022年度法治政府建设情况报告"
    for junk in ("扫一扫", "字号", "日期:"):
        assert junk not in doc.text
    assert doc.text.rstrip().endswith("2023年2月23日")


# 1-based raw line numbers that are site chrome; every other non-blank line must survive whole
REMOVED = {
    "000": {1, 3, 4, 5},  # truncated copy of line 2; 【慎重声明】…【特别提醒】
    "001": {2, 11, 12, 13, 18},  # 发布时间, 浏览量, 来源/记者, 编辑, 0条评论
    "002": set(),
    "003": {1, 2, 6, 8, 61, 63, 65},  # 手机版, breadcrumb, 来源/时间, 小编, Copyright/ICP, Powered by, Top
    "004": {3, 4, 42},  # 日期:, 字号:, 扫一扫在手机打开当前页
}


@pytest.mark.parametrize("key", sorted(SEEDS))
def test_cleaning_removes_exactly_the_chrome_lines(key):
    raw_lines = (CORPUS / SEEDS[key]).read_text(encoding="utf-8").split("\n")
    kept = set(seed(key).text.split("\n"))
    for number, line in enumerate(raw_lines, 1):
        line = line.rstrip(" \t\u3000\xa0")
        if not line.strip():
            continue
        assert (line in kept) == (number not in REMOVED[key]), (number, line[:40])


def test_cleaning_removes_lines_only_and_collapses_blank_runs():
    doc = seed("004")
    assert "\n\n\n" not in doc.text
    raw_lines = {
        line.rstrip(" \t\u3000\xa0") for line in (CORPUS / SEEDS["004"]).read_text("utf-8").split("\n")
    }
    for line in doc.text.split("\n"):
        assert line == "" or line in raw_lines


def test_dates():
    assert parse_date("发布时间:2016-10-12 15:35:39") == "2016-10-12"
    assert parse_date("2023年2月23日") == "2023-02-23"
    assert parse_date("二〇二三年二月二十三日") == "2023-02-23"
    assert parse_date("2023年13月1日") == ""
    assert parse_date("无日期") == ""


def test_law_metadata_from_lawrefbook_header():
    path = "laws/全国/行政法规/重大行政决策程序暂行条例(2019-04-20).md"
    doc = parse_file(CORPUS / path, path)
    assert doc.title == "重大行政决策程序暂行条例"
    assert (doc.doc_type, doc.region, doc.date) == ("regulation", "全国", "2019-04-20")
    assert doc.doc_number == "国务院令第713号"
    assert doc.issuer == "国务院"
    assert "<!-- INFO END -->" not in doc.text


@pytest.mark.parametrize(
    ("path", "doc_type", "region"),
    [
        ("laws/山东/烟台市优化营商环境条例(2021-12-06).md", "local_regulation", "山东省烟台市"),
        ("laws/河南/驻马店市优化营商环境条例(2021-12-28).md", "local_regulation", "河南省驻马店市"),
        ("laws/广东/云浮市优化营商环境条例(2023-03-03).md", "local_regulation", "广东省云浮市"),
        ("laws/全国/行政法规/优化营商环境条例(2019-10-22).md", "regulation", "全国"),
        (
            "laws/全国/司法解释/最高人民法院关于行政机关负责人出庭应诉若干问题的规定(2020-06-22).md",
            "judicial_interpretation",
            "全国",
        ),
        (
            "gov/work_report/内蒙古自治区呼伦贝尔市海拉尔区_2013_政府工作报告.txt",
            "work_report",
            "内蒙古自治区呼伦贝尔市海拉尔区",
        ),
        (
            "gov/news/全国_2021_2021-08-11_中共中央国务院印发《法治政府建设实施纲要（2021—2025年）》.md",
            "news",
            "全国",
        ),
    ],
)
def test_shipped_document_types_and_regions(path, doc_type, region):
    doc = parse_file(CORPUS / path, path)
    assert (doc.doc_type, doc.region) == (doc_type, region)


def test_region_from_text_without_path_hints():
    # an upload named only 通知.txt: the region comes from the text
    doc = parse_bytes(
        "郾城区司法局关于开展普法宣传的通知\n各乡镇：现将有关事项通知如下。".encode(), "通知.txt"
    )
    assert doc.region == "河南省漯河市郾城区"
    assert doc.doc_type == "notice"
    assert parse_bytes("xx市xx区法治政府建设工作方案\n一、总体要求".encode(), "方案.txt").region == ""
    # 重点区域 and 市场 are words, not places
    assert parse_bytes("加强重点区域市场监管。".encode(), "a.txt").region == ""


def test_gazetteer_short_forms_and_provinces():
    from ingest.region import gazetteer, mentions

    assert mentions("郾城区") == ["河南省漯河市郾城区"]
    assert mentions("新都区") == ["四川省成都市新都区"]
    assert mentions("黔西南") == mentions("黔西南州") == ["贵州省黔西南布依族苗族自治州"]
    assert mentions("酉阳") == ["重庆市酉阳土家族苗族自治县"]
    assert mentions("广州市白云区") == ["广东省广州市白云区"]
    assert mentions("白云区") == []  # ambiguous (广州 and 贵阳): only the city-qualified form counts
    g = gazetteer()
    provinces = [full for full, parent in g.parent.items() if not parent]
    assert len(provinces) == 34
    assert {"内蒙古自治区", "香港特别行政区", "台湾省", "重庆市"} <= set(provinces)
