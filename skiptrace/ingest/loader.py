"""Load a directory of input files into a graph store, all or nothing.

Flow: discover files -> read rows -> parse and validate each value by the
schema (graph_schema/schema.toml) -> map the row onto nodes, relationships
and ledger rows (:mod:`skiptrace.ingest.mapping`) -> hand batches to the
store's sink (:mod:`skiptrace.store.sink`), which overlaps writing with
parsing in the way that suits the store.

All or nothing: the load's writes run in one store transaction through
:meth:`GraphStore.publish`, so they become visible whole or not at all,
whatever interrupts them. On SQLite the transaction is rolled back if any
row is bad. On Neo4j (``validate_first``) a first pass validates every file
without writing, and only a clean input is written, in one explicit
transaction that the server rolls back if the client dies and discards in
recovery if the server does. Either way every problem found (up to
``max_errors``) is reported as ``file:line:column: reason`` and nothing is
written.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import skiptrace_schema
from skiptrace.errors import InputError, Problem, SkiptraceError
from skiptrace.ingest import normalise as nz
from skiptrace.ingest.mapping import MAPPERS, NO_RELATIONSHIPS
from skiptrace.ingest.sources import FileError, Reader, RowError, Source, discover, gzip_problem
from skiptrace.privacy import mask_cell
from skiptrace.store.base import Batch, Counts, GraphStore, node_id
from skiptrace.store.sink import ThreadedSink

log = logging.getLogger(__name__)
_COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")  # what a column name looks like

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
    #: ``on_error="quarantine"``: every problem of a row left out, and where they were written
    rejected: list[Problem] = field(default_factory=list)
    rejects_file: str | None = None

    @property
    def rejected_rows(self) -> int:
        """How many rows were left out (a row may have several problems)."""
        return len({(p.file, p.line) for p in self.rejected})

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
    million borrowers cost one dict entry each. A borrower this load does
    not define is looked up in the store one at a time; after
    :attr:`PRELOAD_AFTER` such lookups (an incremental load of a big book)
    every borrower in the store is read in one pass instead, and a borrower
    not found then is unknown without asking again.
    """

    PRELOAD_AFTER = 1000

    def __init__(self, get_nodes: Callable[[list[str]], dict[str, Any]],
                 all_borrowers: Callable[[], list[tuple[str, str | None, str | None]]],
                 default_region: str, default_tz: str):
        self.get_nodes = get_nodes
        self.all_borrowers = all_borrowers
        self.default = (default_region, default_tz)
        self._combos: list[tuple[str, str]] = []
        self._combo_ix: dict[tuple[str, str], int] = {}
        self._known: dict[str, int] = {}
        self._absent: set[str] = set()
        self._lookups = 0
        self._preloaded = False
        self._rejected: dict[str, str] = {}  # borrower id -> "file:line" of its rejected row

    def reject(self, borrower_id: str, where: str) -> None:
        """The row of ``borrower_id`` at ``where`` was left out (quarantine):
        rows that refer to it are left out too, unless another row of this
        load defines the borrower."""
        if borrower_id not in self._known:
            self._rejected.setdefault(borrower_id, where)

    def unknown_reason(self, borrower_id: str) -> str:
        where = self._rejected.get(borrower_id)
        if where is not None:
            return f"depends on borrower {borrower_id!r}, whose row {where} was rejected"
        return f"unknown borrower {borrower_id!r}: in no borrowers file of this load nor in the store"

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
        if borrower_id in self._absent or self._preloaded or borrower_id in self._rejected:
            return None
        self._lookups += 1
        if self._lookups > self.PRELOAD_AFTER:
            self._preload()
            return self.lookup(borrower_id)
        got = self.get_nodes([node_id("Borrower", borrower_id)])
        props = got.get(node_id("Borrower", borrower_id))
        if props is None:
            self._absent.add(borrower_id)
            return None
        self.add(borrower_id, props.get("region"), props.get("timezone"))
        return self._combos[self._known[borrower_id]]

    def _preload(self) -> None:
        """Every borrower of the store; this load's own rows keep precedence."""
        for key, region, tz in self.all_borrowers():
            if key not in self._known:
                self.add(key, region, tz)
        self._preloaded = True


def _store_borrowers(store: GraphStore) -> list[tuple[str, str | None, str | None]]:
    return [(k, p.get("region"), p.get("timezone")) for k, p in store.stream_nodes("Borrower")]


class _Converters:
    """Column converters shared by all files of one load.

    Each converter takes ``(text, region, tz)`` and returns the canonical
    value or raises ValueError. Phones are cached by the
    :class:`~skiptrace.ingest.normalise.PhoneNormaliser`; naive times and
    dates repeat a great deal (a capture has one timestamp) and are cached
    here per (text, timezone).
    """

    CACHE_LIMIT = 2_000_000

    def __init__(self, phones: nz.PhoneNormaliser):
        self.phones = phones
        self._time_cache: dict[tuple[str, str], str] = {}
        self._offset_cache: dict[str, str] = {}

    def phone(self, text: str, region: str, tz: str) -> str:
        return self.phones(text, region)

    def time(self, text: str, region: str, tz: str) -> str:
        if len(text) > 19:  # has an offset: usually unique (call times)
            if len(text) == 25 and text[19] in "+-":
                return self._offset_time(text, tz)
            return nz.parse_time(text, tz)
        key = (text, tz)
        v = self._time_cache.get(key)
        if v is None:
            v = nz.remember(self._time_cache, key, nz.parse_time(text, tz), self.CACHE_LIMIT)
        return v

    def _offset_time(self, text: str, tz: str) -> str:
        """``YYYY-MM-DDTHH:MM:SS+HH:MM`` to UTC, parsing each (hour, offset) once.

        With a whole-hour offset, UTC differs from local time in the date and
        hour only, so the converted ``YYYY-MM-DDTHH`` is cached per local
        hour and offset (per minute for offsets such as +05:30) and the rest
        is copied after a check that it is a valid ``:MM:SS``.
        """
        whole = text[23:] == "00"
        cut = 13 if whole else 16
        key = text[:cut] + text[19:]
        head = self._offset_cache.get(key)
        if head is not None:
            rest = text[cut:19]
            if whole:
                mm, ss, ok = rest[1:3], rest[4:6], rest[0] == ":" and rest[3] == ":"
            else:
                mm, ss, ok = "00", rest[1:3], rest[0] == ":"
            if ok and mm.isascii() and mm.isdigit() and ss.isascii() and ss.isdigit() \
                    and mm < "60" and ss < "60":
                return head + rest + "Z"
            return nz.parse_time(text, tz)  # raises with the reason
        utc = nz.parse_time(text, tz)
        nz.remember(self._offset_cache, key, utc[:cut], self.CACHE_LIMIT)
        return utc

    def for_column(self, spec: dict[str, Any]) -> Callable[[str, str, str], Any]:
        t = spec["type"]
        if t == "phone":
            return self.phone
        if t == "datetime":
            return self.time
        if t == "str":
            return lambda text, r, z: text.strip() or None
        if t == "enum":
            allowed = frozenset(spec["values"])
            shown = ", ".join(spec["values"])

            def enum(text: str, r: str, z: str) -> str:
                v = text.strip().lower()
                if v not in allowed:
                    raise ValueError(f"{mask_cell(text)} is not one of {shown}")
                return v
            return enum
        if t in ("int", "float"):
            parse = nz.parse_int if t == "int" else nz.parse_float
            low = spec.get("min")

            def number(text: str, r: str, z: str) -> int | float:
                v = parse(text)
                if low is not None and v < low:
                    raise ValueError(f"{mask_cell(text)} is below the minimum {low}")
                return v
            return number
        if t == "bool":
            return lambda text, r, z: nz.parse_bool(text)
        if t == "address":
            def address(text: str, r: str, z: str) -> str:
                text = text.strip()
                if not nz.fold_key(text):
                    raise ValueError(f"address {mask_cell(text)} has no letters or digits")
                return text
            return address
        if t in ("timezone", "region"):
            parse_cell = nz.parse_timezone if t == "timezone" else nz.parse_region
            example = "an IANA name such as Asia/Shanghai" if t == "timezone" else \
                "an ISO 3166 alpha-2 code such as CN"

            def named(text: str, r: str, z: str) -> str:
                try:
                    return parse_cell(text)
                except ValueError:  # the option's message shows the value; a cell's is masked
                    raise ValueError(f"unknown {t}: {mask_cell(text)} (use {example})") from None
            return named
        raise SkiptraceError(f"schema: unknown column type {t!r}")  # pragma: no cover


class _FileParser:
    """Parses rows of one source into typed values, by the schema's file spec."""

    def __init__(self, kind: str, spec: dict[str, Any], header: list[str] | None,
                 convert: _Converters, borrowers: _Borrowers, allow_extra: bool):
        self.kind = kind
        self.columns: dict[str, dict[str, Any]] = spec["columns"]
        self.required = set(spec.get("required", []))
        self.borrower_col: str | None = spec.get("borrower")
        self.borrowers = borrowers
        self.allow_extra = allow_extra
        self.header = header
        # parse order: the borrower reference first (it gives region and
        # timezone), then the borrower's own region and timezone, then the rest
        first = [c for c in (self.borrower_col, "region", "timezone") if c and c in self.columns]
        order = first + [c for c in self.columns if c not in first]
        self.convert = convert
        self.convs = {c: convert.for_column(self.columns[c]) for c in order}
        index = {c: i for i, c in enumerate(header)} if header is not None else {}
        # (column, position in a CSV row or None, converter, required)
        self.plan = [(c, index.get(c), self.convs[c], c in self.required) for c in order
                     if header is None or c in index]
        self.compile()

    def header_problems(self) -> list[tuple[str | None, str]]:
        if self.header is None:
            return []
        out: list[tuple[str | None, str]] = []
        if self.header and not set(self.header) & set(self.columns):
            # a file without its header row: do not echo its first row as column names
            return [(None, f"the first line is not a header (none of its {len(self.header)} fields "
                           f"names a column of {self.kind}: {', '.join(self.columns)})")]
        seen: set[str] = set()
        for h in self.header:
            if h in seen:
                out.append((h if _COLUMN_NAME.match(h) else mask_cell(h), "duplicate column"))
            seen.add(h)
            if h not in self.columns and not self.allow_extra:
                # a file without its header row names its first data row here: mask it
                shown = h if _COLUMN_NAME.match(h) else mask_cell(h)
                out.append((shown, f"unknown column for {self.kind} (expected some of: "
                               f"{', '.join(self.columns)}; --allow-extra-columns ignores it)"))
        for r in sorted(self.required - seen):
            out.append((r, "missing required column"))
        return out

    def _jsonl_texts(self, row: dict[str, Any]) -> dict[str, str]:
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

    def parse(self, row: list[str] | dict[str, Any]) -> tuple[dict[str, Any], list[_FieldError] | None]:
        """Typed values of a row, and its problems (None when clean)."""
        if isinstance(row, dict):
            texts = self._jsonl_texts(row)
            row = [texts.get(c, "") for c in self.columns]
            return self._parse_jsonl(row)
        return self._parse_csv(row)

    def compile(self) -> None:
        """Generate the row parsers: straight-line code, one block per column.

        A load parses millions of rows, and a generic loop over columns costs
        as much as the conversions themselves; like dataclasses and attrs, we
        generate the per-file function once instead. The generated code only
        calls the converters of :class:`_Converters` and records problems.
        """
        env: dict[str, Any] = {"_FieldError": _FieldError, "lookup": self.borrowers.lookup,
                               "unknown": self.borrowers.unknown_reason,
                               "DEFAULT": self.borrowers.default, "BAD": object(),
                               # the converters' caches, read inline on the hot path (the
                               # converters clear them in place, never replace them)
                               "PHONES": self.convert.phones._cache,
                               "TIMES": self.convert._time_cache,
                               "KNOWN": self.borrowers._known, "COMBOS": self.borrowers._combos}
        for n, (col, _pos, conv, _req) in enumerate(self.plan):
            env[f"conv{n}"] = conv
        jsonl_pos = {c: i for i, c in enumerate(self.columns)}
        for name, positions in (("_parse_csv", {c: p for c, p, _, _ in self.plan}),
                                ("_parse_jsonl", jsonl_pos)):
            src = self._source(positions)
            code = compile(src, f"<skiptrace row parser: {self.kind}>", "exec")
            scope: dict[str, Any] = {}
            exec(code, env, scope)  # noqa: S102 - generated from the schema, no user input
            setattr(self, name, scope["parse"])

    def _source(self, positions: dict[str, int]) -> str:
        """Python source of ``parse(row) -> (values, errors)`` for this file."""
        lines = ["def parse(row):",
                 "    values = {}",
                 "    errors = None",
                 "    region, tz = DEFAULT"]
        for n, (col, _pos, _conv, required) in enumerate(self.plan):
            missing = (f"errors = (errors or []) + [_FieldError({col!r}, 'required value is empty')]"
                       if required else "pass")
            if col == self.borrower_col:
                accept = ["ix = KNOWN.get(v)",
                          "where = COMBOS[ix] if ix is not None else lookup(v)",
                          "if where is None:",
                          f"    errors = (errors or []) + [_FieldError({col!r}, unknown(v))]",
                          "    return values, errors",
                          "region, tz = where"]
            elif col == "region":
                accept = ["region = v"]
            elif col == "timezone":
                accept = ["tz = v"]
            else:
                accept = []
            lines += [f"    t = row[{positions[col]}]",
                      "    if t:"]
            if self.columns[col]["type"] == "str":  # the common case, inlined
                lines += ["        v = t.strip()",
                          "        if v:",
                          f"            values[{col!r}] = v"]
                lines += [f"            {x}" for x in accept]
                lines += ["        else:", f"            {missing}"]
            else:
                kind = self.columns[col]["type"]
                if kind == "phone":  # a cache hit skips two calls
                    lines += ["        v = PHONES.get(t if t[0] == '+' else (t, region))",
                              "        if v is None:"]
                elif kind == "datetime":
                    lines += ["        v = TIMES.get((t, tz)) if len(t) <= 19 else None",
                              "        if v is None:"]
                elif kind == "int":  # int() is the parse of almost every value
                    low = self.columns[col].get("min")
                    lines += ["        try:",
                              "            v = int(t)",
                              "        except ValueError:",
                              "            v = None",
                              f"        if v is None or v < {low!r}:" if low is not None
                              else "        if v is None:"]
                else:
                    lines += ["        if True:"]
                lines += ["          try:",
                          f"            v = conv{n}(t, region, tz)",
                          "          except ValueError as exc:",
                          f"            errors = (errors or []) + [_FieldError({col!r}, str(exc))]",
                          "            v = BAD",
                          "        if v is None:",
                          f"            {missing}",
                          "        elif v is not BAD:",
                          f"            values[{col!r}] = v"]
                lines += [f"            {x}" for x in accept]
            lines += ["    else:", f"        {missing}"]
        lines += ["    return values, errors"]
        return "\n".join(lines) + "\n"


def load(store: GraphStore, directory: str | Path, *, default_region: str = "CN",
         default_timezone: str = "UTC", allow_extra_columns: bool = False,
         max_errors: int = 50, batch_rows: int = 50_000,
         progress: Progress | None = None, on_error: str = "fail",
         rejects: str | Path | None = None) -> LoadReport:
    """Validate every input file in ``directory`` and write it to ``store``.

    Raises :class:`InputError` (and writes nothing) if any row is bad.
    ``on_error="quarantine"`` (with ``rejects``, a file path) loads the valid
    rows instead and leaves out every bad row, and every row that refers to
    a borrower whose own row was left out; each of their problems is written
    to ``rejects`` (CSV: file, line, column, reason; cells masked as in error
    messages) and listed in :attr:`LoadReport.rejected`. A file that cannot
    be read at all (bad header, corrupt gzip) still fails the whole load.
    ``default_region`` parses local phone numbers of rows with no borrower
    region; ``default_timezone`` reads naive times of rows with no borrower
    timezone (calls, phone_status).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SkiptraceError(f"input directory not found: {directory}")
    default_region = nz.parse_region(default_region)
    nz.zone(default_timezone)
    if on_error not in ("fail", "quarantine"):
        raise ValueError(f"on_error must be 'fail' or 'quarantine', not {on_error!r}")
    if (on_error == "quarantine") != (rejects is not None):
        raise SkiptraceError("quarantine needs a rejects file, and a rejects file needs quarantine")
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
                batch_rows=batch_rows, progress=progress, quarantine=on_error == "quarantine")
    if store.atomic_load:
        if store.validate_first:
            _run(store, sources, schema, report, write=False, **opts)

        def write() -> None:  # repeatable: a store may retry it after a transient error
            report.files.clear()
            report.rows = 0
            report.rejected.clear()
            _run(store, sources, schema, report, write=True, **opts)
            if rejects is not None:  # before the commit: no load without its list of rejects
                _write_rejects(Path(rejects), report)

        store.publish(write)
    else:
        _run(store, sources, schema, report, write=False, **opts)
        report.files.clear()
        report.rows = 0
        report.rejected.clear()
        if rejects is not None:
            _write_rejects(Path(rejects), report)
        _run(store, sources, schema, report, write=True, **opts)
    report.seconds = time.perf_counter() - started
    report.counts = store.counts()
    return report


def _write_rejects(path: Path, report: LoadReport) -> None:
    """The rejected rows' problems as CSV (spreadsheet-safe), written whole or not at all."""
    from skiptrace.csvsafe import SafeWriter

    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = SafeWriter(f)
            w.writerow(["file", "line", "column", "reason"])
            w.writerows([p.file, p.line, p.column or "", p.reason] for p in report.rejected)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SkiptraceError(f"cannot write the rejects file {path}: {exc}; nothing was loaded") from None
    report.rejects_file = str(path)


def _run(store: GraphStore, sources: list[Source], schema: dict[str, Any], report: LoadReport, *,
         write: bool, default_region: str, default_timezone: str, allow_extra: bool,
         max_errors: int, batch_rows: int, progress: Progress | None, quarantine: bool = False
         ) -> None:
    phones = nz.PhoneNormaliser()
    convert = _Converters(phones)
    total_bytes = sum(s.size for s in sources) or 1
    sink = store.sink(total_bytes) if write else ThreadedSink(store)
    borrowers = _Borrowers(lambda ids: sink.call(store.get_nodes, ids),
                           lambda: sink.call(_store_borrowers, store), default_region,
                           default_timezone)
    problems: list[Problem] = []
    done_bytes = 0
    batch = Batch()

    checked: set[str] = set()

    def check_gzip(src: Source) -> None:
        if src.path.name.endswith(".gz") and src.name not in checked:
            # the first problem of a gzip file: a corrupt stream decodes to
            # garbage rows before its CRC fails; if so, report that alone
            checked.add(src.name)
            why = gzip_problem(src.path)
            if why is not None:
                raise _CorruptFile(why)

    def problem(src: Source, line: int, column: str | None, reason: str) -> None:
        check_gzip(src)
        problems.append(Problem(src.name, line, column, reason))
        if len(problems) >= max_errors:
            raise _TooMany()

    def bad_row(src: Source, line: int, column: str | None, reason: str) -> None:
        """A problem of one row: fatal, or (quarantine) the row is left out."""
        if not quarantine:
            return problem(src, line, column, reason)
        check_gzip(src)
        report.rejected.append(Problem(src.name, line, column, reason))

    def flush(position: int) -> None:
        nonlocal batch
        if write and not problems and len(batch):
            sink.write(batch, position)
        batch = Batch()

    # from which source on no relationships come (a hint that lets a store index early)
    edge_free_from = len(sources)
    while edge_free_from and sources[edge_free_from - 1].kind in NO_RELATIONSHIPS:
        edge_free_from -= 1
    try:
        for i, src in enumerate(sources):
            if i == edge_free_from and write and not problems:
                sink.relationships_done()
            mapper = MAPPERS[src.kind]
            rows = 0
            with Reader(src) as reader:
                try:
                    try:
                        header = reader.read_header() if src.format == "csv" else None
                    except RowError as exc:
                        problem(src, exc.line, None, exc.reason)
                        continue
                    fp = _FileParser(src.kind, schema["files"][src.kind], header, convert, borrowers,
                                     allow_extra)
                    bad_header = fp.header_problems()
                    for col, reason in bad_header:
                        problem(src, 1, col, reason)
                    if bad_header:
                        continue
                    parse = fp._parse_csv if src.format == "csv" else fp.parse
                    is_borrowers = src.kind == "borrowers"
                    countdown = batch_rows
                    for line, row in reader.rows():
                        rows += 1
                        if row.__class__ is RowError:
                            bad_row(src, line, row.column, row.reason)
                            continue
                        try:
                            values, errors = parse(row)
                        except _FieldError as exc:
                            bad_row(src, line, exc.column, exc.reason)
                            continue
                        if not errors:
                            try:
                                mapper(values, batch)
                            except ValueError as exc:
                                errors = [_FieldError(None, str(exc))]
                        if errors:
                            for e in errors:
                                bad_row(src, line, e.column, e.reason)
                            if is_borrowers and quarantine and values.get("borrower_id"):
                                borrowers.reject(values["borrower_id"], f"{src.name}:{line}")
                            continue
                        if is_borrowers:
                            borrowers.add(values["borrower_id"], values.get("region"),
                                          values.get("timezone"))
                        countdown -= 1
                        if not countdown:
                            countdown = batch_rows
                            flush(done_bytes + reader.position)
                            if progress:
                                progress(done_bytes + reader.position, total_bytes, src.name)
                    flush(done_bytes + src.size)
                    if write and not problems:
                        sink.end_of_file()
                    done_bytes += src.size
                    if progress:
                        progress(done_bytes, total_bytes, src.name)
                except FileError as exc:  # the file cannot be read on (gzip)
                    try:
                        problem(src, exc.line, None, exc.reason)
                    except _CorruptFile as bad:
                        problems.append(Problem(src.name, 0, None, bad.reason))
                except _CorruptFile as bad:  # one error for the file, not its garbage rows
                    problems.append(Problem(src.name, 0, None, bad.reason))
                    if len(problems) >= max_errors:
                        raise _TooMany() from None

            report.files[src.name] = report.files.get(src.name, 0) + rows
            report.rows += rows
        flush(done_bytes)
    except _TooMany:
        stopped = True
    except BaseException:
        sink.close(discard=True)
        raise
    else:
        stopped = False
    sink.close(discard=bool(problems))
    report.phones_parsed = phones.parsed
    if problems:
        raise InputError(problems, len(problems), stopped=stopped)


class _TooMany(Exception):
    """Internal: the error cap was reached; stop reading."""


class _CorruptFile(Exception):
    """Internal: a gzip input is corrupt; one problem for the whole file."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
