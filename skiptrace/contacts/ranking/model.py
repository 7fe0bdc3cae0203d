"""The scoring model: a logistic model over :data:`~skiptrace.contacts.features.FEATURES`.

``score = sigmoid(intercept + sum_i w_i * x_i)``, a probability-like number
in [0, 1]. :data:`DEFAULT_WEIGHTS` are the documented defaults (see
docs/find.md for how they were set). Where the ledger holds contact-attempt
outcomes, :class:`AttemptModel` learns the weights from them
(scikit-learn logistic regression, validated and Platt-calibrated on a time
split); features the attempts never exercise (the lender never dialled an
inferred new number) keep their default weight.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from skiptrace.contacts.features import FEATURES

#: default log-odds weights per feature (x in [0, 1])
DEFAULT_WEIGHTS: dict[str, float] = {
    "own_active": 3.12, "own_dead": -1.59, "new_number": 9.57, "emergency": 0.1,
    "relation_prior": 1.3, "emergency_first": 0.09, "phonebook": 0.12, "call_volume": 3.32,
    "call_recency": 3.75, "reciprocity": 0.05, "call_duration": 0.91, "in_touch_new": 5.93,
    "household": 0.67, "shared_device": 0.79, "colleague_link": -0.99, "workplace": -0.17,
    "ppr": 1.58, "hub": -5.58, "dead_number": -2.11, "bad_outcome": -1.38, "good_outcome": -0.19,
    "hop2": -0.67, "hop3": -1.55, "other_borrower": -1.64,
    "rel_spouse": 1.15, "rel_parent": -0.02, "rel_child": 0.78, "rel_sibling": 0.42,
    "rel_relative": -0.03, "rel_friend": -0.76, "rel_colleague": -1.43, "rel_other": -0.01,
}
DEFAULT_INTERCEPT = -6.52


@dataclass
class LinearScorer:
    """``sigmoid(a * (intercept + X @ w) + b)``: weights, then an optional Platt calibration."""

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    intercept: float = DEFAULT_INTERCEPT
    platt: tuple[float, float] = (1.0, 0.0)
    source: str = "defaults"

    @property
    def w(self) -> np.ndarray:
        return np.array([self.weights.get(f, 0.0) for f in FEATURES])

    def logit(self, X: np.ndarray) -> np.ndarray:
        return self.intercept + X @ self.w

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Score in [0, 1] of each row."""
        a, b = self.platt
        z = np.clip(a * self.logit(X) + b, -40, 40)
        return 1.0 / (1.0 + np.exp(-z))

    def contributions(self, x: np.ndarray) -> dict[str, float]:
        """Per-feature contribution ``w_i * x_i`` to the log-odds of one row."""
        return {f: float(wi * xi) for f, wi, xi in zip(FEATURES, self.w, x) if xi}


@dataclass
class AttemptModel:
    """Learn :class:`LinearScorer` weights from labelled contact attempts (scikit-learn style).

    ``fit(X, y, t, split_at)``: rows with time ``t < split_at`` train a
    logistic regression on the features that vary among them (the others
    keep their default weights); rows at or after
    ``split_at`` validate it (``validation_`` holds AUC, log loss and
    counts) and fit the Platt calibration. ``scorer_`` is the result.
    """

    C: float = 1.0
    min_rows: int = 200

    def fit(self, X: np.ndarray, y: np.ndarray, t: np.ndarray, split_at: float) -> "AttemptModel":
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import log_loss, roc_auc_score

        train, valid = t < split_at, t >= split_at
        if train.sum() < self.min_rows or valid.sum() < 20 or len(set(y[train])) < 2 \
                or len(set(y[valid])) < 2:
            raise ValueError(f"too few labelled attempts to learn from "
                             f"({int(train.sum())} before the split, {int(valid.sum())} after)")
        base = LinearScorer()
        varying = [i for i in range(X.shape[1]) if np.ptp(X[train, i]) > 0]
        fixed = [i for i in range(X.shape[1]) if i not in varying]
        w0 = base.w

        # features constant in training keep their default weight, unscaled: the data
        # cannot say anything about them (the lender never dialled an inferred new number)
        lr = LogisticRegression(C=self.C, max_iter=2000)
        lr.fit(X[train][:, varying], y[train])
        coef = lr.coef_[0]
        weights = {FEATURES[i]: float(coef[k]) for k, i in enumerate(varying)}
        for i in fixed:
            weights[FEATURES[i]] = float(w0[i])
        scorer = LinearScorer(weights, float(lr.intercept_[0]), source="learned from contact attempts")
        z = scorer.logit(X[valid])
        cal = LogisticRegression(C=1e6, max_iter=1000).fit(z.reshape(-1, 1), y[valid])
        scorer.platt = (float(cal.coef_[0][0]), float(cal.intercept_[0]))
        p = scorer.predict_proba(X[valid])
        self.validation_ = {"train_rows": int(train.sum()), "valid_rows": int(valid.sum()),
                            "auc": float(roc_auc_score(y[valid], p)),
                            "log_loss": float(log_loss(y[valid], np.clip(p, 1e-6, 1 - 1e-6))),
                            "default_auc": float(roc_auc_score(y[valid], base.predict_proba(X[valid])))}
        self.scorer_ = scorer
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.scorer_.predict_proba(X)


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))
