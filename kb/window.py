"""Passage windows: match on article-sized chunks, return a little more.

A hit's chunk is widened with its neighbouring chunks of the same top-level section
(the next article first, then the previous) up to a character budget — in a law with no
chapters every article is top-level, and the articles count as one section — so a result
shows the provision together with the sentences that complete it (the amount in the
next clause, the list in the next article). The span stays exact: text == doc.text[start:end].
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from kb.store import Store

REACH = 4  # neighbours considered on each side


@dataclass
class Window:
    start: int
    end: int
    page: int | None
    text: str
    first: list[str] | None = None  # section paths of the first and last chunk in the window,
    last: list[str] | None = None  # so a citation can name the range it covers (第四条至第九条)


def _top(section_json: str) -> list[str]:
    """The top-level section a chunk belongs to; articles of a law without chapters share one."""
    from ingest.structure import is_article

    top = json.loads(section_json)[:1]
    return ["第X条"] if top and is_article(top[0]) else top


def widen(store: Store, row: sqlite3.Row, budget: int, avoid: list[tuple[int, int]] = ()) -> Window:
    """``avoid``: spans of this document already shown in better-ranked hits; never grow into them."""
    start, end, page = row["pos_start"], row["pos_end"], row["page"]
    if budget > end - start:
        near = store.con.execute(
            "SELECT ord, section, pos_start, pos_end, page FROM chunks WHERE doc_id = ? AND ord BETWEEN ? AND ?"
            " ORDER BY ord", (row["doc_id"], row["ord"] - REACH, row["ord"] + REACH)).fetchall()
        me = next((i for i, n in enumerate(near) if n["ord"] == row["ord"]), None)
        if me is None:  # the document changed under us: show the chunk as it is
            return Window(start, end, page, row["text"])
        tops = [_top(n["section"]) for n in near]  # once per neighbour, not per growth step
        top = tops[me]
        first = last = None
        lo = hi = me
        grew = True
        while grew:
            grew = False
            for j in (hi + 1, lo - 1):  # following text first: it usually completes the provision
                if (0 <= j < len(near) and tops[j] == top
                        and not any(a < near[j]["pos_end"] and near[j]["pos_start"] < b for a, b in avoid)):
                    s, e = min(start, near[j]["pos_start"]), max(end, near[j]["pos_end"])
                    if e - s <= budget:
                        start, end, grew = s, e, True
                        if j > hi:
                            hi = j
                        else:
                            lo, page = j, near[j]["page"]
        first, last = json.loads(near[lo]["section"]), json.loads(near[hi]["section"])
    else:
        first = last = None
    text = row["text"] if (start, end) == (row["pos_start"], row["pos_end"]) else store.con.execute(
        "SELECT substr(text, ?, ?) FROM documents WHERE doc_id = ?", (start + 1, end - start, row["doc_id"])
    ).fetchone()[0]
    return Window(start, end, page, text, first, last)
