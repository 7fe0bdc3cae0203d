"""Scoring borrowers with a fitted C-score: features at ``as_of``, then probability, points
and segment."""
from __future__ import annotations

from collections.abc import Iterable

from skiptrace.scoring.account import account_features, extract_time, read_ledger, to_day
from skiptrace.scoring.cscore import CScore, points_from_proba, segment_from_points
from skiptrace.scoring.frame import delinquent_borrowers
from skiptrace.scoring.reach import REACH_FEATURES, reachability_features
from skiptrace.store.base import GraphStore


def apply(store: GraphStore, model: CScore, borrower_ids: Iterable[str] | None = None, *,
          as_of: object = None, policy: object = "auto", results=None) -> list[dict]:
    """The C-score of each borrower at ``as_of`` (default: the extract time).

    Parameters
    ----------
    store : the graph store.
    model : a fitted :class:`CScore` (its ``features_`` say which features to build; the
        reachability features only when it uses them).
    borrower_ids : the borrowers (None: every borrower delinquent at ``as_of``); unknown
        ids raise ``UnknownBorrowers``.
    results : ``{borrower_id: FindResult}`` already computed, passed to
        :func:`reachability_features`.

    Returns one dict per borrower, in the given order: ``borrower_id``, ``p_repay_30d``
    (rounded to 4 places), ``c_score`` (points) and ``segment``.

    Cost: :func:`account_features`, plus :func:`reachability_features` for a graph model.
    """
    extract = extract_time(store)
    cut = to_day(as_of)
    cut = extract if cut is None else cut
    ids = (delinquent_borrowers(store, as_of=cut) if borrower_ids is None
           else list(dict.fromkeys(borrower_ids)))
    if not ids:
        return []
    frames = read_ledger(store, ids)
    X = account_features(store, ids, as_of=cut, _extract=extract, _frames=frames)
    if any(f in REACH_FEATURES for f in model.features_):
        X = X.join(reachability_features(store, ids, as_of=cut, policy=policy, results=results,
                                         _extract=extract, _frames=frames))
    p = model.predict_proba(X)[:, 1]
    pts = points_from_proba(p)
    seg = segment_from_points(pts)
    return [{"borrower_id": b, "p_repay_30d": round(float(pi), 4), "c_score": int(c),
             "segment": str(s)} for b, pi, c, s in zip(ids, p, pts, seg)]
