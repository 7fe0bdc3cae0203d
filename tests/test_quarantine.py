"""`load --on-error quarantine --rejects FILE`: the valid rows load, every rejected row is
listed (file, line, column, reason, cells masked), rows of a rejected borrower are rejected
too; the default stays all or nothing."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from skiptrace.ingest import load
from skiptrace.store import SQLiteStore
from skiptrace_cli.main import main

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "mini"


@pytest.fixture
def bad_world(tmp_path) -> Path:
    w = tmp_path / "w"
    shutil.copytree(MINI, w)
    b = (w / "borrowers.csv").read_text(encoding="utf-8").splitlines()
    # line 3 (B2): a bad timezone; B2's phones, phonebook rows, ... depend on it
    b[2] = b[2].replace("Asia/Shanghai", "Mars/Base")
    (w / "borrowers.csv").write_text("\n".join(b) + "\n", encoding="utf-8")
    p = (w / "borrower_phones.csv").read_text(encoding="utf-8").splitlines()
    p[2] = p[2].replace("+8613900139000", "+86 139 0013 900")  # line 3 (B1): too short a number
    (w / "borrower_phones.csv").write_text("\n".join(p) + "\n", encoding="utf-8")
    return w


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_default_stays_all_or_nothing(bad_world, tmp_path, capsys):
    db = tmp_path / "s.db"
    assert main(["load", str(bad_world), "--db", str(db)]) == 2
    assert "nothing was written" in capsys.readouterr().err
    assert not db.exists()


def test_quarantine_loads_the_valid_rows_and_lists_the_rejected(bad_world, tmp_path, capsys):
    db, rejects = tmp_path / "s.db", tmp_path / "rejects.csv"
    code = main(["load", str(bad_world), "--db", str(db), "--on-error", "quarantine",
                 "--rejects", str(rejects), "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    summary = json.loads(out.out)
    got = _rows(rejects)
    assert summary["rejects"] == str(rejects)
    assert summary["rejected_rows"] == len({(r["file"], r["line"]) for r in got}) == summary["rejected_problems"]
    by_file = {}
    for r in got:
        by_file.setdefault(r["file"], []).append(r)
    assert by_file["borrowers.csv"] == [{"file": "borrowers.csv", "line": "3", "column": "timezone",
                                         "reason": by_file["borrowers.csv"][0]["reason"]}]
    assert "unknown timezone" in by_file["borrowers.csv"][0]["reason"]
    assert "Mars/Base" not in rejects.read_text(encoding="utf-8")  # masked, as in error messages
    phone_rows = by_file["borrower_phones.csv"]
    assert {r["line"] for r in phone_rows if r["column"] == "phone"} == {"3"}
    assert "+8613900139" not in rejects.read_text(encoding="utf-8")
    # every row of B2 elsewhere is rejected as depending on the rejected borrower row
    dependent = [r for r in got if "depends on borrower 'B2'" in r["reason"]]
    assert dependent and all("borrowers.csv:3 was rejected" in r["reason"] for r in dependent)
    assert all(r["column"] == "borrower_id" for r in dependent)
    with SQLiteStore(db, create=False) as s:
        nodes = s.get_nodes(["Borrower:B1", "Borrower:B2", "Borrower:B3"])
        assert set(nodes) == {"Borrower:B1", "Borrower:B3"}
        assert s.ledger("B2").attempts == [] and s.ledger("B2").payments == []
        phones = {e.dst for e in s.incident_edges(["Borrower:B1"], ["HAS_PHONE"])}
        assert "Phone:+8613800138000" in phones and len(phones) == 1  # the bad one left out
    # the same through the library; the table summary says where the rejects are
    code = main(["load", str(bad_world), "--db", str(tmp_path / "t.db"), "--on-error", "quarantine",
                 "--rejects", str(tmp_path / "r2.csv")])
    out = capsys.readouterr().out
    assert code == 0 and f"rejected {summary['rejected_rows']} rows" in out and "r2.csv" in out


def test_quarantine_of_a_clean_world_writes_an_empty_list(tmp_path):
    rejects = tmp_path / "r.csv"
    with SQLiteStore(tmp_path / "s.db") as s:
        rep = load(s, MINI, on_error="quarantine", rejects=rejects)
    assert rep.rejected == [] and rejects.read_text(encoding="utf-8").strip() == "file,line,column,reason"


def test_quarantine_and_rejects_go_together(tmp_path, capsys):
    for args in (["--on-error", "quarantine"], ["--rejects", str(tmp_path / "r.csv")]):
        assert main(["load", str(MINI), "--db", str(tmp_path / "s.db"), *args]) == 2
        assert "go together" in capsys.readouterr().err
    assert not (tmp_path / "s.db").exists()


def test_an_unreadable_file_still_fails_a_quarantined_load(bad_world, tmp_path, capsys):
    (bad_world / "calls.csv").write_text("nonsense;header\n1;2\n", encoding="utf-8")
    code = main(["load", str(bad_world), "--db", str(tmp_path / "s.db"), "--on-error", "quarantine",
                 "--rejects", str(tmp_path / "r.csv")])
    assert code == 2 and "calls.csv:1" in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()
