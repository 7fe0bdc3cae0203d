"""``find``: ranked, explained, eligible ways to reach a borrower.

One store read (the ego graph and the ledger, :mod:`skiptrace.contacts.ego`),
then features (:mod:`~skiptrace.contacts.features`), a score
(:mod:`~skiptrace.contacts.ranking.model`), evidence
(:mod:`~skiptrace.contacts.evidence`) and eligibility
(the "who" rules of a :mod:`skiptrace.policy` pack), all in process. Candidates are
ordered by score, ties by phone number, so both stores rank identically.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from skiptrace.contacts import clock
from skiptrace.contacts.ego import BATCH, MAX_FANOUT, Ego, UnknownBorrower, fetch, fetch_many
from skiptrace.contacts.evidence import Evidence, Text, summary
from skiptrace.contacts.features import FEATURES, Candidate0, Features, extract
from skiptrace.contacts.ranking.model import LinearScorer
# a module import: skiptrace.policy reads skiptrace.contacts.clock, so either may load first
import skiptrace.policy as policy_room
from skiptrace.privacy import mask_name, mask_phone
from skiptrace.store.base import GraphStore

MAX_EVIDENCE = 3
_NONE = object()


@dataclass
class Candidate:
    """One ranked way to reach the borrower (a phone, and who is behind it)."""

    rank: int
    phone: str
    name: str | None
    relation: str
    target_role: str
    score: float
    evidence: list[Evidence]
    last_seen: str | None
    eligible: bool
    blocked_by: list[str]
    features: dict[str, float] = field(default_factory=dict, repr=False)

    def summary(self, reveal: bool = False) -> str:
        """One plain sentence an investigator can read aloud."""
        return summary(self.evidence, self.score, reveal)

    def to_dict(self, reveal: bool = False) -> dict:
        """The contract's candidate object (phones and names masked unless ``reveal``)."""
        name = self.name if reveal or not self.name else mask_name(self.name)
        return {"rank": self.rank, "phone": self.phone if reveal else mask_phone(self.phone),
                "name": name, "relation": self.relation, "target_role": self.target_role,
                "score": self.score,
                "evidence": [e.to_dict(reveal) for e in self.evidence],
                "summary": self.summary(reveal),
                "last_seen": self.last_seen, "eligible": self.eligible,
                "blocked_by": list(self.blocked_by)}


@dataclass
class FindResult:
    """The answer of :func:`find` for one borrower."""

    borrower_id: str
    as_of: str
    candidates: list[Candidate]
    new_number: str | None = None
    model: str = "defaults"

    def to_dict(self, reveal: bool = False) -> dict:
        """Exactly the contract's ``find`` JSON object (plus each candidate's ``summary``)."""
        return {"borrower_id": self.borrower_id, "as_of": self.as_of,
                "candidates": [c.to_dict(reveal) for c in self.candidates]}


def find(store: GraphStore, borrower_id: str, *, limit: int | None = 20, max_hops: int = 3,
         as_of: object = None, scorer: LinearScorer | None = None,
         policy: "str | policy_room.Policy" = "baseline", max_fanout: int = MAX_FANOUT) -> FindResult:
    """Rank the phones most likely to reach ``borrower_id`` now, with evidence and eligibility.

    Parameters
    ----------
    store : the graph store.
    borrower_id : the borrower's id (without the ``Borrower:`` prefix).
    limit : how many candidates to return (best first; None: all of them).
    max_hops : how far out (in relationships) candidates may be.
    max_fanout : a node with more relationships is kept but not expanded (the
        borrower's own numbers always are); see :data:`~skiptrace.contacts.ego.MAX_FANOUT`.
    as_of : the time the ranking is for (ISO string, date or datetime; naive
        in the borrower's timezone). Default: the newest time stamp in the
        borrower's ego graph and ledger (the extract date), else now.
        Relationships that begin later and attempts after it are ignored;
        recency is measured back from it.
    scorer : the scoring model (default: :class:`LinearScorer` defaults, or
        one learned by :class:`~skiptrace.contacts.ranking.model.AttemptModel`).
    policy : the compliance pack whose "who" rules decide eligibility: "baseline"
        (default), "CN-NIFA-2024", "US-RegF", a :class:`~skiptrace.policy.Policy`, or
        "auto" (per borrower, :func:`~skiptrace.policy.policy_for`). Each candidate is
        checked as ``Action(channel=None, target_role, phone, listed)``.

    Cost: ``2 * max_hops + 2`` store queries, then O(E) work on the ego graph.

    Example
    -------
    >>> res = find(store, "B1", limit=5)            # doctest: +SKIP
    >>> res.candidates[0].to_dict()["phone"]        # doctest: +SKIP
    '+86150****0000'
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1 (or None for all), not {limit}")
    if max_hops < 1:
        raise ValueError(f"max_hops must be at least 1, not {max_hops}")
    if policy != policy_room.registry.AUTO:
        policy = policy_room.get_policy(policy)  # an unknown name fails before the store is read
    ego = fetch(store, borrower_id, max_hops=max_hops, as_of=as_of, max_fanout=max_fanout)
    return rank(ego, limit=limit, scorer=scorer, policy=policy)


@dataclass(frozen=True)
class FindError:
    """A borrower of a batch that :func:`find_many` could not answer (``errors="record"``)."""

    borrower_id: str
    error: str

    def to_dict(self, reveal: bool = False) -> dict:
        return {"borrower_id": self.borrower_id, "error": self.error}


def find_many(store: GraphStore, borrower_ids: Iterable[str], *, limit: int | None = 20,
              max_hops: int = 3, as_of: object = None, scorer: LinearScorer | None = None,
              policy: "str | policy_room.Policy" = "baseline", max_fanout: int = MAX_FANOUT,
              batch: int = BATCH, errors: str = "raise") -> Iterator[FindResult | FindError]:
    """:func:`find` for each borrower in turn (same keyword arguments), lazily.

    The results are exactly those of calling :func:`find` one borrower at a
    time (an unknown borrower raises :class:`~skiptrace.contacts.ego.UnknownBorrower`
    when its turn comes), but the ego graphs are read ``batch`` borrowers at
    a time (:func:`~skiptrace.contacts.ego.fetch_many`), which saves most of
    the store queries. ``errors="record"``: an unknown borrower yields a
    :class:`FindError` (``error == "unknown borrower"``) and the batch goes on.

    Cost: per batch about ``2 * max_hops + 2`` store queries, then O(E) work
    per ego graph.

    Example
    -------
    >>> [r.borrower_id for r in find_many(store, ["B1", "B2"], limit=5)]  # doctest: +SKIP
    ['B1', 'B2']
    """
    if errors not in ("raise", "record"):
        raise ValueError(f"errors must be 'raise' or 'record', not {errors!r}")
    ids = iter(borrower_ids)
    first = next(ids, _NONE)
    if first is _NONE:  # like find() per borrower: nothing to check when there is no borrower
        return
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1 (or None for all), not {limit}")
    if max_hops < 1:
        raise ValueError(f"max_hops must be at least 1, not {max_hops}")
    if policy != policy_room.registry.AUTO:
        policy = policy_room.get_policy(policy)
    wanted: list[str] = []

    def remembered():
        for b in itertools.chain([first], ids):
            wanted.append(b)
            yield b

    for i, ego in enumerate(fetch_many(store, remembered(), max_hops=max_hops, as_of=as_of,
                                       max_fanout=max_fanout, batch=batch)):
        if isinstance(ego, UnknownBorrower):
            if errors == "raise":
                raise ego
            yield FindError(wanted[i], "unknown borrower")
            continue
        yield rank(ego, limit=limit, scorer=scorer, policy=policy)


def rank(ego: Ego, *, limit: int | None = 20, scorer: LinearScorer | None = None,
         policy: "str | policy_room.Policy" = "baseline", feats: Features | None = None) -> FindResult:
    """Score, order, explain and check the candidates of an ego graph (``policy`` as in
    :func:`find`)."""
    scorer = scorer or LinearScorer()
    feats = feats or extract(ego)
    tz = ego.timezone
    res = FindResult(ego.borrower_id, clock.iso(ego.as_of, tz), [],
                     feats.new_number.split(":", 1)[1] if feats.new_number else None, scorer.source)
    if not feats.candidates:
        return res
    scores = scorer.predict_proba(feats.X)
    order = sorted(range(len(feats.candidates)), key=lambda i: (-scores[i], feats.candidates[i].phone))
    pol = (policy_room.policy_for(ego.borrower) if policy == policy_room.registry.AUTO
           else policy_room.get_policy(policy))
    ctx = policy_room.Context.from_ego(ego)
    for r, i in enumerate(order if limit is None else order[:limit], start=1):
        c0 = feats.candidates[i]
        contrib = scorer.contributions(feats.X[i])
        ev = _evidence(ego, c0, contrib)
        cand = Candidate(r, c0.phone, c0.name, c0.relation or "network", c0.target_role,
                         float(scores[i]), ev, _last_seen(ego, c0), True, [],
                         {f: float(v) for f, v in zip(FEATURES, feats.X[i]) if v})
        act = policy_room.Action(None, cand.target_role, cand.phone, listed=cand.phone in ctx.listed)
        cand.blocked_by = [b.rule for b in pol.blocks(act, ctx)]
        cand.eligible = not cand.blocked_by
        res.candidates.append(cand)
    return res


def scores(ego: Ego, *, scorer: LinearScorer | None = None,
           feats: Features | None = None) -> dict[str, float]:
    """Every candidate phone's score, without evidence or eligibility (what evaluations need:
    :func:`rank` explains each candidate, which costs more than scoring them all)."""
    scorer = scorer or LinearScorer()
    feats = feats or extract(ego)
    if not feats.candidates:
        return {}
    return {c.phone: float(p) for c, p in zip(feats.candidates, scorer.predict_proba(feats.X))}


def _evidence(ego: Ego, c: Candidate0, contrib: dict[str, float]) -> list[Evidence]:
    """The candidate's evidence by contribution: supporting reasons first, then cautions."""
    items = [Evidence(e.feature, e.path, e.why, contrib.get(e.feature, 0.0)) for e in c.evidence]
    pos = sorted((e for e in items if e.weight > 0), key=lambda e: -e.weight)
    neg = sorted((e for e in items if e.weight <= 0), key=lambda e: e.weight)
    chosen = pos[:MAX_EVIDENCE]
    if not chosen:
        p = _walk_path(ego, c.node)
        if p:
            chosen.append(Evidence("ppr", p, Text(f"{(len(p) - 1) // 2} steps from the borrower in "
                                                  "the contact graph"), contrib.get("ppr", 0.0)))
    return chosen + neg[:max(0, MAX_EVIDENCE - len(chosen))]


def _walk_path(ego: Ego, node: str) -> tuple[str, ...] | None:
    """A shortest path from the borrower to ``node``, stepping to the lowest-id closer node."""
    hops = ego.sub.hops
    if node not in hops:
        return None
    path = [node]
    cur = node
    while cur != ego.center:
        best = None
        for o, e in ego.adj.get(cur, ()):
            if hops.get(o, math.inf) == hops[cur] - 1 and (best is None or (o, e.type) < best):
                best = (o, e.type)
        if best is None:
            return None
        path += [best[1], best[0]]
        cur = best[0]
    return tuple(reversed(path))


def _last_seen(ego: Ego, c: Candidate0) -> str | None:
    t = c.last_seen
    if t is None:
        for _, e in ego.adj.get(c.node, ()):
            v = e.props.get("last_at") or e.props.get("last_seen")
            if v:
                d = clock.to_days(v)
                t = d if t is None else max(t, d)
    if t is None:
        return None
    return clock.date(min(t, ego.as_of), ego.timezone)


__all__ = ["Candidate", "FindError", "FindResult", "find", "find_many", "rank", "scores"]
