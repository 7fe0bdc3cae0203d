"""What ring detection returns: rings with their binding identifiers, features and evidence."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from skiptrace.privacy import mask_phone, mask_text, pseudonym

#: typologies a ring may have (CONTRACT.md); the first two are flags for the fraud team
TYPOLOGIES = ("fraud", "anti_collection", "household", "unknown")
FLAGGED = ("fraud", "anti_collection")

#: identifier kinds that bind ring members, and what each masks like
IDENTIFIER_KINDS = ("device", "phone", "address", "contact", "employer", "work_address", "work_phone", "agent")


@dataclass(frozen=True)
class Binding:
    """One identifier shared by ring members: its kind, its value (a node key) and how many members share it."""

    kind: str
    value: str
    members: int

    def masked_value(self, reveal: bool = False, key: str | bytes | None = None) -> str:
        """The value as shown without ``--reveal``: phones masked, addresses and
        employers replaced by a keyed pseudonym (``key``: the store's,
        :func:`skiptrace.privacy.store_key`; without one, masked), device ids
        kept (they are the lender's own keys)."""
        if reveal:
            return self.value
        if self.kind in ("phone", "contact", "agent", "work_phone"):
            return mask_phone(self.value)
        if self.kind in ("address", "work_address", "employer"):
            return f"{self.kind}:{pseudonym(self.value, key) if key else mask_text(self.value)}"
        return self.value


@dataclass
class Ring:
    """A detected group of borrowers acting together.

    ``members`` are borrower ids (sorted); ``binding`` the identifiers that tie
    them, strongest first; ``agents`` the phones of anti-collection agents the
    members list; ``features`` the numbers behind ``risk`` (in [0, 1]) and
    ``typology``; ``evidence`` plain sentences an analyst can check, including
    why the ring is not one of the benign kinds; ``onset_window`` the first and
    last default onset (ISO dates) of the bunched members, when there is one.
    """

    ring_id: str
    typology: str
    risk: float
    members: list[str]
    binding: list[Binding] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    onset_window: tuple[str, str] | None = None
    source: str = ""  # which detector step produced it: components, leiden, agents

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def flagged(self) -> bool:
        return self.typology in FLAGGED

    def to_json(self, *, reveal: bool = False, key: str | bytes | None = None) -> dict[str, Any]:
        """The contract's ring object (CONTRACT.md), extended with agents, evidence and the onset
        window; masked unless ``reveal``, addresses and employers pseudonymised under ``key``."""
        return {
            "ring_id": self.ring_id, "typology": self.typology, "risk": round(self.risk, 4),
            "size": self.size, "members": list(self.members),
            "binding": [{"kind": b.kind, "value": b.masked_value(reveal, key), "members": b.members}
                        for b in self.binding],
            "agents": [a if reveal else mask_phone(a) for a in self.agents],
            "features": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.features.items()},
            "evidence": [_mask_text(s, self, reveal, key) for s in self.evidence],
            "onset_window": list(self.onset_window) if self.onset_window else None,
            "source": self.source,
        }

    def detail(self) -> dict[str, Any]:
        """Everything but the members, for storing on the Ring node (unmasked: the store is the lender's)."""
        d = asdict(self)
        for k in ("ring_id", "typology", "risk", "members"):
            d.pop(k)
        return d

    @classmethod
    def from_detail(cls, ring_id: str, typology: str, risk: float, members: list[str],
                    detail: dict[str, Any]) -> Ring:
        ow = detail.get("onset_window")
        return cls(ring_id=ring_id, typology=typology, risk=float(risk), members=sorted(members),
                   binding=[Binding(**b) for b in detail.get("binding", [])],
                   agents=list(detail.get("agents", [])), features=dict(detail.get("features", {})),
                   evidence=list(detail.get("evidence", [])),
                   onset_window=tuple(ow) if ow else None, source=detail.get("source", ""))


def _mask_text(text: str, ring: Ring, reveal: bool, key: str | bytes | None = None) -> str:
    """Evidence sentences name identifiers by value; mask them as the binding is masked."""
    if reveal:
        return text
    for b in ring.binding:
        if b.value and b.value in text:
            text = text.replace(b.value, b.masked_value(False, key))
    for a in ring.agents:
        text = text.replace(a, mask_phone(a))
    return text


def select(rings: list[Ring], *, min_risk: float = 0.0, typology: str | None = None,
           include_unflagged: bool = False, min_size: int | None = None,
           max_size: int | None = None) -> list[Ring]:
    """The rings at or above ``min_risk``, of ``typology`` (any), within the size bounds; without
    a typology only the flagged ones (fraud, anti_collection) unless ``include_unflagged``."""
    out = [r for r in rings if r.risk >= min_risk and (typology is None or r.typology == typology)
           and (min_size is None or r.size >= min_size) and (max_size is None or r.size <= max_size)]
    if not include_unflagged and typology is None:
        out = [r for r in out if r.flagged]
    return out
