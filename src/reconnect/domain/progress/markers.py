"""The three markers of slow change (principle P6), as plain sentences.

Each marker reads its thresholds from a :class:`ProgressPolicy` (the newest when none
is given) and names that policy's version. The two rules the weekly summary shares
with the markers (a vulnerable share that still felt safe, a hard conversation nobody
left) are here too, so both always count the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum

from reconnect.domain.pacing.checkins import State
from reconnect.domain.progress.points import (
    HARD_CONVERSATION_TIER,
    TRANSPARENCY_TIER,
    CheckInPoint,
    ExperiencePoint,
    TierAndLeft,
)
from reconnect.domain.progress.policy import ProgressPolicy, load_progress_policy

__all__ = [
    "Marker",
    "Trend",
    "pain_without_losing_connection",
    "protection_less_often",
    "seen_and_still_safe",
    "stayed_through_hard_conversation",
    "was_seen_and_still_safe",
]


class Trend(Enum):
    LESS_OFTEN = "less_often"
    ABOUT_THE_SAME = "about_the_same"
    MORE_OFTEN = "more_often"
    NOT_ENOUGH_DATA = "not_enough_data"


@dataclass(frozen=True)
class Marker:
    """One P6 marker as a plain sentence, with the count or trend and its dates.

    ``policy_version`` names the progress policy whose thresholds made it.
    """

    key: str
    sentence: str
    count: int
    dates: tuple[date, ...]
    trend: Trend | None = None
    policy_version: str = field(kw_only=True)


def _policy(policy: ProgressPolicy | None) -> ProgressPolicy:
    return load_progress_policy() if policy is None else policy


def was_seen_and_still_safe(experience: ExperiencePoint, policy: ProgressPolicy) -> bool:
    """A tier-3 vulnerable share rated felt safety at least the policy's minimum."""
    return (
        experience.tier == TRANSPARENCY_TIER
        and experience.vulnerable_share
        and experience.safety >= policy.seen_safe_min_safety
    )


def stayed_through_hard_conversation(experience: TierAndLeft) -> bool:
    """A tier-4 hard conversation that nobody left."""
    return experience.tier == HARD_CONVERSATION_TIER and not experience.left


def seen_and_still_safe(
    experiences: Sequence[ExperiencePoint], policy: ProgressPolicy | None = None
) -> Marker:
    """Tier-3 experiences with a vulnerable share, rated safety at least
    ``seen_and_still_safe.min_safety`` (6 in v1)."""
    policy = _policy(policy)
    days = tuple(sorted(e.day for e in experiences if was_seen_and_still_safe(e, policy)))
    if days:
        times = "once" if len(days) == 1 else f"{len(days)} times"
        sentence = f"You shared something vulnerable and still felt safe {times}."
    else:
        sentence = "Sharing something vulnerable and still feeling safe has not happened yet."
    return Marker("seen-and-still-safe", sentence, len(days), days, policy_version=policy.version)


def pain_without_losing_connection(
    experiences: Sequence[TierAndLeft],
    *,
    own: bool = False,
    policy: ProgressPolicy | None = None,
) -> Marker:
    """Tier-4 hard conversations where nobody left.

    For the couple pass :class:`SharedExperience` (``left``: either partner left).
    For one person's page pass their :class:`ExperiencePoint` with ``own=True``:
    their rating only says whether *they* stayed, and the sentence says just that.
    """
    policy = _policy(policy)
    days = tuple(sorted(e.day for e in experiences if stayed_through_hard_conversation(e)))
    times = "once" if len(days) == 1 else f"{len(days)} times"
    if days and own:
        sentence = f"You stayed present through a hard conversation {times}."
    elif days:
        sentence = f"Pain was expressed in a hard conversation and nobody left, {times}."
    elif own:
        sentence = "Staying present through a hard conversation has not happened yet."
    else:
        sentence = "A hard conversation where nobody left has not happened yet."
    return Marker(
        "pain-without-losing-connection",
        sentence,
        len(days),
        days,
        policy_version=policy.version,
    )


def protection_less_often(
    checkins: Sequence[CheckInPoint], today: date, policy: ProgressPolicy | None = None
) -> Marker:
    """Share of check-ins outside the settled state: the latest window against the one
    before (4 weeks each in v1).

    The latest window is the ``protection.window_days`` days ending ``today``. Each
    window needs at least ``protection.min_checkins`` check-ins; the share has to move
    by at least ``protection.margin_points`` percentage points to count as a change.
    ``count`` is the number of check-ins outside the settled state in the latest
    window; ``dates`` are their days.
    """
    policy = _policy(policy)
    window = policy.protection_window
    latest_start, previous_start = (
        today - window + timedelta(days=1),
        today - 2 * window + timedelta(days=1),
    )
    latest = [c for c in checkins if latest_start <= c.day <= today]
    previous = [c for c in checkins if previous_start <= c.day < latest_start]
    unsettled = sorted(c.day for c in latest if c.state is not State.SETTLED)
    key = "protection-less-often"
    minimum = policy.protection_min_checkins
    if len(latest) < minimum or len(previous) < minimum:
        sentence = "It is too early to say whether protection is less often the default."
        return Marker(
            key,
            sentence,
            len(unsettled),
            tuple(unsettled),
            Trend.NOT_ENOUGH_DATA,
            policy_version=policy.version,
        )
    share_now = len(unsettled) / len(latest)
    share_before = sum(1 for c in previous if c.state is not State.SETTLED) / len(previous)
    percent = f"{round(share_now * 100)}% of check-ins (from {round(share_before * 100)}%)"
    # Rounded so that exactly the margin counts (0.6 - 0.5 is not 0.1 in floats).
    change = round(share_now - share_before, 9)
    margin = policy.protection_margin
    if change <= -margin:
        trend = Trend.LESS_OFTEN
        sentence = f"Protection is less often the default: revved up or shut down in {percent}."
    elif change >= margin:
        trend = Trend.MORE_OFTEN
        sentence = f"Protection has been needed more often lately: {percent}."
    else:
        trend = Trend.ABOUT_THE_SAME
        sentence = f"Protection is needed about as often as before: {percent}."
    return Marker(
        key, sentence, len(unsettled), tuple(unsettled), trend, policy_version=policy.version
    )
