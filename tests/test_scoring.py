"""Scoring: account and reachability features, training frames, the C-score and its CLI."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from skiptrace.contacts import clock, find
from skiptrace.errors import SkiptraceError
from skiptrace.ingest import load
from skiptrace.rings.detect import detect
from skiptrace.rings.persist import save as save_rings
from skiptrace.scoring import (ACCOUNT_FEATURES, REACH_FEATURES, CScore, account_features,
                               delinquent_borrowers, extract_time, load_cscore, points_from_proba,
                               reachability_features, segment_from_points, training_frame)
from skiptrace.scoring import account as account_mod
from skiptrace.store import SQLiteStore
from skiptrace.store.base import Batch
from skiptrace_cli.main import main

from conftest import DEMO


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """The demo world in a SQLite file, with its rings detected and stored."""
    path = tmp_path_factory.mktemp("scoring") / "demo.db"
    s = SQLiteStore(path)
    load(s, DEMO)
    save_rings(s, detect(s, seed=1), seed=1, detected_at="2026-01-01T00:00:00Z")
    s.close()
    return path


@pytest.fixture
def demo(demo_db):
    s = SQLiteStore(demo_db)
    try:
        yield s
    finally:
        s.close()


def _copy(demo_db, tmp_path):
    dst = tmp_path / "copy.db"
    dst.write_bytes(demo_db.read_bytes())
    return SQLiteStore(dst)


def test_account_features_ignore_the_future(demo_db, tmp_path):
    s = _copy(demo_db, tmp_path)
    try:
        ex = extract_time(s)
        cut = ex - 30
        ids = delinquent_borrowers(s, as_of=cut)
        before = account_features(s, ids, as_of=cut)
        assert list(before.columns) == list(ACCOUNT_FEATURES) and list(before.index) == ids
        b = ids[0]
        later = clock.iso(cut + 5)
        s.write(Batch(payments=[{"borrower_id": b, "paid_at": later, "amount": 123.0}],
                      attempts=[{"attempt_id": "AX1", "borrower_id": b, "channel": "sms", "at": later,
                                 "target_role": "borrower", "connected": True,
                                 "outcome": "promise_to_pay"}]))
        after = account_features(s, ids, as_of=cut)
        pd.testing.assert_frame_equal(before, after)
        # the same rows move the features once they are before the cut
        moved = account_features(s, ids, as_of=cut + 6)
        assert moved.loc[b, "pay_n_30d"] >= 1 and moved.loc[b, "days_since_payment"] <= 1.0 + 1e-9
        # and the label sees the payment
        X, y = training_frame(s, cut, graph=False)
        assert y.loc[b] == 1 and list(X.index) == ids
    finally:
        s.close()


def test_days_past_due_move_back_with_the_cut(demo):
    ex = extract_time(demo)
    ids = delinquent_borrowers(demo)
    now = account_features(demo, ids)
    earlier = account_features(demo, ids, as_of=ex - 10)
    still = [b for b in ids if now.loc[b, "dpd"] > 10]
    assert still and all(earlier.loc[b, "dpd"] == now.loc[b, "dpd"] - 10 for b in still)
    assert set(delinquent_borrowers(demo, as_of=ex - 10)) == set(still)


def test_training_frame_keeps_only_borrowers_delinquent_at_the_cut(demo):
    ex = extract_time(demo)
    cut = ex - 40
    X, y = training_frame(demo, cut, horizon_days=30, graph=False)
    assert (X["dpd"] >= 1).all() and set(y.unique()) <= {0, 1}
    recs = {k: p for k, p in demo.stream_nodes("Borrower")}
    assert all(recs[b]["status"] in ("delinquent", "written_off") for b in X.index)
    current = [b for b, r in recs.items() if r.get("status") == "current"]
    assert current and not set(current) & set(X.index)  # their instalments never label anyone
    with pytest.raises(SkiptraceError, match="passes the extract time"):
        training_frame(demo, ex - 10, horizon_days=30)


def test_batch_equals_one_by_one(demo, monkeypatch):
    ids = delinquent_borrowers(demo)[:12]
    monkeypatch.setattr(account_mod, "STREAM_ABOVE", 0)  # the batch streams the whole ledger
    batch_a = account_features(demo, ids)
    batch_r = reachability_features(demo, ids)
    monkeypatch.undo()
    one_a = pd.concat([account_features(demo, [b]) for b in ids])
    one_r = pd.concat([reachability_features(demo, [b]) for b in ids])
    pd.testing.assert_frame_equal(batch_a, one_a)
    pd.testing.assert_frame_equal(batch_r, one_r)


def test_reachability_features_on_both_stores(store, demo):
    load(store, DEMO)
    save_rings(store, detect(store, seed=1), seed=1, detected_at="2026-01-01T00:00:00Z")
    ids = delinquent_borrowers(store)
    assert ids == delinquent_borrowers(demo)
    got = reachability_features(store, ids)
    assert list(got.columns) == list(REACH_FEATURES) and list(got.index) == ids
    pd.testing.assert_frame_equal(got, reachability_features(demo, ids))
    assert got["ring_member"].sum() > 0 and (got.loc[got["ring_member"] == 0, "ring_risk"] == 0).all()
    assert ((got["ring_risk"] >= 0) & (got["ring_risk"] <= 1)).all()
    assert (got["best_score"] >= got["top3_mean_score"] - 1e-12).all()
    assert (got["new_number_confidence"] <= got["best_borrower_score"] + 1e-12).all()
    # find results passed in give the same features as ranking here
    ex = extract_time(store)
    some = ids[:5]
    res = {b: find(store, b, limit=None, as_of=clock.iso(ex), policy="auto") for b in some}
    pd.testing.assert_frame_equal(reachability_features(store, some, results=res), got.loc[some])


def test_reachability_counts_follow_the_candidates(demo):
    ex = extract_time(demo)
    ids = delinquent_borrowers(demo)
    R = reachability_features(demo, ids)
    for b in ids[:8]:
        cands = find(demo, b, limit=None, as_of=clock.iso(ex), policy="auto").candidates
        ok = [c for c in cands if c.eligible and c.score >= 0.1]
        assert R.loc[b, "n_candidates"] == len(cands)
        assert R.loc[b, "eligible_borrower"] == sum(c.target_role == "borrower" for c in ok)
        assert R.loc[b, "eligible_third_party"] == sum(c.target_role != "borrower" for c in ok)
        assert R.loc[b, ["eligible_family", "eligible_friend", "eligible_colleague",
                         "eligible_other"]].sum() == R.loc[b, "eligible_third_party"]


def _synthetic(n: int, seed: int):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.uniform(size=n)})
    p = 1 / (1 + np.exp(-(-0.5 + 1.5 * X["a"] - X["b"] + 0.8 * X["c"])))
    y = pd.Series((rng.uniform(size=n) < p).astype(int))
    return X, y, p.to_numpy()


@pytest.mark.parametrize("kind", ["hgb", "logistic"])
def test_cscore_fit_predict_shapes_and_calibration(kind):
    X, y, p_true = _synthetic(4000, 1)
    m = CScore(model=kind).fit(X, y)
    assert m.features_ == ["a", "b", "c"] and m.n_features_in_ == 3
    Xt, yt, pt = _synthetic(3000, 2)
    P = m.predict_proba(Xt)
    assert P.shape == (3000, 2) and np.allclose(P.sum(axis=1), 1)
    p = P[:, 1]
    assert m.predict(Xt).shape == (3000,) and m.score_points(Xt).shape == (3000,)
    assert abs(p.mean() - yt.mean()) < 0.03
    # binned calibration: observed rate within each decile of predictions
    bins = pd.qcut(p, 10, labels=False, duplicates="drop")
    err = pd.DataFrame({"p": p, "y": yt, "bin": bins}).groupby("bin").mean()
    gap = (err["p"] - err["y"]).abs()
    assert gap.mean() < 0.04 and gap.max() < 0.1
    assert np.corrcoef(p, pt)[0, 1] > 0.8
    # columns are matched by name
    assert np.allclose(m.predict_proba(Xt[["c", "b", "a"]]), P)
    with pytest.raises(ValueError, match="lacks"):
        m.predict_proba(Xt[["a", "b"]])


def test_points_and_segments_are_monotonic():
    p = np.linspace(0.001, 0.999, 500)
    pts = points_from_proba(p)
    assert (np.diff(pts) >= 0).all() and pts.min() >= 300 and pts.max() <= 850
    assert points_from_proba([0.5])[0] == 600 and points_from_proba([0.8])[0] == 700
    seg = segment_from_points(pts)
    order = {s: i for i, s in enumerate("EDCBA")}
    assert (np.diff([order[s] for s in seg]) >= 0).all() and set(seg) == set("ABCDE")


def test_save_load_round_trip(tmp_path):
    X, y, _ = _synthetic(1500, 3)
    m = CScore().fit(X, y)
    m.cut_, m.metrics_ = "2026-05-01T00:00:00Z", {"auc": 0.7}
    path = tmp_path / "m.pkl"
    m.save(path)
    back = load_cscore(path)
    assert back.features_ == m.features_ and back.cut_ == m.cut_ and back.version_
    assert np.array_equal(back.predict_proba(X), m.predict_proba(X))
    payload = pickle.loads(path.read_bytes())
    assert payload["features"] == ["a", "b", "c"] and payload["metrics"] == {"auc": 0.7}
    with pytest.raises(SkiptraceError, match="no such model"):
        load_cscore(tmp_path / "missing.pkl")
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    with pytest.raises(SkiptraceError, match="not a C-score model"):
        load_cscore(tmp_path / "junk.pkl")


def test_cli_fit_and_apply(demo_db, tmp_path, capsys):
    db = str(demo_db)
    model = tmp_path / "model.pkl"
    assert main(["score", "fit", "--db", db, "-o", str(model), "--format", "json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    names = [r["name"] for r in rep["rows"]]
    assert {"dpd only", "cscore, account", "cscore, account+graph"} <= set(names)
    assert all(0 <= r["auc"] <= 1 for r in rep["rows"]) and rep["n_fit"] > 0 and model.exists()
    ids = delinquent_borrowers(SQLiteStore(demo_db))[:3]
    assert main(["score", "apply", "--db", db, "--model", str(model), *ids, "--format", "jsonl"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["borrower_id"] for r in rows] == ids
    for r in rows:
        assert 0 <= r["p_repay_30d"] <= 1 and 300 <= r["c_score"] <= 850 and r["segment"] in "ABCDE"
        assert r["c_score"] == points_from_proba([r["p_repay_30d"]])[0] or abs(
            r["c_score"] - points_from_proba([r["p_repay_30d"]])[0]) <= 1
    out = tmp_path / "all.json"
    assert main(["score", "apply", "--db", db, "--model", str(model), "--all", "--format", "json",
                 "--out", str(out)]) == 0
    assert len(json.loads(out.read_text())) == len(delinquent_borrowers(SQLiteStore(demo_db)))


def test_cli_exit_codes(demo_db, tmp_path, capsys):
    db = str(demo_db)
    assert main(["score", "apply", "--db", db, "--model", str(tmp_path / "nope.pkl"), "B000001"]) == 2
    assert "no such model" in capsys.readouterr().err
    X, y, _ = _synthetic(500, 4)
    bad = tmp_path / "m.pkl"
    CScore(model="logistic").fit(X, y).save(bad)
    assert main(["score", "apply", "--db", db, "--model", str(bad)]) == 2  # neither ids nor --all
    out = tmp_path / "never.json"
    assert main(["score", "apply", "--db", db, "--model", str(bad), "NOPE", "--out", str(out)]) == 2
    assert "NOPE" in capsys.readouterr().err and not out.exists()
    assert main(["score", "fit", "--db", db, "-o", str(tmp_path / "x.pkl"), "--cut", "2999-01-01"]) == 2
    assert not (tmp_path / "x.pkl").exists()
