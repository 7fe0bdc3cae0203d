"""`skiptrace plan`: a thin wrapper over skiptrace.plan."""
from __future__ import annotations

import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import click

from skiptrace_cli.common import emit_json, is_terminal, store_options


@contextmanager
def _progress_bar(enabled: bool, total: int):
    """A rich progress bar on a terminal; None elsewhere."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("planning"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  transient=True) as bar:
        task = bar.add_task("plan", total=total)

        def update(done: int, _total: int) -> None:
            bar.update(task, completed=done)

        yield update


def _table(d: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    score = (f"C-score {d['c_score']} ({d['segment']})" if d["c_score"] is not None
             else "no C-score model")
    p = d["p_repay_30d"]
    t = Table(title=f"borrower {d['borrower_id']}, as of {d['as_of']}, policy {d['policy']}, "
                    f"{score}, P(repay 30d) {'-' if p is None else f'{p:.2f}'}")
    for col in ("#", "channel", "script", "target", "phone", "from", "until", "EV"):
        t.add_column(col, no_wrap=True)
    t.add_column("why", overflow="fold", ratio=1)
    for i, a in enumerate(d["actions"], start=1):
        t.add_row(str(i), a["channel"], a["script"] or "", a["target_role"], a["target_phone"] or "",
                  a["not_before"][:16], a["not_after"][:16], f"{a['expected_value']:.2f}", a["why"])
    con = Console()
    con.print(t)
    if d["blocked"]:
        b = Table(title="blocked")
        for col in ("channel", "script", "target", "phone", "rule"):
            b.add_column(col, no_wrap=True)
        b.add_column("why", overflow="fold", ratio=1)
        for x in d["blocked"]:
            b.add_row(x["channel"], x["script"] or "", x["target_role"], x["target_phone"] or "",
                      x["rule"], x["why"])
        con.print(b)


def _read_ids(path: str) -> list[str]:
    with click.open_file(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


@click.command()
@click.argument("borrower_id", required=False)
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
         horizon_hours, max_actions, fmt, out, reveal, drop_unprofitable, workers, progress):
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
    show = bool(all_) and (is_terminal() if progress is None else progress)
    kwargs = dict(policy=policy, as_of=as_of, cscore=cscore, model=model, costs=costs,
                  horizon_hours=horizon_hours, max_actions=max_actions, workers=workers,
                  drop_unprofitable=drop_unprofitable)
    with _output(out) as stream, _progress_bar(show, len(ids)) as cb:
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
