"""Faults and readers on the SQLite store (issue 9 items 2 and 8): the long version.

    python bench/faults.py [--world DIR | --borrowers 20000 --seed 1] [--kills 20]
                           [--kill-seed 9] [--work DIR] [--idle-seconds 20]

The store under test starts as fixtures/demo loaded (the *before* state: 300
borrowers whose ids the generated world shares, so the load merges into them);
the load under test is `skiptrace load WORLD` in a subprocess. First one full
load gives the *after* state and the load time T.

1. Kill -9 at random points. ``--kills`` times: start the load, SIGKILL it at a
   seeded uniform time in [0, T], then classify the store by counts and a
   content digest of all its tables (skiptrace.store.sqlite.content_digest):
   before, after, or partial. A kill that came after the load had printed its
   summary (it had committed) but left the before state is lost committed
   data. The same store file is reused while it is in the before state, so
   each load also checks that the previous kill left no lock or scratch file
   that blocks it; the run ends with a load with ``--wait 0`` that must reach
   the after state and leave no scratch directory.
2. Readers during a load: on a copy of the before state, find (the library
   call the CLI makes, with its audit record) on a fixed sample of borrowers
   and counts, in one snapshot per call, looped first on the idle store for
   ``--idle-seconds`` and then for the whole of a load. Each call's snapshot
   is classified by its borrower count (before or after the commit); a call
   that read before the commit must return exactly the idle result. A few CLI
   `skiptrace find` processes during the load count towards the success share.
   Printed: success share, the share of during-load calls that saw the
   pre-load state, find p50/p99 idle and during the load, and their ratio
   (target: p99 within 3x).
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from load import world_dir  # noqa: E402

from skiptrace import audit as audit_lib  # noqa: E402
from skiptrace.contacts import find  # noqa: E402
from skiptrace.ingest import load  # noqa: E402
from skiptrace.store import SQLiteStore  # noqa: E402
from skiptrace.store.sqlite import content_digest  # noqa: E402
from skiptrace.store.sqlite_lock import holder  # noqa: E402

DEMO = REPO / "fixtures" / "demo"


def cli(*args: object) -> list[str]:
    return [sys.executable, "-m", "skiptrace_cli.main", *map(str, args)]


def copy_store(src: Path, dst: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-audit", "-audit-wal", "-audit-shm"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
        if Path(str(src) + suffix).exists():
            shutil.copyfile(str(src) + suffix, str(dst) + suffix)


def counts(db: Path) -> dict:
    with SQLiteStore(db, create=False) as s:
        return s.counts().as_dict()


def leftovers(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.glob(f".{db.name}.stage-*"))


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def wait_for_writer(db: Path, proc: subprocess.Popen) -> None:
    while proc.poll() is None:
        who = holder(str(db))
        if who and who.get("pid") == proc.pid:
            return
        time.sleep(0.02)


def kills(world: Path, work: Path, before: Path, n: int, seed: int, T: float,
          state: dict) -> dict:
    rng = random.Random(seed)
    victim = work / "victim.db"
    copy_store(before, victim)
    out = {"before": 0, "after": 0, "partial": 0, "lost_committed": 0, "blocked": 0, "points": []}
    for i in range(n):
        at = rng.uniform(0, T)
        log = work / f"kill-{i}.out"
        with open(log, "w") as f:
            proc = subprocess.Popen(cli("load", world, "--db", victim, "--wait", "0"), stdout=f,
                                    stderr=subprocess.STDOUT)
            time.sleep(at)
            ended = proc.poll()
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        text = log.read_text(errors="replace")
        if ended is not None and ended != 0:
            out["blocked"] += 1  # the load refused to run (a stale lock, say) or failed
            print(f"  kill {i}: the load had failed by itself: {text.strip()[-300:]}", flush=True)
        committed = "loaded " in text
        c = counts(victim)
        if c == state["counts_before"] and content_digest(victim) == state["d_before"]:
            kind = "before"
        elif c == state["counts_after"] and content_digest(victim) == state["d_after"]:
            kind = "after"
        else:
            kind = "partial"
        if committed and kind != "after":
            out["lost_committed"] += 1
        out[kind] += 1
        out["points"].append(round(at, 1))
        print(f"  kill {i + 1}/{n} at {at:6.1f}s of {T:.0f}s: {kind}"
              f"{' (had committed)' if committed else ''}", flush=True)
        if kind != "before":
            copy_store(before, victim)
    r = subprocess.run(cli("load", world, "--db", victim, "--wait", "0"), capture_output=True, text=True)
    out["next_load_ok"] = r.returncode == 0 and content_digest(victim) == state["d_after"]
    out["scratch_left"] = leftovers(victim)
    return out


def readers(world: Path, work: Path, before: Path, idle_seconds: float, state: dict) -> dict:
    db = work / "readers.db"
    copy_store(before, db)
    with SQLiteStore(db, create=False) as s:
        sample = sorted(k for k, _ in s.stream_nodes("Borrower"))[:40]
        pre = {b: find(s, b).to_dict(False) for b in sample}
    n_before = state["counts_before"]["nodes"]["Borrower"]
    n_after = state["counts_after"]["nodes"]["Borrower"]

    def one_call(b: str, res: dict) -> None:
        t0 = time.perf_counter()
        try:
            with SQLiteStore(db, create=False) as s, s.snapshot():
                audit_lib.record(s, "find", [b], actor="bench-faults")
                got = find(s, b).to_dict(False)
                c = s.counts().as_dict()
        except Exception as exc:  # noqa: BLE001 - counted
            res["failed"] += 1
            res.setdefault("errors", []).append(f"{type(exc).__name__}: {exc}")
            return
        dt = time.perf_counter() - t0
        nb = c["nodes"].get("Borrower")
        if nb == n_before:
            res["pre"] += 1
            res["pre_same"] += got == pre[b] and c == state["counts_before"]
            res["lat"].append(dt)
        elif nb == n_after:
            res["post"] += 1
        else:
            res["half"] += 1

    def loop(until) -> dict:
        res = {"failed": 0, "pre": 0, "pre_same": 0, "post": 0, "half": 0, "lat": []}
        i = 0
        while not until():
            one_call(sample[i % len(sample)], res)
            i += 1
        res["calls"] = i
        return res

    t_end = time.monotonic() + idle_seconds
    idle = loop(lambda: time.monotonic() > t_end)
    proc = subprocess.Popen(cli("load", world, "--db", db), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    wait_for_writer(db, proc)
    cli_runs: list[int] = []

    def cli_finds() -> None:
        for b in sample[:6]:
            if proc.poll() is not None:
                return
            r = subprocess.run(cli("find", b, "--db", db, "--format", "json"), capture_output=True)
            cli_runs.append(r.returncode)

    t = threading.Thread(target=cli_finds)
    t.start()
    during = loop(lambda: proc.poll() is not None)
    t.join()
    rc = proc.wait()
    return {"idle": idle, "during": during, "load_rc": rc, "cli_rcs": cli_runs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world", type=Path, default=None, help="load this world (default: generate one)")
    ap.add_argument("--borrowers", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--kill-seed", type=int, default=9)
    ap.add_argument("--idle-seconds", type=float, default=20.0)
    ap.add_argument("--work", type=Path, default=REPO / "bench" / "out" / "faults")
    a = ap.parse_args()
    world = a.world or world_dir(a.borrowers, a.seed)
    a.work.mkdir(parents=True, exist_ok=True)
    before, after = a.work / "before.db", a.work / "after.db"
    copy_store(a.work / "none.db", before)  # removes an old one
    with SQLiteStore(before) as s:
        load(s, DEMO)
    copy_store(before, after)
    t0 = time.monotonic()
    r = subprocess.run(cli("load", world, "--db", after), capture_output=True, text=True)
    T = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    state = {"counts_before": counts(before), "counts_after": counts(after),
             "d_before": content_digest(before), "d_after": content_digest(after)}
    print(f"world {world}: a full load onto the before state takes {T:.1f}s (`skiptrace load`, "
          f"wall clock)", flush=True)

    k = kills(world, a.work, before, a.kills, a.kill_seed, T, state)
    print(f"\nkill -9 at {a.kills} random points (seed {a.kill_seed}): before {k['before']}, after "
          f"{k['after']}, partial {k['partial']}, lost committed data {k['lost_committed']}, "
          f"loads refused or failed by themselves {k['blocked']}; next load with --wait 0 reaches the "
          f"after state: {k['next_load_ok']}; scratch files left: {k['scratch_left'] or 'none'}")

    rd = readers(world, a.work, before, a.idle_seconds, state)
    idle, during = rd["idle"], rd["during"]
    calls = during["calls"] + len(rd["cli_rcs"])
    ok = during["calls"] - during["failed"] + sum(1 for c in rd["cli_rcs"] if c == 0)
    p99_idle, p99_during = pct(idle["lat"], 0.99), pct(during["lat"], 0.99)
    print(f"\nreaders during a load (exit {rd['load_rc']}): {calls} calls ({during['calls']} library "
          f"find+counts in one snapshot, {len(rd['cli_rcs'])} CLI find), {ok / calls:.1%} succeeded; "
          f"{during['pre']} read before the commit, {during['pre_same']} of them saw exactly the "
          f"pre-load state; {during['post']} after it; {during['half']} saw a partial state")
    if during.get("errors"):
        print("  errors:", during["errors"][:3])
    print(f"find (+ audit record + counts) latency, idle store ({idle['calls']} calls): "
          f"p50 {1e3 * statistics.median(idle['lat']):.1f} ms, p99 {1e3 * p99_idle:.1f} ms; "
          f"during the load: p50 {1e3 * statistics.median(during['lat']):.1f} ms, "
          f"p99 {1e3 * p99_during:.1f} ms; p99 ratio {p99_during / p99_idle:.2f}x (target <= 3x)")
    print(json.dumps({"load_seconds": round(T, 1), "kills": {x: k[x] for x in k if x != "points"},
                      "kill_points": k["points"], "readers": {
                          "calls": calls, "succeeded": ok, "pre": during["pre"],
                          "pre_same": during["pre_same"], "post": during["post"], "half": during["half"],
                          "p99_idle_ms": round(1e3 * p99_idle, 1),
                          "p99_during_ms": round(1e3 * p99_during, 1)}}))


if __name__ == "__main__":
    main()
