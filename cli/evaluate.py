"""`skiptrace evaluate ...`: quality measurements, thin wrappers over skiptrace.evaluate."""
from __future__ import annotations

from pathlib import Path

import click

from skiptrace_cli.common import emit_json, format_option, store_options
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
