"""Rings injected into a real host network: ring quality on structure no one here generated.

:func:`inject_rings` turns an edge list (``../shared/data/networks/``, read
with :func:`skiptrace.evaluate.linkpred.read_edges`) into a world directory
in the contract's input layout, with ``truth/rings.csv`` and
``truth/benign_groups.csv`` in the generator's format, so
``skiptrace load DIR`` then ``skiptrace evaluate rings --world DIR`` run on
it as on a generated world.

The host
--------
Every host node ``i`` becomes borrower ``N<id>`` (as in linkpred) with one
registered CN mobile (``+86138`` and 8 digits), its own device (90%) and
home address (95%), an employer for ``employed_share`` of them (drawn from
a pool of about one employer per 15 hosts), and a status: mostly
``current``, ``delinquent_share`` delinquent (days past due exponential,
mean 60; written off beyond 180), a few repaid. Every unordered pair of the
network is one ``calls`` row (event counts by direction, seconds from the
weight column, first/last from the time column when the file has them).
Call times are shifted so that the network's last event falls the day before
2026-06-30. A host's phonebook (for ``phonebook_share`` of hosts) lists its call
partners (at most 300), and its emergency contacts are its 1-3 partners
with the most events.

Injected, with ``seed``
-----------------------
- ``fraud``: ``fraud_blocks`` blocks of ``fraud_size`` new borrowers
  (``F<block>_<k>``), synthetic identities sharing *subsets* of 1-3
  devices, 1-2 addresses and 1-2 phones (each member uses 1-2 of the
  block's devices, lives at a block address with probability 0.7,
  registers a block phone as secondary with 0.5 and lists one as emergency
  contact with 0.4), loans opened staggered over up to 45 days, all
  defaulting on the first instalment (days past due = days since opening
  - 30). Camouflage: each member calls 3-10 random hosts, lists 5-20
  random hosts in its phonebook and 1-2 as emergency contacts; half list
  another member; 25% give a random host's home as mailing address (a
  stolen identity's, which ties the block to the host's strong
  identifiers) and 30% name a host employer.
- ``anti_collection``: ``anti_rings`` rings of ``anti_size`` *host*
  borrowers drawn anywhere in the network (otherwise unrelated), coached by
  1-3 agent phones: each member lists an agent as emergency contact (0.6)
  and/or in its phonebook (0.85, always without the emergency listing),
  30% list a second agent; agents call 70% of members; defaults begin
  within a few weeks of the ring's onset (normal, sd 7 days). Each agent is
  also in the phonebooks of 2-6 honest hosts.
- benign look-alikes: ``courier`` (a phone in the phonebooks of
  ``courier_size`` hosts of one neighbourhood, a breadth-first ball of the
  network; it calls 30% of them), ``shared_device`` (an internet-cafe device
  used by ``cafe_size`` hosts of one neighbourhood besides their own),
  ``household`` (``household_size`` hosts of one neighbourhood moved to one
  home address; 60% of households also share a device; they list each other
  as family emergency contacts) and ``dormitory`` (``dormitory_size`` hosts
  of one neighbourhood at one address). Members default at the hosts' rate.
- ``contact_attempts`` for every delinquent borrower (2-8 in the last 60
  days), with ``refused``/``opted_out`` outcomes in 35% of ring members'
  attempts and 10% of others'.

Ring members are disjoint from each other and from households, cafes and
dormitories; couriers may be listed by anyone but ring members. A benign
group that finds fewer free hosts than its drawn size is skipped (with a
warning), so small networks get fewer groups; anti-collection rings that
do not fit are an error. Counts
default to rates per host (at least 2 of each). ``truth/world.json``
records the source, seed, parameters and counts (region CN, as of
2026-06-30, the generator's fixed date).
"""
from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from skiptrace.evaluate.linkpred import EdgeList, aggregate, read_edges
from skiptrace.generate.writer import INPUT_FILES

log = logging.getLogger(__name__)

AS_OF = date(2026, 6, 30)
FAMILY = ("spouse", "parent", "child", "sibling")

__all__ = ["AS_OF", "InjectionParams", "InjectionSummary", "inject_rings"]


@dataclass
class InjectionParams:
    """What :func:`inject_rings` injects (None counts: a rate per host, at least 2)."""

    fraud_blocks: int | None = None          # default hosts // 400
    fraud_size: tuple[int, int] = (5, 12)
    anti_rings: int | None = None            # default hosts // 1000
    anti_size: tuple[int, int] = (10, 30)
    agents_per_ring: tuple[int, int] = (1, 3)
    honest_listers_per_agent: tuple[int, int] = (2, 6)
    couriers: int | None = None              # default hosts // 1000
    courier_size: tuple[int, int] = (30, 150)
    cafes: int | None = None                 # default hosts // 1000
    cafe_size: tuple[int, int] = (10, 40)
    households: int | None = None            # default hosts // 500
    household_size: tuple[int, int] = (5, 10)
    dormitories: int | None = None           # default hosts // 2000
    dormitory_size: tuple[int, int] = (20, 60)
    delinquent_share: float = 0.12
    repaid_share: float = 0.05
    employed_share: float = 0.6
    phonebook_share: float = 0.85

    def count(self, name: str, hosts: int) -> int:
        rate = {"fraud_blocks": 400, "anti_rings": 1000, "couriers": 1000, "cafes": 1000,
                "households": 500, "dormitories": 2000}[name]
        v = getattr(self, name)
        return max(2, hosts // rate) if v is None else int(v)


@dataclass
class InjectionSummary:
    """What was written: the source network, counts of rows per file, rings and groups."""

    network: str
    out_dir: str
    seed: int
    hosts: int
    borrowers: int
    rows: dict[str, int]
    rings: dict[str, int]
    ring_members: dict[str, int]
    benign_groups: dict[str, int]
    benign_members: dict[str, int]
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _World:
    """The rows of the world being written, kept as lists of tuples per file."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple]] = {k: [] for k in _COLUMNS}
        self.pb: set[tuple[str, str]] = set()
        self.ec: set[tuple[str, str]] = set()

    def phonebook(self, b: str, phone: str, name: str, at: str) -> None:
        if (b, phone) not in self.pb:
            self.pb.add((b, phone))
            self.rows["phonebook"].append((b, phone, name, at))

    def emergency(self, b: str, phone: str, name: str, relation: str, at: str) -> None:
        if (b, phone) not in self.ec:
            self.ec.add((b, phone))
            self.rows["emergency_contacts"].append((b, phone, name, relation, at))


#: the input files an injected world writes, laid out as the generator writes them
_COLUMNS: dict[str, list[str]] = {k: v for k, v in INPUT_FILES.items() if k not in ("phone_status", "payments")}


def _day(d: float) -> str:
    """Days before AS_OF (may be fractional) -> ISO date."""
    return (AS_OF - timedelta(days=int(np.floor(d)))).isoformat()


def _ball(nbr: sparse.csr_matrix, start: int, size: int, allowed: np.ndarray,
          rng: np.random.Generator) -> list[int]:
    """A breadth-first neighbourhood of ``start`` of up to ``size`` allowed nodes (random
    order within a hop); jumps to a random allowed node when the component runs out."""
    seen = {start}
    order = [start] if allowed[start] else []
    frontier = [start]
    while len(order) < size:
        nxt: list[int] = []
        for u in frontier:
            row = nbr.indices[nbr.indptr[u]:nbr.indptr[u + 1]]
            for v in rng.permutation(row):
                v = int(v)
                if v not in seen:
                    seen.add(v)
                    nxt.append(v)
                    if allowed[v]:
                        order.append(v)
                        if len(order) >= size:
                            return order
        if not nxt:
            free = np.flatnonzero(allowed)
            free = free[~np.isin(free, list(seen))]
            if not len(free):
                break
            nxt = [int(rng.choice(free))]
            seen.add(nxt[0])
            order.append(nxt[0])
        frontier = nxt
    return order[:size]


def _neighbourhood(nbr: sparse.csr_matrix, size: int, allowed: np.ndarray,
                   rng: np.random.Generator, kind: str) -> list[int]:
    """A :func:`_ball` of ``size`` allowed hosts around a random allowed host, or [] (with a
    warning) when fewer than ``size`` hosts are allowed: small networks get fewer groups."""
    free = np.flatnonzero(allowed)
    if len(free) < size:
        log.warning("%s: %d free hosts, fewer than the %d drawn; group skipped", kind, len(free), size)
        return []
    return _ball(nbr, int(rng.choice(free)), size, allowed, rng)


def inject_rings(network: str | Path | EdgeList, out_dir: str | Path, *, seed: int = 0,
                 params: InjectionParams | None = None) -> InjectionSummary:
    """Write ``network`` with injected rings and benign look-alikes as a world in ``out_dir``.

    See the module docstring for what is written. The same network, seed and
    params give the same files. Files of the same names in ``out_dir`` are
    overwritten. Cost: O(events log events + hosts + injected rows); memory
    holds every row (fine for the networks of ../shared/data/networks/, the
    largest of which, email_enron, writes about 0.6 million rows).
    """
    el = network if isinstance(network, EdgeList) else read_edges(network)
    prm = params or InjectionParams()
    rng = np.random.Generator(np.random.PCG64(seed))
    out = Path(out_dir)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    n = el.n
    pt = aggregate(el)
    nbr = sparse.coo_matrix((np.ones(2 * len(pt)), (np.r_[pt.lo, pt.hi], np.r_[pt.hi, pt.lo])),
                            shape=(n, n)).tocsr()
    events = sparse.coo_matrix((np.r_[pt.a_to_b + pt.b_to_a, pt.a_to_b + pt.b_to_a].astype(float),
                                (np.r_[pt.lo, pt.hi], np.r_[pt.hi, pt.lo])), shape=(n, n)).tocsr()
    w = _World()
    R = w.rows
    hid = [el.borrower_id(i) for i in range(n)]
    hphone = [el.phone(i) for i in range(n)]
    used_numbers = {int(p[6:]) for p in hphone}

    def new_phone(prefix: str = "+86139") -> str:
        while True:
            d = int(rng.integers(0, 10 ** 8))
            if d not in used_numbers:
                used_numbers.add(d)
                return f"{prefix}{d:08d}"

    addr_no = [0]

    def new_address() -> str:
        addr_no[0] += 1
        k = addr_no[0]
        return f"No. {k} Lane {k % 997}, District {k % 31}, Hostcity"

    # -- hosts -------------------------------------------------------------------------------
    u = rng.random(n)
    status = np.where(u < prm.delinquent_share, "delinquent",
                      np.where(u < prm.delinquent_share + prm.repaid_share, "repaid", "current")).astype(object)
    dpd = np.where(status == "delinquent", np.ceil(rng.exponential(60, n)), 0).astype(int)
    status[(status == "delinquent") & (dpd > 180)] = "written_off"
    opened = dpd + 30 + rng.uniform(30, 900, n)
    balance = np.round(np.exp(rng.normal(np.log(8000), 0.8, n)), 2)
    balance[status == "repaid"] = 0.0
    cease = np.zeros(n, bool)
    home: list[str | None] = [new_address() if x < 0.95 else None for x in rng.random(n)]
    device: list[list[str]] = [[f"dev-{hid[i]}"] if x < 0.9 else [] for i, x in enumerate(rng.random(n))]
    n_emp = max(1, n // 15)
    employer = [f"Employer {int(e)} Ltd" if x < prm.employed_share else None
                for e, x in zip(rng.integers(0, n_emp, n), rng.random(n))]
    taken = np.zeros(n, bool)            # in an exclusive ring or group
    ring_host = np.zeros(n, bool)
    truth_rings: list[tuple[str, str, str, str, str]] = []
    truth_benign: list[tuple[str, str, str, str]] = []
    extra_calls: list[tuple[str, str, int, int, int, str, str]] = []
    onset_of: dict[str, float] = {}      # borrower -> days before AS_OF its default began
    ring_borrower: set[str] = set()

    # -- anti-collection rings: host borrowers coached by agents ----------------------------
    anti_count = prm.count("anti_rings", n)
    has_partner = np.diff(nbr.indptr) > 0
    for r in range(anti_count):
        size = int(rng.integers(prm.anti_size[0], prm.anti_size[1] + 1))
        free = np.flatnonzero(~taken & has_partner)
        if len(free) < size:
            raise ValueError(f"too few hosts ({n}) for {anti_count} anti-collection rings")
        m = np.sort(rng.choice(free, size, replace=False))
        taken[m] = ring_host[m] = True
        rid = f"R{len(set(t[0] for t in truth_rings)) + 1:04d}"
        ring_onset = rng.uniform(30, 150)
        on = np.clip(ring_onset + rng.normal(0, 7, size), 5, None)
        na = int(rng.integers(prm.agents_per_ring[0], prm.agents_per_ring[1] + 1))
        agents = [new_phone() for _ in range(na)]
        for k, i in enumerate(m):
            b = hid[i]
            ring_borrower.add(b)
            d = int(np.ceil(on[k]))
            dpd[i] = d
            status[i] = "written_off" if d > 180 else "delinquent"
            opened[i] = max(opened[i], d + 30 + rng.uniform(0, 600))
            balance[i] = max(balance[i], 500.0)
            cease[i] = rng.random() < 0.3
            onset_of[b] = float(d)
            truth_rings.append((rid, "anti_collection", b, "member", ""))
            a = int(rng.integers(na))
            ec = rng.random() < 0.6
            pb = rng.random() < 0.85 or not ec
            if ec:
                w.emergency(b, agents[a], "", str(rng.choice(["friend", "other"])), _day(opened[i]))
            if pb:
                w.phonebook(b, agents[a], "", _day(rng.uniform(0, 120)))
            if na > 1 and rng.random() < 0.3:
                w.phonebook(b, agents[(a + 1) % na], "", _day(rng.uniform(0, 120)))
            if rng.random() < 0.7:
                c = int(rng.integers(1, 7))
                first = on[k] + rng.uniform(0, 20)
                extra_calls.append((agents[a], hphone[i], c, int(rng.integers(0, c + 1)),
                                    int(c * rng.uniform(30, 300)), _at(first), _at(max(0.0, first - 30))))
        for ph in agents:
            truth_rings.append((rid, "anti_collection", "", "agent", ph))
            lo, hi = prm.honest_listers_per_agent
            pool = np.flatnonzero(~ring_host)
            honest = rng.choice(pool, min(len(pool), int(rng.integers(lo, hi + 1))), replace=False)
            for i in honest:
                w.phonebook(hid[i], ph, "", _day(rng.uniform(0, 120)))

    # -- benign look-alikes (hosts of one neighbourhood) ------------------------------------
    benign_no = [0]

    def gid() -> str:
        benign_no[0] += 1
        return f"G{benign_no[0]:04d}"

    for _ in range(prm.count("households", n)):
        size = int(rng.integers(prm.household_size[0], prm.household_size[1] + 1))
        m = _neighbourhood(nbr, size, ~taken, rng, "household")
        if not m:
            continue
        taken[m] = True
        addr = new_address()
        dev = f"dev-home-{addr_no[0]}" if rng.random() < 0.6 else None
        g = gid()
        for k, i in enumerate(m):
            home[i] = addr
            if dev:
                device[i] = device[i] + [dev]
            truth_benign.append((g, "household", hid[i], addr))
            for j in m[:k][-2:]:  # each lists one or two earlier members as family
                w.emergency(hid[i], hphone[j], "", str(rng.choice(FAMILY)), _day(opened[i]))
    for _ in range(prm.count("dormitories", n)):
        size = int(rng.integers(prm.dormitory_size[0], prm.dormitory_size[1] + 1))
        m = _neighbourhood(nbr, size, ~taken, rng, "dormitory")
        if not m:
            continue
        taken[m] = True
        addr = new_address()
        g = gid()
        for i in m:
            home[i] = addr
            truth_benign.append((g, "dormitory", hid[i], addr))
    for _ in range(prm.count("cafes", n)):
        size = int(rng.integers(prm.cafe_size[0], prm.cafe_size[1] + 1))
        m = _neighbourhood(nbr, size, ~taken, rng, "shared_device")
        if not m:
            continue
        taken[m] = True
        g = gid()
        dev = f"dev-cafe-{g}"
        for i in m:
            device[i] = device[i] + [dev]
            truth_benign.append((g, "shared_device", hid[i], dev))
    for _ in range(prm.count("couriers", n)):
        size = int(rng.integers(prm.courier_size[0], prm.courier_size[1] + 1))
        m = _neighbourhood(nbr, size, ~ring_host, rng, "courier")
        if not m:
            continue
        ph = new_phone()
        g = gid()
        for i in m:
            w.phonebook(hid[i], ph, "Courier", _day(rng.uniform(0, 120)))
            truth_benign.append((g, "courier", hid[i], ph))
            if rng.random() < 0.3:
                c = int(rng.integers(1, 4))
                t0 = rng.uniform(0, 300)
                extra_calls.append((ph, hphone[i], c, 0, int(c * rng.uniform(20, 90)), _at(t0),
                                    _at(max(0.0, t0 - rng.uniform(0, 60)))))

    # -- host rows ---------------------------------------------------------------------------
    for i in range(n):
        b = hid[i]
        R["borrowers"].append((b, f"host {el.ids[i]}", str(status[i]), int(dpd[i]), float(balance[i]),
                               "CNY", _day(opened[i]), "Asia/Shanghai", "CN", "false",
                               "true" if cease[i] else "false"))
        R["borrower_phones"].append((b, hphone[i], "primary", _day(opened[i]), "", "true"))
        for dev in device[i]:
            R["borrower_devices"].append((b, dev, _day(opened[i]), ""))
        if home[i]:
            R["borrower_addresses"].append((b, home[i], "home", _day(opened[i]), ""))
        if employer[i]:
            R["borrower_employers"].append((b, employer[i], "", ""))
        row = events.indices[events.indptr[i]:events.indptr[i + 1]]
        cnt = events.data[events.indptr[i]:events.indptr[i + 1]]
        order = row[np.lexsort((row, -cnt))]
        if rng.random() < prm.phonebook_share:
            cap = _day(rng.uniform(0, 120))
            for j in order[:300]:
                w.phonebook(b, hphone[j], "", cap)
        for j in order[:int(rng.integers(1, 4))]:
            w.emergency(b, hphone[j], "", str(rng.choice(FAMILY + ("friend", "colleague"))),
                        _day(opened[i]))

    # -- fraud blocks: new synthetic identities ----------------------------------------------
    fraud_count = prm.count("fraud_blocks", n)
    honest_hosts = np.flatnonzero(~ring_host)
    rid_no = len({t[0] for t in truth_rings})
    for f in range(fraud_count):
        size = int(rng.integers(prm.fraud_size[0], prm.fraud_size[1] + 1))
        rid_no += 1
        rid = f"R{rid_no:04d}"
        devs = [f"dev-F{f + 1:03d}-{j}" for j in range(int(rng.integers(1, 4)))]
        addrs = [new_address() for _ in range(int(rng.integers(1, 3)))]
        phones = [new_phone() for _ in range(int(rng.integers(1, 3)))]
        start = rng.uniform(90, 300)
        ids = [f"F{f + 1:03d}_{k + 1:02d}" for k in range(size)]
        own = [new_phone() for _ in range(size)]
        use = [list(rng.choice(devs, min(len(devs), int(rng.integers(1, 3))), replace=False))
               for _ in range(size)]
        for d in devs:  # every block device is shared by at least two members
            users = [k for k in range(size) if d in use[k]]
            for k in rng.choice(size, max(0, 2 - len(users)), replace=False):
                if d not in use[k]:
                    use[k].append(d)
        for k, b in enumerate(ids):
            ring_borrower.add(b)
            op = start - rng.uniform(0, 45)
            d = int(max(1, np.floor(op - 30 - rng.uniform(0, 5))))
            onset_of[b] = float(d)
            R["borrowers"].append((b, f"applicant {b}", "written_off" if d > 180 else "delinquent", d,
                                   float(np.round(rng.uniform(3000, 20000), 2)), "CNY", _day(op),
                                   "Asia/Shanghai", "CN", "false", "false"))
            R["borrower_phones"].append((b, own[k], "primary", _day(op), "", "true"))
            for dev in use[k]:
                R["borrower_devices"].append((b, dev, _day(op), ""))
            if rng.random() < 0.4:
                R["borrower_devices"].append((b, f"dev-{b}", _day(op), ""))
            addr = str(rng.choice(addrs)) if rng.random() < 0.7 else new_address()
            R["borrower_addresses"].append((b, addr, "home", _day(op), ""))
            if rng.random() < 0.25:  # a real person's address as mailing address (stolen identity)
                j = int(rng.choice(honest_hosts))
                if home[j]:
                    R["borrower_addresses"].append((b, home[j], "mailing", _day(op), ""))
            if rng.random() < 0.3 and n_emp:
                R["borrower_employers"].append((b, f"Employer {int(rng.integers(0, n_emp))} Ltd", "", ""))
            if rng.random() < 0.5:
                R["borrower_phones"].append((b, str(rng.choice(phones)), "secondary", _day(op), "", "false"))
            if rng.random() < 0.4:
                w.emergency(b, str(rng.choice(phones)), "", "friend", _day(op))
            if rng.random() < 0.5 and size > 1:
                o = int(rng.choice([x for x in range(size) if x != k]))
                w.phonebook(b, own[o], "", _day(rng.uniform(0, 60)))
            # camouflage: calls and listings of random honest hosts
            for j in rng.choice(honest_hosts, min(len(honest_hosts), int(rng.integers(3, 11))), replace=False):
                c = int(rng.integers(1, 6))
                t0 = rng.uniform(0, max(1.0, op))
                extra_calls.append((own[k], hphone[j], c, int(rng.integers(0, c + 1)),
                                    int(c * rng.uniform(20, 400)), _at(t0), _at(t0 * rng.uniform(0, 1))))
            cap = _day(rng.uniform(0, 60))
            for j in rng.choice(honest_hosts, min(len(honest_hosts), int(rng.integers(5, 21))), replace=False):
                w.phonebook(b, hphone[j], "", cap)
            for j in rng.choice(honest_hosts, min(len(honest_hosts), int(rng.integers(1, 3))), replace=False):
                w.emergency(b, hphone[j], "", str(rng.choice(["friend", "relative", "colleague"])), _day(op))
            truth_rings.append((rid, "fraud", b, "member", ""))

    # -- calls: the host network, then injected calls ----------------------------------------
    first_iso = last_iso = None
    if pt.first is not None and len(pt):  # shifted so the network's last event is the day before AS_OF
        end = np.datetime64(AS_OF.isoformat()) - np.timedelta64(1, "D")
        tmax = float(pt.last.max())

        def iso(t: np.ndarray) -> np.ndarray:
            secs = np.floor(tmax - t).astype(np.int64).astype("timedelta64[s]")
            return np.char.add(np.datetime_as_string(end.astype("datetime64[s]") - secs, unit="s"), "Z")

        first_iso, last_iso = iso(pt.first), iso(pt.last)
    for j in range(len(pt)):
        R["calls"].append((hphone[pt.lo[j]], hphone[pt.hi[j]], int(pt.a_to_b[j]), int(pt.b_to_a[j]),
                           int(round(pt.seconds[j])) if pt.seconds is not None else "",
                           first_iso[j] if first_iso is not None else "",
                           last_iso[j] if last_iso is not None else ""))
    seen_pairs = {(r[0], r[1]) if r[0] < r[1] else (r[1], r[0]) for r in R["calls"]}
    for a, b, ab, ba, secs, first, last in extra_calls:
        key = (a, b) if a < b else (b, a)
        if key in seen_pairs:
            continue
        seen_pairs.add(key)
        if a > b:
            a, b, ab, ba = b, a, ba, ab
        R["calls"].append((a, b, ab, ba, secs, first, last))

    # -- collection attempts of delinquent borrowers ------------------------------------------
    att = 0
    for row in R["borrowers"]:
        b, st, d = row[0], row[2], int(row[3])
        if st not in ("delinquent", "written_off"):
            continue
        hostile = 0.35 if b in ring_borrower else 0.10
        for _ in range(int(rng.integers(2, 9))):
            att += 1
            ago = rng.uniform(0, min(60, d))
            x = rng.random()
            outcome = (str(rng.choice(["refused", "opted_out"])) if x < hostile else
                       str(rng.choice(["no_answer", "no_answer", "reached_borrower", "promise_to_pay"])))
            connected = "false" if outcome == "no_answer" else "true"
            R["contact_attempts"].append((f"A{att:07d}", b, str(rng.choice(["human_call", "ai_call", "sms"])),
                                          _at(ago, hour=10), "", "borrower", connected, outcome))

    # -- write -------------------------------------------------------------------------------
    for name, cols in _COLUMNS.items():
        _write(out / f"{name}.csv", cols, R[name])
    _write(out / "truth" / "rings.csv", ["ring_id", "typology", "borrower_id", "role", "phone"],
           sorted(truth_rings, key=lambda t: (t[0], t[3] != "member", t[2], t[4])))
    _write(out / "truth" / "benign_groups.csv", ["group_id", "kind", "borrower_id", "identifier"],
           truth_benign)
    rings: dict[str, int] = {}
    ring_members: dict[str, int] = {}
    for rid, typ, b, role, _ in truth_rings:
        if role == "member":
            ring_members[typ] = ring_members.get(typ, 0) + 1
    for typ in ("fraud", "anti_collection"):
        rings[typ] = len({t[0] for t in truth_rings if t[1] == typ})
    groups: dict[str, int] = {}
    gmembers: dict[str, int] = {}
    for g, kind, _, _ in truth_benign:
        gmembers[kind] = gmembers.get(kind, 0) + 1
    for kind in {t[1] for t in truth_benign}:
        groups[kind] = len({t[0] for t in truth_benign if t[1] == kind})
    summary = InjectionSummary(el.path, str(out), seed, n, len(R["borrowers"]),
                               {k: len(v) for k, v in R.items()}, rings, ring_members,
                               dict(sorted(groups.items())), dict(sorted(gmembers.items())),
                               {k: list(v) if isinstance(v, tuple) else v
                                for k, v in asdict(prm).items()})
    meta = {"kind": "injected", "network": Path(el.path).name, "seed": seed, "region": "CN",
            "as_of": AS_OF.isoformat(), "summary": summary.as_dict()}
    (out / "truth" / "world.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
    log.info("injected into %s: %d hosts + %d new borrowers; rings %s; benign %s", Path(el.path).name,
             n, len(R["borrowers"]) - n, rings, groups)
    return summary


def _at(days_ago: float, hour: int | None = None) -> str:
    """A local time ``days_ago`` days before AS_OF (the hour from the fraction, or ``hour``)."""
    whole = int(np.floor(days_ago))
    h = hour if hour is not None else 8 + int((days_ago - whole) * 14)
    return f"{(AS_OF - timedelta(days=whole)).isoformat()}T{h:02d}:00:00+08:00"


def _write(path: Path, cols: list[str], rows: Iterable[tuple]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(cols)
        wr.writerows(rows)
