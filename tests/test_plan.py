"""skiptrace.plan: the contract JSON, EV order, rule ids, cease, quiet hours, masking, the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import skiptrace
from skiptrace.contacts import clock
from skiptrace.ingest import load
from skiptrace.plan import (CostTable, delinquent_ids, learn, load_costs, load_response_model,
                            plan_many)
from skiptrace.plan.channels import CATALOGUE
from skiptrace.plan.uplift import ResponseModel, attempt_frame, attribute
from skiptrace.policy import get_policy
from skiptrace.store import SQLiteStore
from skiptrace.errors import SkiptraceError

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "fixtures" / "mini"
DEMO = REPO / "fixtures" / "demo"
PLAN_KEYS = {"borrower_id", "as_of", "c_score", "segment", "p_repay_30d", "scored_by", "policy",
             "p_no_action", "expected_amount", "actions", "blocked", "unprofitable"}
ACTION_KEYS = {"channel", "target_phone", "target_role", "script", "not_before", "not_after",
               "expected_value", "p_pay_30d", "cost", "why"}
BLOCKED_KEYS = {"channel", "target_phone", "target_role", "script", "rule", "why"}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("plan") / "demo.db"
    with SQLiteStore(path) as s:
        load(s, DEMO)
    return path


@pytest.fixture(scope="module")
def demo_model(demo_db, tmp_path_factory):
    with SQLiteStore(demo_db) as s:
        m = learn(s)
    path = tmp_path_factory.mktemp("model") / "response.pkl"
    m.save(path)
    return m, path


@pytest.fixture
def demo(demo_db):
    with SQLiteStore(demo_db) as s:
        yield s


def _check_contract(d: dict, pack_ids: set[str]) -> None:
    assert set(d) == PLAN_KEYS
    for a in d["actions"]:
        assert set(a) == ACTION_KEYS and a["why"]
        assert a["not_before"] < a["not_after"] or a["not_before"] == a["not_after"]
    evs = [a["expected_value"] for a in d["actions"]]
    assert evs == sorted(evs, reverse=True)
    for b in d["blocked"]:
        assert set(b) == BLOCKED_KEYS and b["why"]
        assert b["rule"] in pack_ids


def test_demo_plans_contract_order_rules_and_masking(demo, demo_model):
    model, _ = demo_model
    ids = delinquent_ids(demo)
    assert ids and all(i.startswith("B") for i in ids)
    res = skiptrace.plan(demo, ids[:25], policy="CN-NIFA-2024", model=model)
    assert [r.borrower_id for r in res] == ids[:25]
    cn = {r.id for r in get_policy("CN-NIFA-2024").rules}
    n_actions = n_blocked = 0
    for r in res:
        d = r.to_dict()
        _check_contract(d, cn)
        assert d["policy"] == "CN-NIFA-2024" and d["c_score"] is None and d["segment"] is None
        assert d["p_repay_30d"] == d["p_no_action"] and "no C-score" in d["scored_by"]
        assert len(d["actions"]) <= 5
        n_actions += len(d["actions"])
        n_blocked += len(d["blocked"])
        for a in d["actions"] + d["blocked"]:
            assert a["target_phone"] is None or "****" in a["target_phone"]
        for a in r.actions:
            assert a.expected_value == pytest.approx(a.p_pay * r.expected_amount - a.cost)
        assert r.unprofitable == sum(a.expected_value <= r.p_no_action * r.expected_amount
                                     for a in r.actions) or len(r.actions) == 5
        # CN-1/CN-4: nothing but a lost-contact check ever goes to a third party
        assert all(a.script in (None, "lost_contact_check") for a in r.actions
                   if a.target_role == "third_party")
        revealed = json.dumps(r.to_dict(reveal=True))
        masked = json.dumps(d)
        for a in r.actions + r.blocked:
            if a.target_phone:
                assert a.target_phone in revealed and a.target_phone not in masked
    assert n_actions > 0 and n_blocked > 0
    # drop_unprofitable: every action left beats doing nothing after its cost
    for r in skiptrace.plan(demo, ids[:25], policy="CN-NIFA-2024", model=model,
                            drop_unprofitable=True):
        assert all(a.expected_value > r.p_no_action * r.expected_amount for a in r.actions)


def test_cease_attorney_and_auto_policy(demo, demo_model):
    model, _ = demo_model
    # B000000 asked to cease (and has an attorney): nothing may be proposed under the packs
    # that honour a cease request (CN-NIFA-2024 has no such rule)
    assert skiptrace.plan_one(demo, "B000000", model=model).policy == "CN-NIFA-2024"  # auto
    us = skiptrace.plan_one(demo, "B000000", model=model, policy="US-RegF")
    assert us.actions == [] and us.blocked
    rules = {b.rule for b in us.blocked}
    assert rules <= {r.id for r in get_policy("US-RegF").rules} and rules & {"RF-5", "RF-6"}
    base = skiptrace.plan_one(demo, "B000000", model=model, policy="baseline")
    assert base.actions == [] and {b.rule for b in base.blocked} <= {"cease_requested",
                                                                      "attorney_known"}


def test_quiet_hours_move_not_before(demo, demo_model):
    model, _ = demo_model
    ids = delinquent_ids(demo)[:15]
    # 23:30 in Shanghai: CN-7 forbids contact until 08:00
    late = "2026-06-29T23:30:00+08:00"
    res = skiptrace.plan(demo, ids, policy="CN-NIFA-2024", model=model, as_of=late,
                         max_actions=30)
    t0 = clock.parse_as_of(late)
    timed = [a for r in res for a in r.actions if a.channel in ("sms", "ai_call", "human_call")]
    assert timed
    for a in timed:
        assert a.not_before > t0 + 8 / 24 - 1e-6
        local = clock.to_datetime(a.not_before, "Asia/Shanghai")
        assert 8 <= local.hour < 22
    # the same borrowers at 10:00 may be called right away (not later than the hour search)
    day = skiptrace.plan(demo, ids, policy="CN-NIFA-2024", model=model,
                         as_of="2026-06-29T10:00:00+08:00", max_actions=30)
    t1 = clock.parse_as_of("2026-06-29T10:00:00+08:00")
    assert any(a.not_before < t1 + 12 / 24 for r in day for a in r.actions
               if a.channel in ("sms", "ai_call", "human_call"))
    # start hours stay inside the local hours the logs saw each channel at (the generator
    # logs calls 08:30-20:30): no extrapolation to 21:00 or 07:00
    from skiptrace.plan.uplift import local_hour

    lo, hi = model.hour_range_["human_call"]
    assert 8 <= lo and hi <= 21
    for r in res:
        for a in r.actions:
            if a.channel in ("sms", "ai_call", "human_call"):
                assert model.hour_supported(a.channel, local_hour(a.not_before, r.timezone))


def test_both_stores_same_plan(store, demo_model):
    """The mini book on each store: shape, masking, cease (B3), the same plan on both."""
    model, _ = demo_model
    load(store, MINI)
    res = skiptrace.plan(store, ["B1", "B3"], model=model, as_of="2026-01-31T10:00:00+08:00")
    b1, b3 = res
    d1 = b1.to_dict()
    _check_contract(d1, {r.id for r in get_policy("CN-NIFA-2024").rules})
    assert b1.policy == "CN-NIFA-2024" and b3.policy == "US-RegF"
    # B3 asked to cease: RF-5 blocks everything but the notice of a remedy (a legal letter)
    assert {a.channel for a in b3.actions} <= {"legal_letter"}
    assert b3.blocked and all(b.rule == "RF-5" for b in b3.blocked)
    assert len([b for b in b3.blocked if b.target_role == "borrower"]) == len(
        [k for k in CATALOGUE if k.target_role == "borrower"]) - 1
    base = skiptrace.plan(store, ["B3"], model=model, policy="baseline",
                          as_of="2026-01-31T10:00:00+08:00")[0]
    assert base.actions == [] and {b.rule for b in base.blocked} == {"cease_requested"}
    # B1's primary is disconnected: borrower phone actions go to the live secondary
    phones = {a.target_phone for a in b1.actions + b1.blocked if a.target_role == "borrower"}
    assert phones <= {"+8613900139000", None}
    assert "+8613900139000" not in json.dumps(d1) and "+86139****9000" in json.dumps(
        b1.to_dict()) + json.dumps([a.to_dict() for a in b1.blocked])
    # the same as the SQLite reading of the same files
    with SQLiteStore(":memory:") as ref:
        load(ref, MINI)
        want = skiptrace.plan(ref, ["B1", "B3"], model=model, as_of="2026-01-31T10:00:00+08:00")
    assert [r.to_dict(reveal=True) for r in res] == [r.to_dict(reveal=True) for r in want]


def test_unknown_borrower_and_policy(demo, demo_model):
    model, _ = demo_model
    with pytest.raises(SkiptraceError, match="NOPE"):
        skiptrace.plan(demo, ["NOPE"], model=model)
    with pytest.raises(SkiptraceError, match="unknown policy"):
        skiptrace.plan(demo, ["B000000"], model=model, policy="EU-GDPR")


def test_attribution_credits_the_attempt_that_got_through():
    """EM attribution on a hand-made ledger: borrower 0's calls that ended in a promise are
    followed by a payment 2 days later, its unanswered calls and borrower 1's emails by
    nothing, as are borrower 3's unanswered calls; borrower 2 pays with no attempt in the 30
    days before (spontaneous)."""
    att_b, att_t, att_g, att_c, pay_b, pay_t = [], [], [], [], [], []
    for k in range(40):                      # borrower 0: alternate unanswered / promise
        t = 40.0 * k
        att_b += [0, 0]
        att_t += [t, t + 10]
        att_g += [0, 0]
        att_c += [0, 2]                      # call: not through / paid or promised
        pay_b.append(0)
        pay_t.append(t + 12)                 # 2 days after the promise, 12 after the miss
        att_b.append(1), att_t.append(t), att_g.append(1), att_c.append(3)   # email, no pay
        att_b.append(3), att_t.append(t), att_g.append(0), att_c.append(0)   # missed, no pay
        pay_b.append(2), pay_t.append(t + 5)                                 # spontaneous
    o = np.lexsort((att_t, att_b))
    att_b, att_t, att_g, att_c = (np.asarray(x)[o] for x in (att_b, att_t, att_g, att_c))
    po = np.lexsort((pay_t, pay_b))
    pay_b, pay_t = np.asarray(pay_b)[po], np.asarray(pay_t, float)[po]
    a = attribute(att_b, att_t, att_g, att_c, pay_b, pay_t, exposure=4 * 1600.0,
                  uncensored=np.ones(len(att_t), bool))
    promised = att_c == 2
    assert a.credit[promised].mean() > 0.8
    assert a.credit[att_c == 0].mean() < 0.1 and a.credit[att_c == 3].mean() < 0.1
    assert a.rate[2] > 5 * max(a.rate[0], a.rate[3])
    assert a.kernel[2].argmax() == 2                    # the promise's delay, learned
    assert a.background[pay_b == 2].mean() > 0.9        # nobody called borrower 2


def test_response_model_learns_and_weights(demo):
    # the attributed label: soft per-attempt credit in [0, 1], an action never below no action
    fa = attempt_frame(demo)
    assert fa.attribution is not None and ((fa.y >= 0) & (fa.y <= 1)).all()
    assert ((fa.y > 0) & (fa.y < 1)).any()
    ma = ResponseModel(max_iter=30).fit(fa.X, fa.y, action=fa.action, propensity=fa.propensity)
    assert ma.attributed_
    acted = fa.action >= 0
    X0 = fa.X[acted].copy()
    X0[:, -(fa.X.shape[1] - 16):] = 0.0
    assert (ma.predict_proba(fa.X[acted])[:, 1] >= ma.predict_proba(X0)[:, 1] - 1e-12).all()
    # the estimator on hard labels (payment within 30 days)
    f = attempt_frame(demo, window="30d")
    assert f.X.shape[0] == len(f.y) == len(f.action) and (f.action < 0).any()
    rng = np.random.default_rng(0)
    test = rng.random(len(f.y)) < 0.3
    m = ResponseModel().fit(f.X[~test], f.y[~test], action=f.action[~test],
                            propensity=f.propensity[~test], amount=f.amount[~test])
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(f.y[test], m.predict_proba(f.X[test])[:, 1])
    assert auc > 0.6
    # weights: clipped at `clip`, self-normalised to mean 1 within each action
    w = m._weights(f.X[~test], f.action[~test], f.propensity[~test])
    act = f.action[~test]
    for a in np.unique(act[act >= 0]):
        assert w[act == a].mean() == pytest.approx(1.0)
    assert m.weights_["normalisation"].startswith("self-normalised")
    logged = not np.isnan(f.propensity[f.action >= 0]).any()
    assert m.propensity_source_ == ("logged" if logged else "estimated")
    amt = m.predict_amount(f.X[:5])
    assert (amt > 0).all()


def test_costs_table_and_file(tmp_path):
    t = CostTable()
    assert t.cost("human_call", "CN") > t.cost("ai_call", "CN") > t.cost("sms", "CN")
    assert t.cost("sms", "FR") == t.cost("sms", "US")
    p = tmp_path / "costs.csv"
    p.write_text("channel,cost,region\nhuman_call,9.5,\nsms,0.5,CN\n")
    c = load_costs(p)
    assert c.cost("human_call", "US") == 9.5 and c.cost("sms", "CN") == 0.5
    assert c.cost("sms", "US") == t.cost("sms", "US")
    bad = tmp_path / "bad.csv"
    bad.write_text("channel,cost\nfax,1\n")
    with pytest.raises(SkiptraceError, match="line 2, field channel"):
        load_costs(bad)
    bad.write_text("channel,cost\nsms,-1\n")
    with pytest.raises(SkiptraceError, match="line 2, field cost"):
        load_costs(bad)
    assert len(CATALOGUE) == 11 + 7


def test_cli_all_jsonl_and_errors(demo_db, demo_model, tmp_path):
    from skiptrace_cli.main import cli, main

    _, model_path = demo_model
    out = tmp_path / "plans.jsonl"
    r = CliRunner().invoke(cli, ["plan", "--all", "--db", str(demo_db), "--model",
                                 str(model_path), "--format", "jsonl", "--out", str(out)])
    assert r.exit_code == 0, r.output
    lines = out.read_text().splitlines()
    with SQLiteStore(demo_db) as s:
        ids = delinquent_ids(s)
    assert [json.loads(x)["borrower_id"] for x in lines] == ids
    assert all("****" in json.dumps(json.loads(x)) or not json.loads(x)["actions"] for x in lines)
    # a borrowers file
    f = tmp_path / "ids.txt"
    f.write_text("\n".join(ids[:3]) + "\n")
    r = CliRunner().invoke(cli, ["plan", "--all", "--borrowers-file", str(f), "--db",
                                 str(demo_db), "--model", str(model_path)])
    assert r.exit_code == 0 and len(r.output.strip().splitlines()) == 3
    # one borrower as JSON, revealed
    r = CliRunner().invoke(cli, ["plan", ids[1], "--db", str(demo_db), "--model", str(model_path),
                                 "--format", "json", "--reveal", "--purpose", "test", "--policy", "baseline"])
    assert r.exit_code == 0
    d = json.loads(r.output)
    assert d["borrower_id"] == ids[1] and d["policy"] == "baseline"
    # exit 2: unknown borrower, bad policy; nothing half-written
    bad_out = tmp_path / "none.jsonl"
    assert main(["plan", "NOPE", "--db", str(demo_db), "--model", str(model_path)]) == 2
    assert main(["plan", "--all", "--borrowers-file", str(f), "--db", str(demo_db), "--model",
                 str(model_path), "--policy", "nope", "--out", str(bad_out)]) == 2
    assert not bad_out.exists() and not list(tmp_path.glob(".none.jsonl*"))
    assert load_response_model(model_path).n_features_in_ > 0


def test_cscore_model_scores_the_plan(demo, demo_model, tmp_path):
    from skiptrace.scoring import CScore, training_frame

    model, _ = demo_model
    X, y = training_frame(demo, "2026-05-30")
    cs = CScore().fit(X, y)
    path = tmp_path / "cscore.pkl"
    cs.save(path)
    ids = delinquent_ids(demo)[:4]
    for given in (cs, str(path)):
        res = skiptrace.plan(demo, ids, model=model, cscore=given)
        for r in res:
            assert isinstance(r.c_score, int) and 300 <= r.c_score <= 850
            assert r.segment in tuple("ABCDE") and 0 <= r.p_repay_30d <= 1
            assert "C-score" in r.scored_by and r.p_repay_30d != r.p_no_action


def test_workers_fit_beside_find_same_plans(demo_db, demo_model):
    """With workers and no model, the model is fitted while the workers run find; the plans are
    those of one process with the model fitted first (and of the saved model)."""
    m, _ = demo_model
    with SQLiteStore(demo_db) as s:
        ids = delinquent_ids(s)
        one = [r.to_dict(True) for r in skiptrace.plan(s, ids, model=m)]
        seen = []
        two = [r.to_dict(True) for r in plan_many(   # 8 chunks of 8: the parallel path
            s, ids, workers=2, chunk=8, progress=lambda d, t: seen.append((d, t)))]
    assert two == one
    assert seen and seen[-1] == (len(ids), len(ids))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
