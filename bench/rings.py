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
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    q.put(out)


def measure(fn_name: str, args: dict) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn_name, args, q))
    p.start()
    out = q.get()
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
        res["networkx"] = measure("run_networkx", args)
    for k, v in res.items():
        print(f"  {k:<10} {v['seconds']:8.1f} s  peak {v['peak_rss_mb']:7.0f} MB  {json.dumps(v)}")
    s = res["skiptrace"]["seconds"]
    print(f"ratio skiptrace / floor: {s / res['floor']['seconds']:.2f} (target <= 2)")
    if "networkx" in res:
        print(f"speed-up over networkx: {res['networkx']['seconds'] / s:.2f}x (target >= 10)")


if __name__ == "__main__":
    main()
