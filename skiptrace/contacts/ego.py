"""The borrower's ego graph: the one store read behind ``find``.

:func:`fetch` reads the typed, fan-out capped neighbourhood
(:func:`typed_neighbourhood`, a handful of queries over the store
primitives) and the ledger, and returns an :class:`Ego`
with adjacency lists, the time horizon ``as_of`` and everything later
stages need. Nothing after this touches the store, so both stores give the
same ego graph, hence the same ranking.
"""
from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import islice
from contextlib import contextmanager
from dataclasses import dataclass, field

from skiptrace.contacts import clock
from skiptrace.errors import SkiptraceError
from skiptrace.store.base import Edge, GraphStore, Ledger, Props, Subgraph, node_id

#: relationship types the ego graph follows (MEMBER_OF is left out: rings are not contact points)
EGO_TYPES = ("CALLED", "EMPLOYED_BY", "HAS_PHONE", "LISTS_CONTACT", "LIVES_AT", "USES_DEVICE",
             "WORKS_AT")
#: a node with more relationships than this is kept but not expanded (couriers, switchboards);
#: the borrower's own numbers are always expanded. ``find --max-fanout`` overrides it. At 200
#: it hid a share of the two-step partners on the Enron e-mail network (coverage 0.903 vs 0.918,
#: bench/RESULTS.md, linkpred); at 1000 none, with the same quality on generated worlds.
MAX_FANOUT = 1000
#: what a node other than the borrower is expanded along, by label: phones to their call
#: partners and registered owners (not to everyone whose phonebook lists them), other
#: borrowers to their own numbers only, shared identifiers to whoever shares them
EXPAND: dict[str, tuple[str, ...]] = {
    "Phone": ("CALLED", "HAS_PHONE"),
    "Borrower": ("HAS_PHONE",),
    "Address": ("LIVES_AT", "WORKS_AT"),
    "Device": ("USES_DEVICE",),
    "Employer": ("EMPLOYED_BY", "HAS_PHONE"),
}

#: when a relationship began, in order of preference; a phonebook entry is known from its
#: capture (``captured_at`` keeps the latest capture, so an entry captured twice counts
#: from the second: conservative for a past ``as_of``)
_FIRST_KEYS = ("first_at", "first_seen", "listed_at", "since", "captured_at")
_TIME_KEYS = ("last_at", "last_seen", "captured_at", "status_at", "first_at", "first_seen",
              "listed_at", "since")


@contextmanager
def few_collections(gen0: int = 100_000) -> Iterator[None]:
    """Run with the cyclic garbage collector's first threshold raised to ``gen0`` allocations.

    A batch of ego graphs allocates a few hundred thousand small objects (ego graphs: edges, property
    dicts; candidates and their evidence), nearly none of them in reference cycles; at the
    default threshold (700) the collector ran thousands of times a batch, each young pass
    promoting survivors that the old passes then traverse again: about a quarter of find's
    CPU time on the 20k world (plan's chunks, the reachability features' batch).
    Results are the same."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], gen0), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


class UnknownBorrower(SkiptraceError):
    """The borrower id is not in the store."""


@dataclass
class Ego:
    """The typed neighbourhood of one borrower, cut at ``as_of``.

    ``adj[n]`` lists ``(other, edge)`` for every relationship of ``n`` in the
    ego graph; edges that start after ``as_of`` are dropped (they did not
    exist yet) and attempts after ``as_of`` are left out of the ledger.
    """

    borrower_id: str
    center: str
    borrower: Props
    sub: Subgraph
    ledger: Ledger
    as_of: float
    as_of_given: bool
    edges: list[Edge]
    adj: dict[str, list[tuple[str, Edge]]] = field(default_factory=dict)

    @property
    def timezone(self) -> str | None:
        return self.borrower.get("timezone")

    def degree(self, nid: str) -> int:
        """Whole-graph degree when the store reported it, else the ego-graph degree."""
        return self.sub.degree.get(nid) or len(self.adj.get(nid, ())) or 1


def _edge_start(e: Edge) -> float | None:
    for k in _FIRST_KEYS:
        v = e.props.get(k)
        if v:
            return clock.to_days(v)
    return None


def clip(e: Edge, cut: float) -> Edge:
    """The relationship as the lender could have seen it at ``cut``.

    A call record aggregates a pair's calls from ``first_at`` to
    ``last_at``; one that began before ``cut`` and ended after it is
    pro-rated, assuming the calls were spread evenly over its span: counts
    and seconds are scaled by the share of the span before ``cut`` (at least
    one call, since the first was before it) and ``last_at`` becomes
    ``cut``. A ``last_seen`` after ``cut`` becomes ``cut``. Anything else is
    returned as it is.
    """
    props = e.props
    cut_iso: str | None = None
    last = props.get("last_at")
    if e.type == "CALLED" and last and clock.to_days(last) > cut:
        first = clock.to_days(props["first_at"]) if props.get("first_at") else None
        end = clock.to_days(last)
        share = 1.0 if first is None or end <= first else max(0.0, (cut - first) / (end - first))
        props = dict(props)
        ab0, ba0 = props.get("calls_a_to_b") or 0, props.get("calls_b_to_a") or 0
        ab, ba = round(ab0 * share), round(ba0 * share)
        if ab + ba == 0:  # the first call was before the cut
            ab, ba = (1, 0) if ab0 >= ba0 else (0, 1)
        props["calls_a_to_b"], props["calls_b_to_a"] = ab, ba
        if props.get("seconds_total") is not None:
            props["seconds_total"] = round(props["seconds_total"] * share)
        cut_iso = clock.iso(cut)
        props["last_at"] = cut_iso
    seen = props.get("last_seen")
    if seen and clock.to_days(seen) > cut:
        props = dict(props) if props is e.props else props
        props["last_seen"] = cut_iso or clock.iso(cut)
    return e if props is e.props else Edge(e.type, e.src, e.dst, props)


def newest_time(edges: list[Edge], ledger: Ledger) -> float | None:
    """The latest time stamp on any edge or ledger row (the extract's date), or None."""
    best: str | None = None
    for e in edges:
        for k in _TIME_KEYS:
            v = e.props.get(k)
            if v and (best is None or v > best):
                best = v
    for a in ledger.attempts:
        v = a.get("at")
        if v and (best is None or v > best):
            best = v
    for p in ledger.payments:
        v = p.get("paid_at")
        if v and (best is None or v > best):
            best = v
    return clock.to_days(best) if best else None


def typed_neighbourhood(store: GraphStore, center: str, *, hops: int = 3,
                        max_fanout: int = MAX_FANOUT) -> Subgraph:
    """Breadth-first neighbourhood of ``center`` that expands each label only along :data:`EXPAND`.

    The borrower follows every type in :data:`EGO_TYPES`; from hop 2 on, a
    phone is expanded only if it is a call partner of one of the borrower's
    registered numbers (where a new number shows itself). Like
    :meth:`GraphStore.neighbourhood` (whose subgraph it returns) it keeps but
    does not expand nodes whose whole-graph degree exceeds ``max_fanout``,
    and reports the whole-graph degree of every node it considered, so
    rarity weighting sees couriers and switchboards for what they are. A
    plain :meth:`~GraphStore.neighbourhood` over the same types would also
    pull in, at hop 2, every borrower whose phonebook shares an entry with
    this one and, at hop 3, all of their phonebooks: about twenty times the
    nodes, none of them a reason to reach this borrower.

    Cost: per hop one degree query and one edge query per label in the
    frontier (at most ``1 + len(EXPAND)``); then one node query.
    """
    return store.neighbourhood(center, hops, max_fanout=max_fanout, policy=_EgoPolicy(center))


class _EgoPolicy:
    """The :class:`~skiptrace.store.base.ExpansionPolicy` of the ego graph."""

    def __init__(self, center: str) -> None:
        self.center = center
        self.own: set[str] = set()       # the borrower's registered numbers
        self.partners: set[str] = set()  # call partners of those numbers

    @property
    def always_expand(self) -> set[str]:
        return self.own

    def follow(self, node: str, hop: int) -> tuple[str, ...]:
        if node == self.center:
            return EGO_TYPES
        if hop >= 2 and node.startswith("Phone:") and node not in self.partners:
            return ()  # a phone two steps out matters only as a partner of the borrower's numbers
        return EXPAND.get(node.partition(":")[0], ())

    def observe(self, e: Edge) -> None:
        if e.type == "HAS_PHONE" and e.src == self.center:
            self.own.add(e.dst)
        elif e.type == "CALLED" and (e.src in self.own or e.dst in self.own):
            self.partners.add(e.dst if e.src in self.own else e.src)


def fetch(store: GraphStore, borrower_id: str, *, max_hops: int = 3, as_of: object = None,
          max_fanout: int = MAX_FANOUT, now: float | None = None) -> Ego:
    """Read the ego graph of ``borrower_id`` to ``max_hops`` hops and its ledger.

    ``as_of`` (ISO string, date or datetime; naive values are read in the
    borrower's timezone) defaults to the newest time stamp in the ego graph
    and the ledger, or ``now`` (default: the clock) when there is none.

    Cost: see :func:`typed_neighbourhood` (about ``4 * max_hops`` queries),
    plus one ledger query.
    """
    center = node_id("Borrower", borrower_id)

    def read() -> tuple[Subgraph, Ledger]:  # several queries: one published state (a load's)
        sub = typed_neighbourhood(store, center, hops=max_hops, max_fanout=max_fanout)
        if center not in sub.nodes or not sub.nodes[center]:
            got = store.get_nodes([center])
            if center not in got:
                raise UnknownBorrower(f"no borrower {borrower_id!r} in the store")
            sub.nodes[center] = got[center]
        return sub, store.ledger(borrower_id)
    sub, led = store.consistent(read)
    cut = clock.parse_as_of(as_of, sub.nodes[center].get("timezone"))
    return build(borrower_id, sub, led, cut, now=now)


#: borrowers whose ego graphs :func:`fetch_many` reads together (enough that the per-query
#: overhead and the nodes they share are paid once; few enough to keep memory small)
BATCH = 64


def fetch_many(store: GraphStore, borrower_ids: Iterable[str], *, max_hops: int = 3,
               as_of: object = None, max_fanout: int = MAX_FANOUT, now: float | None = None,
               batch: int = BATCH) -> Iterator[Ego | UnknownBorrower]:
    """:func:`fetch` for each borrower, lazily, reading ``batch`` ego graphs at a time.

    Yields, in input order, each borrower's :class:`Ego`, exactly as
    :func:`fetch` returns it, or the :class:`UnknownBorrower` error
    :func:`fetch` would raise for it (the caller decides when to raise).
    The graph reads of a batch go through :meth:`GraphStore.neighbourhoods`:
    per hop one degree query and one expand for the union of the batch's
    frontiers instead of one per borrower.

    Cost: per batch about ``2 * max_hops + 2`` store queries (each over the
    union of the batch's frontiers), plus one ledger query per borrower.

    Example
    -------
    >>> [e.borrower_id for e in fetch_many(store, ["B1", "B2"])]  # doctest: +SKIP
    ['B1', 'B2']
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, not {batch}")
    it = iter(borrower_ids)
    while chunk := list(islice(it, batch)):
        centers = [node_id("Borrower", b) for b in chunk]
        shared: dict = {}  # the batch's subgraphs share relationship objects: cut each once

        def read(chunk=chunk, centers=centers):  # one published state for the whole batch
            subs = store.neighbourhoods(centers, max_hops, max_fanout=max_fanout,
                                        policies=[_EgoPolicy(c) for c in centers])
            lacking = [c for c, sub in zip(centers, subs) if c not in sub.nodes or not sub.nodes[c]]
            got = store.get_nodes(lacking) if lacking else {}
            leds = {b: store.ledger(b) for b, c, sub in zip(chunk, centers, subs)
                    if (c in sub.nodes and sub.nodes[c]) or c in got}
            return subs, got, leds
        subs, got, leds = store.consistent(read)
        for b, center, sub in zip(chunk, centers, subs):
            if center not in sub.nodes or not sub.nodes[center]:
                if center not in got:
                    yield UnknownBorrower(f"no borrower {b!r} in the store")
                    continue
                sub.nodes[center] = dict(got[center])
            led = leds[b]
            cut = clock.parse_as_of(as_of, sub.nodes[center].get("timezone"))
            yield build(b, sub, led, cut, now=now, shared=shared)


def build(borrower_id: str, sub: Subgraph, ledger: Ledger, as_of: float | None, *,
          edges: list[Edge] | None = None, now: float | None = None,
          shared: dict | None = None) -> Ego:
    """The :class:`Ego` of a subgraph read from the store, cut at ``as_of`` (a day number;
    None: the newest time stamp in it, else ``now``, else the clock). ``edges`` replaces the
    subgraph's relationships (to hide some, as self-supervised training does).

    ``shared``: a dict kept across the ego graphs of one batch read (whose subgraphs share
    relationship objects): each relationship's cut (kept or not, and :func:`clip`) is worked
    out once per cut time and reused, with the same result."""
    center = node_id("Borrower", borrower_id)
    borrower = sub.nodes[center]
    led = ledger
    all_edges = sub.edges if edges is None else edges
    cut = as_of
    given = cut is not None
    if cut is None:
        cut = newest_time(all_edges, led)
    if cut is None:
        import time

        cut = (now if now is not None else time.time() / 86400.0)
    if shared is not None:
        kept = _cut_shared(all_edges, cut, given, shared)
    else:
        kept = [e for e in all_edges if (s := _edge_start(e)) is None or s <= cut + 1e-9]
        if given:
            kept = [clip(e, cut) for e in kept]
    if given:
        led = Ledger(led.borrower_id,
                     [a for a in led.attempts if not a.get("at") or clock.to_days(a["at"]) <= cut],
                     [p for p in led.payments if clock.to_days(p["paid_at"]) <= cut])
    adj: dict[str, list[tuple[str, Edge]]] = defaultdict(list)
    for e in kept:
        adj[e.src].append((e.dst, e))
        if e.dst != e.src:
            adj[e.dst].append((e.src, e))
    return Ego(borrower_id, center, borrower, sub, led, cut, given, kept, dict(adj))


def _cut_shared(edges: list[Edge], cut: float, given: bool, shared: dict) -> list[Edge]:
    """``build``'s kept (and, when ``given``, clipped) relationships, memoised in ``shared`` by
    (relationship, cut, given); the relationship is kept in the entry so its id stays its own."""
    out = []
    for e in edges:
        key = (id(e), cut, given)
        hit = shared.get(key)
        if hit is None:
            s = _edge_start(e)
            keep = s is None or s <= cut + 1e-9
            hit = shared[key] = (e, (clip(e, cut) if given else e) if keep else None)
        if hit[1] is not None:
            out.append(hit[1])
    return out


def seen_at(sub: Subgraph, cut: float, *, max_hops: int = 3, max_fanout: int = MAX_FANOUT,
            edges: list[Edge] | None = None) -> Subgraph:
    """The part of ``sub`` that :func:`typed_neighbourhood` would have read at ``cut``.

    :func:`fetch` traverses the store as it is and :func:`build` then drops
    the relationships that began after ``as_of``; the traversal itself still
    followed them. So a number first called after the cut sits at hop 2 (a
    call partner of the borrower's numbers) and was expanded, and every
    degree counts the later relationships. For self-supervised training,
    where the ties after the cut are the labels, that leaks them (hop 2
    against hop 3 tells the new partners from the rest). This re-runs the
    traversal in memory over the relationships of ``sub`` (or ``edges``,
    the same relationships possibly rewritten) that began by ``cut``, with
    the same policy and fan-out decisions (taken on the stored degrees), and
    returns its subgraph: nodes, hops and relationships as of ``cut``, and
    degrees less the relationships in ``sub`` that began after it. Exact
    given ``sub``: a traversal with fewer relationships reaches a subset of
    the nodes, each no closer, so every node it expands was expanded in
    ``sub`` along at least the same types. Cost: O(relationships of ``sub``).
    """
    center = sub.center
    later: dict[str, int] = defaultdict(int)
    inc: dict[str, list[Edge]] = defaultdict(list)
    for e in (sub.edges if edges is None else edges):
        s = _edge_start(e)
        if s is not None and s > cut + 1e-9:
            later[e.src] += 1
            if e.dst != e.src:
                later[e.dst] += 1
            continue
        inc[e.src].append(e)
        if e.dst != e.src:
            inc[e.dst].append(e)
    policy = _EgoPolicy(center)
    hop_of = {center: 0}
    read: dict[int, Edge] = {}
    capped: set[str] = set()
    frontier = [center]

    def over_cap(n: str) -> bool:
        return sub.degree.get(n, 0) > max_fanout and n not in policy.always_expand

    for h in range(max_hops):
        if not frontier:
            break
        nxt: set[str] = set()
        found: list[Edge] = []
        for n in frontier:
            if n != center and over_cap(n):
                capped.add(n)
                continue
            follow = policy.follow(n, h)
            found.extend(e for e in inc.get(n, ()) if e.type in follow and id(e) not in read)
        for e in found:
            if id(e) in read:
                continue
            read[id(e)] = e
            policy.observe(e)
            for end in (e.src, e.dst):
                if end not in hop_of:
                    hop_of[end] = h + 1
                    nxt.add(end)
        frontier = sorted(nxt)
    capped.update(n for n in frontier if over_cap(n))
    order = {id(e): i for i, e in enumerate(sub.edges if edges is None else edges)}
    ids = sorted(hop_of)
    return Subgraph(center=center, nodes={n: sub.nodes.get(n, {}) for n in ids},
                    edges=sorted(read.values(), key=lambda e: order[id(e)]),
                    hops={n: hop_of[n] for n in ids},
                    degree={n: d - later.get(n, 0) for n, d in sub.degree.items() if n in hop_of},
                    capped=capped)
