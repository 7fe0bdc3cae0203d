"""The `skiptrace` command: a thin click layer over the library.

Exit codes: 0 ok; 2 bad input or usage (one-line reason, no traceback);
3 a batch finished but some of its items failed (``find --borrowers-file``);
1 internal error (set SKIPTRACE_DEBUG=1 for the traceback).
"""
from __future__ import annotations

import logging
import os
import sys

import click

from skiptrace import __version__
from skiptrace.errors import InputError, SkiptraceError
from skiptrace_cli import commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="skiptrace")
@click.option("-v", "--verbose", is_flag=True, help="Log progress details to stderr.")
def cli(verbose: bool) -> None:
    """Graph-based skip-tracing and contact discovery for collections."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # the Neo4j driver logs every retry and dropped connection as a multi-line
    # warning; the store says what happens in one line of its own
    logging.getLogger("neo4j").setLevel(logging.INFO if verbose else logging.CRITICAL)


for command in commands.ALL:
    cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    try:
        rv = cli.main(args=argv, prog_name="skiptrace", standalone_mode=False)
        return rv if type(rv) is int else 0  # click.exceptions.Exit(code) returns its code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 2
    except click.UsageError as exc:  # one line: what is wrong and where to look
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        click.echo(f"error: {exc.format_message()}{hint}", err=True)
        return 2
    except click.ClickException as exc:
        exc.show()
        return 2
    except InputError as exc:
        click.echo(f"error: {exc.total} input error(s); nothing was written", err=True)
        for p in exc.problems:
            click.echo(f"  {p}", err=True)
        more = exc.total - len(exc.problems)
        if more > 0:
            click.echo(f"  ... and {more} more", err=True)
        if exc.stopped:
            click.echo(f"  (stopped reading after {len(exc.problems)} errors)", err=True)
        return 2
    except SkiptraceError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("SKIPTRACE_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} "
                   "(set SKIPTRACE_DEBUG=1 for a traceback)", err=True)
        return 1


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
