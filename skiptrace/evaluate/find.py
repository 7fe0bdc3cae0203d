"""``find`` against a generated world's truth, beside unfitted baselines and a learned upper bound.

:func:`evaluate_find` reads the ego graph of every lost-contact borrower of a
world (``truth/lost_contact.csv``) once, ranks its phones with ``find``, with
every baseline of :mod:`skiptrace.evaluate.baselines` and (on half of the
borrowers) with a model learned from the truth, and scores each ranking
against ``truth/reachable.csv``, at one or more relevance thresholds:

- a phone is *relevant* for a borrower when its ``reach_probability`` is at
  least ``min_probability`` (0.5: more likely than not to reach the
  borrower; 0.7: the stricter reading);
- rankings are cut at ``limit`` (default 10), so MRR is MRR@10;
- ``hit@k``: share of lost-contact borrowers with a relevant phone in the
  top k (a borrower without any relevant phone counts as a miss);
- ``mrr``: mean over those borrowers of 1 / rank of the first relevant phone
  (0 if none is ranked);
- ``recall@10``: mean over borrowers with at least one relevant phone of the
  share of their relevant phones in the top 10;
- ``ndcg@10``: graded: gain = ``reach_probability`` of each relevant phone
  (0 for the others), ``sum(gain / log2(rank + 1))`` over the top 10
  divided by that of the ideal order, averaged over the lost-contact
  borrowers (0 for one without relevant phones). At threshold 0 every
  phone of the truth is a gain;
- ``ceiling``: share of lost-contact borrowers with any relevant phone at
  all, which bounds hit@k and MRR; ``ceiling_in_ego``: share with a relevant
  phone among the phones of their ego graph (what any ranking of it can reach);
- by *mechanism*: each borrower falls in the ``mechanism`` (truth/reachable.csv)
  of its best relevant phone (highest ``reach_probability``, ties by phone),
  or ``none`` without one; MRR per method per group, with counts;
- ``error_ratio``: ``(1 - MRR of find) / (1 - MRR of the best unfitted baseline)``.

The upper bound (``upper_bound_gbm``, :mod:`skiptrace.evaluate.upper_bound`)
(find's features, raw counts and find's own log-odds as columns) is fitted to the
truth labels of a seeded random half of the borrowers and
scored on the other half; every method is also scored on that held-out
half, so it is compared on equal borrowers. It is not a baseline:
``best_baseline`` is the best *unfitted* one.
"""
from __future__ import annotations

import csv
import json
import logging
import math
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skiptrace.contacts.ego import MAX_FANOUT, UnknownBorrower, fetch_many
from skiptrace.contacts.features import FEATURES, extract
from skiptrace.contacts.find import rank
from skiptrace.contacts.ranking.model import LinearScorer
from skiptrace.errors import SkiptraceError
from skiptrace.evaluate.baselines import (BASELINES, adamic_adar, call_count, emergency_order,
                                          plain_ppr, recent_partner, resource_allocation, rule)
from skiptrace.evaluate.upper_bound import RAW, fit_rank, raw_counts
from skiptrace.store.base import GraphStore, node_id

log = logging.getLogger(__name__)

KS = (1, 3, 10)
THRESHOLDS = (0.5, 0.7)
UPPER_BOUND = "upper_bound_gbm"
NO_MECHANISM = "none"

__all__ = ["BASELINES", "FindEvaluation", "KS", "THRESHOLDS", "ThresholdReport", "Truth", "UPPER_BOUND",
           "adamic_adar", "best_mechanism", "by_mechanism", "call_count", "ceiling", "check_store_holds",
           "emergency_order", "evaluate_find", "load_world", "metrics", "ndcg", "plain_ppr",
           "read_truth", "recent_partner", "resource_allocation", "rule", "world_region"]


@dataclass
class Truth:
    """``lost[borrower] = since``; ``reachable[borrower][phone] = reach_probability``."""

    lost: dict[str, str]
    reachable: dict[str, dict[str, float]]
    mechanism: dict[tuple[str, str], str] = field(default_factory=dict)


def read_truth(world: str | Path) -> Truth:
    """Read ``truth/lost_contact.csv`` and ``truth/reachable.csv`` of a generated world."""
    base = Path(world) / "truth"
    with open(base / "lost_contact.csv", encoding="utf-8") as f:
        lost = {r["borrower_id"]: r.get("since", "") for r in csv.DictReader(f)}
    reach: dict[str, dict[str, float]] = {}
    mech: dict[tuple[str, str], str] = {}
    with open(base / "reachable.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            reach.setdefault(r["borrower_id"], {})[r["phone"]] = float(r["reach_probability"])
            mech[(r["borrower_id"], r["phone"])] = r.get("mechanism", "")
    return Truth(lost, reach, mech)


def metrics(rankings: dict[str, list[str]], truth: Truth, *, min_probability: float = 0.5,
            ks: Iterable[int] = KS) -> dict[str, float]:
    """hit@k, MRR, recall@10 and graded nDCG@10 of ``rankings`` (phones, best first) over
    the lost borrowers of ``truth`` (see the module docstring)."""
    ks = tuple(ks)
    n = len(truth.lost)
    hits = {k: 0 for k in ks}
    rr = 0.0
    recall, with_rel = 0.0, 0
    gain_sum = 0.0
    for b in truth.lost:
        gains = {p: pr for p, pr in truth.reachable.get(b, {}).items() if pr >= min_probability}
        ranked = rankings.get(b, [])
        first = next((i for i, p in enumerate(ranked) if p in gains), None)
        if first is not None:
            rr += 1.0 / (first + 1)
            for k in ks:
                hits[k] += first < k
        if gains:
            with_rel += 1
            recall += len(gains.keys() & set(ranked[:10])) / len(gains)
            gain_sum += ndcg(ranked, gains)
    out = {f"hit@{k}": hits[k] / n if n else 0.0 for k in ks}
    out["mrr"] = rr / n if n else 0.0
    out["recall@10"] = recall / with_rel if with_rel else 0.0
    out["ndcg@10"] = gain_sum / n if n else 0.0
    return out


def ndcg(ranked: list[str], gains: dict[str, float], k: int = 10) -> float:
    """Normalised discounted cumulative gain at ``k`` with reach probabilities as gains."""
    ideal = sorted(gains.values(), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    got = sum(gains.get(p, 0.0) / math.log2(i + 2) for i, p in enumerate(ranked[:k]))
    return got / best if best else 0.0


def _relevant(truth: Truth, b: str, min_probability: float) -> dict[str, float]:
    return {p: pr for p, pr in truth.reachable.get(b, {}).items() if pr >= min_probability}


def best_mechanism(truth: Truth, borrower: str, min_probability: float) -> str:
    """The truth mechanism of the borrower's best relevant phone (highest probability, ties by
    phone), or ``"none"`` when no phone is relevant."""
    rel = _relevant(truth, borrower, min_probability)
    if not rel:
        return NO_MECHANISM
    p = min(rel, key=lambda q: (-rel[q], q))
    return truth.mechanism.get((borrower, p)) or "unknown"


def ceiling(truth: Truth, min_probability: float) -> float:
    """Share of the lost borrowers with any relevant phone: the most hit@k and MRR can be."""
    n = len(truth.lost)
    return sum(1 for b in truth.lost if _relevant(truth, b, min_probability)) / n if n else 0.0


def _subset(truth: Truth, ids: Iterable[str]) -> Truth:
    return Truth({b: truth.lost[b] for b in ids}, truth.reachable, truth.mechanism)


def by_mechanism(rankings: dict[str, dict[str, list[str]]], truth: Truth,
                 min_probability: float) -> dict[str, dict]:
    """MRR of each method per mechanism group: ``{group: {"borrowers": n, "mrr": {method: v}}}``,
    groups by size (largest first), then name."""
    groups: dict[str, list[str]] = {}
    for b in truth.lost:
        groups.setdefault(best_mechanism(truth, b, min_probability), []).append(b)
    out = {}
    for g, ids in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        sub = _subset(truth, ids)
        out[g] = {"borrowers": len(ids),
                  "mrr": {m: round(metrics(r, sub, min_probability=min_probability)["mrr"], 4)
                          for m, r in rankings.items()}}
    return out


# -- which world, which store ------------------------------------------------------------------
def world_region(world: str | Path) -> str:
    """The region a generated world's local phone numbers are written for.

    ``truth/world.json`` says it; without one, the most common ``region`` of
    ``borrowers.csv``; else CN (the loader's default).
    """
    meta = Path(world) / "truth" / "world.json"
    if meta.exists():
        region = json.loads(meta.read_text(encoding="utf-8")).get("region")
        if region:
            return str(region)
    path = Path(world) / "borrowers.csv"
    if path.exists():
        with open(path, encoding="utf-8") as f:
            counts: dict[str, int] = {}
            for r in csv.DictReader(f):
                if r.get("region"):
                    counts[r["region"]] = counts.get(r["region"], 0) + 1
        if counts:
            return max(counts, key=lambda k: (counts[k], k))
    return "CN"


def load_world(store: GraphStore, world: str | Path):
    """Load a generated world into ``store`` with the world's region (see :func:`world_region`).

    Rows that name no borrower (calls, phone_status) parse local numbers with
    the load's default region: a US world loaded with the default CN would
    turn every local number in them into a phantom +86 phone.
    """
    from skiptrace.ingest import load

    return load(store, Path(world), default_region=world_region(world))


def _world_names(world: str | Path, ids: set[str]) -> dict[str, str]:
    path = Path(world) / "borrowers.csv"
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as f:
        return {r["borrower_id"]: r.get("full_name") or "" for r in csv.DictReader(f)
                if r["borrower_id"] in ids}


def check_store_holds(store: GraphStore, world: str | Path, borrowers: Iterable[str], *,
                      what: str = "lost-contact borrowers") -> None:
    """Raise :class:`SkiptraceError` unless ``store`` holds ``world``'s ``borrowers``.

    A borrower does not match when the store lacks it or its ``full_name``
    differs from the world's ``borrowers.csv`` (generated worlds reuse the
    same ids, so a store with another world has most ids but other people).
    More than half not matching means the store holds another world.
    ``what`` names the borrowers checked, for the messages.
    """
    ids = sorted(set(borrowers))
    if not ids:
        return
    names = _world_names(world, set(ids))
    got = store.get_nodes([node_id("Borrower", b) for b in ids])
    bad = 0
    for b in ids:
        props = got.get(node_id("Borrower", b))
        if props is None or (names.get(b) and props.get("full_name") not in (None, names[b])):
            bad += 1
    if bad * 2 > len(ids):
        raise SkiptraceError(
            f"the store does not hold world {world}: {bad} of its {len(ids)} {what} "
            "are missing from the store or are other people; load the world into an empty store")
    if bad:
        log.warning("%d of %d %s of %s are missing from the store or differ", bad, len(ids), what, world)


# -- the evaluation ----------------------------------------------------------------------------
@dataclass
class ThresholdReport:
    """Every method's metrics at one relevance threshold."""

    min_probability: float
    methods: dict[str, dict[str, float]]   # all lost borrowers; unfitted methods and find
    ceiling: float
    ceiling_in_ego: float
    by_mechanism: dict[str, dict]
    heldout: dict[str, dict[str, float]] | None = None  # the held-out half, upper bound included
    heldout_borrowers: int = 0
    heldout_by_mechanism: dict[str, dict] = field(default_factory=dict)

    def best_baseline(self, metric: str = "mrr", methods: dict | None = None) -> tuple[str, float]:
        """The best unfitted baseline (never find nor the upper bound) by ``metric``."""
        methods = self.methods if methods is None else methods
        name = max((m for m in methods if m in BASELINES), key=lambda m: (methods[m][metric], m))
        return name, methods[name][metric]

    def error_ratio(self, methods: dict | None = None) -> float | None:
        """``(1 - MRR of find) / (1 - MRR of the best unfitted baseline)``."""
        methods = self.methods if methods is None else methods
        _, best = self.best_baseline("mrr", methods)
        return round((1 - methods["find"]["mrr"]) / (1 - best), 3) if best < 1 else None

    def upper_bound_gap(self) -> float | None:
        """MRR of the upper bound minus find's, on the held-out half."""
        if not self.heldout or UPPER_BOUND not in self.heldout:
            return None
        return round(self.heldout[UPPER_BOUND]["mrr"] - self.heldout["find"]["mrr"], 4)

    def as_dict(self) -> dict:
        name, best = self.best_baseline()
        ours = self.methods["find"]["mrr"]
        d = {"min_probability": self.min_probability, "methods": self.methods,
             "best_baseline": name, "mrr_ratio": round(ours / best, 3) if best else None,
             "error_ratio": self.error_ratio(), "ceiling": round(self.ceiling, 4),
             "ceiling_in_ego": round(self.ceiling_in_ego, 4), "by_mechanism": self.by_mechanism,
             "heldout": None}
        if self.heldout is not None:
            d["heldout"] = {"borrowers": self.heldout_borrowers, "methods": self.heldout,
                            "best_baseline": self.best_baseline("mrr", self.heldout)[0],
                            "error_ratio": self.error_ratio(self.heldout),
                            "upper_bound_gap": self.upper_bound_gap(),
                            "by_mechanism": self.heldout_by_mechanism}
        return d


@dataclass
class FindEvaluation:
    """Metrics per method (``find`` and each baseline) on one world, at each threshold.

    ``min_probability`` and ``methods`` are those of the first threshold;
    ``thresholds`` holds every threshold's :class:`ThresholdReport`.
    """

    world: str
    borrowers: int
    min_probability: float
    methods: dict[str, dict[str, float]]
    seconds: float
    mechanisms: dict[str, dict[str, int]] = field(default_factory=dict)
    thresholds: list[ThresholdReport] = field(default_factory=list)
    upper_bound: dict | None = None
    split: tuple[list[str], list[str]] = ((), ())  # the upper bound's (train, held-out) borrowers

    def best_baseline(self, metric: str = "mrr") -> tuple[str, float]:
        """The best unfitted baseline at the first threshold."""
        name = max((m for m in self.methods if m in BASELINES), key=lambda m: (self.methods[m][metric], m))
        return name, self.methods[name][metric]

    def at(self, min_probability: float) -> ThresholdReport:
        """The report at one threshold."""
        for t in self.thresholds:
            if abs(t.min_probability - min_probability) < 1e-9:
                return t
        raise KeyError(min_probability)

    def as_dict(self) -> dict:
        name, best = self.best_baseline()
        ours = self.methods["find"]["mrr"]
        return {"world": self.world, "borrowers": self.borrowers,
                "min_probability": self.min_probability, "methods": self.methods,
                "best_baseline": name, "mrr_ratio": round(ours / best, 3) if best else None,
                "top1_mechanism": self.mechanisms, "seconds": round(self.seconds, 2),
                "thresholds": [t.as_dict() for t in self.thresholds],
                "learned_from_truth": [UPPER_BOUND] if self.upper_bound else [],
                "upper_bound": self.upper_bound}


def evaluate_find(store: GraphStore, world: str | Path, *,
                  min_probability: float | Sequence[float] = THRESHOLDS,
                  sample: int | None = None, seed: int = 0, max_hops: int = 3,
                  limit: int = 10, scorer: LinearScorer | None = None,
                  max_fanout: int = MAX_FANOUT, upper_bound: bool = True,
                  scorers: dict[str, LinearScorer] | None = None) -> FindEvaluation:
    """Rank every (or ``sample`` random) lost-contact borrower with ``find``, the baselines
    and the learned upper bound, and score them at each threshold of ``min_probability``.

    The store must hold the world's input files (:func:`load_world`); a store
    holding another world raises :class:`SkiptraceError`. Each borrower's
    ego graph and features are computed once and shared by all methods and
    thresholds. ``scorers`` adds more ``find`` rankings under their names
    (other weights, same ego graphs). ``upper_bound=False`` skips the
    boosted model. ``seed`` draws the sample and the train/held-out halves.
    """
    thresholds = [float(min_probability)] if isinstance(min_probability, (int, float)) \
        else [float(t) for t in dict.fromkeys(min_probability)]
    if not thresholds:
        raise ValueError("min_probability: give at least one threshold")
    truth = read_truth(world)
    ids = sorted(truth.lost)
    if sample is not None and sample < len(ids):
        ids = sorted(random.Random(seed).sample(ids, sample))
        truth = _subset(truth, ids)
    check_store_holds(store, world, ids)
    started = time.perf_counter()
    finds = {"find": scorer, **(scorers or {})}
    ranks: dict[str, dict[str, list[str]]] = {m: {} for m in [*finds, *BASELINES]}
    mech: dict[str, dict[str, int]] = {}
    in_ego: dict[str, set[str]] = {}
    rows: dict[str, tuple[list[str], np.ndarray]] = {}
    # the ego graphs are read in batches (fetch_many: each exactly as fetch reads it, with the
    # batch's degree and expand queries shared; on Neo4j a tenth of the round trips)
    for b, ego in zip(ids, fetch_many(store, ids, max_hops=max_hops, max_fanout=max_fanout)):
        if isinstance(ego, UnknownBorrower):
            raise ego
        feats = extract(ego)
        for name, sc in finds.items():
            res = rank(ego, limit=limit, scorer=sc, feats=feats)
            ranks[name][b] = [c.phone for c in res.candidates]
            if name == "find" and res.candidates:
                m = truth.mechanism.get((b, res.candidates[0].phone), "miss")
                mech.setdefault("find", {}).setdefault(m, 0)
                mech["find"][m] += 1
        for name, fn in BASELINES.items():
            ranks[name][b] = fn(ego)[:limit]
        phones = [c.phone for c in feats.candidates]
        in_ego[b] = set(phones)
        if upper_bound:
            X = np.asarray(feats.X, dtype=float).reshape(len(phones), -1)
            # find's own log-odds is a column too, so the bound can start from find's ranking
            logit = (scorer or LinearScorer()).logit(X).reshape(-1, 1)
            rows[b] = (phones, np.hstack([X, raw_counts(ego, phones), logit]))
    train_ids: list[str] = []
    test_ids: list[str] = []
    if upper_bound:
        shuffled = ids[:]
        random.Random(seed + 1).shuffle(shuffled)
        half = len(shuffled) // 2
        train_ids, test_ids = sorted(shuffled[:half]), sorted(shuffled[half:])
    reports = [_threshold_report(th, ranks, truth, in_ego, rows, train_ids, test_ids, seed, limit)
               for th in thresholds]
    ub_info = None
    if upper_bound:
        ub_info = {"name": UPPER_BOUND, "learned_from_truth": True,
                   "model": "sklearn HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1)",
                   "train_borrowers": len(train_ids), "heldout_borrowers": len(test_ids),
                   "columns": [*FEATURES, *RAW, "find_logit"], "split_seed": seed + 1}
    first = reports[0]
    return FindEvaluation(str(world), len(ids), first.min_probability, first.methods,
                          time.perf_counter() - started, mech, reports, ub_info, (train_ids, test_ids))


def _threshold_report(th: float, ranks: dict[str, dict[str, list[str]]], truth: Truth,
                      in_ego: dict[str, set[str]], rows: dict[str, tuple[list[str], np.ndarray]],
                      train_ids: list[str], test_ids: list[str], seed: int,
                      limit: int) -> ThresholdReport:
    """Every method's metrics at one threshold; the upper bound fitted to its labels."""
    ids = list(truth.lost)
    methods = {m: _rounded(metrics(r, truth, min_probability=th)) for m, r in ranks.items()}
    in_graph = sum(1 for b in ids if _relevant(truth, b, th).keys() & in_ego[b])
    rep = ThresholdReport(th, methods, ceiling(truth, th), in_graph / len(ids) if ids else 0.0,
                          by_mechanism(ranks, truth, th))
    if not test_ids:
        return rep
    train = [(x, np.array([1.0 if truth.reachable.get(b, {}).get(p, 0.0) >= th else 0.0 for p in phones]))
             for b in train_ids for phones, x in [rows[b]] if phones]
    ub = fit_rank(train, {b: rows[b] for b in test_ids}, seed=seed, limit=limit)
    held = _subset(truth, test_ids)
    held_ranks = {m: {b: r[b] for b in test_ids} for m, r in ranks.items()}
    if ub is not None:
        held_ranks[UPPER_BOUND] = ub
    rep.heldout = {m: _rounded(metrics(r, held, min_probability=th)) for m, r in held_ranks.items()}
    rep.heldout_borrowers = len(test_ids)
    rep.heldout_by_mechanism = by_mechanism(held_ranks, held, th)
    return rep


def _rounded(m: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in m.items()}


# -- a text report (the CLI and bench print it) ------------------------------------------------
#: short column names for the per-mechanism table
SHORT = {"find": "find", "emergency_order": "emerg", "call_count": "calls", "plain_ppr": "ppr",
         "rule": "rule", "resource_allocation": "RA", "adamic_adar": "AA", "recent_partner": "recent",
         UPPER_BOUND: "gbm*", "find (learned)": "learned"}
COLUMNS = ("hit@1", "hit@3", "hit@10", "mrr", "recall@10", "ndcg@10")


def render_text(d: dict) -> str:
    """:meth:`FindEvaluation.as_dict` as compact tables (under 100 columns), one per threshold."""
    out = [f"world: {d['world']}",
           f"{d['borrowers']:,} lost-contact borrowers (rankings cut at 10: MRR is MRR@10; "
           f"{d['seconds']:.1f}s)"]
    for t in d.get("thresholds") or []:
        held = t.get("heldout") or {}
        hm = held.get("methods") or {}
        out.append("")
        out.append(f"relevant = reach_probability >= {t['min_probability']}: ceiling {t['ceiling']:.3f} "
                   f"(a relevant phone in the ego graph: {t['ceiling_in_ego']:.3f})")
        head = f"{'method':<20}" + "".join(f"{c.replace('recall', 'rec'):>8}" for c in COLUMNS)
        out.append(head + (f" | {'half:mrr':>8}" if hm else ""))
        for m, v in t["methods"].items():
            line = f"{m:<20}" + "".join(f"{v[c]:>8.3f}" for c in COLUMNS)
            out.append(line + (f" | {hm[m]['mrr']:>8.3f}" if m in hm else ""))
        if UPPER_BOUND in hm:
            out.append(f"{UPPER_BOUND + '*':<20}" + "".join(f"{'-':>8}" for _ in COLUMNS)
                       + f" | {hm[UPPER_BOUND]['mrr']:>8.3f}")
        best = t["best_baseline"]
        line = (f"find vs best unfitted ({best}): MRR {t['methods']['find']['mrr']:.3f} vs "
                f"{t['methods'][best]['mrr']:.3f}, error ratio (1-MRR) {t['error_ratio']}")
        out.append(line)
        if hm:
            gap = held.get("upper_bound_gap")
            out.append(f"held-out half ({held['borrowers']} borrowers): "
                       + (f"upper bound - find = {gap:+.3f} MRR; " if gap is not None else
                          "upper bound not fitted (one class in training); ")
                       + f"error ratio there {held['error_ratio']}")
            if UPPER_BOUND in hm:
                out.append(f"* {UPPER_BOUND}: learned from the truth of the other half "
                           "(an upper bound, not a baseline)")
        mech = t.get("by_mechanism") or {}
        if mech:
            names = list(next(iter(mech.values()))["mrr"])
            out.append("MRR by truth mechanism of the best relevant phone:")
            out.append(f"{'mechanism (borrowers)':<24}" + "".join(f"{SHORT.get(m, m[:7]):>8}" for m in names))
            for g, v in mech.items():
                label = f"{g} ({v['borrowers']})"
                out.append(f"{label:<24}" + "".join(f"{v['mrr'][m]:>8.3f}" for m in names))
    return "\n".join(out)
