"""Ring detection speed and memory, with ratios against a floor and networkx in the same run.

Each method runs in its own child process (so peak RSS is its own), on the
same store:

- ``skiptrace``: ``skiptrace.rings.detect`` end to end (projection out of
  the store, components, Leiden, peeling, agents, risk, evidence);
- ``floor``: the same projection, then igraph connected components plus
  Leiden (leidenalg) on the whole borrower graph, nothing else: what any
  detector on this projection must at least spend;
- ``networkx``: the same read out of the store, then the same steps in
  networkx (pair weights from a bipartite graph, connected components of
  strong links, Louvain inside large components; the Fraudar peeling and
  the agent test are reused as they are): the pure-Python way.

Every method's total includes reading the store (``projection``).

    python bench/rings.py --db /tmp/w100k.db              # an existing store
    python bench/rings.py --borrowers 100000              # generate + load first (minutes)
    python bench/rings.py --borrowers 20000 --neo4j bolt://127.0.0.1:7687  # the same on Neo4j
    python bench/rings.py --db /tmp/w1m.db --neo4j-bulk   # skiptrace on SQLite and Neo4j, one run

``--neo4j-bulk`` (issue 10: Neo4j detection at most 2x the embedded store's)
bulk-loads the SQLite store ``--db`` into a Neo4j data directory
(``--neo4j-dir``, default ``<db>-neo4j``, kept and reused; the export CSVs go
to ``--import-dir``, default ``<db>-neo4j-import``, removed after the import;
bench/neo4j_bulk.py), then times ``skiptrace.rings.detect`` on the SQLite
store and, with a server started on that directory, on Neo4j: each in its
own child process, SQLite first and before the server starts, so the two
do not compete for memory. It prints wall, CPU and peak RSS for each, the
server's CPU and peak RSS (its JVM, from /proc) during the Neo4j detection,
the ratio neo4j / sqlite (target <= 2), and whether the rings are the same
(counts, and a sha256 of the rings' JSON). floor and networkx are not run
in this mode.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _open(args: dict):
    from skiptrace.store import open_store

    return open_store(args.get("db"), args.get("neo4j"), neo4j_user=args.get("user"),
                      neo4j_password=args.get("password"))


def run_skiptrace(args: dict) -> dict:
    from skiptrace.rings import detect

    steps: list[tuple[str, float]] = []
    with _open(args) as store:
        t = time.perf_counter()
        rings = detect(store, seed=0, progress=lambda m: steps.append((m, time.perf_counter() - t)))
        total = time.perf_counter() - t
    # wall seconds from the start to each progress message (the step that begins there)
    digest = hashlib.sha256(json.dumps([r.to_json(reveal=True) for r in rings], sort_keys=True,
                                       ensure_ascii=False, default=str).encode()).hexdigest()
    return {"seconds": total, "rings": len(rings), "flagged": sum(r.flagged for r in rings),
            "sha256": digest[:16], "steps": [[m, round(s, 1)] for m, s in steps]}


def _project(store):
    from skiptrace.rings.project import project

    t = time.perf_counter()
    g = project(store)
    return g, time.perf_counter() - t


def run_floor(args: dict) -> dict:
    import igraph as ig
    import leidenalg

    with _open(args) as store:
        t = time.perf_counter()
        g, proj = _project(store)
        G = ig.Graph(n=g.n, edges=list(zip(g.pair_u.tolist(), g.pair_v.tolist())))
        G.es["weight"] = g.pair_w.tolist()
        strong = G.subgraph_edges(G.es.select(weight_ge=0.2), delete_vertices=False)
        comps = strong.connected_components()
        part = leidenalg.find_partition(G, leidenalg.RBConfigurationVertexPartition, weights="weight", seed=0)
        total = time.perf_counter() - t
    return {"seconds": total, "projection": proj, "components": len(comps), "communities": len(part)}


def run_networkx(args: dict) -> dict:
    import networkx as nx
    import numpy as np

    from skiptrace.rings.agents import find_agents
    from skiptrace.rings.detect import DetectConfig, _core

    cfg = DetectConfig()
    with _open(args) as store:
        t = time.perf_counter()
        g, proj = _project(store)
        # the pair weights again, the networkx way: a bipartite graph, one clique per identifier
        B = nx.Graph()
        B.add_nodes_from(range(g.n))
        B.add_edges_from((int(b), ("i", int(i))) for b, i in zip(g.inc_b.tolist(), g.inc_i.tolist()))
        kinds = [g.ident_kind[i] for i in range(len(g.idents))]
        kw = dict(cfg.projection.weight)
        caps = dict(cfg.projection.cap)
        from skiptrace.rings.project import KINDS

        G = nx.Graph()
        G.add_nodes_from(range(g.n))
        for i in range(len(g.idents)):
            holders = list(B.neighbors(("i", i))) if B.has_node(("i", i)) else []
            kind = KINDS[kinds[i]]
            if len(holders) < 2 or len(holders) > caps[kind]:
                continue
            w = kw[kind] / (len(holders) - 1)
            for a in range(len(holders)):
                for c in range(a + 1, len(holders)):
                    u, v = holders[a], holders[c]
                    G.add_edge(u, v, weight=G.get_edge_data(u, v, {"weight": 0.0})["weight"] + w)
        S = nx.Graph()
        S.add_edges_from((u, v) for u, v, w in G.edges(data="weight") if w >= cfg.strong)
        groups = []
        for comp in nx.connected_components(S):
            if len(comp) < cfg.min_size:
                continue
            if len(comp) <= cfg.max_component:
                groups.append(comp)
            else:
                groups.extend(c for c in nx.community.louvain_communities(G.subgraph(comp), weight="weight", seed=0)
                              if len(c) >= cfg.min_size)
        cores = [_core(g, np.array(sorted(c)), cfg) for c in groups]
        agents = find_agents(store, g, cfg.agents)
        total = time.perf_counter() - t
    return {"seconds": total, "projection": proj, "groups": len(cores), "agents": len(agents)}


def _child(fn_name: str, args: dict, q) -> None:
    out = globals()[fn_name](args)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out["peak_rss_mb"] = ru.ru_maxrss / 1024
    out["cpu_seconds"] = ru.ru_utime + ru.ru_stime
    q.put(out)


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure(fn_name: str, args: dict, timeout: float | None = None, max_rss_mb: float | None = None) -> dict:
    """Run ``fn_name`` in a child process; stop it past ``timeout`` seconds or ``max_rss_mb``
    of resident memory, and then report what it had spent as a lower bound (``stopped``)."""
    import queue as _queue

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn_name, args, q))
    t0 = time.perf_counter()
    p.start()
    peak = 0.0
    while True:
        try:
            out = q.get(timeout=1.0)
            break
        except _queue.Empty:
            pass
        peak = max(peak, _rss_mb(p.pid))
        spent = time.perf_counter() - t0
        reason = None
        if timeout is not None and spent > timeout:
            reason = f"time limit {timeout:.0f} s"
        elif max_rss_mb is not None and peak > max_rss_mb:
            reason = f"memory limit {max_rss_mb:.0f} MB"
        elif not p.is_alive():
            reason = f"died (exit {p.exitcode})"
        if reason:
            p.kill()
            p.join()
            return {"seconds": spent, "peak_rss_mb": peak, "stopped": reason}
    p.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db")
    ap.add_argument("--neo4j")
    ap.add_argument("--user", default="neo4j")
    ap.add_argument("--password", default="")
    ap.add_argument("--borrowers", type=int, default=0, help="generate and load a world of this size first")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-networkx", action="store_true")
    ap.add_argument("--networkx-timeout", type=float, default=3600.0,
                    help="stop networkx past this many seconds; its time is then a lower bound")
    ap.add_argument("--networkx-max-rss-mb", type=float, default=12_000.0,
                    help="stop networkx past this much resident memory (the machine has 24 GiB)")
    bulk = ap.add_argument_group("--neo4j-bulk: the same detection on SQLite and a bulk-imported Neo4j")
    bulk.add_argument("--neo4j-bulk", action="store_true",
                      help="bulk-import --db into Neo4j, then time skiptrace on both stores")
    bulk.add_argument("--neo4j-dir", help="Neo4j data directory, kept (default <db>-neo4j)")
    bulk.add_argument("--import-dir", help="export CSVs (default <db>-neo4j-import)")
    bulk.add_argument("--keep-import-files", action="store_true")
    bulk.add_argument("--skip-sqlite", action="store_true",
                      help="time the Neo4j side only (a rerun after a change to the Neo4j store)")
    bulk.add_argument("--pagecache", default="8g", help="Neo4j page cache (default 8g)")
    bulk.add_argument("--heap", default="4g", help="Neo4j server heap (default 4g)")
    bulk.add_argument("--import-heap", default="2g", help="neo4j-admin import heap (default 2g)")
    bulk.add_argument("--import-off-heap", default="6g",
                      help="neo4j-admin import --max-off-heap-memory (default 6g)")
    a = ap.parse_args()
    if a.neo4j_bulk:
        if not a.db or a.neo4j or a.borrowers:
            ap.error("--neo4j-bulk needs --db (an existing SQLite store) and no --neo4j or --borrowers")
        compare_stores(a)
        return
    if a.borrowers:
        from skiptrace.generate import world
        from skiptrace.ingest import load
        from skiptrace.store import open_store

        wdir = Path(f"/tmp/rings-bench-{a.borrowers}-{a.seed}")
        if not (wdir / "truth" / "world.json").exists():
            world(a.borrowers, a.seed, wdir)
        if not a.neo4j and not a.db:
            a.db = str(wdir) + ".db"
        if a.neo4j or not Path(a.db).exists():
            with open_store(a.db, a.neo4j, neo4j_user=a.user, neo4j_password=a.password, create=True) as s:
                if a.neo4j:
                    s.clear()
                load(s, wdir)
    args = {"db": a.db, "neo4j": a.neo4j, "user": a.user, "password": a.password}
    print(f"store: {a.neo4j or a.db}")
    res = {"skiptrace": measure("run_skiptrace", args), "floor": measure("run_floor", args)}
    if not a.skip_networkx:
        res["networkx"] = measure("run_networkx", args, a.networkx_timeout, a.networkx_max_rss_mb)
    for k, v in res.items():
        print(f"  {k:<10} {v['seconds']:8.1f} s  peak {v['peak_rss_mb']:7.0f} MB  {json.dumps(v)}")
    s = res["skiptrace"]["seconds"]
    cpu = {k: v.get("cpu_seconds") for k, v in res.items()}
    print(f"ratio skiptrace / floor: {s / res['floor']['seconds']:.2f} wall, "
          f"{cpu['skiptrace'] / cpu['floor']:.2f} CPU (target <= 2)")
    if "networkx" in res:
        nx_ = res["networkx"]
        if "stopped" in nx_:
            print(f"speed-up over networkx: more than {nx_['seconds'] / s:.2f}x wall (networkx stopped at "
                  f"{nx_['stopped']} after {nx_['seconds']:.0f} s; target >= 10)")
        else:
            print(f"speed-up over networkx: {nx_['seconds'] / s:.2f}x wall, "
                  f"{nx_['cpu_seconds'] / cpu['skiptrace']:.2f}x CPU (target >= 10)")
    print(f"skiptrace: {s / 60:.1f} min wall (target < 5), peak "
          f"{res['skiptrace']['peak_rss_mb'] / 1024:.2f} GiB (target < 8)")


def _cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (all its threads), from /proc/PID/stat."""
    import os

    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compare_stores(a) -> None:
    """``--neo4j-bulk``: skiptrace detection on the SQLite store, then on a bulk-imported Neo4j."""
    import os

    sys.path.insert(0, str(ROOT / "bench"))
    import neo4j_bulk

    from skiptrace.store import open_store

    db = Path(a.db)
    data = Path(a.neo4j_dir) if a.neo4j_dir else Path(str(db) + "-neo4j")
    files = Path(a.import_dir) if a.import_dir else Path(str(db) + "-neo4j-import")
    print(f"sqlite store: {db}\nneo4j data directory: {data}", flush=True)
    t = time.perf_counter()
    with open_store(str(db)) as sqlite:
        manifest = neo4j_bulk.bulk_import(sqlite, data, files, import_heap=a.import_heap,
                                          import_off_heap=a.import_off_heap,
                                          keep_files=a.keep_import_files)
    print(f"  bulk load: {time.perf_counter() - t:.1f}s", flush=True)
    print(f"load average before sqlite: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    res = {}
    if not a.skip_sqlite:
        res["sqlite"] = measure("run_skiptrace", {"db": str(db)})
        print(f"  sqlite: {json.dumps(res['sqlite'])}", flush=True)
    server, _store = neo4j_bulk.serve(data, pagecache=a.pagecache, heap=a.heap, manifest=manifest)
    jvm = server.process.pid
    try:
        _store.close()
        before = neo4j_bulk.proc_memory_mb(jvm)
        reset = neo4j_bulk.reset_peak_rss(jvm)
        cpu0 = _cpu_seconds(jvm)
        print(f"load average before neo4j: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
              f"server RSS {before.get('VmRSS', 0):.0f} MB"
              f"{' (peak reset)' if reset else ' (peak not resettable: the lifetime peak follows)'}",
              flush=True)
        res["neo4j"] = measure("run_skiptrace", {"neo4j": server.uri, "user": a.user,
                                                 "password": a.password})
        cpu1 = _cpu_seconds(jvm)
        after = neo4j_bulk.proc_memory_mb(jvm)
        res["neo4j"]["server_cpu_seconds"] = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
        res["neo4j"]["server_peak_rss_mb"] = after.get("VmHWM")
        res["neo4j"]["server_rss_after_mb"] = after.get("VmRSS")
        print(f"  neo4j: {json.dumps(res['neo4j'])}", flush=True)
    finally:
        server.stop(timeout=900)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'store':<8} {'wall':>9} {'CPU':>9} {'peak RSS':>10} {'rings':>7} {'flagged':>8}  sha256")
    for k, v in res.items():
        if "stopped" in v:
            print(f"{k:<8} {v['seconds']:8.1f}s  stopped: {v['stopped']}")
            continue
        print(f"{k:<8} {v['seconds']:8.1f}s {v['cpu_seconds']:8.1f}s {v['peak_rss_mb']:7.0f} MB "
              f"{v['rings']:>7} {v['flagged']:>8}  {v['sha256']}")
    n = res["neo4j"]
    if n.get("server_cpu_seconds") is not None:
        print(f"neo4j server (JVM pid {jvm}) during the Neo4j detection: {n['server_cpu_seconds']:.1f}s CPU, "
              f"peak RSS {(n['server_peak_rss_mb'] or 0):.0f} MB")
    if "sqlite" not in res:
        return
    s_, n_ = res["sqlite"], res["neo4j"]
    if "stopped" in s_ or "stopped" in n_:
        print("no ratio: a detection was stopped")
        return
    same = (s_["rings"], s_["flagged"], s_["sha256"]) == (n_["rings"], n_["flagged"], n_["sha256"])
    print(f"same rings on both stores: {same} (counts {s_['rings']}/{s_['flagged']} and "
          f"{n_['rings']}/{n_['flagged']}; sha256 {s_['sha256']} and {n_['sha256']})")
    print(f"ratio neo4j / sqlite: {n_['seconds'] / s_['seconds']:.2f} wall (target <= 2), "
          f"{n_['cpu_seconds'] / s_['cpu_seconds']:.2f} client CPU"
          + (f", {(n_['cpu_seconds'] + n_['server_cpu_seconds']) / s_['cpu_seconds']:.2f} client + server CPU"
             if n_.get("server_cpu_seconds") is not None else ""))


if __name__ == "__main__":
    main()
