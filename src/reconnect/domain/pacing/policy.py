"""The pacing policy: every threshold and window of the rules, as versioned data.

Policies live in ``domain/pacing/policies/<version>.toml``. A version is never edited
once decisions were made under it; a new behaviour gets a new file, and
:func:`load_policy` without a version returns the newest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from itertools import pairwise
from typing import Any

from reconnect.domain.versions import available_versions, is_version, read_version, version_number

__all__ = [
    "BREAK_MINUTES_MAX",
    "BREAK_MINUTES_MIN",
    "InvalidPolicy",
    "Policy",
    "UnknownPolicy",
    "available_policies",
    "load_policy",
]


# A break after a flood: at least 20 minutes, so bodies can settle, and at most a day
# (the product's promise; every policy and every chosen return time stays inside it).
BREAK_MINUTES_MIN, BREAK_MINUTES_MAX = 20, 24 * 60


class InvalidPolicy(ValueError):
    """A policy file is missing a key or holds a value the rules cannot use."""


class UnknownPolicy(LookupError):
    """No policy file exists for the requested version."""


@dataclass(frozen=True)
class Policy:
    """All numbers the pacing rules use. See docs/pacing.md for each one."""

    version: str
    top_tier: int
    # Rule 1: today's ceiling.
    ceiling_window_hours: int
    stop_activation: int
    stop_tier: int
    slow_activation: int
    slow_tier: int
    unknown_after_hours: int
    unknown_tier: int
    # Tier 6 gate.
    closeness_readiness_min: int
    closeness_window_hours: int
    closeness_gated_tier: int
    # Rule 2: advancing.
    advance_safe_experiences: int
    advance_distinct_days: int
    advance_window_days: int
    advance_safety_min: int
    # Rule 3: floods.
    flood_activation_after: int
    flood_step_back: int
    flood_break_minutes: int
    flood_no_advance_hours: int
    # Rule 4: urgency is not readiness.
    urgency_gap_min: int
    urgency_window_hours: int
    # Experience signals.
    activation_bands: tuple[int, ...]
    pairing_days: int
    # Added in v2 (v1 reads them as V1_DEFAULTS, which is how v1 behaved).
    # A check-in past its window still caps, at the unknown tier at most.
    stale_keeps_cap: bool = False
    # Felt safety with the partner below these -> the stop / slow tier.
    stop_below_safety: int = 0
    slow_below_safety: int = 0
    # Feeling revved up caps the pace at this tier.
    revved_up_tier: int = 6
    # After a stop-level check-in the person's pace stays at the slow tier or below
    # for this many hours, whatever they report next (0: off).
    settle_hours: int = 0
    # Activation after a practice caps the pace as a check-in at that moment would.
    after_practice_caps: bool = False
    # Separate days: lived days start at this local hour, and counted experiences
    # lie at least this many hours apart, both when they happened and when written.
    day_starts_hour: int = 0
    min_spacing_hours: int = 0
    # A practice dated more than this before it was first logged never counts.
    backdate_max_hours: int = 1_000_000
    # Safe for both: no partner's activation rose by more than this (v1: -1 means
    # only the partner with the higher band before, who must not rise at all).
    activation_rise_max: int = -1
    # Feeling pressured makes an experience not safe.
    pressure_is_unsafe: bool = False
    # An experience counts only if its tier was permitted when it happened.
    judge_when_it_happened: bool = False
    # The step from tier 0 (practices done alone) is earned by calm days together:
    # days on which both partners checked in, and every check-in was below the caps.
    first_step_by_calm_days: bool = False
    # The break after a flood, when the person who flooded does not choose its end.
    flood_default_break_minutes: int = 20
    # A practice that flooded and happened from this many minutes before a flooding
    # episode began until its break ended belongs to that episode (one step back).
    flood_episode_lookback_minutes: int = 0
    # Added in v3. How many steps back floods make: as many as the longest chain of
    # floods in which each began once the break the one before it set had ended. A
    # flood adds a step only when it makes that chain longer, so one more flood can
    # never leave the ladder higher (v2 counted episodes greedily, first come first).
    flood_longest_chain: bool = False
    # Added in v4. A lapse or a new disclosure (new information came to light, or the
    # affair partner made contact) steps the ladder back this many steps and holds
    # advancing for this many hours (0: lapses change nothing, as before v4).
    lapse_step_back: int = 0
    lapse_no_advance_hours: int = 0
    # Added in v4. Near a date a partner marked as hard, no new step opens: from this
    # many days before it until this many days after (0 before: such dates change
    # nothing, as before v4).
    hard_date_days_before: int = 0
    hard_date_days_after: int = 0

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise InvalidPolicy(f"policy {self.version}: " + "; ".join(problems))

    # Durations as timedeltas, so the engine never multiplies hours by hand.
    @property
    def ceiling_window(self) -> timedelta:
        return timedelta(hours=self.ceiling_window_hours)

    @property
    def unknown_after(self) -> timedelta:
        return timedelta(hours=self.unknown_after_hours)

    @property
    def closeness_window(self) -> timedelta:
        return timedelta(hours=self.closeness_window_hours)

    @property
    def advance_window(self) -> timedelta:
        return timedelta(days=self.advance_window_days)

    @property
    def flood_break(self) -> timedelta:
        return timedelta(minutes=self.flood_break_minutes)

    @property
    def flood_no_advance(self) -> timedelta:
        return timedelta(hours=self.flood_no_advance_hours)

    @property
    def lapse_no_advance(self) -> timedelta:
        return timedelta(hours=self.lapse_no_advance_hours)

    @property
    def settle(self) -> timedelta:
        return timedelta(hours=self.settle_hours)

    @property
    def min_spacing(self) -> timedelta:
        return timedelta(hours=self.min_spacing_hours)

    @property
    def backdate_max(self) -> timedelta:
        return timedelta(hours=self.backdate_max_hours)

    @property
    def urgency_window(self) -> timedelta:
        return timedelta(hours=self.urgency_window_hours)

    @property
    def pairing_window(self) -> timedelta:
        return timedelta(days=self.pairing_days)

    def activation_band(self, activation: int) -> int:
        """The band index (0 = calmest) that ``activation`` falls into."""
        band = 0
        for index, lower in enumerate(self.activation_bands):
            if activation >= lower:
                band = index
        return band

    def band_label(self, band: int) -> str:
        """Human words for a band, e.g. ``"4 to 5"``."""
        low = self.activation_bands[band]
        high = self.activation_bands[band + 1] - 1 if band + 1 < len(self.activation_bands) else 10
        return f"{low} to {high}"


def _problems(policy: Policy) -> list[str]:
    """Every reason the policy cannot be used, in words (empty when fine)."""
    found: list[str] = []
    if not is_version(policy.version):
        found.append("version must look like v1, v2, ...")
    for name, value in vars(policy).items():
        if name in _FLAGS:
            if not isinstance(value, bool):
                found.append(f"{name} must be true or false")
        elif name not in {"version", "activation_bands", "activation_rise_max"} and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            found.append(f"{name} must be a whole number >= 0")
    rise = policy.activation_rise_max
    if isinstance(rise, bool) or not isinstance(rise, int) or not -1 <= rise <= 10:
        found.append("activation_rise_max must be from 0 to 10")
    if found:
        return found
    top = policy.top_tier
    if top < 1:
        found.append("top_tier must be at least 1")
    for name in ("stop_tier", "slow_tier", "unknown_tier"):
        if getattr(policy, name) > top:
            found.append(f"{name} must not exceed top_tier")
    if not policy.stop_tier <= policy.slow_tier:
        found.append("stop_tier must not exceed slow_tier")
    if not 0 < policy.slow_activation < policy.stop_activation <= 10:
        found.append("need 0 < slow_activation < stop_activation <= 10")
    if not 1 <= policy.flood_activation_after <= 10:
        found.append("flood_activation_after must be from 1 to 10")
    if not 0 <= policy.advance_safety_min <= 10:
        found.append("advance_safety_min must be from 0 to 10")
    if not 0 <= policy.closeness_readiness_min <= 10:
        found.append("closeness_readiness_min must be from 0 to 10")
    if not 1 <= policy.closeness_gated_tier <= top:
        found.append("closeness_gated_tier must be from 1 to top_tier")
    if not 1 <= policy.urgency_gap_min <= 10:
        found.append("urgency_gap_min must be from 1 to 10")
    # The product promises a break of at least 20 minutes and at most a day.
    if not BREAK_MINUTES_MIN <= policy.flood_break_minutes <= BREAK_MINUTES_MAX:
        found.append("flood_break_minutes must be from 20 to 1440")
    if not policy.flood_break_minutes <= policy.flood_default_break_minutes <= BREAK_MINUTES_MAX:
        found.append("flood default_break_minutes must be from break_minutes to 1440")
    if not 0 <= policy.day_starts_hour <= 23:
        found.append("day_starts_hour must be from 0 to 23")
    if not policy.stop_below_safety <= policy.slow_below_safety <= 10:
        found.append("need stop_below_safety <= slow_below_safety <= 10")
    if policy.revved_up_tier > top:
        found.append("revved_up_tier must not exceed top_tier")
    if policy.flood_step_back < 1:
        found.append("flood_step_back must be at least 1")
    if policy.advance_safe_experiences < 1 or policy.advance_distinct_days < 1:
        found.append("advancing needs at least one safe experience on one day")
    if policy.advance_distinct_days > policy.advance_window_days:
        found.append("advance_distinct_days cannot exceed advance_window_days")
    if policy.pairing_days < 1:
        found.append("pairing_days must be at least 1")
    if policy.flood_longest_chain and not policy.judge_when_it_happened:
        found.append("flood longest_chain needs judge_when_it_happened (the v2 rules)")
    if policy.flood_longest_chain and policy.pairing_days * 24 < policy.backdate_max_hours:
        # Floods are forgotten after pairing_days; one dated back must not reach past.
        found.append("flood longest_chain needs pairing_days to cover backdate_max_hours")
    if version_number(policy.version) >= 4 and (
        policy.lapse_step_back < 1 or policy.lapse_no_advance_hours < 24
    ):
        found.append("a lapse must step back at least once and hold for a day at least")
    if version_number(policy.version) >= 4 and not (
        1 <= policy.hard_date_days_before <= 14 and 0 <= policy.hard_date_days_after <= 7
    ):
        found.append("hard_dates days_before must be 1 to 14 and days_after 0 to 7")
    for name in ("ceiling_window_hours", "closeness_window_hours", "unknown_after_hours"):
        if getattr(policy, name) < 1:
            found.append(f"{name} must be at least 1")
    bands = policy.activation_bands
    if (
        not bands
        or bands[0] != 0
        or any(not isinstance(b, int) or isinstance(b, bool) for b in bands)
        or any(a >= b for a, b in pairwise(bands))
        or bands[-1] > 10
    ):
        found.append("activation_bands must rise strictly from 0 and stay within 0 to 10")
    return found


_FLAGS = frozenset(
    {
        "stale_keeps_cap",
        "after_practice_caps",
        "pressure_is_unsafe",
        "judge_when_it_happened",
        "first_step_by_calm_days",
        "flood_longest_chain",
    }
)

# The keys v2 added, as (section, key, field): v1 has none of them and reads the
# field's default, which is how v1 behaved; from v2 on each one is required.
_ADDED_IN_V2: tuple[tuple[str, str, str], ...] = (
    ("ceiling", "stale_keeps_cap", "stale_keeps_cap"),
    ("ceiling", "stop_below_safety", "stop_below_safety"),
    ("ceiling", "slow_below_safety", "slow_below_safety"),
    ("ceiling", "revved_up_tier", "revved_up_tier"),
    ("ceiling", "settle_hours", "settle_hours"),
    ("ceiling", "after_practice_caps", "after_practice_caps"),
    ("days", "day_starts_hour", "day_starts_hour"),
    ("advance", "min_spacing_hours", "min_spacing_hours"),
    ("advance", "backdate_max_hours", "backdate_max_hours"),
    ("advance", "activation_rise_max", "activation_rise_max"),
    ("advance", "pressure_is_unsafe", "pressure_is_unsafe"),
    ("advance", "judge_when_it_happened", "judge_when_it_happened"),
    ("advance", "first_step_by_calm_days", "first_step_by_calm_days"),
    ("flood", "default_break_minutes", "flood_default_break_minutes"),
    ("flood", "episode_lookback_minutes", "flood_episode_lookback_minutes"),
)


# The keys v3 added, read the same way: earlier versions behave as the default.
_ADDED_IN_V3: tuple[tuple[str, str, str], ...] = (
    ("flood", "longest_chain", "flood_longest_chain"),
)


# The keys v4 added.
_ADDED_IN_V4: tuple[tuple[str, str, str], ...] = (
    ("lapse", "step_back", "lapse_step_back"),
    ("lapse", "no_advance_hours", "lapse_no_advance_hours"),
    ("hard_dates", "days_before", "hard_date_days_before"),
    ("hard_dates", "days_after", "hard_date_days_after"),
)


def available_policies() -> tuple[str, ...]:
    """Every shipped policy version, oldest first."""
    return available_versions("reconnect.domain.pacing")


@cache
def load_policy(version: str | None = None) -> Policy:
    """Read and validate a policy; the newest one when ``version`` is None.

    Raises :class:`UnknownPolicy` for a version that does not exist and
    :class:`InvalidPolicy` when the file is incomplete or inconsistent.
    """
    versions = available_policies()
    if version is None:
        if not versions:
            raise UnknownPolicy("no pacing policy is installed")
        version = versions[-1]
    if version not in versions:
        raise UnknownPolicy(f"no pacing policy called {version!r}; known: {', '.join(versions)}")
    policy = policy_from_mapping(read_version("reconnect.domain.pacing", version))
    if policy.version != version:
        raise InvalidPolicy(f"{version}.toml says its version is {policy.version!r}")
    return policy


def policy_from_mapping(data: dict[str, Any]) -> Policy:
    """Build a :class:`Policy` from the parsed TOML layout; raises InvalidPolicy."""

    def get(section: str | None, key: str) -> Any:
        table = data if section is None else data.get(section)
        if not isinstance(table, dict) or key not in table:
            where = key if section is None else f"[{section}] {key}"
            raise InvalidPolicy(f"policy is missing {where}")
        return table[key]

    bands = get("experience", "activation_bands")
    if not isinstance(bands, list):
        raise InvalidPolicy("[experience] activation_bands must be a list")
    version = get(None, "version")
    if not isinstance(version, str):
        raise InvalidPolicy("version must be text such as 'v1'")
    number = version_number(version)
    added = {name: get(s, key) for s, key, name in _ADDED_IN_V2} if number >= 2 else {}
    if number >= 3:
        added.update({name: get(s, key) for s, key, name in _ADDED_IN_V3})
    if number >= 4:
        added.update({name: get(s, key) for s, key, name in _ADDED_IN_V4})
    return Policy(
        version=version,
        top_tier=get(None, "top_tier"),
        ceiling_window_hours=get("ceiling", "window_hours"),
        stop_activation=get("ceiling", "stop_activation"),
        stop_tier=get("ceiling", "stop_tier"),
        slow_activation=get("ceiling", "slow_activation"),
        slow_tier=get("ceiling", "slow_tier"),
        unknown_after_hours=get("ceiling", "unknown_after_hours"),
        unknown_tier=get("ceiling", "unknown_tier"),
        closeness_readiness_min=get("closeness", "readiness_min"),
        closeness_window_hours=get("closeness", "window_hours"),
        closeness_gated_tier=get("closeness", "gated_tier"),
        advance_safe_experiences=get("advance", "safe_experiences"),
        advance_distinct_days=get("advance", "distinct_days"),
        advance_window_days=get("advance", "window_days"),
        advance_safety_min=get("advance", "safety_min"),
        flood_activation_after=get("flood", "activation_after"),
        flood_step_back=get("flood", "step_back"),
        flood_break_minutes=get("flood", "break_minutes"),
        flood_no_advance_hours=get("flood", "no_advance_hours"),
        urgency_gap_min=get("urgency", "gap_min"),
        urgency_window_hours=get("urgency", "window_hours"),
        activation_bands=tuple(bands),
        pairing_days=get("experience", "pairing_days"),
        **added,
    )
