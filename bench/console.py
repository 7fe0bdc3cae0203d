"""Server time of the console's borrower page, beside `find` alone, in one run.

    python bench/console.py --db STORE.db [--queries 300] [--seed 1] [--warmup 20]

For ``--queries`` random borrowers of the store (seeded; the same ones for every
measure, interleaved per borrower so drift hits all alike, and the order rotated per borrower
since the first measure of a borrower pays its cold page-cache reads):

- ``find``: ``skiptrace.find(store, b)`` alone (limit 20, policy auto: what the page asks);
- ``page data``: :func:`skiptrace.console.views.borrower_page` (facts, find, the ego-graph
  layout and SVG), no HTTP;
- ``page server``: ``GET /borrowers/<b>`` through the whole ASGI application in process
  (Starlette's TestClient, logged in as an investigator), timed by the application itself
  (its ``Server-Timing`` header: from the request's arrival to the response's start):
  session check, the audit record (one SQLite write), the page data, the template;
- ``page request``: the same request timed by the client (adds the TestClient's event
  loop and thread hand-offs; no network).

Targets (1M-borrower embedded store): page server p50 <= 100 ms, p95 <= 300 ms. The store gets
one audit record per request (run it on a copy you do not mind growing).
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message=".*httpx.*")

from starlette.testclient import TestClient  # noqa: E402

from skiptrace.console import Users, create_app, views  # noqa: E402
from skiptrace.console.users import hash_password  # noqa: E402
from skiptrace.contacts import find  # noqa: E402
from skiptrace.privacy import store_key  # noqa: E402
from skiptrace.store import SQLiteStore  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True, help="a SQLite store (skiptrace load ... --db)")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if not Path(args.db).exists():
        ap.error(f"no store at {args.db}")
    store = SQLiteStore(args.db, create=False)
    ids = [nid.split(":", 1)[1] for ch in store.stream_node_columns("Borrower") for nid in ch.ids]
    rng = random.Random(args.seed)
    sample = rng.sample(ids, min(len(ids), args.queries + args.warmup))
    users = Users({"bench": {"role": "investigator", "password": hash_password("bench")}})
    client = TestClient(create_app(store, users, secret="bench"), follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"csrf": token, "username": "bench",
                                       "password": "bench"}).status_code == 303
    key = store_key(store)
    times: dict[str, list[float]] = {"find": [], "page data": [], "page server": [],
                                     "page request": []}

    def run_find(b: str) -> None:
        t = time.perf_counter()
        find(store, b, limit=20, policy="auto")
        times["find"].append(time.perf_counter() - t)

    def run_data(b: str) -> None:
        t = time.perf_counter()
        views.borrower_page(store, b, key=key, policy="auto")
        times["page data"].append(time.perf_counter() - t)

    def run_request(b: str) -> None:
        t = time.perf_counter()
        r = client.get(f"/borrowers/{b}")
        times["page request"].append(time.perf_counter() - t)
        assert r.status_code == 200, (b, r.status_code)
        times["page server"].append(float(r.headers["server-timing"].split("dur=")[1]) / 1e3)

    measures = [run_find, run_data, run_request]
    for i, b in enumerate(sample):
        # the first measure of a borrower pays its cold reads: rotate who goes first
        for m in measures[i % 3:] + measures[:i % 3]:
            m(b)
        if i + 1 == args.warmup:
            for xs in times.values():
                xs.clear()
    print(f"store {args.db}: {len(ids):,} borrowers; {len(sample) - args.warmup} queries "
          f"(seed {args.seed}, {args.warmup} warm-up)")
    print(f"{'':<14}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for name, xs in times.items():
        print(f"{name:<14}{pct(xs, .5) * 1e3:9.1f}{pct(xs, .95) * 1e3:9.1f}{pct(xs, .99) * 1e3:9.1f}"
              f"{statistics.fmean(xs) * 1e3:9.1f}")
    f50, p50 = pct(times["find"], .5), pct(times["page server"], .5)
    print(f"page server / find at p50: {p50 / f50:.2f}x")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
