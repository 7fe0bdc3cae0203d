"""The people of the world and their standing ties, as O(borrowers) arrays.

Borrowers live in communities (locality for friends, colleagues and
acquaintances), belong to households (relatives with their own phones;
sometimes another borrower), work for employers, change phone numbers, fall
behind and sometimes drop out of contact. Edges between two borrowers are
kept as one canonical list; everything per borrower is generated later, in
chunks, by :mod:`skiptrace.generate.ties`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skiptrace.generate.clock import Clock
from skiptrace.generate.identity import CN_CITIES, CN_CITY_WEIGHTS, CN_ZONES, US_CITIES, US_CITY_WEIGHTS, US_ZONES
from skiptrace.generate.knobs import Knobs

RELATIONS = ["spouse", "parent", "child", "sibling", "relative", "friend", "colleague", "other"]
SPOUSE, PARENT, CHILD, SIBLING, RELATIVE, FRIEND, COLLEAGUE, OTHER = range(8)
STATUSES = ["current", "delinquent", "written_off", "repaid"]
CURRENT, DELINQUENT, WRITTEN_OFF, REPAID = range(4)
SEGMENTS = ["A", "B", "C", "D"]  # forgetful, strained, unwilling, evader
# churn kinds of a borrower's original primary number
NO_CHURN, KNOWN_CHURN, LOST_DEAD, LOST_REASSIGNED, LOST_UNANSWERED = range(5)
LOST_MECHANISMS = {LOST_DEAD: "dead", LOST_REASSIGNED: "reassigned", LOST_UNANSWERED: "unanswered"}
PHONE_STATUS = ["active", "disconnected", "reassigned"]
# kinds of borrower-borrower edges
BB_HOUSEHOLD, BB_FAMILY, BB_COLLEAGUE, BB_FRIEND, BB_FRAUD, BB_ROOMMATE, BB_CAMOUFLAGE = range(7)

# family templates: relation of the k-th relative for five household types
_TEMPLATES = np.array([
    [PARENT, PARENT, SIBLING, SIBLING, RELATIVE, RELATIVE, RELATIVE, RELATIVE],
    [SPOUSE, PARENT, PARENT, SIBLING, CHILD, RELATIVE, SIBLING, RELATIVE],
    [SPOUSE, CHILD, PARENT, CHILD, SIBLING, RELATIVE, RELATIVE, RELATIVE],
    [SPOUSE, CHILD, CHILD, SIBLING, SIBLING, RELATIVE, RELATIVE, RELATIVE],
    [SIBLING, CHILD, SIBLING, RELATIVE, RELATIVE, RELATIVE, RELATIVE, RELATIVE],
], dtype=np.int8)
_TEMPLATE_P = [0.35, 0.25, 0.2, 0.1, 0.1]
REL_STRENGTH = np.array([0.85, 0.6, 0.6, 0.5, 0.25, 0.45, 0.3, 0.1])
INF = 1e12


@dataclass
class Population:
    """All O(borrowers) state of one world. Day values are local day numbers."""

    n: int
    region: str
    knobs: Knobs
    clock: Clock
    zones: list[str]
    cities: list
    # communities and employers
    comm: np.ndarray = field(repr=False)
    city: np.ndarray = field(repr=False)
    zone: np.ndarray = field(repr=False)
    n_comm: int = 0
    pool_slice: int = 0
    employers_per_comm: int = 0
    employer: np.ndarray = field(default=None, repr=False)  # -1 unemployed
    emp_since: np.ndarray = field(default=None, repr=False)
    # loan book
    status: np.ndarray = field(default=None, repr=False)
    dpd: np.ndarray = field(default=None, repr=False)
    opened: np.ndarray = field(default=None, repr=False)
    balance: np.ndarray = field(default=None, repr=False)
    segment: np.ndarray = field(default=None, repr=False)  # -1 unless delinquent
    effect: np.ndarray = field(default=None, repr=False)  # borrower random effect (logit)
    attorney: np.ndarray = field(default=None, repr=False)
    cease: np.ndarray = field(default=None, repr=False)
    # phones and contact
    churn: np.ndarray = field(default=None, repr=False)  # NO_CHURN .. LOST_UNANSWERED
    switch: np.ndarray = field(default=None, repr=False)  # day the original primary was dropped (INF none)
    since: np.ndarray = field(default=None, repr=False)  # lost-contact day (INF if in contact)
    old_status: np.ndarray = field(default=None, repr=False)
    old_status_at: np.ndarray = field(default=None, repr=False)
    has_secondary: np.ndarray = field(default=None, repr=False)
    secondary_dead: np.ndarray = field(default=None, repr=False)
    work_phone: np.ndarray = field(default=None, repr=False)
    has_pb: np.ndarray = field(default=None, repr=False)
    pb_size: np.ndarray = field(default=None, repr=False)
    capture: np.ndarray = field(default=None, repr=False)
    call_capture: np.ndarray = field(default=None, repr=False)  # last call-log upload (INF: complete logs)
    calls_circle: np.ndarray = field(default=None, repr=False)  # a new number calls the old circle at all
    # homes: kind 0 private dwelling (identity home_idx), 1 shared block
    home_kind: np.ndarray = field(default=None, repr=False)
    home_idx: np.ndarray = field(default=None, repr=False)
    home_city: np.ndarray = field(default=None, repr=False)
    mailing: np.ndarray = field(default=None, repr=False)
    n_devices: np.ndarray = field(default=None, repr=False)
    # relatives (CSR by borrower)
    rel_start: np.ndarray = field(default=None, repr=False)
    rel_relation: np.ndarray = field(default=None, repr=False)
    rel_strength: np.ndarray = field(default=None, repr=False)
    rel_switch: np.ndarray = field(default=None, repr=False)
    rel_old_status: np.ndarray = field(default=None, repr=False)
    rel_old_status_at: np.ndarray = field(default=None, repr=False)
    # borrower-borrower edges (u < v) and the per-borrower view
    bb_u: np.ndarray = field(default=None, repr=False)
    bb_v: np.ndarray = field(default=None, repr=False)
    bb_kind: np.ndarray = field(default=None, repr=False)
    bb_rel_uv: np.ndarray = field(default=None, repr=False)  # what v is to u
    bb_rel_vu: np.ndarray = field(default=None, repr=False)
    bb_strength: np.ndarray = field(default=None, repr=False)
    # filled by groups.assign
    ring: np.ndarray = field(default=None, repr=False)  # ring number or -1
    anti: np.ndarray = field(default=None, repr=False)
    fraud: np.ndarray = field(default=None, repr=False)
    groups: object = None
    grouped: np.ndarray = field(default=None, repr=False)  # in a ring or an exclusive benign group
    co_devices: tuple = ()  # (a, b): co-borrower pairs sharing a household device

    def current_phone(self, b: np.ndarray, phones) -> np.ndarray:
        """Index of the number each borrower uses now (new one after a switch)."""
        b = np.asarray(b, dtype=np.int64)
        return np.where(self.switch[b] < INF, phones.new + b, b)

    def phone_at(self, b: np.ndarray, day: np.ndarray, phones) -> np.ndarray:
        """Index of the number a borrower used on ``day``."""
        b = np.asarray(b, dtype=np.int64)
        return np.where(self.switch[b] <= day, phones.new + b, b)

    @property
    def delinquent(self) -> np.ndarray:
        return (self.status == DELINQUENT) | (self.status == WRITTEN_OFF)

    @property
    def lost(self) -> np.ndarray:
        return self.since < INF


def _uniform(rng: np.random.Generator, lo, hi, size=None) -> np.ndarray:
    return lo + rng.random(size) * (np.asarray(hi) - np.asarray(lo))


def build(n: int, knobs: Knobs, region: str, clock: Clock, rng: np.random.Generator) -> Population:
    """Draw the borrowers, their communities, loans and employers (groups come later)."""
    k = knobs
    T = clock.today
    cities = CN_CITIES if region == "CN" else US_CITIES
    weights = np.array(CN_CITY_WEIGHTS if region == "CN" else US_CITY_WEIGHTS, dtype=float)
    cs = k.community_size
    n_comm = -(-n // cs)
    comm_city = rng.choice(len(cities), n_comm, p=weights / weights.sum())
    comm = (np.arange(n) // cs).astype(np.int32)
    city = comm_city[comm].astype(np.int16)
    zone = np.array([c.zone for c in cities], dtype=np.int8)[city]
    p = Population(n=n, region=region, knobs=k, clock=clock, zones=CN_ZONES if region == "CN" else US_ZONES,
                   cities=cities, comm=comm, city=city, zone=zone, n_comm=n_comm,
                   pool_slice=int(round(cs * k.pool_per_borrower)))

    # loan book
    u = rng.random(n)
    status = np.where(u < k.delinquent_share, DELINQUENT,
                      np.where(u < k.delinquent_share + k.repaid_share, REPAID, CURRENT)).astype(np.int8)
    dpd = np.where(status == DELINQUENT, 1 + np.minimum(rng.exponential(70.0, n), 719).astype(np.int32), 0)
    status[(status == DELINQUENT) & (dpd > 180)] = WRITTEN_OFF
    age = np.where(status == CURRENT, rng.integers(30, 1500, n),
                   np.where(status == REPAID, rng.integers(200, 1500, n), dpd + 30 + rng.integers(0, 1200, n)))
    p.status, p.dpd = status, dpd.astype(np.int32)
    p.opened = T - age + rng.random(n) * 0.9
    median = 8000.0 if region == "CN" else 3000.0
    p.balance = np.where(status == REPAID, 0.0, np.round(np.exp(np.log(median) + 0.8 * rng.standard_normal(n)), 2))
    p.effect = (0.6 * rng.standard_normal(n)).astype(np.float32)
    seg_p = np.array([[0.5, 0.3, 0.15, 0.05], [0.2, 0.4, 0.3, 0.1], [0.05, 0.3, 0.45, 0.2]])
    bucket = np.where(dpd < 30, 0, np.where(dpd <= 90, 1, 2))
    cum = np.cumsum(seg_p, axis=1)[bucket]
    seg = (rng.random(n)[:, None] > cum).sum(axis=1).astype(np.int8)
    p.segment = np.where(p.delinquent, seg, -1).astype(np.int8)
    dl = p.delinquent
    p.attorney = dl & (rng.random(n) < 0.02)
    p.cease = dl & (rng.random(n) < 0.03)

    # employers: each community has the same Zipf-shaped set of local employers
    epc = max(1, int(round(cs / k.borrowers_per_employer)))
    p.employers_per_comm = epc
    w = 1.0 / np.arange(1, epc + 1) ** 1.1
    cw = np.cumsum(w) / w.sum()
    j = np.minimum(np.searchsorted(cw, rng.random(n)), epc - 1)
    employed = rng.random(n) < k.employed_share
    p.employer = np.where(employed, comm.astype(np.int64) * epc + j, -1)
    p.emp_since = T - rng.integers(30, 3000, n) + rng.random(n) * 0.5

    # phones, phonebooks, homes, devices
    p.has_secondary = rng.random(n) < k.secondary_phone_share
    p.secondary_dead = np.zeros(n, dtype=bool)
    p.work_phone = employed & (rng.random(n) < 0.05)
    p.has_pb = rng.random(n) < k.phonebook_share
    size = np.exp(np.log(k.phonebook_median) + k.phonebook_sigma * rng.standard_normal(n))
    p.pb_size = np.clip(np.round(size), 5, k.phonebook_max).astype(np.int32)
    p.capture = T - rng.integers(0, 120, n) + 0.3 + rng.random(n) * 0.6
    p.home_kind = np.zeros(n, dtype=np.int8)
    p.home_idx = np.arange(n, dtype=np.int64)
    p.home_city = city.copy()
    p.mailing = rng.random(n) < 0.1
    p.n_devices = 1 + (rng.random(n) < 0.3).astype(np.int8)
    p.churn = np.zeros(n, dtype=np.int8)
    p.switch = np.full(n, INF)
    p.since = np.full(n, INF)
    p.old_status = np.zeros(n, dtype=np.int8)
    p.old_status_at = T - rng.integers(0, 30, n).astype(float)
    p.ring = np.full(n, -1, dtype=np.int32)
    p.anti = np.zeros(n, dtype=bool)
    p.fraud = np.zeros(n, dtype=bool)
    return p


def churn_and_loss(p: Population, rng: np.random.Generator, ring_onset: np.ndarray) -> None:
    """Decide who changed number and who the lender has lost contact with.

    ``ring_onset`` is, per borrower, the default onset day of their
    anti-collection ring (INF otherwise): ring members drop their numbers in
    the same weeks.
    """
    k, n, T = p.knobs, p.n, p.clock.today
    onset = T - p.dpd.astype(float)
    share = np.where(p.anti, 0.6, k.lost_contact_share)
    lost = p.delinquent & (rng.random(n) < share)
    u = rng.random(n)
    mech = np.where(u < k.lost_dead_share, LOST_DEAD,
                    np.where(u < k.lost_dead_share + k.lost_reassigned_share, LOST_REASSIGNED, LOST_UNANSWERED))
    span = np.clip(T - onset, 8, 200)
    since = T - _uniform(rng, 7, span)
    since = np.where(mech == LOST_REASSIGNED, np.minimum(since, T - 45 - rng.random(n) * 30), since)
    in_ring = ring_onset < INF
    since = np.where(in_ring, np.minimum(ring_onset + 7 + 6 * rng.standard_normal(n), T - 7), since)
    since = np.floor(since) + 0.4 + 0.2 * rng.random(n)
    mech = np.where(in_ring & (mech == LOST_REASSIGNED) & (T - since < 45), LOST_DEAD, mech)
    p.since = np.where(lost, since, INF)
    p.churn = np.where(lost, mech, NO_CHURN).astype(np.int8)
    # churn the lender knows about (anti-ring members who stay reachable change in the same weeks)
    known = ~lost & (rng.random(n) < np.where(p.anti, 0.4, k.churn_share))
    sw_known = np.where(in_ring, np.minimum(ring_onset + 7 + 6 * rng.standard_normal(n), T - 3),
                        T - _uniform(rng, 20, 330, n))
    p.churn[known] = KNOWN_CHURN
    sw = np.where(lost & (mech != LOST_UNANSWERED), p.since, np.where(known, np.floor(sw_known) + 0.5, INF))
    p.switch = sw
    # what happened to the abandoned number
    gone = sw < INF
    left = T - sw
    reassign = gone & ((p.churn == LOST_REASSIGNED) | ((p.churn == KNOWN_CHURN) & (left > 60) & (rng.random(n) < k.reassigned_share)))
    r_at = sw + np.minimum(30 + rng.random(n) * np.maximum(left - 35, 1), left - 2)
    d_at = sw + np.minimum(1 + rng.random(n) * 20, np.maximum(left - 0.5, 0.1))
    p.old_status = np.where(reassign, 2, np.where(gone, 1, 0)).astype(np.int8)
    p.old_status_at = np.where(reassign, r_at, np.where(gone, d_at, p.old_status_at))
    p.secondary_dead = p.has_secondary & lost & (rng.random(n) < 0.5)
    # lost borrowers stop refreshing the app: their phonebook predates the loss
    p.capture = np.where(lost, np.minimum(p.capture, p.since - rng.integers(0, 60, n)), p.capture)


def call_logs(p: Population, rng: np.random.Generator | None) -> None:
    """When each borrower's call log was last uploaded, and whose new number calls the old circle.

    With ``partial_call_logs`` the lender's call records are app uploads: a
    borrower in contact last uploaded ``call_log_lag_days`` (exponential
    mean) before as_of; a lost borrower before the loss (up to 60 days
    before, for ``call_log_before_loss_share`` of them) or on a day between
    the loss and as_of. Calls after that day drive the truth but are not in
    calls.csv. ``rng`` is None for the legacy knobs (no draws at all).
    """
    k, n, T = p.knobs, p.n, p.clock.today
    p.call_capture = np.full(n, INF)
    p.calls_circle = np.ones(n, dtype=bool)
    if rng is None:
        return
    lag = T - 0.01 - rng.exponential(max(k.call_log_lag_days, 1e-9), n) if k.call_log_lag_days > 0 else np.full(n, T)
    before = rng.random(n) < k.call_log_before_loss_share
    after = p.since + rng.random(n) * np.maximum(T - p.since, 0.0)
    lost_cap = np.where(before, p.since - rng.random(n) * 60, after)
    if k.partial_call_logs:
        p.call_capture = np.where(p.since < INF, np.minimum(lost_cap, lag), lag)
    p.calls_circle = rng.random(n) < k.new_number_calls_circle_share


def relatives(p: Population, rng: np.random.Generator) -> None:
    """Each borrower's non-borrower relatives, with relation, tie strength and churn."""
    k, n, T = p.knobs, p.n, p.clock.today
    count = np.minimum(1 + rng.poisson(max(k.relatives_mean - 1, 0), n), 8)
    p.rel_start = np.concatenate([[0], np.cumsum(count)]).astype(np.int64)
    R = int(p.rel_start[-1])
    owner = np.repeat(np.arange(n), count)
    pos = np.arange(R) - p.rel_start[owner]
    ftype = rng.choice(len(_TEMPLATES), n, p=_TEMPLATE_P)
    p.rel_relation = _TEMPLATES[ftype[owner], pos]
    noise = np.exp(0.3 * rng.standard_normal(R))
    p.rel_strength = np.clip(REL_STRENGTH[p.rel_relation] * noise, 0.02, 1.0).astype(np.float32)
    churned = rng.random(R) < k.relative_churn_share
    # everyone keeps at least one relative on an unchanged number (a stable call partner)
    all_gone = np.add.reduceat(~churned, p.rel_start[:-1]) == 0
    churned[p.rel_start[:-1][all_gone]] = False
    sw = np.floor(T - _uniform(rng, 10, 1500, R)) + 0.5
    p.rel_switch = np.where(churned, sw, INF)
    left = T - sw
    reassign = churned & (left > 70) & (rng.random(R) < k.reassigned_share)
    p.rel_old_status = np.where(reassign, 2, np.where(churned, 1, 0)).astype(np.int8)
    p.rel_old_status_at = np.where(reassign, sw + 60 + rng.random(R) * np.maximum(left - 65, 1),
                                   np.where(churned, sw + 1 + rng.random(R) * np.minimum(20, left - 1), T - rng.integers(0, 30, R)))


def borrower_edges(p: Population, rng: np.random.Generator, extra: list[tuple]) -> None:
    """Ties between two borrowers: co-borrowers, colleagues, friends, plus ``extra``.

    ``extra`` holds arrays ``(u, v, kind, rel_uv, rel_vu, strength)`` from
    rings and benign groups. Duplicate pairs keep their first (strongest)
    kind; the result has u < v and one row per pair.
    """
    k, n = p.knobs, p.n
    us, vs, kinds, ruv, rvu, st = [], [], [], [], [], []

    def add(u, v, kind, r1, r2, s):
        m = u != v
        us.append(u[m]), vs.append(v[m]), kinds.append(np.full(m.sum(), kind, np.int8))
        ruv.append(np.broadcast_to(r1, u.shape)[m].astype(np.int8)), rvu.append(np.broadcast_to(r2, u.shape)[m].astype(np.int8))
        st.append(np.broadcast_to(s, u.shape)[m].astype(np.float32))

    for (u, v, kind, r1, r2, s) in extra:
        add(np.asarray(u, np.int64), np.asarray(v, np.int64), kind, np.asarray(r1), np.asarray(r2), np.asarray(s))
    # co-borrowers in one household (spouses or siblings), not taken by groups
    free = np.flatnonzero(~p.grouped)
    m = int(len(free) * k.co_borrower_share) // 2
    if m:
        pick = rng.permutation(free)[: 2 * m]
        pick = pick[np.argsort(p.comm[pick], kind="stable")]
        a, b = pick[0::2], pick[1::2]
        rel = np.where(rng.random(m) < 0.6, SPOUSE, SIBLING)
        add(a, b, BB_HOUSEHOLD, rel, rel, np.clip(0.75 + 0.1 * rng.standard_normal(m), 0.3, 1.0))
        p.home_kind[b], p.home_idx[b], p.home_city[b] = p.home_kind[a], p.home_idx[a], p.home_city[a]
        share = rng.random(m) < 0.3
        p.co_devices = (a[share], b[share])
    else:
        p.co_devices = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    # colleagues who are borrowers: random partners inside the employer's block
    emp = np.flatnonzero(p.employer >= 0)
    if len(emp):
        order = emp[np.argsort(p.employer[emp], kind="stable")]
        e_sorted = p.employer[order]
        starts = np.searchsorted(e_sorted, e_sorted, side="left")
        ends = np.searchsorted(e_sorted, e_sorted, side="right")
        reps = rng.poisson(k.borrower_colleagues_mean, len(order))
        src = np.repeat(np.arange(len(order)), reps)
        pos = starts[src] + (rng.random(len(src)) * (ends[src] - starts[src])).astype(np.int64)
        s = np.clip(0.3 + 0.12 * rng.standard_normal(len(src)), 0.05, 0.9)
        add(order[src], order[pos], BB_COLLEAGUE, COLLEAGUE, COLLEAGUE, s)
    # friends who are borrowers, in the same community
    cs = k.community_size
    reps = rng.poisson(k.borrower_friends_mean, n)
    src = np.repeat(np.arange(n), reps)
    lo = p.comm[src].astype(np.int64) * cs
    hi = np.minimum(lo + cs, n)
    dst = lo + (rng.random(len(src)) * (hi - lo)).astype(np.int64)
    add(src, dst, BB_FRIEND, FRIEND, FRIEND, np.clip(0.4 + 0.15 * rng.standard_normal(len(src)), 0.05, 0.95))

    u, v = np.concatenate(us), np.concatenate(vs)
    r1, r2 = np.concatenate(ruv), np.concatenate(rvu)
    swap = u > v
    u, v = np.where(swap, v, u), np.where(swap, u, v)
    r1, r2 = np.where(swap, r2, r1), np.where(swap, r1, r2)
    key = u * n + v
    order = np.lexsort((np.arange(len(key)), key))
    key = key[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    sel = order[first]
    p.bb_u, p.bb_v = u[sel], v[sel]
    p.bb_kind = np.concatenate(kinds)[sel]
    p.bb_rel_uv, p.bb_rel_vu = r1[sel], r2[sel]
    p.bb_strength = np.concatenate(st)[sel]
