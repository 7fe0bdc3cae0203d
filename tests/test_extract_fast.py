"""The shortcuts of find's feature extraction give exactly what the plain functions give.

``extract`` memoises degrees and call strengths (``Memo``) and reads the broadcast
sums of every phone in one pass (``broadcasts``); ``fetch_many`` cuts each relationship
once per batch (``build(shared=...)``). Each is compared here with the plain version,
value for value, on the demo world.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from skiptrace.contacts import clock
from skiptrace.contacts.ego import build, fetch, fetch_many
from skiptrace.contacts.features import (Memo, _own_phones, broadcast, broadcasts, extract,
                                         structure)
from skiptrace.contacts.ranking.walk import weighted_edges
from skiptrace.ingest import load
from skiptrace.plan import delinquent_ids

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from skiptrace.store import SQLiteStore

    st = SQLiteStore(str(tmp_path_factory.mktemp("demo") / "demo.db"))
    load(st, DEMO)
    yield st
    st.close()


def _ids(store, n=12):
    return delinquent_ids(store)[:n]


def test_memoised_parts_equal_the_plain_ones(demo):
    for b in _ids(demo):
        ego = fetch(demo, b)
        memo = Memo(ego)
        phones = [p for p in ego.sub.hops if p.startswith("Phone:") and p in ego.adj]
        assert broadcasts(ego, phones, memo) == {p: broadcast(ego, p) for p in phones}
        own = _own_phones(ego)
        fast, plain = structure(ego, own, memo), structure(ego, own)
        assert {k: (v.values, v.count, v.path) for k, v in fast.items()} == \
            {k: (v.values, v.count, v.path) for k, v in plain.items()}
        assert weighted_edges(ego, strength=memo.strength, degree=memo.degree) == \
            weighted_edges(ego)


@pytest.mark.parametrize("as_of", [None, "2026-05-01T00:00:00Z"])
def test_batch_cut_equals_one_by_one(demo, as_of):
    ids = _ids(demo, 20)
    for b, ego in zip(ids, fetch_many(demo, ids, as_of=as_of, batch=8)):
        one = fetch(demo, b, as_of=as_of)
        assert ego.as_of == one.as_of
        assert [(e.type, e.src, e.dst, e.props) for e in ego.edges] == \
            [(e.type, e.src, e.dst, e.props) for e in one.edges]
        assert ego.ledger == one.ledger
        f1, f2 = extract(ego), extract(one)
        assert f1.X.tobytes() == f2.X.tobytes()
        assert [c.phone for c in f1.candidates] == [c.phone for c in f2.candidates]


def test_shared_cut_is_keyed_by_time(demo):
    b = _ids(demo, 1)[0]
    ego = fetch(demo, b)
    shared: dict = {}
    early, late = clock.to_days("2026-03-01T00:00:00Z"), ego.as_of
    a = build(b, ego.sub, ego.ledger, early, shared=shared)
    z = build(b, ego.sub, ego.ledger, late, shared=shared)
    assert [e.props for e in a.edges] == [e.props for e in build(b, ego.sub, ego.ledger, early).edges]
    assert [e.props for e in z.edges] == [e.props for e in build(b, ego.sub, ego.ledger, late).edges]
