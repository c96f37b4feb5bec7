"""The weekly summary: one week of a person's or the couple's progress, in words.

What went well, what was hard, where the pace went and something to try next, as
plain sentences for the summary page. The pace is the couple's: where the two of you
have reached together (the decisions' ``ladder_tier``), named by its step in the
practice catalogue, never by a number; a person's own week has no pace of its own.
The thresholds come from the progress policy (``reconnect.domain.progress``); the
rules it shares with the markers are there too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from reconnect import localtime
from reconnect.domain.pacing.catalogue import load_catalogue
from reconnect.domain.progress.markers import (
    stayed_through_hard_conversation,
    was_seen_and_still_safe,
)
from reconnect.domain.progress.points import (
    CheckInPoint,
    ExperiencePoint,
    SharedExperience,
    TierPoint,
    setbacks,
)
from reconnect.domain.progress.policy import ProgressPolicy, load_progress_policy

__all__ = ["WeeklySummary", "weekly_summary"]


@dataclass(frozen=True)
class WeeklySummary:
    """One week in four parts, as data for the summary page.

    ``pace`` is ``None`` for one person's own week: the pace belongs to the couple,
    and is said once, in the couple's week. ``policy_version`` names the progress
    policy whose thresholds it used.
    """

    week_of: date
    went_well: tuple[str, ...]
    was_hard: tuple[str, ...]
    pace: str | None
    to_try: tuple[str, ...]
    policy_version: str = field(kw_only=True)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _name(tier: int) -> str:
    return load_catalogue().tier(tier).name


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _pace(before: Sequence[TierPoint], week: Sequence[TierPoint]) -> str:
    """Where the couple has reached together, and how that moved this week."""
    if not week:
        if not before:
            return (
                "Where you have reached together shows here once you have both "
                "checked in and the pace has been worked out."
            )
        return f"You stayed at “{_name(before[-1].tier)}” together this week."
    first = before[-1].tier if before else week[0].tier
    last = week[-1].tier
    if last > first:
        return f"Together you moved from “{_name(first)}” to “{_name(last)}” this week."
    if last < first:
        return (
            f"You went back from “{_name(first)}” to “{_name(last)}” this week, to "
            "steady things; going back a step is part of the path."
        )
    return f"You are at “{_name(last)}” together, as at the start of the week."


def weekly_summary(
    week_of: date,
    *,
    checkins: Sequence[CheckInPoint] = (),
    experiences: Sequence[ExperiencePoint | SharedExperience] = (),
    tiers: Sequence[TierPoint] = (),
    together: bool | None = None,
    policy: ProgressPolicy | None = None,
) -> WeeklySummary:
    """The week starting on the Monday of ``week_of``.

    For one person pass their own check-ins and ratings; for the couple pass shared
    experiences and ``tiers``, the changes of where they have reached together (the
    decisions' ``ladder_tier``), and no check-ins. ``together`` says whether this is
    the couple's week, which has the pace (by default: whether ``tiers`` are given).
    The thresholds come from ``policy``, the newest progress policy when none is given.
    """
    together = bool(tiers) if together is None else together
    policy = load_progress_policy() if policy is None else policy
    start = localtime.week_start(week_of)
    end = start + timedelta(days=7)
    week_checkins = [c for c in checkins if start <= c.day < end]
    week_experiences = [e for e in experiences if start <= e.day < end]
    ordered = sorted(tiers, key=lambda t: t.at)
    week_tiers = [t for t in ordered if start <= t.at.date() < end]
    before = [t for t in ordered if t.at.date() < start]

    went_well: list[str] = []
    was_hard: list[str] = []
    to_try: list[str] = []
    safe_days = {e.day for e in week_experiences if e.safe}
    # One person's half counts their own ratings, the couple's half what both felt:
    # the words say which, so the two halves never seem to disagree.
    if safe_days and together:
        went_well.append(f"Safe shared experiences on {_plural(len(safe_days), 'day')}.")
    elif safe_days:
        went_well.append(f"You felt safe in a shared practice on {_plural(len(safe_days), 'day')}.")
    stayed = [e for e in week_experiences if stayed_through_hard_conversation(e)]
    if stayed and together:
        went_well.append(f"{_plural(len(stayed), 'hard conversation')} without anyone leaving.")
    elif stayed:
        went_well.append(f"You stayed through {_plural(len(stayed), 'hard conversation')}.")
    if any(
        isinstance(e, ExperiencePoint) and was_seen_and_still_safe(e, policy)
        for e in week_experiences
    ):
        went_well.append("You shared something vulnerable and still felt safe.")
    if week_checkins:
        went_well.append(f"{_plural(len(week_checkins), 'check-in')} with yourself.")

    unsafe = [e for e in week_experiences if not e.safe]
    if unsafe:
        who = "to at least one of you" if together else "to you"
        was_hard.append(f"{_plural(len(unsafe), 'shared experience')} did not feel safe {who}.")
    left = [e for e in week_experiences if e.left]
    if left and together:
        was_hard.append(f"Someone left during {_plural(len(left), 'practice')}.")
    elif left:
        was_hard.append(f"You needed to step away during {_plural(len(left), 'practice')}.")
    high_days = {c.day for c in week_checkins if c.activation >= policy.summary_high_activation}
    if high_days:
        was_hard.append(f"High activation on {_plural(len(high_days), 'day')}.")
    week_setbacks = [p for p in setbacks([*before[-1:], *week_tiers]) if p.at.date() >= start]
    if together and week_setbacks:
        was_hard.append(f"You went back a step together {_times(len(week_setbacks))}.")

    pace = _pace(before, week_tiers) if together else None

    if high_days or (together and week_setbacks):
        to_try.append(f"Start each day with a few minutes of {_name(0).lower()}.")
    if any(c.urgency > c.readiness for c in week_checkins):
        to_try.append("When the pull to reconnect is strong, notice it and check readiness first.")
    if len(safe_days) < 2:
        to_try.append("Aim for short, safe practices on two or three separate days.")
    if not to_try:
        to_try.append("Keep the rhythm: repeated safe days matter more than big steps.")
    return WeeklySummary(
        start,
        tuple(went_well),
        tuple(was_hard),
        pace,
        tuple(to_try),
        policy_version=policy.version,
    )
