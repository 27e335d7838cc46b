"""The two derived-index seams: what search and indexing need from a vector index and from a
keyword index, and the factories that pick the implementation named in the index's manifest.

The embedded implementations are FAISS (kb/vectors.py, ``flat`` and ``ivf_sq8``) and BM25
segments (kb/keywords.py, ``bm25``); both live in files beside the store and carry the store
generation they reflect (``generation``), which the indexer compares with the store's. The
server-backed pair, ``milvus`` (kb/milvus_vectors.py, kb/milvus_keywords.py), satisfies the same
protocols and is opened with its endpoint by kb/remote_index.py; other server names in
manifest.json are refused with a clear error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

import numpy as np

from kb.errors import IndexMismatch
from kb.keywords import SegmentKeywords
from kb.vectors import FLAT, IVF, VectorIndex

# Names a manifest may carry for a scale-out deployment; milvus is opened by kb/remote_index.py.
SCALE_OUT = ("milvus", "opensearch", "elasticsearch", "postgres")


class BackendUnavailable(IndexMismatch):
    """The manifest names an index implementation this installation does not provide."""


@runtime_checkable
class VectorBackend(Protocol):
    kind: str
    dim: int
    generation: int  # the store generation the vectors reflect (-1: unknown)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under new chunk ids (int64); an id already held is refused."""

    def remove(self, ids: np.ndarray) -> int:
        """Remove these chunk ids (absent ones ignored); how many were removed."""

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids and inner products of the ``k`` nearest to one query vector, best first,
        among the ``allowed`` chunk ids when given."""

    def count(self) -> int:
        """Vectors held."""

    def ids(self) -> np.ndarray:
        """Every chunk id held (any order)."""

    def copy(self) -> VectorBackend:
        """A handle for the next snapshot: updates to it leave searches on this one undisturbed."""


@runtime_checkable
class KeywordBackend(Protocol):
    kind: str
    generation: int  # the store generation the index reflects (-1: unknown)

    @property
    def params(self) -> dict:
        """Scoring parameters (BM25 k1, b, idf method): a change means a rebuild."""

    def add(self, ids: np.ndarray, tokens: list[list[str]]) -> None:
        """Index these chunks' tokens under their ids."""

    def remove(self, ids: np.ndarray) -> None:
        """Stop matching these chunk ids."""

    def search(self, terms: list[str], k: int, allowed: np.ndarray | None = None,
               weights: Mapping[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids and scores of the ``k`` best for the query terms, among ``allowed`` chunk ids
        when given; ``weights`` scale single terms' contributions (absent: 1)."""

    def doc_freqs(self, terms: Iterable[str]) -> dict[str, int]:
        """How many chunks hold each term (0 for a term never seen)."""

    def count(self) -> int:
        """Chunks matched (removed ones not counted)."""

    def ids(self) -> np.ndarray:
        """The chunk ids matched, ascending."""

    def copy(self) -> KeywordBackend:
        """A handle for the next snapshot: updates to it leave searches on this one undisturbed."""


VECTOR_BACKENDS: dict[str, type[VectorIndex]] = {FLAT: VectorIndex, IVF: VectorIndex}
KEYWORD_BACKENDS: dict[str, type[SegmentKeywords]] = {"bm25": SegmentKeywords}


def _unavailable(what: str, name: str, known: dict) -> BackendUnavailable:
    if name in SCALE_OUT:
        return BackendUnavailable(f"{what} '{name}' named in manifest.json is not installed or configured in this "
                                  f"installation (embedded kinds: {', '.join(known)})")
    return BackendUnavailable(f"{what} '{name}' named in manifest.json is unknown (embedded kinds: "
                              f"{', '.join(known)}); rebuild the index with `kb ingest --index NEWDIR PATH...`")


def vector_backend(name: str) -> type[VectorIndex]:
    """The implementation of the manifest's ``vector_index``."""
    if name not in VECTOR_BACKENDS:
        raise _unavailable("vector index", name, VECTOR_BACKENDS)
    return VECTOR_BACKENDS[name]


def keyword_backend(name: str) -> type[SegmentKeywords]:
    """The implementation of the manifest's ``keyword_index``."""
    if name not in KEYWORD_BACKENDS:
        raise _unavailable("keyword index", name, KEYWORD_BACKENDS)
    return KEYWORD_BACKENDS[name]
