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

import numpy as np

from skiptrace.generate.identity import CN_CITIES, permute

_CN_MOBILE = np.array([130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156, 157, 158, 159,
                       166, 176, 177, 178, 180, 181, 182, 183, 185, 186, 187, 188, 189, 191, 198, 199], dtype=np.int64)
_US_NPA = [np.array(a, dtype=np.int64) for a in (
    [212, 718, 917, 646, 347, 404, 305, 617], [312, 773, 214, 713, 612], [303, 720, 801, 505, 970, 719],
    [602, 480, 623, 520, 928], [213, 310, 415, 206, 503, 619])]
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
                out[fixed] = area * 10**8 + 2 * 10**7 + permute(e, 28, self._key + 1, below=7 * 10**7)
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
