"""The policy room: compliance rules as code plus data, shared by ``find`` and ``plan``.

>>> from skiptrace.policy import Action, Context, get_policy
>>> pol = get_policy("CN-NIFA-2024")                                  # doctest: +SKIP
>>> pol.decide(Action("ai_call", "borrower", "+8613800000000", "reminder"), ctx, t0, t0 + 1)  # doctest: +SKIP

Packs: ``baseline`` (find's rules), ``CN-NIFA-2024``, ``US-RegF``; see docs/policy.md.
"""
from skiptrace.policy.core import (CALLS, CHANNELS, PHONE_CHANNELS, SCRIPTS, Action, Block,
                                   Context, Decision, Policy, Rule)
from skiptrace.policy.registry import PACKS, UnknownPolicy, get_policy, names, policy_for

__all__ = ["Action", "Context", "Rule", "Block", "Decision", "Policy", "get_policy", "policy_for",
           "PACKS", "CHANNELS", "CALLS", "PHONE_CHANNELS", "SCRIPTS", "UnknownPolicy", "names"]
