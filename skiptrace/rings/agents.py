"""Agent hubs: contact phones behind anti-collection rings.

An anti-collection agent coaches borrowers who are otherwise unrelated to
default and resist collection together; the lender sees the agent's phone in
their contact lists (emergency contact or phonebook) and their default
onsets bunched in time. A courier or a popular relative is listed by many
borrowers too, but its delinquent listers default at any time.

Test, per phone listed by at least ``min_members`` delinquent borrowers (and
registered by none, so not a borrower's own number nor a company
switchboard): slide a window of ``window`` days over the default onsets of
its delinquent listers and take the window with the most, ``m``. Under the
null (listing the phone says nothing about when one defaults) the count in
that window is Poisson with mean ``lambda = listers * p``, ``p`` the share of
the rest of the book (all borrowers but this phone's listers) whose onset
falls in the same window. The phone is an agent
when ``m >= min_members``, at least ``min_emergency`` of them name it as
their emergency contact (an agent puts himself where collectors call: a
shared acquaintance sits in phonebooks only), ``m / lambda >= min_lift`` and the Poisson tail,
times the number of phones tested (Bonferroni), is below ``alpha``. The
ring is the agent's listers with an onset in the window; agents whose
windows overlap and who share a member are one ring.

``listers`` counts listing relationships (a borrower who lists a phone both
as emergency contact and in the phonebook counts twice), which can only
raise ``lambda``: the test errs towards calling no one an agent.

Cost: the delinquent borrowers' listings come with the projection; one
degree query for the phones with a bunched window; O(L log L) for L listings.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from skiptrace.rings.project import KIND_CODE, RingGraph
from skiptrace.store.base import GraphStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentConfig:
    """Thresholds of the agent test (see the module docstring)."""

    window: float = 30.0  # days
    min_members: int = 5
    min_lift: float = 4.0
    min_emergency: int = 2  # bunched members naming the phone as their emergency contact
    alpha: float = 0.01  # family-wise: a 1% chance that any agent in the book is a false one
    chunk: int = 2000


@dataclass
class AgentHub:
    phone: str  # node id "Phone:+86..."
    listers: int  # distinct borrowers listing it
    delinquent: int  # of them delinquent
    members: np.ndarray  # borrower indices with an onset in the window
    window: tuple[float, float]  # onset days
    expected: float  # lambda
    p_value: float  # Bonferroni-adjusted


def find_agents(store: GraphStore, graph: RingGraph, config: AgentConfig | None = None, *,
                progress: Callable[[str], None] | None = None) -> list[AgentHub]:
    """Agent hubs among the phones delinquent borrowers list (see the module docstring)."""
    cfg = config or AgentConfig()
    say = progress or (lambda _m: None)
    say("agents")
    registered = {graph.idents[i] for i in np.flatnonzero(graph.ident_kind == KIND_CODE["phone"])}
    excluded = registered | graph.switchboards
    onset = graph.onset
    ok = ~np.isnan(onset[graph.list_b])
    b_all, p_all = graph.list_b[ok], graph.list_p[ok]
    em = graph.list_emergency[ok] if len(graph.list_emergency) else np.zeros(len(b_all), bool)
    as_emergency = set(zip(p_all[em].tolist(), b_all[em].tolist()))
    # one listing per (phone, borrower), phones in index order, onsets ascending within each
    key = np.unique(p_all.astype(np.int64) * max(graph.n, 1) + b_all)
    p_s, b_s = key // max(graph.n, 1), key % max(graph.n, 1)
    order = np.lexsort((onset[b_s], p_s))
    p_s, b_s = p_s[order], b_s[order]
    starts = np.flatnonzero(np.r_[True, p_s[1:] != p_s[:-1]]) if len(p_s) else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, len(p_s)])
    # the window count first, from delinquent listers alone: most phones stop here. For
    # every listing j of a phone with at least min_members listers, ends[j] is one past the
    # last listing of its phone with onset <= onset[j] + window (searchsorted per phone,
    # done for all phones at once by one stable sort of the listings and the queries)
    found: list[tuple[str, np.ndarray, np.ndarray, int, float, float]] = []
    big = sizes >= cfg.min_members
    sel = np.repeat(big, sizes)
    g_start = np.repeat(starts, sizes)[sel]  # each kept listing's phone's first listing
    idx = np.flatnonzero(sel)
    on_all = onset[b_s[idx]]
    ends = _window_ends(p_s[idx], on_all, cfg.window) + (idx - np.arange(len(idx)))
    counts = ends - idx
    # per phone, the first listing with the most listings in its window (np.argmax's choice)
    k_starts = np.flatnonzero(np.r_[True, g_start[1:] != g_start[:-1]]) if len(idx) else idx
    best = np.maximum.reduceat(counts, k_starts) if len(idx) else counts
    at = np.repeat(best, np.diff(np.r_[k_starts, len(idx)]))
    first = np.flatnonzero(counts == at)
    first = first[np.r_[True, g_start[first[1:]] != g_start[first[:-1]]]] if len(first) else first
    for j in first[counts[first] >= cfg.min_members].tolist():
        st, i, e = int(g_start[j]), int(idx[j]), int(ends[j])
        phone = graph.listed[int(p_s[st])]
        if phone in excluded:
            continue
        sz = int(sizes[np.searchsorted(starts, st)])
        window_members = b_s[i:e]
        named = sum((int(p_s[st]), int(b)) in as_emergency for b in window_members.tolist())
        if named >= cfg.min_emergency:
            on = onset[b_s[st:st + sz]]
            found.append((phone, window_members, b_s[st:st + sz], e - i,
                          float(on[i - st]), float(on[e - st - 1])))
    tests = int(big.sum())
    if not found:
        return []
    listers = store.degrees([f[0] for f in found], ["LISTS_CONTACT"])
    book = np.sort(onset[~np.isnan(onset)])
    n_book = max(graph.n, 1)
    out: list[AgentHub] = []
    for phone, members, delinquent, m, lo, last in found:
        total = max(listers.get(phone, len(delinquent)), len(delinquent))
        in_window = np.searchsorted(book, lo + cfg.window, side="right") - np.searchsorted(book, lo, side="left")
        # the book without this phone's own listers: a big ring must not raise its own null
        p_window = max(in_window - m, 0) / max(n_book - total, 1)
        lam = max(total * p_window, 1e-9)
        pv = min(1.0, float(stats.poisson.sf(m - 1, lam)) * tests)
        if m / lam >= cfg.min_lift and pv < cfg.alpha:
            out.append(AgentHub(phone=phone, listers=total, delinquent=len(delinquent),
                                members=np.sort(members), window=(lo, last), expected=lam, p_value=pv))
    log.info("agents: %d phones tested, %d with a bunched window, %d agents", tests, len(found), len(out))
    return out


def _window_ends(group: np.ndarray, on: np.ndarray, window: float) -> np.ndarray:
    """For listings sorted by (group, on): per listing j, the number of listings before
    ``j``'s group's end with ``group == group[j]`` and ``on <= on[j] + window``, counted
    from the array's start, as ``np.searchsorted(on_g, on_g + window, side="right")``
    per group would give (offset by the group's start). Exact: the query values are the
    same float sums, ties put listings before queries."""
    n = len(on)
    if not n:
        return np.zeros(0, np.int64)
    q = on + window
    vals = np.concatenate([on, q])
    grp = np.concatenate([group, group])
    kind = np.r_[np.zeros(n, np.int8), np.ones(n, np.int8)]  # a listing before a query on a tie
    order = np.lexsort((kind, vals, grp))
    is_q = order >= n
    # listings up to each query's place in the merged order
    before = np.cumsum(~is_q)[is_q]
    ends = np.empty(n, np.int64)
    ends[order[is_q] - n] = before
    return ends


def agent_groups(agents: list[AgentHub], min_shared: int = 1) -> list[list[AgentHub]]:
    """Agents of one ring, grouped (union-find): two agents are linked when their onset
    windows overlap and at least ``min_shared`` borrowers list both within them."""
    parent = list(range(len(agents)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a in range(len(agents)):
        for b in range(a + 1, len(agents)):
            wa, wb = agents[a].window, agents[b].window
            if wa[0] <= wb[1] and wb[0] <= wa[1] and \
                    len(np.intersect1d(agents[a].members, agents[b].members)) >= min_shared:
                parent[find(a)] = find(b)
    groups: dict[int, list[AgentHub]] = {}
    for i, a in enumerate(agents):
        groups.setdefault(find(i), []).append(a)
    return [sorted(g, key=lambda a: a.phone) for _, g in sorted(groups.items())]
