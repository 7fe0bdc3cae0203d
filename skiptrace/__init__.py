"""skiptrace: graph-based skip-tracing and contact discovery for collections.

Load a lender's borrower, contact, device, address and employer records into
a graph (an embedded SQLite file by default, Neo4j in production), then rank
the contacts most likely to reach a borrower, find rings, and plan channels.
"""
from __future__ import annotations

__version__ = "0.1.0"

from skiptrace.errors import InputError, SkiptraceError, StoreError  # noqa: E402
from skiptrace.contacts import FindResult, find, find_many  # noqa: E402
from skiptrace.plan import PlanResult, plan, plan_many, plan_one  # noqa: E402

__all__ = ["__version__", "FindResult", "InputError", "PlanResult", "SkiptraceError",
           "StoreError", "find", "find_many", "plan", "plan_many", "plan_one"]
