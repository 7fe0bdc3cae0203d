"""What each console page shows, as plain data (masked unless revealed), on any store.

The web layer (:mod:`skiptrace.console.app`) checks who asks and writes the
audit record; these functions only read the store and call the library:
``find`` for a borrower's contacts, :mod:`skiptrace.rings` for rings,
:mod:`skiptrace.plan` for plans. The drawings are server-side SVG from
:mod:`skiptrace.rings.render` (escaped, no script).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from skiptrace import rings as rings_lib
from skiptrace.contacts import find
from skiptrace.contacts.ego import UnknownBorrower
from skiptrace.errors import SkiptraceError
from skiptrace.ingest.normalise import PhoneNormaliser
from skiptrace.privacy import mask_name, mask_phone, mask_text, pseudonym
from skiptrace.rings.render import view_svg
from skiptrace.rings.view import ring_view
from skiptrace.store.base import GraphStore, node_id, split_id

#: candidates whose evidence paths make the borrower's drawing
EGO_CANDIDATES = 5
#: borrower properties shown as account facts (the name is masked unless revealed)
FACTS = ("status", "days_past_due", "balance", "currency", "opened_at", "timezone", "region",
         "attorney_known", "cease_requested")
_normalise = PhoneNormaliser(cache_size=10_000)


def borrower_facts(store: GraphStore, borrower_id: str, *, reveal: bool = False) -> dict | None:
    """The account facts of a borrower, its addresses and employers (masked unless ``reveal``),
    or None if there is no such borrower."""
    bid = node_id("Borrower", borrower_id)
    props = store.get_nodes([bid]).get(bid)
    if props is None:
        return None
    name = props.get("full_name")
    facts = {"borrower_id": borrower_id,
             "full_name": name if reveal or not name else mask_name(name),
             **{k: props.get(k) for k in FACTS}}
    edges = store.incident_edges([bid], ["LIVES_AT", "WORKS_AT", "EMPLOYED_BY"])
    others = store.get_nodes(sorted({e.other(bid) for e in edges}))
    addresses, employers = [], []
    for e in sorted(edges, key=lambda e: (e.type, e.other(bid))):
        p = others.get(e.other(bid), {})
        if e.type == "EMPLOYED_BY":
            text = p.get("name") or split_id(e.other(bid))[1]
            employers.append(text if reveal else mask_text(text))
        else:
            text = p.get("address") or split_id(e.other(bid))[1]
            addresses.append({"kind": e.props.get("kind") or ("work" if e.type == "WORKS_AT" else "home"),
                              "address": text if reveal else mask_text(text)})
    facts["addresses"], facts["employers"] = addresses, employers
    return facts


def search(store: GraphStore, query: str, *, region: str = "CN") -> dict:
    """A borrower id, or a phone (normalised to E.164 in ``region`` when it has no ``+``):
    ``{"query", "borrower"}`` for an id; for a phone the borrowers who hold it and those who
    list it as a contact (``{"e164", "holders", "listed_by"}``, the number masked)."""
    q = query.strip()
    out: dict[str, Any] = {"query": q, "borrower": None, "e164": None, "holders": [], "listed_by": [],
                           "error": None}
    if not q:
        return out
    return store.consistent(lambda: _search(store, q, region, out))


def _search(store: GraphStore, q: str, region: str, out: dict[str, Any]) -> dict:
    out = {**out, "holders": [], "listed_by": []}  # fresh: a store may run this read again
    if store.existing_keys("Borrower", [q]):
        out["borrower"] = q
        return out
    try:
        e164 = _normalise(q, region)
    except ValueError:
        out["error"] = "no borrower with this id, and not a phone number"
        return out
    out["e164"] = mask_phone(e164)
    pid = node_id("Phone", e164)
    for e in store.incident_edges([pid], ["HAS_PHONE", "LISTS_CONTACT"]):
        who = split_id(e.other(pid))
        if who[0] == "Borrower":
            (out["holders"] if e.type == "HAS_PHONE" else out["listed_by"]).append(who[1])
    out["holders"] = sorted(set(out["holders"]))
    out["listed_by"] = sorted(set(out["listed_by"]) - set(out["holders"]))
    return out


def _shown(nid: str, reveal: bool, key: str | bytes | None) -> tuple[str, str]:
    """(id, label) of a node in a drawing: phones masked, addresses and employers pseudonymised."""
    label, value = split_id(nid)
    if reveal or label in ("Borrower", "Device"):
        return nid, value
    tag = pseudonym(value, key) if key else mask_text(value)
    if label == "Phone":
        return f"Phone:{tag}", mask_phone(value)
    return f"{label}:{tag}", f"{label.lower()}:{tag[:8]}"


_SUB = {"Phone": "phone", "Device": "device", "Address": "address", "Employer": "employer"}


def ego_view(res: Any, facts: dict, *, reveal_ranks: set[int] | None = None,
             reveal_all: bool = False, key: str | bytes | None = None,
             top: int = EGO_CANDIDATES) -> dict:
    """The graph behind the top candidates of a find result, in the ring-view shape of
    :mod:`skiptrace.rings.render`: the borrower, every node on the candidates' evidence
    paths (other borrowers, phones, devices, addresses, employers) and the relationships."""
    reveal_ranks = reveal_ranks or set()
    center = node_id("Borrower", res.borrower_id)
    nodes: dict[str, dict] = {center: {"id": center, "kind": "member", "label": res.borrower_id,
                                       "attrs": {"status": facts.get("status")}}}
    links: set[tuple[str, str, str]] = set()
    for c in res.candidates[:top]:
        reveal = reveal_all or c.rank in reveal_ranks
        for ev in c.evidence:
            path = ev.path
            ids = []
            for nid in path[0::2]:
                sid, label = _shown(nid, reveal, key)
                ids.append(sid)
                if sid not in nodes:
                    kind = split_id(nid)[0]
                    nodes[sid] = ({"id": sid, "kind": "member", "label": label, "attrs": {}}
                                  if kind == "Borrower" else
                                  {"id": sid, "kind": "identifier", "sub": _SUB.get(kind, kind.lower()),
                                   "label": label, "attrs": {}})
            for i, rel in enumerate(path[1::2]):
                a, b = ids[i], ids[i + 1]
                if a != b:
                    links.add((a, b, rel))
        sid, label = _shown(node_id("Phone", c.phone), reveal, key)
        if sid in nodes:
            nodes[sid]["label"] = f"#{c.rank} {label}"
            nodes[sid]["attrs"] = {"rank": c.rank, "score": round(c.score, 3), "relation": c.relation}
    return {"ring": {"ring_id": res.borrower_id}, "nodes": list(nodes.values()),
            "links": [{"source": a, "target": b, "kind": t} for a, b, t in sorted(links)]}


@dataclass
class BorrowerPage:
    facts: dict
    find: dict
    svg: str
    revealed: str = ""  # "", "all" or "rank N"


def borrower_page(store: GraphStore, borrower_id: str, *, reveal_rank: int | None = None,
                  reveal_all: bool = False, key: str | bytes | None = None,
                  limit: int = 20, policy: str = "auto") -> BorrowerPage | None:
    """Facts, ranked contacts (``find``) and the drawing of a borrower; masked but for
    ``reveal_all`` (everything) or ``reveal_rank`` (one candidate's number and name).
    None if there is no such borrower."""
    def read() -> tuple[dict | None, Any]:  # the facts and the contacts: one published state
        facts = borrower_facts(store, borrower_id, reveal=reveal_all)
        return facts, (find(store, borrower_id, limit=limit, policy=policy) if facts else None)

    facts, res = store.consistent(read)
    if facts is None:
        return None
    ranks = {reveal_rank} if reveal_rank else set()
    d = {"borrower_id": res.borrower_id, "as_of": res.as_of,
         "candidates": [c.to_dict(reveal_all or c.rank in ranks) for c in res.candidates]}
    svg = view_svg(ego_view(res, facts, reveal_ranks=ranks, reveal_all=reveal_all, key=key))
    revealed = "all" if reveal_all else (f"rank {reveal_rank}" if reveal_rank else "")
    return BorrowerPage(facts, d, svg, revealed)


def find_json(store: GraphStore, borrower_id: str, *, reveal: bool = False, limit: int = 20,
              policy: str = "auto") -> dict | None:
    """The contract's find JSON of a borrower (None: unknown borrower)."""
    try:
        return find(store, borrower_id, limit=limit, policy=policy).to_dict(reveal)
    except UnknownBorrower:
        return None


def rings_list(store: GraphStore, *, min_risk: float = 0.0, typology: str | None = None,
               min_size: int | None = None, max_size: int | None = None, include_unflagged: bool = False,
               key: str | bytes | None = None) -> tuple[int, list[dict]]:
    """(how many rings are stored, the selected ones as contract JSON, masked)."""
    stored = rings_lib.load(store)
    shown = rings_lib.select(stored, min_risk=min_risk, typology=typology, min_size=min_size,
                             max_size=max_size, include_unflagged=include_unflagged)
    return len(stored), [r.to_json(key=key) for r in shown]


def ring_page(store: GraphStore, ring_id: str, *, key: str | bytes | None = None) -> dict | None:
    """A ring's view (members, binding identifiers, agents; masked) and its drawing."""
    def read() -> dict | None:  # the ring and the nodes it draws: one published state
        ring = rings_lib.get(store, ring_id)
        return None if ring is None else ring_view(store, ring, key=key)

    view = store.consistent(read)
    if view is None:
        return None
    return {"ring": view["ring"], "nodes": view["nodes"], "svg": view_svg(view)}


@dataclass
class Planner:
    """Plans for the console: the response model is learned from the store's ledger once, on
    first use (as ``skiptrace plan`` does per run), and kept; ``cscore`` an optional C-score
    model (a path or a fitted model)."""

    cscore: Any = None
    policy: str = "auto"
    _model: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def model(self, store: GraphStore) -> Any:
        with self._lock:
            if self._model is None:
                from skiptrace.plan.uplift import learn

                self._model = learn(store)
            return self._model

    def plan(self, store: GraphStore, borrower_id: str, *, reveal: bool = False) -> dict:
        """The contract's plan JSON (masked unless ``reveal``), or ``{"error": ...}`` when no
        plan can be made."""
        from skiptrace.plan import plan

        try:
            mdl = self.model(store)
            res = plan(store, [borrower_id], policy=self.policy, model=mdl, cscore=self.cscore)[0]
        except UnknownBorrower:
            raise
        except (SkiptraceError, ValueError) as exc:
            return {"borrower_id": borrower_id, "error": str(exc)}
        return res.to_dict(reveal)
