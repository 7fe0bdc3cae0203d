"""Channel selection: ``plan`` proposes each borrower's next best allowed actions.

Modules, one concern each: ``channels`` (the action catalogue and the lender's
costs), ``uplift`` (P(pay within 30 days | action, state) learned from the
logged attempts, inverse-propensity weighted), ``plan`` (targets, policy
decisions, expected values, the contract's JSON).

>>> import skiptrace
>>> skiptrace.plan(store, ["B1"], policy="CN-NIFA-2024")[0].to_dict()   # doctest: +SKIP
"""
from skiptrace.plan.channels import CATALOGUE, ActionKind, CostTable, load_costs
from skiptrace.plan.plan import (BlockedAction, PlannedAction, PlanResult, delinquent_ids, plan,
                                 plan_many, plan_one)
from skiptrace.plan.uplift import ResponseModel, learn, load_response_model

__all__ = ["ActionKind", "BlockedAction", "CATALOGUE", "CostTable", "PlanResult", "PlannedAction",
           "ResponseModel", "delinquent_ids", "learn", "load_costs", "load_response_model", "plan",
           "plan_many", "plan_one"]
