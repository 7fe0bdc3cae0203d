"""The LFR benchmark for the community step of ring detection.

:func:`evaluate_lfr` builds a Lancichinetti-Fortunato-Radicchi graph
(``networkx.generators.community.LFR_benchmark_graph``) with planted
communities, runs a community function on it and reports its normalised
mutual information (scikit-learn ``normalized_mutual_info_score``, arithmetic
normalisation) with the planted partition, beside plain Louvain (igraph
``community_multilevel``) on the same graph.

The mixing the generator is asked for (``mu``) is not the one it delivers:
:func:`actual_mixing` measures it as the mean over nodes of the share of a
node's edges that leave its planted community (nodes without edges are
left out). Report that figure beside any NMI.

The community function defaults to ``skiptrace.rings.communities(g, *,
weights, seed)``; when that cannot be imported, :func:`leiden_communities`
(leidenalg's modularity partition directly) stands in, and the result says
which one ran.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import igraph
    import networkx as nx

log = logging.getLogger(__name__)

CommunityFn = Callable[..., np.ndarray]

__all__ = ["LFRResult", "actual_mixing", "evaluate_lfr", "leiden_communities", "lfr_graph",
           "louvain_communities", "planted_membership"]


def lfr_graph(n: int = 1000, *, mu: float = 0.3, tau1: float = 3.0, tau2: float = 1.5,
              average_degree: float = 15.0, max_degree: int = 50, min_community: int = 20,
              max_community: int = 100, seed: int = 0, tries: int = 10) -> tuple["nx.Graph", int]:
    """An LFR graph and the seed that built it.

    networkx's generator fails to converge for some seeds (``ExceededMaxIterations``);
    seeds ``seed, seed + 1, ...`` are tried up to ``tries`` times. Self-loops
    (rare) are removed. The defaults are the usual benchmark setting for
    ``n`` = 1000 (degree exponent 3, community-size exponent 1.5).
    """
    import networkx as nx
    from networkx.generators.community import LFR_benchmark_graph

    last: Exception | None = None
    for s in range(seed, seed + tries):
        try:
            g = LFR_benchmark_graph(n, tau1, tau2, mu, average_degree=average_degree,
                                    max_degree=max_degree, min_community=min_community,
                                    max_community=max_community, seed=s)
        except nx.ExceededMaxIterations as exc:
            last = exc
            continue
        g.remove_edges_from(list(nx.selfloop_edges(g)))
        return g, s
    raise RuntimeError(f"LFR generator did not converge for seeds {seed}..{seed + tries - 1}: {last}")


def planted_membership(g: "nx.Graph") -> np.ndarray:
    """The planted community of each node (nodes in ``sorted(g)`` order), numbered from 0.

    LFR stores each node's community as the node attribute ``community`` (a set
    of nodes, the same set object for all members)."""
    label: dict[Any, int] = {}
    out = np.empty(g.number_of_nodes(), np.int64)
    for i, v in enumerate(sorted(g)):
        key = min(g.nodes[v]["community"])
        out[i] = label.setdefault(key, len(label))
    return out


def actual_mixing(g: "nx.Graph", membership: np.ndarray | None = None) -> float:
    """Mean over nodes with at least one edge of (edges to other communities) / degree.

    ``membership`` per node in ``sorted(g)`` order (default: the planted one).

    >>> import networkx as nx
    >>> g = nx.Graph([(0, 1), (1, 2), (2, 3)])
    >>> actual_mixing(g, np.array([0, 0, 1, 1]))   # node 1: 1/2, node 2: 1/2, others 0
    0.25
    """
    memb = planted_membership(g) if membership is None else np.asarray(membership)
    index = {v: i for i, v in enumerate(sorted(g))}
    out_share = []
    for v in g:
        deg = g.degree(v)
        if not deg:
            continue
        c = memb[index[v]]
        out = sum(1 for u in g.neighbors(v) if memb[index[u]] != c)
        out_share.append(out / deg)
    return float(np.mean(out_share)) if out_share else 0.0


def to_igraph(g: "nx.Graph") -> "igraph.Graph":
    """``g`` as an undirected igraph.Graph, vertices in ``sorted(g)`` order, edge weight 1."""
    import igraph

    index = {v: i for i, v in enumerate(sorted(g))}
    ig = igraph.Graph(n=len(index), edges=[(index[a], index[b]) for a, b in g.edges()], directed=False)
    ig.es["weight"] = [1.0] * ig.ecount()
    return ig


def leiden_communities(g: "igraph.Graph", *, weights: str | None = "weight", seed: int = 0) -> np.ndarray:
    """leidenalg's modularity partition (the stand-in for ``skiptrace.rings.communities``)."""
    import leidenalg

    w = weights if weights and weights in g.es.attributes() else None
    part = leidenalg.find_partition(g, leidenalg.ModularityVertexPartition, weights=w, seed=seed)
    return np.asarray(part.membership, np.int64)


def louvain_communities(g: "igraph.Graph", *, weights: str | None = "weight", seed: int = 0) -> np.ndarray:
    """Plain Louvain (igraph ``community_multilevel``), seeded through igraph's generator."""
    import igraph

    w = weights if weights and weights in g.es.attributes() else None
    igraph.set_random_number_generator(random.Random(seed))
    try:
        return np.asarray(g.community_multilevel(weights=w).membership, np.int64)
    finally:
        igraph.set_random_number_generator(random)


def default_communities() -> tuple[CommunityFn, str]:
    """``skiptrace.rings.communities`` when importable, else :func:`leiden_communities`."""
    try:
        from skiptrace.rings import communities
    except ImportError:
        log.warning("skiptrace.rings.communities is not importable; LFR runs leidenalg directly")
        return leiden_communities, "leidenalg (stand-in)"
    return communities, "skiptrace.rings.communities"


@dataclass
class LFRResult:
    """NMI of the community step and of Louvain on one LFR graph."""

    n: int
    edges: int
    mu_requested: float
    mu_actual: float
    communities: int            # planted
    seed: int                   # the generator seed that converged
    method: str                 # which community function ran
    nmi: float
    nmi_louvain: float
    found: int                  # communities the method found
    found_louvain: int
    seconds: float
    seconds_louvain: float

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("mu_actual", "nmi", "nmi_louvain", "seconds", "seconds_louvain"):
            d[k] = round(d[k], 4)
        return d


def evaluate_lfr(n: int = 1000, *, mu: float = 0.3, seed: int = 0,
                 communities: CommunityFn | None = None, **lfr_kwargs: Any) -> LFRResult:
    """Build an LFR graph (:func:`lfr_graph`), run ``communities(g, weights="weight", seed=seed)``
    (default :func:`default_communities`) and Louvain on it, and score both by NMI with the
    planted partition. Cost: the generator dominates (seconds for n = 1000, about a minute
    for n = 5000)."""
    from sklearn.metrics import normalized_mutual_info_score

    g, used = lfr_graph(n, mu=mu, seed=seed, **lfr_kwargs)
    truth = planted_membership(g)
    ig = to_igraph(g)
    if communities is None:
        fn, name = default_communities()
    else:
        fn, name = communities, getattr(communities, "__name__", "custom")
    t = time.perf_counter()
    got = np.asarray(fn(ig, weights="weight", seed=seed))
    secs = time.perf_counter() - t
    t = time.perf_counter()
    louv = louvain_communities(ig, seed=seed)
    secs_l = time.perf_counter() - t
    res = LFRResult(n, g.number_of_edges(), mu, actual_mixing(g, truth), int(truth.max()) + 1, used,
                    name, float(normalized_mutual_info_score(truth, got)),
                    float(normalized_mutual_info_score(truth, louv)), len(set(got.tolist())),
                    len(set(louv.tolist())), secs, secs_l)
    log.info("LFR n=%d mu=%.2f (actual %.3f): NMI %s %.3f, Louvain %.3f", n, mu, res.mu_actual,
             name, res.nmi, res.nmi_louvain)
    return res
