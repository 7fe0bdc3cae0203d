"""The scoring model: a logistic model over :data:`~skiptrace.contacts.features.FEATURES`.

``score = sigmoid(intercept + sum_i w_i * x_i)``, a probability-like number
in [0, 1]. :data:`DEFAULT_WEIGHTS` are the documented defaults (see
docs/find.md for how they were set). Where the ledger holds contact-attempt
outcomes, :class:`AttemptModel` learns corrections to the defaults from them
(logistic regression with the default log-odds as offset, validated and
Platt-calibrated with scikit-learn on a time split); features the attempts
never exercise (the lender never dialled an inferred new number) keep their
default weight.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from skiptrace.contacts.features import FEATURES

#: default log-odds weights per feature (x in [0, 1]): documented priors in round numbers, set
#: from what each signal means (docs/find.md, "Weights"), not fitted to any world's truth.
#: Validated, not tuned, on generated worlds of both presets and on real networks
#: (bench/RESULTS.md); ``skiptrace train find`` learns corrections from a store's own ties.
DEFAULT_WEIGHTS: dict[str, float] = {
    # the borrower's own numbers and a probable new one
    "own_active": 3.0, "own_dead": -2.0, "new_number": 16.0, "in_touch_new": 5.0,
    # listings: who the borrower named, and how close
    "emergency": 1.0, "relation_prior": 1.5, "emergency_first": 0.3, "phonebook": 0.5,
    "rel_spouse": 0.0, "rel_parent": 0.0, "rel_child": 0.0, "rel_sibling": 0.0,
    "rel_relative": 0.0, "rel_friend": 0.0, "rel_colleague": 0.0, "rel_other": 0.0,
    # the tie itself: how much, how lately, both ways, how long
    "call_partner": 2.0, "call_volume": 1.5, "talk_time": 3.0, "call_recency": 3.5,
    "reciprocity": 0.5, "call_duration": 1.0,
    # shared identifiers with other borrowers
    "household": 1.5, "shared_device": 1.5, "colleague_link": 0.3, "workplace": 0.0,
    # structure: shared contacts and walks; broadcast hubs are no one's confidant
    "resource_allocation": 3.0, "walk2": 1.5, "ppr": 1.5, "common_neighbours": 0.0,
    "adamic_adar": 0.0, "jaccard": 0.0, "broadcast": -3.0,
    # what is known against a number
    "dead_number": -3.0, "bad_outcome": -1.5, "good_outcome": 0.5,
    "hop2": -0.5, "hop3": -1.5, "other_borrower": -1.0,
}
DEFAULT_INTERCEPT = -6.0


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

    # -- files ---------------------------------------------------------------
    FORMAT = "skiptrace.find.scorer/2"

    def to_dict(self, validation: dict | None = None) -> dict:
        return {"format": self.FORMAT, "source": self.source, "intercept": self.intercept,
                "platt": list(self.platt), "weights": {f: self.weights.get(f, 0.0) for f in FEATURES},
                "validation": validation or {}}

    @classmethod
    def from_dict(cls, d: dict) -> "LinearScorer":
        if d.get("format") == "skiptrace.find.scorer/1":
            raise ValueError("a scorer from an older find (its features have changed since): "
                             "learn it again with `skiptrace train find`")
        if d.get("format") != cls.FORMAT:
            raise ValueError(f"not a skiptrace scorer file (format {d.get('format')!r}, "
                             f"expected {cls.FORMAT!r})")
        unknown = sorted(set(d["weights"]) - set(FEATURES))
        if unknown:
            raise ValueError(f"scorer has weights for unknown features {unknown}")
        weights = dict(DEFAULT_WEIGHTS)
        weights.update({f: float(v) for f, v in d["weights"].items()})
        a, b = d.get("platt", (1.0, 0.0))
        return cls(weights, float(d["intercept"]), (float(a), float(b)), str(d.get("source", "file")))

    def save(self, path: str, validation: dict | None = None) -> None:
        import json

        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(validation), f, indent=2)
            f.write("\n")

    @classmethod
    def load(cls, path: str) -> "LinearScorer":
        import json

        try:
            with open(path, encoding="utf-8") as f:
                return cls.from_dict(json.load(f))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            from skiptrace.errors import SkiptraceError

            raise SkiptraceError(f"cannot read scorer {path}: {exc}") from None


@dataclass
class AttemptModel:
    """Learn :class:`LinearScorer` weights from labelled contact attempts.

    The defaults are the prior and the attempts correct them. The learned
    log-odds are ``default_logit(x) + b + sum_i d_i * x_i``: a logistic
    regression with the default log-odds as a fixed offset, fitted by
    penalised maximum likelihood (L-BFGS, ``sum d_i^2 / (2 C)``), so the
    corrections ``d_i`` are pulled towards zero and the data must earn every
    departure from the defaults. Only features that vary in the training
    rows get a correction: one the attempts never exercise (the lender never
    dialled an inferred new number, nor a 3-hop contact) keeps its default
    weight exactly. The result is again a :class:`LinearScorer`.

    ``fit(X, y, t, split_at)``: rows with time ``t < split_at`` train; rows
    at or after it validate (``validation_``: AUC and log loss of the
    learned scorer and of the defaults, both Platt-calibrated on those rows
    with scikit-learn) and give the learned scorer its calibration.
    ``scorer_`` is the result.
    """

    #: inverse penalty on the corrections. Logged attempts cover a narrow,
    #: policy-chosen slice of candidates (registered numbers and emergency
    #: contacts, dialled in listed order), so their outcomes are confounded
    #: with who gets dialled; the default trusts them only a little. Chosen on
    #: a generated world (seed 2, 3,000 borrowers) that is not reported on:
    #: C = 1 fitted attempt outcomes best and ranked reachability worst.
    C: float = 0.01
    min_rows: int = 200
    source: str = "learned from contact attempts"
    unit: str = "attempts"  # what a row is, for messages

    def fit(self, X: np.ndarray, y: np.ndarray, t: np.ndarray, split_at: float) -> "AttemptModel":
        from sklearn.metrics import log_loss, roc_auc_score

        train, valid = t < split_at, t >= split_at
        if train.sum() < self.min_rows or valid.sum() < 20 or len(set(y[train])) < 2 \
                or len(set(y[valid])) < 2:
            raise ValueError(f"too few labelled {self.unit} to learn from "
                             f"({int(train.sum())} before the split, {int(valid.sum())} after)")
        base = LinearScorer()
        varying = [i for i in range(X.shape[1]) if np.ptp(X[train, i]) > 0]
        b, d = _offset_logistic(X[train][:, varying], y[train], base.logit(X[train]), self.C)
        w = base.w.copy()
        w[varying] += d
        scorer = LinearScorer({f: float(v) for f, v in zip(FEATURES, w)}, base.intercept + b,
                              source=self.source)
        scorer.platt = _platt(scorer.logit(X[valid]), y[valid])
        default = LinearScorer()
        default.platt = _platt(default.logit(X[valid]), y[valid])
        p, p0 = scorer.predict_proba(X[valid]), default.predict_proba(X[valid])
        clip = lambda q: np.clip(q, 1e-6, 1 - 1e-6)  # noqa: E731
        self.validation_ = {"train_rows": int(train.sum()), "valid_rows": int(valid.sum()),
                            "corrected_features": len(varying),
                            "largest_corrections": {FEATURES[i]: round(float(d[k]), 3) for k, i in
                                                    sorted(enumerate(varying), key=lambda ki: -abs(d[ki[0]]))[:5]},
                            "auc": float(roc_auc_score(y[valid], p)),
                            "log_loss": float(log_loss(y[valid], clip(p))),
                            "default_auc": float(roc_auc_score(y[valid], p0)),
                            "default_log_loss": float(log_loss(y[valid], clip(p0)))}
        self.scorer_ = scorer
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.scorer_.predict_proba(X)


def _offset_logistic(X: np.ndarray, y: np.ndarray, offset: np.ndarray, C: float
                     ) -> tuple[float, np.ndarray]:
    """``(b, d)`` minimising the log loss of ``sigmoid(offset + b + X @ d)``
    plus ``|d|^2 / (2 C)`` (the intercept ``b`` is not penalised)."""
    from scipy.optimize import minimize

    yf = y.astype(float)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = offset + theta[0] + X @ theta[1:]
        # log(1 + e^z) - y z, computed stably
        nll = float(np.sum(np.logaddexp(0.0, z) - yf * z))
        r = 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))) - yf
        grad = np.concatenate([[r.sum()], X.T @ r + theta[1:] / C])
        return nll + float(theta[1:] @ theta[1:]) / (2 * C), grad

    res = minimize(loss, np.zeros(X.shape[1] + 1), jac=True, method="L-BFGS-B",
                   options={"maxiter": 2000})
    return float(res.x[0]), res.x[1:]


def _platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt calibration ``sigmoid(a * z + b)`` of log-odds ``z`` against labels ``y``."""
    from sklearn.linear_model import LogisticRegression

    cal = LogisticRegression(C=1e6, max_iter=1000).fit(z.reshape(-1, 1), y)
    return float(cal.coef_[0][0]), float(cal.intercept_[0])


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))
