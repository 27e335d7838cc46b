"""Questions answered from the retrieved passages, every sentence with its source marker.

Extractive by default: the answer is a few sentences quoted verbatim from the top hits,
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

if TYPE_CHECKING:
    import httpx

    from kb.settings import Settings

NOT_FOUND = "未找到相关依据。"
SENTENCE_END = "。！？；!?;"
CLOSERS = "”’」』）)】"  # kept with the sentence they close
MIN_SENTENCE_CHARS = 8  # shorter pieces are headings or list stubs, not answers
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
KEEP_MARGIN = 0.05  # later sentences must score within this of the best one
DUP_JACCARD = 0.6  # character-bigram overlap above which two sentences say the same thing
MARKER = re.compile(r"\[(\d+(?:\s*[,，、]\s*\d+)*)\]")


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


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``: ends at 。！？； or a line break,
    surrounding whitespace excluded, so ``text[s:e]`` is an exact quotation."""
    spans, start, i, n = [], 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch in SENTENCE_END or ch == "\n":
            end = i + 1 if ch != "\n" else i
            while ch != "\n" and end < n and text[end] in CLOSERS:
                end += 1
            spans.append((start, end))
            start = i = max(end, i + 1)
            continue
        i += 1
    spans.append((start, n))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e - s >= MIN_SENTENCE_CHARS and not text[s] == "#":
            out.append((s, e))
    return out


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _near_duplicate(a: str, b: str) -> bool:
    x, y = _bigrams(a), _bigrams(b)
    return bool(x and y) and len(x & y) / len(x | y) >= DUP_JACCARD


def _embedder_name(embedder) -> str:
    return str(getattr(embedder, "name", "") or "").split(":")[0]


def extract(question: str, hits: list[Hit], embedder, *, max_sentences: int = 4) -> dict:
    """The extractive answer: best sentences of ``hits``, cited [n] against ``citations``."""
    import numpy as np

    terms = content_terms(question)
    # a lead-in ending in ： (…包括：) says nothing by itself; its list items follow as sentences.
    # Relevance may come from the title and section path a sentence sits under (第十条 under
    # 公众参与); the lexical gate runs first so only plausible sentences are embedded.
    cands = [(rank, s, e) for rank, h in enumerate(hits) for s, e in split_sentences(h.text)
             if h.text[e - 1] not in "：:"
             and term_overlap(terms, f"{h.text[s:e]} {h.title} {' '.join(h.section)}") >= MIN_LEX]
    if not cands or not terms:
        return {"answer": NOT_FOUND, "found": False, "citations": [], "mode": "extractive"}
    texts = [hits[r].text[s:e] for r, s, e in cands]
    qv = np.asarray(embedder.embed_batch([question], "query"), dtype=np.float32)[0]
    sem = np.asarray(embedder.embed_batch(texts, "passage"), dtype=np.float32) @ qv
    floor = SEM_FLOOR.get(_embedder_name(embedder))
    listing = wants_list(question)
    timing = wants_time(question)
    scored = []
    for i, (rank, s, e) in enumerate(cands):
        if floor is not None and sem[i] < floor:
            continue
        # among relevant sentences, those saying it themselves rank higher
        score = float(sem[i]) + LEX_WEIGHT * term_overlap(terms, texts[i]) - 0.002 * rank
        if listing and is_enumeration(texts[i]):
            score += LIST_BONUS
        if timing and TIME_EXPR.search(texts[i]):
            score += TIME_BONUS
        scored.append((score, rank, s, e))
    if not scored:
        return {"answer": NOT_FOUND, "found": False, "citations": [], "mode": "extractive"}
    scored.sort(key=lambda x: -x[0])
    best = scored[0][0]
    picked: list[tuple[int, int, int]] = []
    for score, rank, s, e in scored:
        if len(picked) == max_sentences or score < best - KEEP_MARGIN:
            break
        text = hits[rank].text[s:e]
        if any(_near_duplicate(text, hits[r].text[a:b]) for r, a, b in picked):
            continue
        picked.append((rank, s, e))
    # cite hits in the order they first contribute; read sentences in source order
    numbers: dict[int, int] = {}
    for rank, _, _ in picked:
        numbers.setdefault(rank, len(numbers) + 1)
    picked.sort(key=lambda p: (numbers[p[0]], p[1]))
    answer = "".join(f"{hits[r].text[s:e]}[{numbers[r]}]" for r, s, e in picked)
    citations = []
    for rank in sorted(numbers, key=numbers.get):
        spans = [[s, e] for r, s, e in picked if r == rank]
        # highlights mark the quoted sentences, so the reader sees exactly what was used
        citations.append(replace(hits[rank], highlights=spans).to_dict())
    return {"answer": answer, "found": True, "citations": citations, "mode": "extractive"}


def answer(question: str, hits: list[Hit], embedder, *, max_sentences: int = 6,
           settings: Settings | None = None, client: httpx.Client | None = None) -> dict:
    """Answer ``question`` from ``hits``: {answer, found, citations: [hit dict], mode[, note]}.

    Generative when ``settings.llm_base_url`` and ``settings.llm_model`` are set (``client``
    lets tests inject a transport); the extractive gate runs first either way, so an
    off-topic question never reaches the model.
    """
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


def _prompt(question: str, hits: list[Hit]) -> list[dict]:
    passages = "\n\n".join(
        f"[{n}] 《{h.title}》{' → '.join(h.section)}\n{h.text}" for n, h in enumerate(hits, 1)
    )
    system = (
        "你是法治政府文件助手。只能依据用户给出的编号材料回答，用中文作答，"
        "每句话末尾用方括号编号（如[1]）标明所依据的材料；材料中没有依据时只回答“未找到相关依据。”，不得编造。"
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"材料：\n{passages}\n\n问题：{question}"},
    ]


def generate(question: str, hits: list[Hit], settings: Settings, *, client: httpx.Client | None = None) -> dict:
    """Ask the configured chat-completions endpoint; raise on any failure or uncited answer."""
    import httpx

    url = settings.llm_base_url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
    body = {"model": settings.llm_model, "messages": _prompt(question, hits), "temperature": 0}
    own = client is None
    client = client or httpx.Client()
    try:
        resp = client.post(url, json=body, headers=headers, timeout=settings.llm_timeout)
        resp.raise_for_status()
        text = resp.json()["choices"][0]["message"]["content"]
    finally:
        if own:
            client.close()
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty answer")
    if NOT_FOUND.rstrip("。") in text:
        return {"answer": NOT_FOUND, "found": False, "citations": [], "mode": "generative"}
    text, cited = renumber(text.strip(), len(hits))
    if not cited:
        raise ValueError("answer cites no passage")
    citations = [hits[n - 1].to_dict() for n in cited]
    return {"answer": text, "found": True, "citations": citations, "mode": "generative"}


def renumber(text: str, available: int) -> tuple[str, list[int]]:
    """Drop markers pointing at no passage; renumber the rest 1.. in order of first use.
    Returns the rewritten text and the original passage numbers, in new order."""
    order: list[int] = []

    def sub(m: re.Match) -> str:
        nums = [int(x) for x in re.split(r"\s*[,，、]\s*", m.group(1))]
        kept = []
        for n in nums:
            if 1 <= n <= available:
                if n not in order:
                    order.append(n)
                kept.append(order.index(n) + 1)
        return "".join(f"[{k}]" for k in dict.fromkeys(kept))

    return MARKER.sub(sub, text), order
