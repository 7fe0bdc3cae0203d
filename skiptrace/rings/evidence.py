"""Evidence for a ring: plain sentences an analyst can check in the data.

What binds the members (identifiers with member counts, agent phones and
the onset window), what makes the group risky, and, for every benign kind a
ring could be mistaken for, why it is not that kind (or that it may be).
Values are raw here; :meth:`skiptrace.rings.model.Ring.to_json` masks them.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from skiptrace.rings.agents import AgentHub
from skiptrace.rings.model import Ring
from skiptrace.rings.project import RingGraph
from skiptrace.rings.typology import FLAG_AT

_EPOCH = dt.date(1970, 1, 1)
_NOUN = {"device": "device", "phone": "registered phone", "address": "home address",
         "contact": "emergency-contact phone", "employer": "employer", "work_address": "work address", "work_phone": "office phone",
         "agent": "agent phone"}


def day_iso(day: float) -> str:
    return (_EPOCH + dt.timedelta(days=int(np.floor(day)))).isoformat()


def onset_window(graph: RingGraph, members: np.ndarray, hubs: list[AgentHub]) -> tuple[str, str] | None:
    """First and last default onset of the bunched members (the agents' windows, else the 30-day
    window with the most onsets when it holds at least half the ring)."""
    if hubs:
        lo = min(h.window[0] for h in hubs)
        hi = max(h.window[1] for h in hubs)
        return day_iso(lo), day_iso(hi)
    on = np.sort(graph.onset[members][~np.isnan(graph.onset[members])])
    if len(on) < 2:
        return None
    ends = np.searchsorted(on, on + 30.0, side="right")
    counts = ends - np.arange(len(on))
    i = int(np.argmax(counts))
    if counts[i] * 2 < len(members):
        return None
    return day_iso(on[i]), day_iso(on[ends[i] - 1])


def sentences(graph: RingGraph, members: np.ndarray, ring: Ring, hubs: list[AgentHub]) -> list[str]:
    f = ring.features
    size = len(members)
    out: list[str] = []
    for b in ring.binding:
        if b.kind == "agent":
            h = next((h for h in hubs if h.phone.endswith(b.value)), None)
            if h is not None:
                out.append(f"agent phone {b.value} is listed by {h.listers} borrowers, {h.delinquent} of them "
                           f"delinquent; {len(h.members)} defaulted between {day_iso(h.window[0])} and "
                           f"{day_iso(h.window[1])} where {h.expected:.2f} were expected (p = {h.p_value:.1e})")
            continue
        out.append(f"{_NOUN.get(b.kind, b.kind)} {b.value} is shared by {b.members} of {size} members")
    nd = round(f.get("delinquent_share", 0.0) * size)
    out.append(f"{nd} of {size} members are delinquent (the book: {f.get('book_delinquent_share', 0.0):.0%})")
    if ring.onset_window and not hubs:
        out.append(f"{round(f.get('onset_burst', 0.0) * size)} of {size} members defaulted within 30 days, "
                   f"between {ring.onset_window[0]} and {ring.onset_window[1]}")
    if f.get("early_default_share", 0.0) > 0:
        out.append(f"{round(f['early_default_share'] * size)} of {size} members defaulted within 60 days "
                   f"of opening (first-payment default)")
    if f.get("identity_share", 0.0) * size >= 2:
        out.append(f"{round(f['identity_share'] * size)} of {size} members use or registered a device, phone "
                   f"or home address that another member holds too")
    if f.get("opening_burst", 0.0) * size >= 2:
        out.append(f"{round(f['opening_burst'] * size)} of {size} loans opened within 60 days of each other")
    if f.get("phone_change_burst", 0.0) > 0:
        out.append(f"{round(f['phone_change_burst'] * size)} members changed phone number within the same 4 weeks")
    if f.get("refused_share", 0.0) > 0:
        out.append(f"{round(f['refused_share'] * size)} of {size} members refused or opted out of collection")
    if f.get("cease_share", 0.0) > 0:
        out.append(f"{round(f['cease_share'] * size)} of {size} members asked the lender to cease contact")
    out.extend(_not_benign(f, ring, size))
    return out


def _not_benign(f: dict[str, float], ring: Ring, size: int) -> list[str]:
    """Why the ring is not (or may be) each benign look-alike."""
    flagged = ring.risk >= FLAG_AT
    out: list[str] = []
    ties = f.get("family_ties", 0.0) * size
    if ties == 0:
        out.append("not a household: no member lists another as family")
    else:
        out.append(f"may be a household: {round(ties)} family emergency-contact links between members")
    addresses = f.get("shared_addresses", 0.0)
    others = f.get("shared_devices", 0.0) + f.get("shared_phones", 0.0) + f.get("shared_contacts", 0.0)
    if addresses and not others and not ring.agents:
        out.append("may be a dormitory or apartment block: bound by a shared address alone")
    else:
        out.append(f"not a dormitory: bound by {int(others)} shared devices, phones or contacts"
                   + (f" and {len(ring.agents)} agent phones" if ring.agents else "")
                   + (", not by an address alone" if addresses else ""))
    emp = f.get("employer_share", 0.0)
    if emp >= 0.5:
        out.append(f"may be a workplace: {round(emp * size)} of {size} members share an employer")
    else:
        out.append(f"not a workplace or switchboard: at most {round(emp * size)} of {size} members share an employer")
    if f.get("shared_devices", 0.0) and not flagged:
        out.append("may be a shared public device (a cafe or shop): members do not default together")
    elif f.get("shared_devices", 0.0):
        out.append(f"not a shared public device: its users default together "
                   f"({f.get('delinquent_share', 0.0):.0%} delinquent against {f.get('book_delinquent_share', 0.0):.0%})")
    if ring.agents:
        out.append("not a courier or popular contact: a courier's delinquent listers default at any time; "
                   "these defaulted within weeks of each other")
    return out
