"""The C-score on a time split, beside baselines and a learned upper bound.

:func:`time_split` fits at ``cut1`` (features then, labels in
``(cut1, cut1 + horizon]``) and tests at ``cut2 = cut1 + horizon`` (features
then, labels in ``(cut2, cut2 + horizon]``), by default ``cut1 = extract -
2 * horizon``, so the test labels end at the extract. Rows of the report:

- ``dpd only``: days past due alone (a one-feature logistic fitted at cut1);
- ``logistic, account``: logistic regression on the account features;
- ``cscore, account``: the C-score model without the graph features;
- ``logistic, account+graph`` and ``cscore, account+graph``: with them;
- ``upper bound``: the boosted model with every feature, cross-validated
  (5 folds) on the test cut itself, i.e. without the drift between the two
  cuts: what this feature set could reach if the future looked like the
  training period.

AUC is the headline; Brier score and the mean predicted probability beside
the observed rate show calibration.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from skiptrace.contacts import clock
from skiptrace.errors import SkiptraceError
from skiptrace.scoring.account import ACCOUNT_FEATURES, extract_time, to_day
from skiptrace.scoring.cscore import CScore
from skiptrace.scoring.frame import training_frame
from skiptrace.scoring.reach import REACH_FEATURES
from skiptrace.store.base import GraphStore

log = logging.getLogger(__name__)


@dataclass
class Row:
    """One model's figures on the test cut."""

    name: str
    auc: float
    brier: float | None = None
    mean_p: float | None = None

    def as_dict(self) -> dict:
        return {"name": self.name, "auc": round(self.auc, 4),
                "brier": None if self.brier is None else round(self.brier, 4),
                "mean_p": None if self.mean_p is None else round(self.mean_p, 4)}


@dataclass
class SplitReport:
    """What :func:`time_split` measured."""

    fit_cut: str
    test_cut: str
    horizon_days: float
    n_fit: int
    n_test: int
    rate_fit: float
    rate_test: float
    graph: bool
    rows: list[Row] = field(default_factory=list)
    reach_ms_per_borrower: float | None = None
    seconds: float = 0.0

    def auc(self, name: str) -> float | None:
        return next((r.auc for r in self.rows if r.name == name), None)

    @property
    def graph_gain(self) -> float | None:
        """AUC with the graph features minus without (the C-score model), or None."""
        a, b = self.auc("cscore, account+graph"), self.auc("cscore, account")
        return None if a is None or b is None else a - b

    def as_dict(self) -> dict:
        return {"fit_cut": self.fit_cut, "test_cut": self.test_cut,
                "horizon_days": self.horizon_days, "n_fit": self.n_fit, "n_test": self.n_test,
                "repaid_share_fit": round(self.rate_fit, 4),
                "repaid_share_test": round(self.rate_test, 4), "graph": self.graph,
                "rows": [r.as_dict() for r in self.rows],
                "graph_gain_auc": None if self.graph_gain is None else round(self.graph_gain, 4),
                "reach_ms_per_borrower": None if self.reach_ms_per_borrower is None
                else round(self.reach_ms_per_borrower, 1),
                "seconds": round(self.seconds, 1)}

    def lines(self) -> list[str]:
        """The report as plain text lines."""
        out = [f"time split: fit at {self.fit_cut} ({self.n_fit} delinquent, "
               f"{self.rate_fit:.3f} repaid within {self.horizon_days:g} days), "
               f"test at {self.test_cut} ({self.n_test}, {self.rate_test:.3f} repaid)",
               f"{'model':<28} {'AUC':>7} {'Brier':>7} {'mean p':>7}"]
        for r in self.rows:
            br = "" if r.brier is None else f"{r.brier:.4f}"
            mp = "" if r.mean_p is None else f"{r.mean_p:.4f}"
            out.append(f"{r.name:<28} {r.auc:>7.4f} {br:>7} {mp:>7}")
        if self.graph_gain is not None:
            out.append(f"graph features add {self.graph_gain:+.4f} AUC to the C-score model")
        if self.reach_ms_per_borrower is not None:
            out.append(f"training frames: {self.reach_ms_per_borrower:.1f} ms per borrower "
                       "(wall clock, mostly find's ranking for the reachability features)")
        return out


def _row(name: str, y: pd.Series, p: np.ndarray) -> Row:
    return Row(name, float(roc_auc_score(y, p)), float(brier_score_loss(y, p)), float(np.mean(p)))


def time_split(store: GraphStore, *, cut: object = None, horizon_days: float = 30,
               graph: bool = True, model: str = "hgb", policy: object = "auto",
               random_state: int = 0) -> tuple[CScore, SplitReport]:
    """Fit the C-score at ``cut`` and test it one horizon later, beside baselines.

    Parameters
    ----------
    store : the graph store.
    cut : the fit cut (default: the extract time minus ``2 * horizon_days``); the test cut
        is ``cut + horizon_days`` and its labels must end by the extract time.
    horizon_days : the label window.
    graph : fit the returned model with the reachability features (the report shows both).
    model : the C-score's model ("hgb" or "logistic").

    Returns ``(model, report)``: the C-score fitted at the fit cut (``cut_``,
    ``horizon_days_`` and ``metrics_`` set), and the :class:`SplitReport`.

    Cost: two :func:`training_frame` reads (``find``'s ranking per delinquent borrower at
    each cut) and a handful of model fits.
    """
    t0 = time.perf_counter()
    extract = extract_time(store)
    c1 = to_day(cut)
    if c1 is None:
        c1 = extract - 2 * horizon_days
    c2 = c1 + horizon_days
    if c2 + horizon_days > extract + 1e-6:
        raise SkiptraceError(
            f"the test cut {clock.date(c2)} + {horizon_days:g} days passes the extract time "
            f"{clock.date(extract)}: choose a fit cut at or before {clock.date(extract - 2 * horizon_days)}")
    r0 = time.perf_counter()
    X1, y1 = training_frame(store, c1, horizon_days=horizon_days, graph=True, policy=policy)
    X2, y2 = training_frame(store, c2, horizon_days=horizon_days, graph=True, policy=policy)
    reach_ms = 1000 * (time.perf_counter() - r0) / max(1, len(X1) + len(X2))
    for y, at in ((y1, c1), (y2, c2)):
        if y.nunique() < 2:
            raise SkiptraceError(f"at {clock.date(at)} every delinquent borrower has the same "
                                 "label: nothing to learn or test")
    rep, fitted = compare(X1, y1, X2, y2, model=model, graph=graph, random_state=random_state)
    rep.fit_cut, rep.test_cut, rep.horizon_days = clock.date(c1), clock.date(c2), horizon_days
    rep.reach_ms_per_borrower = reach_ms
    best = fitted["cscore, account+graph" if graph else "cscore, account"]
    best.cut_ = clock.iso(c1)
    best.horizon_days_ = horizon_days
    rep.seconds = time.perf_counter() - t0
    best.metrics_ = rep.as_dict()
    return best, rep


def compare(X1: pd.DataFrame, y1: pd.Series, X2: pd.DataFrame, y2: pd.Series, *,
            model: str = "hgb", graph: bool = True,
            random_state: int = 0) -> tuple[SplitReport, dict[str, CScore]]:
    """Fit every row's model on ``(X1, y1)`` and measure it on ``(X2, y2)`` (frames from
    :func:`training_frame` with the graph features); returns the report (cuts left blank)
    and the fitted models by row name."""
    acc = list(ACCOUNT_FEATURES)
    full = acc + list(REACH_FEATURES)
    rep = SplitReport("", "", 0, len(X1), len(X2), float(y1.mean()), float(y2.mean()), graph)
    lr = LogisticRegression(max_iter=1000).fit(X1[["dpd"]], y1)
    rep.rows.append(_row("dpd only", y2, lr.predict_proba(X2[["dpd"]])[:, 1]))
    fitted: dict[str, CScore] = {}
    for name, kind, cols in (("logistic, account", "logistic", acc),
                             ("cscore, account", model, acc),
                             ("logistic, account+graph", "logistic", full),
                             ("cscore, account+graph", model, full)):
        m = CScore(model=kind, random_state=random_state).fit(X1[cols], y1)
        fitted[name] = m
        rep.rows.append(_row(name, y2, m.predict_proba(X2[cols])[:, 1]))
    folds = StratifiedKFold(5, shuffle=True, random_state=random_state)
    ub = cross_val_predict(CScore(model="hgb", random_state=random_state), X2[full], y2, cv=folds,
                           method="predict_proba")[:, 1]
    rep.rows.append(_row("upper bound (in-period CV)", y2, ub))
    return rep, fitted
