"""Files for ``neo4j-admin database import full``: the bulk initial load of a Neo4j database.

The Cypher loader (``skiptrace load DIR --neo4j URI``) merges row by row in
batches, about 9k input rows/s: hours for a 1M-borrower book. Production
Neo4j users do the first load of a big graph offline with
``neo4j-admin database import full``, which writes the store files directly
from CSV. :func:`write_import_files` writes those CSVs from any store (load
the book into SQLite first, then export), with the exact layout
:class:`~skiptrace.store.neo4j.Neo4jStore` reads, so the imported database is
indistinguishable from a Cypher-loaded one:

- one node file per label: ``nodes-<Label>.csv`` with the key property as
  the ``:ID`` in an id space named after the label
  (``borrower_id:ID(Borrower)``), which also stores it as a string property;
- one relationship file per type and pair of end labels:
  ``rels-<TYPE>-<From>-<To>.csv`` (``:START_ID(From)``, ``:END_ID(To)``);
  identity properties left out by a record are stored as ``''``, as the
  loader's MERGE does;
- the ledger as unconnected ``ContactAttempt {attempt_id}`` and
  ``Payment {payment_key}`` nodes carrying ``borrower_id``
  (``ledger-ContactAttempt.csv``, ``ledger-Payment.csv``), and the
  ``SkiptraceMeta {key: 'schema', version}`` node (``meta.csv``);
- property types in the headers from graph_schema/schema.toml: ``int`` is
  ``:long``, ``float`` ``:double``, ``bool`` ``:boolean``, and everything
  else a string, times included (the stores keep times as UTC ISO strings,
  ``2026-01-31T00:00:00Z``, so string order is time order);
- ``neo4j-admin.args``: the importer's options and file list, one per line,
  with paths relative to the directory; ``manifest.json``: what was written.

Import from inside the directory (the database must be stopped), then start
Neo4j and create the constraints and indexes::

    cd DIR && neo4j-admin database import full @neo4j-admin.args neo4j
    skiptrace schema apply --neo4j bolt://...

Nothing is masked here: phones and names are written as stored, since this is
a transfer between two stores of the same lender, not a report.
"""
from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import skiptrace_schema
from skiptrace.errors import SkiptraceError
from skiptrace.store.base import GraphStore, Props
# the Neo4j layout of the ledger and the schema marker, as Neo4jStore writes it
from skiptrace.store.neo4j import ATTEMPT_LABEL, META_LABEL, PAYMENT_LABEL, payment_key

__all__ = ["ARGS_FILE", "MANIFEST", "ImportFiles", "write_import_files"]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
ARGS_FILE = "neo4j-admin.args"
FORMAT = "skiptrace-neo4j-import"


_HEADER_TYPE = {"int": "long", "float": "double", "bool": "boolean"}  # anything else: string

#: Options every import of these files needs: strict about bad rows, and ""
#: is an empty string (an absent identity property), an empty field is null.
BASE_ARGS = (
    "--id-type=string",
    "--bad-tolerance=0",
    "--skip-bad-relationships=false",
    "--skip-duplicate-nodes=false",
    "--ignore-empty-strings=false",
    "--ignore-extra-columns=false",
    "--trim-strings=false",
    "--legacy-style-quoting=false",
    "--report-file=import.report",
)

Progress = Callable[[str, int], None]


@dataclass
class ImportFiles:
    """What :func:`write_import_files` wrote: counts, files and the importer's arguments."""

    directory: Path
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    ledger: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)  # file name -> data rows
    multiline: bool = False
    arguments: list[str] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0

    def command(self, database: str = "neo4j") -> str:
        """The shell command that imports these files (run it from inside :attr:`directory`)."""
        return f"neo4j-admin database import full @{ARGS_FILE} {database}"

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "schema_version": skiptrace_schema.version(),
                "directory": str(self.directory), "nodes": self.nodes,
                "relationships": self.relationships, "ledger": self.ledger,
                "files": self.files, "multiline_fields": self.multiline,
                "arguments": self.arguments, "bytes": self.bytes,
                "seconds": round(self.seconds, 3)}


# ------------------------------------------------------------------ CSV values
#
# Every string is quoted, so an empty string ("") stays distinct from a missing
# value (an empty field); numbers and booleans are written bare.

def _str(v: Any) -> str:
    if v is None:
        return ""
    if not isinstance(v, str):
        v = str(v)
    return '"' + v.replace('"', '""') + '"'


def _long(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, float):
        if not v.is_integer():
            raise ValueError(f"{v!r} is not an integer")
        return str(int(v))
    return str(int(v))


def _double(v: Any) -> str:
    if v is None:
        return ""
    f = float(v)
    if math.isfinite(f):
        return repr(f)
    return "NaN" if math.isnan(f) else ("Infinity" if f > 0 else "-Infinity")


def _bool(v: Any) -> str:
    if v is None:
        return ""
    return "true" if v else "false"


_FORMAT = {"long": _long, "double": _double, "boolean": _bool, "string": _str}


def _columns(props: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
    """(name, header type) of each schema property, in name order."""
    return [(p, _HEADER_TYPE.get(spec["type"], "string")) for p, spec in sorted(props.items())]


def _header(cols: list[tuple[str, str]]) -> list[str]:
    return [name if t == "string" else f"{name}:{t}" for name, t in cols]


class _CsvFile:
    """One output file: a header line, then rows; counts rows and spots multi-line values."""

    def __init__(self, directory: Path, name: str, header: list[str]) -> None:
        self.name = name
        self.rows = 0
        self.multiline = False
        self._fh: TextIO = open(directory / name, "w", encoding="utf-8", newline="",
                                buffering=1 << 20)
        self._fh.write(",".join(header) + "\n")

    def write(self, fields: list[str]) -> None:
        line = ",".join(fields)
        if "\n" in line or "\r" in line:
            self.multiline = True
        self._fh.write(line)
        self._fh.write("\n")
        self.rows += 1

    def close(self) -> None:
        self._fh.close()


def _check_dir(out: Path) -> None:
    if out.exists():
        if not out.is_dir():
            raise SkiptraceError(f"{out} exists and is not a directory")
        if any(out.iterdir()):
            raise SkiptraceError(f"output directory {out} is not empty "
                                 "(import files are written into a new or empty directory)")
    else:
        parent = out.resolve().parent
        if not parent.is_dir():
            raise SkiptraceError(f"cannot create {out}: directory {parent} does not exist")
        out.mkdir()


# ------------------------------------------------------------------ the writer

def write_import_files(store: GraphStore, out_dir: str | os.PathLike[str], *,
                       progress: Progress | None = None) -> ImportFiles:
    """Write the whole of ``store`` as ``neo4j-admin database import full`` input into ``out_dir``.

    ``out_dir`` must be new or empty. Streams every node label, every
    relationship and both ledger tables once, so memory stays flat.
    ``progress(file_name, rows)`` is called every million rows and at the end
    of each part. Returns what was written; ``neo4j-admin.args`` and
    ``manifest.json`` in the directory say the same. Raises
    :class:`SkiptraceError` for an unusable directory or a value that does not
    fit its schema type.
    """
    out = Path(out_dir)
    _check_dir(out)
    started = time.perf_counter()
    schema = store.schema
    result = ImportFiles(directory=out)
    files: list[_CsvFile] = []
    node_args: list[str] = []
    rel_args: list[str] = []

    def tick(f: _CsvFile) -> None:
        if progress is not None and f.rows % 1_000_000 == 0:
            progress(f.name, f.rows)

    try:
        # -- nodes, one file per label
        for label, spec in schema["nodes"].items():
            key = spec["key"]
            cols = _columns(spec.get("props", {}))
            fmts = [(name, _FORMAT[t]) for name, t in cols]
            f = _CsvFile(out, f"nodes-{label}.csv", [f"{key}:ID({label})", *_header(cols)])
            files.append(f)
            for k, props in store.stream_nodes(label):
                try:
                    f.write([_str(k), *[fmt(props.get(name)) for name, fmt in fmts]])
                except ValueError as exc:
                    raise SkiptraceError(f"{label} {k!r}: {exc}") from None
                tick(f)
            f.close()
            result.nodes[label] = f.rows
            node_args.append(f"--nodes={label}={f.name}")
            if progress is not None:
                progress(f.name, f.rows)

        # -- relationships, one file per (type, start label, end label), in one pass
        rel_cols = {t: _columns(spec.get("props", {}))
                    for t, spec in schema["relationships"].items()}
        rel_fmts = {t: [(name, _FORMAT[ty]) for name, ty in cols] for t, cols in rel_cols.items()}
        identity = {t: set(spec.get("identity", [])) for t, spec in schema["relationships"].items()}
        writers: dict[tuple[str, str, str], _CsvFile] = {}
        for e in store.stream_edges():
            sl, _, sk = e.src.partition(":")
            dl, _, dk = e.dst.partition(":")
            w = writers.get((e.type, sl, dl))
            if w is None:
                if e.type not in rel_cols:
                    raise SkiptraceError(f"unknown relationship type {e.type!r} in the store")
                w = writers[(e.type, sl, dl)] = _CsvFile(
                    out, f"rels-{e.type}-{sl}-{dl}.csv",
                    [f":START_ID({sl})", f":END_ID({dl})", *_header(rel_cols[e.type])])
                files.append(w)
            props, ident = e.props, identity[e.type]
            try:
                w.write([_str(sk), _str(dk), *[
                    fmt(props.get(name) if name not in ident else (props.get(name) or ""))
                    for name, fmt in rel_fmts[e.type]]])
            except ValueError as exc:
                raise SkiptraceError(f"{e.type} {e.src} -> {e.dst}: {exc}") from None
            tick(w)
        for (type_, _sl, _dl), w in sorted(writers.items()):
            w.close()
            result.relationships[type_] = result.relationships.get(type_, 0) + w.rows
            rel_args.append(f"--relationships={type_}={w.name}")
            if progress is not None:
                progress(w.name, w.rows)

        # -- the ledger, as unconnected nodes (no :ID: nothing refers to them)
        attempt_spec = schema["files"]["contact_attempts"]["columns"]
        acols = [(c, _HEADER_TYPE.get(s["type"], "string")) for c, s in attempt_spec.items()]
        afmts = [(c, _FORMAT[t]) for c, t in acols]
        f = _CsvFile(out, f"ledger-{ATTEMPT_LABEL}.csv", _header(acols))
        files.append(f)
        for a in store.stream_ledger("contact_attempts"):
            f.write([fmt(a.get(c)) for c, fmt in afmts])
            tick(f)
        f.close()
        result.ledger["contact_attempts"] = f.rows
        node_args.append(f"--nodes={ATTEMPT_LABEL}={f.name}")

        f = _CsvFile(out, f"ledger-{PAYMENT_LABEL}.csv",
                     ["payment_key", "borrower_id", "paid_at", "amount:double"])
        files.append(f)
        for p in store.stream_ledger("payments"):
            f.write([_str(payment_key(p)), _str(p["borrower_id"]), _str(p["paid_at"]),
                     _double(float(p["amount"]))])
            tick(f)
        f.close()
        result.ledger["payments"] = f.rows
        node_args.append(f"--nodes={PAYMENT_LABEL}={f.name}")

        f = _CsvFile(out, "meta.csv", ["key", "version:long"])
        files.append(f)
        f.write([_str("schema"), _long(int(schema["version"]))])
        f.close()
        node_args.append(f"--nodes={META_LABEL}={f.name}")
    finally:
        for f in files:
            f.close()

    result.files = {f.name: f.rows for f in files}
    result.multiline = any(f.multiline for f in files)
    result.arguments = [*BASE_ARGS, *(["--multiline-fields=true"] if result.multiline else []),
                        *node_args, *rel_args]
    (out / ARGS_FILE).write_text("\n".join(result.arguments) + "\n", encoding="utf-8")
    result.nodes = {k: v for k, v in result.nodes.items() if v}
    result.ledger = {k: v for k, v in result.ledger.items() if v}
    result.bytes = sum((out / f.name).stat().st_size for f in files)
    result.seconds = time.perf_counter() - started
    (out / MANIFEST).write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")
    log.info("wrote %s in %.1fs", out, result.seconds)
    return result
