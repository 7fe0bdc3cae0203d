"""`skiptrace audit`: the store's audit trail of lookups and reveals (thin over skiptrace.audit)."""
from __future__ import annotations

import click

from skiptrace import audit as audit_lib
from skiptrace_cli.common import emit_json, format_option, store_options


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("action", required=False, type=click.Choice(["list"]), metavar="[list]")
@store_options
@click.option("--since", default=None, metavar="T",
              help="Only records at or after T: an ISO date/time (UTC when naive) or a span back "
                   "from now (30m, 24h, 7d).")
@click.option("--actor", default=None, help="Only this actor's records.")
@click.option("--borrower", "subject", default=None, metavar="ID",
              help="Only records that looked up this borrower (or ring) id.")
@format_option("table", "json")
def audit(action, store, since, actor, subject, fmt):
    """List who looked up whom, when, why, and whether personal data was revealed.

    `skiptrace audit list [...]` and `skiptrace audit [...]` are the same command.
    """
    found = audit_lib.events(store, since=since, actor=actor, subject=subject)
    if fmt == "json":
        emit_json({"audit": [e.to_dict() for e in found]})
        return
    if not found:
        click.echo("no audit records")
        return
    for e in found:
        subjects = ", ".join(e.subjects[:5]) + (f" (+{len(e.subjects) - 5})" if len(e.subjects) > 5 else "")
        shown = "REVEALED" if e.revealed else "masked"
        why = f"  purpose: {e.purpose}" if e.purpose else ""
        click.echo(f"{e.at[:19]}Z  {e.actor:<12} {e.command:<13} {shown:<8} {subjects}{why}")
