"""What SQLite alone costs to build the graph from already-staged rows.

    python bench/sqlite_merge.py [--borrowers 100000] [--seed 1]

Stages the world's phonebook rows as skiptrace's loader does (one plain
table, ids prefixed, values shared by every row left out), then times each
set-wise step of the store's merge on its own, the way the store's layout
needs them: end-node inserts (source, target), the relationship upsert in
key order into the clustered table, and the dst index build. Prints
microseconds per row next to the floor's cost per row (csv reading plus an
unvalidated executemany into a plain table) measured in the same run. It
shows how much of an embedded load no Python speed-up can remove.
"""
from __future__ import annotations

import argparse
import csv
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from load import world_dir  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--borrowers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    src = world_dir(args.borrowers, args.seed) / "phonebook.csv"
    with tempfile.TemporaryDirectory(dir=REPO / "bench" / "out") as tmp:
        c = sqlite3.connect(Path(tmp) / "merge.db", isolation_level=None)
        c.execute("PRAGMA synchronous = NORMAL")
        c.execute("PRAGMA cache_size = -262144")  # as SQLiteStore
        c.execute("PRAGMA temp_store = FILE")
        c.execute("BEGIN")
        c.execute("CREATE TABLE floor (borrower_id, contact_phone, contact_name, captured_at)")
        t = time.perf_counter()
        with open(src, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            next(reader)
            c.executemany("INSERT INTO floor VALUES (?, ?, ?, ?)", reader)
        floor = time.perf_counter() - t
        n = c.execute("SELECT count(*) FROM floor").fetchone()[0]
        steps: list[tuple[str, str]] = [
            ("stage (SQL, not timed against the floor)",
             "CREATE TABLE st AS SELECT 'Borrower:' || borrower_id AS src, 'Phone:' || contact_phone "
             "AS dst, captured_at, contact_name AS name FROM floor"),
            ("end nodes: sources", "INSERT INTO node SELECT src, 'Borrower' FROM st WHERE true "
                                   "ON CONFLICT (id) DO NOTHING"),
            ("end nodes: targets", "INSERT INTO node SELECT dst, 'Phone' FROM st WHERE true "
                                   "ON CONFLICT (id) DO NOTHING"),
            ("relationship upsert in key order",
             "INSERT INTO edge SELECT src, 'LISTS_CONTACT', dst, 'phonebook', captured_at, NULL, name, "
             "NULL, 'phonebook' FROM st WHERE true ORDER BY src, dst, rowid "
             "ON CONFLICT (type, src, dst, ident) DO UPDATE SET "
             "captured_at = max(coalesce(excluded.captured_at, captured_at), "
             "coalesce(captured_at, excluded.captured_at)), name = coalesce(excluded.name, name)"),
            ("dst index", "CREATE INDEX edge_dst ON edge (type, dst, src)"),
        ]
        c.execute("CREATE TABLE node (id TEXT PRIMARY KEY, label TEXT) WITHOUT ROWID")
        c.execute("CREATE TABLE edge (src TEXT NOT NULL, type TEXT NOT NULL, dst TEXT NOT NULL, "
                  "ident TEXT NOT NULL, captured_at, listed_at, name, relation, source, "
                  "PRIMARY KEY (type, src, dst, ident)) WITHOUT ROWID")
        print(f"{n:,} phonebook rows of {src.parent.name}")
        print(f"  {'floor: csv + executemany into a plain table':<45} {1e6 * floor / n:5.2f} us/row")
        graph = 0.0
        for name, sql in steps:
            t = time.perf_counter()
            c.execute(sql)
            secs = time.perf_counter() - t
            if not name.startswith("stage"):
                graph += secs
            print(f"  {name:<45} {1e6 * secs / n:5.2f} us/row")
        c.execute("COMMIT")
        print(f"  {'SQLite graph building in all':<45} {1e6 * graph / n:5.2f} us/row "
              f"({graph / floor:.1f}x the floor)")


if __name__ == "__main__":
    main()
