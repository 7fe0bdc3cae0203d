"""Realised statistics of a world, written to truth/world.json under ``realised``.

They say how hard the world is, next to the knobs that asked for it: call
graph clustering, phonebook sizes, how often a lost borrower's new number
shows its old circle, line-status coverage, fake emergency contacts and how
much of the reach truth no observable explains. Collecting them never
changes a written file.
"""
from __future__ import annotations

import numpy as np

SAMPLE = 2000  # phones whose local clustering is averaged


class WorldStats:
    """Accumulates counts while the chunks are written."""

    def __init__(self, n: int, edge_borrowers: int):
        self.n = n
        self.edge_borrowers = edge_borrowers  # call edges of borrowers below this index feed the clustering
        self.pb_rows = np.zeros(n, np.int64)
        self.status_kept = 0
        self.status_total = 0
        self.ec_rows = 0
        self.ec_fake = 0
        self.carried = np.zeros(n, bool)  # the new number called an old partner (truth)
        self.watch: np.ndarray | None = None  # per borrower: lost with a new number (set by the builder)
        self._old: list[np.ndarray] = []  # borrower * 2**32 + partner, visible calls of the old number
        self._new: list[np.ndarray] = []  # ... of the new number
        self.call_rows_true = 0
        self.call_rows_visible = 0
        self.closure_rows = 0
        self.call_rows = 0
        self._edges: list[tuple[np.ndarray, np.ndarray]] = []
        self._logit = np.zeros(3)  # n, sum, sum of squares
        self._latent = np.zeros(3)

    def edges(self, a: np.ndarray, b: np.ndarray) -> None:
        self._edges.append((np.asarray(a, np.int64), np.asarray(b, np.int64)))

    def calls(self, a: np.ndarray, b: np.ndarray) -> None:
        """Note the written calls of watched borrowers' old (index b) and new (index n + b) numbers."""
        if self.watch is None:
            return
        n = self.n
        for x, y in ((a, b), (b, a)):
            m = x < 2 * n
            m[m] = self.watch[x[m] % n]
            xs, ys = x[m], y[m]
            key = (xs % n) * (1 << 32) + ys
            self._old.append(key[xs < n])
            self._new.append(key[xs >= n])

    def reach_logit(self, logit: np.ndarray, latent: np.ndarray | None) -> None:
        self._logit += [len(logit), float(np.sum(logit)), float(np.sum(np.square(logit)))]
        if latent is not None:
            self._latent += [len(latent), float(np.sum(latent)), float(np.sum(np.square(latent)))]

    @staticmethod
    def _var(acc: np.ndarray) -> float:
        n, s, ss = acc
        return float(ss / n - (s / n) ** 2) if n > 1 else 0.0

    def clustering(self, rng: np.random.Generator, sample: int = SAMPLE) -> tuple[float, int, int]:
        """Average local clustering of up to ``sample`` phones of degree >= 2 in the undirected call graph.

        The graph is the calls of the first ``edge_borrowers`` borrowers
        (communities keep nearly all of a phone's calls among them), which is
        the whole world up to 10,000 borrowers. Returns (clustering, phones
        sampled, phones of degree >= 2).
        """
        if not self._edges:
            return 0.0, 0, 0
        a = np.concatenate([e[0] for e in self._edges])
        b = np.concatenate([e[1] for e in self._edges])
        m = a != b
        lo, hi = np.minimum(a[m], b[m]), np.maximum(a[m], b[m])
        pairs = np.unique(np.stack([lo, hi], axis=1), axis=0)
        src = np.concatenate([pairs[:, 0], pairs[:, 1]])
        dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
        o = np.lexsort((dst, src))
        src, dst = src[o], dst[o]
        nodes, start, deg = np.unique(src, return_index=True, return_counts=True)
        eligible = np.flatnonzero(deg >= 2)
        if not len(eligible):
            return 0.0, 0, 0
        pick = np.sort(rng.choice(eligible, min(sample, len(eligible)), replace=False))
        adj: dict[int, set] = {}

        def nbrs(i: int) -> set:
            s = adj.get(i)
            if s is None:
                s = adj[i] = set(dst[start[i]:start[i] + deg[i]].tolist())
            return s

        pos = {int(x): i for i, x in enumerate(nodes.tolist())}
        total = 0.0
        for i in pick.tolist():
            nb = nbrs(i)
            links = sum(len(nb & nbrs(pos[v])) for v in nb) / 2
            d = len(nb)
            total += links / (d * (d - 1) / 2)
        return total / len(pick), int(len(pick)), int(len(eligible))

    def as_dict(self, rng: np.random.Generator, has_pb: np.ndarray) -> dict:
        clus, sampled, eligible = self.clustering(rng)
        watched = np.flatnonzero(self.watch) if self.watch is not None else np.zeros(0, np.int64)
        lost_switched = len(watched)
        carried = int(self.carried[watched].sum())
        both = np.intersect1d(np.concatenate(self._old) if self._old else np.zeros(0, np.int64),
                              np.concatenate(self._new) if self._new else np.zeros(0, np.int64))
        carried_visible = len(np.unique(both >> 32))
        pb = self.pb_rows[has_pb & (self.pb_rows > 0)]
        var = self._var(self._logit)
        lat = self._var(self._latent)
        r = lambda x: round(float(x), 4)  # noqa: E731
        return {
            "call_clustering": r(clus),
            "call_clustering_sample": sampled,
            "call_clustering_phones": eligible,
            "phonebook_median": r(np.median(pb)) if len(pb) else 0.0,
            "phonebook_p95": r(np.percentile(pb, 95)) if len(pb) else 0.0,
            "phonebook_max": int(pb.max()) if len(pb) else 0,
            "lost_with_new_number": lost_switched,
            "lost_new_number_called_old_circle_share": r(carried / lost_switched) if lost_switched else 0.0,
            "lost_new_number_visible_with_old_circle_share": r(carried_visible / lost_switched) if lost_switched else 0.0,
            "call_records_visible_share": r(self.call_rows_visible / self.call_rows_true) if self.call_rows_true else 1.0,
            "contact_contact_call_share": r(self.closure_rows / self.call_rows) if self.call_rows else 0.0,
            "phone_status_coverage": r(self.status_kept / self.status_total) if self.status_total else 1.0,
            "fake_emergency_share": r(self.ec_fake / self.ec_rows) if self.ec_rows else 0.0,
            "reach_latent_variance_share": r(lat / var) if var > 0 else 0.0,
            "reach_unexplained_variance_share": r((0.49 + lat) / var) if var > 0 else 0.0,
        }
