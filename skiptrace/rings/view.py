"""A ring as a small drawable graph: members, the identifiers that bind them, agents.

:func:`ring_view` reads what it needs from the store (members' status,
which member holds which binding identifier, who lists which agent) and
returns plain data, masked unless ``reveal``: the renderers in
:mod:`skiptrace.rings.render` (HTML, GraphML, JSON) and a web page draw it.
"""
from __future__ import annotations

from typing import Any

from skiptrace.privacy import store_key
from skiptrace.rings.model import Binding, Ring
from skiptrace.store.base import GraphStore, node_id

#: the identifier node label of each binding kind
_LABEL = {"device": "Device", "phone": "Phone", "contact": "Phone", "agent": "Phone", "work_phone": "Phone",
          "address": "Address", "work_address": "Address", "employer": "Employer"}
_TYPES = {"device": ["USES_DEVICE"], "phone": ["HAS_PHONE"], "work_phone": ["HAS_PHONE"], "contact": ["LISTS_CONTACT"],
          "agent": ["LISTS_CONTACT"], "address": ["LIVES_AT"], "work_address": ["WORKS_AT", "LIVES_AT"],
          "employer": ["EMPLOYED_BY"]}
_MEMBER_ATTRS = ("status", "days_past_due", "opened_at")


def ring_view(store: GraphStore, ring: Ring, *, reveal: bool = False,
              key: str | bytes | None = None) -> dict[str, Any]:
    """The view of ``ring`` (see the module docstring): ``{"ring", "nodes", "links"}``;
    addresses and employers are pseudonymised under ``key`` (default: the store's)."""
    if key is None and not reveal:
        key = store_key(store)
    return store.consistent(lambda: _ring_view(store, ring, reveal, key))


def _ring_view(store: GraphStore, ring: Ring, reveal: bool, key: str | bytes | None) -> dict[str, Any]:
    members = {node_id("Borrower", m) for m in ring.members}
    props = store.get_nodes(sorted(members))
    nodes: list[dict[str, Any]] = []
    for m in ring.members:
        p = props.get(node_id("Borrower", m), {})
        attrs = {k: p[k] for k in _MEMBER_ATTRS if p.get(k) is not None}
        if reveal and p.get("full_name"):
            attrs["full_name"] = p["full_name"]
        nodes.append({"id": node_id("Borrower", m), "kind": "member", "label": m, "attrs": attrs})
    bindings = list(ring.binding)
    for a in ring.agents:
        if not any(b.kind == "agent" and b.value == a for b in bindings):
            bindings.append(Binding("agent", a, 0))
    shown: dict[str, tuple[str, list[str]]] = {}  # node id -> (its id in the view, types that link it)
    for b in bindings:
        nid = node_id(_LABEL.get(b.kind, "Phone"), b.value)
        if nid in shown:
            continue
        shown[nid] = (f"{_LABEL.get(b.kind, 'Phone')}:{b.masked_value(reveal, key)}", _TYPES[b.kind])
        nodes.append({"id": shown[nid][0], "kind": "agent" if b.kind == "agent" else "identifier",
                      "sub": b.kind, "label": b.masked_value(reveal, key), "attrs": {"members": b.members}})
    links: list[dict[str, str]] = []
    types = sorted({t for _, ts in shown.values() for t in ts})
    for e in store.incident_edges(list(shown), types) if shown else []:
        ident, member = (e.dst, e.src) if e.dst in shown else (e.src, e.dst)
        if member in members and e.type in shown[ident][1]:
            links.append({"source": member, "target": shown[ident][0], "kind": e.type})
    links = [dict(t) for t in sorted({tuple(sorted(x.items())) for x in links})]
    out_ring = ring.to_json(reveal=reveal, key=key)
    return {"ring": out_ring, "nodes": nodes, "links": links}

