"""Questions answered from the retrieved passages, every quotation with its source marker.

Extractive by default: the answer quotes a few units (kb/sentences.py) verbatim from the top hits,
picked by semantic similarity plus term overlap with the question. Nothing relevant
enough → ``found: false`` and 未找到相关依据。 — never an invented answer. When an
OpenAI-compatible endpoint is configured the numbered passages go to it instead, and
any failure falls back to the extractive answer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from kb.records import Hit
from kb.sentences import Unit, units

if TYPE_CHECKING:
    import httpx

    from kb.settings import Settings

NOT_FOUND = "未找到相关依据。"
LEX_WEIGHT = 0.1  # term overlap (0..1) against cosine similarity, whose useful range is ~0.1 wide
LIST_BONUS = 0.03  # an enumerating sentence, when the question asks 哪些
TIME_BONUS = 0.03  # a sentence stating a duration, when the question asks 多久 or about a 期限
# Nouns that make a question ask for a duration even without 多久 (时效是…, 作出期限).
TIME_NOUNS = ("期限", "时限", "时效", "期间", "期满")
# A number (Arabic, full-width or Chinese) followed by a unit of time: 十五日, ２４小时, 12个月, 二年.
TIME_EXPR = re.compile(r"[0-9０-９零〇一二两三四五六七八九十百]+\s*(?:个)?(?:工作日|小时|日|天|个月|月|年)")
MIN_LEX = 0.3  # share of the question's content terms a sentence must contain to count
# Cosine floor per embedder: e5 scores even unrelated Chinese text ~0.80, related ~0.88+.
# Embedders not listed (fake, other st: models) rely on term overlap alone.
SEM_FLOOR = {"e5-small": 0.85}
ANSWER_CHARS = 600  # no further unit once the answer quotes this much
KEEP_MARGIN = 0.05  # later sentences must score within this of the best one
DUP_JACCARD = 0.6  # character-bigram overlap above which two sentences say the same thing


@lru_cache(maxsize=1)
def question_words() -> dict[str, str]:
    """word → kind (ask | list) from data/question_words.tsv."""
    text = resources.files("kb").joinpath("data/question_words.tsv").read_text(encoding="utf-8")
    table = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#")[0].strip()
        if not line:
            continue
        word, _, kind = line.partition("\t")
        if kind.strip() not in ("ask", "list", "time"):
            raise ValueError(f"kb/data/question_words.tsv line {n}: kind must be ask, list or time, got {kind!r}")
        table[word.strip()] = kind.strip()
    return table


def wants_list(question: str) -> bool:
    """哪些/哪几… questions ask for several items."""
    return any(kind == "list" and word in question for word, kind in question_words().items())


def wants_time(question: str) -> bool:
    """多久/多长时间/…期限 questions ask for a duration or deadline."""
    return any(n in question for n in TIME_NOUNS) or any(
        kind == "time" and word in question for word, kind in question_words().items())


def is_enumeration(sentence: str) -> bool:
    return sentence.count("、") >= 2  # three or more items: A、B、C


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


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _near_duplicate(a: str, b: str) -> bool:
    x, y = _bigrams(a), _bigrams(b)
    return bool(x and y) and len(x & y) / len(x | y) >= DUP_JACCARD


def _embedder_name(embedder) -> str:
    return str(getattr(embedder, "name", "") or "").split(":")[0]


def extract(question: str, hits: list[Hit], embedder, *, max_sentences: int = 4) -> dict:
    """The extractive answer: best units of ``hits`` (sentences, or list items with their
    lead-in), each quoted verbatim and cited [n] against ``citations``."""
    import numpy as np

    terms = content_terms(question)
    listing = wants_list(question)
    # Relevance may come from the title and section path a unit sits under (第十条 under
    # 公众参与); the lexical gate runs first so only plausible units are embedded.
    cands = [(rank, u) for rank, h in enumerate(hits) for u in units(h.text)
             if (listing or u.kind != "list")
             and term_overlap(terms, f"{u.text(h.text)} {h.title} {' '.join(h.section)}") >= MIN_LEX]
    if not cands or not terms:
        return {"answer": NOT_FOUND, "found": False, "citations": [], "mode": "extractive"}
    texts = [u.text(hits[r].text) for r, u in cands]
    qv = np.asarray(embedder.embed_batch([question], "query"), dtype=np.float32)[0]
    sem = np.asarray(embedder.embed_batch(texts, "passage"), dtype=np.float32) @ qv
    floor = SEM_FLOOR.get(_embedder_name(embedder))
    timing = wants_time(question)
    scored = []
    for i, (rank, u) in enumerate(cands):
        if floor is not None and sem[i] < floor:
            continue
        # among relevant units, those saying it themselves rank higher
        own = "".join(hits[rank].text[s:e] for s, e in u.body)
        score = float(sem[i]) + LEX_WEIGHT * term_overlap(terms, own) - 0.002 * rank
        if listing and (u.kind == "list" or is_enumeration(own)):
            score += LIST_BONUS
        if timing and TIME_EXPR.search(own):
            score += TIME_BONUS
        scored.append((score, rank, u, own))
    if not scored:
        return {"answer": NOT_FOUND, "found": False, "citations": [], "mode": "extractive"}
    scored.sort(key=lambda x: -x[0])
    best = scored[0][0]
    picked: list[tuple[int, Unit, str]] = []
    quoted: set[tuple[int, tuple[int, int]]] = set()
    used = 0
    # a 哪些 question answered by one item of a short list gets the whole list
    lists = {(rank, u.spans[0]): u for rank, u in cands if u.kind == "list"}
    for score, rank, u, own in scored:
        if len(picked) == max_sentences or score < best - KEEP_MARGIN or used >= ANSWER_CHARS:
            break
        if u.kind == "item" and (rank, u.spans[0]) in lists:
            u = lists[(rank, u.spans[0])]
            own = "".join(hits[rank].text[s:e] for s, e in u.body)
        if all((rank, sp) in quoted for sp in u.body) or any(_near_duplicate(own, o) for _, _, o in picked):
            continue
        picked.append((rank, u, own))
        used += sum(e - s for s, e in u.spans if (rank, (s, e)) not in quoted)
        quoted.update((rank, sp) for sp in u.spans)
    # cite hits in the order they first contribute; read the quoted spans in source order
    numbers: dict[int, int] = {}
    for rank, _, _ in picked:
        numbers.setdefault(rank, len(numbers) + 1)
    spans: list[tuple[int, int, int]] = []
    for r, (s, e) in sorted(quoted, key=lambda q: (numbers[q[0]], q[1])):
        # neighbouring spans (only whitespace between) read as one quotation with one marker
        if spans and spans[-1][0] == r and not hits[r].text[spans[-1][2]:s].strip():
            spans[-1] = (r, spans[-1][1], max(e, spans[-1][2]))
        else:
            spans.append((r, s, e))
    answer = "".join(f"{hits[r].text[s:e]}[{numbers[r]}]" for r, s, e in spans)
    citations = []
    for rank in sorted(numbers, key=numbers.get):
        # highlights mark the quoted spans, so the reader sees exactly what was used
        marks = [[s, e] for r, s, e in spans if r == rank]
        citations.append(replace(hits[rank], highlights=marks).to_dict())
    return {"answer": answer, "found": True, "citations": citations, "mode": "extractive"}


def answer(question: str, hits: list[Hit], embedder, *, max_sentences: int = 6,
           settings: Settings | None = None, client: httpx.Client | None = None) -> dict:
    """Answer ``question`` from ``hits``: {answer, found, citations: [hit dict], mode[, note]}.

    Generative when ``settings.llm_base_url`` and ``settings.llm_model`` are set (``client``
    lets tests inject a transport); the extractive gate runs first either way, so an
    off-topic question never reaches the model.
    """
    from kb.llm import generate

    question = question.strip()
    result = extract(question, hits, embedder, max_sentences=max_sentences)
    if not result["found"] or settings is None or not (settings.llm_base_url and settings.llm_model):
        return result
    try:
        return generate(question, hits, settings, client=client)
    except Exception as exc:  # any endpoint failure: the officials still get a sourced answer
        reason = type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"
        note = f"生成式回答不可用（{reason[:200]}），已改用摘录式回答。"
        return {**result, "mode": "extractive_fallback", "note": note}
