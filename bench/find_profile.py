"""Where find's CPU goes: cProfile over find on N borrowers of a store.

    python bench/find_profile.py --db STORE.db [--n 200] [--seed 1] [--count-degrees] [--top 25]
    python bench/find_profile.py --db STORE.db --compare 1000   # latency, table vs counted

``--compare N``: no profiler; each of N borrowers is found once reading the degree table
and once counting (the order alternates per borrower, so page-cache warming favours
neither), and p50 / p99 of each are printed.

``--count-degrees`` makes the SQLite store count degrees from the relationships (as a store
of layout 2 does) instead of reading its degree table, so the two can be compared on one
store. Prints CPU and wall milliseconds per find, the share of CPU in ``degrees``, and the
top functions by cumulative time (function names only: no data of the store).
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import time

from skiptrace.contacts.find import find
from skiptrace.store.sqlite import SQLiteStore


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count-degrees", action="store_true")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--compare", type=int, default=0)
    args = ap.parse_args()
    store = SQLiteStore(args.db, create=False)
    if args.compare:
        return compare(store, args.compare, args.seed)
    if args.count_degrees:
        store._degrees_kept = False  # read as a layout-2 store would
    ids = [k for k, _ in store.stream_nodes("Borrower")]
    ids = random.Random(args.seed).sample(ids, min(args.n, len(ids)))
    find(store, ids[0])  # warm-up
    prof = cProfile.Profile()
    cpu, wall = time.process_time(), time.perf_counter()
    prof.enable()
    for b in ids:
        find(store, b)
    prof.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    stats = pstats.Stats(prof)
    deg = sum(v[3] for k, v in stats.stats.items() if k[2] == "degrees" and "sqlite" in k[0])
    prof_total = sum(v[2] for v in stats.stats.values())
    print(f"{len(ids)} finds on {args.db} ({'counted' if args.count_degrees else 'table'} degrees): "
          f"{1000 * cpu / len(ids):.1f} ms CPU, {1000 * wall / len(ids):.1f} ms wall per find; "
          f"SQLiteStore.degrees {100 * deg / max(prof_total, 1e-9):.0f}% of profiled time "
          f"({1000 * deg / len(ids):.1f} ms per find under the profiler)")
    stats.sort_stats("cumulative").print_stats(args.top)


def compare(store: SQLiteStore, n: int, seed: int) -> None:
    kept = store.degrees_kept()
    ids = [k for k, _ in store.stream_nodes("Borrower")]
    ids = random.Random(seed).sample(ids, min(n, len(ids)))
    times: dict[bool, list[float]] = {True: [], False: []}
    for i, b in enumerate(ids):
        for mode in ((True, False) if i % 2 else (False, True)):
            store._degrees_kept = mode and kept
            t = time.perf_counter()
            find(store, b)
            times[mode].append(1000 * (time.perf_counter() - t))
    for mode, name in ((True, "degree table"), (False, "counted degrees")):
        xs = sorted(times[mode])
        print(f"{name:16} n={len(xs)}  p50 {xs[len(xs) // 2]:7.1f} ms  "
              f"p99 {xs[min(len(xs) - 1, int(0.99 * len(xs)))]:7.1f} ms  mean {sum(xs) / len(xs):6.1f} ms")


if __name__ == "__main__":
    main()
