"""Export a store's graph as GraphML (Gephi, yEd, networkx) or node-link JSON.

Both writers stream: nodes first, then relationships, so memory stays flat
whatever the graph's size (a relationship-type filter keeps the set of
endpoint ids). Personal data is masked unless ``reveal``: the ids of phone,
address and employer nodes become keyed pseudonyms (HMAC under the store's
key, :mod:`skiptrace.privacy`), phones, names (borrowers', contacts' on
LISTS_CONTACT, employers') and addresses are masked, and a ring's stored
detail is left out.

Output is a function of the data: nodes in (label, key) order, relationships
in (type, source, target, identity) order, properties by name, so both stores
export the same bytes. In JSON, a relationship property named like a
node-link key (``source``, ``target``, ``type``) is written as ``rel_<name>``.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any, TextIO
from xml.sax.saxutils import escape, quoteattr

from skiptrace.privacy import mask_name, mask_phone, mask_text, pseudonym, store_key
from skiptrace.store.base import GraphStore, Props, node_id, split_id

#: an export is kept in memory up to this size, then in a temporary file, until it is whole
SPOOL_BYTES = 16 * 1024 * 1024
_NAME_PROPS = {"full_name", "name"}
_GRAPHML_TYPE = {"str": "string", "int": "long", "float": "double", "bool": "boolean", "json": "string"}


#: node labels whose key is personal data: replaced by a keyed pseudonym in masked exports
_PSEUDONYMISED = frozenset({"Phone", "Address", "Employer"})


class _Masker:
    """Masks an export: phone, address and employer ids become keyed
    pseudonyms; phones, names, employer names and addresses are masked; a
    ring's stored detail (raw binding values) is left out."""

    def __init__(self, reveal: bool, key: str | bytes | None):
        self.reveal = reveal
        self.key = key

    def node(self, nid: str) -> str:
        if self.reveal:
            return nid
        label, key = split_id(nid)
        return f"{label}:{pseudonym(key, self.key)}" if label in _PSEUDONYMISED else nid

    def props(self, label: str, props: Props) -> Props:
        if self.reveal:
            return props
        out = dict(props)
        for k in _NAME_PROPS & out.keys():
            if isinstance(out[k], str):
                out[k] = mask_name(out[k])
        if label == "Phone" and "e164" in out:
            out["e164"] = mask_phone(out["e164"])
        elif label == "Address":
            if "address_key" in out:
                out["address_key"] = pseudonym(out["address_key"], self.key)
            if isinstance(out.get("address"), str):
                out["address"] = mask_text(out["address"])
        elif label == "Employer" and "employer_key" in out:
            out["employer_key"] = pseudonym(out["employer_key"], self.key)
        elif label == "Ring":
            out.pop("detail", None)
            if isinstance(out.get("agent_phones"), str):
                out["agent_phones"] = ",".join(mask_phone(p) for p in out["agent_phones"].split(",") if p)
        return out

    def edge_props(self, props: Props) -> Props:
        if self.reveal or not _NAME_PROPS & props.keys():
            return props
        return {k: mask_name(v) if k in _NAME_PROPS and isinstance(v, str) else v
                for k, v in props.items()}


def _nodes(store: GraphStore, keep: set[str] | None) -> Iterator[tuple[str, str, Props]]:
    for label in store.schema["nodes"]:
        for key, props in store.stream_nodes(label):
            nid = node_id(label, key)
            if keep is None or nid in keep:
                yield nid, label, props


def _endpoints(store: GraphStore, types: list[str] | None) -> set[str] | None:
    if types is None:
        return None
    keep: set[str] = set()
    for e in store.stream_edges(types, with_props=False):
        keep.add(e.src)
        keep.add(e.dst)
    return keep


def export(store: GraphStore, out: TextIO, *, fmt: str = "graphml", types: list[str] | None = None,
           reveal: bool = False, key: str | bytes | None = None) -> tuple[int, int]:
    """Write the graph to ``out``; return (nodes, relationships) written.

    Parameters
    ----------
    store : the graph store.
    out : a text stream.
    fmt : ``"graphml"`` or ``"json"`` (node-link).
    types : relationship types to export (default all) and the nodes they touch.
    reveal : write personal data unmasked.
    key : the pseudonym key of masked ids (default: the store's,
        :func:`skiptrace.privacy.store_key`); two exports under one key name
        the same value alike.

    Cost: one pass over the nodes and one over the relationships (two with ``types``), into
    a spool (memory up to :data:`SPOOL_BYTES`, then a temporary file) copied to ``out`` once
    the reads are known to come from one published state.
    """
    unknown = [t for t in types or [] if t not in store.schema["relationships"]]
    if unknown:
        from skiptrace.errors import SkiptraceError

        raise SkiptraceError(f"unknown relationship type(s): {', '.join(unknown)}")
    mask = _Masker(reveal, None if reveal else (key or store_key(store)))
    write = _json if fmt == "json" else _graphml

    def read() -> tuple[Any, tuple[int, int]]:
        # nodes and relationships from one published state (GraphStore.consistent), written to
        # a spool first: a store may run this again when a load is published meanwhile, and
        # ``out`` must get one whole export, not a torn one and then another
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+", encoding="utf-8",
                                              newline="")
        try:
            counts = write(store, spool, types, _endpoints(store, types), mask)
        except BaseException:
            spool.close()
            raise
        return spool, counts

    spool, counts = store.consistent(read)
    with spool:
        spool.seek(0)
        shutil.copyfileobj(spool, out)
    return counts


#: keys of a node-link edge; a relationship property of the same name (the
#: ``source`` of a LISTS_CONTACT) is written as ``rel_<name>`` instead of
#: overwriting the endpoint
_RESERVED = frozenset({"source", "target", "type"})


def _json(store: GraphStore, out: TextIO, types, keep, mask: _Masker) -> tuple[int, int]:
    n = m = 0
    out.write('{"directed": true, "multigraph": true, "nodes": [\n')
    for nid, label, props in _nodes(store, keep):
        out.write(("," if n else "") + json.dumps(
            {"id": mask.node(nid), "label": label, **dict(sorted(mask.props(label, props).items()))},
            ensure_ascii=False) + "\n")
        n += 1
    out.write('], "edges": [\n')
    for e in store.stream_edges(types, ordered=True):
        out.write(("," if m else "") + json.dumps(
            {"source": mask.node(e.src), "target": mask.node(e.dst), "type": e.type,
             **{("rel_" + k if k in _RESERVED else k): v
                for k, v in sorted(mask.edge_props(e.props).items())}},
            ensure_ascii=False) + "\n")
        m += 1
    out.write("]}\n")
    return n, m


def _graphml(store: GraphStore, out: TextIO, types, keep, mask: _Masker) -> tuple[int, int]:
    node_keys: dict[str, str] = {"label": "string"}
    for spec in store.schema["nodes"].values():
        node_keys[spec["key"]] = "string"
        for p, s in spec.get("props", {}).items():
            node_keys[p] = _GRAPHML_TYPE[s["type"]]
    edge_keys: dict[str, str] = {"type": "string"}
    for spec in store.schema["relationships"].values():
        for p, s in spec.get("props", {}).items():
            edge_keys[p] = _GRAPHML_TYPE[s["type"]]
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n')
    for k, t in node_keys.items():
        out.write(f'  <key id="n_{k}" for="node" attr.name="{k}" attr.type="{t}"/>\n')
    for k, t in edge_keys.items():
        out.write(f'  <key id="e_{k}" for="edge" attr.name="{k}" attr.type="{t}"/>\n')
    out.write('  <graph edgedefault="directed">\n')
    n = m = 0
    for nid, label, props in _nodes(store, keep):
        out.write(f"    <node id={quoteattr(mask.node(nid))}>")
        out.write(_data("n", {"label": label, **mask.props(label, props)}))
        out.write("</node>\n")
        n += 1
    for e in store.stream_edges(types, ordered=True):
        out.write(f"    <edge source={quoteattr(mask.node(e.src))} target={quoteattr(mask.node(e.dst))}>")
        out.write(_data("e", {"type": e.type, **mask.edge_props(e.props)}))
        out.write("</edge>\n")
        m += 1
    out.write("  </graph>\n</graphml>\n")
    return n, m


def _data(prefix: str, props: dict[str, Any]) -> str:
    parts = []
    for k, v in sorted(props.items()):
        if v is None:
            continue
        text = ("true" if v else "false") if isinstance(v, bool) else str(v)
        parts.append(f'<data key="{prefix}_{k}">{escape(text)}</data>')
    return "".join(parts)


__all__ = ["export"]
