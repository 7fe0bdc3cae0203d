"""How one validated input row becomes graph records (the contract's graph model).

One small function per input kind, each adding nodes, relationships or
ledger rows to a :class:`~skiptrace.store.base.Batch`. Values arrive parsed
and normalised (phones in E.164, times in UTC).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skiptrace.ingest.normalise import fold_key
from skiptrace.store.base import Batch, node_id

Row = dict[str, Any]

_BORROWER_PROPS = ("full_name", "status", "days_past_due", "balance", "currency", "opened_at",
                   "timezone", "region", "attorney_known", "cease_requested")


def _borrower(v: Row) -> str:
    return node_id("Borrower", v["borrower_id"])


def _phone(batch: Batch, e164: str) -> str:
    bucket = batch.nodes.setdefault("Phone", {})
    if e164 not in bucket:
        bucket[e164] = {}
    return node_id("Phone", e164)


def borrowers(v: Row, batch: Batch) -> None:
    batch.add_node("Borrower", v["borrower_id"], {k: v.get(k) for k in _BORROWER_PROPS})


def borrower_phones(v: Row, batch: Batch) -> None:
    batch.add_edge("HAS_PHONE", _borrower(v), _phone(batch, v["phone"]),
                   {"role": v.get("role"), "first_seen": v.get("first_seen"),
                    "last_seen": v.get("last_seen"), "verified": v.get("verified")})


def borrower_devices(v: Row, batch: Batch) -> None:
    dev = batch.add_node("Device", v["device_id"])
    batch.add_edge("USES_DEVICE", _borrower(v), dev,
                   {"first_seen": v.get("first_seen"), "last_seen": v.get("last_seen")})


def borrower_addresses(v: Row, batch: Batch) -> None:
    addr = batch.add_node("Address", fold_key(v["address"]), {"address": v["address"]})
    kind = v.get("kind") or "home"
    props = {"first_seen": v.get("first_seen"), "last_seen": v.get("last_seen")}
    if kind == "work":
        batch.add_edge("WORKS_AT", _borrower(v), addr, props)
    else:
        batch.add_edge("LIVES_AT", _borrower(v), addr, {"kind": kind, **props})


def borrower_employers(v: Row, batch: Batch) -> None:
    key = fold_key(v["employer"])
    if not key:
        raise ValueError(f"employer {v['employer']!r} has no letters or digits")
    emp = batch.add_node("Employer", key, {"name": v["employer"]})
    batch.add_edge("EMPLOYED_BY", _borrower(v), emp, {"since": v.get("since")})
    if v.get("employer_phone"):
        batch.add_edge("HAS_PHONE", emp, _phone(batch, v["employer_phone"]), {"role": "work"})


def emergency_contacts(v: Row, batch: Batch) -> None:
    batch.add_edge("LISTS_CONTACT", _borrower(v), _phone(batch, v["contact_phone"]),
                   {"source": "emergency", "relation": v.get("relation"),
                    "name": v.get("contact_name"), "listed_at": v.get("listed_at")})


def phonebook(v: Row, batch: Batch) -> None:
    batch.add_edge("LISTS_CONTACT", _borrower(v), _phone(batch, v["contact_phone"]),
                   {"source": "phonebook", "name": v.get("contact_name"),
                    "captured_at": v.get("captured_at")})


def calls(v: Row, batch: Batch) -> None:
    """One CALLED relationship per unordered pair: the smaller E.164 is the source."""
    a, b = v["phone_a"], v["phone_b"]
    ab, ba = v.get("calls_a_to_b"), v.get("calls_b_to_a")
    if a == b:
        raise ValueError(f"phone_a and phone_b are the same number {a}")
    if b < a:
        a, b, ab, ba = b, a, ba, ab
    batch.add_edge("CALLED", _phone(batch, a), _phone(batch, b),
                   {"calls_a_to_b": ab, "calls_b_to_a": ba,
                    "seconds_total": v.get("seconds_total"),
                    "first_at": v.get("first_at"), "last_at": v.get("last_at")})


def phone_status(v: Row, batch: Batch) -> None:
    batch.add_node("Phone", v["phone"], {"status": v["status"], "status_at": v.get("status_at")})


def contact_attempts(v: Row, batch: Batch) -> None:
    batch.attempts.append(v)


def payments(v: Row, batch: Batch) -> None:
    batch.payments.append(v)


MAPPERS: dict[str, Callable[[Row, Batch], None]] = {
    "borrowers": borrowers,
    "borrower_phones": borrower_phones,
    "borrower_devices": borrower_devices,
    "borrower_addresses": borrower_addresses,
    "borrower_employers": borrower_employers,
    "emergency_contacts": emergency_contacts,
    "phonebook": phonebook,
    "calls": calls,
    "phone_status": phone_status,
    "contact_attempts": contact_attempts,
    "payments": payments,
}
