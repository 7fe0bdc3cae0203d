"""Spreadsheet-safe CSV for reports (OWASP CSV injection guidance).

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read as a formula by spreadsheet programs; a contact named
``=cmd|' /C calc'!A0`` would run on the investigator's machine. Report CSVs
(``find --format csv``) prefix such cells with a single quote, which
spreadsheets show as text. Files meant for machines (the loader's input
layout written by ``generate``, the neo4j-admin import files) are not
reports and are written unchanged: escaping would alter the data they carry.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

#: the first characters that make a spreadsheet read a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """``value`` as a spreadsheet-safe cell: a string beginning with a formula
    character gets a leading single quote; other values pass unchanged.

    >>> escape_cell("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    >>> escape_cell(0.5)
    0.5
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """A :func:`csv.writer` whose every cell goes through :func:`escape_cell`."""

    def __init__(self, out: TextIO, **fmtparams: Any) -> None:
        self._w = csv.writer(out, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._w.writerow([escape_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


__all__ = ["FORMULA_STARTS", "SafeWriter", "escape_cell"]
