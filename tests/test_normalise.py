"""Value normalisation: the fast paths must agree with phonenumbers."""
from __future__ import annotations

import random

import phonenumbers
import pytest

from skiptrace.ingest.normalise import PhoneNormaliser, fold_key, parse_bool, parse_time


def reference(raw: str, region: str, valid: bool = True) -> str | None:
    """phonenumbers' answer: E.164 of a valid number (``valid=False``: of a possible one)."""
    try:
        num = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    if valid and not phonenumbers.is_valid_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize("region", ["CN", "US", "GB", "IN", "DE", "BR"])
def test_national_fast_path_agrees_with_phonenumbers(region):
    rng = random.Random(20261126)
    norm = PhoneNormaliser()
    fast_hits = 0
    for _ in range(4000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(5, 12)))
        if rng.random() < 0.5:
            digits = "1" + rng.choice("3456789") + digits[:9]
        fast = norm._national_fast(digits, region)
        if fast is not None:
            fast_hits += 1
            assert fast == reference(digits, region, valid=False), (region, digits)
    assert fast_hits > 100  # the fast path is really taken


def test_e164_fast_path_agrees_on_valid_numbers():
    rng = random.Random(7)
    norm = PhoneNormaliser()
    valid = 0
    for _ in range(3000):
        cc = rng.choice(["86", "1", "44", "91", "49", "55", "7"])
        raw = "+" + cc + "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 12)))
        ref = reference(raw, "CN")
        try:
            ours = norm(raw, "CN")
        except ValueError:
            ours = None
        # the normaliser accepts exactly the numbers phonenumbers finds valid
        assert ours == ref, raw
        valid += ours is not None
    assert valid > 100


@pytest.mark.parametrize("raw,region,want", [
    ("138 0013 8000", "CN", "+8613800138000"),
    ("+86 138-0013-8000", "CN", "+8613800138000"),
    ("0086 13800138000", "CN", "+8613800138000"),
    ("021 6100 6100", "CN", "+862161006100"),
    ("(212) 734-0147", "US", "+12127340147"),
    ("1-212-734-0147", "US", "+12127340147"),
    ("+1 212 734 0147", "CN", "+12127340147"),
])
def test_phone_notations(raw, region, want):
    n = PhoneNormaliser()
    assert n(raw, region) == want
    assert n(raw, region) == want  # cached answer is the same


@pytest.mark.parametrize("raw,shown", [("12ab", "'1***'"), ("+86", "'+**'"), ("123", "'1**'"),
                                       ("+0123456789", "'+01****6789'"),
                                       ("1381234567", "'13****4567'")])
def test_bad_phones_show_a_mask_of_the_raw_value(raw, shown):
    with pytest.raises(ValueError) as info:
        PhoneNormaliser()(raw, "CN")
    assert shown in str(info.value) and raw not in str(info.value)


def test_fold_key_and_bool_and_time():
    assert fold_key("Room 301, 18 Huaihai Rd., Shanghai") == fold_key("room 301 18 HUAIHAI RD  Shanghai")
    assert fold_key("Ｒｏｏｍ　３０１") == "room 301"  # full-width folded
    assert parse_bool("Yes") is True and parse_bool("0") is False
    with pytest.raises(ValueError):
        parse_bool("maybe")
    assert parse_time("2025-01-10", "Asia/Shanghai") == "2025-01-09T16:00:00Z"
    assert parse_time("2025-01-10T08:00:00+08:00", "America/New_York") == "2025-01-10T00:00:00Z"
    assert parse_time("2025-07-01T12:00:00Z", "Asia/Shanghai") == "2025-07-01T12:00:00Z"
    with pytest.raises(ValueError):
        parse_time("31/01/2025", "UTC")


def test_offset_time_cache_agrees_with_parse_time():
    """The loader's per-(hour, offset) cache for ``...+HH:MM`` times gives
    exactly what a full parse gives, hits and misses alike, and still
    rejects bad minutes and seconds once the hour is cached."""
    from skiptrace.ingest.loader import _Converters

    conv = _Converters(PhoneNormaliser())
    rng = random.Random(5)
    offsets = ["+08:00", "-05:00", "+00:00", "+05:30", "+05:45", "-09:30", "+14:00"]
    for _ in range(5000):
        text = (f"20{rng.randint(20, 30)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                f"{rng.choice([0, 1, 23, rng.randint(0, 23)]):02d}:{rng.randint(0, 59):02d}:"
                f"{rng.randint(0, 59):02d}{rng.choice(offsets)}")
        for _ in range(2):  # miss, then hit
            assert conv.time(text, "CN", "UTC") == parse_time(text, "UTC"), text
    conv.time("2026-03-01T10:00:00+08:00", "CN", "UTC")  # cache the hour
    for bad in ("2026-03-01T10:60:00+08:00", "2026-03-01T10:00:61+08:00",
                "2026-03-01T10:0x:00+08:00", "2026-03-01T10:00-00+08:00"):
        with pytest.raises(ValueError):
            conv.time(bad, "CN", "UTC")
    assert conv.time("2026-03-01T10:59:59+08:00", "CN", "UTC") == "2026-03-01T02:59:59Z"
