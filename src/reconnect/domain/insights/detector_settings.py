"""Every threshold and window of the detectors, from ``data/detectors.toml``.

:func:`load_detector_settings` reads one version of the file (the newest by
default) and checks every value; a problem raises :class:`InvalidDetectorSettings`.
:func:`history_needed_since` says how far back any detector reads.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "AffectionBypassSettings",
    "AvoidingConversationsSettings",
    "DetectorSettings",
    "InvalidDetectorSettings",
    "MinimizingSettings",
    "PressuringForgivenessSettings",
    "PretendingOkaySettings",
    "RushingIntimacySettings",
    "UrgencyReadinessSettings",
    "history_needed_since",
    "load_detector_settings",
    "settings_from_mapping",
    "settings_or_default",
    "words_needed_since",
]


class InvalidDetectorSettings(ValueError):
    """``detectors.toml`` or ``minimizing.toml`` is missing a key or holds a bad value."""


@dataclass(frozen=True)
class RushingIntimacySettings:
    min_tier: int
    lookback_days: int


@dataclass(frozen=True)
class MinimizingSettings:
    lookback_days: int
    notable_count: int


@dataclass(frozen=True)
class AvoidingConversationsSettings:
    quiet_days: int
    min_tier: int
    allowed_percent: int
    conversation_tier: int
    recent_tries: int
    left_tries: int
    tries_lookback_days: int


@dataclass(frozen=True)
class PressuringForgivenessSettings:
    lookback_days: int
    after_decline_days: int
    accepted_lookback_days: int
    words_lookback_days: int


@dataclass(frozen=True)
class PretendingOkaySettings:
    lookback_days: int
    okay_activation_min: int
    safe_rating_min: int
    activation_rise_min: int
    notable_count: int


@dataclass(frozen=True)
class AffectionBypassSettings:
    min_tier: int
    conversation_tier: int
    within_hours: int
    ended_activation_min: int
    lookback_days: int


@dataclass(frozen=True)
class UrgencyReadinessSettings:
    gap_min: int
    recent_checkins: int
    flagged_min: int
    lookback_days: int


@dataclass(frozen=True)
class DetectorSettings:
    """Every threshold and window of the detectors; one version of detectors.toml."""

    version: str
    rushing_intimacy: RushingIntimacySettings
    minimizing: MinimizingSettings
    avoiding_conversations: AvoidingConversationsSettings
    pressuring_forgiveness: PressuringForgivenessSettings
    pretending_okay: PretendingOkaySettings
    affection_bypass: AffectionBypassSettings
    urgency_readiness: UrgencyReadinessSettings

    def __post_init__(self) -> None:
        problems = _setting_problems(self)
        if problems:
            raise InvalidDetectorSettings(f"detectors {self.version}: " + "; ".join(problems))


_SECTIONS: dict[str, type[Any]] = {
    "rushing_intimacy": RushingIntimacySettings,
    "minimizing": MinimizingSettings,
    "avoiding_conversations": AvoidingConversationsSettings,
    "pressuring_forgiveness": PressuringForgivenessSettings,
    "pretending_okay": PretendingOkaySettings,
    "affection_bypass": AffectionBypassSettings,
    "urgency_readiness": UrgencyReadinessSettings,
}
_VERSION = re.compile(r"v(\d+)")


def _setting_problems(settings: DetectorSettings) -> list[str]:
    found: list[str] = []
    for name in _SECTIONS:
        section = getattr(settings, name)
        for key, value in vars(section).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                found.append(f"{name}.{key} must be a whole number >= 0")
            elif key.endswith(("_days", "_hours")) and value < 1:
                found.append(f"{name}.{key} must be at least 1")
    if found:
        return found
    for name in ("rushing_intimacy", "affection_bypass"):
        if not 1 <= getattr(settings, name).min_tier <= 6:
            found.append(f"{name}.min_tier must be from 1 to 6")
    avoiding = settings.avoiding_conversations
    if not 0 <= avoiding.allowed_percent < 100:
        found.append("avoiding_conversations.allowed_percent must be from 0 to 99")
    if not 1 <= avoiding.left_tries <= avoiding.recent_tries:
        found.append("avoiding_conversations needs 1 <= left_tries <= recent_tries")
    urgency = settings.urgency_readiness
    if not 1 <= urgency.flagged_min <= urgency.recent_checkins:
        found.append("urgency_readiness needs 1 <= flagged_min <= recent_checkins")
    if not 1 <= urgency.gap_min <= 10:
        found.append("urgency_readiness.gap_min must be from 1 to 10")
    okay = settings.pretending_okay
    for key in ("okay_activation_min", "safe_rating_min", "activation_rise_min"):
        if not 1 <= getattr(okay, key) <= 10:
            found.append(f"pretending_okay.{key} must be from 1 to 10")
    if not 1 <= settings.affection_bypass.ended_activation_min <= 10:
        found.append("affection_bypass.ended_activation_min must be from 1 to 10")
    return found


def settings_from_mapping(version: str, table: Mapping[str, Any]) -> DetectorSettings:
    """Build settings from one version's table; raises :class:`InvalidDetectorSettings`."""
    sections: dict[str, Any] = {}
    for name, kind in _SECTIONS.items():
        section = table.get(name)
        if not isinstance(section, dict):
            raise InvalidDetectorSettings(f"detectors {version}: [{name}] is missing")
        wanted = set(kind.__dataclass_fields__)
        missing, unknown = wanted - section.keys(), section.keys() - wanted
        if missing or unknown:
            raise InvalidDetectorSettings(
                f"detectors {version}: [{name}] "
                + (f"is missing {sorted(missing)}" if missing else f"has unknown {sorted(unknown)}")
            )
        sections[name] = kind(**section)
    return DetectorSettings(version=version, **sections)


@cache
def load_detector_settings(version: str | None = None) -> DetectorSettings:
    """One version of ``data/detectors.toml``; the newest when ``version`` is None."""
    path = resources.files("reconnect.domain.insights").joinpath("data", "detectors.toml")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    versions = sorted((v for v in data if _VERSION.fullmatch(v)), key=lambda v: int(v[1:]))
    if not versions:
        raise InvalidDetectorSettings("detectors.toml holds no version table")
    chosen = versions[-1] if version is None else version
    if chosen not in versions:
        raise InvalidDetectorSettings(
            f"no detector settings called {chosen!r}; known: {', '.join(versions)}"
        )
    return settings_from_mapping(chosen, data[chosen])


def history_needed_since(now: datetime, settings: DetectorSettings | None = None) -> datetime:
    """The earliest time any detector reads at ``now``.

    Storage may pass only entries from this time on, plus the last
    :class:`~reconnect.domain.insights.couple_record.PermittedTier` before it (the
    pace in force when the window opened).
    """
    s = settings if settings is not None else load_detector_settings()
    pf = s.pressuring_forgiveness
    days = max(
        s.rushing_intimacy.lookback_days,
        s.minimizing.lookback_days,
        s.avoiding_conversations.quiet_days,
        s.avoiding_conversations.tries_lookback_days,
        pf.lookback_days + max(pf.accepted_lookback_days, pf.after_decline_days),
        pf.words_lookback_days,
        s.pretending_okay.lookback_days + 1,
        s.affection_bypass.lookback_days + 1 + s.affection_bypass.within_hours // 24,
        s.urgency_readiness.lookback_days,
    )
    return now - timedelta(days=days)


def words_needed_since(now: datetime, settings: DetectorSettings | None = None) -> datetime:
    """The earliest time a detector reads shared words (notes) at ``now``: the word
    windows are shorter than the others, and notes are what one person can write most."""
    s = settings if settings is not None else load_detector_settings()
    days = max(s.minimizing.lookback_days, s.pressuring_forgiveness.words_lookback_days)
    return now - timedelta(days=days)


def settings_or_default(settings: DetectorSettings | None) -> DetectorSettings:
    """The settings given, or the newest shipped ones."""
    return settings if settings is not None else load_detector_settings()
