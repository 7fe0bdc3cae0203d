"""The one storage interface every algorithm talks to.

Two implementations pass the same contract suite (tests/test_store_contract.py):
:class:`skiptrace.store.sqlite.SQLiteStore`, an embedded file and the default,
and :class:`skiptrace.store.neo4j.Neo4jStore`, over Bolt. Algorithms never know
which one runs them (the shape splink gives its database backends).

Nodes are named by a string id ``"Label:key"`` (``"Borrower:B1"``,
``"Phone:+8613800000000"``), the same form the contract uses in evidence
paths. Properties are plain JSON values; times are UTC ISO strings
(``2026-01-31T00:00:00Z``), so string order is time order.
"""
from __future__ import annotations

import abc
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import skiptrace_schema

if TYPE_CHECKING:  # pragma: no cover
    from skiptrace.store.sink import BatchSink

T = TypeVar("T")

Props = dict[str, Any]


def node_id(label: str, key: str) -> str:
    """Return the id of the node with this label and key: ``"Label:key"``."""
    return f"{label}:{key}"


def split_id(nid: str) -> tuple[str, str]:
    """Return ``(label, key)`` of a node id."""
    label, _, key = nid.partition(":")
    if not key:
        raise ValueError(f"not a node id: {nid!r}")
    return label, key


@dataclass(frozen=True)
class Edge:
    """One relationship: ``(src)-[type props]->(dst)``, ids as ``Label:key``."""

    type: str
    src: str
    dst: str
    props: Props = field(default_factory=dict, compare=False, hash=False)

    def other(self, nid: str) -> str:
        """The end of this edge that is not ``nid``."""
        return self.dst if nid == self.src else self.src


def edge_columns(type_: str) -> tuple[str, ...]:
    """Property names of a relationship type in the order of :class:`EdgeList` rows."""
    return _EDGE_COLUMNS[type_]


_EDGE_COLUMNS: dict[str, tuple[str, ...]] = {
    t: tuple(sorted(spec.get("props", {})))
    for t, spec in skiptrace_schema.load()["relationships"].items()
}


class EdgeList:
    """The relationships of one type in a batch, kept as compact rows.

    A row is ``(src, dst, *values)`` with values in :attr:`columns` order
    (None for a missing value): the loader appends rows directly, the
    SQLite store inserts them as they are. ``fixed`` holds values that are
    the same for every row (a phonebook entry's ``source``, an employer
    phone's ``role``); they are left out of the rows, so :attr:`columns` is
    :func:`edge_columns` without them. Iterating yields :class:`Edge`
    objects (fixed values included) for stores that want names.
    """

    __slots__ = ("type", "columns", "rows", "fixed")

    def __init__(self, type_: str, fixed: Props | None = None) -> None:
        self.type = type_
        self.fixed: Props = dict(fixed) if fixed else {}
        every = edge_columns(type_)
        unknown = sorted(set(self.fixed) - set(every))
        if unknown:
            raise ValueError(f"{type_} has no properties {unknown}")
        self.columns = tuple(c for c in every if c not in self.fixed)
        self.rows: list[tuple] = []

    def append(self, edge: Edge) -> None:
        self.rows.append((edge.src, edge.dst, *(edge.props.get(c) for c in self.columns)))

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Edge]:
        cols, t = self.columns, self.type
        base = {c: v for c, v in self.fixed.items() if v is not None}
        for row in self.rows:
            props = dict(base)
            props.update((c, v) for c, v in zip(cols, row[2:]) if v is not None)
            yield Edge(t, row[0], row[1], props)


@dataclass
class Batch:
    """Canonical, validated records ready to upsert, grouped by kind.

    ``nodes[label][key]`` holds the node's properties; ``edges[type]`` the
    relationships (an :class:`EdgeList`; props include identity properties
    such as ``source``). Writing a relationship creates its end nodes (with
    only their key) if they do not exist. ``attempts`` and ``payments`` are ledger rows as
    dicts keyed like the contract's columns. ``audit`` rows (:data:`AUDIT_COLUMNS`,
    :mod:`skiptrace.audit`) are only ever appended: a store inserts them and
    never updates one.
    """

    nodes: dict[str, dict[str, Props]] = field(default_factory=dict)
    edges: dict[str, EdgeList] = field(default_factory=dict)
    attempts: list[Props] = field(default_factory=list)
    payments: list[Props] = field(default_factory=list)
    audit: list[Props] = field(default_factory=list)

    def add_node(self, label: str, key: str, props: Props | None = None) -> str:
        """Add (or merge within this batch) a node; return its id."""
        bucket = self.nodes.setdefault(label, {})
        have = bucket.get(key)
        if have is None:
            bucket[key] = dict(props) if props else {}
        elif props:
            for k, v in props.items():
                if v is not None:
                    have[k] = v
        return node_id(label, key)

    def add_edge(self, type_: str, src: str, dst: str, props: Props | None = None) -> None:
        self.edge_list(type_).append(Edge(type_, src, dst, props or {}))

    def edge_list(self, type_: str, fixed: Props | None = None) -> EdgeList:
        """The batch's rows of ``type_``; ``fixed``: values shared by every row
        (see :class:`EdgeList`). A batch holds one such variant per type."""
        got = self.edges.get(type_)
        if got is None:
            got = self.edges[type_] = EdgeList(type_, fixed)
        elif got.fixed != (fixed or {}):
            raise ValueError(f"this batch already holds {type_} rows with fixed values {got.fixed}")
        return got

    def __len__(self) -> int:
        return (
            sum(len(v) for v in self.nodes.values())
            + sum(len(v) for v in self.edges.values())
            + len(self.attempts)
            + len(self.payments)
            + len(self.audit)
        )


@dataclass
class Counts:
    """Counts by node label, relationship type and ledger table.

    Labels and types with a zero count are omitted, so two stores holding the
    same data give equal ``Counts``.
    """

    nodes: dict[str, int]
    relationships: dict[str, int]
    ledger: dict[str, int]

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {"nodes": dict(sorted(self.nodes.items())),
                "relationships": dict(sorted(self.relationships.items())),
                "ledger": dict(sorted(self.ledger.items()))}


@dataclass
class Subgraph:
    """The typed, weighted neighbourhood of one node.

    ``nodes`` maps id to properties and ``hops`` maps id to its BFS distance
    from ``center``, both in id order; ``degree`` maps every node that was considered for expansion
    to its total degree in the whole graph (all types, both directions), so
    callers can weight by rarity. Nodes whose degree exceeded the fan-out cap
    are listed in ``capped``: they are in the subgraph but were not expanded.
    ``edges`` are sorted by (type, src, dst, identity) for determinism.
    """

    center: str
    nodes: dict[str, Props]
    edges: list[Edge]
    hops: dict[str, int]
    degree: dict[str, int]
    capped: set[str]


@dataclass
class EdgeChunk:
    """A slice of the relationships of one type, as columns (no :class:`Edge` objects).

    ``src[i]`` and ``dst[i]`` are the node ids (``"Label:key"``) of the i-th
    relationship; ``props[name][i]`` its value of a requested property (None
    when missing; bools as bool). Every chunk holds one relationship
    ``type``, so a type code costs nothing per row.
    """

    type: str
    src: list[str]
    dst: list[str]
    props: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.src)


#: ``stream_edge_columns(where=...)``: property name -> the values a kept relationship may have
EdgeFilter = Mapping[str, Collection[Any]]


def _check_where(where: EdgeFilter | None) -> dict[str, frozenset]:
    """``where`` as ``{prop: frozenset(values)}``; None is no value (a missing property
    matches nothing), so it may not be asked for."""
    out: dict[str, frozenset] = {}
    for p, vals in (where or {}).items():
        if isinstance(vals, (str, bytes)):
            raise TypeError(f"where[{p!r}] must be a collection of values, not one string")
        got = frozenset(vals)
        if None in got:
            raise ValueError(f"where[{p!r}]: None is not a value (a missing property matches nothing)")
        out[p] = got
    return out


@dataclass
class NodeChunk:
    """A slice of the nodes of one label, as columns: ``ids`` (``"Label:key"``)
    and ``props[name]`` (None when missing)."""

    label: str
    ids: list[str]
    props: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Ledger:
    """What the lender has done and received for one borrower, oldest first."""

    borrower_id: str
    attempts: list[Props]
    payments: list[Props]


#: the audit table: its columns (``subjects`` is a JSON list of ids; ``at`` a UTC
#: ISO time with microseconds, so string order is time order)
AUDIT_TABLE = "audit"
AUDIT_COLUMNS = ("audit_id", "at", "actor", "command", "subjects", "revealed", "purpose")


class ExpansionPolicy(Protocol):
    """Which relationships :meth:`GraphStore.neighbourhood` follows from a node.

    ``follow(node, hop)`` returns the relationship types to expand ``node``
    along (an empty sequence: do not expand it; None: every type), and
    ``observe(edge)`` sees each relationship once, when first read, so a policy can
    learn from earlier hops (which phones call the borrower's numbers).
    ``always_expand`` holds nodes exempt from the fan-out cap (the borrower's
    own numbers: a busy number of theirs is no courier).
    """

    always_expand: Collection[str]

    def follow(self, node: str, hop: int) -> Sequence[str] | None: ...

    def observe(self, edge: Edge) -> None: ...


class GraphStore(abc.ABC):
    """A graph of borrowers and their identifiers, plus the per-borrower ledger.

    Writes go through :meth:`write`, optionally grouped by :meth:`transaction`
    (one real transaction on both stores). ``atomic_load`` says whether a
    whole load runs as one transaction, through :meth:`publish` (both stores
    do: a load is visible whole or not at all); ``validate_first`` says
    whether the loader reads every file once without writing before it
    starts the transaction (Neo4j: yes, so that bad input costs the server
    nothing; SQLite validates as it writes and rolls back).
    """

    kind: str = "abstract"
    atomic_load: bool = False
    validate_first: bool = False

    def __init__(self) -> None:
        self.schema = skiptrace_schema.load()

    # -- lifecycle ---------------------------------------------------------
    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> "GraphStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abc.abstractmethod
    def apply_schema(self) -> None:
        """Create constraints, indexes and tables; idempotent."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Delete every node, relationship and ledger row (keeps the schema)."""

    @abc.abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one transaction: commit on normal exit, roll
        back on an exception. Nested calls join the outer transaction."""

    def publish(self, write: Callable[[], T]) -> T:
        """Run ``write`` (a whole load's writes) so that it becomes visible at
        once or not at all, and return its result: here, one
        :meth:`transaction`. A store may retry ``write`` from the start after
        a transient failure (so it must be repeatable) and raises
        :class:`StoreError` when nothing was published."""
        with self.transaction():
            return write()

    def consistent(self, read: Callable[[], T]) -> T:
        """Run ``read`` (a reader's several queries) so that all of it sees
        one published state, not the state before a load in one query and
        after it in the next. A store may run ``read`` more than once (Neo4j
        runs it again when a load was published during it), so ``read`` must
        have no effect but its result: materialise what it streams, write
        nothing. Nested calls join the outermost one. Here: just ``read()``."""
        return read()

    # -- writes ------------------------------------------------------------
    @abc.abstractmethod
    def write(self, batch: Batch) -> None:
        """Upsert a batch, merging properties by the schema's merge rules."""

    def flush(self) -> None:
        """Make buffered writes durable within the open transaction (a hint:
        the loader calls it after each input file; a no-op by default)."""

    def sink(self, total_bytes: int = 0) -> "BatchSink":
        """Where a loader sends its batches (:mod:`skiptrace.store.sink`);
        ``total_bytes`` is the size of the input, a hint for chunking. The
        default runs :meth:`write` on a background thread."""
        from skiptrace.store.sink import ThreadedSink

        return ThreadedSink(self)

    @abc.abstractmethod
    def delete(self, labels: Iterable[str] = (), types: Iterable[str] = ()) -> None:
        """Delete every relationship of ``types`` and every node of ``labels``
        (with the relationships touching them). Inside :meth:`transaction` it
        joins it; outside it is one transaction on SQLite and batched on Neo4j."""

    @abc.abstractmethod
    def put_meta(self, name: str, value: str, *, replace: bool = True) -> str:
        """Store a metadata entry (a short string kept with the store: its
        pseudonym key, ...); with ``replace=False`` an existing value is kept.
        Returns the value stored afterwards. Commits on its own (or joins the
        open transaction)."""

    @abc.abstractmethod
    def get_meta(self, name: str) -> str | None:
        """A metadata entry written by :meth:`put_meta`, or None."""

    # -- reads -------------------------------------------------------------
    @abc.abstractmethod
    def counts(self) -> Counts: ...

    @abc.abstractmethod
    def existing_keys(self, label: str, keys: Iterable[str]) -> set[str]:
        """The subset of ``keys`` that exist as nodes of ``label``."""

    @abc.abstractmethod
    def get_nodes(self, ids: Iterable[str]) -> dict[str, Props]:
        """Properties of the given nodes that exist (missing ids are left out;
        in no set order)."""

    @abc.abstractmethod
    def degrees(self, ids: Iterable[str], types: Iterable[str] | None = None) -> dict[str, int]:
        """Total degree (both directions, over ``types`` or all) of each id
        that has any edge (in no set order)."""

    @abc.abstractmethod
    def incident_edges(self, ids: Iterable[str],
                       types: Iterable[str] | None = None) -> list[Edge]:
        """Every relationship touching any of ``ids`` (either end), once each,
        in no set order (:meth:`neighbourhood` sorts)."""

    def neighbourhood(self, center: str, hops: int = 2, *, max_fanout: int = 500,
                      types: Iterable[str] | None = None,
                      policy: "ExpansionPolicy | None" = None) -> Subgraph:
        """Breadth-first neighbourhood of ``center`` to ``hops`` hops.

        Relationships are followed in both directions, restricted to
        ``types`` when given. A node whose degree (over ``types``) exceeds
        ``max_fanout`` is kept but not expanded: hubs such as a courier's
        phone would otherwise pull in thousands of unrelated borrowers. The
        center is always expanded. A ``policy`` may narrow, node by node,
        which relationship types are followed (see :class:`ExpansionPolicy`).
        Both stores share this one traversal and differ only in
        :meth:`degrees` and :meth:`incident_edges`, so they return the same
        subgraph for the same data.

        Cost: per hop one degree query and one :meth:`expand` (by default an
        edge query per distinct set of types to follow, each over the whole
        frontier); then one node query. A store whose :meth:`expand` also
        returns the degrees of the edges' ends saves the degree queries.
        """
        tlist = tuple(sorted(set(types))) if types is not None else None
        hop_of: dict[str, int] = {center: 0}
        degree: dict[str, int] = {}
        capped: set[str] = set()
        edges: dict[tuple, Edge] = {}
        frontier = [center]
        end_degrees: dict[str, int] = {}  # degrees a store returned along with the edges

        def over_cap(n: str, deg: dict[str, int]) -> bool:
            return deg.get(n, 0) > max_fanout and (policy is None or n not in policy.always_expand)

        def frontier_degrees() -> dict[str, int]:
            missing = [n for n in frontier if n not in end_degrees]
            deg = self.degrees(missing, tlist) if missing else {}
            deg.update((n, end_degrees[n]) for n in frontier if n in end_degrees)
            return deg

        for h in range(hops):
            if not frontier:
                break
            deg = frontier_degrees()
            degree.update(deg)
            groups: dict[tuple[str, ...] | None, list[str]] = {}
            for n in frontier:
                if n != center and over_cap(n, deg):
                    capped.add(n)
                    continue
                follow = tlist if policy is None else policy.follow(n, h)
                if follow is not None and not follow:
                    continue
                groups.setdefault(tuple(follow) if follow is not None else None, []).append(n)
            nxt: set[str] = set()
            found, with_degrees = self.expand(sorted(groups.items(), key=lambda kv: kv[0] or ()),
                                              tlist)
            end_degrees.update(with_degrees or {})
            for e in found:
                key = self.edge_key(e)
                if key in edges:
                    continue
                edges[key] = e
                if policy is not None:
                    policy.observe(e)
                for end in (e.src, e.dst):
                    if end not in hop_of:
                        hop_of[end] = h + 1
                        nxt.add(end)
            frontier = sorted(nxt)
        if frontier:
            deg = frontier_degrees()
            degree.update(deg)
            capped.update(n for n in frontier if over_cap(n, deg))
        props = self.get_nodes(hop_of)
        ordered = [edges[k] for k in sorted(edges)]
        ids = sorted(hop_of)
        return Subgraph(center=center, nodes={n: props.get(n, {}) for n in ids},
                        edges=ordered, hops={n: hop_of[n] for n in ids},
                        degree={n: degree[n] for n in sorted(degree)}, capped=capped)

    def neighbourhoods(self, centers: Sequence[str], hops: int = 2, *, max_fanout: int = 500,
                       types: Iterable[str] | None = None,
                       policies: "Sequence[ExpansionPolicy] | None" = None) -> list[Subgraph]:
        """:meth:`neighbourhood` of each of ``centers`` (``policies[i]`` for
        ``centers[i]``), read together: the same subgraphs, in fewer queries.

        The traversals run in lockstep. Per hop, the frontiers of all
        centres are expanded with one :meth:`expand` over the union of their
        groups (a node followed along different types by different centres
        sits in one group per set of types), and each relationship goes back
        to every centre that would have read it on its own: one with an end
        that this centre expands along the relationship's type. Each centre
        keeps its own fan-out caps, policy and hop counts, so its subgraph is
        exactly what :meth:`neighbourhood` returns for it alone, provided
        its policy's decisions do not depend on the order in which one hop's
        relationships are observed (true of the ego policy: the borrower's
        own numbers are all seen at hop 0, their call partners from hop 1).
        Degrees are whole-graph values, so each node's degree is asked once
        for the whole batch; node properties are one :meth:`get_nodes`.

        Parameters
        ----------
        centers : node ids (repeats allowed; each gets its own traversal).
        hops, max_fanout, types : as in :meth:`neighbourhood`.
        policies : one :class:`ExpansionPolicy` per centre, or None.

        Cost: per hop one degree query and one :meth:`expand` for the whole
        batch (chunked by the store), then one node query; the rows read are
        those of the union of the centres' frontiers, each shared node once.

        Example
        -------
        >>> subs = store.neighbourhoods(["Borrower:B1", "Borrower:B2"], 3)  # doctest: +SKIP
        >>> subs[0] == store.neighbourhood("Borrower:B1", 3)               # doctest: +SKIP
        True
        """
        centers = list(centers)
        if policies is not None and len(policies) != len(centers):
            raise ValueError("one policy per centre, or none")
        tlist = tuple(sorted(set(types))) if types is not None else None
        n_c = len(centers)
        pol: list[ExpansionPolicy | None] = list(policies) if policies is not None else [None] * n_c
        hop_of: list[dict[str, int]] = [{c: 0} for c in centers]
        degree: list[dict[str, int]] = [{} for _ in centers]
        capped: list[set[str]] = [set() for _ in centers]
        edges: list[dict[tuple, Edge]] = [{} for _ in centers]
        frontiers: list[list[str]] = [[c] for c in centers]
        known: dict[str, int] = {}  # whole-graph degree of every node asked about (0: none)

        def over_cap(i: int, n: str) -> bool:
            p = pol[i]
            return known[n] > max_fanout and (p is None or n not in p.always_expand)

        def learn_degrees() -> None:
            missing = sorted({n for f in frontiers for n in f if n not in known})
            if missing:
                got = self.degrees(missing, tlist)
                for n in missing:
                    known[n] = got.get(n, 0)
            for i, f in enumerate(frontiers):
                degree[i].update((n, known[n]) for n in f if known[n] > 0)

        for h in range(hops):
            if not any(frontiers):
                break
            learn_degrees()
            union: dict[tuple[str, ...] | None, set[str]] = {}
            follows: dict[str, list[tuple[int, tuple[str, ...] | None]]] = {}
            for i, frontier in enumerate(frontiers):
                p = pol[i]
                for n in frontier:
                    if n != centers[i] and over_cap(i, n):
                        capped[i].add(n)
                        continue
                    follow = tlist if p is None else p.follow(n, h)
                    if follow is not None and not follow:
                        continue
                    f = tuple(follow) if follow is not None else None
                    union.setdefault(f, set()).add(n)
                    follows.setdefault(n, []).append((i, None if f is None else frozenset(f)))
            nxt: list[set[str]] = [set() for _ in centers]
            groups = sorted(((f, sorted(m)) for f, m in union.items()), key=lambda kv: kv[0] or ())
            found, with_degrees = self.expand(groups, tlist) if groups else ([], None)
            for n, d in (with_degrees or {}).items():
                known.setdefault(n, d)
            for e in found:
                takers: set[int] = set()
                for end in (e.src, e.dst):
                    for i, f in follows.get(end, ()):
                        if f is None or e.type in f:
                            takers.add(i)
                if not takers:
                    continue
                key = self.edge_key(e)
                for i in sorted(takers):
                    if key in edges[i]:
                        continue
                    edges[i][key] = e
                    if pol[i] is not None:
                        pol[i].observe(e)
                    for end in (e.src, e.dst):
                        if end not in hop_of[i]:
                            hop_of[i][end] = h + 1
                            nxt[i].add(end)
            frontiers = [sorted(x) for x in nxt]
        if any(frontiers):
            learn_degrees()
            for i, frontier in enumerate(frontiers):
                capped[i].update(n for n in frontier if over_cap(i, n))
        props = self.get_nodes(sorted({n for ho in hop_of for n in ho}))
        out: list[Subgraph] = []
        for i, c in enumerate(centers):
            ids = sorted(hop_of[i])
            out.append(Subgraph(center=c, nodes={n: dict(props.get(n, {})) for n in ids},
                                edges=[edges[i][k] for k in sorted(edges[i])],
                                hops={n: hop_of[i][n] for n in ids},
                                degree={n: degree[i][n] for n in sorted(degree[i])},
                                capped=capped[i]))
        return out

    def expand(self, groups: Sequence[tuple[tuple[str, ...] | None, list[str]]],
               degree_types: tuple[str, ...] | None) -> tuple[list[Edge], dict[str, int] | None]:
        """One hop of :meth:`neighbourhood`: the relationships touching each
        group's nodes over the group's types (``None``: all), and optionally
        the degree over ``degree_types`` of every node at either end of them
        (None when not computed). The default asks :meth:`incident_edges`
        once per group; a store with expensive round trips does it all in one.
        """
        out: list[Edge] = []
        for follow, members in groups:
            out.extend(self.incident_edges(members, follow))
        return out, None

    def edge_key(self, e: Edge) -> tuple:
        """(type, src, dst, identity values): what makes a relationship distinct."""
        ident = tuple(str(e.props.get(p) or "") for p in self.rel_identity(e.type))
        return (e.type, e.src, e.dst, ident)

    @abc.abstractmethod
    def stream_edges(self, types: Iterable[str] | None = None, *,
                     with_props: bool = True, ordered: bool = False) -> Iterator[Edge]:
        """Every relationship of the given types (all when None).

        Meant for whole-graph projections: it streams, so memory stays flat.
        In no set order unless ``ordered``: then sorted by :meth:`edge_key`
        (type, source, target, identity values), the same on every store, so
        that exports of the same data are identical.
        """

    def stream_edge_columns(self, types: Iterable[str] | None = None, props: Sequence[str] = (),
                            *, chunk: int = 100_000, where: EdgeFilter | None = None,
                            sources: Collection[str] | None = None) -> Iterator[EdgeChunk]:
        """Every relationship of ``types`` (all when None) as column chunks.

        The primitive behind whole-graph projections (:mod:`skiptrace.graph`):
        each :class:`EdgeChunk` holds at most ``chunk`` relationships of one
        type, with only the ``props`` asked for (a property the type lacks is
        a column of None), so memory stays bounded by the chunk. Types come in
        sorted order, rows within a type in no set order. Unknown types are
        skipped. Both stores give the same rows.

        Filters, applied in the store so that rows nobody wants never leave
        it: ``where`` maps property names to allowed values (a relationship
        is kept when each named property has one of its values; a type that
        lacks the property has none, so it keeps nothing); ``sources`` keeps
        only relationships starting at one of these node ids.

        The default reads :meth:`stream_edges` one type at a time; stores
        override it with a query that returns only the needed columns.
        """
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        props = tuple(props)
        allowed = _check_where(where)
        starts = None if sources is None else set(sources)
        for t in self._known_types(types):
            cur = EdgeChunk(t, [], [], {p: [] for p in props})
            for e in self.stream_edges([t], with_props=bool(props) or bool(allowed)):
                if starts is not None and e.src not in starts:
                    continue
                if allowed and not all(e.props.get(p) in vals for p, vals in allowed.items()):
                    continue
                cur.src.append(e.src)
                cur.dst.append(e.dst)
                for p in props:
                    cur.props[p].append(e.props.get(p))
                if len(cur.src) >= chunk:
                    yield cur
                    cur = EdgeChunk(t, [], [], {p: [] for p in props})
            if cur.src:
                yield cur

    def stream_node_columns(self, label: str, props: Sequence[str] = (), *,
                            chunk: int = 100_000) -> Iterator[NodeChunk]:
        """Every node of ``label`` as column chunks of at most ``chunk`` nodes,
        in key order, with only the ``props`` asked for (None when missing).
        The default reads :meth:`stream_nodes`."""
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        props = tuple(props)
        cur = NodeChunk(label, [], {p: [] for p in props})
        for key, values in self.stream_nodes(label):
            cur.ids.append(node_id(label, key))
            for p in props:
                cur.props[p].append(values.get(p))
            if len(cur.ids) >= chunk:
                yield cur
                cur = NodeChunk(label, [], {p: [] for p in props})
        if cur.ids:
            yield cur

    def _known_types(self, types: Iterable[str] | None) -> list[str]:
        """The schema's relationship types among ``types`` (all when None), sorted."""
        known = self.schema["relationships"]
        return sorted(known) if types is None else sorted({t for t in types if t in known})

    def _tie_sorted(self, edges: Iterable[Edge]) -> Iterator[Edge]:
        """Edges sorted by (type, src, dst) in, fully sorted by :meth:`edge_key`
        out: only relationships between the same two nodes are reordered."""
        group: list[Edge] = []
        for e in edges:
            if group and (e.type, e.src, e.dst) != (group[0].type, group[0].src, group[0].dst):
                yield from sorted(group, key=self.edge_key) if len(group) > 1 else group
                group = []
            group.append(e)
        yield from sorted(group, key=self.edge_key) if len(group) > 1 else group

    @abc.abstractmethod
    def stream_nodes(self, label: str) -> Iterator[tuple[str, Props]]:
        """Every node of ``label`` as ``(key, props)``, in key order."""

    @abc.abstractmethod
    def ledger(self, borrower_id: str) -> Ledger: ...

    #: the ledger tables, named as in :class:`Counts` and the input files
    LEDGER_TABLES = ("contact_attempts", "payments")

    @abc.abstractmethod
    def stream_ledger(self, table: str) -> Iterator[Props]:
        """Every row of a ledger table (``"contact_attempts"`` or ``"payments"``),
        shaped like :meth:`ledger`'s rows, in no set order; ``"audit"``: the
        append-only audit rows (:data:`AUDIT_COLUMNS`, not part of
        :attr:`LEDGER_TABLES`: they are the store's own record, not loaded data).

        For whole-store copies (the Neo4j bulk-import files): it streams, so
        memory stays flat. An unknown table name is a ValueError.
        """

    # -- shared helpers ----------------------------------------------------
    def node_key_prop(self, label: str) -> str:
        return self.schema["nodes"][label]["key"]

    def node_props(self, label: str) -> dict[str, dict[str, str]]:
        return self.schema["nodes"][label].get("props", {})

    def rel_props(self, type_: str) -> dict[str, dict[str, str]]:
        return self.schema["relationships"][type_].get("props", {})

    def rel_identity(self, type_: str) -> list[str]:
        return list(self.schema["relationships"][type_].get("identity", []))
