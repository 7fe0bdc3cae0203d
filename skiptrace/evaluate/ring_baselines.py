"""Baselines for ring detection: what a practitioner does with the raw shared identifiers.

Both baselines work on one projection, :func:`shared_identifier_graph`: the
borrower-borrower graph in which two borrowers are linked when they share
any identifier node (a device, a registered phone, an address, a listed
contact phone or an employer; a phone one registers and another lists links
them too). Links are unweighted and deduplicated; identifiers shared by more
than ``max_borrowers_per_identifier`` borrowers (default
:data:`MAX_BORROWERS_PER_IDENTIFIER` = 1000) are left out, because their
clique costs ``k^2 / 2`` links (a 20,000-borrower switchboard alone would be
200 million) and no practitioner would link borrowers through them; every
smaller hub (couriers, switchboards, dormitories) stays in. The raw graph
has no rarity weights and no known-benign lists: that is what makes it raw.

- ``components``: connected components of the raw graph; a component of
  ``min_size``..``max_size`` borrowers (3..:data:`MAX_GROUP`) is a ring.
- ``louvain``: plain Louvain (igraph ``community_multilevel``, unweighted)
  on the raw graph; a community of ``min_size``.. ``max_size`` borrowers is
  a ring. The brief's rule flags every community of 3 or more; the default
  upper bound :data:`MAX_GROUP` (above the largest true ring) keeps Louvain
  from flagging the big communities that cover most honest borrowers, which
  only favours it (``max_size=None`` gives the brief's rule).
- ``components_strong``: components on devices, registered phones and home
  or work addresses only (no listed contacts, no employers): the stronger
  rule a practitioner reaches for once the raw graph collapses into one
  giant component.
- ``device_burst``: issue 10's one rule, "a device shared by 2 to 12
  borrowers whose loans opened within 10 days" (:func:`device_burst`), the
  strongest simple fraud rule on the legacy world.

None of them assigns a typology. :func:`oracle_typology` gives each group
the majority true typology of its ring members, an ORACLE that favours the
baselines: a real baseline would have to guess it. A group without any ring
member is still flagged (a false positive of a typology picked by its size,
see :func:`oracle_typology`).
"""
from __future__ import annotations

import logging
import random
from array import array
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from skiptrace.store.base import GraphStore

if TYPE_CHECKING:  # pragma: no cover
    import igraph
    from scipy import sparse

    from skiptrace.evaluate.rings import RingTruth

log = logging.getLogger(__name__)

#: every Borrower -> identifier relationship of the raw graph
RAW_TYPES = ("EMPLOYED_BY", "HAS_PHONE", "LISTS_CONTACT", "LIVES_AT", "USES_DEVICE", "WORKS_AT")
#: the strong identifiers: devices, registered phones, addresses
STRONG_TYPES = ("HAS_PHONE", "LIVES_AT", "USES_DEVICE", "WORKS_AT")
#: identifiers shared by more borrowers than this are left out of the raw graph (quadratic cliques)
MAX_BORROWERS_PER_IDENTIFIER = 1000
#: groups of the baselines are rings when they hold MIN_GROUP..MAX_GROUP borrowers
MIN_GROUP = 3
MAX_GROUP = 50
#: a group without ring members is a false positive of the first flagged typology when it has
#: at most this many borrowers (fraud blocks are small), else of the last one
FRAUD_MAX_SIZE = 12

__all__ = ["BASELINES", "Baseline", "FRAUD_MAX_SIZE", "MAX_BORROWERS_PER_IDENTIFIER", "MAX_GROUP",
           "MIN_GROUP", "OracleRing", "RAW_TYPES", "STRONG_TYPES", "SharedIdentifierGraph",
           "components", "device_burst", "louvain", "oracle_typology", "project_pairs", "shared_identifier_graph"]


@dataclass
class SharedIdentifierGraph:
    """A borrower-borrower graph: ``ids[i]`` is vertex ``i``'s borrower id; ``src[j] < dst[j]``
    is link ``j`` (each unordered pair once)."""

    ids: list[str]
    src: np.ndarray
    dst: np.ndarray
    types: tuple[str, ...] = RAW_TYPES
    identifiers: int = 0          # identifier nodes touched by any borrower
    capped: int = 0               # of them, shared by more than the cap (left out)
    max_borrowers_per_identifier: int = MAX_BORROWERS_PER_IDENTIFIER
    seconds: float = 0.0

    @property
    def n(self) -> int:
        return len(self.ids)

    def igraph(self) -> "igraph.Graph":
        """The graph as an undirected, unweighted igraph.Graph (vertex attribute ``name``)."""
        import igraph

        g = igraph.Graph(n=self.n, directed=False)
        step = 1 << 20   # in chunks: a Python list of every pair would take GBs
        for lo in range(0, len(self.src), step):
            g.add_edges(np.column_stack([self.src[lo:lo + step], self.dst[lo:lo + step]]))
        g.vs["name"] = self.ids
        return g

    def csr(self) -> "sparse.csr_matrix":
        """The adjacency as a symmetric-by-construction upper-triangle scipy CSR matrix."""
        from scipy import sparse

        return sparse.csr_matrix((np.ones(len(self.src), np.int8), (self.src, self.dst)),
                                 shape=(self.n, self.n))

    def summary(self) -> dict[str, Any]:
        return {"types": list(self.types), "borrowers": self.n, "edges": int(len(self.src)),
                "identifiers": self.identifiers, "capped_identifiers": self.capped,
                "max_borrowers_per_identifier": self.max_borrowers_per_identifier,
                "seconds": round(self.seconds, 2)}


def project_pairs(borrower: np.ndarray, identifier: np.ndarray, n: int,
                  max_borrowers_per_identifier: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Project a bipartite borrower-identifier edge list onto the borrowers.

    ``borrower[j]``, ``identifier[j]``: integer ends of incidence ``j`` (borrowers
    ``0..n-1``; duplicates allowed). Returns ``(src, dst, capped)``: every
    unordered pair of distinct borrowers sharing an identifier held by at most
    ``max_borrowers_per_identifier`` borrowers, once, ``src < dst``, sorted;
    and the number of identifiers over the cap. Vectorised per group size:
    the identifiers of ``k`` borrowers form a ``(count, k)`` matrix whose
    upper-triangle columns give all their pairs at once. Cost: O(incidences
    log incidences + pairs log pairs); memory O(pairs) (8 bytes per pair).
    This is the one place that does the projection, so a faster streaming
    one (``skiptrace.graph``) can replace it.
    """
    b = np.asarray(borrower, np.int64)
    ident = np.asarray(identifier, np.int64)
    if len(b) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), 0
    inc = _sorted_unique(ident * n + b)     # distinct (identifier, borrower), sorted by identifier
    ident, b = inc // n, inc % n
    starts = np.flatnonzero(np.r_[True, ident[1:] != ident[:-1]])
    sizes = np.diff(np.r_[starts, len(ident)])
    capped = int((sizes > max_borrowers_per_identifier).sum())
    keys: list[np.ndarray] = []
    for k in np.unique(sizes):
        if k < 2 or k > max_borrowers_per_identifier:
            continue
        st = starts[sizes == k]
        block = b[st[:, None] + np.arange(k)[None, :]]   # (count, k), each row sorted
        iu, iv = np.triu_indices(int(k), 1)
        lo, hi = block[:, iu].ravel(), block[:, iv].ravel()
        keys.append(_sorted_unique(lo * n + hi))
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), capped
    pairs = _sorted_unique(np.concatenate(keys)) if len(keys) > 1 else keys[0]
    return pairs // n, pairs % n, capped


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values of ``a`` (sorts ``a`` in place). Sort-based: numpy 2's
    hash-based ``np.unique`` is many times slower on tens of millions of int64."""
    if len(a) == 0:
        return a
    a.sort()
    keep = np.empty(len(a), bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def shared_identifier_graph(store: GraphStore, *, types: Sequence[str] = RAW_TYPES,
                            max_borrowers_per_identifier: int = MAX_BORROWERS_PER_IDENTIFIER
                            ) -> SharedIdentifierGraph:
    """Stream the Borrower -> identifier relationships of ``types`` out of ``store`` and project
    them onto the borrowers (:func:`project_pairs`); see the module docstring.

    Relationships whose source is not a borrower (an employer's switchboard
    phone, ``(Employer)-[:HAS_PHONE]->``) are skipped. Memory: two int32 per
    relationship plus the id maps, then the pairs.
    """
    started = time.perf_counter()
    bmap: dict[str, int] = {}
    imap: dict[str, int] = {}
    bcol = array("i")
    icol = array("i")
    for e in store.stream_edges(list(types), with_props=False):
        if not e.src.startswith("Borrower:"):
            continue
        bcol.append(bmap.setdefault(e.src, len(bmap)))
        icol.append(imap.setdefault(e.dst, len(imap)))
    borrower = np.frombuffer(bcol, np.int32).astype(np.int64)
    identifier = np.frombuffer(icol, np.int32).astype(np.int64)
    del bcol, icol
    src, dst, capped = project_pairs(borrower, identifier, len(bmap), max_borrowers_per_identifier)
    ids = [k.partition(":")[2] for k in bmap]
    g = SharedIdentifierGraph(ids, src, dst, tuple(types), len(imap), capped,
                              max_borrowers_per_identifier, time.perf_counter() - started)
    log.info("raw shared-identifier graph over %s: %d borrowers, %d links, %d identifiers "
             "(%d over the cap of %d left out) in %.1fs", ",".join(types), g.n, len(src),
             len(imap), capped, max_borrowers_per_identifier, g.seconds)
    return g


# -- grouping ----------------------------------------------------------------------------------
def _groups(membership: Iterable[int], ids: list[str], min_size: int,
            max_size: int | None) -> list[list[str]]:
    by: dict[int, list[str]] = {}
    for i, c in enumerate(membership):
        by.setdefault(int(c), []).append(ids[i])
    out = [sorted(m) for m in by.values()
           if len(m) >= min_size and (max_size is None or len(m) <= max_size)]
    return sorted(out, key=lambda m: (-len(m), m[0]))


def components(g: SharedIdentifierGraph, *, min_size: int = MIN_GROUP,
               max_size: int | None = MAX_GROUP) -> list[list[str]]:
    """Connected components of ``g`` with ``min_size``..``max_size`` borrowers (members sorted;
    largest first), by scipy's ``connected_components``. Cost: O(V + E)."""
    from scipy.sparse.csgraph import connected_components

    if g.n == 0:
        return []
    _, membership = connected_components(g.csr(), directed=False)
    return _groups(membership.tolist(), g.ids, min_size, max_size)


def louvain(g: SharedIdentifierGraph, *, seed: int = 0, min_size: int = MIN_GROUP,
            max_size: int | None = MAX_GROUP) -> list[list[str]]:
    """Plain Louvain (igraph ``community_multilevel``, unweighted, the last level) on ``g``;
    communities of ``min_size``..``max_size`` borrowers. ``seed`` seeds igraph's random
    order (igraph's generator is restored afterwards). Cost: about O(E) per level."""
    import igraph

    if g.n == 0:
        return []
    ig = g.igraph()
    igraph.set_random_number_generator(random.Random(seed))
    try:
        membership = ig.community_multilevel().membership
    finally:
        igraph.set_random_number_generator(random)
    return _groups(membership, g.ids, min_size, max_size)


def device_burst(store: GraphStore, *, min_users: int = 2, max_users: int = 12,
                 window_days: float = 10.0) -> list[list[str]]:
    """The one-rule fraud baseline of issue 10: a device used by ``min_users``..``max_users``
    borrowers whose loans all opened within ``window_days`` of each other binds them; borrowers
    bound through such devices form one group (groups of 2 or more).

    Streams ``USES_DEVICE`` and the borrowers' ``opened_at``. A device with a
    user without ``opened_at`` binds no one. Cost: O(borrowers + device uses).
    """
    from datetime import datetime

    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    users: dict[str, list[str]] = {}
    for e in store.stream_edges(["USES_DEVICE"], with_props=False):
        if e.src.startswith("Borrower:"):
            users.setdefault(e.dst, []).append(e.src.partition(":")[2])
    opened: dict[str, float] = {}
    for key, props in store.stream_nodes("Borrower"):
        v = props.get("opened_at")
        if v:
            try:
                opened[key] = datetime.fromisoformat(str(v).replace("Z", "+00:00")).timestamp() / 86400
            except ValueError:
                continue
    index: dict[str, int] = {}
    src: list[int] = []
    dst: list[int] = []
    for bs in users.values():
        bs = sorted(set(bs))
        if not min_users <= len(bs) <= max_users or any(b not in opened for b in bs):
            continue
        days = [opened[b] for b in bs]
        if max(days) - min(days) > window_days:
            continue
        ids = [index.setdefault(b, len(index)) for b in bs]
        src += ids[:-1]
        dst += ids[1:]
    if not index:
        return []
    a = sparse.coo_matrix((np.ones(len(src), np.int8), (src, dst)), shape=(len(index), len(index)))
    _, membership = connected_components(a.tocsr(), directed=False)
    names = list(index)
    return _groups(membership.tolist(), names, 2, None)


@dataclass
class Baseline:
    """One baseline: which relationships its raw graph uses (None: it builds none), how it
    groups (``run(store, graph, seed)``), and its rule in words."""

    types: tuple[str, ...] | None
    run: Callable[[GraphStore, "SharedIdentifierGraph | None", int], list[list[str]]]
    rule: str


BASELINES: dict[str, Baseline] = {
    "components": Baseline(
        RAW_TYPES, lambda store, g, seed: components(g),
        f"connected components of the raw shared-identifier graph, {MIN_GROUP}..{MAX_GROUP} borrowers"),
    "louvain": Baseline(
        RAW_TYPES, lambda store, g, seed: louvain(g, seed=seed),
        f"Louvain communities of the raw shared-identifier graph, {MIN_GROUP}..{MAX_GROUP} borrowers"),
    "components_strong": Baseline(
        STRONG_TYPES, lambda store, g, seed: components(g),
        f"connected components on devices, registered phones and addresses only, "
        f"{MIN_GROUP}..{MAX_GROUP} borrowers"),
    "device_burst": Baseline(
        None, lambda store, g, seed: device_burst(store),
        "a device shared by 2..12 borrowers whose loans opened within 10 days (issue 10's one rule)"),
}


# -- the oracle typology -----------------------------------------------------------------------
@dataclass
class OracleRing:
    """A baseline group with the typology the truth gives it."""

    ring_id: str
    typology: str
    members: list[str]
    ring_members: int = 0   # members that are in a true ring
    agents: list[str] = field(default_factory=list)


def oracle_typology(groups: Iterable[Sequence[str]], truth: "RingTruth", *,
                    flagged_typologies: Sequence[str] = ("fraud", "anti_collection"),
                    fraud_max_size: int = FRAUD_MAX_SIZE) -> list[OracleRing]:
    """Give each group the majority true typology of its ring members (an ORACLE: it reads the
    truth, which favours the baselines; ties go to the earlier flagged typology).

    A group with no ring member is still flagged, with a wrong typology: the
    first flagged typology when it has at most ``fraud_max_size`` borrowers
    (fraud blocks are small), else the last. Either way every member is a
    false positive; the choice moves false positives between the two
    typologies' precision, never the overall precision.
    """
    flags = list(flagged_typologies)
    typ_of = truth.typology_of()
    out: list[OracleRing] = []
    for i, members in enumerate(groups):
        counts: dict[str, int] = {}
        for b in members:
            t = typ_of.get(b)
            if t is not None:
                counts[t] = counts.get(t, 0) + 1
        if counts:
            order = {t: j for j, t in enumerate(flags)}
            typ = max(counts, key=lambda t: (counts[t], -order.get(t, len(flags)), t))
        else:
            typ = flags[0] if len(members) <= fraud_max_size else flags[-1]
        out.append(OracleRing(f"G{i + 1}", typ, list(members), sum(counts.values())))
    return out
