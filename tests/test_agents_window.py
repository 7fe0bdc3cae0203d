"""The agent test's vectorised window scan equals a per-phone searchsorted, ties included."""
from __future__ import annotations

import numpy as np

from skiptrace.rings.agents import _window_ends


def per_group(group: np.ndarray, on: np.ndarray, window: float) -> np.ndarray:
    out = np.empty(len(on), np.int64)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(on) else []
    for st, en in zip(starts, list(starts[1:]) + [len(on)]):
        g = on[st:en]
        out[st:en] = st + np.searchsorted(g, g + window, side="right")
    return out


def test_window_ends_match_searchsorted_per_group_with_ties_and_boundaries():
    rng = np.random.default_rng(4)
    for trial in range(200):
        n = int(rng.integers(0, 60))
        group = np.sort(rng.integers(0, 6, n))
        # whole days (many exact ties and onsets exactly one window apart) or fractions
        on = rng.integers(0, 90, n).astype(float) if trial % 2 else rng.random(n) * 90
        order = np.lexsort((on, group))
        group, on = group[order], on[order]
        for window in (0.0, 1.0, 30.0, 30.000001):
            assert np.array_equal(_window_ends(group, on, window), per_group(group, on, window))
