"""Social-tie features (skiptrace.scoring.social) on a hand-built store: what counts as a close,
live family tie at a cut, and what the cut hides."""
from __future__ import annotations

import pytest

from skiptrace.ingest import load
from skiptrace.scoring.social import SOCIAL_FEATURES, is_family, social_features
from skiptrace.store import SQLiteStore
from skiptrace.store.base import Batch, node_id

OWN = "+8613800000001"
PARENT = "+8613800000002"     # parent, 20 calls in March-April: a close, live tie
SIBLING = "+8613800000003"    # sibling, 30 calls, line disconnected on 2026-04-25
FRIEND = "+8613800000004"     # friend, 15 recent calls: close, but not family
MOM = "+8613800000005"        # phonebook "妈妈", calls only after 2026-05-01
LATE = "+8613800000006"       # parent listed only on 2026-06-01
OLD = "+8613800000007"        # spouse, 40 calls that ended in 2025 (not recent)
SPAN = "+8613800000008"       # relative, 12 calls spread over 2026-03-01 .. 2026-06-30

FILES = {
    "borrowers": [
        "borrower_id,full_name,status,days_past_due,balance,currency,opened_at,timezone,region",
        "B1,张伟,delinquent,40,8000,CNY,2025-01-01T00:00:00,Asia/Shanghai,CN",
        "B2,李娜,delinquent,40,8000,CNY,2025-01-01T00:00:00,Asia/Shanghai,CN",
    ],
    "borrower_phones": [
        "borrower_id,phone,role,first_seen,last_seen,verified",
        f"B1,{OWN},primary,2025-01-01,2026-06-01,true",
    ],
    "emergency_contacts": [
        "borrower_id,contact_phone,contact_name,relation,listed_at",
        f"B1,{PARENT},王芳,parent,2025-01-01T00:00:00",
        f"B1,{SIBLING},张强,sibling,2025-01-01T00:00:00",
        f"B1,{FRIEND},李明,friend,2025-01-01T00:00:00",
        f"B1,{LATE},张军,parent,2026-06-01T00:00:00",
        f"B1,{OLD},刘丽,spouse,2025-01-01T00:00:00",
        f"B1,{SPAN},张华,relative,2025-01-01T00:00:00",
    ],
    "phonebook": [
        "borrower_id,contact_phone,contact_name,captured_at",
        f"B1,{MOM},妈妈,2025-06-01T00:00:00",
    ],
    "calls": [
        "phone_a,phone_b,calls_a_to_b,calls_b_to_a,seconds_total,first_at,last_at",
        f"{OWN},{PARENT},10,10,3000,2026-03-01T10:00:00+08:00,2026-04-20T10:00:00+08:00",
        f"{SIBLING},{OWN},15,15,3000,2026-02-01T10:00:00+08:00,2026-04-10T10:00:00+08:00",
        f"{OWN},{FRIEND},8,7,3000,2026-03-15T10:00:00+08:00,2026-04-15T10:00:00+08:00",
        f"{OWN},{MOM},6,6,3000,2026-05-10T10:00:00+08:00,2026-06-20T10:00:00+08:00",
        f"{OWN},{OLD},20,20,3000,2025-01-10T10:00:00+08:00,2025-10-01T10:00:00+08:00",
        f"{OWN},{SPAN},6,6,3000,2026-03-01T00:00:00+08:00,2026-06-30T00:00:00+08:00",
    ],
    "phone_status": [
        "phone,status,status_at",
        f"{SIBLING},disconnected,2026-04-25",
    ],
}


@pytest.fixture
def store(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for name, lines in FILES.items():
        (src / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    s = SQLiteStore(tmp_path / "s.db")
    load(s, src)
    try:
        yield s
    finally:
        s.close()


def test_family_ties_at_a_cut(store):
    f = social_features(store, ["B1"], as_of="2026-05-01T00:00:00+08:00").loc["B1"]
    assert list(f.index) == list(SOCIAL_FEATURES)
    # listed by the cut: parent, sibling, 妈妈 (phonebook nickname), spouse, relative; the parent
    # listed in June is not yet known and the friend is not family
    assert f["family_contacts"] == 5
    # close: the parent only (sibling's line dead by the cut, 妈妈's calls all after it, the spouse's
    # calls too old, the relative's record pro-rated to 12 * 61/121 = 6 calls, below 10)
    assert f["family_close"] == 1
    # live (any recent call, line not dead): parent and the pro-rated relative
    assert f["family_live"] == 2
    # recent family calls: parent 20 + sibling 30 (a dead line still counts here: the calls
    # happened) + relative 6 (each direction's 6 calls pro-rated by 61/121 and rounded: 3 + 3)
    assert f["family_calls_recent"] == pytest.approx(56)
    # close ties to any phone: parent and friend (sibling dead)
    assert f["close_contacts"] == 2
    assert f["anti_ring_member"] == 0 and f["fraud_ring_member"] == 0


def test_a_line_status_recorded_after_the_cut_is_not_known(store):
    before = social_features(store, ["B1"], as_of="2026-04-20T12:00:00+08:00").loc["B1"]
    after = social_features(store, ["B1"], as_of="2026-05-01T00:00:00+08:00").loc["B1"]
    assert before["family_close"] == 2 and before["close_contacts"] == 3  # the sibling too
    assert after["family_close"] == 1 and after["close_contacts"] == 2


def test_calls_after_the_cut_are_dropped(store):
    # at the end of June 妈妈's 12 calls (May-June) have happened and the relative's record counts
    # whole (12 calls); the parent's last call (2026-04-20) is still within 90 days
    end = social_features(store, ["B1"], as_of="2026-06-30T12:00:00+08:00").loc["B1"]
    cut = social_features(store, ["B1"], as_of="2026-05-01T00:00:00+08:00").loc["B1"]
    assert end["family_close"] == 3  # parent, 妈妈, relative (the parent listed in June has no calls)
    assert end["family_contacts"] == 6
    assert cut["family_close"] == 1


def test_borrowers_without_ties_and_unknown_ids_get_zeros(store):
    f = social_features(store, ["B2", "NOPE", "B2"], as_of="2026-05-01")
    assert list(f.index) == ["B2", "NOPE"]
    assert (f.to_numpy() == 0).all()


def test_ring_membership_by_typology(store):
    b = Batch()
    anti = b.add_node("Ring", "R1", {"typology": "anti_collection", "risk": 0.9})
    fraud = b.add_node("Ring", "R2", {"typology": "fraud", "risk": 0.8})
    b.add_edge("MEMBER_OF", node_id("Borrower", "B1"), anti, {"role": "member"})
    b.add_edge("MEMBER_OF", node_id("Borrower", "B2"), fraud, {"role": "member"})
    store.write(b)
    f = social_features(store, ["B1", "B2"], as_of="2026-05-01")
    assert f.loc["B1", "anti_ring_member"] == 1 and f.loc["B1", "fraud_ring_member"] == 0
    assert f.loc["B2", "anti_ring_member"] == 0 and f.loc["B2", "fraud_ring_member"] == 1


@pytest.mark.parametrize("props, family", [
    ({"relation": "Parent"}, True), ({"relation": "friend"}, False),
    ({"relation": None, "name": "妈妈"}, True), ({"name": " Mom "}, True),
    ({"name": "王芳"}, False), ({}, False)])
def test_is_family(props, family):
    assert is_family(props) is family
