"""Scoring: reachability features from the graph, account features from the ledger, and the
C-score (a calibrated probability of repayment within 30 days, as points and a segment).

``reachability_features`` and ``account_features`` build feature frames for many borrowers
at once; ``training_frame`` labels the delinquent borrowers at a cut; :class:`CScore` is the
scikit-learn estimator, saved with :meth:`CScore.save` and read with :func:`load_cscore`;
``time_split`` measures it on a time split beside baselines.
"""
from skiptrace.scoring.account import ACCOUNT_FEATURES, account_features, extract_time
from skiptrace.scoring.cscore import (CScore, load_cscore, points_from_proba,
                                      segment_from_points)
from skiptrace.scoring.apply import apply as score_borrowers
from skiptrace.scoring.frame import delinquent_borrowers, training_frame
from skiptrace.scoring.reach import REACH_FEATURES, reachability_features
from skiptrace.scoring.report import SplitReport, time_split

__all__ = ["ACCOUNT_FEATURES", "REACH_FEATURES", "CScore", "SplitReport", "account_features",
           "delinquent_borrowers", "extract_time", "load_cscore", "points_from_proba",
           "reachability_features", "score_borrowers", "segment_from_points", "time_split", "training_frame"]
