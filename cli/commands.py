"""The store commands (load, stats, schema, export) and the list of all commands."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click

from skiptrace import export as export_lib
from skiptrace import neo4j_import
from skiptrace.ingest import load as load_lib
from skiptrace.ingest import normalise as nz
from skiptrace_cli.audit import audit
from skiptrace_cli.doctor import doctor
from skiptrace_cli.common import audited, emit_json, format_option, is_terminal, store_options
from skiptrace_cli.evaluate import evaluate
from skiptrace_cli.find import find, train
from skiptrace_cli.generate import generate
from skiptrace_cli.plan import plan
from skiptrace_cli.rings import rings
from skiptrace_cli.score import score
from skiptrace_cli.serve import serve, users


def _checked(parse):
    """A click callback validating an option with ``parse`` (a ValueError is a
    usage error, exit 2, raised while parsing: before any store is opened or created)."""
    def callback(ctx, param, value):
        try:
            return parse(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return callback


@contextmanager
def _progress_bar(enabled: bool):
    """A rich progress bar on a terminal; a no-op callback elsewhere."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task("loading", total=None)

        def update(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=f"loading {name}")

        yield update


@click.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@store_options(create=True)
@click.option("--default-region", default="CN", show_default=True, callback=_checked(nz.parse_region),
              help="Region for local phone numbers of rows without a borrower region.")
@click.option("--default-timezone", default="UTC", show_default=True,
              callback=_checked(nz.parse_timezone),
              help="Timezone for naive times of rows without a borrower timezone.")
@click.option("--allow-extra-columns", is_flag=True, help="Ignore unknown columns instead of failing.")
@click.option("--max-errors", default=50, show_default=True, help="Stop after this many input errors.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar (default: when stderr is a terminal).")
@click.option("--on-error", type=click.Choice(["fail", "quarantine"]), default="fail",
              show_default=True,
              help="fail: any bad row fails the whole load (nothing is written). quarantine: "
                   "load the valid rows, leave out the bad ones (and the rows of a borrower whose "
                   "row was left out) and list them in --rejects FILE.")
@click.option("--rejects", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="With --on-error quarantine: write every rejected row here (CSV: file, line, "
                   "column, reason; cells masked).")
@click.option("--wait", type=click.FloatRange(min=0), default=30.0, show_default=True,
              metavar="SECONDS",
              help="SQLite: if another load is writing to the store, wait this long for it, then "
                   "give up (exit 2). Readers are never blocked by a load.")
@format_option("table", "json")
def load(directory, store, default_region, default_timezone, allow_extra_columns, max_errors,
         progress, on_error, rejects, wait, fmt):
    """Validate the input files in DIRECTORY and load them, all or nothing
    (or, with --on-error quarantine, all the valid rows)."""
    if (on_error == "quarantine") != (rejects is not None):
        raise click.UsageError("--on-error quarantine and --rejects FILE go together")
    store.write_wait = wait
    with _progress_bar(is_terminal() if progress is None else progress) as cb:
        report = load_lib(store, Path(directory), default_region=default_region,
                          default_timezone=default_timezone,
                          allow_extra_columns=allow_extra_columns, max_errors=max_errors,
                          progress=cb, on_error=on_error, rejects=rejects)
    if fmt == "json":
        emit_json({"directory": report.directory, "store": store.kind, "rows": report.rows,
                   "files": report.files, "ignored": report.ignored,
                   "seconds": round(report.seconds, 3),
                   "counts": report.counts.as_dict() if report.counts else None,
                   **({"rejected_rows": report.rejected_rows, "rejected_problems": len(report.rejected),
                       "rejects": report.rejects_file} if rejects else {})})
        return
    click.echo(f"loaded {report.rows - report.rejected_rows} rows from {len(report.files)} files "
               f"into {store.kind} in {report.seconds:.1f}s ({report.rows_per_second:,.0f} rows/s)")
    if rejects:
        click.echo(f"rejected {report.rejected_rows} rows ({len(report.rejected)} problems), "
                   f"listed in {report.rejects_file}")
    for name in report.ignored:
        click.echo(f"  ignored {name}: not an input file name")
    if report.counts:
        _print_counts(report.counts.as_dict())


def _print_counts(c: dict[str, dict[str, int]]) -> None:
    for section in ("nodes", "relationships", "ledger"):
        if c[section]:
            click.echo(f"{section}:")
            width = max(len(k) for k in c[section])
            for k, v in c[section].items():
                click.echo(f"  {k:<{width}}  {v:>12,}")


@click.command()
@store_options
@format_option("table", "json")
def stats(store, fmt):
    """Counts by node label, relationship type and ledger table."""
    counts = store.counts().as_dict()
    if fmt == "json":
        emit_json(counts)
    elif not any(counts.values()):
        click.echo("the store is empty")
    else:
        _print_counts(counts)


@click.group()
def schema():
    """The graph schema (constraints and indexes)."""


@schema.command("apply")
@store_options(create=True)
def schema_apply(store):
    """Create the constraints and indexes (idempotent); on Neo4j, wait until they are online
    (after a bulk import that populates them over the whole graph: minutes)."""
    store.apply_schema()
    click.echo(f"schema applied to {store.kind}")


@schema.command("show")
def schema_show():
    """Print the schema version and the Neo4j constraints."""
    import skiptrace_schema

    click.echo(f"schema version {skiptrace_schema.version()}")
    for stmt in skiptrace_schema.constraints_cypher():
        click.echo(stmt + ";")


@click.command()
@audited
@store_options
@click.option("--format", "fmt", type=click.Choice(["graphml", "json", "neo4j-import"]),
              default="graphml", show_default=True,
              help="graphml or json: one file, phones and names masked unless --reveal. "
                   "neo4j-import: a directory of CSV files for `neo4j-admin database import "
                   "full`, the bulk initial load of a Neo4j database, holding the whole store "
                   "(ledger included) UNMASKED: it is a data transfer, not a report.")
@click.option("-o", "--output", type=click.Path(), default="-",
              help="Output file (default stdout); for neo4j-import a new or empty directory.")
@click.option("--types", default=None, help="Comma-separated relationship types (default all; "
                                            "not with neo4j-import).")
@click.option("--reveal", is_flag=True, help="Show phone numbers and names unmasked "
                                             "(neo4j-import files always are).")
def export(store, fmt, output, types, reveal, audit):
    """Export the graph as GraphML (Gephi, yEd), JSON (node-link) or neo4j-admin import files.

    \b
    Bulk-loading a large book into Neo4j: load it into SQLite, then
      skiptrace export --db book.db --format neo4j-import -o DIR
      cd DIR && neo4j-admin database import full @neo4j-admin.args neo4j
      skiptrace schema apply --neo4j bolt://...   (constraints and indexes)
    """
    if fmt == "neo4j-import":
        if output == "-":
            raise click.UsageError("--format neo4j-import writes a directory: give it with -o DIR")
        if types:
            raise click.UsageError("--types does not apply to --format neo4j-import "
                                   "(it writes the whole store)")
        audit(store, ["*"], revealed=True)  # the files are unmasked
        res = neo4j_import.write_import_files(store, Path(output))
        click.echo(f"wrote {sum(res.nodes.values()):,} nodes, {sum(res.relationships.values()):,} "
                   f"relationships and {sum(res.ledger.values()):,} ledger rows "
                   f"({res.bytes / 1e6:,.1f} MB) to {output} in {res.seconds:.1f}s")
        click.echo(f"import (Neo4j stopped): cd {output} && {res.command()}")
        click.echo("then create constraints and indexes: skiptrace schema apply --neo4j URI")
        return
    if output != "-" and Path(output).is_dir():
        raise click.UsageError(f"{output} is a directory (only --format neo4j-import writes one)")
    type_list = [t.strip() for t in types.split(",")] if types else None
    audit(store, ["*"])
    with click.open_file(output, "w", encoding="utf-8") as out:
        n, m = export_lib.export(store, out, fmt=fmt, types=type_list, reveal=reveal)
    if output != "-":
        click.echo(f"wrote {n} nodes and {m} relationships to {output}", err=True)


ALL = [load, stats, schema, export, generate, find, rings, evaluate, train, score, plan, audit, serve,
       users, doctor]
