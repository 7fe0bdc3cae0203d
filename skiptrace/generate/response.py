"""The observable response model (``response_model = "observable"``, the default).

The ``segment`` model (:mod:`skiptrace.generate.history`) is nearly a lookup
table: within a (hidden segment, contact state) cell almost every borrower has
the same best action. Here the response of a delinquent borrower ``i`` in
hidden segment ``s`` to an *arm* (channel, target role, call script) depends
also on what the lender can observe, and on per-borrower tastes no file shows:

* ``reach``: the probability the message gets to the borrower. Borrower
  phones: the table of :mod:`history` by contact state (in contact, number
  dead, reassigned, ignores calls), for a lost borrower's own live numbers
  (the unknown new number, a live secondary) the truth/reachable.csv
  probability scaled per channel, times a per-borrower habit of answering
  calls ``exp(0.4 z)``, times ``exp(-fatigue_per_attempt * k7)`` where ``k7``
  is the number of attempts in the previous 7 days. Third parties:
  ``TP_ANSWER[channel] x relay x TP_SCRIPT_RELAY[script]`` (only a
  lost-contact check gets passed on; a contact told about a debt mostly
  hangs up). At attempt time reach is multiplied by the local-hour factor of
  truth/hour_effect.csv (calls are answered more at lunch and in the early
  evening, less during work hours) and capped at 1; the truth is written at
  the neutral hour (factor 1).
* ``q = sigmoid(ALPHA[s] + BETA_OBS[s, action] + SCRIPT[s, script]
  + DPD_SLOPE[arm] * ld + BAL_SLOPE[arm] * lb + u + g + slope_i[arm]
  - fatigue_per_attempt * k7)``: the probability of paying within 30 days
  once reached. ``ld`` is the standardised log days past due, ``lb`` the
  standardised log balance (nudges work early, legal letters late and on big
  balances, negotiation on big balances, reminders on the forgetful),
  ``u`` the borrower's willingness (it also shapes what the logs show:
  refusals and broken promises are more common for low ``u``),
  ``slope_i`` per-borrower random slopes by channel group, channel and
  script (sd ``response_slope_sd``).
* ``g = family_pay_effect * (close_family - 1.5) - anti_ring_pay_effect * anti``:
  repayment partly linked to graph-observable structure. Borrowers with more
  active, closely tied relatives (tie strength >= 0.5, number unchanged;
  capped at 4) pay somewhat more (social collateral: call-network features
  add predictive value to credit scores, Oskarsdottir et al. 2019, "The value
  of big data for credit scoring"); members of anti-collection rings pay less
  (they are coached to stall). Both are moderate, additive on the logit and
  mixed with the segment and noise, so neither separates payers by itself.
* ``base = sigmoid(BASE[s] + u + g - 0.25 ld)``: paying anyway;
  ``p_pay_30d = 1 - (1 - base) (1 - reach q)``, ``expected_amount =
  p_pay_30d x amount_if_paid`` with ``amount_if_paid = FRAC[s] x balance x
  exp(0.25 z)``.

The logs come from the same model at attempt time (state, local hour,
fatigue, script). The logging policy is :func:`logging_policy`: per state
(days-past-due bucket, contact known lost, whether the borrower listed any
third party) a rule distribution over arms mixed with a uniform draw over the
available arms for ``explore_share`` of attempts; each attempt's
``propensity`` is the exact probability of its arm.
"""
from __future__ import annotations

import numpy as np

from skiptrace.generate.history import (
    ALPHA, BASE, CHANNELS, COSTS, FRAC, NO_ANSWER, OPTED_OUT, PAID, PROMISE, REACHED_B, REACHED_T, REFUSED, WRONG,
    _REACH, _RULE, _TALK, _TP_TALK, History, ThirdParties, _installments, _state)
from skiptrace.generate.population import INF, KNOWN_CHURN, LOST_DEAD

SCRIPTS = ("reminder", "lost_contact_check", "negotiation")
_ACT = [(c, False) for c in range(7)] + [(0, True), (3, True), (4, True)]  # the 10 actions of history.ACTIONS


def _arms() -> list[tuple[int, int, int, int]]:
    """(action index, channel, third party, script or -1) of every arm."""
    out = []
    for a, (c, tp) in enumerate(_ACT):
        for s in ((0, 1, 2) if c in (3, 4) else (-1,)):
            out.append((a, c, int(tp), s))
    return out


ARMS = _arms()  # 11 borrower arms (calls x 3 scripts) + 7 third-party arms
N_ARMS = len(ARMS)
ARM_ACTION = np.array([a[0] for a in ARMS])
ARM_CH = np.array([a[1] for a in ARMS])
ARM_TP = np.array([a[2] for a in ARMS], bool)
ARM_SCRIPT = np.array([a[3] for a in ARMS])
ARM_CALL = np.isin(ARM_CH, [3, 4])

# the logging policy's script choice for calls by state (reminder, lost_contact_check, negotiation)
_SCRIPT_RULE = np.array([
    [0.70, 0.10, 0.20],  # < 15 dpd
    [0.40, 0.15, 0.45],  # 15-60
    [0.20, 0.20, 0.60],  # 60-120
    [0.10, 0.30, 0.60],  # > 120
    [0.10, 0.60, 0.30],  # contact known lost
])
_TP_SCRIPT_RULE = np.array([0.15, 0.70, 0.15])


def logging_policy(bucket: np.ndarray, has_tp: np.ndarray, explore_share: float) -> np.ndarray:
    """Probabilities of every arm (columns in :data:`ARMS` order) under the logging policy.

    Parameters
    ----------
    bucket : int array, the state: 0 (< 15 days past due), 1 (15-60), 2 (60-120), 3 (> 120),
        4 (contact known lost for 10 days).
    has_tp : bool array, whether the borrower listed a third party (otherwise third-party arms
        have probability 0).
    explore_share : the share of attempts drawn uniformly over the available arms.

    Returns an ``(n, N_ARMS)`` array whose rows sum to 1. O(n * N_ARMS).

    >>> float(logging_policy(np.array([0]), np.array([True]), 0.3).sum())
    1.0
    """
    bucket = np.asarray(bucket)
    has_tp = np.asarray(has_tp, bool)
    act = _RULE[bucket][:, ARM_ACTION]
    scr = np.where(ARM_TP[None, :], _TP_SCRIPT_RULE[np.maximum(ARM_SCRIPT, 0)][None, :],
                   _SCRIPT_RULE[bucket][:, np.maximum(ARM_SCRIPT, 0)])
    rule = act * np.where(ARM_CALL[None, :], scr, 1.0)
    avail = ~(ARM_TP[None, :] & ~has_tp[:, None])
    rule = np.where(avail, rule, 0.0)
    rule = rule / rule.sum(axis=1, keepdims=True)
    uni = avail / avail.sum(axis=1, keepdims=True)
    return explore_share * uni + (1 - explore_share) * rule


# local-hour multipliers of reach (truth/hour_effect.csv); other channels: 1
_CALL_HOURS = [0.3] * 8 + [0.85, 0.7, 0.7, 0.75, 1.3, 1.25, 0.75, 0.7, 0.75, 1.0, 1.35, 1.35, 1.2, 0.9, 0.5, 0.3]
_SMS_HOURS = [0.8] * 8 + [0.95, 0.95, 0.95, 1.0, 1.1, 1.1, 1.0, 1.0, 1.0, 1.05, 1.15, 1.15, 1.15, 1.1, 0.9, 0.8]
HOUR_EFFECT = {"sms": _SMS_HOURS, "ai_call": _CALL_HOURS, "human_call": _CALL_HOURS}
_HOUR = np.ones((7, 24))
for _c, _m in HOUR_EFFECT.items():
    _HOUR[CHANNELS.index(_c)] = _m

# pay-once-reached effects: action (as history.BETA, with the legal letter's lead cut), script by segment,
# and slopes on the standardised log days past due and log balance per arm
BETA_OBS = np.array([  # sms push email ai human letter legal | tp_sms tp_ai tp_human
    [0.8, 0.6, 0.2, 1.0, 1.2, 0.0, -0.8, -1.0, -0.5, 0.2],
    [0.2, 0.0, -0.2, 0.6, 1.2, 0.3, 0.5, -0.8, 0.0, 0.6],
    [-0.3, -0.4, -0.5, 0.0, 0.7, 0.4, 0.8, -0.5, 0.2, 0.8],
    [-1.0, -1.0, -1.0, -0.6, 0.1, 0.3, 0.7, -0.8, -0.3, 0.7],
])
SCRIPT_EFFECT = np.array([  # reminder, lost_contact_check, negotiation
    [0.4, -0.6, -0.1],
    [-0.2, -0.6, 0.6],
    [-0.4, -0.6, 0.3],
    [-0.5, -0.3, 0.1],
])
_DPD_CH = np.array([-0.35, -0.35, -0.2, -0.1, 0.0, 0.1, 0.45])
_BAL_CH = np.array([0.0, 0.0, 0.0, 0.0, 0.2, 0.1, 0.5])
_DPD_SCR = np.array([-0.5, 0.0, 0.2])
_BAL_SCR = np.array([-0.1, 0.0, 0.4])
DPD_SLOPE = _DPD_CH[ARM_CH] + np.where(ARM_CALL & ~ARM_TP, _DPD_SCR[np.maximum(ARM_SCRIPT, 0)], 0.0)
BAL_SLOPE = _BAL_CH[ARM_CH] + np.where(ARM_CALL & ~ARM_TP, _BAL_SCR[np.maximum(ARM_SCRIPT, 0)], 0.0)
_GROUP = np.array([0, 0, 0, 1, 1, 2, 2])  # digital, voice, paper
TP_ANSWER = np.array([0.45, 0, 0, 0.35, 0.5, 0, 0])  # a third party answers (sms: reads and passes on half as often)
TP_SCRIPT_RELAY = np.array([0.3, 1.0, 0.2])  # relays after a reminder / lost-contact check / negotiation script
_TALK_U = np.array([0.0, -1.0, 1.0, -0.5])  # willingness shifts the talk outcome (reached, refused, promise, opted out)
_TALK_OUT = np.array([REACHED_B, REFUSED, PROMISE, OPTED_OUT])
_TP_OUT = np.array([REACHED_T, REFUSED, OPTED_OUT])
LEGAL = 6


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One column index per row of ``probs`` (rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    return np.minimum((rng.random(len(probs))[:, None] > cum).sum(axis=1), probs.shape[1] - 1)


class _Borrowers:
    """Per delinquent borrower: observables, hidden tastes and their q / base."""

    def __init__(self, p, db: np.ndarray, rng: np.random.Generator):
        k = p.knobs
        n = len(db)
        self.seg = p.segment[db].astype(np.int64)
        self.u = p.effect[db].astype(float)
        median = 8000.0 if p.region == "CN" else 3000.0
        self.lb = (np.log(np.maximum(p.balance[db], 1.0) / median)) / 0.8
        rs, re = p.rel_start[db], p.rel_start[db + 1]
        close = (p.rel_strength >= 0.5) & (p.rel_switch >= INF)
        cc = np.concatenate([[0], np.cumsum(close)])
        self.family = np.minimum(cc[re] - cc[rs], 4)
        self.g = k.family_pay_effect * (self.family - 1.5) - k.anti_ring_pay_effect * p.anti[db]
        sd = k.response_slope_sd
        z_grp, z_ch, z_scr = rng.standard_normal((n, 3)), rng.standard_normal((n, 7)), rng.standard_normal((n, 3))
        self.slope = sd * (0.7 * z_grp[:, _GROUP[ARM_CH]] + 0.5 * z_ch[:, ARM_CH]
                           + np.where(ARM_CALL, 0.6 * z_scr[:, np.maximum(ARM_SCRIPT, 0)], 0.0))
        self.answer = np.exp(0.4 * rng.standard_normal(n))  # habit of picking up calls
        self.amount = np.round(FRAC[self.seg] * p.balance[db] * np.exp(0.25 * rng.standard_normal(n) - 0.03), 2)

    def ld(self, dpd: np.ndarray) -> np.ndarray:
        return np.log1p(np.maximum(dpd, 0)) - 3.6

    def q(self, i: np.ndarray, arm: np.ndarray, dpd: np.ndarray, k7: np.ndarray, fatigue: float) -> np.ndarray:
        s = self.seg[i]
        scr = np.where(ARM_CALL[arm] & ~ARM_TP[arm], SCRIPT_EFFECT[s, np.maximum(ARM_SCRIPT[arm], 0)], 0.0)
        x = (ALPHA[s] + BETA_OBS[s, ARM_ACTION[arm]] + scr + DPD_SLOPE[arm] * self.ld(dpd) + BAL_SLOPE[arm] * self.lb[i]
             + self.u[i] + self.g[i] + self.slope[i, arm] - fatigue * k7)
        return _sig(x)

    def base(self, i: np.ndarray, dpd: np.ndarray) -> np.ndarray:
        return _sig(BASE[self.seg[i]] + self.u[i] + self.g[i] - 0.25 * self.ld(dpd))


def _recent(keys: np.ndarray, t: np.ndarray, at_key: np.ndarray, at_t: np.ndarray, window: float = 7.0) -> np.ndarray:
    """For each (at_key, at_t): how many (keys, t) rows have the same key and t in [at_t - window, at_t).

    ``keys``/``t`` sorted by (key, t). O((n + m) log n).
    """
    x = keys.astype(float) * 1e6 + t  # days stay far below 1e6
    y = at_key.astype(float) * 1e6 + at_t
    return np.searchsorted(x, y, side="left") - np.searchsorted(x, y - window, side="left")


def simulate_observable(ctx, lo: int, hi: int, tp: ThirdParties, reach, rng: np.random.Generator) -> History:
    """Attempts, payments and response truth of the delinquent borrowers in ``lo..hi-1`` (observable model).

    ``reach`` is the chunk's truth/reachable rows (:class:`skiptrace.generate.ties.Reach`).
    """
    p = ctx.pop
    ph, k = ctx.phones, p.knobs
    T = float(p.clock.today)
    H = 30.4 * k.history_months
    bs = np.arange(lo, hi)
    db = bs[p.delinquent[bs]]
    nb = len(db)
    B = _Borrowers(p, db, rng)
    seg = B.seg
    onset = T - p.dpd[db]
    start = np.maximum(onset, T - H)
    n_att = np.minimum(rng.poisson(k.attempts_per_day * (T - start)), 400)
    tp_start = np.searchsorted(tp.b, db)
    tp_count = np.searchsorted(tp.b, db, side="right") - tp_start
    fat = k.fatigue_per_attempt

    # ------------------------------------------------------------ attempts
    ai = np.repeat(np.arange(nb), n_att)
    na = len(ai)
    b = db[ai]
    t = start[ai] + rng.random(na) * (T - start[ai])
    t = np.floor(t) + (8.5 + 12 * rng.random(na)) / 24
    t = np.minimum(t, T - 0.1)
    order = np.lexsort((t, ai))
    ai, b, t = ai[order], b[order], t[order]
    k7 = _recent(ai, t, ai, t)
    hour = np.minimum((np.mod(t, 1.0) * 24).astype(np.int64), 23)
    dpd_t = t - onset[ai]
    bucket = np.where(t >= p.since[b] + 10, 4, np.digitize(dpd_t, [15, 60, 120]))
    probs = logging_policy(bucket, tp_count[ai] > 0, k.explore_share)
    explore = rng.random(na) < k.explore_share
    avail = probs > 0
    uni = avail / avail.sum(axis=1, keepdims=True)
    rule = np.where(avail, (probs - k.explore_share * uni) / max(1 - k.explore_share, 1e-12), 0.0)
    rule = np.maximum(rule, 0.0)
    rule = rule / rule.sum(axis=1, keepdims=True)
    arm = np.where(explore, _pick(rng, uni), _pick(rng, rule))
    propensity = probs[np.arange(na), arm]
    ch, is_tp, script = ARM_CH[arm], ARM_TP[arm], ARM_SCRIPT[arm]
    state = _state(p, b, t)
    s = seg[ai]
    hm = _HOUR[ch, hour]
    q = B.q(ai, arm, dpd_t, k7, fat)
    voice = np.isin(ch, [3, 4])
    reach_b = np.minimum(1.0, _REACH[state, ch] * np.where(voice, B.answer[ai], 1.0) * hm * np.exp(-fat * k7))
    w = rng.random(na)
    pick = np.minimum(np.floor(-np.log2(np.maximum(1 - w, 1e-12))).astype(np.int64), np.maximum(tp_count[ai] - 1, 0))
    ti = np.where(is_tp, tp_start[ai] + pick, 0)
    has = len(tp.b) > 0
    tstale = np.where(is_tp, tp.stale[ti] if has else 0, 0)
    relay = np.where(is_tp, tp.relay[ti] if has else 0, 0)
    answered = is_tp & (tstale == 0) & (rng.random(na) < np.minimum(1.0, np.where(ch == 0, 0.9, 0.7) * hm))
    relay_p = relay * TP_ANSWER[ch] / np.where(ch == 0, 0.9, 0.7) * TP_SCRIPT_RELAY[np.where(ch == 0, 1, np.maximum(script, 0))]
    reached = np.where(is_tp, answered & (rng.random(na) < np.minimum(1.0, relay_p)), rng.random(na) < reach_b)
    pay = reached & (rng.random(na) < q)
    out = np.full(na, NO_ANSWER)
    conn = reached.copy()
    call_b = voice & ~is_tp
    talk_logit = np.log(_TALK[s]) + B.u[ai][:, None] * _TALK_U[None, :]
    talk = _TALK_OUT[np.argmax(talk_logit + rng.gumbel(size=(na, 4)), axis=1)]
    out = np.where(call_b & reached, np.where(pay, np.where(rng.random(na) < 0.3, PAID, PROMISE), talk), out)
    stranger = call_b & (state == 2) & (rng.random(na) < 0.7)
    out = np.where(stranger, WRONG, out)
    conn = conn | stranger | (~is_tp & (ch == 0) & (state == 2))
    msg = ~voice & ~is_tp
    delay = np.where(out == PAID, rng.random(na) * 0.08,
                     np.where(is_tp, 2 + 18 * rng.random(na),
                              np.where(msg, 20 * rng.random(na) ** 2, 1 + 13 * rng.random(na))))
    opt = (ch == 0) & (rng.random(na) < np.where(s == 3, 0.08, 0.01))
    out = np.where(msg & reached, np.where(pay & (delay <= 3) & (t + delay < T), PAID,
                                           np.where(opt & ~pay, OPTED_OUT, REACHED_B)), out)
    # a third party told about a debt refuses more often
    tp_p = np.where((is_tp & voice & (script != 1))[:, None], np.array([0.3, 0.55, 0.15])[None, :], _TP_TALK[s])
    tp_talk = _TP_OUT[_pick(rng, tp_p)]
    out = np.where(is_tp & answered, np.where(reached, REACHED_T, tp_talk), out)
    tp_wrong = is_tp & (tstale == 2) & (rng.random(na) < 0.7)
    out = np.where(tp_wrong, WRONG, out)
    conn = np.where(is_tp, answered | tp_wrong, conn)
    reg = np.where(p.churn[b] >= LOST_DEAD, b, np.where(t >= p.switch[b], ph.new + b, b))
    target = np.where(is_tp, tp.phone[ti] if has else -1, np.where(np.isin(ch, [0, 3, 4]), reg, -1))
    pay_at = t + delay
    paid = pay & (pay_at < T)
    amount = _amount(rng, B.amount[ai[paid]], p.balance[b[paid]])
    attempts = {"b": b, "t": t, "channel": ch, "target_role": is_tp.astype(np.int8), "target": target,
                "connected": conn, "outcome": out, "propensity": propensity, "explored": explore,
                "script": np.where(voice, script, -1)}
    # ------------------------------------------------------------ payments
    pays_b, pays_t, pays_a = [b[paid]], [pay_at[paid]], [amount]
    months = np.ceil((T - start) / 30.4).astype(np.int64)
    mi = np.repeat(np.arange(nb), months)
    bt = start[mi] + 30.4 * (np.arange(len(mi)) - np.repeat(np.cumsum(months) - months, months)) + 30.4 * rng.random(len(mi))
    spont = rng.random(len(mi)) < B.base(mi, bt - onset[mi])
    ok = spont & (bt < T)
    pays_b.append(db[mi][ok]), pays_t.append(np.floor(bt[ok]) + (9 + 12 * rng.random(ok.sum())) / 24)
    pays_a.append(_amount(rng, B.amount[mi[ok]], p.balance[db[mi[ok]]]))
    if k.installments:
        ib, it = _installments(p, bs, T, H)
        pays_b.append(ib), pays_t.append(it), pays_a.append(np.round(np.maximum(p.balance[ib] * 0.06, 10.0), 2))
    payments = {"b": np.concatenate(pays_b), "t": np.minimum(np.concatenate(pays_t), T - 0.001),
                "amount": np.concatenate(pays_a)}
    # ------------------------------------------------------------ response truth at as_of (neutral hour)
    response = _truth(p, ph, db, B, tp, reach, ai, t, T, fat)
    return History(attempts, payments, response)


def _amount(rng: np.random.Generator, mean: np.ndarray, balance: np.ndarray) -> np.ndarray:
    a = mean * np.exp(0.5 * rng.standard_normal(len(mean)) - 0.125)
    return np.round(np.clip(a, 1.0, np.maximum(balance, 1.0)), 2)


def _truth(p, ph, db, B: _Borrowers, tp: ThirdParties, reach, ai, t, T, fat) -> dict:
    """One row per delinquent borrower x arm x target phone (phone -1: push, email, letters)."""
    nb = len(db)
    idx = np.arange(nb)
    state = _state(p, db, np.full(nb, T))
    k7 = _recent(ai, t, idx, np.full(nb, T))
    dpd = p.dpd[db].astype(float)
    lost = p.lost[db]
    # reachable rows of this chunk's delinquent borrowers, by mechanism
    rb = np.asarray(reach.b)
    mech = np.asarray(reach.mechanism) if len(rb) else np.zeros(0, "<U16")
    pos = np.searchsorted(db, rb)
    ok = (pos < nb) & (db[np.minimum(pos, nb - 1)] == rb)
    own_p = {}
    for m in ("new_number", "secondary_number"):
        sel = ok & (mech == m)
        v = np.zeros(nb)
        v[pos[sel]] = reach.p[sel]
        own_p[m] = v
    # ---- borrower phones: (i, phone, answer ratio; -1 for the state table)
    reg_now = np.where(p.churn[db] >= LOST_DEAD, db, np.where(p.switch[db] < INF, ph.new + db, db))
    hb, hp, hr = [idx], [reg_now], [np.full(nb, -1.0)]
    sec = p.has_secondary[db]
    sec_ratio = np.where(p.secondary_dead[db], 0.0, np.where(lost, own_p["secondary_number"] / _REACH[0, 4], 0.7))
    hb.append(idx[sec]), hp.append(ph.secondary + db[sec]), hr.append(sec_ratio[sec])
    new = (p.switch[db] < INF) & (p.churn[db] != KNOWN_CHURN)
    new_ratio = np.where(lost, own_p["new_number"] / _REACH[0, 4], 1.0)
    hb.append(idx[new]), hp.append(ph.new + db[new]), hr.append(new_ratio[new])
    HB, HP, HR = (np.concatenate(x) for x in (hb, hp, hr))
    # ---- third parties: emergency contacts that relay, and every person/workplace of truth/reachable
    tsel = (tp.stale == 0) & (tp.relay > 0)
    tpos = np.searchsorted(db, tp.b)
    tok = tsel & (tpos < nb) & (db[np.minimum(tpos, nb - 1)] == tp.b)
    rsel = ok & np.isin(mech, ["family", "friend", "colleague", "workplace"])
    TB = np.concatenate([tpos[tok], pos[rsel]])
    TPh = np.concatenate([tp.phone[tok], np.asarray(reach.phone)[rsel]])
    TR = np.concatenate([tp.relay[tok], np.asarray(reach.p)[rsel]])
    o = np.lexsort((-TR, TPh, TB))
    TB, TPh, TR = TB[o], TPh[o], TR[o]
    first = np.ones(len(TB), bool)
    first[1:] = (TB[1:] != TB[:-1]) | (TPh[1:] != TPh[:-1])
    TB, TPh, TR = TB[first], TPh[first], TR[first]
    # ---- rows: borrower arms x their targets, third-party arms x third parties
    b_arms = np.flatnonzero(~ARM_TP)
    t_arms = np.flatnonzero(ARM_TP)
    phone_arm = np.isin(ARM_CH[b_arms], [0, 3, 4])
    rows_i, rows_arm, rows_phone, rows_reach = [], [], [], []
    for a, is_phone in zip(b_arms.tolist(), phone_arm.tolist()):
        c = ARM_CH[a]
        if is_phone:
            r = np.where(HR < 0, _REACH[state[HB], c], np.minimum(1.0, _REACH[0, c] * HR))
            r = r * (B.answer[HB] if c in (3, 4) else 1.0)
            rows_i.append(HB), rows_arm.append(np.full(len(HB), a)), rows_phone.append(HP), rows_reach.append(r)
        else:
            rows_i.append(idx), rows_arm.append(np.full(nb, a)), rows_phone.append(np.full(nb, -1))
            rows_reach.append(_REACH[state, c].astype(float))
    for a in t_arms.tolist():
        c, sc = ARM_CH[a], ARM_SCRIPT[a]
        r = TP_ANSWER[c] * TR * TP_SCRIPT_RELAY[1 if sc < 0 else sc]
        rows_i.append(TB), rows_arm.append(np.full(len(TB), a)), rows_phone.append(TPh), rows_reach.append(r)
    I, A, P, R = (np.concatenate(x) for x in (rows_i, rows_arm, rows_phone, rows_reach))
    R = np.minimum(1.0, np.where(ARM_TP[A], R, R * np.exp(-fat * k7[I])))
    o = np.lexsort((P, A, I))
    I, A, P, R = I[o], A[o], P[o], R[o]
    q = B.q(I, A, dpd[I], k7[I], fat)
    base = B.base(I, dpd[I])
    pp = base + (1 - base) * (R * q)  # = 1 - (1 - base)(1 - R q), never below base in floating point
    amt = B.amount[I]
    return {"b": db[I], "arm": A, "target": P, "p": pp, "baseline": base, "expected": pp * amt, "segment": B.seg[I],
            "reach": R, "q": q, "amount": amt, "best": _best(B, I, A, pp, amt, base, state, p.region)}


def _best(B: _Borrowers, I, A, pp, amt, base, state, region) -> tuple:
    """Per borrower: the arm of best net value (-1: no action) and whether a legal letter is best."""
    cost = np.asarray(COSTS[region])[ARM_CH[A]]
    net = pp * amt - cost
    nb = len(B.seg)
    best_val = np.full(nb, -np.inf)
    np.maximum.at(best_val, I, net)
    none_val = np.zeros(nb)
    none_val[I] = base * amt
    is_best = net >= best_val[I]
    best_arm = np.full(nb, -1)
    best_arm[I[is_best]] = A[is_best]  # ties: the last in row order
    best_arm = np.where(none_val >= best_val, -1, best_arm)
    gross = pp * amt
    best_gross = np.full(nb, -np.inf)
    np.maximum.at(best_gross, I, gross)
    legal_gross = np.zeros(nb, bool)
    lg = ARM_CH[A] == LEGAL
    legal_gross[I[lg & (gross >= best_gross[I])]] = True
    return B.seg, state, best_arm, legal_gross


def best_summary(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], names: list[str]) -> dict:
    """Heterogeneity of the true best action by (segment, contact state) cell (for world.json ``realised``).

    ``parts`` hold per-borrower (segment, state, best action id or -1, legal letter best before cost);
    ``names`` the action names by id. Returns the overall share of borrowers whose best action is their
    cell's most common one, the legal-letter shares, and each cell's figures.
    """
    from collections import Counter
    states = ["in_contact", "dead", "reassigned", "unanswered"]
    seg = np.concatenate([x[0] for x in parts]) if parts else np.zeros(0, int)
    st = np.concatenate([x[1] for x in parts]) if parts else np.zeros(0, int)
    best = np.concatenate([x[2] for x in parts]) if parts else np.zeros(0, int)
    lg = np.concatenate([x[3] for x in parts]) if parts else np.zeros(0, bool)
    cells, modal_n = {}, 0
    for s in range(4):
        for r in range(4):
            m = (seg == s) & (st == r)
            if not m.any():
                continue
            c = Counter(best[m].tolist())
            top, n_top = c.most_common(1)[0]
            modal_n += n_top
            cells[f"{'ABCD'[s]}/{states[r]}"] = {
                "borrowers": int(m.sum()), "modal_best": "none" if top < 0 else names[top],
                "modal_share": round(float(n_top / m.sum()), 4),
                "legal_letter_best_share": round(float(np.isin(best[m], [i for i, x in enumerate(names) if x.startswith("legal_letter")]).mean()), 4),
                "legal_letter_best_before_cost_share": round(float(lg[m].mean()), 4)}
    n = max(len(seg), 1)
    legal_ids = [i for i, x in enumerate(names) if x.startswith("legal_letter")]
    return {"best_action_modal_share": round(modal_n / n, 4),
            "best_action_legal_letter_share": round(float(np.isin(best, legal_ids).mean()) if len(seg) else 0.0, 4),
            "best_action_legal_letter_before_cost_share": round(float(lg.mean()) if len(seg) else 0.0, 4),
            "best_action_cells": cells}


def arm_names() -> list[str]:
    """``channel/target_role[/script]`` of every arm, in :data:`ARMS` order."""
    return [f"{CHANNELS[c]}/{'third_party' if tp else 'borrower'}" + (f"/{SCRIPTS[s]}" if s >= 0 else "")
            for _, c, tp, s in ARMS]


def segment_best(p, hist_response: dict, region: str) -> tuple:
    """The same per-borrower best-action record for the ``segment`` model's response rows (10 actions)."""
    from skiptrace.generate.history import _state as st_fn
    rb, ra = hist_response["b"], hist_response["action"]
    na = 10
    nb = len(rb) // na
    net = hist_response["expected"] - np.asarray(COSTS[region])[np.array([c for c, _ in _ACT])[ra]]
    net = net.reshape(nb, na)
    gross = hist_response["expected"].reshape(nb, na)
    base_v = (hist_response["baseline"] * hist_response["expected"] / np.maximum(hist_response["p"], 1e-12)).reshape(nb, na)[:, 0]
    db = rb.reshape(nb, na)[:, 0]
    best = np.where(base_v >= net.max(axis=1), -1, net.argmax(axis=1))
    legal = gross.argmax(axis=1) == 6
    T = float(p.clock.today)
    return (hist_response["segment"].reshape(nb, na)[:, 0], st_fn(p, db, np.full(nb, T)), best, legal)
