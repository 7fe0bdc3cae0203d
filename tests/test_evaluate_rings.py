"""Ring evaluation: metrics on hand-made truth, baselines on a hand-built store, injection into a
host network, LFR mixing. The detector itself is exercised in test_evaluate_rings_detect.py."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from skiptrace.errors import SkiptraceError
from skiptrace.evaluate import ring_baselines as rb
from skiptrace.evaluate.inject import InjectionParams, inject_rings
from skiptrace.evaluate.lfr import actual_mixing, evaluate_lfr, leiden_communities, planted_membership
from skiptrace.evaluate.rings import (RingTruth, evaluate_rings, jaccard, read_ring_truth, render_text,
                                      score_rings)
from skiptrace.store.base import Batch, node_id


@dataclass
class R:
    members: list[str]
    typology: str


def truth() -> RingTruth:
    return RingTruth(
        rings={"R1": ("fraud", frozenset("ABCD")), "R2": ("anti_collection", frozenset("EFGHIJ"))},
        benign={"household": {"P", "Q", "S"}, "courier": {"Q", "T", "U", "V"}},
        borrowers=set("ABCDEFGHIJPQSTUVWXYZ"))


# -- metrics -----------------------------------------------------------------------------------
def test_member_scores_exact():
    det = [R(["A", "B", "C", "W"], "fraud"),            # 3 of 4 fraud members + 1 ordinary
           R(["E", "F", "G", "P"], "anti_collection"),  # 3 of 6 + a household member
           R(["X", "Y"], "household"),                   # not a flag
           R(["H", "Z"], "unknown")]                     # not a flag
    s = score_rings(det, truth())
    f, a = s.typologies["fraud"], s.typologies["anti_collection"]
    assert (f.precision, f.recall) == (0.75, 0.75) and f.f1 == pytest.approx(0.75)
    assert (a.precision, a.recall) == (0.75, 0.5) and a.f1 == pytest.approx(0.6)
    assert (f.true_positives, f.flagged, f.true_members) == (3, 4, 4)
    assert s.flagged == 8 and s.precision == 0.75 and s.recall == pytest.approx(6 / 10)
    assert s.benign_flagged == {"courier": 0.0, "household": pytest.approx(1 / 3),
                                "ordinary": 0.25}   # W of the ordinary W, X, Y, Z
    assert s.benign_members["ordinary"] == 4
    assert s.detected_rings == 2


def test_wrong_typology_is_a_false_positive_of_that_typology():
    s = score_rings([R(list("ABCD"), "anti_collection")], truth())
    assert s.typologies["fraud"].recall == 0 and s.typologies["anti_collection"].precision == 0
    assert s.precision == 1.0       # overall precision ignores typology
    assert s.typologies["fraud"].rings_found == 1   # ring recall ignores typology too


def test_ring_recall_jaccard_edges():
    t = truth()
    # R1 = ABCD: ABC has Jaccard 3/4; AB 2/4 = 0.5 exactly counts; ABCDWXYZ 4/8 = 0.5 counts
    assert score_rings([R(list("AB"), "fraud")], t).typologies["fraud"].rings_found == 1
    assert score_rings([R(list("ABCDWXYZ"), "fraud")], t).typologies["fraud"].rings_found == 1
    # ABCDWXYZS: 4/9 < 0.5; A alone: 1/4
    assert score_rings([R(list("ABCDWXYZS"), "fraud")], t).typologies["fraud"].rings_found == 0
    assert score_rings([R(["A"], "fraud")], t).typologies["fraud"].rings_found == 0
    # two halves that each reach 0.5 with R2 (EFG: 3/6) count once; a household ring never counts
    s = score_rings([R(list("EFG"), "anti_collection"), R(list("HIJ"), "fraud"),
                     R(list("EFGHIJ"), "household")], t)
    assert s.typologies["anti_collection"].rings_found == 1 and s.ring_recall == 0.5
    assert score_rings([R(list("EFGHIJ"), "household")], t).ring_recall == 0
    assert score_rings([R(list("AB"), "fraud")], t, min_jaccard=0.6).ring_recall == 0


def test_empty_detection_and_custom_flags():
    s = score_rings([], truth())
    assert s.flagged == 0 and s.typologies["fraud"].f1 == 0 and s.precision == 0
    s = score_rings([R(list("XYZ"), "household")], truth(), flagged_typologies=("household",))
    assert s.flagged == 3 and list(s.typologies) == ["household"]
    assert jaccard([], []) == 0.0 and jaccard("ab", "bc") == pytest.approx(1 / 3)


def test_read_ring_truth_of_the_demo():
    t = read_ring_truth(Path(__file__).parent.parent / "fixtures" / "demo")
    assert {typ for typ, _ in t.rings.values()} == {"fraud", "anti_collection"}
    assert len(t.members("fraud")) == 3 and len(t.members("anti_collection")) == 18
    assert sum(len(v) for v in t.agents.values()) == 3
    assert set(t.benign) == {"couple", "courier", "dormitory", "household", "promotion", "shared_device",
                             "switchboard"}
    assert len(t.borrowers) == 300 and not t.ordinary() & t.members()


def test_missing_truth_is_a_clear_error(tmp_path):
    with pytest.raises(SkiptraceError, match="no ring truth"):
        read_ring_truth(tmp_path)


# -- baselines ---------------------------------------------------------------------------------
def test_project_pairs_and_cap():
    # identifiers: 0 shared by borrowers 0,1,2; 1 by 2,3; 2 by 4 only; 3 by 0..5 (over a cap of 4)
    b = np.array([0, 1, 2, 2, 2, 3, 4, 0, 1, 2, 3, 4, 5, 1])
    i = np.array([0, 0, 0, 0, 1, 1, 2, 3, 3, 3, 3, 3, 3, 0])   # duplicates (2,0), (1,0)
    src, dst, capped = rb.project_pairs(b, i, 6, 4)
    assert list(zip(src.tolist(), dst.tolist())) == [(0, 1), (0, 2), (1, 2), (2, 3)]
    assert capped == 1
    src, dst, capped = rb.project_pairs(b, i, 6, 6)
    assert len(src) == 15 and capped == 0


def _hand_store(store):
    """Ring F1..F4 shares devices; household H1..H3 one address; X1, X2 list one courier phone
    with H1 (a raw link); loners L1..L3. F1..F4 opened within a week, H1..H3 years apart."""
    b = Batch()
    people = {"F1": "2026-01-01", "F2": "2026-01-03", "F3": "2026-01-05", "F4": "2026-01-07",
              "H1": "2020-01-01", "H2": "2022-01-01", "H3": "2024-01-01",
              "X1": "2025-01-01", "X2": "2025-02-01", "L1": "2025-03-01", "L2": "2025-03-01",
              "L3": "2025-03-01"}
    for p, at in people.items():
        b.add_node("Borrower", p, {"full_name": p, "opened_at": at + "T00:00:00Z"})
        b.add_edge("HAS_PHONE", node_id("Borrower", p), node_id("Phone", f"+86139000000{len(p)}{p[1]}"
                                                                   + str(ord(p[0]) % 10)))
    for p in ("F1", "F2", "F3"):
        b.add_edge("USES_DEVICE", node_id("Borrower", p), node_id("Device", "dA"))
    for p in ("F3", "F4"):
        b.add_edge("USES_DEVICE", node_id("Borrower", p), node_id("Device", "dB"))
    b.add_node("Address", "1 home st", {"address": "1 Home St"})
    for p in ("H1", "H2", "H3"):
        b.add_edge("LIVES_AT", node_id("Borrower", p), node_id("Address", "1 home st"), {"kind": "home"})
    for p in ("H1", "X1", "X2"):
        b.add_edge("LISTS_CONTACT", node_id("Borrower", p), node_id("Phone", "+8613700000001"),
                   {"source": "phonebook"})
    b.add_node("Employer", "acme", {"name": "Acme"})
    b.add_edge("HAS_PHONE", node_id("Employer", "acme"), node_id("Phone", "+8613700000002"))
    store.write(b)
    return store


def _hand_world(tmp_path: Path) -> Path:
    (tmp_path / "truth").mkdir(parents=True)
    with open(tmp_path / "borrowers.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["borrower_id", "full_name"])
        w.writerows((p, p) for p in ["F1", "F2", "F3", "F4", "H1", "H2", "H3", "X1", "X2", "L1", "L2", "L3"])
    with open(tmp_path / "truth" / "rings.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ring_id", "typology", "borrower_id", "role", "phone"])
        w.writerows(("R1", "fraud", p, "member", "") for p in ["F1", "F2", "F3", "F4"])
    with open(tmp_path / "truth" / "benign_groups.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["group_id", "kind", "borrower_id", "identifier"])
        w.writerows(("G1", "household", p, "1 Home St") for p in ["H1", "H2", "H3"])
    return tmp_path


def test_baselines_on_a_hand_built_store(sqlite_store, tmp_path):
    store = _hand_store(sqlite_store)
    raw = rb.shared_identifier_graph(store)
    assert raw.n == 12                                   # the employer's phone is no borrower's
    assert sorted(rb.components(raw)) == [["F1", "F2", "F3", "F4"], ["H1", "H2", "H3", "X1", "X2"]]
    strong = rb.shared_identifier_graph(store, types=rb.STRONG_TYPES)
    assert sorted(rb.components(strong)) == [["F1", "F2", "F3", "F4"], ["H1", "H2", "H3"]]
    assert rb.components(raw, max_size=4) == [["F1", "F2", "F3", "F4"]]
    assert rb.device_burst(store) == [["F1", "F2", "F3", "F4"]]
    lv = rb.louvain(raw, seed=1)
    assert ["F1", "F2", "F3", "F4"] in lv and lv == rb.louvain(raw, seed=1)
    capped = rb.shared_identifier_graph(store, max_borrowers_per_identifier=2)
    assert capped.capped == 3 and capped.summary()["capped_identifiers"] == 3

    world = _hand_world(tmp_path / "w")
    ev = evaluate_rings(store, world, skiptrace=False)
    assert list(ev.methods) == list(rb.BASELINES)
    comp, st, burst = ev.methods["components"], ev.methods["components_strong"], ev.methods["device_burst"]
    # the household+courier component has no ring member: flagged as a (small: fraud) false positive
    assert comp.typologies["fraud"].recall == 1 and comp.typologies["fraud"].precision == 4 / 9
    assert comp.benign_flagged["household"] == 1.0 and comp.flagged == 9
    assert st.benign_flagged["household"] == 1.0 and burst.benign_flagged["household"] == 0.0
    assert burst.typologies["fraud"].f1 == 1.0 and burst.ring_recall == 1.0
    assert all(m.oracle_typology for m in ev.methods.values())
    d = ev.as_dict()
    assert d["best_baseline"]["fraud"] == "device_burst"
    text = render_text(d)
    assert "ORACLE" in text and "device_burst*" in text


def test_evaluate_refuses_a_store_without_the_world(sqlite_store, tmp_path):
    world = _hand_world(tmp_path / "w")
    with pytest.raises(SkiptraceError, match="does not hold world"):
        evaluate_rings(sqlite_store, world, skiptrace=False)


def test_evaluate_with_a_given_detector(sqlite_store, tmp_path):
    store = _hand_store(sqlite_store)
    world = _hand_world(tmp_path / "w")
    ev = evaluate_rings(store, world, baselines=["device_burst"],
                        detect=lambda s, seed: [R(["F1", "F2", "F3"], "fraud"), R(["H1", "H2"], "household")])
    sk = ev.methods["skiptrace"]
    assert sk.typologies["fraud"].recall == 0.75 and sk.benign_flagged["household"] == 0
    assert ev.error_ratio("fraud") is None              # the best baseline is perfect here


def test_oracle_typology_majority_and_no_member_groups():
    t = truth()
    out = rb.oracle_typology([list("ABEFG"), list("ABEF"), list("WXY"), [f"Z{i}" for i in range(13)]], t)
    assert [r.typology for r in out] == ["anti_collection", "fraud", "fraud", "anti_collection"]
    assert [r.ring_members for r in out] == [5, 4, 0, 0]


# -- injection ---------------------------------------------------------------------------------
def test_injection_writes_a_loadable_consistent_world(sqlite_store, tmp_path):
    from skiptrace.ingest import load

    g = nx.les_miserables_graph()   # 77 characters; ids relabelled to integers
    h = nx.convert_node_labels_to_integers(g)
    edges = tmp_path / "lesmis.csv"
    with open(edges, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["src", "dst", "weight"])
        w.writerows((a, b, d.get("weight", 1)) for a, b, d in h.edges(data=True))
    prm = InjectionParams(fraud_blocks=2, anti_rings=1, anti_size=(10, 12), couriers=1,
                          courier_size=(15, 20), cafes=1, cafe_size=(5, 8), households=1,
                          dormitories=1, dormitory_size=(6, 8))
    out = tmp_path / "world"
    s = inject_rings(edges, out, seed=5, params=prm)
    again = inject_rings(edges, tmp_path / "again", seed=5, params=prm)
    for f in ("borrowers.csv", "calls.csv", "phonebook.csv", "truth/rings.csv"):
        assert (out / f).read_bytes() == (tmp_path / "again" / f).read_bytes()
    assert s.rows == again.rows
    assert s.hosts == 77 and s.rings == {"fraud": 2, "anti_collection": 1}
    report = load(sqlite_store, out)
    counts = report.counts
    assert counts.nodes["Borrower"] == s.borrowers == 77 + s.ring_members["fraud"]
    assert counts.relationships["CALLED"] == s.rows["calls"]
    t = read_ring_truth(out)
    assert t.borrowers == {k for k, _ in sqlite_store.stream_nodes("Borrower")}
    assert len(t.members("fraud")) == s.ring_members["fraud"]
    assert 10 <= len(t.members("anti_collection")) <= 12
    assert not t.members("fraud") & t.members("anti_collection")
    exclusive = t.benign["household"] | t.benign["dormitory"] | t.benign["shared_device"]
    assert not exclusive & t.members()
    assert not t.benign["courier"] & t.members()
    # every agent is listed by members of its ring and by some honest host
    listed: dict[str, set[str]] = {}
    for e in sqlite_store.stream_edges(["LISTS_CONTACT"], with_props=False):
        listed.setdefault(e.dst.partition(":")[2], set()).add(e.src.partition(":")[2])
    for rid, phones in t.agents.items():
        members = t.rings[rid][1]
        for p in phones:
            assert listed[p] - members, "an honest host lists the agent"
        assert set().union(*(listed.get(p, set()) for p in phones)) >= members
    # the fraud members share a device within each block
    users: dict[str, set[str]] = {}
    for e in sqlite_store.stream_edges(["USES_DEVICE"], with_props=False):
        users.setdefault(e.dst, set()).add(e.src.partition(":")[2])
    for rid, (typ, members) in t.rings.items():
        if typ == "fraud":
            assert any(len(u & members) >= 2 for u in users.values())
    ev = evaluate_rings(sqlite_store, out, skiptrace=False, baselines=["components_strong"])
    assert ev.members == {"fraud": s.ring_members["fraud"], "anti_collection": len(t.members("anti_collection"))}


# -- LFR ---------------------------------------------------------------------------------------
def test_actual_mixing_on_a_hand_graph():
    # two triangles joined by one edge (2-3): nodes 2 and 3 have 1 of 3 edges outside
    g = nx.Graph([(0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (4, 5), (2, 3)])
    g.add_node(9)   # no edges: left out
    memb = np.array([0, 0, 0, 1, 1, 1, 2])
    assert actual_mixing(g, memb) == pytest.approx((1 / 3 + 1 / 3) / 6)
    assert actual_mixing(g, np.zeros(7, int)) == 0.0
    assert actual_mixing(g, np.arange(7)) == 1.0


def test_lfr_small_runs_and_reports_actual_mixing():
    res = evaluate_lfr(250, mu=0.1, seed=3, average_degree=10, max_degree=30, min_community=20,
                       max_community=60, communities=leiden_communities)
    assert res.method == "leiden_communities" and 0 < res.mu_actual < 0.5
    assert res.nmi > 0.8 and res.nmi_louvain > 0.8
    assert set(res.as_dict()) >= {"mu_requested", "mu_actual", "nmi", "nmi_louvain"}


def test_planted_membership_numbers_communities():
    g = nx.Graph([(0, 1), (2, 3)])
    a, b = {0, 1}, {2, 3}
    for v in g:
        g.nodes[v]["community"] = a if v in a else b
    assert planted_membership(g).tolist() == [0, 0, 1, 1]


# -- the commands ------------------------------------------------------------------------------
def test_cli_inject_load_and_evaluate_baselines(tmp_path):
    from test_cli import run

    edges = tmp_path / "host.csv"
    with open(edges, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["src", "dst"])
        w.writerows(nx.powerlaw_cluster_graph(800, 3, 0.3, seed=1).edges())
    world = tmp_path / "world"
    r = run("evaluate", "inject-rings", str(edges), "--out", str(world), "--seed", "2",
            "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    summary = __import__("json").loads(r.stdout)
    assert summary["hosts"] == 800 and summary["rings"]["fraud"] == 2
    db = str(tmp_path / "w.db")
    r = run("evaluate", "rings", "--world", str(world), "--db", db, "--no-detector", cwd=tmp_path)
    assert r.returncode == 2 and "load" in r.stderr      # a new, empty store
    assert run("load", str(world), "--db", db, cwd=tmp_path).returncode == 0
    r = run("evaluate", "rings", "--world", str(world), "--db", db, "--no-detector", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "components*" in r.stdout and "louvain*" in r.stdout and "ORACLE" in r.stdout
    r = run("evaluate", "rings", "--world", str(world), "--db", db, "--no-detector",
            "--baseline", "device_burst", "--format", "json", cwd=tmp_path)
    d = __import__("json").loads(r.stdout)
    assert list(d["methods"]) == ["device_burst"] and d["members"]["fraud"] == summary["ring_members"]["fraud"]
