"""Load throughput, as ratios against baselines measured in the same run.

    python bench/load.py [--borrowers 100000] [--seed 1] [--store sqlite,neo4j]
                         [--neo4j-uri bolt://...] [--sample 20000] [--phases] [--incremental]

Embedded store: skiptrace's load (validation, normalisation, upserts, one
transaction) against the I/O floor: the same files read with the csv module
and inserted unvalidated with sqlite3 executemany into plain tables, in one
transaction. Target: at least 0.5 of the floor.

Neo4j: skiptrace's batched load (UNWIND ... MERGE) against one auto-commit
MERGE statement per row. The row-at-a-time baseline runs on a sample of
``--sample`` rows per file (it would take hours on the whole world) and the
batched load on the whole world; both are reported as rows/s. Target: at
least 10x. Without --neo4j-uri the script starts its own server with
scripts/neo4j_server.py.

The world is generated once into bench/out/world-<N>-<seed> and reused.
"""
from __future__ import annotations

import argparse
import csv
import gc
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

from skiptrace.ingest import load  # noqa: E402
from skiptrace.store import SQLiteStore, open_store  # noqa: E402


def world_dir(n: int, seed: int) -> Path:
    out = REPO / "bench" / "out" / f"world-{n}-{seed}"
    if not (out / "borrowers.csv").exists():
        from skiptrace.generate import world

        t = time.perf_counter()
        world(n, seed, out)
        print(f"generated {n} borrowers in {time.perf_counter() - t:.1f}s -> {out}")
    return out


def input_files(d: Path) -> list[Path]:
    return sorted(p for p in d.iterdir() if p.suffix == ".csv")


def count_rows(d: Path) -> int:
    n = 0
    for p in input_files(d):
        with open(p, "rb") as f:
            n += sum(1 for _ in f) - 1
    return n


def io_floor(d: Path, db: Path) -> tuple[int, float]:
    """csv.reader + executemany into plain tables, one transaction: the floor."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    t = time.perf_counter()
    rows = 0
    conn.execute("BEGIN")
    for p in input_files(d):
        with open(p, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader)
            table = p.name.split(".")[0]
            conn.execute(f"CREATE TABLE {table} ({', '.join(c + ' TEXT' for c in header)})")
            sql = f"INSERT INTO {table} VALUES ({', '.join('?' * len(header))})"
            before = conn.total_changes
            conn.executemany(sql, reader)
            rows += conn.total_changes - before
    conn.execute("COMMIT")
    secs = time.perf_counter() - t
    conn.close()
    return rows, secs


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_sqlite(d: Path, tmp: Path) -> dict:
    rows, floor_s = io_floor(d, tmp / "floor.db")
    gc.collect()
    store = SQLiteStore(tmp / "skiptrace.db")
    t = time.perf_counter()
    report = load(store, d)
    ours_s = time.perf_counter() - t
    store.close()
    floor_rate, ours_rate = rows / floor_s, report.rows / ours_s
    print(f"sqlite  floor (csv + executemany): {rows:>10,} rows in {floor_s:7.1f}s = {floor_rate:>9,.0f} rows/s")
    print(f"sqlite  skiptrace load           : {report.rows:>10,} rows in {ours_s:7.1f}s = {ours_rate:>9,.0f} rows/s"
          f"  (full phone parses: {report.phones_parsed:,})")
    print(f"sqlite  ratio skiptrace/floor    : {ours_rate / floor_rate:.2f}  (target >= 0.50)")
    print(f"        store file {Path(tmp / 'skiptrace.db').stat().st_size / 2**20:,.0f} MiB, "
          f"peak RSS so far {peak_rss_mib():,.0f} MiB")
    return {"floor": floor_rate, "ours": ours_rate, "ratio": ours_rate / floor_rate}


def phases(d: Path, tmp: Path) -> None:
    """Where an embedded load spends its time: validation alone, then a full
    load with the CPU time of its two threads (parsing and staging; merging
    chunks into the store) and the index rebuild at commit. On two free
    cores the wall time is about the larger thread plus the rebuild."""
    import skiptrace_schema
    from skiptrace.ingest import loader
    from skiptrace.ingest.sources import discover
    from skiptrace.store import sink as sk
    from skiptrace.store import sqlite as sq

    schema = skiptrace_schema.load()
    sources, _ = discover(d, list(schema["files"]))
    store = SQLiteStore(tmp / "phases.db")
    t = time.perf_counter()
    loader._run(store, sources, schema, loader.LoadReport(str(d)), write=False, default_region="CN",
                default_timezone="UTC", allow_extra=False, max_errors=50, batch_rows=50_000,
                progress=None)
    print(f"phases  validate and normalise only : {time.perf_counter() - t:7.1f}s")
    cpu: dict[str, float] = {}
    orig = (sk.Worker._loop, loader._run, sq.SQLiteStore._restore_indexes)

    def loop(self):
        try:
            orig[0](self)
        finally:
            cpu["merge thread"] = cpu.get("merge thread", 0.0) + time.thread_time()

    def run(*a, **k):
        t0 = time.thread_time()
        try:
            return orig[1](*a, **k)
        finally:
            cpu["parse thread"] = time.thread_time() - t0

    def restore(self):
        t0 = time.perf_counter()
        try:
            return orig[2](self)
        finally:
            cpu["index rebuild"] = time.perf_counter() - t0

    sk.Worker._loop, loader._run, sq.SQLiteStore._restore_indexes = loop, run, restore
    try:
        t = time.perf_counter()
        load(store, d)
        total = time.perf_counter() - t
    finally:
        sk.Worker._loop, loader._run, sq.SQLiteStore._restore_indexes = orig
        store.close()
    print(f"phases  full load                   : {total:7.1f}s wall; " +
          ", ".join(f"{k} {v:.1f}s" for k, v in cpu.items()) + " (threads: CPU time)")


def incremental(d: Path, tmp: Path) -> None:
    """A second load into a store that already holds the borrowers: every
    row references a borrower of the store, none of this load."""
    first, rest = tmp / "inc-borrowers", tmp / "inc-rest"
    first.mkdir()
    rest.mkdir()
    for p in input_files(d):
        (first if p.name.startswith("borrowers.") else rest).joinpath(p.name).symlink_to(p.resolve())
    header = (d / "borrowers.csv").open(encoding="utf-8").readline()
    (rest / "borrowers.csv").write_text(header, encoding="utf-8")  # a load needs a borrowers file
    store = SQLiteStore(tmp / "incremental.db")
    load(store, first)
    t = time.perf_counter()
    report = load(store, rest)
    secs = time.perf_counter() - t
    store.close()
    print(f"sqlite  incremental load         : {report.rows:>10,} rows in {secs:7.1f}s = "
          f"{report.rows / secs:>9,.0f} rows/s  (borrowers loaded before, in another load)")


def row_at_a_time(d: Path, uri: str, sample: int) -> tuple[int, float]:
    """One auto-commit MERGE per input row (the naive way), on a sample of each file."""
    from neo4j import GraphDatabase

    from skiptrace.ingest import normalise as nz

    phones = nz.PhoneNormaliser()
    driver = GraphDatabase.driver(uri, auth=None)
    q = {
        "borrowers": "MERGE (b:Borrower {borrower_id: $r.borrower_id}) SET b.status = $r.status",
        "borrower_phones": "MERGE (b:Borrower {borrower_id: $r.borrower_id}) "
                           "MERGE (p:Phone {e164: $r.phone}) MERGE (b)-[:HAS_PHONE]->(p)",
        "borrower_devices": "MERGE (b:Borrower {borrower_id: $r.borrower_id}) "
                            "MERGE (d:Device {device_id: $r.device_id}) MERGE (b)-[:USES_DEVICE]->(d)",
        "emergency_contacts": "MERGE (b:Borrower {borrower_id: $r.borrower_id}) "
                              "MERGE (p:Phone {e164: $r.contact_phone}) "
                              "MERGE (b)-[:LISTS_CONTACT {source: 'emergency'}]->(p)",
        "phonebook": "MERGE (b:Borrower {borrower_id: $r.borrower_id}) "
                     "MERGE (p:Phone {e164: $r.contact_phone}) "
                     "MERGE (b)-[:LISTS_CONTACT {source: 'phonebook'}]->(p)",
        "calls": "MERGE (a:Phone {e164: $r.phone_a}) MERGE (b:Phone {e164: $r.phone_b}) "
                 "MERGE (a)-[:CALLED]->(b)",
    }
    rows = 0
    secs = 0.0
    with driver.session() as s:
        s.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS").consume()
        for p in input_files(d):
            kind = p.name.split(".")[0]
            if kind not in q:
                continue
            with open(p, newline="", encoding="utf-8") as f:
                recs = []
                for i, r in enumerate(csv.DictReader(f)):
                    if i >= sample:
                        break
                    for c in ("phone", "contact_phone", "phone_a", "phone_b"):
                        if r.get(c):
                            r[c] = phones(r[c], "CN")
                    recs.append(r)
            t = time.perf_counter()
            for r in recs:
                s.run(q[kind], r=r).consume()
            secs += time.perf_counter() - t
            rows += len(recs)
    driver.close()
    return rows, secs


def bench_neo4j(d: Path, uri: str | None, sample: int) -> dict:
    server = None
    if uri is None:
        import neo4j_server

        server = neo4j_server.start()
        uri = server.uri
    try:
        base_rows, base_s = row_at_a_time(d, uri, sample)
        store = open_store(neo4j_uri=uri)
        store.clear()
        t = time.perf_counter()
        report = load(store, d)
        ours_s = time.perf_counter() - t
        store.close()
    finally:
        if server is not None:
            server.stop()
    base_rate, ours_rate = base_rows / base_s, report.rows / ours_s
    print(f"neo4j   one MERGE per row        : {base_rows:>10,} rows in {base_s:7.1f}s = {base_rate:>9,.0f} rows/s"
          f"  (sample of {sample:,} rows per file)")
    print(f"neo4j   skiptrace batched load   : {report.rows:>10,} rows in {ours_s:7.1f}s = {ours_rate:>9,.0f} rows/s"
          f"  (validation pass + write pass)")
    print(f"neo4j   ratio batched/row-at-a-time: {ours_rate / base_rate:.1f}x  (target >= 10x)")
    return {"baseline": base_rate, "ours": ours_rate, "ratio": ours_rate / base_rate}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--borrowers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--store", default="sqlite,neo4j")
    ap.add_argument("--neo4j-uri", default=None)
    ap.add_argument("--sample", type=int, default=20_000)
    ap.add_argument("--dir", type=Path, default=None, help="load this directory instead of a generated world")
    ap.add_argument("--phases", action="store_true", help="also time the embedded load's phases")
    ap.add_argument("--incremental", action="store_true",
                    help="also time loading everything but the borrowers into a store that has them")
    args = ap.parse_args()
    d = args.dir or world_dir(args.borrowers, args.seed)
    print(f"world {d}: {count_rows(d):,} input rows in {len(input_files(d))} files")
    stores = args.store.split(",")
    with tempfile.TemporaryDirectory(dir=REPO / "bench" / "out") as tmp:
        if "sqlite" in stores:
            bench_sqlite(d, Path(tmp))
            if args.phases:
                phases(d, Path(tmp))
            if args.incremental:
                incremental(d, Path(tmp))
    if "neo4j" in stores:
        bench_neo4j(d, args.neo4j_uri, args.sample)


if __name__ == "__main__":
    main()
