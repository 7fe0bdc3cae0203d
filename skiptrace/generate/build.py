"""Assemble a world: global arrays first, then per-chunk streaming of every table."""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skiptrace.generate import groups as groups_mod
from skiptrace.generate import population as pop_mod
from skiptrace.generate import response as response_mod
from skiptrace.generate.calls import Calls, activity, split
from skiptrace.generate.clock import Clock
from skiptrace.generate.calls import cut
from skiptrace.generate.history import ACTIONS, CHANNELS, OUTCOMES, ThirdParties, costs, simulate
from skiptrace.generate.identity import CN_ZONES, US_ZONES, Identities, mix
from skiptrace.generate.knobs import Knobs
from skiptrace.generate.phones import PhoneSpace
from skiptrace.generate.population import (
    INF, KNOWN_CHURN, LOST_MECHANISMS, PHONE_STATUS, RELATIONS, SEGMENTS, STATUSES, Population)
from skiptrace.generate.stats import WorldStats
from skiptrace.generate.ties import (
    AGENT, BB, COURIER, FRAUDPH, P_PHONEBOOK, REL, SWITCH, build_ties, emergency_contacts, reach_truth, tie_calls)
from skiptrace.generate.writer import INPUT_FILES, Sink

log = logging.getLogger(__name__)

CHUNK = 10_000  # borrowers per chunk; fixed, because per-chunk random streams depend on it
DEFAULT_AS_OF = dt.date(2026, 6, 30)
_TF = ["false", "true"]
# random streams (SeedSequence spawn keys); the realism knobs draw only from S_LOGS, S_REAL, S_BB_REAL, S_STATS,
# the harder-ring knobs only from S_RINGS, so the legacy knobs leave every other stream, and so every file, as it was
# the observable response model draws only from S_RESP
S_POP, S_NUMBERING, S_BORROWER, S_CHUNK, S_BB, S_HUB, S_LOGS, S_REAL, S_BB_REAL, S_STATS, S_RINGS, S_RESP = range(12)


@dataclass
class WorldSummary:
    """What :func:`world` wrote: row counts per file and the settings used."""

    out_dir: str
    seed: int
    region: str
    as_of: str
    n_borrowers: int
    knobs: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)  # "calls" or "truth/reachable" -> rows
    rings: int = 0
    benign_groups: int = 0
    lost_contact: int = 0
    realised: dict[str, Any] = field(default_factory=dict)  # measured statistics (see stats.py)


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


class _Ctx:
    """Everything a chunk needs: the population, identities, numbering, indexes."""

    def __init__(self, pop: Population, groups: groups_mod.Groups, phones: PhoneSpace, ids: Identities, seed: int):
        self.pop, self.groups, self.phones, self.ids = pop, groups, phones, ids
        self.salt = seed * 1_000_003 + 17
        self.stats = WorldStats(pop.n, min(pop.n, CHUNK))
        self.stats.watch = pop.lost & (pop.switch < INF)
        self.carry_pairs = np.zeros(0, np.int64)  # contact pairs of a community that goes on in the next chunk
        p = pop
        src = np.concatenate([p.bb_u, p.bb_v])
        o = np.argsort(src, kind="stable")
        self.adj_src = src[o]
        self.adj_dst = np.concatenate([p.bb_v, p.bb_u])[o]
        self.adj_rel = np.concatenate([p.bb_rel_uv, p.bb_rel_vu])[o]
        self.adj_s = np.concatenate([p.bb_strength, p.bb_strength])[o]
        self.adj_edge = np.concatenate([np.arange(len(p.bb_u))] * 2)[o]
        self.list_order = np.argsort(groups.list_b, kind="stable")
        self.list_b_sorted = groups.list_b[self.list_order]
        self.sw_order = np.argsort(groups.sw_b, kind="stable")
        self.sw_b_sorted = groups.sw_b[self.sw_order]
        self.best: list[tuple] = []  # per chunk: the true best action per delinquent borrower (see response.py)
        self.seed = seed


class _Fmt:
    """Formatting helpers bound to one world."""

    def __init__(self, ctx: _Ctx, clock: Clock):
        self.ctx, self.clock = ctx, clock
        n = ctx.pop.n
        self.width = max(6, len(str(n)))

    def bid(self, b: np.ndarray) -> list[str]:
        w = self.width
        return [f"B{x:0{w}d}" for x in np.asarray(b).tolist()]

    def phones(self, idx: np.ndarray, rng: np.random.Generator) -> list[str]:
        return self.ctx.phones.render(idx, rng, self.ctx.pop.knobs.local_notation_share)

    def opt_phones(self, idx: np.ndarray, rng: np.random.Generator) -> list[str]:
        idx = np.asarray(idx)
        out = [""] * len(idx)
        m = np.flatnonzero(idx >= 0)
        for j, s in zip(m.tolist(), self.phones(idx[m], rng)):
            out[j] = s
        return out

    def money(self, x: np.ndarray) -> list[str]:
        return [f"{v:.2f}" for v in np.asarray(x).tolist()]

    def prob(self, x: np.ndarray) -> list[str]:
        return [f"{v:.4f}" for v in np.asarray(x).tolist()]


def world(n_borrowers: int, seed: int, out_dir: str | Path, *, region: str = "CN",
          as_of: dt.date | str | None = None, preset: str = "default", **knobs: Any) -> WorldSummary:
    """Write a synthetic lending world with ground truth to ``out_dir``.

    Files follow the input contract (borrowers.csv ... payments.csv) and
    ``out_dir/truth/`` holds the hidden truth (see docs/generator.md). The
    knobs are those of ``preset`` (``default``, or ``legacy`` for the world
    of the generator before the realism knobs and the harder rings) with ``knobs`` on top. The
    same ``(n_borrowers, seed, region, as_of, knobs)`` always gives
    byte-identical files. Raises ValueError for invalid arguments.
    """
    if not isinstance(n_borrowers, int) or n_borrowers < 50:
        raise ValueError("n_borrowers must be an integer >= 50")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError("seed must be a non-negative integer")
    region = region.upper()
    if region not in ("CN", "US"):
        raise ValueError(f"region must be CN or US, got {region!r}")
    if as_of is None:
        as_of = DEFAULT_AS_OF
    elif isinstance(as_of, str):
        try:
            as_of = dt.date.fromisoformat(as_of)
        except ValueError as exc:
            raise ValueError(f"as_of must be a date YYYY-MM-DD, got {as_of!r}") from exc
    elif isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    kn = Knobs.preset(preset, **knobs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)  # our files are overwritten; nothing else is touched

    n = n_borrowers
    clock = Clock(as_of, CN_ZONES if region == "CN" else US_ZONES)
    rng = _rng(seed, S_POP)
    pop = pop_mod.build(n, kn, region, clock, rng)
    xr = _rng(seed, S_RINGS)
    grp = groups_mod.assign(pop, rng, xr)
    pop.groups = grp
    pop_mod.churn_and_loss(pop, rng, grp.ring_onset)
    pop_mod.relatives(pop, rng)
    pop_mod.borrower_edges(pop, rng, grp.bb_extra)
    groups_mod.joint_openings(pop, grp, xr)
    real_logs = kn.partial_call_logs or kn.new_number_calls_circle_share < 1.0
    pop_mod.call_logs(pop, _rng(seed, S_LOGS) if real_logs else None)
    n_emp = pop.n_comm * pop.employers_per_comm
    emp_city = pop.city[np.minimum(np.arange(n_emp) // pop.employers_per_comm * kn.community_size, n - 1)]
    phones = PhoneSpace(region, n, int(pop.rel_start[-1]), pop.n_comm * pop.pool_slice, grp.n_hubs, n_emp,
                        zone=np.zeros(0, np.int8), employer_city=emp_city, rng=_rng(seed, S_NUMBERING),
                        n_fake=5 * n if kn.fake_emergency_share > 0 else 0)
    phones.zone = _phone_zones(pop, grp, phones, emp_city)
    ids = Identities(region, salt=seed * 7919 + 11)
    ctx = _Ctx(pop, grp, phones, ids, seed)
    fmt = _Fmt(ctx, clock)
    observable = kn.response_model == "observable"
    sink = Sink(out, observable)
    try:
        seq = 0
        for c, lo in enumerate(range(0, n, CHUNK)):
            hi = min(n, lo + CHUNK)
            _write_borrowers(ctx, fmt, sink, lo, hi, _rng(seed, S_BORROWER, c))
            seq = _write_chunk(ctx, fmt, sink, lo, hi, _rng(seed, S_CHUNK, c), seq, _rng(seed, S_REAL, c))
            log.debug("chunk %d done (%d borrowers)", c, hi)
        _write_bb_calls(ctx, fmt, sink, seed)
        _write_hubs(ctx, fmt, sink, _rng(seed, S_HUB))
        _write_truth_tables(ctx, fmt, sink)
    finally:
        sink.close()
    counts = {(k if k in INPUT_FILES else f"truth/{k}"): v for k, v in sink.counts.items()}
    ctx.stats.call_rows = counts["calls"]
    realised = {**ctx.stats.as_dict(_rng(seed, S_STATS), pop.has_pb), **grp.realised,
                **response_mod.best_summary(ctx.best, response_mod.arm_names() if observable
                                            else [f"{c}/{r}" for c, r in ACTIONS])}
    summary = WorldSummary(str(out), seed, region, as_of.isoformat(), n, kn.as_dict(), counts,
                           rings=len(grp.rings), benign_groups=len(grp.benign), lost_contact=int(pop.lost.sum()),
                           realised=realised)
    meta = {"generator": "skiptrace.generate", "seed": seed, "region": region, "as_of": as_of.isoformat(),
            "n_borrowers": n, "preset": preset, "knobs": kn.as_dict(), "counts": counts, "realised": realised,
            "rings": [{"ring_id": g.group_id, "typology": g.kind, "size": int(len(g.members)), "agents": int(len(g.agents))}
                      for g in grp.rings],
            "benign_groups": [{"group_id": g.group_id, "kind": g.kind, "size": int(len(g.members))} for g in grp.benign],
            "actions": [{"channel": c, "target_role": r} for c, r in ACTIONS],
            "response_model": kn.response_model}
    if observable:
        meta["arms"] = [dict(zip(("channel", "target_role", "script"), (a.split("/") + [""])[:3]))
                        for a in response_mod.arm_names()]
    (out / "truth" / "world.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary


def _phone_zones(p: Population, g: groups_mod.Groups, ph: PhoneSpace, emp_city: np.ndarray) -> np.ndarray:
    z = np.zeros(ph.total, np.int8)
    n = p.n
    for base in (ph.primary, ph.new, ph.secondary):
        z[base:base + n] = p.zone
    owner = np.repeat(np.arange(n), np.diff(p.rel_start))
    z[ph.relative:ph.relative + len(owner)] = p.zone[owner]
    z[ph.relative_old:ph.relative_old + len(owner)] = p.zone[owner]
    comm_zone = p.zone[np.minimum(np.arange(p.n_comm) * p.knobs.community_size, n - 1)]
    z[ph.pool:ph.hub] = np.repeat(comm_zone, p.pool_slice)
    z[ph.hub:ph.fake] = g.hub_zone
    z[ph.fake:ph.switch] = np.repeat(p.zone, ph.n_fake // n) if ph.n_fake else z[ph.fake:ph.switch]
    cities = p.cities
    z[ph.switch:ph.total] = np.array([c.zone for c in cities], np.int8)[emp_city]
    return z


def _write_status(ctx: _Ctx, fmt: _Fmt, sink: Sink, phone: np.ndarray, status: np.ndarray, at,
                  rng: np.random.Generator) -> None:
    """phone_status rows, for the ``phone_status_coverage`` share of phones (a fixed hash of the phone).

    ``at`` is the status times, or a function drawing them after the phones
    are rendered (the order the legacy generator drew them in).
    """
    cov = ctx.pop.knobs.phone_status_coverage
    ctx.stats.status_total += len(phone)
    keep = np.ones(len(phone), bool)
    if cov < 1.0:
        keep = (mix(phone, ctx.salt + 23) % np.uint64(1_000_000)).astype(np.float64) < cov * 1e6
    ctx.stats.status_kept += int(keep.sum())
    text = fmt.phones(phone[keep], rng)
    at = np.asarray(at() if callable(at) else at)[keep]
    sink.write("phone_status", [text, [PHONE_STATUS[s] for s in np.asarray(status)[keep].tolist()], fmt.clock.dates(at)])


def _write_borrowers(ctx: _Ctx, fmt: _Fmt, sink: Sink, lo: int, hi: int, rng: np.random.Generator) -> None:
    """Borrower rows and their registered phones, devices, addresses, employers."""
    p, ph, ids, ck = ctx.pop, ctx.phones, ctx.ids, fmt.clock
    T = ck.today
    b = np.arange(lo, hi)
    nb = len(b)
    bid = fmt.bid(b)
    cur = "CNY" if p.region == "CN" else "USD"
    sink.write("borrowers", [
        bid, ids.names(b), [STATUSES[s] for s in p.status[b].tolist()], [str(x) for x in p.dpd[b].tolist()],
        fmt.money(p.balance[b]), [cur] * nb, ck.naive(p.opened[b]), [p.zones[z] for z in p.zone[b].tolist()],
        [p.region] * nb, [_TF[x] for x in p.attorney[b].tolist()], [_TF[x] for x in p.cease[b].tolist()]])
    recent = T - rng.integers(0, 20, nb) + 0.5
    seen_first = p.opened[b] - rng.integers(0, 400, nb)
    # phones: original primary, known new primary, secondary, work, fraud-shared
    sw = p.switch[b]
    last = np.where(sw < INF, sw, np.where(p.since[b] < INF, p.since[b], recent))
    rows_b, rows_p, role, f, l, ver = [b], [b.astype(np.int64)], [np.zeros(nb, np.int8)], [seen_first], [last], [np.ones(nb, bool)]
    kc = p.churn[b] == KNOWN_CHURN
    rows_b.append(b[kc]), rows_p.append(ph.new + b[kc]), role.append(np.zeros(kc.sum(), np.int8))
    f.append(sw[kc]), l.append(recent[kc]), ver.append(rng.random(kc.sum()) < 0.7)
    sec = p.has_secondary[b]
    dead = p.secondary_dead[b]
    rows_b.append(b[sec]), rows_p.append(ph.secondary + b[sec]), role.append(np.ones(sec.sum(), np.int8))
    f.append(p.opened[b][sec]), l.append(np.where(dead, np.minimum(p.since[b], T - 1), recent)[sec])
    ver.append(rng.random(sec.sum()) < 0.5)
    wp = p.work_phone[b]
    rows_b.append(b[wp]), rows_p.append(ph.switch + p.employer[b][wp]), role.append(np.full(wp.sum(), 2, np.int8))
    f.append(p.emp_since[b][wp]), l.append(recent[wp]), ver.append(np.zeros(wp.sum(), bool))
    g = ctx.groups
    m = (g.reg_b >= lo) & (g.reg_b < hi)
    rb = g.reg_b[m]
    rows_b.append(rb), rows_p.append(ph.hub + g.reg_hub[m]), role.append(np.ones(len(rb), np.int8))
    f.append(p.opened[rb]), l.append(p.opened[rb] + 20), ver.append(np.zeros(len(rb), bool))
    RB, RP, RR, RF, RL, RV = (np.concatenate(x) for x in (rows_b, rows_p, role, f, l, ver))
    o = np.argsort(RB, kind="stable")
    RB, RP, RR, RF, RL, RV = RB[o], RP[o], RR[o], RF[o], RL[o], RV[o]
    roles = ["primary", "secondary", "work"]
    sink.write("borrower_phones", [fmt.bid(RB), fmt.phones(RP, rng), [roles[r] for r in RR.tolist()],
                                   ck.dates(RF), ck.dates(np.maximum(RL, RF)), [_TF[x] for x in RV.tolist()]])
    # status of registered numbers (the lender's line checks): original, known new, secondary
    st_p = [b.astype(np.int64), ph.new + b[kc], ph.secondary + b[sec]]
    st_s = [p.old_status[b], np.zeros(kc.sum(), np.int8), np.where(dead, 1, 0)[sec].astype(np.int8)]
    st_t = [p.old_status_at[b], recent[kc], np.where(dead, np.minimum(p.since[b] + 3, T - 0.5), recent)[sec]]
    SP, SS, ST = (np.concatenate(x) for x in (st_p, st_s, st_t))
    _write_status(ctx, fmt, sink, SP, SS, ST, rng)
    # devices: own ones, co-borrower household devices, group devices
    nd = p.n_devices[b]
    db = np.repeat(b, nd)
    did = 2 * db + (np.arange(len(db)) - np.repeat(np.cumsum(nd) - nd, nd))
    a2, b2 = p.co_devices
    pair = np.arange(len(a2))
    cm = (a2 >= lo) & (a2 < hi)
    cm2 = (b2 >= lo) & (b2 < hi)
    gm = (g.dev_b >= lo) & (g.dev_b < hi)
    DB = np.concatenate([db, a2[cm], b2[cm2], g.dev_b[gm]])
    DI = np.concatenate([did, 3 * p.n + pair[cm], 3 * p.n + pair[cm2], g.dev_id[gm]])
    o = np.argsort(DB, kind="stable")
    DB, DI = DB[o], DI[o]
    dfirst = np.maximum(p.opened[DB] - rng.integers(0, 200, len(DB)), T - 4000)
    dlast = np.where(p.since[DB] < INF, p.since[DB], T - rng.integers(0, 30, len(DB)) + 0.5)
    sink.write("borrower_devices", [fmt.bid(DB), ids.devices(DI), ck.dates(dfirst), ck.dates(np.maximum(dlast, dfirst))])
    # addresses: home, mailing, work
    var = lambda k: (rng.random(k) < p.knobs.address_variant_share) * rng.integers(1, 4, k)  # noqa: E731
    hk = p.home_kind[b]
    home = ids.homes(p.home_idx[b], p.home_city[b], var(nb))
    if (hk == 1).any():
        blocks = ids.blocks(p.home_idx[b][hk == 1], p.home_city[b][hk == 1], var(int((hk == 1).sum())))
        for j, s in zip(np.flatnonzero(hk == 1).tolist(), blocks):
            home[j] = s
    mb = b[p.mailing[b]]
    eb = b[p.employer[b] >= 0]
    e = p.employer[eb]
    emp_city = ph.employer_city[e]
    AB = np.concatenate([b, mb, eb])
    addr = home + ids.homes(p.n + mb, p.city[mb], var(len(mb))) + ids.offices(e, emp_city, var(len(eb)))
    kind = ["home"] * nb + ["mailing"] * len(mb) + ["work"] * len(eb)
    o = np.argsort(AB, kind="stable")
    AB = AB[o]
    afirst = np.concatenate([p.opened[b] - rng.integers(0, 900, nb), p.opened[mb], p.emp_since[eb]])[o]
    sink.write("borrower_addresses", [fmt.bid(AB), [addr[i] for i in o.tolist()], [kind[i] for i in o.tolist()],
                                      ck.dates(afirst), ck.dates(np.full(len(AB), T - 1.0))])
    # employers
    sink.write("borrower_employers", [fmt.bid(eb), ids.employers(e, emp_city, ph.n_employers), fmt.phones(ph.switch + e, rng),
                                      ck.dates(p.emp_since[eb])])


def _names(ctx: _Ctx, t, rng: np.random.Generator) -> list[str]:
    """Contact names as a borrower would save them."""
    ids = ctx.ids
    person = np.where(t.kind == BB, t.person, t.cur)
    family = t.family
    sur = ids.surnames(person)
    fam = family >= 0
    sur[fam] = ids.surnames(family[fam])
    bbm = t.kind == BB
    sur[bbm] = ids.surnames(t.person[bbm])
    names = ids.names(person, sur)
    alias = (t.kind == REL) & (rng.random(len(person)) < 0.4)
    if alias.any():
        ai = np.flatnonzero(alias)
        al = ids.alias([RELATIONS[r] for r in t.rel[ai].tolist()], rng.integers(0, 8, len(ai)))
        for j, s in zip(ai.tolist(), al):
            names[j] = s
    for kind, label in ((COURIER, "courier"), (AGENT, "agent"), (FRAUDPH, "fraud"), (SWITCH, "switchboard")):
        m = np.flatnonzero(t.kind == kind)
        for j, s in zip(m.tolist(), ids.hub_names(label, t.aux[m])):
            names[j] = s
    return names


def _fake_emergency(ctx: _Ctx, t, ec, rng: np.random.Generator) -> np.ndarray:
    """Replace ``fake_emergency_share`` of the listed emergency contacts by fakes, in place.

    Half are numbers no one uses (calls fail: listed as disconnected to the
    response model), a fifth the borrower's own registered number, the rest
    a stranger's number (someone answers who does not know the borrower).
    The listed name and relation stay as the borrower wrote them; none of
    them reaches the borrower (truth/reachable.csv never lists them for it).
    Agent and fraud-shared listings are never replaced. Returns the mask.
    """
    p, ph = ctx.pop, ctx.phones
    share = p.knobs.fake_emergency_share
    fake = np.zeros(len(ec.b), bool)
    if share <= 0 or not len(ec.b):
        return fake
    fake = (rng.random(len(ec.b)) < share) & ~np.isin(t.kind[ec.tie], [AGENT, FRAUDPH])
    fi = np.flatnonzero(fake)
    b = ec.b[fi]
    u = rng.random(len(fi))
    slot = np.arange(len(ec.b))[fi] % 5
    unused, own = u < 0.5, (u >= 0.5) & (u < 0.7)
    stranger = ph.pool + rng.integers(0, ph.n_pool, len(fi))
    ec.phone[fi] = np.where(unused, ph.fake + 5 * b + slot, np.where(own, b, stranger))
    ec.stale[fi] = np.where(unused, 1, np.where(own, p.old_status[b], 2)).astype(np.int8)
    ctx.stats.ec_fake += len(fi)
    return fake


def _write_chunk(ctx: _Ctx, fmt: _Fmt, sink: Sink, lo: int, hi: int, rng: np.random.Generator, seq: int,
                 xrng: np.random.Generator) -> int:
    """Phonebooks, emergency contacts, calls, truth and collection history of one chunk.

    ``rng`` draws what the legacy generator drew, in the same order; ``xrng``
    what the realism knobs add (untouched at the legacy knobs).
    """
    p, ph, ck = ctx.pop, ctx.phones, fmt.clock
    T = ck.today
    t = build_ties(ctx, lo, hi, rng)
    ec = emergency_contacts(ctx, t, lo, hi, rng)
    fake = _fake_emergency(ctx, t, ec, xrng)
    # phonebook: ties listed at capture time
    in_pb = p.has_pb[t.b] & (rng.random(len(t.b)) < P_PHONEBOOK[t.kind])
    in_pb &= np.where(np.isin(t.kind, [AGENT, FRAUDPH, COURIER]), t.flag_pb, True)
    cap = p.capture[t.b]
    pb_phone = np.where((t.old >= 0) & (cap < t.csw), t.old, t.cur)
    names = _names(ctx, t, rng)
    pbi = np.flatnonzero(in_pb)
    ctx.stats.pb_rows[lo:hi] = np.bincount(t.b[pbi] - lo, minlength=hi - lo)
    bid_txt, cap_txt = fmt.bid(np.arange(lo, hi)), ck.naive(p.capture[lo:hi])  # one per borrower, many rows each
    for s0 in range(0, len(pbi), 250_000):  # in slices, to bound the text held at once (same draws)
        sl = pbi[s0:s0 + 250_000]
        who = (t.b[sl] - lo).tolist()
        sink.write("phonebook", [[bid_txt[i] for i in who], fmt.phones(pb_phone[sl], rng), [names[i] for i in sl.tolist()],
                                 [cap_txt[i] for i in who]])
    rel_names = [RELATIONS[r] for r in ec.rel.tolist()]
    sink.write("emergency_contacts", [fmt.bid(ec.b), fmt.phones(ec.phone, rng), [names[i] for i in ec.tie.tolist()],
                                      rel_names, ck.naive(ec.listed)])
    ctx.stats.ec_rows += len(ec.b)
    # the lender checked the relatives' numbers it holds as emergency contacts
    rm = (t.kind[ec.tie] == REL) & ~fake
    st_phone = ec.phone[rm]
    st_stat = ec.stale[rm]
    r = t.aux[ec.tie][rm]
    st_at = np.where(st_stat > 0, p.rel_old_status_at[r], T - rng.integers(0, 30, rm.sum()) + 0.5)
    _write_status(ctx, fmt, sink, st_phone, st_stat, st_at, rng)
    # calls
    cc = tie_calls(ctx, t, lo, hi, rng, xrng)
    _write_calls(fmt, sink, cc.calls, rng)
    st = ctx.stats
    if lo < st.edge_borrowers:
        st.edges(cc.calls.a, cc.calls.b)
    st.call_rows_true += cc.rows_true
    st.call_rows_visible += cc.rows_visible
    st.closure_rows += cc.rows_closure
    st.carried[cc.carried] = True
    # truth: who reaches the lost-contact borrowers
    reach = reach_truth(ctx, t, cc, lo, hi, rng, xrng)
    known = np.concatenate([t.b[pbi] * ph.total + pb_phone[pbi], ec.b * ph.total + ec.phone])
    own = reach.phone == reach.b
    sec = reach.phone == ph.secondary + reach.b
    known_flag = _member(reach.b * ph.total + reach.phone, known) | own | (sec & p.has_secondary[reach.b])
    known_flag |= (reach.phone >= ph.switch) & (p.employer[reach.b] >= 0)
    sink.write("reachable", [fmt.bid(reach.b), ph.e164(reach.phone), fmt.prob(reach.p), reach.mechanism,
                             reach.relation, [_TF[x] for x in known_flag.tolist()]])
    # third parties the lender can call (emergency contacts), with their true relay probability
    relay = 0.2 + 0.5 * t.s[ec.tie].astype(float)
    if len(reach.b):
        rkey = reach.b * ph.total + reach.phone
        o = np.argsort(rkey)
        ekey = ec.b * ph.total + ec.phone
        pos = np.minimum(np.searchsorted(rkey[o], ekey), len(o) - 1)
        hit = rkey[o][pos] == ekey
        lost_b = p.lost[ec.b]
        relay = np.where(lost_b, np.where(hit, reach.p[o][pos], 0.0), relay)
    else:
        relay = np.where(p.lost[ec.b], 0.0, relay)
    relay = np.where(np.isin(t.kind[ec.tie], [AGENT, FRAUDPH]), 0.02, relay)
    relay = np.where(fake, 0.0, relay)
    third = ThirdParties(ec.b, ec.phone, ec.stale, relay)
    observable = p.knobs.response_model == "observable"
    if observable:
        hist = response_mod.simulate_observable(ctx, lo, hi, third, reach, _rng(ctx.seed, S_RESP, lo // CHUNK))
    else:
        hist = simulate(ctx, lo, hi, third, rng)
    a = hist.attempts
    na = len(a["b"])
    aid = [f"A{i:09d}" for i in range(seq + 1, seq + na + 1)]
    roles = ["borrower", "third_party"]
    cols = [aid, fmt.bid(a["b"]), [CHANNELS[c] for c in a["channel"].tolist()],
            ck.naive(a["t"]), fmt.opt_phones(a["target"], rng),
            [roles[r] for r in a["target_role"].tolist()],
            [_TF[x] for x in a["connected"].tolist()], [OUTCOMES[o] for o in a["outcome"].tolist()]]
    if observable:
        cols += [_scripts(a["script"]), _props(a["propensity"])]
    sink.write("contact_attempts", cols)
    sink.write("attempt_propensity", [aid, _props(a["propensity"]) if observable else fmt.prob(a["propensity"]),
                                      [_TF[x] for x in a["explored"].tolist()]])
    pay = hist.payments
    o = np.lexsort((pay["t"], pay["b"]))
    sink.write("payments", [fmt.bid(pay["b"][o]), ck.naive(pay["t"][o]), fmt.money(pay["amount"][o])])
    rs = hist.response
    tgt = rs["target"]
    if observable:
        ctx.best.append(rs["best"])
        arm = rs["arm"]
        sink.write("response", [fmt.bid(rs["b"]), [CHANNELS[c] for c in response_mod.ARM_CH[arm].tolist()],
                                [roles[r] for r in response_mod.ARM_TP[arm].astype(int).tolist()],
                                _props(rs["p"]), fmt.money(rs["expected"]), _opt_e164(ph, tgt), _props(rs["baseline"]),
                                [SEGMENTS[s] for s in rs["segment"].tolist()], _scripts(response_mod.ARM_SCRIPT[arm]),
                                _props(rs["reach"]), _props(rs["q"]), fmt.money(rs["amount"])])
        return seq + na
    ctx.best.append(response_mod.segment_best(p, rs, p.region))
    sink.write("response", [fmt.bid(rs["b"]), [ACTIONS[x][0] for x in rs["action"].tolist()],
                            [ACTIONS[x][1] for x in rs["action"].tolist()], fmt.prob(rs["p"]), fmt.money(rs["expected"]),
                            _opt_e164(ph, tgt), fmt.prob(rs["baseline"]), [SEGMENTS[s] for s in rs["segment"].tolist()]])
    return seq + na


def _scripts(x: np.ndarray) -> list[str]:
    names = response_mod.SCRIPTS
    return ["" if s < 0 else names[s] for s in np.asarray(x).tolist()]


def _props(x: np.ndarray) -> list[str]:
    """Probabilities exactly (shortest round-trip repr), so that formulas over them hold to float precision."""
    return [repr(v) for v in np.asarray(x, float).tolist()]


def _member(x: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``np.isin(x, pool)`` by sorting ``pool`` (fast for a few keys in a big pool)."""
    if not len(pool):
        return np.zeros(len(x), bool)
    srt = np.sort(pool)
    pos = np.minimum(np.searchsorted(srt, x), len(srt) - 1)
    return srt[pos] == x


def _opt_e164(ph: PhoneSpace, idx: np.ndarray) -> list[str]:
    out = [""] * len(idx)
    m = np.flatnonzero(idx >= 0)
    for j, s in zip(m.tolist(), ph.e164(idx[m])):
        out[j] = s
    return out


def _write_calls(fmt: _Fmt, sink: Sink, c: Calls, rng: np.random.Generator) -> None:
    ck = fmt.clock

    def waking(t: np.ndarray) -> np.ndarray:  # squeeze each day into 07:00-23:00, keeping order
        d = np.floor(t)
        return d + (7 + 16 * (t - d)) / 24

    first, last = waking(np.minimum(c.first, c.last)), waking(c.last)
    fmt.ctx.stats.calls(c.a, c.b)
    sink.write("calls", [fmt.phones(c.a, rng), fmt.phones(c.b, rng), [str(x) for x in c.a2b.tolist()],
                         [str(x) for x in c.b2a.tolist()], [str(x) for x in c.seconds.tolist()],
                         ck.aware(first, c.zone), ck.aware(last, c.zone)])


def _write_bb_calls(ctx: _Ctx, fmt: _Fmt, sink: Sink, seed: int) -> None:
    """Calls between two borrowers, once per edge, split at either side's number change."""
    p, ph = ctx.pop, ctx.phones
    T = float(p.clock.today)
    H = 30.4 * p.knobs.call_months
    step = 200_000
    for c, lo in enumerate(range(0, len(p.bb_u), step)):
        rng = _rng(seed, S_BB, c)
        u, v = p.bb_u[lo:lo + step], p.bb_v[lo:lo + step]
        s = p.bb_strength[lo:lo + step].astype(float)
        has = rng.random(len(u)) < 1 - np.exp(-4 * s)
        first, last, n = activity(rng, s, T, H)
        ta, tb = p.switch[u], p.switch[v]
        cont = rng.random(len(u)) < np.sqrt(s)
        cont &= (p.calls_circle[u] | (ta >= INF)) & (p.calls_circle[v] | (tb >= INF))  # all True when legacy
        last = np.where(~cont, np.minimum(last, np.minimum(ta, tb) - 0.05), last)
        m = has & (first <= last)
        for side, t_side in ((u, ta), (v, tb)):  # a changed number that kept calling this borrower
            ctx.stats.carried[side[m & cont & (t_side < INF) & (last >= t_side)]] = True
        u, v = u[m], v[m]
        calls = split(rng, a_old=u, a_new=np.where(ta[m] < INF, ph.new + u, -1), ta=ta[m],
                      b_old=np.where(tb[m] < INF, v, -1), b_new=np.where(tb[m] < INF, ph.new + v, v), tb=tb[m],
                      first=first[m], last=last[m], calls=n[m], s=s[m], mean_seconds=60 + 250 * s[m], zone=p.zone[u])
        if p.knobs.partial_call_logs:  # either side's uploads show the call
            ou, ov = calls.a % p.n, calls.b % p.n
            calls, _ = cut(_rng(seed, S_BB_REAL, c), calls, np.maximum(p.call_capture[ou], p.call_capture[ov]))
        calls = calls.unique_pairs()
        _write_calls(fmt, sink, calls, rng)
        first_chunk = (calls.a % p.n < ctx.stats.edge_borrowers) & (calls.b % p.n < ctx.stats.edge_borrowers)
        ctx.stats.edges(calls.a[first_chunk], calls.b[first_chunk])


def _write_hubs(ctx: _Ctx, fmt: _Fmt, sink: Sink, rng: np.random.Generator) -> None:
    """Line status of agent and fraud-shared phones, and the fraud phones' own calls."""
    p, ph, g = ctx.pop, ctx.phones, ctx.groups
    T = float(p.clock.today)
    h = np.flatnonzero(np.isin(g.hub_kind, [groups_mod.AGENT, groups_mod.FRAUD_PHONE]))
    _write_status(ctx, fmt, sink, ph.hub + h, np.zeros(len(h), np.int8), lambda: T - rng.integers(0, 30, len(h)) + 0.5, rng)
    fr = np.flatnonzero(g.hub_kind == groups_mod.FRAUD_PHONE)
    if len(fr):
        from skiptrace.generate.calls import strangers
        calls = strangers(rng, ph.hub + fr, T - 200 + rng.random(len(fr)) * 100, T, ph.pool, ph.n_pool,
                          g.hub_zone[fr], 5.0)
        _write_calls(fmt, sink, calls.unique_pairs(), rng)


def _write_truth_tables(ctx: _Ctx, fmt: _Fmt, sink: Sink) -> None:
    p, ph, g, ids = ctx.pop, ctx.phones, ctx.groups, ctx.ids
    ck = fmt.clock
    lb = np.flatnonzero(p.lost)
    ring_id = ["" if r < 0 else g.rings[r].group_id for r in p.ring[lb].tolist()]
    sink.write("lost_contact", [fmt.bid(lb), ck.dates(p.since[lb]), [LOST_MECHANISMS[c] for c in p.churn[lb].tolist()], ring_id])
    for ring in g.rings:
        m = ring.members
        cols = [[ring.group_id] * len(m), [ring.kind] * len(m), fmt.bid(m), ["member"] * len(m), [""] * len(m)]
        sink.write("rings", cols)
        if len(ring.agents):
            k = len(ring.agents)
            sink.write("rings", [[ring.group_id] * k, [ring.kind] * k, [""] * k, ["agent"] * k, ph.e164(ph.hub + ring.agents)])
    for grp in g.benign:
        m = grp.members
        what, key = grp.identifier
        if what == "home":
            ident = ids.homes(np.array([p.home_idx[key]]), np.array([p.home_city[key]]), np.zeros(1, np.int64))[0]
        elif what == "block":
            ident = ids.blocks(np.array([key]), np.array([p.home_city[m[0]]]), np.zeros(1, np.int64))[0]
        elif what == "device":
            ident = ids.devices(np.array([key]))[0]
        elif what == "hub":
            ident = ph.e164(np.array([ph.hub + key]))[0]
        elif what == "employer":
            ident = ids.employers(np.array([key]), ph.employer_city[[key]], ph.n_employers)[0]
        else:
            ident = ph.e164(np.array([ph.switch + key]))[0]
        sink.write("benign_groups", [[grp.group_id] * len(m), [grp.kind] * len(m), fmt.bid(m), [ident] * len(m)])
    sink.write("costs", [[c for c, _ in costs(p.region)], [f"{v:g}" for _, v in costs(p.region)]])
    if p.knobs.response_model == "observable":
        he = response_mod.HOUR_EFFECT
        sink.write("hour_effect", [[c for c in he for _ in range(24)], [str(h) for _ in he for h in range(24)],
                                   [f"{m:g}" for c in he for m in he[c]]])
    ch = np.flatnonzero(p.switch < INF)
    sink.write("churn", [fmt.bid(ch), ph.e164(ch.astype(np.int64)), ph.e164(ph.new + ch), ck.dates(p.switch[ch]),
                         [PHONE_STATUS[s] for s in p.old_status[ch].tolist()], ck.dates(p.old_status_at[ch]),
                         [_TF[x] for x in (p.churn[ch] == KNOWN_CHURN).tolist()]])
