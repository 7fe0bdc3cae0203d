"""`plan --all` (the batch) against the per-borrower loop, in the same run on the same store.

    python bench/plan.py --db /tmp/w20k.db [--sample 400] [--loop 3] [--loop-reuse 20] [--workers 2]

- **batch**: what `skiptrace plan --all` runs with no saved model:
  ``skiptrace.plan(store, ids, workers=W)``. The response model is fitted once
  from the ledger (with ``W > 1`` in the parent while the workers run find),
  find runs once per borrower, one model prediction per chunk of borrowers.
  Timed as a whole: fit and planning of ``--sample`` delinquent borrowers
  (``--sample 0``: all of them, which is the figure the 5-minute target is
  about). The model is then fitted once more alone, to show its share.
- **loop** (the baseline): what a caller without the batch does:
  ``plan(store, [b])`` for one borrower at a time, each call re-reading the
  ledger and re-fitting the response model (``--loop`` borrowers; their mean
  is the per-borrower cost).
- **loop, model reused**: ``plan(store, [b], model=m)`` one at a time with
  the fitted model (``--loop-reuse`` borrowers): the cost of one find and one
  prediction per call, so the batch's gain beyond sharing the fit shows.

Printed: the per-borrower costs, the ratios loop / batch, and (when
``--sample`` is not 0) the projected time of ``plan --all`` for a
100k-borrower book: the model fit scaled by the ledger size (the fit samples
at most 400k attempt rows) plus the per-borrower planning cost times the
delinquent borrowers a 100k book of the same delinquent share holds.
CPU figures are this process plus its workers; on W idle cores the wall
time is about CPU / W.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def cpu() -> float:
    """CPU seconds (user + system) of this process and its finished children."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True, help="a SQLite store file (e.g. a loaded 20k world)")
    ap.add_argument("--sample", type=int, default=400,
                    help="delinquent borrowers planned by the batch (0: all)")
    ap.add_argument("--loop", type=int, default=3, help="borrowers planned one at a time")
    ap.add_argument("--loop-reuse", type=int, default=20,
                    help="borrowers planned one at a time with the fitted model reused")
    ap.add_argument("--workers", type=int, default=2, help="processes of the batch")
    ap.add_argument("--policy", default="auto")
    ap.add_argument("--out", default=None, help="write the batch's plans here (jsonl)")
    ap.add_argument("--reveal", action="store_true", help="unmasked phones in --out")
    args = ap.parse_args(argv)

    import skiptrace
    from skiptrace.plan import delinquent_ids, learn
    from skiptrace.store import SQLiteStore

    store = SQLiteStore(args.db, create=False)
    n_borrowers = store.counts().nodes.get("Borrower", 0)
    n_attempts = store.counts().ledger.get("contact_attempts", 0)
    every = delinquent_ids(store)
    ids = every if args.sample <= 0 else every[:args.sample]
    print(f"store {args.db}: {n_borrowers:,} borrowers, {len(every):,} delinquent, "
          f"{n_attempts:,} attempts; cpus {os.cpu_count()}, workers {args.workers}")

    # ---- batch: the path of `plan --all` without a saved model (fit inside, beside the workers)
    t1, c1 = time.perf_counter(), cpu()
    res = skiptrace.plan(store, ids, policy=args.policy, workers=args.workers)
    t_batch, c_batch = time.perf_counter() - t1, cpu() - c1
    n_act = sum(len(r.actions) for r in res)
    n_blk = sum(len(r.blocked) for r in res)
    print(f"batch (fit + plan): {len(ids):,} borrowers in {t_batch:.1f}s wall = "
          f"{1000 * t_batch / len(ids):.1f} ms a borrower; CPU {c_batch:.1f}s = "
          f"{1000 * c_batch / len(ids) / args.workers:.1f} ms a borrower on {args.workers} idle cores; "
          f"{n_act:,} actions, {n_blk:,} blocked")
    # the fit alone (its share of the batch; the model is reused by the loop below)
    t0, c0 = time.perf_counter(), cpu()
    model = learn(store)
    t_fit, c_fit = time.perf_counter() - t0, cpu() - c0
    print(f"fit alone: {t_fit:.1f}s wall, {c_fit:.1f}s CPU ({model.describe()})")
    per_batch = t_batch / len(ids)  # the fit included, shared over the sample
    per_batch_idle = max(c_batch - c_fit, 1e-9) / len(ids) / args.workers
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            for r in res:
                f.write(json.dumps(r.to_dict(args.reveal), ensure_ascii=False) + "\n")

    # ---- loop: one borrower at a time, re-reading and re-fitting what the batch shares
    loop_ids = every[len(every) // 2: len(every) // 2 + args.loop] or ids[:args.loop]
    t2, c2 = time.perf_counter(), cpu()
    for b in loop_ids:
        skiptrace.plan(store, [b], policy=args.policy)
    t_loop, c_loop = time.perf_counter() - t2, cpu() - c2
    per_loop = t_loop / max(len(loop_ids), 1)
    print(f"loop: {len(loop_ids)} borrowers one at a time in {t_loop:.1f}s = "
          f"{per_loop:.1f} s a borrower; CPU {c_loop:.1f}s = "
          f"{c_loop / max(len(loop_ids), 1):.1f} s a borrower")
    print(f"ratio loop / batch per borrower: {per_loop / per_batch:,.0f}x wall, "
          f"{c_loop / max(len(loop_ids), 1) / (c_batch / len(ids)):,.0f}x CPU")

    # ---- loop with the fitted model reused: one find and one prediction per call
    reuse_ids = every[len(every) // 3: len(every) // 3 + args.loop_reuse]
    if reuse_ids:
        t3, c3 = time.perf_counter(), cpu()
        for b in reuse_ids:
            skiptrace.plan(store, [b], policy=args.policy, model=model)
        t_reuse, c_reuse = time.perf_counter() - t3, cpu() - c3
        print(f"loop, model reused: {len(reuse_ids)} borrowers one at a time in {t_reuse:.1f}s = "
              f"{1000 * t_reuse / len(reuse_ids):.1f} ms a borrower; CPU "
              f"{1000 * c_reuse / len(reuse_ids):.1f} ms a borrower; ratio to the batch's CPU "
              f"per borrower {c_reuse / len(reuse_ids) / max(c_batch - c_fit, 1e-9) * len(ids):.2f}x")

    if args.sample <= 0:
        print(f"plan --all of {len(ids):,} delinquent borrowers: {t_batch / 60:.1f} min wall here, "
              f"{c_batch / args.workers / 60:.1f} min on {args.workers} idle cores (CPU / workers); "
              f"target 5 min: {'met' if t_batch < 300 else 'NOT met'} (wall)")
        return 0
    # ---- projection to a 100k-borrower book
    scale = 100_000 / max(n_borrowers, 1)
    # the fit grows with the ledger until attempt_frame's cap of 400k attempt rows
    fit_100k = t_fit * min(scale, max(1.0, 400_000 / max(n_attempts, 1)))
    delinquent_100k = len(every) * scale
    batch_100k = fit_100k + per_batch * delinquent_100k
    loop_100k = per_loop * delinquent_100k
    idle_100k = fit_100k + per_batch_idle * delinquent_100k
    print(f"projected for 100k borrowers on {args.workers} idle cores (CPU time / workers): "
          f"{idle_100k / 60:.1f} min")
    print(f"projected for 100k borrowers ({delinquent_100k:,.0f} delinquent; an upper bound: the "
          f"fit is counted alone and again inside the sample's per-borrower cost): batch "
          f"{batch_100k / 60:.1f} min (fit {fit_100k:.0f}s + {per_batch * delinquent_100k:.0f}s "
          f"planning), loop {loop_100k / 3600:.1f} h; target 5 min: "
          f"{'met' if batch_100k < 300 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
