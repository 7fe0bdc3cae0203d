"""Value parsers for input columns: each turns raw text into a canonical value
or raises ``ValueError`` with a reason an investigator can act on. A reason
never repeats the raw cell (it may be personal data in the wrong column): it
shows a mask of it (:func:`skiptrace.privacy.mask_cell`); the loader adds
the file, line and column.

Phones become E.164 (``+8613800000000``); addresses and employer names get a
folded key; times become UTC ``YYYY-MM-DDTHH:MM:SSZ`` so that string order is
time order in both stores.
"""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

from skiptrace.privacy import mask_cell

_UTC = timezone.utc
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
_FOLD = re.compile(r"[\W_]+", re.UNICODE)
REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)


def remember(cache: dict, key: object, value: str, limit: int) -> str:
    """Put ``value`` in ``cache`` under ``key`` and return it; a cache of
    ``limit`` entries is emptied first, in place (readers that hold the dict,
    such as the loader's generated row parsers, keep a valid reference)."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value


def parse_bool(raw: str) -> bool:
    v = raw.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f"not a boolean: {mask_cell(raw)} (use true or false)")


def parse_int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        try:
            f = float(raw)
        except ValueError:
            raise ValueError(f"not an integer: {mask_cell(raw)}") from None
        if f.is_integer():
            return int(f)
        raise ValueError(f"not an integer: {mask_cell(raw)}") from None


def parse_float(raw: str) -> float:
    try:
        f = float(raw)
    except ValueError:
        raise ValueError(f"not a number: {mask_cell(raw)}") from None
    if not math.isfinite(f):
        raise ValueError(f"not a finite number: {mask_cell(raw)}")
    return f


def fold_key(raw: str) -> str:
    """Fold case, width, spaces and punctuation: ``"1 Main St."`` -> ``"1 main st"``."""
    s = unicodedata.normalize("NFKC", raw).casefold()
    return _FOLD.sub(" ", s).strip()


@lru_cache(maxsize=None)
def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; ``ValueError`` if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone: {name!r} (use an IANA name such as Asia/Shanghai)") from None


def parse_timezone(raw: str) -> str:
    name = raw.strip()
    zone(name)
    return name


def parse_region(raw: str) -> str:
    r = raw.strip().upper()
    if r not in REGIONS:
        raise ValueError(f"unknown region: {raw!r} (use an ISO 3166 alpha-2 code such as CN)")
    return r


def parse_time(raw: str, tz: str) -> str:
    """ISO 8601 date or date-time -> UTC ``YYYY-MM-DDTHH:MM:SSZ``.

    A value without an offset is read in ``tz`` (the borrower's timezone).
    """
    try:
        dt = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {mask_cell(raw)}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone(tz))
    # isoformat() is C code: "YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00"
    return dt.astimezone(_UTC).isoformat()[:19] + "Z"


@lru_cache(maxsize=None)
def _possible_lengths(cc: int) -> frozenset[int] | None:
    """Possible national-number lengths for a country calling code (None if unknown)."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(cc)
    if not regions:
        return None
    md = PhoneMetadata.metadata_for_region_or_calling_code(cc, regions[0])
    if md is None or md.general_desc is None:
        return None
    lengths = set(md.general_desc.possible_length or ())
    lengths |= set(md.general_desc.possible_length_local_only or ())  # as is_possible_number
    return frozenset(lengths) if lengths else None


_SEPARATORS = str.maketrans("", "", " -().\u00a0")


@lru_cache(maxsize=None)
def _prefix_info(first3: str) -> tuple[int | None, frozenset[int] | None, int | None,
                                        re.Pattern[str] | None]:
    """What the first three digits of an E.164 number decide, worked out once
    per prefix: the length of the country calling code that has length
    metadata and its possible national lengths; the length of the code that
    has regions and the trunk-prefix pattern of its main region."""
    ok_n: int | None = None
    ok_lengths: frozenset[int] | None = None
    for n in (1, 2, 3):
        lengths = _possible_lengths(int(first3[:n]))
        if lengths is not None:
            ok_n, ok_lengths = n, lengths
            break
    plan_n: int | None = None
    strip: re.Pattern[str] | None = None
    for n in (1, 2, 3):
        regions = COUNTRY_CODE_TO_REGION_CODE.get(int(first3[:n]))
        if regions:
            plan = _national_plan(regions[0])
            plan_n, strip = n, (None if plan is None else plan[1])
            break
    return ok_n, ok_lengths, plan_n, strip


@lru_cache(maxsize=None)
def _national_plan(region: str) -> tuple[str, re.Pattern[str] | None] | None:
    """(country calling code, the pattern of prefixes phonenumbers strips when
    parsing a national number: trunk and carrier-selection codes)."""
    md = PhoneMetadata.metadata_for_region(region)
    if md is None or not md.country_code:
        return None
    prefixes = [p for p in (md.national_prefix_for_parsing or md.national_prefix,
                            md.international_prefix) if p]
    return str(md.country_code), re.compile("|".join(f"(?:{p})" for p in prefixes)) if prefixes else None


class PhoneNormaliser:
    """Turn phone notations into E.164, working out each distinct notation once.

    A value already in E.164 (``+`` then digits) takes a fast path: its
    country calling code and national length are checked against the
    ``phonenumbers`` metadata without a full parse; so does a plain national
    number (``138 0013 8000``, ``(212) 734-0147``). Anything else
    (``0086-138...``, ``021 6100 6100``) is parsed with ``phonenumbers`` in
    the row's region. Every answer is cached per distinct notation (and
    region, for notations without ``+``), since a load sees the same numbers
    again and again. A number that cannot be parsed, has an impossible length
    for its country, or is not valid there (``phonenumbers.is_valid_number``:
    a 10-digit Chinese mobile is possible as a length, but no CN number has
    that form) is an error that shows a mask of the raw value.
    """

    def __init__(self, cache_size: int = 2_000_000) -> None:
        self._cache: dict[object, str] = {}
        self._cache_size = cache_size
        self.parsed = 0  # full phonenumbers parses, for benchmarks

    def __call__(self, raw: str, region: str) -> str:
        key: object = raw if raw[:1] == "+" else (raw, region)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        return remember(self._cache, key, self._normalise(raw, region), self._cache_size)

    def _normalise(self, raw: str, region: str) -> str:
        s = raw.strip()
        if s[:1] == "+" and s[1:].isdigit() and s[1:2] != "0" and self._e164_plain(s):
            e164: str | None = s
        else:
            e164 = self._national_fast(s, region)
        if e164 is None:
            return self._parse(s, region, raw)
        if not _valid_e164(e164):
            raise ValueError(f"not a valid phone number: {mask_cell(raw)} (region {region}): "
                             "its length is possible, but no number of its country has this form")
        return e164

    @classmethod
    def _national_fast(cls, s: str, region: str) -> str | None:
        """A national number without trunk prefix (``138 0013 8000``, ``(212)
        734-0147``) becomes ``+<country code><digits>`` when that is a possible
        E.164 number; anything less plain (trunk or international prefixes,
        letters, extensions) returns None and takes the full parse."""
        digits = s.translate(_SEPARATORS)
        if not digits.isdigit():
            return None
        plan = _national_plan(region)
        if plan is None:
            return None
        cc, strip = plan
        if digits.startswith(cc) or (strip is not None and strip.match(digits)):
            return None
        e164 = f"+{cc}{digits}"
        return e164 if cls._e164_ok(e164) else None

    @classmethod
    def _e164_plain(cls, s: str) -> bool:
        """E.164 with a possible length and no trunk prefix after the country
        code (``+91 0...`` is left to phonenumbers, which drops the 0)."""
        if not cls._e164_ok(s):
            return False
        _, _, n, strip = _prefix_info(s[1:4])
        if n is None:
            return False
        return strip is None or not strip.match(s[1 + n:])

    @staticmethod
    def _e164_ok(s: str) -> bool:
        digits = s[1:]
        if not 7 <= len(digits) <= 15:
            return False
        n, lengths, _, _ = _prefix_info(digits[:3])
        return n is not None and (len(digits) - n) in lengths

    def _parse(self, s: str, region: str, raw: str) -> str:
        self.parsed += 1
        try:
            num = phonenumbers.parse(s, region)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"cannot parse phone {mask_cell(raw)} (region {region}): {exc._msg}") from None
        if not phonenumbers.is_possible_number(num):
            raise ValueError(f"not a possible phone number: {mask_cell(raw)} (region {region})")
        if not phonenumbers.is_valid_number(num):
            raise ValueError(f"not a valid phone number: {mask_cell(raw)} (region {region}): "
                             "its length is possible, but no number of its country has this form")
        return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


_TYPE_DESCS = ("mobile", "fixed_line", "toll_free", "premium_rate", "shared_cost", "voip",
               "personal_number", "pager", "uan", "voicemail")  # the common types first


def _desc(d) -> tuple[re.Pattern[str], frozenset[int]] | None:
    if d is None or not d.national_number_pattern:
        return None
    return re.compile(d.national_number_pattern), frozenset(d.possible_length or ())


@lru_cache(maxsize=None)
def _validity(cc: int) -> tuple | None:
    """Per region of country calling code ``cc``: its general description and
    its number-type descriptions (pattern, possible lengths), compiled once."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(cc)
    if not regions:
        return None
    out = []
    for region in regions:
        md = (PhoneMetadata.metadata_for_nongeo_region(cc) if region == "001"
              else PhoneMetadata.metadata_for_region(region))
        if md is None:
            continue
        general = _desc(md.general_desc)
        if general is None:
            continue
        types = tuple(t for t in (_desc(getattr(md, name, None)) for name in _TYPE_DESCS) if t is not None)
        out.append((general, types))
    return tuple(out)


def _matches(nsn: str, desc: tuple[re.Pattern[str], frozenset[int]]) -> bool:
    pattern, lengths = desc
    return (not lengths or len(nsn) in lengths) and pattern.fullmatch(nsn) is not None


def _valid_e164(e164: str) -> bool:
    """Whether an E.164 string is a valid number, by the ``phonenumbers``
    metadata: its national number matches its country's general description
    and one of the number types (fixed line, mobile, toll free, ...) of a
    region of its country code, as ``phonenumbers.is_valid_number`` decides
    (without parsing text: about 2 us instead of 300). A CN mobile is
    ``1[3-9]`` and 11 digits, so 10 or 13 digits are not valid."""
    digits = e164[1:]
    for n in (1, 2, 3):
        plans = _validity(int(digits[:n]))
        if plans is None:
            continue
        nsn = digits[n:]
        return any(any(_matches(nsn, t) for t in types) and _matches(nsn, general)
                   for general, types in plans)
    return False
