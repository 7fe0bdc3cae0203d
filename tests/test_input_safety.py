"""Bad input and hostile data: masked error messages, spreadsheet-safe CSV, gzip and
encoding errors, strict phone validity, bad options, and batch find that goes on."""
from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from skiptrace.csvsafe import escape_cell
from skiptrace.errors import InputError
from skiptrace.ingest import load
from skiptrace.ingest.normalise import PhoneNormaliser
from skiptrace.store import SQLiteStore
from skiptrace_cli.main import main

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "mini"
EVIL = "=cmd|' /C calc'!A0"


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _world(tmp_path: Path) -> Path:
    w = tmp_path / "w"
    shutil.copytree(MINI, w)
    return w


# -- 3. error messages never repeat raw cells -----------------------------------------------
def test_errors_show_masked_cells_with_file_line_and_field(tmp_path, capsys):
    w = _world(tmp_path)
    with open(w / "borrowers.csv", "a", encoding="utf-8") as f:
        f.write("B9,Zhao Min,delinquent,lots,12.5,CNY,2025-01-01,Asia/Shanghai,CN,maybe,false\n")
    with open(w / "phonebook.csv", "a", encoding="utf-8") as f:
        f.write("B1,+86 139 1234 5678 ext,Zhao Min,2025-01-01\n")
        f.write("B1,13912345678,Zhao Min,Room 12 Huaihai Road Shanghai\n")
    code, out, err = _run(capsys, "load", w, "--db", tmp_path / "s.db")
    assert code == 2 and out == ""
    assert "borrowers.csv:5:days_past_due: not an integer: 'l***'" in err
    assert "borrowers.csv:5:attorney_known: not a boolean: 'm****'" in err
    assert "phonebook.csv:6:contact_phone:" in err and "phonebook.csv:7:captured_at:" in err
    for raw in ("lots", "maybe", "1234 5678", "13912345678", "Huaihai", "Room 12"):
        assert raw not in err, raw


def test_a_file_without_header_does_not_echo_its_first_row(tmp_path, capsys):
    w = _world(tmp_path)
    rows = (w / "phonebook.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (w / "phonebook.csv").write_text("".join(rows[1:]), encoding="utf-8")
    code, out, err = _run(capsys, "load", w, "--db", tmp_path / "s.db")
    assert code == 2 and "phonebook.csv:1: the first line is not a header" in err
    assert "+8613700137000" not in err and "Dad" not in err


# -- 4. spreadsheet-safe CSV ----------------------------------------------------------------
def test_cells_that_start_a_formula_are_escaped():
    for bad in ("=1+1", "+8613800138000", "-2", "@SUM(A1)", "\tx", "\rx", EVIL):
        assert escape_cell(bad) == "'" + bad
    for ok in ("Li Wei", "B1", 0.5, -3, None, ""):
        assert escape_cell(ok) == ok


@pytest.mark.parametrize("reveal", [False, True])
def test_find_csv_escapes_a_formula_contact_name(tmp_path, capsys, reveal):
    w = _world(tmp_path)
    with open(w / "emergency_contacts.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["borrower_id", "contact_phone", "contact_name", "relation", "listed_at"],
                                 ["B1", "+8613512345678", EVIL, "friend", "2025-06-01"]])
    db = tmp_path / "s.db"
    assert _run(capsys, "load", w, "--db", db)[0] == 0
    extra = ["--reveal", "--purpose", "csv test"] if reveal else []
    code, out, err = _run(capsys, "find", "B1", "--db", db, "--format", "csv", "--limit", "100", *extra)
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][0] == "borrower_id" and len(rows) > 2
    cells = [c for r in rows for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    names = [r[4] for r in rows[1:]]
    if reveal:
        assert "'" + EVIL in names
    else:
        assert any(n.startswith("'=") for n in names) and EVIL not in out
    assert any(r[3].startswith("'+86") for r in rows[1:])  # phones begin with + too


# -- 6. input errors -------------------------------------------------------------------------
def _gz_world(tmp_path: Path, damage) -> Path:
    w = _world(tmp_path)
    data = (w / "calls.csv").read_bytes()
    (w / "calls.csv").unlink()
    (w / "calls.csv.gz").write_bytes(damage(gzip.compress(data * 40, mtime=0)))
    return w


@pytest.mark.parametrize("damage,reason", [
    (lambda b: b[: len(b) // 2], "truncated gzip"),
    (lambda b: b[:-8] + bytes([b[-8] ^ 0xFF]) + b[-7:], "CRC"),
    (lambda b: b"this is not gzip at all\n" * 10, "not a gzip file"),
    (lambda b: b[:30] + bytes(x ^ 0x5A for x in b[30:90]) + b[90:], "corrupt gzip"),
])
def test_gzip_errors_are_one_line_naming_file_and_reason(tmp_path, capsys, damage, reason):
    w = _gz_world(tmp_path, damage)
    db = tmp_path / "s.db"
    code, out, err = _run(capsys, "load", w, "--db", db)
    assert code == 2, err
    lines = [x for x in err.splitlines() if x.strip()]
    assert lines[0].startswith("error: 1 input error(s)"), err
    assert "calls.csv.gz" in lines[1] and reason.lower() in lines[1].lower(), err
    assert len(lines) == 2 and "Traceback" not in err and "internal error" not in err
    assert not db.exists()


def test_a_bad_byte_is_reported_at_its_own_line(tmp_path):
    w = _world(tmp_path)
    rows = (w / "phonebook.csv").read_bytes().splitlines(keepends=True)
    extra = [f"B2,+86139000{i:05d},Friend {i},2025-06-02\n".encode() for i in range(30)]
    extra[14] = "B2,+8613900099999,Jos\u00e9,2025-06-02\n".encode("latin-1")
    (w / "phonebook.csv").write_bytes(b"".join(rows + extra))
    bad_line = len(rows) + 15
    with SQLiteStore(tmp_path / "s.db") as s, pytest.raises(InputError) as err:
        load(s, w)
    assert [str(p) for p in err.value.problems] == [
        f"phonebook.csv:{bad_line}: not UTF-8: byte 0xe9 at byte 22 of the line (invalid continuation byte)"]


def test_a_bad_byte_in_jsonl_is_reported_at_its_own_line(tmp_path):
    w = tmp_path / "j"
    w.mkdir()
    lines = [json.dumps({"borrower_id": f"B{i}"}).encode() + b"\n" for i in range(40)]
    lines[19] = b'{"borrower_id": "B19", "full_name": "Jos\xe9"}\n'
    (w / "borrowers.jsonl").write_bytes(b"".join(lines))
    with SQLiteStore(tmp_path / "s.db") as s, pytest.raises(InputError) as err:
        load(s, w)
    assert err.value.problems[0].line == 20 and "not UTF-8" in err.value.problems[0].reason


@pytest.mark.parametrize("raw", ["+861381234567890", "138123456789012", "1381234567", "+861381234567"])
def test_invalid_chinese_mobiles_are_rejected_with_the_value_masked(raw):
    with pytest.raises(ValueError) as err:
        PhoneNormaliser()(raw, "CN")
    assert raw not in str(err.value) and raw.lstrip("+") not in str(err.value)
    assert "phone" in str(err.value)


def test_valid_numbers_still_load():
    n = PhoneNormaliser()
    assert n("138 0013 8000", "CN") == "+8613800138000"
    assert n("+8613800138000", "CN") == "+8613800138000"
    assert n("021 6100 6100", "CN") == "+862161006100"
    assert n("(212) 734-0147", "US") == "+12127340147"


@pytest.mark.parametrize("args,needle", [
    (["--default-region", "ZZ"], "unknown region"),
    (["--default-timezone", "Mars/Base"], "unknown timezone"),
])
def test_bad_load_options_exit_2_and_create_no_file(tmp_path, capsys, args, needle):
    db = tmp_path / "s.db"
    code, out, err = _run(capsys, "load", MINI, "--db", db, *args)
    assert code == 2 and needle in err and len(err.strip().splitlines()) <= 2, err
    assert "internal error" not in err and not db.exists()


def test_a_failed_first_load_leaves_no_store_file(tmp_path, capsys):
    w = _world(tmp_path)
    with open(w / "borrowers.csv", "a", encoding="utf-8") as f:
        f.write("B9,X,nonsense,0,0,CNY,2025-01-01,Asia/Shanghai,CN,false,false\n")
    db = tmp_path / "s.db"
    code, _, err = _run(capsys, "load", w, "--db", db)
    assert code == 2 and "borrowers.csv:5:status" in err and not db.exists()


def test_bad_as_of_is_a_usage_error(tmp_path, capsys):
    db = tmp_path / "s.db"
    assert _run(capsys, "load", MINI, "--db", db)[0] == 0
    code, out, err = _run(capsys, "find", "B1", "--db", db, "--as-of", "last tuesday")
    assert code == 2 and "--as-of" in err and "ISO 8601" in err and out == ""
    assert "internal error" not in err


# -- 7. batch find ---------------------------------------------------------------------------
@pytest.fixture
def mini_db(tmp_path, capsys) -> Path:
    db = tmp_path / "m.db"
    assert _run(capsys, "load", MINI, "--db", db)[0] == 0
    return db


def test_batch_find_records_unknown_ids_and_goes_on(tmp_path, capsys, mini_db):
    ids = tmp_path / "ids.txt"
    ids.write_text("B1\nNOPE\nB2\n# a comment\nB404\nB3\n", encoding="utf-8")
    code, out, err = _run(capsys, "find", "--borrowers-file", ids, "--db", mini_db, "--format", "jsonl")
    assert code == 3 and "2 of 5 borrowers not found" in err  # 3: finished, some ids failed
    recs = [json.loads(x) for x in out.splitlines()]
    assert [r["borrower_id"] for r in recs] == ["B1", "NOPE", "B2", "B404", "B3"]
    assert recs[1] == {"borrower_id": "NOPE", "error": "unknown borrower"}
    assert recs[3] == {"borrower_id": "B404", "error": "unknown borrower"}
    assert all("candidates" in recs[i] for i in (0, 2, 4))
    code, out, err = _run(capsys, "find", "--borrowers-file", ids, "--db", mini_db, "--format", "csv")
    assert code == 3 and "error: NOPE: unknown borrower" in err and "error: B404" in err
    assert {r[0] for r in list(csv.reader(io.StringIO(out)))[1:]} == {"B1", "B2", "B3"}
    ids.write_text("B1\nB2\n", encoding="utf-8")
    code, out, err = _run(capsys, "find", "--borrowers-file", ids, "--db", mini_db, "--format", "jsonl")
    assert code == 0 and err == "" and len(out.splitlines()) == 2


def test_batch_find_progress_bar_goes_to_stderr_only(tmp_path, mini_db):
    """With stderr on a terminal (a pty here) the bar is drawn there, and every record
    stays on stdout (a pipe); without a terminal there is no bar."""
    import os
    import pty
    import subprocess
    import sys

    ids = tmp_path / "ids.txt"
    ids.write_text("B1\nNOPE\nB3\n", encoding="utf-8")
    args = [sys.executable, "-m", "skiptrace_cli.main", "find", "--borrowers-file", str(ids), "--db",
            str(mini_db), "--format", "jsonl"]
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=slave, env={**os.environ, "COLUMNS": "100"})
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    out = proc.stdout.read().decode()
    assert proc.wait() == 3
    os.close(master)
    assert [json.loads(x)["borrower_id"] for x in out.splitlines()] == ["B1", "NOPE", "B3"]
    assert "3/3" in err.decode(errors="replace") and "1 of 3 borrowers not found" in err.decode()
    plain = subprocess.run(args, capture_output=True, text=True)
    assert plain.returncode == 3 and plain.stdout == out
    assert plain.stderr.strip() == "error: 1 of 3 borrowers not found"


def test_batch_find_reads_standard_input(mini_db):
    from skiptrace_cli.main import cli

    r = CliRunner().invoke(cli, ["find", "--borrowers-file", "-", "--db", str(mini_db), "--format", "jsonl"],
                           input="B2\nB1\n")
    assert r.exit_code == 0, r.output
    assert [json.loads(x)["borrower_id"] for x in r.output.splitlines()] == ["B2", "B1"]
