"""FAISS vector index keyed by int64 chunk ids: exact (flat) up to ``flat_max``, IVF-SQ8 above.

Vectors are L2-normalised, so inner product is cosine similarity. faiss is imported lazily.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from kb.faults import checkpoint

FLAT = "flat"
IVF = "ivf_sq8"
# below this share of the index, a filtered IVF search probes every list: the few allowed
# vectors may sit in lists the query would not otherwise visit
FILTER_PROBE_ALL = 0.2


def _faiss():
    import faiss

    return faiss


def _as_ids(ids) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"ids must be a 1-d array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"ids must be integers, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _as_vecs(vecs, dim: int, n: int | None = None) -> np.ndarray:
    arr = np.asarray(vecs, dtype=np.float32)
    if arr.ndim == 1 and n is None:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"vectors must have shape (n, {dim}), got {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{arr.shape[0]} vectors for {n} ids")
    return np.ascontiguousarray(arr)


def ivf_nlist(n: int) -> int:
    """≈ 4·sqrt(n) lists, but never fewer than 39 training points per list (faiss's minimum)."""
    return max(1, min(int(4 * math.sqrt(n)), n // 39))


class VectorIndex:
    """The embedded VectorBackend (kb/backends.py)."""

    def __init__(self, index, kind: str, dim: int, generation: int = -1) -> None:
        self._index = index
        self.kind = kind
        self.dim = dim
        self.generation = generation  # the store generation these vectors reflect (-1: unknown)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def empty(cls, dim: int) -> VectorIndex:
        if dim <= 0:
            raise ValueError(f"vector dimension must be positive, got {dim}")
        faiss = _faiss()
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)), FLAT, dim)

    @classmethod
    def build(cls, ids: np.ndarray, vecs: np.ndarray, *, flat_max: int = 200_000,
              nprobe: int | None = None, seed: int = 1234) -> VectorIndex:
        ids = _as_ids(ids)
        arr = np.asarray(vecs, dtype=np.float32)
        if arr.ndim != 2:
            raise ValueError(f"vectors must be a 2-d array (n, dim), got shape {arr.shape}")
        dim = arr.shape[1]
        if len(ids) <= flat_max:
            out = cls.empty(dim)
            out.add(ids, arr)
            return out
        faiss = _faiss()
        arr = _as_vecs(arr, dim, len(ids))
        _check_unique(ids)
        nlist = ivf_nlist(len(ids))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)
        index.referenced_objects = [quantizer]  # keep the quantizer alive as long as the index
        rng = np.random.default_rng(seed)
        sample = min(len(ids), 64 * nlist)  # enough for k-means and the SQ ranges, far cheaper than all
        train = arr[np.sort(rng.choice(len(ids), sample, replace=False))] if sample < len(ids) else arr
        index.train(train)
        # half of the lists: recall@10 0.963 against exact search at 1M e5-like vectors, 14 ms a
        # search; a quarter gave 0.945-0.953 depending on the draw (under the 0.95 aim), a
        # sixteenth 0.81 (docs/benchmarks.md). SQ8 itself caps recall near 0.96.
        index.nprobe = min(nlist, nprobe or max(16, nlist // 2))
        index.add_with_ids(arr, ids)
        return cls(index, IVF, dim)

    # -- contents ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._index.ntotal)

    def count(self) -> int:
        return len(self)

    @property
    def nprobe(self) -> int | None:
        return int(self._ivf().nprobe) if self.kind == IVF else None

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if self.kind != IVF:
            raise ValueError("nprobe applies to the ivf_sq8 index only")
        ivf = self._ivf()
        ivf.nprobe = max(1, min(int(value), int(ivf.nlist)))

    def _ivf(self):
        return _faiss().extract_index_ivf(self._index)

    def ids(self) -> np.ndarray:
        """All stored ids (flat: insertion order; IVF: list by list)."""
        faiss = _faiss()
        if self.kind == FLAT:
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        invlists = self._ivf().invlists
        parts = []
        for lst in range(invlists.nlist):
            size = invlists.list_size(lst)
            if size:
                parts.append(faiss.rev_swig_ptr(invlists.get_ids(lst), size).copy())
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def add(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        """Add vectors under new ids; an id already stored (or repeated) is refused."""
        ids = _as_ids(ids)
        vecs = _as_vecs(vecs, self.dim, len(ids))
        if not len(ids):
            return
        _check_unique(ids)
        if len(self):
            clash = ids[np.isin(ids, self.ids())]
            if len(clash):
                raise ValueError(f"vector ids already in the index: {clash[:10].tolist()} (remove them first)")
        self._index.add_with_ids(vecs, ids)

    def remove(self, ids: np.ndarray) -> int:
        """Remove these ids (absent ones are ignored); returns how many were removed."""
        ids = _as_ids(ids)
        if not len(ids) or not len(self):
            return 0
        return int(self._index.remove_ids(_faiss().IDSelectorBatch(ids)))

    # -- search -----------------------------------------------------------------------------
    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Ids (int64) and inner products of the ``k`` nearest, best first, among ``allowed`` if given."""
        q = _as_vecs(query, self.dim)
        if q.shape[0] != 1:
            raise ValueError(f"search takes one query vector, got {q.shape[0]}")
        empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if k <= 0 or not len(self):
            return empty
        faiss = _faiss()
        params = None
        if allowed is not None:
            allowed = _as_ids(allowed)
            if not len(allowed):
                return empty
            k = min(k, len(allowed))
            sel = faiss.IDSelectorBatch(allowed)
            if self.kind == IVF:
                nprobe = self._ivf().nprobe
                if len(allowed) < FILTER_PROBE_ALL * len(self):
                    nprobe = self._ivf().nlist
                params = faiss.SearchParametersIVF(sel=sel, nprobe=int(nprobe))
            else:
                params = faiss.SearchParameters(sel=sel)
        k = min(k, len(self))
        scores, ids = self._index.search(q, k, params=params)
        keep = ids[0] >= 0  # faiss pads with -1 when fewer than k match
        return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)

    # -- copies and files -------------------------------------------------------------------
    def copy(self) -> VectorIndex:
        return VectorIndex(_faiss().clone_index(self._index), self.kind, self.dim, self.generation)

    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        _faiss().write_index(self._index, str(tmp))
        checkpoint("faiss_tmp")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"vector index file not found: {path}")
        faiss = _faiss()
        try:
            index = faiss.read_index(str(path))
        except Exception as e:  # noqa: BLE001 — faiss raises RuntimeError with C++ text
            raise ValueError(f"vector index {path} is unreadable: {e}") from e
        if isinstance(index, faiss.IndexIDMap2):
            return cls(index, FLAT, int(index.d))
        try:
            faiss.extract_index_ivf(index)
        except RuntimeError as e:
            raise ValueError(f"vector index {path} is a {type(index).__name__}, not flat or ivf_sq8") from e
        return cls(index, IVF, int(index.d))


def _check_unique(ids: np.ndarray) -> None:
    if len(np.unique(ids)) != len(ids):
        uniq, counts = np.unique(ids, return_counts=True)
        raise ValueError(f"repeated vector ids: {uniq[counts > 1][:10].tolist()}")
