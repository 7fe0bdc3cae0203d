"""The evaluation against the real detector (skiptrace.rings)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from skiptrace import rings
from skiptrace.evaluate.find import load_world
from skiptrace.evaluate.lfr import evaluate_lfr
from skiptrace.evaluate.rings import evaluate_rings, render_text

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


def test_evaluate_rings_runs_detect_beside_the_baselines(sqlite_store):
    load_world(sqlite_store, DEMO)
    ev = evaluate_rings(sqlite_store, DEMO, seed=0)
    assert list(ev.methods)[0] == "skiptrace" and not ev.methods["skiptrace"].oracle_typology
    sk = ev.methods["skiptrace"]
    for t in ("fraud", "anti_collection"):
        s = sk.typologies[t]
        assert 0 <= s.precision <= 1 and 0 <= s.recall <= 1 and s.true_members > 0
    assert set(sk.benign_flagged) >= {"household", "courier", "ordinary"}
    again = evaluate_rings(sqlite_store, DEMO, seed=0, baselines=[])
    assert again.methods["skiptrace"].as_dict()["typologies"] == sk.as_dict()["typologies"]
    assert "skiptrace" in render_text(ev.as_dict())


def test_detected_rings_have_the_promised_shape(sqlite_store):
    load_world(sqlite_store, DEMO)
    found = rings.detect(sqlite_store, seed=0)
    for r in found:
        assert r.typology in ("fraud", "anti_collection", "household", "unknown")
        assert 0 <= r.risk <= 1 and r.members and all(isinstance(m, str) for m in r.members)


def test_lfr_runs_the_detectors_community_step():
    res = evaluate_lfr(500, mu=0.2, seed=1, average_degree=12, max_degree=40, min_community=20,
                       max_community=80)
    assert res.method == "skiptrace.rings.communities"
    assert res.nmi > 0.8 and 0 < res.mu_actual < 0.6


def test_communities_returns_one_label_per_vertex():
    import igraph

    g = igraph.Graph.Famous("Zachary")
    g.es["weight"] = [1.0] * g.ecount()
    m = np.asarray(rings.communities(g, weights="weight", seed=0))
    assert m.shape == (34,) and len(set(m.tolist())) > 1
