"""One writer at a time on a SQLite store, and who it is.

SQLite lets one connection write at a time; a second one gets "database is
locked" after its busy timeout, which does not say that a load is running
nor since when. Every write transaction of :class:`~skiptrace.store.sqlite.SQLiteStore`
therefore first takes an exclusive ``flock`` on a sidecar file next to the
store (``<store>-writer``) and writes into it the writer's pid, command and
start time. Another writer waits for the lock up to its ``wait`` and then
fails with that record; readers never touch the file (in WAL mode they read
the last committed state while a load runs).

The kernel releases a ``flock`` when its process dies (kill -9 included), so
a dead writer never blocks the next one: its record stays in the file, but
the file is unlocked, and the next writer overwrites it.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from skiptrace.errors import StoreError

try:  # POSIX; elsewhere the SQLite busy timeout alone orders writers
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

SUFFIX = "-writer"
_POLL = 0.05  # seconds between tries while another writer holds the lock


def lock_path(store_path: str) -> Path:
    return Path(store_path + SUFFIX)


def holder(store_path: str) -> dict | None:
    """The record of the writer that holds (or last held) the lock, or None."""
    try:
        text = lock_path(store_path).read_text(encoding="utf-8")
        return json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return None


def busy_message(store_path: str, waited: float) -> str:
    who = holder(store_path) or {}
    what = who.get("command") or "load"
    since = who.get("since", "an unknown time")
    pid = f", pid {who['pid']}" if who.get("pid") else ""
    return (f"another {what} is running on {store_path} (since {since}{pid}); "
            f"waited {waited:g}s (--wait SECONDS waits longer)")


class WriterLock:
    """An exclusive, process-wide lock on one store's writer sidecar."""

    def __init__(self, store_path: str, command: str | None = None) -> None:
        self.path = lock_path(store_path)
        self.store_path = store_path
        self.command = command
        self._fd: int | None = None

    def acquire(self, wait: float) -> None:
        """Take the lock, waiting up to ``wait`` seconds; StoreError if another
        writer still holds it then."""
        if fcntl is None:
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot open the writer lock {self.path}: {exc}") from None
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise StoreError(busy_message(self.store_path, wait)) from None
                time.sleep(_POLL)
        record = {"pid": os.getpid(), "command": self.command or _command(),
                  "since": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor releases the flock


def _command() -> str:
    """What this process is, for the record: ``load`` for ``skiptrace load ...``."""
    argv = [a for a in sys.argv[1:] if not a.startswith("-")]
    return argv[0] if argv else Path(sys.argv[0]).name or "writer"
