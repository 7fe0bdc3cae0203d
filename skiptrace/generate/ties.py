"""Per-borrower ties for one chunk of borrowers, and what follows from them.

A tie joins a borrower to one contact person (relative, friend, colleague,
acquaintance, hub, or another borrower) with a strength. From the ties of a
chunk come its phonebook entries, emergency contacts, call records and, for
lost-contact borrowers, the hidden truth of which phones reach them now.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skiptrace.generate.calls import Calls, activity, cut, split, strangers
from skiptrace.generate.groups import AGENT as HUB_AGENT
from skiptrace.generate.groups import COURIER as HUB_COURIER
from skiptrace.generate.identity import mix
from skiptrace.generate.population import (
    BB_FAMILY, BB_FRAUD, BB_HOUSEHOLD, CHILD, FRIEND, INF, LOST_UNANSWERED, OTHER, PARENT, RELATIONS, RELATIVE,
    SIBLING, SPOUSE, Population)

# tie types, in priority order (a phone reached by two ties keeps the first type)
REL, BB, AGENT, FRAUDPH, FRIEND_T, COLL, SWITCH, COURIER, ACQ = range(9)
_P_CALLS = np.array([np.nan, np.nan, 0.9, 0.5, np.nan, np.nan, 0.3, 0.6, np.nan])
_MEAN_SECONDS = np.array([0, 0, 300, 60, 120, 60, 90, 25, 50], dtype=float)
P_PHONEBOOK = np.array([0.95, 0.9, 1.0, 1.0, 0.9, 0.75, 1.0, 1.0, 1.0])  # P(listed | phonebook captured)
_EC_SCORE_REL = np.array([3.0, 2.8, 1.8, 2.2, 1.0, 0.8, 0.3, -1.0])  # by relation code
_REACH_REL = np.array([1.0, 0.4, 0.5, 0.8, -0.3, -0.2, -0.8, -0.5])


@dataclass
class Ties:
    b: np.ndarray  # borrower
    cur: np.ndarray  # contact's phone now
    old: np.ndarray  # contact's former phone or -1
    csw: np.ndarray  # day the contact changed number (INF)
    kind: np.ndarray  # tie type
    rel: np.ndarray  # relation code
    s: np.ndarray  # strength
    person: np.ndarray  # naming key (phone index; borrower index for BB)
    family: np.ndarray  # borrower whose surname the contact carries, or -1
    flag_ec: np.ndarray  # hub listed as emergency contact
    flag_pb: np.ndarray  # hub listed in phonebook
    aux: np.ndarray  # hub-local index, employer, other borrower or relative index

    def take(self, m) -> Ties:
        return Ties(*[getattr(self, f)[m] for f in self.__dataclass_fields__])


def _ties(kind, b, cur, rel, s, *, old=None, csw=None, person=None, family=None, ec=None, pb=None, aux=None) -> Ties:
    n = len(b)
    return Ties(np.asarray(b, np.int64), np.asarray(cur, np.int64),
                np.full(n, -1, np.int64) if old is None else old, np.full(n, INF) if csw is None else csw,
                np.full(n, kind, np.int8), np.broadcast_to(np.asarray(rel, np.int8), (n,)).copy(),
                np.asarray(s, np.float32), np.asarray(cur if person is None else person, np.int64),
                np.full(n, -1, np.int64) if family is None else family,
                np.zeros(n, bool) if ec is None else ec, np.ones(n, bool) if pb is None else pb,
                np.full(n, -1, np.int64) if aux is None else np.asarray(aux, np.int64))


def _concat(parts: list[Ties]) -> Ties:
    return Ties(*[np.concatenate([getattr(t, f) for t in parts]) for f in Ties.__dataclass_fields__])


def _slice(sorted_b: np.ndarray, lo: int, hi: int) -> slice:
    return slice(int(np.searchsorted(sorted_b, lo)), int(np.searchsorted(sorted_b, hi)))


def group_rank(key: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal (sorted) keys."""
    n = len(key)
    if n == 0:
        return np.zeros(0, np.int64)
    start = np.ones(n, bool)
    start[1:] = key[1:] != key[:-1]
    idx = np.flatnonzero(start)
    return np.arange(n) - np.repeat(idx, np.diff(np.append(idx, n)))


def build_ties(ctx, lo: int, hi: int, rng: np.random.Generator) -> Ties:
    """All ties of borrowers ``lo..hi-1``, one per (borrower, contact phone)."""
    p: Population = ctx.pop
    ph, k = ctx.phones, p.knobs
    nb = hi - lo
    bs = np.arange(lo, hi)
    PS = p.pool_slice
    parts: list[Ties] = []
    # relatives (family surname except spouses)
    r = np.arange(p.rel_start[lo], p.rel_start[hi])
    owner = np.repeat(bs, np.diff(p.rel_start[lo:hi + 1]))
    churned = p.rel_switch[r] < INF
    rel = p.rel_relation[r]
    parts.append(_ties(REL, owner, ph.relative + r, rel, p.rel_strength[r],
                       old=np.where(churned, ph.relative_old + r, -1), csw=p.rel_switch[r],
                       family=np.where(rel == SPOUSE, -1, owner), aux=r))
    # other borrowers
    sl = _slice(ctx.adj_src, lo, hi)
    src, dst = ctx.adj_src[sl], ctx.adj_dst[sl]
    sw = p.switch[dst]
    parts.append(_ties(BB, src, np.where(sw < INF, ph.new + dst, dst), ctx.adj_rel[sl], ctx.adj_s[sl],
                       old=np.where(sw < INF, dst, -1), csw=sw, person=dst, aux=ctx.adj_edge[sl]))
    # hubs listed by group members (agents, fraud phones, couriers)
    g = ctx.groups
    sl = _slice(ctx.list_b_sorted, lo, hi)
    o = ctx.list_order[sl]
    hb, hub = g.list_b[o], g.list_hub[o]
    hk = g.hub_kind[hub]
    kind = np.where(hk == HUB_AGENT, AGENT, np.where(hk == HUB_COURIER, COURIER, FRAUDPH)).astype(np.int8)
    hrel = np.where(kind == AGENT, rng.choice([FRIEND, RELATIVE, OTHER], len(hb)), rng.choice([RELATIVE, OTHER, FRIEND], len(hb)))
    strength = np.where(kind == AGENT, 0.35, np.where(kind == COURIER, 0.05, 0.2))
    honest = g.list_honest[o]
    if honest.any():  # a borrower outside the rings knows the agent or broker as an ordinary acquaintance
        kind = np.where(honest, ACQ, kind).astype(np.int8)
        hrel, strength = np.where(honest, OTHER, hrel), np.where(honest, 0.1, strength)
    ht = _ties(0, hb, ph.hub + hub, hrel, strength, ec=g.list_ec[o], pb=g.list_pb[o], aux=hub)
    ht.kind = kind
    parts.append(ht)
    # switchboards: group listings and some employees listing their own employer
    sl = _slice(ctx.sw_b_sorted, lo, hi)
    o = ctx.sw_order[sl]
    emp = p.employer[bs]
    own = (emp >= 0) & (rng.random(nb) < 0.4)
    sb = np.concatenate([g.sw_b[o], bs[own]])
    se = np.concatenate([g.sw_e[o], emp[own]])
    parts.append(_ties(SWITCH, sb, ph.switch + se, OTHER, np.full(len(sb), 0.05), aux=se))
    # friends and colleagues from the community pool
    cnt = rng.poisson(k.friends_mean, nb)
    fb = np.repeat(bs, cnt)
    G = k.friend_group_size
    if G >= 2:  # friends come from one or two groups of people who know each other
        ng = max(1, PS // G)
        g1, g2 = rng.integers(0, ng, nb), rng.integers(0, ng, nb)
        two = rng.random(nb) < 0.3
        gi = np.where(two[fb - lo] & (rng.random(len(fb)) < 0.4), g2[fb - lo], g1[fb - lo])
        fphone = ph.pool + p.comm[fb].astype(np.int64) * PS + gi * G + rng.integers(0, min(G, PS), len(fb))
    else:
        fphone = ph.pool + p.comm[fb].astype(np.int64) * PS + rng.integers(0, PS, len(fb))
    parts.append(_ties(FRIEND_T, fb, fphone, FRIEND, np.clip(0.45 + 0.15 * rng.standard_normal(len(fb)), 0.05, 0.95)))
    cnt = np.where(emp >= 0, rng.poisson(k.colleagues_mean, nb), 0)
    cb = np.repeat(bs, cnt)
    ce = p.employer[cb]
    W = min(PS, 80)
    start = ph.pool + (ce // p.employers_per_comm) * PS + (mix(ce, ctx.salt) % np.uint64(PS - W + 1)).astype(np.int64)
    parts.append(_ties(COLL, cb, start + rng.integers(0, W, len(cb)), 6,
                       np.clip(0.3 + 0.1 * rng.standard_normal(len(cb)), 0.05, 0.9), aux=ce))
    # acquaintances fill the phonebook up to its drawn size
    before = np.bincount(np.concatenate([t.b for t in parts]) - lo, minlength=nb)
    acq = np.maximum(p.pb_size[bs] - before, 0)
    ab = np.repeat(bs, acq)
    local = rng.random(len(ab)) < k.phonebook_local_share
    aphone = np.where(local, ph.pool + p.comm[ab].astype(np.int64) * PS + rng.integers(0, PS, len(ab)),
                      ph.pool + rng.integers(0, ph.n_pool, len(ab)))
    parts.append(_ties(ACQ, ab, aphone, OTHER, 0.03 + 0.12 * rng.random(len(ab)) ** 2))
    t = _concat(parts)
    # one tie per (borrower, phone): keep the highest-priority kind
    key = t.b * ph.total + t.cur
    order = np.lexsort((t.kind, key))
    keep = np.ones(len(order), bool)
    keep[1:] = key[order][1:] != key[order][:-1]
    return t.take(np.sort(order[keep]))


@dataclass
class Emergency:
    b: np.ndarray
    tie: np.ndarray  # index into the chunk's ties
    phone: np.ndarray  # the number as listed
    stale: np.ndarray  # 0 current, 1 disconnected, 2 reassigned (the listed number)
    rel: np.ndarray
    listed: np.ndarray  # day


def emergency_contacts(ctx, t: Ties, lo: int, hi: int, rng: np.random.Generator) -> Emergency:
    """1-5 contacts per borrower, mostly family, in listed order (first = oldest)."""
    p: Population = ctx.pop
    T = p.clock.today
    nt = len(t.b)
    is_bb = t.kind == BB
    bbk = np.full(nt, -1, np.int64)
    bbk[is_bb] = p.bb_kind[t.aux[is_bb]]
    fam = (t.kind == REL) | (is_bb & np.isin(bbk, [BB_HOUSEHOLD, BB_FAMILY]))
    score = np.where(fam, _EC_SCORE_REL[t.rel], -np.inf)
    score = np.where(bbk == BB_FRAUD, 2.5, score)
    score = np.where(is_bb & ~fam & (bbk != BB_FRAUD), 0.2, score)
    score = np.where(t.kind == FRIEND_T, 0.8, np.where(t.kind == COLL, 0.3, score))
    score = np.where(t.kind == AGENT, np.where(t.flag_ec, 10.0, -np.inf), score)
    score = np.where(t.kind == FRAUDPH, np.where(t.flag_ec, 9.0, -np.inf), score)
    score = score + 0.7 * rng.gumbel(size=nt)
    order = np.lexsort((-score, t.b))
    rank = np.empty(nt, np.int64)
    rank[order] = group_rank(t.b[order])
    want = 1 + rng.binomial(4, 0.35, hi - lo)
    chosen = np.flatnonzero((rank < want[t.b - lo]) & np.isfinite(score))
    b = t.b[chosen]
    opened = p.opened[b]
    hub = np.isin(t.kind[chosen], [AGENT, FRAUDPH])
    n_hub = np.bincount(b - lo, weights=hub, minlength=hi - lo).astype(np.int64)
    later = (rng.random(len(b)) < 0.35) & (rank[chosen] - n_hub[b - lo] > 0) & ~hub
    listed = np.where(later, opened + rng.random(len(b)) * (T - 1 - opened), opened)
    is_agent = t.kind[chosen] == AGENT
    onset = ctx.groups.ring_onset[b]
    listed = np.where(is_agent & (onset < INF), np.maximum(opened, onset - 20 - 40 * rng.random(len(b))), listed)
    o = np.lexsort((-score[chosen], listed, b))
    chosen, b, listed = chosen[o], b[o], listed[o]
    was_old = (t.old[chosen] >= 0) & (listed < t.csw[chosen])
    phone = np.where(was_old, t.old[chosen], t.cur[chosen])
    stale = np.zeros(len(chosen), np.int8)
    relm = was_old & (t.kind[chosen] == REL)
    stale[relm] = p.rel_old_status[t.aux[chosen][relm]]
    bbm = was_old & (t.kind[chosen] == BB)
    stale[bbm] = p.old_status[t.person[chosen][bbm]]
    return Emergency(b, chosen, phone, stale, t.rel[chosen], listed)


@dataclass
class ChunkCalls:
    calls: Calls
    has: np.ndarray  # per tie: any call
    in_touch: np.ndarray  # per tie: called the borrower's current number in the last 30 days
    carried: np.ndarray  # borrowers whose new number called an old partner (non-borrower ties)
    rows_true: int = 0  # records of the ties before the call-log cut (reassigned strangers aside)
    rows_visible: int = 0  # ... and after it
    rows_closure: int = 0  # visible records between two contacts of a borrower


def _closure_pairs(ctx, t: Ties, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of ties of one borrower's circles whose contacts call each other (triadic closure).

    Circles: the borrower's relatives (a family), friends from one friend
    group, colleagues. A pair calls with probability ``*_closure`` times
    ``min(1, 2 sqrt(s_i s_j))`` (stronger ties, closer contacts).
    """
    p: Population = ctx.pop
    ph, k = ctx.phones, p.knobs
    nt = len(t.b)
    circle = np.full(nt, -1, np.int64)
    prob = np.zeros(nt)
    sub = np.zeros(nt, np.int64)
    for kind, c, pr in ((REL, 0, k.family_closure), (FRIEND_T, 1, k.friend_closure), (COLL, 2, k.colleague_closure)):
        m = t.kind == kind
        circle[m], prob[m] = c, pr
    fr = t.kind == FRIEND_T
    if k.friend_group_size >= 2:
        sub[fr] = (t.cur[fr] - ph.pool) % p.pool_slice // k.friend_group_size
    sel = np.flatnonzero((circle >= 0) & (prob > 0))
    if not len(sel):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = sel[np.lexsort((sub[sel], circle[sel], t.b[sel]))]
    L = len(order)
    start = np.ones(L, bool)
    start[1:] = (t.b[order][1:] != t.b[order][:-1]) | (circle[order][1:] != circle[order][:-1]) | \
        (sub[order][1:] != sub[order][:-1])
    starts = np.flatnonzero(start)
    end = np.repeat(np.append(starts[1:], L), np.diff(np.append(starts, L)))
    cnt = end - np.arange(L) - 1
    i = np.repeat(np.arange(L), cnt)
    j = i + 1 + (np.arange(len(i)) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    ti, tj = order[i], order[j]
    ps = np.sqrt(t.s[ti].astype(float) * t.s[tj].astype(float))
    keep = rng.random(len(ti)) < prob[ti] * np.minimum(1.0, 2 * ps)
    return ti[keep], tj[keep]


def circle_calls(ctx, t: Ties, rng: np.random.Generator) -> tuple[Calls, np.ndarray]:
    """Calls between contacts of one borrower (see :func:`_closure_pairs`) and each record's borrower."""
    p: Population = ctx.pop
    k = p.knobs
    ti, tj = _closure_pairs(ctx, t, rng)
    ps = np.sqrt(t.s[ti].astype(float) * t.s[tj].astype(float))
    first, last, n = activity(rng, ps, float(p.clock.today), 30.4 * k.call_months)
    src: list = []
    calls = split(rng, a_old=np.where(t.old[ti] >= 0, t.old[ti], t.cur[ti]), a_new=np.where(t.old[ti] >= 0, t.cur[ti], -1),
                  ta=t.csw[ti], b_old=t.old[tj], b_new=t.cur[tj], tb=t.csw[tj], first=first, last=last, calls=n, s=ps,
                  mean_seconds=60 + 250 * ps, zone=p.zone[t.b[ti]], sources=src)
    return calls, t.b[ti][src[0]]


def tie_calls(ctx, t: Ties, lo: int, hi: int, rng: np.random.Generator,
              xrng: np.random.Generator | None = None) -> ChunkCalls:
    """Call records of the chunk's ties with non-borrowers, plus strangers on reassigned numbers.

    ``xrng`` draws everything the realism knobs add (closure calls, the
    call-log cut, which partner a new number keeps); it is unused, and may be
    None, at the legacy knobs.
    """
    p: Population = ctx.pop
    ph, k = ctx.phones, p.knobs
    T = float(p.clock.today)
    H = 30.4 * k.call_months
    nt = len(t.b)
    is_bb = t.kind == BB
    s = t.s.astype(float)
    pc = np.where(np.isnan(_P_CALLS[t.kind]), 1 - np.exp(-4 * s), _P_CALLS[t.kind])
    if k.acquaintance_call_scale != 1.0:
        pc = np.where(t.kind == ACQ, pc * k.acquaintance_call_scale, pc)
    has = (rng.random(nt) < pc) & ~is_bb
    ta = p.switch[t.b]
    force = np.zeros(nt, bool)
    sometimes = k.new_number_calls_circle_share < 1.0
    if not sometimes:
        # the strongest current-numbered relative carries over to a changed number
        cand = (t.kind == REL) & (t.csw >= INF) & (ta < INF)
    else:
        # only borrowers whose new number calls the old circle at all; one partner for sure, drawn by strength
        cand = np.isin(t.kind, [REL, FRIEND_T, COLL]) & (t.csw >= INF) & (ta < INF) & p.calls_circle[t.b]
    if not k.realistic:  # the legacy draws: activity of every tie
        first, last, n = activity(rng, s, T, H)
    else:  # only of the ties that may call (most phonebook entries never do)
        need = has | cand
        first, last, n = np.zeros(nt), np.full(nt, -1.0), np.zeros(nt, np.int64)
        first[need], last[need], n[need] = activity(rng, s[need], T, H)
    if cand.any():
        ci = np.flatnonzero(cand)
        key = -s[ci] if not sometimes else -(2 * np.log(s[ci]) + xrng.gumbel(size=len(ci)))
        o = ci[np.lexsort((key, t.b[ci]))]
        force[o[group_rank(t.b[o]) == 0]] = True
    cont_p = np.select([np.isin(t.kind, [REL, FRIEND_T]), t.kind == COLL, t.kind == ACQ, t.kind == AGENT],
                       [np.sqrt(s), 0.5 * s, 0.08, 0.9], 0.35)
    cont = force | (rng.random(nt) < cont_p)
    if sometimes:
        cont &= p.calls_circle[t.b]
    switched = ta < INF
    u = rng.random(nt)
    first = np.where(force, np.minimum(first, ta - 5 - 20 * u), first)
    last = np.where(force, np.maximum(last, ta + 0.5 + (T - 0.6 - ta) * u), last)
    last = np.where(switched & ~cont, np.minimum(last, ta - 0.05), last)
    has = has | force
    has = has & (first <= last)
    in_touch = has & (last >= T - 30) & (~switched | cont)
    m = has
    b = t.b[m]
    a_new = np.where(switched[m], ph.new + b, -1)
    zone = p.zone[b]
    src: list = []
    calls = split(rng, a_old=b, a_new=a_new, ta=ta[m], b_old=t.old[m], b_new=t.cur[m], tb=t.csw[m],
                  first=first[m], last=last[m], calls=n[m], s=s[m],
                  mean_seconds=np.where(_MEAN_SECONDS[t.kind[m]] > 0, _MEAN_SECONDS[t.kind[m]], 60 + 250 * s[m]),
                  zone=zone, force=force[m], sources=src)
    owner = b[src[0]]
    carried = np.unique(t.b[switched & cont & has & (last >= ta)])
    bs = np.arange(lo, hi)
    rows_true = len(calls)
    extra: list[tuple[Calls, np.ndarray]] = []
    if sometimes:  # a new number that leaves the old circle behind calls new people
        nb_ = bs[(p.switch[bs] < INF) & ~p.calls_circle[bs]]
        if len(nb_):
            c2 = strangers(xrng, ph.new + nb_, p.switch[nb_], T, ph.pool, ph.n_pool, p.zone[nb_], 4.0)
            extra.append((c2, c2.a - ph.new))
    if k.family_closure > 0 or k.friend_closure > 0 or k.colleague_closure > 0:
        c3, o3 = circle_calls(ctx, t, xrng)
        key = np.minimum(c3.a, c3.b) * (1 << 32) + np.maximum(c3.a, c3.b)
        fresh = ~np.isin(key, ctx.carry_pairs)  # a pair of one community already written by the last chunk
        extra.append((c3.take(fresh), o3[fresh]))
    rows_true += sum(len(c) for c, _ in extra)
    if k.partial_call_logs:
        calls, kept = cut(xrng, calls, p.call_capture[owner])
        owner = owner[kept]
        for i, (c, o) in enumerate(extra):
            c, kept = cut(xrng, c, p.call_capture[o])
            extra[i] = (c, o[kept])
    parts = [calls] + [c for c, _ in extra]
    rows_visible = sum(len(c) for c in parts)
    rows_closure = 0
    if k.family_closure > 0 or k.friend_closure > 0 or k.colleague_closure > 0:
        c3, o3 = extra[-1]
        rows_closure = len(c3.unique_pairs())
        nxt = hi if hi < p.n else None
        if nxt is not None and p.comm[nxt] == p.comm[hi - 1]:  # the community goes on in the next chunk
            same = p.comm[o3] == p.comm[hi - 1]
            keys = np.minimum(c3.a, c3.b)[same] * (1 << 32) + np.maximum(c3.a, c3.b)[same]
            before = ctx.carry_pairs if p.comm[lo] == p.comm[hi - 1] else np.zeros(0, np.int64)
            ctx.carry_pairs = np.unique(np.concatenate([before, keys]))
        else:
            ctx.carry_pairs = np.zeros(0, np.int64)
    re = bs[p.old_status[bs] == 2]
    if len(re):
        parts.append(strangers(rng, re.astype(np.int64), p.old_status_at[re], T, ph.pool, ph.n_pool, p.zone[re], 6.0))
    r = np.arange(p.rel_start[lo], p.rel_start[hi])
    rr = r[p.rel_old_status[r] == 2]
    if len(rr):
        owner = np.searchsorted(p.rel_start, rr, side="right") - 1
        parts.append(strangers(rng, ph.relative_old + rr, p.rel_old_status_at[rr], T, ph.pool, ph.n_pool, p.zone[owner], 3.0))
    return ChunkCalls(Calls.concat(parts).unique_pairs(), has, in_touch, carried, rows_true, rows_visible,
                      rows_closure)


@dataclass
class Reach:
    b: np.ndarray
    phone: np.ndarray
    p: np.ndarray
    mechanism: list[str]
    relation: list[str]


def reach_truth(ctx, t: Ties, cc: ChunkCalls, lo: int, hi: int, rng: np.random.Generator,
                xrng: np.random.Generator | None = None) -> Reach:
    """For lost-contact borrowers: the phones that reach them now and how likely.

    Probabilities rise with tie strength, a close relation and recent calls
    with the borrower's current number, and fall for anti-collection ring
    members (coached relatives deny); a first-listed emergency contact is
    often a stale number and then not here at all.
    """
    p: Population = ctx.pop
    ph = ctx.phones
    T = p.clock.today
    lost = p.lost[t.b]
    person = np.isin(t.kind, [REL, BB, FRIEND_T, COLL])
    other_lost = (t.kind == BB) & p.lost[np.where(t.kind == BB, t.person, 0)]
    m = lost & person & ~other_lost
    coached = p.anti[t.b[m]]
    logit = (-2.4 + 2.2 * t.s[m] + _REACH_REL[t.rel[m]] + 1.3 * cc.in_touch[m] - 1.2 * coached
             + 0.7 * rng.standard_normal(m.sum()))
    latent = None
    if p.knobs.latent_closeness_sd > 0:  # closeness that neither calls nor listings show
        latent = p.knobs.latent_closeness_sd * xrng.standard_normal(m.sum())
        logit = logit + latent
    ctx.stats.reach_logit(logit, latent)
    prob = 1 / (1 + np.exp(-logit))
    keep = prob >= 0.05
    b = [t.b[m][keep]]
    phone = [t.cur[m][keep]]
    pr = [prob[keep]]
    rel = t.rel[m][keep]
    kind = t.kind[m][keep]
    fam = (kind == REL) | ((kind == BB) & np.isin(rel, [SPOUSE, PARENT, CHILD, SIBLING, RELATIVE]))
    mech = [np.where(fam, "family", np.where(rel == FRIEND, "friend", "colleague")).tolist()]
    rels = [[RELATIONS[x] for x in rel.tolist()]]
    bs = np.arange(lo, hi)
    lb = bs[p.lost[bs]]
    an = p.anti[lb]

    def add(sel, phones, probs, name, relation="other"):
        b.append(lb[sel]), phone.append(phones[sel]), pr.append(probs[sel])
        mech.append([name] * int(sel.sum())), rels.append([relation] * int(sel.sum()))

    z = rng.standard_normal(len(lb))
    add(p.switch[lb] < INF, ph.new + lb, 1 / (1 + np.exp(-(1.8 - 1.8 * an + 0.6 * z))), "new_number")
    add(p.has_secondary[lb] & ~p.secondary_dead[lb], ph.secondary + lb,
        1 / (1 + np.exp(-(0.3 - 1.0 * an + 0.8 * z[::-1]))), "secondary_number")
    add(p.churn[lb] == LOST_UNANSWERED, lb.astype(np.int64), 0.03 + 0.12 * rng.random(len(lb)), "own_phone")
    emp = p.employer[lb]
    add((emp >= 0) & (rng.random(len(lb)) < 0.7), ph.switch + np.maximum(emp, 0),
        1 / (1 + np.exp(-(-1.8 + 0.5 * rng.standard_normal(len(lb))))), "workplace", "colleague")
    B = np.concatenate(b)
    P = np.concatenate(phone)
    probs = np.clip(np.round(np.concatenate(pr), 4), 0.0001, 1.0)
    order = np.lexsort((-probs, B))
    mech_all = sum(mech, [])
    rel_all = sum(rels, [])
    return Reach(B[order], P[order], probs[order], [mech_all[i] for i in order], [rel_all[i] for i in order])
