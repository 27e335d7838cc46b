"""Where the query's terms and phrases occur inside a passage, as merged [start, end] offsets."""

from __future__ import annotations

import string

# full-width ASCII forms (２５, ＡＩ) → ASCII, then ASCII lower-cased: one character for one,
# so offsets in the folded text are offsets in the original (terms come NFKC'd and lower-cased)
_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_FOLD.update({0xFF01 + i: chr(0x21 + i).lower() for i in range(0x5E)})


def _fold(s: str) -> str:
    return s.translate(_FOLD)


def _word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _find_all(hay: str, needle: str, whole_word: bool = False) -> list[list[int]]:
    """[start, end] of every occurrence; ``whole_word`` keeps ASCII words from lighting up
    inside longer ones (ai inside 'main')."""
    out = []
    start = hay.find(needle)
    while start >= 0:
        end = start + len(needle)
        if not whole_word or (
            (start == 0 or not _word_char(hay[start - 1])) and (end == len(hay) or not _word_char(hay[end]))
        ):
            out.append([start, end])
        start = hay.find(needle, start + 1)
    return out


def highlight_spans(text: str, terms: list[str], phrases: list[str] = ()) -> list[list[int]]:
    """Sorted, merged [start, end] offsets in ``text`` of every term (CJK terms of two or more
    characters, or ASCII words, matched case- and width-insensitively) and every phrase
    (verbatim). Overlapping and touching spans are merged."""
    if not text:
        return []
    folded = _fold(text)
    spans: list[list[int]] = []
    for term in dict.fromkeys(_fold(t.strip()) for t in terms):
        if term.isascii() and term.isalnum():
            spans += _find_all(folded, term, whole_word=True)
        elif len(term) >= 2:  # single characters (法, 条) would light up half the passage
            spans += _find_all(folded, term)
    for phrase in dict.fromkeys(phrases):
        if phrase:
            spans += _find_all(text, phrase)
    spans.sort()
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return merged
