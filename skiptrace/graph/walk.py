"""Random walks over a whole-graph projection (or any sparse adjacency matrix)."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Union

import numpy as np
from scipy import sparse

from skiptrace.graph.project import Projection

__all__ = ["personalized_pagerank"]

log = logging.getLogger(__name__)

Seed = Union[int, str]
Seeds = Union[Seed, Iterable[Seed], Mapping[Seed, float]]


def _arrays(graph: Projection | sparse.spmatrix | sparse.sparray,
            directed: bool) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """``(n, rows, cols, weights)``: one entry per step ``rows[k] -> cols[k]``."""
    if isinstance(graph, Projection):
        u, v, w = graph.src, graph.dst, graph.weight
        if directed:
            return graph.n_nodes, u, v, w
        return graph.n_nodes, np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([w, w])
    a = sparse.coo_matrix(graph)
    if a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency matrix must be square, got {a.shape}")
    return a.shape[0], a.row, a.col, a.data.astype(np.float64, copy=False)


def _restart(seeds: Seeds, n: int, graph: object) -> np.ndarray:
    """The restart distribution: uniform over the seeds, or proportional to a mapping's values."""
    def at(s: Seed) -> int:
        if isinstance(s, str):
            if not isinstance(graph, Projection):
                raise TypeError("seeds by id need a Projection; give indices for a matrix")
            return graph.index(s)
        i = int(s)
        if not 0 <= i < n:
            raise IndexError(f"seed {i} outside 0..{n - 1}")
        return i

    e0 = np.zeros(n)
    if isinstance(seeds, Mapping):
        for s, w in seeds.items():
            if w < 0:
                raise ValueError("seed weights must be non-negative")
            e0[at(s)] += float(w)
    elif isinstance(seeds, (str, int, np.integer)):
        e0[at(seeds)] = 1.0
    else:
        for s in seeds:
            e0[at(s)] += 1.0
    total = e0.sum()
    if total <= 0:
        raise ValueError("no seeds (or only zero weights)")
    return e0 if total == 1.0 else e0 / total


def personalized_pagerank(graph: Projection | sparse.spmatrix | sparse.sparray, seeds: Seeds, *,
                          alpha: float = 0.25, max_iter: int = 50, tol: float = 1e-8,
                          directed: bool = False) -> np.ndarray:
    """Personalised PageRank (random walk with restart) from ``seeds``.

    Definition: the stationary distribution ``x`` of a walk that at each
    step jumps back to the restart distribution ``e`` with probability
    ``alpha`` and otherwise follows an edge with probability proportional
    to its weight: ``x = alpha e + (1 - alpha) (P^T x + d(x) e)`` where
    ``P`` is the row-normalised weighted adjacency and ``d(x)`` the mass on
    nodes without out-edges (sent back to the seeds). Note that ``alpha``
    is the *restart* probability: networkx's ``pagerank(alpha=a)`` is
    ``alpha = 1 - a`` here.

    Parameters
    ----------
    graph : Projection or sparse matrix
        A projection (rows ``src -> dst`` with ``weight``; undirected unless
        ``directed``) or an n x n adjacency matrix ``A`` where ``A[i, j]``
        weighs the step ``i -> j`` (give it symmetric for an undirected graph;
        ``directed`` is then ignored).
    seeds : index, id, iterable of them, or mapping to weights
        Where the walk restarts: uniformly over the seeds, or proportionally
        to the mapping's values. Ids need a projection.
    alpha : float
        Restart probability per step (default 0.25).
    max_iter, tol : int, float
        Power iteration stops after ``max_iter`` steps or once the L1 change
        of a step is below ``tol``.
    directed : bool
        For a projection: follow rows only from ``src`` to ``dst``.

    Returns
    -------
    np.ndarray
        Visit probability of each node (sums to 1 up to ``tol``).

    Complexity
    ----------
    O(E log E) to build the transition matrix, then O(max_iter * E).

    Example
    -------
    >>> from skiptrace.graph.project import from_edges
    >>> p = from_edges([("a", "b"), ("b", "c")])
    >>> x = personalized_pagerank(p, "a", alpha=0.5)
    >>> bool(x[0] > x[1] > x[2]), round(float(x.sum()), 6)
    (True, 1.0)
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError("alpha (the restart probability) must be in (0, 1]")
    n, rows, cols, vals = _arrays(graph, directed)
    e0 = _restart(seeds, n, graph)
    out = np.bincount(rows, weights=vals, minlength=n)
    vals = vals / np.where(out[rows] > 0, out[rows], 1.0)
    # P[i, j]: probability of stepping from i to j; iterate x <- alpha e + (1 - alpha) P^T x
    pt = sparse.csr_matrix((vals, (cols, rows)), shape=(n, n))
    dangling = out == 0
    x = e0.copy()
    for _ in range(max_iter):
        nxt = alpha * e0 + (1 - alpha) * (pt @ x + x[dangling].sum() * e0)
        if np.abs(nxt - x).sum() < tol:
            x = nxt
            break
        x = nxt
    else:
        log.debug("personalized_pagerank: no convergence to %g in %d steps", tol, max_iter)
    return x
