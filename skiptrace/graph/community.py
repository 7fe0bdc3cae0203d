"""Communities: connected components, Leiden and Louvain.

Each function takes an ``igraph.Graph`` (a :class:`~skiptrace.graph.project.Projection`
is converted with :func:`~skiptrace.graph.project.to_igraph`) and returns a
numpy int64 membership array of length ``vcount``: ``membership[v]`` is the
community of vertex ``v``. Ring detection and its evaluation are built on
exactly these names and signatures.

Weights are named by edge attribute (``weights="weight"``, the attribute
:func:`~skiptrace.graph.project.to_igraph` writes), given as a sequence, or
None for an unweighted graph; a named attribute the graph lacks is an error
rather than a silent unweighted run.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from skiptrace.graph.project import Projection, csr, to_igraph

if TYPE_CHECKING:  # pragma: no cover
    import igraph

__all__ = ["connected_components", "leiden", "louvain", "modularity", "relabel"]

Weights = str | Sequence[float] | None


def _graph(g: "igraph.Graph | Projection") -> "igraph.Graph":
    return to_igraph(g) if isinstance(g, Projection) else g


def _weights(g: "igraph.Graph", weights: Weights) -> list[float] | None:
    if weights is None:
        return None
    if isinstance(weights, str):
        if weights not in g.es.attributes():
            raise ValueError(f"the graph has no edge attribute {weights!r} "
                             f"(has {sorted(g.es.attributes())}); pass weights=None for none")
        return [float(w) for w in g.es[weights]]
    out = [float(w) for w in weights]
    if len(out) != g.ecount():
        raise ValueError(f"{len(out)} weights for {g.ecount()} edges")
    return out


def relabel(membership: Sequence[int] | np.ndarray) -> np.ndarray:
    """Renumber communities ``0, 1, ...`` in order of their first vertex.

    Two memberships that describe the same partition become equal arrays.
    Complexity: O(N).

    >>> relabel([5, 5, 2, 7, 2]).tolist()
    [0, 0, 1, 2, 1]
    """
    m = np.asarray(membership, dtype=np.int64)
    if m.size == 0:
        return m
    _, first, inverse = np.unique(m, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()]


def connected_components(g: "igraph.Graph | Projection | sparse.spmatrix",
                         *, mode: Literal["weak", "strong"] = "weak") -> np.ndarray:
    """Connected components.

    Definition: ``u`` and ``v`` share a component when a path joins them
    (``"weak"``: ignoring edge direction; ``"strong"``: along it, both
    ways). Components are numbered in order of their first vertex.

    Parameters
    ----------
    g : igraph.Graph, Projection or sparse adjacency matrix
        A projection or matrix is labelled with scipy, without building an
        igraph graph.
    mode : "weak" or "strong"

    Returns
    -------
    np.ndarray of int64, one component per vertex.

    Complexity: O(N + E).

    >>> import igraph as ig
    >>> connected_components(ig.Graph(n=4, edges=[(0, 2)])).tolist()
    [0, 1, 0, 2]
    """
    if mode not in ("weak", "strong"):
        raise ValueError("mode must be 'weak' or 'strong'")
    if isinstance(g, Projection) or sparse.issparse(g):
        a = csr(g, symmetric=False) if isinstance(g, Projection) else sparse.csr_matrix(g)
        _, labels = csgraph.connected_components(a, directed=True, connection=mode)
        return relabel(labels)
    return relabel(g.connected_components(mode=mode).membership)


def leiden(g: "igraph.Graph | Projection", *, weights: Weights = "weight",
           resolution: float = 1.0, objective: Literal["modularity", "CPM"] = "modularity",
           seed: int = 0, n_iterations: int = -1,
           initial_membership: Sequence[int] | None = None) -> np.ndarray:
    """Communities by the Leiden algorithm (leidenalg on igraph).

    Definition: a partition that locally maximises the quality function,
    refined so that every community is connected (Traag, Waltman & van Eck
    2019). ``objective="modularity"``: ``Q = 1/2m sum_ij (A_ij - gamma k_i
    k_j / 2m) delta(c_i, c_j)`` (RBConfiguration; ``gamma = resolution``,
    1 is classic modularity). ``"CPM"``: ``sum_c (e_c - gamma n_c (n_c -
    1) / 2)``, a density threshold: a community must be denser than
    ``resolution`` (in weight per pair), whatever the graph's size.

    Parameters
    ----------
    g : igraph.Graph or Projection
    weights : edge attribute name, sequence or None
    resolution : float
        ``gamma`` above: higher gives more, smaller communities.
    objective : "modularity" or "CPM"
    seed : int
        The same seed on the same graph gives the same membership.
    n_iterations : int
        Leiden passes; negative: until a pass improves nothing.
    initial_membership : sequence of int, optional
        Start from this partition instead of singletons.

    Returns
    -------
    np.ndarray of int64: community per vertex, numbered by decreasing size.

    Complexity: about O(E) per pass in practice.

    >>> import igraph as ig
    >>> two = ig.Graph.Full(4) + ig.Graph.Full(4)   # two disjoint cliques
    >>> leiden(two, weights=None).tolist()
    [0, 0, 0, 0, 1, 1, 1, 1]
    """
    import leidenalg as la

    graph = _graph(g)
    kinds = {"modularity": la.RBConfigurationVertexPartition, "CPM": la.CPMVertexPartition}
    if objective not in kinds:
        raise ValueError(f"objective must be one of {sorted(kinds)}, not {objective!r}")
    part = la.find_partition(graph, kinds[objective], weights=_weights(graph, weights),
                             resolution_parameter=resolution, seed=seed,
                             n_iterations=n_iterations,
                             initial_membership=None if initial_membership is None
                             else list(initial_membership))
    return np.asarray(part.membership, dtype=np.int64)


def louvain(g: "igraph.Graph | Projection", *, weights: Weights = "weight",
            resolution: float = 1.0, seed: int = 0) -> np.ndarray:
    """Communities by the Louvain method (igraph ``community_multilevel``): a baseline to Leiden.

    Definition: greedy modularity maximisation by local moves, then
    aggregation of each community into a vertex, repeated while modularity
    grows (Blondel et al. 2008); the level of highest modularity is
    returned. Unlike Leiden it may return badly connected communities.
    A directed graph is read as undirected.

    Parameters
    ----------
    g : igraph.Graph or Projection
    weights : edge attribute name, sequence or None
    resolution : float
        Modularity resolution (1: classic).
    seed : int
        Seeds igraph's random generator for this call only (vertex order),
        so the same seed gives the same membership.

    Returns
    -------
    np.ndarray of int64: community per vertex, numbered by first vertex.

    Complexity: about O(E) per level in practice.
    """
    import igraph as ig

    graph = _graph(g)
    w = _weights(graph, weights)
    if graph.is_directed():
        graph = graph.as_undirected(mode="each")
    ig.set_random_number_generator(random.Random(seed))
    try:
        clusters = graph.community_multilevel(weights=w, resolution=resolution)
    finally:
        ig.set_random_number_generator(random)  # igraph's default: Python's random module
    return relabel(clusters.membership)


def modularity(g: "igraph.Graph | Projection", membership: Sequence[int] | np.ndarray, *,
               weights: Weights = "weight", resolution: float = 1.0) -> float:
    """Modularity ``Q`` of a partition (see :func:`leiden`), undirected. Complexity: O(E).

    >>> import igraph as ig
    >>> round(modularity(ig.Graph.Full(3) + ig.Graph.Full(3), [0, 0, 0, 1, 1, 1], weights=None), 3)
    0.5
    """
    graph = _graph(g)
    return float(graph.modularity(list(np.asarray(membership).tolist()),
                                  weights=_weights(graph, weights), resolution=resolution,
                                  directed=False))
