"""Finding the input files of a load and streaming their rows.

A directory holds one or more files per kind (``borrowers.csv``,
``calls.jsonl``, ``calls.part-0002.csv.gz``): the kind is the name before the
first dot. Rows come out as ``(line_number, {column: text})`` with the line
number of the row's first physical line, so errors can point at it.
"""
from __future__ import annotations

import csv
import gzip
import json
import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".csv.gz": "csv", ".jsonl.gz": "jsonl"}


@dataclass(frozen=True)
class Source:
    kind: str
    path: Path
    format: str  # csv | jsonl
    name: str    # as shown in errors: the path relative to the load directory

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def _format_of(name: str) -> str | None:
    for ext in (".csv.gz", ".jsonl.gz", ".csv", ".jsonl"):
        if name.endswith(ext):
            return FORMATS[ext]
    return None


def discover(directory: Path, kinds: list[str]) -> tuple[list[Source], list[str]]:
    """The sources in ``directory`` in load order (``kinds`` order, then name),
    and the names of files that are not inputs (ignored, reported)."""
    sources: list[Source] = []
    ignored: list[str] = []
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        fmt = _format_of(path.name)
        kind = path.name.split(".", 1)[0]
        if fmt is None or kind not in kinds:
            ignored.append(path.name)
            continue
        sources.append(Source(kind, path, fmt, path.name))
    sources.sort(key=lambda s: (kinds.index(s.kind), s.name))
    return sources, ignored


class RowError(Exception):
    """A row that cannot be read at all (bad JSON, wrong field count, bad quoting)."""

    def __init__(self, line: int, reason: str, column: str | None = None):
        super().__init__(reason)
        self.line, self.reason, self.column = line, reason, column


class FileError(Exception):
    """The file itself cannot be read past ``line`` (a truncated or corrupt
    gzip stream, a file that is not gzip): one error for the file."""

    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line, self.reason = line, reason


class _NotUTF8(Exception):
    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line, self.reason = line, reason


#: what reading a gzip file may raise: not gzip / bad CRC or length (BadGzipFile, an
#: OSError), truncated (EOFError), a corrupt deflate stream (zlib.error)
_GZIP_ERRORS = (OSError, EOFError, zlib.error)


def gzip_problem(path: Path) -> str | None:
    """Why the gzip file at ``path`` is unreadable (None if it decompresses
    whole, CRC and length checked). Reads the whole file: called only once a
    file has shown a problem, to tell a corrupt stream from bad rows."""
    try:
        with gzip.open(path, "rb") as f:
            while f.read(1 << 20):
                pass
    except _GZIP_ERRORS as exc:
        return _gzip_reason(exc)
    return None


def _gzip_reason(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "truncated gzip file (the compressed stream ends early)"
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, gzip.BadGzipFile) and "Not a gzipped file" in text:
        return "not a gzip file (the name ends in .gz)"
    return f"corrupt gzip file: {text}"


class Reader:
    """Streams one source; ``position`` is the bytes consumed so far (for progress).

    Lines are read as bytes and decoded one at a time, so a byte that is not
    UTF-8 is reported at its own line (a text wrapper decodes ahead in
    blocks and would fail on an earlier line); gzip errors become one
    :class:`FileError` naming the reason.
    """

    def __init__(self, source: Source) -> None:
        self.source = source
        self._raw: IO[bytes] = open(source.path, "rb")
        self._gz = source.path.name.endswith(".gz")
        self._stream: IO[bytes] = gzip.GzipFile(fileobj=self._raw) if self._gz else self._raw
        self.physical = 0  # physical lines read so far
        self._iter = self._lines()
        self.header: list[str] = []

    @property
    def position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        if self._gz:
            self._stream.close()
        self._raw.close()

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _lines(self) -> Iterator[str]:
        it = iter(self._stream)
        while True:
            try:
                raw = next(it)
            except StopIteration:
                return
            except _GZIP_ERRORS as exc:
                raise FileError(self.physical + 1, _gzip_reason(exc)) from None
            self.physical += 1
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _NotUTF8(self.physical, f"not UTF-8: byte 0x{raw[exc.start]:02x} at byte "
                                              f"{exc.start + 1} of the line ({exc.reason})") from None

    def read_header(self) -> list[str]:
        """CSV: the header row. JSONL: the keys seen are per row, so none."""
        if self.source.format == "csv":
            self._csv = csv.reader(self._iter)
            try:
                first = next(self._csv)
            except StopIteration:
                raise RowError(1, "empty file: a header row is required") from None
            except _NotUTF8 as exc:
                raise RowError(exc.line, f"unreadable header: {exc.reason}") from None
            except csv.Error as exc:
                raise RowError(1, f"unreadable header: {exc}") from None
            self.header = [h.strip() for h in first]
            if first and first[0].startswith("\ufeff"):
                self.header[0] = self.header[0].lstrip("\ufeff")
        return self.header

    def rows(self) -> Iterator[tuple[int, list[str] | dict[str, Any] | RowError]]:
        """Yield ``(line, row)``; a CSV row is a list aligned with the header,
        a JSONL row a dict; an unreadable row is yielded as a RowError so the
        loader can report it and go on. A file that cannot be read on (gzip)
        raises :class:`FileError`."""
        if self.source.format == "csv":
            return self._csv_rows()
        return self._jsonl_rows()

    def _csv_rows(self) -> Iterator[tuple[int, list[str] | RowError]]:
        reader = self._csv
        width = len(self.header)
        line = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield line, RowError(line, f"malformed CSV: {exc}")
                return
            except _NotUTF8 as exc:
                yield exc.line, RowError(exc.line, exc.reason)
                return
            if len(row) != width:
                if not row:  # blank line
                    line = reader.line_num + 1
                    continue
                yield line, RowError(line, f"expected {width} fields, found {len(row)} "
                                           "(truncated or unquoted line?)")
            else:
                yield line, row
            line = reader.line_num + 1

    def _jsonl_rows(self) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
        try:
            for text in self._iter:
                line = self.physical
                if not text.strip():
                    continue
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield line, RowError(line, f"invalid JSON: {exc.msg} (column {exc.colno})")
                    continue
                if not isinstance(obj, dict):
                    yield line, RowError(line, "a JSON Lines row must be an object")
                    continue
                yield line, obj
        except _NotUTF8 as exc:
            yield exc.line, RowError(exc.line, exc.reason)
