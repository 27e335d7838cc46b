"""The embedded keyword backend: BM25 over term-frequency segments (kb/lexical.py) keyed by chunk id.

The BM25 index scores positions; ``chunk_ids`` maps each position to its chunk (ascending, since
chunk ids only grow). Removed chunks stay as tombstoned positions until compaction. Updates replace
the index object (BM25Index updates return a new one), so a copy taken for the next snapshot never
disturbs searches running on this one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from kb.lexical import BM25Index

KIND = "bm25"
IDS_FILE = "chunk_ids.npy"
BM25_DIR = "bm25"
# When to merge segments: every query visits each segment, and tombstones cost memory
COMPACT_SEGMENTS = 8
COMPACT_DEAD = 0.25  # share of positions

_NO_IDS = np.zeros(0, dtype=np.int64)


class SegmentKeywords:
    kind = KIND

    def __init__(self, chunk_ids: np.ndarray, bm25: BM25Index, generation: int = -1) -> None:
        self.chunk_ids = chunk_ids  # position -> chunk id, ascending; removed chunks stay until compaction
        self.bm25 = bm25  # its ``live`` marks the positions still in the store
        self.generation = generation

    @classmethod
    def build(cls, ids: np.ndarray, token_pages: Iterable[list[list[str]]], params: dict,
              generation: int = -1) -> SegmentKeywords:
        """From every chunk's tokens, page by page in ascending id order (``ids``)."""
        return cls(ids, BM25Index.from_batches(token_pages, **params), generation)

    @property
    def params(self) -> dict:
        return self.bm25.params

    # -- contents ---------------------------------------------------------------------------
    def count(self) -> int:
        return self.bm25.n_live

    def ids(self) -> np.ndarray:
        """The live chunk ids, ascending."""
        return self.chunk_ids[self.bm25.live]

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Positions of the given chunk ids (ids absent from the index are dropped)."""
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(self.chunk_ids, ids)
        pos = np.clip(pos, 0, max(len(self.chunk_ids) - 1, 0))
        ok = (len(self.chunk_ids) > 0) & (self.chunk_ids[pos] == ids) if len(ids) else np.zeros(0, bool)
        return pos[ok]

    # -- search -----------------------------------------------------------------------------
    def doc_freqs(self, terms: Iterable[str]) -> dict[str, int]:
        """Chunks holding each term (terms never seen: 0)."""
        return {t: self.bm25.doc_freq(t) for t in dict.fromkeys(terms)}

    def search(self, terms: list[str], k: int, allowed: np.ndarray | None = None,
               weights: Mapping[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids and BM25 scores of the ``k`` best, among ``allowed`` chunk ids if given;
        ``weights`` scale single terms' contributions (absent: 1)."""
        mask = None
        if allowed is not None:
            mask = np.zeros(len(self.chunk_ids), dtype=bool)
            mask[self.positions(allowed)] = True
        pos, scores = self.bm25.top(terms, k, mask, weights)
        return self.chunk_ids[pos], scores

    # -- updates ----------------------------------------------------------------------------
    def copy(self) -> SegmentKeywords:
        return SegmentKeywords(self.chunk_ids, self.bm25, self.generation)  # both replaced, never mutated

    def update(self, removed: np.ndarray, added: np.ndarray, tokens: list[list[str]]) -> None:
        """Tombstone the chunks ``removed`` and append one segment for ``added`` (ascending ids beyond
        every id held: AUTOINCREMENT keeps ``chunk_ids`` ascending); compact when segments or
        tombstones pile up."""
        added = np.asarray(added, dtype=np.int64)
        if len(added) != len(tokens):
            raise ValueError(f"{len(tokens)} token lists for {len(added)} chunk ids")
        if len(added) and len(self.chunk_ids) and added[0] <= self.chunk_ids[-1]:
            raise ValueError("added chunk ids must be larger than every id held (rebuild instead)")
        bm25 = self.bm25.updated(self.positions(removed), tokens)
        chunk_ids = np.concatenate([self.chunk_ids, added])
        if len(bm25.segments) > COMPACT_SEGMENTS or len(bm25) - bm25.n_live > COMPACT_DEAD * len(bm25):
            bm25, keep = bm25.compacted()
            chunk_ids = chunk_ids[keep]
        self.bm25, self.chunk_ids = bm25, chunk_ids

    def add(self, ids: np.ndarray, tokens: list[list[str]]) -> None:
        self.update(_NO_IDS, ids, tokens)

    def remove(self, ids: np.ndarray) -> None:
        self.update(ids, _NO_IDS, [])

    # -- files ------------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory = Path(directory)
        self.bm25.save(directory / BM25_DIR)
        tmp = directory / (IDS_FILE + ".tmp")
        with open(tmp, "wb") as f:
            np.save(f, self.chunk_ids)
        os.replace(tmp, directory / IDS_FILE)

    @classmethod
    def load(cls, directory: Path, generation: int = -1) -> SegmentKeywords:
        """Raises (OSError, ValueError, …) when the files are missing or damaged."""
        directory = Path(directory)
        ids = np.load(directory / IDS_FILE)
        out = cls(ids, BM25Index.load(directory / BM25_DIR), generation)
        if len(out.bm25) != len(ids):
            raise ValueError(f"BM25 index holds {len(out.bm25)} positions, its id list {len(ids)}")
        return out
