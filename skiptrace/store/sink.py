"""How a loader hands a stream of batches to a store.

A load parses rows in Python on one thread and writes them to a store. How
best to overlap the two depends on the store, so the store supplies the
sink (:meth:`GraphStore.sink`):

- :class:`ThreadedSink`, the default: every store call runs in order on one
  background thread. The Neo4j driver releases the GIL while it waits on the
  server, so parsing goes on meanwhile.
- SQLite's chunked sink (:mod:`skiptrace.store.sqlite_bulk`): the parsing
  thread stages rows into scratch files itself and a background thread
  merges each finished file into the store with set-wise SQL, which runs in
  C without the GIL.

The loader talks only to :class:`BatchSink`.
"""
from __future__ import annotations

import abc
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from skiptrace.store.base import Batch, GraphStore


class BatchSink(abc.ABC):
    """Takes the batches of one load, in order, on the caller's thread.

    ``write`` may return before the batch is in the store; ``close`` waits
    until everything written is, and re-raises the first write error (a
    write error may also surface from a later ``write``). ``call`` runs a
    read on the store in order with the sink's own work; it sees the store
    as it was before the load plus an unspecified part of this load's
    writes, which is all a loader needs (it asks the store only about
    records that predate the load).
    """

    def __init__(self, store: GraphStore):
        self.store = store

    @abc.abstractmethod
    def write(self, batch: Batch, done_bytes: int = 0) -> None:
        """Queue a batch; ``done_bytes`` is how far through the input it is."""

    def end_of_file(self) -> None:
        """A hint: one input file is complete."""

    def relationships_done(self) -> None:
        """A hint: no batch from now on holds relationships (only nodes and
        ledger rows), so work on relationship indexes can start."""

    @abc.abstractmethod
    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` (a store read) and return its result."""

    @abc.abstractmethod
    def close(self, *, discard: bool = False) -> None:
        """Wait for every queued write (``discard``: drop what is not yet
        written, for a load that failed); re-raise the first write error."""


class Worker:
    """Runs calls in order on one background thread.

    ``submit`` queues a call whose result nobody waits for (a write); the
    first one that fails is re-raised by the next ``submit`` or by
    ``close``, and later submitted calls are dropped. ``call`` waits for its
    result.
    """

    def __init__(self, name: str = "skiptrace-writer", depth: int = 2):
        self._q: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._discard = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            fn, args, done = item
            if (self._error is not None or self._discard) and done is None:
                continue  # a write failed (or the load did): drop later writes, keep answering reads
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                if done is None:
                    self._error = exc
                else:
                    done.put((False, exc))
                continue
            if done is not None:
                done.put((True, result))

    def check(self) -> None:
        """Re-raise the error of a failed write, if any."""
        if self._error is not None:
            raise self._error

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self.check()
        self._q.put((fn, args, None))

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        done: queue.Queue = queue.Queue(maxsize=1)
        self._q.put((fn, args, done))
        ok, value = done.get()
        if not ok:
            raise value
        return value

    def close(self, *, discard: bool = False) -> None:
        """Wait for the queued calls (``discard``: skip queued writes) and
        stop; re-raise the first write error unless discarding."""
        self._discard = discard
        self._q.put(None)
        self._thread.join()
        if self._error is not None and not discard:
            raise self._error


class ThreadedSink(BatchSink):
    """Runs ``store.write``, ``store.flush`` and reads in order on one thread."""

    def __init__(self, store: GraphStore):
        super().__init__(store)
        self._worker = Worker()

    def write(self, batch: Batch, done_bytes: int = 0) -> None:
        if len(batch):
            self._worker.submit(self.store.write, batch)

    def end_of_file(self) -> None:
        self._worker.submit(self.store.flush)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._worker.call(fn, *args)

    def close(self, *, discard: bool = False) -> None:
        self._worker.close(discard=discard)
