"""Faults and readers on Neo4j: kill a load at random points, check nothing half-written.

The long version of tests/test_neo4j_faults.py. On its own server (a fresh
data directory, ``--heap``), it loads ``--base`` (the committed "before"
state), then:

1. a reference load of ``--world`` as a subprocess, with ``--readers``
   threads running ``find`` and ``stats`` during it: success share, whether
   every read before the commit saw the before state, and ``find`` p99 during
   the load against p99 on the idle store (same run);
2. ``--client-kills`` loads killed with kill -9 at uniform random points of
   the write transaction (measured in step 1);
3. ``--server-kills`` loads during which the server is killed with kill -9
   and restarted on the same data directory and port (the client retries).

After each kill the store's canonical digest (skiptrace.store.health.digest)
must be the before or the after state; a "partial" state is neither, and
"lost" counts kill points after which some label or ledger count is below
the before state's. Everything runs niced (``os.nice(10)``).

    python bench/faults_neo4j.py --base /tmp/f1k --world /tmp/f20k \\
        --client-kills 20 --server-kills 20 --heap 4g --seed 1
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import neo4j_server  # noqa: E402

from skiptrace.contacts import find  # noqa: E402
from skiptrace.ingest import load  # noqa: E402
from skiptrace.store import open_store  # noqa: E402
from skiptrace.store.health import digest  # noqa: E402


def load_cmd(world: Path, uri: str) -> list[str]:
    return [sys.executable, "-m", "skiptrace_cli.main", "load", str(world), "--neo4j", uri,
            "--no-progress"]


def wait_tx(uri: str, proc: subprocess.Popen, timeout: float = 3600) -> float | None:
    """Seconds until the load's transaction shows in SHOW TRANSACTIONS (None: it never did)."""
    start = time.monotonic()
    with open_store(neo4j_uri=uri) as store:
        while time.monotonic() - start < timeout and proc.poll() is None:
            if store.health_facts()["running_loads"]:
                return time.monotonic() - start
            time.sleep(0.1)
    return None


def snapshot(uri: str) -> tuple[str, dict]:
    with open_store(neo4j_uri=uri) as store:
        return digest(store), store.counts().as_dict()


def reset(uri: str, base: Path) -> None:
    with open_store(neo4j_uri=uri) as store:
        store.clear()
        load(store, base)


def lost(counts: dict, before: dict) -> bool:
    return any(counts[s].get(k, 0) < v for s in before for k, v in before[s].items())


def p99(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=100)[98] if len(xs) >= 2 else (xs[0] if xs else float("nan"))


def find_times(uri: str, probes: list[str], stop: threading.Event, out: list, before: dict,
               committed: threading.Event) -> None:
    """One reader: find and stats in a loop until ``stop``; records (kind, ok, seconds, pre_state)."""
    with open_store(neo4j_uri=uri) as store:
        i = 0
        while not stop.is_set():
            b = probes[i % len(probes)]
            i += 1
            t = time.perf_counter()
            try:
                find(store, b)
                out.append(("find", True, time.perf_counter() - t, None))
                # classified after the run: the before state, the after state, or neither
                out.append(("stats", True, 0.0, (threading.get_ident(), store.counts().as_dict())))
            except Exception as exc:  # noqa: BLE001 - a failed read is the measurement
                out.append(("error", False, time.perf_counter() - t, repr(exc)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=Path, required=True, help="world loaded first (the before state)")
    ap.add_argument("--world", type=Path, required=True, help="world whose load is killed")
    ap.add_argument("--client-kills", type=int, default=20)
    ap.add_argument("--server-kills", type=int, default=20)
    ap.add_argument("--readers", type=int, default=2)
    ap.add_argument("--idle-seconds", type=float, default=30.0)
    ap.add_argument("--heap", default="4g")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", type=Path, default=None, help="server data directory (default: temporary)")
    args = ap.parse_args()
    os.nice(10)
    rng = random.Random(args.seed)
    data = args.dir or Path(tempfile.mkdtemp(prefix="faults-neo4j-"))
    server = neo4j_server.start(data_dir=data, heap=args.heap)
    port = server.port
    uri = server.uri
    print(f"server {uri} heap {args.heap} data {data}", flush=True)
    try:
        reset(uri, args.base)
        before, counts_before = snapshot(uri)
        with open_store(neo4j_uri=uri) as store:
            probes = [k for k, _ in store.stream_nodes("Borrower")][:50]
        # idle find latencies
        stop, committed, idle = threading.Event(), threading.Event(), []
        threads = [threading.Thread(target=find_times, args=(uri, probes, stop, idle, counts_before,
                                                             committed)) for _ in range(args.readers)]
        for t in threads:
            t.start()
        time.sleep(args.idle_seconds)
        stop.set()
        for t in threads:
            t.join()
        # the reference load, with readers
        stop, committed, busy = threading.Event(), threading.Event(), []
        t0 = time.monotonic()
        proc = subprocess.Popen(load_cmd(args.world, uri), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        tx_at = wait_tx(uri, proc)
        threads = [threading.Thread(target=find_times, args=(uri, probes, stop, busy, counts_before,
                                                             committed)) for _ in range(args.readers)]
        for t in threads:
            t.start()
        out, err = proc.communicate()
        committed.set()
        stop.set()
        for t in threads:
            t.join()
        total = time.monotonic() - t0
        if proc.returncode != 0:
            print(f"the reference load failed (exit {proc.returncode}): {err.strip()}", flush=True)
            return 1
        write_s = total - (tx_at or 0.0)
        after, counts_after = snapshot(uri)
        print(f"reference load: {total:.0f}s ({write_s:.0f}s in its transaction); {out.strip().splitlines()[0]}",
              flush=True)
        reads = [r for r in busy if r[0] != "error"]
        errors = [r for r in busy if r[0] == "error"]
        by_reader: dict[int, list[str]] = {}
        for r in busy:
            if r[0] == "stats":
                reader, c = r[3]
                by_reader.setdefault(reader, []).append(
                    "before" if c == counts_before else "after" if c == counts_after else "partial")
        seen = [x for xs in by_reader.values() for x in xs]
        # each reader sees the before state until the commit, then the after state
        flips = sum(1 for xs in by_reader.values() for a, b in zip(xs, xs[1:])
                    if a == "after" and b == "before")
        idle_p99 = p99([r[2] for r in idle if r[0] == "find"])
        busy_p99 = p99([r[2] for r in busy if r[0] == "find"])
        print(f"readers during the load: {len(reads)} of {len(busy)} reads succeeded "
              f"({100 * len(reads) / max(1, len(busy)):.1f}%); stats saw the before state "
              f"{seen.count('before')} times, the after state {seen.count('after')}, a partial "
              f"one {seen.count('partial')} (after then before again: {flips}); find p99 idle {idle_p99 * 1000:.0f} ms, during the "
              f"load {busy_p99 * 1000:.0f} ms (ratio {busy_p99 / idle_p99:.2f}); errors: "
              f"{errors[:2]}", flush=True)
        reset(uri, args.base)
        tally = {"client": {"before": 0, "after": 0, "partial": 0, "lost": 0},
                 "server": {"before": 0, "after": 0, "partial": 0, "lost": 0}}
        for kind, n in (("client", args.client_kills), ("server", args.server_kills)):
            for i in range(n):
                proc = subprocess.Popen(load_cmd(args.world, uri), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
                if wait_tx(uri, proc) is None:
                    print(f"{kind} kill {i}: the load never started its transaction", flush=True)
                    continue
                delay = rng.uniform(0.0, write_s)
                time.sleep(delay)
                if kind == "client":
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                else:
                    server.process.send_signal(signal.SIGKILL)
                    server.process.wait()
                    server.stop()
                    server = neo4j_server.start(data_dir=data, port=port, heap=args.heap)
                    proc.wait()
                state, counts = snapshot(uri)
                what = "before" if state == before else "after" if state == after else "partial"
                tally[kind][what] += 1
                tally[kind]["lost"] += lost(counts, counts_before)
                last = (proc.stderr.read() if proc.stderr else "").strip().splitlines()[-1:] or [""]
                print(f"{kind} kill {i + 1}/{n} at +{delay:.1f}s of the transaction: {what} "
                      f"(exit {proc.returncode}; {last[0][-110:]})", flush=True)
                if what != "before":
                    reset(uri, args.base)
        for kind in tally:
            t = tally[kind]
            print(f"{kind} kills: {sum(t[k] for k in ('before', 'after', 'partial'))} points, "
                  f"{t['before']} before, {t['after']} after, {t['partial']} partial, "
                  f"{t['lost']} with lost committed data", flush=True)
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
