"""C-score graph gain on a time split: account-only, + observable graph features, + truth ceiling.

Same split as ``skiptrace score fit``: fit at extract - 60 days, test at extract - 30 days
(label: any payment in the next 30 days), borrowers delinquent at each cut. Every figure is
an AUC on the test cut; gains are paired differences on the same test rows with a bootstrap
standard error (test rows resampled, the fitted models fixed).

Feature sets:

- ``account``: :data:`ACCOUNT_FEATURES` (ledger and Borrower record only);
- ``+social``: :data:`SOCIAL_FEATURES` (store only: family contacts with strong, live ties,
  anti-collection ring membership; cheap, so on every delinquent borrower);
- ``+reach``: :data:`REACH_FEATURES` (``find``'s ranking per borrower: expensive, so on the
  ``--reach-sample`` borrowers per cut that ``score fit --sample N`` would draw);
- ``+truth`` (diagnostic ceiling, needs ``--world``): the generator's own graph variables,
  ``close_family`` (active relatives with tie strength >= 0.5 and an unchanged number,
  capped at 4, rebuilt from the world's seed exactly as ``skiptrace.generate.response``
  computes it) and ``anti`` (anti-collection ring member, from truth/rings.csv). Only the
  features come from the truth; the weights are fitted on the observed ledger labels, like
  every other row. It bounds what any observable graph feature can add through the
  generator's repayment term ``g = family_pay_effect * (close_family - 1.5) -
  anti_ring_pay_effect * anti`` (skiptrace.generate.response), the only place its repayment
  depends on graph structure beyond reachability;
- ``+truth+lost`` (diagnostic, needs ``--world``): also ``truth_lost``, the borrower had lost
  contact by the cut (truth/lost_contact.csv), the reachability pathway (what ``+reach``
  tries to observe);
- ``oracle g offset`` (diagnostic, needs ``--world``): nothing fitted on it at all: the
  account model's log-odds plus the true ``g`` at the generator's own coefficient (1 on the
  logit of both paying anyway and paying once reached), i.e. a model that knew the graph
  term exactly and added it to what the ledger already says (optimistic: the ledger history
  already carries part of ``g``, so this counts that part twice).

DIAGNOSTIC ONLY: the truth rows use the generator's hidden variables as features; no model
fitted here or anywhere in skiptrace is fitted to truth labels, and none of these rows is
a model a lender could run.

    python bench/cscore_gain.py --db STORE --world WORLD_DIR [--reach-sample 600] [--boot 500]
        [--pool-fit 4] [--json OUT]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from skiptrace.scoring.account import ACCOUNT_FEATURES, extract_time, read_ledger
from skiptrace.scoring.cscore import CScore
from skiptrace.scoring.frame import training_frame
from skiptrace.scoring.reach import REACH_FEATURES, reachability_features
from skiptrace.scoring.social import SOCIAL_FEATURES, social_features
from skiptrace.store.sqlite import SQLiteStore

TRUTH_FEATURES = ("truth_close_family", "truth_anti")
TRUTH_LOST = ("truth_lost",)


def truth_graph(world: Path) -> pd.DataFrame:
    """The generator's graph variables per borrower id (index ``B%06d``), rebuilt from the seed."""
    from skiptrace.generate import build as B, groups as groups_mod, population as pop_mod
    from skiptrace.generate.clock import Clock
    from skiptrace.generate.identity import CN_ZONES, US_ZONES
    from skiptrace.generate.knobs import Knobs

    meta = json.loads((world / "truth" / "world.json").read_text())
    kn = Knobs.preset(meta.get("preset") or "default", **{
        k: tuple(v) if isinstance(v, list) else v for k, v in meta["knobs"].items()})
    n, seed, region = int(meta["n_borrowers"]), int(meta["seed"]), meta["region"]
    clock = Clock(dt.date.fromisoformat(meta["as_of"]), CN_ZONES if region == "CN" else US_ZONES)
    rng = B._rng(seed, B.S_POP)  # the same draws, in the same order, as build.world
    pop = pop_mod.build(n, kn, region, clock, rng)
    grp = groups_mod.assign(pop, rng, B._rng(seed, B.S_RINGS))
    pop.groups = grp
    pop_mod.churn_and_loss(pop, rng, grp.ring_onset)
    pop_mod.relatives(pop, rng)
    close = (pop.rel_strength >= 0.5) & (pop.rel_switch >= pop_mod.INF)  # as response._Borrowers
    cc = np.concatenate([[0], np.cumsum(close)])
    fam = np.minimum(cc[pop.rel_start[1:]] - cc[pop.rel_start[:-1]], 4)
    rings = pd.read_csv(world / "truth" / "rings.csv", dtype=str)
    anti_ids = set(rings.loc[(rings.typology == "anti_collection") & (rings.role == "member"), "borrower_id"])
    ids = [f"B{i:06d}" for i in range(n)]
    anti = np.array([b in anti_ids for b in ids])
    if (anti != pop.anti).any():
        raise SystemExit("the rebuilt population's anti-ring members differ from truth/rings.csv: "
                         "the world was not made by this generator version")
    g = kn.family_pay_effect * (fam - 1.5) - kn.anti_ring_pay_effect * anti
    return pd.DataFrame({"truth_close_family": fam.astype(float), "truth_anti": anti.astype(float),
                         "truth_g": g.astype(float)}, index=pd.Index(ids, name="borrower_id"))


def truth_lost(world: Path, ids, cut: float) -> pd.Series:
    """1 for the borrowers that had lost contact by ``cut`` (truth/lost_contact.csv ``since``)."""
    from skiptrace.contacts import clock

    lost = pd.read_csv(world / "truth" / "lost_contact.csv", dtype=str)
    since = {b: clock.to_days(s) for b, s in zip(lost.borrower_id, lost.since) if isinstance(s, str)}
    return pd.Series([float(since.get(b, np.inf) <= cut) for b in ids],
                     index=pd.Index(ids, name="borrower_id"), name="truth_lost")


def fit_predict(kind: str, X1, y1, X2, cols) -> np.ndarray:
    return CScore(model=kind, random_state=0).fit(X1[list(cols)], y1).predict_proba(X2[list(cols)])[:, 1]


def paired(y: np.ndarray, base: np.ndarray, other: np.ndarray, boot: int, seed: int = 0):
    """AUC(other) - AUC(base) and its bootstrap SE (test rows resampled)."""
    rng = np.random.default_rng(seed)
    d = roc_auc_score(y, other) - roc_auc_score(y, base)
    n, out = len(y), []
    for _ in range(boot):
        i = rng.integers(0, n, n)
        if y[i].min() == y[i].max():
            continue
        out.append(roc_auc_score(y[i], other[i]) - roc_auc_score(y[i], base[i]))
    return d, float(np.std(out, ddof=1)) if len(out) > 1 else float("nan")


def evaluate(name: str, X1, y1, X2, y2, sets: dict[str, tuple], boot: int) -> list[dict]:
    yt = y2.to_numpy()
    rows = []
    for kind in ("hgb", "logistic"):
        preds = {s: fit_predict(kind, X1, y1, X2, cols) for s, cols in sets.items()}
        base = preds["account"]
        if "truth_g" in X2.columns:  # diagnostic: the true graph term added at its own coefficient
            pb = np.clip(base, 1e-4, 1 - 1e-4)
            preds["oracle g offset"] = 1 / (1 + np.exp(-(np.log(pb / (1 - pb)) + X2["truth_g"].to_numpy())))
        for s, p in preds.items():
            auc = roc_auc_score(yt, p)
            d, se = (0.0, 0.0) if s == "account" else paired(yt, base, p, boot)
            rows.append({"frame": name, "model": "boosted" if kind == "hgb" else "logistic", "set": s,
                         "n_fit": len(X1), "n_test": len(X2), "auc": round(auc, 4),
                         "gain": round(d, 4), "se": round(se, 4)})
            print(f"{name:<10} {rows[-1]['model']:<8} {s:<22} n={len(X1)}/{len(X2)} AUC {auc:.4f}"
                  + ("" if s == "account" else f"  gain {d:+.4f} (SE {se:.4f})"), flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--world", type=Path, help="the generated world (truth/ for the ceiling rows)")
    ap.add_argument("--horizon", type=float, default=30)
    ap.add_argument("--reach-sample", type=int, default=0,
                    help="borrowers per cut for the find-based reach features (0: skip those rows); "
                         "drawn as `score fit --sample N` draws them")
    ap.add_argument("--boot", type=int, default=500)
    ap.add_argument("--pool-fit", type=int, default=1,
                    help="also fit on this many cuts (each one horizon earlier) stacked, same test cut")
    ap.add_argument("--json", type=Path, help="write the rows here")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    t0 = time.time()
    store = SQLiteStore(a.db, create=False)
    ext = extract_time(store)
    c1, c2 = ext - 2 * a.horizon, ext - a.horizon
    T = truth_graph(a.world) if a.world else None

    def frame_at(cut: float):
        X, y = training_frame(store, cut, horizon_days=a.horizon, graph=False)
        X = X.join(social_features(store, list(X.index), as_of=cut))
        if T is not None:
            X = X.join(T).join(truth_lost(a.world, list(X.index), cut))
        return X, y

    X1, y1 = frame_at(c1)
    X2, y2 = frame_at(c2)
    print(f"cuts {c1:.0f} / {c2:.0f}: {len(X1)} / {len(X2)} delinquent, repaid {y1.mean():.3f} / "
          f"{y2.mean():.3f}, social features read ({time.time() - t0:.0f}s)", flush=True)
    sets = {"account": tuple(ACCOUNT_FEATURES),
            "account+social": tuple(ACCOUNT_FEATURES) + tuple(SOCIAL_FEATURES)}
    if T is not None:
        sets["account+truth"] = tuple(ACCOUNT_FEATURES) + TRUTH_FEATURES
        sets["account+truth+lost"] = tuple(ACCOUNT_FEATURES) + TRUTH_FEATURES + TRUTH_LOST
        for X, y, tag in ((X1, y1, "fit"), (X2, y2, "test")):
            print(f"{tag}: repaid share by truth close_family "
                  f"{y.groupby(X['truth_close_family']).mean().round(3).to_dict()}, "
                  f"anti {y.groupby(X['truth_anti']).mean().round(3).to_dict()} "
                  f"(members {int(X['truth_anti'].sum())}), lost by the cut "
                  f"{y.groupby(X['truth_lost']).mean().round(3).to_dict()}", flush=True)
        # how well the store shows the generator's close family, and what that variable alone is worth
        corr = {f: round(float(np.corrcoef(X2[f], X2["truth_close_family"])[0, 1]), 3)
                for f in SOCIAL_FEATURES if X2[f].std() > 0}
        print(f"test: AUC of truth_close_family alone {roc_auc_score(y2, X2['truth_close_family']):.4f}; "
              f"correlation with it: {corr}", flush=True)
    rows = evaluate("all", X1, y1, X2, y2, sets, a.boot)
    if a.pool_fit > 1:  # more fit rows: the same test cut, fit on several earlier cuts stacked
        parts = [(X1, y1)] + [frame_at(ext - (k + 2) * a.horizon) for k in range(1, a.pool_fit)]
        P1, q1 = pd.concat([x for x, _ in parts]), pd.concat([y for _, y in parts])
        rows += evaluate(f"pooled{a.pool_fit}", P1, q1, X2, y2, sets, a.boot)
    if a.reach_sample:
        rng1, rng2 = np.random.default_rng(0), np.random.default_rng(1)  # time_split's seeds
        s1 = sorted(rng1.choice(sorted(X1.index), size=min(a.reach_sample, len(X1)), replace=False).tolist())
        s2 = sorted(rng2.choice(sorted(X2.index), size=min(a.reach_sample, len(X2)), replace=False).tolist())
        frames = read_ledger(store, sorted(set(s1) | set(s2)))
        R1 = reachability_features(store, s1, as_of=c1, _extract=ext, _frames=frames)
        R2 = reachability_features(store, s2, as_of=c2, _extract=ext, _frames=frames)
        print(f"reach features on {len(s1)} + {len(s2)} ({time.time() - t0:.0f}s)", flush=True)
        Z1, Z2 = X1.loc[s1].join(R1), X2.loc[s2].join(R2)
        acc, soc, rch = tuple(ACCOUNT_FEATURES), tuple(SOCIAL_FEATURES), tuple(REACH_FEATURES)
        ssets = {"account": acc, "account+reach": acc + rch, "account+social": acc + soc,
                 "account+reach+social": acc + rch + soc}
        if a.world:
            ssets["account+truth"] = acc + TRUTH_FEATURES
            ssets["account+truth+lost"] = acc + TRUTH_FEATURES + TRUTH_LOST
        rows += evaluate("sample", Z1, y1.loc[s1], Z2, y2.loc[s2], ssets, a.boot)
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))
    print(f"done in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
