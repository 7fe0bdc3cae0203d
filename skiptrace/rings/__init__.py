"""Ring detection: groups of borrowers acting together, as fraud or against collection.

``detect(store)`` returns :class:`Ring` objects (riskiest first); ``save`` and
``load`` keep them in a store; ``communities`` is the detector's community
step, exposed for evaluation. See docs/rings.md.
"""
from skiptrace.rings.detect import DetectConfig, communities, detect
from skiptrace.rings.model import FLAGGED, TYPOLOGIES, Binding, Ring, select
from skiptrace.rings.persist import get, load, save

__all__ = ["Binding", "DetectConfig", "FLAGGED", "Ring", "TYPOLOGIES", "communities", "detect", "get",
           "load", "save", "select"]
