"""Ring detection against a world's truth, beside the baselines a practitioner would use.

:func:`evaluate_rings` runs ``skiptrace.rings.detect`` and the baselines of
:mod:`skiptrace.evaluate.ring_baselines` on a store that holds a world, and
scores every method with :func:`score_rings` against the world's
``truth/rings.csv`` and ``truth/benign_groups.csv`` (the generator's layout,
also written by :mod:`skiptrace.evaluate.inject` for real host networks).

Definitions
-----------
- A detected ring is any object with ``members`` (borrower ids) and
  ``typology``. Its members are *flagged* when its typology is one of the
  *flagged typologies* (default fraud and anti_collection; household and
  unknown are not flags). A borrower in several detected rings is flagged
  with each of their typologies.
- Member level, per typology ``T``: ``F_T`` = borrowers flagged with ``T``,
  ``R_T`` = members of true rings of typology ``T``;
  precision = ``|F_T & R_T| / |F_T|``, recall = ``|F_T & R_T| / |R_T|``,
  F1 their harmonic mean; each is 0 when undefined (nothing flagged, no
  true members), as scikit-learn's ``zero_division=0``.
- Ring level, per typology: a true ring is *found* when some detected ring of
  any flagged typology has Jaccard similarity ``|A & B| / |A | B|`` >= 0.5
  (``min_jaccard``) with its members; ring recall = found / true rings.
  The typology of the detected ring does not matter here (the member-level
  scores judge typology).
- Overall: ``flagged`` = every borrower flagged with any flagged typology;
  overall precision = share of them that are members of any true ring (of
  any typology), overall recall = share of true ring members flagged.
- Benign: for each kind of ``truth/benign_groups.csv`` (household,
  dormitory, switchboard, courier, shared_device, and any kind a world adds)
  the share of that kind's distinct members flagged; ``ordinary`` is the share
  flagged of the borrowers of ``borrowers.csv`` that are in no true ring and
  no benign group. A borrower in two benign kinds counts in both.

The baselines have no typology of their own; they get an *oracle* typology
(see :func:`skiptrace.evaluate.ring_baselines.oracle_typology`), which
favours them.
"""
from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from skiptrace.errors import SkiptraceError
from skiptrace.evaluate.find import check_store_holds
from skiptrace.store.base import GraphStore

log = logging.getLogger(__name__)

#: typologies whose members count as flagged (household and unknown are not flags)
FLAGGED = ("fraud", "anti_collection")
#: a true ring is found when a detected ring's members overlap it at least this much (Jaccard)
MIN_JACCARD = 0.5
ORDINARY = "ordinary"

__all__ = ["FLAGGED", "MIN_JACCARD", "DetectedRing", "MethodScore", "RingEvaluation", "RingTruth",
           "TypologyScore", "evaluate_rings", "jaccard", "read_ring_truth", "render_text",
           "score_rings"]


class DetectedRing(Protocol):
    """What the scoring needs of a detected ring (``skiptrace.rings.Ring`` has more)."""

    members: Sequence[str]
    typology: str


@dataclass
class RingTruth:
    """The truth of one world.

    ``rings[ring_id] = (typology, members)``; ``agents[ring_id]`` = agent
    phones; ``benign[kind]`` = the distinct members of that kind's groups;
    ``borrowers`` = every borrower id of ``borrowers.csv`` (empty when the
    world has none, then ``ordinary`` is not scored).
    """

    rings: dict[str, tuple[str, frozenset[str]]]
    agents: dict[str, list[str]] = field(default_factory=dict)
    benign: dict[str, set[str]] = field(default_factory=dict)
    borrowers: set[str] = field(default_factory=set)

    def members(self, typology: str | None = None) -> set[str]:
        """Members of the true rings (of ``typology`` when given)."""
        out: set[str] = set()
        for t, m in self.rings.values():
            if typology is None or t == typology:
                out |= m
        return out

    def typology_of(self) -> dict[str, str]:
        """``borrower -> typology`` of every true ring member."""
        return {b: t for t, m in self.rings.values() for b in m}

    def ordinary(self) -> set[str]:
        """Borrowers in no true ring and no benign group."""
        grouped = self.members().union(*self.benign.values()) if self.benign else self.members()
        return self.borrowers - grouped


def read_ring_truth(world: str | Path) -> RingTruth:
    """Read ``truth/rings.csv``, ``truth/benign_groups.csv`` and the ids of ``borrowers.csv``.

    ``rings.csv``: ``ring_id,typology,borrower_id,role,phone`` with role
    ``member`` (a borrower id) or ``agent`` (a phone). ``benign_groups.csv``
    (optional): ``group_id,kind,borrower_id,identifier``. Raises
    :class:`SkiptraceError` when ``truth/rings.csv`` is missing.
    """
    base = Path(world)
    path = base / "truth" / "rings.csv"
    if not path.is_file():
        raise SkiptraceError(f"{path}: no ring truth (is {base} a generated or injected world?)")
    rings: dict[str, tuple[str, set[str]]] = {}
    agents: dict[str, list[str]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            rid, typ = r["ring_id"], r["typology"]
            entry = rings.setdefault(rid, (typ, set()))
            if r.get("role", "member") == "agent":
                agents.setdefault(rid, []).append(r["phone"])
            elif r["borrower_id"]:
                entry[1].add(r["borrower_id"])
    benign: dict[str, set[str]] = {}
    bpath = base / "truth" / "benign_groups.csv"
    if bpath.is_file():
        with open(bpath, encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                if r["borrower_id"]:
                    benign.setdefault(r["kind"], set()).add(r["borrower_id"])
    borrowers: set[str] = set()
    cpath = base / "borrowers.csv"
    if cpath.is_file():
        with open(cpath, encoding="utf-8", newline="") as f:
            borrowers = {r["borrower_id"] for r in csv.DictReader(f)}
    return RingTruth({k: (t, frozenset(m)) for k, (t, m) in rings.items()}, agents,
                     dict(sorted(benign.items())), borrowers)


# -- scores ------------------------------------------------------------------------------------
def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """``|A & B| / |A | B|`` (0 for two empty sets)."""
    sa, sb = set(a), set(b)
    union = len(sa | sb)
    return len(sa & sb) / union if union else 0.0


def _prf(tp: int, flagged: int, true: int) -> tuple[float, float, float]:
    p = tp / flagged if flagged else 0.0
    r = tp / true if true else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass
class TypologyScore:
    """Member- and ring-level scores of one method for one typology (see module docstring)."""

    typology: str
    precision: float
    recall: float
    f1: float
    flagged: int          # borrowers flagged with this typology
    true_members: int     # members of true rings of this typology
    true_positives: int
    rings: int            # true rings of this typology
    rings_found: int      # of them, matched at Jaccard >= min_jaccard by a flagged detected ring

    @property
    def ring_recall(self) -> float:
        return self.rings_found / self.rings if self.rings else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4), "ring_recall": round(self.ring_recall, 4),
                "flagged": self.flagged, "true_members": self.true_members,
                "true_positives": self.true_positives, "rings": self.rings,
                "rings_found": self.rings_found}


@dataclass
class MethodScore:
    """Every score of one method (skiptrace or a baseline) on one world."""

    method: str
    typologies: dict[str, TypologyScore]
    flagged: int                 # borrowers flagged with any flagged typology
    precision: float             # overall: share of the flagged that are in any true ring
    recall: float                # overall: share of true ring members flagged
    ring_recall: float           # all true rings of the flagged typologies
    benign_flagged: dict[str, float]       # kind (and "ordinary") -> share of its members flagged
    benign_members: dict[str, int]
    detected_rings: int = 0      # detected rings of a flagged typology
    seconds: float = 0.0
    oracle_typology: bool = False  # typologies taken from the truth (baselines)
    notes: dict[str, Any] = field(default_factory=dict)

    def f1(self, typology: str) -> float:
        return self.typologies[typology].f1

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "oracle_typology": self.oracle_typology,
                "typologies": {t: s.as_dict() for t, s in self.typologies.items()},
                "flagged": self.flagged, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "ring_recall": round(self.ring_recall, 4),
                "benign_flagged": {k: round(v, 4) for k, v in self.benign_flagged.items()},
                "benign_members": self.benign_members, "detected_rings": self.detected_rings,
                "seconds": round(self.seconds, 2), "notes": self.notes}


def score_rings(detected: Iterable[DetectedRing], truth: RingTruth, *, method: str = "skiptrace",
                flagged_typologies: Sequence[str] = FLAGGED,
                min_jaccard: float = MIN_JACCARD) -> MethodScore:
    """Score detected rings against ``truth`` (definitions in the module docstring).

    Cost: O(total members) for member scores; ring recall compares each true
    ring with the detected rings that share a member with it.

    >>> t = RingTruth({"R1": ("fraud", frozenset({"a", "b", "c", "d"}))}, borrowers={"a", "b", "c", "d", "e"})
    >>> class R:
    ...     def __init__(self, m, t): self.members, self.typology = m, t
    >>> s = score_rings([R(["a", "b", "e"], "fraud")], t)
    >>> round(s.typologies["fraud"].precision, 3), s.typologies["fraud"].recall, s.ring_recall
    (0.667, 0.5, 0.0)
    """
    flags = tuple(flagged_typologies)
    by_typ: dict[str, set[str]] = {t: set() for t in flags}
    kept: list[frozenset[str]] = []
    for r in detected:
        if r.typology not in by_typ:
            continue
        m = frozenset(r.members)
        by_typ[r.typology] |= m
        kept.append(m)
    flagged = set().union(*by_typ.values()) if by_typ else set()
    # ring recall: index detected rings by member so each true ring meets only its candidates
    where: dict[str, list[int]] = {}
    for i, m in enumerate(kept):
        for b in m:
            where.setdefault(b, []).append(i)
    found: dict[str, bool] = {}
    for rid, (_, members) in truth.rings.items():
        cands = {i for b in members for i in where.get(b, ())}
        found[rid] = any(jaccard(members, kept[i]) >= min_jaccard for i in cands)
    typs: dict[str, TypologyScore] = {}
    for t in flags:
        true = truth.members(t)
        tp = len(by_typ[t] & true)
        p, r, f = _prf(tp, len(by_typ[t]), len(true))
        ids = [rid for rid, (typ, _) in truth.rings.items() if typ == t]
        typs[t] = TypologyScore(t, p, r, f, len(by_typ[t]), len(true), tp, len(ids),
                                sum(found[rid] for rid in ids))
    all_true = set().union(*(truth.members(t) for t in flags)) if flags else set()
    any_true = truth.members()
    tp_any = len(flagged & any_true)
    prec = tp_any / len(flagged) if flagged else 0.0
    rec = len(flagged & all_true) / len(all_true) if all_true else 0.0
    true_ids = [rid for rid, (typ, _) in truth.rings.items() if typ in flags]
    ring_recall = sum(found[rid] for rid in true_ids) / len(true_ids) if true_ids else 0.0
    benign: dict[str, float] = {}
    sizes: dict[str, int] = {}
    groups = dict(truth.benign)
    if truth.borrowers:
        groups[ORDINARY] = truth.ordinary()
    for kind, members in groups.items():
        sizes[kind] = len(members)
        benign[kind] = len(members & flagged) / len(members) if members else 0.0
    return MethodScore(method, typs, len(flagged), prec, rec, ring_recall, benign, sizes,
                       detected_rings=len(kept))


# -- the evaluation ----------------------------------------------------------------------------
@dataclass
class RingEvaluation:
    """Every method's scores on one world: ``methods[name]`` (skiptrace first, then baselines)."""

    world: str
    methods: dict[str, MethodScore]
    rings: dict[str, int]                 # true rings per typology
    members: dict[str, int]               # true ring members per typology
    borrowers: int
    flagged_typologies: tuple[str, ...] = FLAGGED
    min_jaccard: float = MIN_JACCARD
    projection: dict[str, Any] = field(default_factory=dict)  # the baselines' raw graph

    def best_baseline(self, typology: str) -> tuple[str, float]:
        """The baseline (not skiptrace) with the highest member-level F1 for ``typology``."""
        names = [m for m, s in self.methods.items() if s.oracle_typology]
        if not names:
            raise ValueError("no baseline was run")
        name = max(names, key=lambda m: (self.methods[m].f1(typology), m))
        return name, self.methods[name].f1(typology)

    def error_ratio(self, typology: str, method: str = "skiptrace") -> float | None:
        """``(1 - F1 of method) / (1 - F1 of the best baseline)`` for ``typology`` (the issue's
        target is at most 0.5); None when the method or a baseline is missing or the best
        baseline is perfect."""
        if method not in self.methods or not any(s.oracle_typology for s in self.methods.values()):
            return None
        _, best = self.best_baseline(typology)
        return round((1 - self.methods[method].f1(typology)) / (1 - best), 3) if best < 1 else None

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "world": self.world, "borrowers": self.borrowers, "rings": self.rings,
            "members": self.members, "flagged_typologies": list(self.flagged_typologies),
            "min_jaccard": self.min_jaccard,
            "methods": {m: s.as_dict() for m, s in self.methods.items()},
            "projection": self.projection}
        if any(s.oracle_typology for s in self.methods.values()):
            d["best_baseline"] = {t: self.best_baseline(t)[0] for t in self.flagged_typologies}
            d["error_ratio"] = {t: self.error_ratio(t) for t in self.flagged_typologies}
        return d


def check_store_holds_world(store: GraphStore, world: str | Path, truth: RingTruth,
                            sample: int = 200) -> None:
    """Raise :class:`SkiptraceError` unless ``store`` holds ``world``.

    Checked on the true ring members and a spread sample of ``sample`` other
    borrowers: one does not match when the store lacks it or its
    ``full_name`` differs from ``borrowers.csv`` (generated worlds reuse ids).
    More than half not matching means another world (or none) is loaded.
    """
    ids = sorted(truth.members())
    rest = sorted(truth.borrowers - set(ids))
    step = max(1, len(rest) // sample) if rest else 1
    ids += rest[::step][:sample]
    check_store_holds(store, world, ids, what="borrowers checked (ring members and a sample)")


def _default_detect(store: GraphStore, seed: int) -> list[Any]:
    try:
        from skiptrace.rings import detect
    except ImportError as exc:
        raise SkiptraceError(f"skiptrace.rings is not available ({exc}); run the baselines only "
                             "(--no-detector, or skiptrace=False)") from None
    return detect(store, seed=seed)


def evaluate_rings(store: GraphStore, world: str | Path, *, seed: int = 0,
                   flagged_typologies: Sequence[str] = FLAGGED, min_jaccard: float = MIN_JACCARD,
                   detect: Callable[[GraphStore, int], Iterable[DetectedRing]] | None = None,
                   baselines: Sequence[str] | None = None,
                   skiptrace: bool = True, max_borrowers_per_identifier: int | None = None,
                   progress: Callable[[str], None] | None = None) -> RingEvaluation:
    """Detect rings in ``store`` with skiptrace and the baselines; score each against ``world``.

    The store must already hold ``world`` (``skiptrace load``); one that holds
    another world raises :class:`SkiptraceError`. ``detect(store, seed)``
    replaces ``skiptrace.rings.detect`` (tests, other detectors);
    ``skiptrace=False`` runs the baselines only. ``baselines`` names the
    baselines to run (default all of
    :data:`skiptrace.evaluate.ring_baselines.BASELINES`); they share one raw
    shared-identifier projection per set of relationship types, built once
    (its time is reported apart from each baseline's). ``progress`` receives one line per step.
    """
    from skiptrace.evaluate import ring_baselines as rb

    say = progress or (lambda msg: log.info("%s", msg))
    truth = read_ring_truth(world)
    check_store_holds_world(store, world, truth)
    flags = tuple(flagged_typologies)
    methods: dict[str, MethodScore] = {}
    if skiptrace:
        say("skiptrace: detecting rings")
        started = time.perf_counter()
        found = list((detect or _default_detect)(store, seed))
        secs = time.perf_counter() - started
        s = score_rings(found, truth, method="skiptrace", flagged_typologies=flags,
                        min_jaccard=min_jaccard)
        s.seconds = secs
        methods["skiptrace"] = s
    names = list(rb.BASELINES) if baselines is None else list(baselines)
    projection: dict[str, Any] = {}
    if names:
        unknown = [n for n in names if n not in rb.BASELINES]
        if unknown:
            raise ValueError(f"unknown baselines {unknown}; known: {list(rb.BASELINES)}")
        cap = max_borrowers_per_identifier or rb.MAX_BORROWERS_PER_IDENTIFIER
        graphs: dict[tuple[str, ...], rb.SharedIdentifierGraph] = {}
        for name in names:
            spec = rb.BASELINES[name]
            g = None
            if spec.types is not None:
                if spec.types not in graphs:
                    say(f"projecting the raw shared-identifier graph ({', '.join(spec.types)})")
                    graphs[spec.types] = rb.shared_identifier_graph(
                        store, types=spec.types, max_borrowers_per_identifier=cap)
                    projection[",".join(spec.types)] = graphs[spec.types].summary()
                g = graphs[spec.types]
            say(f"{name}: grouping")
            started = time.perf_counter()
            groups = spec.run(store, g, seed)
            rings = rb.oracle_typology(groups, truth, flagged_typologies=flags)
            secs = time.perf_counter() - started
            s = score_rings(rings, truth, method=name, flagged_typologies=flags,
                            min_jaccard=min_jaccard)
            s.seconds, s.oracle_typology = secs, True
            s.notes = {"rule": spec.rule}
            if g is not None:
                s.notes["projection_seconds"] = round(g.seconds, 2)
            methods[name] = s
    return RingEvaluation(str(world), methods,
                          {t: sum(1 for typ, _ in truth.rings.values() if typ == t) for t in flags},
                          {t: len(truth.members(t)) for t in flags}, len(truth.borrowers), flags,
                          min_jaccard, projection)


# -- a text report (the CLI and bench print it) ------------------------------------------------
SHORT_KIND = {"household": "house", "dormitory": "dorm", "switchboard": "switch",
              "courier": "courier", "shared_device": "sh.dev", ORDINARY: "ordin.",
              "promotion": "promo"}
SHORT_TYP = {"fraud": "fraud", "anti_collection": "anti"}


def render_text(d: dict[str, Any]) -> str:
    """:meth:`RingEvaluation.as_dict` as a table: one row per method; per typology P/R/F1 and
    ring recall, the share of each benign kind flagged, and the time."""
    flags = d["flagged_typologies"]
    methods = d["methods"]
    kinds = list(next(iter(methods.values()))["benign_flagged"]) if methods else []
    rings = ", ".join(f"{d['rings'][t]} {t} ({d['members'][t]} members)" for t in flags)
    out = [f"world: {d['world']}", f"{d['borrowers']:,} borrowers; true rings: {rings}"]
    head1 = f"{'':<18}" + "".join(f"{SHORT_TYP.get(t, t[:10]):-^28}" for t in flags) \
        + f"{'benign flagged %':-^{8 * len(kinds)}}"
    head2 = f"{'method':<18}" + "".join(f"{'P':>7}{'R':>7}{'F1':>7}{'ringR':>7}" for _ in flags) \
        + "".join(f"{SHORT_KIND.get(k, k[:7]):>8}" for k in kinds) + f"{'time s':>8}"
    out += ["", head1, head2]
    for name, m in methods.items():
        label = name + ("*" if m["oracle_typology"] else "")
        cells = "".join(f"{m['typologies'][t]['precision']:>7.3f}{m['typologies'][t]['recall']:>7.3f}"
                        f"{m['typologies'][t]['f1']:>7.3f}{m['typologies'][t]['ring_recall']:>7.3f}"
                        for t in flags)
        ben = "".join(f"{100 * m['benign_flagged'][k]:>8.1f}" for k in kinds)
        out.append(f"{label:<18}{cells}{ben}{m['seconds']:>8.1f}")
    out.append("")
    out.append("flagged overall: " + "; ".join(
        f"{n} {m['flagged']} (precision {m['precision']:.3f}, recall {m['recall']:.3f})"
        for n, m in methods.items()))
    if any(m["oracle_typology"] for m in methods.values()):
        out.append("* baseline with an ORACLE typology (each group takes the majority true typology "
                   "of its ring members): favours the baseline")
        for n, m in methods.items():
            if m["oracle_typology"]:
                out.append(f"  {n}: {m['notes'].get('rule', '')}")
        for key, p in (d.get("projection") or {}).items():
            out.append(f"  raw graph [{key}]: {p['borrowers']:,} borrowers, {p['edges']:,} links, "
                       f"{p['capped_identifiers']} identifiers over the cap of "
                       f"{p['max_borrowers_per_identifier']} borrowers left out; {p['seconds']:.1f}s")
    if "skiptrace" in methods and d.get("error_ratio"):
        out.append("error ratio (1 - F1 skiptrace) / (1 - F1 best baseline): " + ", ".join(
            f"{t} {d['error_ratio'][t]} (vs {d['best_baseline'][t]})" for t in flags))
    return "\n".join(out)
