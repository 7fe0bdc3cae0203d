"""Bulk initial load into Neo4j: `skiptrace export --format neo4j-import`, then
`neo4j-admin database import full` into a fresh data directory, then a real server on it.

The imported database must be indistinguishable from one the Cypher loader
wrote: the same counts, nodes, relationships and ledger through the store API,
the same raw property maps and value types in Cypher, and the same `find`
rankings and ledger-dependent eligibility as the SQLite store it came from.
"""
from __future__ import annotations

import json

import pytest
from neo4j import GraphDatabase

import neo4j_server
from skiptrace.contacts import find
from skiptrace.ingest import load
from skiptrace.neo4j_import import ARGS_FILE, MANIFEST, write_import_files
from skiptrace.store import Batch, SQLiteStore, node_id, open_store
from test_cli import DEMO, run

pytestmark = pytest.mark.neo4j

# the baseline pack's rules that read the ledger (skiptrace/policy/baseline.py)
LEDGER_RULES = {"third_party_refused", "location_info_used", "opted_out"}


def tricky_batch() -> Batch:
    """Values a CSV round trip could break: quotes, commas and newlines in keys and names, an
    identity property left out (stored as ''), a float that needs all its digits."""
    b = Batch()
    b.add_node("Borrower", "X,1", {"full_name": 'Li "Wei",\nthe second', "days_past_due": 3,
                                   "balance": 0.1 + 0.2, "cease_requested": False})
    b.add_edge("LIVES_AT", node_id("Borrower", "X,1"), node_id("Address", "a b"), {})  # no kind
    b.add_edge("LISTS_CONTACT", node_id("Borrower", "X,1"), node_id("Phone", "+8613800000001"),
               {"source": "phonebook", "name": 'line1\r\nline2 "q"'})
    return b


@pytest.fixture(scope="module")
def demo_sqlite(tmp_path_factory):
    """The demo world plus :func:`tricky_batch`, in SQLite."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    with SQLiteStore(path) as s:
        load(s, DEMO)
        s.write(tricky_batch())
    return path


@pytest.fixture(scope="module")
def imported(demo_sqlite, tmp_path_factory):
    """The demo world exported by the CLI, bulk-imported, and served; yields the Bolt URI."""
    base = tmp_path_factory.mktemp("bulk")
    files = base / "import"
    r = run("export", "--db", str(demo_sqlite), "--format", "neo4j-import", "-o", str(files),
            "--purpose", "bulk load of the test server", cwd=base)
    assert r.returncode == 0, r.stderr
    assert f"@{ARGS_FILE}" in r.stdout and "skiptrace schema apply" in r.stdout
    data = base / "neo4j"
    result = neo4j_server.import_files(data, files, heap="512m", max_off_heap="256m")
    assert "IMPORT DONE" in result.summary()
    assert neo4j_server.has_database(data)
    with pytest.raises(neo4j_server.Neo4jServerError, match="already holds a database"):
        neo4j_server.import_files(data, files)
    with neo4j_server.start(data, pagecache="64m", heap="512m") as server:
        with open_store(neo4j_uri=server.uri) as store:
            store.apply_schema()  # constraints and indexes, waiting until they are online
        yield server.uri


def _raw(uri: str) -> tuple[list, list]:
    """Every node and relationship with its raw properties and their value types."""
    def typed(props: dict) -> tuple:
        return tuple(sorted((k, type(v).__name__, v) for k, v in props.items()))

    with GraphDatabase.driver(uri) as driver:
        nodes = driver.execute_query("MATCH (n) RETURN labels(n) AS l, properties(n) AS p").records
        rels = driver.execute_query(
            "MATCH (a)-[r]->(b) RETURN type(r) AS t, properties(a) AS a, properties(b) AS b, "
            "properties(r) AS p").records
        schema = driver.execute_query(
            "SHOW INDEXES YIELD name, type, labelsOrTypes, properties, state, owningConstraint "
            "RETURN name, type, labelsOrTypes, properties, state, owningConstraint IS NOT NULL "
            "ORDER BY name").records
    return (sorted((tuple(r["l"]), typed(r["p"])) for r in nodes),
            sorted((r["t"], typed(r["a"]), typed(r["b"]), typed(r["p"])) for r in rels),
            [tuple(r) for r in schema])


def test_import_matches_sqlite_through_the_store_api(imported, demo_sqlite):
    with SQLiteStore(demo_sqlite) as ref, open_store(neo4j_uri=imported) as neo:
        assert neo.counts().as_dict() == ref.counts().as_dict()
        for label in ref.schema["nodes"]:
            assert list(neo.stream_nodes(label)) == list(ref.stream_nodes(label)), label
        edges = lambda s: sorted((e.type, e.src, e.dst, tuple(sorted(e.props.items())))  # noqa: E731
                                 for e in s.stream_edges())
        assert edges(neo) == edges(ref)
        for table in ref.LEDGER_TABLES:
            rows = lambda s: sorted(tuple(sorted(r.items())) for r in s.stream_ledger(table))  # noqa: E731
            assert rows(neo) == rows(ref), table


def test_files_written_from_neo4j_equal_those_from_sqlite(imported, demo_sqlite, tmp_path):
    """The export reads any store: from the imported Neo4j it writes the same rows (in another
    order), so a Neo4j database can be copied or re-imported the same way."""
    with SQLiteStore(demo_sqlite) as ref, open_store(neo4j_uri=imported) as neo:
        a = write_import_files(ref, tmp_path / "a")
        b = write_import_files(neo, tmp_path / "b")
    assert a.arguments == b.arguments and a.files == b.files
    for name in a.files:
        rows = lambda d: sorted((d / name).read_text("utf-8").splitlines())  # noqa: E731
        assert rows(tmp_path / "b") == rows(tmp_path / "a"), name


def test_find_rankings_and_eligibility_match_sqlite(imported, demo_sqlite):
    with SQLiteStore(demo_sqlite) as ref, open_store(neo4j_uri=imported) as neo:
        # borrowers whose ledger blocks someone (refusals, opt-outs, third parties reached), and others
        blocked = [r[0] for r in ref.conn.execute(
            "SELECT DISTINCT borrower_id FROM attempt WHERE outcome IN ('refused', 'opted_out') "
            "OR (target_role = 'third_party' AND connected) ORDER BY borrower_id LIMIT 8")]
        ids = blocked + [k for k, _ in ref.stream_nodes("Borrower")][:6]
        ledger_blocked = 0
        for b in ids:
            assert neo.ledger(b) == ref.ledger(b)
            got, want = find(neo, b).to_dict(reveal=True), find(ref, b).to_dict(reveal=True)
            assert [(c["phone"], c["score"]) for c in got["candidates"]] == \
                [(c["phone"], c["score"]) for c in want["candidates"]]
            assert got == want  # evidence, eligibility and blocking rules too
            ledger_blocked += any(set(c["blocked_by"]) & LEDGER_RULES for c in want["candidates"])
        assert ledger_blocked >= 3, "the sample should exercise ledger-dependent eligibility"


def test_import_is_what_the_cypher_loader_writes(imported, neo4j_clean):
    """Raw property maps and value types, indexes and constraints: as after `skiptrace load`."""
    with open_store(neo4j_uri=neo4j_clean) as store:
        load(store, DEMO)
        store.write(tricky_batch())
    want, got = _raw(neo4j_clean), _raw(imported)

    def keyless(nodes):
        # each store draws its own random pseudonym key (skiptrace.privacy): compare its shape
        out, keys = [], []
        for labels, props in nodes:
            d = {k: (t, v) for k, t, v in props}
            if labels == ("SkiptraceMeta",) and d.get("key", (None, None))[1] == "last_load":
                continue  # the record of a published load: a bulk import is not one
            if labels == ("SkiptraceMeta",) and d.get("key", (None, None))[1] == "pseudonym_key":
                keys.append(d["value"][1])
                props = tuple((k, t, "<key>" if k == "value" else v) for k, t, v in props)
            out.append((labels, props))
        return out, keys

    (got_nodes, got_keys), (want_nodes, want_keys) = keyless(got[0]), keyless(want[0])
    assert len(got_keys) == len(want_keys) == 1
    assert all(len(k) == 64 and int(k, 16) >= 0 for k in got_keys + want_keys)
    assert got_nodes == want_nodes  # nodes, ledger and SkiptraceMeta included
    assert got[1] == want[1]
    lives = [r for r in got[1] if r[0] == "LIVES_AT" and ("borrower_id", "str", "X,1") in r[1]]
    assert lives[0][3] == (("kind", "str", ""),)  # a left-out identity is '', as MERGE writes it
    assert got[2] == want[2] and all(index[4] == "ONLINE" for index in got[2])


def test_manifest_and_cli_errors(demo_sqlite, tmp_path):
    with SQLiteStore(demo_sqlite) as s:
        res = write_import_files(s, tmp_path / "files")
        counts = s.counts()
    manifest = json.loads((tmp_path / "files" / MANIFEST).read_text("utf-8"))
    assert manifest["nodes"] == counts.nodes and manifest["ledger"] == counts.ledger
    assert manifest["relationships"] == counts.relationships == res.relationships
    assert manifest["multiline_fields"] and "--multiline-fields=true" in res.arguments
    db = str(demo_sqlite)
    for args, why in ((("-o", str(tmp_path / "files")), "not empty"),
                      ((), "give it with -o DIR"),
                      (("-o", str(tmp_path / "x"), "--types", "CALLED"), "--types does not apply")):
        r = run("export", "--db", db, "--format", "neo4j-import", "--purpose", "test", *args,
                cwd=tmp_path)
        assert r.returncode == 2 and why in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = run("export", "--db", db, "-o", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2 and "is a directory" in r.stderr
