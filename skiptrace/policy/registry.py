"""Named packs: :data:`PACKS`, :func:`get_policy`, :func:`policy_for`."""
from __future__ import annotations

from functools import lru_cache

from skiptrace.errors import SkiptraceError
from skiptrace.policy.baseline import BASELINE
from skiptrace.policy.cn import CN_NIFA_2024
from skiptrace.policy.core import Policy
from skiptrace.policy.us import US_REGF
from skiptrace.store.base import Props

PACKS: dict[str, Policy] = {p.name: p for p in (BASELINE, CN_NIFA_2024, US_REGF)}
#: what ``find --policy`` / ``plan --policy`` accept besides the pack names
AUTO = "auto"


class UnknownPolicy(SkiptraceError, ValueError):
    """No pack has this name."""


def names() -> list[str]:
    """Every name :func:`get_policy` accepts, then "auto" (per borrower, :func:`policy_for`)."""
    return [*PACKS, AUTO]


@lru_cache(maxsize=None)
def combine(*names_: str) -> Policy:
    """One policy holding the rules of several packs (a rule id appears once).

    Example
    -------
    >>> combine("CN-NIFA-2024", "US-RegF").name
    'CN-NIFA-2024+US-RegF'
    """
    packs = [get_policy(n) for n in names_]
    seen, rules = set(), []
    for p in packs:
        for r in p.rules:
            if r.id not in seen:
                seen.add(r.id)
                rules.append(r)
    return Policy("+".join(p.name for p in packs), rules, "every rule of " + ", ".join(names_))


def get_policy(name: "str | Policy") -> Policy:
    """The pack called ``name`` ("baseline", "CN-NIFA-2024", "US-RegF", or several joined by
    "+"); a :class:`Policy` is returned as it is.

    Raises :class:`UnknownPolicy` (a SkiptraceError) listing the names for anything else,
    including "auto" (which depends on the borrower: use :func:`policy_for`).

    Example
    -------
    >>> get_policy("US-RegF").rules[0].id
    'RF-1'
    """
    if isinstance(name, Policy):
        return name
    if isinstance(name, str) and name in PACKS:
        return PACKS[name]
    if isinstance(name, str) and "+" in name:
        parts = name.split("+")
        if all(p in PACKS for p in parts):
            return combine(*parts)
    hint = " ('auto' is chosen per borrower: policy_for(borrower))" if name == AUTO else ""
    raise UnknownPolicy(f"unknown policy {name!r}{hint}; one of {', '.join(PACKS)}")


def policy_for(borrower: Props) -> Policy:
    """The pack for one borrower ("auto"): region CN -> CN-NIFA-2024, US -> US-RegF, any
    other or no region -> both packs' rules together (the stricter combination).

    Example
    -------
    >>> policy_for({"region": "CN"}).name
    'CN-NIFA-2024'
    """
    region = (borrower.get("region") or "").strip().upper()
    if region == "CN" and "CN-NIFA-2024" in PACKS:
        return PACKS["CN-NIFA-2024"]
    if region == "US" and "US-RegF" in PACKS:
        return PACKS["US-RegF"]
    strict = [n for n in ("CN-NIFA-2024", "US-RegF") if n in PACKS]
    return combine(*strict) if strict else BASELINE
