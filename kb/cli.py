"""`kb`: the command line, a thin layer over KnowledgeBase."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from kb.errors import KBError
from kb.records import SearchFilters

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="法治文库 fazhi-kb: search Chinese rule-of-law documents, every passage with its source.")

IndexOpt = Annotated[Path | None, typer.Option("--index", help="index folder (default $KB_INDEX or indexes/default)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON output")]


def _open(index: Path | None, embedder: str | None = None, create: bool = False):
    from kb.core import KnowledgeBase
    return KnowledgeBase(index, embedder=embedder, create=create)


def _dump(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _filters(doc_type, region, year_from, year_to, path) -> SearchFilters:
    return SearchFilters(doc_type=doc_type, region=region, year_from=year_from, year_to=year_to, path_prefix=path)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders")] = None,
    index: IndexOpt = None,
    embedder: Annotated[str | None, typer.Option(help="e5-small (default) | st:<model-or-path> | fake")] = None,
    root: Annotated[Path | None, typer.Option(help="document paths are relative to this folder")] = None,
    list_file: Annotated[Path | None, typer.Option("--list", help="file with one path per line (relative to --root)")]
    = None,
    as_json: JsonOpt = False,
    sync: Annotated[bool, typer.Option("--sync", help="also remove stored documents whose files under the "
                                                        "given folders are gone (mirror a folder)")] = False,
    report: Annotated[Path | None, typer.Option("--report", help="write a JSON report: one entry per file "
                                                                 "with its status and reason")] = None,
) -> None:
    """Load, clean, structure, chunk, embed and index documents. Unchanged files are skipped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    targets = list(paths or [])
    if list_file is not None:
        base = root or list_file.parent
        targets += [base / line.strip() for line in list_file.read_text(encoding="utf-8").splitlines()
                    if line.strip() and not line.startswith("#")]
        root = base
    if not targets:
        raise KBError("give files or folders to ingest (or --list FILE)")
    kbase = _open(index, embedder, create=True)
    labels = {"parse": "读取解析 parse", "embed": "向量化 embed", "store": "写入 store"}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  disable=as_json or not sys.stderr.isatty(), console=None, transient=False) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)
        summary = kbase.ingest(targets, root=root, progress=progress, sync=sync)
    if report is not None:
        report.write_text(json.dumps({"index": str(kbase.dir), "summary": summary.line(), "files": summary.entries()},
                                     ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if as_json:
        _dump(summary.to_dict())
    else:
        err = typer.echo
        err(f"{summary.line()}  → {kbase.dir}")
        for path, reason in summary.failed:
            err(f"  FAILED  {path}: {reason}")
        for path, reason in summary.warnings:
            err(f"  warning {path}: {reason}")
        for path, reason in summary.skipped:
            err(f"  skipped {path}: {reason}")
        for path in summary.removed:
            err(f"  removed {path}: its file is gone")
    raise typer.Exit(2 if summary.failed else 0)


@app.command()
def remove(id_or_path: str, index: IndexOpt = None) -> None:
    """Delete one document (by doc_id or path) from the store and the indexes."""
    if not _open(index).remove(id_or_path):
        raise KBError(f"no document '{id_or_path}' in this index")
    typer.echo(f"removed {id_or_path}")


@app.command()
def docs(index: IndexOpt = None, as_json: JsonOpt = False,
         doc_type: Annotated[str | None, typer.Option("--type")] = None,
         region: str | None = None, limit: int = 10_000) -> None:
    """List documents with their metadata."""
    _total, rows = _open(index).documents(_filters(doc_type, region, None, None, None), limit=limit)
    if as_json:
        _dump(rows)
        return
    for r in rows:
        typer.echo(f"{r['doc_id']}  {r['doc_type']:<16} {r['date'] or '-':<10} {r['region'] or '-':<14} "
                   f"{r['title']}  [{r['path']}] {r['chunks']} chunks")


@app.command()
def doc(id_or_path: str, index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Show one document: metadata, text, sections and chunks."""
    d = _open(index).document(id_or_path)
    if as_json:
        _dump(d)
        return
    for key in ("doc_id", "path", "title", "doc_type", "region", "date", "issuer", "doc_number"):
        typer.echo(f"{key:>10}: {d[key]}")
    r = d.get("report") or {}
    if r:
        ocr = f", OCR'd pages {r['pages_ocr']} (confidence {r['ocr_confidence']})" if r.get("pages_ocr") else ""
        typer.echo(f"{'report':>10}: {r.get('chars', 0)} chars" + (f", {r['pages']} pages" if r.get("pages") else "")
                   + ocr + (f", pages without text {r['pages_failed']}" if r.get("pages_failed") else ""))
        for w in r.get("warnings", []):
            typer.echo(f"{'':12}warning: {w}")
    typer.echo(f"{'sections':>10}:")
    for s in d["sections"]:
        typer.echo(f"{'':12}{' › '.join(s['path'])}  [{s['start']}:{s['end']}]")
    typer.echo(f"{'chunks':>10}: {len(d['chunks'])}")


def _print_hits(hits) -> None:
    for rank, h in enumerate(hits, 1):
        text, marked, last = h.text, [], 0
        for s, e in h.highlights:
            marked += [text[last:s], typer.style(text[s:e], fg="red", bold=True)]
            last = e
        marked.append(text[last:])
        typer.echo(typer.style(f"[{rank}] {h.citation}", bold=True) + f"  ({h.region or '-'}, {h.doc_type}, "
                   f"score {h.score:.4f})")
        if h.section:
            typer.echo("    " + " › ".join(h.section))
        typer.echo("    " + "".join(marked).replace("\n", "\n    "))
        if h.also_in:
            typer.echo(f"    另见 {len(h.also_in)} 篇: " + "；".join(a["title"] for a in h.also_in[:5]))
        typer.echo("")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='the query; "-" reads one query per line from stdin')],
    index: IndexOpt = None, as_json: JsonOpt = False,
    k: Annotated[int, typer.Option("-k", help="number of hits")] = 10,
    mode: Annotated[str, typer.Option(help="hybrid | dense | lexical")] = "hybrid",
    doc_type: Annotated[str | None, typer.Option("--type", help="doc type(s), comma-separated")] = None,
    region: Annotated[str | None, typer.Option(help="region at any level, e.g. 河南")] = None,
    year_from: int | None = None, year_to: int | None = None,
    path: Annotated[str | None, typer.Option("--path", help="document path prefix")] = None,
) -> None:
    """Hybrid (dense + BM25) search; each hit with its citation and exact span."""
    kbase = _open(index)
    filters = _filters(doc_type, region, year_from, year_to, path)
    if query == "-":
        for line in sys.stdin:
            q = line.strip()
            hits = kbase.search(q, k=k, mode=mode, filters=filters) if q else []
            _dump([h.to_dict() for h in hits]) if as_json else _print_hits(hits)
            sys.stdout.flush()
        return
    hits = kbase.search(query, k=k, mode=mode, filters=filters)
    if as_json:
        _dump([h.to_dict() for h in hits])
    elif not hits:
        typer.echo("未找到匹配的段落 (no matching passages)")
    else:
        _print_hits(hits)


@app.command()
def ask(question: str, index: IndexOpt = None, as_json: JsonOpt = False, k: int = 5) -> None:
    """Answer a question from the documents, every sentence with its citation (extractive by default)."""
    res = _open(index).ask(question, k=k)
    if as_json:
        _dump(res)
        return
    if res.get("note"):
        typer.echo(f"（{res['note']}）")
    typer.echo(res["answer"])
    for i, c in enumerate(res.get("citations", []), 1):
        typer.echo(f"  [{i}] {c['citation']}  ({c['path']} {c['start']}–{c['end']})")


@app.command()
def compare(query: str, index: IndexOpt = None, as_json: JsonOpt = False,
            by: Annotated[str, typer.Option(help="region | province | doc_type | year")] = "region") -> None:
    """How different regions (or types/years) wrote the same measure, side by side."""
    res = _open(index).compare(query, by=by)
    if as_json:
        _dump(res)
        return
    for g in res["groups"]:
        typer.echo(typer.style(f"■ {g['key']}", bold=True))
        for h in g["hits"]:
            typer.echo(f"  {h['citation']}\n    {h['text'][:160]}")
    if res.get("missing"):
        typer.echo("未涉及 (no matching passage): " + "、".join(res["missing"]))


@app.command(name="eval")
def evaluate(file: Path, index: IndexOpt = None, as_json: JsonOpt = False,
             mode: Annotated[str, typer.Option(help="hybrid | dense | lexical")] = "hybrid",
             ask_mode: Annotated[bool, typer.Option("--ask", help="also score Q&A answers")] = False) -> None:
    """Score a retrieval set (../shared/eval format): nDCG@10, Recall@10, MRR@10, answer-key hits."""
    from kb.evaluate import evaluate as run_eval
    from kb.evaluate import format_report
    report = run_eval(_open(index), file, mode=mode, ask=ask_mode)
    _dump(report) if as_json else typer.echo(format_report(report))


@app.command()
def check(index: IndexOpt = None, as_json: JsonOpt = False,
          repair: Annotated[bool, typer.Option(help="first rebuild indexes left stale by a crash")] = True) -> None:
    """Verify that store, FAISS and BM25 agree (every chunk in all three, nothing extra)."""
    res = _open(index).check(repair=repair)
    if as_json:
        _dump(res)
    else:
        typer.echo(f"{'OK' if res['ok'] else 'PROBLEMS'}: {res['documents']} documents, {res['chunks']} chunks, "
                   f"generation {res['generation']}")
        if res.get("repaired"):
            typer.echo(f"  repaired: {res['repaired']}")
        for p in res["problems"]:
            typer.echo(f"  - {p}")
    raise typer.Exit(0 if res["ok"] else 1)


@app.command()
def stats(index: IndexOpt = None) -> None:
    """Counts by type and region, embedder and index kind (JSON)."""
    _dump(_open(index).stats())


@app.command()
def serve(index: IndexOpt = None, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the web page and the JSON API."""
    import uvicorn

    from api.app import create_app
    uvicorn.run(create_app(_open(index)), host=host, port=port)


def main() -> None:
    """The console script. Typer's standalone mode turns typer.Exit into the exit status, usage
    errors into 2 with the usage text, and Ctrl-C into 1; only KBError is ours to render."""
    try:
        app(standalone_mode=True)
    except KBError as e:
        typer.echo(f"error: {e.detail}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
