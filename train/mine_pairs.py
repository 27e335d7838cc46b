"""Training pairs for the domain-adapted e5-small, mined from corpus files outside the eval list.

Each corpus file goes through the project's own ingest (``ingest.pipeline.parse_file``: load,
clean, structure, chunk). Kinds of (query, positive) pairs:

  heading   a section heading (numbering removed) → that section's body
  title     a document title → its opening (the title line left out)
  ict       a sentence → the rest of its passage (inverse cloze)
  article   a law article's first clause → the article
  colloq    a colloquial phrase (kb/data/colloquial.tsv) → a passage whose heading or text
            uses its official wording

Each pair gets a hard negative: the other passage of the same document that BM25 (jieba tokens,
kb.tokenize) ranks highest for the query. Files listed in the eval corpus list are never read.

    python -m train.mine_pairs --corpus ../shared/corpus --exclude ../shared/eval/eval_corpus.txt \
        --out train/pairs.jsonl [--seed 13 --scale 1]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from collections import Counter
from pathlib import Path

from ingest.pipeline import parse_file
from ingest.records import Document, IngestError
from kb.query import colloquial_table
from kb.tokenize import tokenize

SUFFIXES = {".md", ".txt", ".html", ".htm", ".docx"}
CAPS = {"ict": 1500, "article": 1200, "heading": 900, "title": 600, "colloq": 300}
PER_DOC = 12  # pairs of one kind from one document at most, so a few long laws do not dominate
MAX_CHARS = 320  # positives are cut here (the model sees ~200 tokens of them in training)
ARTICLE = re.compile(r"^第[零〇一二三四五六七八九十百千\d]+条")
# leading enumeration of a heading: 第一章 / 第二节 / 一、 / （一） / 1. / 1、
NUMBERING = re.compile(r"^(第[零〇一二三四五六七八九十百千\d]+[编章节部分]|[一二三四五六七八九十]+、|"
                       r"[（(][一二三四五六七八九十\d]+[）)]|\d+[.、．])\s*")
SENTENCE = re.compile(r"[^。；！？\n]+[。；！？]")


def clean_heading(h: str) -> str:
    return NUMBERING.sub("", h).replace(" ", "").replace("\u3000", "").strip()


def units(doc: Document) -> list[tuple[list[str], str]]:
    """(section path, text) of each chunk, the heading lines at its start removed."""
    out = []
    for c in doc.chunks:
        text = c.text
        for h in c.section:
            if text.startswith(h):
                text = text[len(h):].lstrip()
        if len(text) >= 30:
            out.append((c.section, text))
    return out


class DocBM25:
    def __init__(self, texts: list[str]) -> None:
        self.docs = [Counter(tokenize(t)) for t in texts]
        self.lens = [sum(d.values()) for d in self.docs]
        self.avg = sum(self.lens) / max(len(self.lens), 1)
        df = Counter(t for d in self.docs for t in d)
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def best(self, query: str, exclude: set[int]) -> int | None:
        q = set(tokenize(query))
        scores = []
        for i, (d, ln) in enumerate(zip(self.docs, self.lens, strict=True)):
            if i in exclude:
                continue
            s = sum(self.idf[t] * d[t] * 2.2 / (d[t] + 1.2 * (0.6 + 0.4 * ln / self.avg)) for t in q if t in d)
            scores.append((s, i))
        return max(scores)[1] if scores and max(scores)[0] > 0 else None


def mine_doc(doc: Document, rng: random.Random, generic: set[str]) -> list[dict]:
    us = units(doc)
    if len(us) < 2:
        return []
    passages = [f"{doc.title}\n{t}"[:MAX_CHARS] for _, t in us]
    raw: list[tuple[str, str, int | None, str | None]] = []  # kind, query, unit index, positive text
    heads: dict[str, int] = {}
    for i, (section, _t) in enumerate(us):
        if section and not ARTICLE.match(section[-1]):
            h = clean_heading(section[-1])
            if 4 <= len(h) <= 40 and h not in generic:
                heads.setdefault(h, i)
    raw += [("heading", h, i, None) for h, i in heads.items()]
    opening = doc.text[len(doc.title):].lstrip() if doc.text.startswith(doc.title) else us[0][1]
    if doc.title and len(opening) >= 60:
        raw.append(("title", doc.title, None, opening[:MAX_CHARS]))
    for i, (section, text) in enumerate(us):
        if section and ARTICLE.match(section[-1]) and (i == 0 or us[i - 1][0] != section):
            body = text  # the article number went with the heading lines
            first = re.split(r"[，。；：]", body, maxsplit=1)[0]
            if 6 <= len(first) <= 60 and len(body) > len(first) + 10:
                raw.append(("article", first, i, None))
        sents = SENTENCE.findall(text)
        good = [s for s in sents if 12 <= len(s.strip()) <= 80]
        if len(sents) >= 3 and good:
            s = rng.choice(good)
            rest = text.replace(s, "", 1).strip()
            if len(rest) >= 60:
                raw.append(("ict", s.strip(), i, f"{doc.title}\n{rest}"[:MAX_CHARS]))
    bm = DocBM25([t for _, t in us])
    out, per_kind = [], Counter()
    rng.shuffle(raw)
    for kind, query, idx, positive in raw:
        if per_kind[kind] >= PER_DOC:
            continue
        # a title pair's positive is the opening, which the first passages hold
        neg = bm.best(query, {idx} if idx is not None else {0, 1})
        if neg is None or query in us[neg][1]:
            continue
        # every passage carries the title, so a title pair's negative goes without it
        negative = us[neg][1][:MAX_CHARS] if kind == "title" else passages[neg]
        if negative == (positive or passages[idx]):
            continue
        per_kind[kind] += 1
        out.append({"kind": kind, "query": query, "positive": positive or passages[idx],
                    "negative": negative, "doc": doc.path})
    return out


def colloquial_pairs(docs: list[Document], rng: random.Random) -> list[dict]:
    """A colloquial phrase → a passage naming its official wording in a heading (else in its text)."""
    found: dict[str, list[str]] = {}
    pool = [(doc, us) for doc in docs for us in [units(doc)] if us]
    for colloq, officials in colloquial_table():
        hits = []
        for doc, us in pool:
            for section, text in us:
                if any(o in "".join(section) for o in officials):
                    hits.append(f"{doc.title}\n{text}"[:MAX_CHARS])
        if not hits:
            for doc, us in pool:
                hits += [f"{doc.title}\n{t}"[:MAX_CHARS] for _, t in us if any(o in t for o in officials)]
        if hits:
            found[colloq] = rng.sample(hits, min(2, len(hits)))
    out = []
    for colloq, hits in found.items():
        for pos in hits:
            out.append({"kind": "colloq", "query": colloq, "positive": pos, "negative": None, "doc": ""})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--exclude", type=Path, required=True, help="eval corpus list: paths relative to --corpus")
    p.add_argument("--out", type=Path, default=Path("train/pairs.jsonl"))
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--scale", type=float, default=1.0, help="keep this many times the default pairs of each kind")
    a = p.parse_args()
    caps = {kind: int(n * a.scale) for kind, n in CAPS.items()}
    rng = random.Random(a.seed)
    excluded = set(a.exclude.read_text(encoding="utf-8").split())
    files = sorted(f for f in a.corpus.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES
                   and f.relative_to(a.corpus).as_posix() not in excluded
                   and f.parent != a.corpus)  # the corpus's own README, not a document
    docs = []
    for f in files:
        try:
            docs.append(parse_file(f, f.relative_to(a.corpus).as_posix()))
        except IngestError as e:
            print(f"skipped: {e}", file=sys.stderr)
    # headings used by several documents (总则, 法律责任, 附则 …) say nothing about one text
    counts: Counter = Counter()
    for d in docs:
        counts.update({clean_heading(s.path[-1]) for s in d.sections if s.path})
    generic = {h for h, n in counts.items() if n >= 3}
    pairs: list[dict] = []
    for d in docs:
        pairs += mine_doc(d, rng, generic)
    pairs += colloquial_pairs(docs, rng)
    by_kind: dict[str, list[dict]] = {}
    for pr in pairs:
        by_kind.setdefault(pr["kind"], []).append(pr)
    chosen = []
    for kind, items in sorted(by_kind.items()):
        rng.shuffle(items)
        chosen += items[:caps[kind]]
    rng.shuffle(chosen)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    with a.out.open("w", encoding="utf-8") as f:
        for pr in chosen:
            f.write(json.dumps(pr, ensure_ascii=False) + "\n")
    summary = {k: min(len(v), caps[k]) for k, v in sorted(by_kind.items())}
    print(json.dumps({"files": len(files), "documents": len(docs), "mined": {k: len(v) for k, v in by_kind.items()},
                      "kept": summary, "total": len(chosen)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
