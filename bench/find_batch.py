"""find for many borrowers: ``find_many`` (batched ego reads) against ``find`` one by one, in one run.

    python bench/find_batch.py --db STORE.db [--borrowers 300] [--batch 64] [--rounds 2]
                               [--status delinquent]

Takes the first ``--borrowers`` borrowers of ``--status`` (id order) of an
SQLite store, warms the page cache with one pass over the first 50 of them,
then alternates, ``--rounds`` times, the one-by-one loop
(``[find(store, b) for b in ids]``, what ``find_many`` did before) and
``find_many(store, ids, batch=...)``. Prints per round and mode the wall and
CPU (``time.process_time``) milliseconds per borrower, the SHA-256 of the
results' ``to_dict(reveal=True)`` JSON (the two modes must agree), and the
one-by-one / batched ratio of the summed CPU and wall times. The machine may
be shared: CPU time is the steadier figure.

A store: ``skiptrace generate --borrowers 20000 --seed 1 --out W && skiptrace load W --db W.db``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time

from skiptrace.contacts.find import find, find_many
from skiptrace.store.sqlite import SQLiteStore


def _digest(results) -> str:
    return hashlib.sha256(json.dumps([r.to_dict(reveal=True) for r in results],
                                     sort_keys=True).encode()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--borrowers", type=int, default=300)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--status", default="delinquent")
    a = ap.parse_args(argv)
    store = SQLiteStore(a.db, create=False)
    ids = [r[0] for r in store.conn.execute(
        "SELECT substr(id, 10) FROM node WHERE id > 'Borrower:' AND id < 'Borrower;' "
        "AND status = ? ORDER BY id LIMIT ?", (a.status, a.borrowers))]
    if not ids:
        print(f"no {a.status} borrowers in {a.db}", file=sys.stderr)
        return 2
    list(find_many(store, ids[:50], batch=a.batch))  # warm the page cache
    runs = {"one": lambda: [find(store, b) for b in ids],
            "batch": lambda: list(find_many(store, ids, batch=a.batch))}
    total = {m: [0.0, 0.0] for m in runs}
    digests = {}
    print(f"{len(ids)} {a.status} borrowers of {a.db}, batch {a.batch}")
    for r in range(a.rounds):
        for mode in (("one", "batch") if r % 2 == 0 else ("batch", "one")):
            w0, c0 = time.perf_counter(), time.process_time()
            res = runs[mode]()
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            total[mode][0] += wall
            total[mode][1] += cpu
            digests.setdefault(mode, set()).add(_digest(res))
            print(f"round {r + 1} {mode:5s}: {1000 * wall / len(ids):7.1f} ms wall, "
                  f"{1000 * cpu / len(ids):7.1f} ms CPU per borrower")
    same = digests["one"] == digests["batch"] and len(digests["one"]) == 1
    print(f"results identical: {same} ({sorted(digests['one'])[0][:16]})")
    print(f"one-by-one / batch: CPU {total['one'][1] / total['batch'][1]:.2f}x, "
          f"wall {total['one'][0] / total['batch'][0]:.2f}x")
    store.close()
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
