"""`skiptrace score fit|apply`: thin wrappers over skiptrace.scoring."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from skiptrace_cli.common import emit_json, format_option, store_options

_POLICY_HELP = ("Eligibility policy for the reachability features: auto (each borrower's "
                "region's pack) or a pack name.")


@click.group()
def score():
    """The C-score: probability of repayment within 30 days, as points (300-850) and a segment."""


@score.command("fit")
@store_options
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="Where to write the fitted model (a pickle: load only files you trust).")
@click.option("--cut", default=None, metavar="DATE",
              help="Fit cut (ISO date, UTC; default: the extract time minus twice the horizon). "
                   "The model is tested one horizon later.")
@click.option("--horizon-days", default=30, show_default=True, type=click.IntRange(min=1),
              help="Label window: any payment within this many days after the cut.")
@click.option("--no-graph", "no_graph", is_flag=True,
              help="Fit the saved model without the reachability (graph) features.")
@click.option("--model", "kind", type=click.Choice(["hgb", "logistic"]), default="hgb",
              show_default=True, help="Gradient boosting or logistic regression (both calibrated).")
@click.option("--policy", default="auto", show_default=True, help=_POLICY_HELP)
@format_option("table", "json")
def score_fit(store, output, cut, horizon_days, no_graph, kind, policy, fmt):
    """Fit the C-score on a time split and print the report (AUC with and without the
    graph features, beside baselines and an in-period upper bound)."""
    from skiptrace.scoring import time_split

    if Path(output).is_dir():
        raise click.UsageError(f"--output {output} is a directory")
    model, report = time_split(store, cut=cut, horizon_days=horizon_days, graph=not no_graph,
                               model=kind, policy=policy)
    model.save(output)
    if fmt == "json":
        emit_json({"model": str(output), **report.as_dict()})
        return
    for line in report.lines():
        click.echo(line)
    click.echo(f"saved the {'account' if no_graph else 'account+graph'} model "
               f"({len(model.features_)} features, fitted at {report.fit_cut}) to {output}")


@score.command("apply")
@click.argument("borrower_ids", nargs=-1)
@store_options
@click.option("--model", "model_path", required=True, type=click.Path(),
              help="A model written by `skiptrace score fit`.")
@click.option("--all", "all_", is_flag=True, help="Every borrower delinquent at the as-of time.")
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Score as of this ISO date/time (UTC; default: the extract time).")
@click.option("--policy", default="auto", show_default=True, help=_POLICY_HELP)
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (all at once, nothing half-written) instead of stdout.")
@format_option("table", "json", "jsonl")
def score_apply(borrower_ids, store, model_path, all_, as_of, policy, out, fmt):
    """Score BORROWER_ID... (or --all): borrower_id, p_repay_30d, c_score, segment."""
    from skiptrace.scoring import load_cscore
    from skiptrace.scoring.apply import apply as apply_lib

    if bool(borrower_ids) == all_:
        raise click.UsageError("give BORROWER_ID... or --all, not both or neither")
    model = load_cscore(model_path)
    rows = apply_lib(store, model, None if all_ else list(borrower_ids), as_of=as_of, policy=policy)
    text = _render(rows, fmt)
    if out is None:
        sys.stdout.write(text)
        return
    tmp = f"{out}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, out)
    click.echo(f"wrote {len(rows)} scores to {out}", err=True)


def _render(rows: list[dict], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    lines = [f"{'borrower_id':<14} {'p_repay_30d':>11} {'c_score':>7} segment"]
    lines += [f"{r['borrower_id']:<14} {r['p_repay_30d']:>11.4f} {r['c_score']:>7} {r['segment']}"
              for r in rows]
    return "\n".join(lines) + "\n"
