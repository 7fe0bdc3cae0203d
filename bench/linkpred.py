"""`find` as a link predictor on the real networks of ../shared/data/networks/, beside RA and kin.

    python bench/linkpred.py [--data DIR] [--networks NAME ...] [--splits 5] [--sources 100]
                             [--temporal-splits 1] [--seed 0] [--json]

For every network (read by path, never copied into the repository):

- **random**: 10% of the distinct undirected pairs hidden, ``--splits``
  seeded splits, at most ``--sources`` sources per split;
- **temporal** (networks with a time column): training = events before the
  0.9 time quantile, relevant = partners at or after it (AUC on the new
  pairs only), ``as_of`` = the cut;

and the **Copenhagen calls task**: cns_calls, weeks 1-3 (time < 21 days =
1,814,400 s) as the lender's data, every person with a call in week 4
ranked against everyone, relevant = a week-4 call partner, ``as_of`` = the
cut; find against call count, most recent call and call count then RA.

Printed per network: each method's AUC, MRR, hit@1, hit@10, MRR over the
sources with a training tie ("warm") and coverage (mean over splits), find
minus RA, and whether the targets of issue 11 hold:

- random hold-out: find AUC >= RA on every network; mean AUC >= RA's mean
  + 2 points; per-source MRR >= RA's on every network;
- Copenhagen calls: find's 1 - MRR <= 0.85x the best of call count, most
  recent call and call count then RA (judged over every person with a
  week-4 call; also printed over those with a call in weeks 1-3, which is
  how the issue's figures 0.829 / 0.843 / 0.849 were computed).

Runtime at the defaults (100 sources per split), 2026-11-29 on the
project's 2-core machine shared with other jobs: 5.4 minutes of CPU, 7.5 to
9.5 minutes wall (load average 4 to 8), peak RSS 440 MB. Most of it is
find's rank with limit=None, which builds evidence for every candidate. The stores are built per split in the system
temp directory. Definitions and metric details: skiptrace/evaluate/linkpred.py.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "networks"

from skiptrace.evaluate.linkpred import (DEFAULT_SOURCES, LinkPredResult,  # noqa: E402
                                         evaluate_linkpred, read_edges)

CNS_CUT = 21 * 86400.0
#: borrowers whose own ties train ``find_ties`` on a temporal hold-out (all of cns_calls' 536)
TIES_SAMPLE = 500


def ties_trainer(horizon_days: float, sample: int | None = TIES_SAMPLE):
    """``find_ties``: find with corrections learnt from the training store's own call ties
    (:func:`~skiptrace.contacts.ranking.train.learn_from_ties`, the library's C = 1), each
    borrower's ego graph cut ``horizon_days`` before its newest time stamp. The rule, fixed
    before any test period was looked at: the horizon is the evaluation's own gap (the test
    period's length: 7 days on the Copenhagen task), so the rows ask the question the test
    asks. No test-period tie is used: the trainer sees only the training store."""
    from skiptrace.contacts.ranking.train import learn_from_ties

    def train(store):
        model = learn_from_ties(store, horizon=horizon_days, sample=sample)
        v = model.validation_
        print(f"  find_ties: horizon {horizon_days:.2f} days, {v['train_rows']} training rows, "
              f"held-out AUC {v['auc']:.3f} (defaults {v['default_auc']:.3f}), largest "
              f"corrections {v['largest_corrections']}", file=sys.stderr, flush=True)
        return model.scorer_
    return train
RECURRENCE = ("call_count", "most_recent", "count_then_ra")
SHOW = ("find", "ra", "adamic_adar", "cn", "jaccard", "ppr")


def _fmt(v: float | None) -> str:
    return "    -" if v is None or v != v else f"{v:.3f}"


def table(res: LinkPredResult, title: str) -> list[str]:
    """Method x AUC / MRR / hit@1 / hit@10 (mean ± std of AUC over splits)."""
    s = res.summary()
    first = res.splits[0]
    lines = [f"## {title}: {res.nodes} nodes, {res.pairs} pairs, {len(res.splits)} split(s), "
             f"{first.sources} sources/split ({first.cold_sources} without a training tie), "
             f"{first.relevant_pairs} relevant pairs/split"
             + (f", cut {first.cut:g} (as_of {first.as_of})" if first.cut is not None else "")
             + f", {res.seconds:.0f}s",
             f"{'method':<15}{'auc':>7}{'±':>7}{'mrr':>7}{'hit@1':>7}{'hit@10':>7}{'warm':>7}"
             f"{'cover':>7}"]
    for m, d in s.items():
        lines.append(f"{m:<15}{_fmt(d['auc']['mean']):>7}{_fmt(d['auc']['std']):>7}"
                     f"{_fmt(d['mrr']['mean']):>7}{_fmt(d['hit@1']['mean']):>7}"
                     f"{_fmt(d['hit@10']['mean']):>7}{_fmt(d['mrr_warm']['mean']):>7}"
                     f"{_fmt(d['coverage']['mean']):>7}")
    lines.append(f"find - ra: AUC {s['find']['auc']['mean'] - s['ra']['auc']['mean']:+.4f}, "
                 f"MRR {s['find']['mrr']['mean'] - s['ra']['mrr']['mean']:+.4f}; "
                 f"find p50 {res.find_ms_p50().get('find', float('nan')):.1f} ms/source")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="folder of <name>.csv.gz edge lists")
    ap.add_argument("--networks", nargs="*", default=None, help="names (default: every file)")
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--temporal-splits", type=int, default=1,
                    help="temporal splits differ only in the source and negative samples")
    ap.add_argument("--sources", type=int, default=DEFAULT_SOURCES,
                    help="sources per split (0 = all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-temporal", action="store_true", help="skip the temporal hold-outs")
    ap.add_argument("--no-cns-task", action="store_true", help="skip the Copenhagen calls task")
    ap.add_argument("--cns-cut-days", type=float, default=CNS_CUT / 86400.0,
                    help="the Copenhagen task's cut in days; the 7 days after it answer and later "
                         "events are dropped (default 21: weeks 1-3 -> week 4; 14: weeks 1-2 -> "
                         "week 3, which never sees week 4: for choosing settings)")
    ap.add_argument("--no-ties", action="store_true",
                    help="skip find_ties (find learnt from the store's own ties) on the "
                         "temporal hold-outs and the Copenhagen task")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if a.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not a.data.is_dir():
        print(f"error: no data folder {a.data} (use --data)", file=sys.stderr)
        return 2
    files = sorted(a.data.glob("*.csv.gz"))
    names = [f.name.split(".")[0] for f in files]
    if a.networks:
        unknown = sorted(set(a.networks) - set(names))
        if unknown:
            print(f"error: unknown networks {unknown} (have {names})", file=sys.stderr)
            return 2
        names = [n for n in names if n in a.networks]
    sources = a.sources or None
    started = time.perf_counter()
    args = argv if argv is not None else sys.argv[1:]
    out: dict = {"command": " ".join(["python bench/linkpred.py", *args]),
                 "random": {}, "temporal": {}, "cns_task": None, "cns_ceiling": None}
    for name in names:
        el = read_edges(a.data / f"{name}.csv.gz")
        r = evaluate_linkpred(el, hide=0.1, splits=a.splits, seed=a.seed, sources=sources)
        out["random"][name] = r
        if not a.json:
            print("\n".join(table(r, f"{name} random 10%")), "\n", flush=True)
        if el.time is not None and not a.no_temporal:
            gap = (float(el.time.max()) - float(np.quantile(el.time, 0.9))) / 86400.0
            t = evaluate_linkpred(el, hide=0.1, splits=a.temporal_splits, seed=a.seed,
                                  mode="temporal", sources=sources,
                                  trainers=None if a.no_ties else {"find_ties": ties_trainer(gap)})
            out["temporal"][name] = t
            if not a.json:
                print("\n".join(table(t, f"{name} temporal (last 10% of events)")), "\n",
                      flush=True)
    if "cns_calls" in names and not a.no_cns_task:
        cns = read_edges(a.data / "cns_calls.csv.gz")
        end = a.cns_cut_days * 86400.0 + 7 * 86400.0
        if end < float(cns.time.max()):  # an earlier cut: the week after it answers, no later one
            keep = cns.time < end
            cns = replace(cns, src=cns.src[keep], dst=cns.dst[keep], time=cns.time[keep],
                          weight=None if cns.weight is None else cns.weight[keep])
        c = evaluate_linkpred(cns, hide=0.1, splits=1, seed=a.seed,
                              mode="temporal", cut=a.cns_cut_days * 86400.0, sources=None,
                              trainers=None if a.no_ties else
                              {"find_ties": ties_trainer(7.0, sample=None)})
        out["cns_task"] = c
        out["cns_ceiling"] = repeat_ceiling(cns, a.cns_cut_days * 86400.0)
        if not a.json:
            print("\n".join(table(c, f"Copenhagen calls task (cut on day {a.cns_cut_days:g}, "
                                      "the week after it answers)")), "\n", flush=True)
    verdict = targets(out)
    seconds = time.perf_counter() - started
    if a.json:
        json.dump({"command": out["command"], "seconds": round(seconds, 1),
                   "random": {k: v.as_dict() for k, v in out["random"].items()},
                   "temporal": {k: v.as_dict() for k, v in out["temporal"].items()},
                   "cns_task": out["cns_task"].as_dict() if out["cns_task"] else None,
                   "cns_ceiling": out["cns_ceiling"],
                   "targets": verdict}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print("\n".join(summary_lines(out, verdict)))
        print(f"\ntotal {seconds:.0f}s ({out['command']})")
    return 0


def repeat_ceiling(el, cut: float) -> dict[str, float]:
    """MRR of a ranking that knows the answers only for old partners: every source's partners
    after ``cut`` that it already had before it come first; everyone else after its old
    partners, in random order (expected rank). No method that ranks old partners first can do
    better on sources whose answers are all new, and none does better than 1 on the others.
    Over every source, and over those with a partner before the cut ("warm")."""
    before: dict[int, set[int]] = {}
    after: dict[int, set[int]] = {}
    for a, b, t in zip(el.src.tolist(), el.dst.tolist(), el.time.tolist()):
        side = before if t < cut else after
        side.setdefault(a, set()).add(b)
        side.setdefault(b, set()).add(a)
    rr = {}
    for s_, rel in after.items():
        old = before.get(s_, set())
        if rel & old:
            rr[s_] = 1.0
        else:  # old partners first, then the rest tied: expected rank of the first answer
            rr[s_] = 1.0 / (len(old) + (el.n - 1 - len(old) + 1) / (len(rel) + 1))
    warm = [v for k, v in rr.items() if before.get(k)]
    return {"mrr": sum(rr.values()) / len(rr), "mrr_warm": sum(warm) / len(warm),
            "sources": len(rr), "with_old_partner_in_answer": sum(v == 1.0 for v in rr.values())}


def targets(out: dict) -> dict:
    """The issue-11 targets, each with the numbers behind it."""
    rnd: dict[str, LinkPredResult] = out["random"]
    per = {}
    for name, r in rnd.items():
        f_auc, r_auc = r.mean("find", "auc"), r.mean("ra", "auc")
        f_mrr, r_mrr = r.mean("find", "mrr"), r.mean("ra", "mrr")
        per[name] = {"find_auc": f_auc, "ra_auc": r_auc, "find_mrr": f_mrr, "ra_mrr": r_mrr,
                     "auc_ok": f_auc >= r_auc, "mrr_ok": f_mrr >= r_mrr}
    v: dict = {"per_network": per}
    if per:
        mf = sum(p["find_auc"] for p in per.values()) / len(per)
        mr = sum(p["ra_auc"] for p in per.values()) / len(per)
        v["auc_every_network"] = all(p["auc_ok"] for p in per.values())
        v["mean_auc"] = {"find": mf, "ra": mr, "ok": mf >= mr + 0.02}
        v["mrr_every_network"] = all(p["mrr_ok"] for p in per.values())
    c: LinkPredResult | None = out["cns_task"]
    if c is not None:
        ours = [m for m in ("find", "find_ties") if m in c.method_names]
        for key, metric in (("cns_task", "mrr"), ("cns_task_warm", "mrr_warm")):
            err = {m: 1.0 - c.mean(m, metric) for m in tuple(ours) + RECURRENCE}
            best = min(RECURRENCE, key=lambda m: err[m])
            v[key] = {"find_error": err["find"], "best": best, "best_error": err[best],
                      "ratio": err["find"] / err[best] if err[best] else float("inf"),
                      "ok": err["find"] <= 0.85 * err[best]}
            if "find_ties" in err:
                v[key].update({"find_ties_error": err["find_ties"],
                               "find_ties_ratio": err["find_ties"] / err[best] if err[best]
                               else float("inf"),
                               "find_ties_ok": err["find_ties"] <= 0.85 * err[best]})
    return v


def summary_lines(out: dict, v: dict) -> list[str]:
    lines = ["# Summary: random 10% hold-out (mean over splits)",
             f"{'network':<20}{'find AUC':>9}{'RA AUC':>8}{'diff':>8}{'find MRR':>9}{'RA MRR':>8}"
             f"{'diff':>8}  AUC>=RA MRR>=RA"]
    for name, p in v.get("per_network", {}).items():
        lines.append(f"{name:<20}{p['find_auc']:>9.3f}{p['ra_auc']:>8.3f}"
                     f"{p['find_auc'] - p['ra_auc']:>+8.4f}{p['find_mrr']:>9.3f}{p['ra_mrr']:>8.3f}"
                     f"{p['find_mrr'] - p['ra_mrr']:>+8.4f}  {'yes' if p['auc_ok'] else 'NO':>7}"
                     f" {'yes' if p['mrr_ok'] else 'NO':>7}")
    if "mean_auc" in v:
        m = v["mean_auc"]
        lines.append(f"{'mean':<20}{m['find']:>9.3f}{m['ra']:>8.3f}{m['find'] - m['ra']:>+8.3f}")
        lines.append("")
        lines.append(f"target find AUC >= RA on every network: {_yes(v['auc_every_network'])}")
        lines.append(f"target mean AUC >= RA mean + 0.02: {_yes(m['ok'])} "
                     f"({m['find']:.3f} vs {m['ra'] + 0.02:.3f})")
        lines.append("target per-source MRR >= RA on every network: "
                     f"{_yes(v['mrr_every_network'])}")
    if v.get("cns_task"):
        c = v["cns_task"]
        lines.append("target Copenhagen calls 1-MRR <= 0.85x best recurrence baseline: "
                     f"{_yes(c['ok'])} "
                     f"(find {c['find_error']:.3f} vs {c['best']} {c['best_error']:.3f}: "
                     f"ratio {c['ratio']:.2f})")
        w = v["cns_task_warm"]
        lines.append(f"  the same over the persons with a call before the cut only: {_yes(w['ok'])} "
                     f"(find {w['find_error']:.3f} vs {w['best']} {w['best_error']:.3f}: "
                     f"ratio {w['ratio']:.2f})")
        ceil = out.get("cns_ceiling")
        if ceil:
            lines.append(f"  ceiling (old partners in the answer ranked first, the rest at random): "
                         f"MRR {ceil['mrr']:.3f}, over callers before the cut {ceil['mrr_warm']:.3f} "
                         f"({ceil['with_old_partner_in_answer']} of {ceil['sources']} sources call an "
                         f"old partner again); the target asks for MRR >= "
                         f"{1 - 0.85 * c['best_error']:.3f}")
        for k, label in (("cns_task", "every person"), ("cns_task_warm", "callers before the cut")):
            if "find_ties_error" in v[k]:
                t = v[k]
                lines.append(f"  find_ties (learnt from the store's own ties), {label}: "
                             f"{_yes(t['find_ties_ok'])} (error {t['find_ties_error']:.3f} vs "
                             f"{t['best']} {t['best_error']:.3f}: ratio {t['find_ties_ratio']:.2f})")
    if out["temporal"]:
        ties = all("find_ties" in t.method_names for t in out["temporal"].values())
        cols = ("find",) + (("find_ties",) if ties else ()) + ("ra", "ppr") + RECURRENCE
        lines += ["", "# Temporal hold-out (last 10% of events): MRR (AUC on new pairs)",
                  f"{'network':<20}" + "".join(f"{m:>15}" for m in cols)]
        for name, t in out["temporal"].items():
            lines.append(f"{name:<20}" + "".join(
                f"{t.mean(m, 'mrr'):>7.3f} ({t.mean(m, 'auc'):.3f})" for m in cols))
    return lines


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    sys.exit(main())
