"""Fault injection on a real Neo4j server: a load is visible whole or not at all.

A store holds world A; `skiptrace load B --neo4j` runs as a subprocess and is
killed (kill -9 of the client, or of the server, which is then restarted on
the same data directory) at seeded random points inside its write
transaction. Afterwards the store's canonical digest (every node,
relationship and ledger row: skiptrace.store.health.digest) must be exactly
A's or exactly A+B's. Readers running during a load must all succeed and see
A until the commit. Kept small (two 150-borrower worlds) to bound CI time;
bench/faults_neo4j.py is the long version.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from neo4j import GraphDatabase

import neo4j_server
from skiptrace.ingest import load
from skiptrace.store import open_store
from skiptrace.store.health import digest, doctor

pytestmark = pytest.mark.neo4j

SEED = int(os.environ.get("SKIPTRACE_FAULT_SEED", "9"))


def _generate(out: Path, seed: int) -> Path:
    subprocess.run([sys.executable, "-m", "skiptrace_cli.main", "generate", "--borrowers", "150",
                    "--seed", str(seed), "--phonebook-max", "30", "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    return out


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    root = tmp_path_factory.mktemp("fault-worlds")
    return _generate(root / "a", 3), _generate(root / "b", 4)


def _load_cmd(world: Path, uri: str) -> list[str]:
    return [sys.executable, "-m", "skiptrace_cli.main", "load", str(world), "--neo4j", uri,
            "--no-progress"]


def _reset(uri: str, world: Path) -> str:
    """Empty the database, load ``world``; return its digest."""
    with open_store(neo4j_uri=uri) as store:
        store.clear()
        load(store, world)
        return digest(store)


def _state(uri: str, timeout: float = 60.0) -> str:
    """The store's digest once the server has settled the killed client's
    transaction (rolled back, or committed when the kill came after COMMIT was
    sent): a read while it is still open would only say what was true then."""
    deadline = time.monotonic() + timeout
    with GraphDatabase.driver(uri) as driver:
        while time.monotonic() < deadline:
            recs, _, _ = driver.execute_query(
                "SHOW TRANSACTIONS YIELD metaData WHERE metaData.skiptrace_load IS NOT NULL "
                "RETURN count(*) AS c")
            if not recs[0]["c"]:
                break
            time.sleep(0.05)
    with open_store(neo4j_uri=uri) as store:
        return digest(store)


def _load_tx_started(uri: str, timeout: float = 120.0) -> bool:
    """Wait until a skiptrace load transaction is running on the server (the write phase)."""
    deadline = time.monotonic() + timeout
    with GraphDatabase.driver(uri) as driver:
        while time.monotonic() < deadline:
            recs, _, _ = driver.execute_query(
                "SHOW TRANSACTIONS YIELD metaData WHERE metaData.skiptrace_load IS NOT NULL "
                "RETURN count(*) AS c")
            if recs[0]["c"]:
                return True
            time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def states(worlds, neo4j_uri):
    """Digests of A and of A then B (both computed by clean in-process loads)."""
    a, b = worlds
    after = None
    before = _reset(neo4j_uri, a)
    with open_store(neo4j_uri=neo4j_uri) as store:
        load(store, b)
        after = digest(store)
    assert before != after
    return before, after


def test_client_kill_9_leaves_before_or_after(worlds, states, neo4j_uri):
    """kill -9 of `skiptrace load` at random points in its write transaction: never a partial store."""
    a, b = worlds
    before, after = states
    rng = random.Random(SEED)
    _reset(neo4j_uri, a)
    seen = []
    for point in range(3):
        proc = subprocess.Popen(_load_cmd(b, neo4j_uri), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        assert _load_tx_started(neo4j_uri), "the load never started its transaction"
        time.sleep(rng.uniform(0.0, 2.0))
        proc.send_signal(signal.SIGKILL)
        rc = proc.wait()
        state = _state(neo4j_uri)
        assert state in (before, after), f"kill point {point}: a partial store (exit {rc})"
        seen.append("before" if state == before else "after")
        if state == after:
            _reset(neo4j_uri, a)
    assert "before" in seen  # at least one kill landed inside the transaction
    with open_store(neo4j_uri=neo4j_uri) as store:  # and nothing is left to clean up
        health = doctor(store)
        assert health.ok, health.to_dict()
        facts = store.health_facts()
        assert facts["running_loads"] == []
        assert "skiptrace_meta_key" in facts["online"]


def test_digest_is_one_state_when_a_load_commits_during_it(worlds, states, neo4j_uri):
    """A load published between the digest's node and relationship queries (made
    to happen there, on the real server): the digest is of A+B, not of a mix."""
    a, b = worlds
    before, after = states
    _reset(neo4j_uri, a)
    with open_store(neo4j_uri=neo4j_uri) as store:
        stream_edges = store.stream_edges
        loads = []

        def edges_after_a_load(*args, **kwargs):
            if not loads:  # the first pass: nodes were read from A; now B commits
                with open_store(neo4j_uri=neo4j_uri) as other:
                    load(other, b)
                loads.append(b)
            return stream_edges(*args, **kwargs)

        store.stream_edges = edges_after_a_load
        got = digest(store)
    assert loads, "the load never ran inside the digest"
    assert got == after, "the digest mixed the state before the load with the state after it"


def test_server_kill_9_and_restart_leaves_before_or_after(worlds, states, tmp_path):
    """kill -9 of the Neo4j server during a load, restart on the same data directory:
    the client retries with one line per attempt and the store is A or A+B."""
    a, b = worlds
    before, after = states
    rng = random.Random(SEED + 1)
    data = tmp_path / "neo4j"
    server = neo4j_server.start(data_dir=data)
    port = server.port
    try:
        assert _reset(server.uri, a) == before
        proc = subprocess.Popen(_load_cmd(b, server.uri), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert _load_tx_started(server.uri)
        time.sleep(rng.uniform(0.0, 1.5))
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        server.stop()
        server = neo4j_server.start(data_dir=data, port=port)
        out, err = proc.communicate(timeout=180)
        state = _state(server.uri)
        assert state in (before, after), f"a partial store after a server kill (exit {proc.returncode})"
        lines = err.strip().splitlines()
        assert "Traceback" not in err and len(lines) <= 7, err
        if proc.returncode == 0:
            assert state == after
        else:
            assert proc.returncode == 2 and state == before
            assert "nothing was published: the store is as before the load" in lines[-1]
        assert any("retrying" in ln for ln in lines), err
    finally:
        server.stop()


def test_readers_during_a_load_see_the_state_before_it(worlds, states, neo4j_uri):
    """stats and find, in other connections while a load runs: all succeed, all see A
    until the commit and A+B after it, never a mix."""
    from skiptrace.contacts import find

    a, b = worlds
    _reset(neo4j_uri, a)
    with open_store(neo4j_uri=neo4j_uri) as store:
        counts_a = store.counts().as_dict()
        probe = sorted(k for k, _ in store.stream_nodes("Borrower"))[:3]
        finds_a = [find(store, p).to_dict(reveal=True) for p in probe]
    results: list[tuple[str, object]] = []
    done = threading.Event()

    def reader() -> None:
        with open_store(neo4j_uri=neo4j_uri) as store:
            while not done.is_set():
                try:
                    results.append(("counts", store.counts().as_dict()))
                    results.append(("find", find(store, probe[len(results) % 3]).to_dict(reveal=True)))
                except Exception as exc:  # noqa: BLE001 - counted as a failed read
                    results.append(("error", repr(exc)))

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    with open_store(neo4j_uri=neo4j_uri) as store:
        load(store, b)
        counts_ab = store.counts().as_dict()
    done.set()
    for t in threads:
        t.join()
    assert not [r for r in results if r[0] == "error"], results[:3]
    counts = [r[1] for r in results if r[0] == "counts"]
    assert len(counts) >= 4
    assert all(c in (counts_a, counts_ab) for c in counts), "a reader saw a partial load"
    assert counts[0] == counts_a
    finds = [r[1] for r in results if r[0] == "find"]
    with open_store(neo4j_uri=neo4j_uri) as store:
        finds_ab = [find(store, p).to_dict(reveal=True) for p in probe]
    assert all(f in finds_a + finds_ab for f in finds)
