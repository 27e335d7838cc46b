"""What every `kb` command shares: the Typer app, the common options, opening the index, JSON output.
The commands are in kb/cli.py (documents, search and answers) and kb/cli_admin.py (the index itself)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from kb.records import SearchFilters

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="法治文库 fazhi-kb: search Chinese rule-of-law documents, every passage with its source.")

IndexOpt = Annotated[Path | None, typer.Option("--index", help="index folder (default $KB_INDEX or indexes/default)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON output")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="validity as of this date, YYYY-MM-DD (default today)")]


def open_index(index: Path | None, embedder: str | None = None, create: bool = False):
    from kb.core import KnowledgeBase
    return KnowledgeBase(index, embedder=embedder, create=create)


def dump_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def filters_from(doc_type, region, year_from, year_to, path) -> SearchFilters:
    return SearchFilters(doc_type=doc_type, region=region, year_from=year_from, year_to=year_to, path_prefix=path)


