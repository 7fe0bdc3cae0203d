"""`skiptrace doctor`: check a store's health and remove what dead loads left (thin over
skiptrace.store.health)."""
from __future__ import annotations

import click

from skiptrace.store.health import doctor as doctor_lib
from skiptrace_cli.common import emit_json, format_option, store_options


@click.command()
@store_options
@click.option("--check-only", is_flag=True, help="Report only; remove nothing.")
@format_option("table", "json")
def doctor(store, check_only, fmt):
    """Check the store: schema version, constraints and indexes online, loads running or
    left unpublished, scratch files of dead loads (removed unless --check-only).

    Exit 0 when every check passes, 3 when one does not.
    """
    health = doctor_lib(store, repair=not check_only)
    if fmt == "json":
        emit_json(health.to_dict())
    else:
        click.echo(health.store)
        width = max(len(c.name) for c in health.checks)
        for c in health.checks:
            click.echo(f"  {'ok ' if c.ok else 'BAD'}  {c.name:<{width}}  {c.detail}")
        for path in health.removed:
            click.echo(f"  removed {path}")
        click.echo("healthy" if health.ok else "problems found")
    if not health.ok:
        raise click.exceptions.Exit(3)
