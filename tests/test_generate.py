"""Tests of the synthetic world generator (skiptrace.generate).

Worlds here are small (hundreds of borrowers) so each test runs in about a
second. The files are checked against graph_schema/schema.toml directly;
reachability is checked on a networkx graph built from the files with
phones normalised by `phonenumbers` (the loader-based check lives with the
loader's tests).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib.util
import json
import math
import re
import os
import statistics
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

import networkx as nx
import phonenumbers
import pytest

from skiptrace.generate import Knobs, world
from skiptrace.generate.response import ARMS, N_ARMS, SCRIPTS, arm_names, logging_policy

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = tomllib.loads((ROOT / "graph_schema" / "schema.toml").read_text("utf-8"))
FILES = SCHEMA["files"]
BOOL = {"true", "false"}

SIZED = dict(
    fraud_rings_per_100k=300, fraud_ring_size=(4, 6),
    anti_rings_per_100k=200, anti_ring_size=(9, 12), agents_per_ring=(1, 2),
    large_families_per_100k=300, large_family_size=(5, 7),
    dormitories_per_100k=200, dormitory_size=(20, 25),
    switchboards_per_100k=100, switchboard_size=(30, 40),
    couriers_per_100k=200, courier_size=(30, 40),
    shared_devices_per_100k=200, shared_device_size=(10, 14),
)


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


class Normaliser:
    """Raw phone text -> E.164, the way the loader does it (cached)."""

    def __init__(self, region: str):
        self.region, self.cache = region, {}

    def __call__(self, raw: str) -> str:
        e = self.cache.get(raw)
        if e is None:
            num = phonenumbers.parse(raw, self.region)
            assert phonenumbers.is_possible_number(num), raw
            e = self.cache[raw] = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
        return e


def fold(address: str) -> str:
    return re.sub(r"[\W_]+", "", address.casefold())


@pytest.fixture(scope="module")
def cn(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cn")
    world(600, 11, out)
    return out


@pytest.fixture(scope="module")
def cn_legacy(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cn_legacy")
    world(600, 11, out, preset="legacy")
    return out


@pytest.fixture(scope="module")
def us_legacy(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("us_legacy")
    world(400, 5, out, region="US", as_of="2026-03-15", preset="legacy")
    return out


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """A default world large enough for its statistics (2,000 borrowers)."""
    out = tmp_path_factory.mktemp("big")
    world(2000, 9, out)
    return out


@pytest.fixture(scope="module")
def us(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("us")
    world(400, 5, out, region="US", as_of="2026-03-15")
    return out


@pytest.fixture(scope="module")
def sized(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sized")
    world(1000, 3, out, **SIZED)
    return out


# ------------------------------------------------------------------ determinism

def test_same_seed_is_byte_identical_and_other_seeds_differ(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    world(250, 42, a)
    world(250, 42, b)
    world(250, 43, c)
    da, db, dc = digest(a), digest(b), digest(c)
    assert da == db
    assert len(da) == 11 + 10  # 11 input files, 9 truth tables (hour_effect with the observable model) + world.json
    changed = [k for k in da if da[k] != dc[k] and k != "truth/world.json"]
    assert "calls.csv" in changed and "borrowers.csv" in changed and "phonebook.csv" in changed


def test_bytes_do_not_depend_on_pythonhashseed(tmp_path):
    code = "import sys; from skiptrace.generate import world; world(200, 3, sys.argv[1])"
    for h in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": h}
        subprocess.run([sys.executable, "-c", code, str(tmp_path / h)], check=True, env=env)
    assert digest(tmp_path / "0") == digest(tmp_path / "12345")


# sha256 prefixes of the files that the generator before the realism knobs (main at 1ddc153) wrote for
# world(250, 42, out) and world(200, 4, out, region="US", as_of="2026-01-31", phonebook_max=80)
LEGACY_DIGESTS = {
    "cn": {
        "borrower_addresses.csv": "8d85c17d337af049",
        "borrower_devices.csv": "54ff3e3834854370",
        "borrower_employers.csv": "d0d2820b3683d0bd",
        "borrower_phones.csv": "48e2ba15d82b8121",
        "borrowers.csv": "81c5e0733b8c3431",
        "calls.csv": "9b952623afa84e42",
        "contact_attempts.csv": "f1c349954044c790",
        "emergency_contacts.csv": "b86202715476fcab",
        "payments.csv": "aa39065fc0a129b0",
        "phone_status.csv": "4d45e8fc08a1296a",
        "phonebook.csv": "1a88fcf525e026ba",
        "truth/attempt_propensity.csv": "046cd2629073852d",
        "truth/benign_groups.csv": "4bc1756454a3f947",
        "truth/churn.csv": "bf100395a32f731d",
        "truth/costs.csv": "7ab21631942c899a",
        "truth/lost_contact.csv": "d47332383d7ef7a4",
        "truth/reachable.csv": "89acbfcd513a2ee8",
        "truth/response.csv": "9d78aad8cae32982",
        "truth/rings.csv": "fba6a4fbb622d329"
    },
    "us": {
        "borrower_addresses.csv": "6277d3e38f70523b",
        "borrower_devices.csv": "840ecc66eca4a1d9",
        "borrower_employers.csv": "3d2dfa8ead078f51",
        "borrower_phones.csv": "9a61067937eb1418",
        "borrowers.csv": "1a75b3ac245150f8",
        "calls.csv": "16098d69282ddc59",
        "contact_attempts.csv": "f4508e472825a3ed",
        "emergency_contacts.csv": "0ff9e2752a615f43",
        "payments.csv": "c760ce3ef44b400e",
        "phone_status.csv": "07fa7f09818851c1",
        "phonebook.csv": "da1ad00a5e4bc335",
        "truth/attempt_propensity.csv": "620059d5183d46eb",
        "truth/benign_groups.csv": "b60308c9fd79d691",
        "truth/churn.csv": "f329ace1fd6bf0e1",
        "truth/costs.csv": "405e6d99b10f225b",
        "truth/lost_contact.csv": "9027b183523cda4d",
        "truth/reachable.csv": "59585bf8f581c8b6",
        "truth/response.csv": "af1b1f82596ca869",
        "truth/rings.csv": "5bc20510bdff52e1"
    }
}


def test_legacy_preset_writes_the_old_generators_bytes(tmp_path):
    world(250, 42, tmp_path / "cn", preset="legacy")
    world(200, 4, tmp_path / "us", region="US", as_of="2026-01-31", phonebook_max=80, preset="legacy")
    for which, want in LEGACY_DIGESTS.items():
        got = {k: v[:16] for k, v in digest(tmp_path / which).items() if k != "truth/world.json"}
        assert got == want, which
    # the preset is the knobs: the same world from explicit knob values
    world(250, 42, tmp_path / "kn", **Knobs.legacy().as_dict())
    csv_only = lambda d: {k: v for k, v in d.items() if k != "truth/world.json"}  # noqa: E731 (it names the preset)
    assert csv_only(digest(tmp_path / "kn")) == csv_only(digest(tmp_path / "cn"))
    meta = json.loads((tmp_path / "cn" / "truth" / "world.json").read_text("utf-8"))
    assert meta["preset"] == "legacy" and meta["knobs"] == Knobs.legacy().as_dict()


def test_rerun_into_same_directory_replaces_output(tmp_path):
    world(250, 1, tmp_path)
    first = digest(tmp_path)
    world(250, 1, tmp_path)
    assert digest(tmp_path) == first


# ------------------------------------------------------------------ contract layout

@pytest.mark.parametrize("which", ["cn", "us"])
def test_files_follow_schema(which, request):
    root: Path = request.getfixturevalue(which)
    borrowers = {r["borrower_id"]: r for r in read(root / "borrowers.csv")}
    for name, spec in FILES.items():
        path = root / f"{name}.csv"
        assert path.exists(), name
        with open(path, encoding="utf-8", newline="") as f:
            header = next(csv.reader(f))
        cols = spec["columns"]
        assert set(header) <= set(cols), (name, set(header) - set(cols))
        assert set(spec["required"]) <= set(header)
        rows = read(path)
        assert rows, name
        for row in rows:
            for col in spec["required"]:
                assert row[col], (name, col, row)
            for col, value in row.items():
                if value == "":
                    continue
                kind = cols[col]["type"]
                if kind == "enum":
                    assert value in cols[col]["values"], (name, col, value)
                elif kind == "bool":
                    assert value in BOOL, (name, col, value)
                elif kind == "int":
                    assert int(value) >= cols[col].get("min", -10**18), (name, col, value)
                elif kind == "float":
                    assert float(value) >= cols[col].get("min", -1e300), (name, col, value)
                elif kind == "datetime":
                    t = dt.datetime.fromisoformat(value)
                    if name == "calls":
                        assert t.tzinfo is not None, value
            if "borrower_id" in row and name != "borrowers":
                assert row["borrower_id"] in borrowers, (name, row)
    for b in borrowers.values():
        assert b["timezone"] and b["region"]


@pytest.mark.parametrize("which,region", [("cn", "CN"), ("us", "US")])
def test_every_phone_parses_and_is_valid(which, region, request):
    root: Path = request.getfixturevalue(which)
    raw = set()
    phone_cols = {n: [c for c, s in spec["columns"].items() if s["type"] == "phone"] for n, spec in FILES.items()}
    local = 0
    for name, cols in phone_cols.items():
        for row in read(root / f"{name}.csv"):
            for c in cols:
                if row.get(c):
                    raw.add(row[c])
                    local += not row[c].startswith("+")
    for row in read(root / "truth" / "reachable.csv") + read(root / "truth" / "churn.csv"):
        raw.update(v for k, v in row.items() if "phone" in k and v)
    assert local > 0.03 * len(raw)  # local notation is exercised
    norm = Normaliser(region)
    invalid = [r for r in sorted(raw) if not phonenumbers.is_valid_number(phonenumbers.parse(r, region))]
    assert not invalid, invalid[:5]
    e164 = {norm(r) for r in raw}
    assert all(e.startswith("+86" if region == "CN" else "+1") for e in e164)
    if region == "US":
        assert not any(e[5:8] == "555" or e[6:8] == "11" for e in e164)


def test_us_world_uses_us_zones(us):
    zones = Counter(r["timezone"] for r in read(us / "borrowers.csv"))
    assert set(zones) <= {"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles"}
    assert {r["region"] for r in read(us / "borrowers.csv")} == {"US"}
    offsets = {r["first_at"][-6:] for r in read(us / "calls.csv")}
    assert offsets <= {"-04:00", "-05:00", "-06:00", "-07:00", "-08:00"} and len(offsets) >= 2


def test_calls_have_one_row_per_unordered_pair(cn):
    norm = Normaliser("CN")
    seen = set()
    for r in read(cn / "calls.csv"):
        a, b = norm(r["phone_a"]), norm(r["phone_b"])
        assert a != b
        key = (min(a, b), max(a, b))
        assert key not in seen, key
        seen.add(key)
        assert r["first_at"] <= r["last_at"]
        assert int(r["calls_a_to_b"]) + int(r["calls_b_to_a"]) >= 1


def test_distinct_people_never_share_a_number_by_accident(cn):
    # every borrower's registered primary number is distinct, unless a fraud ring shares it
    norm = Normaliser("CN")
    owners = defaultdict(set)
    for r in read(cn / "borrower_phones.csv"):
        if r["role"] == "primary":
            owners[norm(r["phone"])].add(r["borrower_id"])
    assert all(len(v) == 1 for v in owners.values())


def test_addresses_vary_in_notation_but_fold_to_one_key(cn):
    by_key = defaultdict(set)
    for r in read(cn / "borrower_addresses.csv"):
        by_key[fold(r["address"])].add(r["address"])
    assert any(len(v) > 1 for v in by_key.values())
    # distinct homes never fold together: every key's spellings are the same text modulo punctuation/space
    for spellings in by_key.values():
        assert len({re.sub(r"[\s,.\-]", "", s.upper()) for s in spellings}) == 1


# ------------------------------------------------------------------ promised structure

def test_phonebook_sizes_are_heavy_tailed(big, tmp_path):
    sizes = list(Counter(r["borrower_id"] for r in read(big / "phonebook.csv")).values())
    med = statistics.median(sizes)
    assert 120 <= med <= 180  # about 150, as real phonebooks
    assert max(sizes) >= 5 * med
    assert sum(s > 3 * med for s in sizes) >= 0.05 * len(sizes)
    assert max(sizes) <= Knobs().phonebook_max + 60  # structural ties may add a few beyond the cap
    meta = json.loads((big / "truth" / "world.json").read_text("utf-8"))
    assert meta["realised"]["phonebook_median"] == med
    world(2000, 9, tmp_path, preset="legacy")
    sizes = list(Counter(r["borrower_id"] for r in read(tmp_path / "phonebook.csv")).values())
    med = statistics.median(sizes)
    assert 15 <= med <= 80
    assert max(sizes) >= 10 * med
    assert sum(s > 5 * med for s in sizes) >= 0.01 * len(sizes)


def test_most_phonebook_entries_are_never_called(big):
    norm = Normaliser("CN")
    own = {r["borrower_id"]: norm(r["phone"]) for r in read(big / "borrower_phones.csv") if r["role"] == "primary"}
    called = defaultdict(set)
    for r in read(big / "calls.csv"):
        a, b = norm(r["phone_a"]), norm(r["phone_b"])
        called[a].add(b)
        called[b].add(a)
    entries = hit = 0
    for r in read(big / "phonebook.csv"):
        entries += 1
        hit += norm(r["contact_phone"]) in called[own[r["borrower_id"]]]
    assert hit / entries < 0.3


def test_contacts_call_each_other(big):
    """Call-graph clustering (networkx, phones of degree >= 2, a sample) is in the range of real phone graphs."""
    import random
    norm = Normaliser("CN")
    g = nx.Graph()
    for r in read(big / "calls.csv"):
        g.add_edge(norm(r["phone_a"]), norm(r["phone_b"]))
    nodes = sorted(n for n in g if g.degree(n) >= 2)
    c = nx.average_clustering(g, random.Random(0).sample(nodes, 1500))
    assert 0.1 <= c <= 0.3
    meta = json.loads((big / "truth" / "world.json").read_text("utf-8"))
    assert abs(meta["realised"]["call_clustering"] - c) < 0.03
    assert meta["realised"]["contact_contact_call_share"] > 0.1


def test_legacy_calls_have_almost_no_triangles(cn_legacy):
    meta = json.loads((cn_legacy / "truth" / "world.json").read_text("utf-8"))
    assert meta["realised"]["call_clustering"] < 0.05
    assert meta["realised"]["contact_contact_call_share"] == 0


def test_realised_statistics_follow_the_knobs(big):
    r = json.loads((big / "truth" / "world.json").read_text("utf-8"))["realised"]
    k = Knobs()
    assert abs(r["phone_status_coverage"] - k.phone_status_coverage) < 0.05
    assert abs(r["fake_emergency_share"] - k.fake_emergency_share) < 0.03
    assert r["lost_with_new_number"] >= 50
    # a new number calls its old circle only sometimes, and the lender's logs show fewer still
    assert 0.3 < r["lost_new_number_called_old_circle_share"] < 0.8
    assert r["lost_new_number_visible_with_old_circle_share"] < r["lost_new_number_called_old_circle_share"]
    assert 0.5 < r["call_records_visible_share"] < 1
    assert 0.15 < r["reach_latent_variance_share"] < 0.5


def test_line_status_is_missing_for_some_dead_numbers(big):
    norm = Normaliser("CN")
    status = {norm(r["phone"]) for r in read(big / "phone_status.csv")}
    churn = read(big / "truth" / "churn.csv")
    old = [norm(r["old_phone"]) for r in churn]
    missing = sum(p not in status for p in old)
    assert 0.2 * len(old) < missing < 0.6 * len(old)


def test_fake_emergency_contacts_never_reach(tmp_path):
    world(600, 11, tmp_path, fake_emergency_share=1.0)  # every listing a fake, but ring agents and fraud phones
    norm = Normaliser("CN")
    own = {(r["borrower_id"], norm(r["phone"])) for r in read(tmp_path / "borrower_phones.csv")}
    reach = {(r["borrower_id"], r["phone"]): r["mechanism"] for r in read(tmp_path / "truth" / "reachable.csv")}
    hubs = {norm(r["phone"]) for r in read(tmp_path / "truth" / "rings.csv") if r["phone"]}
    ec = [(r["borrower_id"], norm(r["contact_phone"])) for r in read(tmp_path / "emergency_contacts.csv")]
    ec = [x for x in ec if x[1] not in hubs]
    lost = {r["borrower_id"] for r in read(tmp_path / "truth" / "lost_contact.csv")}
    assert sum(x[0] in lost for x in ec) >= 20
    assert all(reach.get(x, "own_phone") == "own_phone" for x in ec)  # none reaches, bar an unanswered own number
    assert 0.1 < sum(x in own for x in ec) / len(ec) < 0.3  # a fifth list the borrower's own number
    assert json.loads((tmp_path / "truth" / "world.json").read_text("utf-8"))["realised"]["fake_emergency_share"] > 0.95


def test_legacy_new_numbers_always_take_over_a_partner(cn_legacy):
    r = json.loads((cn_legacy / "truth" / "world.json").read_text("utf-8"))["realised"]
    assert r["lost_new_number_visible_with_old_circle_share"] == 1.0
    assert r["phone_status_coverage"] == 1.0 and r["fake_emergency_share"] == 0.0
    assert r["call_records_visible_share"] == 1.0 and r["reach_latent_variance_share"] == 0.0


def test_phonebook_max_knob_caps_the_tail(tmp_path):
    world(400, 9, tmp_path, phonebook_max=60)
    sizes = Counter(r["borrower_id"] for r in read(tmp_path / "phonebook.csv")).values()
    assert max(sizes) <= 60 + 40


def test_emergency_contacts_are_mostly_family(cn):
    rel = Counter(r["relation"] for r in read(cn / "emergency_contacts.csv"))
    family = sum(rel[k] for k in ("spouse", "parent", "child", "sibling", "relative"))
    assert family >= 0.6 * sum(rel.values())
    per = Counter(r["borrower_id"] for r in read(cn / "emergency_contacts.csv"))
    assert 1 <= min(per.values()) and max(per.values()) <= 7


def test_rings_and_benign_groups_have_configured_counts_and_sizes(sized):
    rings = read(sized / "truth" / "rings.csv")
    members = defaultdict(set)
    agents = defaultdict(set)
    typ = {}
    for r in rings:
        typ[r["ring_id"]] = r["typology"]
        if r["role"] == "member":
            members[r["ring_id"]].add(r["borrower_id"])
        else:
            assert r["role"] == "agent" and r["phone"] and not r["borrower_id"]
            agents[r["ring_id"]].add(r["phone"])
    fraud = [m for k, m in members.items() if typ[k] == "fraud"]
    anti = [m for k, m in members.items() if typ[k] == "anti_collection"]
    assert len(fraud) == 3 and all(4 <= len(m) <= 6 for m in fraud)
    assert len(anti) == 2 and all(9 <= len(m) <= 12 for m in anti)
    assert all(1 <= len(agents[k]) <= 2 for k in members if typ[k] == "anti_collection")
    all_members = [b for m in members.values() for b in m]
    assert len(all_members) == len(set(all_members))
    groups = defaultdict(set)
    kind = {}
    for r in read(sized / "truth" / "benign_groups.csv"):
        groups[r["group_id"]].add(r["borrower_id"])
        kind[r["group_id"]] = r["kind"]
    want = {"household": (3, 5, 7), "dormitory": (2, 20, 25), "switchboard": (1, 30, 40),
            "courier": (2, 30, 40), "shared_device": (2, 10, 14)}
    for k, (count, lo, hi) in want.items():
        gs = [m for g, m in groups.items() if kind[g] == k]
        assert len(gs) == count, k
        assert all(lo <= len(m) <= hi for m in gs), (k, [len(m) for m in gs])
    assert not set(all_members) & {b for m in groups.values() for b in m}
    meta = json.loads((sized / "truth" / "world.json").read_text("utf-8"))
    assert meta["knobs"]["fraud_ring_size"] == [4, 6] and meta["seed"] == 3


@pytest.fixture(scope="module")
def sized_legacy(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sized_legacy")
    world(1000, 3, out, preset="legacy", **SIZED)
    return out


@pytest.mark.parametrize("which", ["sized", "sized_legacy"])
def test_rings_leave_their_evidence(which, request):
    sized: Path = request.getfixturevalue(which)
    span = json.loads((sized / "truth" / "world.json").read_text("utf-8"))["knobs"]["fraud_open_span_days"][1]
    norm = Normaliser("CN")
    members = defaultdict(set)
    typ, agent_phones = {}, defaultdict(set)
    for r in read(sized / "truth" / "rings.csv"):
        typ[r["ring_id"]] = r["typology"]
        if r["role"] == "member":
            members[r["ring_id"]].add(r["borrower_id"])
        else:
            agent_phones[r["ring_id"]].add(norm(r["phone"]))
    borrowers = {r["borrower_id"]: r for r in read(sized / "borrowers.csv")}
    devices = defaultdict(set)
    for r in read(sized / "borrower_devices.csv"):
        devices[r["device_id"]].add(r["borrower_id"])
    listed = defaultdict(set)
    for f in ("emergency_contacts", "phonebook"):
        for r in read(sized / f"{f}.csv"):
            listed[norm(r["contact_phone"])].add(r["borrower_id"])
    for rid, m in members.items():
        assert all(borrowers[b]["status"] in ("delinquent", "written_off") for b in m)
        if typ[rid] == "fraud":
            opened = sorted(dt.datetime.fromisoformat(borrowers[b]["opened_at"]) for b in m)
            assert (opened[-1] - opened[0]).days <= span + 1  # applied in a burst (legacy) or in waves
            assert max(len(v & m) for v in devices.values()) >= 2  # a shared device
            assert max(int(borrowers[b]["days_past_due"]) for b in m) <= 250 + span
        else:
            dpd = [int(borrowers[b]["days_past_due"]) for b in m]
            assert max(dpd) - min(dpd) <= 40  # default onset in a short window
            reach = set().union(*(listed[p] for p in agent_phones[rid]))
            assert m <= reach  # every member lists an agent
            assert len(m & reach) >= 3


def _ids(root: Path) -> dict[str, set[tuple[str, str]]]:
    """Each borrower's identifiers: devices, addresses (folded), registered and emergency phones, employers."""
    norm = Normaliser("CN")
    ids = defaultdict(set)
    for r in read(root / "borrower_devices.csv"):
        ids[r["borrower_id"]].add(("device", r["device_id"]))
    for r in read(root / "borrower_addresses.csv"):
        ids[r["borrower_id"]].add(("address", fold(r["address"])))
    for r in read(root / "borrower_phones.csv"):
        ids[r["borrower_id"]].add(("phone", norm(r["phone"])))
    for r in read(root / "emergency_contacts.csv"):
        ids[r["borrower_id"]].add(("phone", norm(r["contact_phone"])))
    for r in read(root / "borrower_employers.csv"):
        ids[r["borrower_id"]].add(("employer", fold(r["employer"])))
    return ids


def test_fraud_rings_spread_out_and_look_like_benign_groups(sized, sized_legacy):
    def fraud_rings(root):
        m = defaultdict(set)
        for r in read(root / "truth" / "rings.csv"):
            if r["typology"] == "fraud":
                m[r["ring_id"]].add(r["borrower_id"])
        return list(m.values())

    # legacy: one identifier binds most rings; default: none binds any (but subsets still share rare ones)
    ids = _ids(sized_legacy)
    assert sum(bool(set.intersection(*(ids[b] for b in m))) for m in fraud_rings(sized_legacy)) >= 2
    ids = _ids(sized)
    holders = Counter(x for s in ids.values() for x in s)
    for m in fraud_rings(sized):
        assert not set.intersection(*(ids[b] for b in m))
        pairs = [(a, b) for a in m for b in m if a < b]
        rare = sum(any(2 <= holders[x] <= 12 for x in ids[a] & ids[b]) for a, b in pairs)
        assert rare >= len(m) - 1  # at least a chain's worth of pairs share a rare identifier
    # benign groups that open loans together: promotions (one employer), households and couples on one device
    borrowers = {r["borrower_id"]: r for r in read(sized / "borrowers.csv")}
    groups, kind = defaultdict(set), {}
    for r in read(sized / "truth" / "benign_groups.csv"):
        groups[r["group_id"]].add(r["borrower_id"])
        kind[r["group_id"]] = r["kind"]

    def span(m):
        t = sorted(dt.datetime.fromisoformat(borrowers[b]["opened_at"]) for b in m)
        return (t[-1] - t[0]).days

    promos = [m for g, m in groups.items() if kind[g] == "promotion"]
    assert len(promos) == Knobs().group_count(Knobs().promotions_per_100k, 1000)
    for m in promos:
        assert span(m) <= Knobs().promotion_window_days
        assert set.intersection(*({x for x in ids[b] if x[0] == "employer"} for b in m))  # one employer
    couples = [m for g, m in groups.items() if kind[g] == "couple"]
    assert couples and all(len(m) == 2 and span(m) <= Knobs().family_joint_open_days for m in couples)
    joint = sum(span(m) <= Knobs().family_joint_open_days for g, m in groups.items() if kind[g] == "household")
    meta = json.loads((sized / "truth" / "world.json").read_text("utf-8"))
    assert meta["realised"]["families_opening_together"] == len(couples) + joint


def test_agent_phones_are_also_in_honest_phonebooks(sized, sized_legacy):
    for root, honest in ((sized, True), (sized_legacy, False)):
        norm = Normaliser("CN")
        members, agents = set(), set()
        for r in read(root / "truth" / "rings.csv"):
            if r["typology"] == "anti_collection":
                if r["borrower_id"]:
                    members.add(r["borrower_id"])
                else:
                    agents.add(norm(r["phone"]))
        listers = {r["borrower_id"] for r in read(root / "phonebook.csv") if norm(r["contact_phone"]) in agents}
        outside = listers - members
        assert bool(outside) == honest
        if honest:  # about as many honest listers as ring members: listing alone does not make an agent
            assert len(outside) >= 0.3 * len(listers & members)


def test_anti_collection_members_refuse_and_opt_out_more(sized):
    anti = {r["borrower_id"] for r in read(sized / "truth" / "rings.csv") if r["typology"] == "anti_collection" and r["borrower_id"]}
    out = defaultdict(Counter)
    for r in read(sized / "contact_attempts.csv"):
        out[r["borrower_id"] in anti][r["outcome"]] += 1

    def share(c: Counter) -> float:
        return (c["refused"] + c["opted_out"]) / max(1, c["refused"] + c["opted_out"] + c["reached_borrower"] + c["promise_to_pay"] + c["paid"])
    assert share(out[True]) > share(out[False]) + 0.1


def test_reassigned_numbers_are_present_and_taken_over(cn_legacy):
    cn = cn_legacy  # the default world keeps no promise of a takeover nor of a status row
    norm = Normaliser("CN")
    status = {norm(r["phone"]): r for r in read(cn / "phone_status.csv")}
    churn = read(cn / "truth" / "churn.csv")
    reassigned = [r for r in churn if r["old_status"] == "reassigned"]
    assert reassigned
    calls = defaultdict(list)
    for r in read(cn / "calls.csv"):
        a, b = norm(r["phone_a"]), norm(r["phone_b"])
        calls[a].append((b, r))
        calls[b].append((a, r))
    for r in reassigned:
        old = norm(r["old_phone"])
        assert status[old]["status"] == "reassigned"
        since = r["old_status_at"]
        # the stranger calls new people after the reassignment
        assert any(c["first_at"][:10] >= since for _, c in calls[old])
    for r in churn:
        old, new = norm(r["old_phone"]), norm(r["new_phone"])
        partners_old = {p for p, _ in calls[old]}
        partners_new = {p for p, c in calls[new] if c["first_at"][:10] >= r["switched_at"]}
        assert partners_old & partners_new, r  # the new number takes over a call partner
        assert status[old]["status"] in ("disconnected", "reassigned")


def _graph(root: Path, region: str) -> nx.Graph:
    norm = Normaliser(region)
    g = nx.Graph()
    for r in read(root / "borrower_phones.csv"):
        g.add_edge("B:" + r["borrower_id"], "P:" + norm(r["phone"]))
    for f in ("emergency_contacts", "phonebook"):
        for r in read(root / f"{f}.csv"):
            g.add_edge("B:" + r["borrower_id"], "P:" + norm(r["contact_phone"]))
    for r in read(root / "calls.csv"):
        g.add_edge("P:" + norm(r["phone_a"]), "P:" + norm(r["phone_b"]))
    for r in read(root / "borrower_addresses.csv"):
        g.add_edge("B:" + r["borrower_id"], "A:" + fold(r["address"]))
    for r in read(root / "borrower_devices.csv"):
        g.add_edge("B:" + r["borrower_id"], "D:" + r["device_id"])
    for r in read(root / "borrower_employers.csv"):
        g.add_edge("B:" + r["borrower_id"], "E:" + fold(r["employer"]))
        if r["employer_phone"]:
            g.add_edge("E:" + fold(r["employer"]), "P:" + norm(r["employer_phone"]))
    return g


@pytest.mark.parametrize("which,region", [("cn", "CN"), ("us", "US"), ("cn_legacy", "CN"), ("us_legacy", "US")])
def test_every_lost_borrower_has_a_truth_phone_within_three_hops(which, region, request):
    root: Path = request.getfixturevalue(which)
    g = _graph(root, region)
    lost = read(root / "truth" / "lost_contact.csv")
    assert len(lost) >= 5
    truth = defaultdict(dict)
    for r in read(root / "truth" / "reachable.csv"):
        p = float(r["reach_probability"])
        assert 0 < p <= 1
        truth[r["borrower_id"]]["P:" + r["phone"]] = r["mechanism"]
    registered = defaultdict(set)
    norm = Normaliser(region)
    for r in read(root / "borrower_phones.csv"):
        registered[r["borrower_id"]].add("P:" + norm(r["phone"]))
    new_numbers = seen = 0
    for r in lost:
        b = r["borrower_id"]
        near = nx.single_source_shortest_path_length(g, "B:" + b, cutoff=3)
        assert set(truth[b]) & set(near), b
        for phone, mech in truth[b].items():
            if mech == "new_number":
                assert phone not in registered[b]  # the lender does not know it
                new_numbers += 1
                seen += phone in near
    assert new_numbers
    if which.endswith("legacy"):
        assert seen == new_numbers  # the call graph always shows it
    else:
        assert seen < new_numbers  # ... only sometimes: logs stop, new numbers leave the old circle

def test_reach_truth_is_informative_but_not_the_listed_order(cn):
    norm = Normaliser("CN")
    truth = {(r["borrower_id"], r["phone"]): float(r["reach_probability"]) for r in read(cn / "truth" / "reachable.csv")}
    lost = {r["borrower_id"] for r in read(cn / "truth" / "lost_contact.csv")}
    first_hit, later_hit, firsts = 0, 0, 0
    seen = set()
    for r in read(cn / "emergency_contacts.csv"):
        b = r["borrower_id"]
        if b not in lost:
            continue
        hit = (b, norm(r["contact_phone"])) in truth
        if b not in seen:
            seen.add(b)
            firsts += 1
            first_hit += hit
        else:
            later_hit += hit
    assert firsts and first_hit < firsts  # the first-listed contact often does not reach the borrower
    mech = Counter(r["mechanism"] for r in read(cn / "truth" / "reachable.csv"))
    assert {"family", "new_number"} <= set(mech)
    stale = [r for r in read(cn / "phone_status.csv") if r["status"] != "active"]
    assert stale


@pytest.fixture(scope="module")
def cn_segment(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cn_segment")
    world(600, 11, out, response_model="segment")
    return out


def test_response_truth_covers_every_delinquent_borrower_and_action(cn_segment):
    cn = cn_segment  # the segment model: one row per borrower and action
    delinquent = {r["borrower_id"] for r in read(cn / "borrowers.csv") if r["status"] in ("delinquent", "written_off")}
    rows = read(cn / "truth" / "response.csv")
    by_b = defaultdict(set)
    for r in rows:
        assert 0 <= float(r["p_pay_30d_baseline"]) <= float(r["p_pay_30d"]) <= 1
        assert float(r["expected_amount"]) >= 0
        by_b[r["borrower_id"]].add((r["channel"], r["target_role"]))
    assert set(by_b) == delinquent
    assert len({len(v) for v in by_b.values()}) == 1 and len(next(iter(by_b.values()))) == 10
    costs = {r["channel"]: float(r["cost"]) for r in read(cn / "truth" / "costs.csv")}
    assert set(costs) == set(FILES["contact_attempts"]["columns"]["channel"]["values"])
    # effects differ by segment: the best action is not the same for everyone
    best = defaultdict(Counter)
    seg = {}
    for r in rows:
        seg[r["borrower_id"]] = r["segment"]
    top = {}
    for r in rows:
        v = float(r["p_pay_30d"]) - float(r["p_pay_30d_baseline"])
        if v > top.get(r["borrower_id"], ("", -1))[1]:
            top[r["borrower_id"]] = ((r["channel"], r["target_role"]), v)
    for b, (a, _) in top.items():
        best[seg[b]][a] += 1
    assert len({c.most_common(1)[0][0] for c in best.values()}) >= 2 or len({a for c in best.values() for a in c}) >= 3


def test_history_is_partly_randomised_and_payments_follow_outcomes(cn):
    attempts = read(cn / "contact_attempts.csv")
    prop = {r["attempt_id"]: r for r in read(cn / "truth" / "attempt_propensity.csv")}
    assert set(prop) == {a["attempt_id"] for a in attempts}
    explored = [a for a in attempts if prop[a["attempt_id"]]["explored"] == "true"]
    assert 0.2 < len(explored) / len(attempts) < 0.4
    assert len({a["channel"] for a in explored}) == 7
    assert all(0 < float(p["propensity"]) <= 1 for p in prop.values())
    paid = [a for a in attempts if a["outcome"] == "paid"]
    pays = defaultdict(list)
    for p in read(cn / "payments.csv"):
        pays[p["borrower_id"]].append(dt.datetime.fromisoformat(p["paid_at"]))
    assert paid
    for a in paid:
        at = dt.datetime.fromisoformat(a["at"])
        assert any(dt.timedelta(0) <= t - at <= dt.timedelta(days=3) for t in pays[a["borrower_id"]]), a
    outcomes = Counter(a["outcome"] for a in attempts)
    assert {"no_answer", "wrong_number", "refused", "reached_borrower", "reached_third_party", "promise_to_pay",
            "paid"} <= set(outcomes)


# ------------------------------------------------------------------ arguments and CLI

def test_bad_arguments_are_rejected(tmp_path):
    with pytest.raises(ValueError):
        world(300, 1, tmp_path, region="FR")
    with pytest.raises(ValueError):
        world(300, 1, tmp_path, as_of="30/06/2026")
    with pytest.raises(ValueError, match="unknown knob"):
        world(300, 1, tmp_path, no_such_knob=1)
    with pytest.raises(ValueError):
        world(300, 1, tmp_path, delinquent_share=1.5)
    with pytest.raises(ValueError, match="too few borrowers"):
        world(100, 1, tmp_path, dormitories_per_100k=5000)


def _cli():
    try:
        from skiptrace_cli.generate import generate
    except ImportError:  # not installed: load cli/generate.py directly
        spec = importlib.util.spec_from_file_location("_cli_generate", ROOT / "cli" / "generate.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        generate = mod.generate
    return generate


def test_cli_generates_and_reports(tmp_path):
    from click.testing import CliRunner
    gen = _cli()
    res = CliRunner().invoke(gen, ["--borrowers", "200", "--seed", "4", "--out", str(tmp_path / "w"),
                                   "--region", "US", "--as-of", "2026-01-31"])
    assert res.exit_code == 0, res.output
    assert "borrowers" in res.output and "calls" in res.output
    meta = json.loads((tmp_path / "w" / "truth" / "world.json").read_text("utf-8"))
    assert meta["region"] == "US" and meta["as_of"] == "2026-01-31" and meta["n_borrowers"] == 200
    bad = CliRunner().invoke(gen, ["--borrowers", "200", "--seed", "4", "--out", str(tmp_path / "x"), "--as-of", "soon"])
    assert bad.exit_code == 2
    bad = CliRunner().invoke(gen, ["--borrowers", "10", "--seed", "4", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2


def test_demo_fixture_is_what_the_generator_writes(tmp_path):
    demo = ROOT / "fixtures" / "demo"
    if not (demo / "truth" / "world.json").exists():
        pytest.skip("fixtures/demo not generated")
    meta = json.loads((demo / "truth" / "world.json").read_text("utf-8"))
    world(meta["n_borrowers"], meta["seed"], tmp_path, region=meta["region"], as_of=meta["as_of"], **meta["knobs"])
    fresh, committed = digest(tmp_path), digest(demo)
    assert fresh.keys() == committed.keys(), "regenerate fixtures/demo (see docs/generator.md)"
    for name in (n for n in fresh if fresh[n] != committed[n]):
        # numpy releases may move a probability's last bits (numpy 2.4 did, in truth/response.csv):
        # the same world to 1e-12, not to the last ulp; every other byte must be equal
        assert same_to_rounding(tmp_path / name, demo / name), f"{name} drifted: regenerate fixtures/demo"


def same_to_rounding(a: Path, b: Path, rel: float = 1e-12) -> bool:
    """The two files have the same lines but for floats equal within ``rel``."""
    la, lb = a.read_text("utf-8").splitlines(), b.read_text("utf-8").splitlines()
    if len(la) != len(lb):
        return False
    for x, y in zip(la, lb):
        if x == y:
            continue
        cx, cy = x.split(","), y.split(",")
        if len(cx) != len(cy):
            return False
        for u, v in zip(cx, cy):
            if u == v:
                continue
            try:
                if not math.isclose(float(u), float(v), rel_tol=rel, abs_tol=1e-15):
                    return False
            except ValueError:
                return False
    return True



# ------------------------------------------------------------------ the observable response model (issue 8)

# sha256 prefixes of what the generator before the observable response model (main at 122d2f4) wrote for
# world(250, 42, out) at its default knobs: the segment model reproduces every file
SEGMENT_DIGESTS = {
    "borrower_addresses.csv": "ebe19d72b7fde7aa",
    "borrower_devices.csv": "3300aad1eaa7a5ac",
    "borrower_employers.csv": "e8490f4d6eb2f3c7",
    "borrower_phones.csv": "3b6b4e9b531d1ac9",
    "borrowers.csv": "b35fe4c665f7102e",
    "calls.csv": "b04c5274ce0bd053",
    "contact_attempts.csv": "cb0ba4876c0aa8bd",
    "emergency_contacts.csv": "3d16d291695d5cd8",
    "payments.csv": "e2eba3ad6fd5a3b0",
    "phone_status.csv": "3014c26a834b1a91",
    "phonebook.csv": "29a888fcecd3ae80",
    "truth/attempt_propensity.csv": "66f6a64ce1ba99b8",
    "truth/benign_groups.csv": "3eb3c045fe577c85",
    "truth/churn.csv": "7a39ab8ea7e4b54b",
    "truth/costs.csv": "7ab21631942c899a",
    "truth/lost_contact.csv": "e1fc6abf3d13f1f7",
    "truth/reachable.csv": "dbb70d92743517cd",
    "truth/response.csv": "ee887bbe9f9ad047",
    "truth/rings.csv": "fba6a4fbb622d329",
}


def test_segment_response_model_reproduces_the_older_generator(tmp_path):
    world(250, 42, tmp_path, response_model="segment")
    got = {k: v[:16] for k, v in digest(tmp_path).items() if k != "truth/world.json"}
    assert got == SEGMENT_DIGESTS
    # and the observable default changes the history and the truth, nothing else
    world(250, 42, tmp_path / "obs")
    obs = {k: v[:16] for k, v in digest(tmp_path / "obs").items() if k != "truth/world.json"}
    changed = {k for k in SEGMENT_DIGESTS if obs[k] != SEGMENT_DIGESTS[k]}
    assert changed == {"contact_attempts.csv", "payments.csv", "truth/attempt_propensity.csv", "truth/response.csv"}
    assert set(obs) - set(SEGMENT_DIGESTS) == {"truth/hour_effect.csv"}


def test_logging_policy_is_a_distribution_per_state():
    for explore in (0.0, 0.3, 1.0):
        buckets = [0, 1, 2, 3, 4] * 2
        has_tp = [True] * 5 + [False] * 5
        pr = logging_policy(buckets, has_tp, explore)
        assert pr.shape == (10, N_ARMS)
        assert abs(pr.sum(axis=1) - 1).max() < 1e-12
        tp = [a[2] == 1 for a in ARMS]
        assert (pr[5:][:, tp] == 0).all()  # no listed third party: no third-party arm
        if explore > 0:  # exploration reaches every available arm
            assert (pr[:5] > 0).all() and (pr[5:][:, [not x for x in tp]] > 0).all()
    # the rule part differs by state (early: reminders and sms; lost: third parties)
    pr = logging_policy([0, 4], [True, True], 0.0)
    names = arm_names()
    assert pr[0, names.index("sms/borrower")] > pr[1, names.index("sms/borrower")]
    assert pr[1, names.index("human_call/third_party/lost_contact_check")] > 0.2


def _day(text: str) -> float:
    t = dt.datetime.fromisoformat(text)
    return (t - dt.datetime(1970, 1, 1)).total_seconds() / 86400


def test_logged_scripts_and_propensities_are_the_logging_policys(cn):
    meta = json.loads((cn / "truth" / "world.json").read_text("utf-8"))
    T = _day(meta["as_of"] + "T00:00:00")
    dpd = {r["borrower_id"]: int(r["days_past_due"]) for r in read(cn / "borrowers.csv")}
    since = {r["borrower_id"]: _day(r["since"] + "T00:00:00") for r in read(cn / "truth" / "lost_contact.csv")}
    has_tp = {r["borrower_id"] for r in read(cn / "emergency_contacts.csv")}
    names = arm_names()
    prop = {r["attempt_id"]: float(r["propensity"]) for r in read(cn / "truth" / "attempt_propensity.csv")}
    attempts = read(cn / "contact_attempts.csv")
    checked = 0
    for a in attempts:
        p = float(a["propensity"])
        assert 0 < p <= 1 and p == prop[a["attempt_id"]]
        call = a["channel"] in ("ai_call", "human_call")
        assert (a["script"] in SCRIPTS) if call else a["script"] == ""
        t = _day(a["at"])
        d = dpd[a["borrower_id"]] - (T - t)
        lost_at = since.get(a["borrower_id"], 1e18) + 10
        if min(abs(d - x) for x in (15, 60, 120)) < 1.5 or abs(t - lost_at) < 1.5:
            continue  # the state's edge is a fraction of a day the file rounds away
        bucket = 4 if t >= lost_at else sum(d >= x for x in (15, 60, 120))
        arm = "/".join([a["channel"], a["target_role"]] + ([a["script"]] if a["script"] else []))
        want = logging_policy([bucket], [a["borrower_id"] in has_tp], meta["knobs"]["explore_share"])[0]
        assert p == pytest.approx(want[names.index(arm)], rel=1e-12), a
        checked += 1
    assert checked > 0.8 * len(attempts)
    scripts = Counter(a["script"] for a in attempts if a["target_role"] == "third_party" and a["script"])
    assert scripts.most_common(1)[0][0] == "lost_contact_check" and len(scripts) == 3  # bad practice is logged too


def test_response_truth_rows_satisfy_the_interface(cn):
    delinquent = {r["borrower_id"] for r in read(cn / "borrowers.csv") if r["status"] in ("delinquent", "written_off")}
    with open(cn / "truth" / "response.csv", encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert header[:12] == ["borrower_id", "channel", "target_role", "p_pay_30d", "expected_amount", "target_phone",
                           "p_pay_30d_baseline", "segment", "script", "reach", "p_pay_if_reached", "amount_if_paid"]
    rows = read(cn / "truth" / "response.csv")
    arms = defaultdict(set)
    per_b = defaultdict(set)
    for r in rows:
        base, reach, q = float(r["p_pay_30d_baseline"]), float(r["reach"]), float(r["p_pay_if_reached"])
        p, amount = float(r["p_pay_30d"]), float(r["amount_if_paid"])
        assert 0 <= base <= p <= 1 and 0 <= reach <= 1 and 0 < q < 1 and amount >= 0  # (a few rows owe 0.00)
        assert abs(p - (1 - (1 - base) * (1 - reach * q))) < 1e-12
        assert abs(float(r["expected_amount"]) - p * amount) <= 0.005 + 1e-9
        call = r["channel"] in ("ai_call", "human_call")
        assert (r["script"] in SCRIPTS) if call else r["script"] == ""
        assert bool(r["target_phone"]) == (r["channel"] in ("sms", "ai_call", "human_call"))
        arms[r["borrower_id"]].add((r["channel"], r["target_role"], r["script"]))
        per_b[r["borrower_id"]].add((base, amount, r["segment"]))
    assert set(arms) == delinquent
    assert all(len(v) == 1 for v in per_b.values())  # baseline, amount and segment are the borrower's
    borrower_arms = {a for a in map(lambda n: tuple(n.split("/")), arm_names()) if a[1] == "borrower"}
    for b, got in arms.items():
        mine = {(c, r, s) for c, r, s in got if r == "borrower"}
        assert {(c, r, *([s] if s else [])) for c, r, s in mine} == borrower_arms, b
        assert len(got) in (11, N_ARMS)  # third-party arms exactly when some third party relays
    # rows for every phone: the unknown new number of a lost borrower answers, the dead registered one does not
    lost = {r["borrower_id"]: r["mechanism"] for r in read(cn / "truth" / "lost_contact.csv")}
    churn = {r["borrower_id"]: r for r in read(cn / "truth" / "churn.csv")}
    phones_hit = 0
    for b, mech in lost.items():
        if b not in delinquent or mech != "dead" or b not in churn:
            continue
        c = churn[b]
        hc = {r["target_phone"]: float(r["reach"]) for r in rows
              if r["borrower_id"] == b and r["channel"] == "human_call" and r["target_role"] == "borrower"
              and r["script"] == "reminder"}
        assert hc[c["old_phone"]] == 0
        assert hc[c["new_phone"]] > 0
        phones_hit += 1
    assert phones_hit
    # third parties: every emergency contact of a lost borrower that reaches them has rows
    reachable = defaultdict(dict)
    for r in read(cn / "truth" / "reachable.csv"):
        if r["mechanism"] in ("family", "friend", "colleague", "workplace"):
            reachable[r["borrower_id"]][r["phone"]] = float(r["reach_probability"])
    tp_rows = defaultdict(dict)
    for r in rows:
        if r["target_role"] == "third_party" and r["channel"] == "human_call":
            tp_rows[r["borrower_id"]][(r["target_phone"], r["script"])] = float(r["reach"])
    for b, phones in reachable.items():
        if b not in delinquent:
            continue
        for ph in phones:
            lcc, neg = tp_rows[b][(ph, "lost_contact_check")], tp_rows[b][(ph, "negotiation")]
            assert lcc > 0 and neg < lcc  # only a lost-contact check gets passed on
    hours = read(cn / "truth" / "hour_effect.csv")
    assert {(r["channel"], int(r["local_hour"])) for r in hours} == {(c, h) for c in ("sms", "ai_call", "human_call")
                                                                      for h in range(24)}
    m = {(r["channel"], int(r["local_hour"])): float(r["multiplier"]) for r in hours}
    assert m[("human_call", 12)] > 1 > m[("human_call", 10)] and m[("human_call", 19)] > 1


def test_best_action_is_heterogeneous_within_cells(big, cn_segment):
    r = json.loads((big / "truth" / "world.json").read_text("utf-8"))["realised"]
    assert r["best_action_modal_share"] <= 0.6
    assert 0.05 < r["best_action_legal_letter_share"] < 0.5
    cells = r["best_action_cells"]
    assert sum(c["borrowers"] for c in cells.values()) == sum(
        1 for b in read(big / "borrowers.csv") if b["status"] in ("delinquent", "written_off"))
    big_cells = [c for c in cells.values() if c["borrowers"] >= 40]
    assert big_cells and all(c["modal_share"] < 0.75 for c in big_cells)
    seg = json.loads((cn_segment / "truth" / "world.json").read_text("utf-8"))["realised"]
    assert seg["best_action_modal_share"] > r["best_action_modal_share"] + 0.2  # the lookup table it replaces


def test_anti_collection_members_pay_less_through_the_knob(tmp_path):
    kw = dict(anti_rings_per_100k=300, anti_ring_size=(9, 12))
    world(800, 3, tmp_path / "a", **kw)
    world(800, 3, tmp_path / "b", anti_ring_pay_effect=0.0, **kw)
    members = {r["borrower_id"] for r in read(tmp_path / "a" / "truth" / "rings.csv")
               if r["typology"] == "anti_collection" and r["borrower_id"]}
    base = {d: {r["borrower_id"]: float(r["p_pay_30d_baseline"]) for r in read(tmp_path / d / "truth" / "response.csv")}
            for d in ("a", "b")}
    assert members & set(base["a"])
    for b, v in base["a"].items():
        if b in members:
            assert v < base["b"][b]
        else:
            assert v == base["b"][b]


def test_observable_knobs_are_checked(tmp_path):
    with pytest.raises(ValueError, match="response_model"):
        world(300, 1, tmp_path, response_model="lookup")
    with pytest.raises(ValueError, match="fatigue_per_attempt"):
        world(300, 1, tmp_path, fatigue_per_attempt=-1)


def test_close_family_shifts_repayment_by_the_documented_logit(tmp_path):
    world(600, 5, tmp_path / "a")
    world(600, 5, tmp_path / "b", family_pay_effect=0.0)
    logit = lambda x: math.log(x / (1 - x))  # noqa: E731
    base = {d: {r["borrower_id"]: float(r["p_pay_30d_baseline"]) for r in read(tmp_path / d / "truth" / "response.csv")}
            for d in ("a", "b")}
    allowed = [0.2 * (f - 1.5) for f in range(5)]  # 0..4 active close relatives, centred at 1.5
    seen = Counter()
    for b, v in base["a"].items():
        shift = logit(v) - logit(base["b"][b])
        k = min(range(5), key=lambda i: abs(allowed[i] - shift))
        assert abs(allowed[k] - shift) < 1e-6, (b, shift)
        seen[k] += 1
    assert len(seen) >= 3 and seen[0] < sum(seen.values()) / 2  # most have some close family, not all the same


def test_logs_show_the_hour_effect_and_the_third_party_script(big):
    # the logs are drawn from the truth's model: calls connect more at lunch and in the early evening,
    # and only a lost-contact check gets a third party to pass the message on
    rate = defaultdict(lambda: [0, 0])
    relay = defaultdict(lambda: [0, 0])
    for a in read(big / "contact_attempts.csv"):
        if a["channel"] not in ("ai_call", "human_call"):
            continue
        if a["target_role"] == "borrower":
            h = int(a["at"][11:13])
            key = "peak" if h in (12, 13, 18, 19) else "work" if h in (9, 10, 14, 15) else None
            if key:
                rate[key][0] += 1
                rate[key][1] += a["connected"] == "true"
        else:
            relay[a["script"] == "lost_contact_check"][0] += 1
            relay[a["script"] == "lost_contact_check"][1] += a["outcome"] == "reached_third_party"
    share = lambda v: v[1] / v[0]  # noqa: E731
    assert min(rate["peak"][0], rate["work"][0]) > 300
    assert share(rate["peak"]) > share(rate["work"]) + 0.1
    assert share(relay[True]) > share(relay[False]) + 0.08


def test_switchboard_numbers_are_never_refused_and_stay_distinct():
    # Beijing and Shanghai have no 800x fixed lines: a 100k world (seed 9) once
    # wrote 41 such switchboards, which the loader's validity check refused.
    # 300,000 employers in those two cities meet that window ~400 times.
    import numpy as np

    from skiptrace.generate.identity import CN_CITIES
    from skiptrace.generate.phones import PhoneSpace, refused_fixed
    from skiptrace.ingest.normalise import _valid_e164

    assert {p // 10 for p in refused_fixed("21")} == {800}  # the metadata's refusal, as found
    cities = [i for i, c in enumerate(CN_CITIES) if c.area in ("10", "21")]
    n_emp = 300_000
    space = PhoneSpace("CN", 10, 0, 0, 0, n_emp, zone=np.zeros(0, np.int8),
                       employer_city=np.array(cities * (n_emp // 2)), rng=np.random.default_rng(9))
    nums = space.e164(np.arange(space.switch, space.total))
    assert len(set(nums)) == n_emp
    refused = [s for s in nums if not _valid_e164(s)]
    assert not refused, refused[:3]
    # a number outside the refused window is the plain permutation's: worlds without one are unchanged
    from skiptrace.generate.identity import permute

    plain = permute(np.arange(n_emp), 28, space._key + 1, below=7 * 10**7)
    moved = sum(int(s[-8:]) - 2 * 10**7 != int(p) for s, p in zip(nums, plain.tolist()))
    assert 0 < moved < 1000


def test_every_phone_range_the_generator_draws_from_is_valid():
    # mobiles by their first 7 digits, US numbers by NPA-NXX, fixed lines by
    # area and 4 leading digits (less the refused ones): a change in the
    # phonenumbers metadata that refuses a range the generator uses fails here
    import random

    from skiptrace.generate.identity import CN_CITIES
    from skiptrace.generate.phones import _CN_MOBILE, _US_NPA, _US_NXX, refused_fixed
    from skiptrace.ingest.normalise import _valid_e164

    rng = random.Random(0)
    bad = [f"+86{m}{b:04d}" for m in _CN_MOBILE.tolist() for b in range(0, 10**4, 7)
           if not _valid_e164(f"+86{m}{b:04d}{rng.randrange(10**4):04d}")]
    bad += [f"+1{a}{x}" for npas in _US_NPA for a in npas.tolist() for x in _US_NXX.tolist()
            if not _valid_e164(f"+1{a}{x}{rng.randrange(10**4):04d}")]
    for c in CN_CITIES:
        skip = refused_fixed(c.area)
        bad += [f"+86{c.area}{p}" for p in range(2000, 9000)
                if p not in skip and not _valid_e164(f"+86{c.area}{p}{rng.randrange(10**4):04d}")]
    assert not bad, bad[:5]
