"""Bulk writes into the SQLite store: stage in scratch files, merge behind.

A load into SQLite costs two things of about equal size: Python parsing and
staging rows (GIL-bound), and SQLite merging staged rows into the clustered
tables and rebuilding the index (C, no GIL). Done on one thread they add up;
staged from one thread and merged from another through one connection they
queue for the GIL on every row. :class:`ChunkSink` splits them across two
connections:

- the parsing thread ``executemany``-s each batch into a scratch SQLite file
  (a *chunk*: no journal, no sync, plain tables, one per label or
  relationship type) through its own connection;
- when a chunk holds about an eighth of the input, it is sealed and handed
  to a background thread, which ATTACHes it to the store's connection and
  merges it with the store's usual set-wise ``INSERT ... SELECT ... ON
  CONFLICT`` statements, inside the load's one transaction, while the
  parsing thread fills the next chunk.

SQLite attaches at most ten databases to a connection, and a database read
inside a transaction cannot be detached before the transaction ends, so a
load uses at most :attr:`ChunkSink.MAX_CHUNKS` sealed chunks plus the last
one. The scratch directory lives next to the store file
(``.<store file name>.stage-*``) and is removed when the transaction ends, or
by the next load of the same store if a process died mid-load.
"""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skiptrace.errors import StoreError
from skiptrace.store.base import Batch
from skiptrace.store.sink import BatchSink, Worker
from skiptrace.store.sqlite import SQLiteStore, Stage


class ChunkSink(BatchSink):
    """Stages batches into scratch files on the caller's thread; merges each
    sealed file into the store on a background thread. Only inside a store
    transaction (the load's)."""

    MAX_CHUNKS = 8  # sealed before the last one: 9 attached databases of SQLite's 10
    MIN_CHUNK_ROWS = 200_000  # below this, merging a chunk costs more than it overlaps

    def __init__(self, store: SQLiteStore, total_bytes: int = 0) -> None:
        super().__init__(store)
        if not store._in_tx:
            raise StoreError("a chunked sink needs an open transaction")
        self.store: SQLiteStore = store
        self.total_bytes = total_bytes
        if store.path == ":memory:":
            where, prefix = None, ".skiptrace-stage-"
        else:
            path = Path(store.path).resolve()
            where, prefix = str(path.parent), f".{path.name}.stage-"
            # chunks of a load of this store that died without cleaning up: the
            # transaction we are in holds the store's write lock, so no live
            # load of this store owns them
            for stale in path.parent.glob(prefix + "*"):
                shutil.rmtree(stale, ignore_errors=True)
        try:
            self.dir = Path(tempfile.mkdtemp(prefix=prefix, dir=where))
        except OSError as exc:
            raise StoreError(f"cannot make a staging directory next to {store.path}: {exc}") from None
        self._conn: sqlite3.Connection | None = None
        self._path: Path | None = None
        self._stage: Stage | None = None  # the open chunk's tables
        self._sealed = 0
        self._sealed_at = 0  # done_bytes when the last chunk was sealed
        self._attached: list[str] = []
        self._worker = Worker("skiptrace-merger")
        store.after_transaction(self._cleanup)

    # -- the parsing thread ------------------------------------------------
    def _open(self) -> Stage:
        if self._stage is None:
            self._path = self.dir / f"chunk{self._sealed}.db"
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = OFF")  # scratch: a crash loses nothing of value
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("BEGIN")
            self._conn, self._stage = conn, Stage(self.store, conn, "main")
        return self._stage

    @property
    def _rows(self) -> int:
        """Rows in the open chunk."""
        return self._stage.rows if self._stage is not None else 0

    def write(self, batch: Batch, done_bytes: int = 0) -> None:
        self._worker.check()
        if not len(batch):
            return
        try:
            self._open().add(batch)
        except sqlite3.Error as exc:  # a full disk, most likely
            raise StoreError(f"cannot stage rows in {self.dir}: {exc}") from None
        if (self._sealed < self.MAX_CHUNKS and self._rows >= self.MIN_CHUNK_ROWS
                and done_bytes - self._sealed_at >= self.total_bytes / self.MAX_CHUNKS):
            self._seal()
            self._sealed_at = done_bytes

    def _seal(self) -> None:
        """Commit the open chunk and queue its merge."""
        conn, stage = self._conn, self._stage
        if conn is None or stage is None:
            return
        self._conn = self._stage = None
        conn.execute("COMMIT")
        conn.close()
        alias = f"skiptrace_stage{self._sealed}"
        self._worker.submit(self._merge, self._path, alias, stage.tables(alias), stage.rows)
        self._sealed += 1

    def relationships_done(self) -> None:
        """Seal what is staged and rebuild the relationship index behind it,
        while the caller parses the rest (nodes and ledger rows only). Were a
        relationship to come after all, it would still be merged correctly,
        into an index kept up to date row by row."""
        if self._rows:
            if self._sealed >= self.MAX_CHUNKS:
                return  # relationships are still staged in the last chunk: index at commit
            self._seal()
        self._worker.submit(self.store._rebuild_indexes)

    # -- the merging thread ----------------------------------------------------
    def _merge(self, path: Path, alias: str, tables: list[tuple[str, str, str, dict[str, Any]]],
               rows: int) -> None:
        store = self.store
        try:
            store.conn.execute(f"ATTACH DATABASE ? AS {alias}", (str(path),))
            self._attached.append(alias)
            store._merge_tables(tables, rows, delete=False)
        except sqlite3.Error as exc:  # a full disk, most likely
            raise StoreError(f"cannot merge staged rows into {store.path}: {exc}") from None

    # -- either ----------------------------------------------------------------
    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._worker.call(fn, *args)

    def close(self, *, discard: bool = False) -> None:
        try:
            if discard:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = self._stage = None
            else:
                self._seal()
        finally:
            self._worker.close(discard=discard)

    def _cleanup(self) -> None:
        """After the transaction: detach the chunks and delete them."""
        if self._conn is not None:  # closed without close(): an exception on the way
            self._conn.close()
            self._conn = self._stage = None
        for alias in self._attached:
            try:
                self.store.conn.execute(f"DETACH DATABASE {alias}")
            except sqlite3.Error:  # pragma: no cover - the store connection is gone
                pass
        self._attached = []
        shutil.rmtree(self.dir, ignore_errors=True)
