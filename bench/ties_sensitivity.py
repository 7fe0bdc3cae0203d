"""Sensitivity of ``find_ties`` on the Copenhagen calls task to its horizon and penalty.

    python bench/ties_sensitivity.py [--horizons 3.5 7 14] [--C 0.1 1 10 100] [--cut-days 21]

For each (horizon H, C): :func:`~skiptrace.contacts.ranking.train.learn_from_ties` on the
training store (every borrower), then the Copenhagen task of ``bench/linkpred.py`` (the 7
days after ``--cut-days`` answer). Prints each scorer's MRR (all persons and those with a
call before the cut) and the training rows' held-out AUC and log loss. This is a
sensitivity check, not a way to choose H or C: choosing them on the answer week would fit
the test. ``bench/linkpred.py`` uses the rule fixed beforehand (H = the gap, C = 1).
About 10 s per (H, C) on the shared 2-core machine.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from skiptrace.contacts.ranking.train import learn_from_ties
from skiptrace.evaluate.linkpred import evaluate_linkpred, read_edges

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "networks"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--horizons", type=float, nargs="+", default=[3.5, 7.0, 14.0])
    ap.add_argument("--C", type=float, nargs="+", default=[0.1, 1.0, 10.0, 100.0])
    ap.add_argument("--cut-days", type=float, default=21.0)
    a = ap.parse_args(argv)
    el = read_edges(a.data / "cns_calls.csv.gz")
    end = (a.cut_days + 7) * 86400.0
    keep = el.time < end
    el = replace(el, src=el.src[keep], dst=el.dst[keep], time=el.time[keep],
                 weight=None if el.weight is None else el.weight[keep])
    valid: dict[str, dict] = {}
    trainers = {}
    for h in a.horizons:
        for c in a.C:
            name = f"ties H{h:g} C{c:g}"

            def train(store, h=h, c=c, name=name):
                model = learn_from_ties(store, horizon=h, C=c, sample=None)
                valid[name] = model.validation_
                return model.scorer_
            trainers[name] = train
    r = evaluate_linkpred(el, splits=1, mode="temporal", cut=a.cut_days * 86400.0,
                          sources=None, trainers=trainers)
    print(f"{'scorer':<20}{'mrr':>7}{'warm':>7}  rows' held-out AUC / log loss (defaults)")
    for m in ["find", *trainers, "call_count", "most_recent", "count_then_ra"]:
        v = valid.get(m)
        extra = (f"  {v['auc']:.3f} / {v['log_loss']:.3f} ({v['default_auc']:.3f} / "
                 f"{v['default_log_loss']:.3f})") if v else ""
        print(f"{m:<20}{r.mean(m, 'mrr'):>7.3f}{r.mean(m, 'mrr_warm'):>7.3f}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
