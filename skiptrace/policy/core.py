"""The policy room's core: actions, the context rules read, rules, decisions, and time windows.

A :class:`Rule` is code plus data: an id (public, printed by ``find`` and
``plan``), a title, its source (regulation and article), a kind and a
check. ``"who"`` rules say whether a target may be contacted at all:
``check(action, ctx) -> str | None`` returns the reason when it blocks.
``"when"`` rules (quiet hours, caps, cool-downs) return the intervals in
which the action is forbidden: ``check(action, ctx, start, end) ->
[(lo, hi, why), ...]`` in day numbers (:mod:`skiptrace.contacts.clock`),
half-open ``[lo, hi)``. :meth:`Policy.decide` subtracts every forbidden
interval from ``[start, end)`` and returns the first legal window.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from skiptrace.contacts import clock
from skiptrace.store.base import Ledger, Props

CHANNELS = ("sms", "push", "email", "ai_call", "human_call", "letter", "legal_letter")
CALLS = frozenset({"ai_call", "human_call"})
PHONE_CHANNELS = frozenset({"sms", "ai_call", "human_call"})
SCRIPTS = ("reminder", "lost_contact_check", "negotiation")
ROLES = ("borrower", "third_party")
#: channels whose contact happens at a moment the lender picks (quiet hours apply);
#: a letter arrives when the post delivers it
TIMED_CHANNELS = frozenset({"sms", "push", "email", "ai_call", "human_call"})


@dataclass(frozen=True)
class Action:
    """A proposed contact.

    ``channel`` None means "a phone contact by any phone channel" (what
    ``find`` asks of a candidate); ``script`` is what a call says (reminder,
    lost_contact_check, negotiation; a third-party sms counts as a
    lost-contact check); ``listed``: the borrower listed this number as an
    emergency contact (also read from :attr:`Context.listed`).
    """

    channel: str | None
    target_role: str
    target_phone: str | None = None
    script: str | None = None
    listed: bool = False

    def __post_init__(self) -> None:
        if self.channel is not None and self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}; one of {', '.join(CHANNELS)}")
        if self.target_role not in ROLES:
            raise ValueError(f"unknown target_role {self.target_role!r}; one of {', '.join(ROLES)}")
        if self.script is not None and self.script not in SCRIPTS:
            raise ValueError(f"unknown script {self.script!r}; one of {', '.join(SCRIPTS)}")

    @property
    def effective_script(self) -> str | None:
        """The script, with a third-party sms read as a lost-contact check."""
        if self.script is None and self.channel == "sms" and self.target_role == "third_party":
            return "lost_contact_check"
        return self.script

    @property
    def is_call(self) -> bool:
        """A call, or possibly one (``channel`` None: any phone channel)."""
        return self.channel is None or self.channel in CALLS


def _t(a: Props) -> float | None:
    v = a.get("at")
    return clock.to_days(v) if v else None


@dataclass
class Context:
    """What rules may look at.

    Attributes
    ----------
    borrower : the Borrower node's props (timezone, region, cease_requested, attorney_known, ...).
    ledger : attempts and payments up to ``as_of`` (oldest first).
    as_of : the decision time, a day number (UTC).
    zones : candidate IANA zones of the borrower (see :func:`skiptrace.policy.zones.candidate_zones`);
        an instant is legal only if it is legal in every one.
    listed : phones the borrower listed as emergency contacts.
    borrower_phones : the borrower's registered phones -> ``{"status", "status_at", "verified",
        "last_seen"}`` (status as of ``as_of``: a later status change is not known yet).
    """

    borrower: Props
    ledger: Ledger
    as_of: float
    zones: tuple[str, ...]
    listed: frozenset[str] = frozenset()
    borrower_phones: dict[str, Props] = field(default_factory=dict)
    #: attempts by target phone, and (attempt, day number) for timed attempts, oldest first;
    #: derived from the ledger
    by_phone: dict[str, list[Props]] = field(init=False, repr=False)
    timed: list[tuple[Props, float]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by: dict[str, list[Props]] = {}
        timed: list[tuple[Props, float]] = []
        for a in self.ledger.attempts:
            if a.get("target_phone"):
                by.setdefault(a["target_phone"], []).append(a)
            t = _t(a)
            if t is not None:
                timed.append((a, t))
        timed.sort(key=lambda x: x[1])
        self.by_phone, self.timed = by, timed

    @classmethod
    def build(cls, borrower: Props, ledger: Ledger, *, as_of: float | None = None,
              listed: Iterable[str] = (), borrower_phones: dict[str, Props] | None = None,
              zones: tuple[str, ...] | None = None) -> "Context":
        """The context of one borrower.

        Parameters
        ----------
        borrower : Borrower props.
        ledger : the borrower's ledger; attempts and payments after ``as_of`` are dropped.
        as_of : day number; default: the newest attempt or payment time, else now.
        listed : emergency-contact phones (E.164).
        borrower_phones : registered phones -> props (see the class docstring).
        zones : override the candidate zones (default: from the borrower's timezone/region).

        Cost: O(attempts).

        Example
        -------
        >>> ctx = Context.build({"timezone": "Asia/Shanghai"}, Ledger("B1", [], []), as_of=20480.0)
        >>> ctx.zones
        ('Asia/Shanghai',)
        """
        from skiptrace.policy.zones import candidate_zones

        if as_of is None:
            ts = [clock.to_days(a["at"]) for a in ledger.attempts if a.get("at")]
            ts += [clock.to_days(p["paid_at"]) for p in ledger.payments if p.get("paid_at")]
            as_of = max(ts) if ts else time.time() / 86400.0
        else:
            cut = as_of + 1e-9
            atts = [a for a in ledger.attempts if not a.get("at") or clock.to_days(a["at"]) <= cut]
            pays = [p for p in ledger.payments
                    if not p.get("paid_at") or clock.to_days(p["paid_at"]) <= cut]
            if len(atts) != len(ledger.attempts) or len(pays) != len(ledger.payments):
                ledger = Ledger(ledger.borrower_id, atts, pays)
        phones = {}
        for p, props in (borrower_phones or {}).items():
            props = dict(props)
            st = props.get("status_at")
            if st and props.get("status") not in (None, "active") and clock.to_days(st) > as_of + 1e-9:
                props["status"] = "active"  # the change had not happened yet
            phones[p] = props
        return cls(borrower, ledger, float(as_of),
                   zones if zones is not None else candidate_zones(borrower),
                   frozenset(listed), phones)

    @classmethod
    def from_ego(cls, ego: Any) -> "Context":
        """The context of ``find``'s ego graph (:class:`skiptrace.contacts.ego.Ego`): borrower
        props, the ledger cut at ``ego.as_of``, emergency contacts (LISTS_CONTACT edges with
        source emergency) and the borrower's HAS_PHONE phones with their phone_status props.

        Cost: O(degree of the borrower + attempts).
        """
        listed, phones = [], {}
        for other, e in ego.adj.get(ego.center, ()):
            if e.src != ego.center or not other.startswith("Phone:"):
                continue
            phone = other.split(":", 1)[1]
            if e.type == "LISTS_CONTACT" and e.props.get("source") == "emergency":
                listed.append(phone)
            elif e.type == "HAS_PHONE":
                node = ego.sub.nodes.get(other, {})
                phones[phone] = {"status": node.get("status"), "status_at": node.get("status_at"),
                                 "verified": e.props.get("verified"),
                                 "last_seen": e.props.get("last_seen")}
        return cls.build(ego.borrower, ego.ledger, as_of=ego.as_of, listed=listed,
                         borrower_phones=phones)

    # -- helpers rules share ----------------------------------------------------------
    def attempts_to(self, phone: str | None) -> list[Props]:
        """Attempts on ``phone`` (none for None)."""
        return self.by_phone.get(phone, []) if phone else []

    def is_listed(self, action: Action) -> bool:
        """The action's number is one the borrower listed as an emergency contact."""
        return action.listed or (action.target_phone is not None and action.target_phone in self.listed)

    def same_person(self, action: Action, a: Props) -> bool:
        """The attempt ``a`` reached for the same person as ``action``: any borrower-targeted
        attempt for the borrower, an attempt on the same number for a third party."""
        if action.target_role == "borrower":
            return (a.get("target_role") or "borrower") == "borrower"
        return a.get("target_role") == "third_party" and a.get("target_phone") == action.target_phone


WhoCheck = Callable[[Action, Context], "str | None"]
WhenCheck = Callable[[Action, Context, float, float], "list[tuple[float, float, str]]"]


@dataclass(frozen=True)
class Rule:
    """One rule: ``id`` (public), ``title``, ``source`` (regulation and article), ``kind``
    ("who" or "when") and ``check`` (see the module docstring). The check's docstring is
    the rule's exact reading."""

    id: str
    title: str
    source: str
    kind: str
    check: Callable[..., Any] = field(compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in ("who", "when"):
            raise ValueError(f"rule {self.id}: kind must be 'who' or 'when', not {self.kind!r}")

    @property
    def reading(self) -> str:
        """The rule's exact reading (its check's docstring)."""
        return " ".join((self.check.__doc__ or "").split())


@dataclass(frozen=True)
class Block:
    """A rule that forbids an action: its id ("CN-6") and a sentence ("3 connected calls today")."""

    rule: str
    why: str


@dataclass(frozen=True)
class Decision:
    """The verdict on an action: allowed in ``[not_before, not_after)`` (day numbers), or blocked."""

    action: Action
    allowed: bool
    blocks: list[Block]
    not_before: float | None
    not_after: float | None


class Policy:
    """A named pack of rules.

    Example
    -------
    >>> from skiptrace.policy import get_policy
    >>> get_policy("baseline").name
    'baseline'
    """

    def __init__(self, name: str, rules: Iterable[Rule], description: str = "") -> None:
        self.name = name
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.description = description
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError(f"policy {name}: duplicate rule ids {ids}")
        self._who = tuple(r for r in self.rules if r.kind == "who")
        self._when = tuple(r for r in self.rules if r.kind == "when")

    def __repr__(self) -> str:
        return f"Policy({self.name!r}, {len(self.rules)} rules)"

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (KeyError when the pack has none)."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def blocks(self, action: Action, ctx: Context) -> list[Block]:
        """The "who" rules that forbid ``action`` at all (empty: the target may be contacted),
        in rule order. Cost: O(rules x attempts on the target)."""
        out = []
        for r in self._who:
            why = r.check(action, ctx)
            if why:
                out.append(Block(r.id, why))
        return out

    def forbidden(self, action: Action, ctx: Context, start: float,
                  end: float) -> list[tuple[float, float, str, str]]:
        """Every "when" rule's forbidden intervals overlapping ``[start, end)``, as
        ``(lo, hi, rule_id, why)`` sorted by ``lo``."""
        out = []
        for r in self._when:
            for lo, hi, why in r.check(action, ctx, start, end):
                if hi > start and lo < end and hi > lo:
                    out.append((lo, hi, r.id, why))
        out.sort(key=lambda x: (x[0], x[1]))
        return out

    def decide(self, action: Action, ctx: Context, start: float, end: float) -> Decision:
        """May ``action`` happen in ``[start, end)`` (day numbers), and when first?

        "Who" rules first (any block: not allowed). Then every "when" rule's
        forbidden intervals are subtracted from ``[start, end)``; the first
        legal instant is ``not_before`` and the start of the next forbidden
        interval (or ``end``) is ``not_after``. When nothing is left, the
        decision is blocked: ``blocks[0]`` is the rule whose interval carries
        past ``end`` (the one that closes the horizon), followed by each other
        rule whose intervals covered an earlier part of it.

        Cost: O(rules x attempts + I log I) for I forbidden intervals.

        Example
        -------
        >>> d = policy.decide(Action("ai_call", "borrower", "+86138..."), ctx, 20480.0, 20481.0)  # doctest: +SKIP
        >>> d.allowed, clock.iso(d.not_before, "Asia/Shanghai")                                  # doctest: +SKIP
        (True, '2026-01-28T08:00:00+08:00')
        """
        if not end > start:
            raise ValueError(f"the window must end after it starts ({start} >= {end})")
        blocks = self.blocks(action, ctx)
        if blocks:
            return Decision(action, False, blocks, None, None)
        ivs = self.forbidden(action, ctx, start, end)
        t, chain = start, []
        for lo, hi, rid, why in ivs:  # sorted by lo: one pass pushes t past every cover
            if lo > t or t >= end:
                break
            if hi > t:
                t = hi
                chain.append(Block(rid, why))
        if t >= end:
            # the rule that closes the horizon first, then the others that covered part of it
            closer, seen = chain[-1], {chain[-1].rule}
            rest = [b for b in chain[:-1] if not (b.rule in seen or seen.add(b.rule))]
            return Decision(action, False, [closer, *rest], None, None)
        nxt = min((lo for lo, _, _, _ in ivs if lo > t), default=end)
        return Decision(action, True, [], t, min(nxt, end))
