"""The audit trail: every lookup and every reveal recorded in the store, before output, on both stores."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from skiptrace import audit as audit_lib
from skiptrace.errors import SkiptraceError
from skiptrace.ingest import load
from skiptrace.store import SQLiteStore
from skiptrace_cli.main import cli, main

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "mini"


def test_records_are_kept_and_filtered_on_both_stores(store, monkeypatch):
    monkeypatch.setenv(audit_lib.ACTOR_ENV, "env-actor")
    a = audit_lib.record(store, "find", ["B1", "B2", "B1"])
    b = audit_lib.record(store, "rings show", ["R-1"], revealed=True, purpose="case 42", actor="alice")
    got = audit_lib.events(store)
    assert [e.audit_id for e in got] == [a.audit_id, b.audit_id]
    assert got[0].actor == "env-actor" and got[0].subjects == ["B1", "B2"] and not got[0].revealed
    assert got[1] == b and got[1].revealed and got[1].purpose == "case 42"
    assert [e.audit_id for e in audit_lib.events(store, actor="alice")] == [b.audit_id]
    assert [e.audit_id for e in audit_lib.events(store, subject="B2")] == [a.audit_id]
    assert audit_lib.events(store, since="2999-01-01") == []
    assert len(audit_lib.events(store, since="1h")) == 2
    with pytest.raises(audit_lib.AuditError, match="purpose"):
        audit_lib.record(store, "find", ["B1"], revealed=True)
    assert len(audit_lib.events(store)) == 2
    # the audit trail is not loaded data: counts and ledgers do not see it
    assert store.counts().ledger == {}


def test_sqlite_audit_rows_cannot_be_changed(tmp_path):
    with SQLiteStore(tmp_path / "s.db") as s:
        audit_lib.record(s, "find", ["B1"])
    # the trail is kept in the store's companion file, so a lookup never waits for a load
    conn = sqlite3.connect(str(tmp_path / "s.db") + "-audit")
    for sql in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    conn.close()


def test_a_store_made_before_the_companion_keeps_its_trail(tmp_path):
    """Stores whose audit table is in the main file: its rows are still listed,
    next to the new ones (which go to the companion file)."""
    db = tmp_path / "old.db"
    with SQLiteStore(db):
        pass
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE audit (audit_id TEXT PRIMARY KEY, at TEXT NOT NULL, actor TEXT, "
                 "command TEXT, subjects TEXT, revealed INTEGER, purpose TEXT)")
    conn.execute("INSERT INTO audit VALUES ('old1', '2026-01-01T00:00:00.000000Z', 'eve', 'find', "
                 "'[\"B9\"]', 1, 'case 1')")
    conn.commit()
    conn.close()
    with SQLiteStore(db, create=False) as s:
        new = audit_lib.record(s, "find", ["B1"], actor="ann")
        got = audit_lib.events(s)
    assert [(e.audit_id, e.actor, e.subjects, e.revealed) for e in got] == [
        ("old1", "eve", ["B9"], True), (new.audit_id, "ann", ["B1"], False)]


def _cli(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env or {})


@pytest.fixture
def mini_db(tmp_path) -> str:
    db = str(tmp_path / "mini.db")
    with SQLiteStore(db) as s:
        load(s, MINI)
    return db


def test_reveal_needs_a_purpose_and_is_recorded(mini_db):
    for args in (["find", "B1"], ["export", "--format", "json"], ["rings", "list"]):
        r = _cli(*args, "--db", mini_db, "--reveal")
        assert r.exit_code == 2 and "--purpose" in r.output, (args, r.output)
    with SQLiteStore(mini_db, create=False) as s:
        assert audit_lib.events(s) == []  # a refused reveal shows nothing and records nothing
    r = _cli("find", "B1", "--db", mini_db, "--reveal", "--purpose", "case 7", "--actor", "bob",
             "--format", "json")
    assert r.exit_code == 0, r.output
    r = _cli("find", "B2", "--db", mini_db, "--format", "json", env={"SKIPTRACE_ACTOR": "carol"})
    assert r.exit_code == 0, r.output
    r = _cli("export", "--db", mini_db, "--format", "json")
    assert r.exit_code == 0, r.output
    r = _cli("audit", "--db", mini_db, "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["audit"]
    assert [(x["command"], x["actor"], x["subjects"], x["revealed"], x["purpose"]) for x in rows] == [
        ("find", "bob", ["B1"], True, "case 7"),
        ("find", "carol", ["B2"], False, None),
        ("export", rows[2]["actor"], ["*"], False, None)]
    assert rows[2]["actor"]  # the OS user when neither --actor nor $SKIPTRACE_ACTOR
    r = _cli("audit", "--db", mini_db, "--actor", "bob")
    assert r.exit_code == 0 and "REVEALED" in r.output and "case 7" in r.output
    assert "carol" not in r.output


def test_the_record_is_written_before_output_and_a_failed_write_shows_nothing(mini_db, capsys):
    """A store that refuses the audit row (here a trigger, standing for a full
    disk or a revoked grant): the command fails (exit 2) and prints no result."""
    with SQLiteStore(mini_db, create=False) as s:
        audit_lib.record(s, "find", ["B0"])  # makes the companion file
    conn = sqlite3.connect(mini_db + "-audit")
    conn.execute("CREATE TRIGGER audit_broken BEFORE INSERT ON audit "
                 "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    conn.commit()
    conn.close()
    for args in (["find", "B1", "--format", "json"], ["export", "--format", "json"]):
        code = main([*args, "--db", mini_db])
        out = capsys.readouterr()
        assert code == 2 and out.out == "", args
        assert "cannot write the audit record" in out.err and "disk full" in out.err


@pytest.mark.neo4j
def test_cli_reveal_is_audited_on_neo4j(neo4j_clean):
    env = {"SKIPTRACE_NEO4J_URI": neo4j_clean}
    assert _cli("load", str(MINI), env=env).exit_code == 0
    r = _cli("find", "B1", "--reveal", "--purpose", "case 9", "--actor", "dan", "--format", "json", env=env)
    assert r.exit_code == 0, r.output
    rows = json.loads(_cli("audit", "--format", "json", env=env).output)["audit"]
    assert [(x["command"], x["actor"], x["subjects"], x["revealed"], x["purpose"]) for x in rows] == [
        ("find", "dan", ["B1"], True, "case 9")]


def test_since_accepts_dates_and_spans():
    assert audit_lib.parse_since("2026-01-02") == "2026-01-02T00:00:00.000000Z"
    assert audit_lib.parse_since("2026-01-02T08:00:00+08:00") == "2026-01-02T00:00:00.000000Z"
    with pytest.raises(SkiptraceError):
        audit_lib.parse_since("yesterday")


DEMO = MINI.parent / "demo"


def test_every_revealing_run_appears_in_audit_list(tmp_path):
    """find (one and batch), export, rings show/export and plan, each with --reveal: each
    run is one record in `audit list`, revealed, with its purpose; `audit` alone says the same."""
    db = str(tmp_path / "demo.db")
    assert _cli("load", str(DEMO), "--db", db).exit_code == 0
    r = _cli("rings", "detect", "--db", db, "--format", "json")
    assert r.exit_code == 0, r.output
    ring = json.loads(r.output)["rings"][0]["ring_id"]
    ids = tmp_path / "ids.txt"
    ids.write_text("B000001\nB000002\n")
    runs = [
        (["find", "B000001"], "find", ["B000001"]),
        (["find", "--borrowers-file", str(ids), "--format", "jsonl"], "find", ["B000001", "B000002"]),
        (["export", "--format", "json", "-o", str(tmp_path / "g.json")], "export", ["*"]),
        (["rings", "show", ring], "rings show", [ring]),
        (["rings", "export", ring, "--format", "json"], "rings export", [ring]),
        (["plan", "B000001", "--format", "json"], "plan", ["B000001"]),
    ]
    for n, (args, _, _) in enumerate(runs):
        r = _cli(*args, "--db", db, "--reveal", "--purpose", f"case {n}", "--actor", "zoe")
        assert r.exit_code == 0, (args, r.output)
    r = _cli("audit", "list", "--db", db, "--actor", "zoe", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["audit"]
    assert [(x["command"], x["subjects"], x["revealed"], x["purpose"]) for x in rows] == [
        (command, subjects, True, f"case {n}") for n, (_, command, subjects) in enumerate(runs)]
    assert json.loads(_cli("audit", "--db", db, "--actor", "zoe", "--format", "json").output)["audit"] == rows
    r = _cli("audit", "list", "--db", db, "--borrower", "B000002", "--since", "1h", "--format", "json")
    assert [x["command"] for x in json.loads(r.output)["audit"]] == ["find"]
    r = _cli("audit", "list", "--db", db, "--since", "2999-01-01")
    assert r.exit_code == 0 and "no audit records" in r.output
