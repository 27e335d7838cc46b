"""`kb` commands that look after the index itself: reindex, migrate, eval, check, stats, serve, mcp."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kb.cli_common import IndexOpt, JsonOpt, app, dump_json, open_index


@app.command()
def reindex(
    embedder: Annotated[str, typer.Option(help="the embedder to search the index with from now on "
                                               "(e5-small | e5-small-fazhi | st:<model-or-path> | fake)")],
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-embed the stored chunk texts with another embedder and switch the index to it (no re-ingest;
    vectors already in the embedding cache are reused). Restart servers using the index afterwards."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from kb.reindex import reindex as run_reindex
    kbase = open_index(index)
    with Progress(TextColumn("向量化 embed"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  disable=as_json or not sys.stderr.isatty()) as bar:
        task = bar.add_task("embed", total=None)
        summary = run_reindex(kbase, embedder, lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        dump_json({"embedder": summary.embedder, "previous": summary.previous, "chunks": summary.chunks,
                   "embedded": summary.embedded, "seconds": round(summary.seconds, 2)})
    else:
        typer.echo(f"{summary.line()}  → {kbase.where}")


@app.command()
def migrate(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Move an index's store into PostgreSQL (KB_DATABASE_URL): no file read or embedded again."""
    from kb.migrate import migrate as run
    from kb.settings import Settings
    settings = Settings()
    done = run(index or settings.index, settings)
    dump_json(done) if as_json else typer.echo(
        f"{done['rows']['documents']} documents, {done['rows']['chunks']} chunks → {done['to']}; "
        f"serve it with KB_DATABASE_URL set")


@app.command(name="eval")
def evaluate(file: Path, index: IndexOpt = None, as_json: JsonOpt = False,
             mode: Annotated[str, typer.Option(help="hybrid | dense | lexical")] = "hybrid",
             ask_mode: Annotated[bool, typer.Option("--ask", help="also score Q&A answers")] = False) -> None:
    """Score a retrieval set (../shared/eval format): nDCG@10, Recall@10, MRR@10, answer-key hits."""
    from kb.evaluate import evaluate as run_eval
    from kb.evaluate import format_report
    report = run_eval(open_index(index), file, mode=mode, ask=ask_mode)
    dump_json(report) if as_json else typer.echo(format_report(report))


@app.command()
def check(index: IndexOpt = None, as_json: JsonOpt = False,
          repair: Annotated[bool, typer.Option(help="first rebuild indexes left stale by a crash")] = True) -> None:
    """Verify that store, FAISS and BM25 agree (every chunk in all three, nothing extra)."""
    res = open_index(index).check(repair=repair)
    if as_json:
        dump_json(res)
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
    dump_json(open_index(index).stats())


@app.command()
def serve(index: IndexOpt = None, host: str = "127.0.0.1", port: int = 8000,
          mcp: Annotated[bool, typer.Option("--mcp", help="also serve the MCP tools at /mcp (streamable HTTP)")]
          = False) -> None:
    """Serve the web page and the JSON API."""
    import uvicorn

    from api.app import create_app
    uvicorn.run(create_app(open_index(index), mcp=mcp, host=host), host=host, port=port)


@app.command(name="mcp")
def mcp_stdio(index: IndexOpt = None) -> None:
    """Serve read-only MCP tools (search, get_passage, get_document, ask, compare) over stdio, for assistants."""
    from kb.mcp_server import run_stdio
    run_stdio(open_index(index))
