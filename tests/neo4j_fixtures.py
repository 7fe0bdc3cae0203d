"""Pytest fixtures for a real Neo4j server (loaded via ``pytest_plugins``).

``neo4j_uri`` (session): the Bolt URI of the test server. When
``SKIPTRACE_TEST_NEO4J_URI`` is set, that existing server is used (with
``SKIPTRACE_TEST_NEO4J_USER`` / ``SKIPTRACE_TEST_NEO4J_PASSWORD`` and optional
``SKIPTRACE_TEST_NEO4J_DATABASE``); otherwise a Neo4j 5.26 Community server is
built from Maven Central and started once per session (scripts/neo4j_server.py)
and stopped at exit. It never skips: a server that cannot start is an error.

``neo4j_auth`` (session): ``(user, password)`` for that server, or ``None``.
``neo4j_database`` (session): the database name, or ``None`` for the default.
``neo4j_clean`` (function): empties the database (all nodes and
relationships; constraints and indexes stay) and yields the URI.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Iterator

import pytest
from neo4j import Driver, GraphDatabase

_SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
if str(_SCRIPTS) not in sys.path:
    sys.path.insert(0, str(_SCRIPTS))

import neo4j_server  # noqa: E402

log = logging.getLogger(__name__)

#: relationships, then (bare) nodes, deleted per inner transaction: a default-preset world has
#: phones with hundreds of listings, and DETACH DELETE of 10,000 such nodes at once ran out of
#: Neo4j transaction memory (716.8 MiB); 10,000 relationships, or nodes without any, are small
_WIPE_BATCH = 10_000


@pytest.fixture(scope="session")
def neo4j_auth() -> tuple[str, str] | None:
    """Credentials for the test server; None when it runs without auth."""
    if not os.environ.get("SKIPTRACE_TEST_NEO4J_URI"):
        return None
    user = os.environ.get("SKIPTRACE_TEST_NEO4J_USER", "neo4j")
    password = os.environ.get("SKIPTRACE_TEST_NEO4J_PASSWORD")
    return (user, password) if password is not None else None


@pytest.fixture(scope="session")
def neo4j_database() -> str | None:
    """The database to use on the test server (None: the server's default)."""
    if not os.environ.get("SKIPTRACE_TEST_NEO4J_URI"):
        return None
    return os.environ.get("SKIPTRACE_TEST_NEO4J_DATABASE") or None


#: the test server's JVM heap (Neo4j caps all transactions together at 70% of it)
TEST_HEAP = os.environ.get("SKIPTRACE_TEST_NEO4J_HEAP", "4g")


@pytest.fixture(scope="session")
def neo4j_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bolt URI of a running Neo4j server for the whole session (never skips)."""
    external = os.environ.get("SKIPTRACE_TEST_NEO4J_URI")
    if external:
        log.info("using the Neo4j server at %s (SKIPTRACE_TEST_NEO4J_URI)", external)
        yield external
        return
    data_dir = tmp_path_factory.mktemp("neo4j")
    error: neo4j_server.Neo4jServerError | None = None
    try:
        # a load is one transaction (graph_schema/README.md, "Atomic loads"): about 2.8 kB of
        # server heap per input row, so the tests' 1,500-borrower worlds (some 315k rows) need
        # more than the 1 GB default
        server = neo4j_server.start(data_dir=data_dir, heap=TEST_HEAP)
    except neo4j_server.Neo4jServerError as exc:
        error = exc
    if error is not None:
        pytest.fail(f"could not start the test Neo4j server: {error}", pytrace=False)
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _neo4j_admin_driver(
    neo4j_uri: str, neo4j_auth: tuple[str, str] | None
) -> Iterator[Driver]:
    """One driver per session for housekeeping (wiping between tests)."""
    driver = GraphDatabase.driver(neo4j_uri, auth=neo4j_auth)
    try:
        driver.verify_connectivity()
    except Exception as exc:  # noqa: BLE001 - any failure here is fatal for Neo4j tests
        driver.close()
        pytest.fail(f"cannot connect to the test Neo4j server at {neo4j_uri}: {exc}", pytrace=False)
    yield driver
    driver.close()


def wipe(driver: Driver, database: str | None = None) -> None:
    """Delete every node and relationship in batches; keep constraints and indexes.

    Relationships first, then the nodes, each by one server-side ``CALL { ... } IN
    TRANSACTIONS`` (a 1,500-borrower world in about a third of the time that 1,000-node
    DETACH DELETE round trips took); then a check that nothing is left."""
    with driver.session(database=database) as session:
        session.run("MATCH ()-[r]->() CALL (r) { DELETE r } "
                    "IN TRANSACTIONS OF $batch ROWS", batch=_WIPE_BATCH).consume()
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } "
                    "IN TRANSACTIONS OF $batch ROWS", batch=_WIPE_BATCH).consume()
    records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS left",
                                         database_=database)
    assert records[0]["left"] == 0, f"the wipe left {records[0]['left']} nodes"


@pytest.fixture
def neo4j_clean(
    neo4j_uri: str, _neo4j_admin_driver: Driver, neo4j_database: str | None
) -> Iterator[str]:
    """An empty database (schema kept) for one test; yields the Bolt URI."""
    wipe(_neo4j_admin_driver, neo4j_database)
    yield neo4j_uri
