"""Phone numbers: a collision-free numbering plan and notation rendering.

Every phone in the world is an integer index into one address space
(:class:`PhoneSpace`); its number is a seed-salted bijection of the index
into a valid number range of the region (CN mobiles 13x-19x and fixed lines
with city area codes; US NANP numbers whose area code matches the owner's
time zone, exchange 2-9, never 555 or N11). Distinct indices therefore never
normalise to the same E.164 number.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from skiptrace.generate.identity import CN_CITIES, permute

_CN_MOBILE = np.array([130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156, 157, 158, 159,
                       166, 176, 177, 178, 180, 181, 182, 183, 185, 186, 187, 188, 189, 191, 198, 199], dtype=np.int64)
_US_NPA = [np.array(a, dtype=np.int64) for a in (
    [212, 718, 917, 646, 347, 404, 305, 617], [312, 773, 214, 713, 612], [303, 720, 801, 505, 970, 719],
    [602, 480, 623, 520, 928], [213, 310, 415, 206, 503, 619])]
# A CN fixed line here is the area code and 8 subscriber digits, the first 4
# of them in 2000..8999 (``2 * 10**7 + v``, ``v < 7 * 10**7``).
_FIXED_BASE, _FIXED_SPAN = 2 * 10**7, 7 * 10**7


@lru_cache(maxsize=None)
def refused_fixed(area: str) -> frozenset[int]:
    """Leading 4 subscriber digits (2000..8999) of fixed lines in ``area`` that
    the ``phonenumbers`` metadata refuses (Beijing and Shanghai have no 800x
    fixed lines, for one), so that the loader's validity check never meets a
    generated number it refuses. Worked out once per area: each 3-digit lead
    is tried at its ends and middle, and a lead that fails anywhere is split
    into its ten 4-digit leads, each tried the same way."""
    from skiptrace.ingest.normalise import _valid_e164  # the loader's own check

    def ok(lead: int, width: int) -> bool:
        free = 10 ** (8 - width)
        return all(_valid_e164(f"+86{area}{lead * free + r:08d}") for r in (0, free // 2, free - 1))

    bad = set()
    for p3 in range(200, 900):
        if not ok(p3, 3):
            bad.update(p4 for p4 in range(p3 * 10, p3 * 10 + 10) if not ok(p4, 4))
    return frozenset(bad)


_US_NXX = np.array([x for x in range(200, 1000) if x % 100 != 11 and x not in (555, 950, 958, 959, 976)], dtype=np.int64)


@dataclass
class PhoneSpace:
    """The index ranges of all phones and how to turn indices into text.

    Ranges (in order): borrowers' original numbers (index = borrower), their
    next numbers, registered secondary numbers, relatives' current and former
    numbers, the community pool (friends, colleagues, acquaintances,
    strangers), hubs (couriers, agents, fraud-shared phones), numbers no one
    uses (fake emergency contacts; empty unless enabled), employer
    switchboards.
    """

    region: str
    n_borrowers: int
    n_relatives: int
    n_pool: int
    n_hubs: int
    n_employers: int
    zone: np.ndarray  # int8 per phone index, filled by the population builder
    employer_city: np.ndarray  # city index per employer (CN switchboard area code)
    rng: np.random.Generator  # only for the numbering salts
    n_fake: int = 0  # numbers no one uses (fake emergency contacts): 5 per borrower when enabled

    def __post_init__(self) -> None:
        n = self.n_borrowers
        self.primary, self.new, self.secondary = 0, n, 2 * n
        self.relative = 3 * n
        self.relative_old = self.relative + self.n_relatives
        self.pool = self.relative_old + self.n_relatives
        self.hub = self.pool + self.n_pool
        self.fake = self.hub + self.n_hubs
        self.switch = self.fake + self.n_fake
        self.total = self.switch + self.n_employers
        self._key = int(self.rng.integers(0, 2**31))
        if self.region == "CN":
            self._area = np.array([int(c.area) for c in CN_CITIES], dtype=np.int64)
        else:
            self._space = len(_US_NXX) * 10**4
            if self.total >= min(len(a) for a in _US_NPA) * self._space:
                raise ValueError("world too large for the US numbering plan")

    @staticmethod
    def allocate_zone(total: int) -> np.ndarray:
        return np.zeros(total, dtype=np.int8)

    def national(self, idx: np.ndarray) -> np.ndarray:
        """The national significant number of each phone index (int64)."""
        idx = np.asarray(idx, dtype=np.int64)
        out = np.empty(len(idx), dtype=np.int64)
        if self.region == "CN":
            fixed = idx >= self.switch
            m = ~fixed
            P = len(_CN_MOBILE)
            x = permute(idx[m], 32, self._key, below=P * 10**8)
            out[m] = _CN_MOBILE[x % P] * 10**8 + x // P
            if fixed.any():
                e = idx[fixed] - self.switch
                area = self._area[self.employer_city[e]]
                out[fixed] = area * 10**8 + _FIXED_BASE + self._fixed_subscriber(e, area)
            return out
        z = self.zone[idx]
        for zi, npas in enumerate(_US_NPA):
            m = z == zi
            if not m.any():
                continue
            L = len(npas)
            x = permute(idx[m], 32, self._key + 2 + zi, below=L * self._space)
            v = x // L
            out[m] = npas[x % L] * 10**7 + _US_NXX[v // 10**4] * 10**4 + v % 10**4
        return out

    def _fixed_subscriber(self, e: np.ndarray, area: np.ndarray) -> np.ndarray:
        """Switchboard ``e``'s subscriber digits less ``_FIXED_BASE``: a keyed
        bijection of employers into ``[0, _FIXED_SPAN)``, cycle-walked past the
        leads :func:`refused_fixed` names for the number's area (walking on
        from a refused value to the next value of the same permutation). Every
        employer index is itself an accepted value (checked below), so distinct
        employers of one area keep distinct numbers, and a world none of whose
        numbers is refused is unchanged."""
        key = self._key + 1
        v = permute(e, 28, key, below=_FIXED_SPAN)
        bad_lead = {int(a): np.array(sorted(refused_fixed(str(a))), dtype=np.int64) for a in np.unique(area)}
        for a, leads in bad_lead.items():
            if len(leads) and leads[0] <= (_FIXED_BASE + self.n_employers - 1) // 10**4:
                raise ValueError(f"area {a}: switchboard numbers {leads[0]}xxxx are refused by the "
                                 "phone metadata, so they cannot be generated")

        def refused(vals: np.ndarray, areas: np.ndarray) -> np.ndarray:
            r = np.zeros(len(vals), dtype=bool)
            for a, leads in bad_lead.items():
                if len(leads):
                    m = areas == a
                    r[m] = np.isin((_FIXED_BASE + vals[m]) // 10**4, leads)
            return r

        todo = np.flatnonzero(refused(v, area))
        for _ in range(10_000):
            if not len(todo):
                return v
            v[todo] = permute(v[todo], 28, key, below=_FIXED_SPAN)
            todo = todo[refused(v[todo], area[todo])]
        raise RuntimeError("switchboard numbering did not settle")  # pragma: no cover

    def e164(self, idx: np.ndarray) -> list[str]:
        cc = "+86" if self.region == "CN" else "+1"
        return [cc + s for s in map(str, self.national(idx).tolist())]

    def render(self, idx: np.ndarray, rng: np.random.Generator, local_share: float) -> list[str]:
        """Phones as written in input files: E.164, or local notation for ``local_share``."""
        nums = self.national(idx).tolist()
        local = (rng.random(len(nums)) < local_share).tolist()
        cc = "+86" if self.region == "CN" else "+1"
        out = [cc + str(x) for x in nums]
        for j in [j for j, f in enumerate(local) if f]:
            out[j] = self._local(str(nums[j]))
        return out

    def _local(self, s: str) -> str:
        if self.region == "US":
            return f"({s[:3]}) {s[3:6]}-{s[6:]}"
        if len(s) == 11 and s[0] == "1":
            return f"{s[:3]} {s[3:7]} {s[7:]}"
        area = s[:2] if len(s) == 10 else s[:3]
        rest = s[len(area):]
        return f"0{area} {rest[:4]} {rest[4:]}"
