"""Where the query's terms and phrases occur inside a passage, as merged [start, end] offsets."""

from __future__ import annotations

import string
from collections.abc import Sequence
from functools import lru_cache

# full-width ASCII forms (２５, ＡＩ) → ASCII, then ASCII lower-cased: one character for one,
# so offsets in the folded text are offsets in the original (terms come NFKC'd and lower-cased)
_FOLD: dict[int, int | str] = dict(str.maketrans(string.ascii_uppercase, string.ascii_lowercase))
_FOLD.update({0xFF01 + i: chr(0x21 + i).lower() for i in range(0x5E)})


def _fold(s: str) -> str:
    return s.translate(_FOLD)


def _word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _find_all(hay: str, needle: str, whole_word: bool = False) -> list[tuple[int, int]]:
    """[start, end] of every occurrence; ``whole_word`` keeps ASCII words from lighting up
    inside longer ones (ai inside 'main')."""
    out = []
    start = hay.find(needle)
    while start >= 0:
        end = start + len(needle)
        if not whole_word or (
            (start == 0 or not _word_char(hay[start - 1])) and (end == len(hay) or not _word_char(hay[end]))
        ):
            out.append((start, end))
        start = hay.find(needle, start + 1)
    return out


@lru_cache(maxsize=256)
def _plan(terms: tuple[str, ...], phrases: tuple[str, ...]) -> tuple[tuple[tuple[str, bool, bool], ...], tuple[str, ...]]:
    """Per query, not per hit: the folded terms to look for as (term, whole_word, needs the folded
    text). A term without ASCII characters matches the folded text exactly where it matches the
    text itself (folding only changes characters into ASCII), so most passages are never folded."""
    plan = []
    for term in dict.fromkeys(_fold(t.strip()) for t in terms):
        if term.isascii() and term.isalnum():
            plan.append((term, True, True))
        elif len(term) >= 2:  # single characters (法, 条) would light up half the passage
            plan.append((term, False, any(ch.isascii() for ch in term)))
    return tuple(plan), tuple(p for p in dict.fromkeys(phrases) if p)


def highlight_spans(text: str, terms: list[str], phrases: Sequence[str] = ()) -> list[list[int]]:
    """Sorted, merged [start, end] offsets in ``text`` of every term (CJK terms of two or more
    characters, or ASCII words, matched case- and width-insensitively) and every phrase
    (verbatim). Overlapping and touching spans are merged."""
    if not text:
        return []
    plan, phrases = _plan(tuple(terms), tuple(phrases))
    folded = None
    spans: list[tuple[int, int]] = []
    for term, whole_word, needs_fold in plan:
        if needs_fold:
            if folded is None:
                folded = _fold(text)
            spans += _find_all(folded, term, whole_word)
        else:  # _find_all inlined: the common case, and most terms are not in most passages
            n = len(term)
            at = text.find(term)
            while at >= 0:
                spans.append((at, at + n))
                at = text.find(term, at + 1)
    for phrase in phrases:
        spans += _find_all(text, phrase)
    if not spans:
        return []
    spans.sort()
    merged: list[list[int]] = []
    lo, hi = spans[0]
    for s, e in spans:
        if s <= hi:
            if e > hi:
                hi = e
        else:
            merged.append([lo, hi])
            lo, hi = s, e
    merged.append([lo, hi])
    return merged
