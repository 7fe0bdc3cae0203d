"""How one validated input row becomes graph records (the contract's graph model).

One small function per input kind, each adding nodes, relationships or
ledger rows to a :class:`~skiptrace.store.base.Batch`. Values arrive parsed
and normalised (phones in E.164, times in UTC).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skiptrace.ingest.normalise import fold_key
from skiptrace.privacy import mask_cell, mask_phone
from skiptrace.store.base import Batch, edge_columns

Row = dict[str, Any]

_BORROWER_PROPS = ("full_name", "status", "days_past_due", "balance", "currency", "opened_at",
                   "timezone", "region", "attorney_known", "cease_requested")


def _borrower(v: Row) -> str:
    return "Borrower:" + v["borrower_id"]


# The order in which each function below writes a relationship's values.
def _check_order() -> None:
    for type_, cols in _ORDER.items():
        if edge_columns(type_) != cols:  # pragma: no cover - a schema edit without a mapping edit
            raise RuntimeError(f"mapping for {type_} writes {cols}, schema has {edge_columns(type_)}")


_ORDER = {
    "HAS_PHONE": ("first_seen", "last_seen", "role", "verified"),
    "USES_DEVICE": ("first_seen", "last_seen"),
    "LIVES_AT": ("first_seen", "kind", "last_seen"),
    "WORKS_AT": ("first_seen", "last_seen"),
    "EMPLOYED_BY": ("since",),
    "LISTS_CONTACT": ("captured_at", "listed_at", "name", "relation", "source"),
    "CALLED": ("calls_a_to_b", "calls_b_to_a", "first_at", "last_at", "seconds_total"),
}
_check_order()

# Values every row of a kind shares, left out of its rows (see EdgeList.fixed):
# fewer values per row is less work for the loader and the store.
_EMPLOYER_PHONE = {"first_seen": None, "last_seen": None, "role": "work", "verified": None}
_EMERGENCY = {"captured_at": None, "source": "emergency"}
_PHONEBOOK = {"listed_at": None, "relation": None, "source": "phonebook"}
for _type, _fixed, _cols in (("HAS_PHONE", _EMPLOYER_PHONE, ()),
                             ("LISTS_CONTACT", _EMERGENCY, ("listed_at", "name", "relation")),
                             ("LISTS_CONTACT", _PHONEBOOK, ("captured_at", "name"))):
    if tuple(c for c in edge_columns(_type) if c not in _fixed) != _cols:  # pragma: no cover
        raise RuntimeError(f"mapping for {_type} with {_fixed} writes {_cols}")


def borrowers(v: Row, batch: Batch) -> None:
    batch.add_node("Borrower", v["borrower_id"], {k: v.get(k) for k in _BORROWER_PROPS})


def borrower_phones(v: Row, batch: Batch) -> None:
    batch.edge_list("HAS_PHONE").rows.append(
        (_borrower(v), "Phone:" + v["phone"], v.get("first_seen"), v.get("last_seen"),
         v.get("role"), v.get("verified")))


def borrower_devices(v: Row, batch: Batch) -> None:
    batch.edge_list("USES_DEVICE").rows.append(
        (_borrower(v), "Device:" + v["device_id"], v.get("first_seen"), v.get("last_seen")))


def borrower_addresses(v: Row, batch: Batch) -> None:
    addr = batch.add_node("Address", fold_key(v["address"]), {"address": v["address"]})
    kind = v.get("kind") or "home"
    if kind == "work":
        batch.edge_list("WORKS_AT").rows.append(
            (_borrower(v), addr, v.get("first_seen"), v.get("last_seen")))
    else:
        batch.edge_list("LIVES_AT").rows.append(
            (_borrower(v), addr, v.get("first_seen"), kind, v.get("last_seen")))


def borrower_employers(v: Row, batch: Batch) -> None:
    key = fold_key(v["employer"])
    if not key:
        raise ValueError(f"employer {mask_cell(v['employer'])} has no letters or digits")
    emp = batch.add_node("Employer", key, {"name": v["employer"]})
    batch.edge_list("EMPLOYED_BY").rows.append((_borrower(v), emp, v.get("since")))
    if v.get("employer_phone"):
        batch.edge_list("HAS_PHONE", _EMPLOYER_PHONE).rows.append((emp, "Phone:" + v["employer_phone"]))


def emergency_contacts(v: Row, batch: Batch) -> None:
    batch.edge_list("LISTS_CONTACT", _EMERGENCY).rows.append(
        (_borrower(v), "Phone:" + v["contact_phone"], v.get("listed_at"), v.get("contact_name"),
         v.get("relation")))


def phonebook(v: Row, batch: Batch) -> None:
    batch.edge_list("LISTS_CONTACT", _PHONEBOOK).rows.append(
        (_borrower(v), "Phone:" + v["contact_phone"], v.get("captured_at"), v.get("contact_name")))


def calls(v: Row, batch: Batch) -> None:
    """One CALLED relationship per unordered pair: the smaller E.164 is the source."""
    a, b = v["phone_a"], v["phone_b"]
    ab, ba = v.get("calls_a_to_b"), v.get("calls_b_to_a")
    if a == b:
        raise ValueError(f"phone_a and phone_b are the same number {mask_phone(a)}")
    if b < a:
        a, b, ab, ba = b, a, ba, ab
    batch.edge_list("CALLED").rows.append(
        ("Phone:" + a, "Phone:" + b, ab, ba, v.get("first_at"), v.get("last_at"),
         v.get("seconds_total")))


def phone_status(v: Row, batch: Batch) -> None:
    batch.add_node("Phone", v["phone"], {"status": v["status"], "status_at": v.get("status_at")})


def contact_attempts(v: Row, batch: Batch) -> None:
    batch.attempts.append(v)


def payments(v: Row, batch: Batch) -> None:
    batch.payments.append(v)


#: input kinds whose rows add no relationships (tests/test_load.py checks it)
NO_RELATIONSHIPS = frozenset({"borrowers", "phone_status", "contact_attempts", "payments"})

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
