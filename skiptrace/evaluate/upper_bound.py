"""The learned upper bound of ``evaluate find``: a boosted model fitted to the world's truth.

It answers "how much could a model that sees find's features and the raw
counts behind them rank, if it were trained on the truth it is scored
against?" (on other borrowers of the same world). It is *learned from
truth*: reported next to find, never shipped, and not a baseline.

Rows are the candidate phones of :func:`skiptrace.contacts.features.extract`
(one per phone of the ego graph); columns are find's features
(``Features.X``, whatever :data:`~skiptrace.contacts.features.FEATURES`
holds today) followed by :data:`RAW`, raw counts computed here from the
ego graph:

- ``raw_calls``, ``raw_seconds``: calls and seconds over the phone's
  records with the borrower's numbers;
- ``raw_days_since_call``: days from its last such call to ``as_of``
  (missing without one: the model handles missing values);
- ``raw_own_numbers``: how many of the borrower's numbers it has records with;
- ``raw_hop``: distance from the borrower in the ego graph;
- ``raw_degree``: whole-graph degree (:meth:`Ego.degree`);
- ``raw_ego_partners``: its call partners in the ego graph;
- ``raw_emergency``, ``raw_phonebook``: listed by the borrower as such.
"""
from __future__ import annotations

import math

import numpy as np

from skiptrace.contacts import clock
from skiptrace.contacts.ego import Ego

RAW: tuple[str, ...] = ("raw_calls", "raw_seconds", "raw_days_since_call", "raw_own_numbers",
                        "raw_hop", "raw_degree", "raw_ego_partners", "raw_emergency", "raw_phonebook")


def raw_counts(ego: Ego, phones: list[str]) -> np.ndarray:
    """The :data:`RAW` columns for ``phones`` (E.164, in this order) of an ego graph."""
    own = {o for o, e in ego.adj.get(ego.center, ()) if e.type == "HAS_PHONE"}
    listed: dict[str, set[str]] = {}
    for o, e in ego.adj.get(ego.center, ()):
        if e.type == "LISTS_CONTACT":
            listed.setdefault(o, set()).add(e.props.get("source") or "phonebook")
    out = np.zeros((len(phones), len(RAW)))
    for i, ph in enumerate(phones):
        n = "Phone:" + ph
        calls = secs = 0.0
        last = -math.inf
        nums: set[str] = set()
        partners = 0
        for q, e in ego.adj.get(n, ()):
            if e.type != "CALLED" or q == n:
                continue
            partners += 1
            if q in own:
                nums.add(q)
                calls += int(e.props.get("calls_a_to_b") or 0) + int(e.props.get("calls_b_to_a") or 0)
                secs += float(e.props.get("seconds_total") or 0)
                if e.props.get("last_at"):
                    last = max(last, clock.to_days(e.props["last_at"]))
        src = listed.get(n, set())
        out[i] = (calls, secs, max(0.0, ego.as_of - last) if last > -math.inf else np.nan, len(nums),
                  ego.sub.hops.get(n, np.nan), ego.degree(n), partners,
                  "emergency" in src, "phonebook" in src)
    return out


def fit_rank(train: list[tuple[np.ndarray, np.ndarray]],
             test: dict[str, tuple[list[str], np.ndarray]], *, seed: int = 0,
             limit: int | None = 10) -> dict[str, list[str]] | None:
    """Fit a gradient-boosted classifier on ``train`` and rank each borrower of ``test``.

    ``train`` holds ``(X, y)`` per training borrower (``y`` 1 for a relevant
    phone); ``test[borrower] = (phones, X)``. Returns the phones of each test
    borrower by predicted probability (ties by phone), the first ``limit``;
    None when the training rows hold only one class (nothing to learn).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    if not train:
        return None
    X = np.vstack([x for x, _ in train])
    y = np.concatenate([t for _, t in train])
    if len(np.unique(y)) < 2:
        return None
    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=seed)
    names = [b for b, (phones, _) in test.items() if phones]
    # one OpenMP thread: on a shared machine more threads spin-wait for the busy cores (10x slower)
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(X, y)
        scores = model.predict_proba(np.vstack([test[b][1] for b in names]))[:, 1] if names else []
    out: dict[str, list[str]] = {b: [] for b in test}
    at = 0
    for b in names:
        phones = test[b][0]
        p = scores[at:at + len(phones)]
        at += len(phones)
        order = sorted(range(len(phones)), key=lambda i: (-p[i], phones[i]))
        out[b] = [phones[i] for i in (order[:limit] if limit else order)]
    return out
