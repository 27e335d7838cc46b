"""`kb`: the command line, a thin layer over KnowledgeBase."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from kb.cli_common import AsOfOpt, IndexOpt, JsonOpt, app, dump_json, filters_from, open_index
from kb.errors import KBError
from kb.validity import LABELS


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="files or folders")] = None,
    index: IndexOpt = None,
    embedder: Annotated[str | None, typer.Option(help="e5-small (default) | e5-small-fazhi | st:<model-or-path> "
                                                     "| fake")] = None,
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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
    targets = list(paths or [])
    if list_file is not None:
        base = root or list_file.parent
        targets += [base / line.strip() for line in list_file.read_text(encoding="utf-8").splitlines()
                    if line.strip() and not line.startswith("#")]
        root = base
    if not targets:
        raise KBError("give files or folders to ingest (or --list FILE)")
    kbase = open_index(index, embedder, create=True)
    labels = {"parse": "读取解析 parse", "embed": "向量化 embed", "store": "写入 store"}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  disable=as_json or not sys.stderr.isatty(), console=None, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)
        summary = kbase.ingest(targets, root=root, progress=progress, sync=sync)
    if report is not None:
        report.write_text(json.dumps({"index": str(kbase.where), "summary": summary.line(), "files": summary.entries()},
                                     ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if as_json:
        dump_json(summary.to_dict())
    else:
        err = typer.echo
        err(f"{summary.line()}  → {kbase.where}")
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
    if not open_index(index).remove(id_or_path):
        raise KBError(f"no document '{id_or_path}' in this index")
    typer.echo(f"removed {id_or_path}")


@app.command()
def docs(index: IndexOpt = None, as_json: JsonOpt = False,
         doc_type: Annotated[str | None, typer.Option("--type")] = None,
         region: str | None = None, limit: int = 10_000,
         status: Annotated[str | None, typer.Option(
             help="current | superseded | repealed | expired | not_yet_effective | unknown")] = None,
         as_of: AsOfOpt = None) -> None:
    """List documents with their metadata and validity status."""
    _total, rows = open_index(index).documents(filters_from(doc_type, region, None, None, None), limit=limit,
                                               status=status, as_of=as_of)
    if as_json:
        dump_json(rows)
        return
    for r in rows:
        badge = r["status_label"] if r["level"] != "none" else ""
        typer.echo(f"{r['doc_id']}  {r['doc_type']:<16} {r['date'] or '-':<10} {r['region'] or '-':<14} "
                   f"{r['title']}{r['version']} {badge} [{r['path']}] {r['chunks']} chunks")


@app.command()
def doc(id_or_path: str, index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Show one document: metadata, text, sections and chunks."""
    d = open_index(index).document(id_or_path)
    if as_json:
        dump_json(d.to_dict())
        return
    for key in ("doc_id", "path", "title", "doc_type", "region", "date", "issuer", "doc_number", "level",
                "organ", "promulgated", "effective", "expires", "status_label"):
        value = getattr(d, key)
        typer.echo(f"{key:>12}: {value if value is not None else '-'}")
    for h in d.history:
        typer.echo(f"{'':14}{h['date']} {h['event']}  {h['text'][:60]}")
    r = d.report
    if r:
        ocr = f", OCR'd pages {r['pages_ocr']} (confidence {r['ocr_confidence']})" if r.get("pages_ocr") else ""
        typer.echo(f"{'report':>12}: {r.get('chars', 0)} chars" + (f", {r['pages']} pages" if r.get("pages") else "")
                   + ocr + (f", pages without text {r['pages_failed']}" if r.get("pages_failed") else ""))
        for w in r.get("warnings", []):
            typer.echo(f"{'':14}warning: {w}")
    typer.echo(f"{'sections':>10}:")
    for s in d.sections:
        typer.echo(f"{'':12}{' › '.join(s['path'])}  [{s['start']}:{s['end']}]")
    typer.echo(f"{'chunks':>10}: {len(d.chunks)}")


def _print_hits(hits) -> None:
    for rank, h in enumerate(hits, 1):
        text, marked, last = h.text, [], 0
        for s, e in h.highlights:
            marked += [text[last:s], typer.style(text[s:e], fg="red", bold=True)]
            last = e
        marked.append(text[last:])
        badge = f" 【{LABELS[h.status]}】" if h.level != "none" else ""
        typer.echo(typer.style(f"[{rank}] {h.citation}", bold=True) + badge + f"  ({h.region or '-'}, "
                   f"{h.doc_type}, score {h.score:.4f})")
        if h.section:
            typer.echo("    " + " › ".join(h.section))
        typer.echo("    " + "".join(marked).replace("\n", "\n    "))
        if h.also_in:
            typer.echo(f"    另见 {len(h.also_in)} 篇: " + "；".join(a["title"] for a in h.also_in[:5]))
        if h.versions:
            typer.echo("    其他版本: " + "；".join(f"{v['title']} {LABELS[v['status']]}" for v in h.versions))
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
    as_of: AsOfOpt = None,
    all_versions: Annotated[bool, typer.Option("--all-versions", help="every version of a text, each with its "
                                               "status (default: only the version in force)")] = False,
) -> None:
    """Hybrid (dense + BM25) search; each hit with its citation, exact span and validity status."""
    kbase = open_index(index)
    filters = filters_from(doc_type, region, year_from, year_to, path)
    opts = {"k": k, "mode": mode, "filters": filters, "as_of": as_of, "all_versions": all_versions}
    if query == "-":
        for line in sys.stdin:
            q = line.strip()
            hits = kbase.search(q, **opts) if q else []
            dump_json(_search_json(kbase, q, hits, as_of, mode)) if as_json else _print_hits(hits)
            sys.stdout.flush()
        return
    hits = kbase.search(query, **opts)
    if as_json:
        dump_json(_search_json(kbase, query, hits, as_of, mode))
    elif not hits:
        typer.echo("未找到匹配的段落 (no matching passages)")
    else:
        _print_hits(hits)


def _search_json(kbase, query: str, hits: list, as_of: str | None, mode: str) -> dict:
    """The shape of /api/search: the query plan and the hits."""
    plan = kbase.query_plan(query, as_of, mode).to_dict() if query else None
    return {"query_plan": plan, "hits": [h.to_dict() for h in hits]}


@app.command()
def ask(question: str, index: IndexOpt = None, as_json: JsonOpt = False, k: int = 5, as_of: AsOfOpt = None) -> None:
    """Answer a question from the texts in force, every sentence with its citation (extractive by default)."""
    res = open_index(index).ask(question, k=k, as_of=as_of)
    if as_json:
        dump_json(res.to_dict())
        return
    if res.note:
        typer.echo(f"（{res.note}）")
    typer.echo(res.answer)
    for i, c in enumerate(res.citations, 1):
        typer.echo(f"  [{i}] {c.citation}  ({c.path} {c.start}–{c.end})")


@app.command()
def compare(query: str, index: IndexOpt = None, as_json: JsonOpt = False,
            by: Annotated[str, typer.Option(help="region | province | doc_type | year")] = "region",
            aspects: Annotated[str | None, typer.Option(
                help="comparison matrix: its rows, comma-separated (e.g. 公众参与,专家论证); "
                     "with --matrix and no --aspects they are proposed from the best-matching normative text")] = None,
            places: Annotated[str | None, typer.Option(
                help="matrix columns, comma-separated: places (北京,上海,全国), or types / years with --by")] = None,
            matrix: Annotated[bool, typer.Option("--matrix", help="the comparison matrix (对比表)")] = False,
            export: Annotated[Path | None, typer.Option(
                help="write the matrix to FILE: .docx (公文 layout, a Word table), .md or .csv")] = None,
            as_of: AsOfOpt = None) -> None:
    """How different regions (or types/years) wrote the same measure, side by side; with --aspects,
    --places or --matrix a comparison matrix of aspects × places, one passage a cell."""
    if aspects is not None or places is not None or matrix or export is not None:
        _matrix(open_index(index), query, aspects, places, by, as_json, export, as_of)
        return
    res = open_index(index).compare(query, by=by, as_of=as_of)
    if as_json:
        dump_json(res.to_dict())
        return
    for g in res.groups:
        typer.echo(typer.style(f"■ {g.key}", bold=True))
        for h in g.hits:
            typer.echo(f"  {h.citation}\n    {h.text[:160]}")
    if res.missing:
        typer.echo("未涉及 (no matching passage): " + "、".join(res.missing))


@app.command()
def versions(title_or_id: Annotated[str, typer.Argument(help="a title (with or without 中华人民共和国), doc_id or path")],
             index: IndexOpt = None, as_json: JsonOpt = False, as_of: AsOfOpt = None) -> None:
    """Every version of a text: status, 公布/施行 dates and history, newest first."""
    res = open_index(index).versions(title_or_id, as_of=as_of)
    if as_json:
        dump_json(res)
        return
    typer.echo(f"{res['version_key']}  (as of {res['as_of']})")
    for v in res["versions"]:
        more = f" → {v['superseded_by']}" if v["superseded_by"] else ""
        more += f" 废止于 {v['repealed_on']} by {v['repealed_by']}" if v["repealed_by"] else ""
        typer.echo(typer.style(f"■ {v['title']}{v['version']}  {v['status_label']}{more}", bold=True))
        typer.echo(f"    公布 {v['promulgated'] or '-'}  施行 {v['effective'] or '-'}  [{v['doc_id']} {v['path']}]")
        for h in v["history"]:
            typer.echo(f"    {h['date']} {h['event']}")


def _matrix(kbase, query: str, aspects: str | None, places: str | None, by: str, as_json: bool,
            export: Path | None, as_of: str | None = None) -> None:
    from kb.matrix import EMPTY
    from kb.matrix_export import FORMATS, export_matrix
    fmt = export.suffix.lower().lstrip(".") if export is not None else None
    if export is not None and fmt not in FORMATS:
        raise KBError(f"--export: {export.name} must end in one of {', '.join('.' + f for f in FORMATS)}")
    m = kbase.matrix(query, aspects=aspects, places=places, by=by, as_of=as_of)
    if export is not None:
        content, _media, _name = export_matrix(kbase, m, export.suffix.lower().lstrip("."))
        export.write_bytes(content)
    if as_json:
        dump_json(m)
    else:
        if m["proposed"]:
            typer.echo(f"对比要点取自《{m['proposed_from']}》的章节标题（可用 --aspects 修改）：" + ",".join(m["aspects"]))
        cells = {(c["aspect"], c["column"]): c for c in m["cells"]}
        for a in m["aspects"]:
            typer.echo(typer.style(f"■ {a}", bold=True))
            for col in m["columns"]:
                c = cells[(a, col)]
                h = c["hit"]
                if h is None:
                    typer.echo(f"  {col}：{EMPTY}")
                    continue
                text = " ".join(h["text"].split())
                typer.echo(f"  {col}：{h['citation']}  (score {h['score']:.3f})" + (f"  〔{c['note']}〕" if c["note"] else ""))
                typer.echo(f"      {text[:150]}{'…' if len(text) > 150 else ''}")
    if export is not None:
        typer.echo(f"wrote {export}", err=True)


# the index-administration commands register after these, so `kb --help` lists them last
from kb import cli_admin  # noqa: E402,F401


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
