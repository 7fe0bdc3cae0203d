"""Load a directory of input files into a graph store, all or nothing.

Flow: discover files -> read rows -> parse and validate each value by the
schema (graph_schema/schema.toml) -> map the row onto nodes, relationships
and ledger rows (:mod:`skiptrace.ingest.mapping`) -> write in batches.

All or nothing: on a store that can hold a whole load in one transaction
(SQLite) the load is one transaction, rolled back if any row is bad. On
Neo4j, where a load of millions of rows is too big for one transaction, a
first pass validates every file without writing, and only a clean input is
written, in batches; each batch MERGEs, so a write interrupted half-way is
completed by running the same load again. Either way every problem found (up
to ``max_errors``) is reported as ``file:line:column: reason`` and nothing is
written.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import skiptrace_schema
from skiptrace.errors import InputError, Problem, SkiptraceError
from skiptrace.ingest import normalise as nz
from skiptrace.ingest.mapping import MAPPERS
from skiptrace.ingest.sources import Reader, RowError, Source, discover
from skiptrace.store.base import Batch, Counts, GraphStore, node_id

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (bytes done, bytes total, current file)


@dataclass
class LoadReport:
    """What a load read and what the store holds afterwards."""

    directory: str
    files: dict[str, int] = field(default_factory=dict)  # file name -> rows read
    ignored: list[str] = field(default_factory=list)
    rows: int = 0
    seconds: float = 0.0
    counts: Counts | None = None
    phones_parsed: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


class _FieldError(Exception):
    def __init__(self, column: str, reason: str):
        super().__init__(reason)
        self.column, self.reason = column, reason


class _Borrowers:
    """Region and timezone of every borrower known to this load (or the store).

    Kept as an index into a small table of (region, timezone) pairs, so a
    million borrowers cost one dict entry each.
    """

    def __init__(self, store: GraphStore, default_region: str, default_tz: str):
        self.store = store
        self.default = (default_region, default_tz)
        self._combos: list[tuple[str, str]] = []
        self._combo_ix: dict[tuple[str, str], int] = {}
        self._known: dict[str, int] = {}
        self._absent: set[str] = set()

    def add(self, borrower_id: str, region: str | None, tz: str | None) -> None:
        combo = (region or self.default[0], tz or self.default[1])
        ix = self._combo_ix.get(combo)
        if ix is None:
            ix = self._combo_ix[combo] = len(self._combos)
            self._combos.append(combo)
        self._known[borrower_id] = ix

    def lookup(self, borrower_id: str) -> tuple[str, str] | None:
        """(region, timezone) of a known borrower; None if it exists nowhere."""
        ix = self._known.get(borrower_id)
        if ix is not None:
            return self._combos[ix]
        if borrower_id in self._absent:
            return None
        got = self.store.get_nodes([node_id("Borrower", borrower_id)])
        props = got.get(node_id("Borrower", borrower_id))
        if props is None:
            self._absent.add(borrower_id)
            return None
        self.add(borrower_id, props.get("region"), props.get("timezone"))
        return self._combos[self._known[borrower_id]]


class _FileParser:
    """Parses rows of one source into typed values, by the schema's file spec."""

    def __init__(self, kind: str, spec: dict[str, Any], header: list[str] | None,
                 phones: nz.PhoneNormaliser, borrowers: _Borrowers, allow_extra: bool):
        self.kind = kind
        self.columns: dict[str, dict[str, Any]] = spec["columns"]
        self.required = set(spec.get("required", []))
        self.borrower_col: str | None = spec.get("borrower")
        self.phones = phones
        self.borrowers = borrowers
        self.allow_extra = allow_extra
        self.header = header
        # parse order: the borrower reference first (it gives region and
        # timezone), then the borrower's own region and timezone, then the rest
        first = [c for c in (self.borrower_col, "region", "timezone") if c and c in self.columns]
        self.order = first + [c for c in self.columns if c not in first]
        self.index = {c: i for i, c in enumerate(header)} if header is not None else None

    def header_problems(self) -> list[tuple[str | None, str]]:
        if self.header is None:
            return []
        out: list[tuple[str | None, str]] = []
        seen: set[str] = set()
        for h in self.header:
            if h in seen:
                out.append((h, "duplicate column"))
            seen.add(h)
            if h not in self.columns and not self.allow_extra:
                out.append((h, f"unknown column for {self.kind} (expected some of: "
                               f"{', '.join(self.columns)}; --allow-extra-columns ignores it)"))
        for r in sorted(self.required - seen):
            out.append((r, "missing required column"))
        return out

    def raw_values(self, row: list[str] | dict[str, Any]) -> dict[str, str]:
        if self.index is not None:
            assert isinstance(row, list)
            return {c: row[i] for c, i in self.index.items() if c in self.columns}
        assert isinstance(row, dict)
        out: dict[str, str] = {}
        for k, v in row.items():
            if k not in self.columns:
                if not self.allow_extra:
                    raise _FieldError(k, f"unknown field for {self.kind}")
                continue
            if v is None:
                continue
            out[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
        return out

    def parse(self, row: list[str] | dict[str, Any]) -> tuple[dict[str, Any], list[_FieldError]]:
        raw = self.raw_values(row)
        values: dict[str, Any] = {}
        errors: list[_FieldError] = []
        region, tz = self.borrowers.default
        for col in self.order:
            text = raw.get(col)
            if text is not None:
                text = text.strip()
            if not text:
                if col in self.required:
                    errors.append(_FieldError(col, "required value is empty"))
                continue
            try:
                v = self._convert(col, text, region, tz)
            except ValueError as exc:
                errors.append(_FieldError(col, str(exc)))
                continue
            values[col] = v
            if col == self.borrower_col:
                where = self.borrowers.lookup(v)
                if where is None:
                    errors.append(_FieldError(col, f"unknown borrower {v!r}: in no borrowers "
                                                   "file of this load nor in the store"))
                    return values, errors
                region, tz = where
            elif col == "region":
                region = v
            elif col == "timezone":
                tz = v
        return values, errors

    def _convert(self, col: str, text: str, region: str, tz: str) -> Any:
        spec = self.columns[col]
        t = spec["type"]
        if t == "str":
            return text
        if t == "phone":
            return self.phones(text, region)
        if t == "datetime":
            return nz.parse_time(text, tz)
        if t == "enum":
            v = text.lower()
            if v not in spec["values"]:
                raise ValueError(f"{text!r} is not one of {', '.join(spec['values'])}")
            return v
        if t == "int":
            v = nz.parse_int(text)
        elif t == "float":
            v = nz.parse_float(text)
        elif t == "bool":
            return nz.parse_bool(text)
        elif t == "address":
            if not nz.fold_key(text):
                raise ValueError(f"address {text!r} has no letters or digits")
            return text
        elif t == "timezone":
            return nz.parse_timezone(text)
        elif t == "region":
            return nz.parse_region(text)
        else:  # pragma: no cover - schema error
            raise SkiptraceError(f"schema: unknown column type {t!r}")
        if "min" in spec and v < spec["min"]:
            raise ValueError(f"{text} is below the minimum {spec['min']}")
        return v


def load(store: GraphStore, directory: str | Path, *, default_region: str = "CN",
         default_timezone: str = "UTC", allow_extra_columns: bool = False,
         max_errors: int = 50, batch_rows: int = 50_000,
         progress: Progress | None = None) -> LoadReport:
    """Validate every input file in ``directory`` and write it to ``store``.

    Raises :class:`InputError` (and writes nothing) if any row is bad.
    ``default_region`` parses local phone numbers of rows with no borrower
    region; ``default_timezone`` reads naive times of rows with no borrower
    timezone (calls, phone_status).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SkiptraceError(f"input directory not found: {directory}")
    default_region = nz.parse_region(default_region)
    nz.zone(default_timezone)
    schema = skiptrace_schema.load()
    kinds = list(schema["files"])
    sources, ignored = discover(directory, kinds)
    if not any(s.kind == "borrowers" for s in sources):
        raise InputError([Problem(str(directory), 0, None,
                                  "no borrowers file (borrowers.csv or borrowers.jsonl) in the directory")])
    for name in ignored:
        log.warning("ignoring %s: not an input file name (%s)", name, ", ".join(kinds))

    report = LoadReport(str(directory), ignored=ignored)
    started = time.perf_counter()
    store.apply_schema()
    opts = dict(default_region=default_region, default_timezone=default_timezone,
                allow_extra=allow_extra_columns, max_errors=max_errors,
                batch_rows=batch_rows, progress=progress)
    if store.atomic_load:
        with store.transaction():
            _run(store, sources, schema, report, write=True, **opts)
    else:
        _run(store, sources, schema, report, write=False, **opts)
        report.files.clear()
        report.rows = 0
        _run(store, sources, schema, report, write=True, **opts)
    report.seconds = time.perf_counter() - started
    report.counts = store.counts()
    return report


def _run(store: GraphStore, sources: list[Source], schema: dict[str, Any], report: LoadReport, *,
         write: bool, default_region: str, default_timezone: str, allow_extra: bool,
         max_errors: int, batch_rows: int, progress: Progress | None) -> None:
    phones = nz.PhoneNormaliser()
    borrowers = _Borrowers(store, default_region, default_timezone)
    problems: list[Problem] = []
    total_bytes = sum(s.size for s in sources) or 1
    done_bytes = 0
    batch = Batch()

    def problem(src: Source, line: int, column: str | None, reason: str) -> None:
        problems.append(Problem(src.name, line, column, reason))
        if len(problems) >= max_errors:
            raise _TooMany()

    def flush() -> None:
        nonlocal batch
        if write and not problems and len(batch):
            store.write(batch)
        batch = Batch()

    try:
        for src in sources:
            mapper = MAPPERS[src.kind]
            rows = 0
            with Reader(src) as reader:
                try:
                    header = reader.read_header() if src.format == "csv" else None
                except RowError as exc:
                    problem(src, exc.line, None, exc.reason)
                    continue
                fp = _FileParser(src.kind, schema["files"][src.kind], header, phones, borrowers,
                                 allow_extra)
                bad_header = fp.header_problems()
                for col, reason in bad_header:
                    problem(src, 1, col, reason)
                if bad_header:
                    continue
                for line, row in reader.rows():
                    if isinstance(row, RowError):
                        problem(src, line, row.column, row.reason)
                        continue
                    rows += 1
                    try:
                        values, errors = fp.parse(row)
                    except _FieldError as exc:
                        problem(src, line, exc.column, exc.reason)
                        continue
                    if errors:
                        for e in errors:
                            problem(src, line, e.column, e.reason)
                        continue
                    try:
                        mapper(values, batch)
                    except ValueError as exc:
                        problem(src, line, None, str(exc))
                        continue
                    if src.kind == "borrowers":
                        borrowers.add(values["borrower_id"], values.get("region"),
                                      values.get("timezone"))
                    if rows % batch_rows == 0:
                        flush()
                        if progress:
                            progress(done_bytes + reader.position, total_bytes, src.name)
                done_bytes += src.size
                if progress:
                    progress(done_bytes, total_bytes, src.name)
            report.files[src.name] = report.files.get(src.name, 0) + rows
            report.rows += rows
        flush()
    except _TooMany:
        stopped = True
    else:
        stopped = False
    report.phones_parsed = phones.parsed
    if problems:
        raise InputError(problems, len(problems), stopped=stopped)


class _TooMany(Exception):
    """Internal: the error cap was reached; stop reading."""
