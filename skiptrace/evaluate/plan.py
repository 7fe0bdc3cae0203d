"""Offline evaluation of channel plans against a world's response truth and its logs.

:func:`evaluate_plan` compares, on every delinquent borrower of a generated
world (the borrowers of ``truth/response.csv``), the true expected net
recovery (:mod:`skiptrace.evaluate.plan_truth`) of each policy's first
action, taken at its ``not_before`` local hour (no action: the borrower's
baseline repayment, no cost). Every policy is restricted, through
:mod:`skiptrace.policy`, to actions its pack allows from one decision
instant (the world's ``as_of`` date at the latest local midnight of its
borrowers, after every logged attempt) over a 24-hour horizon, so all are judged by
the same rules:

- ``learned``: ``skiptrace.plan`` (``actions[0]``); an action the pack does not
  allow at its ``not_before`` counts as no action (and as ``disallowed``);
- ``textbook``: by days past due: <15 sms, 15-60 ai_call reminder, 60-120
  human_call negotiation, >120 legal_letter; known lost: a human_call
  lost_contact_check to the first listed emergency contact the pack allows;
  blocked: sms, then a letter to the borrower;
- ``best_static``: per dpd bucket the logged action with the highest
  self-normalised IPS net reward in the logs (never the truth), then the
  next best, until one is allowed;
- ``cheapest``: the cheapest channel to the borrower the pack allows;
- ``logging``: the logging policy's own action mix per dpd bucket as seen in
  the logs (expected value over the allowed actions, renormalised);
- ``ceiling``: the best true allowed action per borrower (every truth row,
  every allowed local hour): the headroom, not a baseline;
- ``no_action``: the baseline repayment.

Buckets: days past due <15, 15-60, 60-120, >120, and *known lost*, which a
lender can see: every registered phone disconnected or reassigned (phone
status, as of then), or the last 3 phone attempts to the borrower all
unconnected, or the last one ended wrong_number. Borrower-role phone actions
go to the borrower's best usable registered phone (not disconnected or
reassigned; primary, verified, latest seen first).

**Off-policy estimates** (:func:`off_policy`). Evaluation set: the logged
contact attempts of the world's delinquent borrowers made in the 90 days
that end 30 days before ``as_of`` (so each one's 30-day outcome is observed),
with a logged propensity (the ``propensity`` column of contact_attempts, else
``truth/attempt_propensity.csv``). Reward of an attempt: the borrower's
payments in the 30 days after it minus the attempt's cost. The action of an
attempt is ``(channel, target_role, script)`` (script only when the logs
carry it); its context is its dpd bucket at the time (known lost as above,
from the ledger before it). Target policies: ``textbook``, ``best_static``
(in-sample: fitted on the same logs, so optimistic), ``cheapest`` (push to
the borrower), ``logging`` (its empirical mix per bucket, over all logged
attempts) and ``learned`` (the action type ``skiptrace.plan`` chooses for the
borrower at ``as_of``, applied to that borrower's attempts; only the
borrowers it acts on). Pack rules are not replayed at the logged times.
Estimates: IPS ``mean(w r)``, self-normalised IPS ``sum(w r) / sum(w)`` and
doubly robust ``mean(m(x, pi) + w (r - m(x, a)))`` with ``w = pi(a|x) /
propensity`` and ``m`` the mean reward per (bucket, action), shrunk to the
bucket mean; 95% intervals by a bootstrap over borrowers.

Complexity: O(borrowers x candidate actions x policy decisions) for the
truth part and O(attempts + bootstrap x borrowers) for the estimates.

Example::

    >>> ev = evaluate_plan(store, "w20k", policy="CN-NIFA-2024")   # doctest: +SKIP
    >>> print(render_text(ev.as_dict()))                            # doctest: +SKIP
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from skiptrace.contacts.clock import iso, parse_as_of, to_days
from skiptrace.errors import SkiptraceError
from skiptrace.evaluate.plan_truth import CALL_CHANNELS, PHONE_CHANNELS, PlanTruth, TruthAction
from skiptrace.store.base import GraphStore, Ledger, node_id

log = logging.getLogger(__name__)

BUCKETS = ("dpd<15", "dpd15-60", "dpd60-120", "dpd>120", "known_lost")
TEXTBOOK = {0: ("sms", "borrower", None), 1: ("ai_call", "borrower", "reminder"),
            2: ("human_call", "borrower", "negotiation"), 3: ("legal_letter", "borrower", None),
            4: ("human_call", "third_party", "lost_contact_check")}
TEXTBOOK_FALLBACK = (("sms", "borrower", None), ("letter", "borrower", None))
BASELINES = ("textbook", "best_static", "cheapest", "logging")
OPE_WINDOW_DAYS = 90.0
HORIZON_DAYS = 30.0

__all__ = ["BASELINES", "BUCKETS", "PlanEvaluation", "PolicyValue", "OffPolicyEstimate",
           "evaluate_plan", "off_policy", "render_text"]

Key = tuple  # (channel, target_role, script or None)


@dataclass
class PolicyValue:
    """True expected net recovery of one policy over the evaluated borrowers."""

    name: str
    total: float
    acted: int
    borrowers: int
    disallowed: int = 0
    mix: dict[str, int] = field(default_factory=dict)
    by_borrower: dict[str, float] = field(default_factory=dict, repr=False)

    def add(self, borrower_id: str, value: float) -> None:
        self.total += value
        self.by_borrower[borrower_id] = value

    def as_dict(self) -> dict:
        return {"policy": self.name, "total": round(self.total, 2),
                "per_borrower": round(self.total / self.borrowers, 4) if self.borrowers else 0.0,
                "acted": self.acted, "disallowed": self.disallowed,
                "top_actions": dict(Counter(self.mix).most_common(4))}


@dataclass
class OffPolicyEstimate:
    """IPS / SNIPS / DR estimates of one target policy on the logs, with 95% bootstrap intervals."""

    name: str
    attempts: int
    matched: float
    ips: float
    snips: float
    dr: float
    ci: dict[str, tuple[float, float]]

    def as_dict(self) -> dict:
        r = lambda x: None if x is None or not math.isfinite(x) else round(x, 3)  # noqa: E731
        return {"policy": self.name, "attempts": self.attempts, "matched": round(self.matched, 1),
                "ips": r(self.ips), "snips": r(self.snips), "dr": r(self.dr),
                "ci95": {k: [r(a), r(b)] for k, (a, b) in self.ci.items()}}


@dataclass
class PlanEvaluation:
    """What :func:`evaluate_plan` measured for one policy pack."""

    world: str
    policy: str
    truth_version: str
    borrowers: int
    values: list[PolicyValue]
    best_baseline: str | None
    margin_pct: float | None
    off_policy: list[OffPolicyEstimate]
    logged_mean_reward: float | None
    violations: dict
    baseline_violations: dict
    notes: list[str]
    seconds: float
    violation_list: list = field(default_factory=list, repr=False)
    baseline_violation_list: list = field(default_factory=list, repr=False)
    baseline_plans: list = field(default_factory=list, repr=False)
    learned_plans: list = field(default_factory=list, repr=False)

    def as_dict(self) -> dict:
        return {"world": self.world, "policy": self.policy, "truth_version": self.truth_version,
                "borrowers": self.borrowers, "values": [v.as_dict() for v in self.values],
                "best_baseline": self.best_baseline,
                "margin_pct": None if self.margin_pct is None else round(self.margin_pct, 2),
                "off_policy": [e.as_dict() for e in self.off_policy],
                "logged_mean_reward": (None if self.logged_mean_reward is None
                                       else round(self.logged_mean_reward, 3)),
                "violations": self.violations, "baseline_violations": self.baseline_violations,
                "notes": self.notes, "seconds": round(self.seconds, 1)}


# -- world and store reading -----------------------------------------------------
def _world_as_of(world: Path) -> str:
    meta = world / "truth" / "world.json"
    if meta.exists():
        v = json.loads(meta.read_text(encoding="utf-8")).get("as_of")
        if v:
            return str(v)
    raise SkiptraceError(f"{meta}: no as_of (not a generated world)")


def _bool(v) -> bool:
    return v.strip().lower() in ("true", "1", "yes") if isinstance(v, str) else bool(v)


@dataclass
class _Borrower:
    bid: str
    props: dict
    ledger: Ledger
    phones: dict[str, dict]     # registered phone -> {status, status_at, verified, last_seen, role}
    listed: list[str]           # emergency contacts, listed order
    zone: str
    start: float                # as_of, local midnight (day number)
    attempts: list[dict] = field(default_factory=list)  # with "t"


def _zone(props: dict) -> str:
    from skiptrace.evaluate.plan_check import region_zones
    return region_zones(props.get("timezone") or None, props.get("region") or None)[0]


def _read(store: GraphStore, ids: Sequence[str], as_of: str) -> dict[str, _Borrower]:
    nodes = store.get_nodes([node_id("Borrower", b) for b in ids])
    edges = store.incident_edges([node_id("Borrower", b) for b in ids],
                                 types=["HAS_PHONE", "LISTS_CONTACT"])
    phones: dict[str, dict[str, dict]] = defaultdict(dict)
    listed: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for e in edges:
        b, p = e.src.partition(":")[2], e.dst.partition(":")[2]
        if e.type == "HAS_PHONE":
            phones[b][p] = dict(e.props or {})
        elif (e.props or {}).get("source") == "emergency":
            listed[b].append(((e.props or {}).get("listed_at") or "", p))
    allp = {p for d in phones.values() for p in d}
    pn = store.get_nodes([node_id("Phone", p) for p in allp])
    out = {}
    for b in ids:
        props = nodes.get(node_id("Borrower", b))
        if props is None:
            continue
        reg = {}
        for p, ep in phones.get(b, {}).items():
            st = pn.get(node_id("Phone", p)) or {}
            reg[p] = {**ep, "status": st.get("status"), "status_at": st.get("status_at")}
        ledger = store.ledger(b)
        zone = _zone(props)
        start = parse_as_of(as_of, zone)
        atts = []
        for a in ledger.attempts:
            try:
                atts.append({**a, "t": to_days(str(a["at"]))})
            except (KeyError, ValueError):
                continue
        atts.sort(key=lambda a: a["t"])
        out[b] = _Borrower(b, props, ledger, reg, [p for _, p in sorted(listed.get(b, []))], zone,
                           start, atts)
    return out


def _known_lost(b: _Borrower, t: float, phone: list[dict] | None = None) -> bool:
    """Can the lender see, at ``t``, that contact is lost? (see the module docstring)

    ``phone``: the borrower's phone attempts before ``t`` when the caller keeps them.
    """
    if b.phones:
        dead = 0
        for ph in b.phones.values():
            st, at = ph.get("status"), ph.get("status_at")
            try:
                seen = at is None or to_days(str(at)) <= t
            except ValueError:
                seen = True
            dead += st in ("disconnected", "reassigned") and seen
        if dead == len(b.phones):
            return True
    if phone is None:
        phone = [a for a in b.attempts if _phone_attempt(a) and a["t"] < t]
    if not phone:
        return False
    if phone[-1].get("outcome") == "wrong_number":
        return True
    last = phone[-3:]
    return len(last) == 3 and not any(_bool(a.get("connected")) for a in last)


def _phone_attempt(a: dict) -> bool:
    return a.get("target_role", "borrower") == "borrower" and a.get("channel") in PHONE_CHANNELS


def _bucket(dpd: float, lost: bool) -> int:
    if lost:
        return 4
    return 0 if dpd < 15 else 1 if dpd < 60 else 2 if dpd < 120 else 3


def _best_phone(b: _Borrower) -> str | None:
    if not b.phones:
        return None
    def rank(item):
        p, ph = item
        usable = ph.get("status") not in ("disconnected", "reassigned")
        return (not usable, ph.get("role") != "primary", not _bool(ph.get("verified")),
                "" if not ph.get("last_seen") else "~" + "".join(chr(255 - ord(c)) for c in str(ph["last_seen"])), p)
    return sorted(b.phones.items(), key=rank)[0][0]


def _hour(t: float, zone: str) -> int:
    return (dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
            + dt.timedelta(seconds=round(t * 86400.0))).astimezone(ZoneInfo(zone)).hour


# -- the policy seam -------------------------------------------------------------
class _Judge:
    """Every policy decision of one borrower through :mod:`skiptrace.policy`, cached."""

    def __init__(self, b: _Borrower, pack: str, horizon_days: float = 1.0):
        from skiptrace.policy import Context, get_policy, policy_for
        self.b = b
        self.policy = policy_for(b.props) if pack == "auto" else get_policy(pack)
        listed = frozenset(b.listed)
        self.ctx = Context.build(b.props, b.ledger, as_of=b.start, listed=listed,
                                 borrower_phones=b.phones)
        self.listed = listed
        self.end = b.start + horizon_days
        self._cache: dict = {}

    def action(self, channel: str, role: str, phone: str | None, script: str | None):
        from skiptrace.policy import Action
        return Action(channel=channel, target_role=role, target_phone=phone,
                      script=script if channel in CALL_CHANNELS else None,
                      listed=bool(phone) and phone in self.listed)

    def windows(self, channel: str, role: str, phone: str | None, script: str | None
                ) -> list[tuple[float, float]]:
        """The allowed windows of an action in [start, start + horizon), in order."""
        key = (channel, role, phone, script if channel in CALL_CHANNELS else None)
        if key in self._cache:
            return self._cache[key]
        act = self.action(*key)
        out: list[tuple[float, float]] = []
        t = self.b.start
        for _ in range(6):
            if t >= self.end - 1e-9:
                break
            d = self.policy.decide(act, self.ctx, t, self.end)
            if not d.allowed or d.not_before is None:
                break
            na = d.not_after if d.not_after is not None else self.end
            out.append((float(d.not_before), float(na)))
            if na <= d.not_before + 1e-9:
                break
            t = float(na) + 1e-6
        self._cache[key] = out
        return out

    def first(self, channel, role, phone, script) -> float | None:
        w = self.windows(channel, role, phone, script)
        return w[0][0] if w else None

    def slots(self, a: TruthAction) -> list[tuple[int, float]]:
        """Allowed (local hour, day number) slots: each window's start and every local hour in it."""
        out = []
        for nb, na in self.windows(a.channel, a.target_role, a.target_phone, a.script):
            out.append((_hour(nb, self.b.zone), nb))
            t = math.floor(nb * 24 + 1e-9) / 24 + 1 / 24
            while t < na - 1e-9:
                out.append((_hour(t, self.b.zone), t))
                t += 1 / 24
        return out


# -- baselines -------------------------------------------------------------------
def _resolve(j: _Judge, key: Key) -> tuple[str | None, float | None]:
    """Target phone and not_before of an action type for this borrower (None: not allowed)."""
    ch, role, script = key
    if role == "third_party":
        for p in j.b.listed:
            nb = j.first(ch, role, p, script)
            if nb is not None:
                return p, nb
        return None, None
    phone = _best_phone(j.b) if ch in PHONE_CHANNELS else None
    if ch in PHONE_CHANNELS and phone is None:
        return None, None
    return phone, j.first(ch, role, phone, script)


def _call_script(key: Key) -> Key:
    """A call without a script (logs that carry none) gets the default one of its role."""
    ch, role, script = key
    if ch in CALL_CHANNELS and not script:
        return (ch, role, "lost_contact_check" if role == "third_party" else "reminder")
    return key


def _choose(j: _Judge, prefs: Iterable[Key]) -> tuple[Key, str | None, float] | None:
    for key in map(_call_script, prefs):
        phone, nb = _resolve(j, key)
        if nb is not None:
            return key, phone, nb
    return None


def _logged_rows(store: GraphStore, world: Path, bs: dict[str, _Borrower], costs: dict[str, float]):
    """Per attempt of the evaluated borrowers: borrower, t, key, bucket, propensity, reward."""
    prop: dict[str, float] = {}
    path = world / "truth" / "attempt_propensity.csv"
    if path.exists():
        with open(path, encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                try:
                    prop[r["attempt_id"]] = float(r["propensity"])
                except (KeyError, ValueError):
                    pass
    pay: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for b in bs.values():
        ts = sorted((to_days(str(p["paid_at"])), float(p["amount"])) for p in b.ledger.payments)
        t = np.array([x for x, _ in ts], float)
        c = np.concatenate([[0.0], np.cumsum([a for _, a in ts])])
        pay[b.bid] = (t, c)
    has_script = any(a.get("script") for b in bs.values() for a in b.attempts)
    rows = []
    for b in bs.values():
        dpd_now = float(b.props.get("days_past_due") or 0)
        t_pay, c_pay = pay[b.bid]
        hist: list[dict] = []
        for a in b.attempts:
            ch = a.get("channel")
            role = a.get("target_role") or "borrower"
            script = (a.get("script") or None) if has_script and ch in CALL_CHANNELS else None
            p = a.get("propensity")
            p = float(p) if p not in (None, "") else prop.get(str(a.get("attempt_id")))
            t = a["t"]
            lo, hi = np.searchsorted(t_pay, t, "right"), np.searchsorted(t_pay, t + HORIZON_DAYS, "right")
            reward = float(c_pay[hi] - c_pay[lo]) - costs.get(ch, 0.0)
            bucket = _bucket(dpd_now - (b.start - t), _known_lost(b, t, hist[-3:]))
            rows.append((b.bid, t, (ch, role, script), bucket, p, reward))
            if _phone_attempt(a):
                hist.append(a)
    return rows, has_script


def _cell_values(rows, min_count: int = 30) -> dict[int, list[tuple[Key, float, int]]]:
    """Per bucket: logged action types ranked by self-normalised IPS net reward (>= min_count)."""
    acc: dict[tuple[int, Key], list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for _, _, key, bucket, p, r in rows:
        if not p:
            continue
        c = acc[(bucket, key)]
        c[0] += r / p
        c[1] += 1 / p
        c[2] += 1
    out: dict[int, list] = defaultdict(list)
    for (bucket, key), (s, w, n) in acc.items():
        if n >= min_count and w > 0:
            out[bucket].append((key, s / w, n))
    for v in out.values():
        v.sort(key=lambda x: (-x[1], str(x[0])))
    return out


def _mix(rows) -> dict[int, dict[Key, float]]:
    cnt: dict[int, Counter] = defaultdict(Counter)
    for _, _, key, bucket, _, _ in rows:
        cnt[bucket][key] += 1
    return {b: {k: n / sum(c.values()) for k, n in c.items()} for b, c in cnt.items()}


# -- off-policy ------------------------------------------------------------------
def off_policy(rows, targets: dict[str, Callable[[str, int], dict[Key, float]]], *, as_of_of: dict[str, float],
               window_days: float = OPE_WINDOW_DAYS, bootstrap: int = 200, seed: int = 0,
               ) -> tuple[list[OffPolicyEstimate], float | None]:
    """IPS, self-normalised IPS and DR of each target policy on the logged ``rows``.

    ``targets[name](borrower_id, bucket)`` gives the policy's action
    distribution (``{}``: the policy is not evaluated on that attempt). The
    evaluation set is described in the module docstring. Returns the
    estimates and the mean logged reward on the set.
    """
    sel = [r for r in rows if r[4] and r[4] > 0
           and as_of_of[r[0]] - HORIZON_DAYS - window_days <= r[1] <= as_of_of[r[0]] - HORIZON_DAYS]
    if not sel:
        return [], None
    # outcome model: mean reward per (bucket, action), shrunk to the bucket mean
    bsum: dict[int, list[float]] = defaultdict(lambda: [0.0, 0])
    csum: dict[tuple[int, Key], list[float]] = defaultdict(lambda: [0.0, 0])
    for _, _, key, bucket, _, r in rows:
        bsum[bucket][0] += r
        bsum[bucket][1] += 1
        csum[(bucket, key)][0] += r
        csum[(bucket, key)][1] += 1
    k = 20.0

    def m(bucket: int, key: Key) -> float:
        bm = bsum[bucket][0] / bsum[bucket][1] if bsum[bucket][1] else 0.0
        s, n = csum.get((bucket, key), (0.0, 0))
        return (s + k * bm) / (n + k)

    bids = sorted({r[0] for r in sel})
    bix = {b: i for i, b in enumerate(bids)}
    nb = len(bids)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(nb, np.full(nb, 1.0 / nb), size=bootstrap) if bootstrap else None
    logged = float(np.mean([r[5] for r in sel]))
    out = []
    for name, pi_of in targets.items():
        n = np.zeros(nb)
        s_wr = np.zeros(nb)
        s_w = np.zeros(nb)
        s_dr = np.zeros(nb)
        matched = 0.0
        for bid, _, key, bucket, p, r in sel:
            pi = pi_of(bid, bucket)
            if not pi:
                continue
            i = bix[bid]
            w = pi.get(key, 0.0) / p
            mpi = sum(q * m(bucket, a) for a, q in pi.items())
            n[i] += 1
            s_wr[i] += w * r
            s_w[i] += w
            s_dr[i] += mpi + w * (r - m(bucket, key))
            matched += pi.get(key, 0.0)
        N = n.sum()
        if N == 0:
            continue

        def est(c):
            nn, wr, ww, dd = c @ n, c @ s_wr, c @ s_w, c @ s_dr
            with np.errstate(invalid="ignore", divide="ignore"):
                return wr / nn, np.where(ww > 0, wr / ww, np.nan), dd / nn
        ips, snips, dr = (float(x) for x in est(np.ones(nb)))
        ci = {}
        if counts is not None:
            bi, bs_, bd = est(counts.astype(float))
            for label, arr in (("ips", bi), ("snips", bs_), ("dr", bd)):
                arr = np.asarray(arr, float)
                arr = arr[np.isfinite(arr)]
                ci[label] = ((float(np.percentile(arr, 2.5)), float(np.percentile(arr, 97.5)))
                             if len(arr) else (float("nan"), float("nan")))
        out.append(OffPolicyEstimate(name, int(N), matched, ips, snips, dr, ci))
    return out, logged


# -- the evaluation --------------------------------------------------------------
def _default_planner():
    try:
        import skiptrace
        return getattr(skiptrace, "plan", None)
    except ImportError:  # pragma: no cover
        return None


def _as_dict(r) -> dict:
    return r if isinstance(r, dict) else r.to_dict(reveal=True)


def evaluate_plan(store: GraphStore, world: str | Path, *, policy: str = "auto",
                  planner: Callable | None | bool = True, plans: list[dict] | None = None,
                  bootstrap: int = 200, seed: int = 0, window_days: float = OPE_WINDOW_DAYS,
                  sample: int | None = None, progress: Callable[[str], None] | None = None,
                  ) -> PlanEvaluation:
    """Compare the learned plan, the baselines and the ceiling on ``world`` (see module doc).

    Parameters: ``store`` holds the world's input files; ``policy``: a pack
    name or ``auto`` (each borrower's region); ``planner``: a callable like
    ``skiptrace.plan`` (True: ``skiptrace.plan`` when it exists; None/False: no
    learned policy); ``plans``: precomputed plan dicts instead of calling
    it; ``bootstrap``: resamples of the intervals (0: none); ``sample``:
    evaluate a seeded random subset of the delinquent borrowers.
    Complexity: see the module docstring.
    """
    from skiptrace.evaluate.find import check_store_holds
    from skiptrace.evaluate.plan_check import check_plans, read_borrowers

    t_start = time.perf_counter()
    say = progress or (lambda msg: None)
    world = Path(world)
    truth = PlanTruth.read(world)
    as_of = _world_as_of(world)
    ids = sorted(truth.borrowers)
    if sample is not None and sample < len(ids):
        ids = sorted(np.random.default_rng(seed).choice(ids, size=sample, replace=False).tolist())
    check_store_holds(store, world, ids, what="delinquent borrowers")
    say(f"reading {len(ids)} delinquent borrowers")
    bs = _read(store, ids, as_of)
    ids = [b for b in ids if b in bs]
    if not ids:
        raise SkiptraceError(f"none of {world}'s delinquent borrowers is in the store")
    # one decision instant for every policy: the world's date at the latest local midnight of
    # its borrowers (after every logged attempt, whatever the zone)
    start = max(b.start for b in bs.values())
    for b in bs.values():
        b.start = start
    notes: list[str] = []

    rows, has_script = _logged_rows(store, world, bs, truth.costs)
    if not has_script:
        notes.append("the logs carry no script: logged actions are (channel, target_role)")
    ranked = _cell_values(rows)
    mix = _mix(rows)

    # the learned policy's plans
    if planner is True:
        planner = _default_planner()
        if planner is None:
            notes.append("skiptrace.plan is not available: no learned policy")
    learned: dict[str, dict] = {}
    if plans is not None:
        learned = {p["borrower_id"]: p for p in plans}
    elif planner:
        say("planning")
        try:
            res = planner(store, ids, policy=policy, as_of=iso(start),
                          progress=lambda done, total: say(f"planned {done}/{total}"))
        except TypeError:  # a planner without progress reports
            res = planner(store, ids, policy=policy, as_of=iso(start))
        learned = {d["borrower_id"]: d for d in map(_as_dict, res)}

    say("valuing every policy's choices")
    vals = {n: PolicyValue(n, 0.0, 0, len(ids)) for n in
            (["learned"] if learned else []) + list(BASELINES) + ["ceiling", "no_action"]}
    chosen: dict[str, dict[str, tuple]] = defaultdict(dict)   # policy -> bid -> key (for OPE)
    base_plans: list[dict] = []

    def credit(name: str, b: _Borrower, key: Key | None, phone, nb):
        v = vals[name]
        if key is None:
            v.add(b.bid, truth.no_action(b.bid))
            return
        ch, role, script = key
        v.add(b.bid, truth.value(b.bid, ch, role, phone, script, _hour(nb, b.zone)))
        v.acted += 1
        v.mix[f"{ch}/{role}" + (f"/{script}" if script else "")] = v.mix.get(
            f"{ch}/{role}" + (f"/{script}" if script else ""), 0) + 1

    for n_done, bid in enumerate(ids):
        if n_done and n_done % 1000 == 0:
            say(f"{n_done}/{len(ids)} borrowers")
        b = bs[bid]
        j = _Judge(b, policy)
        dpd = float(b.props.get("days_past_due") or 0)
        bucket = _bucket(dpd, _known_lost(b, b.start))
        # learned
        if learned:
            plan = learned.get(bid)
            acts = (plan or {}).get("actions") or []
            if acts:
                a = acts[0]
                nb = to_days(a["not_before"]) if isinstance(a.get("not_before"), str) else a.get("not_before")
                ch, role, phone = a.get("channel"), a.get("target_role") or "borrower", a.get("target_phone")
                script = a.get("script") if ch in CALL_CHANNELS else None
                ok = nb is not None and any(lo - 1e-6 <= nb < hi for lo, hi in j.windows(ch, role, phone, script))
                if ok:
                    credit("learned", b, (ch, role, script), phone, nb)
                    chosen["learned"][bid] = (ch, role, script)
                else:
                    vals["learned"].disallowed += 1
                    credit("learned", b, None, None, None)
            else:
                credit("learned", b, None, None, None)
        # textbook
        prefs = [TEXTBOOK[bucket]] + [k for k in TEXTBOOK_FALLBACK if k != TEXTBOOK[bucket]]
        for name, pr in (("textbook", prefs),
                         ("best_static", [k for k, _, _ in ranked.get(bucket, [])]),
                         ("cheapest", sorted(((c, "borrower", "reminder" if c in CALL_CHANNELS else None)
                                              for c in truth.costs), key=lambda k: truth.costs[k[0]]))):
            got = _choose(j, pr)
            if got:
                credit(name, b, got[0], got[1], got[2])
                base_plans.append({"borrower_id": bid, "policy": j.policy.name, "source": name, "actions": [
                    {"channel": got[0][0], "target_role": got[0][1], "target_phone": got[1],
                     "script": got[0][2], "not_before": iso(got[2], b.zone)}]})
            else:
                credit(name, b, None, None, None)
        # logging: expected value over its allowed mix
        dist = mix.get(bucket, {})
        tot, ev = 0.0, 0.0
        for key, q in dist.items():
            key = _call_script(key)
            phone, nb = _resolve(j, key)
            if nb is None:
                continue
            tot += q
            ev += q * truth.value(bid, key[0], key[1], phone, key[2], _hour(nb, b.zone))
        v = vals["logging"]
        if tot > 0:
            v.add(bid, ev / tot)
            v.acted += 1
        else:
            v.add(bid, truth.no_action(bid))
        # ceiling and no action
        a, when, value = truth.best(bid, j.slots)
        vals["ceiling"].add(bid, value)
        if a is not None:
            vals["ceiling"].acted += 1
            k = f"{a.channel}/{a.target_role}" + (f"/{a.script}" if a.script else "")
            vals["ceiling"].mix[k] = vals["ceiling"].mix.get(k, 0) + 1
        vals["no_action"].add(bid, truth.no_action(bid))

    base = [vals[n] for n in BASELINES]
    best = max(base, key=lambda v: v.total)
    margin = None
    if learned and best.total:
        margin = 100.0 * (vals["learned"].total - best.total) / abs(best.total)

    # violations, by the independent checker
    say("checking compliance")
    cb = read_borrowers(store, ids)
    lrep = (check_plans(store, list(learned.values()), pack=_pack_arg(policy), borrowers=cb)
            if learned else {})
    brep = check_plans(store, base_plans, pack=_pack_arg(policy), borrowers=cb)
    violations = {k: r.as_dict() for k, r in lrep.items()}
    bviol = {k: r.as_dict() for k, r in brep.items()}

    # off-policy estimates
    say("off-policy estimates")
    tb = {b_: {TEXTBOOK[b_][:2] + ((TEXTBOOK[b_][2] if has_script else None),): 1.0} for b_ in range(5)}
    bsk = {b_: {ranked[b_][0][0]: 1.0} for b_ in ranked if ranked[b_]}
    cheapest_key = (min(truth.costs, key=truth.costs.get), "borrower", None)
    targets: dict[str, Callable[[str, int], dict]] = {
        "textbook": lambda bid, bucket: tb[bucket],
        "best_static": lambda bid, bucket: bsk.get(bucket, {}),
        "cheapest": lambda bid, bucket: {cheapest_key: 1.0},
        "logging": lambda bid, bucket: mix.get(bucket, {}),
    }
    if learned:
        lk = {bid: (k[0], k[1], k[2] if has_script else None) for bid, k in chosen["learned"].items()}
        targets = {"learned": lambda bid, bucket: {lk[bid]: 1.0} if bid in lk else {}, **targets}
    ope, logged_mean = off_policy(rows, targets, as_of_of={b_.bid: b_.start for b_ in bs.values()},
                                  window_days=window_days, bootstrap=bootstrap, seed=seed)

    values = list(vals.values())
    return PlanEvaluation(str(world), policy, truth.version, len(ids), values,
                          best.name, margin, ope, logged_mean, violations, bviol, notes,
                          time.perf_counter() - t_start,
                          [v for r in lrep.values() for v in r.violations],
                          [v for r in brep.values() for v in r.violations], base_plans,
                          list(learned.values()))


def _pack_arg(policy: str) -> str | None:
    return policy if policy in ("CN-NIFA-2024", "US-RegF") else None


def render_text(d: dict) -> str:
    """The evaluation as a table (one ``as_dict`` of :class:`PlanEvaluation`)."""
    lines = [f"{Path(d['world']).name}: {d['borrowers']} delinquent borrowers, policy {d['policy']}, "
             f"truth {d['truth_version']} ({d['seconds']} s)",
             f"{'policy':<12}{'total net':>14}{'per borrower':>14}{'acted':>8}{'disallowed':>11}  top actions"]
    for v in d["values"]:
        top = ", ".join(f"{k} {n}" for k, n in v["top_actions"].items())
        lines.append(f"{v['policy']:<12}{v['total']:>14,.2f}{v['per_borrower']:>14.3f}{v['acted']:>8}"
                     f"{v['disallowed']:>11}  {top}")
    if d["margin_pct"] is not None:
        lines.append(f"learned vs best baseline ({d['best_baseline']}): {d['margin_pct']:+.2f}%")
    if d["off_policy"]:
        lines.append(f"off-policy on the logs (reward: 30-day payments - cost; logged mean "
                     f"{d['logged_mean_reward']}):")
        lines.append(f"{'policy':<12}{'attempts':>9}{'matched':>9}{'IPS':>10}{'SNIPS':>10}{'DR':>10}  95% CI (DR)")
        for e in d["off_policy"]:
            ci = e["ci95"].get("dr", [None, None])
            f = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
            lines.append(f"{e['policy']:<12}{e['attempts']:>9}{e['matched']:>9.0f}{f(e['ips']):>10}"
                         f"{f(e['snips']):>10}{f(e['dr']):>10}  [{f(ci[0])}, {f(ci[1])}]")
    for label, viol in (("learned plan", d["violations"]), ("baselines", d["baseline_violations"])):
        for pack, r in viol.items():
            rules = ", ".join(f"{k} {n}" for k, n in r["by_rule"].items() if n) or "none"
            lines.append(f"violations ({label}, {pack}): {r['violations']} in {r['actions']} actions "
                         f"of {r['plans']} plans: {rules}")
    for n in d["notes"]:
        lines.append(f"note: {n}")
    return "\n".join(lines)
