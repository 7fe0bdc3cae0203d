"""Options shared by every command that touches a store, defined once.

``@store_options`` adds ``--db`` / ``--neo4j`` / ``--neo4j-user`` /
``--neo4j-password`` (with the SKIPTRACE_* environment variables) and hands
the command an opened store as ``store``; ``@format_option`` adds
``--format``. Commands stay thin: parse, call the library, render.
"""
from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import click

from skiptrace.store import DEFAULT_DB, open_store


def store_options(fn: Callable[..., Any] | None = None, *, create: bool = False,
                  snapshot: bool = True) -> Any:
    """Add the store options; ``create`` lets the command make a new SQLite file
    (load, schema apply); read-only commands refuse a missing one. A reading
    command runs in one SQLite snapshot unless ``snapshot=False`` (a server,
    whose requests each read a fresh published state)."""
    if fn is None:
        return functools.partial(store_options, create=create, snapshot=snapshot)
    hold_snapshot = snapshot and not create

    @click.option("--db", "db", type=click.Path(dir_okay=False), default=None,
                  help="SQLite store file (default $SKIPTRACE_DB or ./skiptrace.db).")
    @click.option("--neo4j", "neo4j_uri", default=None, metavar="URI",
                  help="Use Neo4j at URI (default $SKIPTRACE_NEO4J_URI) instead of SQLite.")
    @click.option("--neo4j-user", default=None, help="Neo4j user (default $SKIPTRACE_NEO4J_USER or neo4j).")
    @click.option("--neo4j-password", default=None,
                  help="Neo4j password (default $SKIPTRACE_NEO4J_PASSWORD).")
    @functools.wraps(fn)
    def wrapper(*args: Any, db: str | None, neo4j_uri: str | None, neo4j_user: str | None,
                neo4j_password: str | None, **kwargs: Any) -> Any:
        fresh = _new_sqlite_file(db, neo4j_uri) if create else None
        try:
            with open_store(db, neo4j_uri, neo4j_user=neo4j_user, neo4j_password=neo4j_password,
                            create=create) as store:
                # a reading command sees one committed state throughout (SQLite),
                # even if a load commits while it runs
                held = getattr(store, "snapshot", None) if hold_snapshot else None
                with held() if held is not None else nullcontext():
                    return fn(*args, store=store, **kwargs)
        except BaseException:
            # a failed first load leaves no store file behind (but a committed one
            # stays, even if printing its summary failed: a closed pipe)
            if fresh is not None and not _holds_data(fresh):
                for suffix in ("", "-journal", "-wal", "-shm", "-writer"):
                    Path(str(fresh) + suffix).unlink(missing_ok=True)
            raise

    return wrapper


def audited(fn: Callable[..., Any]) -> Any:
    """Add ``--actor`` and ``--purpose`` and hand the command ``audit``: call
    ``audit(store, subjects)`` before showing anything, to append the lookup
    to the store's audit trail (:func:`skiptrace.audit.record`). Put it above
    ``@store_options``: ``--reveal`` without ``--purpose`` is refused (exit
    2) before a store is opened."""

    @click.option("--purpose", default=None, metavar="TEXT",
                  help="Why you look this up; kept in the audit trail (required with --reveal).")
    @click.option("--actor", default=None, metavar="NAME",
                  help="Who is looking, for the audit trail (default $SKIPTRACE_ACTOR, else the OS user).")
    @functools.wraps(fn)
    def wrapper(*args: Any, actor: str | None, purpose: str | None, **kwargs: Any) -> Any:
        from skiptrace.audit import record

        reveal = bool(kwargs.get("reveal"))
        if reveal and not (purpose or "").strip():
            raise click.UsageError("--reveal needs --purpose TEXT (why personal data is shown; "
                                   "it is kept in the audit trail)")
        ctx = click.get_current_context()
        command = " ".join(ctx.command_path.split()[1:]) or ctx.info_name or "?"

        def audit(store: Any, subjects: Any, revealed: bool = reveal) -> None:
            record(store, command, subjects, revealed=revealed, purpose=purpose, actor=actor)

        return fn(*args, audit=audit, **kwargs)

    return wrapper


def _holds_data(path: Path) -> bool:
    """Whether the SQLite file at ``path`` holds any committed node."""
    import sqlite3

    if not path.exists():
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT 1 FROM node LIMIT 1").fetchone() is not None
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def _new_sqlite_file(db: str | None, neo4j_uri: str | None) -> Path | None:
    """The SQLite file ``open_store`` would create (None: Neo4j, or the file exists)."""
    if neo4j_uri or (not db and os.environ.get("SKIPTRACE_NEO4J_URI")):
        return None
    path = Path(db or os.environ.get("SKIPTRACE_DB") or DEFAULT_DB)
    return None if path.exists() or str(path) == ":memory:" else path


def format_option(*choices: str, default: str = "table") -> Callable[..., Any]:
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=default,
                        show_default=True, help="Output format.")


def emit_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def is_terminal() -> bool:
    return sys.stderr.isatty()


def _check_policy(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from skiptrace.policy import get_policy, names

    if value == "auto":
        return value
    try:
        get_policy(value)
    except ValueError:
        raise click.BadParameter(f"unknown policy {value!r}; one of {', '.join(names())}") from None
    return value


def policy_option(default: str = "baseline") -> Callable[[Callable[..., Any]], Any]:
    """``--policy NAME``: a compliance pack (baseline, CN-NIFA-2024, US-RegF, or auto: per
    borrower by region); an unknown name is a usage error (exit 2) listing the names."""
    return click.option("--policy", "policy", default=default, show_default=True,
                        metavar="NAME", callback=_check_policy,
                        help="Compliance pack: baseline, CN-NIFA-2024, US-RegF, or auto (by the "
                             "borrower's region; other regions get both packs' rules).")


@contextmanager
def count_progress(enabled: bool, total: int, label: str):
    """A rich progress bar over ``total`` items on stderr (``enabled``: usually
    :func:`is_terminal`); yields ``update(done, total)``, or None when disabled."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True,
                  redirect_stdout=False) as bar:  # results on stdout stay there, not above the bar
        task = bar.add_task(label, total=total)

        def update(done: int, _total: int) -> None:
            bar.update(task, completed=done)

        yield update
