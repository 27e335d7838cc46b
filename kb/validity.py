"""Which text is in force on a date: version groups, superseded / repealed / expired texts.

Each stored legal text carries the facts ingest read from it (ingest/validity.py): its version key,
dates, 有效期 and the texts it repeals. Status depends on the other texts in the index and on the
date asked about, so it is worked out here, for every group at once, from those facts — never
stored: a new version arriving supersedes the old one without re-ingesting it, removing it restores
the old status, and a text becomes 现行有效 on its 施行 date with nothing rewritten.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

STATUSES = ("current", "superseded", "repealed", "expired", "not_yet_effective", "unknown")
LABELS = {"current": "现行有效", "superseded": "已被修改", "repealed": "已废止", "expired": "已失效",
          "not_yet_effective": "尚未生效", "unknown": "效力未核实"}
HIDDEN = frozenset({"superseded", "not_yet_effective"})  # shown through the version in force
PENALISED = frozenset({"repealed", "expired"})  # still found, below an equally good text in force


@dataclass
class Facts:
    """One stored text's validity facts (the documents table's columns)."""

    doc_id: str
    title: str
    path: str
    level: str
    version_key: str
    version_date: str = ""
    promulgated: str = ""
    effective: str = ""
    expires: str = ""
    doc_number: str = ""
    region: str = ""
    history: list[dict] = field(default_factory=list)
    repeals: list[dict] = field(default_factory=list)

    @property
    def made(self) -> str:
        return self.version_date or self.promulgated

    @property
    def start(self) -> str:
        return self.effective or self.made

    def group_key(self) -> str:
        # 规范性文件 titles repeat across places (实施办法); laws carry their place in the title
        return f"{self.version_key}@{self.region}" if self.level == "normative" else self.version_key

    def label(self) -> str:
        """The version as citations name it: （2024年修正）, （2019年修订）."""
        amended = [h for h in self.history if h.get("event") in ("修正", "修订") and h.get("date")]
        if amended:
            last = max(amended, key=lambda h: h["date"])
            return f"（{last['date'][:4]}年{last['event']}）"
        return f"（{self.made[:4]}年）" if self.made else ""


@dataclass
class Status:
    status: str
    superseded_by: str | None = None
    repealed_by: str | None = None
    repealed_on: str | None = None
    group: list[str] = field(default_factory=list)  # doc ids of every version, newest first

    def to_dict(self) -> dict:
        return {"status": self.status, "status_label": LABELS[self.status], "superseded_by": self.superseded_by,
                "repealed_by": self.repealed_by, "repealed_on": self.repealed_on}


def today() -> str:
    return date.today().isoformat()


def check_date(value: str | None, field_name: str = "as_of") -> str | None:
    """``value`` as an ISO date, None when empty; ValueError naming the field otherwise."""
    if value is None or not str(value).strip():
        return None
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValueError(f"{field_name} must be a date written YYYY-MM-DD (got '{value}')") from None


def resolve(facts: list[Facts], as_of: str) -> dict[str, Status]:
    """The status of every text on ``as_of`` (ISO date)."""
    groups: dict[str, list[Facts]] = defaultdict(list)
    for f in facts:
        if f.level != "none" and f.version_key:
            groups[f.group_key()].append(f)
    by_key: dict[str, list[Facts]] = defaultdict(list)
    for f in facts:
        if f.level != "none" and f.version_key:
            by_key[f.version_key].append(f)
    repealed = _repeals(facts, by_key, as_of)
    out: dict[str, Status] = {}
    for members in groups.values():
        ordered = sorted(members, key=lambda v: (v.made, v.start, v.path))  # oldest first
        existing = [v for v in ordered if not v.made or v.made <= as_of]
        started = [v for v in existing if not v.start or v.start <= as_of]
        in_force = started[-1] if started else None
        ids = [v.doc_id for v in reversed(ordered)]
        for i, v in enumerate(ordered):
            if v not in existing or (in_force is not None and i > ordered.index(in_force)) or in_force is None:
                st = Status("not_yet_effective")
            elif v is in_force or (v.made and (v.made, v.start) == (in_force.made, in_force.start)):
                # copies of one version (a .md and a .pdf of the same text) are all in force
                st = Status("current" if v.made or len(ordered) > 1 else "unknown")
            elif not in_force.made:  # no dates to tell the versions apart
                st = Status("unknown")
            else:
                st = Status("superseded", superseded_by=in_force.doc_id)
            if st.status in ("current", "unknown") and v.doc_id in repealed:
                by, on = repealed[v.doc_id]
                st = Status("repealed", repealed_by=by, repealed_on=on)
            elif st.status == "current" and v.expires and v.expires <= as_of:
                st = Status("expired")
            st.group = ids
            out[v.doc_id] = st
    for f in facts:
        out.setdefault(f.doc_id, Status("unknown"))
    return out


def _repeals(facts: list[Facts], by_key: dict[str, list[Facts]], as_of: str) -> dict[str, tuple[str, str]]:
    """doc_id → (repealing doc_id, date) for repeals in effect on ``as_of``. A text that repeals an
    older text of its own title repeals only versions older than itself."""
    out: dict[str, tuple[str, str]] = {}
    for r in facts:
        on = r.start
        if not r.repeals or (on and on > as_of):
            continue
        for t in r.repeals:
            found = []
            for c in by_key.get(t.get("key", ""), []):
                if c.doc_id == r.doc_id or (c.made and r.made and c.made > r.made):
                    continue
                if c.version_key == r.version_key and not (c.made and r.made and c.made < r.made):
                    continue
                if t.get("date") and not (t["date"] in {h.get("date") for h in c.history}
                                          or (c.made and c.made <= t["date"])):
                    continue
                if t.get("doc_number") and c.doc_number and c.doc_number != t["doc_number"]:
                    continue
                found.append(c)
            for c in found:
                if c.doc_id not in out or (on or "") < out[c.doc_id][1]:
                    out[c.doc_id] = (r.doc_id, on or "")
    return out


class ValidityView:
    """The statuses of one index generation on one date, with what search needs from them."""

    def __init__(self, facts: list[Facts], as_of: str):
        self.as_of = as_of
        self.facts = {f.doc_id: f for f in facts}
        self.statuses = resolve(facts, as_of)
        # chunk ids of hidden() and penalised() texts, filled in by the caller that owns the store
        self.hidden_chunks: frozenset[int] = frozenset()
        self.penalised_chunks: frozenset[int] = frozenset()

    def status(self, doc_id: str) -> Status:
        return self.statuses.get(doc_id) or Status("unknown")

    def hidden(self) -> set[str]:
        """Texts a default search leaves out: older versions and versions not yet in force, when
        their group has a text in force (a lone new law not yet in force is still shown)."""
        out = set()
        for doc_id, st in self.statuses.items():
            if st.status == "superseded":
                out.add(doc_id)
            elif st.status == "not_yet_effective" and any(
                    self.status(o).status in ("current", "repealed", "expired") for o in st.group):
                out.add(doc_id)
        return out

    def penalised(self) -> set[str]:
        return {d for d, st in self.statuses.items() if st.status in PENALISED}

    def versions(self, doc_id: str) -> list[dict]:
        """The other versions of ``doc_id``'s text, newest first: [{doc_id, title, status, date}]."""
        st = self.statuses.get(doc_id)
        if st is None or len(st.group) < 2:
            return []
        return [{"doc_id": o, "title": self.facts[o].title + self.facts[o].label(),
                 "status": self.status(o).status, "date": self.facts[o].made}
                for o in st.group if o != doc_id]

    def label(self, doc_id: str) -> str:
        """（2024年修正） for a text with several versions or amendments; '' otherwise."""
        f = self.facts.get(doc_id)
        if f is None:
            return ""
        st = self.statuses.get(doc_id)
        amended = any(h.get("event") in ("修正", "修订") for h in f.history)
        return f.label() if amended or (st and len(st.group) > 1) else ""


class ValidityViews:
    """The views of the last few dates asked about, for the store's current generation: a view is
    worked out once per (generation, date), and a write makes the next one fresh."""

    def __init__(self, keep: int = 16):
        self.keep = keep
        self._views: dict[tuple[int, str], ValidityView] = {}

    def get(self, store, day: str) -> ValidityView:
        gen = store.generation()
        view = self._views.get((gen, day))
        if view is None:
            with store.reading():
                view = ValidityView([Facts(**r) for r in store.validity_facts()], day)
                view.hidden_chunks = frozenset(store.chunk_ids_of(view.hidden()).tolist())
                view.penalised_chunks = frozenset(store.chunk_ids_of(view.penalised()).tolist())
            views = {k: v for k, v in self._views.items() if k[0] == gen and len(self._views) < self.keep}
            views[(gen, day)] = view
            self._views = views  # replaced whole: readers on other threads see one dict or the other
        return view
