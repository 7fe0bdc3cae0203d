"""Benchmark `skiptrace generate`: borrowers per second and peak memory.

Each size runs in a fresh child process so that its peak resident set size
(``resource.getrusage``) is its own. The ratio line compares the larger
worlds' throughput with the smallest one's (linear scaling gives 1.0).

    python bench/generate.py                       # 100k and 1M borrowers
    python bench/generate.py --sizes 20000 100000 --out /tmp/bench-gen
    python bench/generate.py --sizes 100000 --preset legacy    # the world before the realism knobs
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def child(n: int, seed: int, out: Path, preset: str) -> None:
    from skiptrace.generate import world

    t0 = time.perf_counter()
    summary = world(n, seed, out, preset=preset)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    sizes = {str(p.relative_to(out)): p.stat().st_size for p in sorted(out.rglob("*.csv"))}
    print(json.dumps({"n": n, "seconds": seconds, "peak_mb": peak_mb, "counts": summary.counts, "bytes": sizes,
                      "realised": summary.realised}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("/tmp/skiptrace-bench-generate"))
    ap.add_argument("--preset", choices=["default", "legacy"], default="default")
    ap.add_argument("--keep", action="store_true", help="keep the generated worlds")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.seed, args.out, args.preset)
        return
    results = []
    for n in args.sizes:
        out = args.out / f"n{n}"
        proc = subprocess.run([sys.executable, __file__, "--child", str(n), "--seed", str(args.seed), "--out", str(out),
                               "--preset", args.preset],
                              check=True, capture_output=True, text=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(r)
        total_rows = sum(r["counts"].values())
        total_mb = sum(r["bytes"].values()) / 2**20
        print(f"{n:>10,} borrowers  {r['seconds']:8.1f} s  {n / r['seconds']:>10,.0f} borrowers/s  "
              f"peak RSS {r['peak_mb']:8.0f} MiB  {total_rows:>13,} rows  {total_mb:9.1f} MiB on disk")
        for name, rows in r["counts"].items():
            size = r["bytes"].get(name if name.startswith("truth/") else f"{name}", r["bytes"].get(f"{name}.csv", 0))
            size = r["bytes"].get(f"{name}.csv", size)
            print(f"    {name:<26} {rows:>13,} rows  {size / 2**20:9.1f} MiB")
        print("    realised: " + json.dumps(r["realised"]))
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    base = results[0]["n"] / results[0]["seconds"]
    for r in results[1:]:
        print(f"throughput ratio {r['n']:,} vs {results[0]['n']:,}: {(r['n'] / r['seconds']) / base:.2f}")


if __name__ == "__main__":
    main()
