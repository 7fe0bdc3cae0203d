"""Time in the synthetic world: day numbers and fast ISO 8601 rendering.

Internally a time is a float number of days since 1970-01-01 on the local
wall clock of the zone it belongs to. Rendering goes through lookup tables
(dates, times of day, UTC offsets per zone and day), which keeps writing tens
of millions of timestamps cheap.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

_EPOCH = dt.date(1970, 1, 1)
SPAN_DAYS = 4500  # how far back the tables reach before as_of


class Clock:
    """Date/time rendering for days in ``[as_of - SPAN_DAYS, as_of + 62]``."""

    def __init__(self, as_of: dt.date, zones: list[str]):
        self.as_of = as_of
        self.today = (as_of - _EPOCH).days  # day number of as_of (00:00 local)
        self.first = self.today - SPAN_DAYS
        n = SPAN_DAYS + 63
        days = [_EPOCH + dt.timedelta(days=self.first + i) for i in range(n)]
        self._dates = [d.isoformat() for d in days]
        self._tod = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]
        self._offsets: list[list[str]] = []
        for name in zones:
            tz = ZoneInfo(name)
            row = []
            for d in days:
                off = dt.datetime(d.year, d.month, d.day, 12, tzinfo=tz).utcoffset()
                mins = int(off.total_seconds() // 60) if off is not None else 0
                sign = "+" if mins >= 0 else "-"
                row.append(f"{sign}{abs(mins) // 60:02d}:{abs(mins) % 60:02d}")
            self._offsets.append(row)

    def _split(self, t: np.ndarray) -> tuple[list[int], list[int]]:
        t = np.asarray(t, dtype=np.float64)
        day = np.floor(t)
        sec = np.minimum(((t - day) * 86400).astype(np.int64), 86399)
        idx = np.clip(day.astype(np.int64) - self.first, 0, len(self._dates) - 1)
        return idx.tolist(), sec.tolist()

    def dates(self, t: np.ndarray) -> list[str]:
        """``YYYY-MM-DD`` for each time."""
        d = self._dates
        idx, _ = self._split(t)
        return [d[i] for i in idx]

    def naive(self, t: np.ndarray) -> list[str]:
        """``YYYY-MM-DDTHH:MM:SS`` (local wall clock, no offset)."""
        d, tod = self._dates, self._tod
        idx, sec = self._split(t)
        return [f"{d[i]}T{tod[s]}" for i, s in zip(idx, sec)]

    def aware(self, t: np.ndarray, zone: np.ndarray) -> list[str]:
        """``YYYY-MM-DDTHH:MM:SS+HH:MM`` with the offset of ``zone`` on that day."""
        d, tod, offs = self._dates, self._tod, self._offsets
        idx, sec = self._split(t)
        z = np.asarray(zone, dtype=np.int64).tolist()
        return [f"{d[i]}T{tod[s]}{offs[k][i]}" for i, s, k in zip(idx, sec, z)]


def daytime(rng: np.random.Generator, day: np.ndarray, start_h: float, end_h: float) -> np.ndarray:
    """Times on ``day`` (integer day numbers) uniformly between two local hours."""
    return np.floor(day) + (start_h + rng.random(len(day)) * (end_h - start_h)) / 24.0
