"""Call records from ties: frequency, recency, reciprocity and duration follow strength.

A tie between side A (usually the borrower) and side B (the contact) is
active over ``[first, last]``. When a side changes number at day ``t`` the
calls before ``t`` are recorded on the old number and those after on the new
one, so the new number takes over the old number's call partners; each
(phone, phone) pair gets one record.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skiptrace.generate.population import INF


@dataclass
class Calls:
    a: np.ndarray  # phone index of side A
    b: np.ndarray
    a2b: np.ndarray
    b2a: np.ndarray
    seconds: np.ndarray
    first: np.ndarray  # day values
    last: np.ndarray
    zone: np.ndarray  # zone used to render the timestamps

    def __len__(self) -> int:
        return len(self.a)

    @staticmethod
    def concat(parts: list[Calls]) -> Calls:
        return Calls(*[np.concatenate([getattr(c, f) for c in parts]) for f in
                       ("a", "b", "a2b", "b2a", "seconds", "first", "last", "zone")])

    def take(self, m: np.ndarray) -> Calls:
        return Calls(self.a[m], self.b[m], self.a2b[m], self.b2a[m], self.seconds[m], self.first[m], self.last[m], self.zone[m])

    def unique_pairs(self) -> Calls:
        """Keep the first record of every unordered phone pair."""
        lo, hi = np.minimum(self.a, self.b), np.maximum(self.a, self.b)
        _, first = np.unique(lo * (1 << 32) + hi, return_index=True)
        return self.take(np.sort(first))


def activity(rng: np.random.Generator, s: np.ndarray, today: float, horizon: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Active interval and total calls of ties with strength ``s`` (days before ``today``).

    Strong ties call often, both ways, recently and for long; weak ties call
    rarely and long ago.
    """
    n = len(s)
    gap = np.minimum(rng.exponential(1.0 + 90.0 * (1.0 - s) ** 2), horizon - 1.0)
    last = today - 0.02 - gap
    span = (last - (today - horizon)) * rng.random(n) ** (0.5 + 3.0 * (1.0 - s))
    first = last - span
    calls = 1 + rng.poisson(150.0 * s ** 1.7 * (0.2 + span / horizon))
    return first, last, calls


def split(rng: np.random.Generator, *, a_old: np.ndarray, a_new: np.ndarray, ta: np.ndarray,
          b_old: np.ndarray, b_new: np.ndarray, tb: np.ndarray, first: np.ndarray, last: np.ndarray,
          calls: np.ndarray, s: np.ndarray, mean_seconds: np.ndarray, zone: np.ndarray,
          force: np.ndarray | None = None, sources: list | None = None) -> Calls:
    """Records of each tie's calls, split at the number changes of both sides.

    ``a_new``/``b_old`` are -1 where that side did not change (``ta``/``tb``
    are then INF). ``force`` marks ties whose every active piece must carry
    at least one call. When ``sources`` is a list, the index of the input
    tie of every output record is appended to it (one array).
    """
    c1, c2 = np.minimum(ta, tb), np.maximum(ta, tb)
    starts = [first, np.maximum(first, c1), np.maximum(first, c2)]
    ends = [np.minimum(last, c1), np.minimum(last, c2), last]
    valid = [(st <= en) & (st < INF) for st, en in zip(starts, ends)]
    lens = [np.where(v, en - st + 1e-3, 0.0) for st, en, v in zip(starts, ends, valid)]
    total = lens[0] + lens[1] + lens[2]
    left = calls.astype(np.int64)
    counts = []
    rest = total.copy()
    for i in range(3):
        prob = np.divide(lens[i], rest, out=np.zeros_like(rest), where=rest > 0)
        c = rng.binomial(left, np.clip(prob, 0, 1)) if i < 2 else left
        if force is not None:
            c = np.where(force & valid[i], np.maximum(c, 1), c)
        counts.append(c)
        left = np.maximum(left - c, 0)
        rest = rest - lens[i]
    frac = rng.beta(1 + 4 * s, 1 + 4 * s)
    parts = []
    src = []
    for i in range(3):
        m = valid[i] & (counts[i] > 0)
        if not m.any():
            continue
        src.append(np.flatnonzero(m))
        st, en, n = starts[i][m], ends[i][m], counts[i][m]
        mid = (st + en) / 2
        pa = np.where((a_new[m] >= 0) & (mid >= ta[m]), a_new[m], a_old[m])
        pb = np.where((b_old[m] >= 0) & (mid < tb[m]), b_old[m], b_new[m])
        one = n == 1
        point = st + rng.random(len(st)) * (en - st)
        st, en = np.where(one, point, st), np.where(one, point, en)
        a2b = rng.binomial(n, frac[m])
        secs = np.round(n * mean_seconds[m] * np.exp(0.3 * rng.standard_normal(len(n)))).astype(np.int64)
        parts.append(Calls(pa, pb, a2b, n - a2b, np.maximum(secs, n), st, en, zone[m]))
    if sources is not None:
        sources.append(np.concatenate(src) if src else np.zeros(0, np.int64))
    if not parts:
        return _empty()
    return Calls.concat(parts)


def _empty() -> Calls:
    z = np.zeros(0, np.int64)
    return Calls(z, z, z, z, z, z.astype(float), z.astype(float), z)


def cut(rng: np.random.Generator, c: Calls, until: np.ndarray) -> tuple[Calls, np.ndarray]:
    """What a call log that stops at ``until`` (per record) shows of each record.

    Records that start after ``until`` vanish; records that straddle it keep
    the calls before it (a binomial share of the count, both directions and
    seconds scaled alike) and end before it. Returns the visible records and
    the mask of kept input records.
    """
    keep = c.first <= until
    v = c.take(keep)
    u = until[keep]
    part = np.flatnonzero(v.last > u)
    if len(part):
        st, en, uu = v.first[part], v.last[part], u[part]
        n = v.a2b[part] + v.b2a[part]
        share = np.clip((uu - st) / np.maximum(en - st, 1e-9), 0.0, 1.0)
        n2 = np.maximum(1, rng.binomial(n, share))
        a2b = rng.hypergeometric(v.a2b[part], v.b2a[part], n2)
        secs = np.maximum(np.round(v.seconds[part] * n2 / np.maximum(n, 1)).astype(np.int64), n2)
        last = np.where(n2 == 1, st, st + (uu - st) * rng.random(len(part)) ** 0.3)
        v.a2b[part], v.b2a[part], v.seconds[part], v.last[part] = a2b, n2 - a2b, secs, last
    return v, keep


def strangers(rng: np.random.Generator, phone: np.ndarray, since: np.ndarray, today: float, pool_lo: int,
              pool_n: int, zone: np.ndarray, mean_partners: float) -> Calls:
    """Calls of numbers reassigned to strangers: new partners, all after ``since``."""
    k = 2 + rng.poisson(mean_partners, len(phone))
    own = np.repeat(phone, k)
    start = np.repeat(since, k)
    partner = pool_lo + rng.integers(0, pool_n, len(own))
    last = start + rng.random(len(own)) * np.maximum(today - 0.02 - start, 0.0)
    first = start + rng.random(len(own)) * (last - start)
    n = 1 + rng.poisson(4.0, len(own))
    a2b = rng.binomial(n, 0.5)
    secs = np.round(n * 90 * np.exp(0.5 * rng.standard_normal(len(n)))).astype(np.int64)
    one = n == 1
    first = np.where(one, last, first)
    return Calls(own, partner, a2b, n - a2b, np.maximum(secs, n), first, last, np.repeat(zone, k))
