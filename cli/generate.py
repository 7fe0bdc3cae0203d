"""`skiptrace generate`: write a synthetic lending world with ground truth."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

from skiptrace.generate import DEFAULT_AS_OF, Knobs, world


def _knob(values: tuple[str, ...]) -> dict[str, Any]:
    """Parse ``NAME=VALUE`` pairs (VALUE as JSON, e.g. 0.2, true, [3,8])."""
    out: dict[str, Any] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--knob")
        try:
            out[name.strip().replace("-", "_")] = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"{name}: value {raw!r} is not a number, bool or [low,high]",
                                     param_hint="--knob") from exc
    return out


@click.command("generate")
@click.option("--borrowers", "n", type=click.IntRange(min=50), required=True, help="Number of borrowers.")
@click.option("--seed", type=click.IntRange(min=0), required=True, help="Random seed (same seed, same bytes).")
@click.option("--out", "out", type=click.Path(file_okay=False), required=True, help="Output directory.")
@click.option("--region", type=click.Choice(["CN", "US"], case_sensitive=False), default="CN", show_default=True,
              help="Number plan, time zones and names.")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=DEFAULT_AS_OF.isoformat(),
              show_default=True, help="The world's 'now' (a date).")
@click.option("--preset", type=click.Choice(["default", "legacy"]), default="default", show_default=True,
              help="Knob preset: the realistic world, or the pre-realism (issue 11) one; options and --knob override it.")
@click.option("--phonebook-max", type=click.IntRange(min=5), default=None,
              help=f"Cap on phonebook size [default: {Knobs().phonebook_max}].")
@click.option("--delinquent-share", type=click.FloatRange(0, 1), default=None,
              help=f"Share of delinquent borrowers [default: {Knobs().delinquent_share}].")
@click.option("--lost-contact-share", type=click.FloatRange(0, 1), default=None,
              help=f"Share of delinquent borrowers out of contact [default: {Knobs().lost_contact_share}].")
@click.option("--knob", "knobs", multiple=True, metavar="NAME=VALUE",
              help="Any other knob of skiptrace.generate.Knobs (see docs/generator.md); repeatable.")
def generate(n: int, seed: int, out: str, region: str, as_of: dt.datetime, preset: str, phonebook_max: int | None,
             delinquent_share: float | None, lost_contact_share: float | None, knobs: tuple[str, ...]) -> None:
    """Write a synthetic lending world (contract layout plus truth/) to OUT."""
    extra = _knob(knobs)
    for name, value in (("phonebook_max", phonebook_max), ("delinquent_share", delinquent_share),
                        ("lost_contact_share", lost_contact_share)):
        if value is not None:
            extra[name] = value
    try:
        summary = world(n, seed, out, region=region.upper(), as_of=as_of.date(), preset=preset, **extra)
    except (ValueError, TypeError) as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"wrote {summary.out_dir}: {summary.n_borrowers} borrowers, region {summary.region}, "
               f"as of {summary.as_of}, seed {summary.seed}")
    width = max(len(k) for k in summary.counts)
    for name, rows in summary.counts.items():
        click.echo(f"  {name:<{width}}  {rows:>12,}")
    click.echo(f"  rings {summary.rings}, benign groups {summary.benign_groups}, lost contact {summary.lost_contact}")
    r = summary.realised
    click.echo(f"  call clustering {r['call_clustering']}, phonebook median {r['phonebook_median']:g}, "
               f"lost new numbers seen with the old circle {r['lost_new_number_visible_with_old_circle_share']}, "
               f"status coverage {r['phone_status_coverage']}, fake emergency contacts {r['fake_emergency_share']}")
    click.echo(f"  fraud rings open over {r['fraud_open_span_days_median']:g} days (median), largest identifier covers "
               f"{r['fraud_largest_identifier_cover_share']} of a ring, agent listings by ring members "
               f"{r['agent_listings_by_ring_members_share']}, families opening together {r['families_opening_together']}, "
               f"promotion members {r['promotion_members']}")
    click.echo(f"  response model {summary.knobs['response_model']}: best action = its (segment, state) cell's most "
               f"common for {r['best_action_modal_share']} of delinquent borrowers, a legal letter for "
               f"{r['best_action_legal_letter_share']}")
