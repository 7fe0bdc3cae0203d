"""The ring projection: borrowers, the identifiers they share, and a weighted borrower graph.

Read once from any store (through storage primitives only), then held as
numpy arrays:

- per borrower: status, days past due, opening day, cease/attorney flags and
  the first-seen day of their newest registered phone;
- incidences borrower -> identifier, each identifier with a kind: ``device``
  (USES_DEVICE), ``phone`` (a number registered by the borrower, HAS_PHONE),
  ``address`` (home or mailing, LIVES_AT), ``contact`` (a phone the borrower
  lists as an emergency contact), ``employer`` (EMPLOYED_BY), ``work_address``
  (WORKS_AT) and ``work_phone`` (a number registered with role ``work``: an
  office line colleagues share, weak like the employer);
- a borrower-to-borrower graph: every identifier shared by ``n`` borrowers
  gives each pair of them ``kind_weight / (n - 1)`` (each identifier spreads
  one unit of weight over its holders, so rare identifiers bind strongly and
  shared ones weakly, as resource allocation does); a borrower who lists
  another borrower's registered number holds that number's identifier, so
  the tie is one of the phone's pairs (no separate direct tie).

Hub suppression: an identifier held by more than its kind's cap (a courier,
a dormitory, a cafe's tablet) or named in a known-benign list gives no pair
weight; it is kept in :attr:`RingGraph.hubs` for the evidence.

Phonebook listings are not projected into pairs (a person in 150
phonebooks would add thousands); the listings of delinquent borrowers are
kept as they are, for agent detection (:mod:`skiptrace.rings.agents`).

Cost: one pass over the five identifier relationship types and the
emergency listings, O(E); pair generation is O(sum of n^2) over identifiers
below their caps.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

import numpy as np

from skiptrace.contacts import clock
from skiptrace.graph.project import bulk_read
from skiptrace.store.base import GraphStore, split_id

log = logging.getLogger(__name__)

KINDS = ("device", "phone", "address", "contact", "employer", "work_address", "work_phone")
KIND_CODE = {k: i for i, k in enumerate(KINDS)}
RECYCLED_GAP = 60.0  # days
FAMILY = frozenset({"spouse", "parent", "child", "sibling", "relative"})
STATUS = {"current": 0, "delinquent": 1, "written_off": 2, "repaid": 3}


@dataclass(frozen=True)
class ProjectionConfig:
    """How identifiers bind borrowers (defaults are priors, explained per field).

    ``weight``: a kind's unit of binding weight (a device or a registered phone
    is the strongest evidence of one hand behind two accounts; an address
    less, it may be a family home; an employer least, colleagues are many).
    ``cap``: identifiers held by more borrowers are hubs, suppressed.
    ``direct``: kept for saved configurations; unused (such a listing is a phone pair).
    ``benign``: (kind, value) pairs known to be benign hubs (a courier company's
    number, a dormitory's address), suppressed whatever their size.
    """

    weight: tuple[tuple[str, float], ...] = (("device", 1.0), ("phone", 1.0), ("address", 0.6),
                                             ("contact", 0.5), ("employer", 0.1),
                                             ("work_address", 0.15), ("work_phone", 0.15))
    cap: tuple[tuple[str, int], ...] = (("device", 20), ("phone", 12), ("address", 25),
                                        ("contact", 15), ("employer", 60), ("work_address", 60),
                                        ("work_phone", 60))
    direct: float = 0.5
    benign: frozenset[tuple[str, str]] = frozenset()

    def weight_of(self, kind: str) -> float:
        return dict(self.weight)[kind]

    def cap_of(self, kind: str) -> int:
        return dict(self.cap)[kind]


def read_benign(path: str | Path) -> frozenset[tuple[str, str]]:
    """A known-benign list: a CSV with columns ``kind,value`` (kind one of
    device, phone, address, contact, employer, work_address; value the
    identifier as loaded: a device id, an E.164 phone, an address key or an
    employer key). Blank lines and lines starting with # are skipped."""
    import csv

    from skiptrace.errors import SkiptraceError

    out: set[tuple[str, str]] = set()
    with open(path, newline="", encoding="utf-8") as fh:
        rows = csv.reader(line for line in fh if line.strip() and not line.startswith("#"))
        for n, row in enumerate(rows, 1):
            if n == 1 and [c.strip() for c in row[:2]] == ["kind", "value"]:
                continue
            if len(row) < 2 or row[0].strip() not in KINDS or not row[1].strip():
                raise SkiptraceError(f"{path}: row {n}: want kind,value with kind one of {', '.join(KINDS)}")
            out.add((row[0].strip(), row[1].strip()))
    return frozenset(out)


@dataclass
class RingGraph:
    """The projection (see the module docstring). Borrower arrays are indexed by
    position in :attr:`borrowers`; identifier arrays by position in :attr:`idents`."""

    as_of: float
    borrowers: list[str]
    status: np.ndarray  # int8, STATUS codes, -1 unknown
    dpd: np.ndarray  # int32, -1 unknown
    opened: np.ndarray  # float64 day numbers, nan unknown
    cease: np.ndarray  # bool
    attorney: np.ndarray  # bool
    phone_since: np.ndarray  # float64: first_seen day of the newest registered phone, nan unknown
    idents: list[str]  # node ids ("Device:d1")
    ident_kind: np.ndarray  # int8 KIND_CODE
    ident_n: np.ndarray  # int32 borrowers holding it
    ident_node: np.ndarray  # int64: one code per node (a registered and a listed phone share it)
    inc_b: np.ndarray  # int32 borrower index per incidence
    inc_i: np.ndarray  # int32 identifier index per incidence
    pair_u: np.ndarray  # int32
    pair_v: np.ndarray  # int32
    pair_w: np.ndarray  # float64
    family_u: np.ndarray  # int32: u lists a number of v as a family emergency contact
    family_v: np.ndarray
    switchboards: set[str] = field(default_factory=set)  # phones registered by an employer
    hubs: list[tuple[str, str, int]] = field(default_factory=list)  # (kind, node id, holders)
    index: dict[str, int] = field(default_factory=dict)
    # every listing (emergency or phonebook) by a delinquent borrower, for agent detection
    listed: list[str] = field(default_factory=list)  # phone node ids
    list_b: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    list_p: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    list_emergency: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    # per incidence: the borrower only lists this number as an emergency contact (registers no
    # phone, device or address of it); such ties are social, not one hand behind two accounts
    inc_listed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    ident_hub: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # per identifier: suppressed hub

    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n(self) -> int:
        return len(self.borrowers)

    def _rows_of(self, name: str, keys: np.ndarray, members: np.ndarray) -> np.ndarray:
        """Positions (ascending) of the rows whose ``keys`` (a borrower index per row, named
        ``name`` for the cache) is one of ``members``: ``np.flatnonzero(np.isin(keys, members))``
        in time proportional to those rows (an index sorted by key is built once per name)."""
        got = self._cache.get(name)
        if got is None:
            order = np.argsort(keys, kind="stable")
            ptr = np.r_[0, np.cumsum(np.bincount(keys, minlength=self.n))].astype(np.int64)
            got = self._cache[name] = (order, ptr)
        order, ptr = got
        m = np.unique(np.asarray(members, np.int64))
        starts, ends = ptr[m], ptr[m + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if not total:
            return np.zeros(0, np.int64)
        offs = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        return np.sort(order[np.arange(total) + offs])

    def incidences(self, members: np.ndarray) -> np.ndarray:
        """Positions (ascending) in the incidence arrays of the incidences of ``members``: the
        same as ``np.flatnonzero(np.isin(self.inc_b, members))``, in time proportional to their
        incidences (a borrower-sorted index is built once)."""
        return self._rows_of("inc_b", self.inc_b, members)

    def pairs_within(self, members: np.ndarray) -> np.ndarray:
        """Positions (ascending) of the borrower pairs with both ends among ``members``:
        ``np.flatnonzero(np.isin(pair_u, members) & np.isin(pair_v, members))`` without a pass
        over every pair (detection asks this for each of thousands of groups)."""
        at = self._rows_of("pair_u", self.pair_u, members)
        return at[np.isin(self.pair_v[at], members)]

    def family_within(self, members: np.ndarray) -> np.ndarray:
        """Positions (ascending) of the family ties with both ends among ``members``."""
        at = self._rows_of("family_u", self.family_u, members)
        return at[np.isin(self.family_v[at], members)]

    @property
    def node_n(self) -> np.ndarray:
        """Borrowers holding each identifier node (a registered and a listed phone are one node)."""
        if "node_n" not in self._cache:
            node = self.ident_node
            self._cache["node_n"] = np.bincount(node[self.inc_i], minlength=int(node.max()) + 1 if len(node) else 0)
        return self._cache["node_n"]

    @property
    def delinquent(self) -> np.ndarray:
        """Per borrower: delinquent or written off (computed once; do not modify)."""
        if "delinquent" not in self._cache:
            self._cache["delinquent"] = (self.status == 1) | (self.status == 2)
        return self._cache["delinquent"]

    @property
    def delinquent_share(self) -> float:
        """The book's share of delinquent borrowers."""
        if "delinquent_share" not in self._cache:
            self._cache["delinquent_share"] = float(self.delinquent.mean()) if self.n else 0.0
        return self._cache["delinquent_share"]

    @property
    def onset(self) -> np.ndarray:
        """Default onset day (as_of minus days past due) of delinquent borrowers, nan otherwise
        (computed once; do not modify)."""
        if "onset" not in self._cache:
            out = np.full(self.n, np.nan)
            d = self.delinquent & (self.dpd >= 0)
            out[d] = self.as_of - self.dpd[d]
            self._cache["onset"] = out
        return self._cache["onset"]


def _day(value: object) -> float:
    if not value:
        return float("nan")
    try:
        return clock.to_days(str(value))
    except ValueError:
        return float("nan")


def _days(values: list) -> np.ndarray:
    """Day numbers of a column of ISO strings (nan when missing or not a date), each
    distinct value parsed once: a column holds few distinct dates."""
    parsed = {v: _day(v) for v in set(values)}
    return np.fromiter(map(parsed.__getitem__, values), np.float64, len(values))


class _Interner(dict):
    """``node id -> index``, the next index to each id on first sight."""

    def __missing__(self, key: str) -> int:
        value = self[key] = len(self)
        return value


#: the identifier relationships, in the order the store streams them (sorted), with the
#: properties read from each: only what the projection uses leaves the store
_IDENT_TYPES = (("EMPLOYED_BY", ("since",)), ("HAS_PHONE", ("first_seen", "last_seen", "role")),
                ("LIVES_AT", ("first_seen", "last_seen", "kind")), ("USES_DEVICE", ("first_seen", "last_seen")),
                ("WORKS_AT", ("first_seen", "last_seen")))
_FIXED_KIND = {"EMPLOYED_BY": "employer", "HAS_PHONE": "phone", "LIVES_AT": "address",
               "USES_DEVICE": "device", "WORKS_AT": "work_address"}


def project(store: GraphStore, config: ProjectionConfig | None = None, *,
            as_of: float | None = None, progress: Callable[[str], None] | None = None) -> RingGraph:
    """Read the ring projection out of ``store`` (see the module docstring).

    ``as_of`` (a day number) dates default onsets; by default the latest
    ``last_seen`` of any registered phone or device, the extract's own date.

    Reading is column-wise and set-based: the store returns only the columns
    used, the listings are filtered in the store (emergency listings of
    everyone, every listing of delinquent borrowers; the rest of the
    phonebooks never leaves it), and each chunk becomes numpy arrays through
    C-level maps (no Python loop per row, no per-row objects kept).
    """
    with bulk_read():
        return _project(store, config, as_of=as_of, progress=progress)


def _project(store: GraphStore, config: ProjectionConfig | None = None, *,
            as_of: float | None = None, progress: Callable[[str], None] | None = None) -> RingGraph:
    cfg = config or ProjectionConfig()
    say = progress or (lambda _m: None)
    say("borrowers")
    keys: list[str] = []
    by_node: dict[str, int] = {}
    status_p, dpd_p, opened_p, cease_p, attorney_p = [], [], [], [], []
    cols = ("status", "days_past_due", "opened_at", "cease_requested", "attorney_known")
    for chunk in store.stream_node_columns("Borrower", cols):
        by_node.update(zip(chunk.ids, range(len(keys), len(keys) + len(chunk.ids))))
        keys.extend(split_id(i)[1] for i in chunk.ids)
        pr = chunk.props
        status_p.append(np.fromiter(map(STATUS.get, pr["status"], repeat(-1)), np.int8, len(chunk)))
        dpd_p.append(np.fromiter((-1 if v is None else int(v) for v in pr["days_past_due"]), np.int32, len(chunk)))
        opened_p.append(_days(pr["opened_at"]))
        cease_p.append(np.fromiter(map(bool, pr["cease_requested"]), bool, len(chunk)))
        attorney_p.append(np.fromiter(map(bool, pr["attorney_known"]), bool, len(chunk)))
    index = {k: i for i, k in enumerate(keys)}
    n = len(keys)
    status = _cat(status_p, np.int8)
    phone_since = np.full(n, np.nan)
    latest = -np.inf

    idents = _Interner()
    inc_kind: list[np.ndarray] = []
    inc_stage: list[np.ndarray] = []
    inc_b: list[np.ndarray] = []
    inc_i: list[np.ndarray] = []
    inc_first: list[np.ndarray] = []
    inc_last: list[np.ndarray] = []
    inc_contact: list[np.ndarray] = []
    switchboards: set[str] = set()

    def incidences(b: np.ndarray, dst: list[str], kinds: np.ndarray, first: np.ndarray | None,
                   last: np.ndarray | None, contact: bool, stage: int) -> None:
        # one identifier per node: a phone some register and others list as their emergency
        # contact is one identifier, held by all of them (its kind: see _holdings)
        i = np.fromiter(map(idents.__getitem__, dst), np.int64, len(dst))
        nan = np.full(len(b), np.nan)
        inc_kind.append(kinds), inc_stage.append(np.full(len(b), stage, np.int8))
        inc_b.append(b), inc_i.append(i)
        inc_first.append(nan if first is None else first)
        inc_last.append(nan if last is None else last)
        inc_contact.append(np.full(len(b), contact))

    say("identifiers")
    for stage, (t, props) in enumerate(_IDENT_TYPES):
        for chunk in store.stream_edge_columns([t], props):
            src, pr = chunk.src, chunk.props
            b = np.fromiter(map(by_node.get, src, repeat(-1)), np.int64, len(src))
            keep = b >= 0
            if t == "HAS_PHONE" and not keep.all():
                # a number an employer registers is a switchboard (a borrower unknown here is neither)
                switchboards.update(chunk.dst[r] for r in np.flatnonzero(~keep).tolist()
                                    if split_id(src[r])[0] != "Borrower")
            rows = np.flatnonzero(keep)
            b = b[rows]
            dst = [chunk.dst[r] for r in rows.tolist()] if len(rows) < len(src) else chunk.dst
            sub = (lambda col: col) if len(rows) == len(src) else (lambda col: [col[r] for r in rows.tolist()])
            first = _days(sub(pr["first_seen"])) if "first_seen" in pr else None
            last = _days(sub(pr["last_seen"])) if "last_seen" in pr else None
            code = KIND_CODE[_FIXED_KIND[t]]
            kinds = np.full(len(b), code, np.int8)
            if t == "LIVES_AT":
                kinds[np.fromiter((v == "work" for v in sub(pr["kind"])), bool, len(b))] = KIND_CODE["work_address"]
            elif t == "HAS_PHONE":
                # an office line: colleagues share it by nature
                kinds[np.fromiter((v == "work" for v in sub(pr["role"])), bool, len(b))] = KIND_CODE["work_phone"]
                np.fmax.at(phone_since, b, first)
            if t in ("HAS_PHONE", "USES_DEVICE") and len(b) and not np.isnan(last).all():
                latest = max(latest, float(np.nanmax(last)))
            incidences(b, dst, kinds, first, last, False, stage)

    say("contact listings")
    # emergency listings of everyone: identifiers (contacts) and family ties
    fam_b: list[np.ndarray] = []
    fam_i: list[np.ndarray] = []
    contact = KIND_CODE["contact"]
    for chunk in store.stream_edge_columns(["LISTS_CONTACT"], ("relation",), where={"source": ("emergency",)}):
        b = np.fromiter(map(by_node.get, chunk.src, repeat(-1)), np.int64, len(chunk))
        rows = np.flatnonzero(b >= 0)
        dst = [chunk.dst[r] for r in rows.tolist()] if len(rows) < len(chunk) else chunk.dst
        rel = chunk.props["relation"]
        family = np.fromiter(map(FAMILY.__contains__, (rel[r] for r in rows.tolist())), bool, len(rows))
        incidences(b[rows], dst, np.full(len(rows), contact, np.int8), None, None, True, len(_IDENT_TYPES))
        fam_b.append(b[rows][family]), fam_i.append(inc_i[-1][family])
    # every listing (emergency or phonebook) of a delinquent borrower, for the agents
    delinquent = (status == 1) | (status == 2)
    listed = _Interner()
    list_b: list[np.ndarray] = []
    list_p: list[np.ndarray] = []
    list_em: list[np.ndarray] = []
    if delinquent.any():
        for chunk in store.stream_edge_columns(["LISTS_CONTACT"], ("source",),
                                               sources=[f"Borrower:{keys[i]}" for i in np.flatnonzero(delinquent)]):
            list_b.append(np.fromiter(map(by_node.__getitem__, chunk.src), np.int32, len(chunk)))
            list_p.append(np.fromiter(map(listed.__getitem__, chunk.dst), np.int32, len(chunk)))
            list_em.append(np.fromiter((v == "emergency" for v in chunk.props["source"]), bool, len(chunk)))

    # everything below is in a canonical order (identifiers and listed numbers by id, rows by
    # their keys), so two stores holding the same graph give the same projection whatever order
    # they stream it in (Neo4j streams relationships in storage order)
    ident_list, code = _canonical_ids(list(idents))
    ii = code[_cat(inc_i, np.int64)]
    ib = _cat(inc_b, np.int64)
    ii, ib, inc_listed, held_from, held_to, kind_arr = _holdings(
        ii, ib, n, len(ident_list), _cat(inc_contact, bool), _cat(inc_first, np.float64),
        _cat(inc_last, np.float64), _cat(inc_kind, np.int8), _cat(inc_stage, np.int8))
    del inc_b, inc_i, inc_first, inc_last, inc_contact, inc_kind, inc_stage
    fam_i = [code[f] for f in fam_i]
    listed_ids, lcode = _canonical_ids(list(listed))
    list_bs, list_ps, list_ems = _cat(list_b, np.int32), lcode[_cat(list_p, np.int64)].astype(np.int32), _cat(list_em, bool)
    lorder = np.lexsort((list_ems, list_ps, list_bs))
    list_bs, list_ps, list_ems = list_bs[lorder], list_ps[lorder], list_ems[lorder]
    holders = np.bincount(ii, minlength=len(ident_list)).astype(np.int32)

    say("borrower pairs")
    us, vs, ws = [], [], []
    hubs: list[tuple[str, str, int]] = []
    suppressed = np.zeros(len(ident_list), bool)
    for kind in KINDS:
        code = KIND_CODE[kind]
        cap = cfg.cap_of(kind)
        sel_ident = (kind_arr == code) & (holders >= 2)
        over = sel_ident & (holders > cap)
        for i in np.flatnonzero(over):
            hubs.append((kind, ident_list[i], int(holders[i])))
        suppressed |= over
        if cfg.benign:
            for i in np.flatnonzero(sel_ident & ~over):
                if (kind, split_id(ident_list[i])[1]) in cfg.benign:
                    suppressed[i] = True
                    hubs.append((kind, ident_list[i], int(holders[i])))
        keep = sel_ident & ~suppressed
        u, v, groups, pu, pv = _clique_pairs(ii, ib, keep)
        if kind == "phone" and len(u):
            # a recycled number binds no one: carriers hold a dropped number for months before
            # reissuing it, so a gap of RECYCLED_GAP days or more between one holder's last sight
            # and the next one's first is a new subscriber (an operator's phone has gaps of days)
            gap = np.fmax(held_from[pu], held_from[pv]) - np.fmin(held_to[pu], held_to[pv])
            overlap = ~(gap >= RECYCLED_GAP)
            u, v, groups = u[overlap], v[overlap], groups[overlap]
        if len(u):
            us.append(u), vs.append(v)
            ws.append(cfg.weight_of(kind) / (holders[groups] - 1).astype(np.float64))
    # A borrower who lists another's registered number as an emergency contact holds that
    # number's identifier (one identifier per node, of the kind first seen: registrations are
    # read first), so the tie is among the phone's pairs above; ``cfg.direct`` weighs nothing
    # more here. Family ties: u lists, as a family emergency contact, a number v holds as a
    # phone (registered, or listed too), v's in ascending order per listing.
    fam_u, fam_v = _family(_cat(fam_b, np.int64), _cat(fam_i, np.int64), ii, ib, kind_arr == KIND_CODE["phone"])
    forder = np.lexsort((fam_v, fam_u))
    fam_u, fam_v = fam_u[forder], fam_v[forder]
    u = np.concatenate(us) if us else np.zeros(0, np.int32)
    v = np.concatenate(vs) if vs else np.zeros(0, np.int32)
    w = np.concatenate(ws) if ws else np.zeros(0)
    u, v, w = _sum_pairs(u, v, w, n)
    opened = _cat(opened_p, np.float64)
    if as_of is None:
        as_of = latest if np.isfinite(latest) else float(np.nanmax(opened)) if n and np.isfinite(np.nanmax(opened)) else 0.0
    log.info("ring projection: %d borrowers, %d identifiers, %d incidences, %d pairs, %d hubs",
             n, len(ident_list), len(ib), len(u), len(hubs))
    return RingGraph(
        as_of=float(as_of), borrowers=keys, status=status,
        dpd=_cat(dpd_p, np.int32), opened=opened,
        cease=_cat(cease_p, bool), attorney=_cat(attorney_p, bool), phone_since=phone_since,
        idents=ident_list, ident_kind=kind_arr, ident_n=holders, ident_node=np.arange(len(ident_list), dtype=np.int64),
        inc_b=ib, inc_i=ii, inc_listed=inc_listed, ident_hub=suppressed,
        pair_u=u, pair_v=v, pair_w=w, family_u=fam_u, family_v=fam_v,
        switchboards=switchboards, hubs=sorted(hubs), index=index,
        listed=listed_ids, list_b=list_bs, list_p=list_ps, list_emergency=list_ems)


def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)


def _canonical_ids(ids: list[str]) -> tuple[list[str], np.ndarray]:
    """The (distinct) ids sorted, and each one's position among them: codes that do not depend
    on the order the store streamed them in."""
    order = sorted(range(len(ids)), key=ids.__getitem__)
    code = np.empty(len(ids), np.int64)
    code[np.asarray(order, np.int64)] = np.arange(len(ids))
    return [ids[j] for j in order], code


def _holdings(ii: np.ndarray, ib: np.ndarray, n: int, m: int, contact: np.ndarray, first: np.ndarray,
              last: np.ndarray, kind: np.ndarray, stage: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One holding per (identifier, borrower) from the incidence rows, sorted by (ii, ib): whether
    it is only listed (every row a contact listing), held from the earliest ``first`` to the latest
    ``last`` of its rows, and each identifier's kind.

    An identifier's kind is read from the first relationship type in the projection's order that
    reaches it (registrations before listings), and within it the kind most of its holders give (a
    number four colleagues register as their work line and one as primary is a work phone; ties to
    the lower code): a function of the holdings, not of the order rows arrive in."""
    if not len(ib):
        z = np.zeros(0, np.int32)
        return z, z, np.zeros(0, bool), np.zeros(0), np.zeros(0), np.zeros(m, np.int8)
    key = ii * max(n, 1) + ib
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    pairs = key[starts]
    held = np.add.reduceat((~contact[order]).astype(np.int64), starts)
    with np.errstate(invalid="ignore"):
        held_from = np.fmin.reduceat(first[order], starts)
        held_to = np.fmax.reduceat(last[order], starts)
    # per holding, its first stage and (within it) the lowest kind it was given
    sk = (stage.astype(np.int16) * 16 + kind)[order]
    sk = np.minimum.reduceat(sk, starts)
    h_i = pairs // max(n, 1)
    # per identifier: the lowest stage, then the kind with most holdings at that stage
    g, cnt = np.unique(h_i * 4096 + sk, return_counts=True)
    g_i, g_sk = g // 4096, g % 4096
    pick = np.lexsort((g_sk % 16, -cnt, g_sk // 16, g_i))
    g_i, g_sk = g_i[pick], g_sk[pick]
    firsts = np.r_[True, g_i[1:] != g_i[:-1]]
    kind_arr = np.zeros(m, np.int8)
    kind_arr[g_i[firsts]] = (g_sk[firsts] % 16).astype(np.int8)
    return ((pairs // max(n, 1)).astype(np.int32), (pairs % max(n, 1)).astype(np.int32), held == 0,
            held_from, held_to, kind_arr)


def _family(fam_b: np.ndarray, fam_i: np.ndarray, ii: np.ndarray, ib: np.ndarray,
            phone_ident: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) per family emergency listing ``(fam_b, fam_i)`` and per other holder v of the
    listed identifier when it is a phone; ``ii``/``ib`` the incidences sorted by (ii, ib)."""
    sel = phone_ident[ii]
    p_i, p_b = ii[sel], ib[sel]
    lo = np.searchsorted(p_i, fam_i, "left")
    hi = np.searchsorted(p_i, fam_i, "right")
    lengths = hi - lo
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    offs = np.repeat(lo - (np.cumsum(lengths) - lengths), lengths)
    u = np.repeat(fam_b, lengths)
    v = p_b[np.arange(total) + offs]
    other = u != v
    return u[other].astype(np.int32), v[other].astype(np.int32)


def _clique_pairs(ii: np.ndarray, ib: np.ndarray, keep: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of holders of each kept identifier, vectorised by group size:
    (u, v, identifier, position of u's incidence, position of v's) with u < v."""
    sel = np.flatnonzero(keep[ii])
    gi, gb = ii[sel], ib[sel]
    if not len(gi):
        z = np.zeros(0, np.int32)
        return z, z, z, z.astype(np.int64), z.astype(np.int64)
    order = np.lexsort((gb, gi))
    gi, gb, pos = gi[order], gb[order], sel[order]
    starts = np.flatnonzero(np.r_[True, gi[1:] != gi[:-1]])
    sizes = np.diff(np.r_[starts, len(gi)])
    us, vs, gs, pus, pvs = [], [], [], [], []
    for s in np.unique(sizes):
        st = starts[sizes == s]
        at = st[:, None] + np.arange(s)[None, :]  # groups x s
        a, c = np.triu_indices(int(s), 1)
        us.append(gb[at][:, a].ravel()), vs.append(gb[at][:, c].ravel())
        pus.append(pos[at][:, a].ravel()), pvs.append(pos[at][:, c].ravel())
        gs.append(np.repeat(gi[st], len(a)))
    u, v = np.concatenate(us), np.concatenate(vs)
    pu, pv = np.concatenate(pus), np.concatenate(pvs)
    swap = u > v
    pu, pv = np.where(swap, pv, pu), np.where(swap, pu, pv)
    return (np.minimum(u, v).astype(np.int32), np.maximum(u, v).astype(np.int32), np.concatenate(gs),
            pu, pv)


def _sum_pairs(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge duplicate (u, v) pairs by summing their weights; sorted by (u, v)."""
    if not len(u):
        return u.astype(np.int32), v.astype(np.int32), w.astype(np.float64)
    key = u.astype(np.int64) * max(n, 1) + v.astype(np.int64)
    uniq, inv = np.unique(key, return_inverse=True)
    total = np.bincount(inv, weights=w)
    return (uniq // max(n, 1)).astype(np.int32), (uniq % max(n, 1)).astype(np.int32), total

