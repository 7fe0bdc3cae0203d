"""The ring page, GraphML and JSON: escaped, offline, deterministic, and drawn as the view says.

Unit tests read the strings; the browser tests open the page in Debian's
headless Chromium (tests/browser.py) and count what it drew.
"""
from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import random
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from skiptrace.rings.render import (CSP, DEFAULT_MAX_LABELS, RING_VIEW_SCHEMA, ring_graphml, ring_html,
                                    ring_json, ring_layout)

XSS = "<script>alert(1)</script>"
XSS_IMG = '<img src=x onerror="alert(2)">'
GRAPHML_NS = {"g": "http://graphml.graphdrawing.org/xmlns"}
STATUSES = ["delinquent", "current", "written_off", "repaid"]


def make_view(n_members: int = 7, *, hostile: bool = True) -> dict[str, Any]:
    """A ring view like detection will hand over: members on shared devices and an address,
    half of them listing one agent phone; with ``hostile`` some texts are XSS payloads."""
    members = [f"B{i}" for i in range(1, n_members + 1)]
    if hostile:
        members[1] = XSS
    n_dev = max(1, n_members // 6)
    nodes: list[dict[str, Any]] = [
        {"id": f"Borrower:{m}", "kind": "member", "label": m,
         "attrs": {"status": STATUSES[i % 4], "days_past_due": (i * 13) % 90}}
        for i, m in enumerate(members)]
    nodes += [{"id": f"Device:D{j}", "kind": "identifier", "sub": "device", "label": f"dev {j:04x}…",
               "attrs": {}} for j in range(n_dev)]
    nodes.append({"id": "Address:A0", "kind": "identifier", "sub": "address",
                  "label": XSS_IMG if hostile else "addr 0", "attrs": {"units": 3}})
    nodes.append({"id": "Phone:+8613800000000", "kind": "agent", "sub": "phone", "label": "+86138****0000",
                  "attrs": {}})
    links: list[dict[str, Any]] = []
    for i, m in enumerate(members):
        links.append({"source": f"Borrower:{m}", "target": f"Device:D{i % n_dev}", "kind": "USES_DEVICE"})
        if i % 3 == 0:
            links.append({"source": f"Borrower:{m}", "target": "Address:A0", "kind": "LIVES_AT"})
        if i % 2 == 0:
            links.append({"source": f"Borrower:{m}", "target": "Phone:+8613800000000", "kind": "LISTS_CONTACT"})
    ring = {"ring_id": "R1", "typology": "anti_collection", "risk": 0.93, "size": n_members,
            "members": members,
            "binding": [{"kind": "device", "value": "dev 0000…", "members": min(5, n_members)},
                        {"kind": "address", "value": XSS_IMG if hostile else "addr 0", "members": 3}],
            "agents": ["+86138****0000"],
            "features": {"delinquent_share": 0.86, "agent_share": 0.5714, "median_dpd": 40,
                         **({XSS: 1} if hostile else {})},
            "evidence": [f"{(n_members + 1) // 2} of {n_members} members list agent phone +86138****0000",
                         "5 members share device dev 0000…"] + ([XSS_IMG] if hostile else []),
            "onset_window": ["2026-01-03", "2026-01-19"]}
    return {"ring": ring, "nodes": nodes, "links": links}


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    p = _Tags()
    p.feed(html)
    return p.tags


# ----------------------------------------------------------------------------- HTML, offline checks

def test_every_text_is_escaped():
    html = ring_html(make_view())
    found = tags(html)
    names = {t for t, _ in found}
    assert not names & {"script", "img", "iframe", "object", "embed", "link", "base", "form"}
    assert not [a for _, attrs in found for a in attrs if a.startswith("on")], "an event handler slipped in"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html


def test_page_has_strict_csp_and_no_external_reference():
    html = ring_html(make_view())
    metas = [a for t, a in tags(html) if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert [m["content"] for m in metas] == [CSP]
    assert "default-src 'none'" in CSP
    # nothing that could load: no src/href/xlink, no url() or @import in the style
    assert not [a for _, attrs in tags(html) for a in attrs if a in ("src", "href", "xlink:href", "srcset")]
    assert "url(" not in html and "@import" not in html
    # the only URL in the page is the SVG namespace
    assert set(_urls(html)) <= {"http://www.w3.org/2000/svg"}


def _urls(text: str) -> list[str]:
    return re.findall(r"(?:https?|wss?|ftp)://[^\s\"'<>)]+", text)


def test_shapes_match_the_view():
    view = make_view(12)
    found = tags(ring_html(view))
    drawn = Counter((t, a.get("data-kind")) for t, a in found if a.get("data-kind"))
    want = Counter(n["kind"] for n in view["nodes"])
    assert drawn[("circle", "member")] == want["member"]
    assert drawn[("rect", "identifier")] == want["identifier"]
    assert drawn[("polygon", "agent")] == want["agent"]
    assert drawn[("line", "link")] == len(view["links"])
    ids = [a["data-id"] for t, a in found if a.get("data-kind") in ("member", "identifier", "agent")]
    assert sorted(ids) == sorted(n["id"] for n in view["nodes"])


def test_same_view_same_bytes_whatever_the_random_state():
    view = make_view(40)
    random.seed(1)
    first = ring_html(view)
    random.seed(2)
    random.random()
    assert ring_html(copy.deepcopy(view)) == first
    assert ring_graphml(view) == ring_graphml(copy.deepcopy(view))


def test_same_bytes_in_a_fresh_process():
    """The layout owes nothing to process state (hash seed, igraph's random source, draw order)."""
    code = ("import sys, hashlib; sys.path.insert(0, %r); from test_ring_render import make_view; "
            "from skiptrace.rings.render import ring_html; "
            "print(hashlib.sha256(ring_html(make_view(30)).encode()).hexdigest())") % str(Path(__file__).parent)
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout.strip()
    assert other == hashlib.sha256(ring_html(make_view(30)).encode()).hexdigest()


def test_layout_ignores_the_order_of_the_lists():
    view = make_view(25)
    shuffled = copy.deepcopy(view)
    rng = random.Random(3)
    rng.shuffle(shuffled["nodes"])
    rng.shuffle(shuffled["links"])
    pos = ring_layout(view)
    assert pos == ring_layout(shuffled)
    assert set(pos) == {n["id"] for n in view["nodes"]}
    assert all(0.0 <= c <= 1.0 for xy in pos.values() for c in xy)


def test_large_ring_stays_readable():
    view = make_view(400, hostile=False)
    html = ring_html(view)
    found = tags(html)
    svg = next(a for t, a in found if t == "svg" and a.get("class") == "ring-graph")
    assert int(svg["width"]) <= 1600
    assert sum(1 for t, a in found if a.get("data-kind") == "member") == 400
    labels = [a for t, a in found if t == "text" and "label" in (a.get("class") or "")]
    assert 10 <= len(labels) <= DEFAULT_MAX_LABELS
    assert any(a["data-for"] == "Phone:+8613800000000" for a in labels), "the agent is always labelled first"


def test_label_cap_is_a_parameter():
    html = ring_html(make_view(30), max_labels=0)
    assert not [a for t, a in tags(html) if t == "text"]


def test_empty_and_partial_views_render():
    html = ring_html({"ring": {"ring_id": "R0"}, "nodes": [], "links": []})
    assert "Ring <span class=\"ring-id\">R0</span>" in html
    assert "not established" in html          # no onset window
    one = {"ring": {"ring_id": "R2", "risk": "n/a", "onset_window": None},
           "nodes": [{"id": "Borrower:B1", "kind": "member", "label": "B1"}], "links": []}
    assert 'data-id="Borrower:B1"' in ring_html(one)


@pytest.mark.parametrize("mutate, message", [
    (lambda v: v["nodes"].append(dict(v["nodes"][0])), "appears twice"),
    (lambda v: v["nodes"][0].update(kind="villain"), "expected one of"),
    (lambda v: v["links"].append({"source": "Borrower:B1", "target": "Phone:nowhere"}), "is not a node"),
    (lambda v: v.pop("ring"), "'ring' must be a mapping"),
])
def test_malformed_views_are_refused(mutate, message):
    view = make_view()
    mutate(view)
    for render in (ring_html, ring_graphml, ring_json):
        with pytest.raises(ValueError, match=message):
            render(view)


# ----------------------------------------------------------------------------- GraphML and JSON

def test_graphml_parses_with_the_right_counts_and_values():
    view = make_view(9)
    view["nodes"][0]["attrs"]["note"] = "bad\x00\x07char & <b>\"quoted\"</b>"
    view["nodes"][0]["attrs"]["label"] = "collides with the node's label"
    text = ring_graphml(view)
    root = ET.fromstring(text.encode("utf-8"))
    graph = root.find("g:graph", GRAPHML_NS)
    assert len(graph.findall("g:node", GRAPHML_NS)) == len(view["nodes"])
    assert len(graph.findall("g:edge", GRAPHML_NS)) == len(view["links"])
    keys = {k.get("id"): k for k in root.findall("g:key", GRAPHML_NS)}
    used = {d.get("key") for d in root.iter("{%s}data" % GRAPHML_NS["g"])}
    assert used <= set(keys), "every data element has a declared key"

    g = nx.read_graphml(io.BytesIO(text.encode("utf-8")))
    assert g.number_of_nodes() == len(view["nodes"]) and g.number_of_edges() == len(view["links"])
    assert f"Borrower:{XSS}" in g.nodes  # ids keep their text, escaped on the way and back
    first = g.nodes["Borrower:B1"]
    assert first["kind"] == "member" and first["days_past_due"] == 0 and first["status"] == "delinquent"
    assert first["note"] == "bad\ufffd\ufffdchar & <b>\"quoted\"</b>"
    assert first["attr_label"] == "collides with the node's label" and first["label"] == "B1"
    assert g.graph["ring_id"] == "R1" and g.graph["risk"] == pytest.approx(0.93)
    assert g.graph["feature_delinquent_share"] == pytest.approx(0.86)
    assert json.loads(g.graph["evidence"])[-1] == XSS_IMG
    assert {d["kind"] for _, _, d in g.edges(data=True)} == {"USES_DEVICE", "LIVES_AT", "LISTS_CONTACT"}


def test_ring_json_is_a_tagged_deep_copy():
    view = make_view()
    view["ring"]["onset_window"] = ("2026-01-03", "2026-01-19")
    out = ring_json(view)
    assert out["schema"] == RING_VIEW_SCHEMA
    assert out["ring"]["onset_window"] == ["2026-01-03", "2026-01-19"]
    assert json.loads(json.dumps(out)) == out
    out["nodes"][0]["attrs"]["status"] = "changed"
    assert view["nodes"][0]["attrs"]["status"] == "delinquent"
    with pytest.raises(ValueError):
        ring_json({**view, "ring": {**view["ring"], "risk": float("nan")}})


# ----------------------------------------------------------------------------- in a real browser

@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, tuple[Path, dict[str, Any]]]:
    """The hostile 7-member ring and a 300-member one, written once for the module."""
    out = tmp_path_factory.mktemp("ring_pages")
    made = {}
    for name, view in (("small", make_view(7)), ("large", make_view(300, hostile=False))):
        path = out / f"ring-{name}.html"
        path.write_text(ring_html(view), encoding="utf-8")
        made[name] = (path, view)
    return made


@pytest.mark.browser
@pytest.mark.parametrize("which", ["small", "large"])
def test_browser_draws_every_node_and_link(open_page, pages, which):
    path, view = pages[which]
    visit = open_page(path)
    svg = visit.page.locator("svg.ring-graph")
    want = Counter(n["kind"] for n in view["nodes"])
    assert svg.locator("circle[data-kind=member]").count() == want["member"]
    assert svg.locator("rect[data-kind=identifier]").count() == want["identifier"]
    assert svg.locator("polygon[data-kind=agent]").count() == want["agent"]
    assert svg.locator("line[data-kind=link]").count() == len(view["links"])
    assert svg.locator("text.label").count() <= DEFAULT_MAX_LABELS
    box = svg.bounding_box()
    assert box is not None and box["width"] >= 400 and box["height"] >= 400
    # every shape lies inside the drawing
    outside = visit.page.evaluate("""() => {
        const svg = document.querySelector('svg.ring-graph'), vb = svg.viewBox.baseVal;
        return [...svg.querySelectorAll('[data-kind]')].filter(e => {
            const b = e.getBBox();
            return b.x < 0 || b.y < 0 || b.x + b.width > vb.width || b.y + b.height > vb.height;
        }).length; }""")
    assert outside == 0
    assert visit.blocked == [] and visit.console_errors == [] and visit.page_errors == []


@pytest.mark.browser
def test_browser_header_tables_and_evidence(open_page, pages):
    path, view = pages["small"]
    page = open_page(path).page
    assert page.locator("h1").inner_text() == "Ring R1"
    facts = {page.locator(f"[data-fact='{k}'] dd").inner_text() for k in ("typology", "risk", "size")}
    assert facts == {"anti_collection", "0.93", "7"}
    assert page.locator("[data-fact='onset window'] dd").inner_text() == "2026-01-03 – 2026-01-19"
    assert page.locator("table.binding tbody tr").count() == len(view["ring"]["binding"])
    assert page.locator("table.features tbody tr").count() == len(view["ring"]["features"])
    assert page.locator("ol.evidence li").count() == len(view["ring"]["evidence"])
    assert page.locator("ul.agents li").all_inner_texts() == ["+86138****0000"]


@pytest.mark.browser
def test_browser_shows_payloads_as_text_and_runs_nothing(open_page, pages):
    path, _ = pages["small"]
    visit = open_page(path)
    page = visit.page
    page.locator("details.members summary").click()          # unfold the members table
    assert page.locator("table.members td", has_text=XSS).count() == 1
    assert page.locator("ol.evidence li").last.inner_text() == XSS_IMG
    assert page.locator("svg.ring-graph text.label", has_text="<script>").count() == 1
    assert page.evaluate("document.scripts.length") == 0
    assert page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    page.wait_for_timeout(200)                                  # give any stray handler its chance
    assert visit.dialogs == []
    assert visit.page_errors == []


@pytest.mark.browser
def test_browser_page_makes_no_outside_request(open_page, pages):
    for path, _ in pages.values():
        visit = open_page(path, wait_until="networkidle")
        assert visit.blocked == []
        assert visit.requests == [path.resolve().as_uri()]
        assert visit.console_errors == []        # a CSP violation would be logged here


@pytest.mark.browser
def test_browser_screenshot(open_page, pages, tmp_path_factory):
    shots = tmp_path_factory.mktemp("ring_screenshots")
    for name, (path, _) in pages.items():
        png = open_page(path).screenshot(shots / f"ring-{name}.png")
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
