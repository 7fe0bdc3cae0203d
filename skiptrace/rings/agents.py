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
    # the window count first, from delinquent listers alone: most phones stop here
    found: list[tuple[str, np.ndarray, np.ndarray, int, float, float]] = []
    for st, sz in zip(starts[sizes >= cfg.min_members].tolist(), sizes[sizes >= cfg.min_members].tolist()):
        phone = graph.listed[int(p_s[st])]
        if phone in excluded:
            continue
        on = onset[b_s[st:st + sz]]
        ends = np.searchsorted(on, on + cfg.window, side="right")
        counts = ends - np.arange(sz)
        i = int(np.argmax(counts))
        window_members = b_s[st + i:st + ends[i]]
        named = sum((int(p_s[st]), int(b)) in as_emergency for b in window_members.tolist())
        if counts[i] >= cfg.min_members and named >= cfg.min_emergency:
            found.append((phone, b_s[st + i:st + ends[i]], b_s[st:st + sz], int(counts[i]),
                          float(on[i]), float(on[ends[i] - 1])))
    tests = int(np.sum(sizes >= cfg.min_members))
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
