"""The known response model, the logged collection history it generates, and its truth.

For a delinquent borrower in segment ``s`` (A forgetful, B strained,
C unwilling, D evader) with random effect ``u``, an action ``a`` (channel,
target role) taken when the borrower is in reachability state ``r``:

* ``e(a, r)``: probability that the message reaches the borrower (for a
  third party: the contact answers and relays, with the relay probability
  of that phone);
* ``q(a, s) = sigmoid(ALPHA[s] + BETA[s, a] + u)``: probability of paying
  within 30 days once reached;
* ``base(s) = sigmoid(BASE[s] + u)``: probability of paying within 30 days
  anyway;
* ``p_pay_30d = 1 - (1 - base) * (1 - e * q)``;
  ``expected_amount = p_pay_30d * FRAC[s] * balance``.

The logs draw each attempt's action from a rule policy by days past due,
mixed with a uniform draw for ``explore_share`` of attempts (the propensity
of every logged action is in truth/attempt_propensity.csv).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skiptrace.generate.population import INF, LOST_DEAD, LOST_REASSIGNED, LOST_UNANSWERED, Population

CHANNELS = ["sms", "push", "email", "ai_call", "human_call", "letter", "legal_letter"]
ACTIONS = [(c, "borrower") for c in CHANNELS] + [("sms", "third_party"), ("ai_call", "third_party"), ("human_call", "third_party")]
_CH = np.array([CHANNELS.index(c) for c, _ in ACTIONS])
_TP = np.array([r == "third_party" for _, r in ACTIONS])
_CALL = np.isin(_CH, [3, 4])
_PHONE = np.isin(_CH, [0, 3, 4])  # needs a phone number
COSTS = {"CN": [0.05, 0.01, 0.02, 0.3, 3.0, 2.0, 30.0], "US": [0.01, 0.002, 0.005, 0.08, 1.5, 0.8, 12.0]}
OUTCOMES = ["no_answer", "wrong_number", "refused", "reached_borrower", "reached_third_party", "promise_to_pay", "paid", "opted_out"]
NO_ANSWER, WRONG, REFUSED, REACHED_B, REACHED_T, PROMISE, PAID, OPTED_OUT = range(8)

# reach of a borrower-targeted action by state: 0 in contact, 1 number dead, 2 reassigned, 3 ignores calls
_REACH = np.array([
    [0.95, 0.55, 0.60, 0.45, 0.50, 0.90, 0.92],
    [0.00, 0.20, 0.30, 0.00, 0.00, 0.50, 0.55],
    [0.00, 0.20, 0.30, 0.00, 0.00, 0.50, 0.55],
    [0.30, 0.30, 0.40, 0.04, 0.04, 0.60, 0.65],
])
ALPHA = np.array([-0.3, -1.2, -2.2, -2.5])
BASE = np.array([-1.2, -2.5, -3.5, -4.0])
FRAC = np.array([0.35, 0.20, 0.15, 0.10])
BETA = np.array([  # sms push email ai human letter legal | tp_sms tp_ai tp_human
    [0.8, 0.6, 0.2, 1.0, 1.2, 0.0, -0.8, -1.0, -0.5, 0.2],
    [0.0, -0.2, -0.4, 0.5, 1.4, 0.3, 0.6, -0.8, 0.0, 0.8],
    [-0.6, -0.7, -0.8, -0.3, 0.5, 0.4, 1.3, -0.5, 0.2, 1.0],
    [-1.5, -1.5, -1.5, -1.2, -0.4, 0.2, 1.0, -1.0, -0.5, 0.9],
])
# not-paying outcomes of a connected call to the borrower, by segment
_TALK = np.array([[0.60, 0.10, 0.28, 0.02], [0.45, 0.20, 0.30, 0.05], [0.35, 0.45, 0.12, 0.08], [0.15, 0.50, 0.05, 0.30]])
_TALK_OUT = np.array([REACHED_B, REFUSED, PROMISE, OPTED_OUT])
_TP_TALK = np.array([[0.6, 0.25, 0.15], [0.6, 0.25, 0.15], [0.5, 0.3, 0.2], [0.3, 0.4, 0.3]])
_TP_OUT = np.array([REACHED_T, REFUSED, OPTED_OUT])
# rule policy: action probabilities by dpd bucket (<15, 15-60, 60-120, >120) and once contact is known lost
_RULE = np.array([
    [0.40, 0.20, 0.05, 0.30, 0.05, 0.00, 0.00, 0.00, 0.00, 0.00],
    [0.15, 0.05, 0.05, 0.30, 0.30, 0.05, 0.00, 0.00, 0.00, 0.10],
    [0.10, 0.00, 0.00, 0.15, 0.35, 0.15, 0.00, 0.00, 0.05, 0.20],
    [0.05, 0.00, 0.00, 0.00, 0.30, 0.10, 0.20, 0.00, 0.05, 0.30],
    [0.05, 0.00, 0.00, 0.00, 0.00, 0.10, 0.10, 0.10, 0.25, 0.40],
])


def _sig(x):
    return 1 / (1 + np.exp(-x))


@dataclass
class ThirdParties:
    """Lender-known third-party phones per borrower (emergency contacts, in listed order)."""

    b: np.ndarray
    phone: np.ndarray
    stale: np.ndarray  # 0 active, 1 disconnected, 2 reassigned
    relay: np.ndarray  # probability the contact passes the message on (reach probability)


@dataclass
class History:
    attempts: dict  # columns of contact_attempts (arrays), plus propensity/explored
    payments: dict  # b, at, amount
    response: dict  # b, action, target phone, p, baseline, expected, segment


def _state(p: Population, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Reachability state of borrower ``b`` at time ``t`` (0 in contact .. 3 ignores)."""
    lost = t >= p.since[b]
    ch = p.churn[b]
    st = np.where(ch == LOST_UNANSWERED, 3, np.where(ch == LOST_REASSIGNED, np.where(t >= p.old_status_at[b], 2, 1), 1))
    return np.where(lost & np.isin(ch, [LOST_DEAD, LOST_REASSIGNED, LOST_UNANSWERED]), st, 0)


def simulate(ctx, lo: int, hi: int, tp: ThirdParties, rng: np.random.Generator) -> History:
    """Attempts, payments and response truth for the delinquent borrowers in ``lo..hi-1``."""
    p: Population = ctx.pop
    ph, k = ctx.phones, p.knobs
    T = float(p.clock.today)
    H = 30.4 * k.history_months
    bs = np.arange(lo, hi)
    db = bs[p.delinquent[bs]]
    seg = p.segment[db].astype(np.int64)
    u = p.effect[db].astype(float)
    onset = T - p.dpd[db]
    start = np.maximum(onset, T - H)
    n_att = np.minimum(rng.poisson(k.attempts_per_day * (T - start)), 400)
    # third-party book per delinquent borrower: CSR over tp (sorted by borrower, listed order)
    tp_start = np.searchsorted(tp.b, db)
    tp_count = np.searchsorted(tp.b, db, side="right") - tp_start

    # ------------------------------------------------------------ attempts
    ai = np.repeat(np.arange(len(db)), n_att)
    b = db[ai]
    t = start[ai] + rng.random(len(ai)) * (T - start[ai])
    t = np.floor(t) + (8.5 + 12 * rng.random(len(ai))) / 24
    t = np.minimum(t, T - 0.1)
    order = np.lexsort((t, ai))
    ai, b, t = ai[order], b[order], t[order]
    dpd_t = t - onset[ai]
    bucket = np.digitize(dpd_t, [15, 60, 120])
    known_lost = t >= p.since[b] + 10
    bucket = np.where(known_lost, 4, bucket)
    rule = _RULE[bucket]
    explore = rng.random(len(ai)) < k.explore_share
    cum = np.cumsum(rule, axis=1)
    act = np.where(explore, rng.integers(0, len(ACTIONS), len(ai)),
                   np.minimum((rng.random(len(ai))[:, None] > cum).sum(axis=1), len(ACTIONS) - 1))
    no_tp = tp_count[ai] == 0
    act = np.where(_TP[act] & no_tp, 4, act)
    propensity = k.explore_share / len(ACTIONS) + (1 - k.explore_share) * rule[np.arange(len(ai)), act]
    state = _state(p, b, t)
    ch = _CH[act]
    is_tp = _TP[act]
    s = seg[ai]
    q = _sig(ALPHA[s] + BETA[s, act] + u[ai])
    # borrower-targeted
    reach_b = _REACH[state, ch]
    # third party: listed-order habit (first contact most often)
    w = rng.random(len(ai))
    pick = np.minimum(np.floor(-np.log2(np.maximum(1 - w, 1e-12))).astype(np.int64), np.maximum(tp_count[ai] - 1, 0))
    ti = np.where(is_tp, tp_start[ai] + pick, 0)
    tstale = np.where(is_tp, tp.stale[ti] if len(tp.b) else 0, 0)
    relay = np.where(is_tp, tp.relay[ti] if len(tp.b) else 0, 0)
    answered = is_tp & (tstale == 0) & (rng.random(len(ai)) < np.where(ch == 0, 0.9, 0.45))
    reached = np.where(is_tp, answered & (rng.random(len(ai)) < relay * np.where(ch == 0, 0.5, 1.0)),
                       rng.random(len(ai)) < reach_b)
    pay = reached & (rng.random(len(ai)) < q)
    # outcome and connected flag
    out = np.full(len(ai), NO_ANSWER)
    conn = reached.copy()
    call_b = _CALL[act] & ~is_tp
    talk = _TALK_OUT[(rng.random(len(ai))[:, None] > np.cumsum(_TALK[s], axis=1)).sum(axis=1).clip(0, 3)]
    out = np.where(call_b & reached, np.where(pay, np.where(rng.random(len(ai)) < 0.3, PAID, PROMISE), talk), out)
    stranger = call_b & (state == 2) & (rng.random(len(ai)) < 0.7)
    out = np.where(stranger, WRONG, out)
    conn = conn | stranger | (~is_tp & (ch == 0) & (state == 2))
    msg = ~_CALL[act] & ~is_tp
    delay = np.where(out == PAID, rng.random(len(ai)) * 0.08,
                     np.where(is_tp, 2 + 18 * rng.random(len(ai)),
                              np.where(msg, 20 * rng.random(len(ai)) ** 2, 1 + 13 * rng.random(len(ai)))))
    opt = (ch == 0) & (rng.random(len(ai)) < np.where(s == 3, 0.08, 0.01))
    out = np.where(msg & reached, np.where(pay & (delay <= 3) & (t + delay < T), PAID,
                                           np.where(opt & ~pay, OPTED_OUT, REACHED_B)), out)
    tp_talk = _TP_OUT[(rng.random(len(ai))[:, None] > np.cumsum(_TP_TALK[s], axis=1)).sum(axis=1).clip(0, 2)]
    out = np.where(is_tp & answered, np.where(reached, REACHED_T, tp_talk), out)
    tp_wrong = is_tp & (tstale == 2) & (rng.random(len(ai)) < 0.7)
    out = np.where(tp_wrong, WRONG, out)
    conn = np.where(is_tp, answered | tp_wrong, conn)
    out = np.where((out == PAID) & msg, PAID, out)
    # target phone the lender dialled
    reg = np.where(p.churn[b] >= LOST_DEAD, b, np.where(t >= p.switch[b], ph.new + b, b))
    target = np.where(is_tp, tp.phone[ti] if len(tp.b) else -1, np.where(_PHONE[act], reg, -1))
    pay_at = t + delay
    paid = pay & (pay_at < T)
    amount = _amount(rng, p, b[paid], seg[ai][paid])
    attempts = {"b": b, "t": t, "channel": ch, "target_role": is_tp.astype(np.int8), "target": target,
                "connected": conn, "outcome": out, "propensity": propensity, "explored": explore}
    # ------------------------------------------------------------ payments
    pays_b, pays_t, pays_a = [b[paid]], [pay_at[paid]], [amount]
    months = np.ceil((T - start) / 30.4).astype(np.int64)
    mi = np.repeat(np.arange(len(db)), months)
    base = _sig(BASE[seg] + u)
    spont = rng.random(len(mi)) < base[mi]
    bt = start[mi] + 30.4 * (np.arange(len(mi)) - np.repeat(np.cumsum(months) - months, months)) + 30.4 * rng.random(len(mi))
    ok = spont & (bt < T)
    pays_b.append(db[mi][ok]), pays_t.append(np.floor(bt[ok]) + (9 + 12 * rng.random(ok.sum())) / 24)
    pays_a.append(_amount(rng, p, db[mi][ok], seg[mi][ok]))
    if k.installments:
        ib, it = _installments(p, bs, T, H)
        pays_b.append(ib), pays_t.append(it), pays_a.append(np.round(np.maximum(p.balance[ib] * 0.06, 10.0), 2))
    payments = {"b": np.concatenate(pays_b), "t": np.minimum(np.concatenate(pays_t), T - 0.001),
                "amount": np.concatenate(pays_a)}
    # ------------------------------------------------------------ response truth at as_of
    na = len(ACTIONS)
    rb = np.repeat(db, na)
    ra = np.tile(np.arange(na), len(db))
    rs = np.repeat(seg, na)
    ru = np.repeat(u, na)
    rstate = _state(p, rb, np.full(len(rb), T))
    # best known third party by answer x relay
    best = np.full(len(db), -1)
    if len(tp.b):
        val = np.where(tp.stale == 0, tp.relay, -1.0)
        o = np.lexsort((-val, tp.b))
        first = np.ones(len(o), bool)
        first[1:] = tp.b[o][1:] != tp.b[o][:-1]
        bb, bi = tp.b[o][first], o[first]
        pos = np.searchsorted(bb, db)
        has = (pos < len(bb)) & (bb[np.minimum(pos, len(bb) - 1)] == db)
        best = np.where(has, bi[np.minimum(pos, len(bb) - 1)], -1)
    rbest = np.repeat(best, na)
    answer = np.where(_CH[ra] == 0, 0.9 * 0.5, 0.45)
    tp_ok = rbest >= 0
    tp_val = np.where(tp_ok, answer * np.where(tp_ok, tp.relay[np.maximum(rbest, 0)] if len(tp.b) else 0, 0)
                      * (np.where(tp_ok, tp.stale[np.maximum(rbest, 0)] if len(tp.b) else 1, 1) == 0), 0.0)
    e = np.where(_TP[ra], tp_val, _REACH[rstate, _CH[ra]])
    qq = _sig(ALPHA[rs] + BETA[rs, ra] + ru)
    pb = _sig(BASE[rs] + ru)
    pp = 1 - (1 - pb) * (1 - e * qq)
    exp_amt = pp * FRAC[rs] * p.balance[rb]
    reg_now = np.where(p.churn[rb] >= LOST_DEAD, rb, np.where(p.switch[rb] < INF, ph.new + rb, rb))
    rtarget = np.where(_TP[ra], np.where(rbest >= 0, tp.phone[np.maximum(rbest, 0)] if len(tp.b) else -1, -1),
                       np.where(_PHONE[ra], reg_now, -1))
    response = {"b": rb, "action": ra, "target": rtarget, "p": pp, "baseline": pb, "expected": exp_amt, "segment": rs}
    return History(attempts, payments, response)


def _amount(rng: np.random.Generator, p: Population, b: np.ndarray, seg: np.ndarray) -> np.ndarray:
    mean = FRAC[seg] * p.balance[b]
    a = mean * np.exp(0.5 * rng.standard_normal(len(b)) - 0.125)
    return np.round(np.clip(a, 1.0, np.maximum(p.balance[b], 1.0)), 2)


def _installments(p: Population, bs: np.ndarray, T: float, H: float) -> tuple[np.ndarray, np.ndarray]:
    """Monthly instalments of borrowers in good standing (delinquent ones until onset)."""
    from skiptrace.generate.population import CURRENT
    st = p.status[bs]
    end = np.where(st == CURRENT, T, np.where(p.delinquent[bs], T - p.dpd[bs] - 1, -INF))
    first_due = p.opened[bs] + 30.4
    lo = np.maximum(first_due, T - H)
    j0 = np.ceil((lo - first_due) / 30.4)
    n = np.maximum(np.floor((end - first_due) / 30.4) - j0 + 1, 0).astype(np.int64)
    n = np.where(end > lo, n, 0)
    rep = np.repeat(np.arange(len(bs)), n)
    j = j0[rep] + (np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n))
    day = np.floor(first_due[rep] + 30.4 * j)
    return bs[rep], day + 0.4 + 0.4 * ((bs[rep] * 7919) % 97) / 97


def costs(region: str) -> list[tuple[str, float]]:
    return list(zip(CHANNELS, COSTS[region]))
