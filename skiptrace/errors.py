"""Exceptions that callers (and the CLI) can tell apart.

User errors (bad input, bad usage, unreachable store) derive from
:class:`SkiptraceError`; the CLI prints their message on one line and exits
2 (3 for :class:`PartialFailure`). Anything else is an internal error (exit 1).
"""
from __future__ import annotations

from dataclasses import dataclass


class SkiptraceError(Exception):
    """A user-facing error: the message is the whole explanation."""

    exit_code = 2  # what the CLI exits with


class PartialFailure(SkiptraceError):
    """A batch ran to the end but some of its items failed (each reported in
    line); the CLI exits 3 so a script can tell this from a failed run (2)."""

    exit_code = 3


class StoreError(SkiptraceError):
    """The store cannot be opened or reached, or refused an operation.

    ``transient`` is True when the same operation may succeed if retried
    (the server was unreachable or restarting, a deadlock, a leader switch).
    """

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Problem:
    """One defect in an input file, located as precisely as we can."""

    file: str
    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        col = f":{self.column}" if self.column else ""
        line = f":{self.line}" if self.line else ""  # 0: the file as a whole
        return f"{self.file}{line}{col}: {self.reason}"


class InputError(SkiptraceError):
    """The input directory has defects; nothing was written.

    ``problems`` lists them (up to the loader's cap); ``total`` counts all
    that were found, so a caller can say "and N more".
    """

    def __init__(self, problems: list[Problem], total: int | None = None, stopped: bool = False):
        self.problems = list(problems)
        self.total = total if total is not None else len(self.problems)
        self.stopped = stopped  # reading stopped at the error cap
        shown = "\n".join(str(p) for p in self.problems)
        more = self.total - len(self.problems)
        tail = f"\n... and {more} more" if more > 0 else ""
        super().__init__(f"{self.total} input error(s); nothing was written\n{shown}{tail}")
