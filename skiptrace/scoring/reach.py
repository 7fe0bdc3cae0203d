"""Reachability features: how well can the lender still reach each borrower, from the graph.

For each borrower, ``find``'s pipeline (ego graph, candidate features, scores,
eligibility) runs in this process with one shared scorer and policy, and
the ledger is read once for all borrowers; the registered phones, their line
status and ring memberships are read with one query each for the whole
batch. A caller that already holds ``find`` results (plan) passes them as
``results`` and only the batch reads run.

At a past ``as_of`` the graph is seen as it was then: relationships that
began later are dropped and call records pro-rated (:func:`skiptrace.contacts.ego.build`),
and a phone's line status recorded after ``as_of`` is not yet known (its
status is hidden from the ranking), so a training frame cut at ``as_of``
does not see the future. Rings are read as stored (``skiptrace rings
detect`` runs on the whole store): at a past cut that is a mild look-ahead,
stated in the report.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skiptrace.contacts import clock
from skiptrace.contacts.ego import MAX_FANOUT, build, few_collections, typed_neighbourhood
from skiptrace.contacts.features import DEAD, extract
from skiptrace.contacts.ranking.model import LinearScorer
from skiptrace.scoring.account import (NEVER_DAYS, LedgerFrames, borrower_records, extract_time,
                                       read_ledger, to_day)
from skiptrace.store.base import GraphStore, Ledger, node_id, split_id

log = logging.getLogger(__name__)

#: third-party relation groups (find's ``relation`` of a candidate -> group)
RELATION_GROUP: dict[str, str] = {
    "spouse": "family", "parent": "family", "child": "family", "sibling": "family",
    "relative": "family", "household": "family",
    "friend": "friend",
    "colleague": "colleague", "colleague_link": "colleague", "workplace": "colleague",
}
GROUPS = ("family", "friend", "colleague", "other")
#: a candidate counts as a contact point when ``find`` scores it at least this (find ranks
#: every phone of the ego graph, hundreds of phonebook entries among them)
CONTACT_MIN_SCORE = 0.1

REACH_FEATURES: tuple[str, ...] = (
    "n_candidates", "eligible_borrower", "eligible_third_party", "eligible_family",
    "eligible_friend", "eligible_colleague", "eligible_other",
    "best_score", "top3_mean_score", "best_borrower_score", "new_number_confidence",
    "n_registered", "has_verified_phone", "verified_recency_days", "all_registered_dead",
    "ring_member", "ring_risk",
)


@dataclass(frozen=True)
class Point:
    """What the features need of one ``find`` candidate."""

    phone: str
    target_role: str
    relation: str
    score: float
    eligible: bool


def reachability_features(store: GraphStore, borrower_ids: Iterable[str], *, as_of: object = None,
                          policy: object = "auto", results: Mapping[str, object] | None = None,
                          scorer: LinearScorer | None = None, max_hops: int = 3,
                          max_fanout: int = MAX_FANOUT, _extract: float | None = None,
                          _frames: LedgerFrames | None = None,
                          _records: dict[str, dict] | None = None) -> pd.DataFrame:
    """Reachability features of each borrower at ``as_of``, one row per borrower.

    Parameters
    ----------
    store : the graph store.
    borrower_ids : borrower ids (unknown ids raise ``UnknownBorrowers``).
    as_of : the cut (day number, ISO string, date or datetime; naive = UTC); default the
        extract time (:func:`~skiptrace.scoring.account.extract_time`).
    policy : the eligibility policy (a pack name, a Policy, or "auto": each borrower's
        region's pack), as ``find``'s ``policy=``.
    results : ``{borrower_id: FindResult}`` already computed (at the same ``as_of``); those
        borrowers are not ranked again (their candidates are what the result lists).
    scorer : ``find``'s scoring model (default: its documented defaults), shared by all.

    Columns (:data:`REACH_FEATURES`): ``n_candidates`` (every phone ``find`` ranked);
    eligible contact points (candidates scored at least :data:`CONTACT_MIN_SCORE`) by role
    (``eligible_borrower``: the borrower's own and inferred numbers; ``eligible_third_party``)
    and third parties by relation group (family: spouse, parent, child, sibling, relative,
    household; friend; colleague: colleague, shared employer, workplace; other);
    ``best_score`` and ``top3_mean_score`` over eligible candidates (0 when none);
    ``best_borrower_score`` (any borrower-role candidate); ``new_number_confidence`` (the
    score of the best borrower-role candidate that is not a registered phone, 0 if none);
    ``n_registered``, ``has_verified_phone``, ``verified_recency_days`` (days since the
    freshest ``last_seen`` of a verified registered phone, :data:`NEVER_DAYS` if none);
    ``all_registered_dead`` (every registered phone disconnected or reassigned by ``as_of``;
    0 when it has none); ``ring_member`` and ``ring_risk`` (the highest risk of the stored
    rings it is a member of; 0 when none).

    Cost: per borrower not in ``results``, ``find``'s ego read (about ``4 * max_hops``
    queries) and its in-process ranking; for the batch one ledger pass, one node query,
    and three relationship/node queries for phones and rings.

    Example
    -------
    >>> reachability_features(store, ["B1", "B2"]).loc["B1", "best_score"]   # doctest: +SKIP
    0.93
    """
    ids = list(dict.fromkeys(borrower_ids))
    records = _records if _records is not None else borrower_records(store, ids)
    results = dict(results or {})
    check = _eligibility(policy)  # an unknown pack fails before the store is read
    todo = [b for b in ids if b not in results]
    cut = to_day(as_of)
    if cut is None:
        cut = _extract if _extract is not None else extract_time(store, None)
    points: dict[str, list[Point]] = {}
    if todo:
        frames = _frames if _frames is not None else read_ledger(store, todo)
        ledgers = frames.cut(cut).ledgers()
        scorer = scorer or LinearScorer()
        t0 = time.perf_counter()
        with few_collections():
            for i, b in enumerate(todo, start=1):
                points[b] = _rank(store, b, records[b], ledgers.get(b) or Ledger(b, [], []), cut,
                                  scorer, check, max_hops, max_fanout)
                if i % 500 == 0:
                    log.info("ranked %d of %d borrowers", i, len(todo))
        if todo:
            log.info("ranked %d borrowers in %.1fs (%.1f ms each)", len(todo),
                     time.perf_counter() - t0, 1000 * (time.perf_counter() - t0) / len(todo))
    for b, res in results.items():
        if b in records:
            points[b] = [Point(c.phone, c.target_role, c.relation or "network", float(c.score),
                               bool(c.eligible)) for c in res.candidates]
    registered = _registered(store, ids, cut)
    rings = _ring_risk(store, ids)
    rows = [_row(points.get(b, []), registered.get(b, []), rings.get(b), cut) for b in ids]
    out = pd.DataFrame(rows, index=pd.Index(ids, name="borrower_id"), columns=list(REACH_FEATURES))
    return out.astype(float)


def _row(points: Sequence[Point], registered: list[dict], ring: float | None, cut: float) -> list:
    elig = [p for p in points if p.eligible]
    points_ok = [p for p in elig if p.score >= CONTACT_MIN_SCORE]
    groups = dict.fromkeys(GROUPS, 0)
    for p in points_ok:
        if p.target_role != "borrower":
            groups[RELATION_GROUP.get(p.relation, "other")] += 1
    scores = sorted((p.score for p in elig), reverse=True)
    own = {r["phone"] for r in registered}
    b_scores = [p.score for p in points if p.target_role == "borrower"]
    new = [p.score for p in points if p.target_role == "borrower" and p.phone not in own]
    verified = [r["last_seen"] for r in registered if r["verified"]]
    recency = min((max(cut - v, 0.0) for v in verified if v is not None), default=NEVER_DAYS)
    return [
        len(points),
        sum(1 for p in points_ok if p.target_role == "borrower"),
        sum(1 for p in points_ok if p.target_role != "borrower"),
        groups["family"], groups["friend"], groups["colleague"], groups["other"],
        scores[0] if scores else 0.0,
        float(np.mean(scores[:3])) if scores else 0.0,
        max(b_scores, default=0.0),
        max(new, default=0.0),
        len(registered),
        float(bool(verified)),
        min(recency, NEVER_DAYS),
        float(bool(registered) and all(r["dead"] for r in registered)),
        float(ring is not None),
        ring or 0.0,
    ]


def _rank(store: GraphStore, b: str, record: dict, ledger: Ledger, cut: float,
          scorer: LinearScorer, check, max_hops: int, max_fanout: int) -> list[Point]:
    """``find``'s candidates of one borrower at ``cut`` (scores and eligibility, no evidence)."""
    center = node_id("Borrower", b)
    sub = typed_neighbourhood(store, center, hops=max_hops, max_fanout=max_fanout)
    sub.nodes[center] = sub.nodes.get(center) or record
    for nid, props in sub.nodes.items():  # a line status recorded after the cut is not known yet
        st_at = props.get("status_at") if nid.startswith("Phone:") else None
        if st_at and clock.to_days(st_at) > cut:
            sub.nodes[nid] = {k: v for k, v in props.items() if k not in ("status", "status_at")}
    ego = build(b, sub, ledger, cut)
    feats = extract(ego)
    if not feats.candidates:
        return []
    probs = scorer.predict_proba(feats.X)
    elig = check(ego, feats.candidates)
    return [Point(c.phone, c.target_role, c.relation or "network", float(s), ok)
            for c, s, ok in zip(feats.candidates, probs, elig)]


def _eligibility(policy: object):
    """A function ``(ego, candidates) -> [eligible]`` checking each candidate as ``find``
    does: ``Action(channel=None, target_role, phone, listed)`` against the pack's who-rules."""
    from skiptrace import policy as room

    fixed = None if policy == room.registry.AUTO else room.get_policy(policy)

    def check(ego, cands) -> list[bool]:
        pol = fixed or room.policy_for(ego.borrower)
        ctx = room.Context.from_ego(ego)
        return [not pol.blocks(room.Action(None, c.target_role, c.phone,
                                           listed=c.phone in ctx.listed), ctx) for c in cands]

    return check


def _registered(store: GraphStore, ids: Sequence[str], cut: float) -> dict[str, list[dict]]:
    """Each borrower's registered phones at ``cut``: phone, verified, last_seen (day), dead."""
    edges = store.incident_edges([node_id("Borrower", b) for b in ids], ["HAS_PHONE"])
    phones = store.get_nodes({e.dst for e in edges})
    out: dict[str, list[dict]] = {}
    for e in edges:
        if not e.src.startswith("Borrower:"):
            continue
        first = e.props.get("first_seen")
        if first and clock.to_days(first) > cut:
            continue
        ph = phones.get(e.dst, {})
        st, st_at = ph.get("status"), ph.get("status_at")
        dead = st in DEAD and (not st_at or clock.to_days(st_at) <= cut)
        ls = e.props.get("last_seen")
        out.setdefault(split_id(e.src)[1], []).append({
            "phone": split_id(e.dst)[1], "verified": bool(e.props.get("verified")),
            "last_seen": min(clock.to_days(ls), cut) if ls else None, "dead": dead})
    return out


def _ring_risk(store: GraphStore, ids: Sequence[str]) -> dict[str, float]:
    """The highest risk of the stored rings each borrower is a MEMBER_OF."""
    edges = store.incident_edges([node_id("Borrower", b) for b in ids], ["MEMBER_OF"])
    if not edges:
        return {}
    rings = store.get_nodes({e.dst for e in edges})
    out: dict[str, float] = {}
    for e in edges:
        b = split_id(e.src)[1]
        r = float(rings.get(e.dst, {}).get("risk") or 0.0)
        out[b] = max(out.get(b, -math.inf), r)
    return out
