"""`plan --all` (the batch) against the per-borrower loop, in the same run on the same store.

    python bench/plan.py --db /tmp/w20k.db [--sample 400] [--loop 3] [--workers 2]

- **batch**: ``skiptrace.plan(store, ids, workers=W)``: the response model is
  fitted once from the ledger, find runs once per borrower, one model
  prediction per chunk of borrowers. Timed as fit + planning of ``--sample``
  delinquent borrowers (``--sample 0``: all of them).
- **loop**: what a caller without the batch does: ``plan(store, [b])`` for one
  borrower at a time, each call re-reading the ledger and re-fitting the
  response model (``--loop`` borrowers; their mean is the per-borrower cost).

Printed: both per-borrower costs, their ratio (loop / batch), and the
projected time of ``plan --all`` for a 100k-borrower book: the model fit
scaled by the ledger size (the fit samples at most 400k attempt rows) plus
the per-borrower planning cost times the delinquent borrowers a 100k book of
the same delinquent share holds. Both projections assume the same machine
(``--workers`` processes).
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

    # ---- batch: fit once, plan many
    t0, c0 = time.perf_counter(), cpu()
    model = learn(store)
    t_fit, c_fit = time.perf_counter() - t0, cpu() - c0
    t1, c1 = time.perf_counter(), cpu()
    res = skiptrace.plan(store, ids, policy=args.policy, model=model, workers=args.workers)
    t_batch, c_batch = time.perf_counter() - t1, cpu() - c1
    per_batch = t_batch / len(ids)
    # CPU seconds of this process and its workers: on W idle cores, wall = CPU / W
    per_batch_idle = c_batch / len(ids) / args.workers
    n_act = sum(len(r.actions) for r in res)
    n_blk = sum(len(r.blocked) for r in res)
    print(f"batch: fit {t_fit:.1f}s wall, {c_fit:.1f}s CPU ({model.describe()}), planned {len(ids):,} borrowers in "
          f"{t_batch:.1f}s = {1000 * per_batch:.1f} ms a borrower; {n_act:,} actions, "
          f"{n_blk:,} blocked; CPU {c_batch:.1f}s = {1000 * per_batch_idle:.1f} ms a borrower "
          f"on {args.workers} idle cores")
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
    print(f"projected for 100k borrowers ({delinquent_100k:,.0f} delinquent): batch "
          f"{batch_100k / 60:.1f} min (fit {fit_100k:.0f}s + {per_batch * delinquent_100k:.0f}s "
          f"planning), loop {loop_100k / 3600:.1f} h; target 5 min: "
          f"{'met' if batch_100k < 300 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
