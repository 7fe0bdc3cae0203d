"""The C-score: a calibrated probability of repayment within 30 days, as points and a segment.

:class:`CScore` is a scikit-learn classifier over a feature frame (account
features, optionally with reachability features): gradient boosting
(``HistGradientBoostingClassifier``, the default) or a standardised logistic
regression, calibrated with ``CalibratedClassifierCV`` (isotonic by
default), so ``predict_proba`` is a probability one can multiply by an
amount.

Points (the usual scorecard log-odds scaling): a probability ``p`` of
repayment becomes ``points = 600 + 50 / ln 2 * ln(p / (1 - p))``, rounded and
clipped to 300..850: 600 points at even odds, and 50 more points each time
the odds of repaying double (PDO = 50).

Segments by points, A best:

======= ========== =========================
segment points     probability of repayment
======= ========== =========================
A       >= 700     >= 0.80
B       620 - 699  0.57 - 0.80
C       560 - 619  0.37 - 0.57
D       480 - 559  0.16 - 0.37
E       < 480      < 0.16
======= ========== =========================
"""
from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from skiptrace.errors import SkiptraceError

BASE_POINTS = 600.0
PDO = 50.0
MIN_POINTS, MAX_POINTS = 300, 850
#: lowest points of each segment, best first (E: everything below D)
SEGMENT_BANDS: tuple[tuple[str, int], ...] = (("A", 700), ("B", 620), ("C", 560), ("D", 480),
                                               ("E", MIN_POINTS))
MODEL_FORMAT = 1
MODELS = ("hgb", "logistic")


def points_from_proba(p: Any) -> np.ndarray:
    """Probabilities of repayment -> integer points in 300..850 (log-odds scaling, PDO 50).

    >>> points_from_proba([0.5, 0.8]).tolist()
    [600, 700]
    """
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    pts = BASE_POINTS + PDO / math.log(2) * np.log(p / (1 - p))
    return np.clip(np.round(pts), MIN_POINTS, MAX_POINTS).astype(int)


def segment_from_points(points: Any) -> np.ndarray:
    """Points -> segment letters A (best) .. E, by :data:`SEGMENT_BANDS`.

    >>> segment_from_points([720, 600, 300]).tolist()
    ['A', 'C', 'E']
    """
    pts = np.asarray(points)
    out = np.full(pts.shape, "E", dtype="<U1")
    for name, lo in reversed(SEGMENT_BANDS[:-1]):
        out[pts >= lo] = name
    return out


class CScore(ClassifierMixin, BaseEstimator):
    """Calibrated probability of repayment within the label horizon, as points and segments.

    Parameters
    ----------
    model : "hgb" (histogram gradient boosting, the default) or "logistic" (standardised
        logistic regression).
    calibration : "isotonic" or "sigmoid" (``CalibratedClassifierCV``'s method).
    cv : folds of the calibration (each fold's model is calibrated on its held-out part).
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization : the
        boosted model's settings (ignored by "logistic").
    random_state : seed of the boosted model and of the folds.

    Fitted attributes: ``features_`` (column order), ``classes_``, ``estimator_`` (the
    calibrated model), ``n_features_in_``, ``base_rate_``. ``cut_``, ``horizon_days_``,
    ``metrics_`` may be set by the training routine and are saved with the model.

    Cost: fit O(cv * n * iterations) for the boosted model; predict O(n).

    Example
    -------
    >>> m = CScore().fit(X, y)                         # doctest: +SKIP
    >>> m.score_points(X[:3]), m.segment(X[:3])        # doctest: +SKIP
    """

    def __init__(self, model: str = "hgb", calibration: str = "isotonic", cv: int = 3,
                 max_iter: int = 200, learning_rate: float = 0.05, max_leaf_nodes: int = 15,
                 min_samples_leaf: int = 40, l2_regularization: float = 1.0,
                 random_state: int | None = 0) -> None:
        self.model = model
        self.calibration = calibration
        self.cv = cv
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    def _base(self):
        if self.model == "hgb":
            return HistGradientBoostingClassifier(
                max_iter=self.max_iter, learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=self.min_samples_leaf,
                l2_regularization=self.l2_regularization, random_state=self.random_state)
        if self.model == "logistic":
            return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
        raise ValueError(f"model must be one of {MODELS}, not {self.model!r}")

    def _matrix(self, X: Any) -> np.ndarray:
        if isinstance(X, pd.DataFrame):
            if hasattr(self, "features_"):
                missing = [f for f in self.features_ if f not in X.columns]
                if missing:
                    raise ValueError(f"X lacks the model's features {missing[:5]}")
                X = X[self.features_]
            return X.to_numpy(dtype=float)
        return np.asarray(X, dtype=float)

    def fit(self, X: Any, y: Any) -> "CScore":
        """Fit the calibrated model to features ``X`` (DataFrame or array) and 0/1 labels ``y``."""
        self.features_ = (list(map(str, X.columns)) if isinstance(X, pd.DataFrame)
                          else [f"x{i}" for i in range(np.asarray(X).shape[1])])
        A = self._matrix(X)
        yy = np.asarray(y).astype(int)
        if len(np.unique(yy)) < 2:
            raise ValueError("y holds one class only: nothing to learn")
        self.estimator_ = CalibratedClassifierCV(self._base(), method=self.calibration, cv=self.cv)
        self.estimator_.fit(A, yy)
        self.classes_ = self.estimator_.classes_
        self.n_features_in_ = A.shape[1]
        self.base_rate_ = float(yy.mean())
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(n, 2)`` array: P(no repayment), P(repayment)."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(self._matrix(X))

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]

    def score_points(self, X: Any) -> np.ndarray:
        """The C-score of each row: points 300..850 (see the module docstring)."""
        return points_from_proba(self.predict_proba(X)[:, 1])

    def segment(self, X: Any) -> np.ndarray:
        """The segment of each row, A (most likely to repay) .. E."""
        return segment_from_points(self.score_points(X))

    def save(self, path: str | Path) -> None:
        """Write the fitted model with its feature list, version, cut and metrics (a pickle:
        load only files you trust)."""
        check_is_fitted(self, "estimator_")
        import skiptrace

        payload = {"format": MODEL_FORMAT, "kind": "skiptrace.cscore",
                   "version": skiptrace.__version__, "features": list(self.features_),
                   "cut": getattr(self, "cut_", None),
                   "horizon_days": getattr(self, "horizon_days_", None),
                   "metrics": getattr(self, "metrics_", None), "model": self}
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)


def load_cscore(path: str | Path) -> CScore:
    """Read a model written by :meth:`CScore.save`; a missing or foreign file is a
    :class:`~skiptrace.errors.SkiptraceError` naming it. (A pickle: load only files you trust.)"""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            payload = pickle.load(f)
    except FileNotFoundError:
        raise SkiptraceError(f"{p}: no such model file") from None
    except IsADirectoryError:
        raise SkiptraceError(f"{p}: is a directory, not a model file") from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError) as exc:
        raise SkiptraceError(f"{p}: not a C-score model file ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("kind") != "skiptrace.cscore" \
            or not isinstance(payload.get("model"), CScore):
        raise SkiptraceError(f"{p}: not a C-score model file")
    if payload.get("format") != MODEL_FORMAT:
        raise SkiptraceError(f"{p}: model format {payload.get('format')} (this version reads "
                             f"{MODEL_FORMAT}): refit it with `skiptrace score fit`")
    m = payload["model"]
    m.version_ = payload.get("version")
    return m
