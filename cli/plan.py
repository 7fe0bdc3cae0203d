"""`skiptrace plan`: a thin wrapper over skiptrace.plan."""
from __future__ import annotations

import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import click

from skiptrace_cli.common import audited, count_progress, emit_json, is_terminal, store_options


def _window(a: dict) -> str:
    """``2026-06-30 08:00-22:00`` (the end's date too when it is another day)."""
    lo, hi = a["not_before"] or "", a["not_after"] or ""
    if lo[:10] == hi[:10]:
        return f"{lo[:10]} {lo[11:16]}-{hi[11:16]}"
    return f"{lo[:10]} {lo[11:16]} - {hi[:10]} {hi[11:16]}"


def _table(d: dict) -> None:
    """A plan readable at 80 columns: one line per action (why underneath), blocked actions
    grouped by rule."""
    score = (f"C-score {d['c_score']} ({d['segment']})" if d["c_score"] is not None
             else "no C-score model")
    p = d["p_repay_30d"]
    click.echo(f"borrower {d['borrower_id']}  as of {d['as_of']}  policy {d['policy']}")
    click.echo(f"{score}, P(repay in 30 days) {'-' if p is None else f'{p:.3g}'}")
    if not d["actions"]:
        click.echo("no allowed action")
    for i, a in enumerate(d["actions"], start=1):
        act = a["channel"] + (f"/{a['script']}" if a.get("script") else "")
        who = "borrower" if a["target_role"] == "borrower" else "third party"
        to = f"{who} {a['target_phone']}" if a.get("target_phone") else who
        click.echo(f"{i}. {act:<30} {to:<28} EV {a['expected_value']:>8.2f}")
        click.echo(f"   {_window(a)}  {a['why']}")
    groups: dict[tuple[str, str], list[dict]] = {}
    for x in d["blocked"]:
        groups.setdefault((x["rule"], x["why"]), []).append(x)
    if groups:
        click.echo(f"blocked ({len(d['blocked'])}):")
    for (rule, why), xs in groups.items():
        chans = sorted({x["channel"] for x in xs})
        roles = sorted({"borrower" if x["target_role"] == "borrower" else "third party" for x in xs})
        click.echo(f"  {rule:<6} x{len(xs):<3} {why} ({', '.join(chans)}; to {' and '.join(roles)})")


def _read_ids(path: str) -> list[str]:
    with click.open_file(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


@click.command()
@click.argument("borrower_id", required=False)
@audited
@store_options
@click.option("--all", "all_", is_flag=True,
              help="Plan every delinquent borrower (or those of --borrowers-file).")
@click.option("--borrowers-file", type=click.Path(exists=True, dir_okay=False, allow_dash=True),
              default=None, help="With --all: the borrower ids, one per line ('-' for stdin).")
@click.option("--policy", default="auto", show_default=True,
              help="Policy pack: auto (by the borrower's region), baseline, CN-NIFA-2024, US-RegF.")
@click.option("--as-of", "as_of", default=None, metavar="TIME",
              help="Plan as of this ISO time (default: the newest time in the store's ledger).")
@click.option("--cscore", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A C-score model (`skiptrace score fit`) for c_score, segment, p_repay_30d.")
@click.option("--model", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A saved response model (default: learned from the store's ledger).")
@click.option("--costs", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The lender's costs: a channel,cost[,region] CSV over the default table.")
@click.option("--horizon-hours", type=click.FloatRange(min=0, min_open=True), default=24.0,
              show_default=True, help="Actions must be possible within this many hours.")
@click.option("--max-actions", type=click.IntRange(min=0), default=5, show_default=True,
              help="At most this many actions per borrower, best expected value first.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "jsonl"]), default=None,
              help="Output format [default: table for one borrower, jsonl for --all].")
@click.option("-o", "--out", type=click.Path(dir_okay=False), default=None,
              help="Write here (default stdout); written whole or not at all.")
@click.option("--reveal", is_flag=True, help="Show phone numbers unmasked.")
@click.option("--drop-unprofitable", is_flag=True,
              help="Leave out actions whose expected value does not beat doing nothing.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Plan in this many processes (a SQLite store file).")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar with --all (default: when stderr is a terminal).")
def plan(borrower_id, store, all_, borrowers_file, policy, as_of, cscore, model, costs,
         horizon_hours, max_actions, fmt, out, reveal, drop_unprofitable, workers, progress, audit):
    """The next best allowed actions for BORROWER_ID (or --all), with time windows, expected
    values and the rules that block the rest."""
    from skiptrace.plan import delinquent_ids, plan_many

    if bool(borrower_id) == bool(all_):
        raise click.UsageError("give a BORROWER_ID or --all, not both or neither")
    if borrowers_file and not all_:
        raise click.UsageError("--borrowers-file goes with --all")
    if all_:
        ids = _read_ids(borrowers_file) if borrowers_file else delinquent_ids(store)
        fmt = fmt or "jsonl"
        if fmt == "table":
            raise click.UsageError("--all writes json or jsonl, not a table")
    else:
        ids = [borrower_id]
        fmt = fmt or "table"
    audit(store, ids)  # the audit trail first: nothing is shown that it does not hold
    show = bool(all_) and (is_terminal() if progress is None else progress)
    kwargs = dict(policy=policy, as_of=as_of, cscore=cscore, model=model, costs=costs,
                  horizon_hours=horizon_hours, max_actions=max_actions, workers=workers,
                  drop_unprofitable=drop_unprofitable)
    with _output(out) as stream, count_progress(show, len(ids), "planning") as cb:
        results = plan_many(store, ids, progress=cb, **kwargs)
        if fmt == "jsonl":
            for res in results:
                stream.write(json.dumps(res.to_dict(reveal), ensure_ascii=False) + "\n")
        elif fmt == "json":
            docs = [r.to_dict(reveal) for r in results]
            obj = docs[0] if not all_ else docs
            if stream is sys.stdout:
                emit_json(obj)
            else:
                json.dump(obj, stream, ensure_ascii=False, indent=2)
                stream.write("\n")
        else:
            for res in results:
                _table(res.to_dict(reveal))
    if out:
        click.echo(f"wrote {len(ids)} plans to {out}", err=True)


@contextmanager
def _output(out: str | None):
    """stdout, or a temporary file beside ``out`` renamed over it only on success."""
    if not out or out == "-":
        yield sys.stdout
        return
    target = Path(out)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yield f
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
