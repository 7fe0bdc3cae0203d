"""Whole-graph projection from a store: skiptrace.graph.project against the stream_edges path.

    python bench/projection.py --db /tmp/g100k.db [--chunk 100000] [--skip-props]

Two tasks, each done the old way and the new way, in the same run, on the
same store file:

- topology: every relationship of the store as ``ids`` + ``src``/``dst``
  int arrays. Old: ``stream_edges(with_props=False)`` interned into a dict
  and an ``array('q')`` (what bench/find_latency.py did before it used
  skiptrace.graph); new: ``project(store)``. ``new, sorted`` adds the
  canonical order (``sort=True``).
- weighted calls: the CALLED relationships with ``calls_a_to_b`` as
  weight and ``calls_b_to_a`` / ``last_at`` columns. Old: ``stream_edges(
  ["CALLED"])`` (an Edge and props dict per row) into lists; new:
  ``project(store, ["CALLED"], weight=..., props=...)``.

Each variant runs in its own child process, so its peak RSS (``ru_maxrss``)
is its own; ``+RSS`` is the peak minus the child's RSS before the work
(interpreter, numpy, an open store). Both give the same graph: node and
edge counts and a checksum of the degree sequence must match (printed).
The ratios are old / new (above 1: new is better).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CALL_PROPS = ("calls_b_to_a", "last_at")


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def checksum(src, dst, n: int) -> str:
    """Hash of the sorted degree sequence: equal graphs under any numbering agree."""
    import numpy as np

    deg = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
    return hashlib.sha1(np.sort(deg).astype(np.int64).tobytes()).hexdigest()[:12]


def old_topology(store) -> dict:
    from array import array

    import numpy as np

    index: dict[str, int] = {}
    ends = array("q")
    for e in store.stream_edges(with_props=False):
        ends.append(index.setdefault(e.src, len(index)))
        ends.append(index.setdefault(e.dst, len(index)))
    pairs = np.frombuffer(ends, dtype=np.int64).reshape(-1, 2)
    ids = list(index)
    return {"nodes": len(ids), "edges": len(pairs),
            "check": checksum(pairs[:, 0], pairs[:, 1], len(ids))}


def new_topology(store, chunk: int, sort: bool = False) -> dict:
    from skiptrace.graph.project import project

    p = project(store, chunk=chunk, sort=sort)
    return {"nodes": p.n_nodes, "edges": p.n_edges, "check": checksum(p.src, p.dst, p.n_nodes)}


def old_calls(store) -> dict:
    import numpy as np

    index: dict[str, int] = {}
    src, dst, w, cols = [], [], [], {p: [] for p in CALL_PROPS}
    for e in store.stream_edges(["CALLED"]):
        src.append(index.setdefault(e.src, len(index)))
        dst.append(index.setdefault(e.dst, len(index)))
        v = e.props.get("calls_a_to_b")
        w.append(1.0 if v is None else float(v))
        for p in CALL_PROPS:
            cols[p].append(e.props.get(p))
    s, d = np.asarray(src), np.asarray(dst)
    weight = np.asarray(w)
    return {"nodes": len(index), "edges": len(s), "check": checksum(s, d, len(index)),
            "weight_sum": round(float(weight.sum()), 3)}


def new_calls(store, chunk: int) -> dict:
    from skiptrace.graph.project import project

    p = project(store, ["CALLED"], weight="calls_a_to_b", props=CALL_PROPS, chunk=chunk)
    return {"nodes": p.n_nodes, "edges": p.n_edges, "check": checksum(p.src, p.dst, p.n_nodes),
            "weight_sum": round(float(p.weight.sum()), 3)}


def worker(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(REPO))
    import numpy  # noqa: F401  (imported before the baseline RSS, as both paths use it)

    from skiptrace.store import SQLiteStore

    store = SQLiteStore(args.db, create=False)
    store.counts()  # opens the file, merges nothing: the same start for every variant
    base = rss_kb()
    t = time.perf_counter()
    run = {"old": lambda: old_topology(store),
           "new": lambda: new_topology(store, args.chunk),
           "new-sorted": lambda: new_topology(store, args.chunk, sort=True),
           "old-calls": lambda: old_calls(store),
           "new-calls": lambda: new_calls(store, args.chunk)}[args.worker]
    out = run()
    out["seconds"] = time.perf_counter() - t
    out["base_mb"] = base / 1024
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def child(variant: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--db", args.db, "--chunk", str(args.chunk),
           "--worker", variant]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def line(name: str, r: dict) -> None:
    print(f"  {name:<12} {r['seconds']:8.1f} s   peak RSS {r['peak_mb']:8.0f} MB   "
          f"+RSS {r['peak_mb'] - r['base_mb']:8.0f} MB   {r['nodes']:,} nodes, "
          f"{r['edges']:,} edges, degrees {r['check']}"
          + (f", weight sum {r['weight_sum']:,}" if "weight_sum" in r else ""))


def compare(task: str, old: dict, new: dict) -> None:
    same = all(old[k] == new[k] for k in ("nodes", "edges", "check", "weight_sum") if k in old)
    print(f"  {task}: same graph: {same}; old/new time {old['seconds'] / new['seconds']:.2f}x, "
          f"peak RSS {old['peak_mb'] / new['peak_mb']:.2f}x, "
          f"+RSS {(old['peak_mb'] - old['base_mb']) / (new['peak_mb'] - new['base_mb']):.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="a loaded SQLite store")
    ap.add_argument("--chunk", type=int, default=100_000)
    ap.add_argument("--skip-props", action="store_true", help="only the topology task")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    print(f"projection of {args.db} (chunk {args.chunk:,}); each variant in its own process")
    print("topology: every relationship")
    r = {v: child(v, args) for v in ("old", "new", "new-sorted")}
    for v, res in r.items():
        line(v, res)
    compare("topology", r["old"], r["new"])
    compare("topology (sorted)", r["old"], r["new-sorted"])
    if args.skip_props:
        return
    print("weighted calls: CALLED with a weight and two property columns")
    c = {v: child(v, args) for v in ("old-calls", "new-calls")}
    for v, res in c.items():
        line(v, res)
    compare("weighted calls", c["old-calls"], c["new-calls"])


if __name__ == "__main__":
    main()
