"""Rings (fraud, anti-collection) and the benign look-alikes a detector must spare.

Ring members and the members of exclusive benign groups (large families,
dormitories, shared public devices) are disjoint. Couriers and switchboards
are phonebook hubs and may be listed by anyone but ring members. Every
member keeps the ordinary ties drawn for it elsewhere (camouflage).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skiptrace.generate.population import (
    BB_CAMOUFLAGE, BB_FAMILY, BB_FRAUD, BB_ROOMMATE, CHILD, DELINQUENT, FRIEND, INF, OTHER, PARENT, RELATIVE, SIBLING,
    SPOUSE, WRITTEN_OFF, Population)

# hub kinds (phones outside borrowers' own numbers)
COURIER, AGENT, FRAUD_PHONE = range(3)


@dataclass
class Group:
    group_id: str
    kind: str  # fraud, anti_collection, household, dormitory, switchboard, courier, shared_device, promotion
    members: np.ndarray
    identifier: tuple[str, int] = ("", -1)  # (what is shared, its identity)
    agents: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # hub-local phones


@dataclass
class Groups:
    rings: list[Group]
    benign: list[Group]
    n_hubs: int
    hub_kind: np.ndarray  # per hub-local phone
    hub_zone: np.ndarray
    # listings of hub phones by borrowers: hub-local phone, in emergency contacts / phonebook
    list_b: np.ndarray
    list_hub: np.ndarray
    list_ec: np.ndarray
    list_pb: np.ndarray
    # switchboards listed in phonebooks: (borrower, employer)
    sw_b: np.ndarray
    sw_e: np.ndarray
    # extra identifiers: shared devices and fraud phones registered as secondary
    dev_b: np.ndarray
    dev_id: np.ndarray
    reg_b: np.ndarray
    reg_hub: np.ndarray
    list_honest: np.ndarray  # the listing is by a borrower outside the rings (an acquaintance's entry)
    ring_onset: np.ndarray  # per borrower, anti-collection default onset (INF otherwise)
    bb_extra: list[tuple] = field(default_factory=list)
    realised: dict = field(default_factory=dict)  # statistics of the rings and groups (world.json "realised")


class _Picker:
    """Draws group members, locally (one community) or world-wide, without reuse."""

    def __init__(self, p: Population, rng: np.random.Generator):
        self.p, self.rng = p, rng
        self.taken = np.zeros(p.n, dtype=bool)

    def local(self, size: int, exclusive: bool) -> np.ndarray:
        p, cs = self.p, self.p.knobs.community_size
        c0 = int(self.rng.integers(p.n_comm))
        got: list[np.ndarray] = []
        need = size
        for step in range(p.n_comm):
            c = (c0 + step) % p.n_comm
            lo, hi = c * cs, min((c + 1) * cs, p.n)
            free = lo + np.flatnonzero(~self.taken[lo:hi] if exclusive else p.ring[lo:hi] < 0)
            pick = self.rng.permutation(free)[:need]
            got.append(pick)
            need -= len(pick)
            if need == 0:
                break
        m = np.sort(np.concatenate(got)) if got else np.zeros(0, np.int64)
        if len(m) < size:
            raise ValueError("too few borrowers for the configured groups; lower the *_per_100k knobs or sizes")
        if exclusive:
            self.taken[m] = True
        return m

    def anywhere(self, size: int) -> np.ndarray:
        free = np.flatnonzero(~self.taken)
        if len(free) < size:
            raise ValueError("too few borrowers for the configured groups; lower the *_per_100k knobs or sizes")
        m = np.sort(self.rng.choice(free, size, replace=False))
        self.taken[m] = True
        return m


def assign(p: Population, rng: np.random.Generator, xr: np.random.Generator | None = None) -> Groups:
    """Draw rings and benign groups and write their traits into ``p``.

    ``rng`` draws what the generator before the harder rings drew, in the
    same order; ``xr`` what the harder-ring knobs add (unused, and may be
    None, at their legacy values).
    """
    k, n, T = p.knobs, p.n, p.clock.today
    pick = _Picker(p, rng)

    def sizes(rate: float, size: tuple[int, int]) -> list[int]:
        lo, hi = k.size_range(size, n)
        return [int(s) for s in rng.integers(lo, hi + 1, k.group_count(rate, n))]

    promo = [] if k.promotions_per_100k <= 0 else \
        [int(s) for s in xr.integers(k.size_range(k.promotion_size, n)[0], k.size_range(k.promotion_size, n)[1] + 1,
                                     k.group_count(k.promotions_per_100k, n))]
    plan = {
        "fraud": sizes(k.fraud_rings_per_100k, k.fraud_ring_size),
        "anti_collection": sizes(k.anti_rings_per_100k, k.anti_ring_size),
        "household": sizes(k.large_families_per_100k, k.large_family_size),
        "dormitory": sizes(k.dormitories_per_100k, k.dormitory_size),
        "shared_device": sizes(k.shared_devices_per_100k, k.shared_device_size),
    }
    if sum(sum(v) for v in plan.values()) + sum(promo) > n // 2:
        raise ValueError("too few borrowers for the configured rings and groups (they would exceed half the "
                         "borrowers); lower the *_per_100k knobs or sizes")
    hub_kind: list[int] = []
    hub_zone: list[int] = []

    def new_hub(kind: int, zone: int) -> int:
        hub_kind.append(kind), hub_zone.append(zone)
        return len(hub_kind) - 1

    lists: list[tuple] = []  # (b, hub, ec, pb)
    devs: list[tuple] = []
    regs: list[tuple] = []
    bb: list[tuple] = []
    next_dev = 2 * n  # own devices use 2b and 2b+1
    next_addr = 2 * n  # private dwellings: b (home), n + b (mailing), 2n + k (ring addresses)
    ring_onset = np.full(n, INF)
    joint = 0  # households opening loans together
    rings: list[Group] = []
    benign: list[Group] = []

    def chain_and_pairs(m: np.ndarray, kind: int, rel_a, rel_b, strength: float) -> None:
        if len(m) > 1:
            s = np.full(len(m) - 1, strength, np.float32)
            bb.append((m[:-1], m[1:], kind, rel_a, rel_b, s))

    # fraud rings: synthetic identities opened in a burst, sharing identifiers, defaulting early. The legacy
    # draws are all made (so the draws after them stay as they were); with the harder-ring knobs the openings
    # and identifiers they describe are replaced by ones drawn from ``xr``.
    stagger = tuple(k.fraud_open_span_days) != (10, 10) or tuple(k.fraud_open_waves) != (1, 1)
    fraud_cover: list[float] = []
    for size in plan["fraud"]:
        m = pick.anywhere(size)
        rid = f"R{len(rings) + 1:04d}"
        burst = T - 60 - rng.random() * 180
        u_open = rng.random(size)
        off = u_open * 10 if not stagger else _staggered(xr, size, k.fraud_open_span_days, k.fraud_open_waves)
        p.opened[m] = np.floor(burst + off) + 0.3 + 0.5 * rng.random(size)
        dpd = np.maximum(1, np.floor(T - p.opened[m] - 30 - rng.random(size) * 5)).astype(np.int32)
        if k.fraud_bust_out_share > 0:  # some pay an instalment or two first
            bust = xr.random(size) < k.fraud_bust_out_share
            dpd = np.where(bust, np.maximum(1, dpd - 30 * xr.integers(1, 3, size)), dpd).astype(np.int32)
        p.dpd[m] = dpd
        p.status[m] = np.where(dpd > 180, WRITTEN_OFF, DELINQUENT)
        p.segment[m], p.effect[m] = 2, -2.0
        p.ring[m], p.fraud[m] = len(rings), True
        p.has_pb[m] = rng.random(size) < 0.7
        ring_devs = []
        for d in range(1 + (size > 5)):
            users = m[(np.arange(size) % (1 + (size > 5)) == d) & (rng.random(size) < 0.9)]
            ring_devs.append(users if len(users) >= 2 else m[:2])
        at = m[rng.random(size) < 0.7]
        at = at if len(at) >= 2 else m[:2]
        ring_phones = []
        for _ in range(1 + (size > 6)):
            reg = m[rng.random(size) < 0.6]
            reg = reg if len(reg) >= 2 else m[:2]
            ring_phones.append((reg, m[rng.random(size) < 0.4]))
        rel = rng.choice([FRIEND, RELATIVE, OTHER], size - 1) if size > 1 else np.zeros(0, np.int8)
        if k.fraud_spread_identifiers:  # several identifiers, each shared by a subset (none binds the ring)
            order = xr.permutation(m)
            ring_devs = _windows(xr, order, max(1, round(size / 3)), k.fraud_subset_size)
            homes = _windows(xr, order, max(1, size // 4), k.fraud_subset_size)
            ring_phones = []
            for users in _windows(xr, order, 1 + size // 5, k.fraud_subset_size):
                reg = xr.random(len(users)) < 0.6
                ring_phones.append((users[reg], users[~reg | (xr.random(len(users)) < 0.3)]))
        else:
            homes = [at]
        cover = [len(u) for u in ring_devs] + [len(h) for h in homes] + [len(np.union1d(a, b)) for a, b in ring_phones]
        for users in ring_devs:
            devs.append((users, np.full(len(users), next_dev)))
            next_dev += 1
        for users in homes:
            p.home_kind[users], p.home_idx[users], p.home_city[users] = 0, next_addr, p.city[m[0]]
            next_addr += 1
        for reg, ec in ring_phones:
            h = new_hub(FRAUD_PHONE, int(p.zone[m[0]]))
            regs.append((reg, np.full(len(reg), h)))
            lists.append((ec, np.full(len(ec), h), np.ones(len(ec), bool), np.zeros(len(ec), bool)))
        if k.fraud_shared_employer_share > 0:  # a real employer with honest staff, declared by some members
            decl = m[xr.random(size) < k.fraud_shared_employer_share]
            decl = decl[:size - 1]
            if len(decl):
                p.employer[decl] = int(p.comm[m[0]]) * p.employers_per_comm + int(xr.integers(0, min(5, p.employers_per_comm)))
                cover.append(len(decl))
        fraud_cover.append(max(cover) / size)
        chain_and_pairs(m, BB_FRAUD, rel, rel, 0.3)
        rings.append(Group(rid, "fraud", m))

    # anti-collection rings: unrelated borrowers coached by agents, defaulting together
    for size in plan["anti_collection"]:
        m = pick.anywhere(size)
        rid = f"R{len(rings) + 1:04d}"
        onset = T - 30 - rng.random() * 120
        dpd = np.maximum(1, np.floor(T - onset - 4 * rng.standard_normal(size))).astype(np.int32)
        p.dpd[m] = dpd
        p.status[m] = np.where(dpd > 180, WRITTEN_OFF, DELINQUENT)
        p.opened[m] = np.minimum(p.opened[m], T - dpd - 30 - rng.integers(0, 600, size) + rng.random(size) * 0.9)
        p.segment[m], p.ring[m], p.anti[m] = 3, len(rings), True
        p.cease[m] = rng.random(size) < 0.3
        p.attorney[m] = rng.random(size) < 0.1
        ring_onset[m] = onset
        lo, hi = k.agents_per_ring
        agents = np.array([new_hub(AGENT, int(p.zone[m[0]])) for _ in range(int(rng.integers(lo, hi + 1)))])
        which = agents[rng.integers(0, len(agents), size)]
        ec = rng.random(size) < 0.6
        pb = (rng.random(size) < 0.85) | ~ec
        p.has_pb[m[pb]] = True
        lists.append((m, which, ec, pb))
        if len(agents) > 1:  # some members carry a second agent in their phonebook
            two = rng.random(size) < 0.3
            other = agents[(np.searchsorted(agents, which) + 1) % len(agents)]
            lists.append((m[two], other[two], np.zeros(two.sum(), bool), np.ones(two.sum(), bool)))
        rings.append(Group(rid, "anti_collection", m, agents=agents))

    # large families: one home, family relations, often one shared device
    for size in plan["household"]:
        m = pick.local(size, exclusive=True)
        gid = f"G{len(benign) + 1:04d}"
        p.home_kind[m], p.home_idx[m], p.home_city[m] = 0, p.home_idx[m[0]], p.home_city[m[0]]
        role = np.minimum(np.arange(size), 6)  # 0,1 parents; 2..5 children; 6+ relatives
        iu, iv = np.triu_indices(size, 1)
        ru, rv = role[iu], role[iv]

        def rel(a, b):
            return np.select([(a < 2) & (b < 2), (a < 2) & (b < 6), (a < 6) & (b < 2), (a < 6) & (b < 6)],
                             [SPOUSE, CHILD, PARENT, SIBLING], RELATIVE)
        s = np.clip(0.65 + 0.1 * rng.standard_normal(len(iu)), 0.3, 1.0)
        bb.append((m[iu], m[iv], BB_FAMILY, rel(ru, rv), rel(rv, ru), s))
        if rng.random() < 0.5:
            devs.append((m, np.full(size, next_dev)))
            next_dev += 1
            if k.family_joint_open_share > 0 and xr.random() < k.family_joint_open_share:
                joint += _open_together(p, m, xr, k.family_joint_open_days)
        benign.append(Group(gid, "household", m, ("home", int(m[0]))))

    # dormitories and apartment blocks: many unrelated households at one address
    for j, size in enumerate(plan["dormitory"]):
        m = pick.local(size, exclusive=True)
        p.home_kind[m], p.home_idx[m], p.home_city[m] = 1, j, p.city[m[0]]
        mates = m[:-1][rng.random(size - 1) < 0.3]
        nxt = m[np.searchsorted(m, mates) + 1]
        bb.append((mates, nxt, BB_ROOMMATE, FRIEND, FRIEND, np.full(len(mates), 0.35, np.float32)))
        benign.append(Group(f"G{len(benign) + 1:04d}", "dormitory", m, ("block", j)))

    # shared public devices (internet cafe, a shop's tablet)
    for size in plan["shared_device"]:
        m = pick.local(size, exclusive=True)
        devs.append((m, np.full(size, next_dev)))
        benign.append(Group(f"G{len(benign) + 1:04d}", "shared_device", m, ("device", next_dev)))
        next_dev += 1

    # couriers: one delivery phone in many phonebooks of a neighbourhood
    for size in [int(s) for s in rng.integers(*_closed(k.size_range(k.courier_size, n)), k.group_count(k.couriers_per_100k, n))]:
        m = pick.local(size, exclusive=False)
        h = new_hub(COURIER, int(p.zone[m[0]]))
        p.has_pb[m] = True
        lists.append((m, np.full(size, h), np.zeros(size, bool), np.ones(size, bool)))
        benign.append(Group(f"G{len(benign) + 1:04d}", "courier", m, ("hub", h)))

    # company switchboards: a big employer's front desk, listed by staff and customers
    sw_b: list[np.ndarray] = []
    sw_e: list[int] = []
    for j, size in enumerate([int(s) for s in rng.integers(*_closed(k.size_range(k.switchboard_size, n)),
                                                            k.group_count(k.switchboards_per_100k, n))]):
        m = pick.local(size, exclusive=False)
        e = int(p.comm[m[0]]) * p.employers_per_comm + j % p.employers_per_comm
        staff = m[rng.random(size) < 0.6]
        p.employer[staff] = e
        p.has_pb[m] = True
        sw_b.append(m), sw_e.append(e)
        benign.append(Group(f"G{len(benign) + 1:04d}", "switchboard", m, ("switch", e)))

    # workplace promotions: colleagues of one employer open loans within days, some on a shared office device,
    # some living in the employer's dormitory (drawn last, from ``xr``, so the legacy draws stay as they were)
    xpick = _Picker(p, xr)
    xpick.taken = pick.taken
    n_blocks = len(plan["dormitory"])
    promo_members = 0
    for j, size in enumerate(promo):
        m = xpick.local(size, exclusive=True)
        e = int(p.comm[m[0]]) * p.employers_per_comm + int(xr.integers(0, min(20, p.employers_per_comm)))
        day = T - 60 - xr.random() * 300
        p.employer[m] = e
        p.emp_since[m] = np.minimum(p.emp_since[m], day - 20 - xr.random(size) * 1000)
        _open_at(p, m, day + xr.random(size) * k.promotion_window_days, xr)
        on_dev = xr.permutation(m[xr.random(size) < k.promotion_device_share])
        while len(on_dev) >= 2:
            take = int(min(len(on_dev), xr.integers(2, 7)))
            take = len(on_dev) if len(on_dev) - take == 1 else take
            devs.append((np.sort(on_dev[:take]), np.full(take, next_dev)))
            next_dev += 1
            on_dev = on_dev[take:]
        dorm = m[xr.random(size) < k.promotion_dorm_share]
        if len(dorm) >= 2:
            p.home_kind[dorm], p.home_idx[dorm], p.home_city[dorm] = 1, n_blocks + j, p.city[m[0]]
        promo_members += size
        benign.append(Group(f"G{len(benign) + 1:04d}", "promotion", m, ("employer", e)))

    # camouflage: fraud members tied to honest borrowers of their community, honest borrowers listing ring phones
    honest: list[tuple] = []  # (b, hub): phonebook listings by borrowers outside the rings
    camo = 0
    if k.hard_rings:
        cs = k.community_size
        for ring in rings:
            m = ring.members
            if ring.kind == "fraud" and k.fraud_camouflage_ties > 0:
                src = np.repeat(m, xr.poisson(k.fraud_camouflage_ties, len(m)))
                lo = p.comm[src].astype(np.int64) * cs
                dst = lo + (xr.random(len(src)) * (np.minimum(lo + cs, n) - lo)).astype(np.int64)
                ok = p.ring[dst] < 0
                src, dst = src[ok], dst[ok]
                rel = xr.choice([FRIEND, OTHER], len(src), p=[0.6, 0.4])
                bb.append((src, dst, BB_CAMOUFLAGE, rel, rel, (0.08 + 0.3 * xr.random(len(src))).astype(np.float32)))
                camo += len(src)
        listers = np.flatnonzero((p.ring < 0) & p.has_pb)
        for h, kind in enumerate(hub_kind):
            mean = k.agent_honest_listers if kind == AGENT else k.fraud_phone_honest_listers if kind == FRAUD_PHONE else 0
            if mean > 0 and len(listers):
                c = min(int(xr.poisson(mean)), len(listers))
                honest.append((np.sort(xr.choice(listers, c, replace=False)), h))
    for b_, h in honest:
        lists.append((b_, np.full(len(b_), h), np.zeros(len(b_), bool), np.ones(len(b_), bool), np.ones(len(b_), bool)))

    p.grouped = pick.taken.copy()
    agent_lists = np.isin(np.concatenate([np.asarray(t[1], np.int64) for t in lists]) if lists else np.zeros(0, np.int64),
                          [h for h, kd in enumerate(hub_kind) if kd == AGENT])
    agent_honest = sum(len(b_) for b_, h in honest if hub_kind[h] == AGENT)
    fr = [g for g in rings if g.kind == "fraud"]
    spans = [float(np.ptp(p.opened[g.members])) for g in fr]
    realised = {
        "fraud_open_span_days_median": round(float(np.median(spans)), 1) if spans else 0.0,
        "fraud_largest_identifier_cover_share": round(float(np.mean(fraud_cover)), 4) if fraud_cover else 0.0,
        "fraud_camouflage_ties_per_member": round(camo / max(1, sum(len(g.members) for g in fr)), 3),
        "agent_listings_by_ring_members_share": round(1 - agent_honest / int(agent_lists.sum()), 4) if agent_lists.sum() else 0.0,
        "families_opening_together": joint,
        "promotion_members": promo_members,
    }

    def cat(parts: list[tuple], i: int, dtype) -> np.ndarray:
        return np.concatenate([np.asarray(t[i], dtype) for t in parts]) if parts else np.zeros(0, dtype)

    return Groups(
        rings=rings, benign=benign, n_hubs=len(hub_kind),
        hub_kind=np.array(hub_kind, np.int8), hub_zone=np.array(hub_zone, np.int8),
        list_b=cat(lists, 0, np.int64), list_hub=cat(lists, 1, np.int64),
        list_ec=cat(lists, 2, bool), list_pb=cat(lists, 3, bool),
        sw_b=np.concatenate(sw_b) if sw_b else np.zeros(0, np.int64),
        sw_e=np.concatenate([np.full(len(b), e) for b, e in zip(sw_b, sw_e)]) if sw_b else np.zeros(0, np.int64),
        dev_b=cat(devs, 0, np.int64), dev_id=cat(devs, 1, np.int64),
        reg_b=cat(regs, 0, np.int64), reg_hub=cat(regs, 1, np.int64),
        list_honest=np.concatenate([np.asarray(t[4], bool) if len(t) > 4 else np.zeros(len(t[0]), bool) for t in lists])
        if lists else np.zeros(0, bool),
        ring_onset=ring_onset, bb_extra=bb, realised=realised)


def _staggered(xr: np.random.Generator, size: int, span: tuple[int, int], waves: tuple[int, int]) -> np.ndarray:
    """Opening offsets (days, ending near 10) of a fraud ring's members: ``waves`` bursts over ``span`` days."""
    sp = float(xr.integers(span[0], span[1] + 1))
    w = int(xr.integers(waves[0], waves[1] + 1))
    if w == 1:
        return 10 - sp + xr.random(size) * sp
    wave_len = min(4.0, sp / w)
    starts = np.sort(xr.random(w)) * (sp - wave_len)
    starts[0], starts[-1] = 0.0, sp - wave_len
    wave = np.concatenate([np.arange(w), xr.integers(0, w, max(0, size - w))])[:size]  # every wave has members
    return 10 - sp + starts[xr.permutation(wave)] + xr.random(size) * wave_len


def _windows(xr: np.random.Generator, order: np.ndarray, count: int, sizes: tuple[int, int]) -> list[np.ndarray]:
    """``count`` overlapping subsets of ``order`` (windows along it, cyclic), each of ``sizes`` members but
    never the whole ring, spread so that together they chain the ring."""
    size = len(order)
    hi = max(2, min(sizes[1], size - 1))
    lo = min(sizes[0], hi)
    step = size / count
    out = []
    for i in range(count):
        s0 = int(i * step + xr.integers(0, max(1, int(step))))
        length = int(xr.integers(lo, hi + 1))
        out.append(np.sort(order[(s0 + np.arange(length)) % size]))
    return out


def _open_at(p: Population, m: np.ndarray, day: np.ndarray, xr: np.random.Generator) -> None:
    """Set the loans of ``m`` to open on ``day``; delinquent ones fall due no earlier than a month later."""
    T = p.clock.today
    p.opened[m] = day
    late = p.delinquent[m]
    cap = np.floor(T - day - 31 - 10 * xr.random(len(m))).astype(np.int32)
    dpd = np.where(late, np.maximum(1, np.minimum(p.dpd[m], cap)), p.dpd[m]).astype(np.int32)
    p.dpd[m] = dpd
    p.status[m] = np.where(late, np.where(dpd > 180, WRITTEN_OFF, DELINQUENT), p.status[m])


def _open_together(p: Population, m: np.ndarray, xr: np.random.Generator, days: int) -> int:
    """Move the openings of ``m`` to within ``days`` of the earliest one (never later: dues stay due)."""
    o = p.opened[m]
    p.opened[m] = np.minimum(o, o.min() + xr.random(len(m)) * days)
    return 1


def joint_openings(p: Population, g: Groups, xr: np.random.Generator) -> None:
    """Openings decided after the co-borrowers: couples sharing a device who open loans together
    (``family_joint_open_share`` of them, a benign group ``couple`` each) and honest first-payment defaults
    (``honest_first_payment_default_share`` of the delinquent borrowers outside rings and groups)."""
    k, T = p.knobs, p.clock.today
    a, b = p.co_devices
    if k.family_joint_open_share > 0 and len(a):
        pick = np.flatnonzero(xr.random(len(a)) < k.family_joint_open_share)
        a, b = a[pick], b[pick]
        base = np.minimum(p.opened[a], p.opened[b])
        p.opened[a] = np.minimum(p.opened[a], base + xr.random(len(a)) * k.family_joint_open_days)
        p.opened[b] = np.minimum(p.opened[b], base + xr.random(len(b)) * k.family_joint_open_days)
        for x, y, i in zip(a.tolist(), b.tolist(), pick.tolist()):  # the household device is 3n + pair
            g.benign.append(Group(f"G{len(g.benign) + 1:04d}", "couple", np.array(sorted((x, y)), np.int64),
                                  ("device", 3 * p.n + i)))
        g.realised["families_opening_together"] += int(len(a))
    if k.honest_first_payment_default_share > 0:
        free = p.delinquent & (p.ring < 0) & ~p.grouped
        free[a], free[b] = False, False  # couples who opened together stay together
        cand = np.flatnonzero(free)
        fpd = cand[xr.random(len(cand)) < k.honest_first_payment_default_share]
        p.opened[fpd] = np.maximum(p.opened[fpd], T - p.dpd[fpd] - 30 - xr.random(len(fpd)) * 5)


def _closed(r: tuple[int, int]) -> tuple[int, int]:
    return r[0], r[1] + 1
