"""Shared fixtures: a `store` parameterised over both stores.

The Neo4j side uses the real server that tests/neo4j_fixtures.py starts once
per session (or SKIPTRACE_TEST_NEO4J_URI); it is never mocked or skipped.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from skiptrace.store import SQLiteStore, open_store

pytest_plugins = ["neo4j_fixtures", "browser"]

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo"


def make_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path):
    if kind == "sqlite":
        return SQLiteStore(tmp_path / "store.db")
    uri = request.getfixturevalue("neo4j_clean")
    return open_store(neo4j_uri=uri,
                      neo4j_user=os.environ.get("SKIPTRACE_TEST_NEO4J_USER", "neo4j"),
                      neo4j_password=os.environ.get("SKIPTRACE_TEST_NEO4J_PASSWORD", ""))


@pytest.fixture(params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request, tmp_path):
    """An empty store of each kind."""
    s = make_store(request.param, request, tmp_path)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def sqlite_store(tmp_path):
    s = SQLiteStore(tmp_path / "store.db")
    try:
        yield s
    finally:
        s.close()
