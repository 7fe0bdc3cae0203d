"""The response oracle of a generated world: the true value of any collection action.

:class:`PlanTruth` reads ``truth/response.csv``, ``truth/hour_effect.csv``
(optional) and ``truth/costs.csv`` of a world and answers, for a delinquent
borrower, the true probability of repayment within 30 days and the net value
of an action ``(channel, target_role, target_phone, script)`` taken at a
local hour.

Two truth formats are read:

- **v2** (INTERFACES.md section 2; ``script`` and ``reach`` columns): one row
  per borrower x action x target phone (calls: one per script). At local hour
  ``h``, ``reach_h = min(1, reach * multiplier[channel][h])`` and
  ``p = 1 - (1 - p_pay_30d_baseline) * (1 - reach_h * p_pay_if_reached)``;
  an action without a row has reach 0 (``p`` = baseline).
- **v1** (the older generator: no script, reach or hour): one row per
  borrower x ``(channel, target_role)``; its ``p_pay_30d`` is the value of that
  channel and role whatever the phone, script and hour, and
  ``amount_if_paid = expected_amount / p_pay_30d``.

Net value of an action = ``p * amount_if_paid - cost[channel]``; no action:
``p_pay_30d_baseline * amount_if_paid`` at no cost.

Complexity: reading is O(rows); a value is O(1); :meth:`PlanTruth.best` is
O(candidates x hours) per borrower.

Example::

    >>> t = PlanTruth.read("fixtures/demo")                     # doctest: +SKIP
    >>> t.value("B000000", "sms", "borrower", "+86185...", None, 10)   # doctest: +SKIP
"""
from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from skiptrace.errors import SkiptraceError

CALL_CHANNELS = frozenset({"ai_call", "human_call"})
PHONE_CHANNELS = frozenset({"sms", "ai_call", "human_call"})
SCRIPTS = ("reminder", "lost_contact_check", "negotiation")

__all__ = ["PlanTruth", "TruthAction", "BorrowerTruth", "CALL_CHANNELS", "PHONE_CHANNELS", "SCRIPTS"]


@dataclass(frozen=True)
class TruthAction:
    """One action the truth can value: channel, role, phone (None if none), script (None if none)."""

    channel: str
    target_role: str
    target_phone: str | None = None
    script: str | None = None


@dataclass
class BorrowerTruth:
    """One delinquent borrower's truth rows.

    ``rows`` maps ``(channel, role, phone, script)`` (v2) or ``(channel, role)`` (v1)
    to ``(reach, p_if_reached, amount_if_paid)`` (v2) or ``(p, amount_if_paid, phone)`` (v1).
    """

    borrower_id: str
    baseline: float
    amount_if_paid: float
    segment: str = ""
    rows: dict = field(default_factory=dict)


def _f(v: str | None, default: float = 0.0) -> float:
    return float(v) if v not in (None, "") else default


def _key(channel: str, role: str, phone: str | None, script: str | None) -> tuple:
    """A v2 row key; only calls carry a script (a third-party sms is a lost-contact check anyway)."""
    return (channel, role, phone or None, (script or None) if channel in CALL_CHANNELS else None)


class PlanTruth:
    """The true response of every delinquent borrower of a world (see the module docstring)."""

    def __init__(self, version: str, borrowers: dict[str, BorrowerTruth], costs: dict[str, float],
                 hour_effect: dict[str, list[float]]):
        self.version = version
        self.borrowers = borrowers
        self.costs = costs
        self.hour_effect = hour_effect

    # -- reading -------------------------------------------------------------
    @classmethod
    def read(cls, world: str | Path) -> "PlanTruth":
        """Read a world's ``truth/`` (v1 or v2 format). A missing file raises SkiptraceError."""
        base = Path(world) / "truth"
        path = base / "response.csv"
        if not path.exists():
            raise SkiptraceError(f"{path}: no such file (not a generated world with response truth)")
        costs: dict[str, float] = {}
        cpath = base / "costs.csv"
        if not cpath.exists():
            raise SkiptraceError(f"{cpath}: no such file")
        with open(cpath, encoding="utf-8", newline="") as f:
            for line, r in enumerate(csv.DictReader(f), start=2):
                try:
                    costs[r["channel"]] = float(r["cost"])
                except (KeyError, TypeError, ValueError):
                    raise SkiptraceError(f"{cpath}:{line}:cost: not a number") from None
        hour: dict[str, list[float]] = {}
        hpath = base / "hour_effect.csv"
        if hpath.exists():
            with open(hpath, encoding="utf-8", newline="") as f:
                for r in csv.DictReader(f):
                    hour.setdefault(r["channel"], [1.0] * 24)[int(r["local_hour"]) % 24] = float(r["multiplier"])
        borrowers: dict[str, BorrowerTruth] = {}
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            cols = set(reader.fieldnames or ())
            v2 = {"script", "reach", "p_pay_if_reached", "amount_if_paid"} <= cols
            for line, r in enumerate(reader, start=2):
                try:
                    bid = r["borrower_id"]
                    base_p = float(r["p_pay_30d_baseline"])
                    phone = r.get("target_phone") or None
                    if v2:
                        amount = _f(r["amount_if_paid"])
                    else:
                        p = float(r["p_pay_30d"])
                        amount = float(r["expected_amount"]) / p if p > 0 else 0.0
                except (KeyError, TypeError, ValueError) as exc:
                    raise SkiptraceError(f"{path}:{line}: bad row ({exc})") from None
                bt = borrowers.get(bid)
                if bt is None:
                    bt = borrowers[bid] = BorrowerTruth(bid, base_p, amount, r.get("segment", ""))
                if v2:
                    key = _key(r["channel"], r["target_role"], phone, r.get("script"))
                    bt.rows[key] = (_f(r["reach"]), _f(r["p_pay_if_reached"]), amount)
                else:
                    bt.rows[(r["channel"], r["target_role"])] = (p, amount, phone)
        return cls("v2" if v2 else "v1", borrowers, costs, hour)

    # -- values --------------------------------------------------------------
    def multiplier(self, channel: str, hour: int | None) -> float:
        """The hour effect on reach of ``channel`` at local ``hour`` (1 when absent or no hour)."""
        if hour is None:
            return 1.0
        row = self.hour_effect.get(channel)
        return row[int(hour) % 24] if row else 1.0

    def p(self, borrower_id: str, channel: str | None, target_role: str = "borrower",
          target_phone: str | None = None, script: str | None = None, hour: int | None = None) -> float:
        """True P(pay within 30 days) after the action (``channel`` None: no action)."""
        bt = self.borrowers[borrower_id]
        if channel is None:
            return bt.baseline
        if self.version == "v1":
            row = bt.rows.get((channel, target_role))
            return row[0] if row else bt.baseline
        row = bt.rows.get(_key(channel, target_role, target_phone, script))
        if row is None:
            return bt.baseline
        reach, q, _ = row
        reach_h = min(1.0, reach * self.multiplier(channel, hour))
        return 1.0 - (1.0 - bt.baseline) * (1.0 - reach_h * q)

    def amount(self, borrower_id: str, channel: str | None = None, target_role: str = "borrower",
               target_phone: str | None = None, script: str | None = None) -> float:
        """``amount_if_paid`` of the action's row (the borrower's first row's without one)."""
        bt = self.borrowers[borrower_id]
        if channel is not None:
            key = ((channel, target_role) if self.version == "v1"
                   else _key(channel, target_role, target_phone, script))
            row = bt.rows.get(key)
            if row is not None:
                return row[1] if self.version == "v1" else row[2]
        return bt.amount_if_paid

    def value(self, borrower_id: str, channel: str | None, target_role: str = "borrower",
              target_phone: str | None = None, script: str | None = None,
              hour: int | None = None) -> float:
        """True expected net recovery: ``p * amount_if_paid - cost`` (no action: no cost)."""
        p = self.p(borrower_id, channel, target_role, target_phone, script, hour)
        amt = self.amount(borrower_id, channel, target_role, target_phone, script)
        return p * amt - (self.costs.get(channel, 0.0) if channel else 0.0)

    def no_action(self, borrower_id: str) -> float:
        """Value of doing nothing: ``p_pay_30d_baseline * amount_if_paid``."""
        bt = self.borrowers[borrower_id]
        return bt.baseline * bt.amount_if_paid

    def candidates(self, borrower_id: str) -> list[TruthAction]:
        """Every action the truth gives a row for (v1 calls: one per script), in row order."""
        bt = self.borrowers[borrower_id]
        out: list[TruthAction] = []
        if self.version == "v2":
            for (ch, role, phone, script) in bt.rows:
                out.append(TruthAction(ch, role, phone, script))
            return out
        for (ch, role), (_, _, phone) in bt.rows.items():
            if ch in CALL_CHANNELS:
                scripts = ("lost_contact_check",) if role == "third_party" else SCRIPTS
                out.extend(TruthAction(ch, role, phone, s) for s in scripts)
            else:
                out.append(TruthAction(ch, role, phone, None))
        return out

    def best(self, borrower_id: str,
             hours: Callable[[TruthAction], Iterable[tuple[int, float]]] | None = None,
             ) -> tuple[TruthAction | None, float | None, float]:
        """The best allowed action: ``(action, when, value)``; ``(None, None, no_action)`` if none beats it.

        ``hours(action)`` yields the allowed ``(local_hour, day_number)`` slots of
        an action (empty: forbidden); None allows every action at every hour.
        """
        best: tuple[TruthAction | None, float | None, float] = (None, None, self.no_action(borrower_id))
        for a in self.candidates(borrower_id):
            slots = hours(a) if hours is not None else [(h, None) for h in range(24)]
            for h, when in slots:
                v = self.value(borrower_id, a.channel, a.target_role, a.target_phone, a.script, h)
                if v > best[2]:
                    best = (a, when, v)
        return best
