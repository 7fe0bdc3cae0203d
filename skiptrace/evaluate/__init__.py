"""Quality measurement, shared by tests, the CLI and bench/.

- :mod:`skiptrace.evaluate.find`: ``find`` against a generated world's truth,
  beside its baselines;
- :mod:`skiptrace.evaluate.linkpred`: ``find`` as a link predictor on any
  edge list (real networks), beside resource allocation and its kin.
"""
from skiptrace.evaluate.find import (BASELINES, FindEvaluation, Truth, call_count,
                                     emergency_order, evaluate_find, metrics, ndcg, plain_ppr,
                                     read_truth)

__all__ = ["BASELINES", "FindEvaluation", "Truth", "call_count", "emergency_order",
           "evaluate_find", "metrics", "ndcg", "plain_ppr", "read_truth"]
