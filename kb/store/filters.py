"""SearchFilters → WHERE clauses over the documents table: one translation shared by search and
document listing, so a filter means the same everywhere."""

from __future__ import annotations

from kb.records import SearchFilters


def filter_where(filters: SearchFilters | None, alias: str = "") -> tuple[list[str], list]:
    """WHERE clauses and their arguments over the documents table (aliased ``alias``) for ``filters``."""
    p = f"{alias}." if alias else ""
    where: list[str] = []
    args: list = []
    if filters is None:
        return where, args
    if filters.doc_type:
        types = [t.strip() for t in filters.doc_type.split(",") if t.strip()]
        where.append(f"{p}doc_type IN ({','.join('?' * len(types))})")
        args += types
    if filters.region:
        where.append(f"instr({p}region, ?) > 0")
        args.append(filters.region.strip())
    if filters.year_from is not None:
        where.append(f"{p}year >= ?")
        args.append(int(filters.year_from))
    if filters.year_to is not None:
        where.append(f"{p}year <= ?")
        args.append(int(filters.year_to))
    if filters.path_prefix:
        where.append(f"substr({p}path, 1, ?) = ?")
        args += [len(filters.path_prefix), filters.path_prefix]
    return where, args
