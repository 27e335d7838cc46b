"""Query parsing, colloquial expansion and highlight spans."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kb.highlight import highlight_spans
from kb.query import colloquial_table, expand, parse_query


def test_quoted_phrases_in_every_quote_style():
    q = parse_query('“重大行政决策”和「合法性审查」以及『公众参与』、"专家论证"与\'风险评估\'')
    assert q.phrases == ["重大行政决策", "合法性审查", "公众参与", "专家论证", "风险评估"]
    assert q.text == "重大行政决策和合法性审查以及公众参与、专家论证与风险评估"


def test_unclosed_quotes_empty_phrases_and_spaces():
    q = parse_query("  关于“行政复议  的规定” 和 “”  ”孤立 ")
    assert q.phrases == ["行政复议  的规定"]  # verbatim inside the quotes
    assert q.text == "关于行政复议 的规定 和 孤立"
    assert parse_query("“未闭合").phrases == [] and parse_query("“未闭合").text == "未闭合"
    assert parse_query("").text == ""


def test_expansions_from_the_colloquial_table():
    q = parse_query("领导拍板的事要不要录视频")
    assert "决策" in q.expansions and "音像记录" in q.expansions and "负责人" in q.expansions
    assert expand("告政府") == ["行政诉讼", "行政复议"]


def test_expansion_skips_words_already_present_and_prefers_longer_matches():
    assert "换届" not in expand("换届以后")  # already in the text
    assert "政府换届" in expand("换届以后")
    # 打官司没钱 is matched whole, so its part 打官司 does not add 诉讼
    assert expand("打官司没钱") == ["法律援助"]
    assert expand("行政复议的期限") == []


def test_aspect_particles_inside_a_colloquial_word_still_match():
    assert "音像记录" in expand("执法时要一直录着视频吗")
    assert expand("打了官司") == expand("打官司") != []
    assert expand("录视频频道") == expand("录视频") and expand("录什么视频") == []  # only 着了过, one at a time


def test_colloquial_table_is_general_and_well_formed():
    rows = colloquial_table()
    assert 80 <= len(rows) <= 150
    assert all(c and officials and all(officials) for c, officials in rows)


def test_highlight_terms_and_phrases():
    text = "重大行政决策应当经合法性审查。合法性审查由司法行政部门负责。"
    spans = highlight_spans(text, ["合法性审查", "决策", "法"], phrases=["重大行政决策"])
    assert spans == [[0, 6], [9, 14], [15, 20]]  # 决策 inside the phrase merges; 法 alone is ignored
    assert all(text[s:e] in ("重大行政决策", "合法性审查") for s, e in spans)


def test_highlight_ascii_words_fold_case_width_and_respect_word_boundaries():
    text = "推进ＡＩ监管与AI应用，main 不算，第２５条"
    spans = highlight_spans(text, ["ai", "25"])
    assert [text[s:e] for s, e in spans] == ["ＡＩ", "AI", "２５"]
    assert highlight_spans("", ["ai"]) == [] and highlight_spans(text, []) == []
    assert highlight_spans("行政行政", ["行政"]) == [[0, 4]]  # touching spans merge


_CHARS = st.sampled_from(list("行政复议诉讼法律AIai，。 ２5"))


@given(st.text(_CHARS, max_size=40), st.lists(st.text(_CHARS, max_size=4), max_size=4),
       st.lists(st.text(_CHARS, min_size=1, max_size=4), max_size=2))
def test_highlight_spans_are_sorted_disjoint_and_inside_the_text(text, terms, phrases):
    spans = highlight_spans(text, terms, phrases)
    for s, e in spans:
        assert 0 <= s < e <= len(text)
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False))  # merged: not even touching
    for p in phrases:  # every phrase occurrence is covered
        i = text.find(p)
        if i >= 0:
            assert any(s <= i and i + len(p) <= e for s, e in spans)


def _naive_spans(text: str, terms: list[str], phrases: list[str]) -> list[list[int]]:
    """The definition, spelled out: fold everything, find every occurrence, merge."""
    fold = str.maketrans({**{chr(0xFF01 + i): chr(0x21 + i).lower() for i in range(0x5E)},
                          **{c: c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}})
    hay, found = text.translate(fold), []
    for t in {t.strip().translate(fold) for t in terms}:
        ascii_word = t.isascii() and t.isalnum()
        if ascii_word or len(t) >= 2:
            for i in range(len(hay) - len(t) + 1):
                j = i + len(t)
                if hay[i:j] == t and not (ascii_word and ((i and hay[i - 1].isascii() and hay[i - 1].isalnum())
                                                         or (j < len(hay) and hay[j].isascii() and hay[j].isalnum()))):
                    found.append([i, j])
    found += [[i, i + len(p)] for p in phrases if p for i in range(len(text)) if text.startswith(p, i)]
    merged: list[list[int]] = []
    for s, e in sorted(found):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return merged


_MIXED = st.sampled_from(list("行政复议法律AIaiＡＩａｉ２5，, 条第"))


@given(st.text(_MIXED, max_size=40), st.lists(st.text(_MIXED, max_size=4), max_size=5),
       st.lists(st.text(_MIXED, max_size=3), max_size=2))
def test_highlight_spans_match_the_naive_definition(text, terms, phrases):
    assert highlight_spans(text, terms, phrases) == _naive_spans(text, terms, phrases)
