"""How search ranks: the fusion, the caps, the query plan's priors and the widening of the keyword
query, each setting with what it measured on the dev set (docs/evaluation.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SearchConfig:
    # Chosen on ../shared/eval/dev.jsonl (docs/evaluation.md): weighted beat rrf by ~0.06 nDCG@10.
    fusion: str = "weighted"
    weights: tuple[float, float] = (0.5, 0.5)  # (dense, lexical)
    candidates: int = 100  # per run, before fusion
    default_per_doc: int = 3  # no document fills the whole page unless asked
    compare_per_doc: int = 1  # comparison-style queries: one passage per document
    window: int = 800  # widen each hit with neighbouring chunks up to this many characters (0: off)
    # a repealed or expired text ranks below an equally good text in force (its score × this)
    out_of_force: float = 0.85
    # a request for speech material (素材, 提法 …) ranks legal texts below other documents (score × this);
    # dev material nDCG@10 0.633 → 0.669 (0.8: same, 0.7: 0.671), other tasks unchanged
    material_legal: float = 0.85
    # Query-plan priors (kb/query_plan.py), chosen on the dev set (docs/evaluation.md). Soft: they
    # reorder, nothing is dropped. Material requests: at most two passages per document (dev material
    # 0.667 → 0.704; one a document, like three, 0.667: a long speech often holds two quotable passages)
    material_per_doc: int | None = 2
    # a document of a place, year or kind the query names ranks up (score × these). Places: on the
    # dev compare queries re-asked for one province, nDCG@10 0.772 → 0.803 (1.5: 0.815, kept mild
    # so that a national text that answers better still leads); kind 1.1: dev compare 0.717 → 0.718
    place_boost: float = 1.2
    year_boost: float = 1.1
    kind_boost: float = 1.1
    # requirement questions (应当, 期限, 哪些 …): each level below 法律 costs this much (law × 1,
    # 行政法规 × 0.9, 地方性法规/规章/司法解释 × 0.8, 规范性文件 × 0.7); dev lookup 0.798 → 0.822.
    # Texts that are not normative keep their score: × 0.9 or 0.85 lowered lookup to 0.792
    # (speeches and plans that quote the rule are relevant too).
    requirement_other: float = 1.0
    requirement_level_step: float = 0.1
    # requirement questions lean on meaning: their words (应当, 程序, 期限) are in every article, so
    # BM25 tells the articles of a law apart less well. Dev lookup 0.822 → 0.841 (three queries up,
    # none down; 0.55: same, 0.65: 0.831, 0.7: 0.824). Not for definitions (see search()): 什么是行政许可
    # then lost its defining article (bench/ask_lookups.jsonl 18/18 → 17/18)
    requirement_weights: tuple[float, float] = (0.6, 0.4)
    # a question of how long (多久, 期限, 几日): a passage stating a period (十五日, ２４小时) ranks up.
    # Dev lookup 0.841 → 0.867 (three queries up, none down; the same from 1.5 to 3.0, 1.4: 0.843)
    duration_boost: float = 1.5
    # comparison requests: one passage per province while other provinces have candidates
    # (dev compare 0.704 → 0.717; per region string 0.709; two per province 0.688)
    compare_per_place: int | None = 1
    # Feedback (kb/feedback.py): the 20 most distinctive words of the first round's best 3 chunks
    # join the BM25 query at 0.2 × their share of the best one's score. Dev 0.742 → 0.760 (compare
    # 0.738 → 0.760, lookup 0.867 → 0.886, paraphrase 0.318 → 0.365); every setting from 2 to 5
    # chunks, 10 to 30 words and 0.1 to 1.0 measured 0.735–0.760. Not for material requests (0.707
    # → 0.668): they want many documents' lines, not more of the first ones' topic.
    feedback_docs: int = 3
    feedback_terms: int = 20
    feedback_weight: float = 0.2
    # A query holding words no chunk holds (办完: asked in other words) lends the keyword
    # query the words of the quoted phrase nearest it in meaning (kb/formulations.py), of those at
    # least two documents use: 办事能不能只在网上一个地方办完 → “一网通办”. Dev 0.760 → 0.772
    # (paraphrase 0.365 → 0.470, R@10 0.771 → 0.788; one phrase: 2 or 3 measured 0.756 / 0.769, the
    # next phrases' words are noise at a query word's weight). 0 = off. Questions only (search.bridges).
    bridge_phrases: int = 1
    bridge_min_docs: int = 2
