"""Replay a couple's story through the real pacing engine (``reconnect simulate``).

A story is a TOML file: two partners, the couple's time zone, and what they
wrote, when (check-ins, shared or solo practices with each partner's rating,
pauses, resumes, floods). :func:`load_story` reads and checks it; every entry is
turned into signals by the same functions the app calls when a person writes it
(``reconnect.domain.pacing.signals``), and :func:`replay` asks the same
``reconnect.domain.pacing.engine.decide`` for the pace after each write and at each
probe. Nothing here decides anything itself: there is no database and no second
copy of a rule, so what a story shows is what a couple living it would get.

The format, with every key, is in docs/simulate.md.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reconnect.domain.pacing.catalogue import Practice, UnknownPractice, load_catalogue
from reconnect.domain.pacing.checkins import CheckIn
from reconnect.domain.pacing.engine import decide
from reconnect.domain.pacing.experiences import QUALITIES, ExperienceRating
from reconnect.domain.pacing.history import Decision, History, LadderState, Partner, Role
from reconnect.domain.pacing.policy import (
    BREAK_MINUTES_MAX,
    BREAK_MINUTES_MIN,
    InvalidPolicy,
    Policy,
    UnknownPolicy,
    load_policy,
    policy_from_mapping,
)
from reconnect.domain.pacing.signals import (
    FloodSignal,
    HoldSignal,
    LapseSignal,
    PauseSignal,
    ResumeSignal,
    Signal,
    signals_from_checkin,
    signals_from_rating,
    signals_from_solo_practice,
)
from reconnect.domain.validation import InvalidEntry

__all__ = [
    "Expectation",
    "Moment",
    "Story",
    "StoryError",
    "Write",
    "check",
    "decide_at",
    "load_policy_file",
    "load_story",
    "parse_story",
    "replay",
    "table",
    "timeline_json",
]


_TOP_KEYS = {"time_zone", "start_tier", "policy", "probes", "partners", "events", "expect"}
_PARTNER_KEYS = {"name", "role"}
# The fields a story may give are the domain's own, so the two never drift apart.
_CHECKIN_KEYS = {f.name for f in fields(CheckIn)} - {"recorded_at"}
_RATING_KEYS = {f.name for f in fields(ExperienceRating)} - {
    "practice_id",
    "tier",
    "occurred_at",
    "ended_at",
} | {"logged_at", "back_in_minutes"}
_EVENT_KEYS = {
    "checkin": {"at", "logged_at", "who", "kind", *_CHECKIN_KEYS},
    "practice": {"at", "logged_at", "who", "kind", "tier", "practice", "started_by", "solo"}
    | {"ratings"},
    "pause": {"at", "who", "kind"},
    "resume": {"at", "who", "kind"},
    "flooded": {"at", "who", "kind", "back_in_minutes"},
    "lapse": {"at", "who", "kind", "together"},
    "hard_date": {"at", "who", "kind", "until"},
}
_EXPECT_CHECKS = {
    "permitted_tier",
    "ladder_tier",
    "permitted_tier_at_most",
    "ladder_tier_at_most",
    "paused",
    "on_break",
    "break_until",
    "rule",
    "no_rule",
}


_E = TypeVar("_E")


class StoryError(ValueError):
    """A story (or a policy file) that cannot be replayed, in one line.

    ``source`` is the file, ``where`` the entry (``"event 3"``, ``"expect 1"``,
    ``"partner 2"``) or None, ``field`` the key or None; ``problem`` says what is
    wrong in words. ``str()`` gives ``source: where: field: problem``.
    """

    def __init__(
        self, problem: str, *, field: str | None = None, where: str | None = None, source: str = ""
    ) -> None:
        self.problem = problem
        self.field = field
        self.where = where
        self.source = source
        super().__init__(self.line)

    @property
    def line(self) -> str:
        parts = [p for p in (self.source, self.where, self.field) if p]
        return ": ".join([*parts, self.problem])

    def __str__(self) -> str:
        return self.line


@dataclass(frozen=True)
class Write:
    """One thing written, at one moment, and the signals the app stores for it.

    ``at`` (UTC) is when it was written: the moment the app decides again.
    ``label`` names it in the timeline (``"checkin hana"``).
    """

    at: datetime
    label: str
    signals: tuple[Signal, ...]


@dataclass(frozen=True)
class Expectation:
    """What the pace must look like at ``at`` (UTC); ``checks`` maps key to value."""

    number: int
    at: datetime
    checks: Mapping[str, Any]


@dataclass(frozen=True)
class Story:
    """A checked story, ready to replay. ``writes`` are in the order they were written."""

    zone: ZoneInfo
    partners: tuple[Partner, Partner]
    policy: Policy
    start_tier: int
    writes: tuple[Write, ...]
    probes: tuple[datetime, ...]
    expectations: tuple[Expectation, ...] = ()
    checkpoint: Decision | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Moment:
    """One timeline entry: the pace decided at ``at`` after ``event``."""

    at: datetime
    event: str
    decision: Decision

    @property
    def rules(self) -> list[str]:
        """The rule names behind the decision, each once, in the engine's order."""
        return list(dict.fromkeys(reason.rule for reason in self.decision.reasons))

    def to_dict(self, zone: ZoneInfo) -> dict[str, Any]:
        """The JSON form the issue fixes: local ISO times with their offset."""
        until = self.decision.break_until
        return {
            "at": self.at.astimezone(zone).isoformat(),
            "event": self.event,
            "permitted_tier": self.decision.permitted_tier,
            "ladder_tier": self.decision.ladder_tier,
            "paused": self.decision.paused,
            "break_until": None if until is None else until.astimezone(zone).isoformat(),
            "rules": self.rules,
        }


# --- reading a story -------------------------------------------------------------


def load_policy_file(path: Path) -> Policy:
    """A policy from a TOML file laid out like ``domain/pacing/policies/v2.toml``.

    Raises :class:`StoryError` naming the file when it cannot be read or used.
    """
    data = _read_toml(path)
    try:
        return policy_from_mapping(data)
    except (InvalidPolicy, TypeError) as error:
        raise StoryError(str(error), source=str(path)) from None


def load_story(path: Path, *, policy: Policy | None = None) -> Story:
    """Read and check the story at ``path``; ``policy`` overrides the story's own.

    Raises :class:`StoryError` (one line naming the file, the entry and the
    field) for anything that is not a well-formed story.
    """
    data = _read_toml(path)
    try:
        return parse_story(data, policy=policy)
    except StoryError as error:
        raise StoryError(
            error.problem, field=error.field, where=error.where, source=str(path)
        ) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problem = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise StoryError(f"cannot be read: {problem}", source=str(path)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise StoryError(f"not valid TOML: {error}", source=str(path)) from None


def parse_story(data: Mapping[str, Any], *, policy: Policy | None = None) -> Story:
    """Check a parsed story and turn its events into signals; raises :class:`StoryError`."""
    top = _Table(data, None)
    top.only(_TOP_KEYS)
    zone = _zone(top)
    chosen = policy if policy is not None else _policy(top)
    start_tier = top.integer("start_tier", 0, chosen.top_tier, default=0)
    partners = _partners(top)
    clock = _Clock(zone)
    events = top.tables("events")
    writes = _writes(events, partners, chosen, clock)
    probes = tuple(clock.item(top, "probes", item) for item in _list(top, "probes"))
    expectations = tuple(
        _expectation(_Table(table, f"expect {number}"), number, clock)
        for number, table in enumerate(top.tables("expect"), start=1)
    )
    moments = [w.at for w in writes] + list(probes) + [e.at for e in expectations]
    moments += [s.at for w in writes for s in w.signals]
    checkpoint = _starting_checkpoint(start_tier, min(moments, default=None), chosen)
    return Story(zone, partners, chosen, start_tier, writes, probes, expectations, checkpoint)


def _zone(top: _Table) -> ZoneInfo:
    name = top.text("time_zone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise top.error(
            "time_zone", f"{name!r} is not a time zone name (e.g. Europe/Paris)"
        ) from None


def _policy(top: _Table) -> Policy:
    version = top.text("policy", default=None)
    try:
        return load_policy(version)
    except (UnknownPolicy, InvalidPolicy) as error:
        raise top.error("policy", str(error).strip("'\"")) from None


def _partners(top: _Table) -> tuple[Partner, Partner]:
    tables = top.tables("partners")
    if len(tables) != 2:
        raise top.error("partners", f"a story has exactly two partners, not {len(tables)}")
    found: list[Partner] = []
    for number, data in enumerate(tables, start=1):
        table = _Table(data, f"partner {number}")
        table.only(_PARTNER_KEYS)
        name = table.text("name")
        role = table.choice("role", [r.value for r in Role])
        try:
            found.append(Partner(name, Role(role)))
        except ValueError as error:
            raise table.error("name", str(error)) from None
    if found[0].person_id == found[1].person_id:
        raise _Table(tables[1], "partner 2").error("name", "the two partners need different names")
    return found[0], found[1]


def _writes(
    events: Sequence[Mapping[str, Any]],
    partners: tuple[Partner, Partner],
    policy: Policy,
    clock: _Clock,
) -> tuple[Write, ...]:
    names = [p.person_id for p in partners]
    writes: list[Write] = []
    for number, data in enumerate(events, start=1):
        table = _Table(data, f"event {number}")
        kind = table.choice("kind", list(_EVENT_KEYS))
        table.only(_EVENT_KEYS[kind])
        reader = _READERS[kind]
        writes.extend(reader(table, number, names, policy, clock))
    # Sorted by when each was written; sorted() is stable, so writes at the same
    # moment stay in file order, as they would in the app.
    return tuple(sorted(writes, key=lambda w: w.at))


def _checkin(
    table: _Table, number: int, names: list[str], policy: Policy, clock: _Clock
) -> list[Write]:
    who = table.choice("who", names)
    at, logged_at = _at_and_logged_at(table, clock)
    fields = {key: table.data[key] for key in _CHECKIN_KEYS if key in table.data}
    for key in ("activation", "state", "safety", "urgency", "readiness"):
        table.require(key)
    checkin = _entry(table, "", lambda: CheckIn(recorded_at=at, **fields))
    signals = signals_from_checkin(who, checkin, policy, logged_at=logged_at)
    return [Write(logged_at, f"checkin {who}", tuple(signals))]


def _practice(
    table: _Table, number: int, names: list[str], policy: Policy, clock: _Clock
) -> list[Write]:
    at, logged_at = _at_and_logged_at(table, clock)
    chosen = _chosen_practice(table, policy)
    ratings = _Table(table.table("ratings"), table.where, prefix="ratings.")
    if not ratings.data:
        raise table.error("ratings", "a practice is logged with at least one partner's rating")
    for name in ratings.data:
        if name not in names:
            raise ratings.error(name, f"no partner is called {name!r}")
    started_by = table.choice("started_by", names, default=None)
    solo = _is_solo(table, chosen)
    if solo and len(ratings.data) != 1:
        raise table.error("ratings", "a practice done alone has one rating, by the one who did it")
    # Who logged it: in the app, whoever wrote the first rating, with the log entry.
    on_time = [n for n, r in ratings.data.items() if isinstance(r, dict) and "logged_at" not in r]
    who = table.choice("who", names, default=None) or (on_time or [started_by])[0]
    who = who or next(iter(ratings.data))
    if solo and who not in ratings.data:
        raise table.error("who", f"{who!r} did this practice alone, so the rating is theirs")
    together: list[Signal] = []  # ratings written with the log entry: one write
    later: list[Write] = []
    for name in ratings.data:
        rating_table = _Table(ratings.table(name), table.where, prefix=f"ratings.{name}.")
        rating_table.only(_RATING_KEYS)
        written_at = clock.time(rating_table, "logged_at", default=logged_at)
        if written_at < logged_at:
            raise rating_table.error("logged_at", "a rating cannot be written before the practice")
        rating = _rating(rating_table, chosen, at)
        if solo:
            signals = signals_from_solo_practice(name, rating, policy, written_at=written_at)
        else:
            back = _back_in_minutes(rating_table, default=None)
            signals = signals_from_rating(
                name, f"e{number}", rating, policy, written_at=written_at, back_in_minutes=back
            )
        if written_at == logged_at:
            together.extend(signals)
        else:
            later.append(Write(written_at, f"rating {name}", tuple(signals)))
    return [Write(logged_at, f"practice {who}", tuple(together)), *later]


def _pause(
    table: _Table, number: int, names: list[str], policy: Policy, clock: _Clock
) -> list[Write]:
    who = table.choice("who", names)
    at = clock.time(table, "at")
    return [Write(at, f"pause {who}", (PauseSignal(who, at),))]


def _resume(
    table: _Table, number: int, names: list[str], policy: Policy, clock: _Clock
) -> list[Write]:
    who = table.choice("who", names)
    at = clock.time(table, "at")
    return [Write(at, f"resume {who}", (ResumeSignal(who, at),))]


def _flooded(
    table: _Table, number: int, names: list[str], policy: Policy, clock: _Clock
) -> list[Write]:
    """A tap on "I'm flooded": a break until the return time the flooded person chose."""
    who = table.choice("who", names)
    at = clock.time(table, "at")
    minutes = _back_in_minutes(table, default=policy.flood_default_break_minutes)
    until = at + timedelta(minutes=minutes or policy.flood_default_break_minutes)
    return [Write(at, f"flooded {who}", (FloodSignal(who, at, f"f{number}", until),))]


def _lapse(
    table: _Table, number: int, names: list[str], policy: Policy, clock: _Clock
) -> list[Write]:
    """A lapse or a new disclosure, recorded by one partner or by both together."""
    who = table.choice("who", names)
    at = clock.time(table, "at")
    together = table.flag("together", default=False)
    return [Write(at, f"lapse {who}", (LapseSignal(who, at, together),))]


def _hard_date(
    table: _Table, number: int, names: list[str], policy: Policy, clock: _Clock
) -> list[Write]:
    """A date a partner marked as hard is near: the hold the app writes, until ``until``."""
    who = table.choice("who", names)
    at = clock.time(table, "at")
    until = clock.time(table, "until")
    if until <= at:
        raise table.error("until", "must come after at")
    return [Write(at, f"hard_date {who}", (HoldSignal(who, at, until),))]


_Reader = Callable[["_Table", int, list[str], Policy, "_Clock"], list[Write]]
_READERS: dict[str, _Reader] = {
    "checkin": _checkin,
    "practice": _practice,
    "pause": _pause,
    "resume": _resume,
    "flooded": _flooded,
    "lapse": _lapse,
    "hard_date": _hard_date,
}


def _at_and_logged_at(table: _Table, clock: _Clock) -> tuple[datetime, datetime]:
    at = clock.time(table, "at")
    logged_at = clock.time(table, "logged_at", default=at)
    if logged_at < at:
        raise table.error("logged_at", "an entry cannot be written before what it describes")
    return at, logged_at


def _chosen_practice(table: _Table, policy: Policy) -> Practice:
    """The catalogue practice by id, or the first one of ``tier``; exactly one is given."""
    catalogue = load_catalogue()
    if ("practice" in table.data) == ("tier" in table.data):
        raise table.error("practice", "give one of practice (a catalogue id) or tier")
    if "practice" in table.data:
        practice_id = table.text("practice")
        try:
            return catalogue.get(practice_id)
        except UnknownPractice:
            raise table.error(
                "practice", f"no practice in the catalogue is called {practice_id!r}"
            ) from None
    tier = table.integer("tier", 0, policy.top_tier)
    return catalogue.for_tier(tier)[0]


def _is_solo(table: _Table, practice: Practice) -> bool:
    """Practices a person leads for themselves are done alone; ``solo`` may say so too."""
    led_alone = practice.leads.value == "self"
    solo: bool = table.flag("solo", default=led_alone)
    if led_alone and not solo:
        raise table.error("solo", f"{practice.id!r} is done alone (tier {practice.tier})")
    return solo


def _rating(table: _Table, practice: Practice, at: datetime) -> ExperienceRating:
    fields = {
        key: table.data[key]
        for key in _RATING_KEYS - {"logged_at", "back_in_minutes"}
        if key in table.data
    }
    for key in ("safety", "activation_before", "activation_after", "staying", "felt_pressured"):
        table.require(key)
    # The four qualities never reach the pace, so a story may leave them out.
    for quality in QUALITIES:
        fields.setdefault(quality, 0)
    return _entry(
        table,
        table.prefix,
        lambda: ExperienceRating(
            practice_id=practice.id, tier=practice.tier, occurred_at=at, **fields
        ),
    )


def _back_in_minutes(table: _Table, *, default: int | None) -> int | None:
    """The return time the flooded person chose, within what the app accepts."""
    minutes: int | None = table.integer(
        "back_in_minutes", BREAK_MINUTES_MIN, BREAK_MINUTES_MAX, default=default
    )
    return minutes


def _entry(table: _Table, prefix: str, build: Callable[[], _E]) -> _E:
    """Build a check-in or a rating; the domain's own checks name the field."""
    try:
        return build()
    except InvalidEntry as error:
        key = {"recorded_at": "at", "occurred_at": "at", "practice_id": "practice"}.get(
            error.field, prefix + error.field
        )
        raise table.error(key, error.message, prefixed=False) from None


def _expectation(table: _Table, number: int, clock: _Clock) -> Expectation:
    table.only({"at", *_EXPECT_CHECKS})
    at = clock.time(table, "at")
    checks: dict[str, Any] = {}
    for key in ("permitted_tier", "ladder_tier", "permitted_tier_at_most", "ladder_tier_at_most"):
        if key in table.data:
            checks[key] = table.integer(key, 0, 99)
    for key in ("paused", "on_break"):
        if key in table.data:
            checks[key] = table.flag(key)
    if "break_until" in table.data:
        checks["break_until"] = clock.time(table, "break_until")
    for key in ("rule", "no_rule"):
        if key in table.data:
            checks[key] = _names(table, key)
    if not checks:
        raise table.error("at", "an expectation needs at least one thing to check")
    return Expectation(number, at, checks)


def _names(table: _Table, key: str) -> tuple[str, ...]:
    value = table.data[key]
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise table.error(key, "a rule name, or a list of rule names")
    return tuple(names)


def _list(top: _Table, key: str) -> list[Any]:
    value = top.data.get(key, [])
    if not isinstance(value, list):
        raise top.error(key, "a list of local times")
    return value


def _starting_checkpoint(
    start_tier: int, first: datetime | None, policy: Policy
) -> Decision | None:
    """The couple's earned tier before the story begins, as the engine's own checkpoint.

    decide() resumes from ``checkpoint.state``; a state holding only the tier is
    a couple who earned it and of whom nothing else is known yet. It is dated
    just before the story's first moment so that every event counts after it.
    """
    if start_tier == 0 or first is None:
        return None
    as_of = first - timedelta(microseconds=1)
    return Decision(
        permitted_tier=start_tier,
        ladder_tier=start_tier,
        practices=(),
        break_until=None,
        paused=False,
        paused_by=(),
        policy_version=policy.version,
        decided_at=as_of,
        reasons=(),
        state=LadderState(as_of=as_of, tier=start_tier),
    )


class _Table:
    """A TOML table of the story with where it is, so every error can name its place."""

    def __init__(self, data: object, where: str | None, *, prefix: str = "") -> None:
        if not isinstance(data, dict):
            raise StoryError("must be a table", where=where, field=prefix.rstrip(".") or None)
        self.data: dict[str, Any] = data
        self.where = where
        self.prefix = prefix

    def error(self, key: str, problem: str, *, prefixed: bool = True) -> StoryError:
        return StoryError(problem, field=(self.prefix if prefixed else "") + key, where=self.where)

    def only(self, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for key in self.data:
            if key not in allowed:
                raise self.error(key, f"unknown key (known: {', '.join(sorted(allowed))})")

    def require(self, key: str) -> Any:
        if key not in self.data:
            raise self.error(key, "missing")
        return self.data[key]

    def text(self, key: str, default: Any = ...) -> Any:
        if key not in self.data and default is not ...:
            return default
        value = self.require(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be non-empty text")
        return value

    def choice(self, key: str, choices: Sequence[str], default: Any = ...) -> Any:
        if key not in self.data and default is not ...:
            return default
        value = self.require(key)
        if value not in choices:
            raise self.error(key, f"{value!r} is not one of: {', '.join(choices)}")
        return value

    def integer(self, key: str, low: int, high: int, default: Any = ...) -> Any:
        if key not in self.data and default is not ...:
            return default
        value = self.require(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(key, f"must be a whole number from {low} to {high}")
        return value

    def flag(self, key: str, default: Any = ...) -> Any:
        if key not in self.data and default is not ...:
            return default
        value = self.require(key)
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def table(self, key: str) -> dict[str, Any]:
        value = self.require(key)
        if not isinstance(value, dict):
            raise self.error(key, "must be a table")
        return value

    def tables(self, key: str) -> list[Any]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            raise self.error(key, f"must be an array of tables ([[{key}]])")
        return value


class _Clock:
    """Reads the story's local times and gives aware UTC datetimes, as the app stores them."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def time(self, table: _Table, key: str, default: Any = ...) -> Any:
        """``table[key]``, a local time, as an aware UTC datetime (or ``default``)."""
        if key not in table.data and default is not ...:
            return default
        return self.item(table, key, table.require(key))

    def item(self, table: _Table, key: str, value: object) -> datetime:
        """``value``, found at ``key``, as an aware UTC datetime.

        A local time the clocks skip (a spring-forward gap) is refused; one they
        pass twice (autumn) is read as the first of the two.
        """
        local = _local_datetime(value)
        if local is None:
            raise table.error(key, f"{value!r} is not a local time such as 2026-03-02T19:30")
        aware = local.replace(tzinfo=self.zone)
        if aware.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) != local:
            raise table.error(key, f"{value} does not exist in {self.zone.key} (clocks jump)")
        return aware.astimezone(UTC)


def _local_datetime(value: object) -> datetime | None:
    """A naive datetime from text or a TOML local date-time; None for anything else."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime) or value.tzinfo is not None:
        return None
    return value


# --- replaying -----------------------------------------------------------------------


def decide_at(story: Story, now: datetime, *, upto: int | None = None) -> Decision:
    """The engine's decision at ``now`` from what was written by then.

    ``upto``: only the first ``upto`` writes (the decision the app makes right
    after write number ``upto``, ties included in file order); otherwise every
    write made at or before ``now``.
    """
    writes = story.writes[:upto] if upto is not None else [w for w in story.writes if w.at <= now]
    # History wants signals in time order, same-time ones in the order written.
    signals = sorted((s for w in writes for s in w.signals), key=lambda s: s.at)
    history = History(story.partners, signals, story.checkpoint, time_zone=story.zone.key)
    return decide(history, story.policy, now)


def replay(story: Story) -> list[Moment]:
    """The timeline: a decision after every write and at every probe, in time order.

    A probe at the same moment as a write comes after it.
    """
    moments = [
        Moment(write.at, write.label, decide_at(story, write.at, upto=index))
        for index, write in enumerate(story.writes, start=1)
    ]
    moments += [Moment(at, "probe", decide_at(story, at)) for at in story.probes]
    return sorted(moments, key=lambda m: m.at)


def check(story: Story) -> list[str]:
    """Every expectation the replay does not meet, in words (empty: all met)."""
    failures: list[str] = []
    for expectation in story.expectations:
        decision = decide_at(story, expectation.at)
        for problem in _unmet(expectation, decision, story.zone):
            local = expectation.at.astimezone(story.zone).strftime("%Y-%m-%dT%H:%M")
            failures.append(f"expect {expectation.number} at {local}: {problem}")
    return failures


def _unmet(expectation: Expectation, decision: Decision, zone: ZoneInfo) -> list[str]:
    rules = list(dict.fromkeys(r.rule for r in decision.reasons))
    on_break = decision.break_until is not None
    actual: dict[str, Any] = {
        "permitted_tier": decision.permitted_tier,
        "ladder_tier": decision.ladder_tier,
        "paused": decision.paused,
        "on_break": on_break,
    }
    problems: list[str] = []
    for key, wanted in expectation.checks.items():
        if key in actual and actual[key] != wanted:
            problems.append(f"{key} is {_word(actual[key])}, expected {_word(wanted)}")
        elif key.endswith("_at_most"):
            name = key.removesuffix("_at_most")
            if actual[name] > wanted:
                problems.append(f"{name} is {actual[name]}, expected at most {wanted}")
        elif key == "break_until" and decision.break_until != wanted:
            got = "none" if decision.break_until is None else _local(decision.break_until, zone)
            problems.append(f"break_until is {got}, expected {_local(wanted, zone)}")
        elif key == "rule":
            problems += [
                f"rule {r!r} is missing (rules: {', '.join(rules)})"
                for r in wanted
                if r not in rules
            ]
        elif key == "no_rule":
            problems += [
                f"rule {r!r} is there (rules: {', '.join(rules)})" for r in wanted if r in rules
            ]
    return problems


# --- showing -------------------------------------------------------------------------


def timeline_json(story: Story, moments: Sequence[Moment]) -> str:
    """``{"timeline": [...]}``, one entry per moment, times local with their offset."""
    return json.dumps({"timeline": [m.to_dict(story.zone) for m in moments]}, indent=2)


def table(story: Story, moments: Sequence[Moment]) -> str:
    """A plain-text table of the timeline, local times, one line per moment."""
    header = ("time", "event", "permitted", "ladder", "paused", "break until", "rules")
    rows = [
        (
            _local(m.at, story.zone),
            m.event,
            str(m.decision.permitted_tier),
            str(m.decision.ladder_tier),
            "yes" if m.decision.paused else "no",
            _local(m.decision.break_until, story.zone) if m.decision.break_until else "-",
            ", ".join(m.rules),
        )
        for m in moments
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    title = (
        f"Time zone {story.zone.key}, policy {story.policy.version}, start tier {story.start_tier}"
    )
    return "\n".join([title, "", *lines])


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")


def _word(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
