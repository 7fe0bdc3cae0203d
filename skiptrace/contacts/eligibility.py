"""Eligibility: may this candidate be contacted now? Each rule that says no is listed.

A rule is a function ``(candidate, context) -> str | None`` returning its
code when it blocks the candidate. :data:`DEFAULT_RULES` is the baseline
pack below; the compliance policy packs (issue "channels") plug in through
the ``rules`` argument of :func:`blocked_by` and of ``find``.

Baseline rules, from the borrower record and the ledger (attempts up to
``as_of``):

- ``cease_requested``: the borrower asked the lender to stop contacting
  them; every candidate is blocked.
- ``attorney_known``: the borrower is represented by an attorney; contact
  goes to the attorney, every candidate is blocked.
- ``third_party_refused``: a third party on this number refused before.
- ``opted_out``: an attempt on this number ended opted_out.
- ``location_info_used``: a third-party number already answered once (a
  connected third-party attempt): the one contact allowed to ask for the
  borrower's whereabouts has been used.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from skiptrace.store.base import Ledger, Props


@dataclass
class Context:
    """What rules may look at: the borrower's record and ledger, indexed by target phone."""

    borrower: Props
    ledger: Ledger
    by_phone: dict[str, list[Props]] = field(default_factory=dict)

    @classmethod
    def build(cls, borrower: Props, ledger: Ledger) -> "Context":
        by: dict[str, list[Props]] = {}
        for a in ledger.attempts:
            if a.get("target_phone"):
                by.setdefault(a["target_phone"], []).append(a)
        return cls(borrower, ledger, by)


Rule = Callable[["object", Context], "str | None"]


def cease_requested(c, ctx: Context) -> str | None:
    return "cease_requested" if ctx.borrower.get("cease_requested") else None


def attorney_known(c, ctx: Context) -> str | None:
    return "attorney_known" if ctx.borrower.get("attorney_known") else None


def third_party_refused(c, ctx: Context) -> str | None:
    if c.target_role != "third_party":
        return None
    hit = any(a.get("outcome") == "refused" for a in ctx.by_phone.get(c.phone, ()))
    return "third_party_refused" if hit else None


def opted_out(c, ctx: Context) -> str | None:
    hit = any(a.get("outcome") == "opted_out" for a in ctx.by_phone.get(c.phone, ()))
    return "opted_out" if hit else None


def location_info_used(c, ctx: Context) -> str | None:
    if c.target_role != "third_party":
        return None
    hit = any(a.get("target_role") == "third_party" and a.get("connected")
              for a in ctx.by_phone.get(c.phone, ()))
    return "location_info_used" if hit else None


DEFAULT_RULES: tuple[Rule, ...] = (cease_requested, attorney_known, third_party_refused, opted_out,
                                   location_info_used)


def blocked_by(candidate, ctx: Context, rules: Sequence[Rule] = DEFAULT_RULES) -> list[str]:
    """Codes of the rules that block ``candidate`` (empty: eligible), in rule order."""
    return [code for rule in rules if (code := rule(candidate, ctx))]
