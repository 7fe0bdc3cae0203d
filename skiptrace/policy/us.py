"""The ``US-RegF`` pack: Regulation F (12 CFR part 1006, the CFPB's FDCPA rule) as this
project reads it (docs/policy.md). One debt per borrower; "person" is the borrower for
borrower-targeted actions and the owner of the number for a third party."""
from __future__ import annotations

import datetime as dt

from skiptrace.policy.core import CALLS, TIMED_CHANNELS, Action, Context, Policy, Rule
from skiptrace.policy.zones import local_date, local_instant, quiet_intervals

QUIET_FROM, QUIET_TO = 21, 8
CALL_CAP, CAP_DAYS = 7, 7.0
COOLDOWN_DAYS = 7
#: the medium of each channel (1006.14(h): a person may ask the collector not to use a medium)
MEDIUM = {"ai_call": "telephone", "human_call": "telephone", "sms": "text message",
          "email": "email", "push": "push notification", "letter": "mail", "legal_letter": "mail"}
#: outcomes of a connected call in which the borrower spoke
_BORROWER_SPOKE = frozenset({"reached_borrower", "promise_to_pay", "paid"})
#: outcomes in which whoever the call was for spoke
_TARGET_SPOKE = frozenset({"refused", "opted_out"})


def unusual_hours(action: Action, ctx: Context, start: float, end: float) -> list[tuple[float, float, str]]:
    """Timed channels (sms, push, email, calls, channel None; not letters): forbidden before
    08:00 and from 21:00 local time, in every candidate zone (DST-aware wall times)."""
    if action.channel is not None and action.channel not in TIMED_CHANNELS:
        return []
    return [(lo, hi, f"before 08:00 or after 21:00 local ({z})")
            for lo, hi, z in quiet_intervals(ctx.zones, QUIET_FROM, QUIET_TO, start, end)]


def _calls_to_person(action: Action, ctx: Context) -> list[float]:
    return [t for a, t in ctx.timed if a.get("channel") in CALLS and ctx.same_person(action, a)]


def seven_in_seven(action: Action, ctx: Context, start: float, end: float) -> list[tuple[float, float, str]]:
    """Calls (ai_call, human_call, channel None): every call placed to the same person
    (connected or not; the borrower on any of their numbers, a third party on that number)
    counts. A call at t is forbidden when 7 calls were placed in the 168 hours before t:
    for consecutive calls c_i..c_(i+6), ``[c_(i+6), c_i + 7 days)``, i.e. until the oldest
    of the seven ages out. (A rolling 168 hours contains every "7 consecutive days" window
    ending on t's day, so it is the stricter reading.)"""
    if not action.is_call:
        return []
    ts = _calls_to_person(action, ctx)
    return [(ts[i + CALL_CAP - 1], ts[i] + CAP_DAYS, f"{CALL_CAP} calls within 7 days")
            for i in range(len(ts) - CALL_CAP + 1)]


def is_conversation(action: Action, a) -> bool:
    """A connected call (ai_call, human_call) that reached the action's person: for the
    borrower, outcome reached_borrower, promise_to_pay or paid (on any number), or refused /
    opted_out on a borrower-targeted call; for a third party, a call on that number that
    ended reached_third_party, refused or opted_out."""
    if a.get("channel") not in CALLS or not a.get("connected"):
        return False
    out = a.get("outcome")
    if action.target_role == "borrower":
        return out in _BORROWER_SPOKE or (
            out in _TARGET_SPOKE and (a.get("target_role") or "borrower") == "borrower")
    if a.get("target_phone") != action.target_phone:
        return False
    return out == "reached_third_party" or (out in _TARGET_SPOKE and a.get("target_role") == "third_party")


def after_conversation(action: Action, ctx: Context, start: float, end: float) -> list[tuple[float, float, str]]:
    """Calls (ai_call, human_call, channel None): after a telephone conversation with the
    person (see :func:`is_conversation`) on local date d, no call until local midnight
    starting d + 7 (the conversation's date is day 1 of the 7), in every candidate zone."""
    if not action.is_call:
        return []
    out = []
    for a, t in ctx.timed:
        if is_conversation(action, a):
            for z in ctx.zones:
                d = local_date(z, t)
                out.append((t, local_instant(z, d + dt.timedelta(days=COOLDOWN_DAYS), 0),
                            f"a telephone conversation on {d.isoformat()} (7-day period)"))
    return out


def opted_out_media(action: Action, ctx: Context) -> set[str]:
    """Media closed to the action: the medium of every attempt that ended ``opted_out`` on
    the same number, whoever answered it (an opt-out closes that address), and for the
    borrower also of every borrower-targeted attempt (any of their numbers or addresses)."""
    rows = list(ctx.attempts_to(action.target_phone)) if action.target_phone else []
    if action.target_role == "borrower":
        rows += [a for a in ctx.ledger.attempts if (a.get("target_role") or "borrower") == "borrower"]
    return {MEDIUM[a["channel"]] for a in rows
            if a.get("outcome") == "opted_out" and a.get("channel") in MEDIUM}


def medium_blocks(action: Action, ctx: Context) -> str | None:
    """Blocked when the person opted out of the action's medium (telephone = ai_call and
    human_call; text message = sms; email; push notification; mail = letter and
    legal_letter), see :func:`opted_out_media`. Channel None (any phone channel) is blocked
    only when both telephone and text message are opted out."""
    media = opted_out_media(action, ctx)
    if not media:
        return None
    if action.channel is None:
        if {"telephone", "text message"} <= media:
            return "opted out of telephone and text messages"
        return None
    m = MEDIUM[action.channel]
    return f"opted out of {m}" if m in media else None


def cease_communication(action: Action, ctx: Context) -> str | None:
    """The Borrower's ``cease_requested`` is true: every action is blocked except a
    legal_letter to the borrower (the notice of a specific remedy 1006.6(c)(2) allows);
    third parties are blocked too (the strict reading)."""
    if not ctx.borrower.get("cease_requested"):
        return None
    if action.channel == "legal_letter" and action.target_role == "borrower":
        return None
    return "the borrower asked to cease communication"


def attorney_only(action: Action, ctx: Context) -> str | None:
    """The Borrower's ``attorney_known`` is true: every action to the borrower or a third
    party is blocked (only the attorney may be contacted; the attorney is not a target here)."""
    if ctx.borrower.get("attorney_known"):
        return "the borrower is represented by an attorney: contact the attorney only"
    return None


def location_only_once(action: Action, ctx: Context) -> str | None:
    """Third-party targets only: allowed only as a location enquiry (channel None, or an sms
    or call whose script is lost_contact_check; third-party sms without a script counts), and
    only if no earlier third-party attempt on the number was connected."""
    if action.target_role != "third_party":
        return None
    if action.channel is not None and not (
            action.channel in ("sms", *CALLS) and action.effective_script == "lost_contact_check"):
        return "a third party may only be asked for location information"
    if any(a.get("target_role") == "third_party" and a.get("connected")
           for a in ctx.attempts_to(action.target_phone)):
        return "this third party was already asked for location information once"
    return None


US_REGF = Policy("US-RegF", (
    Rule("RF-1", "no contact before 08:00 or after 21:00 local", "12 CFR 1006.6(b)(1)(i)",
         "when", unusual_hours),
    Rule("RF-2", "at most 7 calls in 7 days per debt", "12 CFR 1006.14(b)(2)(i)", "when",
         seven_in_seven),
    Rule("RF-3", "no call within 7 days after a telephone conversation", "12 CFR 1006.14(b)(2)(ii)",
         "when", after_conversation),
    Rule("RF-4", "medium blocks and electronic opt-outs", "12 CFR 1006.14(h); 1006.6(e)", "who",
         medium_blocks),
    Rule("RF-5", "cease communication", "12 CFR 1006.6(c)", "who", cease_communication),
    Rule("RF-6", "only the attorney once one is known", "12 CFR 1006.6(b)(2); 1006.10(b)(6)",
         "who", attorney_only),
    Rule("RF-7", "third parties only for location information, once each",
         "12 CFR 1006.10(b)(3), 1006.10(b)(2)", "who", location_only_once),
), "United States: Regulation F (12 CFR part 1006)")

__all__ = ["US_REGF", "MEDIUM", "is_conversation", "opted_out_media"]
