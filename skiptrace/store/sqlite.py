"""The embedded default store: one SQLite file, no server.

Layout (generated from graph_schema/schema.toml, so a new property is a
schema edit, not a code edit):

- ``node(id, label, <every node property>)``: ``id`` is ``"Label:key"``;
  a WITHOUT ROWID table, so lookups by id are one B-tree probe and the
  nodes of one label are one key range.
- ``edge(type, src, dst, ident, <every relationship property>)``: clustered
  by ``(type, src, dst, ident)`` with a second index on ``(type, dst, src)``,
  so a node's edges in either direction are one index range per type, and
  each relationship type is one contiguous key range (a bulk load of a type
  appends instead of splitting pages all over the tree).
- ``attempt`` and ``payment``: the per-borrower ledger.
- ``meta``: the schema version, the layout and the pseudonym key
  (:mod:`skiptrace.privacy`).

The audit trail (append-only: triggers refuse updates and deletes) lives in
a companion file, ``<store>-audit``, that belongs to the store: a lookup
appends its record there without the store's write lock, so ``find`` does
not wait for a running load. A store made before keeps its old ``audit``
table, which is read together with the companion.

Concurrency: the store is in WAL journal mode, so readers keep reading the
last committed state while a load (one transaction) runs, and never see a
part of it. Writers take turns through a lock file
(:mod:`skiptrace.store.sqlite_lock`): a second writer waits up to
:attr:`SQLiteStore.write_wait` seconds, then fails saying which command has
held the store since when.

Upserts are ``INSERT ... ON CONFLICT DO UPDATE`` statements whose SET clause
implements the schema's merge rules (set / min / max), so a re-load is
idempotent and a newer load moves ``last_seen`` forward.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from skiptrace.errors import StoreError
from skiptrace.privacy import KEY_META, new_key
from skiptrace.store.sink import BatchSink
from skiptrace.store.sqlite_lock import WriterLock, busy_message
from skiptrace.store.base import (
    AUDIT_COLUMNS, AUDIT_TABLE, Batch, Counts, Edge, EdgeChunk, EdgeFilter, GraphStore, Ledger, NodeChunk,
    Props, _check_where, node_id, split_id,
)

_SQL_TYPE = {"str": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "INTEGER", "json": "TEXT"}
_ATTEMPT_COLS = ["attempt_id", "borrower_id", "channel", "at", "target_phone",
                 "target_role", "connected", "outcome", "script", "propensity"]
_ATTEMPT_TYPES = {"script": "str", "propensity": "float"}  # optional columns added since layout 2
_PAYMENT_COLS = ["borrower_id", "paid_at", "amount"]
_ATTEMPT_CONFLICT = (" ON CONFLICT (attempt_id) DO UPDATE SET "
                     + ", ".join(f"{c} = coalesce(excluded.{c}, {c})" for c in _ATTEMPT_COLS[1:]))
log = logging.getLogger(__name__)
T = TypeVar("T")
LAYOUT = "3"  # the table layout below; a store file of another layout is refused
#: older layouts this one opens, upgrading them in place: "2" had no degree table (it
#: is created empty and unbuilt; degrees are counted until it is built). The layout
#: number changes so that a skiptrace that does not keep the degree table refuses
#: the store rather than leave the table stale.
_UPGRADES = {"2"}
_CHUNK = 500  # ids per IN (...) list of node keys, well under SQLite's variable limit
DEGREE_META = "degree_table"  # meta key: "complete" while the degree table is exact
_EDGE_CHUNK = 64  # ids per edge lookup: past ~100, the planner may prefer a range scan
AUDIT_SUFFIX = "-audit"  # the companion file of the audit trail
_BUSY_MS = 5000  # how long a statement waits for a lock held by another connection
_AUDIT_DDL = """
    CREATE TABLE IF NOT EXISTS audit (audit_id TEXT PRIMARY KEY, at TEXT NOT NULL,
        actor TEXT, command TEXT, subjects TEXT, revealed INTEGER, purpose TEXT);
    CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
    CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""


def _merge_sql(col: str, rule: str) -> str:
    if rule == "min":
        return f"{col} = min(coalesce(excluded.{col}, {col}), coalesce({col}, excluded.{col}))"
    if rule == "max":
        return f"{col} = max(coalesce(excluded.{col}, {col}), coalesce({col}, excluded.{col}))"
    return f"{col} = coalesce(excluded.{col}, {col})"


def _literal(value: object) -> str:
    """An SQL literal for a fixed property value (str, number, bool or None)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _as_list(v: object) -> list[str]:
    """A schema ``from`` / ``to`` (one label or a list of them) as a list."""
    if v is None:
        return []
    return [v] if isinstance(v, str) else list(v)


def _chunks(seq: list, n: int = _CHUNK) -> Iterator[list]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


class Stage:
    """Plain staging tables for batches, on one connection and in one schema.

    One table per node label (``n_<Label>``), per relationship type and set
    of fixed values (``e_<TYPE>``, ``e_<TYPE>__<k>``; see
    :attr:`~skiptrace.store.base.EdgeList.fixed`) and per ledger table
    (``a_attempt``, ``p_payment``), filled with plain ``executemany``:
    no keys, no constraints. :meth:`tables` lists them for
    :meth:`SQLiteStore._merge_tables`. The store stages its own writes in
    ``temp``; the chunked bulk sink (:mod:`skiptrace.store.sqlite_bulk`)
    stages into a scratch file.
    """

    def __init__(self, store: "SQLiteStore", conn: sqlite3.Connection, schema: str) -> None:
        self.store, self.conn, self.schema = store, conn, schema
        self.rows = 0  # rows staged since the last merge
        self._inserts: dict[str, str] = {}  # table -> its INSERT statement
        self._meta: dict[str, tuple[str, str, Props]] = {}  # table -> (kind, name, fixed)
        self._variants: dict[tuple, int] = {}  # (type, fixed values) -> table suffix

    def _insert(self, table: str, kind: str, name: str, fixed: Props, cols: list[str] | tuple[str, ...]
                ) -> str:
        sql = self._inserts.get(table)
        if sql is None:
            qualified = f"{self.schema}.{table}"
            self.conn.execute(f"DROP TABLE IF EXISTS {qualified}")
            self.conn.execute(f"CREATE TABLE {qualified} ({', '.join(cols)})")
            sql = self._inserts[table] = f"INSERT INTO {qualified} VALUES ({', '.join('?' * len(cols))})"
            self._meta[table] = (kind, name, fixed)
        return sql

    def add(self, batch: Batch) -> None:
        cur = self.conn.cursor()
        for label, rows in batch.nodes.items():
            if rows:
                cols = self.store._node_sql[label][0]
                sql = self._insert(f"n_{label}", "n", label, {}, ["key", *cols])
                cur.executemany(sql, ((k, *(p.get(c) for c in cols)) for k, p in rows.items()))
        for type_, edges in batch.edges.items():
            if len(edges):
                table = f"e_{type_}"
                if edges.fixed:  # one table per set of fixed values, which the merge fills in
                    key = (type_, tuple(sorted(edges.fixed.items())))
                    table += f"__{self._variants.setdefault(key, len(self._variants))}"
                sql = self._insert(table, "e", type_, edges.fixed, ["src", "dst", *edges.columns])
                cur.executemany(sql, edges.rows)
        if batch.attempts:
            cur.executemany(self._insert("a_attempt", "a", "attempt", {}, _ATTEMPT_COLS),
                            ([a.get(c) for c in _ATTEMPT_COLS] for a in batch.attempts))
        if batch.payments:
            cur.executemany(self._insert("p_payment", "p", "payment", {}, _PAYMENT_COLS),
                            ([p.get(c) for c in _PAYMENT_COLS] for p in batch.payments))
        self.rows += len(batch)

    def tables(self, schema: str | None = None) -> list[tuple[str, str, str, Props]]:
        """``(table, kind, name, fixed)`` of every staging table, the table
        qualified by ``schema`` (default: the one it was made in)."""
        return [(f"{schema or self.schema}.{t}", *self._meta[t]) for t in sorted(self._meta)]

    def forget(self) -> None:
        """After a rollback: the tables made in it are gone, the rows too."""
        self._inserts.clear()
        self._meta.clear()
        self.rows = 0


class SQLiteStore(GraphStore):
    """A graph store in one SQLite file (``:memory:`` works for tests)."""

    kind = "sqlite"
    atomic_load = True
    #: seconds a write transaction (a load) waits for another writer before
    #: failing with "another load is running on STORE (since ...)"
    write_wait: float = 30.0

    def __init__(self, path: str | os.PathLike = "skiptrace.db", *, create: bool = True) -> None:
        super().__init__()
        self.path = str(path)
        if self.path != ":memory:" and not create and not Path(self.path).exists():
            raise StoreError(f"no store at {self.path} (run `skiptrace load DIR` first, "
                             "or point --db / SKIPTRACE_DB at one)")
        if self.path != ":memory:":
            parent = Path(self.path).resolve().parent
            if not parent.is_dir():
                raise StoreError(f"cannot open store {self.path}: directory {parent} does not exist")
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                        timeout=_BUSY_MS / 1000)
            self._use_wal()
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA cache_size = -262144")  # 256 MiB
            self.conn.execute("PRAGMA temp_store = FILE")  # staging spills to disk, not RAM
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from None
        self._in_tx = False
        self._in_snapshot = False
        self._audit_conn: sqlite3.Connection | None = None
        self._writer = WriterLock(self.path) if self.path != ":memory:" else None
        self._after_tx: list[Callable[[], None]] = []
        self._merged_rows = 0        # rows merged in this transaction (for ANALYZE)
        self._dropped_indexes: list[str] = []
        self._degrees_kept: bool | None = None  # the degree table is exact (meta, cached)
        self._degree_rebuild = False  # this transaction rebuilds the degree table at commit
        self._degree_touched = False  # ... or recounts the (type, node) pairs in _deg_touched
        self._node_cols, self._node_types = self._columns("nodes")
        self._edge_cols, self._edge_types = self._columns("relationships")
        self.apply_schema()
        self._node_sql = {label: self._node_upsert(label) for label in self.schema["nodes"]}
        self._edge_sql = {t: self._edge_upsert(t) for t in self.schema["relationships"]}
        self._stage = Stage(self, self.conn, "temp")

    # -- schema --------------------------------------------------------------
    def _columns(self, section: str) -> tuple[list[str], dict[str, str]]:
        types: dict[str, str] = {}
        for spec in self.schema[section].values():
            for prop, p in spec.get("props", {}).items():
                if types.setdefault(prop, p["type"]) != p["type"]:
                    raise StoreError(f"schema: property {prop} has two types in {section}")
        return sorted(types), types

    def apply_schema(self) -> None:
        ncols = "".join(f", {c} {_SQL_TYPE[self._node_types[c]]}" for c in self._node_cols)
        ecols = "".join(f", {c} {_SQL_TYPE[self._edge_types[c]]}" for c in self._edge_cols)
        try:
            self.conn.executescript(f"""
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
                CREATE TABLE IF NOT EXISTS node (id TEXT PRIMARY KEY, label TEXT NOT NULL{ncols})
                    WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS edge (src TEXT NOT NULL, type TEXT NOT NULL,
                    dst TEXT NOT NULL, ident TEXT NOT NULL DEFAULT ''{ecols},
                    PRIMARY KEY (type, src, dst, ident)) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS edge_dst ON edge (type, dst, src);
                CREATE TABLE IF NOT EXISTS degree (type TEXT NOT NULL, node TEXT NOT NULL,
                    n INTEGER NOT NULL, PRIMARY KEY (type, node)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS attempt (attempt_id TEXT PRIMARY KEY,
                    borrower_id TEXT NOT NULL, channel TEXT NOT NULL, at TEXT NOT NULL,
                    target_phone TEXT, target_role TEXT, connected INTEGER, outcome TEXT,
                    script TEXT, propensity REAL);
                CREATE INDEX IF NOT EXISTS attempt_borrower ON attempt (borrower_id, at);
                CREATE TABLE IF NOT EXISTS payment (borrower_id TEXT NOT NULL,
                    paid_at TEXT NOT NULL, amount REAL NOT NULL,
                    PRIMARY KEY (borrower_id, paid_at, amount)) WITHOUT ROWID;
            """ + (_AUDIT_DDL if self.path == ":memory:" else ""))
            self._add_missing_columns("node", self._node_cols, self._node_types)
            self._add_missing_columns("edge", self._edge_cols, self._edge_types)
            self._add_missing_columns("attempt", list(_ATTEMPT_TYPES), _ATTEMPT_TYPES)
            for key, want in (("schema_version", str(self.schema["version"])),
                              ("sqlite_layout", LAYOUT)):
                row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
                if row is None:
                    self.conn.execute("INSERT INTO meta VALUES (?, ?)", (key, want))
                elif row[0] != want and key == "sqlite_layout" and row[0] in _UPGRADES:
                    self.conn.execute("UPDATE meta SET value = ? WHERE key = ?", (want, key))
                elif row[0] != want:
                    raise StoreError(f"store {self.path} has {key} {row[0]}, this skiptrace "
                                     f"needs {want}: load the data into a new store")
            if self.get_meta(KEY_META) is None:  # a new store gets its pseudonym key
                self.put_meta(KEY_META, new_key(), replace=False)
            if self.get_meta(DEGREE_META) is None and not self.conn.execute(
                    "SELECT 1 FROM edge LIMIT 1").fetchone():
                # no relationships yet: the (empty) degree table is complete, and every
                # write keeps it so; a store made before it existed counts until
                # rebuild_degrees() (``skiptrace doctor``) or a bulk load builds it
                self.put_meta(DEGREE_META, "complete", replace=False)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot use store {self.path}: {exc}") from None

    def _add_missing_columns(self, table: str, cols: list[str], types: dict[str, str]) -> None:
        """Let a store made by an older skiptrace gain properties added since."""
        have = {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}
        for c in cols:
            if c not in have:
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {c} {_SQL_TYPE[types[c]]}")

    def _upsert_clause(self, props: dict[str, dict[str, str]], key: str) -> tuple[list[str], str]:
        """Property columns and the ON CONFLICT clause implementing their merge rules."""
        cols = sorted(props)
        if not cols:
            return cols, f" ON CONFLICT ({key}) DO NOTHING"
        sets = ", ".join(_merge_sql(c, props[c].get("merge", "set")) for c in cols)
        return cols, f" ON CONFLICT ({key}) DO UPDATE SET {sets}"

    def _node_upsert(self, label: str) -> tuple[list[str], str]:
        return self._upsert_clause(self.node_props(label), "id")

    def _edge_upsert(self, type_: str) -> tuple[list[str], str]:
        return self._upsert_clause(self.rel_props(type_), "type, src, dst, ident")

    # -- lifecycle -------------------------------------------------------------
    def _use_wal(self) -> None:
        """WAL journal mode (persistent in the file): readers see the last
        committed state while a writer runs, instead of "database is locked".
        A store made before in rollback mode is switched on first open; if
        another process has it open right then, it stays as it is until the
        next open."""
        if self.path == ":memory:":
            return
        try:
            mode = self.conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal":
                self.conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:  # locked by another process: next time
            log.debug("journal mode of %s left as it is: %s", self.path, exc)
        # after a big load, the next checkpoint shrinks the WAL file back to this
        self.conn.execute("PRAGMA journal_size_limit = 67108864")

    def close(self) -> None:
        if self._in_snapshot:
            self._end_snapshot()
        if self._audit_conn is not None and self._audit_conn is not self.conn:
            self._audit_conn.close()
        self._audit_conn = None
        self.conn.close()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read one committed state throughout: every read inside sees the
        store as it was at the first one, even if a load commits meanwhile
        (a read-only command runs in one). A write transaction started inside
        ends the snapshot first."""
        if self._in_tx or self._in_snapshot:
            yield
            return
        self.conn.execute("BEGIN")
        self.conn.execute("SELECT 1 FROM meta LIMIT 1").fetchall()  # the read starts here
        self._in_snapshot = True
        try:
            yield
        finally:
            self._end_snapshot()

    def consistent(self, read: Callable[[], T]) -> T:
        """Run ``read`` inside :meth:`snapshot` (a WAL read transaction): all
        its queries see the state committed when the first ran, once. Nested
        calls, or a call inside a snapshot or a write transaction, join it."""
        with self.snapshot():
            return read()

    def _end_snapshot(self) -> None:
        if self._in_snapshot:
            self._in_snapshot = False
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")

    def clear(self) -> None:
        with self.transaction():
            self._merge()
            for table in ("node", "edge", "attempt", "payment", "degree"):
                self.conn.execute(f"DELETE FROM {table}")
            self._forget_degrees()
            self.put_meta(DEGREE_META, "complete")
            self._degrees_kept = True

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_tx:  # nested: the outer transaction decides
            yield
            return
        self._end_snapshot()
        self._begin_write()
        self._in_tx = True
        merged = 0
        try:
            yield
            self._merge()
            merged = self._merged_rows
            self._restore_indexes()
            self._settle_degrees()
        except BaseException:
            self.conn.execute("ROLLBACK")
            self._stage.forget()
            self._merged_rows = 0
            self._dropped_indexes = []
            self._forget_degrees()
            raise
        else:
            self.conn.execute("COMMIT")
            if merged >= self.BULK_ROWS:  # a load: move its pages into the file, shrink the WAL
                self._checkpoint()
        finally:
            self._in_tx = False
            hooks, self._after_tx = self._after_tx, []
            try:
                for hook in hooks:
                    hook()
            finally:
                if self._writer is not None:
                    self._writer.release()

    def _begin_write(self) -> None:
        """BEGIN IMMEDIATE after taking the writer lock, both within
        :attr:`write_wait` seconds."""
        wait = max(0.0, float(self.write_wait))
        started = time.monotonic()
        if self._writer is not None:
            self._writer.acquire(wait)
        left = max(0.0, wait - (time.monotonic() - started))
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {int(left * 1000)}")
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # a writer that does not take our lock
            if self._writer is not None:
                self._writer.release()
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(busy_message(self.path, wait)) from None
            raise StoreError(f"cannot write to store {self.path}: {exc}") from None
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")

    def _checkpoint(self) -> None:
        """Copy the WAL into the store file as far as readers allow, without
        waiting for them (the next writer's checkpoint does the rest)."""
        if self.path == ":memory:":
            return
        try:
            self.conn.execute("PRAGMA busy_timeout = 0")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error as exc:  # pragma: no cover - a checkpoint is an optimisation
            log.debug("checkpoint of %s: %s", self.path, exc)
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")

    def after_transaction(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once the open transaction ends (committed or not)."""
        self._after_tx.append(hook)

    def sink(self, total_bytes: int = 0) -> BatchSink:
        """Inside a transaction, a chunked sink: the caller's thread stages
        rows into scratch files, a background thread merges them (see
        :mod:`skiptrace.store.sqlite_bulk`); otherwise the default."""
        if not self._in_tx:
            return super().sink(total_bytes)
        from skiptrace.store.sqlite_bulk import ChunkSink

        return ChunkSink(self, total_bytes)

    # -- writes ------------------------------------------------------------------
    #
    # Inside a transaction, writes go to TEMP staging tables with plain
    # executemany (no constraint checks, no random B-tree inserts); the stage
    # is merged into the real tables in key order with one set-based
    # INSERT ... SELECT ... ON CONFLICT per kind, on flush() (the loader calls
    # it after each file), when it grows past STAGE_ROWS, before any read,
    # and at commit. Loading into an empty store
    # also drops the secondary indexes and rebuilds them once at the end.

    STAGE_ROWS = 8_000_000
    #: a merge of this many rows is a bulk load: drop the dst index if the
    #: merge is as large as the table (rebuild it later), and ANALYZE at commit
    BULK_ROWS = 50_000

    def flush(self) -> None:
        self._merge()

    def write(self, batch: Batch) -> None:
        if batch.audit:  # a few rows, appended at once to the companion file, never staged
            self._append_audit(batch.audit)
        if len(batch) == len(batch.audit):
            return
        with self.transaction():
            self._stage.add(batch)
            if self._stage.rows >= self.STAGE_ROWS:
                self._merge()

    # -- the audit trail (a companion file) ---------------------------------
    def _audit(self, create: bool) -> sqlite3.Connection | None:
        """The connection to the audit trail; None if there is none yet and
        not ``create``. ``:memory:`` keeps it in the store's own connection."""
        if self.path == ":memory:":
            return self.conn
        if self._audit_conn is None:
            path = self.path + AUDIT_SUFFIX
            if not create and not Path(path).exists():
                return None
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                   timeout=_BUSY_MS / 1000)
            try:
                if create:
                    conn.execute("PRAGMA journal_mode = WAL")
                    conn.executescript(_AUDIT_DDL)
            except BaseException:
                conn.close()
                raise
            self._audit_conn = conn
        return self._audit_conn

    def _append_audit(self, rows: list[Props]) -> None:
        """Append audit rows in one transaction of their own, durable before
        this returns (the caller shows nothing until then)."""
        try:
            conn = self._audit(create=True)
            assert conn is not None
            if conn is not self.conn:
                conn.execute("PRAGMA synchronous = FULL")
            conn.executemany(f"INSERT INTO audit ({', '.join(AUDIT_COLUMNS)}) "
                             f"VALUES ({', '.join('?' * len(AUDIT_COLUMNS))})",
                             ([r.get(c) for c in AUDIT_COLUMNS] for r in rows))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot append to the audit trail {self.path + AUDIT_SUFFIX}: "
                             f"{exc}") from None

    def _audit_rows(self) -> Iterator[tuple]:
        """Every audit row: the companion file's, and those of the main
        file's ``audit`` table that a store made before the companion holds."""
        seen: set[str] = set()
        select = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit"
        conn = self._audit(create=False)
        if conn is not None:
            for row in conn.execute(select):
                seen.add(row[0])
                yield row
        if conn is not self.conn and self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit'").fetchone():
            for row in self.conn.execute(select):
                if row[0] not in seen:
                    yield row

    def _merge(self) -> None:
        """Move staged rows into the real tables (inside the open transaction)."""
        if not self._stage.rows:
            return
        self._merge_tables(self._stage.tables(), self._stage.rows, delete=True)
        self._stage.rows = 0

    def _merge_tables(self, tables: list[tuple[str, str, str, Props]], rows: int, *,
                      delete: bool) -> None:
        """Merge staging tables ``(table, kind, name, fixed)`` into the real
        ones: kind ``n`` holds nodes of label ``name``, ``e`` relationships of
        type ``name`` (without the columns whose value is in ``fixed``, see
        :class:`~skiptrace.store.base.EdgeList`), ``a`` contact attempts and
        ``p`` payments. ``rows`` is how
        many rows they hold in all (it decides whether to drop the secondary
        index and rebuild it at commit)."""
        if not self._dropped_indexes and rows >= self.BULK_ROWS:
            # maintaining the dst index row by row costs a random B-tree insert
            # per edge; when the stage is as large as the table, rebuilding the
            # index once at commit (one sort) is cheaper
            existing = self.conn.execute("SELECT count(*) FROM edge").fetchone()[0]
            if rows >= existing:
                self.conn.execute("DROP INDEX IF EXISTS edge_dst")
                self._dropped_indexes = ["edge_dst"]
                self._degree_rebuild = True  # as large as the table: recount all at commit
        for table, kind, name, fixed in tables:
            if self.conn.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})").fetchone()[0]:
                continue
            started = time.perf_counter()
            if kind == "n":
                cols, conflict = self._node_sql[name]
                self.conn.execute(
                    f"INSERT INTO node (id, label{''.join(', ' + c for c in cols)}) "
                    f"SELECT '{name}:' || key, '{name}'{''.join(', ' + c for c in cols)} "
                    f"FROM {table} WHERE true ORDER BY key, rowid{conflict}")
            elif kind == "e":
                self._merge_edges(name, table, fixed)
            elif kind == "a":
                cols = ", ".join(_ATTEMPT_COLS)
                self.conn.execute(f"INSERT INTO attempt ({cols}) SELECT {cols} FROM {table} "
                                  f"WHERE true ORDER BY rowid{_ATTEMPT_CONFLICT}")
            elif kind == "p":
                self.conn.execute(f"INSERT OR IGNORE INTO payment SELECT {', '.join(_PAYMENT_COLS)} "
                                  f"FROM {table}")
            else:  # pragma: no cover
                raise AssertionError(f"unknown staging table kind {kind!r}")
            if delete:
                self.conn.execute(f"DELETE FROM {table}")
            log.debug("merged %s in %.2fs", table, time.perf_counter() - started)
        self._merged_rows += rows

    def _merge_edges(self, type_: str, table: str, fixed: Props) -> None:
        cols, conflict = self._edge_sql[type_]
        expr = {c: _literal(fixed[c]) if c in fixed else c for c in cols}
        ident = self.rel_identity(type_)
        ident_sql = " || char(31) || ".join(f"coalesce({expr[c]}, '')" for c in ident) or "''"
        # end nodes first, so a relationship never points at a missing node
        t0 = time.perf_counter()
        for end in ("src", "dst"):
            self.conn.execute(
                f"INSERT INTO node (id, label) SELECT {end}, "
                f"substr({end}, 1, instr({end}, ':') - 1) FROM {table} WHERE true "
                f"ON CONFLICT (id) DO NOTHING")
        log.debug("  end nodes of %s in %.2fs", type_, time.perf_counter() - t0)
        if not self._degree_rebuild and self._keeps_degrees():
            self._touch(f"SELECT src FROM {table} UNION SELECT dst FROM {table}", type_)
        self.conn.execute(
            f"INSERT INTO edge (src, type, dst, ident{''.join(', ' + c for c in cols)}) "
            f"SELECT src, '{type_}', dst, {ident_sql}{''.join(', ' + expr[c] for c in cols)} "
            f"FROM {table} WHERE true ORDER BY src, dst, 4, rowid{conflict}")

    def _refresh_statistics(self) -> None:
        """Sampled ANALYZE after a bulk merge: without statistics SQLite's
        planner may scan a whole relationship type instead of using an index
        for ``type IN (...) AND src IN (...)`` lookups."""
        self.conn.execute("PRAGMA analysis_limit = 1000")
        self.conn.execute("ANALYZE")

    def _rebuild_indexes(self) -> None:
        """Rebuild the indexes a bulk merge dropped (one sort each)."""
        if self._dropped_indexes:
            log.debug("rebuilding indexes %s", self._dropped_indexes)
            self.conn.execute("CREATE INDEX IF NOT EXISTS edge_dst ON edge (type, dst, src)")
            self._dropped_indexes = []

    def _restore_indexes(self) -> None:
        """At commit: rebuild dropped indexes, then refresh planner statistics
        if this transaction merged many rows."""
        self._rebuild_indexes()
        if self._merged_rows >= self.BULK_ROWS:
            self._refresh_statistics()
        self._merged_rows = 0

    # -- the degree table ----------------------------------------------------------
    #
    # degree (type, node, n): how many relationships of the type start or end at the
    # node (a self-loop counts twice, as the two index counts did). It turns find's
    # per-hop degree probe, a count of an index range (O(degree): a hub phone with 10k
    # calls cost 10k row visits per find), into one seek per (node, type). Kept inside
    # each write transaction: a merge records the (type, node) pairs it touches in a
    # TEMP table and commit recounts them, or, when a merge is as large as the table
    # (a first load), commit rebuilds the table with two ordered GROUP BYs. While the
    # meta flag ``degree_table`` is not "complete" (a store of layout 2), degrees are
    # counted from the relationships, as before.

    def _keeps_degrees(self) -> bool:
        if self._degrees_kept is None:
            self._degrees_kept = self.get_meta(DEGREE_META) == "complete"
        return self._degrees_kept

    def _touch(self, select: str, type_: str, args: Sequence = ()) -> None:
        """Record the nodes ``select`` (one column) gives as touched for ``type_``."""
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS _deg_touched (type TEXT NOT NULL, "
                          "node TEXT NOT NULL, PRIMARY KEY (type, node)) WITHOUT ROWID")
        self.conn.execute(f"INSERT OR IGNORE INTO temp._deg_touched (type, node) "
                          f"SELECT {_literal(type_)}, * FROM ({select})", args)
        self._degree_touched = True

    def _settle_degrees(self) -> None:
        """At commit: bring the degree table up to this transaction's relationships."""
        started = time.perf_counter()
        if self._degree_rebuild:
            self._build_degrees()
            log.debug("degree table rebuilt in %.2fs", time.perf_counter() - started)
        elif self._degree_touched and self._keeps_degrees():
            self.conn.execute("DELETE FROM degree WHERE (type, node) IN "
                              "(SELECT type, node FROM temp._deg_touched)")
            self.conn.execute(
                "INSERT INTO degree (type, node, n) SELECT * FROM (SELECT t.type, t.node, "
                "(SELECT count(*) FROM edge e WHERE e.type = t.type AND e.src = t.node) + "
                "(SELECT count(*) FROM edge e WHERE e.type = t.type AND e.dst = t.node) AS n "
                "FROM temp._deg_touched t) WHERE n > 0")
            log.debug("degrees recounted in %.2fs", time.perf_counter() - started)
        self._forget_degrees()

    def _forget_degrees(self) -> None:
        self._degree_rebuild = self._degree_touched = False
        self.conn.execute("DROP TABLE IF EXISTS temp._deg_touched")

    def _build_degrees(self) -> None:
        """Recount the whole degree table (inside the open transaction): one pass over
        the primary key in (type, src) order, one over the dst index in (type, dst)
        order, so neither sorts."""
        self.conn.execute("DELETE FROM degree")
        self.conn.execute("INSERT INTO degree (type, node, n) "
                          "SELECT type, src, count(*) FROM edge GROUP BY type, src")
        self.conn.execute("INSERT INTO degree (type, node, n) SELECT * FROM "
                          "(SELECT type, dst, count(*) FROM edge GROUP BY type, dst) WHERE true "
                          "ON CONFLICT (type, node) DO UPDATE SET n = n + excluded.n")
        self.put_meta(DEGREE_META, "complete")
        self._degrees_kept = True

    def rebuild_degrees(self) -> float:
        """Build the degree table of a store that lacks it (layout 2) or recount it; one
        write transaction. Returns the seconds it took."""
        started = time.perf_counter()
        with self.transaction():
            self._degree_rebuild = True
        return time.perf_counter() - started

    def degrees_kept(self) -> bool:
        """Whether :meth:`degrees` reads the degree table (else it counts)."""
        self._degrees_kept = None
        return self._keeps_degrees()

    def delete(self, labels: Iterable[str] = (), types: Iterable[str] = ()) -> None:
        labels, types = list(labels), list(types)
        with self.transaction():
            self._merge()
            for t in types:
                self.conn.execute("DELETE FROM edge WHERE type = ?", (t,))
                self.conn.execute("DELETE FROM degree WHERE type = ?", (t,))
            for label in labels:
                lo, hi = label + ":", label + ";"
                if not self._degree_rebuild and self._keeps_degrees():
                    for t in self.schema["relationships"]:  # both ends of what goes
                        self._touch("SELECT src FROM edge WHERE type = ?1 AND ((src > ?2 AND "
                                    "src < ?3) OR (dst > ?2 AND dst < ?3)) UNION SELECT dst FROM "
                                    "edge WHERE type = ?1 AND ((src > ?2 AND src < ?3) OR "
                                    "(dst > ?2 AND dst < ?3))", t, (t, lo, hi))
                self.conn.execute("DELETE FROM edge WHERE (src > ? AND src < ?) OR (dst > ? AND dst < ?)",
                                  (lo, hi, lo, hi))
                self.conn.execute("DELETE FROM node WHERE id > ? AND id < ?", (lo, hi))

    def put_meta(self, name: str, value: str, *, replace: bool = True) -> str:
        conflict = "DO UPDATE SET value = excluded.value" if replace else "DO NOTHING"
        self.conn.execute(f"INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) {conflict}",
                          (name, str(value)))
        got = self.get_meta(name)
        assert got is not None
        return got

    def get_meta(self, name: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (name,)).fetchone()
        return None if row is None else row[0]

    # -- reads -------------------------------------------------------------------
    def counts(self) -> Counts:
        self._merge()
        nodes = dict(self.conn.execute("SELECT label, count(*) FROM node GROUP BY label"))
        rels = dict(self.conn.execute("SELECT type, count(*) FROM edge GROUP BY type"))
        ledger = {}
        for table, name in (("attempt", "contact_attempts"), ("payment", "payments")):
            n = self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if n:
                ledger[name] = n
        return Counts(nodes=nodes, relationships=rels, ledger=ledger)

    def existing_keys(self, label: str, keys: Iterable[str]) -> set[str]:
        self._merge()
        ids = [node_id(label, k) for k in dict.fromkeys(keys)]
        found: set[str] = set()
        for part in _chunks(ids):
            q = f"SELECT id FROM node WHERE id IN ({', '.join('?' * len(part))})"
            found.update(split_id(r[0])[1] for r in self.conn.execute(q, part))
        return found

    def _node_props(self, row: sqlite3.Row | tuple, names: list[str]) -> tuple[str, Props]:
        nid, label = row[0], row[1]
        props: Props = {self.node_key_prop(label): split_id(nid)[1]}
        for name, value in zip(names[2:], row[2:]):
            if value is not None:
                props[name] = bool(value) if self._node_types[name] == "bool" else value
        return nid, props

    def get_nodes(self, ids: Iterable[str]) -> dict[str, Props]:
        self._merge()
        ids = list(dict.fromkeys(ids))
        names = ["id", "label", *self._node_cols]
        out: dict[str, Props] = {}
        for part in _chunks(ids):
            q = f"SELECT {', '.join(names)} FROM node WHERE id IN ({', '.join('?' * len(part))})"
            for row in self.conn.execute(q, part):
                nid, props = self._node_props(row, names)
                out[nid] = props
        return out

    def stream_nodes(self, label: str) -> Iterator[tuple[str, Props]]:
        self._merge()
        names = ["id", "label", *self._node_cols]
        # ids are "Label:key", so one label is one range of the primary key
        q = f"SELECT {', '.join(names)} FROM node WHERE id > ? AND id < ? ORDER BY id"
        for row in self.conn.execute(q, (label + ":", label + ";")):
            nid, props = self._node_props(row, names)
            yield split_id(nid)[1], props

    def _edge(self, row: tuple) -> Edge:
        props: Props = {}
        for name, value in zip(self._edge_cols, row[3:]):
            if value is not None:
                props[name] = bool(value) if self._edge_types[name] == "bool" else value
        return Edge(row[1], row[0], row[2], props)

    def _type_filter(self, types: Iterable[str] | None) -> tuple[str, list[str]]:
        """``AND type IN (...)``: always present (all types when None), since
        type leads both edge indexes."""
        tl = list(self.schema["relationships"]) if types is None else list(types)
        return f" AND type IN ({', '.join('?' * len(tl))})", tl

    def degrees(self, ids: Iterable[str], types: Iterable[str] | None = None) -> dict[str, int]:
        """Per node, one count of an index range per relationship type that can touch it in
        each direction.

        A node's label says which types can start or end at it (the schema's ``from`` and
        ``to``): a phone is the source of CALLED only, an address the target of LIVES_AT and
        WORKS_AT only. Where the stored relationships of a type keep to its endpoint labels
        (checked on every call with a few index seeks, :meth:`_keeps_to_labels`), the other
        types are not probed for that node: the counts are the same, at a quarter of the
        probes for a phone. A type whose rows do not keep to them is probed for every node."""
        self._merge()
        tl = list(dict.fromkeys(self.schema["relationships"] if types is None else types))
        if self._keeps_degrees() and not (self._degree_rebuild or self._degree_touched):
            return self._table_degrees(ids, tl)
        rels = self.schema["relationships"]
        keeps = self._keeps_to_labels(tl)
        by_label: dict[str, list[str]] = {}
        for n in dict.fromkeys(ids):
            by_label.setdefault(n.partition(":")[0], []).append(n)
        out: dict[str, int] = {}
        for label, members in by_label.items():
            probes = [(col, t) for col, end in (("src", "from"), ("dst", "to")) for t in tl
                      if not keeps.get((t, col)) or label in _as_list(rels.get(t, {}).get(end))]
            if not probes:
                continue
            # one count of an index range per probe, summed per node: no sort of the rows
            # counted (a UNION ALL of the rows and a GROUP BY cost twice as much)
            expr = " + ".join(f"(SELECT count(*) FROM edge WHERE type = ? AND {col} = v.column1)"
                              for col, _ in probes)
            targs = [t for _, t in probes]
            for part in _chunks(members):
                q = f"SELECT column1, {expr} FROM (VALUES {', '.join(['(?)'] * len(part))}) AS v"
                out.update((n, c) for n, c in self.conn.execute(q, [*targs, *part]) if c)
        return out

    def _table_degrees(self, ids: Iterable[str], types: list[str]) -> dict[str, int]:
        """:meth:`degrees` from the degree table: one seek per (type, node)."""
        out: dict[str, int] = {}
        if not types:
            return out
        tmarks = ", ".join("?" * len(types))
        for part in _chunks(list(dict.fromkeys(ids))):
            q = (f"SELECT node, sum(n) FROM degree WHERE type IN ({tmarks}) "
                 f"AND node IN ({', '.join('?' * len(part))}) GROUP BY node")
            out.update(self.conn.execute(q, [*types, *part]))
        return out

    def _keeps_to_labels(self, types: list[str]) -> dict[tuple[str, str], bool]:
        """``{(type, "src"|"dst"): True}`` where no stored relationship of the type has an
        end of that side outside the schema's labels for it (ids are ``Label:key``, so the
        ids of one label are one key range, and each gap between the allowed ranges is one
        index seek)."""
        out: dict[tuple[str, str], bool] = {}
        rels = self.schema["relationships"]
        for t in types:
            spec = rels.get(t)
            if spec is None:
                continue
            for col, end in (("src", "from"), ("dst", "to")):
                labels = sorted(_as_list(spec.get(end)))
                if not labels:
                    continue
                bounds = [None] + [b for lb in labels for b in (lb + ":", lb + ";")] + [None]
                ok = True
                for lo, hi in zip(bounds[0::2], bounds[1::2]):
                    cond = " AND ".join(c for c in (f"{col} >= ?" if lo else "",
                                                    f"{col} < ?" if hi else "") if c)
                    args = [t, *(x for x in (lo, hi) if x)]
                    if self.conn.execute(f"SELECT 1 FROM edge WHERE type = ? AND {cond} LIMIT 1",
                                         args).fetchone():
                        ok = False
                        break
                out[(t, col)] = ok
        return out

    def incident_edges(self, ids: Iterable[str], types: Iterable[str] | None = None) -> list[Edge]:
        self._merge()
        tsql, targs = self._type_filter(types)
        cols = ", ".join(["src", "type", "dst", *self._edge_cols])
        seen: set[tuple] = set()
        out: list[Edge] = []
        for part in _chunks(list(dict.fromkeys(ids)), _EDGE_CHUNK):
            marks = ", ".join("?" * len(part))
            q = (f"SELECT {cols}, ident FROM edge WHERE src IN ({marks}){tsql} UNION ALL "
                 f"SELECT {cols}, ident FROM edge WHERE dst IN ({marks}){tsql}")
            for row in self.conn.execute(q, [*part, *targs, *part, *targs]):
                key = (row[0], row[1], row[2], row[-1])
                if key not in seen:
                    seen.add(key)
                    out.append(self._edge(row[:-1]))
        return out

    def stream_edges(self, types: Iterable[str] | None = None, *,
                     with_props: bool = True, ordered: bool = False) -> Iterator[Edge]:
        self._merge()
        tsql, targs = self._type_filter(types)
        # the primary key's order: ident holds the identity values, joined
        order = " ORDER BY type, src, dst, ident" if ordered else ""
        if with_props:
            cols = ", ".join(["src", "type", "dst", *self._edge_cols])
            for row in self.conn.execute(f"SELECT {cols} FROM edge WHERE 1=1{tsql}{order}", targs):
                yield self._edge(row)
        else:
            for src, type_, dst in self.conn.execute(
                    f"SELECT src, type, dst FROM edge WHERE 1=1{tsql}{order}", targs):
                yield Edge(type_, src, dst)

    def _columns_sql(self, props: Sequence[str], types: dict[str, str]) -> tuple[str, list[int]]:
        """``, col, ...`` selecting ``props`` (NULL for unknown ones) and the
        positions of the bool columns among them."""
        sql = "".join(f", {p}" if p in types else ", NULL" for p in props)
        return sql, [i for i, p in enumerate(props) if types.get(p) == "bool"]

    @staticmethod
    def _as_bools(col: Sequence) -> list:
        return [None if v is None else bool(v) for v in col]

    def stream_edge_columns(self, types: Iterable[str] | None = None, props: Sequence[str] = (),
                            *, chunk: int = 100_000, where: EdgeFilter | None = None,
                            sources: Collection[str] | None = None) -> Iterator[EdgeChunk]:
        """One plain ``SELECT src, dst, <props>`` per type (a range of the
        primary key), read ``chunk`` rows at a time with ``fetchmany``.
        ``where`` becomes ``AND p IN (...)`` (a scan of the type, in SQL);
        ``sources`` a probe of the primary key ``(type, src)`` per source."""
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        self._merge()
        props = tuple(props)
        allowed = _check_where(where)
        cols, bools = self._columns_sql(props, self._edge_types)
        cond, cargs = "", []
        for p, vals in allowed.items():
            cond += f" AND {p} IN ({', '.join('?' * len(vals))})"
            cargs += sorted(vals, key=repr)
        if sources is not None:
            cond += " AND src IN (SELECT value FROM json_each(?))"
            cargs.append(json.dumps(list(sources)))
        for t in self._known_types(types):
            if any(p not in self.rel_props(t) for p in allowed):
                continue  # the type lacks a filtered property: nothing matches
            cur = self.conn.execute(f"SELECT src, dst{cols} FROM edge WHERE type = ?{cond}", (t, *cargs))
            while rows := cur.fetchmany(chunk):
                columns = list(zip(*rows))
                values = {p: list(columns[2 + i]) for i, p in enumerate(props)}
                for i in bools:
                    values[props[i]] = self._as_bools(values[props[i]])
                yield EdgeChunk(t, list(columns[0]), list(columns[1]), values)

    def stream_node_columns(self, label: str, props: Sequence[str] = (), *,
                            chunk: int = 100_000) -> Iterator[NodeChunk]:
        """One ``SELECT id, <props>`` over the label's key range, in key order,
        read ``chunk`` rows at a time."""
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        self._merge()
        props = tuple(props)
        key = self.node_key_prop(label) if label in self.schema["nodes"] else None
        cols = "".join(", substr(id, instr(id, ':') + 1)" if p == key
                       else (f", {p}" if p in self._node_types else ", NULL") for p in props)
        bools = [i for i, p in enumerate(props) if p != key and self._node_types.get(p) == "bool"]
        cur = self.conn.execute(f"SELECT id{cols} FROM node WHERE id > ? AND id < ? ORDER BY id",
                                (label + ":", label + ";"))
        while rows := cur.fetchmany(chunk):
            columns = list(zip(*rows))
            values = {p: list(columns[1 + i]) for i, p in enumerate(props)}
            for i in bools:
                values[props[i]] = self._as_bools(values[props[i]])
            yield NodeChunk(label, list(columns[0]), values)

    def ledger(self, borrower_id: str) -> Ledger:
        self._merge()
        attempts = []
        q = f"SELECT {', '.join(_ATTEMPT_COLS)} FROM attempt WHERE borrower_id = ? ORDER BY at, attempt_id"
        for row in self.conn.execute(q, (borrower_id,)):
            a = {c: v for c, v in zip(_ATTEMPT_COLS, row) if v is not None}
            if "connected" in a:
                a["connected"] = bool(a["connected"])
            attempts.append(a)
        payments = [dict(zip(_PAYMENT_COLS, row)) for row in self.conn.execute(
            "SELECT borrower_id, paid_at, amount FROM payment WHERE borrower_id = ? "
            "ORDER BY paid_at, amount", (borrower_id,))]
        return Ledger(borrower_id, attempts, payments)

    def stream_ledger(self, table: str) -> Iterator[Props]:
        if table == AUDIT_TABLE:
            for row in sorted(self._audit_rows(), key=lambda r: (r[1], r[0])):
                a = {c: v for c, v in zip(AUDIT_COLUMNS, row) if v is not None}
                a["revealed"] = bool(a.get("revealed"))
                yield a
            return
        if table not in self.LEDGER_TABLES:
            raise ValueError(f"unknown ledger table {table!r}")
        self._merge()
        if table == "payments":
            for row in self.conn.execute("SELECT borrower_id, paid_at, amount FROM payment"):
                yield dict(zip(_PAYMENT_COLS, row))
            return
        for row in self.conn.execute(f"SELECT {', '.join(_ATTEMPT_COLS)} FROM attempt"):
            a = {c: v for c, v in zip(_ATTEMPT_COLS, row) if v is not None}
            if "connected" in a:
                a["connected"] = bool(a["connected"])
            yield a


def content_digest(path: str | os.PathLike, tables: Sequence[str] = ("meta", "node", "edge", "attempt",
                                                                      "payment")) -> str:
    """A SHA-256 over every row of ``tables`` of the SQLite store at ``path``,
    in a canonical order: two stores with the same digest hold the same data.
    Read-only (one snapshot); the audit trail and planner statistics are not
    part of the data. The fault tests compare a store killed mid-load with
    its before and after states by it.
    """
    import hashlib

    h = hashlib.sha256()
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    try:
        conn.execute("BEGIN")
        have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table in tables:
            h.update(f"\x1e{table}\x1e".encode())
            if table not in have:
                continue
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            order = ", ".join(f"{c} IS NULL, {c}" for c in cols)
            for row in conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}"):
                h.update(repr(row).encode())
                h.update(b"\n")
        conn.execute("COMMIT")
    finally:
        conn.close()
    return h.hexdigest()
