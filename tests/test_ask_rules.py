"""Answer rules on excerpts of corpus laws (tests/data/ask): 哪些 questions quote the whole list,
什么是 questions the defining sentence, requirement questions lead with the normative text of the
highest level and add at most two supporting quotes; unit vectors are cached.

Most checks run with a flat embedder (every text the same vector), so the ranking under test is
the rules' alone: the fake embedder's character-overlap similarity spans ~0.5 between passages
and would decide them instead."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb.answer_rules import (
    NOT_NORMATIVE,
    answer_rules,
    defined_term,
    defines,
    extra_queries,
    intent,
    level_rank,
    parse_rules,
)
from kb.ask import MAX_QUOTES, extract
from kb.embed import Embedder, FakeEmbedder
from kb.records import AskResult, Hit
from kb.sentences import units

DATA = Path(__file__).parent / "data" / "ask"
KB_SCRIPT = Path(sys.executable).with_name("kb")
ZHENGFU_XINXI = "本条例所称政府信息，是指行政机关在履行行政管理职能过程中制作或者获取的，以一定形式记录、保存的信息。"
DECISION_ITEMS = ["重大公共政策和措施", "重要规划", "重大公共建设项目", "其他重大事项"]


class FlatEmbedder(Embedder):
    """Every text the same unit vector: semantic similarity ties, the rules decide."""

    name = "flat"
    dim = 8

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[:, 0] = 1.0
        return out


@pytest.fixture(scope="module")
def rules_kb(tmp_path_factory):
    from kb.core import KnowledgeBase
    kb = KnowledgeBase(tmp_path_factory.mktemp("rules") / "idx", embedder=FlatEmbedder())
    summary = kb.ingest([DATA], root=DATA)
    assert not summary.failed and len(summary.ingested) == 6
    return kb


@pytest.fixture(scope="module")
def fake_index(tmp_path_factory):
    from kb.core import KnowledgeBase
    path = tmp_path_factory.mktemp("fake") / "idx"
    summary = KnowledgeBase(path, embedder="fake").ingest([DATA], root=DATA)
    assert not summary.failed
    return path


def first_quote(out: AskResult | dict) -> tuple[str, dict]:
    """The text of the answer up to its first marker, and the hit it cites (as JSON gives it)."""
    out = out.to_dict() if isinstance(out, AskResult) else out
    text, _, rest = out["answer"].partition("[")
    return text, out["citations"][int(rest.split("]")[0]) - 1]


# ---- what a question asks for -------------------------------------------------------------------
@pytest.mark.parametrize("question, term", [
    ("什么是政府信息", "政府信息"), ("行政许可的含义是什么？", "行政许可"), ("何为营商环境", "营商环境"),
    ("什么是法", ""), ("公职人员政务处分有哪几种", ""), ("政府信息公开申请多久答复", "")])
def test_defined_term(question, term):
    assert defined_term(question) == term
    assert (extra_queries(question) == [f"{term}是指"]) if term else extra_queries(question) == []


def test_intents():
    assert intent("哪些事项属于重大行政决策事项").listing and intent("哪些事项属于重大行政决策事项").rule
    assert intent("收到罚款决定书后多少日内缴纳").timing
    assert intent("送请合法性审查是否必须保证审查时间").rule  # 是否 / 必须
    assert not intent("法治政府建设成效显著").rule


def test_defines_marks_the_defining_sentence_only():
    assert defines(ZHENGFU_XINXI, "政府信息")
    assert defines("第二条 行政处罚是指行政机关依法对违反行政管理秩序的…予以惩戒的行为。", "行政处罚")
    assert not defines("行政机关应当及时、准确地公开政府信息。", "政府信息")
    assert not defines(ZHENGFU_XINXI, "")


def test_level_rank_follows_the_level_or_the_doc_type():
    def hit(level: str, doc_type: str) -> Hit:
        return Hit("d", "p", "某某条例", doc_type, "", "", [], "x", 0, 1, None, 0.0, "", level=level)
    assert level_rank(hit("law", "law")) == 0
    assert level_rank(hit("none", "law")) == 0  # an index built before levels were read
    assert level_rank(hit("none", "regulation")) == 1
    assert level_rank(hit("judicial_interpretation", "judicial_interpretation")) == 2
    assert level_rank(hit("normative", "normative")) == 3
    assert level_rank(hit("none", "speech")) == NOT_NORMATIVE


def test_rules_table_errors_name_the_line():
    assert parse_rules("rule\t应当\nlevel\tlaw\t0\n")["level"] == [["law", "0"]]
    with pytest.raises(ValueError, match="answer_rules.tsv line 2: expected one of"):
        parse_rules("rule\t应当\nrules\t必须\n")
    with pytest.raises(ValueError, match="line 1: a level row needs a level and a rank"):
        parse_rules("level\tlaw\n")
    with pytest.raises(ValueError, match=r"line 1: \{term\} only belongs"):
        parse_rules("rule\t{term}是指\n")
    assert all(row[0] for rows in answer_rules().values() for row in rows)  # the shipped table loads


def test_short_list_items_are_kept_but_not_headings():
    text = "第七条 政务处分的种类为：\n（一）警告；\n（二）记过；\n（三）开除。"
    (article,) = units(text)
    assert article.kind == "article" and article.text(text) == text.replace("\n", "")
    heading = "工作安排如下：\n（一）总体要求\n（二）主要任务"
    assert all("总体要求" not in u.text(heading) for u in units(heading))


# ---- answers on the corpus excerpts -------------------------------------------------------------
def test_what_is_quotes_the_defining_sentence(rules_kb):
    out = rules_kb.ask("什么是政府信息").to_dict()
    quote, cited = first_quote(out)
    assert quote == "第二条 " + ZHENGFU_XINXI and cited["title"] == "中华人民共和国政府信息公开条例"
    quote, cited = first_quote(rules_kb.ask("什么是法律援助？"))
    assert quote.startswith("第二条 本法所称法律援助，是国家建立的") and cited["level"] == "law"


def test_which_matters_quotes_the_whole_list(rules_kb):
    out = rules_kb.ask("哪些事项属于重大行政决策事项").to_dict()
    quote, cited = first_quote(out)
    assert quote.startswith("第三条 本条例所称重大行政决策事项(以下简称决策事项)包括：")
    assert all(item in quote for item in DECISION_ITEMS) and quote.count("(") >= 6  # lead-in + (一)…(五)
    assert cited["text"][cited["highlights"][0][0]:cited["highlights"][0][1]] == quote  # exact span


def test_the_citation_names_the_quoted_article_not_the_window(rules_kb):
    out = rules_kb.ask("哪些事项属于重大行政决策事项")
    _, cited = first_quote(out)
    assert cited["citation"] == "《重大行政决策程序暂行条例》第三条"


def test_seven_circumstances_are_all_quoted(rules_kb):
    quote, _ = first_quote(rules_kb.ask("公职人员有哪些情形可以从轻或者减轻给予政务处分"))
    assert quote.startswith("第十一条 公职人员有下列情形之一的，可以从轻或者减轻给予政务处分：")
    assert all(f"（{n}）" in quote for n in "一二三四五六七")


def test_withheld_information(rules_kb):
    quote, _ = first_quote(rules_kb.ask("哪些政府信息可以不予公开"))
    assert quote.startswith("第十六条 行政机关的内部事务信息") and "过程性信息" in quote


def test_law_leads_the_local_regulation(rules_kb):
    out = rules_kb.ask("法律援助什么情况下可以先行提供").to_dict()
    levels = [c["level"] for c in out["citations"]]
    assert levels == sorted(levels, key=["law", "admin_regulation", "local_regulation"].index)
    assert levels[0] == "law" and "local_regulation" in levels
    assert first_quote(out)[0].startswith("第四十四条") and "不足七日" in first_quote(out)[0]


def test_deadline_question(rules_kb):
    quote, _ = first_quote(rules_kb.ask("政府信息公开申请多久答复"))
    assert quote.startswith("第三十三条") and "20个工作日内予以答复" in quote


@pytest.mark.parametrize("question", [
    "哪些事项属于重大行政决策事项", "重大行政决策合法性审查要审查哪些内容", "法律援助什么情况下可以先行提供",
    "重大行政决策草案提交集体讨论前需要经过哪些程序？"])
def test_requirement_answers_are_short(rules_kb, question):
    out = rules_kb.ask(question).to_dict()
    assert out["found"] and 1 <= len(out["citations"]) <= MAX_QUOTES
    assert out["citations"][0]["level"] != "none"  # the rule leads, a speech only supports


# ---- the rule leads: hand-built hits --------------------------------------------------------------
SPEECH = ("严格落实重大行政决策程序,坚持把公众参与、专家论证、风险评估、合法性审查和集体讨论决定作为重大行政决策的法定程序,"
          "把集体讨论审议作为合法性审查工作的必经程序。")
ARTICLE = "第二十五条 决策草案提交决策机关讨论前，应当由负责合法性审查的部门进行合法性审查。不得以征求意见等方式代替合法性审查。"
OLD_ARTICLE = "第十八条 重大行政决策草案提交讨论前，应当经政府法制机构进行合法性审查，未经合法性审查的不得提交讨论。"


def mkhit(n: int, text: str, title: str, doc_type: str, level: str, status: str = "current") -> Hit:
    return Hit(doc_id=f"d{n}", path=f"{title}.md", title=title, doc_type=doc_type, region="全国", date="2019-04-20",
               section=[], text=text, start=0, end=len(text), page=None, score=1.0 / (n + 1),
               citation=f"《{title}》", chunk_id=n, status=status, level=level)


def test_a_better_ranked_speech_supports_the_article():
    hits = [mkhit(0, SPEECH, "在2023年法治政府建设工作会议上的讲话", "speech", "none"),
            mkhit(1, ARTICLE, "重大行政决策程序暂行条例", "regulation", "admin_regulation")]
    out = extract("重大行政决策草案提交集体讨论前需要经过哪些程序？", hits, FlatEmbedder()).to_dict()
    assert out["answer"] == f"{ARTICLE}[1]{SPEECH}[2]"
    assert [c["doc_id"] for c in out["citations"]] == ["d1", "d0"]


def test_a_repealed_text_does_not_lead():
    hits = [mkhit(0, OLD_ARTICLE, "某省重大行政决策程序规定", "rule", "local_rule", status="repealed"),
            mkhit(1, ARTICLE, "重大行政决策程序暂行条例", "regulation", "admin_regulation", status="repealed"),
            mkhit(2, SPEECH, "在2023年法治政府建设工作会议上的讲话", "speech", "none", status="unknown")]
    out = extract("重大行政决策草案提交讨论前需要经过哪些程序", hits, FlatEmbedder()).to_dict()
    assert out["citations"][0]["doc_id"] == "d2"  # in force beats repealed, whatever their level
    hits[1].status = "current"
    out = extract("重大行政决策草案提交讨论前需要经过哪些程序", hits, FlatEmbedder()).to_dict()
    assert out["citations"][0]["doc_id"] == "d1"
    assert "d0" not in {c["doc_id"] for c in out["citations"]}  # nor follows a text in force


# ---- unit vectors are cached ---------------------------------------------------------------------
def test_unit_vectors_are_cached(fake_index):
    from kb.core import KnowledgeBase
    kb = KnowledgeBase(fake_index)
    before = kb.embedder.texts_embedded
    first = kb.ask("哪些事项属于重大行政决策事项").to_dict()
    assert kb.embedder.texts_embedded - before > 1  # the question and its candidate units
    again = KnowledgeBase(fake_index)  # a new process: no query-vector memo, the store's cache only
    second = again.ask("哪些事项属于重大行政决策事项").to_dict()
    assert again.embedder.texts_embedded == 1  # the question alone
    assert second["answer"] == first["answer"]


def test_caching_gives_way_to_a_busy_writer(tmp_path):
    from kb.indexer import passage_vectors
    from kb.store import Store
    store, emb = Store(tmp_path / "s.sqlite"), FakeEmbedder()
    texts = ["第二条 本条例所称政府信息，是指…", "第三条 决策事项包括："]
    writer = sqlite3.connect(tmp_path / "s.sqlite")
    writer.execute("BEGIN IMMEDIATE")  # an ingest holding the store
    got = passage_vectors(store, emb, texts)
    assert np.allclose(got, emb.embed_batch(texts, "passage"))
    writer.rollback()
    assert store.cached_vectors(emb.name, [__import__("kb.store").store.text_hash(t) for t in texts]) == {}
    passage_vectors(store, emb, texts)  # the store is free again: now they are kept
    calls = emb.calls
    assert np.allclose(passage_vectors(store, emb, texts), got) and emb.calls == calls


# ---- what a user runs ----------------------------------------------------------------------------
def test_kb_ask_cli(fake_index):
    assert KB_SCRIPT.exists(), f"the kb console script is not installed beside {sys.executable}"
    out = subprocess.run([str(KB_SCRIPT), "ask", "什么是政府信息", "--index", str(fake_index)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"第二条 {ZHENGFU_XINXI}[1]"
    assert lines[1].startswith("  [1] 《中华人民共和国政府信息公开条例") and "第二条" in lines[1]
    js = subprocess.run([str(KB_SCRIPT), "ask", "哪些事项属于重大行政决策事项", "--json", "--index", str(fake_index)],
                        capture_output=True, text=True)
    assert js.returncode == 0, js.stderr
    res = json.loads(js.stdout)
    assert res["found"] and all(item in res["answer"] for item in DECISION_ITEMS)


# ---- the real model on the shipped corpus -------------------------------------------------------
@pytest.mark.model
@pytest.mark.parametrize("question, opens, holds", [
    ("哪些政府信息可以不予公开", "第十六条 行政机关的内部事务信息", ["过程性信息"]),
    ("哪些事项属于重大行政决策事项", "第三条 本条例所称重大行政决策事项", DECISION_ITEMS),
    ("行政机关负责人不能出庭有哪些正当理由", "第八条 有下列情形之一的", ["不可抗力", "意外事件", "需要履行他人不能代替的公务"]),
    ("什么是政府信息", "第二条 本条例所称政府信息，是指", []),
    ("重大行政决策草案提交集体讨论前需要经过哪些程序？", "第二十五条 决策草案提交决策机关讨论前", ["进行合法性审查"]),
])
def test_real_rule_first_answers(real_kb, question, opens, holds):
    out = real_kb.ask(question).to_dict()
    quote, cited = first_quote(out)
    assert quote.startswith(opens), out["answer"]
    assert cited["level"] != "none" and len(out["citations"]) <= MAX_QUOTES
    assert all(h in quote for h in holds), quote
