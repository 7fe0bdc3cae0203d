"""A ring as a small drawable graph: members, the identifiers that bind them, agents.

:func:`ring_view` reads what it needs from the store (members' status,
which member holds which binding identifier, who lists which agent) and
returns plain data, masked unless ``reveal``: the renderers in
:mod:`skiptrace.rings.render` (HTML, GraphML, JSON) and a web page draw it.
"""
from __future__ import annotations

from typing import Any

from skiptrace.rings.model import Binding, Ring
from skiptrace.store.base import GraphStore, node_id, split_id

#: the identifier node label of each binding kind
_LABEL = {"device": "Device", "phone": "Phone", "contact": "Phone", "agent": "Phone", "work_phone": "Phone",
          "address": "Address", "work_address": "Address", "employer": "Employer"}
_TYPES = {"device": ["USES_DEVICE"], "phone": ["HAS_PHONE"], "work_phone": ["HAS_PHONE"], "contact": ["LISTS_CONTACT"],
          "agent": ["LISTS_CONTACT"], "address": ["LIVES_AT"], "work_address": ["WORKS_AT", "LIVES_AT"],
          "employer": ["EMPLOYED_BY"]}
_MEMBER_ATTRS = ("status", "days_past_due", "opened_at")


def ring_view(store: GraphStore, ring: Ring, *, reveal: bool = False) -> dict[str, Any]:
    """The view of ``ring`` (see the module docstring): ``{"ring", "nodes", "links"}``."""
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
    links: list[dict[str, str]] = []
    seen: set[str] = set()
    for b in bindings:
        nid = node_id(_LABEL.get(b.kind, "Phone"), b.value)
        shown = f"{_LABEL.get(b.kind, 'Phone')}:{b.masked_value(reveal)}"
        if nid in seen:
            continue
        seen.add(nid)
        nodes.append({"id": shown, "kind": "agent" if b.kind == "agent" else "identifier", "sub": b.kind,
                      "label": b.masked_value(reveal), "attrs": {"members": b.members}})
        for e in store.incident_edges([nid], _TYPES.get(b.kind)):
            other = e.src if e.dst == nid else e.dst
            if other in members:
                links.append({"source": other, "target": shown, "kind": e.type})
    links = [dict(t) for t in sorted({tuple(sorted(x.items())) for x in links})]
    out_ring = ring.to_json(reveal=reveal)
    return {"ring": out_ring, "nodes": nodes, "links": links}


def member_ids(view: dict[str, Any]) -> list[str]:
    return [split_id(n["id"])[1] for n in view["nodes"] if n["kind"] == "member"]
