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
"""
from __future__ import annotations

import argparse
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

    with _open(args) as store:
        t = time.perf_counter()
        rings = detect(store, seed=0)
        total = time.perf_counter() - t
    return {"seconds": total, "rings": len(rings), "flagged": sum(r.flagged for r in rings)}


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
    a = ap.parse_args()
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


if __name__ == "__main__":
    main()
