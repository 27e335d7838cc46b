"""Passage windows: match on article-sized chunks, return a little more.

A hit's chunk is widened with its neighbouring chunks of the same top-level section
(the next article first, then the previous) up to a character budget — in a law with no
chapters every article is top-level, and the articles count as one section — so a result
shows the provision together with the sentences that complete it (the amount in the
next clause, the list in the next article). The span stays exact: text == doc.text[start:end].
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from kb.store import Row, Store

REACH = 4  # neighbours considered on each side


@dataclass
class Window:
    start: int
    end: int
    page: int | None
    text: str
    first: list[str] | None = None  # section paths of the first and last chunk in the window,
    last: list[str] | None = None  # so a citation can name the range it covers (第四条至第九条)


@lru_cache(maxsize=16384)  # a pure function of the stored JSON, and the same sections recur in every search
def section_path(section_json: str) -> tuple[str, ...]:
    return tuple(json.loads(section_json))


@lru_cache(maxsize=16384)
def _top(section_json: str) -> tuple[str, ...]:
    """The top-level section a chunk belongs to; articles of a law without chapters share one."""
    from ingest.structure import is_article

    top = section_path(section_json)[:1]
    return ("第X条",) if top and is_article(top[0]) else top


def neighbours(store: Store, rows: list[Row]) -> dict[int, list[Row]]:
    """``widen``'s neighbours of each row in one statement by chunk id, not one doc_id/ord query per
    row (which also reads every chunk of a long law). Store.put_document gives a document's chunks
    consecutive ids in ord order, so the ids around a chunk are usually its neighbours. A row gets an
    entry only when every ord of its reach came back, which (ords being unique per document) is the
    doc_id/ord answer exactly; near a document's end a missing ord may lie elsewhere, so such a row
    gets none and ``widen`` queries for it."""
    ids = sorted({row["chunk_id"] + d for row in rows for d in range(-REACH, REACH + 1)})
    if not ids:
        return {}
    found = {r["chunk_id"]: r for r in store.chunk_places(ids)}
    out: dict[int, list[Row]] = {}
    for row in rows:
        cid, doc, o = row["chunk_id"], row["doc_id"], row["ord"]
        near = [r for c in range(cid - REACH, cid + REACH + 1)
                if (r := found.get(c)) is not None and r["doc_id"] == doc and abs(r["ord"] - o) <= REACH]
        near.sort(key=lambda r: r["ord"])
        if [r["ord"] for r in near] == list(range(max(0, o - REACH), o + REACH + 1)):
            out[cid] = near
    return out


def widen(store: Store, row: Row, budget: int, avoid: list[tuple[int, int]] = (),
          near: list[Row] | None = None) -> Window:
    """``avoid``: spans of this document already shown in better-ranked hits; never grow into them.
    ``near``: the row's neighbours when already fetched (``neighbours``)."""
    start, end, page = row["pos_start"], row["pos_end"], row["page"]
    if budget > end - start:
        if near is None:
            near = store.chunks_around(row["doc_id"], row["ord"] - REACH, row["ord"] + REACH)
        me = next((i for i, n in enumerate(near) if n["ord"] == row["ord"]), None)
        if me is None:  # the document changed under us: show the chunk as it is
            return Window(start, end, page, row["text"])
        top = _top(near[me]["section"])
        lo = hi = me
        grew = True
        while grew:
            grew = False
            for j in (hi + 1, lo - 1):  # following text first: it usually completes the provision
                if 0 <= j < len(near):
                    n = near[j]
                    s, e = min(start, n["pos_start"]), max(end, n["pos_end"])
                    if (e - s <= budget and _top(n["section"]) == top
                            and not any(a < n["pos_end"] and n["pos_start"] < b for a, b in avoid)):
                        start, end, grew = s, e, True
                        if j > hi:
                            hi = j
                        else:
                            lo, page = j, n["page"]
        first, last = list(section_path(near[lo]["section"])), list(section_path(near[hi]["section"]))
    else:
        first = last = None
    text = row["text"] if (start, end) == (row["pos_start"], row["pos_end"]) else \
        store.text_span(row["doc_id"], start, end)
    return Window(start, end, page, text, first, last)
