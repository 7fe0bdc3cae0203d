"""The action catalogue of ``plan`` and the lender's cost of each channel.

An action is a (channel, target role, script) triple; ``plan`` fills in the
target phone. The catalogue (:data:`CATALOGUE`) is what a collection team
can do today:

- to the borrower: sms, push, email, ai_call and human_call with each call
  script (reminder, lost_contact_check, negotiation), letter, legal_letter;
- to a third party (a contact who may relay a message): sms, ai_call and
  human_call, calls again with each script (a policy pack decides which
  scripts may go to a third party: CN-NIFA-2024 and US-RegF allow only the
  lost-contact check; the catalogue lists them all so that ``blocked`` shows
  the rule).

Costs are the lender's own per-contact costs, in the account's currency, not
truth labels: :data:`DEFAULT_COSTS` holds a default table per region
(``"*"`` for any other region); ``--costs FILE`` (a ``channel,cost`` CSV,
optionally with a ``region`` column) overrides it (:func:`load_costs`).
"""
from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from skiptrace.errors import SkiptraceError

CHANNELS = ("sms", "push", "email", "ai_call", "human_call", "letter", "legal_letter")
CALLS = frozenset({"ai_call", "human_call"})
PHONE_CHANNELS = frozenset({"sms", "ai_call", "human_call"})
SCRIPTS = ("reminder", "lost_contact_check", "negotiation")
ROLES = ("borrower", "third_party")


@dataclass(frozen=True)
class ActionKind:
    """One entry of the catalogue: a channel to a target role, with a script for calls."""

    channel: str
    target_role: str
    script: str | None = None

    @property
    def needs_phone(self) -> bool:
        return self.channel in PHONE_CHANNELS

    @property
    def label(self) -> str:
        """``ai_call/negotiation -> borrower``: a short name for logs and tables."""
        s = f"{self.channel}/{self.script}" if self.script else self.channel
        return f"{s} -> {self.target_role}"


def _catalogue() -> tuple[ActionKind, ...]:
    out: list[ActionKind] = []
    for ch in CHANNELS:
        if ch in CALLS:
            out.extend(ActionKind(ch, "borrower", s) for s in SCRIPTS)
        else:
            out.append(ActionKind(ch, "borrower"))
    out.append(ActionKind("sms", "third_party"))
    for ch in ("ai_call", "human_call"):
        out.extend(ActionKind(ch, "third_party", s) for s in SCRIPTS)
    return tuple(out)


#: every action ``plan`` considers, borrower actions first
CATALOGUE: tuple[ActionKind, ...] = _catalogue()

#: the lender's default cost per contact by region (CNY for CN, USD for US and elsewhere):
#: messaging is nearly free, an AI voice minute costs cents, an agent's call costs the
#: agent's time, letters postage and print, a legal letter a lawyer's fee
DEFAULT_COSTS: dict[str, dict[str, float]] = {
    "CN": {"sms": 0.05, "push": 0.01, "email": 0.02, "ai_call": 0.3, "human_call": 3.0,
           "letter": 2.0, "legal_letter": 30.0},
    "US": {"sms": 0.01, "push": 0.002, "email": 0.005, "ai_call": 0.08, "human_call": 1.5,
           "letter": 0.8, "legal_letter": 12.0},
}
DEFAULT_COSTS["*"] = dict(DEFAULT_COSTS["US"])


class CostTable:
    """The cost of a channel for a region: ``table.cost("ai_call", "CN")``.

    ``tables`` maps region (``"*"`` for any other) to ``{channel: cost}``;
    a region missing a channel falls back to ``"*"``, then to the defaults.
    """

    def __init__(self, tables: Mapping[str, Mapping[str, float]] | None = None,
                 source: str = "defaults") -> None:
        self.tables = {r: dict(t) for r, t in (tables or DEFAULT_COSTS).items()}
        self.source = source

    def cost(self, channel: str, region: str | None) -> float:
        for key in (region or "*", "*"):
            t = self.tables.get(key)
            if t and channel in t:
                return t[channel]
        base = DEFAULT_COSTS.get(region or "*") or DEFAULT_COSTS["*"]
        return base[channel]


def load_costs(path: str | Path) -> CostTable:
    """Read a ``channel,cost`` CSV (optionally with a ``region`` column) over the defaults.

    Rows without a region (or with region ``*``) set the cost for every
    region. Errors (unknown channel, a cost that is not a non-negative
    number, a missing column) raise :class:`~skiptrace.errors.SkiptraceError`
    naming file, line and field.

    Example
    -------
    >>> load_costs("costs.csv").cost("human_call", "CN")   # doctest: +SKIP
    2.5
    """
    path = Path(path)
    tables = {r: dict(t) for r, t in DEFAULT_COSTS.items()}
    overrides: dict[str, dict[str, float]] = {}
    try:
        f = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise SkiptraceError(f"{path}: cannot read the cost table ({exc.strerror})") from None
    with f:
        reader = csv.DictReader(f)
        cols = set(reader.fieldnames or ())
        missing = {"channel", "cost"} - cols
        if missing:
            raise SkiptraceError(f"{path}, line 1: missing column(s) {', '.join(sorted(missing))} "
                                 "(expected channel,cost[,region])")
        extra = cols - {"channel", "cost", "region"}
        if extra:
            raise SkiptraceError(f"{path}, line 1: unknown column(s) {', '.join(sorted(extra))} "
                                 "(expected channel,cost[,region])")
        for line, row in enumerate(reader, start=2):
            ch = (row.get("channel") or "").strip()
            if ch not in CHANNELS:
                raise SkiptraceError(f"{path}, line {line}, field channel: unknown channel {ch!r} "
                                     f"(one of {', '.join(CHANNELS)})")
            raw = (row.get("cost") or "").strip()
            try:
                value = float(raw)
            except ValueError:
                value = float("nan")
            if not value >= 0 or value == float("inf"):
                raise SkiptraceError(f"{path}, line {line}, field cost: {raw!r} is not a "
                                     "non-negative number")
            region = (row.get("region") or "").strip() or "*"
            overrides.setdefault(region, {})[ch] = value
    star = overrides.pop("*", {})
    for t in tables.values():
        t.update(star)
    for region, t in overrides.items():
        tables.setdefault(region, dict(tables["*"])).update(t)
    return CostTable(tables, source=str(path))


__all__ = ["ActionKind", "CALLS", "CATALOGUE", "CHANNELS", "CostTable", "DEFAULT_COSTS",
           "PHONE_CHANNELS", "ROLES", "SCRIPTS", "load_costs"]
