"""Training frames: the delinquent borrowers at a cut, their features then, and what followed.

``training_frame(store, cut)`` takes the borrowers that were delinquent at
``cut`` (stored status delinquent or written off, and overdue at least one
day at ``cut`` once the stored days past due are moved back from the extract
time), their features from the ledger up to ``cut`` and the graph as it was
then, and labels each with whether any payment arrived in
``(cut, cut + horizon_days]``. Borrowers that were not yet delinquent at
``cut`` are left out, so the regular instalments of accounts in good
standing never count as repayments.
"""
from __future__ import annotations

import logging

import pandas as pd

from skiptrace.contacts import clock
from skiptrace.errors import SkiptraceError
from skiptrace.scoring.account import (DELINQUENT_STATUSES, LedgerFrames, account_features, dpd_at,
                                       extract_time, read_ledger, to_day)
from skiptrace.scoring.reach import reachability_features
from skiptrace.store.base import GraphStore

log = logging.getLogger(__name__)


def all_borrowers(store: GraphStore) -> dict[str, dict]:
    """Every Borrower node's properties, by borrower id (one pass over the nodes)."""
    return {k: p for k, p in store.stream_nodes("Borrower")}


def delinquent_at(records: dict[str, dict], as_of: float, extract: float) -> list[str]:
    """The ids (sorted) of the borrowers overdue at least one day at ``as_of``."""
    return sorted(b for b, r in records.items()
                  if r.get("status") in DELINQUENT_STATUSES and dpd_at(r, as_of, extract) >= 1)


def delinquent_borrowers(store: GraphStore, *, as_of: object = None) -> list[str]:
    """The borrowers delinquent at ``as_of`` (default: the extract time), sorted.

    Cost: one pass over the Borrower nodes, plus :func:`extract_time`.
    """
    extract = extract_time(store)
    cut = to_day(as_of)
    return delinquent_at(all_borrowers(store), extract if cut is None else cut, extract)


def labels(frames: LedgerFrames, borrower_ids: list[str], cut: float, horizon_days: float) -> pd.Series:
    """1 for each borrower with any payment in ``(cut, cut + horizon_days]``, else 0."""
    p = frames.payments
    paid = set(p.loc[(p["t"] > cut) & (p["t"] <= cut + horizon_days), "borrower_id"])
    return pd.Series([int(b in paid) for b in borrower_ids],
                     index=pd.Index(borrower_ids, name="borrower_id"), name="paid")


def training_frame(store: GraphStore, cut: object, *, horizon_days: float = 30, graph: bool = True,
                   policy: object = "auto", **reach_kwargs) -> tuple[pd.DataFrame, pd.Series]:
    """Features at ``cut`` and repayment labels of the borrowers delinquent at ``cut``.

    Parameters
    ----------
    store : the graph store.
    cut : the time the features are taken at (day number, ISO string, date or datetime;
        naive = UTC). ``cut + horizon_days`` must not pass the extract time (the labels
        would be incomplete): a :class:`~skiptrace.errors.SkiptraceError` says so.
    horizon_days : the label window: ``y = 1`` when any payment arrives in
        ``(cut, cut + horizon_days]``.
    graph : add :func:`~skiptrace.scoring.reach.reachability_features` (at ``cut``) to the
        account features.
    policy : the eligibility policy for the reachability features.

    Returns ``(X, y)``: X indexed by borrower_id (account columns, then reachability
    columns), y a 0/1 Series on the same index.

    Cost: one pass over the Borrower nodes and the ledger; with ``graph``, ``find``'s
    ranking per delinquent borrower (see :func:`reachability_features`).

    Example
    -------
    >>> X, y = training_frame(store, "2026-05-01")       # doctest: +SKIP
    """
    t = to_day(cut)
    if t is None:
        raise SkiptraceError("training_frame needs a cut")
    records = all_borrowers(store)
    frames = read_ledger(store, list(records))
    extract = extract_time(store, frames)
    if t + horizon_days > extract + 1e-6:
        raise SkiptraceError(
            f"cut {clock.date(t)} + {horizon_days:g} days passes the extract time "
            f"{clock.date(extract)}: the labels would be incomplete (choose a cut at or before "
            f"{clock.date(extract - horizon_days)})")
    ids = delinquent_at(records, t, extract)
    if not ids:
        raise SkiptraceError(f"no borrower was delinquent at {clock.date(t)}")
    sub = {b: records[b] for b in ids}
    X = account_features(store, ids, as_of=t, _extract=extract, _frames=frames, _records=sub)
    if graph:
        R = reachability_features(store, ids, as_of=t, policy=policy, _extract=extract,
                                  _frames=frames, _records=sub, **reach_kwargs)
        X = X.join(R)
    y = labels(frames, ids, t, horizon_days)
    log.info("training frame at %s: %d delinquent borrowers, %.3f repaid within %g days",
             clock.date(t), len(ids), float(y.mean()), horizon_days)
    return X, y
