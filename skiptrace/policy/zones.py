"""Candidate time zones of a borrower and local-time intervals over them.

An unknown or ambiguous timezone takes the most restrictive reading: an
instant is legal only if it is legal in every candidate zone.

- a valid IANA ``timezone`` on the borrower: that zone alone;
- otherwise every zone tzdata's ``zone.tab`` lists for the borrower's
  ``region`` (ISO 3166 alpha-2; e.g. 29 zones for US, Asia/Shanghai and
  Asia/Urumqi for CN);
- no usable region either: every zone in ``zone.tab`` (the strictest reading:
  time-of-day rules then leave no legal instant for timed channels).
"""
from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError

from skiptrace.contacts import clock
from skiptrace.store.base import Props

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _read_zone_tab() -> str:
    try:  # the tzdata package (a dependency): the same data on every platform
        return resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    for base in TZPATH:
        p = Path(base) / "zone.tab"
        if p.exists():
            return p.read_text("utf-8")
    raise RuntimeError("no zone.tab found (install the tzdata package)")


@lru_cache(maxsize=1)
def region_zones() -> dict[str, tuple[str, ...]]:
    """ISO 3166 alpha-2 code -> the IANA zones tzdata lists for it (zone.tab), sorted."""
    out: dict[str, list[str]] = {}
    for line in _read_zone_tab().splitlines():
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) >= 3:
            out.setdefault(cols[0].upper(), []).append(cols[2])
    return {k: tuple(sorted(v)) for k, v in out.items()}


@lru_cache(maxsize=1)
def all_zones() -> tuple[str, ...]:
    """Every zone of zone.tab (the candidates when nothing is known)."""
    return tuple(sorted({z for zs in region_zones().values() for z in zs}))


@lru_cache(maxsize=4096)
def valid_zone(name: str | None) -> bool:
    """``name`` is an IANA zone zoneinfo can load."""
    if not name or not isinstance(name, str):
        return False
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


def candidate_zones(borrower: Props) -> tuple[str, ...]:
    """The zones a borrower may be in (see the module docstring).

    Example
    -------
    >>> candidate_zones({"timezone": "Asia/Shanghai"})
    ('Asia/Shanghai',)
    >>> candidate_zones({"timezone": "Mars/Olympus", "region": "CN"})
    ('Asia/Shanghai', 'Asia/Urumqi')
    """
    tz = borrower.get("timezone")
    if valid_zone(tz):
        return (tz,)
    region = (borrower.get("region") or "").strip().upper()
    zs = region_zones().get(region)
    return zs if zs else all_zones()


def to_day(t: dt.datetime) -> float:
    """Aware datetime -> day number."""
    return (t - _EPOCH).total_seconds() / 86400.0


def local_instant(zone: str, d: dt.date, hour: int, minute: int = 0) -> float:
    """The day number of local wall time ``d hour:minute`` in ``zone`` (a time skipped by a
    DST change reads with the offset before it, i.e. the instant the clock jumps past it)."""
    return to_day(dt.datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZoneInfo(zone)))


def local_date(zone: str, day: float) -> dt.date:
    """The local date in ``zone`` at day number ``day``."""
    return clock.to_datetime(day, zone).date()


def local_midnight_after(zone: str, day: float) -> float:
    """The first local midnight in ``zone`` strictly after ``day`` (the next local day's start)."""
    d = local_date(zone, day) + dt.timedelta(days=1)
    return local_instant(zone, d, 0)


@lru_cache(maxsize=8192)
def _quiet(zone: str, from_hour: int, to_hour: int, d0: int, d1: int) -> tuple[tuple[float, float], ...]:
    out = []
    for o in range(d0, d1 + 1):
        d = dt.date.fromordinal(o)
        out.append((local_instant(zone, d, from_hour), local_instant(zone, d + dt.timedelta(days=1), to_hour)))
    return tuple(out)


def quiet_intervals(zones: tuple[str, ...], from_hour: int, to_hour: int, start: float,
                    end: float) -> list[tuple[float, float, str]]:
    """The union over ``zones`` of the intervals ``[local from_hour, next local day to_hour)``
    that overlap ``[start, end)``, as ``(lo, hi, where)``: ``where`` is the zone when there is
    one candidate, else "one of N candidate zones". DST-aware (each boundary is a local wall
    time).

    Cost: O(len(zones) x days) the first time, cached per (zones, hours, UTC day range).
    """
    lo_day, hi_day = math.floor(start) - 1, math.ceil(end) + 1
    got = _quiet_union(tuple(zones), from_hour, to_hour, lo_day, hi_day)
    return [iv for iv in got if iv[1] > start and iv[0] < end]


@lru_cache(maxsize=4096)
def _quiet_union(zones: tuple[str, ...], from_hour: int, to_hour: int, lo_day: int,
                 hi_day: int) -> tuple[tuple[float, float, str], ...]:
    ivs = []
    for z in zones:
        d0 = local_date(z, lo_day).toordinal() - 1
        d1 = local_date(z, hi_day).toordinal()
        ivs += [iv for iv in _quiet(z, from_hour, to_hour, d0, d1) if iv[1] > lo_day and iv[0] < hi_day]
    where = zones[0] if len(zones) == 1 else f"one of {len(zones)} candidate zones"
    ivs.sort()
    out: list[list] = []
    for lo, hi in ivs:
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi, where])
    return tuple((lo, hi, w) for lo, hi, w in out)
