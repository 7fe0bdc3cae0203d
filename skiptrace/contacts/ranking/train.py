"""Training rows for :class:`~skiptrace.contacts.ranking.model.AttemptModel` from the ledger.

For each borrower with labelled attempts (a target phone and an outcome),
the ego graph is read as of the borrower's first labelled attempt (so the
features see nothing the lender learnt later; call records that straddle
that time are pro-rated), and each attempted phone that is a candidate becomes
one row: label 1 if any attempt on it reached someone (reached_borrower,
reached_third_party, promise_to_pay, paid), else 0; time = that as_of.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from skiptrace.contacts import clock
from skiptrace.contacts.ego import fetch
from skiptrace.contacts.features import BAD_OUTCOMES, GOOD_OUTCOMES, FEATURES, extract
from skiptrace.contacts.ranking.model import AttemptModel
from skiptrace.store.base import GraphStore

_LABELLED = set(GOOD_OUTCOMES) | set(BAD_OUTCOMES) | {"no_answer"}


def attempt_rows(store: GraphStore, borrower_ids: Iterable[str], *, max_hops: int = 3
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, t)``: features, reached-or-not labels and as_of day numbers of attempted phones."""
    xs, ys, ts = [], [], []
    for b in borrower_ids:
        attempts = [a for a in store.ledger(b).attempts
                    if a.get("target_phone") and a.get("outcome") in _LABELLED]
        if not attempts:
            continue
        first = min(a["at"] for a in attempts)
        ego = fetch(store, b, max_hops=max_hops, as_of=first)
        feats = extract(ego)
        label: dict[str, int] = {}
        for a in attempts:
            label[a["target_phone"]] = max(label.get(a["target_phone"], 0),
                                           int(a["outcome"] in GOOD_OUTCOMES))
        for c, x in zip(feats.candidates, feats.X):
            if c.phone in label:
                xs.append(x)
                ys.append(label[c.phone])
                ts.append(clock.to_days(first))
    if not xs:
        return np.zeros((0, len(FEATURES))), np.zeros(0, int), np.zeros(0)
    return np.vstack(xs), np.array(ys), np.array(ts)


def attempted_borrowers(store: GraphStore) -> list[str]:
    """Borrowers with at least one labelled attempt on a known phone, sorted."""
    return sorted({a["borrower_id"] for a in store.stream_ledger("contact_attempts")
                   if a.get("target_phone") and a.get("outcome") in _LABELLED})


def learn_from_attempts(store: GraphStore, borrower_ids: Iterable[str] | None = None, *,
                        sample: int | None = 2000, seed: int = 0,
                        valid_share: float = 0.3, C: float = AttemptModel.C) -> AttemptModel:
    """Fit an :class:`AttemptModel` on the ledger, validating on the latest ``valid_share`` of rows.

    ``borrower_ids`` None: a random ``sample`` (all when None) of the
    borrowers with labelled attempts (:func:`attempted_borrowers`).
    """
    if borrower_ids is None:
        import random

        borrower_ids = attempted_borrowers(store)
        if sample is not None and len(borrower_ids) > sample:
            borrower_ids = sorted(random.Random(seed).sample(borrower_ids, sample))
    X, y, t = attempt_rows(store, borrower_ids)
    split = float(np.quantile(t, 1.0 - valid_share)) if len(t) else 0.0
    return AttemptModel(C=C).fit(X, y, t, split)
