"""skiptrace.find: ranking, evidence, eligibility, as_of, masking; the same on both stores."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from skiptrace.contacts import FindResult, find, find_many
from skiptrace.contacts.ego import UnknownBorrower
from skiptrace.contacts.ranking.model import AttemptModel, LinearScorer
from skiptrace.contacts.features import FEATURES
from skiptrace.ingest import load
from skiptrace.store import Batch, SQLiteStore

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "fixtures" / "mini"
DEMO = REPO / "fixtures" / "demo"


@pytest.fixture
def mini(store):
    load(store, MINI)
    return store


def _phones(res: FindResult) -> list[str]:
    return [c.phone for c in res.candidates]


def test_contract_shape_and_masking(mini):
    res = find(mini, "B1")
    d = res.to_dict()
    assert set(d) == {"borrower_id", "as_of", "candidates"} and d["borrower_id"] == "B1"
    assert d["as_of"].endswith("+08:00")  # rendered in the borrower's timezone
    keys = {"rank", "phone", "name", "relation", "target_role", "score", "evidence", "summary",
            "last_seen", "eligible", "blocked_by"}
    scores = [c["score"] for c in d["candidates"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    for i, c in enumerate(d["candidates"], start=1):
        assert set(c) == keys and c["rank"] == i and "****" in c["phone"]
        assert c["target_role"] in ("borrower", "third_party")
        for ev in c["evidence"]:
            assert ev["path"][0] == "Borrower:B1" and ev["why"]
            assert all("****" in p for p in ev["path"] if p.startswith("Phone:"))
    text = json.dumps(d, ensure_ascii=False)
    assert "+8613700137000" not in text and "Li Ming" not in text
    revealed = json.dumps(res.to_dict(reveal=True), ensure_ascii=False)
    assert "+8613700137000" in revealed and "Li Ming" in revealed


def test_mini_ranking_evidence_and_eligibility(mini):
    res = find(mini, "B1")
    by = {c.phone: c for c in res.candidates}
    parent = by["+8613700137000"]
    assert parent.rank == 1 and parent.relation == "parent" and parent.name == "Li Ming"
    # the parent refused once and answered once: blocked, with both rules
    assert not parent.eligible and parent.blocked_by == ["third_party_refused", "location_info_used"]
    assert any(e.path == ("Borrower:B1", "LISTS_CONTACT", "Phone:+8613700137000") for e in parent.evidence)
    assert parent.summary().startswith(parent.evidence[0].why.render()[:1].upper())
    # the disconnected primary ranks below the live secondary; the courier hub near the bottom
    assert by["+8613900139000"].rank < by["+8613800138000"].rank
    assert by["+8613900139000"].target_role == "borrower" and by["+8613900139000"].eligible
    assert by["+8618600186000"].score < 0.2
    # a borrower who asked to cease: everything blocked
    b3 = find(mini, "B3")
    assert b3.candidates and all(c.blocked_by == ["cease_requested"] for c in b3.candidates)


def test_limit_find_many_and_unknown(mini):
    assert len(find(mini, "B1", limit=2).candidates) == 2
    many = list(find_many(mini, ["B1", "B2"], limit=3))
    assert [r.borrower_id for r in many] == ["B1", "B2"]
    assert many[0].to_dict() == find(mini, "B1", limit=3).to_dict()
    with pytest.raises(UnknownBorrower):
        find(mini, "NOPE")


def _new_number_world(store) -> None:
    """B9's primary P0 died on 2026-01-01; relatives R1, R2 and friend F call P0 before and N after.

    X calls R1 throughout (someone else R1 knows); a courier phone C is listed by 300 borrowers.
    """
    b = Batch()
    b.add_node("Borrower", "B9", {"full_name": "Zhang San", "timezone": "Asia/Shanghai"})
    P0, N, R1, R2, F, X, C = ("+8613800000000", "+8613900000001", "+8613700000002",
                              "+8613700000003", "+8613700000004", "+8613700000005",
                              "+8618600000006")
    b.add_node("Phone", P0, {"status": "disconnected", "status_at": "2026-01-02T00:00:00Z"})
    b.add_edge("HAS_PHONE", "Borrower:B9", f"Phone:{P0}", {"role": "primary",
                                                           "first_seen": "2024-01-01T00:00:00Z"})
    for p, rel in ((R1, "parent"), (R2, "sibling")):
        b.add_edge("LISTS_CONTACT", "Borrower:B9", f"Phone:{p}",
                   {"source": "emergency", "relation": rel, "name": "Zhang " + rel,
                    "listed_at": "2024-01-01T00:00:00Z"})
    b.add_edge("LISTS_CONTACT", "Borrower:B9", f"Phone:{C}", {"source": "phonebook", "name": "Courier"})

    def call(a, c, n, first, last):
        b.add_edge("CALLED", f"Phone:{min(a, c)}", f"Phone:{max(a, c)}",
                   {"calls_a_to_b": n, "calls_b_to_a": n, "seconds_total": 100 * n,
                    "first_at": first, "last_at": last})

    for p in (R1, R2, F):
        call(P0, p, 20, "2025-02-01T00:00:00Z", "2025-12-30T00:00:00Z")
        call(N, p, 8, "2026-01-05T00:00:00Z", "2026-01-28T00:00:00Z")
    call(X, R1, 30, "2025-03-01T00:00:00Z", "2026-01-20T00:00:00Z")
    call(P0, C, 2, "2025-05-01T00:00:00Z", "2025-05-02T00:00:00Z")
    for i in range(300):
        b.add_node("Borrower", f"H{i}")
        b.add_edge("LISTS_CONTACT", f"Borrower:H{i}", f"Phone:{C}", {"source": "phonebook"})
    store.write(b)


def test_new_number_is_inferred_and_explained(store):
    _new_number_world(store)
    res = find(store, "B9")
    top = next(c for c in res.candidates if c.phone == "+8613900000001")
    assert top.relation == "new_number" and top.rank <= 4 and top.score > 0.5
    assert top.target_role == "borrower" and res.new_number == "+8613900000001"
    ev = top.evidence[0]
    assert ev.feature == "new_number" and ev.path[:3] == ("Borrower:B9", "HAS_PHONE", "Phone:+8613800000000")
    assert ev.path[-1] == "Phone:+8613900000001" and "took over 3" in ev.why.render()
    ranks = {c.phone: c.rank for c in res.candidates}
    # X overlapped with the dead number: not a takeover; the courier hub ranks last of the listed
    assert "+8613700000005" not in ranks or ranks["+8613700000005"] > ranks["+8613700000002"]
    assert ranks["+8618600000006"] > ranks["+8613700000003"]
    # relatives who now call the new number carry that evidence
    r1 = next(c for c in res.candidates if c.phone == "+8613700000002")
    assert "in_touch_new" in {e.feature for e in r1.evidence}


def test_as_of_hides_the_future(store):
    _new_number_world(store)
    before = find(store, "B9", as_of="2025-12-31")
    assert "+8613900000001" not in _phones(before)  # its calls start later
    assert before.as_of.startswith("2025-12-31T00:00:00+08:00")
    after = find(store, "B9")
    assert after.as_of.startswith("2026-01-28")  # default: the newest time in the data


def test_as_of_pro_rates_call_records_that_span_it(store):
    """A call record from 2025-02-01 to 2025-12-30 (20 calls each way) seen
    as of 2025-07-01 counts the calls of the first 150 of its 332 days."""
    from skiptrace.contacts.ego import fetch

    _new_number_world(store)
    pair = {"Phone:+8613800000000", "Phone:+8613700000002"}

    def record(ego):
        return next(e for e in ego.edges if e.type == "CALLED" and {e.src, e.dst} == pair)

    cut = record(fetch(store, "B9", as_of="2025-07-01T00:00:00Z"))
    assert cut.props["last_at"] == "2025-07-01T00:00:00Z"
    assert (cut.props["calls_a_to_b"], cut.props["calls_b_to_a"]) == (9, 9)
    assert cut.props["seconds_total"] == round(2000 * 150 / 332)
    assert cut.props["first_at"] == "2025-02-01T00:00:00Z"
    whole = record(fetch(store, "B9"))  # the default as_of is the newest time: nothing to cut
    assert (whole.props["calls_a_to_b"], whole.props["last_at"]) == (20, "2025-12-30T00:00:00Z")
    early = record(fetch(store, "B9", as_of="2025-02-01T01:00:00Z"))  # an hour in: still one call
    assert early.props["calls_a_to_b"] + early.props["calls_b_to_a"] == 1
    # recency is measured back from as_of, never from a call after it
    res = find(store, "B9", as_of="2025-07-01T00:00:00Z")
    r1 = next(c for c in res.candidates if c.phone == "+8613700000002")
    assert r1.last_seen is None or r1.last_seen <= "2025-07-01"


def test_same_ranking_on_both_stores(store, tmp_path):
    """A generated world, loaded into the store under test and into a reference SQLite file."""
    from skiptrace.generate import world
    from skiptrace.evaluate import read_truth

    world(400, 11, tmp_path / "w")
    load(store, tmp_path / "w")
    ref = SQLiteStore(tmp_path / "ref.db")
    load(ref, tmp_path / "w")
    ids = sorted(read_truth(tmp_path / "w").lost)[:15] or ["B000001"]
    for b in ids:
        assert find(store, b).to_dict(reveal=True) == find(ref, b).to_dict(reveal=True)
    ref.close()


def test_attempt_model_learns_and_keeps_unsupported_defaults():
    rng = np.random.default_rng(0)
    n = 2000
    X = np.zeros((n, len(FEATURES)))
    X[:, FEATURES.index("emergency")] = 1
    X[:, FEATURES.index("call_volume")] = rng.random(n)
    X[:, FEATURES.index("good_outcome")] = rng.random(n) < 0.2
    z = -1 + 3 * X[:, FEATURES.index("call_volume")] + 2 * X[:, FEATURES.index("good_outcome")]
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    t = np.arange(n, dtype=float)
    m = AttemptModel(C=1.0).fit(X, y, t, split_at=1400)
    w = m.scorer_.weights
    assert w["call_volume"] > 1 and w["good_outcome"] > 1
    # never varied in the attempts: no correction, the default weight exactly
    assert w["new_number"] == LinearScorer().weights["new_number"]
    assert w["broadcast"] == LinearScorer().weights["broadcast"]
    assert m.validation_["auc"] > m.validation_["default_auc"]  # the data disagree with the prior
    # a strong penalty keeps the corrections small: the defaults win without evidence
    tight = AttemptModel(C=1e-4).fit(X, y, t, split_at=1400).scorer_.weights
    assert abs(tight["call_volume"] - LinearScorer().weights["call_volume"]) < 0.1
    assert 0.6 < m.validation_["auc"] <= 1 and m.validation_["valid_rows"] == 600
    p = m.predict_proba(X)
    assert ((p >= 0) & (p <= 1)).all()


def test_cli_find_json_jsonl_csv(tmp_path):
    from skiptrace_cli.main import cli

    db = str(tmp_path / "s.db")
    s = SQLiteStore(db)
    load(s, MINI)
    s.close()
    r = CliRunner().invoke(cli, ["find", "B1", "--db", db, "--format", "json", "--limit", "3"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["borrower_id"] == "B1" and len(d["candidates"]) == 3 and "****" in d["candidates"][0]["phone"]
    r = CliRunner().invoke(cli, ["find", "B1", "--db", db, "--format", "json", "--reveal", "--purpose", "test"])
    assert "+8613700137000" in r.output
    ids = tmp_path / "ids.txt"
    ids.write_text("B1\nB2\n")
    r = CliRunner().invoke(cli, ["find", "--borrowers-file", str(ids), "--db", db, "--format", "jsonl"])
    lines = [json.loads(x) for x in r.output.splitlines()]
    assert r.exit_code == 0 and [x["borrower_id"] for x in lines] == ["B1", "B2"]
    r = CliRunner().invoke(cli, ["find", "B1", "--db", db, "--format", "csv"])
    assert r.exit_code == 0 and r.output.splitlines()[0].startswith("borrower_id,as_of,rank,phone")
    r = CliRunner().invoke(cli, ["find", "B1", "--db", db])
    assert r.exit_code == 0 and "B1" in r.output
    r = CliRunner().invoke(cli, ["find", "--db", db])
    assert r.exit_code != 0


def test_top_level_exports():
    import skiptrace

    assert skiptrace.find is find and skiptrace.find_many is find_many and skiptrace.FindResult is FindResult


def test_cli_train_find_then_find_with_the_model(tmp_path, capsys):
    """`skiptrace train find` learns from the ledger and writes a scorer that
    `find --model` and `evaluate find --model` use; bad inputs exit 2."""
    from skiptrace.evaluate import read_truth
    from skiptrace.generate import world
    from skiptrace_cli.main import cli

    world(3000, 2, tmp_path / "w", preset="legacy")  # new numbers never dialled: no closure calls among relatives
    db = str(tmp_path / "s.db")
    with SQLiteStore(db) as s:
        load(s, tmp_path / "w")
    run = CliRunner().invoke
    model = tmp_path / "m.json"
    r = run(cli, ["train", "find", "--db", db, "-o", str(model), "--format", "json"])
    assert r.exit_code == 0, r.output
    v = json.loads(r.output)["validation"]
    assert v["train_rows"] >= 200 and v["valid_rows"] >= 20 and 0.5 <= v["auc"] <= 1
    saved = LinearScorer.load(str(model))
    assert saved.source == "learned from contact attempts"
    assert saved.weights != LinearScorer().weights
    assert saved.weights["new_number"] == LinearScorer().weights["new_number"]  # never dialled

    lost = sorted(read_truth(tmp_path / "w").lost)[0]
    every = ["--limit", "10000", "--format", "json", "--reveal", "--purpose", "test"]
    plain = json.loads(run(cli, ["find", lost, "--db", db, *every]).output)
    r = run(cli, ["find", lost, "--db", db, *every, "--model", str(model)])
    assert r.exit_code == 0, r.output
    learned = json.loads(r.output)
    assert {c["phone"] for c in learned["candidates"]} == {c["phone"] for c in plain["candidates"]}
    assert [c["score"] for c in learned["candidates"]] != [c["score"] for c in plain["candidates"]]

    r = run(cli, ["evaluate", "find", "--world", str(tmp_path / "w"), "--db", db, "--sample", "40",
                  "--model", str(model), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert 0 < json.loads(r.output)["methods"]["find"]["mrr"] <= 1

    from skiptrace_cli.main import main  # exit codes as the console script has them

    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    capsys.readouterr()
    assert main(["find", lost, "--db", db, "--model", str(tmp_path / "bad.json")]) == 2
    assert "not a skiptrace scorer file" in capsys.readouterr().err
    mini_db = str(tmp_path / "mini.db")
    with SQLiteStore(mini_db) as s:
        load(s, MINI)
    assert main(["train", "find", "--db", mini_db, "-o", str(tmp_path / "x.json")]) == 2
    assert "too few labelled attempts" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_calls_without_times(sqlite_store, tmp_path):
    """The contract makes first_at/last_at optional: find ranks such call records (it crashed)."""
    d = tmp_path / "w"
    d.mkdir()
    (d / "borrowers.csv").write_text("borrower_id,timezone\nB1,UTC\nB2,UTC\n")
    (d / "borrower_phones.csv").write_text("borrower_id,phone\nB1,+8613800000001\nB2,+8613800000002\n")
    (d / "calls.csv").write_text("phone_a,phone_b,calls_a_to_b,calls_b_to_a\n"
                                 "+8613800000001,+8613800000003,4,2\n"
                                 "+8613800000003,+8613800000002,1,0\n")
    load(sqlite_store, d)
    res = find(sqlite_store, "B1", limit=None)
    by = {c.phone: c for c in res.candidates}
    partner = by["+8613800000003"]
    assert partner.rank == 2 and partner.last_seen is None  # after the borrower's own number
    assert any("6 calls with the borrower's number" in e.why.template for e in partner.evidence)
    assert "+8613800000002" in by  # two steps out, through the partner


def _write(d: Path, files: dict[str, str]) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (d / name).write_text(text)
    return d


def _star(tmp_path: Path, partners: int, seconds: bool = True, reciprocal: bool = True) -> Path:
    """B1 whose one number calls ``partners`` phones; partner 1 also calls B2's number."""
    rows = ["phone_a,phone_b,calls_a_to_b,calls_b_to_a,seconds_total,first_at,last_at"]
    for i in range(1, partners + 1):
        rows.append(f"+8613800000001,+86137{i:08d},{3},{2 if reciprocal else 0},"
                    f"{600 if seconds else ''},2026-01-01T00:00:00Z,2026-01-20T00:00:00Z")
    rows.append("+8613700000001,+8613800000002,5,5,900,2026-01-01T00:00:00Z,2026-01-20T00:00:00Z")
    return _write(tmp_path / f"star{partners}", {
        "borrowers.csv": "borrower_id,timezone\nB1,UTC\nB2,UTC\n",
        "borrower_phones.csv": "borrower_id,phone\nB1,+8613800000001\nB2,+8613800000002\n",
        "calls.csv": "\n".join(rows) + "\n"})


def test_own_number_is_expanded_whatever_its_degree(sqlite_store, tmp_path):
    """A busy number of the borrower's is no courier: the fan-out cap never stops it (it did)."""
    load(sqlite_store, _star(tmp_path, 30))
    capped = find(sqlite_store, "B1", limit=None, max_fanout=10)
    assert len([c for c in capped.candidates if c.phone.startswith("+86137")]) == 30
    # a partner is still capped when it has more relationships than max_fanout
    assert "+8613800000002" in _phones(find(sqlite_store, "B1", limit=None, max_fanout=10))
    assert "+8613800000002" not in _phones(find(sqlite_store, "B1", limit=None, max_fanout=1))


def test_scores_keep_full_precision(sqlite_store, tmp_path):
    load(sqlite_store, _star(tmp_path, 3))
    res = find(sqlite_store, "B1", limit=None)
    d = json.loads(json.dumps(res.to_dict()))
    assert [c["score"] for c in d["candidates"]] == [c.score for c in res.candidates]
    assert any(c["score"] != round(c["score"], 4) for c in d["candidates"])  # once rounded


def test_shared_contacts_are_structure_features(sqlite_store, tmp_path):
    from skiptrace.contacts.ego import fetch
    from skiptrace.contacts.features import IDX, extract

    load(sqlite_store, _star(tmp_path, 3))
    feats = extract(fetch(sqlite_store, "B1"))
    row = {c.phone: x for c, x in zip(feats.candidates, feats.X)}
    far = row["+8613800000002"]  # B2's number shares one contact (partner 1) with B1
    # partner 1 has degree 3 (two CALLED and its HAS_PHONE? no: two CALLED records) -> RA 1/2
    assert far[IDX["common_neighbours"]] == pytest.approx(1 - np.exp(-0.5))
    assert far[IDX["resource_allocation"]] > 0.5 and far[IDX["walk2"]] > 0
    assert row["+8613700000002"][IDX["common_neighbours"]] == 0  # a partner with no shared contact
    res = find(sqlite_store, "B1", limit=None)
    b2 = next(c for c in res.candidates if c.phone == "+8613800000002")
    assert any("in touch with 1 of the borrower's contacts" in e.why.template for e in b2.evidence)


def test_broadcast_hub_is_told_from_a_well_connected_person(sqlite_store, tmp_path):
    """Many one-way short calls: a broadcast hub; as many reciprocal long calls: a person."""
    from skiptrace.contacts.ego import fetch
    from skiptrace.contacts.features import broadcast

    rows = ["phone_a,phone_b,calls_a_to_b,calls_b_to_a,seconds_total,first_at,last_at"]
    for i in range(60):
        rows.append(f"+8618600000001,+86135{i:08d},1,0,20,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z")
        rows.append(f"+8618600000002,+86136{i:08d},6,5,3300,2026-01-01T00:00:00Z,2026-01-20T00:00:00Z")
    rows.append("+8613800000001,+8618600000001,1,0,20,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z")
    rows.append("+8613800000001,+8618600000002,6,5,3300,2026-01-01T00:00:00Z,2026-01-20T00:00:00Z")
    load(sqlite_store, _write(tmp_path / "hubs", {
        "borrowers.csv": "borrower_id,timezone\nB1,UTC\n",
        "borrower_phones.csv": "borrower_id,phone\nB1,+8613800000001\n",
        "calls.csv": "\n".join(rows) + "\n"}))
    ego = fetch(sqlite_store, "B1")
    courier, person = broadcast(ego, "Phone:+8618600000001"), broadcast(ego, "Phone:+8618600000002")
    assert courier > 0.2 and person < 0.05
    by = {c.phone: c.rank for c in find(sqlite_store, "B1", limit=None).candidates}
    assert by["+8618600000002"] < by["+8618600000001"]


def test_as_of_ignores_phonebook_entries_captured_later(mini):
    """A past ranking cannot use a phonebook the lender captured afterwards (it did)."""
    before = _phones(find(mini, "B1", as_of="2025-05-01", limit=None))
    after = _phones(find(mini, "B1", as_of="2025-07-01", limit=None))
    assert "+8618600186000" not in before and "+8618600186000" in after


@pytest.mark.parametrize("args", [["--limit", "0"], ["--limit", "-3"], ["--max-hops", "0"],
                                  ["--max-fanout", "0"]])
def test_cli_rank_arguments_validate(tmp_path, args):
    from skiptrace_cli.main import cli

    db = str(tmp_path / "s.db")
    with SQLiteStore(db) as s:
        load(s, MINI)
    r = CliRunner().invoke(cli, ["find", "B1", "--db", db, *args])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_learn_from_ties_needs_no_labels(tmp_path):
    """Self-supervised corrections from the store's own call ties, on both of its modes."""
    from skiptrace.contacts.ranking.train import learn_from_ties, tie_rows
    from skiptrace.generate import world

    world(1500, 4, tmp_path / "w")
    with SQLiteStore(tmp_path / "s.db") as s:
        load(s, tmp_path / "w")
        ids = [k for k, _ in s.stream_nodes("Borrower")][:200]
        X, y, g = tie_rows(s, ids, horizon=30.0)
        assert len(X) == len(y) == len(g) and 0 < y.mean() < 0.5
        Xr, yr, _ = tie_rows(s, ids, horizon=None, hide=0.3)
        assert 0 < yr.sum() < len(yr)
        m = learn_from_ties(s, sample=300, horizon=30.0)
        v = m.validation_
        assert v["auc"] > 0.6 and m.scorer_.source == "learned from the store's own call ties"
        assert m.scorer_.weights != LinearScorer().weights


def test_find_many_in_batches_equals_find_one_by_one(store):
    """Batched ego reads (shared degree lookups, one expand per hop for the batch) give
    byte-identical results to find() per borrower: with the default fan-out cap and with a
    small one that caps hubs differently per borrower, across batch boundaries, for a
    borrower asked twice, and with an unknown borrower raising only when its turn comes."""
    from skiptrace.store.base import node_id

    load(store, DEMO)
    ids = sorted(k for k, _ in store.stream_nodes("Borrower"))
    assert len(ids) >= 100
    ids = ids[:60] + [ids[3]]
    for kwargs in ({}, {"max_fanout": 4, "limit": None, "max_hops": 2}):
        one = [json.dumps(find(store, b, **kwargs).to_dict(reveal=True), sort_keys=True)
               for b in ids]
        many = [json.dumps(r.to_dict(reveal=True), sort_keys=True)
                for r in find_many(store, ids, batch=7, **kwargs)]
        assert many == one
        assert len({m for m in many}) > 1
    # the batched traversal gives the very subgraphs neighbourhood() gives one at a time
    from skiptrace.contacts.ego import _EgoPolicy

    centers = [node_id("Borrower", b) for b in ids[:9]]
    subs = store.neighbourhoods(centers, 3, max_fanout=4, policies=[_EgoPolicy(c) for c in centers])
    for c, sub in zip(centers, subs):
        alone = store.neighbourhood(c, 3, max_fanout=4, policy=_EgoPolicy(c))
        assert (sub.nodes, sub.edges, sub.hops, sub.degree, sub.capped) == \
            (alone.nodes, alone.edges, alone.hops, alone.degree, alone.capped)
        assert [e.props for e in sub.edges] == [e.props for e in alone.edges]
    got = []
    with pytest.raises(UnknownBorrower):
        for r in find_many(store, [ids[0], ids[1], "NOPE", ids[2]], batch=4):
            got.append(r.borrower_id)
    assert got == [ids[0], ids[1]]
    assert list(find_many(store, [], limit=0)) == []  # like find() per borrower: nothing checked
