"""The response model of ``plan``: P(pay within 30 days | action, account state), learned from the logs.

Training rows come from the store's own ledger, nothing else (no truth labels):

- one row per logged contact attempt at time ``t``: the account's state at
  ``t`` (:data:`STATE`), the target (:data:`TARGET`) and the action
  (:data:`ACTION`: channel and call script, one-hot);
- "no action" rows: per borrower with attempts, a sample of days of their
  collection window (from their first attempt to the data end) on which no
  attempt was made, at a random daytime hour, with every target and action
  column 0. They give the no-action probability.

**Label.** ``window="attributed"`` (the default): each payment is shared,
by EM (:func:`attribute`), among the borrower's attempts of the 30 days
before it and "nobody" (a spontaneous payment), with a rate and a delay
density per attempt class (calls / messages and letters / third parties x
did not get through / got through / paid or promised, all read from the
ledger row); an attempt row's label is the share of payments it caused
(soft, 0-1), a no-action row's the spontaneous share of the payments in
its next 30 days. The classifier learns P(caused | action, state) on
attempt rows and P(spontaneous | state) on no-action rows, and
``predict_proba`` returns ``p0 + (1 - p0) P(caused)`` for an action. On
600 borrowers of the 20k world this took the plan's first choices from
613.8 to 734.9 of true net value per borrower (790.3 with the hour support
of :meth:`ResponseModel.hour_supported` and smaller trees; docs/plan.md).
``window="30d"``: ``y = 1`` when the borrower made a payment in
``(t, t + 30 days]``. Other attempts made in those 30 days are part
of what follows any action, so P(pay | a) - P(pay | none) is the effect of one
more action on top of the usual routine: small and compressed (on the 20k
world every action and no action score about 0.5, against 0.12-0.25 for one
action alone in the truth). ``window="next_attempt"`` ends the window at the
next logged attempt (``window_days`` is then a feature, set to 30 at
prediction): calibrated (mean predictions per action within 0.07 of the
truth) but biased against slow channels, whose payments (a letter's come
days to weeks later) fall after the next attempt and count for it; on 300
borrowers of the 20k world its first choices were worth 595 against 631 for
the 30-day label (true net value per borrower, evaluation only). Rows whose
30 days run past the data end (the newest time stamp in the ledger) are
censored and left out. **Amount.** For
the rows with ``y = 1``, the first payment in the window; a regression of it
on the state gives the expected amount if paid.

**Weighting.** The logging policy chose actions by account state, so an
action's rows over-represent the states it was used in. Each attempt row is
weighted by ``1 / propensity`` (the logged ``propensity`` column: the logging
policy's probability of the action it took), **clipped** at ``clip``
(default 20, i.e. propensities below 0.05 count as 0.05) and then
**self-normalised** within each action (weights of an action's rows average
1), so each action's rows stand for the whole state population and no action
outweighs another by being logged more. No-action rows weigh 1. When the
ledger has no propensity column (older data), the logging propensity is
estimated with a multinomial logistic regression of the logged action on the
state, and :attr:`ResponseModel.propensity_source_` says ``"estimated"``.

The estimator is a gradient-boosted classifier (scikit-learn's
HistGradientBoosting) over state x target x action, so it can learn that a
call helps only when the number is alive, that a legal letter works on some
balances and not others, that 3 a.m. is a bad hour.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import pickle
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from skiptrace.contacts import clock
from skiptrace.errors import SkiptraceError
from skiptrace.plan.channels import CHANNELS, SCRIPTS
from skiptrace.store.base import GraphStore, Props

log = logging.getLogger(__name__)

HORIZON_DAYS = 30.0
#: the response label's choices (see the module docstring)
WINDOWS = ("attributed", "30d", "next_attempt")
#: the account's state at time t (from the borrower record and the ledger before t)
STATE = ("dpd", "log_balance", "att_7d", "att_30d", "conn_30d", "log_prev_attempts",
         "prev_reached", "prev_refused", "prev_promise", "prev_opted_out", "prev_wrong",
         "days_since_payment", "log_paid_30d", "local_hour", "days_since_connected",
         "window_days")
#: the target of the action
TARGET = ("tgt_phone", "tgt_third_party", "tgt_registered", "tgt_dead", "tgt_status_known",
          "tgt_prev_attempts", "tgt_prev_connected")
#: the action: channel and call script, one-hot (all 0: no action)
ACTION = tuple(f"ch_{c}" for c in CHANNELS) + tuple(f"script_{s}" for s in SCRIPTS)
FEATURES = STATE + TARGET + ACTION
N_STATE, N_TARGET = len(STATE), len(TARGET)
_IDX = {f: i for i, f in enumerate(FEATURES)}
_REACHED = frozenset({"reached_borrower", "promise_to_pay", "paid"})
_DEAD = frozenset({"disconnected", "reassigned"})
_CAP_DAYS = 365.0


# ---------------------------------------------------------------- local time


@lru_cache(maxsize=1_000_000)
def _offset_days(tz: str | None, day: int) -> float:
    """UTC offset of ``tz`` (in days) at noon UTC of day number ``day``."""
    t = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=day, hours=12)
    off = t.astimezone(clock.zone(tz)).utcoffset()
    return off.total_seconds() / 86400.0 if off is not None else 0.0


def local_hour(t: float, tz: str | None) -> float:
    """The local hour (0-24, fractional) of day number ``t`` in zone ``tz`` (UTC when unknown)."""
    x = t + _offset_days(tz, math.floor(t))
    return (x - math.floor(x)) * 24.0


# ---------------------------------------------------------------- account state
@dataclass
class Account:
    """What the state features need of one borrower: record fields and a sorted ledger."""

    dpd: float               # days past due at ``ref`` (the borrower record's date)
    ref: float               # the day number the record's days_past_due refers to
    balance: float
    tz: str | None
    att_t: np.ndarray        # attempt times, sorted
    att_conn: np.ndarray     # bool
    att_out: list[str]       # outcome per attempt ('' when missing)
    att_phone: list[str]     # target phone per attempt ('' when none)
    pay_t: np.ndarray        # payment times, sorted
    pay_amt: np.ndarray
    registered: dict[str, float]  # the borrower's registered phones -> first seen (day; -inf unknown)

    @classmethod
    def build(cls, borrower: Props, attempts: Iterable[Props], payments: Iterable[Props], *,
              ref: float, registered: dict[str, float] | None = None) -> "Account":
        att = sorted(((clock.to_days(a["at"]), a) for a in attempts if a.get("at")),
                     key=lambda x: x[0])
        pay = sorted((clock.to_days(p["paid_at"]), float(p.get("amount") or 0.0)) for p in payments
                     if p.get("paid_at"))
        return cls(dpd=float(borrower.get("days_past_due") or 0.0), ref=ref,
                   balance=float(borrower.get("balance") or 0.0), tz=borrower.get("timezone"),
                   att_t=np.array([t for t, _ in att], float),
                   att_conn=np.array([bool(a.get("connected")) for _, a in att], bool),
                   att_out=[a.get("outcome") or "" for _, a in att],
                   att_phone=[a.get("target_phone") or "" for _, a in att],
                   pay_t=np.array([t for t, _ in pay], float),
                   pay_amt=np.array([a for _, a in pay], float),
                   registered=dict(registered or {}))

    def state(self, times: np.ndarray) -> np.ndarray:
        """:data:`STATE` at each time (strictly before it), shape ``(len(times), N_STATE)``."""
        times = np.asarray(times, float)
        X = np.zeros((len(times), N_STATE))
        at = self.att_t
        k = np.searchsorted(at, times, side="left")          # attempts strictly before t
        k7 = np.searchsorted(at, times - 7.0, side="left")
        k30 = np.searchsorted(at, times - 30.0, side="left")
        X[:, 0] = np.maximum(self.dpd - (self.ref - times), 0.0)
        X[:, 1] = math.log1p(max(self.balance, 0.0))
        X[:, 2] = k - k7
        X[:, 3] = k - k30
        conn_c = np.concatenate([[0], np.cumsum(self.att_conn)])
        X[:, 4] = conn_c[k] - conn_c[k30]
        X[:, 5] = np.log1p(k)
        for col, kinds in ((6, _REACHED), (7, ("refused",)), (8, ("promise_to_pay",)),
                           (9, ("opted_out",)), (10, ("wrong_number",))):
            c = np.concatenate([[0], np.cumsum([o in kinds for o in self.att_out])])
            X[:, col] = c[k]
        pt = self.pay_t
        j = np.searchsorted(pt, times, side="left")
        last_pay = np.where(j > 0, pt[np.maximum(j - 1, 0)] if len(pt) else 0.0, -np.inf)
        X[:, 11] = np.minimum(times - last_pay, _CAP_DAYS)
        amt_c = np.concatenate([[0.0], np.cumsum(self.pay_amt)])
        j30 = np.searchsorted(pt, times - 30.0, side="left")
        X[:, 12] = np.log1p(amt_c[j] - amt_c[j30])
        X[:, 13] = [local_hour(t, self.tz) for t in times]
        conn_idx = np.flatnonzero(self.att_conn)
        if len(conn_idx):
            ct = at[conn_idx]
            m = np.searchsorted(ct, times, side="left")
            last = np.where(m > 0, ct[np.maximum(m - 1, 0)], -np.inf)
            X[:, 14] = np.minimum(times - last, _CAP_DAYS)
        else:
            X[:, 14] = _CAP_DAYS
        X[:, 15] = HORIZON_DAYS  # the label's window (training rows set their own)
        return X

    def target(self, phone: str | None, role: str, t: float, status: Props | None) -> np.ndarray:
        """:data:`TARGET` for an action on ``phone`` (None: no phone) in ``role`` at ``t``."""
        x = np.zeros(N_TARGET)
        x[1] = role == "third_party"
        if not phone:
            return x
        x[0] = 1.0
        first = self.registered.get(phone)
        x[2] = first is not None and first <= t
        st = status or {}
        s_at = st.get("status_at")
        known = bool(st.get("status")) and (not s_at or clock.to_days(s_at) <= t)
        x[3] = known and st.get("status") in _DEAD
        x[4] = known
        k = int(np.searchsorted(self.att_t, t, side="left"))
        idx = [i for i in range(k) if self.att_phone[i] == phone]
        x[5] = math.log1p(len(idx))
        x[6] = any(self.att_conn[i] for i in idx)
        return x


def action_vector(channel: str | None, script: str | None) -> np.ndarray:
    """:data:`ACTION` one-hot for a channel and script (None, None: no action)."""
    x = np.zeros(len(ACTION))
    if channel:
        x[CHANNELS.index(channel)] = 1.0
    if script:
        x[len(CHANNELS) + SCRIPTS.index(script)] = 1.0
    return x


# ---------------------------------------------------------------- training frame
@dataclass
class AttemptFrame:
    """Training rows built from the ledger (see the module docstring)."""

    X: np.ndarray
    y: np.ndarray
    amount: np.ndarray       # first payment in the window (nan when y == 0)
    action: np.ndarray       # action code (index into ``actions``), -1 for no action
    propensity: np.ndarray   # logged propensity (nan when not logged or no action)
    actions: list[tuple[str, str, str | None]]  # (channel, role, script) per code
    data_end: float
    n_attempts: int
    n_censored: int
    attribution: "Attribution | None" = None


def data_end(store: GraphStore) -> float | None:
    """The newest time stamp in the store's ledger (one pass over both tables), or None."""
    best = None
    for a in store.stream_ledger("contact_attempts"):
        v = a.get("at")
        if v and (best is None or v > best):
            best = v
    for p in store.stream_ledger("payments"):
        v = p.get("paid_at")
        if v and (best is None or v > best):
            best = v
    return clock.to_days(best) if best else None


#: delay bins of the attribution kernels (days after the attempt)
N_BINS = 30
#: channel groups of the attribution: calls to the borrower, messages and letters, third parties
_GROUPS = ("call", "message", "third_party")
_PAYING = frozenset({"paid", "promise_to_pay"})


def _attempt_class(channel: str | None, role: str, connected: bool, outcome: str) -> tuple[int, int]:
    """(group, class) of a logged attempt for the attribution: the group picks the delay
    kernel, the class (group x got through x paid or promised) the prior rate of caused
    payments. Everything comes from the ledger row."""
    if role == "third_party":
        g = 2
        got = outcome == "reached_third_party"
    else:
        g = 0 if channel in ("ai_call", "human_call") else 1
        got = connected and outcome != "wrong_number"
    level = 2 if outcome in _PAYING else (1 if got else 0)
    return g, 3 * g + level


@dataclass
class Attribution:
    """Soft per-attempt credit for payments (see :func:`attribute`)."""

    credit: np.ndarray      # per attempt: expected number of payments it caused (clipped at 1)
    background: np.ndarray  # per payment: the share nobody's attempt caused
    rate: np.ndarray        # per attempt class: payments caused per attempt
    kernel: np.ndarray      # (class, N_BINS): delay density of caused payments
    background_rate: float  # spontaneous payments per borrower-day


def attribute(att_b: np.ndarray, att_t: np.ndarray, att_g: np.ndarray, att_c: np.ndarray,
              pay_b: np.ndarray, pay_t: np.ndarray, exposure: float, uncensored: np.ndarray,
              *, horizon: float = HORIZON_DAYS, iterations: int = 30) -> Attribution:
    """Share each payment among the attempts that may have caused it, by EM.

    A payment at ``tau`` of borrower ``b`` is caused by one of ``b``'s attempts in
    ``[tau - horizon, tau)`` or by nobody (spontaneous, at ``background_rate`` per day).
    Attempt ``i`` causes a payment at delay ``d`` at rate ``rate[class_i] *
    kernel[class_i, floor(d)]``: the rate and the delay density per attempt class (channel
    group x whether it got through x paid or promised: calls are paid within days, letters
    over weeks, relayed messages later) are both learned from the ledger, so a slow channel
    keeps the payments that arrive after the next attempt. Arrays must be sorted by
    (borrower, time). Cost: O(pairs x iterations), pairs = payments x attempts in the 30 days
    before each.
    """
    n_att, n_pay = len(att_t), len(pay_t)
    n_cls = 3 * len(_GROUPS)
    # candidate (payment, attempt) pairs: attempts of the same borrower within horizon before
    key_a = att_b.astype(float) * 1e6 + att_t
    key_p = pay_b.astype(float) * 1e6 + pay_t
    hi = np.searchsorted(key_a, key_p, side="left")
    lo = np.searchsorted(key_a, key_p - horizon, side="left")
    cnt = hi - lo
    pp = np.repeat(np.arange(n_pay), cnt)
    pa = (np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(cnt.sum())).astype(np.int64)
    d = pay_t[pp] - att_t[pa]
    bins = np.clip(np.floor(d).astype(np.int64), 0, N_BINS - 1)
    c = att_c[pa]
    n_c = np.maximum(np.bincount(att_c[uncensored], minlength=n_cls), 1)
    rate = np.full(n_cls, 0.1)
    kernel = np.full((n_cls, N_BINS), 1.0 / N_BINS)
    bg = max(n_pay / max(exposure, 1.0), 1e-6) * 0.3
    unc_pair = uncensored[pa]
    r = np.zeros(len(pp))
    r0 = np.ones(n_pay)
    for _ in range(iterations):
        w = rate[c] * kernel[c, bins]
        den = np.bincount(pp, w, minlength=n_pay) + bg
        r = w / den[pp]
        r0 = bg / den
        rate = np.clip(np.bincount(c[unc_pair], r[unc_pair], minlength=n_cls) / n_c, 1e-4, 1.0)
        k = np.zeros((n_cls, N_BINS))
        np.add.at(k, (c, bins), r)
        k += 0.5
        kernel = k / k.sum(axis=1, keepdims=True)
        bg = max(float(r0.sum()) / max(exposure, 1.0), 1e-6)
    credit = np.minimum(np.bincount(pa, r, minlength=n_att), 1.0)
    return Attribution(credit, r0, rate, kernel, bg)


def attempt_frame(store: GraphStore, *, as_of: float | None = None, window: str = "attributed",
                  none_per_attempt: float = 0.25,
                  max_rows: int | None = 400_000, seed: int = 0) -> AttemptFrame:
    """Training rows for :class:`ResponseModel` from the store's ledger (one pass over it).

    Parameters
    ----------
    store : the graph store (its ledger tables, the borrowers, their registered phones and
        the targeted phones' status are read once each).
    as_of : ignore attempts and payments after this day number (default: none ignored); the
        data end is the newest remaining time stamp.
    window : the label's window: "30d" (default) or "next_attempt" (see the module
        docstring).
    none_per_attempt : no-action rows per attempt row (sampled per borrower).
    max_rows : keep at most this many attempt rows (a uniform sample; None: all).
    seed : the sampling seed.

    Cost: O(A + P) over the ledger's A attempts and P payments, plus one read of the
    borrowers, the HAS_PHONE relationships and the targeted phones.
    """
    rng = np.random.default_rng(seed)
    att: dict[str, list[Props]] = defaultdict(list)
    pays: dict[str, list[Props]] = defaultdict(list)
    end = None
    for a in store.stream_ledger("contact_attempts"):
        if not a.get("at"):
            continue
        if as_of is not None and clock.to_days(a["at"]) > as_of:
            continue
        att[a["borrower_id"]].append(a)
        end = a["at"] if end is None or a["at"] > end else end
    for p in store.stream_ledger("payments"):
        if as_of is not None and clock.to_days(p["paid_at"]) > as_of:
            continue
        pays[p["borrower_id"]].append(p)
        end = p["paid_at"] if end is None or p["paid_at"] > end else end
    if end is None:
        raise SkiptraceError("the store's ledger is empty: no contact attempts to learn "
                             "responses from")
    T = clock.to_days(end) if as_of is None else min(as_of, clock.to_days(end))
    ids = sorted(att)
    borrowers = store.get_nodes([f"Borrower:{b}" for b in ids])
    registered: dict[str, dict[str, float]] = defaultdict(dict)
    for ch in store.stream_edge_columns(["HAS_PHONE"], ["first_seen"]):
        for s, d, f in zip(ch.src, ch.dst, ch.props["first_seen"]):
            if s.startswith("Borrower:"):
                registered[s[9:]][d[6:]] = clock.to_days(f) if f else -math.inf
    phones = {a.get("target_phone") for rows in att.values() for a in rows if a.get("target_phone")}
    status = {k[6:]: v for k, v in store.get_nodes(f"Phone:{p}" for p in phones).items()}
    codes: dict[tuple[str, str, str | None], int] = {}
    Xs, ys, amts, acts, props = [], [], [], [], []
    # for the attribution: every attempt and payment (after the first attempt), per borrower
    A_b, A_t, A_g, A_c, A_unc, P_b, P_t = [], [], [], [], [], [], []
    row_att: list[np.ndarray] = []   # per row: global attempt index (-1: no-action row)
    none_b: list[np.ndarray] = []
    row_t: list[np.ndarray] = []
    exposure = 0.0
    n_att = n_cens = 0
    has_prop = False
    for bi, b in enumerate(ids):
        rec = borrowers.get(f"Borrower:{b}", {})
        acc = Account.build(rec, att[b], pays[b], ref=T, registered=registered.get(b))
        rows = sorted(att[b], key=lambda a: a["at"])
        times = np.array([clock.to_days(a["at"]) for a in rows])
        keep = times <= T - HORIZON_DAYS
        n_att += len(rows)
        n_cens += int((~keep).sum())
        # no-action days: days of the window with no attempt
        lo = math.floor(times.min()) if len(times) else math.floor(T)
        days = np.arange(lo, math.floor(T - HORIZON_DAYS) + 1)
        busy = set(np.floor(times).astype(int).tolist())
        free = np.array([d for d in days if d not in busy], float)
        n_none = min(len(free), rng.poisson(none_per_attempt * max(int(keep.sum()), 1)))
        none_t = (rng.choice(free, n_none, replace=False) if n_none else np.zeros(0))
        none_t = none_t + (8.5 + 12 * rng.random(len(none_t))) / 24 - acc_offset(acc)
        qt = np.concatenate([times[keep], none_t])
        if not len(qt):
            continue
        if window == "attributed":
            base_i = sum(len(x) for x in A_t)
            gc = [_attempt_class(a.get("channel"), a.get("target_role") or "borrower",
                                 bool(a.get("connected")), a.get("outcome") or "") for a in rows]
            A_b.append(np.full(len(rows), bi)), A_t.append(times)
            A_g.append(np.array([x[0] for x in gc], np.int64))
            A_c.append(np.array([x[1] for x in gc], np.int64)), A_unc.append(keep)
            pm = acc.pay_t > times.min()
            P_b.append(np.full(int(pm.sum()), bi)), P_t.append(acc.pay_t[pm])
            exposure += T - times.min()
            row_att.append(np.concatenate([base_i + np.flatnonzero(keep),
                                           np.full(len(none_t), -1)]))
            none_b.append(np.full(len(qt), bi)), row_t.append(qt)
        S = acc.state(qt)
        kept_rows = [a for a, k in zip(rows, keep) if k]
        T_ = np.zeros((len(qt), N_TARGET))
        A_ = np.zeros((len(qt), len(ACTION)))
        for i, a in enumerate(kept_rows):
            ph = a.get("target_phone")
            T_[i] = acc.target(ph, a.get("target_role") or "borrower", qt[i],
                               status.get(ph) if ph else None)
            ch, sc = a.get("channel"), a.get("script")
            sc = sc if sc in SCRIPTS else None
            A_[i] = action_vector(ch, sc)
            key = (ch, a.get("target_role") or "borrower", sc)
            acts.append(codes.setdefault(key, len(codes)))
            pr = a.get("propensity")
            has_prop |= pr is not None
            props.append(float(pr) if pr is not None else math.nan)
        acts.extend([-1] * len(none_t))
        props.extend([math.nan] * len(none_t))
        Xs.append(np.hstack([S, T_, A_]))
        # the window: until the next attempt (its payments are the next action's), at most 30 days
        nxt = np.searchsorted(acc.att_t, qt, side="right")
        nxt_t = np.where(nxt < len(acc.att_t), acc.att_t[np.minimum(nxt, len(acc.att_t) - 1)]
                         if len(acc.att_t) else np.inf, np.inf)
        win = (np.clip(nxt_t - qt, 1.0 / 24.0, HORIZON_DAYS) if window == "next_attempt"
               else np.full(len(qt), HORIZON_DAYS))
        if window == "attributed":
            Xs[-1][:, _IDX["window_days"]] = HORIZON_DAYS
        Xs[-1][:, _IDX["window_days"]] = win
        # labels: first payment in (t, t + window]
        pt = acc.pay_t
        j0 = np.searchsorted(pt, qt, side="right")
        j1 = np.searchsorted(pt, qt + win, side="right")
        y = j1 > j0
        ys.append(y)
        amts.append(np.where(y, acc.pay_amt[np.minimum(j0, len(pt) - 1)] if len(pt) else 0.0,
                             np.nan))
    X = np.vstack(Xs) if Xs else np.zeros((0, len(FEATURES)))
    y = np.concatenate(ys).astype(np.int8) if ys else np.zeros(0, np.int8)
    attribution = None
    if window == "attributed" and Xs:
        cat = np.concatenate
        pb, pt = cat(P_b), cat(P_t)
        attribution = attribute(cat(A_b), cat(A_t), cat(A_g), cat(A_c), pb, pt, exposure,
                                cat(A_unc))
        ra = cat(row_att)
        yf = np.zeros(len(ra))
        yf[ra >= 0] = attribution.credit[ra[ra >= 0]]
        # no-action rows: the spontaneous share of the borrower's payments in (t, t + 30]
        nr = np.flatnonzero(ra < 0)
        key = pb.astype(float) * 1e6 + pt
        c0 = np.concatenate([[0.0], np.cumsum(attribution.background)])
        kq = cat(none_b)[nr].astype(float) * 1e6 + cat(row_t)[nr]
        j0 = np.searchsorted(key, kq, side="right")
        j1 = np.searchsorted(key, kq + HORIZON_DAYS, side="right")
        yf[nr] = np.minimum(c0[j1] - c0[j0], 1.0)
        y = yf
    amount = np.concatenate(amts) if amts else np.zeros(0)
    action = np.array(acts, np.int64)
    propensity = np.array(props, float)
    if max_rows is not None:
        is_att = np.flatnonzero(action >= 0)
        if len(is_att) > max_rows:
            drop_share = 1 - max_rows / len(is_att)
            keep = rng.random(len(action)) >= drop_share  # the same share of no-action rows too
            X, y, amount, action, propensity = (X[keep], y[keep], amount[keep], action[keep],
                                                propensity[keep])
    if not has_prop:
        propensity[:] = math.nan
    inv = sorted(codes, key=codes.get)
    return AttemptFrame(X, y, amount, action, propensity, inv, T, n_att, n_cens, attribution)


def acc_offset(acc: Account) -> float:
    """The borrower's UTC offset in days now (to put no-action rows at a local daytime hour)."""
    return _offset_days(acc.tz, math.floor(acc.ref))


# ---------------------------------------------------------------- the estimator
class ResponseModel(BaseEstimator, ClassifierMixin):
    """P(pay within 30 days | action, state) and the expected amount if paid.

    Parameters
    ----------
    clip : the largest inverse-propensity weight (weights are clipped, then self-normalised
        within each action; see the module docstring).
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization : of the
        gradient-boosted classifier (and the amount regression).
    random_state : seed.
    n_threads : OpenMP threads for fitting and predicting (default 1: on a machine whose
        cores are shared, OpenMP's spin-waiting made a 1,400-row fit take 35 s instead of
        1.4 s; a batch runs in parallel processes instead).

    Fitted attributes: ``classifier_``, ``amount_model_``, ``amount_default_``,
    ``propensity_source_`` ("logged" | "estimated"), ``weights_`` (summary of the
    weights: clip share, effective sample size), ``classes_``, ``n_features_in_``,
    ``feature_names_``, ``data_end_`` (set by :func:`learn`), ``n_rows_``.

    Example
    -------
    >>> m = learn(store)                                        # doctest: +SKIP
    >>> m.predict_proba(X)[:, 1]                                # doctest: +SKIP
    """

    def __init__(self, clip: float = 20.0, max_iter: int = 150, learning_rate: float = 0.08,
                 max_leaf_nodes: int = 15, min_samples_leaf: int = 100,
                 l2_regularization: float = 1.0, random_state: int = 0,
                 n_threads: int | None = 1) -> None:
        self.clip = clip
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state
        self.n_threads = n_threads

    def _threads(self):
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=self.n_threads, user_api="openmp")

    def _weights(self, X: np.ndarray, action: np.ndarray, propensity: np.ndarray) -> np.ndarray:
        is_att = action >= 0
        p = propensity.copy()
        if is_att.any() and np.isnan(p[is_att]).any():
            from sklearn.linear_model import LogisticRegression

            self.propensity_source_ = "estimated"
            idx = np.flatnonzero(is_att)
            S = X[idx, :N_STATE]
            mu, sd = S.mean(axis=0), S.std(axis=0) + 1e-9
            clf = LogisticRegression(max_iter=300)
            clf.fit((S - mu) / sd, action[idx])
            proba = clf.predict_proba((S - mu) / sd)
            col = np.searchsorted(clf.classes_, action[idx])
            p[idx] = proba[np.arange(len(idx)), col]
            log.info("no logged propensity: estimated the logging policy with a multinomial "
                     "logistic regression of the action on the state")
        else:
            self.propensity_source_ = "logged"
        w = np.ones(len(action))
        floor = 1.0 / self.clip
        raw = 1.0 / np.maximum(p[is_att], 1e-12)
        clipped = float((raw > self.clip).mean()) if len(raw) else 0.0
        w[is_att] = 1.0 / np.maximum(p[is_att], floor)
        for a in np.unique(action[is_att]):
            m = action == a
            w[m] /= w[m].mean()
        ess = float(w[is_att].sum() ** 2 / max((w[is_att] ** 2).sum(), 1e-12)) if is_att.any() else 0.0
        self.weights_ = {"clip": self.clip, "clipped_share": round(clipped, 4),
                         "normalisation": "self-normalised within each action",
                         "effective_sample_size": round(ess, 1), "attempt_rows": int(is_att.sum())}
        return w

    def fit(self, X: np.ndarray, y: np.ndarray, *, action: np.ndarray | None = None,
            propensity: np.ndarray | None = None, amount: np.ndarray | None = None
            ) -> "ResponseModel":
        """Fit on rows of :data:`FEATURES`; ``action`` codes (-1: no action) and logged
        ``propensity`` (nan: unknown) give the weights; ``amount`` (nan when unpaid) the
        amount regression."""
        X = np.asarray(X, float)
        y = np.asarray(y, float)
        n = len(y)
        if action is None:
            action = np.zeros(n, np.int64)
        if propensity is None:
            propensity = np.full(n, np.nan)
        with self._threads():
            return self._fit(X, y, np.asarray(action), np.asarray(propensity, float), amount)

    def _fit(self, X, y, action, propensity, amount) -> "ResponseModel":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        n = len(y)
        w = self._weights(X, action, propensity)
        soft = (y > 0) & (y < 1)
        # attributed labels: an attempt row says how many payments the attempt caused (0-1),
        # a no-action row the spontaneous ones; P(pay | action) = p0 + (1 - p0) P(caused)
        self.attributed_ = bool(soft.any())
        Xf, yf, wf = X, (y >= 0.5).astype(int), w
        if self.attributed_:
            # a soft label y becomes a positive row of weight w y and a negative of w (1 - y)
            pos, neg = y > 0, y < 1
            Xf = np.vstack([X[pos], X[neg]])
            yf = np.concatenate([np.ones(int(pos.sum()), int), np.zeros(int(neg.sum()), int)])
            wf = np.concatenate([w[pos] * y[pos], w[neg] * (1 - y[neg])])
        self.classifier_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization, early_stopping=False,
            random_state=self.random_state)
        self.classifier_.fit(Xf, yf, sample_weight=wf)
        self.classes_ = self.classifier_.classes_
        # the local hours each channel was logged at: outside them the trees extrapolate
        # (flat from the last hour seen), so plan does not schedule there
        self.hour_range_ = {}
        for j, ch in enumerate(CHANNELS):
            m = X[:, N_STATE + N_TARGET + j] > 0
            if m.sum() >= 20:
                h = X[m, _IDX["local_hour"]]
                self.hour_range_[ch] = (float(np.quantile(h, 0.005)), float(np.quantile(h, 0.995)))
        self.n_features_in_ = X.shape[1]
        self.feature_names_ = FEATURES
        self.n_rows_ = n
        paid = y > 0
        if amount is not None:
            amount = np.asarray(amount, float)
            paid &= ~np.isnan(amount)
        self.amount_default_ = float(np.nanmedian(amount[paid])) if amount is not None and paid.any() else 0.0
        self.amount_model_ = None
        if amount is not None and paid.sum() >= 50:
            # the amount depends on the account, not on which action prompted it
            self.amount_model_ = HistGradientBoostingRegressor(
                loss="poisson", max_iter=100, learning_rate=0.1, min_samples_leaf=40,
                random_state=self.random_state)
            self.amount_model_.fit(X[paid, :N_STATE], amount[paid])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """``(n, 2)``: P(no payment), P(payment within 30 days)."""
        X = np.asarray(X, float)
        with self._threads():
            p = self.classifier_.predict_proba(X)[:, 1]
            if getattr(self, "attributed_", False):
                acted = X[:, N_STATE + N_TARGET:].any(axis=1)
                if acted.any():
                    X0 = X[acted].copy()
                    X0[:, N_STATE:] = 0.0
                    p0 = self.classifier_.predict_proba(X0)[:, 1]
                    p[acted] = p0 + (1.0 - p0) * p[acted]
        return np.column_stack([1.0 - p, p])

    def hour_supported(self, channel: str, hour: float) -> bool:
        """Whether ``channel`` was logged at local ``hour`` (0-24) often enough to score it."""
        lo, hi = (getattr(self, "hour_range_", None) or {}).get(channel, (0.0, 24.0))
        return lo <= hour <= hi

    def predict_amount(self, X: np.ndarray) -> np.ndarray:
        """Expected amount of the first payment, if the borrower pays."""
        X = np.asarray(X, float)
        if self.amount_model_ is None:
            return np.full(len(X), self.amount_default_)
        with self._threads():
            return np.maximum(self.amount_model_.predict(X[:, :N_STATE]), 0.0)

    def describe(self) -> str:
        """One line on how the model was learned (for the plan output and logs)."""
        return (f"response model: {self.n_rows_} log rows, propensities {self.propensity_source_}, "
                f"weights clipped at {self.clip:g} and self-normalised per action")

    def save(self, path: str | Path) -> None:
        """Pickle the fitted model (with its feature list) to ``path``."""
        with open(path, "wb") as f:
            pickle.dump({"kind": "skiptrace.plan.ResponseModel", "features": FEATURES,
                         "model": self}, f)


def load_response_model(path: str | Path) -> ResponseModel:
    """Load a model written by :meth:`ResponseModel.save`; its features must match this version."""
    try:
        with open(path, "rb") as f:
            obj = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError) as exc:
        raise SkiptraceError(f"{path}: not a response model ({exc})") from None
    if not isinstance(obj, dict) or obj.get("kind") != "skiptrace.plan.ResponseModel":
        raise SkiptraceError(f"{path}: not a response model")
    if tuple(obj.get("features", ())) != FEATURES:
        raise SkiptraceError(f"{path}: the model's features differ from this version's; refit it")
    return obj["model"]


def learn(store: GraphStore, *, as_of: float | None = None, max_rows: int | None = 400_000,
          seed: int = 0, window: str = "attributed", **params) -> ResponseModel:
    """Build the training rows from the store's ledger and fit a :class:`ResponseModel`.

    Cost: one pass over the ledger (:func:`attempt_frame`) and a boosted-tree fit,
    O(rows x features x iterations).
    """
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {', '.join(map(repr, WINDOWS))}, not {window!r}")
    frame = attempt_frame(store, as_of=as_of, max_rows=max_rows, seed=seed, window=window)
    if not len(frame.y) or len(np.unique(frame.y)) < 2:
        raise SkiptraceError("too few uncensored contact attempts (or no payments) in the ledger "
                             "to learn responses from")
    model = ResponseModel(random_state=seed, **params)
    model.fit(frame.X, frame.y, action=frame.action, propensity=frame.propensity,
              amount=frame.amount)
    model.data_end_ = frame.data_end
    model.actions_ = frame.actions
    log.info("%s; %d attempts, %d censored", model.describe(), frame.n_attempts, frame.n_censored)
    return model


__all__ = ["ACTION", "Account", "AttemptFrame", "FEATURES", "HORIZON_DAYS", "ResponseModel",
           "STATE", "TARGET", "action_vector", "attempt_frame", "data_end", "learn",
           "load_response_model", "local_hour"]
