"""Training rows for :class:`~skiptrace.contacts.ranking.model.AttemptModel`: from the
ledger's contact attempts (:func:`learn_from_attempts`) or, self-supervised, from the store's
own call ties (:func:`learn_from_ties`).

For each borrower with labelled attempts (a target phone and an outcome),
the ego graph is read as of the borrower's first labelled attempt (so the
features see nothing the lender learnt later; call records that straddle
that time are pro-rated), and each attempted phone that is a candidate becomes
one row: label 1 if any attempt on it reached someone (reached_borrower,
reached_third_party, promise_to_pay, paid), else 0; time = that as_of.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from skiptrace.contacts import clock
from skiptrace.contacts.ego import (MAX_FANOUT, UnknownBorrower, build, clip, fetch, fetch_many,
                                    seen_at)
from skiptrace.contacts.features import BAD_OUTCOMES, GOOD_OUTCOMES, FEATURES, extract
from skiptrace.contacts.ranking.model import AttemptModel
from skiptrace.store.base import Edge, GraphStore

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


# -- self-supervised: the store's own call ties ------------------------------------------
def tie_rows(store: GraphStore, borrower_ids: Iterable[str], *, horizon: float | None = 30.0,
             hide: float = 0.2, seed: int = 0, max_hops: int = 3,
             max_fanout: int = MAX_FANOUT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, g)``: features and labels of candidate phones, from ties the store already holds.

    No truth and no attempts: each borrower's own call records are the labels.

    - *temporal* (``horizon`` days, when the borrower's call records carry
      times): the ego graph is cut ``horizon`` days before its newest time
      stamp (call records pro-rated, later relationships dropped, as for
      ``find --as-of``); a candidate is positive when one of the borrower's
      numbers called it, or was called by it, after the cut: the question
      skip-tracing asks (who will they be in touch with next).
    - *random* (``horizon`` None, or no times): a seeded ``hide`` share of the
      borrower's call partners (at least one) lose every call record with the
      borrower's numbers; they are the positives, to be recovered from
      listings, shared contacts and walks.

    The borrower's own numbers are not rows. ``g`` numbers the borrower of
    each row (for a split by borrower).
    """
    import random

    rng = random.Random(seed)
    xs, ys, gs = [], [], []
    ids = list(borrower_ids)
    # read in batches (fetch_many: each ego graph exactly as fetch reads it, fewer queries)
    for k, (b, full) in enumerate(zip(ids, fetch_many(store, ids, max_hops=max_hops,
                                                      max_fanout=max_fanout))):
        if isinstance(full, UnknownBorrower):
            raise full
        own = {o for o, e in full.adj.get(full.center, ()) if e.type == "HAS_PHONE"}
        calls = [e for e in full.edges if e.type == "CALLED" and e.src != e.dst
                 and ((e.src in own) != (e.dst in own))]
        if not calls:
            continue
        timed = horizon is not None and all(e.props.get("last_at") for e in calls)
        if timed:
            cut = full.as_of - horizon
            positive = {e.dst if e.src in own else e.src for e in calls
                        if clock.to_days(e.props["last_at"]) > cut}
            # the ego graph as the traversal would have read it at the cut (no hop, expansion
            # or degree from the ties after it), straddling records without their later calls
            sub = seen_at(full.sub, cut, max_hops=max_hops, max_fanout=max_fanout,
                          edges=[_before(e, cut) for e in full.sub.edges])
            ego = build(b, sub, full.ledger, cut)
        else:
            partners = sorted({e.dst if e.src in own else e.src for e in calls})
            positive = set(rng.sample(partners, max(1, round(hide * len(partners)))))
            kept = [e for e in full.edges if not (
                e.type == "CALLED" and ((e.src in own and e.dst in positive)
                                        or (e.dst in own and e.src in positive)))]
            sub = seen_at(full.sub, math.inf, max_hops=max_hops, max_fanout=max_fanout,
                          edges=kept)  # hops and expansion without the hidden ties
            ego = build(b, sub, full.ledger, None)
        feats = extract(ego)
        for c, x in zip(feats.candidates, feats.X):
            if c.node in own:
                continue
            xs.append(x)
            ys.append(int(c.node in positive))
            gs.append(k)
    if not xs:
        return np.zeros((0, len(FEATURES))), np.zeros(0, int), np.zeros(0)
    return np.vstack(xs), np.array(ys), np.array(gs, dtype=float)


def _before(e: Edge, cut: float) -> Edge:
    """A call record that straddles ``cut``, as the calls before it would have left it.

    :func:`~skiptrace.contacts.ego.clip` (``find --as-of``) pro-rates such a
    record and sets its ``last_at`` to the cut. For training rows that is a
    label leak: every tie still active after the cut, and only those, would
    show a call exactly at the cut (``call_recency`` 1), so the rows would
    teach "recency exactly 1" instead of what predicts next week's partners,
    and their validation would be near perfect. Under the same even-spread
    assumption the record's ``n`` calls fell every ``span / (n - 1)`` days
    from ``first_at``; the last of them before the cut becomes ``last_at``
    (counts and seconds pro-rated as ``clip`` does). Every other relationship is returned as it is (``build`` cuts it).
    """
    last, first = e.props.get("last_at"), e.props.get("first_at")
    if e.type != "CALLED" or not last or not first:
        return e
    end, start = clock.to_days(last), clock.to_days(first)
    if end <= cut or start > cut:
        return e
    n = (e.props.get("calls_a_to_b") or 0) + (e.props.get("calls_b_to_a") or 0)
    step = (end - start) / (n - 1) if n > 1 else end - start
    t = start + math.floor((cut - start) / step) * step
    props = dict(clip(e, cut).props)
    props["last_at"] = clock.iso(max(start, min(t, cut - 1.0 / 86400)))
    return Edge(e.type, e.src, e.dst, props)


def learn_from_ties(store: GraphStore, borrower_ids: Iterable[str] | None = None, *,
                    sample: int | None = 2000, seed: int = 0, horizon: float | None = 30.0,
                    hide: float = 0.2, valid_share: float = 0.3, C: float = 1.0,
                    max_fanout: int = MAX_FANOUT) -> AttemptModel:
    """Learn corrections to the default weights from the store's own call ties (:func:`tie_rows`).

    The same estimator as :func:`learn_from_attempts` (the defaults as offset,
    penalised corrections for the features the rows exercise), validated on
    a held-out ``valid_share`` of the borrowers. ``borrower_ids`` None: a
    seeded random ``sample`` of the borrowers with a registered number.
    """
    import random

    if borrower_ids is None:
        borrower_ids = [k for k, _ in store.stream_nodes("Borrower")]
        if sample is not None and len(borrower_ids) > sample:
            borrower_ids = sorted(random.Random(seed).sample(borrower_ids, sample))
    X, y, g = tie_rows(store, borrower_ids, horizon=horizon, hide=hide, seed=seed,
                       max_fanout=max_fanout)
    # split by borrower: a seeded random order of the borrowers, the last share validates
    ids = np.unique(g)
    order = np.random.default_rng(seed).permutation(len(ids))
    rank_of = dict(zip(ids.tolist(), order.tolist()))
    t = np.array([rank_of[v] for v in g.tolist()], dtype=float)
    split = float(np.quantile(t, 1.0 - valid_share)) if len(t) else 0.0
    return AttemptModel(C=C, min_rows=50, source="learned from the store's own call ties",
                        unit="ties").fit(X, y, t, split)
