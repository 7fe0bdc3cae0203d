"""Two fraud-typing rules of ring detection (issue 10, session 10), on small hand-made worlds.

1. Members peeling sheds but who came with the block are taken back: a pair of synthetic
   identities that share a home with each other and hang off a dense block by one emergency
   listing, delinquent and opened in the block's wave, is part of the ring; a victim whose home a
   block member gave as mailing address (current, opened long before) and an honest delinquent
   contact (opened a year earlier) are not.
2. A risky group in which no two members hold one device, registered number or home address is
   not typed fraud: delinquent colleagues who opened together and list the same contacts are not
   the synthetic identities a fraud ring is made of.
"""
from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from skiptrace import rings as rings_lib
from skiptrace.generate.writer import INPUT_FILES
from skiptrace.ingest import load
from skiptrace.rings.typology import FLAG_AT, risk, typology

AS_OF = date(2026, 6, 30)

COLUMNS = {k: INPUT_FILES[k] for k in ("borrowers", "borrower_phones", "borrower_devices", "borrower_addresses",
                                    "borrower_employers", "emergency_contacts")}


def _day(ago: int) -> str:
    return (AS_OF - timedelta(days=ago)).isoformat()


class _World:
    def __init__(self) -> None:
        self.rows: dict[str, list[tuple]] = {k: [] for k in COLUMNS}
        self.n = 0

    def borrower(self, bid: str, *, opened: int, dpd: int = 0, home: str | None = None,
                 devices: tuple = ()) -> str:
        self.n += 1
        status = "delinquent" if dpd else "current"
        self.rows["borrowers"].append((bid, f"name {bid}", status, dpd, 5000.0, "CNY", _day(opened),
                                       "Asia/Shanghai", "CN", "false", "false"))
        self.rows["borrower_phones"].append((bid, self.phone_of(bid), "primary", _day(opened), _day(1), "true"))
        self.rows["borrower_devices"].append((bid, f"dev-{bid}", _day(opened), _day(1)))
        for dev in devices:
            self.rows["borrower_devices"].append((bid, dev, _day(opened), _day(1)))
        self.rows["borrower_addresses"].append((bid, home or f"{self.n} Own Road, Hostcity", "home",
                                                _day(opened), ""))
        return bid

    @staticmethod
    def phone_of(bid: str) -> str:
        return f"+8613{sum(ord(c) * 31 ** i for i, c in enumerate(bid)) % 10 ** 9:09d}"

    def lists(self, bid: str, phone: str, relation: str = "friend") -> None:
        self.rows["emergency_contacts"].append((bid, phone, "", relation, _day(90)))

    def write(self, d: Path) -> None:
        for name, cols in COLUMNS.items():
            with open(d / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(cols)
                w.writerows(self.rows[name])


def _background(w: _World, count: int = 60) -> list[str]:
    """Honest borrowers listing each other in a chain, one in ten delinquent."""
    out = [w.borrower(f"H{k:03d}", opened=300 + 5 * k, dpd=50 if k % 10 == 0 else 0) for k in range(count)]
    for k in range(1, count):
        w.lists(out[k], w.phone_of(out[k - 1]))
    return out


def _detect(store, w: _World, tmp_path: Path):
    d = tmp_path / "world"
    d.mkdir()
    w.write(d)
    load(store, d)
    return rings_lib.detect(store, seed=0)


def test_members_shed_by_peeling_who_came_with_the_block_are_taken_back(sqlite_store, tmp_path):
    w = _World()
    honest = _background(w)
    # the dense block: four synthetic identities on two shared devices and one secondary number
    block = [w.borrower(f"F{k}", opened=120 - 4 * k, dpd=80 - 4 * k,
                        devices=(("dev-ring-a",) if k < 3 else ()) + (("dev-ring-b",) if k > 0 else ()))
             for k in range(4)]
    for b in block[::2] + block[3:]:
        w.rows["borrower_phones"].append((b, "+8613999990077", "secondary", _day(110), _day(1), "false"))
    # the pair hanging off it: one home between them, one lists a block member, same wave
    pair = [w.borrower(f"P{k}", opened=105 + k, dpd=70, home="5 Side Street, Hostcity") for k in range(2)]
    w.lists(pair[0], w.phone_of(block[1]))
    # a victim whose home a block member gave as mailing address: current, opened long before
    victim = w.borrower("V1", opened=700, home="40 Victim Road, Hostcity")
    w.rows["borrower_addresses"].append((block[3], "40 Victim Road, Hostcity", "mailing", _day(108), ""))
    # an honest delinquent friend whom a block member lists and who lists them back: opened a year earlier
    friend = w.borrower("D1", opened=480, dpd=200)
    w.lists(block[2], w.phone_of(friend))
    w.lists(friend, w.phone_of(block[2]))
    rings = _detect(sqlite_store, w, tmp_path)
    fraud = [r for r in rings if r.typology == "fraud"]
    assert fraud, [(r.typology, round(r.risk, 2), r.members) for r in rings]
    ring = max(fraud, key=lambda r: len(set(r.members) & set(block)))
    assert set(ring.members) == set(block) | set(pair), (ring.members, ring.source)
    flagged = set().union(*(set(r.members) for r in rings if r.flagged))
    assert victim not in flagged and friend not in flagged
    assert not flagged & set(honest)


def test_a_risky_group_that_shares_no_identity_is_not_typed_fraud(sqlite_store, tmp_path):
    w = _World()
    _background(w)
    # delinquent colleagues: opened in one week, defaulted together, one employer, the same two
    # contacts listed (a team leader and the office manager), each with a phone, device and home of
    # their own
    team = [w.borrower(f"C{k}", opened=200 + k, dpd=60) for k in range(4)]
    for b in team:
        w.rows["borrower_employers"].append((b, "Small Works Ltd", "", _day(200)))
        w.lists(b, "+8613911112222", "colleague")
        w.lists(b, "+8613911113333", "colleague")
    rings = _detect(sqlite_store, w, tmp_path)
    held = [r for r in rings if set(r.members) & set(team)]
    assert held, "the team is a candidate group (it shares two contacts and an employer)"
    for r in held:
        assert r.features["identity_share"] == 0.0
        assert r.typology != "fraud", (r.typology, r.risk, r.features)


def test_typology_asks_a_fraud_ring_for_a_shared_held_identity():
    base = {"delinquent_share": 1.0, "onset_burst": 1.0, "early_default_share": 0.5, "opening_burst": 1.0,
            "identity_share": 0.0, "agents": 0.0, "family_ties": 0.0, "shared_addresses": 0.0}
    r = risk(base)
    assert r >= FLAG_AT
    assert typology(base, r) == "unknown"
    assert typology({**base, "identity_share": 0.5}, r) == "fraud"
    assert typology({**base, "agents": 1.0}, r) == "anti_collection"
    assert typology({**base, "family_ties": 0.5}, r) == "household"


def test_a_block_tied_only_by_one_shared_device_is_a_candidate_group(sqlite_store, tmp_path):
    """Six synthetic identities on one device, each listing honest borrowers as camouflage: the
    device's weight is shared among six holders, so each pair is weakly tied and the strong-link
    components (and Leiden inside them) never hold the block; the identity groups do."""
    w = _World()
    honest = _background(w)
    block = [w.borrower(f"S{k}", opened=90 - k, dpd=60 - k, devices=("dev-shared-farm",)) for k in range(6)]
    for k, b in enumerate(block):
        for j in range(3):
            w.lists(b, w.phone_of(honest[(11 * k + 7 * j) % len(honest)]))
    rings = _detect(sqlite_store, w, tmp_path)
    fraud = [r for r in rings if r.typology == "fraud" and r.flagged]
    assert fraud, [(r.typology, round(r.risk, 2), r.source, r.members) for r in rings]
    ring = max(fraud, key=lambda r: len(set(r.members) & set(block)))
    assert set(ring.members) == set(block), (ring.members, ring.source)
    flagged = set().union(*(set(r.members) for r in rings if r.flagged))
    assert not flagged & set(honest)
