"""The corpus's own formulations, a bridge for questions asked in other words.

Laws, reports and speeches put their set phrases in quotation marks (“新官不理旧账”, “谁执法谁普法”,
“一网通办”). An official who asks in everyday words (办事能不能只在网上一个地方办完) uses
words that no text holds (办完), so BM25 has nothing to match and keyword feedback nothing to start from.
Search then lends the keyword query the words of the quoted phrase nearest the question in meaning
(``SearchConfig.bridge_phrases``). Phrases are mined from the stored chunks and embedded as passages;
their vectors sit in the embedding cache, so they are embedded once (at ingest, kb/core.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from kb.answer_rules import question_words
from kb.embed import Embedder
from kb.store import Store
from kb.tokenize import tokenize

# A quoted phrase: Chinese double quotes, or straight ones (Markdown and HTML sources), 3–16
# characters with no quote inside. Longer quotations are sentences, not set phrases.
QUOTED = re.compile(r"“([^“”\"\n]{3,16})”|\"([^“”\"\n]{3,16})\"")
HAN = re.compile(r"[\u4e00-\u9fff]")


def phrases_of(text: str) -> list[str]:
    """The quoted phrases of one text that hold a Chinese character, in order."""
    out = []
    for m in QUOTED.finditer(text):
        phrase = (m.group(1) or m.group(2)).strip()
        if len(phrase) >= 3 and HAN.search(phrase):
            out.append(phrase)
    return out


def mine(texts: Iterable[tuple[str, str]], min_docs: int = 1) -> list[str]:
    """The distinct quoted phrases of (doc_id, text) pairs that at least ``min_docs`` documents use,
    in order of first appearance."""
    docs: dict[str, set[str]] = {}
    for doc_id, text in texts:
        for phrase in phrases_of(text):
            docs.setdefault(phrase, set()).add(doc_id)
    return [p for p, ds in docs.items() if len(ds) >= min_docs]


def unknown_words(terms: list[str], doc_freqs: dict[str, int], skip: Iterable[str] = ()) -> list[str]:
    """Chinese query words of two or more characters that no chunk holds: the sign of a question asked
    in other words than the texts'. Numbers (2023) are not words, and a word that holds or lies within
    one of ``skip`` does not count: question words (哪些, 多久; 哪几种 holds 哪几) say how one asks, and
    the places, kinds and cues the query plan read (上海, 条例, 对比) say where and what kind."""
    left_out = [w for w in skip if w]
    return [t for t in dict.fromkeys(terms) if len(t) >= 2 and HAN.search(t) and doc_freqs.get(t, 0) == 0
            and not any(w in t or t in w for w in left_out)]


def bridged_phrases(terms: list[str], doc_freqs: Callable[[list[str]], dict[str, int]],
                    nearest: Callable[[], list[str]], plan_words: Iterable[str] = ()) -> list[str]:
    """The nearest phrases (``nearest()``) when the query's words include one that no chunk holds
    (``plan_words``: the places, kinds and cues the query plan read); none otherwise: a question in
    the texts' own words needs no bridge."""
    skip = [*question_words(), *plan_words]
    return nearest() if unknown_words(terms, doc_freqs(terms), skip) else []


def phrase_words(phrases: list[str], have: list[str]) -> list[str]:
    """The phrases' BM25 words that are not among ``have`` (the query's), each once."""
    seen = set(have)
    return [t for phrase in phrases for t in dict.fromkeys(tokenize(phrase)) if t not in seen]


@dataclass(frozen=True)
class Formulations:
    texts: list[str]
    vectors: np.ndarray  # (len(texts), dim) unit passage vectors

    def nearest(self, query_vector: np.ndarray, m: int) -> list[str]:
        """The ``m`` phrases nearest the query vector (cosine), best first."""
        if m < 1 or not self.texts:
            return []
        sims = self.vectors @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
        top = np.argsort(-sims, kind="stable")[:m]
        return [self.texts[int(i)] for i in top]


def load(store: Store, embedder: Embedder, min_docs: int = 1) -> Formulations:
    """Every stored chunk's phrases with their vectors (cached ones looked up, missing ones embedded
    and cached)."""
    from kb.indexer import passage_vectors
    texts = mine((pair for page in store.chunk_texts() for pair in page), min_docs)
    return Formulations(texts, passage_vectors(store, embedder, texts))
