"""Options shared by every command that touches a store, defined once.

``@store_options`` adds ``--db`` / ``--neo4j`` / ``--neo4j-user`` /
``--neo4j-password`` (with the SKIPTRACE_* environment variables) and hands
the command an opened store as ``store``; ``@format_option`` adds
``--format``. Commands stay thin: parse, call the library, render.
"""
from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from skiptrace.store import open_store


def store_options(fn: Callable[..., Any] | None = None, *, create: bool = False) -> Any:
    """Add the store options; ``create`` lets the command make a new SQLite file
    (load, schema apply); read-only commands refuse a missing one."""
    if fn is None:
        return functools.partial(store_options, create=create)

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
        with open_store(db, neo4j_uri, neo4j_user=neo4j_user, neo4j_password=neo4j_password,
                        create=create) as store:
            return fn(*args, store=store, **kwargs)

    return wrapper


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
