"""The search pipeline: filters → dense + lexical runs → fusion → per-document cap →
near-duplicate collapsing → Hits with highlights and citations."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kb.answer_rules import defined_term
from kb.cite import LEGAL_TYPES, citation, span_citation
from kb.compare import province_of
from kb.dedup import collapse as collapse_groups
from kb.errors import InvalidInput
from kb.feedback import feedback_terms
from kb.formulations import bridged_phrases, phrase_words
from kb.fuse import get_fusion
from kb.highlight import highlight_spans
from kb.indexer import Snapshot
from kb.query import ParsedQuery, parse_query
from kb.query_plan import QueryPlan, plan, priors
from kb.records import Hit, SearchFilters
from kb.search_config import SearchConfig
from kb.store import Store
from kb.tokenize import tokenize
from kb.validity import ValidityView
from kb.window import neighbours, section_path, widen

MODES = ("hybrid", "dense", "lexical")


def search(store: Store, snap: Snapshot, embed_query: Callable[[str], np.ndarray], query: str, *, k: int = 10,
           mode: str = "hybrid", filters: SearchFilters | None = None, collapse: bool = True,
           per_doc: int | None = None, config: SearchConfig | None = None,
           validity: ValidityView | None = None, all_versions: bool = False,
           window: int | None = None, query_plan: QueryPlan | None = None, feedback: bool = True,
           bridge: Callable[[np.ndarray, int], list[str]] | None = None) -> list[Hit]:
    """``validity``: statuses on the date asked about; without ``all_versions`` only the version of
    each text in force is shown, the others ride on its hit as ``versions``. ``window``: widen hits up
    to this many characters (default: the config's; 0 = the matched chunk alone, as the comparison
    matrix quotes one provision a cell). ``per_doc``: at most this many passages of one document;
    by default the intent's number, and a page still short once every document is shown fills
    with their further passages. ``feedback``: let the best first hits' words widen the keyword
    query (as configured); a caller that asks for one narrow aspect (a matrix cell) turns it off.
    ``bridge``: (query vector, m) → the corpus's m quoted phrases nearest it (kb/formulations.py),
    whose words join the keyword query when the query holds words no chunk does."""
    cfg = config or SearchConfig()
    if mode not in MODES:
        raise InvalidInput(f"mode '{mode}' is not one of: {', '.join(MODES)}")
    if not query or not query.strip():
        raise InvalidInput("query is empty")
    try:
        query.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidInput("query is not valid text (lone surrogate characters)") from e
    if k < 1:
        raise InvalidInput("k must be at least 1")
    pq = parse_query(query)
    terms = query_terms(pq)
    expansion_terms = tokenize(" ".join(pq.expansions)) if pq.expansions else []
    if not terms and not pq.phrases:
        return []  # only punctuation or function words: nothing to look for
    qp = query_plan or plan(query, validity.as_of if validity is not None else None)
    fill = per_doc is None  # a cap the caller sets holds (kb.compare: each document's best passage)
    if per_doc is None:
        per_doc = (cfg.compare_per_doc if qp.intent == "compare" else
                   cfg.material_per_doc or cfg.default_per_doc if qp.intent == "material" else cfg.default_per_doc)

    allowed = store.filtered_chunk_ids(filters, pq.phrases)
    if allowed is not None and len(allowed) == 0:
        return []
    n = max(cfg.candidates, k * 5)
    # a definition (什么是X) is found by its words (本条例所称X，是指): it keeps the plain weights
    leans = qp.intent == "requirement" and not defined_term(query)
    fusion_weights = cfg.requirement_weights if leans else cfg.weights
    runs: list[list[tuple[int, float]]] = []
    weights: list[float] = []
    vector = None
    if mode in ("hybrid", "dense") and (snap.remote or len(snap.chunk_ids)):
        vector = embed_query(dense_text(pq))
        ids, scores = snap.vectors.search(vector, n, allowed)
        runs.append(_run(ids, scores))
        weights.append(fusion_weights[0])
    if bridge is not None and vector is not None and bridges(mode, cfg, qp):
        phrases = bridged_phrases(terms, snap.keywords.doc_freqs, lambda: bridge(vector, cfg.bridge_phrases),
                                  qp.words())
        expansion_terms = expansion_terms + phrase_words(phrases, terms + expansion_terms)
    if mode in ("hybrid", "lexical") and (snap.remote or len(snap.chunk_ids)):
        ids, scores = snap.keywords.search(terms + expansion_terms, n, allowed)
        runs.append(_run(ids, scores))
        weights.append(fusion_weights[1])
    fuse = get_fusion(cfg.fusion)
    fused = runs[0] if len(runs) == 1 else fuse(runs, weights)
    # feedback reads the best chunks of every version: an older version's wording is the measure's
    # wording too (from the versions in force only: dev 0.753, a lookup on a law revised in 2025 lost
    # the words its 2020 text lent, 0.760 → 0.380)
    if (feedback and mode != "dense" and fused and cfg.feedback_docs and cfg.feedback_weight
            and qp.intent != "material"):
        extra = feedback_terms(store.tokens_of([c for c, _ in fused[:cfg.feedback_docs]]),
                               terms + expansion_terms, snap.keywords.doc_freqs, snap.keywords.count(),
                               cfg.feedback_terms)
        if extra:
            ids, scores = snap.keywords.search(terms + expansion_terms + list(extra), n, allowed,
                                               {t: cfg.feedback_weight * w for t, w in extra.items()})
            runs[-1] = _run(ids, scores)
            fused = runs[0] if len(runs) == 1 else fuse(runs, weights)
    if validity is not None:
        fused = _by_validity(fused, validity, all_versions, cfg.out_of_force)
    # The priors scale a score's height above what no match scores: 0 for fused and BM25 scores; for
    # cosines (dense alone) the weakest candidate's, since e5-small's lie within ~0.1 of each other
    # and × 0.8 would bury a hit (dev dense lookup 0.717 → 0.523 with plain products, 0.747 so).
    floor = fused[-1][1] if mode == "dense" and fused else 0.0
    fused = priors(store, fused, qp, cfg, max(4 * k, 40) * 3, floor)
    # a comparison within one named place (上海各区…) is not spread over places
    spread = cfg.compare_per_place if qp.intent == "compare" and len(qp.places) != 1 else None
    with store.reading():  # every row of every hit from one committed state
        win = 0 if pq.phrases else cfg.window if window is None else window
        hits = _to_hits(store, fused, terms + expansion_terms, pq.phrases, k, collapse, per_doc,
                        window=win, validity=validity, per_place=spread,
                        place_of=lambda region: qp.place_of(region) or province_of(region))
        if len(hits) < k and fill:
            # still short with every candidate document shown to its cap (one long regulation can
            # hold 88 of BM25's 100 candidates): their next passages, uncapped, fill the page.
            # Dev compare 0.718 → 0.738 (three comparison pages had 5–7 hits)
            more = _to_hits(store, fused, terms + expansion_terms, pq.phrases, 2 * k, collapse, None,
                            window=win, validity=validity)
            hits += [h for h in more if not any(o.doc_id == h.doc_id and o.start < h.end and h.start < o.end
                                                for o in hits)][:k - len(hits)]
        return hits


def query_terms(pq: ParsedQuery) -> list[str]:
    """The BM25 words of a parsed query: its text and quoted phrases (expansions apart)."""
    return tokenize(" ".join([pq.text, *pq.phrases]))


def dense_text(pq: ParsedQuery) -> str:
    """What the embedder reads of a parsed query: its text and colloquial expansions."""
    return " ".join([pq.text, *pq.expansions])


def bridges(mode: str, cfg: SearchConfig, qp: QueryPlan) -> bool:
    """Whether the phrase bridge may widen this search (kb/formulations.py): hybrid, not off, and a
    question, not a request for material or a comparison, which name a measure in the texts' words
    (bridged, comparisons fell 0.760 → 0.704 on the dev set: their nearest phrase is another measure's)."""
    return mode == "hybrid" and cfg.bridge_phrases > 0 and qp.intent in ("lookup", "requirement")


def _run(ids: np.ndarray, scores: np.ndarray) -> list[tuple[int, float]]:
    return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]


def _by_validity(fused: list[tuple[int, float]], view: ValidityView, all_versions: bool,
                 factor: float) -> list[tuple[int, float]]:
    """Drop the chunks of versions not in force (unless every version is asked for) and rank
    repealed or expired texts below equally good texts in force."""
    hidden = frozenset() if all_versions else view.hidden_chunks
    penalised = view.penalised_chunks
    if not hidden and not penalised:
        return fused
    out = [(c, s * factor if c in penalised else s) for c, s in fused if c not in hidden]
    out.sort(key=lambda cs: -cs[1])
    return out


def _to_hits(store: Store, ranked: list[tuple[int, float]], terms: list[str], phrases: list[str], k: int,
             collapse: bool, per_doc: int | None, window: int = 0,
             validity: ValidityView | None = None, per_place: int | None = None,
             place_of: Callable[[str], str] = str) -> list[Hit]:
    """``per_place``: at most this many hits of one place (``place_of`` a document's region)
    while other places still have candidates; the hits held back fill what is left of the page."""
    # Only the top of the ranking can be shown: collapsing further down costs O(n²) for nothing.
    ranked, rows, docs = _top_candidates(store, ranked, per_doc, max(4 * k, 40))
    groups = (collapse_groups([rows[cid]["text"] for cid, _ in ranked]) if collapse
              else [[i] for i in range(len(ranked))])
    hl_terms = [t for t in terms if len(t) >= 2]
    hits: list[Hit] = []
    per: dict[str, int] = {}
    shown: dict[str, list[tuple[int, int]]] = {}
    near: dict[int, list] | None = None  # neighbours of the leaders likely to be shown, in one query
    placed: dict[str, int] = {}
    held: list[int] = []
    order = list(range(len(groups)))
    while order:
        for g in order:
            group = groups[g]
            cid, score = ranked[group[0]]
            row = rows[cid]
            d = docs[row["doc_id"]]
            if per_doc is not None and per.get(d["doc_id"], 0) >= per_doc:
                continue
            if any(s < row["pos_end"] and row["pos_start"] < e for s, e in shown.get(d["doc_id"], [])):
                continue  # already inside a window shown for a better-ranked chunk
            place = place_of(d["region"])
            if per_place is not None and placed.get(place, 0) >= per_place:
                held.append(g)
                continue
            placed[place] = placed.get(place, 0) + 1
            if window and near is None:
                near = neighbours(store, _likely_shown(groups[g:], ranked, rows, per_doc, k, window))
            win = widen(store, row, window, shown.get(d["doc_id"], []), near.get(cid) if near else None)
            shown.setdefault(d["doc_id"], []).append((win.start, win.end))
            per[d["doc_id"]] = per.get(d["doc_id"], 0) + 1
            section = list(section_path(row["section"]))
            also, seen = [], {d["doc_id"]}
            for j in group[1:]:
                other = docs[rows[ranked[j][0]]["doc_id"]]
                if other["doc_id"] not in seen:
                    seen.add(other["doc_id"])
                    also.append({"doc_id": other["doc_id"], "path": other["path"], "title": other["title"]})
            version = validity.label(d["doc_id"]) if validity is not None else ""
            hits.append(Hit(
                doc_id=d["doc_id"], path=d["path"], title=d["title"], doc_type=d["doc_type"], region=d["region"],
                date=d["date"], section=section, text=win.text, start=win.start, end=win.end,
                page=win.page, score=round(score, 6), citation=_cite(d, section, win, version),
                highlights=highlight_spans(win.text, hl_terms, phrases), also_in=also, chunk_id=cid,
                status=validity.status(d["doc_id"]).status if validity is not None else "unknown",
                level=d["level"], effective=d["effective"],
                versions=validity.versions(d["doc_id"]) if validity is not None else [],
            ))
            if len(hits) >= k:
                return hits
        order, held, per_place = held, [], None  # the held-back hits, in rank order, fill the page
    return hits


def _top_candidates(store: Store, ranked: list[tuple[int, float]], per_doc: int | None, limit: int):
    """The first ``limit`` of ``ranked`` whose chunk and document still exist (an old snapshot may
    name replaced chunks), at most 2 × ``per_doc`` per document — a loose cap first, so one long law
    cannot fill the candidate list — with their chunk and document rows. Rows are fetched in rank
    order a batch at a time: most of a fused list of ~200 is never needed."""
    rows: dict = {}
    docs: dict = {}
    kept: list[tuple[int, float]] = []
    seen_docs: dict[str, int] = {}
    i = 0
    while i < len(ranked) and len(kept) < limit:
        # slack for chunks the cap drops: usually about 10, at times 60 (one law filling the ranking)
        batch = ranked[i:i + (limit + limit // 2 if i == 0 else 2 * (limit - len(kept))) + 8]
        i += len(batch)
        rows.update(store.chunk_rows(cid for cid, _ in batch))
        docs.update(store.doc_rows({rows[cid]["doc_id"] for cid, _ in batch if cid in rows} - docs.keys()))
        for cid, s in batch:
            row = rows.get(cid)
            if row is None or row["doc_id"] not in docs:
                continue
            if per_doc is not None:
                n = seen_docs.get(row["doc_id"], 0)
                if n >= 2 * per_doc:
                    continue
                seen_docs[row["doc_id"]] = n + 1
            kept.append((cid, s))
            if len(kept) >= limit:
                break
    return kept, rows, docs


def _likely_shown(groups: list[list[int]], ranked, rows, per_doc: int | None, k: int, window: int) -> list:
    """Rows of the first ``k`` group leaders that the per-document cap lets through and that will
    be widened, for ``neighbours``. A leader later skipped for lying inside a shown window only
    wastes its fetch; one beyond these queries its own neighbours."""
    out: list = []
    per: dict[str, int] = {}
    taken = 0
    for group in groups:
        row = rows[ranked[group[0]][0]]
        if per_doc is not None and per.get(row["doc_id"], 0) >= per_doc:
            continue
        per[row["doc_id"]] = per.get(row["doc_id"], 0) + 1
        if window > row["pos_end"] - row["pos_start"]:
            out.append(row)
        taken += 1
        if taken >= k:
            break
    return out


def _cite(d, section: list[str], win, version: str = "") -> str:
    """The hit's citation; for a law whose window spans several articles, the range: 第四条至第九条."""
    if win.first and win.last and win.first != win.last and d["doc_type"] in LEGAL_TYPES:
        cited = span_citation(d["title"], d["doc_type"], d["date"], win.first, win.last, version)
        if "至" in cited:
            return cited
    return citation(d["title"], d["doc_type"], d["date"], section, version)
