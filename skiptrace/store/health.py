"""Store health: what ``skiptrace doctor`` checks and repairs, and a canonical digest.

:func:`doctor` looks at one store and returns a :class:`Health`: a list of
:class:`Check` results (schema version, constraints and indexes online,
loads running or left unpublished, scratch files of dead loads) and what it
removed. Nothing it removes can hold published data:

- Neo4j: a load is one transaction (:meth:`Neo4jStore.publish`), so an
  unpublished load leaves nothing in the database (the server rolls it back,
  or recovery discards it); doctor reports loads still running (``SHOW
  TRANSACTIONS``) and the last published one;
- SQLite: a load that died leaves its staging directory
  (``.<store file>.stage-*``, :mod:`skiptrace.store.sqlite_bulk`), and its
  unfinished transaction in the WAL, which SQLite rolls back on the next
  open; doctor removes the directories when no load holds the store's write
  lock, and checks the store is in WAL mode (readers read during a load).

:func:`digest` hashes every node, relationship and ledger row of a store in
a canonical order: two stores holding the same data give the same digest,
which is how the fault tests tell "before" from "after" from "partial".
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from skiptrace.store.base import GraphStore

__all__ = ["Check", "Health", "digest", "doctor"]


@dataclass
class Check:
    """One health check: its name, whether it passed, and what was found."""

    name: str
    ok: bool
    detail: str


@dataclass
class Health:
    """The result of :func:`doctor` on one store."""

    store: str
    checks: list[Check] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.store, "ok": self.ok, "checks": [asdict(c) for c in self.checks],
                "removed": self.removed}


def doctor(store: GraphStore, *, repair: bool = True) -> Health:
    """Check ``store`` and (``repair``) remove what dead loads left behind."""
    if store.kind == "neo4j":
        return _neo4j(store)
    return _sqlite(store, repair)


def _neo4j(store: Any) -> Health:
    facts = store.health_facts()
    health = Health(f"neo4j {store.uri}")
    want, have = facts["schema_version_expected"], facts["schema_version"]
    health.checks.append(Check("schema version", have == want,
                               f"{have} (this skiptrace writes {want})" if have is not None
                               else "none: run `skiptrace schema apply` or load"))
    missing = sorted(set(facts["expected"]) - set(facts["online"]) - set(facts["offline"]))
    offline = sorted(facts["offline"])
    detail = f"{len(facts['online'])} of {len(facts['expected'])} online"
    if missing:
        detail += f"; missing: {', '.join(missing)} (run `skiptrace schema apply`)"
    if offline:
        detail += f"; not online: {', '.join(offline)}"
    health.checks.append(Check("constraints and indexes", not missing and not offline, detail))
    dups = facts["duplicate_meta_keys"]
    health.checks.append(Check("metadata keys unique", not dups,
                               "yes" if not dups else f"duplicated: {', '.join(dups)}"))
    running = facts["running_loads"]
    health.checks.append(Check(
        "loads running", True,
        "none" if not running else "; ".join(
            f"load {r['load_id']} since {r['since']} (transaction {r['tx']})" for r in running)))
    last = facts["last_load"]
    health.checks.append(Check("last published load", True,
                               f"{last['id']} at {last['at']}" if last else "none recorded"))
    health.checks.append(Check(
        "unpublished loads", True,
        "none can remain: a load is one transaction, rolled back by the server "
        "(or discarded by its recovery) unless it committed"))
    return health


def _sqlite(store: Any, repair: bool) -> Health:
    health = Health(f"sqlite {store.path}")
    version = store.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    want = str(store.schema["version"])
    health.checks.append(Check("schema version", version is not None and version[0] == want,
                               f"{version[0]} (this skiptrace writes {want})" if version
                               else "none: load into it first"))
    if store.path == ":memory:":
        return health
    path = Path(store.path).resolve()
    stale = sorted(path.parent.glob(f".{path.name}.stage-*"))
    writer = _writer_active(path)
    if stale and repair and not writer:
        for d in stale:
            shutil.rmtree(d, ignore_errors=True)
            health.removed.append(str(d))
        stale = [d for d in stale if d.exists()]
    if writer:
        health.checks.append(Check("loads running", True,
                                   "a writer holds the store's lock (a load is running)"))
    health.checks.append(Check(
        "scratch files of dead loads", not stale,
        "none" if not stale else f"{len(stale)} left: {', '.join(d.name for d in stale)}"
        + (" (a load is running; they may be its own)" if writer else "")))
    # WAL: an unfinished load is rolled back on the next open, and readers read during a load
    mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
    health.checks.append(Check(
        "journal mode", mode == "wal",
        "wal" if mode == "wal" else
        f"{mode}: readers wait for a load; the next open that no one else shares switches it to wal"))
    # the degree table (find's per-hop degree probe): a store of layout 2 has none yet
    kept = store.degrees_kept()
    detail = "kept by every load"
    if not kept and repair and not writer:
        detail = f"built now, in {store.rebuild_degrees():.1f} s"
    elif not kept:
        detail = ("not built (a store made before it existed): degrees are counted, slower "
                  "on hub phones; `skiptrace doctor` without --check-only builds it")
    health.checks.append(Check("degree table", True, detail))
    return health


def _writer_active(path: Path) -> bool:
    """Whether another connection holds the store's write lock (a load is running)."""
    try:
        conn = sqlite3.connect(str(path), timeout=0, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def digest(store: GraphStore) -> str:
    """SHA-256 of every node, relationship and ledger row of ``store`` in a canonical order.

    The audit trail and the store's metadata are left out: reads append to
    the one, and the other holds per-store keys. The whole digest is one
    :meth:`~GraphStore.consistent` read: on Neo4j (read committed, statement
    by statement) a load committing between the node and the relationship
    queries would otherwise give the digest of no state the store was ever in.
    """
    def read() -> str:
        h = hashlib.sha256()

        def put(kind: str, value: Any) -> None:
            h.update(json.dumps([kind, value], sort_keys=True, default=str).encode("utf-8"))
            h.update(b"\n")

        for label in sorted(store.schema["nodes"]):
            for key, props in store.stream_nodes(label):
                put("n", [label, key, props])
        for e in store.stream_edges(ordered=True):
            put("r", [e.type, e.src, e.dst, e.props])
        for table in store.LEDGER_TABLES:
            rows = sorted(json.dumps(r, sort_keys=True, default=str) for r in store.stream_ledger(table))
            for r in rows:
                put(table, r)
        return h.hexdigest()

    return store.consistent(read)
