"""Unfitted baselines for ``find``: each a plain function ``Ego -> list[phone]``, best first.

They rank the phones of the same ego graph ``find`` ranks (the output of
:func:`skiptrace.contacts.ego.fetch`), so a comparison is on equal inputs.
None of them is fitted to anything. Numbers the lender knows to be
disconnected or reassigned (``status`` in ``DEAD``) are left out of every
baseline, and the ranked phones are E.164 strings without the ``Phone:``
prefix.

- :func:`emergency_order`: what a collector does first;
- :func:`call_count`, :func:`recent_partner`: volume and recency of calls;
- :func:`plain_ppr`: unweighted random walk with restart;
- :func:`resource_allocation`, :func:`adamic_adar`: the common-neighbour
  link predictors of the literature, on the borrower's call and listing graph;
- :func:`rule`: the recency + volume + takeover rule of issue 11, written
  from its definition (it does not use find's takeover code).

"the borrower's numbers" means the phones the borrower has a HAS_PHONE to
(dead ones included: their call history is the borrower's).
"""
from __future__ import annotations

import math
from collections.abc import Callable

from skiptrace.contacts import clock
from skiptrace.contacts.ego import Ego
from skiptrace.contacts.features import DEAD
from skiptrace.contacts.ranking.walk import personalised_pagerank, plain_edges
from skiptrace.store.base import Edge, split_id

Baseline = Callable[[Ego], list[str]]


def _dead(ego: Ego, p: str) -> bool:
    return ego.sub.nodes.get(p, {}).get("status") in DEAD


def _own(ego: Ego) -> set[str]:
    return {o for o, e in ego.adj.get(ego.center, ()) if e.type == "HAS_PHONE"}


def _calls(e: Edge) -> int:
    return int(e.props.get("calls_a_to_b") or 0) + int(e.props.get("calls_b_to_a") or 0)


def _days(e: Edge, key: str) -> float | None:
    v = e.props.get(key)
    return clock.to_days(v) if v else None


def _called(ego: Ego, n: str):
    """``(other, edge)`` for every CALLED record of ``n`` in the ego graph."""
    return ((q, e) for q, e in ego.adj.get(n, ()) if e.type == "CALLED" and q != n)


def _keys(nodes) -> list[str]:
    return [split_id(n)[1] for n in nodes]


def emergency_order(ego: Ego) -> list[str]:
    """Emergency contacts in listed order (listing time, then phone)."""
    ec = sorted((e.props.get("listed_at") or "", e.dst) for o, e in ego.adj.get(ego.center, ())
                if e.type == "LISTS_CONTACT" and e.props.get("source") == "emergency")
    return _keys(dict.fromkeys(p for _, p in ec if not _dead(ego, p)))


def call_count(ego: Ego) -> list[str]:
    """Phonebook entries and call partners of the borrower's numbers, most calls first.

    Calls are summed over the partner's records with any of the borrower's
    numbers; phonebook entries without calls follow (0 calls); ties by phone.
    """
    own = _own(ego)
    calls: dict[str, int] = {}
    for o, e in ego.adj.get(ego.center, ()):
        if e.type == "LISTS_CONTACT" and e.props.get("source") == "phonebook":
            calls.setdefault(o, 0)
    for d in own:
        for q, e in _called(ego, d):
            if q not in own:
                calls[q] = calls.get(q, 0) + _calls(e)
    return _keys(p for _, p in sorted((-n, p) for p, n in calls.items() if not _dead(ego, p)))


def plain_ppr(ego: Ego) -> list[str]:
    """Phones by unweighted personalised PageRank from the borrower (restart 0.25, undirected)."""
    pr = personalised_pagerank(ego, plain_edges(ego))
    return _keys(n for _, n in sorted((-s, n) for n, s in pr.items()
                                       if n.startswith("Phone:") and not _dead(ego, n)))


def recent_partner(ego: Ego) -> list[str]:
    """Call partners of the borrower's numbers, most recent last call first.

    A partner's last call is the latest ``last_at`` of its records with any
    of the borrower's numbers; records without one count as oldest. Ties by
    call count (more first), then phone. The borrower's own numbers are left out.
    """
    own = _own(ego)
    last: dict[str, float] = {}
    calls: dict[str, int] = {}
    for d in own:
        for q, e in _called(ego, d):
            if q in own or _dead(ego, q):
                continue
            t = _days(e, "last_at")
            last[q] = max(last.get(q, -math.inf), t if t is not None else -math.inf)
            calls[q] = calls.get(q, 0) + _calls(e)
    return _keys(q for *_, q in sorted((-last[q], -calls[q], q) for q in last))


def _common_neighbours(ego: Ego, weight: Callable[[int], float]) -> list[str]:
    """Rank by ``sum(weight(deg(q)))`` over common neighbours q of the borrower and the candidate.

    The borrower is taken together with its numbers (one node b). Its
    neighbourhood N(b) is the phones that called or were called by the
    borrower's numbers, plus the phones it lists (emergency contacts and
    phonebook). A candidate phone c's neighbourhood N(c) is its ends over
    the ego graph's CALLED and LISTS_CONTACT relationships. ``deg`` is
    :meth:`Ego.degree` (the whole-graph degree the store reported). The
    direct neighbours N(b) come first, by that sum, then by call count with
    the borrower's numbers, then phone; then the phones outside N(b) with a
    positive sum, by it, then phone. The borrower's own numbers are left
    out (they are b), as are dead numbers.
    """
    own = _own(ego)
    nb: dict[str, int] = {}  # N(b) -> calls with the borrower's numbers
    for o, e in ego.adj.get(ego.center, ()):
        if e.type == "LISTS_CONTACT" and o not in own:
            nb.setdefault(o, 0)
    for d in own:
        for q, e in _called(ego, d):
            if q not in own:
                nb[q] = nb.get(q, 0) + _calls(e)
    score: dict[str, float] = {}
    for q in nb:
        w = weight(ego.degree(q))
        for c, e in ego.adj.get(q, ()):
            if e.type in ("CALLED", "LISTS_CONTACT") and c.startswith("Phone:") and c != q \
                    and c not in own:
                score[c] = score.get(c, 0.0) + w
    direct = sorted((-score.get(c, 0.0), -n, c) for c, n in nb.items() if not _dead(ego, c))
    further = sorted((-s, c) for c, s in score.items() if c not in nb and s > 0 and not _dead(ego, c))
    return _keys([c for *_, c in direct] + [c for _, c in further])


def resource_allocation(ego: Ego) -> list[str]:
    """Resource allocation: ``sum(1 / deg(q))`` over common neighbours (see :func:`_common_neighbours`)."""
    return _common_neighbours(ego, lambda d: 1.0 / max(d, 1))


def adamic_adar(ego: Ego) -> list[str]:
    """Adamic-Adar: ``sum(1 / log(deg(q)))`` over common neighbours, ``deg`` at least 2
    (see :func:`_common_neighbours`)."""
    return _common_neighbours(ego, lambda d: 1.0 / math.log(max(d, 2)))


#: the window and time scale of :func:`rule`, in days
RULE_WINDOW, RULE_RECENCY = 90.0, 30.0


def _seconds_in_window(e: Edge, as_of: float) -> float:
    """Seconds of a call record in the ``RULE_WINDOW`` days before ``as_of``, assuming its
    calls were spread evenly from ``first_at`` to ``last_at`` (all of them when times are missing)."""
    sec = float(e.props.get("seconds_total") or 0)
    first, last = _days(e, "first_at"), _days(e, "last_at")
    if first is None or last is None:
        return sec
    lo = as_of - RULE_WINDOW
    if last <= first:
        return sec if lo <= last <= as_of else 0.0
    return sec * max(0.0, min(last, as_of) - max(first, lo)) / (last - first)


def rule(ego: Ego) -> list[str]:
    """The unfitted recency + volume + takeover rule.

    1. The probable new number: for each dead number D of the borrower, a
       phone X registered to nobody (no HAS_PHONE in the ego graph), not one
       of the borrower's numbers, *takes over* D's call partner Q when X's
       calls with Q began (``first_at``) no earlier than D's last call with Q
       (``last_at``; equal time stamps count: call records are aggregates,
       and a handover can happen within one of them). The X that took over the most partners, at least two,
       comes first (ties by phone).
    2. Then the call partners of that new number, then every other phone,
       each group by ``log1p(s) + 3 * exp(-age / 30)``: ``s`` the call
       seconds with the borrower's numbers (the new number counts as one) in
       the 90 days before ``as_of`` (a record's seconds pro-rated over its
       span), ``age`` the days since the last call with them (the term is 0
       without calls). Ties by phone. Dead numbers are left out.
    """
    own, as_of = _own(ego), ego.as_of
    taken: dict[str, set[str]] = {}
    for d in (d for d in own if _dead(ego, d)):
        for q, e in _called(ego, d):
            last = _days(e, "last_at")
            for x, e2 in _called(ego, q):
                first = _days(e2, "first_at")
                if (x not in own and x != d and last is not None and first is not None
                        and first >= last and not any(f.type == "HAS_PHONE" for _, f in ego.adj[x])):
                    taken.setdefault(x, set()).add(q)
    new = min(((-len(qs), x) for x, qs in taken.items() if len(qs) >= 2), default=(0, None))[1]
    mine = own | ({new} if new else set())
    secs: dict[str, float] = {}
    age: dict[str, float] = {}
    for d in mine:
        for q, e in _called(ego, d):
            secs[q] = secs.get(q, 0.0) + _seconds_in_window(e, as_of)
            t = _days(e, "last_at")
            if t is not None:
                age[q] = min(age.get(q, math.inf), max(0.0, as_of - t))
    partners = {q for q, _ in _called(ego, new)} if new else set()

    def key(p: str) -> tuple:
        s = math.log1p(secs.get(p, 0.0)) + 3.0 * math.exp(-age.get(p, math.inf) / RULE_RECENCY)
        return (0 if p == new else 1 if p in partners else 2, -s, p)

    phones = [n for n in ego.adj if n.startswith("Phone:") and not _dead(ego, n)]
    return _keys(sorted(phones, key=key))


#: the unfitted baselines, by name (``evaluate_find`` runs every one)
BASELINES: dict[str, Baseline] = {
    "emergency_order": emergency_order, "call_count": call_count, "plain_ppr": plain_ppr,
    "rule": rule, "resource_allocation": resource_allocation, "adamic_adar": adamic_adar,
    "recent_partner": recent_partner}
