"""Graph stores: the embedded SQLite default and Neo4j, behind one interface.

:func:`open_store` is how the CLI and library callers pick one; it resolves
options, then environment variables, then defaults, the same way everywhere:

- ``neo4j_uri`` (or ``SKIPTRACE_NEO4J_URI``) selects Neo4j, with
  ``SKIPTRACE_NEO4J_USER`` / ``SKIPTRACE_NEO4J_PASSWORD`` /
  ``SKIPTRACE_NEO4J_DATABASE``;
- otherwise SQLite at ``db`` (or ``SKIPTRACE_DB``, or ``./skiptrace.db``).
"""
from __future__ import annotations

import os

from skiptrace.errors import SkiptraceError
from skiptrace.store.base import (
    Batch, Counts, Edge, GraphStore, Ledger, Subgraph, node_id, split_id,
)
from skiptrace.store.sqlite import SQLiteStore

__all__ = ["Batch", "Counts", "Edge", "GraphStore", "Ledger", "SQLiteStore",
           "Subgraph", "node_id", "open_store", "split_id"]

DEFAULT_DB = "skiptrace.db"


def open_store(db: str | None = None, neo4j_uri: str | None = None, *,
               neo4j_user: str | None = None, neo4j_password: str | None = None,
               neo4j_database: str | None = None, create: bool = True) -> GraphStore:
    """Open the store named by options, then environment, then the default.

    ``create=False`` refuses to make a new SQLite file (read-only commands).
    """
    if db and neo4j_uri:
        raise SkiptraceError("give either --db or --neo4j, not both")
    uri = neo4j_uri or (None if db else os.environ.get("SKIPTRACE_NEO4J_URI"))
    if uri:
        from skiptrace.store.neo4j import Neo4jStore

        return Neo4jStore(
            uri,
            user=neo4j_user or os.environ.get("SKIPTRACE_NEO4J_USER", "neo4j"),
            password=neo4j_password if neo4j_password is not None
            else os.environ.get("SKIPTRACE_NEO4J_PASSWORD", ""),
            database=neo4j_database or os.environ.get("SKIPTRACE_NEO4J_DATABASE") or None,
        )
    return SQLiteStore(db or os.environ.get("SKIPTRACE_DB") or DEFAULT_DB, create=create)
