"""The store contract: one suite, run unchanged against SQLite and Neo4j."""
from __future__ import annotations

import pytest

from skiptrace.store import Batch, node_id

B = lambda k: node_id("Borrower", k)  # noqa: E731
P = lambda k: node_id("Phone", k)  # noqa: E731


def small_batch(last_seen: str = "2026-01-10T00:00:00Z") -> Batch:
    b = Batch()
    b.add_node("Borrower", "B1", {"full_name": "Li Wei", "status": "delinquent",
                                  "days_past_due": 40, "balance": 1200.0,
                                  "attorney_known": False, "region": "CN"})
    b.add_node("Borrower", "B2", {"full_name": "Zhang San", "status": "current"})
    for ph in ("+8613800000001", "+8613800000002", "+8613800000003"):
        b.add_node("Phone", ph)
    b.add_node("Phone", "+8613800000009", {"status": "reassigned", "status_at": "2026-01-01T00:00:00Z"})
    b.add_node("Device", "D1")
    b.add_node("Address", "1 main st", {"address": "1 Main St."})
    b.add_node("Employer", "acme", {"name": "ACME"})
    b.add_edge("HAS_PHONE", B("B1"), P("+8613800000001"),
               {"role": "primary", "first_seen": "2025-01-01T00:00:00Z", "last_seen": last_seen,
                "verified": True})
    b.add_edge("HAS_PHONE", B("B2"), P("+8613800000002"), {"role": "primary"})
    b.add_edge("USES_DEVICE", B("B1"), node_id("Device", "D1"), {})
    b.add_edge("USES_DEVICE", B("B2"), node_id("Device", "D1"), {})
    b.add_edge("LIVES_AT", B("B1"), node_id("Address", "1 main st"), {"kind": "home"})
    b.add_edge("EMPLOYED_BY", B("B1"), node_id("Employer", "acme"), {"since": "2024-05-01T00:00:00Z"})
    b.add_edge("LISTS_CONTACT", B("B1"), P("+8613800000003"),
               {"source": "emergency", "relation": "parent", "name": "Mum",
                "listed_at": "2025-03-01T00:00:00Z"})
    b.add_edge("LISTS_CONTACT", B("B1"), P("+8613800000003"),
               {"source": "phonebook", "name": "Mum", "captured_at": "2025-03-02T00:00:00Z"})
    b.add_edge("CALLED", P("+8613800000001"), P("+8613800000003"),
               {"calls_a_to_b": 10, "calls_b_to_a": 7, "seconds_total": 3600,
                "first_at": "2025-01-05T00:00:00Z", "last_at": "2026-01-05T00:00:00Z"})
    b.add_edge("CALLED", P("+8613800000003"), P("+8613800000009"), {"calls_a_to_b": 1})
    b.attempts.append({"attempt_id": "A2", "borrower_id": "B1", "channel": "sms",
                       "at": "2026-01-02T00:00:00Z", "connected": False, "outcome": "no_answer"})
    b.attempts.append({"attempt_id": "A1", "borrower_id": "B1", "channel": "human_call",
                       "at": "2026-01-01T00:00:00Z", "target_phone": "+8613800000003",
                       "target_role": "third_party", "connected": True, "outcome": "refused"})
    b.payments.append({"borrower_id": "B1", "paid_at": "2026-01-03T00:00:00Z", "amount": 50.0})
    return b


EXPECTED_COUNTS = {
    "nodes": {"Address": 1, "Borrower": 2, "Device": 1, "Employer": 1, "Phone": 4},
    "relationships": {"CALLED": 2, "EMPLOYED_BY": 1, "HAS_PHONE": 2, "LISTS_CONTACT": 2,
                      "LIVES_AT": 1, "USES_DEVICE": 2},
    "ledger": {"contact_attempts": 2, "payments": 1},
}


def test_empty_store_has_no_counts(store):
    c = store.counts().as_dict()
    assert c == {"nodes": {}, "relationships": {}, "ledger": {}}


def test_write_then_counts(store):
    store.write(small_batch())
    assert store.counts().as_dict() == EXPECTED_COUNTS


def test_rewrite_is_idempotent(store):
    store.write(small_batch())
    before = (store.counts().as_dict(), store.neighbourhood(B("B1"), 3))
    store.write(small_batch())
    after = (store.counts().as_dict(), store.neighbourhood(B("B1"), 3))
    assert before[0] == after[0]
    assert before[1].edges == after[1].edges
    assert [e.props for e in before[1].edges] == [e.props for e in after[1].edges]


def test_merge_rules_min_max_set(store):
    store.write(small_batch(last_seen="2026-01-10T00:00:00Z"))
    later = Batch()
    later.add_node("Borrower", "B1", {"status": "written_off", "full_name": None})
    later.add_node("Phone", "+8613800000001")
    later.add_edge("HAS_PHONE", B("B1"), P("+8613800000001"),
                   {"first_seen": "2025-06-01T00:00:00Z", "last_seen": "2026-02-01T00:00:00Z"})
    store.write(later)
    sub = store.neighbourhood(B("B1"), 1, types=["HAS_PHONE"])
    (edge,) = sub.edges
    assert edge.props["first_seen"] == "2025-01-01T00:00:00Z"  # min kept the earlier one
    assert edge.props["last_seen"] == "2026-02-01T00:00:00Z"   # max moved forward
    assert edge.props["role"] == "primary"                      # absent value did not erase
    node = store.get_nodes([B("B1")])[B("B1")]
    assert node["status"] == "written_off"                     # set replaced
    assert node["full_name"] == "Li Wei"                       # None did not erase
    # an older last_seen does not move it back
    older = Batch()
    older.add_node("Phone", "+8613800000001")
    older.add_edge("HAS_PHONE", B("B1"), P("+8613800000001"), {"last_seen": "2025-02-01T00:00:00Z"})
    store.write(older)
    (edge,) = store.neighbourhood(B("B1"), 1, types=["HAS_PHONE"]).edges
    assert edge.props["last_seen"] == "2026-02-01T00:00:00Z"


def test_get_nodes_types_and_keys(store):
    store.write(small_batch())
    got = store.get_nodes([B("B1"), P("+8613800000009"), B("NOPE")])
    assert set(got) == {B("B1"), P("+8613800000009")}
    b1 = got[B("B1")]
    assert b1["borrower_id"] == "B1"
    assert b1["days_past_due"] == 40 and isinstance(b1["days_past_due"], int)
    assert b1["balance"] == 1200.0
    assert b1["attorney_known"] is False
    assert got[P("+8613800000009")] == {"e164": "+8613800000009", "status": "reassigned",
                                         "status_at": "2026-01-01T00:00:00Z"}


def test_existing_keys(store):
    store.write(small_batch())
    assert store.existing_keys("Borrower", ["B1", "B3", "B2", "B1"]) == {"B1", "B2"}
    assert store.existing_keys("Phone", ["B1"]) == set()
    many = [f"X{i}" for i in range(1500)] + ["B2"]
    assert store.existing_keys("Borrower", many) == {"B2"}


def test_identity_props_keep_listings_apart(store):
    store.write(small_batch())
    sub = store.neighbourhood(B("B1"), 1, types=["LISTS_CONTACT"])
    sources = sorted(e.props["source"] for e in sub.edges)
    assert sources == ["emergency", "phonebook"]
    emergency = next(e for e in sub.edges if e.props["source"] == "emergency")
    assert emergency.props == {"source": "emergency", "relation": "parent", "name": "Mum",
                               "listed_at": "2025-03-01T00:00:00Z"}


def test_fixed_values_of_an_edge_list(store):
    """Rows of an EdgeList with fixed values read back with those values
    filled in, and merge with rows written in full."""
    store.write(small_batch())
    b = Batch()
    rows = b.edge_list("LISTS_CONTACT", {"source": "phonebook", "listed_at": None, "relation": None})
    assert rows.columns == ("captured_at", "name")
    rows.rows.append((B("B1"), P("+8613800000003"), "2025-04-01T00:00:00Z", "Mother"))
    rows.rows.append((B("B2"), P("+8613800000001"), None, "Li's it's"))
    with pytest.raises(ValueError):
        b.edge_list("LISTS_CONTACT")  # one variant per type in a batch
    store.write(b)
    got = {(e.src, e.props["source"]): e.props
           for e in store.stream_edges(["LISTS_CONTACT"])}
    assert got[(B("B1"), "phonebook")] == {"source": "phonebook", "name": "Mother",
                                          "captured_at": "2025-04-01T00:00:00Z"}
    assert got[(B("B2"), "phonebook")] == {"source": "phonebook", "name": "Li's it's"}
    assert got[(B("B1"), "emergency")]["relation"] == "parent"  # untouched
    assert store.counts().relationships["LISTS_CONTACT"] == 3


def test_expand_is_incident_edges_per_group_with_true_degrees(store):
    """A store's one-hop expand (one round trip on Neo4j) returns what
    incident_edges returns per group, and any degrees it adds are the ones
    degrees() gives."""
    store.write(small_batch())
    groups = [(None, [B("B1"), node_id("Device", "D1")]), (("CALLED",), [P("+8613800000003")])]
    edges, degrees = store.expand(groups, None)
    want = store.incident_edges([B("B1"), node_id("Device", "D1")]) + \
        store.incident_edges([P("+8613800000003")], ["CALLED"])
    assert sorted({store.edge_key(e) for e in edges}) == sorted({store.edge_key(e) for e in want})
    if degrees is not None:
        ends = {n for e in edges for n in (e.src, e.dst)}
        assert degrees == store.degrees(ends)


def test_degrees_count_every_relationship_even_off_schema_ends(store):
    """degrees() is the number of relationships at each end, over the types asked, also when
    a stored relationship has an end whose label the schema does not give its type (a store
    may skip the types a label cannot have only where the rows keep to the schema)."""
    store.write(small_batch())
    b = Batch()
    b.add_edge("CALLED", B("B2"), P("+8613800000001"), {"calls_a_to_b": 1})   # off-schema source
    b.add_edge("HAS_PHONE", B("B1"), node_id("Device", "D1"), {})           # off-schema target
    store.write(b)
    nodes = [B("B1"), B("B2"), P("+8613800000001"), P("+8613800000003"), node_id("Device", "D1"),
             node_id("Address", "1 main st"), P("+8613800000404")]
    for types in (None, ["CALLED"], ["HAS_PHONE", "USES_DEVICE"]):
        want: dict[str, int] = {}
        for e in store.stream_edges(types):
            for end in (e.src, e.dst):
                if end in nodes:
                    want[end] = want.get(end, 0) + 1
        assert store.degrees(nodes, types) == want, types


def test_neighbourhood_hops_degrees_and_order(store):
    store.write(small_batch())
    sub = store.neighbourhood(B("B1"), 2)
    assert sub.hops[B("B1")] == 0
    assert sub.hops[P("+8613800000003")] == 1
    assert sub.hops[B("B2")] == 2          # via the shared device
    assert sub.hops[P("+8613800000009")] == 2  # via a call of the parent's phone
    assert P("+8613800000002") not in sub.hops  # three hops away
    assert sub.degree[B("B1")] == 6
    assert sub.degree[node_id("Device", "D1")] == 2
    keys = [(e.type, e.src, e.dst) for e in sub.edges]
    assert keys == sorted(keys)
    assert sub.nodes[B("B2")]["status"] == "current"
    called = [e for e in sub.edges if e.type == "CALLED" and e.src == P("+8613800000001")]
    assert called[0].props["calls_a_to_b"] == 10 and called[0].props["seconds_total"] == 3600


def test_neighbourhood_caps_hubs(store):
    b = Batch()
    hub = b.add_node("Phone", "+8613900000000")
    for i in range(30):
        bid = b.add_node("Borrower", f"H{i:02d}")
        b.add_edge("LISTS_CONTACT", bid, hub, {"source": "phonebook"})
    b.add_node("Phone", "+8613900000001")
    b.add_edge("HAS_PHONE", B("H00"), P("+8613900000001"), {})
    store.write(b)
    sub = store.neighbourhood(B("H00"), 2, max_fanout=10)
    assert hub in sub.capped
    assert sub.degree[hub] == 30
    assert B("H05") not in sub.hops            # not pulled in through the hub
    open_ = store.neighbourhood(B("H00"), 2, max_fanout=100)
    assert B("H05") in open_.hops and hub not in open_.capped
    # the center is always expanded, however large
    centre = store.neighbourhood(hub, 1, max_fanout=5)
    assert len([n for n in centre.hops if n.startswith("Borrower:")]) == 30


def test_stream_edges_by_type(store):
    store.write(small_batch())
    called = sorted((e.src, e.dst) for e in store.stream_edges(["CALLED"]))
    assert called == [(P("+8613800000001"), P("+8613800000003")),
                      (P("+8613800000003"), P("+8613800000009"))]
    everything = list(store.stream_edges(with_props=False))
    assert len(everything) == sum(EXPECTED_COUNTS["relationships"].values())
    assert all(e.props == {} for e in everything)
    devs = list(store.stream_edges(["USES_DEVICE", "LIVES_AT"]))
    assert sorted(e.type for e in devs) == ["LIVES_AT", "USES_DEVICE", "USES_DEVICE"]


def test_stream_edge_columns_equal_stream_edges(store):
    store.write(small_batch())
    props = ("source", "calls_a_to_b", "verified", "no_such_prop")
    rows, types_seen = [], []
    for c in store.stream_edge_columns(None, props, chunk=1):
        assert len(c) == len(c.dst) == 1 and set(c.props) == set(props)
        types_seen.append(c.type)
        rows += [(c.type, s, d, *(c.props[p][i] for p in props))
                 for i, (s, d) in enumerate(zip(c.src, c.dst))]
    assert types_seen == sorted(types_seen)  # one type at a time, in type order
    want = [(e.type, e.src, e.dst, *(e.props.get(p) for p in props)) for e in store.stream_edges()]
    assert sorted(rows, key=repr) == sorted(want, key=repr)
    # values keep their types (bool stays bool, missing identity values are None)
    assert (("HAS_PHONE", B("B1"), P("+8613800000001"), None, None, True, None) in rows)
    assert ("CALLED", P("+8613800000001"), P("+8613800000003"), None, 10, None, None) in rows
    assert sorted(r[3] for r in rows if r[0] == "LISTS_CONTACT") == ["emergency", "phonebook"]
    # a type filter and big chunks: one chunk per type, unknown types skipped
    chunks = list(store.stream_edge_columns(["USES_DEVICE", "CALLED", "NOPE"], chunk=1000))
    assert [(c.type, len(c), c.props) for c in chunks] == [("CALLED", 2, {}), ("USES_DEVICE", 2, {})]
    assert sorted(chunks[1].src) == [B("B1"), B("B2")]


def test_stream_edge_columns_filters(store):
    store.write(small_batch())
    # where: property values, in the store; a type lacking the property keeps nothing
    got = [(c.type, s, d, c.props["relation"][i]) for c in store.stream_edge_columns(
        None, ("relation",), where={"source": ["emergency"]}) for i, (s, d) in enumerate(zip(c.src, c.dst))]
    assert got == [("LISTS_CONTACT", B("B1"), P("+8613800000003"), "parent")]
    both = [r for c in store.stream_edge_columns(["LISTS_CONTACT"], where={"source": ("emergency", "phonebook")})
            for r in c.src]
    assert both == [B("B1"), B("B1")]
    assert list(store.stream_edge_columns(["LISTS_CONTACT"], where={"source": ["nope"]})) == []
    # sources: relationships starting at these nodes only
    rows = sorted((c.type, s, d) for c in store.stream_edge_columns(["USES_DEVICE", "HAS_PHONE"], sources=[B("B2")])
                  for s, d in zip(c.src, c.dst))
    assert rows == [("HAS_PHONE", B("B2"), P("+8613800000002")), ("USES_DEVICE", B("B2"), node_id("Device", "D1"))]
    assert list(store.stream_edge_columns(None, sources=[])) == []
    assert list(store.stream_edge_columns(None, sources=[B("nobody")])) == []
    # both at once, and chunked
    chunks = list(store.stream_edge_columns(["LISTS_CONTACT"], ("source",), chunk=1,
                                            where={"source": ["phonebook"]}, sources=[B("B1"), B("B2")]))
    assert [(c.src, c.props) for c in chunks] == [([B("B1")], {"source": ["phonebook"]})]
    with pytest.raises(ValueError):
        list(store.stream_edge_columns(None, where={"source": [None]}))
    with pytest.raises(TypeError):
        list(store.stream_edge_columns(None, where={"source": "emergency"}))


def test_stream_node_columns(store):
    store.write(small_batch())
    chunks = list(store.stream_node_columns("Borrower", ("borrower_id", "days_past_due",
                                                         "attorney_known", "nope"), chunk=1))
    assert [c.ids for c in chunks] == [[B("B1")], [B("B2")]]
    assert chunks[0].props == {"borrower_id": ["B1"], "days_past_due": [40],
                               "attorney_known": [False], "nope": [None]}
    assert chunks[1].props == {"borrower_id": ["B2"], "days_past_due": [None],
                               "attorney_known": [None], "nope": [None]}
    phones = [i for c in store.stream_node_columns("Phone", ("status",)) for i in c.ids]
    assert phones == sorted(phones) and len(phones) == 4


def test_stream_nodes(store):
    store.write(small_batch())
    keys = [k for k, _ in store.stream_nodes("Borrower")]
    assert keys == ["B1", "B2"]


def test_ledger(store):
    store.write(small_batch())
    store.write(small_batch())  # idempotent
    led = store.ledger("B1")
    assert [a["attempt_id"] for a in led.attempts] == ["A1", "A2"]  # oldest first
    assert led.attempts[0]["outcome"] == "refused" and led.attempts[0]["connected"] is True
    assert led.attempts[0]["target_phone"] == "+8613800000003"
    assert led.payments == [{"borrower_id": "B1", "paid_at": "2026-01-03T00:00:00Z", "amount": 50.0}]
    assert store.ledger("B2").attempts == []


def test_stream_ledger(store):
    store.write(small_batch())
    attempts = sorted(store.stream_ledger("contact_attempts"), key=lambda a: a["attempt_id"])
    assert attempts == store.ledger("B1").attempts  # same rows, same shape (A1 is also the oldest)
    assert attempts[0]["connected"] is True and "target_phone" not in attempts[1]
    assert list(store.stream_ledger("payments")) == store.ledger("B1").payments
    with pytest.raises(ValueError):
        list(store.stream_ledger("calls"))


def test_delete_removes_labels_and_types_only(store):
    store.write(small_batch())
    b = Batch()
    rid = b.add_node("Ring", "R1", {"typology": "fraud", "risk": 0.9, "size": 2})
    b.add_edge("MEMBER_OF", node_id("Borrower", "B1"), rid, {"role": "member"})
    b.add_edge("MEMBER_OF", node_id("Borrower", "B2"), rid, {"role": "member"})
    store.write(b)
    before = store.counts()
    assert before.nodes["Ring"] == 1 and before.relationships["MEMBER_OF"] == 2
    with store.transaction():
        store.delete(labels=["Ring"], types=["MEMBER_OF"])
    after = store.counts()
    assert "Ring" not in after.nodes and "MEMBER_OF" not in after.relationships
    assert after.nodes["Borrower"] == before.nodes["Borrower"]
    assert {t: n for t, n in after.relationships.items()} == \
        {t: n for t, n in before.relationships.items() if t != "MEMBER_OF"}
    # a label's relationships go with it, outside a transaction too
    store.delete(labels=["Device"])
    assert "Device" not in store.counts().nodes and "USES_DEVICE" not in store.counts().relationships


def test_transaction_rolls_back_on_error(store):
    store.write(small_batch())
    before = store.counts().as_dict()
    extra = Batch()
    extra.add_node("Borrower", "B9", {"status": "current"})
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.write(extra)
            raise RuntimeError("boom")
    assert store.counts().as_dict() == before
    assert store.existing_keys("Borrower", ["B9"]) == set()


def test_clear(store):
    store.write(small_batch())
    store.clear()
    assert store.counts().as_dict() == {"nodes": {}, "relationships": {}, "ledger": {}}


class _PhonesThenCalls:
    """Follow the borrower's phones, then only CALLED from phones; watch edges."""

    def __init__(self):
        self.seen = []

    def follow(self, node, hop):
        if hop == 0:
            return ("HAS_PHONE",)
        return ("CALLED",) if node.startswith("Phone:") else ()

    def observe(self, edge):
        self.seen.append(edge.type)


def test_neighbourhood_with_an_expansion_policy(store):
    store.write(small_batch())
    policy = _PhonesThenCalls()
    sub = store.neighbourhood(B("B1"), 3, policy=policy)
    assert set(sub.hops) == {B("B1"), P("+8613800000001"), P("+8613800000003"), P("+8613800000009")}
    assert {e.type for e in sub.edges} == {"HAS_PHONE", "CALLED"}
    assert sorted(policy.seen) == ["CALLED", "CALLED", "HAS_PHONE"]
