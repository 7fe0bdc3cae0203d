"""Times for contact discovery: store strings (UTC ISO) to day numbers and back.

A day number is a float count of days since 1970-01-01 UTC, so differences
are in days and comparisons are cheap.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@lru_cache(maxsize=262_144)
def to_days(value: str) -> float:
    """``"2026-01-31T00:00:00Z"`` (or a date, or any ISO 8601 with offset) -> day number."""
    t = dt.datetime.fromisoformat(value)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return (t - _EPOCH).total_seconds() / 86400.0


def parse_as_of(value: str | dt.date | dt.datetime | None, tz: str | None = None) -> float | None:
    """A caller's ``as_of`` (ISO string, date or datetime; naive = borrower's zone) -> day number."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):  # a date: the end of that day is too late; use its start
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(tz))
    return (value - _EPOCH).total_seconds() / 86400.0


@lru_cache(maxsize=None)
def zone(tz: str | None) -> dt.tzinfo:
    """The IANA zone ``tz`` (UTC when missing or unknown)."""
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return dt.timezone.utc


def to_datetime(days: float, tz: str | None = None) -> dt.datetime:
    """Day number -> aware datetime in ``tz`` (UTC when unknown), to the second."""
    t = _EPOCH + dt.timedelta(seconds=round(days * 86400.0))
    return t.astimezone(zone(tz))


def iso(days: float, tz: str | None = None) -> str:
    """Day number -> ``YYYY-MM-DDTHH:MM:SS+HH:MM`` in ``tz`` (``Z`` for UTC)."""
    s = to_datetime(days, tz).isoformat()
    return s[:-6] + "Z" if s.endswith("+00:00") else s


def date(days: float, tz: str | None = None) -> str:
    """Day number -> ``YYYY-MM-DD`` in ``tz``."""
    return to_datetime(days, tz).date().isoformat()
