"""Privacy: keyed pseudonyms that enumeration cannot reverse, masked exports without PII."""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from pathlib import Path

import pytest

from skiptrace import privacy
from skiptrace.export import export
from skiptrace.ingest import load
from skiptrace.ingest.normalise import PhoneNormaliser, fold_key
from skiptrace.store import SQLiteStore

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("privacy") / "demo.db"
    with SQLiteStore(path) as s:
        load(s, DEMO)
    return path


def _masked_json(path: Path, monkeypatch=None) -> dict:
    buf = io.StringIO()
    with SQLiteStore(path, create=False) as s:
        export(s, buf, fmt="json")
    return json.loads(buf.getvalue())


def _candidates(masked: str) -> list[str]:
    """Every E.164 number a masked phone (``+86138****5678``) may stand for."""
    head, _, tail = masked.partition("****")
    return [f"{head}{i:04d}{tail}" for i in range(10_000)]


def test_pseudonyms_are_keyed_and_stable():
    a = privacy.pseudonym("+8613812345678", "key one")
    assert a == privacy.pseudonym("+8613812345678", "key one")
    assert a != privacy.pseudonym("+8613812345678", "key two")
    assert a != privacy.pseudonym("+8613812345679", "key one")
    want = hmac.new(b"key one", b"+8613812345678", hashlib.sha256).hexdigest()[:privacy.PSEUDONYM_HEX]
    assert a == want
    with pytest.raises(ValueError):
        privacy.pseudonym("+8613812345678", "")


def test_each_store_gets_its_own_key_kept_across_opens(tmp_path, monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    with SQLiteStore(tmp_path / "a.db") as a, SQLiteStore(tmp_path / "b.db") as b:
        ka, kb = privacy.store_key(a), privacy.store_key(b)
    assert ka and kb and ka != kb and len(ka) == 64
    with SQLiteStore(tmp_path / "a.db", create=False) as a:
        assert privacy.store_key(a) == ka
    monkeypatch.setenv(privacy.KEY_ENV, "operator key")
    with SQLiteStore(tmp_path / "a.db", create=False) as a:
        assert privacy.store_key(a) == "operator key"


def test_store_keeps_metadata(store):
    assert store.get_meta("nothing") is None
    assert store.put_meta("x", "1") == "1"
    assert store.put_meta("x", "2", replace=False) == "1"
    assert store.put_meta("x", "3") == "3"
    assert store.get_meta("x") == "3"
    key = privacy.store_key(store)
    assert key == privacy.store_key(store) and len(key) == 64


def test_enumerating_the_hidden_digits_does_not_reverse_a_masked_export(demo_db, monkeypatch):
    """The attack of issue 9: a masked phone hides 4 digits, so 10,000 guesses
    per phone; each guess is checked against the phone's pseudonym under every
    key-less scheme an attacker could try. None may match; with the store's
    key (which the export does not contain) every phone is found, so the key
    is what stops the attack."""
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    doc = _masked_json(demo_db)
    phones = [n for n in doc["nodes"] if n["label"] == "Phone"]
    assert len(phones) > 1000
    sample = phones[:: len(phones) // 25][:25]
    text = json.dumps(doc)

    def schemes(value: str):
        b = value.encode()
        yield hashlib.blake2b(b, digest_size=6).hexdigest()      # the old unsalted pseudonym
        yield hashlib.sha256(b).hexdigest()[:privacy.PSEUDONYM_HEX]
        yield hmac.new(b"", b, hashlib.sha256).hexdigest()[:privacy.PSEUDONYM_HEX]

    for node in sample:
        pid = node["id"].split(":", 1)[1]
        assert "****" in node["e164"]
        for guess in _candidates(node["e164"]):
            assert pid not in set(schemes(guess)), node
    with SQLiteStore(demo_db, create=False) as s:
        key = privacy.store_key(s)
    assert key not in text
    found = 0
    for node in sample:
        pid = node["id"].split(":", 1)[1]
        found += any(privacy.pseudonym(g, key) == pid for g in _candidates(node["e164"]))
    assert found == len(sample)


def test_masked_export_is_stable_within_a_store_and_differs_across_stores(demo_db, tmp_path, monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    first, again = _masked_json(demo_db), _masked_json(demo_db)
    assert first == again
    other = tmp_path / "other.db"
    with SQLiteStore(other) as s:
        load(s, DEMO)
    ids = {n["id"] for n in first["nodes"] if n["label"] == "Phone"}
    ids2 = {n["id"] for n in _masked_json(other)["nodes"] if n["label"] == "Phone"}
    assert len(ids) == len(ids2) and not ids & ids2


def _demo_pii() -> dict[str, set[str]]:
    """Every name, employer, address and phone of the demo world's input files,
    phones in their raw notation, E.164, and digits without the '+' and country code."""
    import phonenumbers

    pii: dict[str, set[str]] = {"name": set(), "employer": set(), "address": set(), "phone": set()}
    cols = {"borrowers": [("full_name", "name")],
            "emergency_contacts": [("contact_name", "name"), ("contact_phone", "phone")],
            "phonebook": [("contact_name", "name"), ("contact_phone", "phone")],
            "borrower_employers": [("employer", "employer"), ("employer_phone", "phone")],
            "borrower_addresses": [("address", "address")],
            "borrower_phones": [("phone", "phone")],
            "calls": [("phone_a", "phone"), ("phone_b", "phone")],
            "phone_status": [("phone", "phone")]}
    for name, wanted in cols.items():
        with open(DEMO / f"{name}.csv", encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                for col, kind in wanted:
                    if row.get(col):
                        pii[kind].add(row[col].strip())
    norm = PhoneNormaliser()
    for raw in list(pii["phone"]):
        e164 = norm(raw, "CN")
        pii["phone"] |= {e164, e164[1:], str(phonenumbers.parse(e164).national_number)}
    pii["address"] |= {fold_key(a) for a in pii["address"]}
    pii["employer"] |= {fold_key(e) for e in pii["employer"]}
    return pii


def _leaks(text: str, pii: dict[str, set[str]], per_kind: int | None = None) -> dict[str, list[str]]:
    """The PII values found in ``text`` (at most ``per_kind`` needles of each kind tried).

    Phones are looked for, as digits, in the text's digit runs with
    separators between digits removed (so any notation is caught); names,
    employers and addresses as whole string values and inside the text's
    non-ASCII strings (all of the demo's are Chinese). A one-character name
    (姐, 哥) is looked for as a whole value only: as a substring it is merely
    the first letter of a mask."""
    import re

    squeezed = re.sub(r"(?<=\d)[ \-().]+(?=\d)", "", text)
    runs = "\n".join(set(re.findall(r"\d{6,}", squeezed)))
    values = set(re.findall(r'"([^"]*)"', text)) | set(re.findall(r">([^<]*)<", text))
    wide = "\n".join({v for v in values if not v.isascii()})
    found: dict[str, list[str]] = {}
    for kind, needles in pii.items():
        for n in sorted(needles)[:per_kind]:
            if kind == "phone":
                digits = re.sub(r"\D", "", n)
                hit = len(digits) >= 6 and digits in runs
            elif len(n) < 2:
                hit = n in values
            else:
                hit = n in values or n in wide
            if hit:
                found.setdefault(kind, []).append(n)
    return found


def test_masked_exports_of_the_demo_world_hold_no_raw_pii(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from skiptrace_cli.main import cli

    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    db = str(tmp_path / "demo.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["load", str(DEMO), "--db", db]).exit_code == 0
    r = runner.invoke(cli, ["rings", "detect", "--db", db, "--format", "json"])
    assert r.exit_code == 0, r.output
    pii = _demo_pii()
    assert all(len(v) > 50 for v in pii.values())
    for fmt in ("json", "graphml"):
        out = tmp_path / f"g.{fmt}"
        r = runner.invoke(cli, ["export", "--db", db, "--format", fmt, "-o", str(out)])
        assert r.exit_code == 0, r.output
        text = out.read_text(encoding="utf-8")
        assert "Ring:" in text and "Employer:" in text and "Address:" in text
        assert _leaks(text, pii) == {}, fmt
    # the scan finds them in a revealed export, so it is able to fail
    out = tmp_path / "revealed.json"
    with SQLiteStore(db, create=False) as s, open(out, "w", encoding="utf-8") as f:
        export(s, f, fmt="json", reveal=True)
    found = _leaks(out.read_text(encoding="utf-8"), pii, per_kind=100)
    assert set(found) == {"name", "employer", "address", "phone"}
