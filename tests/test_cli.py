"""The installed `skiptrace` command, run as a user would, in another directory."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from skiptrace import __version__

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "fixtures" / "mini"
DEMO = REPO / "fixtures" / "demo"


def skiptrace_exe() -> list[str]:
    exe = Path(sys.executable).parent / "skiptrace"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("skiptrace")
    assert found, "the skiptrace console script is not installed"
    return [found]


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SKIPTRACE_")}
    full_env.update(env or {})
    return subprocess.run([*skiptrace_exe(), *args], cwd=cwd, capture_output=True, text=True,
                          env=full_env, timeout=300)


def test_version(tmp_path):
    r = run("--version", cwd=tmp_path)
    assert r.returncode == 0 and __version__ in r.stdout


def test_load_then_stats_from_another_directory(tmp_path):
    r = run("load", str(DEMO), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "skiptrace.db").exists()  # the default store is ./skiptrace.db
    r = run("stats", "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert all(stats["nodes"][label] > 0 for label in
               ("Borrower", "Phone", "Device", "Address", "Employer"))
    # SKIPTRACE_DB names the store too, and a second load changes nothing
    env = {"SKIPTRACE_DB": str(tmp_path / "skiptrace.db")}
    assert run("load", str(DEMO), cwd=REPO, env=env).returncode == 0
    r = run("stats", "--format", "json", cwd=REPO, env=env)
    assert json.loads(r.stdout) == stats


def test_bad_input_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(MINI, bad)
    with open(bad / "phonebook.csv", "a") as f:
        f.write("B2,not-a-phone,X,2025-01-01\n")
    r = run("load", str(bad), "--db", str(tmp_path / "s.db"), cwd=tmp_path)
    assert r.returncode == 2
    # the file, line and field, and a mask of the raw cell (never the cell itself)
    assert "phonebook.csv:6:contact_phone:" in r.stderr and "'n**********'" in r.stderr
    assert "not-a-phone" not in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "s.db").exists()  # a failed first load leaves no store file
    assert run("load", str(MINI), "--db", str(tmp_path / "s.db"), cwd=tmp_path).returncode == 0
    before = (tmp_path / "s.db").read_bytes()
    r = run("load", str(bad), "--db", str(tmp_path / "s.db"), cwd=tmp_path)
    assert r.returncode == 2 and (tmp_path / "s.db").read_bytes() == before


@pytest.mark.parametrize("args,needle", [
    (("stats", "--db", "missing.db"), "no store at missing.db"),
    (("stats", "--db", "x.db", "--neo4j", "bolt://127.0.0.1:1"), "either --db or --neo4j"),
    (("stats", "--neo4j", "bolt://127.0.0.1:1"), "neo4j"),
    (("load", "does-not-exist"), "does not exist"),
    (("export", "--types", "NOPE", "--db", "missing.db"), "no store"),
])
def test_user_errors_are_one_line_exit_2(tmp_path, args, needle):
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert needle.lower() in r.stderr.lower()
    assert "Traceback" not in r.stderr


def test_export_graphml_and_json(tmp_path):
    db = str(tmp_path / "s.db")
    assert run("load", str(MINI), "--db", db, cwd=tmp_path).returncode == 0
    r = run("export", "--db", db, "-o", str(tmp_path / "g.graphml"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    g = nx.read_graphml(tmp_path / "g.graphml")
    assert g.number_of_nodes() == 16 and g.number_of_edges() == 22
    phones = [d for _, d in g.nodes(data=True) if d["label"] == "Phone"]
    assert phones and all("****" in d["e164"] for d in phones)  # masked by default
    r = run("export", "--db", db, "--format", "json", "--reveal", "--purpose", "test",
            "--types", "CALLED", cwd=tmp_path)
    data = json.loads(r.stdout)
    assert {e["type"] for e in data["edges"]} == {"CALLED"} and len(data["edges"]) == 3
    assert "Phone:+8613800138000" in {n["id"] for n in data["nodes"]}
    assert {n["label"] for n in data["nodes"]} == {"Phone"}


@pytest.mark.neo4j
def test_cli_on_neo4j_matches_sqlite(tmp_path, neo4j_clean):
    db = str(tmp_path / "s.db")
    assert run("load", str(MINI), "--db", db, cwd=tmp_path).returncode == 0
    r = run("load", str(MINI), "--neo4j", neo4j_clean, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    sq = json.loads(run("stats", "--db", db, "--format", "json", cwd=tmp_path).stdout)
    r = run("stats", "--format", "json", cwd=tmp_path, env={"SKIPTRACE_NEO4J_URI": neo4j_clean})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == sq
    r = run("schema", "apply", "--neo4j", neo4j_clean, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
