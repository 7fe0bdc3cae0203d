"""Random walk with restart (personalised PageRank) over a borrower's ego graph.

The walk restarts at the borrower with probability ``alpha`` at each step
and otherwise follows a relationship with probability proportional to its
weight. :func:`weighted_edges` gives the typed, rarity-weighted weights that
``find`` uses; :func:`plain_edges` gives weight 1 everywhere (the unweighted
baseline). Both treat relationships as undirected.

The walk itself is :func:`skiptrace.graph.walk.personalized_pagerank`; this
module keeps what is particular to ``find``: which relationships weigh how much.

Cost: O(iterations * E) for E ego-graph relationships (sparse power
iteration; 50 iterations at most, stopping at an L1 change below 1e-8).
"""
from __future__ import annotations

import math
from collections.abc import Callable

from skiptrace.contacts import clock
from skiptrace.contacts.ego import Ego
from skiptrace.graph import walk as graph_walk
from skiptrace.graph.project import from_edges
from skiptrace.store.base import Edge

#: base weight of a relationship by type (LISTS_CONTACT by source)
TYPE_WEIGHT = {"HAS_PHONE": 1.0, "emergency": 1.0, "phonebook": 0.3, "CALLED": 1.0,
               "USES_DEVICE": 0.7, "LIVES_AT": 0.7, "WORKS_AT": 0.4, "EMPLOYED_BY": 0.4}
ALPHA = 0.25


def _rarity(d: int) -> float:
    return 1.0 / math.sqrt(max(1.0, d / 10.0))


def call_strength(e: Edge, as_of: float) -> float:
    """Strength of a CALLED record: ``(0.2 + log1p(calls)) * (0.3 + 0.7 * exp(-age / 30))``,
    ``age`` in days from its last call to ``as_of`` (365 when unknown)."""
    n = int(e.props.get("calls_a_to_b") or 0) + int(e.props.get("calls_b_to_a") or 0)
    last = e.props.get("last_at")
    age = max(0.0, as_of - clock.to_days(last)) if last else 365.0
    return (0.2 + math.log1p(n)) * (0.3 + 0.7 * math.exp(-age / 30.0))


def weighted_edges(ego: Ego, *, strength: Callable[[Edge], float] | None = None,
                   degree: Callable[[str], int] | None = None) -> list[tuple[str, str, float]]:
    """``(u, v, w)`` per relationship: type weight x tie strength x rarity of both ends.

    A CALLED record weighs ``(0.2 + log1p(calls)) * (0.3 + 0.7 * exp(-age / 30))``
    with ``age`` the days from its last call to ``as_of``. Rarity is that of
    :func:`skiptrace.contacts.features.rarity`; the borrower itself is exempt.
    ``strength`` and ``degree`` replace ``call_strength(e, ego.as_of)`` and ``ego.degree``
    with memoised versions of them (the same values; :class:`skiptrace.contacts.features.Memo`).
    """
    as_of, center = ego.as_of, ego.center
    strength = strength or (lambda e: call_strength(e, as_of))
    degree = degree or ego.degree
    rarity: dict[str, float] = {}
    out = []
    for e in ego.edges:
        if e.type == "LISTS_CONTACT":
            w = TYPE_WEIGHT.get(e.props.get("source") or "phonebook", 0.3)
        elif e.type == "CALLED":
            w = strength(e)
        else:
            w = TYPE_WEIGHT.get(e.type, 0.5)
        for end in (e.src, e.dst):
            if end != center:
                r = rarity.get(end)
                if r is None:
                    r = rarity[end] = _rarity(degree(end))
                w *= r
        out.append((e.src, e.dst, w))
    return out


def plain_edges(ego: Ego) -> list[tuple[str, str, float]]:
    """Every relationship with weight 1 (the unweighted baseline)."""
    return [(e.src, e.dst, 1.0) for e in ego.edges]


def personalised_pagerank(ego: Ego, edges: list[tuple[str, str, float]], *, alpha: float = ALPHA,
                          max_iter: int = 50, tol: float = 1e-8) -> dict[str, float]:
    """Stationary visit probability of each ego-graph node for a walk restarting at the borrower
    (:func:`skiptrace.graph.walk.personalized_pagerank` over the ego graph's ``edges``, undirected)."""
    if not edges:
        return {ego.center: 1.0}
    proj = from_edges(((a, b) for a, b, _ in edges), [c for _, _, c in edges],
                      ids=sorted(ego.sub.hops))
    x = graph_walk.personalized_pagerank(proj, ego.center, alpha=alpha, max_iter=max_iter, tol=tol)
    return dict(zip(proj.ids, x.tolist()))
