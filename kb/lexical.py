"""BM25 over token lists (bm25s computes the score matrix; positions are build order)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

META = "fazhi_bm25.json"  # our own record beside bm25s's files: size and parameters


class BM25Index:
    def __init__(self, model, n: int, params: dict, meta: dict | None = None) -> None:
        self._model = model  # bm25s.BM25, or None when there is no vocabulary (n may still be > 0)
        self._n = n
        self.params = dict(params)
        self.meta = dict(meta or {})  # caller's extra fields saved with the index (e.g. generation)

    @classmethod
    def build(cls, token_lists: list[list[str]], *, k1: float = 1.2, b: float = 0.75,
              method: str = "lucene") -> BM25Index:
        params = {"k1": k1, "b": b, "method": method}
        token_lists = list(token_lists)
        for i, toks in enumerate(token_lists):
            if isinstance(toks, str) or not isinstance(toks, list | tuple):
                raise TypeError(f"token list #{i} is {type(toks).__name__}, expected a list of str")
        if not token_lists:
            return cls(None, 0, params)
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        # vocabulary ids built here: bm25s then skips its own (slower) string handling
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(t, len(vocab)) for t in toks] for toks in token_lists]
        if not vocab:  # nothing to match (every text was punctuation): all scores are 0
            return cls(None, len(token_lists), params)
        model = bm25s.BM25(k1=k1, b=b, method=method)
        model.index((ids, vocab), show_progress=False)
        return cls(model, len(token_lists), params)

    def __len__(self) -> int:
        return self._n

    def _query_ids(self, query_tokens: list[str]) -> list[int]:
        # unknown tokens are ignored; a repeated token counts once, so expansions and search-mode
        # sub-words do not multiply one word's weight
        vocab = self._model.vocab_dict
        seen = dict.fromkeys(t for t in query_tokens if t)  # '' is bm25s's internal empty token
        return [vocab[t] for t in seen if t in vocab]

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every position (0 where no query token occurs), float32 (n,)."""
        if self._model is None:
            return np.zeros(self._n, dtype=np.float32)
        qids = self._query_ids(query_tokens)
        if not qids:
            return np.zeros(self._n, dtype=np.float32)
        return np.asarray(self._model.get_scores_from_ids(qids), dtype=np.float32)

    def top(self, query_tokens: list[str], k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Positions and scores of the ``k`` best with score > 0, best first, within ``mask`` if given."""
        s = self.scores(query_tokens)
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != (self._n,):
                raise ValueError(f"BM25 mask has shape {mask.shape}, expected ({self._n},)")
            s = np.where(mask, s, 0.0)
        cand = np.flatnonzero(s > 0)
        if k <= 0 or not len(cand):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if len(cand) > k:
            cand = cand[np.argpartition(-s[cand], k - 1)[:k]]
        order = np.lexsort((cand, -s[cand]))  # best first; ties by position, so results are stable
        pos = cand[order].astype(np.int64)
        return pos, s[pos].astype(np.float32)

    def save(self, directory: Path, meta: dict | None = None) -> None:
        """Write to a temporary sibling folder, then swap it in by rename."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        if meta is not None:
            self.meta = dict(meta)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp", dir=directory.parent))
        try:
            if self._model is not None:
                self._model.save(str(tmp), show_progress=False)
            record = {"n": self._n, "params": self.params, "meta": self.meta, "model": self._model is not None}
            (tmp / META).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
            old = None
            if directory.exists():
                # rename cannot replace a non-empty folder: move the old one aside first
                old = directory.with_name(f".{directory.name}.old.{os.getpid()}")
                if old.exists():
                    shutil.rmtree(old)
                os.replace(directory, old)
            os.replace(tmp, directory)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        directory = Path(directory)
        meta_path = directory / META
        try:
            record = json.loads(meta_path.read_text(encoding="utf-8"))
            n, params = int(record["n"]), dict(record["params"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"BM25 index {directory} is missing or unreadable ({meta_path.name}: {e})") from e
        if not record.get("model", n > 0):
            return cls(None, n, params, record.get("meta"))
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        try:
            model = bm25s.BM25.load(str(directory), show_progress=False)
        except Exception as e:  # noqa: BLE001 — report which folder is damaged
            raise ValueError(f"BM25 index {directory} is unreadable: {type(e).__name__}: {e}") from e
        if int(model.scores["num_docs"]) != n:
            raise ValueError(f"BM25 index {directory} holds {model.scores['num_docs']} documents, its record says {n}")
        return cls(model, n, params, record.get("meta"))
