"""KnowledgeBase: the one entry point used by the CLI, the HTTP API and the tests."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from kb import catalog, formulations, indexer, remote_index
from kb.backends import keyword_backend, vector_backend
from kb.batching import QueryBatcher
from kb.embed import Embedder, get_embedder
from kb.errors import InvalidInput, NotFound
from kb.faults import checkpoint
from kb.manifest import Manifest
from kb.query import parse_query
from kb.query_plan import QueryPlan, plan
from kb.records import AskResult, CompareResult, DocumentDetail, Hit, IngestSummary, SearchFilters
from kb.search import bridges, dense_text, query_terms
from kb.search import search as run_search
from kb.search_config import SearchConfig
from kb.settings import Settings
from kb.store import Store, doc_id_for, text_hash
from kb.validity import ValidityView, ValidityViews, check_date, today

# Callback for progress: (stage, done, total) with stage in {"parse", "embed", "store"}.
ProgressFn = Callable[[str, int, int], None]


class KnowledgeBase:
    def __init__(self, index: str | Path | None = None, embedder: str | Embedder | None = None,
                 settings: Settings | None = None, search_config: SearchConfig | None = None,
                 create: bool = True):
        self.settings = settings or Settings()
        self.dir = Path(index) if index is not None else Path(self.settings.index)
        url = self.settings.database_url
        if not url and not (self.dir / "store.sqlite").exists() and not create:
            raise NotFound(f"no index at {self.dir}; build one with `kb ingest --index {self.dir} PATH...`")
        # the store first: with KB_DATABASE_URL the manifest is kept in it, not in a folder
        self.store = Store(url, self.settings.database_pool) if url else Store(self.dir / "store.sqlite")
        self.where = self.store.location if url else str(self.dir)
        given = embedder if isinstance(embedder, Embedder) else None
        requested = given.name if given else (embedder if isinstance(embedder, str) else None)
        manifest = self._load_manifest()
        if manifest is None and not create:
            raise NotFound(f"no index in the database {self.where}; build one with `kb ingest PATH...`")
        if manifest is not None:
            manifest.check(self.where, requested, given.dim if given else None)
        self._embedder = given
        self._embedder_name: str = manifest.embedder if manifest else (requested or self.settings.embedder)
        if manifest is None:
            manifest = Manifest(embedder=self._embedder_name, dim=self.embedder.dim)
            if self.settings.milvus_uri:
                manifest.vector_index = manifest.keyword_index = remote_index.REMOTE
                manifest.collection = remote_index.collection_for(self.where)
            self.manifest = manifest
            self.save_manifest()
        self.manifest = manifest
        # the derived-index implementations the manifest names; an unavailable one is refused here
        self.remote = (remote_index.open_backends(manifest, self.settings, self.where)
                       if remote_index.is_remote(manifest) else None)
        self.backends = None if self.remote else (vector_backend(manifest.vector_index),
                                                  keyword_backend(manifest.keyword_index))
        if not self.remote:  # derived FAISS/BM25 files live in the folder (with a database: a local copy)
            self.dir.mkdir(parents=True, exist_ok=True)
        self.search_config = search_config or SearchConfig(fusion=self.settings.fusion)
        self._snap: indexer.Snapshot | None = None
        self._snap_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._batcher = QueryBatcher(lambda texts: self.embedder.embed_batch(texts, "query"))
        self._views = ValidityViews()
        # (store generation, embedder name, phrases): the phrase bridge's, mined once a generation
        self._phrases: tuple[int, str, formulations.Formulations] | None = None
        self._phrases_lock = threading.Lock()

    # -- embedder & snapshot ----------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            emb = get_embedder(self._embedder_name)
            manifest = getattr(self, "manifest", None)
            if manifest is not None:
                manifest.check(self.where, emb.name, emb.dim)
            self._embedder = emb
        return self._embedder

    def use_embedder(self, emb: Embedder) -> None:
        """Search with ``emb`` from now on (kb reindex has re-embedded the chunks): no query vector or
        phrase vector of the previous embedder is reused."""
        self._embedder, self._embedder_name = emb, emb.name
        self._query_vector.cache_clear()

    def snapshot(self) -> indexer.Snapshot:
        """The current searchable state. Rebuilt from the store when the saved indexes are stale
        (e.g. after a crash) and no writer is busy; otherwise the last good one is kept."""
        snap = self._snap
        gen = self.store.generation()
        if indexer.current(snap, gen):
            return snap
        with self._snap_lock:
            snap = self._snap
            if indexer.current(snap, gen):
                return snap
            if self.remote:
                with self.store.ingest_lock(blocking=snap is None) as got:
                    if got:
                        self._snap = snap = self._remote_snapshot()
                assert snap is not None  # blocking on a first open: the lock was taken
                return snap
            saved = indexer.saved_generation(self.dir)
            if saved is not None and (snap is None or saved > snap.generation) and saved <= gen:
                assert self.backends is not None
                loaded = indexer.load(self.dir, *self.backends)
                if loaded is not None:
                    snap = loaded
            if not indexer.current(snap, gen):
                with self.store.ingest_lock(blocking=snap is None) as got:
                    if got:
                        snap = indexer.build(self.store, self.embedder, snap, self.settings.flat_max)
                        indexer.save(snap, self.dir)
                        self._record(snap)
            assert snap is not None  # without a snapshot the lock above was waited for
            self._snap = snap
            return snap

    def _load_manifest(self) -> Manifest | None:
        if self.store.kind == "sqlite":
            return Manifest.load(self.dir)
        return Manifest.from_json(self.store.get_meta("manifest"), self.where)

    def save_manifest(self) -> None:
        """Keep the manifest where this index keeps it: manifest.json, or the database's meta table."""
        if self.store.kind == "sqlite":
            self.manifest.save(self.dir)
        else:
            self.store.set_meta("manifest", self.manifest.to_json())

    # -- writes -------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | Path], root: str | Path | None = None,
               progress: ProgressFn | None = None, sync: bool = False) -> IngestSummary:
        """Ingest files and folders. Identity = path relative to ``root`` (or to the folder given;
        a file given directly: its file name). ``sync``: also remove the stored documents of each
        folder whose files are gone (kb/sync.py)."""
        from kb.files import collect, parse_if_changed
        summary = IngestSummary()
        targets, folders, summary.skipped = collect([Path(p) for p in paths], Path(root) if root is not None else None)
        if sync and not folders:
            raise InvalidInput("--sync mirrors folders: give at least one folder")
        limit = self.settings.max_file_bytes
        summary = self._ingest_docs(((rel, lambda f=f, rel=rel: parse_if_changed(self.store, f, rel, limit))
                                     for f, rel in targets), summary, progress, total=len(targets))
        if sync:
            self._sync(folders, summary)
        return summary

    def _sync(self, folders, summary: IngestSummary) -> None:
        from kb.sync import stale
        with self._write_lock, self.store.ingest_lock():
            gone, refused = stale(self.store.paths_under, folders)
            summary.failed += refused
            for path in gone:
                if self.store.delete_document(doc_id_for(path)):
                    summary.removed.append(path)
            if summary.removed:
                self._refresh()

    def ingest_bytes(self, files: list[tuple[str, bytes]], progress: ProgressFn | None = None) -> IngestSummary:
        from ingest import parse_bytes
        items = ((name, lambda d=data, n=name: parse_bytes(d, n, max_bytes=self.settings.max_file_bytes))
                 for name, data in files)
        return self._ingest_docs(items, IngestSummary(), progress, total=len(files))

    def _ingest_docs(self, items, summary: IngestSummary, progress: ProgressFn | None, total: int) -> IngestSummary:
        from ingest import PARSER_VERSION
        from kb.files import parse_changed
        prog = progress or (lambda *a: None)
        docs = parse_changed(self.store, items, summary, prog, total)
        if not docs:
            self.snapshot()  # completes any interrupted earlier work
            return summary
        with self._write_lock, self.store.ingest_lock():
            texts = [[indexer.index_text(d.title, c.section, c.text) for c in d.chunks] for d in docs]
            flat = [t for ts in texts for t in ts]
            done = [0]

            def step(n: int) -> None:
                done[0] += n
                prog("embed", done[0], len(flat))
            indexer.embed_missing(self.store, self.embedder, flat, self.settings.embed_batch, step)
            # the new texts' quoted phrases, so that a search never embeds them (kb/formulations.py)
            indexer.embed_missing(self.store, self.embedder,
                                  [p for d in docs for c in d.chunks for p in formulations.phrases_of(c.text)],
                                  self.settings.embed_batch)
            for i, (doc, ts) in enumerate(zip(docs, texts, strict=True), 1):
                heads: dict = {}
                tokens = [indexer.index_tokens(doc.title, c.section, c.text, heads) for c in doc.chunks]
                self.store.put_document(doc, [text_hash(t) for t in ts], tokens, parser=PARSER_VERSION)
                summary.ingested.append(doc.path)
                summary.reports[doc.path] = doc.report.to_dict()
                summary.warnings += [(doc.path, w) for w in doc.report.warnings]
                checkpoint("store")
                prog("store", i, len(docs))
            self._refresh()
        return summary

    def _remote_snapshot(self) -> indexer.Snapshot:
        """Milvus brought level with the store (kb/remote_index.py), as a snapshot."""
        assert self.remote is not None
        vectors, keywords = self.remote
        gen = remote_index.sync(self.store, self.embedder, vectors, keywords)
        return indexer.Snapshot(gen, keywords, vectors, remote=True)

    def _refresh(self) -> None:
        """Build and publish a new snapshot after a write (caller holds the write locks)."""
        if self.remote:
            self._snap = self._remote_snapshot()
            return
        snap = indexer.build(self.store, self.embedder, self._snap, self.settings.flat_max)
        indexer.save(snap, self.dir)
        self._record(snap)
        self._snap = snap

    def _record(self, snap: indexer.Snapshot) -> None:
        """Keep the manifest's description of the derived indexes true after a (re)build."""
        if (snap.vectors.kind, snap.keywords.params) != (self.manifest.vector_index, self.manifest.bm25):
            self.manifest.vector_index, self.manifest.bm25 = snap.vectors.kind, dict(snap.keywords.params)
            self.backends = (vector_backend(self.manifest.vector_index), keyword_backend(self.manifest.keyword_index))
            self.save_manifest()

    def remove(self, id_or_path: str) -> bool:
        with self._write_lock, self.store.ingest_lock():
            doc_id = self.store.find_doc_id(id_or_path)
            if doc_id is None:
                return False
            self.store.delete_document(doc_id)
            self._refresh()
        return True

    # -- reads --------------------------------------------------------------------
    def search(self, query: str, k: int = 10, mode: str = "hybrid", filters: SearchFilters | None = None,
               collapse: bool = True, per_doc: int | None = None, as_of: str | None = None,
               all_versions: bool = False, window: int | None = None, feedback: bool = True) -> list[Hit]:
        """Hits on ``as_of`` (default today): of each text only the version in force, unless
        ``all_versions``. ``window``: widen hits up to this many characters (None: the config's).
        ``feedback``: widen the keyword query with the first hits' words (kb/feedback.py) and, for a
        question in words no text uses, with the nearest quoted phrase's (kb/formulations.py)."""
        return run_search(self.store, self.snapshot(), self._query_vector, query, k=k, mode=mode,
                          filters=filters, collapse=collapse, per_doc=per_doc, config=self.search_config,
                          validity=self.validity(as_of), all_versions=all_versions, window=window,
                          feedback=feedback, bridge=self._bridge if feedback else None)

    def _bridge(self, vector, m: int) -> list[str]:
        """The corpus's ``m`` quoted phrases nearest a query vector, mined once a generation."""
        key = (self.store.generation(), self.embedder.name)  # kb reindex changes the embedder, not the store
        with self._phrases_lock:
            if self._phrases is None or self._phrases[:2] != key:
                self._phrases = (*key, formulations.load(self.store, self.embedder, self.search_config.bridge_min_docs))
            return self._phrases[2].nearest(vector, m)

    def query_plan(self, query: str, as_of: str | None = None, mode: str = "hybrid") -> QueryPlan:
        """What ``query`` asks for besides its topic (places, years, kinds, intent), as search reads it,
        and the quoted phrases a search in ``mode`` borrows words from (kb/formulations.py)."""
        qp = plan(query, self.validity(as_of).as_of)
        if bridges(mode, self.search_config, qp):
            pq = parse_query(query)
            qp.bridge = formulations.bridged_phrases(
                query_terms(pq), self.snapshot().keywords.doc_freqs,
                lambda: self._bridge(self._query_vector(dense_text(pq)), self.search_config.bridge_phrases),
                qp.words())
        return qp

    def validity(self, as_of: str | None = None) -> ValidityView:
        """Statuses of every text on ``as_of`` (ISO date, default today), for this generation."""
        try:
            day = check_date(as_of) or today()
        except ValueError as e:
            raise InvalidInput(str(e)) from None
        return self._views.get(self.store, day)

    def versions(self, title_or_id: str, as_of: str | None = None) -> dict:
        """A text's version group: each version's status, dates and history, newest first."""
        return catalog.versions(self, title_or_id, as_of)

    @functools.lru_cache(maxsize=1024)  # noqa: B019 — one KnowledgeBase per index, kept for the process
    def _query_vector(self, text: str):
        """Embedding a query is most of a search's time, and the web page asks the same query
        again for search, ask and compare. Concurrent searches share model calls."""
        return self._batcher(text)

    def ask(self, question: str, k: int = 5, as_of: str | None = None) -> AskResult:
        from kb.ask import answer, gather, name_quoted
        # an answer quotes what matches the question itself: feedback words widen a page of ten for
        # recall and would reorder the five passages an answer weighs (kb ask dev 19/20 either way)
        hits = gather(question, lambda q, n: self.search(q, k=n, as_of=as_of, feedback=False), k)
        out = answer(question, hits, self.embedder, settings=self.settings,
                     query_vector=self._query_vector(question.strip()),
                     vectors=lambda texts: indexer.passage_vectors(self.store, self.embedder, texts))
        return name_quoted(out, self.passage)

    def compare(self, query: str, by: str = "region", filters: SearchFilters | None = None,
                as_of: str | None = None) -> CompareResult:
        from kb.compare import compare
        return compare(self, query, by=by, filters=filters, as_of=as_of)

    def matrix(self, query: str, aspects: list[str] | str | None = None, places: list[str] | str | None = None,
               by: str = "region", filters: SearchFilters | None = None,
               as_of: str | None = None) -> dict:
        """The comparison matrix: aspects × places, each cell its best passage or None (kb/matrix.py)."""
        from kb.matrix import matrix
        return matrix(self, query, aspects=aspects, places=places, by=by, filters=filters, as_of=as_of)

    def documents(self, filters: SearchFilters | None = None, offset: int = 0, limit: int = 50,
                  status: str | None = None, as_of: str | None = None) -> tuple[int, list]:
        """(total, rows) of the documents matching ``filters`` and, if given, having ``status`` on
        ``as_of`` (default today): ``kb docs --json`` rows."""
        return catalog.documents(self, filters, offset, limit, status, as_of)

    def document(self, id_or_path: str) -> DocumentDetail:
        """Metadata, validity, text, sections and chunks of one document: ``kb doc --json``."""
        return catalog.document(self, id_or_path)

    def passage(self, doc_id: str, start: int, end: int) -> dict:
        """An exact span of a document with its citation narrowed to the article or section it falls
        in (an article range when it spans several), for the quote basket and exports."""
        return catalog.passage(self, doc_id, start, end)

    def stats(self) -> dict:
        docs, chunks = self.store.counts()
        return {
            "documents": docs, "chunks": chunks, "embedder": self.manifest.embedder, "dim": self.manifest.dim,
            "index_kind": self.manifest.vector_index, "generation": self.store.generation(),
            "by_type": self.store.count_by("doc_type"), "by_region": self.store.count_by("region"),
        }

    def check(self, repair: bool = True) -> dict:
        from kb.check import check
        return check(self, repair=repair)

    def close(self) -> None:
        self.store.close()


__all__ = ["KnowledgeBase", "doc_id_for"]
