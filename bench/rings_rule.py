"""How far one simple rule gets on a generated world's fraud rings (issue 10, item 8).

The rule a practitioner would try first: *a device shared by 2 to 12
borrowers whose loans opened within 10 days*. Computed directly from the
world's CSVs and scored against truth/rings.csv and truth/benign_groups.csv:

- ``pair`` variant: flag a borrower who shares such a device with another
  borrower whose loan opened within 10 days of theirs;
- ``device`` variant: flag every user of such a device when all its users'
  loans opened within 10 days of each other.

It also prints how much of each fraud ring one identifier binds (the share
of fraud-ring members whose whole ring shares one device, address, phone or
employer) and the signal a good detector still has: how often two members
of a group share a *rare* identifier (held by 2-12 borrowers) against
benign groups and random pairs, opening spans, first-payment defaults, and
how many of an agent phone's listers are ring members.

    python bench/rings_rule.py WORLD_DIR [WORLD_DIR ...] [--no-phonebook]

``--no-phonebook`` skips phonebook.csv (the largest file): phonebook phones
then count neither for the binding identifiers nor for the agent listers.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import random
import re
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

WINDOW_DAYS = 10
DEV_MIN, DEV_MAX = 2, 12
_DIGITS = re.compile(r"\D")
_FOLD = re.compile(r"[\W_]+")


def rows(path: Path):
    with open(path, encoding="utf-8", newline="") as f:
        r = csv.reader(f)
        next(r)
        yield from r


def phone_key(raw: str, region: str) -> str:
    """E.164 digits of a phone cell, without phonenumbers (fast; the generator's notations only)."""
    d = _DIGITS.sub("", raw)
    if raw.startswith("+"):
        return d
    if region == "CN":
        return "86" + d.lstrip("0")
    return "1" + d


def fold(address: str) -> str:
    return _FOLD.sub("", address.casefold())


def day(ts: str) -> float:
    return dt.datetime.fromisoformat(ts[:19]).timestamp() / 86400


class World:
    def __init__(self, root: Path, phonebook: bool = True):
        self.root = root
        meta = json.loads((root / "truth" / "world.json").read_text("utf-8"))
        self.meta, self.region = meta, meta["region"]
        self.opened: dict[str, float] = {}
        self.status: dict[str, str] = {}
        self.dpd: dict[str, int] = {}
        for r in rows(root / "borrowers.csv"):
            self.opened[r[0]], self.status[r[0]], self.dpd[r[0]] = day(r[6]), r[2], int(r[3])
        self.as_of = day(meta["as_of"] + "T00:00:00") + 1
        self.ring_of: dict[str, str] = {}
        self.typology: dict[str, str] = {}
        self.rings: dict[str, set[str]] = defaultdict(set)
        self.agents: dict[str, set[str]] = defaultdict(set)  # ring -> agent phone keys
        for r in rows(root / "truth" / "rings.csv"):
            self.typology[r[0]] = r[1]
            if r[3] == "member":
                self.rings[r[0]].add(r[2])
                self.ring_of[r[2]] = r[0]
            else:
                self.agents[r[0]].add(phone_key(r[4], self.region))
        self.kind_of: dict[str, str] = {}
        self.groups: dict[str, set[str]] = defaultdict(set)
        self.group_kind: dict[str, str] = {}
        for r in rows(root / "truth" / "benign_groups.csv"):
            self.groups[r[0]].add(r[2])
            self.group_kind[r[0]] = r[1]
            self.kind_of.setdefault(r[2], r[1])
        # identifiers of each borrower: (type, key)
        self.ids: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self.device_users: dict[str, set[str]] = defaultdict(set)
        for r in rows(root / "borrower_devices.csv"):
            self.device_users[r[1]].add(r[0])
            self.ids[r[0]].add(("device", r[1]))
        for r in rows(root / "borrower_addresses.csv"):
            self.ids[r[0]].add(("address", fold(r[1])))
        for r in rows(root / "borrower_phones.csv"):
            self.ids[r[0]].add(("phone", phone_key(r[1], self.region)))
        for r in rows(root / "borrower_employers.csv"):
            self.ids[r[0]].add(("employer", fold(r[1])))
        for r in rows(root / "emergency_contacts.csv"):
            self.ids[r[0]].add(("phone", phone_key(r[1], self.region)))
        self.agent_phones = set().union(*self.agents.values()) if self.agents else set()
        self.listers: dict[str, set[str]] = defaultdict(set)  # agent phone -> borrowers listing it
        for b, idset in self.ids.items():
            for t, k in idset:
                if t == "phone" and k in self.agent_phones:
                    self.listers[k].add(b)
        self.phonebook = phonebook
        if phonebook:  # only what ring members list, and who lists an agent
            members = set(self.ring_of)
            for r in rows(root / "phonebook.csv"):
                b = r[0]
                if b in members:
                    self.ids[b].add(("phone", phone_key(r[1], self.region)))
                elif self.agent_phones:
                    k = phone_key(r[1], self.region)
                    if k in self.agent_phones:
                        self.listers[k].add(b)
            for ring, phones in self.agents.items():
                for b in self.rings[ring]:
                    for k in phones:
                        if ("phone", k) in self.ids[b]:
                            self.listers[k].add(b)
        self.holders = Counter(x for s in self.ids.values() for x in s)

    def fraud_members(self) -> set[str]:
        return {b for r, m in self.rings.items() if self.typology[r] == "fraud" for b in m}

    # ------------------------------------------------------------------ the rule
    def rule(self, variant: str) -> set[str]:
        flagged: set[str] = set()
        for users in self.device_users.values():
            if not DEV_MIN <= len(users) <= DEV_MAX:
                continue
            u = sorted(users, key=self.opened.__getitem__)
            t = [self.opened[b] for b in u]
            if variant == "device":
                if t[-1] - t[0] <= WINDOW_DAYS:
                    flagged.update(u)
            else:
                for i, b in enumerate(u):
                    if (i > 0 and t[i] - t[i - 1] <= WINDOW_DAYS) or (i + 1 < len(u) and t[i + 1] - t[i] <= WINDOW_DAYS):
                        flagged.add(b)
        return flagged

    def score(self, flagged: set[str]) -> dict:
        fraud = self.fraud_members()
        fp = flagged - fraud
        by = Counter()
        for b in fp:
            by[self.typology[self.ring_of[b]] if b in self.ring_of else self.kind_of.get(b, "none")] += 1
        return {"found": len(flagged & fraud), "fraud_members": len(fraud), "false_positives": len(fp),
                "precision": round(len(flagged & fraud) / len(flagged), 3) if flagged else 0.0,
                "false_positives_by_kind": dict(by.most_common())}

    # ------------------------------------------------------------------ binding and signal
    def bound_share(self) -> dict:
        """Share of fraud-ring members whose whole ring shares one identifier, by identifier type."""
        total, bound, by = 0, 0, Counter()
        for r, m in self.rings.items():
            if self.typology[r] != "fraud":
                continue
            total += len(m)
            common = set.intersection(*(self.ids[b] for b in m))
            if common:
                bound += len(m)
                for t in {t for t, _ in common}:
                    by[t] += len(m)
        return {"members": total, "bound": bound, "share": round(bound / total, 3) if total else 0.0,
                "by_type": dict(by)}

    def rare_pair_density(self, members: set[str]) -> tuple[int, int]:
        """(pairs sharing a rare identifier, pairs) among ``members``."""
        m = sorted(members)
        hit = 0
        for a, b in itertools.combinations(m, 2):
            if any(2 <= self.holders[x] <= DEV_MAX for x in self.ids[a] & self.ids[b]):
                hit += 1
        return hit, len(m) * (len(m) - 1) // 2

    def signal(self, seed: int = 0) -> dict:
        rng = random.Random(seed)
        out: dict = {}
        kinds: dict[str, list[set[str]]] = defaultdict(list)
        for r, m in self.rings.items():
            kinds[self.typology[r]].append(m)
        for g, m in self.groups.items():
            if len(m) <= 60:
                kinds[self.group_kind[g]].append(m)
        everyone = sorted(self.opened)
        kinds["random"] = [set(rng.sample(everyone, 8)) for _ in range(200)]
        for k, gs in sorted(kinds.items()):
            hit = sum(self.rare_pair_density(m)[0] for m in gs)
            pairs = sum(self.rare_pair_density(m)[1] for m in gs)
            spans = [max(self.opened[b] for b in m) - min(self.opened[b] for b in m) for m in gs]
            out[k] = {"groups": len(gs), "rare_pair_share": round(hit / pairs, 3) if pairs else 0.0,
                      "open_span_days_median": round(statistics.median(spans), 1)}
        # first-payment default: delinquent about 30 days after opening (days past due ~ loan age - 30)
        fraud = self.fraud_members()
        def fpd(bs):
            d = [b for b in bs if self.status[b] in ("delinquent", "written_off")]
            return sum(abs((self.as_of - self.opened[b] - 30) - self.dpd[b]) <= 7 for b in d) / max(1, len(d))
        others = [b for b in everyone if b not in self.ring_of]
        out["first_payment_default_share"] = {"fraud": round(fpd(fraud), 3), "others": round(fpd(others), 3)}
        # agent phones: who lists them, and how bunched the ring members' onsets are
        ag = []
        for r, phones in self.agents.items():
            members = self.rings[r]
            for k in phones:
                ls = self.listers[k]
                onset = [self.as_of - self.dpd[b] for b in ls & members]
                ag.append((len(ls), len(ls & members), len([b for b in ls - members if self.status[b] == "current"]),
                           statistics.pstdev(onset) if len(onset) > 1 else 0.0))
        if ag:
            out["agents"] = {"phones": len(ag), "listers_median": statistics.median(a[0] for a in ag),
                             "ring_member_lister_share": round(sum(a[1] for a in ag) / max(1, sum(a[0] for a in ag)), 3),
                             "honest_listers_current_share": round(sum(a[2] for a in ag) / max(1, sum(a[0] - a[1] for a in ag)), 3),
                             "member_onset_sd_days_median": round(statistics.median(a[3] for a in ag), 1)}
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("worlds", nargs="+", type=Path)
    ap.add_argument("--no-phonebook", action="store_true", help="skip phonebook.csv (faster)")
    ap.add_argument("--json", action="store_true", help="print one JSON object per world")
    args = ap.parse_args()
    for root in args.worlds:
        w = World(root, phonebook=not args.no_phonebook)
        res = {"world": str(root), "preset": w.meta.get("preset"), "borrowers": w.meta["n_borrowers"],
               "rule_pair": w.score(w.rule("pair")), "rule_device": w.score(w.rule("device")),
               "bound_by_one_identifier": w.bound_share(), "signal": w.signal()}
        if args.json:
            print(json.dumps(res, ensure_ascii=False))
            continue
        print(f"== {root}  ({res['preset']}, {res['borrowers']:,} borrowers)")
        for v in ("pair", "device"):
            s = res[f"rule_{v}"]
            print(f"  rule[{v:6}] found {s['found']}/{s['fraud_members']} fraud members, "
                  f"{s['false_positives']} false positives (precision {s['precision']})  {s['false_positives_by_kind']}")
        bnd = res["bound_by_one_identifier"]
        print(f"  whole ring bound by one identifier: {bnd['bound']}/{bnd['members']} members ({bnd['share']})  {bnd['by_type']}")
        for k, v in res["signal"].items():
            print(f"  signal {k}: {v}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
