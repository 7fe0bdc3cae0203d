"""``find`` as a link predictor on any edge list (real networks), beside the classic baselines.

The question a skip-tracer asks of a contact graph is the link-prediction
question: given the ties we observed, who else is this person in touch with
(or will be next)? This module answers it for ``find`` on any edge list, so
its quality can be checked on data no one here generated.

Pipeline (:func:`evaluate_linkpred`):

1. :func:`read_edges` reads a CSV (optionally ``.gz``) with header
   ``src,dst[,weight][,time]``: one row per event (call, message, contact);
   self-loops are dropped.
2. :func:`write_contract` turns (part of) it into the contract's input
   layout: every node a borrower ``N<id>`` (UTC, region CN, delinquent) with
   one registered CN mobile ``+86138`` + the id zero-padded to 8 digits, and
   each unordered pair's events aggregated into one ``calls`` row
   (``calls_a_to_b`` / ``calls_b_to_a`` by direction, ``seconds_total`` = sum
   of the positive weights, ``first_at`` / ``last_at`` from ``time``). The
   directory loads with :func:`skiptrace.ingest.load`.
3. A split hides test pairs (:func:`random_split`, :func:`temporal_split`)
   and the training part is loaded into a temporary SQLite store.
4. For each source (a node with at least one test pair; a seeded sample
   when ``sources`` is given) ``find`` ranks every phone it reaches
   (:func:`skiptrace.contacts.ego.fetch` once, then
   :func:`skiptrace.contacts.find.rank` per scorer), and the baselines
   (:func:`baseline_scores`) score every node on the same training graph.
5. Metrics (:func:`auc`, :func:`expected_rank`, :func:`hit_probability`):
   AUC of test pairs against as many sampled non-edges from the same
   sources, and per-source MRR, hit@1 and hit@10 with ties broken at
   random in expectation (``find`` and RA leave many nodes at exactly 0).

Definitions
-----------
- *random* mode: a seeded ``hide`` share of the distinct undirected pairs is
  hidden (all their events). A source's ranking covers every node except
  the source and its training neighbours; relevant = its hidden partners;
  AUC positives = the same pairs.
- *temporal* mode: training = events before the cut (default the
  ``1 - hide`` quantile of the event times), test pairs = pairs with an
  event at or after it. A source's ranking covers every node except the
  source; relevant = every partner after the cut (repeat partners
  included); AUC positives = only the *new* pairs (no event before the cut).
  ``find`` runs with ``as_of`` = the cut.
- AUC negatives: for each source, as many nodes as it has AUC positives,
  sampled (seeded) among the nodes it has no pair with in the full data.
- MRR uses the reciprocal of the *expected* rank of the first relevant node
  under random tie-breaking: with ``a`` nodes scored above the best
  relevant one and a group of ``t`` tied nodes holding ``k`` relevant ones,
  that rank is ``a + (t + 1) / (k + 1)``. hit@K is the exact probability
  that the first relevant node is within the top K under the same
  tie-breaking.
- ``mrr_warm``: the MRR over the sources with at least one training partner
  only (for a source without any, every method ranks all candidates tied).
- ``coverage``: share of the AUC positives a method scores above 0 (for
  ``find``: the share of test pairs it lists at all).

Cost: reading is O(events); each split loads the training graph
(O(nodes + pairs): about 3 s for 37k nodes / 165k pairs on the shared
2-core machine), runs ``find`` once per source (3 to 100 ms, more on
hub-heavy graphs) and the baselines vectorised over chunks of sources
(sparse products and a power iteration: about 2 s per 64 sources on a
37k-node graph; O(chunk * nodes) memory).
"""
from __future__ import annotations

import csv
import gzip
import io
import logging
import math
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from skiptrace.errors import SkiptraceError
from skiptrace.store.base import GraphStore

if TYPE_CHECKING:
    from skiptrace.contacts.ranking.model import LinearScorer

log = logging.getLogger(__name__)

#: study-relative times (all below this, in seconds) are counted from :data:`RELATIVE_ORIGIN`
UNIX_FLOOR = 1e8
#: the arbitrary base of study-relative times (seconds from the start of a study)
RELATIVE_ORIGIN = "2026-01-01T00:00:00Z"
#: restart probability of the plain personalised PageRank baseline (find's walk uses 0.25)
PPR_RESTART = 0.25
#: methods that need event times and counts (temporal mode only)
TEMPORAL_BASELINES = ("call_count", "most_recent", "count_then_ra")
STATIC_BASELINES = ("cn", "jaccard", "adamic_adar", "ra", "ppr")
HEADERS = (("src", "dst"), ("src", "dst", "weight"), ("src", "dst", "time"),
           ("src", "dst", "weight", "time"))
_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")
#: sources ranked per split by default: ``bench/linkpred.py`` (all eight networks x 5 splits,
#: the temporal hold-outs and the Copenhagen task) then takes about 9 minutes of CPU
DEFAULT_SOURCES = 100
METRICS = ("auc", "mrr", "hit@1", "hit@10", "mrr_warm", "coverage")


class EdgeListError(SkiptraceError):
    """The edge list cannot be read: the message names the file, the line and the reason."""


# -- reading -----------------------------------------------------------------------------
@dataclass
class EdgeList:
    """Events of an edge list, nodes numbered ``0..n-1`` (``ids[i]`` as written in the file).

    ``src[j]``, ``dst[j]``: node indices of event ``j``; ``weight`` and
    ``time`` are per-event floats when the file has those columns.
    ``digits[i]`` is the number behind node ``i``'s phone: its id when every
    id is an integer below 10^8, else its index.
    """

    path: str
    ids: list[str]
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray | None = None
    time: np.ndarray | None = None
    self_loops: int = 0
    digits: list[int] = field(default_factory=list)
    #: False when no pair occurs in both directions: an undirected list (each contact written
    #: once), whose ties are mutual: the contract layout counts its events both ways
    directed: bool = True

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def events(self) -> int:
        return len(self.src)

    def pair_keys(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Undirected pair key ``min * n + max`` of each event (or of the masked ones)."""
        s, d = (self.src, self.dst) if mask is None else (self.src[mask], self.dst[mask])
        return np.minimum(s, d).astype(np.int64) * self.n + np.maximum(s, d)

    def borrower_id(self, i: int) -> str:
        return f"N{self.ids[i]}"

    def phone(self, i: int) -> str:
        """Node ``i``'s registered phone: a valid CN mobile, ``+86138`` and 8 digits."""
        return f"+86138{self.digits[i]:08d}"


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_edges(path: str | Path) -> EdgeList:
    """Read an edge list: CSV (``.gz`` allowed), header ``src,dst[,weight][,time]``.

    One row per event. Node ids are tokens of letters, digits, ``_ . -``;
    weight and time are numbers. Self-loops are counted and dropped.
    Raises :class:`EdgeListError` (``file:line: reason``) on a missing file,
    a bad header, a bad value or no edges at all. Cost: O(rows).
    """
    p = Path(path)
    if not p.is_file():
        raise EdgeListError(f"{p}: no such file")
    srcs: list[str] = []
    dsts: list[str] = []
    weights: list[float] = []
    times: list[float] = []
    loops = 0
    try:
        with _open_text(p) as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise EdgeListError(f"{p}:1: empty file "
                                    "(expected a header src,dst[,weight][,time])")
            cols = tuple(h.strip().lower() for h in header)
            if cols not in HEADERS:
                raise EdgeListError(f"{p}:1: bad header {','.join(header)!r} "
                                    "(expected src,dst[,weight][,time])")
            has_w, has_t = "weight" in cols, "time" in cols
            iw, it = (cols.index("weight") if has_w else -1), (cols.index("time") if has_t else -1)
            width = len(cols)
            for line, row in enumerate(reader, start=2):
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != width:
                    raise EdgeListError(f"{p}:{line}: {len(row)} fields, expected {width} "
                                        f"({','.join(cols)})")
                a, b = row[0].strip(), row[1].strip()
                for name, v in (("src", a), ("dst", b)):
                    if not _ID.match(v):
                        raise EdgeListError(f"{p}:{line}: bad {name} {v!r} (letters, digits, "
                                            "'_', '.', '-')")
                try:
                    w = float(row[iw]) if has_w else 0.0
                    t = float(row[it]) if has_t else 0.0
                except ValueError:
                    raise EdgeListError(f"{p}:{line}: weight and time must be numbers, got "
                                        f"{row!r}") from None
                if not (math.isfinite(w) and math.isfinite(t)):
                    raise EdgeListError(f"{p}:{line}: weight and time must be finite, got {row!r}")
                if a == b:
                    loops += 1
                    continue
                srcs.append(a)
                dsts.append(b)
                if has_w:
                    weights.append(w)
                if has_t:
                    times.append(t)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise EdgeListError(f"{p}: cannot read: {exc}") from None
    if not srcs:
        raise EdgeListError(f"{p}: no edges (other than self-loops)")
    names = set(srcs) | set(dsts)
    numeric = all(x.isdigit() for x in names)
    ids = sorted(names, key=int) if numeric else sorted(names)
    index = {x: i for i, x in enumerate(ids)}
    digits = [int(x) for x in ids] if numeric and int(ids[-1]) < 10 ** 8 else list(range(len(ids)))
    if len(ids) >= 10 ** 8:
        raise EdgeListError(f"{p}: {len(ids)} nodes: at most 10^8 fit the phone numbering")
    el = EdgeList(str(p), ids, np.fromiter((index[x] for x in srcs), np.int64, len(srcs)),
                  np.fromiter((index[x] for x in dsts), np.int64, len(dsts)),
                  np.asarray(weights, float) if has_w else None,
                  np.asarray(times, float) if has_t else None, loops, digits)
    fwd = el.src.astype(np.int64) * el.n + el.dst
    el.directed = bool(np.isin(el.dst.astype(np.int64) * el.n + el.src, fwd).any())
    log.info("%s: %d nodes, %d events, %d self-loops dropped", p.name, el.n, el.events, loops)
    return el


# -- contract layout ----------------------------------------------------------------------
def time_origin(el: EdgeList) -> np.datetime64:
    """Where ``time = 0`` lies: the Unix epoch, or :data:`RELATIVE_ORIGIN` for study-relative
    times (all below :data:`UNIX_FLOOR` seconds, i.e. before 1973)."""
    if el.time is not None and len(el.time) and float(el.time.min()) < UNIX_FLOOR \
            and float(el.time.max()) < UNIX_FLOOR:
        return np.datetime64(RELATIVE_ORIGIN.rstrip("Z"), "s")
    return np.datetime64(0, "s")


def to_iso(el: EdgeList, t: np.ndarray | float) -> np.ndarray | str:
    """Data time(s) -> ISO 8601 UTC ``YYYY-MM-DDTHH:MM:SSZ`` (whole seconds, floored)."""
    arr = np.floor(np.atleast_1d(np.asarray(t, float))).astype(np.int64)
    out = np.char.add(np.datetime_as_string(time_origin(el) + arr.astype("timedelta64[s]"),
                                            unit="s"), "Z")
    return out if np.ndim(t) else str(out[0])


@dataclass
class PairTable:
    """Events aggregated per unordered pair: ``lo < hi`` node indices and the call-row fields.

    ``first`` / ``last`` are data times (``None`` without a time column).
    """

    lo: np.ndarray
    hi: np.ndarray
    a_to_b: np.ndarray
    b_to_a: np.ndarray
    seconds: np.ndarray | None
    first: np.ndarray | None
    last: np.ndarray | None

    def __len__(self) -> int:
        return len(self.lo)


def aggregate(el: EdgeList, mask: np.ndarray | None = None) -> PairTable:
    """Aggregate the (masked) events per unordered pair. Cost: O(events log events)."""
    sel = np.ones(el.events, bool) if mask is None else mask
    s, d = el.src[sel], el.dst[sel]
    keys = el.pair_keys(sel)
    uniq, inv = np.unique(keys, return_inverse=True)
    m = len(uniq)
    if el.directed:
        fwd = (s < d).astype(np.int64)
        a_to_b = np.bincount(inv, weights=fwd, minlength=m).astype(np.int64)
        b_to_a = np.bincount(inv, minlength=m).astype(np.int64) - a_to_b
    else:  # a contact listed once is mutual: each event counts both ways
        a_to_b = np.bincount(inv, minlength=m).astype(np.int64)
        b_to_a = a_to_b.copy()
    seconds = first = last = None
    if el.weight is not None:
        w = el.weight[sel]
        seconds = np.bincount(inv, weights=np.where(w > 0, w, 0.0), minlength=m)
    if el.time is not None:
        t = el.time[sel]
        first = np.full(m, np.inf)
        last = np.full(m, -np.inf)
        np.minimum.at(first, inv, t)
        np.maximum.at(last, inv, t)
    return PairTable(uniq // el.n, uniq % el.n, a_to_b, b_to_a, seconds, first, last)


def write_contract(el: EdgeList, directory: str | Path,
                   mask: np.ndarray | None = None) -> PairTable:
    """Write the contract input layout of ``el`` (only the ``mask``-ed events) into ``directory``.

    ``borrowers.csv`` (every node, even one whose events are all masked
    out), ``borrower_phones.csv`` (one primary phone each) and ``calls.csv``
    (one row per unordered pair, ``phone_a`` the lower node). Returns the
    aggregated pairs. Cost: O(events log events + nodes).
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "borrowers.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["borrower_id", "status", "timezone", "region"])
        w.writerows((el.borrower_id(i), "delinquent", "UTC", "CN") for i in range(el.n))
    with open(out / "borrower_phones.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["borrower_id", "phone", "role"])
        w.writerows((el.borrower_id(i), el.phone(i), "primary") for i in range(el.n))
    pt = aggregate(el, mask)
    cols = ["phone_a", "phone_b", "calls_a_to_b", "calls_b_to_a"]
    if pt.seconds is not None:
        cols.append("seconds_total")
    if pt.first is not None:
        cols += ["first_at", "last_at"]
        first_iso = to_iso(el, pt.first) if len(pt) else []
        last_iso = to_iso(el, pt.last) if len(pt) else []
    with open(out / "calls.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for j in range(len(pt)):
            row: list[object] = [el.phone(int(pt.lo[j])), el.phone(int(pt.hi[j])),
                                 int(pt.a_to_b[j]), int(pt.b_to_a[j])]
            if pt.seconds is not None:
                row.append(int(round(pt.seconds[j])))
            if pt.first is not None:
                row += [first_iso[j], last_iso[j]]
            w.writerow(row)
    return pt


# -- splits -------------------------------------------------------------------------------
@dataclass
class Split:
    """One train/test division of an edge list.

    ``train``: mask over events. ``relevant[s]``: nodes relevant to source
    ``s`` (sorted array); ``positives[s]``: the AUC positives of ``s``;
    ``exclude[s]``: nodes left out of ``s``'s ranking besides ``s`` itself.
    """

    index: int
    mode: str
    train: np.ndarray
    relevant: dict[int, np.ndarray]
    positives: dict[int, np.ndarray]
    exclude: dict[int, np.ndarray]
    cut: float | None = None
    as_of: str | None = None


def _partners(lo: np.ndarray, hi: np.ndarray, n: int) -> sparse.csr_matrix:
    """Symmetric 0/1 adjacency (CSR) of undirected pairs."""
    data = np.ones(2 * len(lo), np.float64)
    m = sparse.csr_matrix((data, (np.concatenate([lo, hi]), np.concatenate([hi, lo]))),
                          shape=(n, n))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _rows(m: sparse.csr_matrix, i: int) -> np.ndarray:
    return m.indices[m.indptr[i]:m.indptr[i + 1]]


def random_split(el: EdgeList, hide: float, rng: np.random.Generator, index: int = 0) -> Split:
    """Hide a random ``hide`` share (at least one) of the distinct undirected pairs.

    Relevant and AUC positives of a source: its hidden partners; its
    training partners are excluded from its ranking. Cost: O(events log events).
    """
    keys = el.pair_keys()
    uniq = np.unique(keys)
    k = max(1, int(round(hide * len(uniq))))
    if k >= len(uniq):
        raise SkiptraceError(f"{el.path}: hiding {k} of {len(uniq)} pairs leaves no training graph")
    test = np.sort(rng.choice(uniq, size=k, replace=False))
    train = ~np.isin(keys, test)
    tmat = _partners(test // el.n, test % el.n, el.n)
    trk = np.unique(keys[train])
    trmat = _partners(trk // el.n, trk % el.n, el.n)
    relevant = {int(s): _rows(tmat, s).copy() for s in np.flatnonzero(np.diff(tmat.indptr))}
    exclude = {s: _rows(trmat, s).copy() for s in relevant}
    return Split(index, "random", train, relevant, relevant, exclude)


def temporal_split(el: EdgeList, hide: float = 0.1, cut: float | None = None,
                   index: int = 0) -> Split:
    """Train on events before ``cut``; test pairs have an event at or after it.

    ``cut`` defaults to the ``1 - hide`` quantile of the event times.
    Relevant: every partner after the cut; AUC positives: the new ones
    (no event before the cut); nothing besides the source is excluded from
    its ranking. ``as_of`` = the cut as ISO UTC. Cost: O(events log events).
    """
    if el.time is None:
        raise SkiptraceError(f"{el.path}: temporal mode needs a time column")
    if cut is None:
        cut = float(np.quantile(el.time, 1.0 - hide))
    train = el.time < cut
    if not train.any() or train.all():
        empty = "training" if not train.any() else "test"
        raise SkiptraceError(f"{el.path}: cut {cut:g} leaves no {empty} events (times run from "
                             f"{el.time.min():g} to {el.time.max():g})")
    keys = el.pair_keys()
    test_keys = np.unique(keys[~train])
    train_keys = np.unique(keys[train])
    new_keys = np.setdiff1d(test_keys, train_keys, assume_unique=True)
    tmat = _partners(test_keys // el.n, test_keys % el.n, el.n)
    nmat = _partners(new_keys // el.n, new_keys % el.n, el.n)
    relevant = {int(s): _rows(tmat, s).copy() for s in np.flatnonzero(np.diff(tmat.indptr))}
    positives = {s: _rows(nmat, s).copy() for s in relevant}
    exclude = {s: np.empty(0, np.int64) for s in relevant}
    return Split(index, "temporal", train, relevant, positives, exclude, float(cut),
                 to_iso(el, cut))


# -- metrics ------------------------------------------------------------------------------
def expected_rank(scores: np.ndarray, relevant: np.ndarray) -> float:
    """Expected rank (1-based) of the first relevant item under random tie-breaking.

    ``scores``: the candidates' scores (higher first); ``relevant``: a bool
    mask (or indices) of the relevant ones, at least one. With ``a`` items
    scored above the best relevant score and ``t`` items tied at it, ``k``
    of them relevant, the answer is ``a + (t + 1) / (k + 1)``. O(len).

    >>> expected_rank(np.array([0.9, 0.5, 0.5, 0.5]), np.array([False, True, False, False]))
    3.0
    """
    rel = _mask(scores, relevant)
    top = scores[rel].max()
    a = int(np.count_nonzero(scores > top))
    t = int(np.count_nonzero(scores == top))
    k = int(np.count_nonzero(scores[rel] == top))
    return a + (t + 1) / (k + 1)


def hit_probability(scores: np.ndarray, relevant: np.ndarray, k: int) -> float:
    """Probability that a relevant item is in the top ``k`` under random tie-breaking.

    With ``a`` items above the best relevant score and a tied group of ``t``
    holding ``r`` relevant: 0 if ``a >= k``, else ``1 - C(t - r, j) / C(t, j)``
    with ``j = k - a`` (no relevant item among the group's first ``j``). O(len).
    """
    rel = _mask(scores, relevant)
    top = scores[rel].max()
    a = int(np.count_nonzero(scores > top))
    if a >= k:
        return 0.0
    t = int(np.count_nonzero(scores == top))
    r = int(np.count_nonzero(scores[rel] == top))
    j = min(k - a, t)
    miss = 1.0
    for i in range(j):
        miss *= max(0, t - r - i) / (t - i)
    return 1.0 - miss


def _mask(scores: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    rel = np.asarray(relevant)
    if rel.dtype != bool:
        m = np.zeros(len(scores), bool)
        m[rel] = True
        rel = m
    if not rel.any():
        raise ValueError("no relevant item")
    return rel


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Area under the ROC curve of positive vs negative scores; a tie counts 1/2.

    The Mann-Whitney probability that a random positive outscores a random
    negative (sklearn's ``roc_auc_score``). ``nan`` without both classes.
    O((p + q) log(p + q)).
    """
    from sklearn.metrics import roc_auc_score

    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    return float(roc_auc_score(y, np.r_[pos, neg]))


# -- baselines ----------------------------------------------------------------------------
@dataclass
class TrainGraph:
    """The training graph, undirected: 0/1 adjacency, event counts and latest event per pair."""

    adj: sparse.csr_matrix
    count: sparse.csr_matrix | None = None
    latest: sparse.csr_matrix | None = None

    @classmethod
    def build(cls, el: EdgeList, train: np.ndarray) -> "TrainGraph":
        pt = aggregate(el, train)
        n = el.n
        adj = _partners(pt.lo, pt.hi, n)
        rows, cols = np.concatenate([pt.lo, pt.hi]), np.concatenate([pt.hi, pt.lo])
        cnt = sparse.csr_matrix((np.tile((pt.a_to_b + pt.b_to_a).astype(float), 2), (rows, cols)),
                                shape=(n, n))
        latest = None
        if pt.last is not None and len(pt):
            # shift so that every event has a positive score and non-partners sit at 0
            shifted = pt.last - float(el.time.min()) + 1.0
            latest = sparse.csr_matrix((np.tile(shifted, 2), (rows, cols)), shape=(n, n))
        return cls(adj, cnt, latest)


def baseline_scores(g: TrainGraph, sources: np.ndarray, *, temporal: bool = False,
                    restart: float = PPR_RESTART) -> dict[str, np.ndarray]:
    """Scores of every node for each source (``len(sources) x n`` dense arrays) by method.

    On the undirected, unweighted training graph (``N(x)`` neighbours, ``d`` degree):

    - ``cn``: ``|N(s) & N(v)|``; ``jaccard``: ``cn / |N(s) | N(v)|``;
    - ``adamic_adar``: ``sum 1 / log d(z)`` and ``ra``: ``sum 1 / d(z)`` over
      common neighbours ``z``;
    - ``ppr``: personalised PageRank from ``s``, restart ``restart`` (mass
      at nodes without neighbours returns to ``s``);

    and with ``temporal``: ``call_count`` (events with ``s`` before the
    cut), ``most_recent`` (time of the latest event with ``s``, shifted
    positive; non-partners 0) and ``count_then_ra`` (partners by count, ties
    and every non-partner by RA, always below any partner).

    Cost: sparse products ``A[S] @ D @ A`` (O(sum over S's neighbours of
    their degrees)) and ``O(iterations * nnz(A) * |S|)`` for the walk.
    """
    A = g.adj
    deg = np.asarray(A.sum(axis=1)).ravel()
    As = A[sources]
    out: dict[str, np.ndarray] = {}
    cn = (As @ A).toarray()
    out["cn"] = cn
    union = deg[sources][:, None] + deg[None, :] - cn
    out["jaccard"] = np.divide(cn, union, out=np.zeros_like(cn), where=union > 0)
    with np.errstate(divide="ignore"):
        aa_w = np.where(deg >= 2, 1.0 / np.log(np.maximum(deg, 2)), 0.0)
    out["adamic_adar"] = (As @ sparse.diags(aa_w) @ A).toarray()
    ra_w = np.where(deg > 0, 1.0 / np.maximum(deg, 1), 0.0)
    ra = (As @ sparse.diags(ra_w) @ A).toarray()
    out["ra"] = ra
    out["ppr"] = personalised_pagerank(A, sources, restart=restart)
    if temporal:
        cnt = g.count[sources].toarray()
        out["call_count"] = cnt
        out["most_recent"] = g.latest[sources].toarray() if g.latest is not None \
            else np.zeros_like(cnt)
        top = ra.max(axis=1, keepdims=True)
        out["count_then_ra"] = cnt + np.divide(ra, 2.0 * top, out=np.zeros_like(ra), where=top > 0)
    return out


def personalised_pagerank(A: sparse.csr_matrix, sources: np.ndarray, *,
                          restart: float = PPR_RESTART, tol: float = 1e-9) -> np.ndarray:
    """Random walk with restart from each source (rows), unweighted and undirected.

    ``x = restart * e_s + (1 - restart) * (P x + e_s * dangling mass)`` with
    ``P = A D^-1``; power iteration from ``e_s``, as many steps as bound the
    L1 error by ``tol`` (``2 (1 - restart)^k <= tol``: 75 steps at the
    defaults). Returns ``len(sources) x n``. Cost: O(steps * nnz(A) * |S|).
    """
    n = A.shape[0]
    b = len(sources)
    deg = np.asarray(A.sum(axis=1)).ravel()
    dangling = np.flatnonzero(deg == 0)
    P = (A @ sparse.diags(np.where(deg == 0, 0.0, 1.0 / np.maximum(deg, 1)))).tocsr()
    E = np.zeros((n, b))
    cols = np.arange(b)
    E[sources, cols] = 1.0
    x = E.copy()
    steps = max(1, math.ceil(math.log(tol / 2.0) / math.log(1.0 - restart))) if restart < 1 else 1
    for _ in range(steps):
        nxt = P @ x
        nxt *= 1.0 - restart
        lost = x[dangling].sum(axis=0) if len(dangling) else 0.0
        nxt[sources, cols] += restart + (1.0 - restart) * lost
        x = nxt
    return x.T.copy()


# -- find ---------------------------------------------------------------------------------
def find_scores(store: GraphStore, el: EdgeList, source: int,
                scorers: dict[str, LinearScorer | None],
                phone_index: dict[str, int], **find_kwargs) -> tuple[dict[str, np.ndarray],
                                                                     dict[str, float]]:
    """``find``'s score of every node for one source, per scorer, from one ego-graph read.

    A node whose phone ``find`` does not list scores 0. Returns the score
    vectors and the milliseconds of (read + score) per scorer.
    """
    from skiptrace.contacts.ego import fetch
    from skiptrace.contacts.features import extract
    from skiptrace.contacts.find import scores

    t0 = time.perf_counter()
    ego = fetch(store, el.borrower_id(source), **find_kwargs)
    feats = extract(ego)
    read_ms = (time.perf_counter() - t0) * 1000.0
    out: dict[str, np.ndarray] = {}
    ms: dict[str, float] = {}
    for name, scorer in scorers.items():
        t1 = time.perf_counter()
        got = scores(ego, scorer=scorer, feats=feats)
        ms[name] = read_ms + (time.perf_counter() - t1) * 1000.0
        x = np.zeros(el.n)
        for phone, score in got.items():
            i = phone_index.get(phone)
            if i is not None:
                x[i] = max(x[i], score)
        out[name] = x
    return out, ms


# -- evaluation ---------------------------------------------------------------------------
@dataclass
class SplitResult:
    """Metrics of every method on one split (see the module docstring for definitions).

    ``cold_sources``: sources without a single training partner (every
    method can only guess for them: all their candidates tie).
    """

    index: int
    sources: int
    relevant_pairs: int
    auc_pairs: int
    methods: dict[str, dict[str, float]]
    find_ms_p50: dict[str, float]
    seconds: float
    cut: float | None = None
    as_of: str | None = None
    cold_sources: int = 0

    def as_dict(self) -> dict:
        return {"index": self.index, "sources": self.sources, "cold_sources": self.cold_sources,
                "relevant_pairs": self.relevant_pairs,
                "auc_pairs": self.auc_pairs, "cut": self.cut, "as_of": self.as_of,
                "find_ms_p50": self.find_ms_p50, "seconds": round(self.seconds, 2),
                "methods": self.methods}


@dataclass
class LinkPredResult:
    """``find`` and the baselines as link predictors on one edge list, over splits."""

    edges: str
    mode: str
    hide: float
    seed: int
    nodes: int
    pairs: int
    events: int
    self_loops: int
    find_kwargs: dict
    splits: list[SplitResult]
    seconds: float = 0.0

    @property
    def method_names(self) -> list[str]:
        return list(self.splits[0].methods) if self.splits else []

    def summary(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{method: {metric: {"mean", "std"}}}`` over splits (population std; nan-free)."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for m in self.method_names:
            out[m] = {}
            for k in METRICS:
                vals = [s.methods[m][k] for s in self.splits if not math.isnan(s.methods[m][k])]
                out[m][k] = {"mean": statistics.fmean(vals) if vals else float("nan"),
                             "std": statistics.pstdev(vals) if len(vals) > 1 else 0.0}
        return out

    def mean(self, method: str, metric: str) -> float:
        return self.summary()[method][metric]["mean"]

    def find_ms_p50(self) -> dict[str, float]:
        """Median over splits of each find variant's per-source p50 (read + score), ms."""
        names = self.splits[0].find_ms_p50 if self.splits else {}
        return {n: statistics.median(s.find_ms_p50[n] for s in self.splits) for n in names}

    def as_dict(self) -> dict:
        def clean(v: float) -> float | None:
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(v, 6)

        summ = {m: {k: {"mean": clean(v["mean"]), "std": clean(v["std"])} for k, v in d.items()}
                for m, d in self.summary().items()}
        splits = []
        for s in self.splits:
            d = s.as_dict()
            d["methods"] = {m: {k: clean(v) for k, v in mm.items()} for m, mm in s.methods.items()}
            splits.append(d)
        return {"edges": self.edges, "mode": self.mode, "hide": self.hide, "seed": self.seed,
                "nodes": self.nodes, "pairs": self.pairs, "events": self.events,
                "self_loops": self.self_loops,
                "find_kwargs": {k: v for k, v in self.find_kwargs.items()},
                "find_ms_p50": {k: round(v, 2) for k, v in self.find_ms_p50().items()},
                "seconds": round(self.seconds, 2), "methods": summ, "splits": splits}


def _sample_negatives(full: sparse.csr_matrix, s: int, k: int,
                      rng: np.random.Generator) -> np.ndarray:
    """``k`` nodes (fewer if there are not enough) with no pair with ``s`` in the full data."""
    n = full.shape[0]
    if k <= 0:
        return np.empty(0, np.int64)
    taken = _rows(full, s)
    free = n - 1 - len(taken)
    if free <= 0:
        return np.empty(0, np.int64)
    if k * 4 < free:  # rejection sampling: cheap when most nodes are non-partners
        bad = set(taken.tolist()) | {s}
        got: list[int] = []
        seen: set[int] = set()
        while len(got) < k:
            for v in rng.integers(0, n, size=2 * k).tolist():
                if v not in bad and v not in seen:
                    seen.add(v)
                    got.append(v)
                    if len(got) == k:
                        break
        return np.asarray(got, np.int64)
    mask = np.ones(n, bool)
    mask[taken] = False
    mask[s] = False
    pool = np.flatnonzero(mask)
    return rng.choice(pool, size=min(k, len(pool)), replace=False)


def evaluate_linkpred(edges: str | Path | EdgeList, *, hide: float = 0.1, splits: int = 5,
                      seed: int = 0, mode: str = "random", cut: float | None = None,
                      sources: int | None = DEFAULT_SOURCES,
                      scorers: dict[str, LinearScorer | None] | None = None,
                      trainers: dict[str, Callable[[GraphStore], LinearScorer]] | None = None,
                      find_kwargs: dict | None = None, restart: float = PPR_RESTART,
                      chunk: int = 64, workdir: str | Path | None = None) -> LinkPredResult:
    """Evaluate ``find`` (each scorer / trainer) and the baselines as link predictors.

    Parameters
    ----------
    edges : an edge-list path (see :func:`read_edges`) or an :class:`EdgeList`.
    hide : share of pairs hidden (random mode) or of events after the
        default cut (temporal mode); in (0, 1).
    splits : number of seeded splits (random: different hidden pairs;
        temporal: the same cut, a different sample of sources and negatives).
    seed : seeds the splits, the source samples and the negatives.
    mode : ``"random"`` or ``"temporal"`` (needs a time column).
    cut : the temporal cut in the data's time units (default the ``1 - hide``
        quantile of event times).
    sources : evaluate at most this many sources per split (a seeded sample
        of the nodes with a test pair); ``None`` = all. ``find`` with
        ``limit=None`` (evidence for every candidate) costs 2 ms to 0.5 s
        per source on the real networks, so the default keeps a split
        under half a minute.
    scorers : ``{name: LinearScorer | None}`` run on one ego-graph read per
        source; default ``{"find": None}`` (find's default weights).
    trainers : ``{name: callable(store) -> LinearScorer}`` called on each
        split's training store; their scorers join ``scorers``.
    find_kwargs : passed to :func:`skiptrace.contacts.ego.fetch`
        (``max_hops``, ``max_fanout``, ...); in temporal mode ``as_of``
        defaults to the cut.
    restart : the PPR baseline's restart probability.
    chunk : sources scored together by the vectorised baselines.
    workdir : where the temporary stores go (default the system temp dir).

    Raises :class:`SkiptraceError` on bad arguments or input.
    """
    from skiptrace.ingest import load
    from skiptrace.store import SQLiteStore

    started = time.perf_counter()
    if not 0.0 < hide < 1.0:
        raise SkiptraceError(f"hide must be in (0, 1), got {hide}")
    if splits < 1:
        raise SkiptraceError(f"splits must be at least 1, got {splits}")
    if mode not in ("random", "temporal"):
        raise SkiptraceError(f"mode must be random or temporal, got {mode!r}")
    if sources is not None and sources < 1:
        raise SkiptraceError(f"sources must be at least 1, got {sources}")
    if cut is not None and mode != "temporal":
        raise SkiptraceError("a cut needs temporal mode")
    if not 0.0 < restart <= 1.0:
        raise SkiptraceError(f"restart must be in (0, 1], got {restart}")
    el = edges if isinstance(edges, EdgeList) else read_edges(edges)
    scorers = dict(scorers) if scorers is not None else {"find": None}
    trainers = dict(trainers or {})
    clash = set(scorers) & set(trainers) | (set(scorers) | set(trainers)) & \
        set(STATIC_BASELINES + TEMPORAL_BASELINES)
    if clash:
        raise SkiptraceError(f"method names used twice: {sorted(clash)}")
    fk = dict(find_kwargs or {})
    full_keys = np.unique(el.pair_keys())
    full = _partners(full_keys // el.n, full_keys % el.n, el.n)
    phone_index = {el.phone(i): i for i in range(el.n)}
    results: list[SplitResult] = []
    temporal_base = temporal_split(el, hide, cut) if mode == "temporal" else None
    for i in range(splits):
        t_split = time.perf_counter()
        rng = np.random.default_rng([seed, i])
        sp = random_split(el, hide, rng, i) if mode == "random" else Split(
            i, "temporal", temporal_base.train, temporal_base.relevant, temporal_base.positives,
            temporal_base.exclude, temporal_base.cut, temporal_base.as_of)
        cands = np.array(sorted(sp.relevant), np.int64)
        if sources is not None and len(cands) > sources:
            cands = np.sort(rng.choice(cands, size=sources, replace=False))
        kw = dict(fk)
        if mode == "temporal":
            kw.setdefault("as_of", sp.as_of)
        graph = TrainGraph.build(el, sp.train)
        with tempfile.TemporaryDirectory(prefix="linkpred-", dir=workdir) as tmp:
            write_contract(el, Path(tmp) / "in", sp.train)
            store = SQLiteStore(Path(tmp) / "train.db")
            try:
                t0 = time.perf_counter()
                load(store, Path(tmp) / "in")
                log.info("split %d: loaded %d nodes in %.1fs", i, el.n, time.perf_counter() - t0)
                split_scorers = dict(scorers)
                for name, trainer in trainers.items():
                    split_scorers[name] = trainer(store)
                res = _score_split(el, sp, cands, graph, full, store, split_scorers, kw,
                                   phone_index, rng, restart, chunk)
            finally:
                store.close()
        res.seconds = time.perf_counter() - t_split
        log.info("split %d: %d sources in %.1fs", i, res.sources, res.seconds)
        results.append(res)
    return LinkPredResult(el.path, mode, hide, seed, el.n, len(full_keys), el.events,
                          el.self_loops, fk, results, time.perf_counter() - started)


def _score_split(el: EdgeList, sp: Split, cands: np.ndarray, graph: TrainGraph,
                 full: sparse.csr_matrix, store: GraphStore,
                 scorers: dict[str, LinearScorer | None],
                 find_kwargs: dict, phone_index: dict[str, int], rng: np.random.Generator,
                 restart: float, chunk: int) -> SplitResult:
    temporal = sp.mode == "temporal"
    names = list(scorers) + list(STATIC_BASELINES) + (list(TEMPORAL_BASELINES) if temporal else [])
    rr: dict[str, list[float]] = {m: [] for m in names}
    h1: dict[str, list[float]] = {m: [] for m in names}
    h10: dict[str, list[float]] = {m: [] for m in names}
    pos: dict[str, list[np.ndarray]] = {m: [] for m in names}
    neg: dict[str, list[np.ndarray]] = {m: [] for m in names}
    ms: dict[str, list[float]] = {m: [] for m in scorers}
    negatives = {int(s): _sample_negatives(full, int(s), len(sp.positives[int(s)]), rng)
                 for s in cands}
    warm = np.diff(graph.adj.indptr) > 0
    is_warm: list[bool] = []
    n_rel = n_auc = 0
    for start in range(0, len(cands), chunk):
        batch = cands[start:start + chunk]
        base = baseline_scores(graph, batch, temporal=temporal, restart=restart)
        for j, s in enumerate(batch.tolist()):
            fs, t = find_scores(store, el, s, scorers, phone_index, **find_kwargs)
            for name, v in t.items():
                ms[name].append(v)
            keep = np.ones(el.n, bool)
            keep[s] = False
            keep[sp.exclude[s]] = False
            relmask = np.zeros(el.n, bool)
            relmask[sp.relevant[s]] = True
            relmask = relmask[keep]
            p, q = sp.positives[s], negatives[s]
            n_rel += len(sp.relevant[s])
            is_warm.append(bool(warm[s]))
            n_auc += len(p) + len(q)
            for m in names:
                x = fs[m] if m in fs else base[m][j]
                xs = x[keep]
                rr[m].append(1.0 / expected_rank(xs, relmask))
                h1[m].append(hit_probability(xs, relmask, 1))
                h10[m].append(hit_probability(xs, relmask, 10))
                pos[m].append(x[p])
                neg[m].append(x[q])
    methods: dict[str, dict[str, float]] = {}
    wmask = np.asarray(is_warm, bool)
    for m in names:
        P = np.concatenate(pos[m]) if pos[m] else np.empty(0)
        N = np.concatenate(neg[m]) if neg[m] else np.empty(0)
        methods[m] = {"auc": auc(P, N), "mrr": _mean(rr[m]), "hit@1": _mean(h1[m]),
                      "hit@10": _mean(h10[m]),
                      "mrr_warm": _mean(np.asarray(rr[m])[wmask]) if len(wmask) else float("nan"),
                      "coverage": float(np.mean(P > 0)) if len(P) else float("nan")}
    p50 = {m: float(np.median(v)) if v else float("nan") for m, v in ms.items()}
    cold = int(np.count_nonzero(~wmask))
    return SplitResult(sp.index, len(cands), n_rel, n_auc, methods, p50, 0.0, sp.cut, sp.as_of,
                       cold)


def _mean(v: Iterable[float]) -> float:
    v = list(v)
    return float(np.mean(v)) if v else float("nan")
