"""Names, addresses, employers and devices, rendered from integer identities.

Every identity is an integer; its text is a deterministic, collision-free
function of that integer (mixed-radix encodings, so two identities never
render to strings that fold to the same key), salted per seed where the
choice is cosmetic (names).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_CN_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_CN_GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华建国志红玉斌波宇浩凯鹏飞鑫晨阳宁欣怡婷雪琳佳慧琪颖")
_US_FIRST = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Ashley "
    "Donald Kimberly Steven Emily Paul Donna Andrew Michelle Joshua Carol Kenneth Amanda Kevin Melissa Brian "
    "Deborah George Stephanie Timothy Rebecca Ronald Sharon Jason Laura Edward Cynthia Jeffrey Amy Ryan Angela "
    "Jacob Helen Gary Anna Nicholas Brenda Eric Pamela Jonathan Nicole Maria Jose Luis Carmen Wei Mei"
).split()
_US_LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall "
    "Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes "
    "Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard"
).split()

# relation code -> phonebook alias (used for some relatives)
CN_ALIAS = {"parent": ["妈妈", "爸爸", "老妈", "老爸"], "spouse": ["老婆", "老公", "亲爱的"],
            "sibling": ["哥", "姐", "弟弟", "妹妹"], "child": ["儿子", "女儿"], "relative": ["舅舅", "姑姑", "表哥", "小姨"]}
US_ALIAS = {"parent": ["Mom", "Dad", "Mother", "Pops"], "spouse": ["Honey", "Hubby", "Wifey"],
            "sibling": ["Bro", "Sis"], "child": ["Son", "Daughter"], "relative": ["Uncle Joe", "Aunt May", "Cuz"]}

_CN_DISTRICTS = ["东城区", "西城区", "新城区", "高新区", "经开区", "南山区", "江北区", "滨湖区", "天河区", "锦江区"]
_CN_STREETS = [s + "路" for s in "建国 人民 解放 中山 和平 胜利 长江 黄河 新华 光明 文化 友谊 复兴 振兴 朝阳 东风 学府 科技 花园 滨江".split()] + \
              [s + "街" for s in "民主 青年 幸福 团结 前进 红旗 建设 迎宾 兴业 金融 长安 太平 永安 春晖 育才 汇通 富强 广场 凤凰 龙华".split()]
_CN_DORMS = ["学生公寓", "员工宿舍", "青年公寓", "幸福小区"]
_CN_BRAND1 = list("华宏金中恒盛鑫泰瑞博天海新联达正信东安永万德佳嘉富创远力通和")
_CN_BRAND2 = list("科邦源成丰茂发兴宇隆祥汇润捷华顺辉星明光晟铭诚启航锐智凯升")
_CN_INDUSTRY = ["科技", "物流", "贸易", "建设", "电子", "餐饮", "医药", "制造", "物业", "教育", "传媒", "金融服务", "汽车服务", "食品", "纺织"]

_US_STREETS = (
    "Oak Maple Pine Cedar Elm Walnut Willow Birch Spruce Chestnut Hickory Magnolia Sycamore Laurel Juniper "
    "Washington Lincoln Jefferson Madison Monroe Jackson Franklin Hamilton Adams Grant Lake Hill River Sunset "
    "Highland Meadow Forest Valley Spring Prospect Union Church Market Center Mill School Park Bridge Harbor "
    "Summit Ridge Orchard Garden Aspen Cypress Dogwood Holly Ivy Linden Poplar Redwood Sequoia Tulip Vine Bay"
).split()
_US_SUFFIX = ["St", "Ave", "Rd", "Blvd", "Dr", "Ln"]
_US_BRAND1 = "Blue Red Green Silver Golden North South East West Prime Summit Pioneer Liberty Eagle Atlas Apex Crown Delta Harbor Metro".split()
_US_BRAND2 = "River Stone Oak Bridge Field Point Star Wave Rock Peak Lake Gate Valley Forge Light Path Ridge Hill Way Works".split()
_US_INDUSTRY = "Logistics Foods Health Construction Retail Motors Energy Software Staffing Cleaning Security Hospitality Printing Dental Realty".split()
_US_CORP = ["LLC", "Inc", "Co", "Group"]

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def mix(x: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 of ``x + salt``: a cheap, well-spread deterministic hash."""
    z = np.asarray(x, dtype=np.uint64) + np.uint64(salt & 0xFFFFFFFFFFFFFFFF)
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def permute(x: np.ndarray, bits: int, key: int, below: int | None = None) -> np.ndarray:
    """A keyed bijection of ``[0, 2**bits)``: a 4-round Feistel network.

    With ``below`` it is a bijection of ``[0, below)`` (cycle walking over
    the smallest even bit width that holds ``below``; ``bits`` is then
    ignored), so distinct inputs always give distinct outputs that look
    unrelated. Inputs must lie in the domain.
    """
    if below is not None:
        bits = max(2, (below - 1).bit_length())
    bits += bits % 2
    half = bits // 2
    mask = np.uint64((1 << half) - 1)
    hb = np.uint64(half)

    def once(v: np.ndarray) -> np.ndarray:
        left, right = v >> hb, v & mask
        for r in range(4):
            left, right = right, left ^ (mix(right, key * 4 + r) & mask)
        return (left << hb) | right

    v = once(np.asarray(x, dtype=np.uint64))
    if below is not None:
        out = v >= np.uint64(below)
        while out.any():
            v[out] = once(v[out])
            out = v >= np.uint64(below)
    return v.astype(np.int64)


def csv_field(s: str) -> str:
    """Quote a CSV field when it needs it (our texts never contain quotes)."""
    return f'"{s}"' if "," in s else s


@dataclass(frozen=True)
class City:
    name: str
    state: str  # US state or "" (CN)
    zone: int  # index into the world's zone list
    area: str  # CN fixed-line area code (no trunk 0); US unused
    zip_base: int


CN_ZONES = ["Asia/Shanghai"]
CN_CITIES = [
    City("北京市", "", 0, "10", 0), City("上海市", "", 0, "21", 0), City("广州市", "", 0, "20", 0),
    City("深圳市", "", 0, "755", 0), City("成都市", "", 0, "28", 0), City("杭州市", "", 0, "571", 0),
    City("武汉市", "", 0, "27", 0), City("南京市", "", 0, "25", 0), City("天津市", "", 0, "22", 0),
    City("重庆市", "", 0, "23", 0), City("西安市", "", 0, "29", 0), City("郑州市", "", 0, "371", 0),
    City("长沙市", "", 0, "731", 0), City("东莞市", "", 0, "769", 0),
]
CN_CITY_WEIGHTS = [10, 10, 8, 8, 7, 6, 6, 5, 5, 6, 5, 5, 4, 4]
US_ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles"]
US_CITIES = [
    City("New York", "NY", 0, "", 10001), City("Brooklyn", "NY", 0, "", 11201), City("Atlanta", "GA", 0, "", 30303),
    City("Miami", "FL", 0, "", 33101), City("Boston", "MA", 0, "", 2108), City("Chicago", "IL", 1, "", 60601),
    City("Dallas", "TX", 1, "", 75201), City("Houston", "TX", 1, "", 77002), City("Minneapolis", "MN", 1, "", 55401),
    City("Denver", "CO", 2, "", 80202), City("Salt Lake City", "UT", 2, "", 84101), City("Albuquerque", "NM", 2, "", 87102),
    City("Phoenix", "AZ", 3, "", 85003), City("Mesa", "AZ", 3, "", 85201), City("Los Angeles", "CA", 4, "", 90012),
    City("San Francisco", "CA", 4, "", 94102), City("Seattle", "WA", 4, "", 98101), City("Portland", "OR", 4, "", 97201),
    City("San Diego", "CA", 4, "", 92101),
]
US_CITY_WEIGHTS = [12, 8, 7, 7, 6, 9, 7, 7, 4, 5, 2, 2, 4, 2, 10, 5, 5, 3, 4]


class Identities:
    """Renders people, places, employers and devices for one region and seed."""

    def __init__(self, region: str, salt: int):
        self.region = region
        self.salt = salt
        self.cities = CN_CITIES if region == "CN" else US_CITIES

    # ------------------------------------------------------------- people
    def surnames(self, person: np.ndarray) -> np.ndarray:
        """Surname index of each person (used to give relatives the family name)."""
        n = len(_CN_SURNAMES) if self.region == "CN" else len(_US_LAST)
        return (mix(person, self.salt) % np.uint64(n)).astype(np.int64)

    def names(self, person: np.ndarray, surname: np.ndarray | None = None) -> list[str]:
        """Full names; ``surname`` (indices) overrides the drawn family name."""
        h = mix(person, self.salt + 1)
        if self.region == "CN":
            sn, gv = _CN_SURNAMES, _CN_GIVEN
            s = self.surnames(person) if surname is None else surname
            g1 = (h % np.uint64(len(gv))).astype(np.int64).tolist()
            g2 = ((h >> np.uint64(16)) % np.uint64(len(gv) + 20)).astype(np.int64).tolist()
            ext = gv + [""] * 20
            return [sn[a] + gv[b] + ext[c] for a, b, c in zip(np.asarray(s).tolist(), g1, g2)]
        s = self.surnames(person) if surname is None else surname
        f = (h % np.uint64(len(_US_FIRST))).astype(np.int64).tolist()
        return [f"{_US_FIRST[b]} {_US_LAST[a]}" for a, b in zip(np.asarray(s).tolist(), f)]

    def alias(self, relation: list[str], pick: np.ndarray) -> list[str]:
        table = CN_ALIAS if self.region == "CN" else US_ALIAS
        return [table[r][int(k) % len(table[r])] for r, k in zip(relation, pick.tolist())]

    # ------------------------------------------------------------- places
    def _cn(self, comps: list[list[str]], variant: np.ndarray) -> list[str]:
        joins = ["", " ", ",", "-"]
        return [csv_field(joins[v].join(c)) for c, v in zip(comps, variant.tolist())]

    def _us(self, line1: list[str], line2: list[str], city: list[int], variant: np.ndarray) -> list[str]:
        out = []
        for a, b, c, v in zip(line1, line2, city, variant.tolist()):
            ct = self.cities[c]
            tail = f"{ct.name}, {ct.state} {ct.zip_base + (len(a) % 40):05d}"
            s = f"{a} {b}, {tail}" if b else f"{a}, {tail}"
            if v == 1:
                s = s.upper().replace(",", "")
            elif v == 2:
                s = s.replace(" St ", " St. ").replace(" Apt ", " Apt. ").replace(", ", ",  ")
            elif v == 3:
                s = s.lower()
            out.append(csv_field(s))
        return out

    def homes(self, idx: np.ndarray, city: np.ndarray, variant: np.ndarray) -> list[str]:
        """A private dwelling per identity (a household's home, a mailing address)."""
        i = permute(idx, 28, self.salt + 3)
        c = np.asarray(city).tolist()
        if self.region == "CN":
            d, st = (i % 10).tolist(), (i // 10 % 40).tolist()
            no, rest = (i // 400 % 300 + 1).tolist(), i // 120000
            bld, room = (rest % 30 + 1).tolist(), (rest // 30).tolist()
            comps = [[self.cities[ci].name, _CN_DISTRICTS[a], f"{_CN_STREETS[b]}{n}号", f"{bl}栋{r // 8 + 1}{r % 8 + 1:02d}室"]
                     for ci, a, b, n, bl, r in zip(c, d, st, no, bld, room)]
            return self._cn(comps, variant)
        st, sf = (i % 60).tolist(), (i // 60 % 6).tolist()
        no, unit = (i // 360 % 9000 + 100).tolist(), (i // 3_240_000 + 1).tolist()
        l1 = [f"{n} {_US_STREETS[a]} {_US_SUFFIX[b]}" for n, a, b in zip(no, st, sf)]
        l2 = [f"Apt {u}" for u in unit]
        return self._us(l1, l2, c, variant)

    def blocks(self, idx: np.ndarray, city: np.ndarray, variant: np.ndarray) -> list[str]:
        """A dormitory or apartment block shared by many unrelated households."""
        i = np.asarray(idx, dtype=np.int64)
        c = np.asarray(city).tolist()
        h = mix(i, 77)
        d, st = (h % np.uint64(10)).astype(np.int64).tolist(), (h % np.uint64(40)).astype(np.int64).tolist()
        no = (h % np.uint64(300) + np.uint64(1)).astype(np.int64).tolist()
        if self.region == "CN":
            comps = [[self.cities[ci].name, _CN_DISTRICTS[a], f"{_CN_STREETS[b]}{n}号", f"{_CN_DORMS[k % 4]}{k + 1}号楼"]
                     for ci, a, b, n, k in zip(c, d, st, no, i.tolist())]
            return self._cn(comps, variant)
        l1 = [f"{n} {_US_STREETS[b % 60]} {_US_SUFFIX[a % 6]} Bldg {k + 1}" for n, a, b, k in zip(no, d, st, i.tolist())]
        return self._us(l1, [""] * len(l1), c, variant)

    def offices(self, employer: np.ndarray, city: np.ndarray, variant: np.ndarray) -> list[str]:
        """An employer's office (one per employer)."""
        i = permute(employer, 20, self.salt + 5)
        c = np.asarray(city).tolist()
        d, st, no = (i % 10).tolist(), (i // 10 % 40).tolist(), (i // 400 % 300 + 1).tolist()
        fl = (i // 120000 + 1).tolist()
        if self.region == "CN":
            comps = [[self.cities[ci].name, _CN_DISTRICTS[a], f"{_CN_STREETS[b]}{n}号", f"商务大厦{f}层"]
                     for ci, a, b, n, f in zip(c, d, st, no, fl)]
            return self._cn(comps, variant)
        l1 = [f"{n + 20} {_US_STREETS[(b + a) % 60]} {_US_SUFFIX[a % 6]}" for n, a, b in zip(no, d, st)]
        l2 = [f"Suite {f * 100 + k % 100}" for f, k in zip(fl, i.tolist())]
        return self._us(l1, l2, c, variant)

    # ------------------------------------------------------------- others
    def employers(self, employer: np.ndarray, city: np.ndarray, n_employers: int) -> list[str]:
        """Employer names, unique among ``n_employers`` (large worlds add branch numbers)."""
        space = len(_CN_BRAND1) * len(_CN_BRAND2) * len(_CN_INDUSTRY) if self.region == "CN" else \
            len(_US_BRAND1) * len(_US_BRAND2) * len(_US_INDUSTRY)
        i = permute(employer, 0, self.salt + 9, below=max(n_employers, space)).tolist()
        c = np.asarray(city).tolist()
        out = []
        if self.region == "CN":
            a, b, n = len(_CN_BRAND1), len(_CN_BRAND2), len(_CN_INDUSTRY)
            for e, ci in zip(i, c):
                base = f"{self.cities[ci].name[:-1]}{_CN_BRAND1[e // n % a]}{_CN_BRAND2[e // (n * a) % b]}{_CN_INDUSTRY[e % n]}有限公司"
                k = e // (a * b * n)
                out.append(base + (f"第{k}分公司" if k else ""))
            return out
        a, b, n = len(_US_BRAND1), len(_US_BRAND2), len(_US_INDUSTRY)
        for e in i:
            base = f"{_US_BRAND1[e // n % a]} {_US_BRAND2[e // (n * a) % b]} {_US_INDUSTRY[e % n]} {_US_CORP[e // 7 % 4]}"
            k = e // (a * b * n)
            out.append(base + (f" Branch {k}" if k else ""))
        return out

    def devices(self, idx: np.ndarray) -> list[str]:
        """``dev-`` plus 12 hex digits; a bijection of the identity (no collisions)."""
        v = permute(idx, 48, self.salt + 7)
        return [f"dev-{x:012x}" for x in v.tolist()]

    def hub_names(self, kind: str, k: np.ndarray) -> list[str]:
        cn = {"courier": ["快递小哥", "顺丰快递员", "外卖骑手", "驿站"], "switchboard": ["总机", "前台", "人事部"],
              "agent": ["债务优化顾问", "法务咨询", "停息挂账王老师", "协商专员"], "fraud": ["中介", "办卡代理", "小李"]}
        us = {"courier": ["UPS Guy", "Courier", "Delivery", "FedEx Driver"], "switchboard": ["Front Desk", "Office", "HR"],
              "agent": ["Debt Relief", "Credit Fixer", "Settlement Advisor", "Consultant"], "fraud": ["Broker", "Agent", "Mike"]}
        t = (cn if self.region == "CN" else us)[kind]
        return [t[int(x) % len(t)] for x in np.asarray(k).tolist()]
