"""Quality measurement, shared by tests, the CLI and bench/.

- :mod:`skiptrace.evaluate.find`: ``find`` against a generated world's truth,
  beside unfitted baselines (:mod:`skiptrace.evaluate.baselines`) and a
  boosted model learned from that truth (:mod:`skiptrace.evaluate.upper_bound`);
- :mod:`skiptrace.evaluate.linkpred`: ``find`` as a link predictor on any
  edge list (real networks), beside resource allocation and its kin;
- :mod:`skiptrace.evaluate.rings`: ring detection against ``truth/rings.csv``
  and ``truth/benign_groups.csv``, beside the baselines of
  :mod:`skiptrace.evaluate.ring_baselines` (raw shared-identifier components
  and Louvain, strong components, the device-burst rule);
  :mod:`skiptrace.evaluate.inject` writes real host networks with injected
  rings as worlds; :mod:`skiptrace.evaluate.lfr` scores the community step on
  the LFR benchmark;
- :mod:`skiptrace.evaluate.plan`: channel plans by the true expected net
  recovery of ``truth/response.csv`` (:mod:`skiptrace.evaluate.plan_truth`),
  beside baselines and the true ceiling, with off-policy estimates from the
  logs; :mod:`skiptrace.evaluate.plan_check` replays proposed actions against
  the ledger and the rule text, independently of :mod:`skiptrace.policy`.
"""
from skiptrace.evaluate.find import (BASELINES, THRESHOLDS, UPPER_BOUND, FindEvaluation,
                                     ThresholdReport, Truth, adamic_adar, best_mechanism,
                                     by_mechanism, call_count, ceiling, check_store_holds,
                                     emergency_order, evaluate_find, load_world, metrics, ndcg,
                                     plain_ppr, read_truth, recent_partner, resource_allocation,
                                     rule, world_region)

__all__ = ["BASELINES", "THRESHOLDS", "UPPER_BOUND", "FindEvaluation", "ThresholdReport", "Truth",
           "adamic_adar", "best_mechanism", "by_mechanism", "call_count", "ceiling",
           "check_store_holds", "emergency_order", "evaluate_find", "load_world", "metrics", "ndcg",
           "plain_ppr", "read_truth", "recent_partner", "resource_allocation", "rule",
           "world_region"]
