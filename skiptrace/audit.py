"""The audit trail: who looked up whom, when, why, and whether personal data was revealed.

Every lookup of borrower-level data (``find``, ``export``, ``rings
detect/list/show/export``) calls :func:`record` before it shows anything; the
record is appended to the store's own ``audit`` table (SQLite; append-only,
enforced by triggers) or ``AuditEvent`` nodes (Neo4j), through the store's
batch write. If the record cannot be written the lookup fails: nothing is
shown that the trail does not hold. :func:`events` reads the trail back
(``skiptrace audit``; the web console reads the same rows).
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from skiptrace.errors import SkiptraceError
from skiptrace.store.base import AUDIT_TABLE, Batch, GraphStore

#: the environment variable naming the actor when ``--actor`` is not given
ACTOR_ENV = "SKIPTRACE_ACTOR"
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class AuditError(SkiptraceError):
    """The audit record could not be written; the lookup was not done."""


@dataclass(frozen=True)
class AuditEvent:
    """One audited lookup.

    ``at`` is the UTC time (ISO, microseconds, ``Z``); ``command`` the
    command (``find``, ``rings show``, ...); ``subjects`` the borrower or
    ring ids looked up (``*`` for the whole store); ``revealed`` whether
    personal data was shown unmasked; ``purpose`` the reason given.
    """

    audit_id: str
    at: str
    actor: str
    command: str
    subjects: list[str]
    revealed: bool
    purpose: str | None = None

    def row(self) -> dict:
        """The stored row (subjects as JSON text)."""
        d = asdict(self)
        d["subjects"] = json.dumps(self.subjects, ensure_ascii=False)
        return d

    @classmethod
    def from_row(cls, row: dict) -> "AuditEvent":
        subjects = row.get("subjects")
        return cls(audit_id=row["audit_id"], at=row["at"], actor=row.get("actor") or "",
                   command=row.get("command") or "",
                   subjects=json.loads(subjects) if subjects else [],
                   revealed=bool(row.get("revealed")), purpose=row.get("purpose"))

    def to_dict(self) -> dict:
        return asdict(self)


def default_actor() -> str:
    """``$SKIPTRACE_ACTOR``, else the operating-system user."""
    env = os.environ.get(ACTOR_ENV, "").strip()
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(store: GraphStore, command: str, subjects: Iterable[str], *, revealed: bool = False,
           purpose: str | None = None, actor: str | None = None) -> AuditEvent:
    """Append one audit record to ``store`` and return it.

    Parameters
    ----------
    store : the store the lookup reads (the record is kept in it).
    command : what was run (``"find"``, ``"rings show"``).
    subjects : the borrower or ring ids looked up (``"*"``: the whole store).
    revealed : whether personal data is shown unmasked; then ``purpose`` is required.
    purpose : why (free text, recorded as given).
    actor : who (default :func:`default_actor`).

    Raises :class:`AuditError` if ``revealed`` has no purpose or the record
    cannot be written (the caller must then show nothing).

    Example
    -------
    >>> record(store, "find", ["B1"], revealed=True, purpose="case 42")   # doctest: +SKIP
    """
    purpose = (purpose or "").strip() or None
    if revealed and not purpose:
        raise AuditError("revealing personal data needs a purpose (--purpose TEXT); "
                         "it is recorded in the audit trail")
    event = AuditEvent(audit_id=uuid.uuid4().hex, at=_now(), actor=(actor or "").strip() or default_actor(),
                       command=command, subjects=list(dict.fromkeys(subjects)), revealed=bool(revealed),
                       purpose=purpose)
    try:
        store.write(Batch(audit=[event.row()]))
    except Exception as exc:  # noqa: BLE001 - any failure means no output
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise AuditError(f"cannot write the audit record ({reason}); nothing was shown") from exc
    return event


def parse_since(text: str, now: dt.datetime | None = None) -> str:
    """``--since``: an ISO date or time (UTC when naive) or a span back from
    now (``30m``, ``24h``, ``7d``, ``2w``) -> a UTC ISO string comparable with ``at``."""
    text = text.strip()
    m = _RELATIVE.match(text)
    if m:
        now = now or dt.datetime.now(dt.timezone.utc)
        t = now - dt.timedelta(seconds=float(m.group(1)) * _UNIT[m.group(2)])
    else:
        try:
            t = dt.datetime.fromisoformat(text)
        except ValueError:
            raise SkiptraceError(f"--since {text!r}: not an ISO date/time nor a span such as 24h or 7d") \
                from None
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def events(store: GraphStore, *, since: str | None = None, actor: str | None = None,
           subject: str | None = None) -> list[AuditEvent]:
    """The audit trail of ``store``, oldest first, filtered by time (``since``:
    see :func:`parse_since`), actor and subject (a borrower or ring id).

    Cost: one pass over the trail.
    """
    cut = parse_since(since) if since else None
    out = []
    for row in store.stream_ledger(AUDIT_TABLE):
        e = AuditEvent.from_row(row)
        if cut and e.at < cut:
            continue
        if actor and e.actor != actor:
            continue
        if subject and subject not in e.subjects:
            continue
        out.append(e)
    out.sort(key=lambda e: (e.at, e.audit_id))
    return out


__all__ = ["ACTOR_ENV", "AuditError", "AuditEvent", "default_actor", "events", "parse_since", "record"]
