"""What a question asks for, and the text measures extractive answers are ranked by.

A question may ask for several items (哪些 → the whole enumeration), a duration (多久 → a number
with a unit of time), the meaning of a term (什么是X → the sentence defining X) or what the rules
require (应当/是否/需要经过哪些程序 → the normative text first, by level). The words are data:
data/question_words.tsv (dropped from the question's terms) and data/answer_rules.tsv (kept).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from kb.records import Hit

# Nouns that make a question ask for a duration even without 多久 (时效是…, 作出期限). Not 期间:
# mostly "during" (疫情防控期间的执法); 处分期间多长 asks by its 多长.
TIME_NOUNS = ("期限", "时限", "时效", "期满")
# A number (Arabic, full-width or Chinese) followed by a unit of time: 十五日, ２４小时, 12个月, 二年.
TIME_EXPR = re.compile(r"[0-9０-９零〇一二两三四五六七八九十百]+\s*(?:个)?(?:工作日|小时|日|天|个月|月|年)")
QUESTION_PUNCT = "，,。？?！!：:；;、 \u3000"
NOT_NORMATIVE = 9  # level rank of texts that only support (speeches, plans, reports, news)


def _lines(name: str, text: str | None = None) -> list[tuple[int, list[str]]]:
    if text is None:
        text = resources.files("kb").joinpath(f"data/{name}").read_text(encoding="utf-8")
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#")[0].rstrip()
        if line.strip():
            out.append((n, [c.strip() for c in line.split("\t")]))
    return out


@cache
def question_words() -> dict[str, str]:
    """word → kind (ask | list | time) from data/question_words.tsv."""
    table = {}
    for n, cols in _lines("question_words.tsv"):
        kind = cols[1] if len(cols) > 1 else ""
        if kind not in ("ask", "list", "time"):
            raise ValueError(f"kb/data/question_words.tsv line {n}: kind must be ask, list or time, got {kind!r}")
        table[cols[0]] = kind
    return table


RULE_KINDS = ("rule", "list-noun", "list-alias", "list-verb", "define", "define-mark", "define-query", "level")


def parse_rules(text: str, name: str = "kb/data/answer_rules.tsv") -> dict[str, list[list[str]]]:
    """kind → rows (the values after the kind) of an answer-rules table; a bad row is an error
    naming the file and line."""
    table: dict[str, list[list[str]]] = {k: [] for k in RULE_KINDS}
    for n, cols in _lines(name, text):
        if cols[0] not in table or len(cols) < 2 or not cols[1]:
            raise ValueError(f"{name} line {n}: expected one of {', '.join(RULE_KINDS)} and a value, got {cols!r}")
        if cols[0] == "level" and (len(cols) != 3 or not cols[2].isdigit()):
            raise ValueError(f"{name} line {n}: a level row needs a level and a rank, got {cols!r}")
        if "{term}" in "".join(cols[1:]) and cols[0] not in ("define-mark", "define-query"):
            raise ValueError(f"{name} line {n}: {{term}} only belongs in define-mark and define-query rows")
        table[cols[0]].append(cols[1:])
    return table


@cache
def answer_rules() -> dict[str, list[list[str]]]:
    """kind → rows from data/answer_rules.tsv."""
    return parse_rules(resources.files("kb").joinpath("data/answer_rules.tsv").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Intent:
    listing: bool  # 哪些: the whole enumeration
    timing: bool  # 多久: a duration or deadline
    term: str  # 什么是X: X, else ""
    rule: bool  # lead with the normative text of the highest level


def intent(question: str) -> Intent:
    words = question_words()
    listing = any(kind == "list" and w in question for w, kind in words.items())
    timing = any(n in question for n in TIME_NOUNS) or any(kind == "time" and w in question for w, kind in words.items())
    term = defined_term(question)
    rule = listing or bool(term) or any(row[0] in question for row in answer_rules()["rule"])
    return Intent(listing, timing, term, rule)


def defined_term(question: str) -> str:
    """The term a 什么是X / X是什么 / X的含义 question asks about ("" when it asks no definition)."""
    term, asked = question, False
    for (cue,) in answer_rules()["define"]:  # 行政许可的含义是什么: both cues go
        if cue in term:
            term, asked = term.replace(cue, "", 1), True
    term = term.strip(QUESTION_PUNCT + "呢啊")
    # a term of one or two characters (什么是法) is too vague to look for its definition
    return term if asked and len(term) >= 3 and not any(w in term for w in question_words()) else ""


def asked_nouns(question: str) -> set[str]:
    """What a 哪些 question asks the items of: the words right after its list cue (哪些程序 →
    程序), else right before it past a verb (督查的内容包括哪些 → 内容), the nouns of cues that
    name one (有哪几种 → 种类), and the law's word for them (正当理由 → 情形)."""
    from kb.tokenize import tokenize

    rules = answer_rules()
    out = {noun for cue, noun in rules["list-noun"] if cue in question}
    cues = sorted((w for w, kind in question_words().items() if kind == "list"), key=len, reverse=True)
    m = re.search("|".join(map(re.escape, cues)), question)
    if m is None:
        return out
    after = re.split(f"[{re.escape(QUESTION_PUNCT)}]", question[m.end():].lstrip("些几种类项个"))[0]
    out |= {t for t in tokenize(after) if len(t) >= 2 and after.startswith(t)}
    if not after:
        before = question[:m.start()]
        for (verb,) in sorted(rules["list-verb"], key=lambda r: -len(r[0])):
            if before.endswith(verb):
                before = before[:-len(verb)]
                break
        out |= {t for t in tokenize(before) if len(t) >= 2 and before.endswith(t)}
    return out | {alias for end, alias in rules["list-alias"] if any(n.endswith(end) for n in out)}


def defines(text: str, term: str) -> bool:
    """Whether ``text`` defines ``term`` (本条例所称X，是指… / X是指…)."""
    if not term:
        return False
    flat = "".join(text.split())
    return any(mark.replace("{term}", term) in flat for (mark,) in answer_rules()["define-mark"])


def extra_queries(question: str) -> list[str]:
    """Searches run besides the question: the defining sentence of the term asked about."""
    term = defined_term(question)
    return [q.replace("{term}", term) for (q,) in answer_rules()["define-query"]] if term else []


def content_terms(text: str) -> set[str]:
    """Tokens that carry meaning for overlap: two characters or more, minus question words."""
    from kb.tokenize import tokenize

    skip = question_words()
    return {t for t in tokenize(text) if len(t) >= 2 and t not in skip and not t.isspace()}


def term_overlap(terms: set[str], text: str) -> float:
    """Share of ``terms`` found in ``text``, longer terms weighing more."""
    if not terms:
        return 0.0
    text = unicodedata.normalize("NFKC", text).lower()  # terms come NFKC lower-cased from tokenize
    total = sum(len(t) for t in terms)
    return sum(len(t) for t in terms if t in text) / total


def weighted_overlap(terms: set[str], texts: list[str]) -> list[float]:
    """``term_overlap`` of each text with every term weighted by how few of ``texts`` contain it
    (an idf over the candidates): the topic every candidate shares (重大行政决策 in each article
    of its 条例) tells them apart less than the words only some repeat (草案, 提交)."""
    if not terms or not texts:
        return [0.0] * len(texts)
    flat = [unicodedata.normalize("NFKC", t).lower() for t in texts]
    has = {t: [t in f for f in flat] for t in terms}
    n = len(texts)
    weight = {t: len(t) * (1.0 + math.log(n / max(1, sum(v)))) for t, v in has.items()}
    total = sum(weight.values())
    return [sum(w for t, w in weight.items() if has[t][i]) / total for i in range(n)]


def question_phrases(question: str) -> list[str]:
    """The question cut at its punctuation and question words: the stretches a passage may
    repeat word for word (行政机关负责人不能出庭 | 正当理由)."""
    text = unicodedata.normalize("NFKC", question)
    cuts = sorted(question_words(), key=len, reverse=True)
    pattern = "|".join(re.escape(w) for w in cuts) + "|[" + re.escape(QUESTION_PUNCT) + "]"
    return [p for p in re.split(pattern, text) if len(p) >= 2]


def longest_shared(phrases: list[str], text: str, topic: str = "") -> int:
    """Length of the longest stretch of the question that ``text`` repeats verbatim and ``topic``
    (the title the text sits under) does not: a rule repeating the question's predicate
    (可以不予公开, 决策草案提交) outscores a text that only shares its nouns or its law's name."""
    flat = "".join(unicodedata.normalize("NFKC", text).split())
    topic = "".join(unicodedata.normalize("NFKC", topic).split())
    best = 0
    for p in phrases:
        for size in range(len(p), best, -1):
            if any((w := p[i:i + size]) in flat and w not in topic for i in range(len(p) - size + 1)):
                best = size
                break
    return best


@cache
def _level_ranks() -> dict[str, int]:
    return {level: int(rank) for level, rank in answer_rules()["level"]}


def level_rank(hit: Hit) -> int:
    """Where the hit's text stands among normative texts (0 = 法律); NOT_NORMATIVE for the rest."""
    return rank_of(hit.level, hit.doc_type, hit.title)


@lru_cache(maxsize=4096)
def rank_of(level: str, doc_type: str, title: str) -> int:
    """``level_rank`` of a document's columns. An index built before levels were read knows only
    the doc type: the level follows from it."""
    if level == "none" and doc_type != "none":
        from ingest.validity import level_of
        level = level_of(doc_type, "", title)
    return _level_ranks().get(level, NOT_NORMATIVE)
