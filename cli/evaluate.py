"""`skiptrace evaluate ...`: quality measurements, thin wrappers over skiptrace.evaluate."""
from __future__ import annotations

from pathlib import Path

import click

from skiptrace_cli.common import emit_json, format_option, is_terminal, store_options
from skiptrace_cli.find import model_option


@click.group()
def evaluate():
    """Measure skiptrace against a generated world's truth."""


@evaluate.command("find")
@click.option("--world", "world", required=True, type=click.Path(exists=True, file_okay=False),
              help="A generated world directory (with truth/).")
@store_options(create=True)
@click.option("--min-probability", "thresholds", type=float, multiple=True, default=(0.5, 0.7),
              show_default=True,
              help="A phone counts as reaching the borrower at this reach_probability or above "
                   "(repeat for several thresholds, all in one run).")
@click.option("--sample", type=int, default=None, help="Evaluate this many random lost borrowers.")
@click.option("--seed", default=0, show_default=True,
              help="Seed of --sample and of the upper bound's train / held-out halves.")
@click.option("--no-upper-bound", "no_upper_bound", is_flag=True,
              help="Skip the boosted model learned from half the borrowers' truth.")
@model_option
@format_option("table", "json")
def evaluate_find_cmd(world, store, thresholds, sample, seed, no_upper_bound, scorer, fmt):
    """find against unfitted baselines and a learned upper bound on WORLD's lost borrowers.

    hit@1/3/10, MRR, recall@10 and graded nDCG@10 at each --min-probability,
    the ceiling, and MRR by truth mechanism. The store must hold WORLD; an
    empty store is loaded with it first (with the world's region).
    """
    from skiptrace.evaluate.find import evaluate_find, load_world, render_text

    if not store.counts().nodes.get("Borrower"):
        load_world(store, world)
    report = evaluate_find(store, world, min_probability=thresholds, sample=sample, seed=seed,
                           scorer=scorer, upper_bound=not no_upper_bound)
    if fmt == "json":
        emit_json(report.as_dict())
        return
    click.echo(render_text(report.as_dict()))


class _BadInput(click.ClickException):
    """A one-line usage error with exit code 2."""

    exit_code = 2


@evaluate.command("linkpred")
@click.argument("edges", type=click.Path(dir_okay=False))
@click.option("--hide", default=0.1, show_default=True,
              help="Share of pairs hidden (random) or of events after the default cut (temporal).")
@click.option("--splits", default=5, show_default=True,
              help="Seeded splits (mean and std over them).")
@click.option("--seed", default=0, show_default=True, help="Seed of the splits and samples.")
@click.option("--mode", type=click.Choice(["random", "temporal"]), default="random",
              show_default=True, help="Hide random pairs, or everything at or after a time cut.")
@click.option("--cut", type=float, default=None,
              help="Temporal cut in the data's time units (default: the 1 - hide time quantile).")
@click.option("--sources", type=int, default=100, show_default=True,
              help="Rank for at most this many sources per split (seeded sample; 0 = all).")
@click.option("--max-hops", type=int, default=None, help="find's max_hops (default find's own).")
@click.option("--max-fanout", type=int, default=None,
              help="find's max_fanout (default find's own).")
@format_option("table", "json")
def evaluate_linkpred_cmd(edges, hide, splits, seed, mode, cut, sources, max_hops, max_fanout, fmt):
    """find as a link predictor on an edge list, beside RA, Adamic-Adar, CN, Jaccard and PPR.

    EDGES is a CSV (optionally .gz) with header src,dst[,weight][,time], one row
    per event. Every node becomes a borrower with one phone, every pair one call
    record; hidden pairs are scored against sampled non-edges (AUC) and per
    source (MRR, hit@1, hit@10, ties broken at random in expectation).
    """
    from skiptrace.errors import SkiptraceError
    from skiptrace.evaluate.linkpred import evaluate_linkpred

    if not Path(edges).is_file():
        raise _BadInput(f"{edges}: no such file")
    if not 0.0 < hide < 1.0:
        raise _BadInput(f"--hide must be in (0, 1), got {hide}")
    if splits < 1:
        raise _BadInput(f"--splits must be at least 1, got {splits}")
    if sources < 0:
        raise _BadInput(f"--sources must be at least 0 (0 = all), got {sources}")
    for name, v in (("--max-hops", max_hops), ("--max-fanout", max_fanout)):
        if v is not None and v < 1:
            raise _BadInput(f"{name} must be at least 1, got {v}")
    kw = {k: v for k, v in (("max_hops", max_hops), ("max_fanout", max_fanout)) if v is not None}
    try:
        res = evaluate_linkpred(edges, hide=hide, splits=splits, seed=seed, mode=mode, cut=cut,
                                sources=sources or None, find_kwargs=kw)
    except SkiptraceError as exc:
        raise _BadInput(str(exc).splitlines()[0]) from None
    d = res.as_dict()
    if fmt == "json":
        emit_json(d)
        return
    first = res.splits[0]
    what = (f"cut {first.cut:g} (as_of {first.as_of})" if mode == "temporal"
            else f"{hide:g} of pairs hidden")
    click.echo(f"{Path(edges).name}: {res.nodes} nodes, {res.pairs} pairs; {mode}, {what}; "
               f"{len(res.splits)} split(s), {first.sources} sources each")
    cols = ["auc", "mrr", "hit@1", "hit@10"]
    click.echo(f"{'method':<16}" + "".join(f"{c:>9}" for c in cols) + f"{'(std auc)':>11}")
    for m, v in d["methods"].items():
        cells = "".join(f"{v[c]['mean']:>9.3f}" if v[c]["mean"] is not None else f"{'-':>9}"
                        for c in cols)
        std = v["auc"]["std"]
        click.echo(f"{m:<16}{cells}{std if std is None else format(std, '.3f'):>11}")
    click.echo("find p50 per source (read + rank): "
               + ", ".join(f"{k} {v:.1f} ms" for k, v in d["find_ms_p50"].items()))


@evaluate.command("rings")
@click.option("--world", "world", required=True, type=click.Path(exists=True, file_okay=False),
              help="A world directory with truth/rings.csv (generated, or from inject-rings).")
@store_options
@click.option("--seed", default=0, show_default=True, help="Seed of detection and of Louvain.")
@click.option("--baseline", "baselines", multiple=True,
              type=click.Choice(["components", "louvain", "components_strong", "device_burst"]),
              help="Run only these baselines (repeat; default all).")
@click.option("--no-detector", is_flag=True,
              help="Skip skiptrace.rings.detect and run the baselines only.")
@format_option("table", "json")
def evaluate_rings_cmd(world, store, seed, baselines, no_detector, fmt):
    """Ring detection against WORLD's truth, beside the baselines, in one run.

    Per typology (fraud, anti_collection): member-level precision, recall and
    F1, ring recall (a true ring is found when a flagged detected ring has
    Jaccard >= 0.5 with it); the share of each benign kind's members flagged.
    Baselines (marked *) get an ORACLE typology from the truth, which favours
    them. The store must already hold WORLD (skiptrace load WORLD first).
    """
    from skiptrace.errors import SkiptraceError
    from skiptrace.evaluate.rings import evaluate_rings, render_text

    if not store.counts().nodes.get("Borrower"):
        raise SkiptraceError(f"the store holds no borrowers: run `skiptrace load {world}` first")
    report = evaluate_rings(store, world, seed=seed, skiptrace=not no_detector,
                            baselines=list(baselines) or None,
                            progress=lambda msg: click.echo(msg, err=True) if is_terminal() else None)
    if fmt == "json":
        emit_json(report.as_dict())
        return
    click.echo(render_text(report.as_dict()))


@evaluate.command("inject-rings")
@click.argument("network", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="The world directory to write (input files and truth/).")
@click.option("--seed", default=0, show_default=True, help="Seed of everything injected.")
@format_option("table", "json")
def evaluate_inject_cmd(network, out_dir, seed, fmt):
    """Write NETWORK (src,dst[,weight][,time] CSV, .gz allowed) as a world with injected rings.

    Hosts become borrowers with one phone each and their edges call records;
    fraud blocks with camouflage, anti-collection rings with agents that
    honest hosts also list, and benign look-alikes (couriers, internet-cafe
    devices, households, dormitories) are injected with truth in the
    generator's format. Then: skiptrace load OUT && skiptrace evaluate rings --world OUT.
    """
    from skiptrace.errors import SkiptraceError
    from skiptrace.evaluate.inject import inject_rings

    if not Path(network).is_file():
        raise _BadInput(f"{network}: no such file")
    try:
        summary = inject_rings(network, out_dir, seed=seed)
    except (SkiptraceError, ValueError) as exc:
        raise _BadInput(str(exc).splitlines()[0]) from None
    if fmt == "json":
        emit_json(summary.as_dict())
        return
    click.echo(f"wrote {out_dir}: {summary.hosts:,} hosts + {summary.borrowers - summary.hosts} new "
               f"borrowers from {Path(network).name} (seed {seed})")
    for name, rows in summary.rows.items():
        click.echo(f"  {name:<24}{rows:>10,}")
    click.echo("  rings: " + ", ".join(f"{summary.rings[t]} {t} ({summary.ring_members.get(t, 0)} members)"
                                       for t in summary.rings))
    click.echo("  benign: " + ", ".join(f"{v} {k} ({summary.benign_members[k]} members)"
                                        for k, v in summary.benign_groups.items()))


@evaluate.command("plan")
@click.option("--world", "world", required=True, type=click.Path(exists=True, file_okay=False),
              help="A generated world directory (with truth/response.csv and truth/costs.csv).")
@store_options(create=True)
@click.option("--policy", "policy", default="auto", show_default=True,
              help="Policy pack every policy is restricted to: CN-NIFA-2024, US-RegF, baseline or "
                   "auto (each borrower's region).")
@click.option("--both-packs", is_flag=True, help="Run once under CN-NIFA-2024 and once under US-RegF.")
@click.option("--plans", "plans_file", type=click.Path(dir_okay=False), default=None,
              help="Take the learned policy's plans from this JSON-lines file (contract objects, "
                   "phones unmasked) instead of running skiptrace.plan.")
@click.option("--no-plan", is_flag=True, help="Baselines and ceiling only (no learned policy).")
@click.option("--sample", type=int, default=None, help="Evaluate this many random delinquent borrowers.")
@click.option("--bootstrap", type=int, default=200, show_default=True,
              help="Bootstrap resamples of the off-policy intervals (0: none).")
@click.option("--seed", default=0, show_default=True, help="Seed of --sample and the bootstrap.")
@format_option("text", "json", default="text")
def evaluate_plan_cmd(world, store, policy, both_packs, plans_file, no_plan, sample, bootstrap, seed, fmt):
    """The learned plan against baselines and the true ceiling on WORLD's delinquent borrowers.

    True expected net recovery of each policy's first action (truth/response.csv,
    truth/costs.csv), off-policy IPS / SNIPS / DR estimates from the logs with
    95% bootstrap intervals, and violation counts of an independent compliance
    checker. An empty store is loaded with WORLD first.
    """
    from skiptrace.errors import SkiptraceError
    from skiptrace.evaluate.find import load_world
    from skiptrace.evaluate.plan import evaluate_plan, render_text
    from skiptrace.evaluate.plan_check import read_plans

    if sample is not None and sample < 1:
        raise _BadInput(f"--sample must be at least 1, got {sample}")
    if bootstrap < 0:
        raise _BadInput(f"--bootstrap must be at least 0, got {bootstrap}")
    if plans_file and not Path(plans_file).is_file():
        raise _BadInput(f"{plans_file}: no such file")
    for name in ("response.csv", "costs.csv"):
        if not (Path(world) / "truth" / name).is_file():
            raise _BadInput(f"{Path(world) / 'truth' / name}: no such file (not a generated world)")
    packs = ["CN-NIFA-2024", "US-RegF"] if both_packs else [policy]
    try:
        plans = list(read_plans(plans_file)) if plans_file else None
        if not store.counts().nodes.get("Borrower"):
            load_world(store, world)
        reports = []
        for pack in packs:
            ev = evaluate_plan(store, world, policy=pack, planner=not no_plan, plans=plans,
                               bootstrap=bootstrap, seed=seed, sample=sample,
                               progress=lambda msg: click.echo(msg, err=True) if is_terminal() else None)
            reports.append(ev.as_dict())
    except SkiptraceError as exc:
        raise _BadInput(str(exc).splitlines()[0]) from None
    if fmt == "json":
        emit_json(reports[0] if len(reports) == 1 else {"packs": reports})
        return
    click.echo("\n\n".join(render_text(r) for r in reports))
