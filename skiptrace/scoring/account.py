"""Account features: days past due, balance, and the payment and attempt history at ``as_of``.

Everything here is read in batch: the borrower records with one
``get_nodes`` call, the ledger with one ``stream_ledger`` pass per table
(or, for a handful of borrowers, one ``ledger`` call each: the same rows).
Only ledger rows at or before ``as_of`` count, so a payment made after it
changes nothing (no leakage into a training frame cut at ``as_of``).

Times are day numbers (:mod:`skiptrace.contacts.clock`). The *extract
time* is the newest time stamp in the store's ledger and registered phones:
the stored ``days_past_due`` is as of then, so at an earlier ``as_of`` the
account was ``extract - as_of`` days less overdue (and not delinquent at
all when that is below one day).
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skiptrace.contacts import clock
from skiptrace.errors import SkiptraceError
from skiptrace.store.base import GraphStore, Ledger, node_id

#: days used for "never" (no payment, never reached) so that a model sees a large, finite gap
NEVER_DAYS = 1000.0
#: a promise to pay counts as broken when no payment followed within this many days
PROMISE_DAYS = 14.0
#: borrowers up to this many are read one ledger call each; more stream the whole ledger once
STREAM_ABOVE = 200
DELINQUENT_STATUSES = ("delinquent", "written_off")
REACHED = ("reached_borrower", "promise_to_pay", "paid")

ACCOUNT_FEATURES: tuple[str, ...] = (
    "dpd", "balance", "log_balance", "account_age_days", "attorney_known", "cease_requested",
    "pay_n_30d", "pay_amount_30d", "pay_n_90d", "pay_amount_90d", "pay_n_all",
    "days_since_payment",
    "att_n_7d", "att_n_30d", "att_n_all", "connected_share", "promises", "broken_promises",
    "refusals", "opted_out", "wrong_numbers", "days_since_reached",
)


class UnknownBorrowers(SkiptraceError):
    """Some borrower ids are not in the store."""


def to_day(value: object) -> float | None:
    """A caller's time (day number, ISO string, date or datetime; naive = UTC) -> day number."""
    if value is None:
        return None
    if isinstance(value, (int, float, np.floating, np.integer)):
        return float(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, (str, dt.date, dt.datetime)):
        try:
            return clock.parse_as_of(value, None)
        except ValueError as exc:
            raise SkiptraceError(f"cannot read the time {value!r}: {exc}") from None
    raise SkiptraceError(f"cannot read the time {value!r}")


def _days(series: pd.Series) -> np.ndarray:
    """UTC ISO strings -> day numbers (NaN for missing)."""
    if len(series) == 0:
        return np.zeros(0)
    t = pd.to_datetime(series, utc=True, format="ISO8601", errors="coerce")
    d = (t - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1)
    return d.to_numpy(dtype=float, na_value=np.nan)


@dataclass
class LedgerFrames:
    """The ledger rows of some borrowers as two data frames, times as day numbers (``t``)."""

    attempts: pd.DataFrame
    payments: pd.DataFrame

    def cut(self, as_of: float) -> "LedgerFrames":
        """Only the rows at or before ``as_of``."""
        return LedgerFrames(self.attempts[self.attempts["t"] <= as_of],
                            self.payments[self.payments["t"] <= as_of])

    def ledgers(self) -> dict[str, Ledger]:
        """As :class:`~skiptrace.store.base.Ledger` objects (rows oldest first), by borrower."""
        out: dict[str, Ledger] = {}
        a = self.attempts.sort_values(["t", "attempt_id"]) if len(self.attempts) else self.attempts
        for bid, g in a.groupby("borrower_id", sort=False):
            rows = g.drop(columns=["t"]).to_dict("records")
            out[bid] = Ledger(bid, [{k: v for k, v in r.items() if v is not None and v == v}
                                    for r in rows], [])
        p = self.payments.sort_values(["t", "amount"]) if len(self.payments) else self.payments
        for bid, g in p.groupby("borrower_id", sort=False):
            led = out.setdefault(bid, Ledger(bid, [], []))
            led.payments = g.drop(columns=["t"]).to_dict("records")
        return out


_ATTEMPT_COLS = ("attempt_id", "borrower_id", "channel", "at", "target_phone", "target_role",
                 "connected", "outcome")


def read_ledger(store: GraphStore, borrower_ids: Sequence[str]) -> LedgerFrames:
    """The ledger rows of ``borrower_ids``: one ``ledger`` call each for a few borrowers,
    else one pass over each ledger table. Cost: O(rows read)."""
    ids = list(dict.fromkeys(borrower_ids))
    attempts: list[dict] = []
    payments: list[dict] = []
    if len(ids) <= STREAM_ABOVE:
        for b in ids:
            led = store.ledger(b)
            attempts.extend(led.attempts)
            payments.extend(led.payments)
    else:
        want = set(ids)
        attempts = [r for r in store.stream_ledger("contact_attempts") if r.get("borrower_id") in want]
        payments = [r for r in store.stream_ledger("payments") if r.get("borrower_id") in want]
    return _frames(attempts, payments)


def _frames(attempts: list[dict], payments: list[dict]) -> LedgerFrames:
    a = pd.DataFrame(attempts)
    for c in _ATTEMPT_COLS:
        if c not in a.columns:
            a[c] = pd.Series(dtype=object)
    a["t"] = _days(a["at"])
    a["connected"] = a["connected"].map(lambda v: bool(v) if v == v and v is not None else False)
    p = pd.DataFrame(payments)
    for c in ("borrower_id", "paid_at", "amount"):
        if c not in p.columns:
            p[c] = pd.Series(dtype=object)
    p["t"] = _days(p["paid_at"])
    p["amount"] = pd.to_numeric(p["amount"], errors="coerce").fillna(0.0)
    return LedgerFrames(a, p)


def extract_time(store: GraphStore, frames: LedgerFrames | None = None) -> float:
    """The extract's time as a day number: the newest ledger time stamp, registered-phone
    ``last_seen`` or phone ``status_at`` in the store (what the stored days past due are as of).

    Cost: one pass over each ledger table (unless ``frames`` of the whole store are given),
    the HAS_PHONE relationships and the Phone nodes.
    """
    best = -math.inf
    if frames is None:
        for table, key in (("contact_attempts", "at"), ("payments", "paid_at")):
            top = max((r[key] for r in store.stream_ledger(table) if r.get(key)), default=None)
            if top:
                best = max(best, clock.to_days(top))
    else:
        for f in (frames.attempts, frames.payments):
            if len(f) and f["t"].notna().any():
                best = max(best, float(f["t"].max()))
    for chunk in store.stream_edge_columns(["HAS_PHONE"], ["last_seen"]):
        top = max((v for v in chunk.props["last_seen"] if v), default=None)
        if top:
            best = max(best, clock.to_days(top))
    for chunk in store.stream_node_columns("Phone", ["status_at"]):
        top = max((v for v in chunk.props["status_at"] if v), default=None)
        if top:
            best = max(best, clock.to_days(top))
    if best == -math.inf:
        raise SkiptraceError("the store holds no time stamps (no ledger, no phones): give as_of")
    return best


def borrower_records(store: GraphStore, borrower_ids: Sequence[str]) -> dict[str, dict]:
    """The Borrower node properties of ``borrower_ids``; unknown ids are an error naming them."""
    ids = list(dict.fromkeys(borrower_ids))
    got = store.get_nodes(node_id("Borrower", b) for b in ids)
    missing = [b for b in ids if node_id("Borrower", b) not in got]
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise UnknownBorrowers(f"no borrower {', '.join(map(repr, missing[:3]))}{more} in the store")
    return {b: got[node_id("Borrower", b)] for b in ids}


def dpd_at(record: dict, as_of: float, extract: float) -> float:
    """Days past due at ``as_of`` from the stored value (as of ``extract``): smaller at an
    earlier cut, 0 when the account was not yet overdue; 0 for a status that is not overdue."""
    if record.get("status") not in DELINQUENT_STATUSES:
        return 0.0
    d = float(record.get("days_past_due") or 0) - round(extract - as_of)
    return max(d, 0.0)


def account_features(store: GraphStore, borrower_ids: Iterable[str], *, as_of: object = None,
                     _extract: float | None = None, _frames: LedgerFrames | None = None,
                     _records: dict[str, dict] | None = None) -> pd.DataFrame:
    """Account features of each borrower at ``as_of``, one row per borrower.

    Parameters
    ----------
    store : the graph store.
    borrower_ids : borrower ids (unknown ids raise :class:`UnknownBorrowers`).
    as_of : the cut (day number, ISO string, date or datetime; naive = UTC). Default: the
        extract time (:func:`extract_time`). Only ledger rows at or before it are read.

    Returns a DataFrame indexed by ``borrower_id`` with the columns of
    :data:`ACCOUNT_FEATURES`: ``dpd`` (days past due at ``as_of``), ``balance`` and
    ``log_balance`` (the stored balance), ``account_age_days``; payments: count and amount
    in the 30 and 90 days before ``as_of``, count ever, days since the last; attempts:
    count in 7 and 30 days and ever, share connected, promises to pay, broken promises (no
    payment within :data:`PROMISE_DAYS` after one, judged only once that window has
    closed), refusals, opt-outs, wrong numbers, days since the borrower was last reached.
    "Never" is :data:`NEVER_DAYS`.

    Cost: one node query and one ledger pass (see :func:`read_ledger`), then O(rows) in pandas.

    Example
    -------
    >>> account_features(store, ["B1"], as_of="2026-05-01").loc["B1", "dpd"]   # doctest: +SKIP
    16.0
    """
    ids = list(dict.fromkeys(borrower_ids))
    records = _records if _records is not None else borrower_records(store, ids)
    frames = _frames if _frames is not None else read_ledger(store, ids)
    cut = to_day(as_of)
    extract = _extract if _extract is not None else extract_time(store, None)
    if cut is None:
        cut = extract
    f = frames.cut(cut)
    out = pd.DataFrame(index=pd.Index(ids, name="borrower_id"))
    rec = [records[b] for b in ids]
    out["dpd"] = [dpd_at(r, cut, extract) for r in rec]
    out["balance"] = [float(r.get("balance") or 0.0) for r in rec]
    out["log_balance"] = np.log1p(out["balance"].clip(lower=0))
    opened = _days(pd.Series([r.get("opened_at") for r in rec], dtype=object))
    out["account_age_days"] = np.where(np.isnan(opened), 0.0, np.maximum(cut - opened, 0.0))
    out["attorney_known"] = [float(bool(r.get("attorney_known"))) for r in rec]
    out["cease_requested"] = [float(bool(r.get("cease_requested"))) for r in rec]

    p = f.payments
    age = cut - p["t"]
    for days in (30, 90):
        m = age <= days
        out[f"pay_n_{days}d"] = p[m].groupby("borrower_id").size().reindex(ids).fillna(0).to_numpy()
        out[f"pay_amount_{days}d"] = (p[m].groupby("borrower_id")["amount"].sum()
                                      .reindex(ids).fillna(0.0).to_numpy())
    out["pay_n_all"] = p.groupby("borrower_id").size().reindex(ids).fillna(0).to_numpy()
    last_pay = p.groupby("borrower_id")["t"].max().reindex(ids)
    out["days_since_payment"] = (cut - last_pay).fillna(NEVER_DAYS).clip(upper=NEVER_DAYS).to_numpy()

    a = f.attempts
    aage = cut - a["t"]
    out["att_n_7d"] = a[aage <= 7].groupby("borrower_id").size().reindex(ids).fillna(0).to_numpy()
    out["att_n_30d"] = a[aage <= 30].groupby("borrower_id").size().reindex(ids).fillna(0).to_numpy()
    g = a.groupby("borrower_id")
    n_all = g.size().reindex(ids).fillna(0)
    out["att_n_all"] = n_all.to_numpy()
    conn = g["connected"].sum().reindex(ids).fillna(0)
    out["connected_share"] = np.where(n_all > 0, conn / n_all.clip(lower=1), 0.0)
    for name, outcome in (("promises", "promise_to_pay"), ("refusals", "refused"),
                          ("opted_out", "opted_out"), ("wrong_numbers", "wrong_number")):
        out[name] = a[a["outcome"] == outcome].groupby("borrower_id").size().reindex(ids).fillna(0).to_numpy()
    out["broken_promises"] = _broken_promises(a, p, cut).reindex(ids).fillna(0).to_numpy()
    reached = a[a["outcome"].isin(REACHED) | (a["connected"] & (a["target_role"] == "borrower")
                                              & ~a["outcome"].isin(("wrong_number",)))]
    last_r = reached.groupby("borrower_id")["t"].max().reindex(ids)
    out["days_since_reached"] = (cut - last_r).fillna(NEVER_DAYS).clip(upper=NEVER_DAYS).to_numpy()
    out = out[list(ACCOUNT_FEATURES)].astype(float)
    return out


def _broken_promises(a: pd.DataFrame, p: pd.DataFrame, cut: float) -> pd.Series:
    """Per borrower: promises to pay whose window (:data:`PROMISE_DAYS`) closed by ``cut``
    with no payment in it."""
    pr = a[(a["outcome"] == "promise_to_pay") & (a["t"] + PROMISE_DAYS <= cut)][["borrower_id", "t"]]
    if not len(pr):
        return pd.Series(dtype=float)
    pays = {b: np.sort(g.to_numpy()) for b, g in p.groupby("borrower_id")["t"]}
    broken: dict[str, int] = {}
    for b, t in zip(pr["borrower_id"], pr["t"]):
        ts = pays.get(b)
        kept = ts is not None and np.any((ts > t) & (ts <= t + PROMISE_DAYS))
        if not kept:
            broken[b] = broken.get(b, 0) + 1
    return pd.Series(broken, dtype=float)
