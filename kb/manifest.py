"""manifest.json beside every index: what built it, so a mismatch is refused, never mixed."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from kb.errors import IndexMismatch

# Bump when the on-disk layout or the chunk/index text changes in a way old indexes cannot follow.
INDEX_FORMAT = 1
# b below the usual 0.75: the units are law articles and plan items of very different lengths
# under a shared title and section path, and a long on-topic article should not be pushed down
# (dev set: b 0.75 → hybrid nDCG@10 0.662; 0.3–0.5 → 0.684–0.690; docs/evaluation.md).
# A saved BM25 index built with other parameters is rebuilt from the stored tokens on open
# (no re-embedding), so changing them here never strands an index.
BM25_PARAMS = {"k1": 1.2, "b": 0.4, "method": "lucene"}


def package_version() -> str:
    try:
        return metadata.version("fazhi-kb")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass
class Manifest:
    embedder: str
    dim: int
    index_format: int = INDEX_FORMAT
    package_version: str = field(default_factory=package_version)
    bm25: dict = field(default_factory=lambda: dict(BM25_PARAMS))
    vector_index: str = "flat"  # the vector backend (kb/backends.py): flat / ivf_sq8 are FAISS
    keyword_index: str = "bm25"  # the keyword backend: BM25 segments
    collection: str = ""  # the Milvus collection, when both are ``milvus`` (kb/remote_index.py)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)

    def save(self, directory: Path) -> None:
        path = Path(directory) / "manifest.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def from_json(cls, text: str | None, where: str) -> Manifest | None:
        """A manifest kept as text (a database's meta row); None when there is none yet."""
        if text is None:
            return None
        try:
            data = json.loads(text)
            return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except (ValueError, TypeError, KeyError) as e:
            raise IndexMismatch(f"the manifest kept in {where} is unreadable ({e})") from e

    @classmethod
    def load(cls, directory: Path) -> Manifest | None:
        path = Path(directory) / "manifest.json"
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except (ValueError, TypeError, KeyError) as e:
            raise IndexMismatch(f"{path} is unreadable ({e}); move the folder away and re-run `kb ingest`") from e

    def check(self, directory: str | Path, embedder: str | None, dim: int | None) -> None:
        """Refuse an index built differently from what this process would search it with."""
        where = directory
        if self.index_format != INDEX_FORMAT:
            raise IndexMismatch(
                f"index {where} has format {self.index_format}, this fazhi-kb ({package_version()}) needs "
                f"{INDEX_FORMAT}; rebuild it: `kb ingest --index NEWDIR PATH...` (or delete {where} and re-ingest)"
            )
        if embedder is not None and embedder != self.embedder:
            raise IndexMismatch(
                f"index {where} was built with embedder '{self.embedder}', not '{embedder}'; search it with "
                f"`--embedder {self.embedder}` (or leave --embedder out), or build a new index: "
                f"`kb ingest --index NEWDIR --embedder {embedder} PATH...`"
            )
        if dim is not None and dim != self.dim:
            raise IndexMismatch(
                f"index {where} holds {self.dim}-d vectors but embedder '{embedder or self.embedder}' gives "
                f"{dim}-d; rebuild the index with `kb ingest --index NEWDIR --embedder ... PATH...`"
            )
