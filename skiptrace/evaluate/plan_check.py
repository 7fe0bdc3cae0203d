"""An independent compliance checker for plans: replay each proposed action against the ledger.

It does not import :mod:`skiptrace.policy`: the rules are written again here,
from the rule text of issue 8 and INTERFACES.md section 1, over the raw
ledger read back from the store (contact attempts as loaded, the borrower
record, its registered phones and their status, its listed emergency
contacts). A plan is the contract JSON of ``skiptrace plan`` (one object per
borrower, phones unmasked) with ``script`` on each action. Every action of a
plan is checked on its own (they are alternatives), at its window
``[not_before, not_after)``, against the ledger as loaded (everything in it
is before the plan).

Readings of the rule text (each the stricter one where the text allows two):

- *time of day* binds the channels that reach the person when sent (sms,
  push, email, calls); a letter arrives when the post delivers it.
- *local time*: the borrower's IANA ``timezone``; an unknown or invalid one
  means every zone of its ``region`` (the tz database's zone.tab), and no
  region every zone: a window is legal only if it is legal in all of them.
- *a call*: ``ai_call`` or ``human_call``. *A call to the debtor*: a call
  with ``target_role`` borrower. *A telephone conversation*: a connected call
  to the debtor whose outcome is neither ``wrong_number`` nor ``no_answer``.
- *third party*: ``target_role`` third_party. Only phone channels reach one
  (push, email and letters to a third party always disclose the debt). A
  third-party sms without a script counts as a lost-contact check (with a
  collection script it is collection); a third-party call must carry the
  ``lost_contact_check`` script.

CN-NIFA-2024:

- CN-1 collect from the debtor only: a third-party action with a collection
  script (reminder, negotiation) or by a non-phone channel.
- CN-2 third party only when the debtor is unreachable: reachable means the
  borrower has a registered phone that is neither disconnected nor reassigned
  (phone_status) and whose borrower-targeted phone attempts of the last 30
  days are not (3 or more, none connected) and whose latest one did not end
  ``wrong_number``.
- CN-3 third party only a listed emergency contact (LISTS_CONTACT source emergency).
- CN-4 never disclose the debt to a third party: a third-party call whose
  script is not ``lost_contact_check`` or a non-phone channel.
- CN-5 never again a contact who refused: a third-party action to a phone
  whose third-party attempt ended ``refused`` or ``opted_out`` (the debtor on
  a registered number they also listed as a contact is not "a contact").
- CN-6 at most 3 connected interactive calls per debtor per local day: a call
  to the debtor on a local day (any candidate zone) that already holds 3
  connected calls to the debtor.
- CN-7 no contact 22:00-08:00 local.

US-RegF:

- RF-1 contact only 08:00-21:00 local.
- RF-2 at most 7 calls in 7 days: a call to the debtor when 7 calls to the
  debtor were placed in the 7 days before ``not_before``.
- RF-3 none within 7 days after a telephone conversation: a call to the
  debtor on a local date within the 7-day period that starts on the date of
  one (1006.14(b)(2)(ii): that date is day 1).
- RF-4 opt-outs per medium: an attempt that ended ``opted_out`` closes its
  medium (sms, email, push, telephone calls, mail) to the same address (its
  phone; for push/email/letters the borrower).
- RF-5 cease communication: any action once ``cease_requested``, except a
  legal letter to the borrower (the notice of a remedy 1006.6(c)(2) allows).
- RF-6 only the attorney once one is known: any action once ``attorney_known``.
- RF-7 third parties only for location information, once each: a
  third-party action that is not a lost-contact check, or to a phone that
  already had a connected third-party attempt.

Complexity: O(plans x actions x ledger length) after one store read per
borrower.

Example::

    >>> report = check_plans(store, plans, pack="CN-NIFA-2024")   # doctest: +SKIP
    >>> report.total, report.by_rule                              # doctest: +SKIP
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones
import zoneinfo

from skiptrace.contacts.clock import to_days
from skiptrace.errors import SkiptraceError
from skiptrace.privacy import mask_phone
from skiptrace.store.base import GraphStore, node_id

log = logging.getLogger(__name__)

CALLS = frozenset({"ai_call", "human_call"})
PHONE = frozenset({"sms", "ai_call", "human_call"})
COLLECTION = frozenset({"reminder", "negotiation"})
#: channels that reach the person when sent (a letter arrives when the post delivers it)
TIMED = frozenset({"sms", "push", "email", "ai_call", "human_call"})
MEDIUM = {"sms": "sms", "email": "email", "push": "push", "ai_call": "telephone",
          "human_call": "telephone", "letter": "mail", "legal_letter": "mail"}
CN_RULES = ("CN-1", "CN-2", "CN-3", "CN-4", "CN-5", "CN-6", "CN-7")
US_RULES = ("RF-1", "RF-2", "RF-3", "RF-4", "RF-5", "RF-6", "RF-7")
PACK_RULES = {"CN-NIFA-2024": CN_RULES, "US-RegF": US_RULES}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

__all__ = ["CheckBorrower", "CheckReport", "Violation", "check_plans", "read_borrowers",
           "read_plans", "region_zones", "PACK_RULES"]


@dataclass
class CheckBorrower:
    """What the checker knows of one borrower, read raw from the store."""

    borrower_id: str
    timezone: str | None
    region: str | None
    cease: bool
    attorney: bool
    listed: frozenset[str]
    registered: dict[str, str | None]  # phone -> status (None: no status known)
    attempts: list[dict]               # each with "t" (day number) added, oldest first


@dataclass(frozen=True)
class Violation:
    """One broken rule by one proposed action (phones masked in :meth:`as_dict`)."""

    borrower_id: str
    rule: str
    why: str
    channel: str
    target_phone: str | None

    def as_dict(self, reveal: bool = False) -> dict:
        phone = self.target_phone if reveal or not self.target_phone else mask_phone(self.target_phone)
        return {"borrower_id": self.borrower_id, "rule": self.rule, "why": self.why,
                "channel": self.channel, "target_phone": phone}


@dataclass
class CheckReport:
    """Violation counts per rule of one pack over a set of plans."""

    pack: str
    plans: int = 0
    actions: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_rule.values())

    def as_dict(self, reveal: bool = False, examples: int = 5) -> dict:
        return {"pack": self.pack, "plans": self.plans, "actions": self.actions,
                "violations": self.total, "by_rule": dict(self.by_rule),
                "examples": [v.as_dict(reveal) for v in self.violations[:examples]]}


# -- time zones ------------------------------------------------------------------
def _parse_zone_tab(text: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if not line.startswith("#") and len(parts) >= 3:
            out.setdefault(parts[0].upper(), []).append(parts[2])
    return {k: tuple(sorted(v)) for k, v in out.items()}


@lru_cache(maxsize=1)
def _zone_tab() -> dict[str, tuple[str, ...]]:
    """ISO 3166 region -> its IANA zones (tz database zone.tab: the tzdata wheel, else the system's)."""
    try:
        from importlib.resources import files
        return _parse_zone_tab(files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8"))
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    for base in zoneinfo.TZPATH:
        path = Path(base) / "zone.tab"
        if path.exists():
            return _parse_zone_tab(path.read_text(encoding="utf-8"))
    return {}  # pragma: no cover - no tz database at all


@lru_cache(maxsize=4096)
def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


@lru_cache(maxsize=1024)
def region_zones(timezone: str | None, region: str | None) -> tuple[str, ...]:
    """The zones a borrower's local time may be in: its own, else its region's, else all."""
    if timezone and _valid_zone(timezone):
        return (timezone,)
    tab = _zone_tab()
    if region and region.upper() in tab:
        return tab[region.upper()]
    zones = sorted({z for v in tab.values() for z in v}) or sorted(available_timezones())
    return tuple(zones)


def _local(t: float, zone: str) -> dt.datetime:
    return (_EPOCH + dt.timedelta(seconds=round(t * 86400.0))).astimezone(ZoneInfo(zone))


def _outside_hours(t0: float, t1: float | None, zones: tuple[str, ...], open_h: int, close_h: int
                   ) -> str | None:
    """Why ``[t0, t1)`` leaves ``open_h:00-close_h:00`` local in some zone (None: it does not)."""
    for z in zones:
        a = _local(t0, z)
        ha = a.hour + a.minute / 60 + a.second / 3600
        if not open_h <= ha < close_h:
            return f"{a.strftime('%H:%M')} local ({z}) is outside {open_h:02d}:00-{close_h:02d}:00"
        if t1 is not None and t1 > t0:  # the window is [t0, t1): t1 itself may be the close
            b = _local(t1, z)
            hb = b.hour + b.minute / 60 + b.second / 3600
            if b.date() != a.date() or not open_h < hb <= close_h:
                return (f"window runs to {_local(t1, z).strftime('%H:%M')} local ({z}), "
                        f"past {close_h:02d}:00")
    return None


# -- reading -----------------------------------------------------------------------
def _bool(v) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes")
    return bool(v)


def read_borrowers(store: GraphStore, borrower_ids: Iterable[str]) -> dict[str, CheckBorrower]:
    """Read each borrower's record, phones, listed contacts and ledger from ``store``.

    Borrowers the store lacks are left out. Complexity: one node read, one
    edge read and one ledger read per borrower.
    """
    ids = list(dict.fromkeys(borrower_ids))
    nodes = store.get_nodes([node_id("Borrower", b) for b in ids])
    listed: dict[str, set[str]] = {}
    phones: dict[str, set[str]] = {}
    nids = [node_id("Borrower", b) for b in ids if node_id("Borrower", b) in nodes]
    edges = store.incident_edges(nids, types=["HAS_PHONE", "LISTS_CONTACT"]) if nids else []
    for e in edges:
        b = e.src.partition(":")[2]
        p = e.dst.partition(":")[2]
        if e.type == "HAS_PHONE":
            phones.setdefault(b, set()).add(p)
        elif (e.props or {}).get("source") == "emergency":
            listed.setdefault(b, set()).add(p)
    all_phones = {p for s in phones.values() for p in s}
    pnodes = store.get_nodes([node_id("Phone", p) for p in all_phones]) if all_phones else {}
    out: dict[str, CheckBorrower] = {}
    for b in ids:
        props = nodes.get(node_id("Borrower", b))
        if props is None:
            continue
        attempts = []
        for a in store.ledger(b).attempts:
            a = dict(a)
            try:
                a["t"] = to_days(str(a["at"]))
            except (KeyError, ValueError):
                continue
            attempts.append(a)
        attempts.sort(key=lambda a: a["t"])
        reg = {p: (pnodes.get(node_id("Phone", p)) or {}).get("status") for p in phones.get(b, ())}
        out[b] = CheckBorrower(b, props.get("timezone") or None, props.get("region") or None,
                               _bool(props.get("cease_requested")), _bool(props.get("attorney_known")),
                               frozenset(listed.get(b, ())), reg, attempts)
    return out


def read_plans(path: str | Path) -> Iterator[dict]:
    """Plan objects from a JSON-lines file (one contract object per line); a bad line raises
    SkiptraceError naming file and line."""
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SkiptraceError(f"{path}:{line_no}: not JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or "borrower_id" not in obj:
                raise SkiptraceError(f"{path}:{line_no}:borrower_id: missing")
            yield obj


# -- rules -------------------------------------------------------------------------
def _unreachable(b: CheckBorrower, t0: float) -> bool:
    usable = []
    for phone, status in b.registered.items():
        if status in ("disconnected", "reassigned"):
            continue
        recent = [a for a in b.attempts if a.get("target_phone") == phone
                  and a.get("target_role", "borrower") == "borrower" and a.get("channel") in PHONE
                  and t0 - 30 <= a["t"] <= t0]
        if recent and recent[-1].get("outcome") == "wrong_number":
            continue
        if len(recent) >= 3 and not any(_bool(a.get("connected")) for a in recent):
            continue
        usable.append(phone)
    return not usable


def _is_tp(a: dict) -> bool:
    return a.get("target_role") == "third_party"


def _conversation(a: dict) -> bool:
    return (a.get("channel") in CALLS and not _is_tp(a) and _bool(a.get("connected"))
            and a.get("outcome") not in ("wrong_number", "no_answer"))


def _check_cn(b: CheckBorrower, act: dict, t0: float, t1: float | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    ch, phone, script = act.get("channel"), act.get("target_phone"), act.get("script")
    tp = act.get("target_role") == "third_party"
    if tp:
        if ch not in PHONE:
            out.append(("CN-1", f"{ch} to a third party is collection from a third party"))
            out.append(("CN-4", f"{ch} to a third party discloses the debt"))
        elif script in ("reminder", "negotiation"):
            out.append(("CN-1", f"{script} script to a third party"))
        if (ch in CALLS and script != "lost_contact_check") or (ch == "sms" and script in COLLECTION):
            out.append(("CN-4", f"third-party {ch} with script {script!r}, not lost_contact_check"))
        if not _unreachable(b, t0):
            out.append(("CN-2", "the debtor is reachable on a registered phone"))
        if not phone or phone not in b.listed:
            out.append(("CN-3", "not an emergency contact the borrower listed"))
    if tp and phone and any(a.get("target_phone") == phone and _is_tp(a)
                            and a.get("outcome") in ("refused", "opted_out") for a in b.attempts):
        out.append(("CN-5", "this contact refused before"))
    zones = region_zones(b.timezone, b.region)
    if ch in CALLS and not tp:
        for z in zones:
            day = _local(t0, z).date()
            n = sum(1 for a in b.attempts if a.get("channel") in CALLS and not _is_tp(a)
                    and _bool(a.get("connected")) and _local(a["t"], z).date() == day)
            if n >= 3:
                out.append(("CN-6", f"{n} connected calls on {day} local ({z})"))
                break
    why = _outside_hours(t0, t1, zones, 8, 22) if ch in TIMED else None
    if why:
        out.append(("CN-7", why))
    return out


def _check_us(b: CheckBorrower, act: dict, t0: float, t1: float | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    ch, phone, script = act.get("channel"), act.get("target_phone"), act.get("script")
    tp = act.get("target_role") == "third_party"
    zones = region_zones(b.timezone, b.region)
    why = _outside_hours(t0, t1, zones, 8, 21) if ch in TIMED else None
    if why:
        out.append(("RF-1", why))
    if ch in CALLS and not tp:
        week = [a for a in b.attempts if a.get("channel") in CALLS and not _is_tp(a) and t0 - 7 < a["t"] <= t0]
        if len(week) >= 7:
            out.append(("RF-2", f"{len(week)} calls in the 7 days before"))
        for z in zones:
            day = _local(t0, z).date()
            talk = [a for a in week if _conversation(a) and (day - _local(a["t"], z).date()).days < 7]
            if talk:
                out.append(("RF-3", f"a telephone conversation on {_local(talk[-1]['t'], z).date()} "
                                    f"local ({z}), within the 7-day period"))
                break
    medium = MEDIUM.get(ch or "", ch)
    for a in b.attempts:
        if a.get("outcome") != "opted_out" or MEDIUM.get(a.get("channel", ""), "") != medium:
            continue
        same = (a.get("target_phone") == phone) if ch in PHONE else not _is_tp(a) and not tp
        if same:
            out.append(("RF-4", f"opted out of {medium} here"))
            break
    if b.cease and not (ch == "legal_letter" and not tp):
        out.append(("RF-5", "the borrower asked to cease communication"))
    if b.attorney:
        out.append(("RF-6", "the borrower is represented by an attorney"))
    if tp:
        if ch not in PHONE or (ch in CALLS and script != "lost_contact_check") or script in COLLECTION:
            out.append(("RF-7", "third-party contact not for location information"))
        elif phone and any(a.get("target_phone") == phone and _is_tp(a) and _bool(a.get("connected"))
                           for a in b.attempts):
            out.append(("RF-7", "this third party was already contacted once"))
    return out


_CHECKS = {"CN-NIFA-2024": _check_cn, "US-RegF": _check_us}


def _pack_of(plan: dict, pack: str | None, b: CheckBorrower) -> list[str]:
    name = pack or plan.get("policy") or "auto"
    if name in _CHECKS:
        return [name]
    if "+" in name:  # a combination of packs (the stricter reading of several): check each
        return [n for n in name.split("+") if n in _CHECKS]
    if name == "auto":
        region = (b.region or "").upper()
        return ["CN-NIFA-2024"] if region == "CN" else ["US-RegF"] if region == "US" else list(_CHECKS)
    return []


def check_action(b: CheckBorrower, action: dict, pack: str) -> list[tuple[str, str]]:
    """``(rule, why)`` for every rule of ``pack`` that ``action`` (a plan action dict) breaks."""
    if pack not in _CHECKS:
        raise SkiptraceError(f"unknown pack {pack!r}: one of {', '.join(_CHECKS)}")
    nb = action.get("not_before")
    if nb is None:
        raise SkiptraceError(f"borrower {b.borrower_id}: an action without not_before")
    t0 = to_days(nb) if isinstance(nb, str) else float(nb)
    na = action.get("not_after")
    t1 = (to_days(na) if isinstance(na, str) else float(na)) if na is not None else None
    return _CHECKS[pack](b, action, t0, t1)


def check_plans(store: GraphStore, plans: Iterable[dict], *, pack: str | None = None,
                first_only: bool = False,
                borrowers: dict[str, CheckBorrower] | None = None) -> dict[str, CheckReport]:
    """Count the violations of every proposed action, per pack and rule.

    Parameters: ``plans``: contract objects (phones unmasked); ``pack``: check
    every plan against this pack (default: the plan's own ``policy``; ``auto``
    or baseline: CN for region CN, US for US, both otherwise); ``first_only``:
    check only ``actions[0]`` (the action an evaluator takes); ``borrowers``:
    already read borrower data (else read from ``store``). Returns
    ``{pack: CheckReport}``. Complexity: O(actions x ledger length).
    """
    plans = list(plans)
    if borrowers is None:
        borrowers = read_borrowers(store, [p["borrower_id"] for p in plans])
    reports: dict[str, CheckReport] = {}
    for name in ([pack] if pack in _CHECKS else list(_CHECKS)):
        reports[name] = CheckReport(name, by_rule={r: 0 for r in PACK_RULES[name]})
    for plan in plans:
        b = borrowers.get(plan["borrower_id"])
        if b is None:
            raise SkiptraceError(f"plan for unknown borrower {plan['borrower_id']!r}")
        actions = plan.get("actions") or []
        if first_only:
            actions = actions[:1]
        for name in _pack_of(plan, pack, b):
            rep = reports[name]
            rep.plans += 1
            for act in actions:
                rep.actions += 1
                seen = set()
                for rule, why in check_action(b, act, name):
                    if rule in seen:
                        continue
                    seen.add(rule)
                    rep.by_rule[rule] += 1
                    rep.violations.append(Violation(b.borrower_id, rule, why, act.get("channel", ""),
                                                    act.get("target_phone")))
    return {k: v for k, v in reports.items() if v.plans or k == pack}
