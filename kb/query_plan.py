"""Query understanding: what a search query asks for besides its topic.

``plan(query, as_of)`` reads the places it names (the gazetteer of ingest/data), the years and
spans of years (2023年, 2021—2023年, 近三年), the kinds of document (条例, 讲话, 规划 …) and the
intent: ``compare`` (各地/对比: many places' versions side by side), ``material`` (素材/提法: quotable
lines for a speech), ``requirement`` (应当/期限/哪些: what the rules require) or ``lookup``. The
words are data (data/query_cues.tsv; requirement words are the rule rows of answer_rules.tsv).
Search uses the plan as soft signals (kb/search.py): it reorders the ranking and never drops a hit.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from ingest.region import mentions
from kb.answer_rules import NOT_NORMATIVE, TIME_EXPR, answer_rules, question_words, rank_of
from kb.answer_rules import intent as question_intent

if TYPE_CHECKING:
    from kb.search_config import SearchConfig
    from kb.store import Store

KINDS = ("spread", "intent", "opening", "kind", "years", "year", "range")
INTENT_LABELS = {"compare": "对比", "material": "素材", "requirement": "规定要求", "lookup": "查找"}
# a year as officials write it in a query: four digits from 1949 to 2099
_YEAR = r"(?<!\d)(19[4-9]\d|20\d\d)(?!\d)"


@dataclass
class QueryPlan:
    places: list[str] = field(default_factory=list)  # full gazetteer names (上海 → 上海市)
    spread: bool = False  # 各地/各省…: many places at once
    year_from: int | None = None
    year_to: int | None = None
    kinds: list[str] = field(default_factory=list)  # kind words as written (条例, 讲话)
    doc_types: list[str] = field(default_factory=list)  # the doc_type values they stand for
    intent: str = "lookup"  # compare | material | requirement | lookup
    cues: list[str] = field(default_factory=list)  # the words that decided the intent
    duration: bool = False  # asks how long (多久, 期限, 几日): passages stating a period rank up
    bridge: list[str] = field(default_factory=list)  # quoted phrases whose words joined the keyword query

    def to_dict(self) -> dict:
        return {**asdict(self), "label": self.label()}

    def words(self) -> list[str]:
        """The words the plan read off the query: its places (in full: 上海市), kinds and cues."""
        return [*self.places, *self.kinds, *self.cues]

    def label(self) -> str:
        """One line for the page: 按地区：上海市 · 年份：2023 · 类型：条例 · 意图：素材 · 近似提法：“一网通办”
        ("" when plain)."""
        parts = []
        if self.places:
            parts.append("按地区：" + "、".join(self.places))
        elif self.spread:
            parts.append("按地区：各地")
        if self.year_from is not None or self.year_to is not None:
            lo, hi = self.year_from, self.year_to
            parts.append(f"年份：{lo}" if lo == hi else f"年份：{lo or ''}—{hi or ''}")
        if self.kinds:
            parts.append("类型：" + "、".join(self.kinds))
        if self.intent != "lookup":
            parts.append("意图：" + INTENT_LABELS[self.intent])
        if self.duration:
            parts.append("问：期限")
        if self.bridge:
            parts.append("近似提法：" + "、".join(f"“{p}”" for p in self.bridge))
        return " · ".join(parts)

    def names_place(self, region: str) -> bool:
        """Whether a document of ``region`` lies in a place the query names (浙江省 → 浙江省宁波市)."""
        return bool(self.place_of(region))

    def place_of(self, region: str) -> str:
        """The named place a document of ``region`` lies in, the most specific one; "" if none."""
        return max((p for p in self.places if region and region.startswith(p)), key=len, default="")

    def in_years(self, year: int | None) -> bool:
        if year is None or (self.year_from is None and self.year_to is None):
            return False
        return (self.year_from is None or year >= self.year_from) and (self.year_to is None or year <= self.year_to)

    def of_kind(self, doc_type: str, title: str) -> bool:
        return doc_type in self.doc_types or any(k in (title or "") for k in self.kinds)


def parse_cues(text: str, name: str = "kb/data/query_cues.tsv") -> dict[str, list[tuple[str, str]]]:
    """kind → (word, value) rows of a query-cue table; a bad row is an error naming file and line."""
    table: dict[str, list[tuple[str, str]]] = {k: [] for k in KINDS}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#")[0].rstrip()
        if not line.strip():
            continue
        cols = [c.strip() for c in line.split("\t")]
        if cols[0] not in table or len(cols) < 2 or not cols[1]:
            raise ValueError(f"{name} line {n}: expected one of {', '.join(KINDS)} and a word, got {cols!r}")
        value = cols[2] if len(cols) > 2 else ""
        if cols[0] == "intent" and value not in ("compare", "material", "-"):
            raise ValueError(f"{name} line {n}: an intent row names compare, material or -, got {value!r}")
        if cols[0] == "opening" and value not in ("compare", "material"):
            raise ValueError(f"{name} line {n}: an opening row names compare or material, got {value!r}")
        if cols[0] in ("years", "year") and not value.isdigit():
            raise ValueError(f"{name} line {n}: a {cols[0]} row needs a number of years, got {value!r}")
        if cols[0] == "kind" and value != "-" and not all(t.strip() for t in value.split(",")):
            raise ValueError(f"{name} line {n}: a kind row needs doc types, got {value!r}")
        table[cols[0]].append((cols[1], value))
    return table


@cache
def cue_table() -> dict[str, list[tuple[str, str]]]:
    return parse_cues(resources.files("kb").joinpath("data/query_cues.tsv").read_text(encoding="utf-8"))


def _found(query: str, rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The rows whose word occurs in ``query``, longest first, skipping words inside a longer one
    already found (讲话稿 hides 讲话; 政府工作报告 hides 工作报告 and 报告)."""
    taken = [False] * len(query)
    out = []
    for word, value in sorted(rows, key=lambda r: -len(r[0])):
        for m in re.finditer(re.escape(word), query):
            if not any(taken[m.start():m.end()]):
                taken[m.start():m.end()] = [True] * (m.end() - m.start())
                out.append((word, value))
                break
    return out


def _asks(query: str) -> bool:
    """The query is a question: a question word (data/question_words.tsv), 吗 or a question mark."""
    return any(w in query for w in question_words()) or any(c in query for c in "吗？?")


@cache
def _range_pattern() -> re.Pattern:
    marks = "|".join(re.escape(w) for w, _ in cue_table()["range"])
    return re.compile(_YEAR + r"\s*年?\s*(?:" + marks + r")\s*" + _YEAR)


def years(query: str, as_of: str | None = None) -> tuple[int | None, int | None]:
    """The span of years a query names: 2021—2023年 → (2021, 2023); 2023年 → (2023, 2023); 近三年
    → the last three years up to ``as_of`` (ISO date, default today); (None, None) when none."""
    now = int(as_of[:4]) if as_of else date.today().year
    table = cue_table()
    found = _found(query, table["years"] + table["year"])
    if found:
        word, value = found[0]
        n = int(value)
        if (word, value) in table["years"]:
            return now - n + 1, now
        return now - n, now - n
    m = _range_pattern().search(query)
    if m:
        lo, hi = sorted((int(m.group(1)), int(m.group(2))))
        return lo, hi
    named = sorted({int(y) for y in re.findall(_YEAR, query)})
    if named:
        return named[0], named[-1]
    return None, None


def plan(query: str, as_of: str | None = None) -> QueryPlan:
    """The query plan of ``query`` on ``as_of`` (the date relative years count back from)."""
    table = cue_table()
    out = QueryPlan()
    out.places = list(dict.fromkeys(mentions(query)))
    out.spread = bool(_found(query, [(w, "") for w, _ in table["spread"]]))
    out.year_from, out.year_to = years(query, as_of)
    asked = question_intent(query)
    out.duration = asked.timing
    intents = _found(query, table["intent"])
    compare = [w for w, v in intents if v == "compare"] + [w for w, _ in table["spread"] if w in query]
    material = [w for w, v in intents if v == "material"]
    if compare:
        out.intent, out.cues = "compare", compare
    elif material:
        out.intent, out.cues = "material", material
    else:
        stops = [(w, v) for w, v in table["intent"] if v == "-"]  # 负责人 hides the rule word 负责
        rule = [w for w, v in _found(query, [(r[0], "") for r in answer_rules()["rule"]] + stops) if v != "-"]
        if rule or asked.listing or asked.term:  # lists (哪几种) and definitions (什么是) ask for rules too
            asking = [w for w, kind in question_words().items() if kind == "list" and w in query]
            asking += [row[0] for row in answer_rules()["define"] if row[0] in query]
            out.intent, out.cues = "requirement", rule or [w for w, _ in _found(query, [(w, "") for w in asking])]
        elif not _asks(query):  # a query that opens like a policy line (坚持…, 推进…) asks for that line
            opening = [(w, v) for w, v in table["opening"] if query.lstrip().startswith(w)]
            if opening:
                out.intent, out.cues = opening[0][1], [opening[0][0]]
    for word, value in _found(query, table["kind"]):
        if value == "-" or (out.intent == "material" and any(word in m for m in material)):
            continue  # 征求意见 is no 意见; 讲话素材: the speech being written, not a kind of source
        out.kinds.append(word)
        out.doc_types += [t for t in (v.strip() for v in value.split(",")) if t not in out.doc_types]
    return out


def priors(store: Store, fused: list[tuple[int, float]], qp: QueryPlan, cfg: SearchConfig,
           top: int, floor: float = 0.0) -> list[tuple[int, float]]:
    """Scale the scores of the first ``top`` candidates (their height above ``floor``) by what the
    query plan asks for: the places, years and kinds it names, and its intent's preferred texts
    (material: not legal texts; requirement: normative texts by level), and for a question of how
    long, passages that state a period (十五日, ２４小时, 二年). Soft: nothing is dropped."""
    place = cfg.place_boost != 1.0 and bool(qp.places)
    year = cfg.year_boost != 1.0 and (qp.year_from is not None or qp.year_to is not None)
    kind = cfg.kind_boost != 1.0 and bool(qp.kinds)
    material = cfg.material_legal != 1.0 and qp.intent == "material"
    requirement = qp.intent == "requirement" and (cfg.requirement_other != 1.0 or bool(cfg.requirement_level_step))
    duration = qp.duration and cfg.duration_boost != 1.0
    if not (place or year or kind or material or requirement or duration):
        return fused
    head, tail = fused[:top], fused[top:]
    docs = store.chunk_docs([c for c, _ in head])
    texts = {c: r["text"] for c, r in store.chunk_rows(c for c, _ in head).items()} if duration else {}
    out = []
    for c, s in head:
        d = docs.get(c)
        if d is not None:
            f = _factor(d, qp, cfg, place, year, kind, material, requirement)
            if duration and TIME_EXPR.search(texts.get(c, "")):
                f *= cfg.duration_boost
            s = floor + (s - floor) * f
        out.append((c, s))
    out.sort(key=lambda cs: -cs[1])
    return out + tail


def _factor(d, qp: QueryPlan, cfg: SearchConfig, place: bool, year: bool, kind: bool, material: bool,
            requirement: bool) -> float:
    f = 1.0
    if place and qp.names_place(d["region"]):
        f *= cfg.place_boost
    if year and qp.in_years(d["year"]):
        f *= cfg.year_boost
    if kind and qp.of_kind(d["doc_type"], d["title"]):
        f *= cfg.kind_boost
    if material and d["level"] != "none":
        f *= cfg.material_legal
    if requirement:
        rank = rank_of(d["level"], d["doc_type"], d["title"])
        f *= cfg.requirement_other if rank == NOT_NORMATIVE else 1.0 - cfg.requirement_level_step * rank
    return f
