"""The progress policy: every threshold of the progress markers, as versioned data.

Policies live in ``domain/progress/policies/<version>.toml``. A version is never edited
once markers were shown under it; a new behaviour gets a new file, and
:func:`load_progress_policy` without a version returns the newest. This is separate
from the pacing policy: it decides what the progress pages count, never the pace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from reconnect.domain.versions import available_versions, is_version, read_version

__all__ = [
    "InvalidProgressPolicy",
    "ProgressPolicy",
    "UnknownProgressPolicy",
    "available_progress_policies",
    "load_progress_policy",
    "progress_policy_from_mapping",
]


class InvalidProgressPolicy(ValueError):
    """A progress policy file is missing a key or holds a value the rules cannot use."""


class UnknownProgressPolicy(LookupError):
    """No progress policy file exists for the requested version."""


@dataclass(frozen=True)
class ProgressPolicy:
    """All numbers the progress markers and the weekly summary use.

    See docs/progress.md for each one.
    """

    version: str
    # Was seen and still felt safe: felt safety rated at least this after a share.
    seen_safe_min_safety: int
    # Protection less often the default: two windows of this many days are compared,
    # each needs this many check-ins, and the share must move by at least the margin.
    protection_window_days: int
    protection_min_checkins: int
    protection_margin_points: int
    # The weekly summary: a day with activation at or above this was a hard one.
    summary_high_activation: int

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise InvalidProgressPolicy(f"progress policy {self.version}: " + "; ".join(problems))

    @property
    def protection_window(self) -> timedelta:
        return timedelta(days=self.protection_window_days)

    @property
    def protection_margin(self) -> float:
        """The margin as a share (10 percentage points is 0.1)."""
        return self.protection_margin_points / 100


def _problems(policy: ProgressPolicy) -> list[str]:
    """Every reason the policy cannot be used, in words (empty when fine)."""
    found: list[str] = []
    if not isinstance(policy.version, str) or not is_version(policy.version):
        found.append("version must look like v1, v2, ...")
    for name, value in vars(policy).items():
        if name != "version" and (isinstance(value, bool) or not isinstance(value, int)):
            found.append(f"{name} must be a whole number")
    if found:
        return found
    if not 0 <= policy.seen_safe_min_safety <= 10:
        found.append("seen_safe_min_safety must be from 0 to 10")
    if policy.protection_window_days < 1:
        found.append("protection_window_days must be at least 1")
    if policy.protection_min_checkins < 1:
        found.append("protection_min_checkins must be at least 1")
    if not 1 <= policy.protection_margin_points <= 100:
        found.append("protection_margin_points must be from 1 to 100")
    if not 0 <= policy.summary_high_activation <= 10:
        found.append("summary_high_activation must be from 0 to 10")
    return found


def available_progress_policies() -> tuple[str, ...]:
    """Every shipped progress policy version, oldest first."""
    return available_versions("reconnect.domain.progress")


@cache
def load_progress_policy(version: str | None = None) -> ProgressPolicy:
    """Read and validate a progress policy; the newest one when ``version`` is None.

    Raises :class:`UnknownProgressPolicy` for a version that does not exist and
    :class:`InvalidProgressPolicy` when the file is incomplete or inconsistent.
    """
    versions = available_progress_policies()
    if version is None:
        if not versions:
            raise UnknownProgressPolicy("no progress policy is installed")
        version = versions[-1]
    if version not in versions:
        known = ", ".join(versions)
        raise UnknownProgressPolicy(f"no progress policy called {version!r}; known: {known}")
    policy = progress_policy_from_mapping(read_version("reconnect.domain.progress", version))
    if policy.version != version:
        raise InvalidProgressPolicy(f"{version}.toml says its version is {policy.version!r}")
    return policy


def progress_policy_from_mapping(data: dict[str, Any]) -> ProgressPolicy:
    """Build a :class:`ProgressPolicy` from the parsed TOML layout.

    Raises :class:`InvalidProgressPolicy` for a missing key or an unusable value.
    """

    def get(section: str | None, key: str) -> Any:
        table = data if section is None else data.get(section)
        if not isinstance(table, dict) or key not in table:
            where = key if section is None else f"[{section}] {key}"
            raise InvalidProgressPolicy(f"progress policy is missing {where}")
        return table[key]

    version = get(None, "version")
    if not isinstance(version, str):
        raise InvalidProgressPolicy("version must be text such as 'v1'")
    return ProgressPolicy(
        version=version,
        seen_safe_min_safety=get("seen_and_still_safe", "min_safety"),
        protection_window_days=get("protection", "window_days"),
        protection_min_checkins=get("protection", "min_checkins"),
        protection_margin_points=get("protection", "margin_points"),
        summary_high_activation=get("weekly_summary", "high_activation"),
    )
