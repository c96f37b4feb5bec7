"""``reconnect simulate``: replay a couple's story through the pacing engine, with no
database (docs/simulate.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconnect.pacing import simulate


@click.command("simulate")
@click.argument("story", type=click.Path(dir_okay=False))
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False),
    help="A pacing policy TOML file (laid out like domain/pacing/policies/v3.toml) to use "
    "instead of the story's own.",
)
@click.option("--json", "as_json", is_flag=True, help='Print {"timeline": [...]} as JSON.')
def simulate_command(story: str, policy_file: str | None, as_json: bool) -> None:
    """Replay a couple's STORY (a TOML file) through the pacing engine.

    Every check-in, practice, pause and flood goes through the same signals and the
    same decide() the app uses, with no database. Prints the pace after each entry
    and at each probe, in the story's local time. A malformed story is one line on
    stderr and exit status 2; an [[expect]] the replay does not meet is named on
    stderr with exit status 1. The format is in docs/simulate.md.
    """

    try:
        policy = simulate.load_policy_file(Path(policy_file)) if policy_file else None
        loaded = simulate.load_story(Path(story), policy=policy)
        moments = simulate.replay(loaded)
        failures = simulate.check(loaded)
    except simulate.StoryError as error:
        click.echo(f"reconnect simulate: {error}", err=True)
        sys.exit(2)
    except ValueError as error:  # the engine refused a history the story built
        click.echo(f"reconnect simulate: {story}: {error}", err=True)
        sys.exit(2)
    shown = simulate.timeline_json(loaded, moments) if as_json else simulate.table(loaded, moments)
    click.echo(shown)
    for failure in failures:
        click.echo(f"reconnect simulate: {story}: {failure}", err=True)
    if failures:
        sys.exit(1)
