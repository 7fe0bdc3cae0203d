"""Readers during a load see the state before it or after it, never a mix, on both stores.

Every reader that makes several queries (rings detect's projection, rings list/show, export,
plan, the console's pages) reads through ``GraphStore.consistent``. To test that without
timing luck, a load (or a rings save) is published from a second connection exactly between
two of the reader's queries: the reader's store object runs it just before a chosen query
(a hook on that store method; the database is the real one). On SQLite the reader is in a
WAL snapshot and sees the state before; on Neo4j it notices the new ``last_load`` and reads
again, seeing the state after. Without the mechanism it would see a mix, which each test
checks is different from both (so the test can fail). Small worlds: seconds, not minutes.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import warnings
from pathlib import Path

import pytest

from skiptrace import rings as rings_lib
from skiptrace.export import export
from skiptrace.ingest import load
from skiptrace.rings.model import Ring
from skiptrace.store import SQLiteStore, open_store

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "fixtures" / "mini"


def _open(kind: str, request, tmp_path: Path):
    if kind == "sqlite":
        return SQLiteStore(tmp_path / "store.db")
    return open_store(neo4j_uri=request.getfixturevalue("neo4j_clean"),
                      neo4j_user=os.environ.get("SKIPTRACE_TEST_NEO4J_USER", "neo4j"),
                      neo4j_password=os.environ.get("SKIPTRACE_TEST_NEO4J_PASSWORD", ""))


@pytest.fixture(params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def pair(request, tmp_path):
    """(reader, writer): two connections to one empty store."""
    reader = _open(request.param, request, tmp_path)
    writer = SQLiteStore(tmp_path / "store.db") if request.param == "sqlite" else \
        open_store(neo4j_uri=reader.uri, neo4j_user=reader.user,
                   neo4j_password=os.environ.get("SKIPTRACE_TEST_NEO4J_PASSWORD", ""))
    try:
        yield reader, writer
    finally:
        writer.close()
        reader.close()


@pytest.fixture(scope="module")
def world_b(tmp_path_factory) -> Path:
    """A second extract: four new delinquent borrowers sharing one device and one address with
    the three of fixtures/mini (whose statuses it updates), and a later attempt on B1."""
    out = tmp_path_factory.mktemp("world-b")
    (out / "borrowers.csv").write_text(
        "borrower_id,full_name,status,days_past_due,balance,currency,opened_at,timezone,region\n"
        + "".join(f"X{i},Zhao Lei{i},delinquent,60,5000,CNY,2025-06-0{i},Asia/Shanghai,CN\n"
                  for i in range(1, 5))
        + "B1,Li Wei,delinquent,75,12000.50,CNY,2025-01-10,Asia/Shanghai,CN\n"
        + "B2,Wang Fang,delinquent,30,3000,CNY,2025-02-11T09:30:00,Asia/Shanghai,CN\n",
        encoding="utf-8")
    holders = ["X1", "X2", "X3", "X4", "B1", "B2", "B3"]
    (out / "borrower_devices.csv").write_text(
        "borrower_id,device_id,first_seen,last_seen\n"
        + "".join(f"{b},dev-shared,2025-07-01,2026-01-25\n" for b in holders), encoding="utf-8")
    (out / "borrower_addresses.csv").write_text(
        "borrower_id,address,kind,first_seen,last_seen\n"
        + "".join(f"{b},8 Ring Road Flat 2,home,2025-07-01,2026-01-25\n" for b in holders),
        encoding="utf-8")
    (out / "borrower_phones.csv").write_text(
        "borrower_id,phone,role,first_seen,last_seen,verified\n"
        + "".join(f"X{i},+861380000100{i},primary,2025-06-01,2026-01-25,true\n" for i in range(1, 5))
        + "B1,+8613600136000,secondary,2026-01-20,2026-01-28,true\n", encoding="utf-8")
    (out / "contact_attempts.csv").write_text(
        "attempt_id,borrower_id,channel,at,target_phone,target_role,connected,outcome\n"
        "A9,B1,sms,2026-01-28T10:00:00,+8613600136000,borrower,true,reached_borrower\n",
        encoding="utf-8")
    return out


def publish_during(monkeypatch, reader, method: str, publish, nth: int = 1) -> dict:
    """Make ``reader`` run ``publish()`` (a whole load on another connection) just before its
    ``nth`` call of ``method`` reaches the database; returns a dict counting the calls."""
    original = getattr(reader, method)
    seen = {"calls": 0, "published": 0}

    def hooked(*args, **kwargs):
        seen["calls"] += 1
        if seen["calls"] == nth:
            publish()
            seen["published"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(reader, method, hooked)
    return seen


def _one_of(mid, before, after, kind: str) -> None:
    assert before != after, "the test's load changes nothing: it could not see a mix"
    expected = before if kind == "sqlite" else after  # a snapshot / a read run again
    assert mid == expected, "a reader saw a mix of the states before and after a load"


def _export(store) -> str:
    out = io.StringIO()
    export(store, out, fmt="json")
    return out.getvalue()


def test_export_during_a_load(pair, world_b, monkeypatch):
    reader, writer = pair
    load(writer, MINI)
    before = _export(reader)
    seen = publish_during(monkeypatch, reader, "stream_edges", lambda: load(writer, world_b))
    mid = _export(reader)
    monkeypatch.undo()
    after = _export(reader)
    assert seen["published"] == 1
    json.loads(mid)  # one whole document, not a torn one and another
    _one_of(mid, before, after, reader.kind)


def test_rings_list_during_a_save(pair, monkeypatch):
    reader, writer = pair
    load(writer, MINI)
    rings_lib.save(writer, [Ring("R-old", "fraud", 0.9, ["B1", "B2"])])
    before = [r.to_json() for r in rings_lib.load(reader)]
    seen = publish_during(monkeypatch, reader, "incident_edges", lambda: rings_lib.save(
        writer, [Ring("R-new", "anti_collection", 0.8, ["B2", "B3"])]))
    mid = [r.to_json() for r in rings_lib.load(reader)]
    monkeypatch.undo()
    after = [r.to_json() for r in rings_lib.load(reader)]
    assert seen["published"] == 1
    _one_of(mid, before, after, reader.kind)


def _rings(store) -> list:
    return [r.to_json() for r in rings_lib.detect(store)]


def test_rings_detect_during_a_load(pair, world_b, monkeypatch):
    reader, writer = pair
    load(writer, MINI)
    before = _rings(reader)
    # after the borrowers' stream, before the identifiers' one
    seen = publish_during(monkeypatch, reader, "stream_edge_columns", lambda: load(writer, world_b))
    mid = _rings(reader)
    monkeypatch.undo()
    after = _rings(reader)
    assert seen["published"] == 1 and after
    _one_of(mid, before, after, reader.kind)


@pytest.fixture(scope="module")
def response_model():
    """A response model fitted once on the demo world (plans need one; mini's ledger is tiny)."""
    from skiptrace.plan.uplift import learn

    with SQLiteStore(":memory:") as s:
        load(s, REPO / "fixtures" / "demo")
        return learn(s, max_iter=30)


def _plan(store, model) -> dict:
    from skiptrace.plan import plan

    return plan(store, ["B1"], model=model)[0].to_dict()


def test_plan_during_a_load(pair, world_b, response_model, monkeypatch):
    reader, writer = pair
    load(writer, MINI)
    before = _plan(reader, response_model)
    # after as_of is read from the ledger, before the ego graph
    seen = publish_during(monkeypatch, reader, "neighbourhoods", lambda: load(writer, world_b))
    mid = _plan(reader, response_model)
    monkeypatch.undo()
    after = _plan(reader, response_model)
    assert seen["published"] == 1
    _one_of(mid, before, after, reader.kind)


def _borrower_page(store) -> tuple:
    from skiptrace.console import views

    page = views.borrower_page(store, "B1", reveal_all=True)
    return page.facts, page.find


def test_console_borrower_page_during_a_load(pair, world_b, monkeypatch):
    reader, writer = pair
    load(writer, MINI)
    before = _borrower_page(reader)
    # after the account facts, before find's ego graph
    seen = publish_during(monkeypatch, reader, "ledger", lambda: load(writer, world_b))
    mid = _borrower_page(reader)
    monkeypatch.undo()
    after = _borrower_page(reader)
    assert seen["published"] == 1
    _one_of(mid, before, after, reader.kind)


def test_serve_sees_each_load_as_it_is_published(tmp_path, world_b, monkeypatch):
    """`skiptrace serve` on SQLite reads a fresh state per request (it used to hold the
    snapshot of its start for its whole life, never seeing a later load)."""
    warnings.filterwarnings("ignore", message=".*httpx.*")
    from starlette.testclient import TestClient

    import uvicorn
    from skiptrace.console.users import add_user
    from skiptrace_cli.main import main

    db, users = tmp_path / "book.db", tmp_path / "users.json"
    with SQLiteStore(db) as s:
        load(s, MINI)
    add_user(users, "ivy", "investigator", "pw")
    served = {}

    def run(app, **_kwargs):  # instead of a server: requests while the command runs
        with TestClient(app, follow_redirects=False) as c:
            token = c.get("/api/session").json()["csrf_token"]
            c.post("/login", data={"csrf": token, "username": "ivy", "password": "pw"})
            served["before"] = c.get("/api/borrowers/X1/find").status_code
            with SQLiteStore(db) as other:
                load(other, world_b)
            served["after"] = c.get("/api/borrowers/X1/find").status_code

    monkeypatch.setattr(uvicorn, "run", run)
    assert main(["serve", "--db", str(db), "--users", str(users)]) == 0
    assert served == {"before": 404, "after": 200}
