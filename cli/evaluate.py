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
@click.option("--min-probability", default=0.5, show_default=True,
              help="A phone counts as reaching the borrower at this reach_probability or above.")
@click.option("--sample", type=int, default=None, help="Evaluate this many random lost borrowers.")
@click.option("--seed", default=0, show_default=True, help="Seed of --sample.")
@model_option
@format_option("table", "json")
def evaluate_find_cmd(world, store, min_probability, sample, seed, scorer, fmt):
    """hit@1/3/10, MRR and recall@10 of find and three baselines on WORLD's lost borrowers.

    The store must hold WORLD (`skiptrace load WORLD`); an empty store is loaded first.
    """
    from skiptrace.evaluate import evaluate_find
    from skiptrace.ingest import load

    if not store.counts().nodes.get("Borrower"):
        load(store, Path(world))
    report = evaluate_find(store, world, min_probability=min_probability, sample=sample, seed=seed,
                           scorer=scorer)
    d = report.as_dict()
    if fmt == "json":
        emit_json(d)
        return
    click.echo(f"{d['borrowers']} lost-contact borrowers in {world} "
               f"(relevant: reach_probability >= {min_probability})")
    cols = ["hit@1", "hit@3", "hit@10", "mrr", "recall@10", "ndcg@10"]
    click.echo(f"{'method':<16}" + "".join(f"{c:>10}" for c in cols))
    for m, v in d["methods"].items():
        click.echo(f"{m:<16}" + "".join(f"{v[c]:>10.3f}" for c in cols))
    click.echo(f"MRR of find / best baseline ({d['best_baseline']}): {d['mrr_ratio']}")
