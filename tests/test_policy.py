"""skiptrace.policy: every rule of every pack blocks and allows; time windows (quiet hours,
DST, unknown zones, caps, cool-downs); find's eligibility through the packs on both stores."""
from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from skiptrace.contacts import clock, find
from skiptrace.policy import (CALLS, PACKS, Action, Context, Policy, UnknownPolicy, get_policy,
                              policy_for)
from skiptrace.policy.zones import candidate_zones, region_zones
from skiptrace.store import Batch
from skiptrace.store.base import Ledger

SH = "Asia/Shanghai"
NY = "America/New_York"
P = "+8613800000000"      # the borrower's number
P2 = "+8613900000001"     # another registered number
T = "+8613700000002"      # a third party
T2 = "+8613700000003"     # another third party
CN_BORROWER = {"borrower_id": "B1", "timezone": SH, "region": "CN"}
US_BORROWER = {"borrower_id": "B1", "timezone": NY, "region": "US"}


def at(local: str, tz: str = SH) -> float:
    """Local wall time -> day number."""
    return clock.to_days(dt.datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(tz)).isoformat())


def att(t: float, channel: str = "human_call", phone: str = P, role: str = "borrower",
        connected: bool = False, outcome: str | None = "no_answer") -> dict:
    """A ledger row as the stores return it."""
    return {"attempt_id": f"A{t}", "borrower_id": "B1", "channel": channel, "at": clock.iso(t),
            "target_phone": phone, "target_role": role, "connected": connected, "outcome": outcome}


def ctx_of(borrower: dict, attempts=(), *, as_of: float, phones=None, listed=()) -> Context:
    phones = {P: {"status": "active"}} if phones is None else phones
    return Context.build(borrower, Ledger("B1", sorted(attempts, key=lambda a: a["at"]), []),
                         as_of=as_of, listed=listed, borrower_phones=phones)


def rules_blocking(pack: str, action: Action, ctx: Context) -> list[str]:
    return [b.rule for b in get_policy(pack).blocks(action, ctx)]


NOW = at("2026-01-28T14:00:00")
CALL_B = Action("human_call", "borrower", P, "reminder")
TP_CHECK = Action("ai_call", "third_party", T, "lost_contact_check")


# -- registry ------------------------------------------------------------------------------

def test_registry_and_auto():
    assert set(PACKS) == {"baseline", "CN-NIFA-2024", "US-RegF"}
    assert [r.id for r in PACKS["CN-NIFA-2024"].rules] == [f"CN-{i}" for i in range(1, 10)]
    assert [r.id for r in PACKS["US-RegF"].rules] == [f"RF-{i}" for i in range(1, 8)]
    for pack in PACKS.values():
        for r in pack.rules:
            assert r.title and r.source and r.kind in ("who", "when") and len(r.reading) > 40
    assert policy_for({"region": "CN"}).name == "CN-NIFA-2024"
    assert policy_for({"region": "us"}).name == "US-RegF"
    both = policy_for({"region": "DE"})
    assert {r.id for r in both.rules} == {r.id for p in ("CN-NIFA-2024", "US-RegF")
                                          for r in PACKS[p].rules}
    assert policy_for({}).name == both.name == "CN-NIFA-2024+US-RegF"
    assert get_policy(both) is both and get_policy("US-RegF") is PACKS["US-RegF"]
    with pytest.raises(UnknownPolicy, match="baseline, CN-NIFA-2024, US-RegF"):
        get_policy("GDPR")
    with pytest.raises(UnknownPolicy, match="policy_for"):
        get_policy("auto")
    with pytest.raises(ValueError):
        Action("fax", "borrower")


def test_docs_list_every_rule():
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "policy.md").read_text("utf-8")
    for pack in PACKS.values():
        for r in pack.rules:
            row = next((ln for ln in doc.splitlines() if ln.startswith((f"| {r.id} |", f"| `{r.id}` |"))),
                       None)
            assert row is not None, r.id
            assert r.source.startswith("NIFA") or r.source in row, (r.id, r.source)


def test_candidate_zones():
    assert candidate_zones(CN_BORROWER) == (SH,)
    assert candidate_zones({"timezone": "Mars/Olympus", "region": "CN"}) == region_zones()["CN"]
    assert SH in region_zones()["CN"] and len(region_zones()["CN"]) >= 2
    us = candidate_zones({"region": "US"})
    assert NY in us and "Pacific/Honolulu" in us
    assert len(candidate_zones({})) > 300  # nothing known: every zone


# -- baseline ------------------------------------------------------------------------------

def test_baseline_borrower_flags():
    for flag in ("cease_requested", "attorney_known"):
        ctx = ctx_of({**CN_BORROWER, flag: True}, as_of=NOW)
        assert rules_blocking("baseline", Action(None, "borrower", P), ctx) == [flag]
        assert rules_blocking("baseline", Action(None, "third_party", T), ctx) == [flag]
        ctx = ctx_of({**CN_BORROWER, flag: False}, as_of=NOW)
        assert rules_blocking("baseline", Action(None, "borrower", P), ctx) == []


def test_baseline_ledger_rules():
    rows = [att(NOW - 3, phone=T, role="third_party", connected=True, outcome="refused"),
            att(NOW - 2, phone=P2, outcome="opted_out", connected=True),
            att(NOW - 1, phone=T2, role="third_party", connected=False, outcome="no_answer")]
    ctx = ctx_of(CN_BORROWER, rows, as_of=NOW)
    assert rules_blocking("baseline", Action(None, "third_party", T), ctx) == [
        "third_party_refused", "location_info_used"]
    assert rules_blocking("baseline", Action(None, "borrower", P2), ctx) == ["opted_out"]
    assert rules_blocking("baseline", Action(None, "borrower", P), ctx) == []
    assert rules_blocking("baseline", Action(None, "third_party", T2), ctx) == []  # not connected
    # attempts after as_of are not known yet
    early = ctx_of(CN_BORROWER, rows, as_of=NOW - 2.5)
    assert rules_blocking("baseline", Action(None, "borrower", P2), early) == []


# -- CN-NIFA-2024: who ---------------------------------------------------------------------

def _unreachable_ctx(**kw) -> Context:
    """All registered phones dead: CN-2 lets third parties through."""
    return ctx_of(CN_BORROWER, as_of=NOW, phones={P: {"status": "disconnected",
                                                      "status_at": clock.iso(NOW - 10)}}, **kw)


def test_cn1_collect_from_debtor_only():
    ctx = _unreachable_ctx(listed=[T])
    assert "CN-1" in rules_blocking("CN-NIFA-2024", Action("ai_call", "third_party", T, "reminder"), ctx)
    assert "CN-1" in rules_blocking("CN-NIFA-2024", Action("sms", "third_party", T, "negotiation"), ctx)
    assert rules_blocking("CN-NIFA-2024", TP_CHECK, ctx) == []
    assert rules_blocking("CN-NIFA-2024", CALL_B, ctx) == []


def test_cn2_third_party_only_when_unreachable():
    live = ctx_of(CN_BORROWER, as_of=NOW, listed=[T])
    assert rules_blocking("CN-NIFA-2024", TP_CHECK, live) == ["CN-2"]
    assert rules_blocking("CN-NIFA-2024", TP_CHECK, _unreachable_ctx(listed=[T])) == []
    assert rules_blocking("CN-NIFA-2024", TP_CHECK, ctx_of(CN_BORROWER, as_of=NOW, phones={},
                                                          listed=[T])) == []
    # a disconnection recorded after as_of is not known yet
    later = ctx_of(CN_BORROWER, as_of=NOW, listed=[T],
                   phones={P: {"status": "disconnected", "status_at": clock.iso(NOW + 1)}})
    assert rules_blocking("CN-NIFA-2024", TP_CHECK, later) == ["CN-2"]
    # the last 3 borrower phone attempts in 30 days failed (one a wrong number): unreachable
    failed = [att(NOW - 5), att(NOW - 4, channel="sms", connected=False, outcome=None),
              att(NOW - 3, connected=True, outcome="wrong_number")]
    assert rules_blocking("CN-NIFA-2024", TP_CHECK, ctx_of(CN_BORROWER, failed, as_of=NOW,
                                                          listed=[T])) == []
    # ... but a connected call among the last 3, only 2 failures, or failures older than 30 days
    ok = failed[:2] + [att(NOW - 3, connected=True, outcome="reached_borrower")]
    for rows in (ok, failed[:2], [att(NOW - 40 + i) for i in range(3)]):
        assert rules_blocking("CN-NIFA-2024", TP_CHECK, ctx_of(CN_BORROWER, rows, as_of=NOW,
                                                              listed=[T])) == ["CN-2"]

    # a second registered number not tried in 30 days keeps the debtor reachable
    two = {P: {"status": "active"}, "+8613900000009": {"status": "active"}}
    assert rules_blocking("CN-NIFA-2024", TP_CHECK, ctx_of(CN_BORROWER, failed, as_of=NOW, phones=two,
                                                          listed=[T])) == ["CN-2"]


def test_cn8_cease_and_cn9_attorney():
    for flag, rule in (("cease_requested", "CN-8"), ("attorney_known", "CN-9")):
        ctx = ctx_of({**CN_BORROWER, flag: True}, as_of=NOW)
        assert rules_blocking("CN-NIFA-2024", CALL_B, ctx) == [rule]
        assert rules_blocking("CN-NIFA-2024", CALL_B, ctx_of({**CN_BORROWER, flag: False}, as_of=NOW)) == []


def test_cn3_listed_contacts_only():
    ctx = _unreachable_ctx(listed=[T])
    assert rules_blocking("CN-NIFA-2024", Action("ai_call", "third_party", T2, "lost_contact_check"),
                          ctx) == ["CN-3"]
    assert rules_blocking("CN-NIFA-2024", TP_CHECK, ctx) == []
    assert rules_blocking("CN-NIFA-2024", Action("ai_call", "third_party", T2, "lost_contact_check",
                                                 listed=True), ctx) == []


def test_cn4_no_disclosure():
    ctx = _unreachable_ctx(listed=[T])
    for a in (Action("legal_letter", "third_party", T), Action("email", "third_party", T),
              Action("human_call", "third_party", T)):  # a call without a script may disclose
        assert rules_blocking("CN-NIFA-2024", a, ctx) == ["CN-4"]
    assert rules_blocking("CN-NIFA-2024", Action("sms", "third_party", T), ctx) == []
    assert rules_blocking("CN-NIFA-2024", Action(None, "third_party", T), ctx) == []


def test_cn5_refused_never_again():
    rows = [att(NOW - 20, phone=T, role="third_party", connected=True, outcome="refused")]
    ctx = ctx_of(CN_BORROWER, rows, as_of=NOW, listed=[T, T2],
                 phones={P: {"status": "reassigned", "status_at": clock.iso(NOW - 30)}})
    assert rules_blocking("CN-NIFA-2024", TP_CHECK, ctx) == ["CN-5"]
    assert rules_blocking("CN-NIFA-2024", Action("sms", "third_party", T2), ctx) == []


# -- CN-NIFA-2024: when --------------------------------------------------------------------

def test_cn7_quiet_hours():
    pol = get_policy("CN-NIFA-2024")
    ctx = ctx_of(CN_BORROWER, as_of=at("2026-01-28T23:00:00"))
    d = pol.decide(CALL_B, ctx, ctx.as_of, ctx.as_of + 2)
    assert d.allowed and clock.iso(d.not_before, SH) == "2026-01-29T08:00:00+08:00"
    assert clock.iso(d.not_after, SH) == "2026-01-29T22:00:00+08:00"
    d = pol.decide(CALL_B, ctx, ctx.as_of, at("2026-01-29T07:59:00"))
    assert not d.allowed and [b.rule for b in d.blocks] == ["CN-7"]
    # a letter is not a timed contact; in the day the call is allowed at once
    assert pol.decide(Action("letter", "borrower"), ctx, ctx.as_of, ctx.as_of + 0.1).not_before == ctx.as_of
    d = pol.decide(CALL_B, ctx, NOW, NOW + 1)
    assert d.allowed and d.not_before == NOW


def test_cn6_daily_call_cap():
    pol = get_policy("CN-NIFA-2024")
    calls = [att(at(f"2026-01-28T{h:02d}:00:00"), connected=True, outcome="reached_borrower")
             for h in (9, 11, 13)]
    ctx = ctx_of(CN_BORROWER, calls + [att(at("2026-01-28T10:00:00"))], as_of=NOW)
    d = pol.decide(CALL_B, ctx, NOW, NOW + 2)
    assert d.allowed and clock.iso(d.not_before, SH) == "2026-01-29T08:00:00+08:00"
    d = pol.decide(CALL_B, ctx, NOW, at("2026-01-29T06:00:00"))
    assert not d.allowed and [b.rule for b in d.blocks] == ["CN-7", "CN-6"]
    d = pol.decide(CALL_B, ctx, NOW, at("2026-01-28T21:00:00"))
    assert not d.allowed and d.blocks[0].rule == "CN-6" and d.blocks[0].why == "3 connected calls today"
    # an sms, or a call with two connected calls today, is not capped
    assert pol.decide(Action("sms", "borrower", P), ctx, NOW, NOW + 1).not_before == NOW
    two = ctx_of(CN_BORROWER, calls[:2] + [att(at("2026-01-28T13:00:00"))] * 3, as_of=NOW)
    assert pol.decide(CALL_B, two, NOW, NOW + 1).not_before == NOW
    # an attempt without a target_role is the borrower's (the contract's default)
    anon = ctx_of(CN_BORROWER, calls[:2] + [dict(calls[2], target_role=None)], as_of=NOW)
    assert pol.decide(CALL_B, anon, NOW, NOW + 1).not_before > NOW
    # three connected calls yesterday do not cap today
    old = ctx_of(CN_BORROWER, calls, as_of=NOW + 1)
    assert pol.decide(CALL_B, old, NOW + 1, NOW + 2).not_before == NOW + 1


# -- US-RegF -------------------------------------------------------------------------------

def test_rf1_hours_across_dst():
    pol = get_policy("US-RegF")
    # DST begins 2026-03-08 in New York: 08:00 is 13:00 UTC on the 7th, 12:00 UTC on the 8th
    start = at("2026-03-06T22:00:00", NY)
    ctx = ctx_of(US_BORROWER, as_of=start)
    a = Action("sms", "borrower", P)
    d = pol.decide(a, ctx, start, start + 3)
    assert (clock.iso(d.not_before), clock.iso(d.not_after)) == ("2026-03-07T13:00:00Z",
                                                                 "2026-03-08T02:00:00Z")
    d = pol.decide(a, ctx, d.not_after, start + 3)
    assert (clock.iso(d.not_before), clock.iso(d.not_after)) == ("2026-03-08T12:00:00Z",
                                                                 "2026-03-09T01:00:00Z")
    assert clock.iso(d.not_before, NY) == "2026-03-08T08:00:00-04:00"
    # a letter may go any time
    assert pol.decide(Action("letter", "borrower"), ctx, start, start + 1).not_before == start


def _oracle(zones, lo_h, hi_h, start, end, step_min=1):
    """First legal minute in every zone and the first illegal one after it, by brute force."""
    t, first = start, None
    while t < end:
        ok = all(lo_h <= clock.to_datetime(t, z).hour < hi_h for z in zones)
        if first is None and ok:
            first = t
        elif first is not None and not ok:
            return first, t
        t += step_min / 1440
    return first, end


def test_unknown_timezone_takes_the_intersection():
    pol = get_policy("US-RegF")
    start = clock.to_days("2026-06-10T12:00:00Z")
    ctx = ctx_of({"timezone": "Eastern", "region": "US"}, as_of=start)
    assert len(ctx.zones) > 20
    d = pol.decide(Action("sms", "borrower", P), ctx, start, start + 2)
    # 08:00 in Honolulu (HST) to 21:00 in New York (EDT)
    assert (clock.iso(d.not_before), clock.iso(d.not_after)) == ("2026-06-10T18:00:00Z",
                                                                 "2026-06-11T01:00:00Z")
    want = _oracle(ctx.zones, 8, 21, start, start + 2)
    assert abs(d.not_before - want[0]) < 1e-6 and abs(d.not_after - want[1]) < 1e-6
    # a known zone gives the full day
    d = pol.decide(Action("sms", "borrower", P), ctx_of(US_BORROWER, as_of=start), start, start + 2)
    assert d.not_before == start and clock.iso(d.not_after, NY) == "2026-06-10T21:00:00-04:00"


def test_rf2_seven_calls_in_seven_days():
    pol = get_policy("US-RegF")
    calls = [att(at(f"2026-05-{d:02d}T10:00:00", NY), channel="ai_call") for d in range(1, 8)]
    now = at("2026-05-07T15:00:00", NY)
    ctx = ctx_of(US_BORROWER, calls, as_of=now)
    d = pol.decide(CALL_B, ctx, now, now + 3)
    assert d.allowed and clock.iso(d.not_before, NY) == "2026-05-08T10:00:00-04:00"  # 1st ages out
    d = pol.decide(CALL_B, ctx, now, at("2026-05-08T09:00:00", NY))
    assert not d.allowed and [b.rule for b in d.blocks] == ["RF-2"]  # it alone covers the horizon
    assert pol.decide(Action("email", "borrower"), ctx, now, now + 1).not_before == now
    six = ctx_of(US_BORROWER, calls[1:], as_of=now)
    assert pol.decide(CALL_B, six, now, now + 1).not_before == now
    # calls to a third party are another person's
    assert pol.decide(CALL_B, ctx_of(US_BORROWER, [dict(c, target_role="third_party", target_phone=T)
                                                    for c in calls], as_of=now),
                      now, now + 1).not_before == now


def test_rf3_cool_down_after_a_conversation():
    pol = get_policy("US-RegF")
    talk = att(at("2026-05-04T10:00:00", NY), connected=True, outcome="promise_to_pay")
    now = at("2026-05-06T12:00:00", NY)
    ctx = ctx_of(US_BORROWER, [talk], as_of=now)
    d = pol.decide(CALL_B, ctx, now, now + 10)
    # the conversation's date is day 1: calls again from the 8th local day (the 11th), 08:00
    assert clock.iso(d.not_before, NY) == "2026-05-11T08:00:00-04:00"
    d = pol.decide(CALL_B, ctx, now, at("2026-05-10T23:59:00", NY))
    assert not d.allowed and d.blocks[0].rule == "RF-3"
    # an sms is no call; a connected call answered by someone else is no conversation
    assert pol.decide(Action("sms", "borrower", P), ctx, now, now + 1).not_before == now
    other = ctx_of(US_BORROWER, [dict(talk, outcome="reached_third_party")], as_of=now)
    assert pol.decide(CALL_B, other, now, now + 1).not_before == now


def test_rf4_medium_opt_outs():
    rows = [att(NOW - 3, channel="sms", connected=True, outcome="opted_out")]
    ctx = ctx_of(US_BORROWER, rows, as_of=NOW)
    assert rules_blocking("US-RegF", Action("sms", "borrower", P2), ctx) == ["RF-4"]
    assert rules_blocking("US-RegF", CALL_B, ctx) == []
    assert rules_blocking("US-RegF", Action(None, "borrower", P), ctx) == []  # one medium only
    both = ctx_of(US_BORROWER, rows + [att(NOW - 2, channel="ai_call", connected=True,
                                           outcome="opted_out")], as_of=NOW)
    assert rules_blocking("US-RegF", Action(None, "borrower", P), both) == ["RF-4"]
    assert rules_blocking("US-RegF", Action("email", "borrower"), both) == []


def test_rf5_cease_and_rf6_attorney():
    cease = ctx_of({**US_BORROWER, "cease_requested": True}, as_of=NOW)
    assert rules_blocking("US-RegF", CALL_B, cease) == ["RF-5"]
    assert rules_blocking("US-RegF", Action("legal_letter", "borrower"), cease) == []
    lawyer = ctx_of({**US_BORROWER, "attorney_known": True}, as_of=NOW)
    assert rules_blocking("US-RegF", TP_CHECK, lawyer) == ["RF-6"]
    assert rules_blocking("US-RegF", Action("letter", "borrower"), lawyer) == ["RF-6"]
    plain = ctx_of(US_BORROWER, as_of=NOW)
    assert rules_blocking("US-RegF", CALL_B, plain) == rules_blocking("US-RegF", TP_CHECK, plain) == []


def test_rf7_location_only_once_each():
    asked = [att(NOW - 5, phone=T, role="third_party", connected=True, outcome="reached_third_party")]
    ctx = ctx_of(US_BORROWER, asked, as_of=NOW)
    assert rules_blocking("US-RegF", TP_CHECK, ctx) == ["RF-7"]
    assert rules_blocking("US-RegF", Action(None, "third_party", T), ctx) == ["RF-7"]
    other = Action("ai_call", "third_party", T2, "lost_contact_check")
    assert rules_blocking("US-RegF", other, ctx) == []
    assert rules_blocking("US-RegF", Action("human_call", "third_party", T2, "negotiation"),
                          ctx) == ["RF-7"]
    assert rules_blocking("US-RegF", Action("sms", "third_party", T2), ctx) == []
    assert get_policy("US-RegF").decide(other, ctx, NOW, NOW + 1).allowed


def test_decide_rejects_an_empty_window_and_who_blocks_come_first():
    pol = get_policy("US-RegF")
    ctx = ctx_of({**US_BORROWER, "cease_requested": True}, as_of=NOW)
    with pytest.raises(ValueError):
        pol.decide(CALL_B, ctx, NOW, NOW)
    d = pol.decide(CALL_B, ctx, NOW, NOW + 1)
    assert not d.allowed and [b.rule for b in d.blocks] == ["RF-5"] and d.not_before is None
    assert isinstance(pol, Policy) and CALL_B.channel in CALLS


# -- find through the packs ----------------------------------------------------------------

def _cn_world(store) -> None:
    """B7 (CN) lost her only number; she listed E as an emergency contact, K is only in her
    phonebook; both talked to her old number."""
    b = Batch()
    b.add_node("Borrower", "B7", {"full_name": "Zhao Min", "timezone": SH, "region": "CN"})
    b.add_node("Phone", P, {"status": "disconnected", "status_at": "2025-12-01T00:00:00Z"})
    b.add_edge("HAS_PHONE", "Borrower:B7", f"Phone:{P}", {"role": "primary",
                                                          "first_seen": "2024-01-01T00:00:00Z"})
    b.add_edge("LISTS_CONTACT", "Borrower:B7", f"Phone:{T}",
               {"source": "emergency", "relation": "parent", "name": "Zhao Sr",
                "listed_at": "2024-01-01T00:00:00Z"})
    b.add_edge("LISTS_CONTACT", "Borrower:B7", f"Phone:{T2}",
               {"source": "phonebook", "name": "Friend", "captured_at": "2024-06-01T00:00:00Z"})
    for q in (T, T2):
        b.add_edge("CALLED", f"Phone:{min(P, q)}", f"Phone:{max(P, q)}",
                   {"calls_a_to_b": 10, "calls_b_to_a": 10, "seconds_total": 2000,
                    "first_at": "2025-01-01T00:00:00Z", "last_at": "2025-12-30T00:00:00Z"})
    store.write(b)


def test_find_cn_pack_blocks_a_phonebook_only_third_party(store):
    _cn_world(store)
    base = {c.phone: c for c in find(store, "B7").candidates}
    assert base[T2].eligible and base[T2].target_role == "third_party"
    cn = {c.phone: c for c in find(store, "B7", policy="CN-NIFA-2024").candidates}
    assert cn[T2].blocked_by == ["CN-3"] and not cn[T2].eligible
    assert cn[T].eligible  # listed, and the debtor is unreachable (CN-2 allows)
    auto = {c.phone: c.blocked_by for c in find(store, "B7", policy="auto").candidates}
    assert auto == {p: c.blocked_by for p, c in cn.items()}
    us = {c.phone: c.blocked_by for c in find(store, "B7", policy="US-RegF").candidates}
    assert us[T2] == [] and us[T] == []
    with pytest.raises(UnknownPolicy):
        find(store, "B7", policy="nope")


def test_find_cli_policy(tmp_path):
    from skiptrace.store import SQLiteStore
    from skiptrace_cli.main import cli

    db = tmp_path / "cli.db"
    s = SQLiteStore(db)
    _cn_world(s)
    s.close()
    r = CliRunner().invoke(cli, ["find", "B7", "--db", str(db), "--policy", "CN-NIFA-2024",
                                 "--format", "json"])
    assert r.exit_code == 0, r.output
    cands = json.loads(r.output)["candidates"]
    assert [c["blocked_by"] for c in cands if c["target_role"] == "third_party"].count(["CN-3"]) == 1
    assert T2 not in r.output  # masked
    r = CliRunner().invoke(cli, ["find", "B7", "--db", str(db)])
    assert r.exit_code == 0 and "CN-3" not in r.output
    r = CliRunner().invoke(cli, ["find", "B7", "--db", str(db), "--policy", "GDPR"])
    assert r.exit_code == 2
    assert "baseline" in r.output and "CN-NIFA-2024" in r.output and "auto" in r.output
