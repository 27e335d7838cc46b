"""Q&A: extractive answers quote the passages verbatim with [n] markers, refuse off-topic
questions, and the optional generative mode is checked against a mock endpoint."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from kb.ask import NOT_FOUND, answer, extract
from kb.embed import FakeEmbedder
from kb.llm import renumber
from kb.records import Hit
from kb.sentences import split_sentences, units
from kb.settings import Settings

MARK = re.compile(r"\[(\d+)\]")

DECISION = (
    "第三条 重大行政决策应当遵循科学、民主、依法决策原则。\n"
    "第四条 作出重大行政决策应当履行公众参与、专家论证、风险评估、合法性审查和集体讨论决定等法定程序。"
    "决策机关应当对决策草案进行合法性审查；未经合法性审查或者经审查不合法的，不得提交讨论。"
)
BUSINESS = (
    "第十条 政务服务机构应当推行“一网通办”，企业开办时间压缩至三个工作日以内。"
    "市场主体登记实行告知承诺制。"
)
COPY = "作出重大行政决策应当履行公众参与、专家论证、风险评估、合法性审查和集体讨论决定等法定程序。"


def hit(text: str, title: str, n: int, section: list[str] | None = None) -> Hit:
    return Hit(doc_id=f"d{n}", path=f"laws/{title}.md", title=title, doc_type="regulation", region="全国",
               date="2019-04-20", section=section or ["第一章 总则"], text=text, start=100, end=100 + len(text),
               page=None, score=1.0 / (n + 1), citation=f"《{title}》第一章 总则", chunk_id=n)


@pytest.fixture(scope="module")
def emb():
    return FakeEmbedder()


@pytest.fixture
def hits():
    # the business passage ranks first, so the relevant one has to be found and renumbered [1]
    return [hit(BUSINESS, "某市优化营商环境条例", 0), hit(DECISION, "重大行政决策程序暂行条例", 1),
            hit(COPY, "某省重大行政决策程序规定", 2)]


def sentences_of(answer_text: str) -> list[tuple[str, int]]:
    """(sentence, marker) pairs of an answer."""
    parts = re.findall(r"(.+?)\[(\d+)\]", answer_text, re.S)
    return [(s, int(n)) for s, n in parts]


def test_split_sentences_gives_exact_offsets():
    text = "  第一条 为了规范程序，制定本条例。\n## 第二章\n他说：“应当依法办事。”然后离开了会场；好的\n最后一句没有句号"
    spans = split_sentences(text)
    pieces = [text[s:e] for s, e in spans]
    assert pieces == ["第一条 为了规范程序，制定本条例。", "他说：“应当依法办事。”", "然后离开了会场；好的", "最后一句没有句号"]


def test_semicolons_split_only_long_sentences():
    rule = "违法行为在二年内未被发现的，不再给予行政处罚；涉及公民生命健康安全的，上述期限延长至五年。"
    assert [rule[s:e] for s, e in split_sentences(rule)] == [rule]  # one rule, both periods
    long = "；".join(["第" + "一二三四五六七八九十"[i] + "项应当依法办理有关登记手续并及时报告主管部门" for i in range(8)]) + "。"
    pieces = [long[s:e] for s, e in split_sentences(long)]
    assert len(pieces) == 8 and "".join(pieces) == long


def test_items_come_with_their_lead_in():
    text = ("法律援助机构可以先行提供法律援助：\n（一）距法定时效或者期限届满不足七日，需要及时起诉；\n"
            "（二）需要立即申请财产保全。其他紧急或者特殊情形。\n国家加强残疾人法律援助工作。")
    got = [(u.kind, [text[s:e] for s, e in u.spans]) for u in units(text)]
    lead = "法律援助机构可以先行提供法律援助："
    one, two = "（一）距法定时效或者期限届满不足七日，需要及时起诉；", "（二）需要立即申请财产保全。"
    assert got == [
        ("item", [lead, one]),
        ("item", [lead, two, "其他紧急或者特殊情形。"]),  # a continuation stays with its item
        ("list", [lead, one, two, "其他紧急或者特殊情形。"]),
        ("sentence", ["国家加强残疾人法律援助工作。"]),
    ]


def test_short_articles_are_units_long_ones_are_split():
    short = "第四十二条 行政机关应当自受理之日起二十日内作出决定。二十日内不能作出决定的，可以延长十日。"
    long = "第四十三条 " + "行政机关应当依照法定程序办理有关事项并及时告知申请人。" * 12
    text = "前一条的末尾部分内容。\n" + short + "\n" + long
    got = [(u.kind, "".join(text[s:e] for s, e in u.spans)) for u in units(text)]
    assert got[0] == ("sentence", "前一条的末尾部分内容。")  # cut by the window: not an article
    assert got[1] == ("article", short)
    assert {k for k, _ in got[2:]} == {"sentence"} and len(got) == 2 + 12


def test_extractive_answer_quotes_and_cites(hits, emb):
    out = extract("重大行政决策需经哪些程序", hits, emb).to_dict()
    assert out["found"] is True and out["mode"] == "extractive"
    pairs = sentences_of(out["answer"])
    assert pairs and "".join(s + f"[{n}]" for s, n in pairs) == out["answer"]  # every sentence is marked
    numbers = {n for _, n in pairs}
    assert numbers == set(range(1, len(out["citations"]) + 1))  # only cited hits, numbered 1..n
    assert all(c["doc_id"] != "d0" for c in out["citations"])  # the off-topic top hit is not cited
    assert "公众参与、专家论证、风险评估、合法性审查和集体讨论决定" in out["answer"]
    for sentence, n in pairs:
        cited = out["citations"][n - 1]
        assert sentence in cited["text"]  # verbatim quotation of the cited passage
        assert [sentence] == [cited["text"][s:e] for s, e in cited["highlights"] if cited["text"][s:e] == sentence]
    assert "chunk_id" not in out["citations"][0]


def test_near_duplicate_sentences_are_quoted_once(hits, emb):
    out = extract("重大行政决策需经哪些程序", hits, emb).to_dict()
    assert out["answer"].count("专家论证、风险评估") == 1


def test_off_topic_questions_are_not_answered(hits, emb):
    for q in ("今天天气怎么样", "如何烹饪红烧肉"):
        out = extract(q, hits, emb).to_dict()
        assert out == {"answer": NOT_FOUND, "found": False, "citations": [], "mode": "extractive"}


def test_lead_in_is_quoted_with_its_items_never_alone(emb):
    text = "重大行政决策应当经过下列程序：\n（一）公众参与；\n（二）专家论证；\n（三）合法性审查。"
    out = extract("重大行政决策应当经过哪些程序", [hit(text, "某省重大行政决策程序规定", 0)], emb).to_dict()
    assert out["found"]
    # a 哪些 question gets the whole list, quoted verbatim as one piece with one marker
    assert out["answer"] == text + "[1]"
    assert out["citations"][0]["highlights"] == [[0, len(text)]]
    lone = extract("重大行政决策应当经过哪些程序", [hit("重大行政决策应当经过下列程序：", "某省规定", 0)], emb).to_dict()
    assert lone["found"] is False


def test_an_article_is_quoted_whole(emb):
    text = ("第四十二条 行政机关应当自受理行政许可申请之日起二十日内作出行政许可决定。"
            "二十日内不能作出决定的，经本行政机关负责人批准，可以延长十日。\n第四十三条 行政许可证件应当载明有效期。")
    out = extract("行政许可决定作出期限", [hit(text, "中华人民共和国行政许可法", 0)], emb).to_dict()
    assert out["answer"].startswith(text.split("\n")[0] + "[1]")


def test_no_hits_or_no_content_terms(emb, hits):
    assert extract("重大行政决策", [], emb).found is False
    assert extract("哪些？", hits, emb).found is False


def test_max_sentences(hits, emb):
    out = extract("重大行政决策 合法性审查 程序", hits, emb, max_sentences=1).to_dict()
    assert len(sentences_of(out["answer"])) == 1


def test_renumber_drops_dangling_markers():
    text, order = renumber("甲[3]。乙[9]。丙[1,3]。丁[2、9]", 3)
    assert text == "甲[1]。乙。丙[2][1]。丁[3]"
    assert order == [3, 1, 2]


def llm_settings(**kw) -> Settings:
    return Settings(llm_base_url="http://llm.test/v1", llm_model="qwen-test", llm_api_key="sk-test", **kw)


def test_generative_answer_renumbers_and_drops_bad_citations(hits, emb):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        content = "重大行政决策须经公众参与、专家论证等法定程序[2]。另见[7]。"
        return httpx.Response(200, json={"choices": [{"message": {"content": content}}]})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    out = answer("重大行政决策需经哪些程序", hits, emb, settings=llm_settings(), client=client).to_dict()
    assert out["mode"] == "generative" and out["found"] is True
    assert out["answer"] == "重大行政决策须经公众参与、专家论证等法定程序[1]。另见。"
    assert [c["doc_id"] for c in out["citations"]] == ["d1"]
    (req,) = seen
    assert str(req.url) == "http://llm.test/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer sk-test"
    body = json.loads(req.content)
    assert body["model"] == "qwen-test"
    prompt = body["messages"][-1]["content"]
    assert "重大行政决策需经哪些程序" in prompt and "[2] 《重大行政决策程序暂行条例》" in prompt


@pytest.mark.parametrize("failure", ["timeout", "status", "garbage", "uncited"])
def test_generative_failure_falls_back_to_extractive(hits, emb, failure):
    def handler(request: httpx.Request) -> httpx.Response:
        if failure == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if failure == "status":
            return httpx.Response(503, text="overloaded")
        if failure == "garbage":
            return httpx.Response(200, text="<html>not json</html>")
        return httpx.Response(200, json={"choices": [{"message": {"content": "须经法定程序。"}}]})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    out = answer("重大行政决策需经哪些程序", hits, emb, settings=llm_settings(llm_timeout=0.5), client=client).to_dict()
    assert out["mode"] == "extractive_fallback"
    assert out["note"].startswith("生成式回答不可用")
    assert out["found"] is True and out["answer"] == extract("重大行政决策需经哪些程序", hits, emb).answer


def test_off_topic_question_never_reaches_the_model(hits, emb):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"choices": [{"message": {"content": "红烧肉要先焯水[1]。"}}]})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    out = answer("如何烹饪红烧肉", hits, emb, settings=llm_settings(), client=client).to_dict()
    assert out["found"] is False and out["answer"] == NOT_FOUND and not calls


def test_model_saying_not_found_is_respected(hits, emb):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"choices": [{"message": {"content": "未找到相关依据。"}}]})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    out = answer("重大行政决策需经哪些程序", hits, emb, settings=llm_settings(), client=client).to_dict()
    assert out == {"answer": NOT_FOUND, "found": False, "citations": [], "mode": "generative"}


def test_kb_ask_on_fake_kb(fake_kb):
    out = fake_kb.ask("重大行政决策需经哪些程序", k=5).to_dict()
    assert set(out) >= {"answer", "found", "citations", "mode"}
    # the corpus has 重大行政决策程序暂行条例's procedure: even the fake embedder's BM25 half finds it
    assert out["found"] is True, out
    assert len(MARK.findall(out["answer"])) >= 1
    for c in out["citations"]:
        doc = fake_kb.document(c["doc_id"])
        assert doc.text[c["start"]:c["end"]] == c["text"]


@pytest.mark.model
def test_real_answer_to_decision_procedure(real_kb):
    out = real_kb.ask("重大行政决策需经哪些程序", k=5).to_dict()
    assert out["found"] is True, out
    for term in ("公众参与", "专家论证", "风险评估", "合法性审查", "集体讨论决定"):
        assert term in out["answer"], (term, out["answer"])
    assert MARK.search(out["answer"])


@pytest.mark.model
@pytest.mark.parametrize("question", ["今天天气怎么样", "如何烹饪红烧肉"])
def test_real_off_topic(real_kb, question):
    out = real_kb.ask(question, k=5).to_dict()
    assert out["found"] is False and out["answer"] == NOT_FOUND and out["citations"] == []
