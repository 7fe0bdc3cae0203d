"""The loader on both stores: validation, all-or-nothing, idempotence, updates."""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from skiptrace.errors import InputError
from skiptrace.ingest import load
from skiptrace.store import node_id

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "mini"


@pytest.fixture
def mini(tmp_path) -> Path:
    d = tmp_path / "mini"
    shutil.copytree(MINI, d)
    return d


def append(path: Path, line: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def test_load_counts_and_normalisation(store, mini):
    report = load(store, mini)
    c = report.counts.as_dict()
    assert c["nodes"] == {"Address": 2, "Borrower": 3, "Device": 2, "Employer": 1, "Phone": 8}
    assert c["relationships"]["CALLED"] == 3
    assert c["relationships"]["LISTS_CONTACT"] == 7
    assert c["ledger"] == {"contact_attempts": 3, "payments": 1}
    # local notations became E.164 and merged with the E.164 spellings
    sub = store.neighbourhood(node_id("Borrower", "B1"), 1, types=["HAS_PHONE"])
    assert sorted(e.dst for e in sub.edges) == ["Phone:+8613800138000", "Phone:+8613900139000"]
    b3 = store.neighbourhood(node_id("Borrower", "B3"), 1, types=["HAS_PHONE"])
    assert [e.dst for e in b3.edges] == ["Phone:+12127340147"]  # US region of the borrower row
    # the two spellings of one address are one Address node, shared
    addr = store.neighbourhood(node_id("Borrower", "B2"), 2, types=["LIVES_AT"])
    assert node_id("Borrower", "B1") in addr.hops
    # the two spellings of one employer are one Employer with its switchboard phone
    emp = store.neighbourhood(node_id("Employer", "shanghai widget co"), 1)
    assert {e.type for e in emp.edges} == {"EMPLOYED_BY", "HAS_PHONE"}
    assert "Phone:+862161006100" in emp.hops


def test_naive_times_read_in_borrower_timezone(store, mini):
    load(store, mini)
    sub = store.neighbourhood(node_id("Borrower", "B1"), 1, types=["HAS_PHONE"])
    primary = next(e for e in sub.edges if e.props.get("role") == "primary")
    assert primary.props["first_seen"] == "2025-01-09T16:00:00Z"  # Shanghai midnight
    us = store.neighbourhood(node_id("Borrower", "B3"), 1, types=["HAS_PHONE"]).edges[0]
    assert us.props["first_seen"] == "2024-11-01T04:00:00Z"  # New York midnight (EDT)
    call = next(store.stream_edges(["CALLED"]))
    assert call.props["first_at"].endswith("Z")


def test_calls_are_one_relationship_per_pair(store, mini):
    append(mini / "calls.csv", "+8613700137000,+8613800138000,35,40,9000,"
                               "2025-01-12T10:00:00+08:00,2025-11-30T20:00:00+08:00")
    load(store, mini)
    pair = [e for e in store.stream_edges(["CALLED"])
            if {e.src, e.dst} == {"Phone:+8613700137000", "Phone:+8613800138000"}]
    assert len(pair) == 1
    e = pair[0]
    assert e.src == "Phone:+8613700137000"  # the smaller number is the source
    assert (e.props["calls_a_to_b"], e.props["calls_b_to_a"]) == (35, 40)


def test_reload_is_idempotent(store, mini):
    first = load(store, mini).counts.as_dict()
    snap = store.neighbourhood(node_id("Borrower", "B1"), 3)
    ledger = store.ledger("B1")
    second = load(store, mini).counts.as_dict()
    assert first == second
    again = store.neighbourhood(node_id("Borrower", "B1"), 3)
    assert [(e, e.props) for e in snap.edges] == [(e, e.props) for e in again.edges]
    assert snap.nodes == again.nodes
    assert store.ledger("B1") == ledger and len(ledger.attempts) == 2


def test_new_files_add_and_update(store, mini, tmp_path):
    load(store, mini)
    update = tmp_path / "update"
    update.mkdir()
    (update / "borrowers.csv").write_text(
        "borrower_id,status,days_past_due,region,timezone\n"
        "B4,delinquent,10,CN,Asia/Shanghai\n", encoding="utf-8")
    # B1 is only in the store, not in this load's borrowers file: still a known borrower
    (update / "borrower_phones.csv").write_text(
        "borrower_id,phone,role,first_seen,last_seen\n"
        "B1,13800138000,primary,2025-05-01,2026-03-01\n"
        "B4,+8613600136000,primary,2026-01-01,2026-02-01\n", encoding="utf-8")
    report = load(store, update)
    c = report.counts.as_dict()
    assert c["nodes"]["Borrower"] == 4 and c["nodes"]["Phone"] == 9
    sub = store.neighbourhood(node_id("Borrower", "B1"), 1, types=["HAS_PHONE"])
    primary = next(e for e in sub.edges if e.props.get("role") == "primary")
    assert primary.props["last_seen"] == "2026-02-28T16:00:00Z"   # moved forward
    assert primary.props["first_seen"] == "2025-01-09T16:00:00Z"  # earliest kept
    assert primary.props["verified"] is True                     # not erased
    assert store.get_nodes([node_id("Borrower", "B1")])[node_id("Borrower", "B1")]["full_name"] == "Li Wei"


BAD_ROWS = {
    "unparseable phone": ("phonebook.csv", "B2,12ab,Bad,2025-06-02", "contact_phone", "'1***'"),
    "unknown borrower": ("phonebook.csv", "B9,+8613800138001,Bad,2025-06-02", "borrower_id", "B9"),
    "bad enum": ("borrower_phones.csv", "B2,+8613800138002,boss,2025-01-01,2025-02-01,true",
                 "role", "'b***' is not one of"),
    "truncated line": ("borrower_devices.csv", "B2,dev-zz", None, "expected 4 fields"),
    "bad number": ("borrowers.csv", "B7,Ann,current,-3,1,CNY,2025-01-01,Asia/Shanghai,CN,false,false",
                   "days_past_due", "minimum"),
    "bad time": ("payments.csv", "B1,yesterday,10", "paid_at", "ISO 8601"),
    "same phone twice in a call": ("calls.csv", "+8613800138000,13800138000,1,1,1,,", None, "same number"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_row_writes_nothing(store, mini, case):
    load(store, mini)
    before = store.counts().as_dict()
    fname, row, column, needle = BAD_ROWS[case]
    lines_before = len((mini / fname).read_text(encoding="utf-8").splitlines())
    append(mini / fname, row)
    # and a good new borrower that must not be written either
    append(mini / "borrowers.csv", "B8,New Person,current,0,1,CNY,2025-01-01,Asia/Shanghai,CN,false,false")
    with pytest.raises(InputError) as info:
        load(store, mini)
    problems = info.value.problems
    assert len(problems) == 1, problems
    p = problems[0]
    assert p.file == fname and p.line == lines_before + 1 and p.column == column
    assert needle in p.reason
    assert store.counts().as_dict() == before
    assert store.existing_keys("Borrower", ["B8"]) == set()


def test_missing_required_column(store, mini):
    (mini / "calls.extra.csv").write_text("phone_a,calls_a_to_b\n+8613800138000,3\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load(store, mini)
    (p,) = info.value.problems
    assert (p.file, p.line, p.column) == ("calls.extra.csv", 1, "phone_b")
    assert "missing required column" in p.reason
    assert store.counts().as_dict() == {"nodes": {}, "relationships": {}, "ledger": {}}


def test_truncated_jsonl_line(store, mini):
    with open(mini / "emergency_contacts.jsonl", "a", encoding="utf-8") as f:
        f.write('{"borrower_id": "B1", "contact_phone": "+86137')
    with pytest.raises(InputError) as info:
        load(store, mini)
    (p,) = info.value.problems
    assert (p.file, p.line) == ("emergency_contacts.jsonl", 4)
    assert "invalid JSON" in p.reason


def test_every_error_is_reported_up_to_the_cap(sqlite_store, mini):
    for i in range(10):
        append(mini / "phonebook.csv", f"B2,bad{i},X,2025-06-02")
    with pytest.raises(InputError) as info:
        load(sqlite_store, mini)
    assert len(info.value.problems) == 10 and not info.value.stopped
    with pytest.raises(InputError) as info:
        load(sqlite_store, mini, max_errors=4)
    assert len(info.value.problems) == 4 and info.value.stopped
    assert str(info.value.problems[0]).startswith("phonebook.csv:6:contact_phone: ")


def test_unknown_columns_need_the_flag(sqlite_store, mini):
    text = (mini / "payments.csv").read_text(encoding="utf-8").splitlines()
    text = [text[0] + ",note"] + [r + ",x" for r in text[1:]]
    (mini / "payments.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load(sqlite_store, mini)
    assert info.value.problems[0].column == "note"
    report = load(sqlite_store, mini, allow_extra_columns=True)
    assert report.counts.ledger["payments"] == 1


def test_gzip_and_jsonl_inputs(sqlite_store, mini):
    raw = (mini / "phonebook.csv").read_bytes()
    (mini / "phonebook.csv").unlink()
    with gzip.open(mini / "phonebook.csv.gz", "wb") as f:
        f.write(raw)
    rows = [json.loads(x) for x in (mini / "emergency_contacts.jsonl").read_text().splitlines()]
    rows[0]["listed_at"] = None  # JSON null is a missing value
    (mini / "emergency_contacts.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = load(sqlite_store, mini)
    assert report.files["phonebook.csv.gz"] == 4
    assert report.counts.relationships["LISTS_CONTACT"] == 7


def test_no_borrowers_file(sqlite_store, tmp_path):
    (tmp_path / "calls.csv").write_text("phone_a,phone_b\n+8613800138000,+8613700137000\n")
    with pytest.raises(InputError) as info:
        load(sqlite_store, tmp_path)
    assert "no borrowers file" in info.value.problems[0].reason


# -- the acceptance criteria on the committed demo world ---------------------------

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"

DEMO_BAD_ROWS = {
    "unparseable phone": ("phonebook.csv", "B000001,12ab,X,2026-04-02T10:04:28", "contact_phone"),
    "unknown borrower": ("phonebook.csv", "B999999,+8613800138000,X,2026-04-02T10:04:28",
                         "borrower_id"),
    "bad enum": ("emergency_contacts.csv", "B000001,+8613800138000,X,landlord,2024-12-11T07:18:20",
                 "relation"),
    "truncated line": ("borrower_devices.csv", "B000001,dev-zz,2025-02", None),
}


@pytest.fixture(scope="module")
def demo_stats_sqlite(tmp_path_factory):
    from skiptrace.store import SQLiteStore

    with SQLiteStore(tmp_path_factory.mktemp("demo") / "s.db") as s:
        return load(s, DEMO).counts.as_dict()


def test_demo_loads_twice_with_identical_stats(store, demo_stats_sqlite):
    first = load(store, DEMO).counts.as_dict()
    assert all(first["nodes"][label] > 0 for label in ("Borrower", "Phone", "Device", "Address", "Employer"))
    assert load(store, DEMO).counts.as_dict() == first
    assert first == demo_stats_sqlite  # both stores hold the same graph


@pytest.mark.parametrize("case", sorted(DEMO_BAD_ROWS) + ["missing required column"])
def test_demo_with_one_bad_row_changes_nothing(store, tmp_path, case):
    load(store, DEMO)
    before = store.counts().as_dict()
    bad = tmp_path / "demo"
    shutil.copytree(DEMO, bad)
    if case == "missing required column":
        lines = (bad / "calls.csv").read_text(encoding="utf-8").splitlines()
        header = lines[0].split(",")
        keep = [i for i, h in enumerate(header) if h != "phone_b"]
        (bad / "calls.csv").write_text("\n".join(",".join(r.split(",")[i] for i in keep)
                                                 for r in lines) + "\n", encoding="utf-8")
        fname, line, column = "calls.csv", 1, "phone_b"
    else:
        fname, row, column = DEMO_BAD_ROWS[case]
        line = len((bad / fname).read_text(encoding="utf-8").splitlines()) + 1
        append(bad / fname, row)
    with pytest.raises(InputError) as info:
        load(store, bad)
    p = info.value.problems[0]
    assert (p.file, p.line, p.column) == (fname, line, column), info.value.problems
    assert store.counts().as_dict() == before


def test_incremental_load_reads_store_borrowers_once_it_needs_many(store, tmp_path, monkeypatch,
                                                                   demo_stats_sqlite):
    """A load whose rows reference borrowers already in the store looks the
    first few up one by one, then reads them all in one pass; the result is
    the same as loading everything at once, and an unknown borrower is still
    an error."""
    from skiptrace.ingest import loader

    first, rest = tmp_path / "borrowers", tmp_path / "rest"
    first.mkdir()
    shutil.copytree(DEMO, rest)
    shutil.move(rest / "borrowers.csv", first / "borrowers.csv")
    header = (first / "borrowers.csv").read_text(encoding="utf-8").splitlines()[0]
    (rest / "borrowers.csv").write_text(header + "\n", encoding="utf-8")
    load(store, first)

    monkeypatch.setattr(loader._Borrowers, "PRELOAD_AFTER", 5)
    single = []
    get_nodes = store.get_nodes
    monkeypatch.setattr(store, "get_nodes", lambda ids: single.append(list(ids)) or get_nodes(ids))
    load(store, rest)
    passes = 2 if store.validate_first else 1  # Neo4j: a validation pass, then the write pass
    assert len(single) == 5 * passes  # then one read of all the store's borrowers per pass
    assert store.counts().as_dict() == demo_stats_sqlite

    append(rest / "phonebook.csv", "B999999,+8613800138000,X,2026-04-02T10:04:28")
    with pytest.raises(InputError) as info:
        load(store, rest)
    assert info.value.problems[0].column == "borrower_id"
    assert store.counts().as_dict() == demo_stats_sqlite


def test_attempt_script_and_propensity_reach_the_ledger(store, mini, tmp_path):
    # the mini files have neither column: they load and their attempts carry neither key
    load(store, mini)
    before = store.ledger("B1").attempts
    assert before and all("script" not in a and "propensity" not in a for a in before)
    more = tmp_path / "more"
    shutil.copytree(mini, more)
    (more / "contact_attempts.csv").write_text(
        "attempt_id,borrower_id,channel,at,target_role,connected,outcome,script,propensity\n"
        "A90,B1,ai_call,2026-02-01T10:00:00,borrower,true,promise_to_pay,negotiation,0.0375\n"
        "A91,B1,sms,2026-02-02T10:00:00,borrower,false,no_answer,,0.25\n", encoding="utf-8")
    load(store, more)
    got = {a["attempt_id"]: a for a in store.ledger("B1").attempts}
    assert got["A90"]["script"] == "negotiation" and got["A90"]["propensity"] == pytest.approx(0.0375)
    assert isinstance(got["A90"]["propensity"], float)
    assert "script" not in got["A91"] and got["A91"]["propensity"] == pytest.approx(0.25)
    streamed = {a["attempt_id"]: a for a in store.stream_ledger("contact_attempts")}
    assert streamed["A90"] == got["A90"] and streamed["A91"] == got["A91"]
    # an unknown script is refused like any other bad enum value
    (more / "contact_attempts.csv").write_text(
        "attempt_id,borrower_id,channel,at,script\nA92,B1,ai_call,2026-02-03T10:00:00,threaten\n",
        encoding="utf-8")
    with pytest.raises(InputError, match="script"):
        load(store, more)


def test_sqlite_store_of_the_older_layout_gains_the_attempt_columns(tmp_path, mini):
    import sqlite3
    from skiptrace.store.sqlite import SQLiteStore
    path = tmp_path / "old.db"
    SQLiteStore(path).close()
    con = sqlite3.connect(path)  # make it look like a store written before the columns existed
    con.execute("ALTER TABLE attempt DROP COLUMN script")
    con.execute("ALTER TABLE attempt DROP COLUMN propensity")
    con.commit()
    con.close()
    s = SQLiteStore(path)
    try:
        load(s, mini)
        assert len(s.ledger("B1").attempts) == 2
    finally:
        s.close()
