"""A synthetic lending world with ground truth (``skiptrace generate``).

:func:`world` writes the input contract layout (borrowers, phones, devices,
addresses, employers, emergency contacts, phonebooks, calls, phone status,
contact attempts, payments) plus ``truth/`` with what a real lender never
sees: who lost contact and which phones reach them now, the rings and the
benign look-alikes, and the true response to every collection action.
Same arguments, byte-identical files. Every knob is a field of
:class:`Knobs`; docs/generator.md explains them and each truth file.
"""
from __future__ import annotations

from skiptrace.generate.build import DEFAULT_AS_OF, WorldSummary, world
from skiptrace.generate.knobs import Knobs

__all__ = ["DEFAULT_AS_OF", "Knobs", "WorldSummary", "world"]
