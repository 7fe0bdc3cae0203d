"""Contact discovery for ``skiptrace find``: who can reach a silent borrower now, and why.

``find(store, borrower_id)`` returns a :class:`FindResult` of ranked,
explained, eligibility-checked candidates; ``find_many`` does it for many.
Modules, one concern each: ``ego`` (the one store read), ``features``,
``ranking.walk`` (personalised PageRank), ``ranking.model`` (scores),
``evidence``, ``find`` (eligibility: :mod:`skiptrace.policy`).
"""
from skiptrace.contacts.find import Candidate, FindResult, find, find_many

__all__ = ["Candidate", "FindResult", "find", "find_many"]
