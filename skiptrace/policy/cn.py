"""The ``CN-NIFA-2024`` pack: the National Internet Finance Association of China's 2024
collection self-regulation rules, as this project reads them (docs/policy.md).

The article numbers of the NIFA text could not be confirmed from public sources available
to this project, so each rule's ``source`` names the clause in words.
"""
from __future__ import annotations

import datetime as dt

from skiptrace.policy.baseline import attorney_known, cease_requested
from skiptrace.policy.core import CALLS, PHONE_CHANNELS, TIMED_CHANNELS, Action, Context, Policy, Rule
from skiptrace.policy.zones import local_date, local_midnight_after, quiet_intervals

SRC = "NIFA 2024 collection self-regulation rules"
#: CN-2: the window (days before as_of) and number of failed borrower phone attempts
UNREACHABLE_DAYS = 30.0
UNREACHABLE_ATTEMPTS = 3
DEAD = ("disconnected", "reassigned")
#: CN-6: connected calls with the debtor per local day
DAILY_CALLS = 3
#: CN-7: quiet hours, local
QUIET_FROM, QUIET_TO = 22, 8


def collect_from_debtor_only(action: Action, ctx: Context) -> str | None:
    """Third-party targets only: blocked when the action's script is a collection script
    (``reminder`` or ``negotiation``; a third-party sms without a script counts as a
    lost-contact check). Reads nothing from the ledger."""
    if action.target_role == "third_party" and action.effective_script in ("reminder", "negotiation"):
        return f"a {action.effective_script} script may go to the debtor only"
    return None


def debtor_unreachable(ctx: Context) -> bool:
    """The debtor is unreachable at ``ctx.as_of`` when no registered phone is usable. A
    registered phone is unusable when phone_status says disconnected or reassigned (at or
    before as_of), or when, among the borrower-targeted phone attempts (sms, ai_call,
    human_call) on that number in the 30 days up to as_of, the last ended wrong_number or
    there are at least 3 and none connected. A number never tried recently stays usable:
    the debtor is not unreachable while one of their numbers has not been tried."""
    phones = ctx.borrower_phones
    for phone, props in (phones or {}).items():
        if (props.get("status") or "active") in DEAD:
            continue
        recent = [a for a, t in ctx.timed
                  if ctx.as_of - UNREACHABLE_DAYS <= t <= ctx.as_of and a.get("target_phone") == phone
                  and a.get("channel") in PHONE_CHANNELS
                  and (a.get("target_role") or "borrower") == "borrower"]
        if recent and recent[-1].get("outcome") == "wrong_number":
            continue
        if len(recent) >= UNREACHABLE_ATTEMPTS and not any(a.get("connected") for a in recent):
            continue
        return False
    return True


def third_party_only_if_unreachable(action: Action, ctx: Context) -> str | None:
    """Third-party targets only: blocked unless the debtor is unreachable
    (:func:`debtor_unreachable`: no registered phone is usable)."""
    if action.target_role == "third_party" and not debtor_unreachable(ctx):
        return "the debtor is reachable on a registered phone"
    return None


def listed_contacts_only(action: Action, ctx: Context) -> str | None:
    """Third-party targets only: blocked unless the number is an emergency contact the
    borrower listed (a LISTS_CONTACT edge with source emergency, or ``Action.listed``); a
    number only in the borrower's phonebook or call records is not listed."""
    if action.target_role == "third_party" and not ctx.is_listed(action):
        return "not an emergency contact the borrower listed"
    return None


def no_disclosure(action: Action, ctx: Context) -> str | None:
    """Third-party targets only: only a lost-contact check may be made. Blocked: a call whose
    script is not ``lost_contact_check`` (no script included), an sms with a collection script,
    and email, push, letter and legal_letter (they carry the debt, not a check). Channel None
    (find's question) is allowed."""
    if action.target_role != "third_party" or action.channel is None:
        return None
    if action.channel in PHONE_CHANNELS and action.effective_script == "lost_contact_check":
        return None
    return "only a lost-contact check may go to a third party (no disclosure of the debt)"


def refused_never_again(action: Action, ctx: Context) -> str | None:
    """Third-party targets only: blocked when any attempt on the number (any role, any
    channel) ended ``refused`` or ``opted_out``."""
    if action.target_role != "third_party":
        return None
    if any(a.get("outcome") in ("refused", "opted_out") for a in ctx.attempts_to(action.target_phone)):
        return "this contact refused further contact"
    return None


def _connected_calls(ctx: Context) -> list[float]:
    return [t for a, t in ctx.timed if a.get("channel") in CALLS and a.get("connected")
            and (a.get("target_role") or "borrower") == "borrower"]


def daily_call_cap(action: Action, ctx: Context, start: float, end: float) -> list[tuple[float, float, str]]:
    """Calls (ai_call, human_call, or channel None) to the debtor only: connected calls to
    the debtor (target_role borrower, ``connected`` true) are counted per local day in each
    candidate zone; on a local day with 3 of them, more calls are forbidden from the third
    until the next local midnight in that zone (so under several zones, until the latest)."""
    if not action.is_call or action.target_role != "borrower":
        return []
    ts = _connected_calls(ctx)
    if len(ts) < DAILY_CALLS:
        return []
    out = []
    for z in ctx.zones:
        by_day: dict[dt.date, list[float]] = {}
        for t in ts:
            by_day.setdefault(local_date(z, t), []).append(t)
        today = local_date(z, ctx.as_of)
        for d, day_ts in by_day.items():
            if len(day_ts) >= DAILY_CALLS:
                third = sorted(day_ts)[DAILY_CALLS - 1]
                when = "today" if d == today else f"on {d.isoformat()}"
                out.append((third, local_midnight_after(z, third),
                            f"{len(day_ts)} connected calls {when}" + (f" ({z})" if len(ctx.zones) > 1 else "")))
    return out


def quiet_hours(action: Action, ctx: Context, start: float, end: float) -> list[tuple[float, float, str]]:
    """Timed channels (sms, push, email, calls, channel None; not letters): forbidden from
    22:00 to 08:00 local time in every candidate zone (DST-aware wall times)."""
    if action.channel is not None and action.channel not in TIMED_CHANNELS:
        return []
    return [(lo, hi, f"{QUIET_FROM:02d}:00-{QUIET_TO:02d}:00 local quiet hours ({z})")
            for lo, hi, z in quiet_intervals(ctx.zones, QUIET_FROM, QUIET_TO, start, end)]


CN_NIFA_2024 = Policy("CN-NIFA-2024", (
    Rule("CN-1", "collect from the debtor only", f"{SRC}: collection is directed at the debtor; "
         "no collection from anyone who does not owe the debt", "who", collect_from_debtor_only),
    Rule("CN-2", "a third party only when the debtor is unreachable", f"{SRC}: third parties may "
         "be contacted only when the debtor cannot be reached", "who", third_party_only_if_unreachable),
    Rule("CN-3", "a third party only if the borrower listed them", f"{SRC}: only contacts the "
         "borrower provided (emergency contacts), not the phonebook", "who", listed_contacts_only),
    Rule("CN-4", "never disclose the debt to a third party", f"{SRC}: no disclosure of the debt or "
         "the debtor's information to third parties", "who", no_disclosure),
    Rule("CN-5", "never again contact a contact who refused", f"{SRC}: a third party who refuses "
         "to help is not contacted again", "who", refused_never_again),
    Rule("CN-6", "at most 3 connected interactive calls per debtor per local day", f"{SRC}: daily "
         "cap on connected calls (AI or human) with the debtor", "when", daily_call_cap),
    Rule("CN-7", "no contact 22:00-08:00 local", f"{SRC}: collection time limited to 08:00-22:00 "
         "local time", "when", quiet_hours),
    Rule("CN-8", "a borrower who asked to cease is not contacted", "lender's rule beside NIFA "
         "2024 (borrower record cease_requested)", "who", cease_requested),
    Rule("CN-9", "a borrower with an attorney is not contacted", "lender's rule beside NIFA "
         "2024 (borrower record attorney_known)", "who", attorney_known),
), "China: NIFA 2024 collection self-regulation rules")

__all__ = ["CN_NIFA_2024", "debtor_unreachable"]
