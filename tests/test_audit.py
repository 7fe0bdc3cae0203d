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
    conn = sqlite3.connect(tmp_path / "s.db")
    for sql in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    conn.close()


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
    conn = sqlite3.connect(mini_db)
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
