"""Rings written back to a store, and read again, through the store's generic primitives.

A ring is a ``Ring`` node (typology, risk, size, detected_at, source,
agent_phones, delinquent_share, seed and the full detail as JSON) and one
``MEMBER_OF`` relationship per member (role ``member``). :func:`save`
replaces every ring in one published transaction (:meth:`GraphStore.publish`),
and :func:`load` reads through :meth:`GraphStore.consistent`, so readers see
the old set or the new one, never a mix.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from skiptrace.rings.model import Ring
from skiptrace.store.base import Batch, GraphStore, node_id, split_id


def ring_batch(rings: Iterable[Ring], *, detected_at: str, seed: int) -> Batch:
    """Ring nodes and their MEMBER_OF relationships as one generic batch."""
    batch = Batch()
    for r in rings:
        rid = batch.add_node("Ring", r.ring_id, {
            "typology": r.typology, "risk": float(r.risk), "size": r.size, "detected_at": detected_at,
            "source": r.source, "agent_phones": ",".join(r.agents),
            "delinquent_share": float(r.features.get("delinquent_share", 0.0)), "seed": int(seed),
            "detail": json.dumps(r.detail(), sort_keys=True, ensure_ascii=False)})
        for m in r.members:
            batch.add_edge("MEMBER_OF", node_id("Borrower", m), rid, {"role": "member"})
    return batch


def save(store: GraphStore, rings: Iterable[Ring], *, seed: int = 0, detected_at: str | None = None) -> int:
    """Replace the rings in ``store`` with ``rings`` (one published transaction); returns how
    many were written."""
    rings = list(rings)
    stamp = detected_at or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    batch = ring_batch(rings, detected_at=stamp, seed=seed)

    def write() -> None:  # repeatable: a store may run it again after a transient failure
        store.delete(labels=["Ring"], types=["MEMBER_OF"])
        store.write(batch)

    # published like a load (GraphStore.publish), so that consistent readers notice it
    store.publish(write)
    return len(rings)


def load(store: GraphStore, ring_ids: Iterable[str] | None = None) -> list[Ring]:
    """Rings stored in ``store`` (all, or those of ``ring_ids``), riskiest first; the ring nodes
    and their members are read from one published state (a concurrent :func:`save` is seen
    whole or not at all)."""
    ids = None if ring_ids is None else list(ring_ids)
    return store.consistent(lambda: _load(store, ids))


def _load(store: GraphStore, ring_ids: list[str] | None) -> list[Ring]:
    if ring_ids is None:
        nodes = list(store.stream_nodes("Ring"))
    else:
        ids = [node_id("Ring", r) for r in ring_ids]
        found = store.get_nodes(ids)
        nodes = [(split_id(i)[1], found[i]) for i in ids if i in found]
    members: dict[str, list[str]] = {}
    if nodes:
        for e in store.incident_edges([node_id("Ring", k) for k, _ in nodes], ["MEMBER_OF"]):
            members.setdefault(split_id(e.dst)[1], []).append(split_id(e.src)[1])
    out = []
    for key, p in nodes:
        detail = json.loads(p.get("detail") or "{}")
        out.append(Ring.from_detail(key, p.get("typology") or "unknown", p.get("risk") or 0.0,
                                    members.get(key, []), detail))
    out.sort(key=lambda r: (-r.risk, r.ring_id))
    return out


def get(store: GraphStore, ring_id: str) -> Ring | None:
    found = load(store, [ring_id])
    return found[0] if found else None
