"""Exports are a function of the data: the same on both stores, byte for byte."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from skiptrace.export import export
from skiptrace.ingest import load
from skiptrace.store import SQLiteStore

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


KEY = "a pseudonym key shared by both stores"


def exports(store) -> dict[str, str]:
    out = {}
    for fmt in ("json", "graphml"):
        for reveal in (False, True):
            buf = io.StringIO()
            export(store, buf, fmt=fmt, reveal=reveal, key=KEY)
            out[f"{fmt}{'-revealed' if reveal else ''}"] = buf.getvalue()
    buf = io.StringIO()
    export(store, buf, fmt="json", types=["CALLED", "LISTS_CONTACT"], key=KEY)
    out["json-typed"] = buf.getvalue()
    return out


@pytest.fixture(scope="module")
def sqlite_exports(tmp_path_factory):
    with SQLiteStore(tmp_path_factory.mktemp("export") / "s.db") as s:
        load(s, DEMO)
        return exports(s)


def test_exports_are_identical_across_stores(store, sqlite_exports):
    load(store, DEMO)
    got = exports(store)
    for name, text in sqlite_exports.items():
        assert got[name] == text, name


def test_export_is_ordered_and_complete(sqlite_exports):
    doc = json.loads(sqlite_exports["json-revealed"])
    ids = [n["id"] for n in doc["nodes"]]
    keys = [(e["type"], e["source"], e["target"], e.get("rel_source", "")) for e in doc["edges"]]
    assert len(ids) == len(set(ids)) > 1000
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    listed = [e for e in doc["edges"] if e["type"] == "LISTS_CONTACT"]
    # the listing's own `source` property does not overwrite the edge's source node
    assert all(e["source"].startswith("Borrower:") for e in listed)
    assert {e["rel_source"] for e in listed} == {"emergency", "phonebook"}
    assert set(ids) >= {e["source"] for e in doc["edges"]} | {e["target"] for e in doc["edges"]}
    typed = json.loads(sqlite_exports["json-typed"])
    assert {e["type"] for e in typed["edges"]} == {"CALLED", "LISTS_CONTACT"}
    phones = {n["e164"] for n in doc["nodes"] if n["label"] == "Phone"}
    masked = sqlite_exports["json"]
    # no number appears anywhere in the masked export: every E.164 number starts with "+", so
    # the text at each "+" is checked against the numbers of each length (as `p in masked` for
    # every p would, but in one pass: that was 16,551 scans of an 11 MB string, a minute)
    assert phones and all(p.startswith("+") for p in phones)
    lengths = {len(p) for p in phones}
    at_plus = {masked[i:i + n] for i in _positions(masked, "+") for n in lengths}
    assert not phones & at_plus
    assert _positions("a+b+", "+") == [1, 3]  # the helper finds every occurrence


def _positions(text: str, char: str) -> list[int]:
    out, i = [], text.find(char)
    while i != -1:
        out.append(i)
        i = text.find(char, i + 1)
    return out
