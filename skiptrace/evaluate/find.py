"""Metrics against a generated world's truth, shared by tests, the CLI and bench/.

:func:`evaluate_find` ranks the phones of every lost-contact borrower of a
world (``truth/lost_contact.csv``) with ``find`` and with three baselines,
all on the same ego graph, and scores each ranking against
``truth/reachable.csv``:

- a phone is *relevant* for a borrower when its ``reach_probability`` is at
  least ``min_probability`` (default 0.5: more likely than not to reach the
  borrower);
- ``hit@k``: share of lost-contact borrowers with a relevant phone in the
  top k (a borrower without any relevant phone counts as a miss);
- ``mrr``: mean over those borrowers of 1 / rank of the first relevant phone
  (0 if none is ranked);
- ``recall@10``: mean over borrowers with at least one relevant phone of the
  share of their relevant phones in the top 10;
- ``ndcg@10``: graded, threshold-free: gain = ``reach_probability`` of every
  phone in truth, ``sum(gain / log2(rank + 1))`` over the top 10 divided by
  that of the ideal order, averaged over the lost-contact borrowers.

Baselines (common practice and plain graph ranking; numbers the lender
knows to be disconnected or reassigned are left out of all three):

- ``emergency_order``: the emergency contacts in listed order;
- ``call_count``: phonebook entries and call partners of the borrower's
  numbers, by call count with those numbers;
- ``plain_ppr``: unweighted personalised PageRank from the borrower over
  the same ego graph.
"""
from __future__ import annotations

import csv
import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from skiptrace.contacts.ego import MAX_FANOUT, Ego, fetch
from skiptrace.contacts.features import DEAD
from skiptrace.contacts.find import rank
from skiptrace.contacts.ranking.model import LinearScorer
from skiptrace.contacts.ranking.walk import personalised_pagerank, plain_edges
from skiptrace.store.base import GraphStore, split_id

KS = (1, 3, 10)


@dataclass
class Truth:
    """``lost[borrower] = since``; ``reachable[borrower][phone] = reach_probability``."""

    lost: dict[str, str]
    reachable: dict[str, dict[str, float]]
    mechanism: dict[tuple[str, str], str] = field(default_factory=dict)


def read_truth(world: str | Path) -> Truth:
    """Read ``truth/lost_contact.csv`` and ``truth/reachable.csv`` of a generated world."""
    base = Path(world) / "truth"
    lost = {r["borrower_id"]: r.get("since", "") for r in csv.DictReader(open(base / "lost_contact.csv",
                                                                            encoding="utf-8"))}
    reach: dict[str, dict[str, float]] = {}
    mech: dict[tuple[str, str], str] = {}
    with open(base / "reachable.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            reach.setdefault(r["borrower_id"], {})[r["phone"]] = float(r["reach_probability"])
            mech[(r["borrower_id"], r["phone"])] = r.get("mechanism", "")
    return Truth(lost, reach, mech)


def metrics(rankings: dict[str, list[str]], truth: Truth, *, min_probability: float = 0.5,
            ks: Iterable[int] = KS) -> dict[str, float]:
    """hit@k, MRR and recall@10 of ``rankings`` (phones, best first) over the lost borrowers."""
    ks = tuple(ks)
    n = len(truth.lost)
    hits = {k: 0 for k in ks}
    rr = 0.0
    recall, with_rel = 0.0, 0
    for b in truth.lost:
        rel = {p for p, pr in truth.reachable.get(b, {}).items() if pr >= min_probability}
        ranked = rankings.get(b, [])
        first = next((i for i, p in enumerate(ranked) if p in rel), None)
        if first is not None:
            rr += 1.0 / (first + 1)
            for k in ks:
                hits[k] += first < k
        if rel:
            with_rel += 1
            recall += len(rel & set(ranked[:10])) / len(rel)
    out = {f"hit@{k}": hits[k] / n if n else 0.0 for k in ks}
    out["mrr"] = rr / n if n else 0.0
    out["recall@10"] = recall / with_rel if with_rel else 0.0
    out["ndcg@10"] = sum(ndcg(rankings.get(b, []), truth.reachable.get(b, {})) for b in truth.lost) / n \
        if n else 0.0
    return out


def ndcg(ranked: list[str], gains: dict[str, float], k: int = 10) -> float:
    """Normalised discounted cumulative gain at ``k`` with reach probabilities as gains."""
    ideal = sorted(gains.values(), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    got = sum(gains.get(p, 0.0) / math.log2(i + 2) for i, p in enumerate(ranked[:k]))
    return got / best if best else 0.0


# -- baselines ---------------------------------------------------------------------------
def _dead(ego: Ego, p: str) -> bool:
    return ego.sub.nodes.get(p, {}).get("status") in DEAD


def emergency_order(ego: Ego) -> list[str]:
    """Emergency contacts in listed order (listing time, then phone)."""
    ec = sorted((e.props.get("listed_at") or "", e.dst) for o, e in ego.adj.get(ego.center, ())
                if e.type == "LISTS_CONTACT" and e.props.get("source") == "emergency")
    out = list(dict.fromkeys(p for _, p in ec if not _dead(ego, p)))
    return [split_id(p)[1] for p in out]


def call_count(ego: Ego) -> list[str]:
    """Phonebook entries and call partners of the borrower's numbers, most calls first."""
    own = {o for o, e in ego.adj.get(ego.center, ()) if e.type == "HAS_PHONE"}
    calls: dict[str, int] = {}
    for o, e in ego.adj.get(ego.center, ()):
        if e.type == "LISTS_CONTACT" and e.props.get("source") == "phonebook":
            calls.setdefault(o, 0)
    for d in own:
        for q, e in ego.adj.get(d, ()):
            if e.type == "CALLED" and q not in own:
                calls[q] = calls.get(q, 0) + int(e.props.get("calls_a_to_b") or 0) \
                    + int(e.props.get("calls_b_to_a") or 0)
    order = sorted((-n, p) for p, n in calls.items() if not _dead(ego, p))
    return [split_id(p)[1] for _, p in order]


def plain_ppr(ego: Ego) -> list[str]:
    """Phones by unweighted personalised PageRank from the borrower."""
    pr = personalised_pagerank(ego, plain_edges(ego))
    order = sorted((-s, n) for n, s in pr.items() if n.startswith("Phone:") and not _dead(ego, n))
    return [split_id(n)[1] for _, n in order]


BASELINES: dict[str, Callable[[Ego], list[str]]] = {
    "emergency_order": emergency_order, "call_count": call_count, "plain_ppr": plain_ppr}


@dataclass
class FindEvaluation:
    """Metrics per method (``find`` and each baseline) on one world."""

    world: str
    borrowers: int
    min_probability: float
    methods: dict[str, dict[str, float]]
    seconds: float
    mechanisms: dict[str, dict[str, int]] = field(default_factory=dict)

    def best_baseline(self, metric: str = "mrr") -> tuple[str, float]:
        name = max((m for m in self.methods if m in BASELINES), key=lambda m: self.methods[m][metric])
        return name, self.methods[name][metric]

    def as_dict(self) -> dict:
        name, best = self.best_baseline()
        ours = self.methods["find"]["mrr"]
        return {"world": self.world, "borrowers": self.borrowers,
                "min_probability": self.min_probability, "methods": self.methods,
                "best_baseline": name, "mrr_ratio": round(ours / best, 3) if best else None,
                "top1_mechanism": self.mechanisms, "seconds": round(self.seconds, 2)}


def evaluate_find(store: GraphStore, world: str | Path, *, min_probability: float = 0.5,
                  sample: int | None = None, seed: int = 0, max_hops: int = 3,
                  limit: int = 10, scorer: LinearScorer | None = None,
                  max_fanout: int = MAX_FANOUT) -> FindEvaluation:
    """Rank every (or ``sample`` random) lost-contact borrower with ``find`` and the baselines.

    The store must hold the world's input files (``skiptrace load WORLD``).
    Each borrower's ego graph is read once and shared by all methods.
    """
    truth = read_truth(world)
    ids = sorted(truth.lost)
    if sample is not None and sample < len(ids):
        ids = sorted(random.Random(seed).sample(ids, sample))
        truth = Truth({b: truth.lost[b] for b in ids}, truth.reachable, truth.mechanism)
    started = time.perf_counter()
    ranks: dict[str, dict[str, list[str]]] = {m: {} for m in ["find", *BASELINES]}
    mech: dict[str, dict[str, int]] = {}
    for b in ids:
        ego = fetch(store, b, max_hops=max_hops, max_fanout=max_fanout)
        res = rank(ego, limit=limit, scorer=scorer)
        ranks["find"][b] = [c.phone for c in res.candidates]
        if res.candidates:
            m = truth.mechanism.get((b, res.candidates[0].phone), "miss")
            mech.setdefault("find", {}).setdefault(m, 0)
            mech["find"][m] += 1
        for name, fn in BASELINES.items():
            ranks[name][b] = fn(ego)[:limit]
    methods = {m: {k: round(v, 4) for k, v in metrics(r, truth, min_probability=min_probability).items()}
               for m, r in ranks.items()}
    return FindEvaluation(str(world), len(ids), min_probability, methods,
                          time.perf_counter() - started, mech)
