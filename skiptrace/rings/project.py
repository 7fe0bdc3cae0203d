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
  shared ones weakly, as resource allocation does), plus a direct tie when a
  borrower lists another borrower's registered number.

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
from pathlib import Path

import numpy as np

from skiptrace.contacts import clock
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
    ``direct``: the weight of one borrower listing another's registered number.
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

    _inc_order: np.ndarray | None = field(default=None, repr=False, compare=False)
    _inc_ptr: np.ndarray | None = field(default=None, repr=False, compare=False)
    _node_n: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def n(self) -> int:
        return len(self.borrowers)

    def incidences(self, members: np.ndarray) -> np.ndarray:
        """Positions (ascending) in the incidence arrays of the incidences of ``members``: the
        same as ``np.flatnonzero(np.isin(self.inc_b, members))`` for distinct members, in time
        proportional to their incidences (a borrower-sorted index is built once)."""
        if self._inc_order is None:
            self._inc_order = np.argsort(self.inc_b, kind="stable")
            self._inc_ptr = np.r_[0, np.cumsum(np.bincount(self.inc_b, minlength=self.n))].astype(np.int64)
        m = np.asarray(members, np.int64)
        starts, ends = self._inc_ptr[m], self._inc_ptr[m + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if not total:
            return np.zeros(0, np.int64)
        offs = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        return np.sort(self._inc_order[np.arange(total) + offs])

    @property
    def node_n(self) -> np.ndarray:
        """Borrowers holding each identifier node (a registered and a listed phone are one node)."""
        if self._node_n is None:
            node = self.ident_node
            self._node_n = np.bincount(node[self.inc_i], minlength=int(node.max()) + 1 if len(node) else 0)
        return self._node_n

    @property
    def delinquent(self) -> np.ndarray:
        return (self.status == 1) | (self.status == 2)

    @property
    def onset(self) -> np.ndarray:
        """Default onset day (as_of minus days past due) of delinquent borrowers, nan otherwise."""
        out = np.full(self.n, np.nan)
        d = self.delinquent & (self.dpd >= 0)
        out[d] = self.as_of - self.dpd[d]
        return out


def _day(value: object) -> float:
    if not value:
        return float("nan")
    try:
        return clock.to_days(str(value))
    except ValueError:
        return float("nan")


def project(store: GraphStore, config: ProjectionConfig | None = None, *,
            as_of: float | None = None, progress: Callable[[str], None] | None = None) -> RingGraph:
    """Read the ring projection out of ``store`` (see the module docstring).

    ``as_of`` (a day number) dates default onsets; by default the latest
    ``last_seen`` of any registered phone or device, the extract's own date.
    """
    cfg = config or ProjectionConfig()
    say = progress or (lambda _m: None)
    say("borrowers")
    keys: list[str] = []
    status, dpd, opened, cease, attorney = [], [], [], [], []
    cols = ("status", "days_past_due", "opened_at", "cease_requested", "attorney_known")
    for chunk in store.stream_node_columns("Borrower", cols):
        keys.extend(split_id(i)[1] for i in chunk.ids)
        status.extend(STATUS.get(v or "", -1) for v in chunk.props["status"])
        dpd.extend(int(v) if v is not None else -1 for v in chunk.props["days_past_due"])
        opened.extend(_day(v) for v in chunk.props["opened_at"])
        cease.extend(bool(v) for v in chunk.props["cease_requested"])
        attorney.extend(bool(v) for v in chunk.props["attorney_known"])
    index = {k: i for i, k in enumerate(keys)}
    n = len(keys)
    phone_since = np.full(n, np.nan)
    latest = -np.inf

    ident_index: dict[str, int] = {}
    idents: list[str] = []
    ident_kind: list[int] = []
    inc_b: list[int] = []
    inc_i: list[int] = []
    switchboards: set[str] = set()

    inc_first: list[float] = []
    inc_contact: list[bool] = []
    inc_last: list[float] = []
    nan = float("nan")

    def incidence(b: int, nid: str, kind: str, first: float = nan, last: float = nan) -> None:
        # one identifier per node: a phone some register and others list as their emergency
        # contact is one identifier (of the kind it was first seen as), held by all of them
        i = ident_index.get(nid)
        if i is None:
            i = ident_index[nid] = len(idents)
            idents.append(nid)
            ident_kind.append(KIND_CODE[kind])
        inc_b.append(b)
        inc_i.append(i)
        inc_first.append(first)
        inc_contact.append(kind == "contact")
        inc_last.append(last)

    say("identifiers")
    kind_of_type = {"USES_DEVICE": "device", "HAS_PHONE": "phone", "EMPLOYED_BY": "employer",
                    "WORKS_AT": "work_address"}
    for chunk in store.stream_edge_columns(["USES_DEVICE", "HAS_PHONE", "LIVES_AT", "WORKS_AT", "EMPLOYED_BY"],
                                           props=("first_seen", "last_seen", "kind", "role")):
        t = chunk.type
        first_col, last_col, kind_col = chunk.props["first_seen"], chunk.props["last_seen"], chunk.props["kind"]
        role_col = chunk.props["role"]
        for r, (src, dst) in enumerate(zip(chunk.src, chunk.dst)):
            label, key = split_id(src)
            if label != "Borrower":
                if t == "HAS_PHONE":
                    switchboards.add(dst)
                continue
            b = index.get(key)
            if b is None:
                continue
            if t in ("HAS_PHONE", "USES_DEVICE") and last_col[r]:
                last = _day(last_col[r])
                if last == last:
                    latest = max(latest, last)
            if t == "LIVES_AT":
                kind = "work_address" if kind_col[r] == "work" else "address"
            elif t == "HAS_PHONE" and role_col[r] == "work":
                kind = "work_phone"  # an office line: colleagues share it by nature
            else:
                kind = kind_of_type[t]
            first = _day(first_col[r]) if first_col[r] else nan
            if t == "HAS_PHONE" and first == first and not (phone_since[b] >= first):
                phone_since[b] = first
            last_held = _day(last_col[r]) if last_col[r] else nan
            incidence(b, dst, kind, first, last_held)

    say("contact listings")
    fam_u: list[int] = []
    fam_v_phone: list[str] = []
    st = np.asarray(status, np.int8)
    delinquent = (st == 1) | (st == 2)
    listed_index: dict[str, int] = {}
    list_b: list[int] = []
    list_p: list[int] = []
    list_em: list[bool] = []
    by_node = {f"Borrower:{k}": i for i, k in enumerate(keys)}
    for chunk in store.stream_edge_columns(["LISTS_CONTACT"], props=("source", "relation")):
        bidx = np.fromiter((by_node.get(x, -1) for x in chunk.src), np.int64, len(chunk.src))
        known = bidx >= 0
        emerg = np.fromiter((v == "emergency" for v in chunk.props["source"]), bool, len(bidx))
        keep = known & (emerg | delinquent[np.where(known, bidx, 0)])
        dst, rel = chunk.dst, chunk.props["relation"]
        for r in np.flatnonzero(keep).tolist():
            b, d = int(bidx[r]), dst[r]
            if delinquent[b]:
                j = listed_index.get(d)
                if j is None:
                    j = listed_index[d] = len(listed_index)
                list_b.append(b)
                list_p.append(j)
                list_em.append(bool(emerg[r]))
            if not emerg[r]:
                continue
            incidence(b, d, "contact")
            if (rel[r] or "") in FAMILY:
                fam_u.append(b)
                fam_v_phone.append(d)

    ib = np.asarray(inc_b, np.int32)
    ii = np.asarray(inc_i, np.int32)
    kind_arr = np.asarray(ident_kind, np.int8)
    # one holder per (borrower, identifier): a borrower listing and registering one number counts once
    if len(ib):
        pairs, first_at, inv = np.unique(np.stack([ii.astype(np.int64), ib.astype(np.int64)], axis=1), axis=0,
                                         return_index=True, return_inverse=True)
        inv = np.asarray(inv).ravel()
        held = np.bincount(inv, weights=~np.asarray(inc_contact, bool), minlength=len(pairs))
        inc_listed = held == 0
        ii, ib = pairs[:, 0].astype(np.int32), pairs[:, 1].astype(np.int32)
        held_from = np.asarray(inc_first, np.float64)[first_at]
        held_to = np.asarray(inc_last, np.float64)[first_at]
    else:
        held_from = held_to = np.zeros(0)
        inc_listed = np.zeros(0, bool)
    holders = np.bincount(ii, minlength=len(idents)).astype(np.int32)

    say("borrower pairs")
    us, vs, ws = [], [], []
    hubs: list[tuple[str, str, int]] = []
    suppressed = np.zeros(len(idents), bool)
    for kind in KINDS:
        code = KIND_CODE[kind]
        cap = cfg.cap_of(kind)
        sel_ident = (kind_arr == code) & (holders >= 2)
        over = sel_ident & (holders > cap)
        for i in np.flatnonzero(over):
            hubs.append((kind, idents[i], int(holders[i])))
        suppressed |= over
        if cfg.benign:
            for i in np.flatnonzero(sel_ident & ~over):
                if (kind, split_id(idents[i])[1]) in cfg.benign:
                    suppressed[i] = True
                    hubs.append((kind, idents[i], int(holders[i])))
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
    # direct ties: a borrower lists (as an emergency contact) a number another borrower registered
    reg_owner: dict[str, list[int]] = {}
    phone_code = KIND_CODE["phone"]
    for b, i in zip(ib.tolist(), ii.tolist()):
        if kind_arr[i] == phone_code:
            reg_owner.setdefault(idents[i], []).append(b)
    du, dv = [], []
    contact_code = KIND_CODE["contact"]
    for b, i in zip(ib.tolist(), ii.tolist()):
        if kind_arr[i] == contact_code:
            for o in reg_owner.get(idents[i], ()):
                if o != b:
                    du.append(min(b, o)), dv.append(max(b, o))
    if du:
        us.append(np.asarray(du, np.int32)), vs.append(np.asarray(dv, np.int32))
        ws.append(np.full(len(du), cfg.direct))
    fu, fv = [], []
    for b, ph in zip(fam_u, fam_v_phone):
        for o in reg_owner.get(ph, ()):
            if o != b:
                fu.append(b), fv.append(o)
    u = np.concatenate(us) if us else np.zeros(0, np.int32)
    v = np.concatenate(vs) if vs else np.zeros(0, np.int32)
    w = np.concatenate(ws) if ws else np.zeros(0)
    u, v, w = _sum_pairs(u, v, w, n)
    if as_of is None:
        as_of = latest if np.isfinite(latest) else float(np.nanmax(opened)) if n and np.isfinite(np.nanmax(opened)) else 0.0
    log.info("ring projection: %d borrowers, %d identifiers, %d incidences, %d pairs, %d hubs",
             n, len(idents), len(ib), len(u), len(hubs))
    return RingGraph(
        as_of=float(as_of), borrowers=keys, status=np.asarray(status, np.int8),
        dpd=np.asarray(dpd, np.int32), opened=np.asarray(opened, np.float64),
        cease=np.asarray(cease, bool), attorney=np.asarray(attorney, bool), phone_since=phone_since,
        idents=idents, ident_kind=kind_arr, ident_n=holders,
        ident_node=np.unique(np.asarray(idents, dtype=object), return_inverse=True)[1].astype(np.int64)
        if idents else np.zeros(0, np.int64), inc_b=ib, inc_i=ii, inc_listed=inc_listed, ident_hub=suppressed,
        pair_u=u, pair_v=v, pair_w=w, family_u=np.asarray(fu, np.int32), family_v=np.asarray(fv, np.int32),
        switchboards=switchboards, hubs=sorted(hubs), index=index,
        listed=list(listed_index), list_b=np.asarray(list_b, np.int32), list_p=np.asarray(list_p, np.int32),
        list_emergency=np.asarray(list_em, bool))



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

