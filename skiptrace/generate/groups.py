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
    BB_FAMILY, BB_FRAUD, BB_ROOMMATE, CHILD, DELINQUENT, FRIEND, INF, OTHER, PARENT, RELATIVE, SIBLING,
    SPOUSE, WRITTEN_OFF, Population)

# hub kinds (phones outside borrowers' own numbers)
COURIER, AGENT, FRAUD_PHONE = range(3)


@dataclass
class Group:
    group_id: str
    kind: str  # fraud, anti_collection, household, dormitory, switchboard, courier, shared_device
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
    ring_onset: np.ndarray  # per borrower, anti-collection default onset (INF otherwise)
    bb_extra: list[tuple] = field(default_factory=list)


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


def assign(p: Population, rng: np.random.Generator) -> Groups:
    """Draw rings and benign groups and write their traits into ``p``."""
    k, n, T = p.knobs, p.n, p.clock.today
    pick = _Picker(p, rng)

    def sizes(rate: float, size: tuple[int, int]) -> list[int]:
        lo, hi = k.size_range(size, n)
        return [int(s) for s in rng.integers(lo, hi + 1, k.group_count(rate, n))]

    plan = {
        "fraud": sizes(k.fraud_rings_per_100k, k.fraud_ring_size),
        "anti_collection": sizes(k.anti_rings_per_100k, k.anti_ring_size),
        "household": sizes(k.large_families_per_100k, k.large_family_size),
        "dormitory": sizes(k.dormitories_per_100k, k.dormitory_size),
        "shared_device": sizes(k.shared_devices_per_100k, k.shared_device_size),
    }
    if sum(sum(v) for v in plan.values()) > n // 2:
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
    rings: list[Group] = []
    benign: list[Group] = []

    def chain_and_pairs(m: np.ndarray, kind: int, rel_a, rel_b, strength: float) -> None:
        if len(m) > 1:
            s = np.full(len(m) - 1, strength, np.float32)
            bb.append((m[:-1], m[1:], kind, rel_a, rel_b, s))

    # fraud rings: synthetic identities opened in a burst, sharing identifiers, defaulting early
    for size in plan["fraud"]:
        m = pick.anywhere(size)
        rid = f"R{len(rings) + 1:04d}"
        burst = T - 60 - rng.random() * 180
        p.opened[m] = np.floor(burst + rng.random(size) * 10) + 0.3 + 0.5 * rng.random(size)
        dpd = np.maximum(1, np.floor(T - p.opened[m] - 30 - rng.random(size) * 5)).astype(np.int32)
        p.dpd[m] = dpd
        p.status[m] = np.where(dpd > 180, WRITTEN_OFF, DELINQUENT)
        p.segment[m], p.effect[m] = 2, -2.0
        p.ring[m], p.fraud[m] = len(rings), True
        p.has_pb[m] = rng.random(size) < 0.7
        for d in range(1 + (size > 5)):
            users = m[(np.arange(size) % (1 + (size > 5)) == d) & (rng.random(size) < 0.9)]
            users = users if len(users) >= 2 else m[:2]
            devs.append((users, np.full(len(users), next_dev)))
            next_dev += 1
        addr = next_addr
        next_addr += 1
        at = m[rng.random(size) < 0.7]
        at = at if len(at) >= 2 else m[:2]
        p.home_kind[at], p.home_idx[at], p.home_city[at] = 0, addr, p.city[m[0]]
        for _ in range(1 + (size > 6)):
            h = new_hub(FRAUD_PHONE, int(p.zone[m[0]]))
            reg = m[rng.random(size) < 0.6]
            reg = reg if len(reg) >= 2 else m[:2]
            regs.append((reg, np.full(len(reg), h)))
            ec = m[rng.random(size) < 0.4]
            lists.append((ec, np.full(len(ec), h), np.ones(len(ec), bool), np.zeros(len(ec), bool)))
        rel = rng.choice([FRIEND, RELATIVE, OTHER], size - 1) if size > 1 else np.zeros(0, np.int8)
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

    p.grouped = pick.taken.copy()

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
        ring_onset=ring_onset, bb_extra=bb)


def _closed(r: tuple[int, int]) -> tuple[int, int]:
    return r[0], r[1] + 1
