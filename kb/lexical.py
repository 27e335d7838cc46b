"""BM25 over token lists that a write updates instead of rebuilding.

Postings hold term frequencies, not finished scores: idf and length normalisation are applied
at query time from the live documents, so adding documents appends a small segment and removing
them sets a tombstone. One write at 1M chunks then costs its own documents, not a rebuild of the
whole score matrix (bm25s's layout, which has no update: 119 s and 14 GB per write at 1M).
Scores equal a fresh build's over the live documents (tests/test_lexical.py checks against
bm25s). Positions are append order and stay stable until ``compacted``.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

META = "fazhi_bm25.json"  # the record naming this folder's files; written last, by rename
FORMAT = 2  # 1 was bm25s's precomputed score matrix: such folders are rebuilt from the store


# -- scoring functions, picked by name (the ``method`` parameter) --------------------------------
def _idf_lucene(df: np.ndarray | int, n: int):
    return np.log1p((n - df + 0.5) / (df + 0.5))


def _idf_atire(df: np.ndarray | int, n: int):
    return np.log(n / df)


IDF = {"lucene": _idf_lucene, "atire": _idf_atire}
# term-frequency part: Lucene (since 8) leaves ATIRE's constant (k1 + 1) out of the numerator
TF_SCALE = {"lucene": 0.0, "atire": 1.0}


def _check_method(method: str) -> None:
    if method not in IDF:
        raise ValueError(f"BM25 method '{method}' is not one of: {', '.join(IDF)}")


@dataclass(frozen=True)
class Segment:
    """Postings of a run of documents, by term: term t's are docs/tfs[indptr[t]:indptr[t+1]]."""
    name: str
    indptr: np.ndarray  # int64 (terms + 1,); terms added to the vocabulary later have no postings here
    docs: np.ndarray  # int32 positions, ascending within a term
    tfs: np.ndarray  # float32 term frequencies

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        if term + 1 >= len(self.indptr):
            return self.docs[:0], self.tfs[:0]
        a, b = self.indptr[term], self.indptr[term + 1]
        return self.docs[a:b], self.tfs[a:b]

    def triples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        terms = np.repeat(np.arange(len(self.indptr) - 1, dtype=np.int32), np.diff(self.indptr))
        return terms, self.docs, self.tfs


def _csr(terms: np.ndarray, docs: np.ndarray, tfs: np.ndarray, n_terms: int) -> Segment:
    order = np.argsort(terms, kind="stable")  # stable: docs stay ascending within each term
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(terms, minlength=n_terms), out=indptr[1:])
    return Segment(uuid.uuid4().hex[:12], indptr, docs[order].astype(np.int32), tfs[order].astype(np.float32))


def _postings(batches: Iterable[list[list[str]]], first: int, vocab: dict[str, int]) -> tuple[Segment, np.ndarray]:
    """A segment for documents at positions first, first+1, … (given in batches) and their
    lengths; new terms are added to ``vocab``. Batch by batch, so a million documents are never
    in memory as Python strings at once (that was 14 GB at 1M chunks)."""
    parts, lengths, pos = [], [], first
    for lists in batches:
        lens = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        lengths.append(lens.astype(np.float32))
        ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in chain.from_iterable(lists)),
                          dtype=np.int64, count=int(lens.sum()))
        docs = np.repeat(np.arange(pos, pos + len(lists), dtype=np.int64), lens)
        pos += len(lists)
        keys, tf = np.unique((docs << 32) | ids, return_counts=True)  # sorted by (doc, term)
        parts.append(((keys & 0xFFFFFFFF).astype(np.int32), (keys >> 32).astype(np.int32), tf.astype(np.float32)))
    if parts:
        terms, docs, tfs = (np.concatenate(p) for p in zip(*parts, strict=True))
    else:
        terms, docs, tfs = np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32)
    return _csr(terms, docs, tfs, len(vocab)), np.concatenate(lengths) if lengths else np.zeros(0, np.float32)


def batched(items: list, size: int = 50_000) -> Iterable[list]:
    return (items[i:i + size] for i in range(0, len(items), size))


class BM25Index:
    def __init__(self, vocab: dict[str, int], segments: list[Segment], doc_len: np.ndarray, live: np.ndarray,
                 params: dict, meta: dict | None = None) -> None:
        _check_method(params.get("method", "lucene"))
        self.vocab = vocab  # shared between snapshots until one adds terms (then copied)
        self.segments = segments
        self.doc_len = doc_len  # float32 (n,), per position, tombstoned ones included
        self.live = live  # bool (n,)
        self.params = dict(params)
        self.meta = dict(meta or {})  # caller's extra fields saved with the index (e.g. generation)
        self.n_live = int(live.sum())
        self._all_live = self.n_live == len(live)
        k1, b = self.params["k1"], self.params["b"]
        avgdl = float(doc_len[live].mean()) if self.n_live and doc_len[live].sum() > 0 else 1.0
        self._norm = (k1 * (1 - b + b * doc_len / avgdl)).astype(np.float32)  # per position
        self._vocab_file: str | None = None  # set when the vocabulary on disk is this one

    @classmethod
    def build(cls, token_lists: Iterable[list[str]], *, k1: float = 1.2, b: float = 0.75,
              method: str = "lucene") -> BM25Index:
        _check_method(method)
        token_lists = list(token_lists)
        for i, toks in enumerate(token_lists):
            if isinstance(toks, str) or not isinstance(toks, list | tuple):
                raise TypeError(f"token list #{i} is {type(toks).__name__}, expected a list of str")
        return cls.from_batches(batched(token_lists), k1=k1, b=b, method=method)

    @classmethod
    def from_batches(cls, batches: Iterable[list[list[str]]], *, k1: float = 1.2, b: float = 0.75,
                     method: str = "lucene") -> BM25Index:
        """Built from token lists given batch by batch (a store read in pages)."""
        _check_method(method)
        vocab: dict[str, int] = {}
        seg, lengths = _postings(batches, 0, vocab)
        return cls(vocab, [seg], lengths, np.ones(len(lengths), dtype=bool), {"k1": k1, "b": b, "method": method})

    def __len__(self) -> int:
        return len(self.live)

    # -- updates (each returns a new index; this one stays valid for searches in flight) --------
    def updated(self, removed: np.ndarray, added: list[list[str]]) -> BM25Index:
        """Tombstone the positions ``removed``; append ``added`` at positions len(self), …"""
        live = np.concatenate([self.live, np.ones(len(added), dtype=bool)])
        live[np.asarray(removed, dtype=np.int64)] = False
        vocab, segments, doc_len = self.vocab, self.segments, self.doc_len
        if added:
            vocab = dict(self.vocab)
            seg, lengths = _postings(batched(added), len(self), vocab)
            segments, doc_len = [*segments, seg], np.concatenate([doc_len, lengths])
        out = BM25Index(vocab, segments, doc_len, live, self.params, self.meta)
        if vocab is self.vocab:
            out._vocab_file = self._vocab_file
        return out

    def compacted(self) -> tuple[BM25Index, np.ndarray]:
        """One segment without tombstones; also the kept positions (old position of each new one)."""
        keep = np.flatnonzero(self.live)
        new_pos = np.cumsum(self.live, dtype=np.int64) - 1
        parts = []
        for seg in self.segments:  # segments are in position order, so docs stay ascending per term
            terms, docs, tfs = seg.triples()
            ok = self.live[docs]
            parts.append((terms[ok], new_pos[docs[ok]].astype(np.int32), tfs[ok]))
        terms, docs, tfs = (np.concatenate(p) for p in zip(*parts, strict=True))
        seg = _csr(terms, docs, tfs, len(self.vocab))
        out = BM25Index(self.vocab, [seg], self.doc_len[keep], np.ones(len(keep), dtype=bool), self.params, self.meta)
        out._vocab_file = self._vocab_file
        return out, keep

    # -- scoring ----------------------------------------------------------------------------
    def _query_ids(self, query_tokens: list[str]) -> list[int]:
        # unknown tokens are ignored; a repeated token counts once, so expansions and search-mode
        # sub-words do not multiply one word's weight
        seen = dict.fromkeys(t for t in query_tokens if t)
        return [self.vocab[t] for t in seen if t in self.vocab]

    def doc_freq(self, term: str) -> int:
        """Live positions holding ``term`` (0 for a term never seen)."""
        t = self.vocab.get(term)
        if t is None:
            return 0
        n = 0
        for seg in self.segments:
            docs = seg.postings(t)[0]
            n += len(docs) if self._all_live else int(self.live[docs].sum())
        return n

    def scores(self, query_tokens: list[str], weights: Mapping[str, float] | None = None) -> np.ndarray:
        """BM25 score of every position (0 where no query token occurs or tombstoned), float32 (n,).
        ``weights``: a factor per token (absent ones count 1), e.g. lower for feedback terms."""
        n = len(self.live)
        qids = self._query_ids(query_tokens)
        factor = {self.vocab[t]: float(w) for t, w in (weights or {}).items() if t in self.vocab}
        if not qids or not self.n_live:
            return np.zeros(n, dtype=np.float32)
        idf_fn, scale = IDF[self.params["method"]], TF_SCALE[self.params["method"]]
        k1 = self.params["k1"]
        all_docs, all_w = [], []
        for t in qids:
            pairs = [seg.postings(t) for seg in self.segments]
            docs = np.concatenate([d for d, _ in pairs]) if len(pairs) > 1 else pairs[0][0]
            tfs = np.concatenate([f for _, f in pairs]) if len(pairs) > 1 else pairs[0][1]
            if not self._all_live:
                alive = self.live[docs]
                docs, tfs = docs[alive], tfs[alive]
            if not len(docs):
                continue
            idf = np.float32(idf_fn(len(docs), self.n_live))  # df over live documents, so exact
            all_docs.append(docs)
            all_w.append(factor.get(t, 1.0) * idf * (tfs * (1 + scale * k1)) / (tfs + self._norm[docs]))
        if not all_docs:
            return np.zeros(n, dtype=np.float32)
        return np.bincount(np.concatenate(all_docs), np.concatenate(all_w), minlength=n).astype(np.float32)

    def top(self, query_tokens: list[str], k: int, mask: np.ndarray | None = None,
            weights: Mapping[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Positions and scores of the ``k`` best with score > 0, best first, within ``mask`` if given."""
        s = self.scores(query_tokens, weights)
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != (len(self),):
                raise ValueError(f"BM25 mask has shape {mask.shape}, expected ({len(self)},)")
            s = np.where(mask, s, 0.0)
        cand = np.flatnonzero(s > 0)
        if k <= 0 or not len(cand):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if len(cand) > k:
            cand = cand[np.argpartition(-s[cand], k - 1)[:k]]
        order = np.lexsort((cand, -s[cand]))  # best first; ties by position, so results are stable
        pos = cand[order].astype(np.int64)
        return pos, s[pos].astype(np.float32)

    # -- files --------------------------------------------------------------------------------
    def save(self, directory: Path, meta: dict | None = None) -> None:
        """Write the segments not on disk yet, the per-position state and the vocabulary, then the
        record naming them (by rename), then delete files no record names. A write at 1M chunks
        thus writes its own segment, not the whole index."""
        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            directory.unlink()  # damage (a file where the folder belongs): the store rebuilds it
        directory.mkdir(parents=True, exist_ok=True)
        if meta is not None:
            self.meta = dict(meta)
        for seg in self.segments:
            path = directory / f"seg-{seg.name}.npz"
            if not path.exists():
                _write_npz(path, indptr=seg.indptr, docs=seg.docs, tfs=seg.tfs)
        state = f"state-{uuid.uuid4().hex[:12]}.npz"
        _write_npz(directory / state, doc_len=self.doc_len, live=self.live)
        if self._vocab_file is None or not (directory / self._vocab_file).exists():
            self._vocab_file = f"vocab-{uuid.uuid4().hex[:12]}.json"
            _write_text(directory / self._vocab_file, json.dumps(list(self.vocab), ensure_ascii=False))
        record = {"format": FORMAT, "n": len(self), "params": self.params, "meta": self.meta, "state": state,
                  "vocab": self._vocab_file, "segments": [s.name for s in self.segments]}
        _write_text(directory / META, json.dumps(record, ensure_ascii=False))
        named = {META, state, self._vocab_file, *(f"seg-{s.name}.npz" for s in self.segments)}
        for p in directory.iterdir():
            if p.name not in named:
                _remove(p)

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        directory = Path(directory)
        meta_path = directory / META
        try:
            record = json.loads(meta_path.read_text(encoding="utf-8"))
            if record.get("format") != FORMAT:
                raise ValueError(f"format {record.get('format', 1)}, this version reads {FORMAT}")
            with np.load(directory / record["state"]) as z:
                doc_len, live = z["doc_len"], z["live"]
            terms = json.loads((directory / record["vocab"]).read_text(encoding="utf-8"))
            segments = []
            for name in record["segments"]:
                with np.load(directory / f"seg-{name}.npz") as z:
                    segments.append(Segment(name, z["indptr"], z["docs"], z["tfs"]))
            out = cls({t: i for i, t in enumerate(terms)}, segments, doc_len, live,
                      dict(record["params"]), record.get("meta"))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"BM25 index {directory} is missing or unreadable ({type(e).__name__}: {e})") from e
        if len(out) != int(record["n"]) or any(s.indptr[-1] != len(s.docs) for s in segments):
            raise ValueError(f"BM25 index {directory} is inconsistent: {len(out)} positions, record says {record['n']}")
        out._vocab_file = record["vocab"]
        return out


def _write_npz(path: Path, **arrays: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _remove(path: Path) -> None:
    try:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    except OSError:
        pass  # another process may be reading it; the next save tries again

