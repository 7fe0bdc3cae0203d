"""`skiptrace find` and `skiptrace evaluate find`: thin wrappers over skiptrace.contacts / evaluate."""
from __future__ import annotations

import json
import sys

import click

from skiptrace.contacts import find as find_lib
from skiptrace.contacts import find_many
from skiptrace.contacts.find import FindError
from skiptrace.contacts.ego import MAX_FANOUT
from skiptrace.csvsafe import SafeWriter
from skiptrace.errors import PartialFailure
from skiptrace_cli.common import (audited, count_progress, emit_json, format_option, is_terminal,
                                  policy_option, store_options)

_CSV_COLUMNS = ["borrower_id", "as_of", "rank", "phone", "name", "relation", "target_role", "score",
                "last_seen", "eligible", "blocked_by", "why"]


def _csv_rows(res, reveal: bool):
    d = res.to_dict(reveal)
    for c in d["candidates"]:
        yield [d["borrower_id"], d["as_of"], c["rank"], c["phone"], c["name"] or "", c["relation"],
               c["target_role"], c["score"], c["last_seen"] or "", str(c["eligible"]).lower(),
               ";".join(c["blocked_by"]), c["summary"]]


def _table(res, reveal: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    d = res.to_dict(reveal)
    t = Table(title=f"borrower {d['borrower_id']}, as of {d['as_of']}")
    for col in ("#", "phone", "score", "last seen"):
        t.add_column(col, no_wrap=True)
    t.add_column("who", overflow="fold", max_width=22)
    t.add_column("eligible", overflow="fold", max_width=22)
    t.add_column("why", overflow="fold", ratio=1)
    for c in d["candidates"]:
        who = " ".join(x for x in (c["name"] or "", f"({c['relation']})", c["target_role"]) if x)
        why = c.get("summary") or (c["evidence"][0]["why"] if c["evidence"] else "")
        t.add_row(str(c["rank"]), c["phone"], f"{c['score']:.3g}", (c["last_seen"] or "")[:10],
                  who, "yes" if c["eligible"] else "no: " + ", ".join(c["blocked_by"]), why)
    Console().print(t)


def _load_scorer(ctx, param, value):
    if value is None:
        return None
    from skiptrace.contacts.ranking.model import LinearScorer

    return LinearScorer.load(value)


def _iso_time(ctx, param, value):
    """--as-of must be an ISO 8601 date or time (exit 2 otherwise)."""
    import datetime as dt

    if value is not None:
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time "
                                     "(such as 2026-01-31 or 2026-01-31T09:00:00+08:00)") from None
    return value


model_option = click.option(
    "--model", "scorer", type=click.Path(exists=True, dir_okay=False), default=None,
    callback=_load_scorer,
    help="Score with weights from `skiptrace train find` (default: the documented defaults).")


@click.command()
@click.argument("borrower_id", required=False)
@audited
@store_options
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1),
              help="How many candidates to list (best first).")
@click.option("--max-hops", default=3, show_default=True, type=click.IntRange(min=1),
              help="How far out (in relationships) candidates may be.")
@click.option("--max-fanout", default=MAX_FANOUT, show_default=True, type=click.IntRange(min=1),
              help="Keep but do not expand a node with more relationships than this (a courier, "
                   "a switchboard); the borrower's own numbers are always expanded.")
@click.option("--as-of", "as_of", default=None, metavar="DATE", callback=_iso_time,
              help="Rank as of this ISO date/time (default: the newest time in the borrower's data).")
@click.option("--borrowers-file", type=click.Path(exists=True, dir_okay=False, allow_dash=True),
              default=None,
              help="A file of borrower ids, one per line ('-' for stdin), for many at once.")
@click.option("--reveal", is_flag=True, help="Show phone numbers and names unmasked.")
@click.option("--progress/--no-progress", default=None,
              help="With --borrowers-file: a progress bar on stderr (default: when stderr is a "
                   "terminal).")
@model_option
@policy_option()
@format_option("table", "json", "jsonl", "csv")
def find(borrower_id, store, limit, max_hops, max_fanout, as_of, borrowers_file, reveal, progress,
         scorer, policy, fmt, audit):
    """Rank the phones most likely to reach BORROWER_ID now, with evidence and eligibility.

    With --borrowers-file, an unknown id gets an error record and the batch goes on; the exit
    code is 0 when every id succeeded, 3 when some failed."""
    if bool(borrower_id) == bool(borrowers_file):
        raise click.UsageError("give a BORROWER_ID or --borrowers-file, not both or neither")
    kwargs = dict(limit=limit, max_hops=max_hops, as_of=as_of, scorer=scorer, max_fanout=max_fanout,
                  policy=policy)
    if borrowers_file:
        with click.open_file(borrowers_file, encoding="utf-8") as f:
            ids = [line.strip() for line in f if line.strip() and not line.startswith("#")]
        audit(store, ids)  # the audit trail first: nothing is shown that it does not hold
        results = find_many(store, ids, errors="record", **kwargs)
        if fmt == "table":
            fmt = "jsonl"
    else:
        ids = [borrower_id]
        audit(store, ids)
        results = iter([find_lib(store, borrower_id, **kwargs)])
    failed = []

    def answered(results):
        """The results; an unknown borrower is counted, and reported as a line on stderr
        (jsonl writes its error record in line instead)."""
        for res in results:
            if isinstance(res, FindError):
                failed.append(res.borrower_id)
                if fmt != "jsonl":
                    click.echo(f"error: {res.borrower_id}: {res.error}", err=True)
                    continue
            yield res

    show = bool(borrowers_file) and (is_terminal() if progress is None else progress)
    with count_progress(show, len(ids), "find") as bar:
        if bar is not None:
            results = _counted(results, bar, len(ids))
        _render(answered(results), fmt, reveal)
    if failed:
        raise PartialFailure(f"{len(failed)} of {len(ids)} borrowers not found")


def _counted(results, update, total):
    for i, res in enumerate(results, 1):
        yield res
        update(i, total)


def _render(results, fmt: str, reveal: bool) -> None:
    if fmt == "csv":
        w = SafeWriter(sys.stdout)  # spreadsheet-safe: no cell starts a formula
        w.writerow(_CSV_COLUMNS)
        for res in results:
            w.writerows(_csv_rows(res, reveal))
    elif fmt == "jsonl":
        for res in results:
            sys.stdout.write(json.dumps(res.to_dict(reveal), ensure_ascii=False) + "\n")
    elif fmt == "json":
        for res in results:
            emit_json(res.to_dict(reveal))
    else:
        for res in results:
            _table(res, reveal)


@click.group()
def train():
    """Learn scoring weights from the store's own history."""


@train.command("find")
@store_options
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False),
              help="Write the scorer (JSON) here; use it with `skiptrace find --model`.")
@click.option("--from", "source", type=click.Choice(["attempts", "ties"]), default="attempts",
              show_default=True,
              help="Learn from contact-attempt outcomes in the ledger, or (self-supervised, no "
                   "labels needed) from the store's own call ties.")
@click.option("--borrowers", "sample", type=int, default=2000, show_default=True,
              help="Learn from this many random borrowers (0: all).")
@click.option("--seed", default=0, show_default=True, help="Seed of the borrower sample.")
@click.option("--valid-share", default=0.3, show_default=True,
              help="The share held out to validate and calibrate (the latest attempts; for "
                   "ties, random borrowers).")
@click.option("--horizon", type=float, default=30.0, show_default=True,
              help="--from ties: predict who each borrower's numbers are in touch with in the "
                   "last DAYS of their data, from what came before (0: hide random ties instead).")
@click.option("--hide", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.2,
              show_default=True, help="--from ties without times: the share of each borrower's "
                                      "call partners to hide and recover.")
@click.option("-C", "C", type=float, default=None,
              help="Inverse penalty on the corrections: smaller keeps the weights closer to the "
                   "defaults [default: 0.01 for attempts (a biased sample; see docs/find.md), "
                   "1.0 for ties].")
@format_option("table", "json")
def train_find(store, out, source, sample, seed, valid_share, horizon, hide, C, fmt):
    """Learn corrections to find's default weights from the store's own history.

    The documented defaults are the prior: a logistic regression with the
    default log-odds as offset learns a penalised correction for each feature
    the rows exercise (the others keep their defaults), validated (AUC, log
    loss, against the defaults) on held-out rows. `--from attempts` learns
    from contact-attempt outcomes; `--from ties` needs no labels: it hides
    the borrowers' latest (or random) call ties and learns to recover them.
    """
    from skiptrace.contacts.ranking.train import learn_from_attempts, learn_from_ties
    from skiptrace.errors import SkiptraceError

    try:
        if source == "ties":
            model = learn_from_ties(store, sample=sample or None, seed=seed, valid_share=valid_share,
                                    horizon=horizon or None, hide=hide, C=1.0 if C is None else C)
        else:
            model = learn_from_attempts(store, sample=sample or None, seed=seed,
                                        valid_share=valid_share, C=0.01 if C is None else C)
    except ValueError as exc:
        raise SkiptraceError(str(exc)) from None
    model.scorer_.save(out, model.validation_)
    v = model.validation_
    if fmt == "json":
        emit_json({"out": out, "validation": v})
        return
    what = "attempted phones" if source == "attempts" else "candidate phones"
    click.echo(f"learned from {v['train_rows']:,} {what}, validated on "
               f"{v['valid_rows']:,}: AUC {v['auc']:.3f} (defaults {v['default_auc']:.3f}), "
               f"log loss {v['log_loss']:.3f} (defaults {v['default_log_loss']:.3f}); "
               f"{v['corrected_features']} features corrected, most: {v['largest_corrections']}")
    click.echo(f"wrote {out}")


ALL = [find, train]
