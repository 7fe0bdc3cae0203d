"""Latency of `find` on each store, against whole-graph personalised PageRank, in one run.

    python bench/find_latency.py [--borrowers 1000000] [--seed 1] [--queries 1000]
                                 [--store sqlite,neo4j] [--neo4j-uri bolt://...]
                                 [--neo4j-dir D] [--neo4j-via import|load]
                                 [--pagecache 8g] [--heap 4g] [--repeat 1]
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

Neo4j (unless ``--neo4j-uri`` names a running server): by default the
SQLite store is bulk-loaded into a Neo4j data directory the way a large book
is first loaded in production, once, and the directory is kept for later
runs: ``skiptrace export --format neo4j-import`` files
(bench/out/neo4j-import-<N>-<seed>, removed after a successful import unless
``--keep-import-files``), ``neo4j-admin database import full`` into
``--neo4j-dir`` (default bench/out/neo4j-<N>-<seed>), a server on it with
``--pagecache`` / ``--heap``, and ``apply_schema()`` (constraints and
indexes, waiting until they are online). Each step's wall time and the store
size are printed. ``--neo4j-via load`` instead loads the world with the
Cypher loader into a throwaway server (about 9k rows/s: small worlds only).
``--repeat 2`` times the same borrowers again (a warm cache).

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

import neo4j_bulk  # noqa: E402
from find_quality import loaded_store, world_dir, world_name  # noqa: E402

from skiptrace.contacts import find  # noqa: E402
from skiptrace.ingest import load  # noqa: E402
from skiptrace.store import open_store  # noqa: E402

OUT = REPO / "bench" / "out"


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def time_find(store, ids: list[str], warmup: int = 20, **kwargs) -> list[float]:
    for b in ids[:warmup]:
        find(store, b, **kwargs)
    out = []
    for b in ids:
        t = time.perf_counter()
        find(store, b, **kwargs)
        out.append(time.perf_counter() - t)
    return out


def whole_graph_ppr(store, ids: list[str]) -> tuple[float, list[float]]:
    """Project the whole graph (skiptrace.graph) into igraph; time personalized_pagerank per source."""
    from skiptrace.graph.project import project, to_igraph

    t = time.perf_counter()
    proj = project(store)
    g = to_igraph(proj, directed=False, attributes=False)
    index = proj.lookup
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


def bulk_imported_server(sqlite, args):
    """Start a server on ``--neo4j-dir``, exporting and bulk-importing the SQLite store first
    when the directory holds no database; return (server, store) (bench/neo4j_bulk.py)."""
    data = Path(args.neo4j_dir) if args.neo4j_dir else OUT / f"neo4j-{args.borrowers}-{args.seed}"
    files = OUT / f"neo4j-import-{args.borrowers}-{args.seed}"
    return neo4j_bulk.bulk_imported_server(
        sqlite, data, files, pagecache=args.pagecache, heap=args.heap,
        import_heap=args.import_heap, import_off_heap=args.import_off_heap,
        keep_files=args.keep_import_files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--borrowers", type=int, default=1_000_000)
    ap.add_argument("--preset", default="default", choices=["default", "legacy"],
                    help="Generator preset of the world (bench/out/world-<N>-<seed>[-legacy]).")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--world", default=None)
    ap.add_argument("--db", default=None)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--store", default="sqlite,neo4j")
    ap.add_argument("--neo4j-uri", default=None, help="an already loaded Neo4j server")
    ap.add_argument("--neo4j-via", choices=["import", "load"], default="import",
                    help="import: bulk-import the SQLite store into --neo4j-dir once (default); "
                         "load: Cypher loader into a throwaway server")
    ap.add_argument("--neo4j-dir", default=None,
                    help="Neo4j data directory, kept (default bench/out/neo4j-<N>-<seed>)")
    ap.add_argument("--pagecache", default="8g", help="Neo4j page cache (default 8g)")
    ap.add_argument("--heap", default="4g", help="Neo4j server heap (default 4g)")
    ap.add_argument("--import-heap", default="2g", help="neo4j-admin import heap (default 2g)")
    ap.add_argument("--import-off-heap", default="6g",
                    help="neo4j-admin import --max-off-heap-memory (default 6g)")
    ap.add_argument("--keep-import-files", action="store_true",
                    help="keep the CSV files after a successful import")
    ap.add_argument("--repeat", type=int, default=1, help="time the same borrowers this many times")
    ap.add_argument("--baseline-sources", type=int, default=20)
    ap.add_argument("--max-fanout", type=int, default=None,
                    help="find's fan-out cap (default: skiptrace.contacts.ego.MAX_FANOUT)")
    args = ap.parse_args()
    fkw = {} if args.max_fanout is None else {"max_fanout": args.max_fanout}
    d = Path(args.world) if args.world else world_dir(args.borrowers, args.seed, args.preset)
    db = Path(args.db) if args.db else OUT / f"find-{world_name(args.borrowers, args.seed, args.preset)}.db"
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
        for i in range(args.repeat):
            results["sqlite"] = report("find" + (f" (pass {i + 1})" if args.repeat > 1 else ""),
                                       time_find(sqlite, ids, **fkw))
    if "neo4j" in args.store:
        server = None
        print("neo4j store")
        try:
            if args.neo4j_uri:
                store = open_store(neo4j_uri=args.neo4j_uri)
            elif args.neo4j_via == "import":
                server, store = bulk_imported_server(sqlite, args)
            else:
                import neo4j_server

                server = neo4j_server.start(pagecache=args.pagecache, heap=args.heap)
                store = open_store(neo4j_uri=server.uri)
                if next(store.stream_nodes("Borrower"), None) is None:
                    t = time.perf_counter()
                    load(store, d)
                    print(f"  loaded into neo4j in {time.perf_counter() - t:.1f}s")
            for i in range(args.repeat):
                results["neo4j"] = report("find" + (f" (pass {i + 1})" if args.repeat > 1 else ""),
                                          time_find(store, ids, **fkw))
            store.close()
        finally:
            if server is not None:
                server.stop(timeout=900)  # a big store's final checkpoint takes a while
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
