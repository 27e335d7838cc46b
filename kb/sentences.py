"""Quotable units of a passage for extractive answers: sentences, and enumerated items
together with the lead-in that gives them their meaning.

A law often states its rule in a lead-in and lists the cases below it:

    法律援助机构可以先行提供法律援助：
    （一）距法定时效或者期限届满不足七日，需要及时提起诉讼…；

The item alone never says 先行提供 and the lead-in alone says nothing, so each item is
judged (and quoted) with its lead-in, and the whole list is a unit of its own for
哪些 questions (kb/ask.py scores only the short ones whole and quotes a long one whole when
one of its items is picked). A short law article (第X条 …) is quoted whole: the rule, its deadline and its
exception (二十日内…；二十日内不能作出决定的，…可以延长十日) belong together, and an article is
what an official cites. Every unit is a list of exact (start, end) spans of the passage text.
"""

from __future__ import annotations

from dataclasses import dataclass

SENTENCE_END = "。！？!?"
CLAUSE_END = "；;"  # splits only sentences longer than LONG_SENTENCE: a ； usually joins one rule
CLOSERS = "”’」』）)】"  # kept with the sentence they close
LEAD_END = "：:"
ITEM_END = "；;。，,、"  # how a list item ends, unlike a heading
MIN_SENTENCE_CHARS = 8  # shorter pieces are headings or list stubs, not answers
LONG_SENTENCE = 160
ARTICLE_MAX_CHARS = 300  # a longer article is quoted sentence by sentence


@dataclass(frozen=True)
class Unit:
    spans: tuple[tuple[int, int], ...]  # exact offsets into the passage, in source order
    kind: str  # sentence | item | list
    # the spans that state something: an item without its lead-in, but a whole list with it
    # (本条例所称决策事项包括：… is the rule its items complete)
    body: tuple[tuple[int, int], ...]

    def text(self, passage: str) -> str:
        return "".join(passage[s:e] for s, e in self.spans)


def _ends(text: str, i: int, n: int) -> int:
    end = i + 1
    while end < n and text[end] in CLOSERS:
        end += 1
    return end


def _raw_split(text: str, stops: str) -> list[tuple[int, int]]:
    spans, start, i, n = [], 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch in stops or ch == "\n":
            end = i if ch == "\n" else _ends(text, i, n)
            spans.append((start, end))
            start = i = max(end, i + 1)
            continue
        i += 1
    spans.append((start, n))
    return spans


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``: ends at 。！？ or a line break (a
    sentence over LONG_SENTENCE characters also at ；), surrounding whitespace excluded, so
    ``text[s:e]`` is an exact quotation. Markdown headings and stubs are left out."""
    out = []
    for s, e in _raw_split(text, SENTENCE_END):
        pieces = [(s, e)]
        if e - s > LONG_SENTENCE:
            pieces = [(s + a, s + b) for a, b in _raw_split(text[s:e], CLAUSE_END)]
        for a, b in pieces:
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if b > a and text[a] != "#" and (b - a >= MIN_SENTENCE_CHARS or _short_item(text, a, b)):
                out.append((a, b))
    return out


def _short_item(text: str, a: int, b: int) -> bool:
    """A list item too short to pass for a sentence ((一)警告；): kept, since a list without it
    is not the list. A heading such as (一)总体要求 has no closing punctuation and stays out."""
    return text[b - 1] in ITEM_END and _line_start(text, a) and is_item(text[a:b])


def is_item(text: str) -> bool:
    """Text starting with list numbering: the official and speech heading patterns of
    ingest/data/headings.tsv (（一） 1. ① 一是 …)."""
    from ingest.structure import match_heading

    found = match_heading(text)
    return found is not None and found[0].family in ("official", "speech")


def _line_start(text: str, s: int) -> bool:
    i = s - 1
    while i >= 0 and text[i] in " \t\u3000\xa0":
        i -= 1
    return i < 0 or text[i] == "\n"


def units(text: str) -> list[Unit]:
    """The quotable units of ``text``: short law articles whole, and otherwise plain
    sentences, items with their lead-in, and whole lists."""
    sents = split_sentences(text)
    from ingest.structure import is_article

    starts = [i for i, (s, e) in enumerate(sents) if _line_start(text, s) and is_article(text[s:e])]
    if not starts:
        return _units(text, sents)
    # the piece before the first article header may be the tail of an article cut by the window
    out = _units(text, sents[:starts[0]])
    for a, b in zip(starts, [*starts[1:], len(sents)], strict=True):
        group = sents[a:b]
        if group[-1][1] - group[0][0] <= ARTICLE_MAX_CHARS:
            out.append(Unit(tuple(group), "article", tuple(group)))
        else:
            out.extend(_units(text, group))
    return out


def _units(text: str, sents: list[tuple[int, int]]) -> list[Unit]:
    out: list[Unit] = []
    i = 0
    while i < len(sents):
        s, e = sents[i]
        if text[e - 1] not in LEAD_END:
            out.append(Unit(((s, e),), "sentence", ((s, e),)))
            i += 1
            continue
        # a lead-in: collect the items that follow it, each with its continuation sentences
        lead, items, j = (s, e), [], i + 1
        while j < len(sents):
            a, b = sents[j]
            if _line_start(text, a):
                if not is_item(text[a:b]):
                    break
                items.append([(a, b)])
            elif items:
                items[-1].append((a, b))
            else:
                break
            j += 1
        for item in items:
            out.append(Unit((lead, *item), "item", tuple(item)))
        body = (lead, *(sp for item in items for sp in item))
        if len(items) > 1:
            out.append(Unit(body, "list", body))
        # a lead-in with no items below it is left out: it says nothing by itself
        i = max(j, i + 1)
    return out
