"""The SQLite load path: rows staged into scratch chunk files on the parsing
thread and merged into the store behind it (skiptrace.store.sqlite_bulk)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from skiptrace.errors import InputError
from skiptrace.ingest import load
from skiptrace.store import SQLiteStore
from skiptrace.store import sqlite_bulk
from skiptrace.store.base import Batch, GraphStore

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


def dump(store: SQLiteStore) -> dict[str, list[tuple]]:
    """Every row of every table, in key order."""
    c = store.conn
    return {
        "node": c.execute("SELECT * FROM node ORDER BY id").fetchall(),
        "edge": c.execute("SELECT * FROM edge ORDER BY type, src, dst, ident").fetchall(),
        "attempt": c.execute("SELECT * FROM attempt ORDER BY attempt_id").fetchall(),
        "payment": c.execute("SELECT * FROM payment ORDER BY 1, 2, 3").fetchall(),
    }


@pytest.fixture
def small_chunks(monkeypatch):
    """Seal a chunk every few hundred rows, and count the merges."""
    merges: list[str] = []
    original = sqlite_bulk.ChunkSink._merge

    def counting(self, path, alias, tables, rows):
        merges.append(alias)
        return original(self, path, alias, tables, rows)

    monkeypatch.setattr(sqlite_bulk.ChunkSink, "MIN_CHUNK_ROWS", 300)
    monkeypatch.setattr(sqlite_bulk.ChunkSink, "_merge", counting)
    return merges


def staging_dirs(where: Path) -> list[Path]:
    return sorted(where.glob(".*.stage-*"))


def test_chunked_load_equals_one_chunk_and_plain_writes(tmp_path, small_chunks, monkeypatch):
    with SQLiteStore(tmp_path / "chunked.db") as s:
        load(s, DEMO, batch_rows=200)
        chunked = dump(s)
    assert 3 <= len(small_chunks) <= sqlite_bulk.ChunkSink.MAX_CHUNKS + 1, small_chunks
    assert staging_dirs(tmp_path) == []

    monkeypatch.setattr(sqlite_bulk.ChunkSink, "MIN_CHUNK_ROWS", 10**9)
    with SQLiteStore(tmp_path / "one.db") as s:
        load(s, DEMO)
        one = dump(s)

    # the store's own write() path (temp tables merged on flush), via the default sink
    monkeypatch.setattr(SQLiteStore, "sink", GraphStore.sink)
    with SQLiteStore(tmp_path / "plain.db") as s:
        load(s, DEMO)
        plain = dump(s)

    assert chunked == one == plain
    assert len(chunked["edge"]) > 1000 and chunked["attempt"] and chunked["payment"]


def test_chunked_reload_is_idempotent(tmp_path, small_chunks):
    with SQLiteStore(tmp_path / "s.db") as s:
        load(s, DEMO, batch_rows=200)
        first = dump(s)
        load(s, DEMO, batch_rows=200)
        assert dump(s) == first


def test_chunk_count_is_capped_by_sqlites_attach_limit(tmp_path, monkeypatch, small_chunks):
    monkeypatch.setattr(sqlite_bulk.ChunkSink, "MIN_CHUNK_ROWS", 1)
    with SQLiteStore(tmp_path / "s.db") as s:
        with s.transaction():
            sink = s.sink(total_bytes=0)  # no size hint: every batch could seal a chunk
            assert isinstance(sink, sqlite_bulk.ChunkSink)
            for i in range(20):
                b = Batch()
                b.add_node("Borrower", f"B{i}", {"status": "current"})
                b.edge_list("USES_DEVICE").rows.append((f"Borrower:B{i}", f"Device:d{i}", None, None))
                sink.write(b, done_bytes=i)
            sink.close()
        assert s.counts().nodes == {"Borrower": 20, "Device": 20}
        assert s.counts().relationships == {"USES_DEVICE": 20}
    # eight sealed on the way, the rest in the last one: 9 of SQLite's 10 attachable databases
    assert len(small_chunks) == sqlite_bulk.ChunkSink.MAX_CHUNKS + 1
    assert staging_dirs(tmp_path) == []


def test_bad_row_after_merged_chunks_leaves_the_store_as_it_was(tmp_path, small_chunks):
    bad = tmp_path / "demo"
    shutil.copytree(DEMO, bad)
    lines = (bad / "phonebook.csv").read_text(encoding="utf-8").splitlines()
    with open(bad / "phonebook.csv", "a", encoding="utf-8") as f:
        f.write("B000001,12ab,X,2026-04-02T10:04:28\n")
    with SQLiteStore(tmp_path / "s.db") as s:
        load(s, DEMO, batch_rows=200)
        before = dump(s)
        merges_before = len(small_chunks)
        with pytest.raises(InputError) as info:
            load(s, bad, batch_rows=200)
        assert len(small_chunks) > merges_before  # chunks were merged before the bad row
        p = info.value.problems[0]
        assert (p.file, p.line, p.column) == ("phonebook.csv", len(lines) + 1, "contact_phone")
        assert dump(s) == before
    assert staging_dirs(tmp_path) == []


def test_relationship_index_is_rebuilt_before_the_edge_free_files(tmp_path, small_chunks, monkeypatch):
    """The loader says when only nodes and ledger rows remain (the hint is
    checked against every batch after it); the index dropped for the bulk
    merge is rebuilt then, and exists after the load."""
    events: list[str] = []
    write, done = sqlite_bulk.ChunkSink.write, sqlite_bulk.ChunkSink.relationships_done

    def checked_write(self, batch, done_bytes=0):
        if "relationships_done" in events:
            assert not any(len(e) for e in batch.edges.values()), "a relationship after the hint"
        events.append("write")
        return write(self, batch, done_bytes)

    def checked_done(self):
        events.append("relationships_done")
        return done(self)

    rebuilt: list[bool] = []
    rebuild = SQLiteStore._rebuild_indexes

    def checked_rebuild(self):
        rebuilt.append(bool(self._dropped_indexes))
        return rebuild(self)

    monkeypatch.setattr(sqlite_bulk.ChunkSink, "write", checked_write)
    monkeypatch.setattr(sqlite_bulk.ChunkSink, "relationships_done", checked_done)
    monkeypatch.setattr(SQLiteStore, "_rebuild_indexes", checked_rebuild)
    monkeypatch.setattr(SQLiteStore, "BULK_ROWS", 100)  # the demo is a bulk load: drop the index
    with SQLiteStore(tmp_path / "s.db") as s:
        load(s, DEMO, batch_rows=200)
        assert rebuilt[0] is True  # the early rebuild had a dropped index to build
        assert events.count("relationships_done") == 1
        assert events[-1] == "write"  # ledger and phone status batches came after it
        indexes = {r[0] for r in s.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "edge_dst" in indexes
        plan = " ".join(r[-1] for r in s.conn.execute(
            "EXPLAIN QUERY PLAN SELECT src FROM edge WHERE type = 'CALLED' AND dst = 'Phone:+1'"))
        assert "edge_dst" in plan


def test_a_dead_loads_chunks_are_removed_by_the_next_load(tmp_path):
    stale = tmp_path / ".s.db.stage-dead1"
    stale.mkdir()
    (stale / "chunk0.db").write_bytes(b"left by a killed load")
    other = tmp_path / ".other.db.stage-live"  # another store's: not ours to touch
    other.mkdir()
    with SQLiteStore(tmp_path / "s.db") as s:
        load(s, DEMO)
    assert staging_dirs(tmp_path) == [other]


@pytest.mark.parametrize("where", ["staging", "merging"])
def test_a_failing_disk_is_a_store_error_and_changes_nothing(tmp_path, monkeypatch, small_chunks, where):
    """SQLite errors while staging or merging (a full disk) come out as one
    StoreError naming the place, and the load is rolled back."""
    import sqlite3

    from skiptrace.errors import StoreError

    with SQLiteStore(tmp_path / "s.db") as s:
        load(s, DEMO, batch_rows=200)
        before = dump(s)
        if where == "staging":
            def broken(*a, **k):
                raise sqlite3.OperationalError("database or disk is full")
            monkeypatch.setattr(sqlite_bulk.Stage, "add", broken)
        else:
            def broken(self, *tables, **k):
                raise sqlite3.OperationalError("database or disk is full")
            monkeypatch.setattr(SQLiteStore, "_merge_tables", broken)
        with pytest.raises(StoreError, match="disk is full") as info:
            load(s, DEMO, batch_rows=200)
        assert ("cannot stage rows" if where == "staging" else "cannot merge staged rows") in str(info.value)
        monkeypatch.undo()
        assert dump(s) == before
    assert staging_dirs(tmp_path) == []
