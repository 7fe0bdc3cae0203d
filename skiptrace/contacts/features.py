"""Candidate phones of a borrower's ego graph and their features.

Every ``Phone`` in the ego graph is a candidate. :func:`extract` computes,
for each, the features in :data:`FEATURES` (all in [0, 1]) and the
evidence items that justify them. Definitions (``as_of`` in days):

- *tie* with the borrower: the CALLED records between the candidate and the
  borrower's registered numbers (records a reassigned number made for its
  new owner, i.e. starting after the reassignment, are not the borrower's)
  and the inferred new number. ``call_partner`` = 1 for any such record;
  ``call_volume = log1p(calls) / log1p(200)``,
  ``talk_time = log1p(minutes talked in the 90 days before as_of) /
  log1p(600)`` (records pro-rated over their span: talk time is the
  usual measure of tie strength in phone data),
  ``call_recency = exp(-(as_of - last_at) / 30)``, ``reciprocity =
  min(a->b, b->a) / max(a->b, b->a)``, ``call_duration =
  log1p(seconds / calls) / log1p(600)``, each capped at 1.
- *new number* (:func:`takeover`): a phone not registered to anyone that
  calls the *circle* of a dead registered number (its call partners and
  the borrower's listed contacts), each call pair starting after the dead
  number's last call with that partner; partners count by rarity.
- *links*: another borrower's number reached over a shared address
  (household), device (shared_device) or employer (colleague_link),
  weighted by the rarity of the shared identifier; ``workplace`` is a
  switchboard of the borrower's employer.
- *rarity* of a node with whole-graph degree ``d``:
  ``r = 1 / sqrt(max(1, d / 10))``.
- *structure* (:func:`structure`): the borrower's neighbourhood ``N(b)`` is
  the phones that called or were called by the borrower's numbers and the
  phones the borrower lists; a candidate ``x`` shares with it the members
  ``q`` of ``N(b)`` that have a CALLED record with ``x``.
  ``common_neighbours = 1 - exp(-cn / 2)``; ``resource_allocation =
  log1p(100 * sum 1/deg(q)) / log1p(100)``; ``adamic_adar = log1p(sum
  1/log(deg(q))) / log1p(10)``; ``jaccard = cn / (|N(b)| + deg(x) - cn)``;
  ``walk2`` is the probability that a two-step walk from the borrower's
  numbers over call strength (``(0.2 + log1p(calls)) * (0.3 + 0.7 *
  exp(-age / 30))``; listings count as a call of strength 1) ends at
  ``x``, as ``log1p(100 * p) / log1p(100)``. All capped at 1.
- *broadcast*: a number that many people have but that keeps no real
  conversation going (a courier, a switchboard, an agent):
  ``(1 - rarity(deg(x))) * (1 - reciprocity) * shortness`` over the
  candidate's CALLED records in the ego graph, ``shortness = 1 -
  log1p(seconds per call) / log1p(300)`` (0 when the seconds are unknown:
  short calls are the evidence), reciprocity 0 when it has no call records. A well-connected person
  (reciprocal, long calls) is not penalised for being well connected.
- *outcomes* from the ledger: ``bad_outcome = 1 - exp(-n)`` over attempts on
  the phone that ended wrong_number, refused or opted_out;
  ``good_outcome`` likewise over reached_borrower / reached_third_party /
  promise_to_pay / paid.

Cost: O(E + P * k) for an ego graph of E relationships and P phones with at
most k call partners each, plus the personalised PageRank of
:mod:`skiptrace.contacts.ranking.walk`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from skiptrace.contacts import clock
from skiptrace.contacts.ego import Ego
from skiptrace.contacts.evidence import Evidence, Text
from skiptrace.contacts.ranking.walk import call_strength, personalised_pagerank, weighted_edges
from skiptrace.store.base import Edge, split_id

FEATURES: tuple[str, ...] = (
    "own_active", "own_dead", "new_number", "emergency", "relation_prior", "emergency_first",
    "phonebook", "call_partner", "call_volume", "talk_time", "call_recency", "reciprocity", "call_duration", "in_touch_new",
    "household", "shared_device", "colleague_link", "workplace", "ppr", "broadcast",
    "common_neighbours", "resource_allocation", "adamic_adar", "jaccard", "walk2", "dead_number",
    "bad_outcome", "good_outcome", "hop2", "hop3", "other_borrower",
    "rel_spouse", "rel_parent", "rel_child", "rel_sibling", "rel_relative", "rel_friend",
    "rel_colleague", "rel_other",
)
IDX = {f: i for i, f in enumerate(FEATURES)}

#: prior that a listed relation still reaches the borrower (emergency-contact relation)
RELATION_PRIOR = {"spouse": 1.0, "parent": 0.9, "child": 0.8, "sibling": 0.8, "relative": 0.6,
                  "friend": 0.45, "colleague": 0.3, "other": 0.15}
RECENCY_DAYS = 30.0
DEAD = ("disconnected", "reassigned")
BAD_OUTCOMES = ("wrong_number", "refused", "opted_out")
GOOD_OUTCOMES = ("reached_borrower", "reached_third_party", "promise_to_pay", "paid")
_LINKS = {"LIVES_AT": "household", "USES_DEVICE": "shared_device", "EMPLOYED_BY": "colleague_link",
          "WORKS_AT": "colleague_link"}
_LINK_WORDS = {"household": "lives at the borrower's address", "shared_device":
               "used the borrower's device", "colleague_link": "works with the borrower"}


def rarity(degree: int) -> float:
    """``1 / sqrt(max(1, degree / 10))``: 1 up to ten ties, 0.1 at a thousand."""
    return 1.0 / math.sqrt(max(1.0, degree / 10.0))


class Memo:
    """What :func:`extract` computes more than once per ego graph, computed once: each node's
    degree (``ego.degree``) and each call record's strength (``call_strength`` at ``as_of``).
    The values are exactly those of the plain calls; only the repetition is saved."""

    __slots__ = ("ego", "_deg", "_strength")

    def __init__(self, ego: Ego) -> None:
        self.ego = ego
        self._deg: dict[str, int] = {}
        self._strength: dict[int, float] = {}

    def degree(self, nid: str) -> int:
        d = self._deg.get(nid)
        if d is None:
            d = self._deg[nid] = self.ego.degree(nid)
        return d

    def strength(self, e: Edge) -> float:
        w = self._strength.get(id(e))
        if w is None:
            w = self._strength[id(e)] = call_strength(e, self.ego.as_of)
        return w


@dataclass
class Tie:
    """Calls between a candidate and the borrower's numbers, summed."""

    calls: int = 0
    a2b: int = 0
    b2a: int = 0
    seconds: int = 0
    first: float = math.inf
    last: float = -math.inf
    via: str = ""  # the borrower's number with the most calls
    via_calls: int = 0
    recent_seconds: float = 0.0  # talk time in the TALK_DAYS before as_of

    def add(self, e: Edge, candidate: str, own: str, as_of: float | None = None) -> None:
        ab, ba = int(e.props.get("calls_a_to_b") or 0), int(e.props.get("calls_b_to_a") or 0)
        from_cand = ab if e.src == candidate else ba
        n = ab + ba
        if n > self.via_calls or not self.via:
            self.via, self.via_calls = own, n
        self.calls += n
        self.a2b += from_cand
        self.b2a += n - from_cand
        self.seconds += int(e.props.get("seconds_total") or 0)
        if e.props.get("first_at"):
            self.first = min(self.first, clock.to_days(e.props["first_at"]))
        if e.props.get("last_at"):
            self.last = max(self.last, clock.to_days(e.props["last_at"]))
        if as_of is not None and e.props.get("seconds_total"):
            self.recent_seconds += recent_share(e, as_of) * int(e.props["seconds_total"])


def recent_share(e: Edge, as_of: float, days: float = 90.0) -> float:
    """Share of a call record's span ``first_at..last_at`` inside the ``days`` before ``as_of``
    (calls taken as spread evenly over the span; 1 when its times are unknown)."""
    first, last = e.props.get("first_at"), e.props.get("last_at")
    if not last:
        return 1.0
    end = clock.to_days(last)
    start = clock.to_days(first) if first else end
    lo = as_of - days
    if end <= start:
        return 1.0 if lo <= end <= as_of + 1e-9 else 0.0
    return max(0.0, min(end, as_of) - max(start, lo)) / (end - start)


@dataclass
class Candidate0:
    """What :func:`extract` knows about one candidate phone before scoring."""

    node: str
    phone: str
    hop: int
    name: str | None = None
    relation: str | None = None
    target_role: str = "third_party"
    last_seen: float | None = None
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Features:
    """The candidates of one ego graph: ``X[i]`` holds the features of ``candidates[i]``."""

    candidates: list[Candidate0]
    X: np.ndarray
    new_number: str | None


def _t(e: Edge, key: str) -> float | None:
    v = e.props.get(key)
    return clock.to_days(v) if v else None


def _own_phones(ego: Ego) -> dict[str, Edge]:
    return {o: e for o, e in ego.adj.get(ego.center, ()) if e.type == "HAS_PHONE"}


def _is_stranger_call(ego: Ego, own: str, e: Edge) -> bool:
    """A call record a reassigned number made for its new owner (it starts after reassignment)."""
    props = ego.sub.nodes.get(own, {})
    if props.get("status") != "reassigned" or not props.get("status_at"):
        return False
    first = _t(e, "first_at")
    return first is not None and first >= clock.to_days(props["status_at"]) - 1.0


def registered_owner(ego: Ego, phone: str) -> list[str]:
    """Borrowers and employers with a HAS_PHONE to ``phone`` in the ego graph."""
    return [o for o, e in ego.adj.get(phone, ()) if e.type == "HAS_PHONE" and e.dst == phone]


def takeover(ego: Ego, own: dict[str, Edge]) -> dict[str, tuple[float, list[str], str]]:
    """Score phones that took over a dead registered number's call partners.

    For each dead (disconnected or reassigned) registered number D, the
    circle is D's call partners (weight = rarity) and the borrower's listed
    contacts (weight = rarity / 2). A phone X scores ``sum(weight(Q))`` over
    circle members Q whose calls with X began no earlier than one day
    before D's last call with Q (or, for a listed-only Q, than D's end),
    minus the same sum over those X already called while D was alive.
    Phones registered to anyone, phones already in touch with the
    borrower's numbers (contacts, not the borrower) and phones that took
    over fewer than two circle members (in a world where contacts call each
    other, one new acquaintance is no takeover) are skipped. Returns ``{X: (score,
    partners, D)}`` for positive scores.
    """
    dead = [d for d in own if ego.sub.nodes.get(d, {}).get("status") in DEAD]
    if not dead:
        return {}
    listed = {o: e for o, e in ego.adj.get(ego.center, ()) if e.type == "LISTS_CONTACT"}
    # phones already in touch with the borrower's numbers are contacts, not the borrower
    partners = {q for d in own for q, e in ego.adj.get(d, ()) if e.type == "CALLED"}
    best: dict[str, tuple[float, list[str], str]] = {}
    for d in dead:
        circle: dict[str, tuple[float, float]] = {}  # Q -> (weight, D's last call with Q)
        end = -math.inf
        for q, e in ego.adj.get(d, ()):
            if e.type != "CALLED" or q in own or _is_stranger_call(ego, d, e):
                continue
            last = _t(e, "last_at") or -math.inf
            end = max(end, last)
            circle[q] = (rarity(ego.degree(q)), last)
        if end == -math.inf:
            hp = own[d]
            end = _t(hp, "last_seen") or _t(hp, "first_seen") or -math.inf
            st = ego.sub.nodes[d].get("status_at")
            if st and ego.sub.nodes[d].get("status") == "disconnected":
                end = max(end, clock.to_days(st) - 1.0) if end > -math.inf else clock.to_days(st) - 1.0
        for q in listed:
            if q not in circle and q not in own:
                circle[q] = (0.5 * rarity(ego.degree(q)), end)
        gain: dict[str, float] = {}
        overlap: dict[str, float] = {}
        who: dict[str, list[str]] = {}
        for q, (w, last) in circle.items():
            for x, e in ego.adj.get(q, ()):
                if e.type != "CALLED" or x == d or x in own or x == ego.center:
                    continue
                first = _t(e, "first_at")
                if first is None:
                    continue
                if first >= last - 1.0:
                    gain[x] = gain.get(x, 0.0) + w
                    who.setdefault(x, []).append(q)
                else:
                    overlap[x] = overlap.get(x, 0.0) + w
        for x, g in gain.items():
            s = g - overlap.get(x, 0.0)
            if s <= 0 or len(set(who[x])) < 2 or x in partners or registered_owner(ego, x):
                continue
            if x not in best or s > best[x][0]:
                best[x] = (s, sorted(who[x]), d)
    return best


def extract(ego: Ego) -> Features:
    """Candidates and features of an ego graph (see the module docstring)."""
    nodes, adj, center, as_of = ego.sub.nodes, ego.adj, ego.center, ego.as_of
    phones = sorted(n for n in ego.sub.hops if n.startswith("Phone:") and n in adj)
    own = _own_phones(ego)
    hops = ego.sub.hops
    cand: dict[str, Candidate0] = {p: Candidate0(p, p[6:], hops.get(p, 9)) for p in phones}
    n_feat = len(FEATURES)
    X = {p: [0.0] * n_feat for p in phones}  # rows as lists (cheaper to set than arrays)
    memo = Memo(ego)

    def setf(p: str, f: str, v: float) -> None:
        row, i = X[p], IDX[f]
        row[i] = max(row[i], min(1.0, max(0.0, v)))

    # -- the borrower's registered numbers and the inferred new number -------------
    for p, e in own.items():
        c = cand.get(p)
        if c is None:
            continue
        st = nodes.get(p, {}).get("status")
        c.target_role, c.relation, c.name = "borrower", "self", ego.borrower.get("full_name")
        role = e.props.get("role") or "registered"
        if st in DEAD:
            setf(p, "own_dead", 1.0)
            when = nodes[p].get("status_at")
            why = f"the borrower's {role} number, {st}" + (f" since {clock.date(clock.to_days(when), ego.timezone)}" if when else "")
        else:
            setf(p, "own_active", 1.0)
            why = f"the borrower's {role} number" + (", verified" if e.props.get("verified") else "")
        c.evidence.append(Evidence("own_dead" if st in DEAD else "own_active",
                                   (center, "HAS_PHONE", p), Text(why)))
        ls = _t(e, "last_seen")
        if ls is not None:
            c.last_seen = ls
    taken = takeover(ego, own)
    new_number, new_conf = None, 0.0
    for x, (s, partners, d) in sorted(taken.items(), key=lambda kv: (-kv[1][0], kv[0])):
        conf = 1.0 - math.exp(-s / 1.5)
        if new_number is None:
            new_number, new_conf = x, conf
        c = cand.get(x)
        if c is None:
            continue
        setf(x, "new_number", conf)
        c.target_role, c.relation = "borrower", "new_number"
        q = partners[0]
        c.evidence.append(Evidence(
            "new_number", (center, "HAS_PHONE", d, "CALLED", q, "CALLED", x),
            Text(f"took over {len(partners)} of the call partners of the borrower's dead number {{d}}"
                 f" after it went silent", phones={"d": split_id(d)[1]})))

    # -- listings: emergency contacts (in listed order) and phonebook ---------------
    listings = [(o, e) for o, e in adj.get(center, ()) if e.type == "LISTS_CONTACT"]
    ec = sorted((e for o, e in listings if e.props.get("source") == "emergency"),
                key=lambda e: (e.props.get("listed_at") or "", e.dst))
    for pos, e in enumerate(ec):
        p = e.dst
        if p not in cand:
            continue
        c = cand[p]
        rel = e.props.get("relation") or "other"
        setf(p, "emergency", 1.0)
        setf(p, "relation_prior", RELATION_PRIOR.get(rel, 0.15))
        if f"rel_{rel}" in IDX:
            setf(p, f"rel_{rel}", 1.0)
        setf(p, "emergency_first", 1.0 / (1 + pos))
        if c.target_role != "borrower":
            c.relation = rel
            c.name = e.props.get("name") or c.name
        when = e.props.get("listed_at")
        names = {"n": e.props["name"]} if e.props.get("name") else {}
        who = f" {{n}}" if names else ""
        c.evidence.append(Evidence("emergency", (center, "LISTS_CONTACT", p), Text(
            f"emergency contact ({rel}){who}" + (f", listed {clock.date(clock.to_days(when), ego.timezone)}" if when else ""),
            names=names)))
    for o, e in listings:
        if e.props.get("source") != "phonebook" or o not in cand:
            continue
        c = cand[o]
        setf(o, "phonebook", 1.0)
        if c.name is None and e.props.get("name"):
            c.name = e.props["name"]
        if c.relation is None:
            c.relation = "contact"
        names = {"n": e.props["name"]} if e.props.get("name") else {}
        c.evidence.append(Evidence("phonebook", (center, "LISTS_CONTACT", o), Text(
            "in the borrower's phonebook" + (" as {n}" if names else ""), names=names)))
        cap = _t(e, "captured_at")
        if cap is not None and (c.last_seen is None or cap > c.last_seen):
            c.last_seen = cap

    # -- call ties with the borrower's numbers and with the inferred new number -----
    ties: dict[str, Tie] = {}
    for d in own:
        for q, e in adj.get(d, ()):
            if e.type == "CALLED" and q in cand and q != d and not _is_stranger_call(ego, d, e):
                ties.setdefault(q, Tie()).add(e, q, d, as_of)
    for q, t in ties.items():
        _set_tie(setf, q, t, as_of)
        c = cand[q]
        if t.last > -math.inf and (c.last_seen is None or t.last > c.last_seen):
            c.last_seen = min(t.last, as_of)
        if c.relation is None:
            c.relation = "call_partner"
        when = f", last on {clock.date(min(t.last, as_of), ego.timezone)}" if t.last > -math.inf else ""
        c.evidence.append(Evidence("call_volume", (center, "HAS_PHONE", t.via, "CALLED", q), Text(
            f"{t.calls} calls with the borrower's number{when}")))
    if new_number is not None:
        for q, e in adj.get(new_number, ()):
            if e.type != "CALLED" or q not in cand or q in own:
                continue
            t = Tie()
            t.add(e, q, new_number)
            known = t.last > -math.inf
            rec = math.exp(-max(0.0, as_of - t.last) / RECENCY_DAYS) if known else 0.5
            setf(q, "in_touch_new", new_conf * rec * min(1.0, math.log1p(t.calls) / math.log1p(20)))
            d, via = taken[new_number][2], [x for x in taken[new_number][1] if x != q]
            cand[q].evidence.append(Evidence(
                "in_touch_new", (center, "HAS_PHONE", d, "CALLED", via[0], "CALLED", new_number,
                                 "CALLED", q) if via else (center, "HAS_PHONE", d, "CALLED", q),
                Text(f"{t.calls} calls with the borrower's probable new number {{x}}"
                     + (f", last on {clock.date(min(t.last, as_of), ego.timezone)}" if known else ""),
                     phones={"x": split_id(new_number)[1]})))
            if known and (cand[q].last_seen is None or t.last > cand[q].last_seen):
                cand[q].last_seen = min(t.last, as_of)

    # -- other borrowers' numbers over shared identifiers; the employer's switchboard -
    for ident, e in adj.get(center, ()):
        kind = _LINKS.get(e.type)
        if kind is None:
            continue
        w_ident = rarity(ego.degree(ident))
        for other, e2 in adj.get(ident, ()):
            if other == center:
                continue
            if other.startswith("Phone:") and e2.type == "HAS_PHONE" and other in cand:
                setf(other, "workplace", 1.0)
                c = cand[other]
                if c.relation is None:
                    c.relation = "workplace"
                c.name = c.name or nodes.get(ident, {}).get("name")
                c.evidence.append(Evidence("workplace", (center, e.type, ident, "HAS_PHONE", other),
                                           Text("switchboard of the borrower's employer")))
                continue
            if not other.startswith("Borrower:") or e2.type != e.type:
                continue
            for ph, e3 in adj.get(other, ()):
                if e3.type != "HAS_PHONE" or ph not in cand or ph in own:
                    continue
                st = nodes.get(ph, {}).get("status")
                setf(ph, kind, w_ident * (0.3 if st in DEAD else 1.0))
                c = cand[ph]
                if c.relation in (None, "contact", "call_partner"):
                    c.relation = {"household": "household", "shared_device": "shared_device",
                                  "colleague_link": "colleague"}[kind]
                bname = nodes.get(other, {}).get("full_name")
                if c.name is None and bname:
                    c.name = bname
                names = {"n": bname} if bname else {}
                c.evidence.append(Evidence(kind, (center, e.type, ident, e2.type, other, "HAS_PHONE", ph), Text(
                    (f"number of borrower {split_id(other)[1]}" + (" ({n})" if names else "")
                     + f", who {_LINK_WORDS[kind]}"), names=names)))

    # -- shared call and listing neighbourhood -------------------------------------------
    for p, sh in structure(ego, own, memo).items():
        if p not in cand or p in own:
            continue
        for f, v in sh.values.items():
            X[p][IDX[f]] = v
        cand[p].evidence.append(Evidence("resource_allocation", sh.path + ("CALLED", p), Text(
            f"in touch with {sh.count} of the borrower's contacts")))

    # -- graph position: personalised PageRank, hops, rarity, status -----------------
    ppr = personalised_pagerank(ego, weighted_edges(ego, strength=memo.strength,
                                                    degree=memo.degree))
    top = max((ppr.get(p, 0.0) for p in phones), default=0.0) or 1.0
    # phones registered (HAS_PHONE) to another borrower of the ego graph
    other_owned = {e.dst for e in ego.edges if e.type == "HAS_PHONE"
                   and e.src.startswith("Borrower:") and e.src != center and e.src != e.dst}
    hubs = broadcasts(ego, [p for p in phones if p not in own], memo)
    i_ppr, i_bc, i_dead, i_h2, i_h3, i_ob = (IDX[f] for f in (
        "ppr", "broadcast", "dead_number", "hop2", "hop3", "other_borrower"))
    for p in phones:
        x = X[p]
        c = cand[p]
        x[i_ppr] = ppr.get(p, 0.0) / top
        mine = p in own
        if not mine:
            x[i_bc] = hubs[p]
        st = nodes.get(p, {}).get("status")
        if st in DEAD and not mine:
            x[i_dead] = 1.0
            c.evidence.append(Evidence("dead_number", (p,), Text(f"the number is {st}")))
        h = c.hop
        x[i_h2] = 1.0 if h == 2 else 0.0
        x[i_h3] = 1.0 if h >= 3 else 0.0
        if not mine and p in other_owned:
            x[i_ob] = 1.0
        if c.relation is None:
            c.relation = "network"

    # -- ledger outcomes ---------------------------------------------------------------
    bad: dict[str, int] = {}
    good: dict[str, int] = {}
    for a in ego.ledger.attempts:
        tp = a.get("target_phone")
        if not tp:
            continue
        p = "Phone:" + tp
        if p not in cand:
            continue
        out = a.get("outcome")
        if out in BAD_OUTCOMES:
            bad[p] = bad.get(p, 0) + 1
        elif out in GOOD_OUTCOMES:
            good[p] = good.get(p, 0) + 1
    for p, n in bad.items():
        X[p][IDX["bad_outcome"]] = 1.0 - math.exp(-n)
        cand[p].evidence.append(Evidence("bad_outcome", (center, "ATTEMPTED", p),
                                         Text(f"{n} earlier attempt(s) ended wrong number, refused or opted out")))
    for p, n in good.items():
        X[p][IDX["good_outcome"]] = 1.0 - math.exp(-n)
        cand[p].evidence.append(Evidence("good_outcome", (center, "ATTEMPTED", p),
                                         Text(f"{n} earlier attempt(s) reached someone")))
    mat = (np.array([X[p] for p in phones], dtype=np.float64) if phones
           else np.zeros((0, n_feat)))
    return Features([cand[p] for p in phones], mat, new_number)


@dataclass
class Shared:
    """What a candidate shares with the borrower's neighbourhood (see :func:`structure`)."""

    values: dict[str, float]  # the structural features
    count: int                # shared contacts
    path: tuple[str, ...]     # from the borrower to the strongest shared contact


def structure(ego: Ego, own: dict[str, Edge], memo: Memo | None = None) -> dict[str, Shared]:
    """Common-neighbour scores of every phone that shares call partners or listings with the
    borrower (definitions in the module docstring), with the path to the strongest shared
    contact. Cost: O(sum of the ego degrees of N(b)).
    """
    memo = memo or Memo(ego)
    strength, degree = memo.strength, memo.degree
    center, adj = ego.center, ego.adj
    nb: dict[str, float] = {}                 # N(b): member -> strength of its tie with the borrower
    path_to: dict[str, tuple[str, ...]] = {}  # member -> path from the borrower
    for d in own:
        for q, e in adj.get(d, ()):
            if e.type != "CALLED" or q in own or q == d or _is_stranger_call(ego, d, e):
                continue
            w = strength(e)
            nb[q] = nb.get(q, 0.0) + w
            path_to.setdefault(q, (center, "HAS_PHONE", d, "CALLED", q))
    for q, e in adj.get(center, ()):
        if e.type == "LISTS_CONTACT" and q not in own:
            nb[q] = nb.get(q, 0.0) + 1.0
            path_to[q] = (center, "LISTS_CONTACT", q)
    total = sum(nb.values()) or 1.0
    cn: dict[str, int] = {}
    ra: dict[str, float] = {}
    aa: dict[str, float] = {}
    walk: dict[str, float] = {}
    best: dict[str, tuple[float, str]] = {}
    for q in sorted(nb):
        calls = [(x, e) for x, e in adj.get(q, ()) if e.type == "CALLED" and x != q and x not in own]
        if not calls:
            continue
        deg = degree(q)
        strengths = [strength(e) for _, e in calls]
        out = sum(strengths)
        p_q = nb[q] / total
        inv_deg = 1.0 / deg
        inv_log = 1.0 / math.log(max(deg, 2))
        for (x, _), w in zip(calls, strengths):
            if x in cn:
                cn[x] += 1
                ra[x] += inv_deg
                aa[x] += inv_log
                step = p_q * w / out
                walk[x] += step
                if step > best[x][0]:
                    best[x] = (step, q)
            else:
                cn[x] = 1
                ra[x] = 0.0 + inv_deg
                aa[x] = 0.0 + inv_log
                step = p_q * w / out
                walk[x] = 0.0 + step
                best[x] = (step, q)
    res = {}
    size = len(nb)
    for x in cn:
        c = cn[x]
        vals = {"common_neighbours": 1.0 - math.exp(-c / 2.0),
                "resource_allocation": min(1.0, math.log1p(100.0 * ra[x]) / math.log1p(100.0)),
                "adamic_adar": min(1.0, math.log1p(aa[x]) / math.log1p(10.0)),
                "jaccard": min(1.0, c / max(1.0, size + degree(x) - c)),
                "walk2": min(1.0, math.log1p(100.0 * walk[x]) / math.log1p(100.0))}
        res[x] = Shared(vals, c, path_to[best[x][1]])
    return res


def broadcast(ego: Ego, p: str) -> float:
    """How much ``p`` looks like a broadcast hub (see the module docstring), in [0, 1]."""
    hi = lo = calls = secs = 0
    timed = False
    for _, e in ego.adj.get(p, ()):
        if e.type != "CALLED":
            continue
        ab, ba = int(e.props.get("calls_a_to_b") or 0), int(e.props.get("calls_b_to_a") or 0)
        hi += max(ab, ba)
        lo += min(ab, ba)
        calls += ab + ba
        if e.props.get("seconds_total") is not None:
            timed = True
            secs += int(e.props.get("seconds_total") or 0)
    recip = lo / hi if hi else 0.0
    short = 1.0 - min(1.0, math.log1p(secs / calls) / math.log1p(300.0)) if timed and calls else 0.0
    return (1.0 - rarity(ego.degree(p))) * (1.0 - recip) * short


def broadcasts(ego: Ego, phones: Iterable[str], memo: Memo | None = None) -> dict[str, float]:
    """:func:`broadcast` of each of ``phones`` (the same values), from one pass over the ego
    graph's call records instead of one pass over each phone's relationships."""
    memo = memo or Memo(ego)
    sums: dict[str, list] = {}  # phone -> [hi, lo, calls, secs, timed]
    for e in ego.edges:
        if e.type != "CALLED":
            continue
        props = e.props
        ab, ba = int(props.get("calls_a_to_b") or 0), int(props.get("calls_b_to_a") or 0)
        st = props.get("seconds_total")
        sec = None if st is None else int(st or 0)
        hi, lo = max(ab, ba), min(ab, ba)
        for end in ((e.src,) if e.src == e.dst else (e.src, e.dst)):
            acc = sums.get(end)
            if acc is None:
                acc = sums[end] = [0, 0, 0, 0, False]
            acc[0] += hi
            acc[1] += lo
            acc[2] += ab + ba
            if sec is not None:
                acc[3] += sec
                acc[4] = True
    out = {}
    for p in phones:
        hi, lo, calls, secs, timed = sums.get(p) or (0, 0, 0, 0, False)
        recip = lo / hi if hi else 0.0
        short = (1.0 - min(1.0, math.log1p(secs / calls) / math.log1p(300.0))
                 if timed and calls else 0.0)
        out[p] = (1.0 - rarity(memo.degree(p))) * (1.0 - recip) * short
    return out


def _set_tie(setf, q: str, t: Tie, as_of: float) -> None:
    setf(q, "call_partner", 1.0)
    setf(q, "call_volume", math.log1p(t.calls) / math.log1p(200))
    if t.last > -math.inf:
        setf(q, "call_recency", math.exp(-max(0.0, as_of - t.last) / RECENCY_DAYS))
    if t.calls:
        hi = max(t.a2b, t.b2a)
        setf(q, "reciprocity", min(t.a2b, t.b2a) / hi if hi else 0.0)
        setf(q, "call_duration", math.log1p(t.seconds / t.calls) / math.log1p(600))
    setf(q, "talk_time", math.log1p(t.recent_seconds / 60.0) / math.log1p(600.0))
