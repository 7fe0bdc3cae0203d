"""Social-tie features: close family on live numbers, and anti-collection ring membership.

Cheap batch features read from the store alone (no ``find`` ranking), in the
spirit of call-network credit scoring: borrowers with more closely tied
relatives who still answer on the same number tend to repay more (social
collateral), and members of anti-collection rings are coached to stall.

A *family contact* is a phone the borrower listed (``LISTS_CONTACT``) by
``as_of`` with a family relation (spouse, parent, child, sibling, relative,
household) or under a family nickname in the phonebook ("妈妈", "Mom", ...).
Its tie to the borrower is read from the ``CALLED`` records between it and the
borrower's registered phones (those registered by ``as_of``), cut at ``as_of``
as ``find --as-of`` cuts them (a record that ends later is pro-rated, one
that begins later is dropped). A number is *dead* when its line status
(disconnected, reassigned) was recorded by ``as_of``.

Columns (:data:`SOCIAL_FEATURES`):

- ``family_contacts``: family contacts listed by ``as_of``;
- ``family_live``: those not dead, with any call in the :data:`RECENT_DAYS` before
  ``as_of`` (capped at :data:`FAMILY_CAP`);
- ``family_close``: those not dead, with at least :data:`CLOSE_CALLS` calls by ``as_of``
  and the last one within :data:`RECENT_DAYS` (a strong, current tie on an unchanged
  number; capped at :data:`FAMILY_CAP`);
- ``family_calls_recent``: calls with family contacts in the :data:`RECENT_DAYS` before
  ``as_of`` (a record's calls spread evenly over its span);
- ``close_contacts``: any phone (listed or not) with a strong current tie as above
  (capped at :data:`CONTACT_CAP`): relatives the borrower never labelled show here;
- ``anti_ring_member``, ``fraud_ring_member``: member of a stored ring of that typology
  (``skiptrace rings detect``; rings are read as stored, a mild look-ahead at a past cut).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from skiptrace.contacts import clock
from skiptrace.contacts.ego import _edge_start, clip
from skiptrace.contacts.features import DEAD
from skiptrace.scoring.account import extract_time, to_day
from skiptrace.store.base import GraphStore, node_id, split_id

FAMILY_RELATIONS = frozenset({"spouse", "parent", "child", "sibling", "relative", "household",
                              "family"})
#: phonebook nicknames that name a relative (both regions)
FAMILY_NICKNAMES = frozenset({
    "妈妈", "爸爸", "老妈", "老爸", "老婆", "老公", "亲爱的", "哥", "姐", "弟弟", "妹妹", "儿子",
    "女儿", "舅舅", "姑姑", "表哥", "小姨",
    "mom", "dad", "mother", "father", "pops", "honey", "hubby", "wifey", "bro", "sis", "son",
    "daughter", "uncle joe", "aunt may", "cuz"})
RECENT_DAYS = 90.0
CLOSE_CALLS = 10
FAMILY_CAP = 4
CONTACT_CAP = 8
CHUNK = 1000

SOCIAL_FEATURES: tuple[str, ...] = (
    "family_contacts", "family_live", "family_close", "family_calls_recent", "close_contacts",
    "anti_ring_member", "fraud_ring_member",
)


def is_family(props: dict) -> bool:
    """A ``LISTS_CONTACT`` relationship names a relative (relation or phonebook nickname)."""
    rel = (props.get("relation") or "").strip().lower()
    if rel in FAMILY_RELATIONS:
        return True
    name = (props.get("name") or "").strip().lower()
    return name in FAMILY_NICKNAMES


def social_features(store: GraphStore, borrower_ids: Iterable[str], *, as_of: object = None,
                    chunk: int = CHUNK) -> pd.DataFrame:
    """The :data:`SOCIAL_FEATURES` of each borrower at ``as_of`` (default: the extract time).

    Cost: per chunk of borrowers four store reads (listed contacts, registered phones, call
    records of those phones, the family phones' line status) and one for the ring
    memberships; no ``find`` ranking. Unknown ids get zeros.

    Example
    -------
    >>> social_features(store, ["B1"], as_of="2026-05-01").loc["B1", "family_close"]  # doctest: +SKIP
    2.0
    """
    ids = list(dict.fromkeys(borrower_ids))
    cut = to_day(as_of)
    if cut is None:
        cut = extract_time(store)
    rows: dict[str, list[float]] = {}
    for i in range(0, len(ids), chunk):
        rows.update(_chunk(store, ids[i:i + chunk], cut))
    rings = _ring_typologies(store, ids)
    out = []
    for b in ids:
        t = rings.get(b, set())
        out.append(rows.get(b, [0.0] * 5) + [float("anti_collection" in t), float("fraud" in t)])
    return pd.DataFrame(out, index=pd.Index(ids, name="borrower_id"),
                        columns=list(SOCIAL_FEATURES)).astype(float)


def _chunk(store: GraphStore, ids: Sequence[str], cut: float) -> dict[str, list[float]]:
    bnodes = [node_id("Borrower", b) for b in ids]
    family: dict[str, set[str]] = {b: set() for b in ids}   # borrower -> family phone node ids
    own: dict[str, set[str]] = {b: set() for b in ids}
    for e in store.incident_edges(bnodes, ["LISTS_CONTACT", "HAS_PHONE"]):
        if not e.src.startswith("Borrower:"):
            continue
        b = split_id(e.src)[1]
        if b not in family:
            continue
        start = _edge_start(e)  # as find --as-of cuts it
        if start is not None and start > cut:
            continue
        if e.type == "HAS_PHONE":
            own[b].add(e.dst)
        elif is_family(e.props):
            family[b].add(e.dst)
    owner = {ph: b for b, phones in own.items() for ph in phones}
    # per (borrower, other phone): calls by the cut, calls in the recent window, last call
    ties: dict[tuple[str, str], list[float]] = {}
    for e in store.incident_edges(list(owner), ["CALLED"]):
        first = clock.to_days(e.props["first_at"]) if e.props.get("first_at") else None
        if first is not None and first > cut:
            continue
        last0 = clock.to_days(e.props["last_at"]) if e.props.get("last_at") else first
        e2 = clip(e, cut)
        n = (e2.props.get("calls_a_to_b") or 0) + (e2.props.get("calls_b_to_a") or 0)
        last = min(last0, cut) if last0 is not None else None
        lo = first if first is not None else last
        recent = 0.0
        if last is not None and lo is not None:
            span = last - lo
            overlap = last - max(lo, cut - RECENT_DAYS)
            recent = n * (1.0 if span <= 0 else max(0.0, overlap) / span) if overlap >= 0 else 0.0
        for mine, other in ((e.src, e.dst), (e.dst, e.src)):
            b = owner.get(mine)
            if b is None or other in own[b]:
                continue
            t = ties.setdefault((b, other), [0.0, 0.0, -np.inf])
            t[0] += n
            t[1] += recent
            if last is not None:
                t[2] = max(t[2], last)
    others = {o for (_, o) in ties} | {ph for s in family.values() for ph in s}
    nodes = store.get_nodes(others)
    dead = set()
    for ph, props in nodes.items():
        st, st_at = props.get("status"), props.get("status_at")
        if st in DEAD and (not st_at or clock.to_days(st_at) <= cut):
            dead.add(ph)

    def strong(t: list[float] | None) -> bool:
        return t is not None and t[0] >= CLOSE_CALLS and t[2] >= cut - RECENT_DAYS

    out: dict[str, list[float]] = {}
    by_b: dict[str, list[tuple[str, list[float]]]] = {}
    for (b, o), t in ties.items():
        by_b.setdefault(b, []).append((o, t))
    for b in ids:
        fam = family[b]
        live = close = 0
        calls_recent = 0.0
        for ph in fam:
            t = ties.get((b, ph))
            if t is not None:
                calls_recent += t[1]
            if ph in dead:
                continue
            if t is not None and t[1] > 0:
                live += 1
            if strong(t):
                close += 1
        n_close = sum(1 for o, t in by_b.get(b, []) if o not in dead and strong(t))
        out[b] = [float(len(fam)), float(min(live, FAMILY_CAP)), float(min(close, FAMILY_CAP)),
                  round(calls_recent, 3), float(min(n_close, CONTACT_CAP))]
    return out


def _ring_typologies(store: GraphStore, ids: Sequence[str]) -> dict[str, set[str]]:
    edges = store.incident_edges([node_id("Borrower", b) for b in ids], ["MEMBER_OF"])
    if not edges:
        return {}
    rings = store.get_nodes({e.dst for e in edges})
    out: dict[str, set[str]] = {}
    for e in edges:
        typ = rings.get(e.dst, {}).get("typology")
        if typ:
            out.setdefault(split_id(e.src)[1], set()).add(str(typ))
    return out
