"""`skiptrace doctor` on both stores, and the SkiptraceMeta key constraint."""
from __future__ import annotations

import json

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import ConstraintError

from skiptrace.ingest import load
from skiptrace.store import SQLiteStore, open_store
from skiptrace_cli.main import main

from conftest import DEMO


def _doctor(capsys, *args: str) -> tuple[int, dict]:
    rc = main(["doctor", "--format", "json", *args])
    return rc, json.loads(capsys.readouterr().out)


def test_doctor_sqlite_removes_a_dead_loads_scratch_dir(tmp_path, capsys):
    db = tmp_path / "book.db"
    SQLiteStore(db).close()
    stale = tmp_path / ".book.db.stage-abc123"  # what a load killed mid-way leaves
    stale.mkdir()
    (stale / "chunk0.db").write_bytes(b"x")
    rc, out = _doctor(capsys, "--db", str(db), "--check-only")
    assert rc == 3 and not out["ok"] and stale.exists()
    bad = [c for c in out["checks"] if not c["ok"]]
    assert [c["name"] for c in bad] == ["scratch files of dead loads"]
    rc, out = _doctor(capsys, "--db", str(db))
    assert rc == 0 and out["ok"] and out["removed"] == [str(stale)] and not stale.exists()
    assert {c["name"]: c["ok"] for c in out["checks"]}["schema version"]


def test_doctor_sqlite_builds_the_degree_table_of_an_older_store(tmp_path, capsys):
    import sqlite3

    db = tmp_path / "book.db"
    with SQLiteStore(db) as store:
        load(store, DEMO)
    conn = sqlite3.connect(db)  # as a store of layout 2 (before the degree table) was
    conn.execute("DELETE FROM degree")
    conn.execute("DELETE FROM meta WHERE key = 'degree_table'")
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'sqlite_layout'")
    conn.commit()
    conn.close()
    rc, out = _doctor(capsys, "--db", str(db), "--check-only")
    checks = {c["name"]: c for c in out["checks"]}
    assert rc == 0 and checks["degree table"]["detail"].startswith("not built")
    rc, out = _doctor(capsys, "--db", str(db))
    assert rc == 0 and {c["name"]: c for c in out["checks"]}["degree table"]["detail"].startswith(
        "built now")
    with SQLiteStore(db) as store:
        assert store.degrees_kept()
        nodes = sorted({n for e in store.stream_edges() for n in (e.src, e.dst)})
        want: dict[str, int] = {}
        for e in store.stream_edges():
            for end in (e.src, e.dst):
                want[end] = want.get(end, 0) + 1
        assert store.degrees(nodes) == want


@pytest.mark.neo4j
def test_doctor_neo4j_reports_schema_constraints_and_last_load(neo4j_clean, capsys):
    with open_store(neo4j_uri=neo4j_clean) as store:
        load(store, DEMO)
        last = store.last_load()
    rc, out = _doctor(capsys, "--neo4j", neo4j_clean)
    assert rc == 0 and out["ok"], out
    checks = {c["name"]: c["detail"] for c in out["checks"]}
    assert checks["schema version"].startswith("1 ")
    assert checks["loads running"] == "none"
    assert last["id"] in checks["last published load"]
    assert checks["constraints and indexes"].startswith("13 of 13 online")
    rc = main(["doctor", "--neo4j", neo4j_clean])
    text = capsys.readouterr().out
    assert rc == 0 and text.rstrip().endswith("healthy") and "constraints and indexes" in text


@pytest.mark.neo4j
def test_meta_key_is_unique_on_neo4j(neo4j_clean):
    with open_store(neo4j_uri=neo4j_clean) as store:
        store.apply_schema()
        assert "skiptrace_meta_key" in store.health_facts()["online"]
    with GraphDatabase.driver(neo4j_clean) as driver:
        with pytest.raises(ConstraintError):
            driver.execute_query("CREATE (:SkiptraceMeta {key: 'schema'})")
