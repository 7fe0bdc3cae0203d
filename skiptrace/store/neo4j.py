"""The Neo4j store: the same graph as :class:`~skiptrace.store.sqlite.SQLiteStore`, over Bolt.

Layout (generated from graph_schema/schema.toml, like the SQLite tables):

- one node per ``Label {key}`` with the label's properties, and one
  relationship per ``(a)-[:TYPE {identity props}]->(b)``; an identity
  property that a record leaves out is stored as ``''`` (Cypher cannot MERGE
  on null) and read back as absent, as SQLite does;
- the ledger as unconnected ``ContactAttempt {attempt_id}`` and
  ``Payment {payment_key}`` nodes carrying ``borrower_id``; the audit trail
  as unconnected ``AuditEvent`` nodes, only ever CREATEd;
- one ``SkiptraceMeta {key: 'schema'}`` node holding the schema version, and one
  ``SkiptraceMeta {key: name, value}`` node per metadata entry (the pseudonym key).

Writes are ``UNWIND $rows AS row MERGE ...`` statements of at most
:data:`CHUNK_ROWS` rows; ``SET n += row.set`` implements the ``set`` merge rule
(only present values are sent) and ``CASE`` expressions the ``min``/``max``
rules. Outside :meth:`Neo4jStore.transaction` each statement commits on its
own; inside it everything is one explicit transaction that rolls back on an
exception.

A load (:meth:`Neo4jStore.publish`) is one explicit transaction, tagged with
its load id in the transaction metadata (``SHOW TRANSACTIONS`` lists it) and
ending with a ``SkiptraceMeta {key: 'last_load'}`` record of that id, so it
is visible whole or not at all: the server rolls it back if the client dies
or the connection drops, and recovery discards it if the server dies. Plain
reads run at read committed without read locks, so readers are not blocked
and see the state before the load until it commits. After a transient
failure (server unreachable or restarting) the whole load is retried a few
times; a commit whose outcome the client could not hear is settled by
reading the ``last_load`` record. The price is server memory: the whole
load's transaction state lives in the server's heap until the commit (see
graph_schema/README.md, "Atomic loads", for the figures).

Reads look nodes up by label and key (``UNWIND $keys AS k MATCH (n:Phone
{e164: k})``) so that they use the uniqueness-constraint indexes, and return
the same values in the same order as the SQLite store.
"""
from __future__ import annotations

import functools
import inspect
import json
import logging
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
import contextlib
from contextlib import contextmanager
from typing import Any, TypeVar

import neo4j
from neo4j import GraphDatabase, RoutingControl
from neo4j.exceptions import (
    AuthError, ClientError, ConfigurationError, DriverError, IncompleteCommit, Neo4jError,
    ServiceUnavailable, SessionExpired, TransientError,
)

import skiptrace_schema
from skiptrace.errors import StoreError
from skiptrace.privacy import KEY_META, new_key
from skiptrace.store.base import (
    AUDIT_COLUMNS, AUDIT_TABLE, Batch, Counts, Edge, EdgeChunk, EdgeFilter, GraphStore, Ledger, NodeChunk,
    Props, _check_where, node_id, split_id,
)
# Reads that take a list of ids return them in SQLite's order, which comes in
# chunks of this many ids (its IN-list size); sharing the constant keeps the
# two stores in step.

__all__ = ["Neo4jStore", "CHUNK_ROWS"]

log = logging.getLogger(__name__)

#: Rows per UNWIND statement (one transaction each outside ``transaction()``).
CHUNK_ROWS = 10_000

ATTEMPT_LABEL, _ATTEMPT_KEY = "ContactAttempt", "attempt_id"
PAYMENT_LABEL, _PAYMENT_KEY = "Payment", "payment_key"
META_LABEL = "SkiptraceMeta"
#: The meta entry a load writes in its own transaction: JSON ``{"id", "at", "rows"}``
LOAD_META = "last_load"
AUDIT_LABEL = "AuditEvent"
_SEP = "\x1f"


def payment_key(p: Props) -> str:
    """The ``payment_key`` of a payment node: borrower, time and amount (a
    borrower's two payments at the same time and amount are one)."""
    return _SEP.join([str(p["borrower_id"]), str(p["paid_at"]), repr(float(p["amount"]))])
_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _q(name: str) -> str:
    """Quote a label, type or property name for Cypher."""
    return "`" + name.replace("`", "``") + "`"


def _lit(text: str) -> str:
    """A Cypher string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _one_line(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


def _chunks(seq: list[Any], n: int = CHUNK_ROWS) -> Iterator[list[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _coerce(value: Any, type_: str) -> Any:
    """Store a value with its schema type, as SQLite's column affinity would."""
    if value is None:
        return None
    if type_ == "bool":
        return bool(value)
    if type_ == "float" and isinstance(value, (int, float)):
        return float(value)
    if type_ == "int":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
    if type_ == "str" and not isinstance(value, str):
        return str(value)
    return value


def _merge_expr(var: str, prop: str, rule: str) -> str:
    """Cypher for the ``min``/``max`` merge rules; ``row.mm`` holds those values.

    (The ``set`` rule is ``SET x += row.set`` with only the present values.)
    """
    cur, new = f"{var}.{_q(prop)}", f"row.mm.{_q(prop)}"
    op = "<" if rule == "min" else ">"
    return (f"{cur} = CASE WHEN {new} IS NULL THEN {cur} "
            f"WHEN {cur} IS NULL OR {new} {op} {cur} THEN {new} ELSE {cur} END")


def _translated(fn: F) -> F:
    """Turn driver and server errors raised by a store method into a one-line StoreError."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(self: Neo4jStore, *args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(self, *args, **kwargs)
            except (Neo4jError, DriverError) as exc:
                raise self._store_error(exc) from exc
        return gen_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(self: Neo4jStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except (Neo4jError, DriverError) as exc:
            raise self._store_error(exc) from exc
    return wrapper  # type: ignore[return-value]


class Neo4jStore(GraphStore):
    """A graph store in a Neo4j 5 database, reached over Bolt.

    ``user``/``password`` are basic-auth credentials; an empty or missing
    password connects without auth. ``database`` None uses the server's
    default database. The constructor checks that the server answers and
    raises :class:`StoreError` (one line) if it is unreachable, refuses the
    credentials or lacks the database. The schema (constraints and indexes)
    is applied by :meth:`apply_schema` and before the first write.
    """

    kind = "neo4j"
    atomic_load = True
    validate_first = True
    #: Seconds to wait before each retry of a load after a transient failure
    #: (their number is the number of retries): about 45 s in all, enough for
    #: a server restart or a cluster leader switch.
    RETRY_DELAYS: tuple[float, ...] = (2, 4, 8, 15, 15)

    def __init__(self, uri: str, *, user: str | None = "neo4j", password: str | None = None,
                 database: str | None = None) -> None:
        super().__init__()
        self.uri = uri
        self.user = user
        self.database = database
        self._schema_ready = False
        self._tx: neo4j.Transaction | None = None
        self._tx_metadata: dict[str, Any] | None = None  # tags the next explicit transaction
        self._committing = False  # a commit was sent and its answer not yet heard
        self._reading = threading.local()  # .depth: inside consistent() on this thread
        self._build_cypher()
        auth = (user or "neo4j", password) if password else None
        self._has_auth = auth is not None
        scheme = uri.partition("://")[0].lower() if "://" in uri else ""
        if scheme not in _SCHEMES:
            raise StoreError(f"bad Neo4j URI {uri!r}: expected one of "
                             f"{', '.join(s + '://' for s in _SCHEMES)}")
        try:
            self._driver = GraphDatabase.driver(
                uri, auth=auth, connection_timeout=15.0, user_agent="skiptrace",
                # "label/type does not exist yet" warnings are noise for a store that creates them
                notifications_disabled_classifications=[
                    neo4j.NotificationDisabledClassification.UNRECOGNIZED])
        except (ConfigurationError, ValueError) as exc:
            raise StoreError(f"bad Neo4j URI {uri!r}: {_one_line(exc)}") from None
        self._bookmarks = self._driver.execute_query_bookmark_manager
        try:  # an auto-commit query fails at once (execute_query would retry for 30 s)
            with self._session(read=True) as session:
                session.run("RETURN 1").consume()
        except (Neo4jError, DriverError) as exc:
            self._driver.close()
            raise self._store_error(exc) from None

    # -- cypher generated from the schema -----------------------------------
    def _build_cypher(self) -> None:
        nodes = self.schema["nodes"]
        self._labels = list(nodes)
        self._key = {label: spec["key"] for label, spec in nodes.items()}
        self._node_types = {label: {p: s["type"] for p, s in spec.get("props", {}).items()}
                            for label, spec in nodes.items()}
        self._rel_types = {t: {p: s["type"] for p, s in spec.get("props", {}).items()}
                           for t, spec in self.schema["relationships"].items()}
        self._node_minmax = {label: self._min_max(self.node_props(label)) for label in self._labels}
        self._rel_minmax = {t: self._min_max(self.rel_props(t)) for t in self._rel_types}
        self._node_write = {label: self._node_statement(label) for label in self._labels}
        cases = " ".join(f"WHEN {{v}}:{_q(label)} THEN {_lit(label + ':')} + {{v}}.{_q(key)}"
                         for label, key in self._key.items())
        self._id_template = f"CASE {cases} END"
        attempt_cols = self.schema["files"]["contact_attempts"]["columns"]
        self._attempt_types = {c: s["type"] for c, s in attempt_cols.items()}
        self._payment_cols = list(self.schema["files"]["payments"]["columns"])

    @staticmethod
    def _min_max(props: dict[str, dict[str, str]]) -> set[str]:
        return {p for p, s in props.items() if s.get("merge", "set") in ("min", "max")}

    def _id_of(self, var: str) -> str:
        """Cypher expression for the ``Label:key`` id of node variable ``var``."""
        return self._id_template.replace("{v}", var)

    def _node_statement(self, label: str) -> str:
        props = self.node_props(label)
        sets = ["n += row.set"] + [_merge_expr("n", p, s["merge"]) for p, s in sorted(props.items())
                                   if s.get("merge", "set") in ("min", "max")]
        return (f"UNWIND $rows AS row MERGE (n:{_q(label)} {{{_q(self._key[label])}: row.key}}) "
                f"SET {', '.join(sets)}")

    def _edge_statement(self, type_: str, src_label: str, dst_label: str) -> str:
        props = self.rel_props(type_)
        ident = self.rel_identity(type_)
        ident_map = ", ".join(f"{_q(p)}: row.ident[{i}]" for i, p in enumerate(ident))
        sets = ["r += row.set"] + [_merge_expr("r", p, s["merge"]) for p, s in sorted(props.items())
                                   if p not in ident and s.get("merge", "set") in ("min", "max")]
        return (f"UNWIND $rows AS row "
                f"MERGE (a:{_q(src_label)} {{{_q(self._key[src_label])}: row.src}}) "
                f"MERGE (b:{_q(dst_label)} {{{_q(self._key[dst_label])}: row.dst}}) "
                f"MERGE (a)-[r:{_q(type_)}{' {' + ident_map + '}' if ident else ''}]->(b) "
                f"SET {', '.join(sets)}")

    def _type_pattern(self, types: Iterable[str] | None) -> str | None:
        """``:`A`|`B``` for the known types among ``types`` (all when None); None if none."""
        known = list(self._rel_types) if types is None else \
            sorted({t for t in types if t in self._rel_types})
        return ":" + "|".join(_q(t) for t in known) if known else None

    # -- plumbing --------------------------------------------------------------
    @staticmethod
    def _transient(exc: BaseException) -> bool:
        """Whether retrying may help: the server was unreachable or restarting,
        a deadlock, a leader switch; not a memory limit (it would fail again)."""
        code = getattr(exc, "code", None) or ""
        if "Memory" in code:
            return False
        if isinstance(exc, (ServiceUnavailable, SessionExpired, TransientError, IncompleteCommit)):
            return True
        retryable = getattr(exc, "is_retryable", None)
        return bool(retryable()) if callable(retryable) else False

    def _store_error(self, exc: BaseException) -> StoreError:
        err = self._describe(exc)
        err.transient = self._transient(exc)
        return err

    def _describe(self, exc: BaseException) -> StoreError:
        where = f"Neo4j at {self.uri}"
        if isinstance(exc, AuthError):
            hint = ("set --neo4j-user/--neo4j-password or "
                    "SKIPTRACE_NEO4J_USER/SKIPTRACE_NEO4J_PASSWORD")
            if not self._has_auth:
                return StoreError(f"{where} requires a user and password ({hint})")
            return StoreError(f"{where} refused the credentials for user {self.user!r} ({hint})")
        if isinstance(exc, ServiceUnavailable):
            return StoreError(f"cannot reach {where}: {_one_line(exc)}")
        if isinstance(exc, ClientError) and "DatabaseNotFound" in (exc.code or ""):
            return StoreError(f"{where} has no database {self.database!r}")
        if "Memory" in (getattr(exc, "code", None) or ""):
            return StoreError(f"{where} ran out of transaction memory: {_one_line(exc)} (a load "
                              "is one transaction: give the server a larger heap and "
                              "db.memory.transaction.total.max, load the book in parts, or "
                              "bulk-import a first load with neo4j-admin)")
        return StoreError(f"{where}: {_one_line(exc)}")

    def _session(self, read: bool = False, fetch_size: int | None = None) -> neo4j.Session:
        extra = {} if fetch_size is None else {"fetch_size": fetch_size}
        return self._driver.session(
            database=self.database, bookmark_manager=self._bookmarks,
            default_access_mode=neo4j.READ_ACCESS if read else neo4j.WRITE_ACCESS, **extra)

    def _stream_pages(self, query: str, page: int, **params: Any) -> Iterator[list[neo4j.Record]]:
        """Stream a read query's records in lists of at most ``page``; the
        driver pulls ``page`` records per round trip, so client memory is
        bounded by a page (inside a transaction, by that session's fetch size)."""
        if self._tx is not None:
            result = self._tx.run(query, params)
            while recs := result.fetch(page):
                yield recs
            return
        with self._session(read=True, fetch_size=page) as session:
            result = session.run(query, params)
            while recs := result.fetch(page):
                yield recs

    def _read(self, query: str, **params: Any) -> list[neo4j.Record]:
        """Run a read query (inside the open transaction, if any); return all records."""
        if self._tx is not None:
            return list(self._tx.run(query, params))
        records, _, _ = self._driver.execute_query(
            query, params, database_=self.database, routing_=RoutingControl.READ)
        return records

    def _stream(self, query: str, **params: Any) -> Iterator[neo4j.Record]:
        """Stream a read query's records without holding them all in memory."""
        if self._tx is not None:
            yield from self._tx.run(query, params)
            return
        with self._session(read=True) as session:
            yield from session.run(query, params)

    def _write(self, statements: Iterable[tuple[str, list[dict[str, Any]]]]) -> None:
        """Run ``(query, rows)`` pairs in chunks: in the open transaction, else one commit each."""
        if self._tx is not None:
            for query, rows in statements:
                for part in _chunks(rows):
                    self._tx.run(query, rows=part).consume()
            return
        with self._session() as session:
            for query, rows in statements:
                for part in _chunks(rows):
                    session.execute_write(lambda tx, q=query, p=part: tx.run(q, rows=p).consume())

    def _group(self, ids: Iterable[str]) -> dict[str, list[str]]:
        """Keys by label for the ids of known labels (others cannot exist)."""
        out: dict[str, list[str]] = {}
        for nid in dict.fromkeys(ids):
            try:
                label, key = split_id(nid)
            except ValueError:
                continue
            if label in self._key:
                out.setdefault(label, []).append(key)
        return out

    def _edge(self, type_: str, src: str, dst: str, props: Props | None) -> Edge:
        if props is None:
            return Edge(type_, src, dst)
        ident = self.rel_identity(type_)
        clean = {k: v for k, v in sorted(props.items()) if not (k in ident and v == "")}
        return Edge(type_, src, dst, clean)

    def _node_props(self, label: str, props: Props) -> Props:
        key = self._key[label]
        return {key: props[key], **{k: v for k, v in sorted(props.items()) if k != key}}

    # -- lifecycle ---------------------------------------------------------------
    def close(self) -> None:
        self._driver.close()

    #: How long :meth:`apply_schema` waits for indexes to come online (populating
    #: them over a bulk-imported database of millions of nodes takes minutes).
    INDEX_WAIT_SECONDS = 3600

    @_translated
    def apply_schema(self) -> None:
        """Create the constraints and indexes (idempotent), wait until every index
        is online, and check the schema version."""
        dups = self._duplicate_meta_keys()
        if dups:  # a store written before the SkiptraceMeta key constraint existed
            raise StoreError(f"Neo4j at {self.uri} holds several SkiptraceMeta nodes for "
                             f"{', '.join(map(repr, dups))}: delete the extra ones, then apply "
                             "the schema (it makes the key unique)")
        for statement in skiptrace_schema.constraints_cypher():
            self._driver.execute_query(statement, database_=self.database)
        # CREATE INDEX returns at once and populates in the background; reads
        # before it is online would scan (an index that failed raises here)
        self._driver.execute_query("CALL db.awaitIndexes($t)", {"t": self.INDEX_WAIT_SECONDS},
                                   database_=self.database)
        version = int(self.schema["version"])
        records, _, _ = self._driver.execute_query(
            f"MERGE (m:{META_LABEL} {{key: 'schema'}}) ON CREATE SET m.version = $v "
            "RETURN m.version AS v", {"v": version}, database_=self.database)
        stored = records[0]["v"]
        if stored != version:
            raise StoreError(f"Neo4j at {self.uri} has schema version {stored}, "
                             f"this skiptrace writes version {version}")
        self._schema_ready = True
        if self.get_meta(KEY_META) is None:  # a new store gets its pseudonym key
            self.put_meta(KEY_META, new_key(), replace=False)

    def _duplicate_meta_keys(self) -> list[str]:
        return [r["k"] for r in self._read(
            f"MATCH (m:{META_LABEL}) WITH m.key AS k, count(*) AS c WHERE c > 1 "
            "RETURN k ORDER BY k")]

    @_translated
    def health_facts(self) -> dict[str, Any]:
        """What :func:`skiptrace.store.health.doctor` reports: schema version,
        the schema's constraints and indexes by state, duplicated metadata
        keys, loads running now (from their transaction metadata) and the
        last published load."""
        expected = [m.group(1) for st in skiptrace_schema.constraints_cypher()
                    if (m := re.match(r"CREATE\s+(?:CONSTRAINT|INDEX)\s+(\w+)", st, re.I))]
        version = self._read(f"MATCH (m:{META_LABEL} {{key: 'schema'}}) RETURN m.version AS v")
        constraints = {r["name"] for r in self._read("SHOW CONSTRAINTS YIELD name")}
        indexes = {r["name"]: r["state"] for r in self._read("SHOW INDEXES YIELD name, state")}
        online, offline = [], []
        for name in expected:
            state = indexes.get(name)
            if state is None and name not in constraints:
                continue
            (online if state == "ONLINE" else offline).append(name)
        running = [{"load_id": r["m"]["skiptrace_load"], "tx": r["id"], "since": str(r["t"])}
                   for r in self._read(
                       "SHOW TRANSACTIONS YIELD transactionId AS id, metaData AS m, startTime AS t "
                       "WHERE m.skiptrace_load IS NOT NULL RETURN id, m, t")]
        return {"schema_version": version[0]["v"] if version else None,
                "schema_version_expected": int(self.schema["version"]),
                "expected": expected, "online": online, "offline": offline,
                "duplicate_meta_keys": self._duplicate_meta_keys(),
                "running_loads": running, "last_load": self.last_load()}

    def _ensure_schema(self) -> None:
        if not self._schema_ready:
            self.apply_schema()

    @_translated
    def clear(self) -> None:
        """Delete every skiptrace node and relationship and the ledger (schema stays)."""
        for label in [*self._labels, ATTEMPT_LABEL, PAYMENT_LABEL]:
            if self._tx is not None:
                self._tx.run(f"MATCH (n:{_q(label)}) DETACH DELETE n").consume()
                continue
            while True:
                records, _, _ = self._driver.execute_query(
                    f"MATCH (n:{_q(label)}) WITH n LIMIT $n DETACH DELETE n RETURN count(*) AS c",
                    {"n": CHUNK_ROWS}, database_=self.database)
                if records[0]["c"] == 0:
                    break

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One explicit transaction for every write (and read) inside; nested calls join it."""
        if self._tx is not None:
            yield
            return
        try:
            self._ensure_schema()
            session = self._session()
            tx = session.begin_transaction(metadata=self._tx_metadata)
        except (Neo4jError, DriverError) as exc:
            raise self._store_error(exc) from exc
        self._tx = tx
        try:
            yield
        except BaseException:
            self._tx = None
            try:
                tx.rollback()
            except (Neo4jError, DriverError) as exc:  # the original error matters more
                # (a dead connection: the server rolls the transaction back itself)
                log.debug("rollback failed: %s", _one_line(exc))
            raise
        else:
            self._tx = None
            self._committing = True
            try:
                tx.commit()
            except (Neo4jError, DriverError) as exc:
                raise self._store_error(exc) from exc
            self._committing = False
        finally:
            self._tx = None
            with contextlib.suppress(Neo4jError, DriverError):
                tx.close()
                session.close()

    def publish(self, write: Callable[[], T]) -> T:
        """Run a whole load in one explicit transaction tagged with a new load
        id, recorded in ``SkiptraceMeta {key: 'last_load'}`` by the same
        transaction. After a transient failure, wait :attr:`RETRY_DELAYS` and
        run ``write`` again from the start (each retry is one line of
        warning); a commit whose answer was lost counts as published if the
        record holds this load's id. Raises :class:`StoreError` saying
        whether anything was published."""
        load_id = uuid.uuid4().hex[:16]
        attempts = len(self.RETRY_DELAYS) + 1
        unknown = False  # some commit of this load went unanswered
        for attempt in range(1, attempts + 1):
            self._tx_metadata = {"app": "skiptrace", "skiptrace_load": load_id}
            self._committing = False
            try:
                with self.transaction():
                    result = write()
                    self.put_meta(LOAD_META, json.dumps(
                        {"id": load_id, "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}))
                return result
            except StoreError as exc:
                error = exc
                unknown = unknown or self._committing
            finally:
                self._tx_metadata = None
            if unknown and self._published(load_id):
                log.info("load %s was committed (its answer was lost)", load_id)
                return result
            if not error.transient or attempt == attempts:
                break
            delay = self.RETRY_DELAYS[attempt - 1]
            log.warning("neo4j unavailable, retrying the load in %gs (%d/%d)...",
                        delay, attempt, attempts - 1)
            time.sleep(delay)
        if unknown:
            raise StoreError(f"{error}; the commit of load {load_id} went unanswered, so it may "
                             f"or may not have been published: `skiptrace doctor --neo4j "
                             f"{self.uri}` shows the last published load") from error
        raise StoreError(f"{error}; nothing was published: the store is as before the load",
                         transient=error.transient) from error

    #: How often :meth:`consistent` runs a read again when a load commits during it.
    CONSISTENT_TRIES = 5

    def consistent(self, read: Callable[[], T]) -> T:
        """Run ``read`` between two reads of the ``last_load`` record and run it
        again if a load was published in between (Neo4j reads at read
        committed, statement by statement, so a reader's several queries could
        otherwise straddle a load's commit). Inside a transaction, or inside
        another ``consistent`` call of this thread (which checks the whole): just ``read()``."""
        if self._tx is not None or getattr(self._reading, "depth", 0):
            return read()
        self._reading.depth = 1
        try:
            mark = self.get_meta(LOAD_META)
            for _ in range(self.CONSISTENT_TRIES):
                result = read()
                now = self.get_meta(LOAD_META)
                if now == mark:
                    return result
                log.info("a load was published during a read; reading again")
                mark = now
        finally:
            self._reading.depth = 0
        raise StoreError(f"Neo4j at {self.uri}: loads kept committing during a read "
                         f"({self.CONSISTENT_TRIES} tries); try again", transient=True)

    def _published(self, load_id: str) -> bool:
        """Whether the ``last_load`` record names ``load_id`` (False if unreadable)."""
        try:
            value = self.get_meta(LOAD_META)
        except StoreError:
            return False
        return value is not None and json.loads(value).get("id") == load_id

    def last_load(self) -> dict[str, Any] | None:
        """The record of the last published load (``id``, ``at``), or None."""
        value = self.get_meta(LOAD_META)
        return json.loads(value) if value else None

    # -- writes ------------------------------------------------------------------
    @_translated
    def write(self, batch: Batch) -> None:
        """Upsert a batch; every statement is an ``UNWIND ... MERGE`` of up to CHUNK_ROWS rows."""
        self._ensure_schema()
        statements: list[tuple[str, list[dict[str, Any]]]] = []
        for label, nodes in batch.nodes.items():
            if label not in self._key:
                raise StoreError(f"unknown node label {label!r}")
            types, minmax = self._node_types[label], self._node_minmax[label]
            rows = []
            for key, props in nodes.items():
                present = {p: _coerce(v, types[p]) for p, v in props.items()
                           if v is not None and p in types}
                rows.append({"key": str(key),
                             "set": {p: v for p, v in present.items() if p not in minmax},
                             "mm": {p: v for p, v in present.items() if p in minmax}})
            statements.append((self._node_write[label], rows))
        for type_, edges in batch.edges.items():
            if type_ not in self._rel_types:
                raise StoreError(f"unknown relationship type {type_!r}")
            types, minmax = self._rel_types[type_], self._rel_minmax[type_]
            ident = self.rel_identity(type_)
            by_ends: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for e in edges:
                (sl, sk), (dl, dk) = split_id(e.src), split_id(e.dst)
                for label in (sl, dl):
                    if label not in self._key:
                        raise StoreError(f"unknown node label {label!r} in a {type_} relationship")
                present = {p: _coerce(v, types[p]) for p, v in e.props.items()
                           if v is not None and p in types}
                by_ends.setdefault((sl, dl), []).append({
                    "src": sk, "dst": dk,
                    "ident": [str(e.props.get(p) or "") for p in ident],
                    "set": {p: v for p, v in present.items() if p not in ident and p not in minmax},
                    "mm": {p: v for p, v in present.items() if p in minmax},
                })
            for (sl, dl), rows in by_ends.items():
                statements.append((self._edge_statement(type_, sl, dl), rows))
        if batch.attempts:
            rows = []
            for a in batch.attempts:
                present = {c: _coerce(a.get(c), t) for c, t in self._attempt_types.items()
                           if c != "attempt_id" and a.get(c) is not None}
                rows.append({"key": str(a["attempt_id"]), "set": present})
            statements.append((f"UNWIND $rows AS row MERGE (a:{ATTEMPT_LABEL} "
                               f"{{{_ATTEMPT_KEY}: row.key}}) SET a += row.set", rows))
        if batch.payments:
            rows = []
            for p in batch.payments:
                amount = float(p["amount"])
                rows.append({"key": payment_key(p),
                             "set": {"borrower_id": str(p["borrower_id"]),
                                     "paid_at": str(p["paid_at"]), "amount": amount}})
            statements.append((f"UNWIND $rows AS row MERGE (p:{PAYMENT_LABEL} "
                               f"{{{_PAYMENT_KEY}: row.key}}) ON CREATE SET p += row.set", rows))
        if batch.audit:  # appended, never merged: an audit row is not updated
            rows = [{c: (bool(r[c]) if c == "revealed" else str(r[c])) for c in AUDIT_COLUMNS
                     if r.get(c) is not None} for r in batch.audit]
            statements.append((f"UNWIND $rows AS row CREATE (a:{AUDIT_LABEL}) SET a = row", rows))
        log.debug("writing %d rows in %d statements", len(batch), len(statements))
        self._write(statements)

    @_translated
    def delete(self, labels: Iterable[str] = (), types: Iterable[str] = ()) -> None:
        queries = [f"MATCH ()-[r:{_q(t)}]->() WITH r LIMIT $n DELETE r RETURN count(*) AS c" for t in types]
        queries += [f"MATCH (x:{_q(label)}) WITH x LIMIT $n DETACH DELETE x RETURN count(*) AS c"
                    for label in labels]
        for q in queries:
            if self._tx is not None:
                while self._tx.run(q, n=CHUNK_ROWS).single()["c"]:
                    pass
                continue
            while True:
                records, _, _ = self._driver.execute_query(q, {"n": CHUNK_ROWS}, database_=self.database)
                if records[0]["c"] == 0:
                    break

    @_translated
    def put_meta(self, name: str, value: str, *, replace: bool = True) -> str:
        """One ``SkiptraceMeta {key: name}`` node holding ``value``."""
        sets = "SET m.value = $v" if replace else "ON CREATE SET m.value = $v"
        query = f"MERGE (m:{META_LABEL} {{key: $k}}) {sets} RETURN m.value AS v"
        if self._tx is not None:
            return self._tx.run(query, k=name, v=str(value)).single()["v"]
        records, _, _ = self._driver.execute_query(query, {"k": name, "v": str(value)},
                                                   database_=self.database)
        return records[0]["v"]

    @_translated
    def get_meta(self, name: str) -> str | None:
        recs = self._read(f"MATCH (m:{META_LABEL} {{key: $k}}) RETURN m.value AS v", k=name)
        return recs[0]["v"] if recs else None

    # -- reads -------------------------------------------------------------------
    @_translated
    def counts(self) -> Counts:
        """Counts from Neo4j's count store: one query, one branch per label and type."""
        parts = [f"MATCH (n:{_q(label)}) RETURN 'n' AS kind, {_lit(label)} AS name, count(n) AS c"
                 for label in self._labels]
        parts += [f"MATCH ()-[r:{_q(t)}]->() RETURN 'r' AS kind, {_lit(t)} AS name, count(r) AS c"
                  for t in self._rel_types]
        parts += [f"MATCH (n:{_q(label)}) RETURN 'l' AS kind, {_lit(name)} AS name, count(n) AS c"
                  for label, name in ((ATTEMPT_LABEL, "contact_attempts"),
                                      (PAYMENT_LABEL, "payments"))]
        found: dict[str, dict[str, int]] = {"n": {}, "r": {}, "l": {}}
        for r in self._read(" UNION ALL ".join(parts)):
            if r["c"]:
                found[r["kind"]][r["name"]] = r["c"]
        return Counts(nodes=dict(sorted(found["n"].items())),
                      relationships=dict(sorted(found["r"].items())),
                      ledger=found["l"])

    @_translated
    def existing_keys(self, label: str, keys: Iterable[str]) -> set[str]:
        if label not in self._key:
            return set()
        found: set[str] = set()
        query = (f"UNWIND $keys AS k MATCH (n:{_q(label)} {{{_q(self._key[label])}: k}}) "
                 "RETURN k")
        for part in _chunks([str(k) for k in dict.fromkeys(keys)]):
            found.update(r["k"] for r in self._read(query, keys=part))
        return found

    @_translated
    def get_nodes(self, ids: Iterable[str]) -> dict[str, Props]:
        """Properties of the existing nodes among ``ids`` (ordered as SQLite orders them)."""
        ids = list(ids)
        found: dict[str, Props] = {}
        for label, keys in self._group(ids).items():
            query = (f"UNWIND $keys AS k MATCH (n:{_q(label)} {{{_q(self._key[label])}: k}}) "
                     "RETURN k, properties(n) AS p")
            for part in _chunks(keys):
                for r in self._read(query, keys=part):
                    found[node_id(label, r["k"])] = self._node_props(label, r["p"])
        return found

    @_translated
    def stream_nodes(self, label: str) -> Iterator[tuple[str, Props]]:
        """Every node of ``label`` as ``(key, props)``, streamed in key order."""
        if label not in self._key:
            return
        key = self._key[label]
        # the IS NOT NULL predicate lets the planner stream in key-index order instead of sorting
        query = (f"MATCH (n:{_q(label)}) WHERE n.{_q(key)} IS NOT NULL "
                 f"RETURN properties(n) AS p ORDER BY n.{_q(key)}")
        for r in self._stream(query):
            props = self._node_props(label, r["p"])
            yield props[key], props

    @_translated
    def degrees(self, ids: Iterable[str], types: Iterable[str] | None = None) -> dict[str, int]:
        """Degree (out + in: a self-loop counts twice) of the ids that have any, in SQLite's order."""
        ids = list(ids)
        pattern = self._type_pattern(types)
        if pattern is None:
            return {}
        out: dict[str, int] = {}
        for label, keys in self._group(ids).items():
            query = (f"UNWIND $keys AS k MATCH (n:{_q(label)} {{{_q(self._key[label])}: k}}) "
                     f"WITH k, COUNT {{ (n)-[{pattern}]->() }} + COUNT {{ (n)<-[{pattern}]-() }} AS d "
                     "WHERE d > 0 RETURN k, d")
            for part in _chunks(keys):
                for r in self._read(query, keys=part):
                    out[node_id(label, r["k"])] = r["d"]
        return out

    @_translated
    def incident_edges(self, ids: Iterable[str], types: Iterable[str] | None = None) -> list[Edge]:
        """Edges touching ``ids``, each once (in no set order)."""
        ids = list(dict.fromkeys(ids))
        pattern = self._type_pattern(types)
        if pattern is None:
            return []
        found: dict[str, tuple[Edge, str]] = {}  # element id -> (edge, SQLite's ident string)
        for label, keys in self._group(ids).items():
            query = (f"UNWIND $keys AS k MATCH (n:{_q(label)} {{{_q(self._key[label])}: k}})"
                     f"-[r{pattern}]-() WITH DISTINCT r "
                     f"RETURN elementId(r) AS id, type(r) AS t, {self._id_of('startNode(r)')} AS s, "
                     f"{self._id_of('endNode(r)')} AS d, properties(r) AS p")
            for part in _chunks(keys):
                for r in self._read(query, keys=part):
                    if r["s"] is not None and r["d"] is not None:
                        e = self._edge(r["t"], r["s"], r["d"], r["p"])
                        found[r["id"]] = (e, _SEP.join(self.edge_key(e)[3]))
        return [e for e, _ident in found.values()]

    @_translated
    def expand(self, groups: Sequence[tuple[tuple[str, ...] | None, list[str]]],
               degree_types: tuple[str, ...] | None) -> tuple[list[Edge], dict[str, int] | None]:
        """One hop in one round trip: a UNION ALL branch per (label, types)
        of the frontier, each relationship once, with the degrees of both
        its ends (as :meth:`degrees` counts them) in the same rows."""
        branches: list[str] = []
        params: dict[str, list[str]] = {}
        for follow, members in groups:
            pattern = self._type_pattern(follow)
            if pattern is None:
                continue
            for label, keys in self._group(members).items():
                if len(keys) > CHUNK_ROWS:  # a huge frontier: the chunked per-group queries
                    return super().expand(groups, degree_types)
                name = f"k{len(params)}"
                params[name] = keys
                branches.append(f"UNWIND ${name} AS k MATCH (n:{_q(label)} "
                                f"{{{_q(self._key[label])}: k}})-[r{pattern}]-() RETURN r")
        if not branches:
            return [], {}
        dpat = self._type_pattern(degree_types)
        deg = (lambda v: f"COUNT {{ ({v})-[{dpat}]->() }} + COUNT {{ ({v})<-[{dpat}]-() }}") \
            if dpat is not None else (lambda v: "0")
        query = ("CALL () { " + " UNION ALL ".join(branches) + " } "
                 "WITH DISTINCT r WITH r, startNode(r) AS a, endNode(r) AS b "
                 f"RETURN type(r) AS t, {self._id_of('a')} AS s, {self._id_of('b')} AS d, "
                 f"properties(r) AS p, {deg('a')} AS ds, {deg('b')} AS dd")
        edges: list[Edge] = []
        degrees: dict[str, int] = {}
        for r in self._read(query, **params):
            if r["s"] is None or r["d"] is None:
                continue
            edges.append(self._edge(r["t"], r["s"], r["d"], r["p"]))
            for end, d in ((r["s"], r["ds"]), (r["d"], r["dd"])):
                if d > 0:
                    degrees[end] = d
        return edges, degrees

    @_translated
    def stream_edges(self, types: Iterable[str] | None = None, *,
                     with_props: bool = True, ordered: bool = False) -> Iterator[Edge]:
        pattern = self._type_pattern(types)
        if pattern is None:
            return
        props = "properties(r)" if with_props or ordered else "null"
        query = (f"MATCH (a)-[r{pattern}]->(b) RETURN type(r) AS t, {self._id_of('a')} AS s, "
                 f"{self._id_of('b')} AS d, {props} AS p")
        if ordered:
            query += " ORDER BY t, s, d"
        edges = (self._edge(r["t"], r["s"], r["d"], r["p"]) for r in self._stream(query)
                 if r["s"] is not None and r["d"] is not None)
        if not ordered:
            yield from edges
            return
        for e in self._tie_sorted(edges):  # identity values break ties, as in SQLite's key
            yield e if with_props else Edge(e.type, e.src, e.dst)

    @_translated
    def stream_edge_columns(self, types: Iterable[str] | None = None, props: Sequence[str] = (),
                            *, chunk: int = 100_000, where: EdgeFilter | None = None,
                            sources: Collection[str] | None = None) -> Iterator[EdgeChunk]:
        """One Cypher query per type returning only the end ids and the asked
        properties, pulled ``chunk`` records per round trip. ``where`` is a
        ``WHERE r.p IN $values`` in the query; ``sources`` an ``UNWIND`` of the
        start nodes' keys, one label and ``CHUNK_ROWS * 10`` keys per query."""
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        props = tuple(props)
        allowed = _check_where(where)
        params = {f"w{i}": sorted(vals, key=repr) for i, vals in enumerate(allowed.values())}
        cond = " AND ".join(f"r.{_q(p)} IN $w{i}" for i, p in enumerate(allowed))
        starts: dict[str, list[str]] | None = None
        if sources is not None:
            starts = {}
            for nid in sources:
                label, key = split_id(nid)
                if label in self._key:
                    starts.setdefault(label, []).append(key)
        for t in self._known_types(types):
            known = self._rel_types[t]
            if any(p not in known for p in allowed):
                continue  # the type lacks a filtered property: nothing matches
            ident = set(self.rel_identity(t))
            cols = "".join(f", r.{_q(p)} AS p{i}" if p in known else f", null AS p{i}"
                           for i, p in enumerate(props))
            ret = f" RETURN {self._id_of('a')} AS s, {self._id_of('b')} AS d{cols}"
            if starts is not None:
                yield from self._edge_columns_from(t, props, known, ident, cond, params, starts, chunk)
                continue
            runs = [(f"MATCH (a)-[r:{_q(t)}]->(b)" + (f" WHERE {cond}" if cond else "") + ret, params)]
            for query, args in runs:
                for recs in self._stream_pages(query, chunk, **args):
                    out = EdgeChunk(t, [], [], {p: [] for p in props})
                    for r in recs:
                        if r[0] is None or r[1] is None:  # an end outside the schema's labels
                            continue
                        out.src.append(r[0])
                        out.dst.append(r[1])
                        for i, p in enumerate(props):
                            v = r[2 + i]
                            out.props[p].append(None if v == "" and p in ident else v)
                    if out.src:
                        yield out

    def _edge_columns_from(self, t: str, props: tuple[str, ...], known: Collection[str],
                           ident: set[str], cond: str, params: dict[str, Any],
                           starts: dict[str, list[str]], chunk: int) -> Iterator[EdgeChunk]:
        """``stream_edge_columns`` with ``sources``: one record per start node, its
        relationships' end ids and properties as lists (a per-node subquery, so nothing
        is aggregated across nodes). The driver's cost is per record, and a delinquent
        borrower lists dozens of numbers: one record per row made the ring projection's
        listings read several times slower than SQLite's (bench/RESULTS.md, session 10)."""
        vals = ", ".join(f"r.{_q(p)}" if p in known else "null" for p in props)
        groups = max(1, chunk // 64)  # records per round trip: ~chunk rows at tens per node
        page = CHUNK_ROWS * 10
        for label, keys in sorted(starts.items()):
            prefix = label + ":"
            query = (f"UNWIND $keys AS k CALL (k) {{ MATCH (a:{_q(label)} {{{_q(self._key[label])}: k}})"
                     f"-[r:{_q(t)}]->(b)" + (f" WHERE {cond}" if cond else "")
                     + f" WITH r, {self._id_of('b')} AS d WHERE d IS NOT NULL"
                     f" RETURN collect(d) AS d, collect([{vals}]) AS p }}"
                     " WITH k, d, p WHERE size(d) > 0 RETURN k, d, p")
            for at in range(0, len(keys), page):
                for recs in self._stream_pages(query, groups, **params, keys=keys[at:at + page]):
                    out = EdgeChunk(t, [], [], {p: [] for p in props})
                    for k, d, pv in recs:
                        out.src.extend([prefix + k] * len(d))
                        out.dst.extend(d)
                        for i, p in enumerate(props):
                            col = [row[i] for row in pv]
                            out.props[p].extend([None if v == "" else v for v in col] if p in ident else col)
                    if out.src:
                        yield out

    @_translated
    def stream_node_columns(self, label: str, props: Sequence[str] = (), *,
                            chunk: int = 100_000) -> Iterator[NodeChunk]:
        """One Cypher query returning the key and the asked properties in key
        order, pulled ``chunk`` records per round trip."""
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        if label not in self._key:
            return
        props = tuple(props)
        key = self._key[label]
        cols = "".join(f", n.{_q(p)} AS p{i}" for i, p in enumerate(props))
        query = (f"MATCH (n:{_q(label)}) WHERE n.{_q(key)} IS NOT NULL "
                 f"RETURN n.{_q(key)} AS k{cols} ORDER BY n.{_q(key)}")
        prefix = label + ":"
        for recs in self._stream_pages(query, chunk):
            yield NodeChunk(label, [prefix + r[0] for r in recs],
                            {p: [r[1 + i] for r in recs] for i, p in enumerate(props)})

    @_translated
    def ledger(self, borrower_id: str) -> Ledger:
        attempts = []
        for r in self._read(f"MATCH (a:{ATTEMPT_LABEL} {{borrower_id: $b}}) RETURN properties(a) AS p",
                            b=borrower_id):
            p = r["p"]
            attempts.append({c: p[c] for c in self._attempt_types if p.get(c) is not None})
        attempts.sort(key=lambda a: (a.get("at", ""), a["attempt_id"]))
        payments = [{c: r["p"][c] for c in self._payment_cols} for r in self._read(
            f"MATCH (p:{PAYMENT_LABEL} {{borrower_id: $b}}) RETURN properties(p) AS p", b=borrower_id)]
        payments.sort(key=lambda p: (p["paid_at"], p["amount"]))
        return Ledger(borrower_id, attempts, payments)

    @_translated
    def stream_ledger(self, table: str) -> Iterator[Props]:
        if table == AUDIT_TABLE:
            for r in self._stream(f"MATCH (a:{AUDIT_LABEL}) RETURN properties(a) AS p ORDER BY a.at"):
                a = {c: r["p"][c] for c in AUDIT_COLUMNS if r["p"].get(c) is not None}
                a["revealed"] = bool(a.get("revealed"))
                yield a
            return
        if table not in self.LEDGER_TABLES:
            raise ValueError(f"unknown ledger table {table!r}")
        if table == "payments":
            for r in self._stream(f"MATCH (p:{PAYMENT_LABEL}) RETURN properties(p) AS p"):
                yield {c: r["p"][c] for c in self._payment_cols}
            return
        for r in self._stream(f"MATCH (a:{ATTEMPT_LABEL}) RETURN properties(a) AS p"):
            p = r["p"]
            yield {c: p[c] for c in self._attempt_types if p.get(c) is not None}
