"""A fraud block that never defaults on its first instalment, camouflaged into a household's
neighbourhood, is still found and flagged fraud; the household and a dormitory next to it are not.

A small hand-made world (about 100 borrowers, SQLite, well under a second to detect) with the
shapes that defeated the detector on rings injected into real networks (issue 10, session 7):

- the block's members share subsets of 3 devices, 2 home addresses and a secondary phone, their
  loans opened within 40 days, and every one of them paid two to four instalments before
  defaulting (no first-payment default);
- camouflage: each lists a household member or an honest borrower as an emergency contact (whose
  numbers other borrowers list too), and one gives the household's home as a mailing address;
- a household (6 family members sharing a home and a tablet, listing each other, loans opened in
  one week, one delinquent) and a dormitory (20 residents at one address) sit beside it.

Before the session-7 detector the block and the household were one candidate and peeling kept
only one of them.
"""
from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from skiptrace import rings as rings_lib
from skiptrace.ingest import load

AS_OF = date(2026, 6, 30)

COLUMNS = {
    "borrowers": ["borrower_id", "full_name", "status", "days_past_due", "balance", "currency", "opened_at",
                  "timezone", "region", "attorney_known", "cease_requested"],
    "borrower_phones": ["borrower_id", "phone", "role", "first_seen", "last_seen", "verified"],
    "borrower_devices": ["borrower_id", "device_id", "first_seen", "last_seen"],
    "borrower_addresses": ["borrower_id", "address", "kind", "first_seen", "last_seen"],
    "emergency_contacts": ["borrower_id", "contact_phone", "contact_name", "relation", "listed_at"],
}


def _day(ago: int) -> str:
    return (AS_OF - timedelta(days=ago)).isoformat()


def _world(d: Path) -> dict[str, list[str]]:
    rows: dict[str, list[tuple]] = {k: [] for k in COLUMNS}
    groups: dict[str, list[str]] = {"fraud": [], "household": [], "dormitory": [], "honest": []}

    def borrower(bid: str, *, opened: int, dpd: int = 0, home: str | None = None, devices: tuple = ()) -> str:
        status = "delinquent" if dpd else "current"
        rows["borrowers"].append((bid, f"name {bid}", status, dpd, 5000.0, "CNY", _day(opened), "Asia/Shanghai",
                                  "CN", "false", "false"))
        n = int(bid[1:]) if bid[1:].isdigit() else 9000 + sum(map(ord, bid))
        rows["borrower_phones"].append((bid, f"+8613{n:09d}", "primary", _day(opened), _day(1), "true"))
        rows["borrower_devices"].append((bid, f"dev-{bid}", _day(opened), _day(1)))
        for dev in devices:
            rows["borrower_devices"].append((bid, dev, _day(opened), _day(1)))
        rows["borrower_addresses"].append((bid, home or f"{n} Own Road, Hostcity", "home", _day(opened), ""))
        return bid

    def phone(bid: str) -> str:
        return next(r[1] for r in rows["borrower_phones"] if r[0] == bid)

    # honest borrowers, listing each other in a chain (the social ties camouflage hides in)
    for k in range(60):
        b = borrower(f"B{k:04d}", opened=200 + 7 * k, dpd=40 + k if k % 9 == 0 else 0)
        groups["honest"].append(b)
    for k in range(1, 60):
        for j in (k - 1, (k * 7) % k):
            rows["emergency_contacts"].append((groups["honest"][k], phone(groups["honest"][j]), "", "friend", _day(100)))
    # a household: one home, one family tablet, loans opened in one week, one member delinquent
    for k in range(6):
        b = borrower(f"B{100 + k:04d}", opened=300 + k, dpd=25 if k == 0 else 0, home="7 Family Lane, Hostcity",
                     devices=("dev-family-tablet",))
        groups["household"].append(b)
        for j in groups["household"][:-1][-2:]:
            rows["emergency_contacts"].append((b, phone(j), "", "parent" if k < 2 else "sibling", _day(300)))
    # a dormitory: 20 residents at one address, defaulting at the book's rate
    for k in range(20):
        b = borrower(f"B{200 + k:04d}", opened=150 + 11 * k, dpd=60 if k in (3, 11) else 0,
                     home="Dormitory 3, Works Road, Hostcity")
        groups["dormitory"].append(b)
        rows["emergency_contacts"].append((b, phone(groups["honest"][k]), "", "friend", _day(150)))
    # the fraud block: opened within 40 days, defaulted after paying 2-4 instalments
    devs = ["dev-F1-a", "dev-F1-b", "dev-F1-c"]
    use = [(0,), (0,), (0, 1), (1,), (1, 2), (2,), (2,)]
    homes = ["12 Quiet Street, Hostcity", "88 Far Road, Hostcity"]
    for k in range(7):
        opened = 260 - 6 * k
        dpd = opened - 30 * (3 + k % 3)  # 2-4 instalments paid, then default
        b = borrower(f"F{k + 1:03d}", opened=opened, dpd=dpd, home=homes[k % 2] if k != 6 else None,
                     devices=tuple(devs[i] for i in use[k]))
        groups["fraud"].append(b)
        if k % 2 == 0:
            rows["borrower_phones"].append((b, "+8613999990001", "secondary", _day(opened), _day(1), "false"))
        # camouflage: a household member's number (others list it too) and an honest borrower's
        rows["emergency_contacts"].append((b, phone(groups["household"][k % 6]), "", "relative", _day(opened)))
        rows["emergency_contacts"].append((b, phone(groups["honest"][5 * k + 3]), "", "friend", _day(opened)))
    rows["borrower_addresses"].append(("F001", "7 Family Lane, Hostcity", "mailing", _day(260), ""))
    for name, cols in COLUMNS.items():
        with open(d / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            w.writerows(rows[name])
    return groups


def test_a_block_without_first_payment_default_is_flagged_and_its_neighbours_are_not(sqlite_store, tmp_path):
    d = tmp_path / "world"
    d.mkdir()
    groups = _world(d)
    load(sqlite_store, d)
    rings = rings_lib.detect(sqlite_store, seed=0)
    fraud = [r for r in rings if r.typology == "fraud"]
    flagged = set().union(*(set(r.members) for r in rings if r.flagged))
    block = set(groups["fraud"])
    found = set().union(*(set(r.members) for r in fraud)) & block
    assert len(found) >= 6, (sorted(found), [(r.typology, r.risk, r.members) for r in rings])
    ring = max(fraud, key=lambda r: len(set(r.members) & block))
    # flagged on structure and timing, not on first-payment default: there was none
    assert ring.features["early_default_share"] == 0.0
    assert ring.features["identity_share"] >= 0.8 and ring.features["opening_burst"] >= 0.8
    assert set(ring.members) <= block  # the household and the honest contacts peeled away
    for kind in ("household", "dormitory", "honest"):
        assert not flagged & set(groups[kind]), kind
