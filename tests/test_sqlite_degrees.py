"""The SQLite degree table: degrees() read from it equal the counts of the stored
relationships after every kind of write (first load, later loads, re-loads, deletes,
clear, a rolled-back transaction), and a store of the previous layout counts until it
is built."""
from __future__ import annotations

import random
import sqlite3

import pytest

from skiptrace.errors import StoreError
from skiptrace.store import Batch, node_id
from skiptrace.store.sqlite import DEGREE_META, SQLiteStore

TYPES = (None, ["CALLED"], ["HAS_PHONE", "LISTS_CONTACT"], ["MEMBER_OF"], ["NO_SUCH_TYPE"])


def counted(store: SQLiteStore, nodes: list[str], types) -> dict[str, int]:
    """The truth: every stored relationship's two ends (a self-loop counts twice)."""
    want: dict[str, int] = {}
    keep = set(nodes)
    for e in store.stream_edges(types):
        for end in (e.src, e.dst):
            if end in keep:
                want[end] = want.get(end, 0) + 1
    return want


def random_batch(rng: random.Random, n_borrowers: int = 40, n_phones: int = 60,
                 n_calls: int = 300) -> Batch:
    b = Batch()
    phones = [f"+86138{i:08d}" for i in range(n_phones)]
    for i in range(n_borrowers):
        b.add_node("Borrower", f"B{i}", {"status": "delinquent"})
        b.add_edge("HAS_PHONE", node_id("Borrower", f"B{i}"),
                   node_id("Phone", rng.choice(phones)), {"role": "primary"})
        for _ in range(rng.randrange(4)):
            b.add_edge("LISTS_CONTACT", node_id("Borrower", f"B{i}"),
                       node_id("Phone", rng.choice(phones)),
                       {"source": rng.choice(["emergency", "phonebook"]),
                        "name": rng.choice(["Mum", "Dad", "Li"])})
    for _ in range(n_calls):
        a, c = rng.choice(phones), rng.choice(phones)  # self-calls too
        b.add_edge("CALLED", node_id("Phone", a), node_id("Phone", c),
                   {"calls_a_to_b": rng.randrange(1, 9)})
    return b


def check(store: SQLiteStore) -> None:
    nodes = sorted({n for e in store.stream_edges() for n in (e.src, e.dst)}) + ["Phone:+1"]
    for types in TYPES:
        assert store.degrees(nodes, types) == counted(store, nodes, types), types


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path / "deg.db")
    yield s
    s.close()


def test_a_new_store_keeps_its_degree_table_through_every_write(store, monkeypatch):
    assert store.degrees_kept()
    rng = random.Random(7)
    monkeypatch.setattr(SQLiteStore, "BULK_ROWS", 50)  # the first load takes the rebuild path
    store.write(random_batch(rng))
    assert store.degrees_kept()
    check(store)
    assert store.conn.execute("SELECT count(*) FROM degree").fetchone()[0] > 0
    # later, smaller loads take the touched-pairs path, also re-writes of known relationships
    monkeypatch.setattr(SQLiteStore, "BULK_ROWS", 10**9)
    for _ in range(3):
        store.write(random_batch(rng, n_calls=40))
        check(store)
    # a ring layer written and replaced, as `rings detect` does
    for k in range(2):
        b = Batch()
        for i in range(0, 40, 3 + k):
            b.add_node("Ring", f"R{k}{i % 5}", {})
            b.add_edge("MEMBER_OF", node_id("Borrower", f"B{i}"), node_id("Ring", f"R{k}{i % 5}"),
                       {"role": "member"})
        store.delete(labels=["Ring"], types=["MEMBER_OF"])
        store.write(b)
        check(store)
    store.delete(labels=["Ring"])
    check(store)
    store.delete(types=["LISTS_CONTACT"])
    check(store)
    store.clear()
    assert store.degrees_kept()
    assert store.degrees([node_id("Borrower", "B1")]) == {}
    store.write(random_batch(rng))
    check(store)


def test_a_rolled_back_write_leaves_the_degree_table_as_it_was(store):
    rng = random.Random(3)
    store.write(random_batch(rng))
    before = store.conn.execute("SELECT * FROM degree ORDER BY 1, 2").fetchall()
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.write(random_batch(rng, n_calls=50))
            # inside the transaction degrees are still exact (counted: the table is behind)
            check(store)
            raise RuntimeError("abort the load")
    assert store.conn.execute("SELECT * FROM degree ORDER BY 1, 2").fetchall() == before
    check(store)


def test_a_layout_2_store_counts_until_its_degree_table_is_built(tmp_path):
    path = tmp_path / "old.db"
    s = SQLiteStore(path)
    s.write(random_batch(random.Random(5)))
    nodes = sorted({n for e in s.stream_edges() for n in (e.src, e.dst)})
    want = {str(t): s.degrees(nodes, t) for t in TYPES}
    s.close()
    # make it look like a store written before the degree table existed
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE degree")
    conn.execute("DELETE FROM meta WHERE key = ?", (DEGREE_META,))
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'sqlite_layout'")
    conn.commit()
    conn.close()
    s = SQLiteStore(path)
    assert s.get_meta("sqlite_layout") == "3"  # upgraded in place
    assert not s.degrees_kept()
    assert {str(t): s.degrees(nodes, t) for t in TYPES} == want  # counted
    s.write(random_batch(random.Random(6), n_calls=20))  # a small load does not build it
    assert not s.degrees_kept()
    check(s)
    s.rebuild_degrees()
    assert s.degrees_kept()
    check(s)
    s.close()


def test_a_store_of_an_unknown_layout_is_refused(tmp_path):
    path = tmp_path / "future.db"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '9' WHERE key = 'sqlite_layout'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="sqlite_layout 9"):
        SQLiteStore(path)
