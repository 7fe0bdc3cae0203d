"""skiptrace.evaluate: metric definitions, and find against its baselines on a generated world."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from skiptrace.evaluate import Truth, evaluate_find, metrics
from skiptrace.ingest import load


def test_metrics_by_hand():
    truth = Truth(lost={"A": "", "B": "", "C": ""},
                  reachable={"A": {"1": 0.9, "2": 0.6, "3": 0.2}, "B": {"9": 0.8}, "C": {"5": 0.1}})
    ranks = {"A": ["3", "2", "1"], "B": ["7", "8", "x", "9"], "C": ["5"]}
    m = metrics(ranks, truth, min_probability=0.5, ks=(1, 3, 10))
    # A: first relevant at rank 2; B: at rank 4; C: nothing relevant (a miss)
    assert m["hit@1"] == 0 and m["hit@3"] == pytest.approx(1 / 3) and m["hit@10"] == pytest.approx(2 / 3)
    assert m["mrr"] == pytest.approx((1 / 2 + 1 / 4) / 3)
    assert m["recall@10"] == pytest.approx(1.0)  # over A and B, the borrowers with relevant phones
    # nDCG with reach probabilities as gains: A ranks 0.2, 0.6, 0.9 instead of 0.9, 0.6, 0.2
    assert 0 < m["ndcg@10"] < 1
    any_ = metrics(ranks, truth, min_probability=0.0)
    assert any_["hit@1"] == pytest.approx(2 / 3)


def test_find_beats_baselines_on_a_small_world(store, tmp_path):
    from skiptrace.generate import world

    world(1500, 5, tmp_path / "w")
    load(store, tmp_path / "w")
    ev = evaluate_find(store, tmp_path / "w")
    ours = ev.methods["find"]
    assert set(ev.methods) == {"find", "emergency_order", "call_count", "plain_ppr"}
    _, best = ev.best_baseline("mrr")
    assert ours["mrr"] > best and ours["hit@3"] >= 0.8
    assert all(0 <= v <= 1 for m in ev.methods.values() for v in m.values())


def test_cli_evaluate_find(tmp_path):
    from skiptrace.generate import world
    from skiptrace_cli.main import cli

    world(300, 2, tmp_path / "w")
    r = CliRunner().invoke(cli, ["evaluate", "find", "--world", str(tmp_path / "w"),
                                 "--db", str(tmp_path / "s.db"), "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["borrowers"] >= 1 and "find" in d["methods"] and d["best_baseline"] != "find"
