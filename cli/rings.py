"""`skiptrace rings`: detect, list, show and export rings (thin over skiptrace.rings)."""
from __future__ import annotations

from contextlib import contextmanager

import click

from skiptrace import rings as rings_lib
from skiptrace.errors import SkiptraceError
from skiptrace.privacy import store_key
from skiptrace.rings.detect import ENGINES, DetectConfig
from skiptrace.rings.model import TYPOLOGIES, Ring
from skiptrace.rings.project import ProjectionConfig, read_benign
from skiptrace_cli.common import audited, emit_json, format_option, is_terminal, store_options


@contextmanager
def _steps(enabled: bool):
    """A spinner naming the current step on a terminal; a no-op callback elsewhere."""
    if not enabled:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  transient=True) as bar:
        task = bar.add_task("rings", total=None)
        yield lambda step: bar.update(task, description=f"rings: {step}")


def _key(store, reveal: bool):
    """The store's pseudonym key for masked output (none needed with --reveal)."""
    return None if reveal else store_key(store)


def _table(rings: list[Ring], reveal: bool, key=None) -> None:
    if not rings:
        click.echo("no rings")
        return
    click.echo(f"{'ring':<14} {'typology':<16} {'risk':>5} {'size':>5}  binding")
    for r in rings:
        top = ", ".join(f"{b.kind} {b.masked_value(reveal, key)} x{b.members}" for b in r.binding[:3])
        click.echo(f"{r.ring_id:<14} {r.typology:<16} {r.risk:5.2f} {r.size:5d}  {top}")


def _select(rings: list[Ring], min_risk: float, typology: str | None, all_: bool) -> list[Ring]:
    return rings_lib.select(rings, min_risk=min_risk, typology=typology, include_unflagged=all_)


_filters = [
    click.option("--min-risk", type=click.FloatRange(0, 1), default=0.0, show_default=True,
                 help="Only rings at or above this risk."),
    click.option("--typology", type=click.Choice(TYPOLOGIES), default=None, help="Only rings of this typology."),
    click.option("--all", "all_", is_flag=True,
                 help="Also household and unknown groups (by default only fraud and anti_collection)."),
    click.option("--reveal", is_flag=True, help="Show phones, addresses and employers unmasked."),
]


def _with_filters(fn):
    for opt in reversed(_filters):
        fn = opt(fn)
    return fn


@click.group()
def rings() -> None:
    """Anti-collection and fraud rings: detect, list, show, export."""


@rings.command()
@audited
@store_options
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the community step.")
@click.option("--save/--no-save", default=True, show_default=True,
              help="Replace the rings stored in the store with the new ones.")
@click.option("--progress/--no-progress", default=None,
              help="Show the current step (default: when stderr is a terminal).")
@click.option("--benign", "benign_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CSV of known-benign identifiers (kind,value: a courier's phone, a dormitory's "
                   "address key, a cafe's device) that bind no ring.")
@click.option("--engine", type=click.Choice(ENGINES), default="python", show_default=True,
              help="Where the whole-graph steps run.")
@_with_filters
@format_option("table", "json")
def detect(store, seed, save, progress, benign_file, engine, min_risk, typology, all_, reveal, fmt,
           audit):
    """Detect rings in the whole store, store them (MEMBER_OF) and print them."""
    config = None
    if benign_file:
        config = DetectConfig(projection=ProjectionConfig(benign=read_benign(benign_file)))
    with _steps(is_terminal() if progress is None else progress) as cb:
        found = rings_lib.detect(store, seed=seed, config=config, engine=engine, progress=cb)
        if save:
            rings_lib.save(store, found, seed=seed)
    shown = _select(found, min_risk, typology, all_)
    audit(store, [r.ring_id for r in shown])
    key = _key(store, reveal)
    if fmt == "json":
        emit_json({"rings": [r.to_json(reveal=reveal, key=key) for r in shown]})
        return
    _table(shown, reveal, key)
    flagged = sum(r.flagged for r in found)
    click.echo(f"{len(found)} groups, {flagged} flagged"
               + (f"; stored in the {store.kind} store" if save else "; not stored (--no-save)"), err=True)


@rings.command(name="list")
@audited
@store_options
@_with_filters
@format_option("table", "json")
def list_(store, min_risk, typology, all_, reveal, fmt, audit):
    """List the rings stored by the last `rings detect`."""
    shown = _select(rings_lib.load(store), min_risk, typology, all_)
    audit(store, [r.ring_id for r in shown])
    key = _key(store, reveal)
    if fmt == "json":
        emit_json({"rings": [r.to_json(reveal=reveal, key=key) for r in shown]})
        return
    _table(shown, reveal, key)


def _get(store, ring_id: str) -> Ring:
    ring = rings_lib.get(store, ring_id)
    if ring is None:
        raise SkiptraceError(f"no ring {ring_id!r} in the store (run `skiptrace rings detect` first, "
                             f"or see `skiptrace rings list`)")
    return ring


@rings.command()
@audited
@store_options
@click.argument("ring_id")
@click.option("--reveal", is_flag=True, help="Show phones, addresses and employers unmasked.")
@format_option("table", "json")
def show(store, ring_id, reveal, fmt, audit):
    """One ring: members, binding identifiers, agents, features and evidence."""
    audit(store, [ring_id])
    ring = _get(store, ring_id)
    data = ring.to_json(reveal=reveal, key=_key(store, reveal))
    if fmt == "json":
        emit_json(data)
        return
    click.echo(f"{data['ring_id']}  {data['typology']}  risk {data['risk']:.2f}  {data['size']} members")
    click.echo("members: " + ", ".join(data["members"]))
    if data["agents"]:
        click.echo("agents: " + ", ".join(data["agents"]))
    if data["onset_window"]:
        click.echo(f"default onsets: {data['onset_window'][0]} to {data['onset_window'][1]}")
    click.echo("binding:")
    for b in data["binding"]:
        click.echo(f"  {b['kind']:<13} {b['value']}  ({b['members']} members)")
    click.echo("evidence:")
    for s in data["evidence"]:
        click.echo(f"  - {s}")
    click.echo("features: " + ", ".join(f"{k} {v}" for k, v in data["features"].items()))


@rings.command()
@audited
@store_options
@click.argument("ring_id")
@click.option("--format", "fmt", type=click.Choice(["html", "graphml", "json"]), default="html",
              show_default=True, help="html: a self-contained page that draws the ring (no network).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="-", help="Output file (default stdout).")
@click.option("--reveal", is_flag=True, help="Show phones, addresses, employers and names unmasked.")
def export(store, ring_id, fmt, output, reveal, audit):
    """Export one ring with its members, binding identifiers and agents."""
    from skiptrace.rings import render
    from skiptrace.rings.view import ring_view

    audit(store, [ring_id])
    view = ring_view(store, _get(store, ring_id), reveal=reveal)
    with click.open_file(output, "w", encoding="utf-8") as out:
        if fmt == "html":
            out.write(render.ring_html(view))
        elif fmt == "graphml":
            out.write(render.ring_graphml(view))
        else:
            import json

            json.dump(render.ring_json(view), out, ensure_ascii=False, indent=2)
            out.write("\n")
    if output != "-":
        click.echo(f"wrote ring {ring_id} ({len(view['nodes'])} nodes, {len(view['links'])} links) to {output}",
                   err=True)
