"""Render one ring for a person or a tool: a self-contained HTML page, GraphML, JSON.

The input is a plain *ring view* (a dict), so rendering knows nothing of how a
ring was detected::

    {"ring":  {"ring_id": "R1", "typology": "anti_collection", "risk": 0.93,
               "size": 7, "members": ["B1", ...],
               "binding": [{"kind": "device", "value": "D9", "members": 5}],
               "agents": ["+86138****0000"], "features": {"delinquent_share": 0.86},
               "evidence": ["7 of 7 members list agent phone ..."],
               "onset_window": ["2026-01-03", "2026-01-19"] or None},
     "nodes": [{"id": "Borrower:B1", "kind": "member", "label": "B1",
                "attrs": {"status": "delinquent", "days_past_due": 40}},
               {"id": "Device:D9", "kind": "identifier", "sub": "device", "label": "dev 3f2a…"},
               {"id": "Phone:+86...", "kind": "agent", "sub": "phone", "label": "+86138****0000"}],
     "links": [{"source": "Borrower:B1", "target": "Device:D9", "kind": "USES_DEVICE"}]}

Values arrive masked by the caller; nothing here looks anything up or adds
data. Every text from the view is escaped, so a member named
``<script>alert(1)</script>`` is shown as those characters.

The page makes no request of any kind: the drawing is inline SVG laid out here
in Python (Fruchterman-Reingold from igraph, from a fixed starting layout and
with its own seeded random source, so the same view gives the same bytes), the
style is one inline ``<style>``, there is no script, and a Content-Security-Policy
forbids anything else. Shapes carry ``data-kind`` and ``data-id`` attributes
(members: circles coloured by status; identifiers: squares coloured by kind;
agents: red diamonds) so tests and a console can find what was drawn.
"""
from __future__ import annotations

import json
import math
import random
import re
import threading
from collections.abc import Mapping, Sequence
from html import escape as _html_escape
from typing import Any
from xml.sax.saxutils import quoteattr

__all__ = ["RING_VIEW_SCHEMA", "NODE_KINDS", "ring_html", "ring_graphml", "ring_json", "ring_layout",
           "view_svg"]

#: the schema tag of :func:`ring_json`; bump on an incompatible change of the view
RING_VIEW_SCHEMA = "skiptrace.ring_view/1"
#: the node kinds a view may hold
NODE_KINDS = ("member", "identifier", "agent")

#: the page's policy: nothing may load; inline style only; images only as data: URIs
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STATUS_COLOURS = {
    "current": "#2f9e44",
    "delinquent": "#f08c00",
    "written_off": "#862e9c",
    "repaid": "#1971c2",
}
SUB_COLOURS = {
    "device": "#343a40",
    "phone": "#0c8599",
    "address": "#8d5524",
    "employer": "#5c7cfa",
}
UNKNOWN_COLOUR = "#868e96"
AGENT_FILL, AGENT_STROKE = "#e03131", "#7a0c0c"
LINK_COLOUR, AGENT_LINK_COLOUR = "#adb5bd", "#e03131"

#: labels drawn at most, by default (agents first, then identifiers, then members by degree)
DEFAULT_MAX_LABELS = 40
#: displayed width (CSS px) the drawing is scaled for; fonts grow with larger canvases to stay legible
_DISPLAY_WIDTH = 900.0
_MARGIN = 40.0

# characters XML 1.0 forbids (and HTML calls parse errors): replaced, never passed on
_BAD_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# igraph draws random numbers from a process-wide source; the layout swaps in its own under a lock
_LAYOUT_LOCK = threading.Lock()


# ----------------------------------------------------------------------------- validation

def _check(view: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """Return (ring, nodes, links) of a well-formed view, or raise ValueError saying what is wrong."""
    if not isinstance(view, Mapping):
        raise ValueError("a ring view is a mapping with 'ring', 'nodes' and 'links'")
    ring = view.get("ring")
    if not isinstance(ring, Mapping):
        raise ValueError("ring view: 'ring' must be a mapping")
    nodes = list(view.get("nodes") or [])
    links = list(view.get("links") or [])
    seen: set[str] = set()
    for i, n in enumerate(nodes):
        if not isinstance(n, Mapping) or not isinstance(n.get("id"), str):
            raise ValueError(f"ring view: nodes[{i}] needs a string 'id'")
        if n["id"] in seen:
            raise ValueError(f"ring view: node id {n['id']!r} appears twice")
        if n.get("kind") not in NODE_KINDS:
            raise ValueError(f"ring view: node {n['id']!r} has kind {n.get('kind')!r}, "
                             f"expected one of {', '.join(NODE_KINDS)}")
        seen.add(n["id"])
    for i, link in enumerate(links):
        if not isinstance(link, Mapping):
            raise ValueError(f"ring view: links[{i}] must be a mapping")
        for end in ("source", "target"):
            if link.get(end) not in seen:
                raise ValueError(f"ring view: links[{i}] {end} {link.get(end)!r} is not a node")
    return dict(ring), [dict(n) for n in nodes], [dict(link) for link in links]


# ----------------------------------------------------------------------------- text helpers

def _clean(text: str) -> str:
    return _BAD_CHARS.sub("\ufffd", text)


def _e(value: Any) -> str:
    """HTML-escape any value's display text (quotes too: safe in attributes)."""
    return _html_escape(_clean(_fmt(value)), quote=True)


def _fmt(value: Any) -> str:
    """Display text of a value: numbers short, lists and mappings as JSON, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        text = f"{value:.3f}".rstrip("0").rstrip(".")
        return text if text not in ("", "-0") else "0"
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(value)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


# ----------------------------------------------------------------------------- layout

def ring_layout(view: Mapping[str, Any], *, iterations: int | None = None,
                seed: int = 7) -> dict[str, tuple[float, float]]:
    """Deterministic 2-D positions in [0, 1] x [0, 1] for every node of a ring view.

    Fruchterman-Reingold (igraph) started from a golden-angle spiral over the
    nodes sorted by (agents, identifiers, members; id), so the result depends
    on the graph, not on the order of the view's lists; igraph's random source
    is a ``random.Random(seed)`` for the call, so the same view and seed give
    the same positions. ``iterations`` defaults to 500 (300 above 300 nodes,
    where igraph's grid variant takes over from 1000 nodes). Coordinates are
    rounded to 4 decimals so output bytes do not hinge on the last float bit.
    """
    _, nodes, links = _check(view)
    order = {"agent": 0, "identifier": 1, "member": 2}
    ids = [nd["id"] for nd in sorted(nodes, key=lambda nd: (order[nd["kind"]], nd["id"]))]
    n = len(ids)
    if n == 0:
        return {}
    if n == 1:
        return {ids[0]: (0.5, 0.5)}
    index = {nid: i for i, nid in enumerate(ids)}
    edges = sorted({tuple(sorted((index[link["source"]], index[link["target"]])))
                    for link in links if link["source"] != link["target"]})
    golden = math.pi * (3 - math.sqrt(5))
    start = [[math.sqrt(i + 0.5) * math.cos(i * golden), math.sqrt(i + 0.5) * math.sin(i * golden)]
             for i in range(n)]
    import igraph  # local: the page's other functions need no C extension

    graph = igraph.Graph(n=n, edges=edges)
    niter = iterations if iterations is not None else (500 if n <= 300 else 300)
    with _LAYOUT_LOCK:
        igraph.set_random_number_generator(random.Random(seed))
        try:
            coords = graph.layout_fruchterman_reingold(seed=start, niter=niter).coords
        finally:
            igraph.set_random_number_generator(random)
    xs = [c[0] for c in coords]
    ys = [c[1] for c in coords]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    # keep the aspect ratio; centre the shorter side
    ox = min(xs) - (span - (max(xs) - min(xs))) / 2
    oy = min(ys) - (span - (max(ys) - min(ys))) / 2
    return {nid: (round((coords[i][0] - ox) / span, 4), round((coords[i][1] - oy) / span, 4))
            for nid, i in index.items()}


# ----------------------------------------------------------------------------- SVG

def _node_colour(node: Mapping[str, Any]) -> str:
    if node["kind"] == "member":
        return STATUS_COLOURS.get(str((node.get("attrs") or {}).get("status")), UNKNOWN_COLOUR)
    if node["kind"] == "identifier":
        return SUB_COLOURS.get(str(node.get("sub")), UNKNOWN_COLOUR)
    return AGENT_FILL


def _tooltip(node: Mapping[str, Any]) -> str:
    parts = [_fmt(node.get("label", node["id"])), node["kind"] + (f" ({node['sub']})" if node.get("sub") else "")]
    parts += [f"{k}: {_fmt(v)}" for k, v in sorted((node.get("attrs") or {}).items())]
    return " · ".join(parts)


def _place_labels(nodes: list[dict[str, Any]], degree: dict[str, int],
                  extent: dict[str, tuple[float, float, float]], max_labels: int,
                  font: float, scale: float, side: float) -> list[str]:
    """``<text>`` labels for at most ``max_labels`` nodes, none overlapping another.

    Candidates in order: agents, identifiers, then members, busiest (and most
    overdue) first. A label goes right of its shape, else left; if both would
    cover a label already placed, that node goes without (its hover title stays).
    """
    rank = {"agent": 0, "identifier": 1, "member": 2}

    def key(n: dict[str, Any]) -> tuple:
        dpd = _num((n.get("attrs") or {}).get("days_past_due")) or 0.0
        return (rank[n["kind"]], -degree.get(n["id"], 0), -dpd, n["id"])

    placed: list[tuple[float, float, float, float]] = []
    out: list[str] = []
    for node in sorted(nodes, key=key):
        if len(out) >= max(0, max_labels):
            break
        x, y, half = extent[node["id"]]
        text = _fmt(node.get("label", node["id"]))
        if len(text) > 24:
            text = text[:23] + "…"
        width = 0.62 * font * len(text)
        gap = half + 3 * scale
        for anchor, x0 in (("start", x + gap), ("end", x - gap - width)):
            box = (x0, y - 0.75 * font, x0 + width, y + 0.45 * font)
            if box[0] < 0 or box[2] > side:
                continue
            if all(box[2] <= b[0] or box[0] >= b[2] or box[3] <= b[1] or box[1] >= b[3] for b in placed):
                placed.append(box)
                tx = x + gap if anchor == "start" else x - gap
                cls = "label agent" if node["kind"] == "agent" else "label"
                out.append(f'<text class="{cls}" data-for="{_e(node["id"])}" x="{tx:.1f}" '
                           f'y="{y + font * 0.35:.1f}" text-anchor="{anchor}" font-size="{font:.1f}">'
                           f"{_e(text)}</text>")
                break
    return out


def _svg(nodes: list[dict[str, Any]], links: list[dict[str, Any]],
         pos: dict[str, tuple[float, float]], max_labels: int) -> tuple[str, int]:
    """The drawing as an inline ``<svg>``; also how many nodes got a label."""
    n = len(nodes)
    side = min(1600.0, max(560.0, 90.0 * math.sqrt(max(n, 1))))
    scale = max(1.0, side / _DISPLAY_WIDTH)          # viewBox units per displayed px
    r = max(4.0, min(11.0, 30.0 / math.sqrt(math.sqrt(max(n, 1))))) * scale ** 0.5
    font = 11.0 * scale
    stroke = round(max(0.6, 1.2 * scale ** 0.5 * (0.6 if n > 150 else 1.0)), 2)
    inner = side - 2 * _MARGIN

    def xy(nid: str) -> tuple[float, float]:
        x, y = pos[nid]
        return round(_MARGIN + x * inner, 1), round(_MARGIN + y * inner, 1)

    kind = {nd["id"]: nd["kind"] for nd in nodes}
    degree: dict[str, int] = {}
    for link in links:
        for end in (link["source"], link["target"]):
            degree[end] = degree.get(end, 0) + 1
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="ring-graph" role="img" '
           f'aria-label="ring graph" viewBox="0 0 {side:.0f} {side:.0f}" width="{side:.0f}" '
           f'height="{side:.0f}" data-nodes="{n}" data-links="{len(links)}">']
    out.append('<g class="links">')
    for link in links:
        (x1, y1), (x2, y2) = xy(link["source"]), xy(link["target"])
        agent = "agent" in (kind[link["source"]], kind[link["target"]])
        colour = AGENT_LINK_COLOUR if agent else LINK_COLOUR
        dash = f' stroke-dasharray="{4 * scale:.1f} {3 * scale:.1f}"' if agent else ""
        out.append(f'<line data-kind="link" data-link-kind="{_e(link.get("kind", ""))}" '
                   f'data-source="{_e(link["source"])}" data-target="{_e(link["target"])}" '
                   f'x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" '
                   f'stroke-width="{stroke}" stroke-opacity="0.7"{dash}/>')
    out.append("</g>")
    draw_order = {"member": 0, "identifier": 1, "agent": 2}       # agents on top
    out.append('<g class="nodes">')
    extent: dict[str, tuple[float, float, float]] = {}                # id -> (x, y, half size)
    for node in sorted(nodes, key=lambda nd: draw_order[nd["kind"]]):
        x, y = xy(node["id"])
        edge = AGENT_STROKE if node["kind"] == "agent" else "#ffffff"
        common = (f'data-kind="{node["kind"]}" data-id="{_e(node["id"])}" '
                  f'fill="{_node_colour(node)}" stroke="{edge}" stroke-width="{stroke}"')
        title = f"<title>{_e(_tooltip(node))}</title>"
        if node["kind"] == "member":
            status = (node.get("attrs") or {}).get("status")
            out.append(f'<circle {common} data-status="{_e(status if status is not None else "")}" '
                       f'cx="{x}" cy="{y}" r="{r:.1f}">{title}</circle>')
            extent[node["id"]] = (x, y, r)
        elif node["kind"] == "identifier":
            s = r * 1.7
            out.append(f'<rect {common} data-sub="{_e(node.get("sub", ""))}" x="{x - s / 2:.1f}" '
                       f'y="{y - s / 2:.1f}" width="{s:.1f}" height="{s:.1f}">{title}</rect>')
            extent[node["id"]] = (x, y, s / 2)
        else:
            d = r * 1.6
            pts = f"{x:.1f},{y - d:.1f} {x + d:.1f},{y:.1f} {x:.1f},{y + d:.1f} {x - d:.1f},{y:.1f}"
            out.append(f'<polygon {common} data-sub="{_e(node.get("sub", ""))}" '
                       f'points="{pts}">{title}</polygon>')
            extent[node["id"]] = (x, y, d)
    out.append("</g>")
    labels = _place_labels(nodes, degree, extent, max_labels, font, scale, side)
    out.append('<g class="labels">' + "".join(labels) + "</g>")
    out.append("</svg>")
    return "\n".join(out), len(labels)


def view_svg(view: Mapping[str, Any], *, max_labels: int = DEFAULT_MAX_LABELS) -> str:
    """Just the drawing of a view (any small graph in the ring-view shape, such as a
    borrower's ego graph): the inline ``<svg>`` of :func:`ring_html`, every text escaped,
    no script and no style attribute, for a page with its own stylesheet (the console)."""
    _, nodes, links = _check(view)
    return _svg(nodes, links, ring_layout(view), max_labels)[0]


def _legend() -> str:
    """A key to the shapes and colours (shapes without data-kind: they are not the ring)."""
    def swatch(shape: str) -> str:
        return f'<svg class="swatch" viewBox="0 0 14 14" width="14" height="14">{shape}</svg>'

    items = [swatch(f'<circle cx="7" cy="7" r="6" fill="{c}"/>') + f"member, {_e(s.replace('_', ' '))}"
             for s, c in STATUS_COLOURS.items()]
    items += [swatch(f'<rect x="1" y="1" width="12" height="12" fill="{c}"/>') + f"{_e(s)}"
              for s, c in SUB_COLOURS.items()]
    items.append(swatch(f'<polygon points="7,0 14,7 7,14 0,7" fill="{AGENT_FILL}"/>') + "agent")
    return '<ul class="legend">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


# ----------------------------------------------------------------------------- page

_STYLE = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
       margin: 0; color: #212529; background: #f8f9fa; }
main { max-width: 980px; margin: 0 auto; padding: 16px 20px 40px; }
header.ring { background: #fff; border: 1px solid #dee2e6; border-radius: 6px; padding: 12px 16px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 16px; margin: 22px 0 8px; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 0; }
.facts div { display: flex; gap: 6px; align-items: baseline; }
.facts dt { color: #6c757d; } .facts dd { margin: 0; font-weight: 600; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #e7f5ff; color: #1864ab; }
.badge.anti_collection, .badge.fraud { background: #fff5f5; color: #c92a2a; }
.bar { display: inline-block; width: 90px; height: 8px; background: #e9ecef; border-radius: 4px;
       vertical-align: middle; margin-left: 6px; overflow: hidden; }
.bar span { display: block; height: 100%; background: #e03131; }
figure { margin: 16px 0 0; background: #fff; border: 1px solid #dee2e6; border-radius: 6px; padding: 8px; }
svg.ring-graph { display: block; max-width: 100%; height: auto; margin: 0 auto; }
svg.ring-graph text.label { fill: #212529; stroke: #ffffff; stroke-width: 3px; paint-order: stroke;
       stroke-linejoin: round; font-family: system-ui, sans-serif; }
svg.ring-graph text.label.agent { fill: #c92a2a; font-weight: 700; }
figcaption { color: #6c757d; font-size: 12px; margin-top: 6px; }
ul.legend { list-style: none; padding: 0; margin: 6px 0 0; display: flex; flex-wrap: wrap; gap: 4px 14px;
       font-size: 12px; color: #495057; }
ul.legend li { display: flex; align-items: center; gap: 4px; }
table { border-collapse: collapse; background: #fff; min-width: 320px; }
th, td { border: 1px solid #dee2e6; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
ol.evidence li { margin: 3px 0; } .agents li { color: #c92a2a; font-weight: 600; }
.muted { color: #6c757d; } code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
details summary { cursor: pointer; font-weight: 600; margin: 22px 0 8px; }
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, cls: str, numeric: set[int]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(
        f'<td class="num">{_e(v)}</td>' if i in numeric else f"<td>{_e(v)}</td>" for i, v in enumerate(row))
        + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def ring_html(view: Mapping[str, Any], *, max_labels: int = DEFAULT_MAX_LABELS) -> str:
    """One self-contained HTML page for a ring view (no script, no request, strict CSP).

    Sections: a header (ring id, typology, risk, size), the graph as inline SVG
    with a legend, the binding identifiers with their member counts, the
    agents, the onset window, the features, the evidence, and the members in a
    folded table. At most ``max_labels`` nodes carry a text label (agents
    first, then identifiers, then the busiest members); every shape has a
    hover title, so a ring of hundreds stays readable. Raises ValueError on a
    malformed view.
    """
    ring, nodes, links = _check(view)
    pos = ring_layout(view)
    svg, n_labels = _svg(nodes, links, pos, max_labels)
    rid = ring.get("ring_id", "")
    typology = ring.get("typology")
    risk = _num(ring.get("risk"))
    size = ring.get("size", len(ring.get("members") or []))
    members = [nd for nd in nodes if nd["kind"] == "member"]

    risk_html = _e(ring.get("risk"))
    if risk is not None:
        risk_html += f'<span class="bar" aria-hidden="true"><span style="width:{max(0.0, min(1.0, risk)) * 100:.0f}%">' \
                     "</span></span>"
    onset = ring.get("onset_window")
    if isinstance(onset, Sequence) and not isinstance(onset, str) and len(onset) == 2:
        onset_html = f'<span class="mono">{_e(onset[0])}</span> – <span class="mono">{_e(onset[1])}</span>'
    elif onset:
        onset_html = _e(onset)
    else:
        onset_html = '<span class="muted">not established</span>'

    facts = [("typology", f'<span class="badge {_e(typology)}">{_e(typology)}</span>'),
             ("risk", risk_html), ("size", _e(size)),
             ("members drawn", _e(len(members))), ("onset window", onset_html)]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Ring {_e(rid)} · skiptrace</title>",
        f"<style>{_STYLE}</style></head><body><main>",
        f'<header class="ring"><h1>Ring <span class="ring-id">{_e(rid)}</span></h1>',
        '<dl class="facts">' + "".join(f'<div data-fact="{_e(k)}"><dt>{_e(k)}</dt><dd>{v}</dd></div>'
                                       for k, v in facts) + "</dl></header>",
        f"<figure>{svg}<figcaption>{_e(len(nodes))} nodes, {_e(len(links))} links; "
        f"labels on {_e(n_labels)} of {_e(len(nodes))} (hover a shape for its details).</figcaption>"
        f"{_legend()}</figure>",
    ]
    binding = [b for b in ring.get("binding") or [] if isinstance(b, Mapping)]
    parts.append("<h2>Binding identifiers</h2>")
    parts.append(_table(["kind", "value", "members"],
                        [(b.get("kind"), b.get("value"), b.get("members")) for b in binding],
                        cls="binding", numeric={2})
                 if binding else '<p class="muted">none</p>')
    agents = list(ring.get("agents") or [])
    parts.append("<h2>Agents</h2>")
    parts.append('<ul class="agents">' + "".join(f'<li class="mono">{_e(a)}</li>' for a in agents) + "</ul>"
                 if agents else '<p class="muted">none found</p>')
    features = ring.get("features") or {}
    parts.append("<h2>Features</h2>")
    parts.append(_table(["feature", "value"], sorted(features.items(), key=lambda kv: str(kv[0])),
                        cls="features", numeric={1})
                 if isinstance(features, Mapping) and features else '<p class="muted">none</p>')
    evidence = list(ring.get("evidence") or [])
    parts.append("<h2>Evidence</h2>")
    parts.append('<ol class="evidence">' + "".join(f"<li>{_e(x)}</li>" for x in evidence) + "</ol>"
                 if evidence else '<p class="muted">none</p>')
    if members:
        attr_names = sorted({k for m in members for k in (m.get("attrs") or {})})
        rows = [[m.get("label", m["id"])] + [(m.get("attrs") or {}).get(k) for k in attr_names] for m in members]
        parts.append(f"<details class=\"members\"><summary>Members ({_e(len(members))})</summary>"
                     + _table(["member", *attr_names], rows, cls="members",
                              numeric={i + 1 for i, k in enumerate(attr_names)
                                       if all(_num((m.get("attrs") or {}).get(k)) is not None
                                              or (m.get("attrs") or {}).get(k) is None for m in members)})
                     + "</details>")
    parts.append('<footer><p class="muted">skiptrace ring view · values as masked by the caller · '
                 f"schema {_e(RING_VIEW_SCHEMA)}</p></footer>")
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


# ----------------------------------------------------------------------------- GraphML and JSON

_GRAPHML_RESERVED = frozenset({"kind", "sub", "label"})


def _xml(value: Any) -> str:
    """XML text of a value: forbidden characters replaced, then escaped (quotes too)."""
    return quoteattr(_clean(value if isinstance(value, str) else _plain(value)))[1:-1]


def _plain(value: Any) -> str:
    """Machine-readable text of a value: booleans lower case, numbers as repr, others as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _graphml_type(values: list[Any]) -> str:
    vals = [v for v in values if v is not None]
    if vals and all(isinstance(v, bool) for v in vals):
        return "boolean"
    if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return "long"
    if vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return "double"
    return "string"


def ring_graphml(view: Mapping[str, Any]) -> str:
    """The ring as GraphML (Gephi, yEd, networkx): one ``<graph>`` holding its nodes and links.

    Graph data: the ring's fields (scalars typed, lists and mappings as JSON
    text) and each feature as ``feature_<name>``. Node data: ``kind``, ``sub``,
    ``label`` and each attribute (an attribute named like one of those three is
    written ``attr_<name>``); edge data: every link field but source and target.
    Node ids are the view's ids, as in :mod:`skiptrace.export`. Every value is
    escaped and characters XML forbids are replaced, so the file always parses.
    """
    ring, nodes, links = _check(view)
    graph_data: dict[str, Any] = {k: v for k, v in ring.items()}
    features = ring.get("features")
    if isinstance(features, Mapping):
        graph_data.update({f"feature_{k}": v for k, v in features.items()})

    node_rows: list[tuple[str, dict[str, Any]]] = []
    for nd in nodes:
        data: dict[str, Any] = {k: nd.get(k) for k in ("kind", "sub", "label")}
        for k, v in (nd.get("attrs") or {}).items():
            data[f"attr_{k}" if k in _GRAPHML_RESERVED else str(k)] = v
        node_rows.append((nd["id"], data))
    edge_rows = [(lk["source"], lk["target"], {k: v for k, v in lk.items() if k not in ("source", "target")})
                 for lk in links]

    keys: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>',
                       '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">']
    key_ids: dict[tuple[str, str], str] = {}

    def declare(domain: str, rows: list[dict[str, Any]], prefix: str) -> None:
        names: dict[str, list[Any]] = {}
        for row in rows:
            for k, v in row.items():
                names.setdefault(str(k), []).append(v)
        for i, name in enumerate(sorted(names)):
            typ = _graphml_type(names[name])
            key_ids[(domain, name)] = f"{prefix}{i}"
            keys.append(f'  <key id="{prefix}{i}" for="{domain}" attr.name={quoteattr(_clean(name))} '
                        f'attr.type="{typ}"/>')

    declare("graph", [graph_data], "g")
    declare("node", [d for _, d in node_rows], "n")
    declare("edge", [d for _, _, d in edge_rows], "e")

    def data_xml(domain: str, data: Mapping[str, Any]) -> str:
        return "".join(f'<data key="{key_ids[(domain, str(k))]}">{_xml(v)}</data>'
                       for k, v in sorted(data.items(), key=lambda kv: str(kv[0])) if v is not None)

    out = keys
    out.append('  <graph id="ring" edgedefault="directed">')
    out.append("    " + data_xml("graph", graph_data))
    for nid, data in node_rows:
        out.append(f"    <node id={quoteattr(_clean(nid))}>{data_xml('node', data)}</node>")
    for i, (src, dst, data) in enumerate(edge_rows):
        out.append(f'    <edge id="e{i}" source={quoteattr(_clean(src))} target={quoteattr(_clean(dst))}>'
                   f"{data_xml('edge', data)}</edge>")
    out.append("  </graph>")
    out.append("</graphml>")
    return "\n".join(out) + "\n"


def ring_json(view: Mapping[str, Any]) -> dict[str, Any]:
    """The view as a fresh JSON-ready dict tagged ``"schema": RING_VIEW_SCHEMA``.

    A deep copy through JSON: tuples become lists, and a value JSON cannot hold
    (an object, NaN) raises TypeError or ValueError here rather than later in a
    caller's ``json.dumps``.
    """
    _check(view)
    copy = json.loads(json.dumps(view, ensure_ascii=False, allow_nan=False))
    return {"schema": RING_VIEW_SCHEMA, **{k: v for k, v in copy.items() if k != "schema"}}
