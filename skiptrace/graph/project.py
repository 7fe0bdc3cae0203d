"""Whole-graph projections: a store's relationships as arrays.

A :class:`Projection` is the graph every whole-graph algorithm runs on: node
ids interned to ``0..n-1``, one row per relationship in ``src``/``dst``
(indices into ``ids``), a ``weight`` and a type code per row, and any
requested edge and node property columns. :func:`project` streams it from
any :class:`~skiptrace.store.base.GraphStore` through
:meth:`~skiptrace.store.base.GraphStore.stream_edge_columns`, one chunk at a
time, so no :class:`~skiptrace.store.base.Edge` object is ever built and
memory is the arrays plus the id map.

From a projection: :func:`csr` (scipy sparse adjacency), :func:`to_igraph`,
:func:`to_networkx`, :func:`subgraph`; :func:`from_edges` builds one from
plain pairs (tests, evaluation, ego graphs).

Relationships are stored as directed rows (``src -> dst`` as in the store);
whether they are read as undirected is the consumer's choice
(``csr(symmetric=True)``, ``to_igraph(directed=False)``).
"""
from __future__ import annotations

import gc
import logging
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

if TYPE_CHECKING:  # pragma: no cover
    import igraph
    import networkx

    from skiptrace.store.base import GraphStore

__all__ = ["Projection", "project", "from_edges", "csr", "to_igraph", "to_networkx", "subgraph",
           "bulk_read"]

log = logging.getLogger(__name__)

_NUMERIC = ("int", "float", "bool")
_INT32_MAX = np.iinfo(np.int32).max


@contextmanager
def bulk_read() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a projection streams in.

    Every fetched row is a fresh tuple, and each few hundred allocations wake
    the collector, which then walks the id maps and column lists built so far:
    at 2.6M rows that doubled the time of a read. A projection makes no
    reference cycles, so nothing is lost by collecting once at the end. The
    collector's previous state is restored (nested uses are fine)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class _Interner(dict):
    """``id -> index``, giving each new id the next index on first lookup."""

    def __missing__(self, key: str) -> int:
        value = self[key] = len(self)
        return value


@dataclass
class Projection:
    """A graph as arrays.

    Attributes
    ----------
    ids : list[str]
        Node ids (``"Label:key"``); node ``i`` is ``ids[i]``.
    src, dst : np.ndarray
        Integer arrays (int32, or int64 past 2**31 nodes), one row per
        relationship, indexing ``ids``.
    weight : np.ndarray
        float64 weight per row.
    etype : np.ndarray
        int8 type code per row; ``type_names[etype[k]]`` is the type.
    type_names : list[str]
        Relationship type of each code.
    props : dict[str, np.ndarray]
        Requested edge properties, one value per row: float64 (NaN when
        missing) for numeric and bool properties, object (None when missing)
        otherwise.
    node_attrs : dict[str, np.ndarray]
        Requested node properties, one value per node, typed like ``props``.
    """

    ids: list[str]
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    etype: np.ndarray
    type_names: list[str]
    props: dict[str, np.ndarray] = field(default_factory=dict)
    node_attrs: dict[str, np.ndarray] = field(default_factory=dict)
    _index: dict[str, int] | None = field(default=None, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        return len(self.ids)

    @property
    def n_edges(self) -> int:
        return len(self.src)

    @property
    def lookup(self) -> Mapping[str, int]:
        """``id -> index`` (built on first use when the projection did not keep one)."""
        if self._index is None or len(self._index) != len(self.ids):
            self._index = {n: i for i, n in enumerate(self.ids)}
        return self._index

    def index(self, nid: str) -> int:
        """Index of node ``nid`` (KeyError when it is not in the projection)."""
        return self.lookup[nid]

    def indices(self, nids: Iterable[str]) -> np.ndarray:
        """Indices of ``nids`` as an int64 array."""
        look = self.lookup
        return np.fromiter((look[n] for n in nids), dtype=np.int64)

    def types(self) -> np.ndarray:
        """The type name of each row (an object array; prefer ``etype`` in loops)."""
        return np.asarray(self.type_names, dtype=object)[self.etype]

    def edges(self) -> Iterable[tuple[str, str, str, float]]:
        """``(type, src id, dst id, weight)`` per row (for tests and small graphs)."""
        ids, names = self.ids, self.type_names
        for s, d, t, w in zip(self.src.tolist(), self.dst.tolist(), self.etype.tolist(),
                              self.weight.tolist()):
            yield names[t], ids[s], ids[d], w


# -- building ---------------------------------------------------------------------------------
def _column(values: Sequence[Any], numeric: bool) -> np.ndarray:
    if numeric:
        return np.fromiter((np.nan if v is None else float(v) for v in values), dtype=np.float64,
                           count=len(values))
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _index_dtype(n: int) -> type:
    return np.int32 if n <= _INT32_MAX else np.int64


def _numeric_props(schema_section: Mapping[str, Any], names: Iterable[str]) -> dict[str, bool]:
    """Whether each property is numeric (int/float/bool) in any label or type of the schema."""
    kinds: dict[str, set[str]] = {}
    for spec in schema_section.values():
        for p, s in spec.get("props", {}).items():
            kinds.setdefault(p, set()).add(s["type"])
    return {p: bool(kinds.get(p)) and kinds[p] <= set(_NUMERIC) for p in names}


def project(store: "GraphStore", types: Iterable[str] | None = None, *, props: Sequence[str] = (),
            weight: str | None = None, type_weight: Mapping[str, float] | None = None,
            node_props: Mapping[str, Sequence[str]] | None = None, chunk: int = 100_000,
            sort: bool = False,
            progress: Callable[[int], None] | None = None) -> Projection:
    """Project the relationships of ``types`` (all when None) from ``store`` into arrays.

    Parameters
    ----------
    store : GraphStore
        Any store; read through ``stream_edge_columns`` (and
        ``stream_node_columns`` for ``node_props``).
    types : iterable of str, optional
        Relationship types to read (all schema types when None).
    props : sequence of str
        Edge properties to keep as columns in ``Projection.props``.
    weight : str, optional
        A numeric edge property to use as weight (missing values weigh 1);
        None: every row weighs 1.
    type_weight : mapping, optional
        A factor per relationship type multiplied into the weight (1 for a
        type not listed).
    node_props : mapping of label to property names, optional
        Node properties to keep in ``Projection.node_attrs``. Every node of
        those labels is in the projection, with or without relationships.
    chunk : int
        Rows per chunk read from the store: memory beyond the result is
        about one chunk.
    sort : bool
        Canonical order: ids sorted, rows sorted by (type, src, dst, weight),
        so that two stores holding the same data give equal projections
        (otherwise the order is the store's streaming order). Costs a sort
        of the ids.
    progress : callable, optional
        Called with the number of rows read so far after each chunk.

    Returns
    -------
    Projection

    Complexity
    ----------
    O(E) time for E relationships (one dict lookup per end: the bulk of
    the time in Python), O(E + N) memory: two int32, a float64 and an
    int8 per row, plus the id map. Node indices are int32 (at most 2**31
    nodes).

    Example
    -------
    >>> proj = project(store, ["CALLED"], weight="calls_a_to_b")  # doctest: +SKIP
    >>> g = to_igraph(proj)                                         # doctest: +SKIP
    """
    with bulk_read():
        return _project(store, types, props=props, weight=weight, type_weight=type_weight,
                        node_props=node_props, chunk=chunk, sort=sort, progress=progress)


def _project(store: "GraphStore", types: Iterable[str] | None = None, *, props: Sequence[str] = (),
            weight: str | None = None, type_weight: Mapping[str, float] | None = None,
            node_props: Mapping[str, Sequence[str]] | None = None, chunk: int = 100_000,
            sort: bool = False,
            progress: Callable[[int], None] | None = None) -> Projection:
    rel_schema = store.schema["relationships"]
    props = tuple(props)
    fetch = props + ((weight,) if weight is not None and weight not in props else ())
    numeric = _numeric_props(rel_schema, fetch)
    if weight is not None and not numeric[weight]:
        raise ValueError(f"weight {weight!r} is not a numeric relationship property")
    tw = dict(type_weight or {})
    index = _Interner()
    type_names: list[str] = []
    # growable C buffers, viewed as numpy arrays at the end without a copy: no list of
    # per-chunk arrays to concatenate (which would double the peak)
    src_buf, dst_buf, et_buf = array("i"), array("i"), array("b")
    w_buf = array("d")
    prop_parts: dict[str, list[np.ndarray]] = {p: [] for p in props}
    rows = 0
    for c in store.stream_edge_columns(types, fetch, chunk=chunk):
        if c.type not in type_names:
            type_names.append(c.type)
            if len(type_names) > np.iinfo(np.int8).max:  # pragma: no cover - the schema has 8
                raise ValueError("more relationship types than int8 codes")
        n = len(c)
        src_buf.extend(map(index.__getitem__, c.src))
        dst_buf.extend(map(index.__getitem__, c.dst))
        if len(index) > _INT32_MAX:  # pragma: no cover - two billion nodes in one process
            raise ValueError("more than 2**31 nodes: too many for one in-memory projection")
        et_buf.frombytes(bytes([type_names.index(c.type)]) * n)
        if weight is not None:
            w_buf.extend(1.0 if v is None else float(v) for v in c.props[weight])
        for p in props:
            prop_parts[p].append(_column(c.props[p], numeric[p]))
        rows += n
        if progress is not None:
            progress(rows)
    etype = np.frombuffer(et_buf, dtype=np.int8) if rows else np.empty(0, dtype=np.int8)
    w = np.asarray([tw.get(t, 1.0) for t in type_names] or [1.0], dtype=np.float64)[etype]
    if weight is not None and rows:
        w *= np.frombuffer(w_buf, dtype=np.float64)
    del w_buf
    node_vals: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    node_numeric: dict[str, bool] = {}
    for label, names in (node_props or {}).items():
        names = tuple(names)
        node_numeric.update(_numeric_props(store.schema["nodes"], names))
        for nc in store.stream_node_columns(label, names, chunk=chunk):
            at = np.fromiter(map(index.__getitem__, nc.ids), dtype=np.int64, count=len(nc))
            for p in names:
                node_vals.setdefault(p, []).append((at, _column(nc.props[p], node_numeric[p])))
    ids = list(index)
    n = len(ids)

    def view(buf: array) -> np.ndarray:
        return np.frombuffer(buf, dtype=np.int32) if len(buf) else np.empty(0, dtype=np.int32)

    def cat(p: str) -> np.ndarray:
        dtype = np.float64 if numeric[p] else object
        got = prop_parts.pop(p)
        return np.concatenate(got).astype(dtype, copy=False) if got else np.empty(0, dtype=dtype)

    proj = Projection(ids=ids, src=view(src_buf), dst=view(dst_buf), weight=w, etype=etype,
                      type_names=type_names, props={p: cat(p) for p in props}, _index=index)
    for p, pieces in node_vals.items():
        col = np.full(n, np.nan) if node_numeric[p] else np.full(n, None, dtype=object)
        for at, vals in pieces:
            col[at] = vals
        proj.node_attrs[p] = col
    if sort:
        proj = canonical(proj)
    log.info("projected %d nodes, %d relationships of %d types", proj.n_nodes, proj.n_edges,
             len(type_names))
    return proj


def canonical(proj: Projection) -> Projection:
    """The same graph in canonical order: ids sorted, type names sorted, rows
    sorted by (type, src, dst, weight). Rows equal on all four keep their order.

    Complexity: O(N log N) string comparisons plus O(E log E).
    """
    order = sorted(range(proj.n_nodes), key=proj.ids.__getitem__)
    rank = np.empty(proj.n_nodes, dtype=proj.src.dtype)  # int32 ranks: no int64 temporaries
    rank[np.asarray(order, dtype=np.int64)] = np.arange(proj.n_nodes, dtype=rank.dtype)
    names = sorted(proj.type_names)
    recode = np.asarray([names.index(t) for t in proj.type_names] or [0], dtype=np.int8)
    src = rank[proj.src]
    dst = rank[proj.dst]
    etype = recode[proj.etype] if proj.n_edges else proj.etype
    rows = np.lexsort((proj.weight, dst, src, etype))
    ids = [proj.ids[i] for i in order]
    return Projection(ids=ids, src=src[rows], dst=dst[rows], weight=proj.weight[rows],
                      etype=etype[rows], type_names=names,
                      props={p: v[rows] for p, v in proj.props.items()},
                      node_attrs={p: v[np.asarray(order, dtype=np.int64)]
                                  for p, v in proj.node_attrs.items()})


def from_edges(pairs: Iterable[tuple[Any, Any]], weights: Iterable[float] | None = None, *,
               ids: Sequence[str] | None = None, types: Iterable[str] | None = None,
               props: Mapping[str, Sequence[Any]] | None = None) -> Projection:
    """A projection from plain ``(u, v)`` pairs.

    ``u``/``v`` are node ids (strings, interned in order of first appearance
    after any ``ids`` given) or, when ``ids`` is given, may also be integer
    indices into it. ``weights`` defaults to 1 per pair; ``types`` gives a
    type name per pair (default ``"EDGE"``); ``props`` extra edge columns.

    Complexity: O(E). Example:

    >>> p = from_edges([("a", "b"), ("b", "c")], [2.0, 1.0])
    >>> p.ids, p.src.tolist(), p.dst.tolist(), p.weight.tolist()
    (['a', 'b', 'c'], [0, 1], [1, 2], [2.0, 1.0])
    """
    index = _Interner()
    for nid in ids or ():
        index[nid]
    fixed = len(index)

    def at(x: Any) -> int:
        if isinstance(x, (int, np.integer)):
            if not 0 <= x < fixed:
                raise IndexError(f"node index {x} outside the {fixed} ids given")
            return int(x)
        return index[x]

    src: list[int] = []
    dst: list[int] = []
    for u, v in pairs:
        src.append(at(u))
        dst.append(at(v))
    m = len(src)
    w = np.ones(m) if weights is None else np.asarray(list(weights), dtype=np.float64)
    if len(w) != m:
        raise ValueError(f"{len(w)} weights for {m} pairs")
    type_list = ["EDGE"] * m if types is None else list(types)
    if len(type_list) != m:
        raise ValueError(f"{len(type_list)} types for {m} pairs")
    names = sorted(set(type_list))
    code = {t: i for i, t in enumerate(names)}
    idt = _index_dtype(len(index))
    cols: dict[str, np.ndarray] = {}
    for p, vals in (props or {}).items():
        arr = np.asarray(vals)
        if len(arr) != m:
            raise ValueError(f"{len(arr)} values of {p!r} for {m} pairs")
        cols[p] = arr
    return Projection(ids=list(index), src=np.asarray(src, dtype=idt),
                      dst=np.asarray(dst, dtype=idt), weight=w,
                      etype=np.asarray([code[t] for t in type_list], dtype=np.int8),
                      type_names=names, props=cols, _index=index)


# -- views ------------------------------------------------------------------------------------
def csr(proj: Projection, symmetric: bool = True, *, weighted: bool = True) -> sparse.csr_matrix:
    """Adjacency matrix ``A`` (n x n, CSR) with ``A[u, v]`` the summed weight of rows ``u -> v``.

    ``symmetric``: ``A + A.T``, the undirected graph (a self-loop then counts
    twice, as in a degree). ``weighted=False``: each row counts 1.
    Complexity: O(E log E) (sorting into CSR).
    """
    n = proj.n_nodes
    w = proj.weight if weighted else np.ones(proj.n_edges)
    if symmetric:
        rows = np.concatenate([proj.src, proj.dst])
        cols = np.concatenate([proj.dst, proj.src])
        w = np.concatenate([w, w])
    else:
        rows, cols = proj.src, proj.dst
    return sparse.csr_matrix((w, (rows, cols)), shape=(n, n))


def to_igraph(proj: Projection, directed: bool = False, *,
              attributes: bool = True) -> "igraph.Graph":
    """An igraph Graph with one edge per row (parallel edges kept).

    Vertex attribute ``name`` holds the ids; with ``attributes`` (the
    default) also one vertex attribute per node attribute and edge
    attributes ``weight``, ``type`` (the type name) and one per edge
    property. igraph keeps attributes as Python lists (tens of bytes per
    edge), so ``attributes=False`` is the lean choice for a structural
    walk over tens of millions of edges. Vertex ``i`` is ``proj.ids[i]``,
    edge ``k`` is row ``k``. Complexity: O(N + E).

    >>> g = to_igraph(from_edges([("a", "b")], [2.0]))
    >>> g.vs["name"], g.es["weight"]
    (['a', 'b'], [2.0])
    """
    import igraph as ig

    edges = np.column_stack([proj.src, proj.dst]).astype(np.int64, copy=False)
    g = ig.Graph(n=proj.n_nodes, edges=edges, directed=directed)
    g.vs["name"] = proj.ids
    if not attributes:
        return g
    for p, col in proj.node_attrs.items():
        g.vs[p] = col.tolist()
    g.es["weight"] = proj.weight.tolist()
    g.es["type"] = proj.types().tolist()
    for p, col in proj.props.items():
        g.es[p] = col.tolist()
    return g


def to_networkx(proj: Projection, directed: bool = False, *,
                multigraph: bool = False) -> "networkx.Graph":
    """A networkx graph on the ids.

    Without ``multigraph``, parallel rows (and, undirected, ``u -> v`` with
    ``v -> u``) become one edge whose ``weight`` is their sum (the same
    numbers as :func:`csr` off the diagonal) and whose ``type`` is the type
    of the first; with it, one edge per row keyed by row number, with every
    edge property. Node attributes are copied. Complexity: O(N + E).
    """
    import networkx as nx

    cls = {(False, False): nx.Graph, (True, False): nx.DiGraph,
           (False, True): nx.MultiGraph, (True, True): nx.MultiDiGraph}[(directed, multigraph)]
    g = cls()
    for i, nid in enumerate(proj.ids):
        g.add_node(nid, **{p: col[i] for p, col in proj.node_attrs.items()})
    ids, names = proj.ids, proj.type_names
    src, dst, et, w = (proj.src.tolist(), proj.dst.tolist(), proj.etype.tolist(),
                       proj.weight.tolist())
    for k in range(proj.n_edges):
        u, v = ids[src[k]], ids[dst[k]]
        if multigraph:
            g.add_edge(u, v, key=k, weight=w[k], type=names[et[k]],
                       **{p: col[k] for p, col in proj.props.items()})
        elif g.has_edge(u, v):
            g[u][v]["weight"] += w[k]
        else:
            g.add_edge(u, v, weight=w[k], type=names[et[k]])
    return g


def subgraph(proj: Projection, nodes: np.ndarray | Sequence[int] | Sequence[bool]) -> Projection:
    """The projection induced by ``nodes`` (a boolean mask over nodes or node indices).

    Nodes are renumbered in their original order; rows with both ends kept
    stay, in their order, with their properties. Complexity: O(N + E).
    """
    sel = np.asarray(nodes)
    if sel.dtype == bool:
        if len(sel) != proj.n_nodes:
            raise ValueError(f"mask of {len(sel)} for {proj.n_nodes} nodes")
        mask = sel
    else:
        mask = np.zeros(proj.n_nodes, dtype=bool)
        mask[sel.astype(np.int64)] = True
    keep = np.flatnonzero(mask)
    new = np.full(proj.n_nodes, -1, dtype=np.int64)
    new[keep] = np.arange(len(keep))
    rows = mask[proj.src] & mask[proj.dst]
    idt = _index_dtype(len(keep))
    return Projection(ids=[proj.ids[i] for i in keep.tolist()],
                      src=new[proj.src[rows]].astype(idt), dst=new[proj.dst[rows]].astype(idt),
                      weight=proj.weight[rows], etype=proj.etype[rows],
                      type_names=list(proj.type_names),
                      props={p: v[rows] for p, v in proj.props.items()},
                      node_attrs={p: v[keep] for p, v in proj.node_attrs.items()})
