"""Latency of `find` on each store, against whole-graph personalised PageRank, in one run.

    python bench/find_latency.py [--borrowers 1000000] [--seed 1] [--queries 1000]
                                 [--store sqlite,neo4j] [--neo4j-uri bolt://...]
                                 [--baseline-sources 20]

For each store: p50 / p99 / mean wall time of ``skiptrace.find`` (ego graph
read, features, walk, scoring, evidence, eligibility; default limit 20) over
``--queries`` random borrowers (seeded, after 20 warm-up queries).

Baseline, same run, same borrowers: igraph's C-implemented
``personalized_pagerank`` over the whole graph (every node and relationship
of the store, undirected), one call per source borrower. Building the
igraph graph is reported separately and not charged to it. At ~2 s per
source on a 1M-borrower world, all 1,000 sources take over half an hour, so
by default the first ``--baseline-sources`` of the same borrowers are timed
(``--baseline-sources 1000`` for all).

Targets (embedded store, 1M borrowers): p50 <= 50 ms, p99 <= 250 ms, and
p50 at least 20x faster than the baseline's p50.

The world goes to bench/out/world-<N>-<seed>, the SQLite store to
bench/out/find-<N>-<seed>.db; both are reused.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "bench"))

from find_quality import loaded_store, world_dir  # noqa: E402

from skiptrace.contacts import find  # noqa: E402
from skiptrace.ingest import load  # noqa: E402
from skiptrace.store import open_store  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def time_find(store, ids: list[str], warmup: int = 20) -> list[float]:
    for b in ids[:warmup]:
        find(store, b)
    out = []
    for b in ids:
        t = time.perf_counter()
        find(store, b)
        out.append(time.perf_counter() - t)
    return out


def whole_graph_ppr(store, ids: list[str]) -> tuple[float, list[float]]:
    """Build the whole graph in igraph; time personalized_pagerank per source."""
    from array import array

    import igraph as ig
    import numpy as np

    t = time.perf_counter()
    index: dict[str, int] = {}
    ends = array("q")  # src, dst, src, dst, ... (compact: tens of millions of edges)
    for e in store.stream_edges(with_props=False):
        ends.append(index.setdefault(e.src, len(index)))
        ends.append(index.setdefault(e.dst, len(index)))
    pairs = np.frombuffer(ends, dtype=np.int64).reshape(-1, 2)
    g = ig.Graph(n=len(index), edges=pairs, directed=False)
    del pairs, ends
    build = time.perf_counter() - t
    print(f"  igraph whole graph: {g.vcount():,} nodes, {g.ecount():,} edges, built in {build:.1f}s")
    times = []
    for b in ids:
        v = index.get("Borrower:" + b)
        if v is None:
            continue
        t = time.perf_counter()
        g.personalized_pagerank(reset_vertices=[v], directed=False, damping=0.75)
        times.append(time.perf_counter() - t)
    return build, times


def report(name: str, xs: list[float]) -> dict:
    d = {"p50": pct(xs, 0.5), "p99": pct(xs, 0.99), "mean": statistics.fmean(xs), "n": len(xs)}
    print(f"  {name:<34} n={d['n']:>5}  p50 {1000 * d['p50']:8.1f} ms  p99 {1000 * d['p99']:8.1f} ms"
          f"  mean {1000 * d['mean']:8.1f} ms")
    return d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--borrowers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--world", default=None)
    ap.add_argument("--db", default=None)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--store", default="sqlite,neo4j")
    ap.add_argument("--neo4j-uri", default=None)
    ap.add_argument("--baseline-sources", type=int, default=20)
    args = ap.parse_args()
    d = Path(args.world) if args.world else world_dir(args.borrowers, args.seed)
    db = Path(args.db) if args.db else REPO / "bench" / "out" / f"find-{args.borrowers}-{args.seed}.db"
    sqlite = loaded_store(d, db)
    ids = sorted(k for k, _ in sqlite.stream_nodes("Borrower"))
    ids = random.Random(args.seed).sample(ids, min(args.queries, len(ids)))
    print(f"{len(ids)} random borrowers of {d.name}")
    results = {}
    if "sqlite" in args.store:
        print("sqlite store")
        conn = sqlite.conn
        if not conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()[0]:
            # without statistics SQLite plans `dst IN (...) AND type IN (...)` as a scan of the
            # type's primary-key range instead of using edge_dst (seconds per query at 1M)
            conn.execute("PRAGMA analysis_limit = 1000")
            conn.execute("ANALYZE")
            print("  (ran ANALYZE: the store file had no planner statistics)")
        results["sqlite"] = report("find", time_find(sqlite, ids))
    if "neo4j" in args.store:
        server = None
        uri = args.neo4j_uri
        if uri is None:
            import neo4j_server

            server = neo4j_server.start()
            uri = server.uri
        try:
            store = open_store(neo4j_uri=uri)
            if next(store.stream_nodes("Borrower"), None) is None:
                t = time.perf_counter()
                load(store, d)
                print(f"  loaded into neo4j in {time.perf_counter() - t:.1f}s")
            print("neo4j store")
            results["neo4j"] = report("find", time_find(store, ids))
            store.close()
        finally:
            if server is not None:
                server.stop()
    if args.baseline_sources <= 0:
        sqlite.close()
        return
    print("baseline: igraph personalized_pagerank over the whole graph")
    _, times = whole_graph_ppr(sqlite, ids[:args.baseline_sources])
    base = report("whole-graph personalized_pagerank", times)
    for name, r in results.items():
        print(f"{name}: p50 {1000 * r['p50']:.1f} ms (target <= 50), p99 {1000 * r['p99']:.1f} ms "
              f"(target <= 250), {base['p50'] / r['p50']:.0f}x faster than the baseline p50 "
              f"(target >= 20x)")
    sqlite.close()


if __name__ == "__main__":
    main()
