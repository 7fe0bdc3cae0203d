"""`skiptrace serve` (the web console) and `skiptrace users` (its users file): thin over
skiptrace.console."""
from __future__ import annotations

import click

from skiptrace.console.users import ROLES, USERS_ENV
from skiptrace_cli.common import policy_option, store_options


@click.command()
@store_options(snapshot=False)  # each request reads the latest published state, not the start's
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the default serves this machine only).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--users", "users_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help=f"The users file (default ${USERS_ENV}); write it with `skiptrace users add`.")
@click.option("--cscore", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A C-score model (`skiptrace score fit`) for the plan pages.")
@click.option("--region", default="CN", show_default=True,
              help="Region for phone searches written without +country code.")
@click.option("--https-only", is_flag=True,
              help="Mark the session cookie Secure (when a TLS proxy is in front).")
@click.option("--login-failures", default=5, show_default=True, type=click.IntRange(1),
              help="Failed logins per user name within --login-window before it is locked.")
@click.option("--login-address-failures", default=20, show_default=True, type=click.IntRange(0),
              help="Failed logins per client address within --login-window before it is locked "
                   "(0: no limit by address, e.g. behind a proxy that hides them).")
@click.option("--login-window", default=900, show_default=True, type=click.IntRange(1),
              metavar="SECONDS", help="How long a failed login counts.")
@click.option("--login-lockout", default=60, show_default=True, type=click.IntRange(1),
              metavar="SECONDS",
              help="The first lock; it doubles with each further failure, up to an hour.")
@policy_option(default="auto")
def serve(store, host, port, users_file, cscore, region, https_only, login_failures,
          login_address_failures, login_window, login_lockout, policy):
    """Serve the web console: search, borrowers, rings, plans and the audit trail."""
    import uvicorn

    from skiptrace.console import create_app, load_users
    from skiptrace.console.throttle import LoginThrottle

    throttle = LoginThrottle(max_failures=login_failures,
                             max_failures_per_address=login_address_failures,
                             window=login_window, lockout=login_lockout,
                             max_lockout=max(3600, login_lockout))
    app = create_app(store, load_users(users_file), cscore=cscore, region=region, policy=policy,
                     https_only=https_only, throttle=throttle)
    click.echo(f"skiptrace console on http://{host}:{port}/ ({store.kind} store)", err=True)
    # no access log: its URLs carry searched phone numbers (?q=...) unmasked
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                server_header=False)


@click.group()
def users():
    """The console's users file: names, roles, hashed passwords."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="investigator: may reveal; analyst: masked only; auditor: the audit trail.")
@click.option("--file", "path", type=click.Path(dir_okay=False), required=True,
              help="The users file (created if missing, mode 0600).")
@click.password_option(envvar="SKIPTRACE_CONSOLE_PASSWORD",
                       help="The password (prompted; or $SKIPTRACE_CONSOLE_PASSWORD).")
def users_add(name, role, path, password):
    """Add NAME (or set its role and password) in the users file."""
    from skiptrace.console.users import add_user

    add_user(path, name, role, password)
    click.echo(f"{name} ({role}) written to {path}")



