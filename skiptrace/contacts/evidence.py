"""Evidence: the paths behind a candidate and the sentence an investigator reads aloud.

An :class:`Evidence` item is one path from the borrower to the candidate
(node ids and relationship types alternating, read from the borrower
outwards, whatever the stored direction) and a short ``why``. Personal data
in both (phone numbers, names) is masked at render time unless revealed, so
one result can be shown masked on screen and revealed in an export.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from skiptrace.privacy import mask_name, mask_phone
from skiptrace.store.base import split_id

_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Text:
    """A sentence with personal-data slots: ``{x}`` filled from ``names`` or ``phones``."""

    template: str
    names: dict[str, str] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)

    def render(self, reveal: bool = False) -> str:
        def fill(m: re.Match) -> str:
            k = m.group(1)
            if k in self.names:
                return self.names[k] if reveal else mask_name(self.names[k])
            if k in self.phones:
                return self.phones[k] if reveal else mask_phone(self.phones[k])
            return m.group(0)
        return _SLOT.sub(fill, self.template)


@dataclass(frozen=True)
class Evidence:
    """One reason a candidate may reach the borrower.

    ``feature`` names the scoring feature it supports; ``weight`` is that
    feature's contribution to the candidate's log-odds (used to order
    evidence, strongest first).
    """

    feature: str
    path: tuple[str, ...]
    why: Text
    weight: float = 0.0

    def to_dict(self, reveal: bool = False) -> dict:
        return {"path": [mask_node(p, reveal) for p in self.path], "why": self.why.render(reveal)}


def mask_node(item: str, reveal: bool = False) -> str:
    """Mask the key of a ``Phone:...`` id in a path (relationship types pass through)."""
    if reveal or not item.startswith("Phone:"):
        return item
    return "Phone:" + mask_phone(split_id(item)[1])


def summary(evidence: list[Evidence], score: float, reveal: bool = False) -> str:
    """One plain sentence: the strongest reason, then the next one or two, with the score."""
    if not evidence:
        return f"Weakly connected to the borrower (score {score:.2f})."
    parts = [e.why.render(reveal) for e in evidence[:3]]
    head = parts[0][:1].upper() + parts[0][1:]
    rest = "; ".join(parts[1:])
    return f"{head}{'; ' + rest if rest else ''} (score {score:.2f})."
