"""The ``baseline`` pack: find's rules since its first release, ids = their old codes.

Every rule is a "who" rule over the borrower record and the ledger (attempts
up to ``as_of``), keyed by the target number: a rule about one number blocks
every channel on it.
"""
from __future__ import annotations

from skiptrace.policy.core import Action, Context, Policy, Rule

SOURCE = "skiptrace baseline (lender practice)"


def cease_requested(action: Action, ctx: Context) -> str | None:
    """The Borrower's ``cease_requested`` prop is true: every target is blocked."""
    return "the borrower asked the lender to stop contacting them" \
        if ctx.borrower.get("cease_requested") else None


def attorney_known(action: Action, ctx: Context) -> str | None:
    """The Borrower's ``attorney_known`` prop is true: contact goes to the attorney, every
    target is blocked."""
    return "the borrower is represented by an attorney" if ctx.borrower.get("attorney_known") else None


def third_party_refused(action: Action, ctx: Context) -> str | None:
    """Third-party targets only: some attempt on the target number (any role, any channel)
    has outcome ``refused``."""
    if action.target_role != "third_party":
        return None
    hit = any(a.get("outcome") == "refused" for a in ctx.attempts_to(action.target_phone))
    return "a third party on this number refused before" if hit else None


def opted_out(action: Action, ctx: Context) -> str | None:
    """Any target: some attempt on the target number (any role, any channel) has outcome
    ``opted_out``."""
    hit = any(a.get("outcome") == "opted_out" for a in ctx.attempts_to(action.target_phone))
    return "an attempt on this number ended opted_out" if hit else None


def location_info_used(action: Action, ctx: Context) -> str | None:
    """Third-party targets only: some third-party attempt on the target number was
    ``connected`` (the one contact allowed to ask for the borrower's whereabouts is used)."""
    if action.target_role != "third_party":
        return None
    hit = any(a.get("target_role") == "third_party" and a.get("connected")
              for a in ctx.attempts_to(action.target_phone))
    return "this third party already answered once" if hit else None


BASELINE = Policy("baseline", (
    Rule("cease_requested", "the borrower asked to cease contact", SOURCE, "who", cease_requested),
    Rule("attorney_known", "the borrower is represented by an attorney", SOURCE, "who",
         attorney_known),
    Rule("third_party_refused", "a third party who refused is not called again", SOURCE, "who",
         third_party_refused),
    Rule("opted_out", "a number that opted out is not contacted again", SOURCE, "who", opted_out),
    Rule("location_info_used", "a third party answers one location enquiry", SOURCE, "who",
         location_info_used),
), "find's eligibility rules (the default)")
