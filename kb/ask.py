"""Questions answered from the retrieved passages, every quotation with its source marker.

Extractive by default: the answer quotes a few units (kb/sentences.py) verbatim from the hits,
ranked by semantic similarity, term overlap and the longest stretch of the question a unit
repeats, plus what the question asks for (kb/answer_rules.py): a 哪些 question gets the whole
enumeration, a 多久 question a sentence stating a duration, a 什么是 question the sentence
defining the term (searched for besides the question). A question about what the rules require
leads with the normative text of the highest level (法律 > 行政法规 > 地方性法规, 规章, 司法解释 >
规范性文件) and adds at most two supporting quotes. Nothing relevant enough → ``found: false``
and 未找到相关依据。 — never an invented answer. When an OpenAI-compatible endpoint is
configured the numbered passages go to it instead, and any failure falls back to the
extractive answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from kb.answer_rules import (
    NOT_NORMATIVE,
    TIME_EXPR,
    Intent,
    asked_nouns,
    content_terms,
    defines,
    extra_queries,
    intent,
    level_rank,
    longest_shared,
    question_phrases,
    term_overlap,
    weighted_overlap,
)
from kb.records import AskResult, Hit
from kb.sentences import Unit, is_item, units

if TYPE_CHECKING:
    import httpx

    from kb.settings import Settings

NOT_FOUND = "未找到相关依据。"
LEX_WEIGHT = 0.1  # term overlap (0..1) against cosine similarity, whose useful range is ~0.1 wide
PHRASE_FREE = 4  # this much of the question repeated is a shared noun (政府信息), not yet its predicate
PHRASE_STEP = 0.015  # per character of the question a unit repeats verbatim beyond PHRASE_FREE …
PHRASE_CAP = 0.06  # … up to this
LIST_BONUS = 0.03  # an enumeration (A、B、C), when the question asks 哪些
# a numbered list ((一)…(二)…) for a 哪些 question whose lead-in names what the question asks the
# items of (哪些内容 → 合法性审查的内容包括：; not 应当报送下列材料：)
ITEMS_BONUS = 0.05
TIME_BONUS = 0.03  # a sentence stating a duration, when the question asks 多久 or about a 期限
DEFINE_BONUS = 0.1  # the sentence defining the term a 什么是 question asks about
RANK_STEP = 0.002  # per rank of the hit a unit comes from
MIN_LEX = 0.3  # share of the question's content terms a unit must contain to count
# Cosine floor per embedder: e5 scores even unrelated Chinese text ~0.80, related ~0.88+.
# Embedders not listed (fake, other st: models) rely on term overlap alone. e5-small-fazhi keeps
# e5's scale (held-out pairs: own passage 0.906 vs 0.908 mean, other passages 0.827 vs 0.832).
SEM_FLOOR = {"e5-small": 0.85, "e5-small-fazhi": 0.85}
KEEP_MARGIN = 0.05  # quoted units score within this of the best one
RULE_MARGIN = 0.02  # a text of a higher level leads over a better-scored normative unit within this
MAX_QUOTES = 3  # the rule and at most two supporting quotes
ANSWER_CHARS = 800  # no supporting quote once the answer quotes this much (the leading one is whole)
LIST_SCORE_CHARS = 600  # a longer list is scored item by item …
LIST_QUOTE_CHARS = 1500  # … and quoted whole up to this length when a 哪些 question picks an item
DUP_JACCARD = 0.6  # character-bigram overlap above which two units say the same thing
MAX_EMBED = 10  # candidates embedded (those scoring best on their text): a cold question embeds at most this many
EXTRA_K = 3  # hits kept from each extra search (the definition of a 什么是 term)
PENALISED = frozenset({"repealed", "expired"})

Vectors = Callable[[list[str]], np.ndarray]


@dataclass
class Cand:
    score: float
    rank: int  # of the hit
    unit: Unit
    own: str  # the unit's statement (an item without its lead-in)
    level: int  # level_rank of the hit's text
    defining: bool
    in_force: bool


def gather(question: str, search: Callable[[str, int], list[Hit]], k: int) -> list[Hit]:
    """The hits an answer is drawn from: the question's own, then those of the extra searches
    (answer_rules.extra_queries) that add a passage not already among them."""
    hits = list(search(question, k))
    for query in extra_queries(question):
        for h in search(query, EXTRA_K):
            if not any(o.doc_id == h.doc_id and o.start < h.end and h.start < o.end for o in hits):
                hits.append(h)
    return hits


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _near_duplicate(a: str, b: str) -> bool:
    x, y = _bigrams(a), _bigrams(b)
    return bool(x and y) and len(x & y) / len(x | y) >= DUP_JACCARD


def _embedder_name(embedder) -> str:
    return str(getattr(embedder, "name", "") or "").split(":")[0]


def is_enumeration(sentence: str) -> bool:
    return sentence.count("、") >= 2  # three or more items: A、B、C


def _items(text: str, u: Unit) -> int:
    """How many numbered list items a unit quotes (a short article quoting its whole list)."""
    return sum(1 for s, e in u.spans if is_item(text[s:e])) if u.kind == "article" else 0


def _lead_in(text: str, u: Unit) -> str:
    """The text before a unit's first numbered item (a list's lead-in)."""
    first = next((s for s, e in u.spans if is_item(text[s:e])), u.spans[-1][1])
    return text[u.spans[0][0]:first]


def _own(hit: Hit, u: Unit) -> str:
    return "".join(hit.text[s:e] for s, e in u.body)


def _text_scores(question: str, it: Intent, hits: list[Hit], cands: list[tuple[int, Unit]]) -> list[Cand]:
    """Each candidate scored on its text alone (the similarity is added once embedded)."""
    terms, phrases = content_terms(question), question_phrases(question)
    nouns = asked_nouns(question) if it.listing else set()
    # among relevant units, those saying it themselves rank higher; an article speaks under its
    # title (本条例), not under its section headings
    lex = weighted_overlap(terms, [f"{_own(hits[r], u)} {hits[r].title}" for r, u in cands])
    out = []
    for i, (rank, u) in enumerate(cands):
        h = hits[rank]
        own, full = _own(h, u), u.text(h.text)
        score = LEX_WEIGHT * lex[i] - RANK_STEP * rank
        score += min(PHRASE_CAP, PHRASE_STEP * max(0, longest_shared(phrases, full) - PHRASE_FREE))
        if it.listing and (u.kind == "list" or _items(h.text, u) >= 2):
            if not nouns or any(n in _lead_in(h.text, u) for n in nouns):
                score += ITEMS_BONUS
        elif it.listing and is_enumeration(own):
            score += LIST_BONUS
        if it.timing and TIME_EXPR.search(own):
            score += TIME_BONUS
        defining = defines(full, it.term)
        if defining:
            score += DEFINE_BONUS
        out.append(Cand(score, rank, u, own, level_rank(h), defining, h.status not in PENALISED))
    return out


def _lead(pool: list[Cand], it: Intent) -> Cand:
    """The quote an answer opens with: for a rule question the defining sentence of the term, or
    else the normative text of the highest level among those scoring within RULE_MARGIN of the
    best normative one; texts in force before repealed or expired ones."""
    if not it.rule:
        return pool[0]
    in_force = [c for c in pool if c.in_force] or pool
    rules = [c for c in in_force if c.defining] if it.term else []
    rules = rules or [c for c in in_force if c.level < NOT_NORMATIVE]
    if not rules:
        return in_force[0]
    top = rules[0].score
    return min((c for c in rules if c.score >= top - RULE_MARGIN), key=lambda c: (c.level, -c.score))


def extract(question: str, hits: list[Hit], embedder, *, max_sentences: int = MAX_QUOTES,
            vectors: Vectors | None = None, query_vector: np.ndarray | None = None) -> AskResult:
    """The extractive answer: the best units of ``hits`` quoted verbatim and cited [n] against
    ``citations``. ``vectors`` embeds passages (KnowledgeBase passes its cached lookup);
    ``query_vector`` is the question's, when already embedded."""
    it = intent(question)
    terms = content_terms(question)
    # whole lists, by (hit, lead-in span): a 哪些 question answered by one item gets its list
    lists: dict[tuple[int, tuple[int, int]], Unit] = {}
    cands: list[tuple[int, Unit]] = []
    for rank, h in enumerate(hits):
        heading = f"{h.title} {' '.join(h.section)}"
        for u in units(h.text):
            if u.kind == "list":
                lists[(rank, u.spans[0])] = u
                if not it.listing or u.spans[-1][1] - u.spans[0][0] > LIST_SCORE_CHARS:
                    continue
            # relevance may come from the title and section path a unit sits under (第十条 under
            # 公众参与); the lexical gate runs first so only plausible units are embedded
            if term_overlap(terms, f"{u.text(h.text)} {heading}") >= MIN_LEX:
                cands.append((rank, u))
    if not cands or not terms:
        return AskResult(NOT_FOUND, False)
    # only the units whose text scores best are embedded: a unit first seen costs an embedding
    scored = sorted(_text_scores(question, it, hits, cands), key=lambda c: -c.score)[:MAX_EMBED]
    texts = [c.unit.text(hits[c.rank].text) for c in scored]
    if query_vector is None:
        query_vector = embedder.embed_batch([question], "query")[0]
    pv = vectors(texts) if vectors is not None else embedder.embed_batch(texts, "passage")
    sem = np.asarray(pv, dtype=np.float32) @ np.asarray(query_vector, dtype=np.float32)
    floor = SEM_FLOOR.get(_embedder_name(embedder))
    for c, v in zip(scored, sem, strict=True):
        c.score += float(v)
    scored = sorted((c for c, v in zip(scored, sem, strict=True) if floor is None or v >= floor),
                    key=lambda c: -c.score)
    if not scored:
        return AskResult(NOT_FOUND, False)
    pool = [c for c in scored if c.score >= scored[0].score - KEEP_MARGIN]
    lead = _lead(pool, it)
    # a definition is answered by definitions (the same term in other texts), nothing around them;
    # a text in force is not followed by a repealed or expired one
    rest = [c for c in pool if c is not lead and (c.defining or not lead.defining)
            and (c.in_force or not lead.in_force)]
    picked: list[tuple[int, Unit, str, tuple[bool, int]]] = []
    quoted: set[tuple[int, tuple[int, int]]] = set()
    used = 0
    for c in [lead, *rest]:
        if len(picked) == max_sentences or (picked and used >= ANSWER_CHARS):
            break
        rank, u, own = c.rank, c.unit, c.own
        whole = lists.get((rank, u.spans[0])) if it.listing and u.kind == "item" else None
        # the leading item brings its whole list; a supporting one only while the answer stays short
        room = LIST_QUOTE_CHARS if not picked else ANSWER_CHARS - used
        if whole is not None and whole.spans[-1][1] - whole.spans[0][0] <= room:
            u, own = whole, _own(hits[rank], whole)
        if all((rank, sp) in quoted for sp in u.body) or any(_near_duplicate(own, p[2]) for p in picked):
            continue
        picked.append((rank, u, own, (not c.in_force, c.level)))
        used += sum(e - s for s, e in u.spans if (rank, (s, e)) not in quoted)
        quoted.update((rank, sp) for sp in u.spans)
    if it.rule:  # texts in force by level, normative ones first (the sort keeps score order within a level)
        picked.sort(key=lambda p: p[3])
    return _render(hits, picked)


def _render(hits: list[Hit], picked: list[tuple]) -> AskResult:
    """The answer text: the quotes in the order picked (the rule first), each span once, a quote's
    spans in source order; spans of one hit with only whitespace between read as one quotation.
    Hits are cited in the order they first contribute."""
    numbers: dict[int, int] = {}
    for rank, *_ in picked:
        numbers.setdefault(rank, len(numbers) + 1)
    spans: list[tuple[int, int, int]] = []
    seen: set[tuple[int, int, int]] = set()
    for rank, u, *_ in picked:
        for s, e in u.spans:
            if (rank, s, e) in seen:
                continue
            seen.add((rank, s, e))
            if spans and spans[-1][0] == rank and spans[-1][2] <= s and not hits[rank].text[spans[-1][2]:s].strip():
                spans[-1] = (rank, spans[-1][1], e)
            else:
                spans.append((rank, s, e))
    answer = "".join(f"{hits[r].text[s:e]}[{numbers[r]}]" for r, s, e in spans)
    citations = []
    for rank in sorted(numbers, key=lambda r: numbers[r]):
        # highlights mark the quoted spans, so the reader sees exactly what was used
        marks = sorted([s, e] for r, s, e in spans if r == rank)
        citations.append(replace(hits[rank], highlights=marks))
    return AskResult(answer, True, citations)


def answer(question: str, hits: list[Hit], embedder, *, max_sentences: int = MAX_QUOTES,
           settings: Settings | None = None, client: httpx.Client | None = None,
           vectors: Vectors | None = None, query_vector: np.ndarray | None = None) -> AskResult:
    """Answer ``question`` from ``hits``, each [n] marker pointing into ``citations``.

    Generative when ``settings.llm_base_url`` and ``settings.llm_model`` are set (``client``
    lets tests inject a transport); the extractive gate runs first either way, so an
    off-topic question never reaches the model.
    """
    from kb.llm import generate

    question = question.strip()
    result = extract(question, hits, embedder, max_sentences=max_sentences, vectors=vectors,
                     query_vector=query_vector)
    if not result.found or settings is None or not (settings.llm_base_url and settings.llm_model):
        return result
    try:
        return generate(question, hits, settings, client=client)
    except Exception as exc:  # any endpoint failure: the officials still get a sourced answer
        reason = type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"
        note = f"生成式回答不可用（{reason[:200]}），已改用摘录式回答。"
        return replace(result, mode="extractive_fallback", note=note)


def name_quoted(out: AskResult, passage: Callable[[str, int, int], dict]) -> AskResult:
    """Cite what is quoted (第二十五条), not the whole window shown around it (第二十五条至第二十九条),
    and warn when every text quoted is repealed or expired. ``passage``: KnowledgeBase.passage."""
    for c in out.citations:
        if c.highlights:
            lo, hi = c.highlights[0][0], max(e for _, e in c.highlights)
            c.citation = passage(c.doc_id, c.start + lo, c.start + hi)["citation"]
    cited = {c.doc_id: c.status for c in out.citations}
    if cited and all(s in ("repealed", "expired") for s in cited.values()):
        out.note = "所引依据均已废止或失效，仅供参考 (every text quoted is repealed or expired)"
        out.answer = "【注意：以下依据均已废止或失效】" + out.answer
    return out
