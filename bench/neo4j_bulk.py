"""Bulk-load a SQLite store into a Neo4j data directory and serve it (shared by the benches).

A large book is first loaded into Neo4j the way production would: ``skiptrace
export --format neo4j-import`` files (``write_import_files``), ``neo4j-admin
database import full`` into a data directory that is kept between runs, a
server on it, then ``apply_schema()`` (constraints and indexes, waiting until
they are online). Each step's wall time and the store size are printed.

    from neo4j_bulk import bulk_import, serve
    manifest = bulk_import(sqlite_store, data_dir, files_dir)   # no-op when data_dir has a database
    server, store = serve(data_dir, manifest=manifest)

Used by bench/find_latency.py and bench/rings.py.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import neo4j_server  # noqa: E402

from skiptrace.neo4j_import import MANIFEST, write_import_files  # noqa: E402
from skiptrace.store import open_store  # noqa: E402


def du(path: Path) -> int:
    """Bytes on disk of the files under ``path`` (allocated blocks: logs may be sparse)."""
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file())


def bulk_import(sqlite, data: Path, files: Path, *, import_heap: str = "2g",
                import_off_heap: str = "6g", keep_files: bool = False) -> dict | None:
    """Export ``sqlite`` to ``files`` (reusing a finished export there) and import it into
    ``data`` unless ``data`` already holds a database. Returns the export's manifest (the
    counts to check the server's against), or None when nothing was imported."""
    data, files = Path(data), Path(files)
    if neo4j_server.has_database(data):
        print(f"  {data} already holds a database: not re-imported")
        return None
    if not (files / MANIFEST).exists():  # no finished export to reuse
        shutil.rmtree(files, ignore_errors=True)
        t = time.perf_counter()
        res = write_import_files(sqlite, files)
        print(f"  export: {sum(res.nodes.values()):,} nodes, "
              f"{sum(res.relationships.values()):,} relationships, "
              f"{sum(res.ledger.values()):,} ledger rows, {res.bytes / 1e9:.2f} GB of CSV "
              f"in {time.perf_counter() - t:.1f}s -> {files}", flush=True)
    manifest = json.loads((files / MANIFEST).read_text("utf-8"))
    imp = neo4j_server.import_files(data, files, heap=import_heap, max_off_heap=import_off_heap)
    print(f"  neo4j-admin database import full: {imp.seconds:.1f}s -> {data}")
    print("    " + imp.summary().replace("\n", "\n    "), flush=True)
    if not keep_files:
        shutil.rmtree(files)
    return manifest


def serve(data: Path, *, pagecache: str = "8g", heap: str = "4g", manifest: dict | None = None):
    """Start a server on ``data``, apply the schema, print its counts (checked against
    ``manifest`` when given) and size; return (server, store)."""
    data = Path(data)
    t = time.perf_counter()
    server = neo4j_server.start(data, pagecache=pagecache, heap=heap, timeout=1800)
    print(f"  server up in {time.perf_counter() - t:.1f}s (page cache {pagecache}, heap {heap}, "
          f"pid {server.process.pid})")
    try:
        store = open_store(neo4j_uri=server.uri)
        t = time.perf_counter()
        store.apply_schema()  # a no-op once the constraints and indexes exist
        print(f"  constraints and indexes online in {time.perf_counter() - t:.1f}s")
        counts = store.counts()
        if manifest is not None:
            same = (counts.nodes, counts.relationships, counts.ledger) == (
                {k: v for k, v in manifest["nodes"].items() if v}, manifest["relationships"],
                manifest["ledger"])
            print(f"  counts equal the exported store's: {same}")
        print(f"  store: {sum(counts.nodes.values()):,} nodes, "
              f"{sum(counts.relationships.values()):,} relationships, "
              f"{sum(counts.ledger.values()):,} ledger nodes; "
              f"{du(data / 'data' / 'databases' / 'neo4j') / 1e9:.2f} GB of store files, "
              f"{du(data / 'data' / 'transactions' / 'neo4j') / 1e9:.2f} GB of transaction logs",
              flush=True)
    except BaseException:
        server.stop(timeout=900)
        raise
    return server, store


def bulk_imported_server(sqlite, data: Path, files: Path, *, pagecache: str = "8g",
                         heap: str = "4g", import_heap: str = "2g", import_off_heap: str = "6g",
                         keep_files: bool = False):
    """:func:`bulk_import` then :func:`serve`; return (server, store)."""
    manifest = bulk_import(sqlite, data, files, import_heap=import_heap,
                           import_off_heap=import_off_heap, keep_files=keep_files)
    return serve(data, pagecache=pagecache, heap=heap, manifest=manifest)


def proc_memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak resident) of a process, in MB, from /proc (empty if gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def reset_peak_rss(pid: int) -> bool:
    """Reset a process's VmHWM to its current RSS (``clear_refs`` 5); False if not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False
