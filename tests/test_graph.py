"""The whole-graph layer: projections from both stores, views, PPR, communities."""
from __future__ import annotations

import math

import igraph as ig
import networkx as nx
import numpy as np
import pytest
from scipy import sparse

from skiptrace.graph import community
from skiptrace.graph.project import (
    Projection, canonical, csr, from_edges, project, subgraph, to_igraph, to_networkx,
)
from skiptrace.graph.walk import personalized_pagerank
from skiptrace.ingest import load
from skiptrace.store.base import GraphStore
from test_store_contract import B, P, small_batch

from conftest import DEMO

PROPS = ("source", "calls_a_to_b", "verified", "last_at")


def expected_rows(store: GraphStore, weight: str | None = None) -> list[tuple]:
    """(type, src, dst, weight, *PROPS) of every relationship, read the old way."""
    out = []
    for e in store.stream_edges():
        w = 1.0 if weight is None or e.props.get(weight) is None else float(e.props[weight])
        vals = []
        for p in PROPS:
            v = e.props.get(p)
            vals.append(float(v) if isinstance(v, (bool, int, float)) else v)
        out.append((e.type, e.src, e.dst, w, *vals))
    return sorted(out, key=repr)


def rows_of(proj: Projection) -> list[tuple]:
    out = []
    for k, (t, s, d, w) in enumerate(proj.edges()):
        vals = [proj.props[p][k] for p in PROPS]
        vals = [None if isinstance(v, float) and math.isnan(v) else v for v in vals]
        out.append((t, s, d, w, *vals))
    return sorted(out, key=repr)


# -- projections from the stores --------------------------------------------------------------
def test_projection_equals_stream_edges_on_both_stores(store):
    store.write(small_batch())
    proj = project(store, props=PROPS, weight="calls_a_to_b", sort=True,
                   node_props={"Borrower": ("days_past_due", "status"), "Phone": ("status",)})
    assert rows_of(proj) == expected_rows(store, "calls_a_to_b")
    assert proj.src.dtype == np.int32 and proj.etype.dtype == np.int8
    assert proj.weight.dtype == np.float64 and proj.props["calls_a_to_b"].dtype == np.float64
    assert proj.props["source"].dtype == object
    # canonical order: the same arrays whichever store streamed them
    assert proj.ids == sorted(proj.ids) and proj.type_names == sorted(proj.type_names)
    want = sorted((t, s, d, w) for t, s, d, w in proj.edges())
    assert list(proj.edges()) == want
    assert proj.ids == ['Address:1 main st', B("B1"), B("B2"), 'Device:D1', 'Employer:acme',
                        P("+8613800000001"), P("+8613800000002"), P("+8613800000003"),
                        P("+8613800000009")]
    assert proj.weight[proj.etype == proj.type_names.index("CALLED")].tolist() == [10.0, 1.0]
    i = proj.index(B("B1"))
    assert proj.node_attrs["days_past_due"][i] == 40.0
    assert proj.node_attrs["status"][i] == "delinquent"
    assert math.isnan(proj.node_attrs["days_past_due"][proj.index(B("B2"))])
    assert proj.node_attrs["status"][proj.index(P("+8613800000009"))] == "reassigned"
    assert proj.node_attrs["status"][proj.index("Device:D1")] is None  # not a label asked for
    # a type filter and per-type weights
    two = project(store, ["USES_DEVICE", "CALLED"], type_weight={"USES_DEVICE": 0.5})
    assert sorted(two.type_names) == ["CALLED", "USES_DEVICE"] and two.n_edges == 4
    assert sorted(two.weight.tolist()) == [0.5, 0.5, 1.0, 1.0]


def test_isolated_nodes_of_node_props_labels_are_projected(store):
    store.write(small_batch())
    proj = project(store, ["CALLED"], node_props={"Borrower": ("status",)})
    assert {B("B1"), B("B2")} <= set(proj.ids)
    assert proj.n_edges == 2 and proj.n_nodes == 3 + 2


def test_chunking_and_progress_do_not_change_the_projection(sqlite_store):
    load(sqlite_store, DEMO)
    seen: list[int] = []
    small = project(sqlite_store, props=PROPS, chunk=997, sort=True, progress=seen.append)
    big = project(sqlite_store, props=PROPS, sort=True)
    assert seen == sorted(seen) and seen[-1] == small.n_edges and len(seen) > 10
    assert small.ids == big.ids and small.type_names == big.type_names
    for a in ("src", "dst", "weight", "etype"):
        assert np.array_equal(getattr(small, a), getattr(big, a))
    assert rows_of(big) == expected_rows(sqlite_store)
    # the base default (over stream_edges) gives what SQLite's SELECT gives
    base = sorted(((c.type, s, d, *(c.props[p][i] for p in PROPS))
                   for c in GraphStore.stream_edge_columns(sqlite_store, None, PROPS, chunk=500)
                   for i, (s, d) in enumerate(zip(c.src, c.dst))), key=repr)
    fast = sorted(((c.type, s, d, *(c.props[p][i] for p in PROPS))
                   for c in sqlite_store.stream_edge_columns(None, PROPS, chunk=500)
                   for i, (s, d) in enumerate(zip(c.src, c.dst))), key=repr)
    assert base == fast and len(fast) == big.n_edges
    # and so do the filters (the default filters stream_edges in Python)
    some = sorted({s for c in sqlite_store.stream_edge_columns(["LISTS_CONTACT"]) for s in c.src})[::3]
    for kw in ({"where": {"source": ["emergency"]}}, {"sources": some},
               {"where": {"source": ["phonebook"]}, "sources": some}):
        base = sorted(((c.type, s, d, *(c.props[p][i] for p in PROPS))
                       for c in GraphStore.stream_edge_columns(sqlite_store, None, PROPS, chunk=500, **kw)
                       for i, (s, d) in enumerate(zip(c.src, c.dst))), key=repr)
        fast = sorted(((c.type, s, d, *(c.props[p][i] for p in PROPS))
                       for c in sqlite_store.stream_edge_columns(None, PROPS, chunk=500, **kw)
                       for i, (s, d) in enumerate(zip(c.src, c.dst))), key=repr)
        assert base == fast and fast, kw
    nodes = [(c.ids, c.props) for c in
             GraphStore.stream_node_columns(sqlite_store, "Phone", ("status", "e164"), chunk=50)]
    assert nodes == [(c.ids, c.props) for c in
                     sqlite_store.stream_node_columns("Phone", ("status", "e164"), chunk=50)]


def test_weight_must_be_numeric(sqlite_store):
    with pytest.raises(ValueError, match="numeric"):
        project(sqlite_store, weight="source")


# -- views ------------------------------------------------------------------------------------
def small() -> Projection:
    return from_edges([("a", "b"), ("b", "c"), ("a", "b"), ("c", "d"), ("e", "d")],
                      [1.0, 2.0, 3.0, 0.5, 4.0], types=["X", "Y", "Y", "X", "X"],
                      props={"n": [1, 2, 3, 4, 5]})


def test_from_edges_and_csr():
    p = small()
    assert p.ids == ["a", "b", "c", "d", "e"] and p.type_names == ["X", "Y"]
    a = csr(p).toarray()
    assert a[0, 1] == a[1, 0] == 4.0 and a[3, 4] == 4.0 and a[0, 2] == 0.0
    d = csr(p, symmetric=False).toarray()
    assert d[0, 1] == 4.0 and d[1, 0] == 0.0 and d[4, 3] == 4.0
    assert csr(p, weighted=False).toarray()[0, 1] == 2.0
    with pytest.raises(ValueError):
        from_edges([("a", "b")], [1.0, 2.0])
    idx = from_edges([(0, 1), ("z", 0)], ids=["x", "y"])
    assert idx.ids == ["x", "y", "z"] and idx.src.tolist() == [0, 2]


def test_to_igraph_round_trip():
    p = small()
    g = to_igraph(p)
    assert not g.is_directed() and g.vcount() == 5 and g.ecount() == 5
    assert g.vs["name"] == p.ids and g.es["weight"] == p.weight.tolist()
    assert g.es["type"] == ["X", "Y", "Y", "X", "X"] and g.es["n"] == [1, 2, 3, 4, 5]
    # undirected igraph stores each edge with its smaller vertex first
    assert [tuple(sorted((s, d))) for _, s, d, _ in p.edges()] == \
        [(g.vs[e.source]["name"], g.vs[e.target]["name"]) for e in g.es]
    dg = to_igraph(p, directed=True)
    assert dg.is_directed()
    back = from_edges([(dg.vs[e.source]["name"], dg.vs[e.target]["name"]) for e in dg.es],
                      dg.es["weight"], types=dg.es["type"])
    assert list(back.edges()) == list(p.edges())


def test_to_networkx_round_trip():
    p = small()
    g = to_networkx(p)
    assert sorted(g.nodes) == p.ids and g["a"]["b"]["weight"] == 4.0
    a = nx.to_scipy_sparse_array(g, nodelist=p.ids).toarray()
    assert np.array_equal(a, csr(p).toarray())
    m = to_networkx(p, multigraph=True, directed=True)
    assert m.number_of_edges() == p.n_edges and m["a"]["b"][2]["n"] == 3
    back = from_edges([(u, v) for u, v, _ in m.edges(keys=True)],
                      [d["weight"] for *_, d in m.edges(keys=True, data=True)],
                      types=[d["type"] for *_, d in m.edges(keys=True, data=True)])
    assert sorted(back.edges()) == sorted(p.edges())


def test_subgraph():
    p = small()
    s = subgraph(p, [1, 2, 3])
    assert s.ids == ["b", "c", "d"]
    assert list(s.edges()) == [("Y", "b", "c", 2.0), ("X", "c", "d", 0.5)]
    assert s.props["n"].tolist() == [2, 4]
    m = subgraph(p, np.array([False, True, True, True, False]))
    assert m.ids == s.ids and np.array_equal(m.src, s.src) and np.array_equal(m.dst, s.dst)


def test_canonical_is_order_free():
    p = small()
    order = [4, 2, 0, 3, 1]
    shuffled = from_edges([(list(p.edges())[k][1], list(p.edges())[k][2]) for k in order],
                          p.weight[order], types=[list(p.edges())[k][0] for k in order],
                          ids=["e", "d", "c", "b", "a"])
    a, b = canonical(p), canonical(shuffled)
    assert a.ids == b.ids and list(a.edges()) == list(b.edges())


# -- personalised PageRank ----------------------------------------------------------------------
def karate(weighted: bool = True) -> tuple[nx.Graph, Projection]:
    g = nx.karate_club_graph()
    rng = np.random.default_rng(0)
    for u, v in g.edges:
        g[u][v]["weight"] = float(rng.uniform(0.1, 3.0)) if weighted else 1.0
    p = from_edges([(str(u), str(v)) for u, v in g.edges], [g[u][v]["weight"] for u, v in g.edges],
                   ids=[str(i) for i in range(34)])
    return g, p


@pytest.mark.parametrize("seeds", [0, [0, 33], {5: 1.0, 20: 3.0}])
def test_ppr_matches_networkx(seeds):
    g, p = karate()
    pers = ({seeds: 1.0} if isinstance(seeds, int) else
            {s: 1.0 for s in seeds} if isinstance(seeds, list) else seeds)
    want = nx.pagerank(g, alpha=0.75, personalization=pers, weight="weight", tol=1e-13,
                       max_iter=500)
    got = personalized_pagerank(p, seeds, alpha=0.25, max_iter=500, tol=1e-13)
    assert np.allclose(got, [want[i] for i in range(34)], atol=1e-9)
    # the same walk over the symmetric adjacency matrix, and by id
    assert np.allclose(personalized_pagerank(csr(p), seeds, max_iter=500, tol=1e-13), got,
                       atol=1e-12)
    if isinstance(seeds, int):
        assert np.array_equal(personalized_pagerank(p, str(seeds), max_iter=500, tol=1e-13), got)


def test_ppr_directed_with_dangling_nodes_matches_networkx():
    edges = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (1, 4)]  # 4 has no out-edges
    g = nx.DiGraph(edges)
    p = from_edges([(str(u), str(v)) for u, v in edges], ids=[str(i) for i in range(5)])
    want = nx.pagerank(g, alpha=0.85, personalization={0: 1.0}, tol=1e-13, max_iter=1000)
    got = personalized_pagerank(p, 0, alpha=0.15, directed=True, max_iter=1000, tol=1e-13)
    assert np.allclose(got, [want[i] for i in range(5)], atol=1e-9)


def test_ppr_rejects_bad_seeds():
    _, p = karate()
    with pytest.raises(IndexError):
        personalized_pagerank(p, 34)
    with pytest.raises(ValueError):
        personalized_pagerank(p, [])
    with pytest.raises(TypeError):
        personalized_pagerank(csr(p), "0")


# -- communities --------------------------------------------------------------------------------
def planted(blocks: int = 4, size: int = 25, p_in: float = 0.5, p_out: float = 0.01,
            seed: int = 3) -> tuple[ig.Graph, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = blocks * size
    truth = np.repeat(np.arange(blocks), size)
    pairs = [(u, v) for u in range(n) for v in range(u + 1, n)
             if rng.random() < (p_in if truth[u] == truth[v] else p_out)]
    proj = from_edges(pairs, ids=[f"v{i}" for i in range(n)])
    return to_igraph(proj), truth


def test_leiden_recovers_planted_blocks_and_is_deterministic():
    g, truth = planted()
    m = community.leiden(g, weights="weight", resolution=1.0, seed=7)
    assert m.dtype == np.int64 and len(m) == g.vcount()
    assert np.array_equal(community.relabel(m), community.relabel(truth))
    assert np.array_equal(community.leiden(g, weights="weight", seed=7), m)
    cpm = community.leiden(g, weights=None, objective="CPM", resolution=0.2, seed=1)
    assert np.array_equal(community.relabel(cpm), community.relabel(truth))
    # a higher resolution splits more
    fine = community.leiden(g, weights="weight", resolution=5.0, seed=7)
    assert len(set(fine.tolist())) > 4


def test_leiden_is_deterministic_per_seed_on_an_ambiguous_graph():
    g, _ = planted(blocks=6, size=15, p_in=0.15, p_out=0.05, seed=11)
    runs = {s: community.leiden(g, weights="weight", resolution=1.0, seed=s) for s in range(4)}
    for s, m in runs.items():
        assert np.array_equal(community.leiden(g, weights="weight", resolution=1.0, seed=s), m)


def test_leiden_and_louvain_use_the_weights():
    # K6 with heavy ties inside {0,1,2} and {3,4,5}: two communities weighted, one unweighted
    pairs = [(u, v) for u in range(6) for v in range(u + 1, 6)]
    w = [10.0 if (u < 3) == (v < 3) else 0.1 for u, v in pairs]
    g = to_igraph(from_edges(pairs, w, ids=[str(i) for i in range(6)]))
    for fn in (community.leiden, community.louvain):
        assert fn(g, weights="weight").tolist() in ([0, 0, 0, 1, 1, 1], [1, 1, 1, 0, 0, 0])
        assert fn(g, weights=None).tolist() == [0] * 6
    with pytest.raises(ValueError, match="no edge attribute"):
        community.leiden(ig.Graph.Full(3), weights="weight")
    with pytest.raises(ValueError, match="objective"):
        community.leiden(g, objective="surprise")


def test_louvain_recovers_planted_blocks_deterministically():
    g, truth = planted()
    m = community.louvain(g, weights="weight")
    assert np.array_equal(m, community.relabel(truth))
    assert np.array_equal(community.louvain(g, weights="weight", seed=3),
                          community.louvain(g, weights="weight", seed=3))
    q = community.modularity(g, m)
    assert q == pytest.approx(g.modularity(truth.tolist(), weights="weight"))
    assert q > 0.5


def test_connected_components_on_every_input():
    p = from_edges([("a", "b"), ("c", "d"), ("d", "e"), ("f", "f")], ids=["g", "e"])
    assert p.ids == ["g", "e", "a", "b", "c", "d", "f"]  # components numbered by first vertex
    assert community.connected_components(to_igraph(p)).tolist() == [0, 1, 2, 2, 1, 1, 3]
    assert community.connected_components(p).tolist() == [0, 1, 2, 2, 1, 1, 3]
    assert community.connected_components(csr(p)).tolist() == [0, 1, 2, 2, 1, 1, 3]
    d = to_igraph(from_edges([(0, 1), (1, 0), (1, 2)], ids=["x", "y", "z"]), directed=True)
    assert community.connected_components(d, mode="strong").tolist() == [0, 0, 1]
    assert community.connected_components(d).tolist() == [0, 0, 0]
    assert community.connected_components(sparse.csr_matrix((0, 0))).tolist() == []
