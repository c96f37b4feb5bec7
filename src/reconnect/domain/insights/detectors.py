"""False-connection detectors: patterns that feel like closeness but stall healing.

Each detector reads a :class:`CoupleRecord` (plain data the storage layer puts
together) and a moment ``now``, and returns :class:`Finding` values: which
pattern, the evidence (ids and dates, nothing else), how strong, who may see it
and what to try instead. The rules and their thresholds are in docs/detectors.md;
the numbers live in ``data/detectors.toml``.

Two audiences, never mixed:

- a finding built from a person's *private* entries (their check-ins, their
  ratings) or about their own behaviour is addressed to that person alone;
- a *couple-level* finding is built from shared facts only (experiences and
  their coarse halves, the permitted tier, shared statuses, proposals) and
  carries no private number and no private word.

A detector that reads private entries runs only for people whose entries are in
the record, which storage includes only while their owner's key is unlocked.
Show a person nothing but :func:`findings_for` them.

Every detector only looks back as far as its rule needs: the record keeps its
lists sorted by time and each window is found by binary search, so the cost does
not grow with the length of the couple's history.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from functools import cache
from importlib import resources
from typing import Any, Protocol, TypeVar

from reconnect.domain.pacing.checkins import CheckIn
from reconnect.domain.pacing.engine import COUPLE, Partner
from reconnect.domain.pacing.experiences import ExperienceRating
from reconnect.domain.pacing.policy import Policy
from reconnect.domain.pacing.signals import ExperienceSignal, signals_from_rating

__all__ = [
    "COUPLE",
    "DETECTORS",
    "AffectionBypassSettings",
    "AvoidingConversationsSettings",
    "CoupleRecord",
    "DetectorSettings",
    "Evidence",
    "ExperienceHalf",
    "Finding",
    "InvalidDetectorSettings",
    "InvalidRecord",
    "MinimizingSettings",
    "Mood",
    "Pattern",
    "PermittedTier",
    "PhraseList",
    "PressuringForgivenessSettings",
    "PretendingOkaySettings",
    "PrivateEntries",
    "Proposal",
    "Response",
    "RushingIntimacySettings",
    "Severity",
    "SharedExperience",
    "SharedStatus",
    "SharedText",
    "TextChecker",
    "TextConcern",
    "TextFlag",
    "UrgencyReadinessSettings",
    "couple_findings",
    "detect_affection_bypass",
    "detect_avoiding_conversations",
    "detect_minimizing",
    "detect_pressuring_forgiveness",
    "detect_pretending_okay",
    "detect_rushing_intimacy",
    "detect_urgency_as_readiness",
    "experience_half",
    "findings_for",
    "history_needed_since",
    "load_detector_settings",
    "load_phrase_list",
    "run_detectors",
    "settings_from_mapping",
]

T = TypeVar("T")
Detail = int | str


class InvalidRecord(ValueError):
    """The record names someone outside the couple or is otherwise inconsistent."""


class InvalidDetectorSettings(ValueError):
    """``detectors.toml`` or ``minimizing.toml`` is missing a key or holds a bad value."""


# --- What comes out ------------------------------------------------------------------


class Pattern(Enum):
    """The six patterns of principle P2, plus urgency mistaken for readiness (P1)."""

    RUSHING_INTIMACY = "rushing_intimacy"
    MINIMIZING = "minimizing"
    AVOIDING_CONVERSATIONS = "avoiding_conversations"
    PRESSURING_FORGIVENESS = "pressuring_forgiveness"
    PRETENDING_OKAY = "pretending_okay"
    AFFECTION_BYPASS = "affection_bypass"
    URGENCY_AS_READINESS = "urgency_as_readiness"


class Severity(Enum):
    """How strongly to bring a finding forward. Neither is a verdict."""

    GENTLE = "gentle"
    NOTABLE = "notable"


@dataclass(frozen=True)
class Evidence:
    """One thing a finding points at: its ``kind``, its stored ``id`` and the day.

    Kinds: ``experience``, ``checkin``, ``rating`` (a person's rating of the
    experience with this id), ``status``, ``text``, ``proposal``, and ``period``
    (ids ``start`` / ``end`` of a window). Never a number or a word from an entry.
    """

    kind: str
    id: str
    on: date


@dataclass(frozen=True)
class Finding:
    """A reflection for one audience: ``COUPLE`` or a single person id.

    ``rule`` names the part of the pattern's rule that fired (see
    docs/detectors.md). ``details`` holds only facts the audience may see: for a
    couple-level finding, shared facts such as a tier; for a private one, the
    owner's own figures. ``settings_version`` is the detectors.toml version used.
    """

    pattern: Pattern
    rule: str
    audience: str
    severity: Severity
    message: str
    try_instead: str
    evidence: tuple[Evidence, ...]
    found_at: datetime
    settings_version: str
    details: Mapping[str, Detail] = field(default_factory=dict, hash=False)

    @property
    def key(self) -> str:
        """Stable for one incident: pattern, rule, audience and the first evidence.

        Storage can keep one row per key and replace it as the evidence grows.
        """
        first = self.evidence[0] if self.evidence else None
        anchor = f"{first.kind}/{first.id}/{first.on.isoformat()}" if first else "-"
        return f"{self.pattern.value}:{self.rule}:{self.audience}:{anchor}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form, for storing the finding under its audience's key."""
        return {
            "pattern": self.pattern.value,
            "rule": self.rule,
            "audience": self.audience,
            "severity": self.severity.value,
            "message": self.message,
            "try_instead": self.try_instead,
            "evidence": [
                {"kind": e.kind, "id": e.id, "on": e.on.isoformat()} for e in self.evidence
            ],
            "found_at": self.found_at.isoformat(),
            "settings_version": self.settings_version,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            pattern=Pattern(data["pattern"]),
            rule=str(data["rule"]),
            audience=str(data["audience"]),
            severity=Severity(data["severity"]),
            message=str(data["message"]),
            try_instead=str(data["try_instead"]),
            evidence=tuple(
                Evidence(str(e["kind"]), str(e["id"]), date.fromisoformat(e["on"]))
                for e in data["evidence"]
            ),
            found_at=datetime.fromisoformat(data["found_at"]),
            settings_version=str(data["settings_version"]),
            details=dict(data["details"]),
        )


def findings_for(findings: Iterable[Finding], person_id: str) -> tuple[Finding, ...]:
    """What ``person_id`` may see: the couple-level findings and their own."""
    if person_id == COUPLE:
        raise ValueError("ask couple_findings() for the couple-level view")
    return tuple(f for f in findings if f.audience in (COUPLE, person_id))


def couple_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """The couple-level findings only: the view for a consenting therapist."""
    return tuple(f for f in findings if f.audience == COUPLE)


# --- What goes in --------------------------------------------------------------------


@dataclass(frozen=True)
class ExperienceHalf:
    """One partner's coarse facts about a shared experience.

    ``signal`` is the pacing signal of their rating (safe, flooded, band before,
    not worse after). Two more yes/no facts that the signal does not carry are
    derived when the rating is written (use :func:`experience_half`): ``left``,
    they did not stay present (emotionally or physically); ``ended_activated``,
    their activation after reached the affection-bypass line (7 in v1).
    """

    signal: ExperienceSignal
    left: bool
    ended_activated: bool

    @property
    def person_id(self) -> str:
        return self.signal.person_id


@dataclass(frozen=True)
class SharedExperience:
    """A shared practice, as both partners' side of the app knows it.

    ``logged_by``: who logged it. ``initiated_by``: who started it, as the person
    logging it said; None when nobody said (practices logged before the form asked).
    Logging is not starting: the one who writes it down is often the other one.
    ``ahead_of_pace``: storage sets it when the experience is logged, from
    ``pacing.is_ahead_of_pace`` against the decision of that moment.
    ``halves``: each partner's :class:`ExperienceHalf`, keyed by person id, as
    their ratings arrive (a missing half is simply not known yet).
    """

    id: str
    practice_id: str
    tier: int
    occurred_at: datetime
    logged_by: str
    ahead_of_pace: bool
    halves: Mapping[str, ExperienceHalf] = field(default_factory=dict)
    initiated_by: str | None = None

    @property
    def started_by(self) -> str | None:
        return self.initiated_by

    @property
    def someone_left(self) -> bool:
        return any(half.left for half in self.halves.values())

    @property
    def ended_unresolved(self) -> bool:
        """Someone left, or someone's activation after reached the line."""
        return any(half.left or half.ended_activated for half in self.halves.values())


@dataclass(frozen=True)
class PermittedTier:
    """From ``at`` on (until the next change), the pace permitted ``tier``.

    Storage derives these from the stored pacing decisions.
    """

    at: datetime
    tier: int


class Mood(Enum):
    """How a partner says they are today, in the status their partner sees."""

    OKAY = "okay"
    STRUGGLING = "struggling"
    NEED_SPACE = "need_space"


@dataclass(frozen=True)
class SharedStatus:
    """A status a partner chose to share: a mood, optional words, a time."""

    id: str
    person_id: str
    at: datetime
    mood: Mood
    words: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "mood", Mood(self.mood))


class Response(Enum):
    """The answer to a proposal. A decline never carries a reason."""

    ACCEPTED = "accepted"
    DECLINED = "declined"


@dataclass(frozen=True)
class Proposal:
    """One partner proposes a practice; the other may accept or decline."""

    id: str
    by: str
    practice_id: str
    tier: int
    at: datetime
    response: Response | None = None
    responded_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.response is not None:
            object.__setattr__(self, "response", Response(self.response))
            if self.responded_at is None:
                raise InvalidRecord(f"proposal {self.id!r} has a response but no time")


@dataclass(frozen=True)
class SharedText:
    """Words a partner chose to share (a note, a reply, a letter): ``kind`` says which."""

    id: str
    author: str
    at: datetime
    text: str
    kind: str = "note"


@dataclass(frozen=True)
class PrivateEntries:
    """One person's own private entries, present only while their key is unlocked.

    ``checkins`` by check-in id; ``ratings`` by the id of the shared experience
    they rate. Any order; the record sorts them by time once.
    """

    person_id: str
    checkins: Mapping[str, CheckIn] = field(default_factory=dict)
    ratings: Mapping[str, ExperienceRating] = field(default_factory=dict)


@dataclass(frozen=True)
class CoupleRecord:
    """Everything the detectors read for one couple.

    Lists may come in any order; they are sorted by time once, here. ``private``
    holds, by person id, the private entries of each partner whose key is
    unlocked right now (often just one, or none). Storage may pass the whole
    history or only what :func:`history_needed_since` asks for.
    """

    partners: tuple[Partner, Partner]
    experiences: Sequence[SharedExperience] = ()
    permitted_tiers: Sequence[PermittedTier] = ()
    statuses: Sequence[SharedStatus] = ()
    proposals: Sequence[Proposal] = ()
    shared_texts: Sequence[SharedText] = ()
    private: Mapping[str, PrivateEntries] = field(default_factory=dict)
    # Sorted copies of the private entries, built once.
    _checkins: Mapping[str, tuple[tuple[str, CheckIn], ...]] = field(
        init=False, repr=False, compare=False
    )
    _ratings: Mapping[str, tuple[tuple[str, ExperienceRating], ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if len(self.partners) != 2 or self.partners[0].person_id == self.partners[1].person_id:
            raise InvalidRecord("a record has two different partners")
        people = set(self.person_ids)

        def check(person: str, what: str) -> None:
            if person not in people:
                raise InvalidRecord(f"{what} names someone outside this couple")

        experiences = tuple(sorted(self.experiences, key=_occurred))
        for experience in experiences:
            check(experience.logged_by, f"experience {experience.id!r}")
            if experience.started_by is not None:
                check(experience.started_by, f"experience {experience.id!r}")
            for person, half in experience.halves.items():
                check(person, f"experience {experience.id!r}")
                if half.person_id != person or half.signal.experience_id != experience.id:
                    raise InvalidRecord(f"experience {experience.id!r} holds another's half")
        statuses = tuple(sorted(self.statuses, key=_at))
        for status in statuses:
            check(status.person_id, f"status {status.id!r}")
        proposals = tuple(sorted(self.proposals, key=_at))
        for proposal in proposals:
            check(proposal.by, f"proposal {proposal.id!r}")
        texts = tuple(sorted(self.shared_texts, key=_at))
        for text in texts:
            check(text.author, f"text {text.id!r}")
        for person, entries in self.private.items():
            check(person, "private entries")
            if entries.person_id != person:
                raise InvalidRecord("private entries are filed under their owner's id")
        set_ = object.__setattr__
        set_(self, "experiences", experiences)
        set_(self, "permitted_tiers", tuple(sorted(self.permitted_tiers, key=_at)))
        set_(self, "statuses", statuses)
        set_(self, "proposals", proposals)
        set_(self, "shared_texts", texts)
        set_(self, "private", dict(self.private))
        set_(
            self,
            "_checkins",
            {
                person: tuple(sorted(e.checkins.items(), key=lambda i: i[1].recorded_at))
                for person, e in self.private.items()
            },
        )
        set_(
            self,
            "_ratings",
            {
                person: tuple(sorted(e.ratings.items(), key=lambda i: i[1].occurred_at))
                for person, e in self.private.items()
            },
        )

    @property
    def person_ids(self) -> tuple[str, str]:
        return (self.partners[0].person_id, self.partners[1].person_id)

    def other(self, person_id: str) -> str:
        first, second = self.person_ids
        return second if person_id == first else first


def experience_half(
    person_id: str,
    experience_id: str,
    rating: ExperienceRating,
    policy: Policy,
    *,
    settings: DetectorSettings | None = None,
    written_at: datetime | None = None,
) -> ExperienceHalf:
    """The half storage keeps in the clear when ``person_id`` rates ``experience_id``.

    Call it when the rating is written, next to ``signals_from_rating``; the
    rating itself is then encrypted under its author's key.
    """
    settings = settings if settings is not None else load_detector_settings()
    signals = signals_from_rating(person_id, experience_id, rating, policy, written_at=written_at)
    signal = next(s for s in signals if isinstance(s, ExperienceSignal))
    return ExperienceHalf(
        signal=signal,
        left=rating.left,
        ended_activated=rating.activation_after >= settings.affection_bypass.ended_activation_min,
    )


# --- Settings ------------------------------------------------------------------------


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
    path = resources.files("reconnect.domain").joinpath("data", "detectors.toml")
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
    :class:`PermittedTier` before it (the pace in force when the window opened).
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


# --- Words: the pluggable text checker -----------------------------------------------


class TextConcern(Enum):
    """What a flagged phrase does."""

    MINIMIZING = "minimizing"
    PRESSURING_FORGIVENESS = "pressuring_forgiveness"
    DEFLECTING = "deflecting"


@dataclass(frozen=True)
class TextFlag:
    """One concern found in a text, with the listed phrase that matched."""

    concern: TextConcern
    phrase: str


class TextChecker(Protocol):
    """Anything that can look at shared words: the phrase list, or the message coach
    (``reconnect.coach.checker``)."""

    def check(self, text: str) -> Sequence[TextFlag]: ...


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_SPACE = re.compile(r"\s+")


def _normalise(text: str) -> str:
    return _SPACE.sub(" ", text.translate(_APOSTROPHES).casefold()).strip()


class PhraseList:
    """A :class:`TextChecker` over fixed phrases, matched as whole words."""

    def __init__(self, phrases: Mapping[TextConcern, Sequence[str]], version: str = "") -> None:
        self.version = version
        self._patterns: list[tuple[TextConcern, re.Pattern[str], dict[str, str]]] = []
        for concern, listed in phrases.items():
            cleaned = {_normalise(p): p for p in listed if _normalise(p)}
            if not cleaned:
                continue
            # Longest first, so "it was just" wins over a shorter overlapping phrase.
            alternatives = "|".join(
                re.escape(p).replace(r"\ ", r"\s+") for p in sorted(cleaned, key=len, reverse=True)
            )
            pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
            self._patterns.append((concern, pattern, cleaned))

    def check(self, text: str) -> tuple[TextFlag, ...]:
        normal = _normalise(text)
        flags: list[TextFlag] = []
        for concern, pattern, listed in self._patterns:
            seen: list[str] = []
            for match in pattern.finditer(normal):
                phrase = listed.get(_normalise(match.group(0)), match.group(0))
                if phrase not in seen:
                    seen.append(phrase)
            flags.extend(TextFlag(concern, phrase) for phrase in seen)
        return tuple(flags)


@cache
def load_phrase_list() -> PhraseList:
    """The shipped phrase list, ``data/minimizing.toml``."""
    path = resources.files("reconnect.domain").joinpath("data", "minimizing.toml")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    phrases: dict[TextConcern, list[str]] = {}
    for concern in TextConcern:
        table = data.get(concern.value)
        listed = table.get("phrases") if isinstance(table, dict) else None
        if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
            raise InvalidDetectorSettings(f"minimizing.toml: [{concern.value}] phrases is missing")
        phrases[concern] = listed
    return PhraseList(phrases, version=str(data.get("version", "")))


# --- Helpers -------------------------------------------------------------------------


def _at(item: Any) -> datetime:
    when: datetime = item.at
    return when


def _occurred(item: SharedExperience) -> datetime:
    return item.occurred_at


def _window(
    items: Sequence[T], start: datetime, end: datetime, key: Callable[[T], datetime]
) -> Sequence[T]:
    """The items with ``start < key(item) <= end``; ``items`` sorted by ``key``."""
    low = bisect_right(items, start, key=key)
    high = bisect_right(items, end, key=key, lo=low)
    return items[low:high]


def _closed_window(
    items: Sequence[T], start: datetime, end: datetime, key: Callable[[T], datetime]
) -> Sequence[T]:
    """The items with ``start <= key(item) < end``."""
    low = bisect_left(items, start, key=key)
    high = bisect_left(items, end, key=key, lo=low)
    return items[low:high]


def _experience_ref(experience: SharedExperience) -> Evidence:
    return Evidence("experience", experience.id, experience.occurred_at.date())


def _check_now(now: datetime) -> None:
    if now.utcoffset() is None:
        raise ValueError("now must carry a time zone")


def _settings(settings: DetectorSettings | None) -> DetectorSettings:
    return settings if settings is not None else load_detector_settings()


def _tier_words(tier: int) -> str:
    return "affection" if tier == 5 else "physical intimacy" if tier >= 6 else f"tier {tier}"


# --- (a) rushing physical intimacy ---------------------------------------------------


def detect_rushing_intimacy(
    record: CoupleRecord, now: datetime, *, settings: DetectorSettings | None = None
) -> tuple[Finding, ...]:
    """Affection or intimacy (tier 5-6) that went ahead of the pace, was started by the
    partner who came in calmer, or that someone felt pressured into.

    Ahead of the pace: couple-level. Started by the calmer partner: to the one who
    started it. Felt pressured: to the person who felt it, from their own rating.
    """
    _check_now(now)
    s = _settings(settings)
    rule = s.rushing_intimacy
    start = now - timedelta(days=rule.lookback_days)
    found: list[Finding] = []
    for experience in _window(record.experiences, start, now, _occurred):
        if experience.tier < rule.min_tier:
            continue
        what = _tier_words(experience.tier)
        if experience.ahead_of_pace:
            found.append(
                Finding(
                    Pattern.RUSHING_INTIMACY,
                    "ahead_of_pace",
                    COUPLE,
                    Severity.NOTABLE,
                    f"A moment of {what} went ahead of the pace you had that day.",
                    "Closeness that waits for the slower nervous system tends to last. "
                    "Next time the pull comes, try a practice from today's tier first and "
                    "see how both bodies feel afterwards.",
                    (_experience_ref(experience),),
                    now,
                    s.version,
                    {"tier": experience.tier},
                )
            )
        starter = experience.started_by
        if starter is None:
            continue  # nobody said who started it; logging it is not starting it
        mine = experience.halves.get(starter)
        theirs = experience.halves.get(record.other(starter))
        if (
            mine is not None
            and theirs is not None
            and mine.signal.band_before < theirs.signal.band_before
        ):
            found.append(
                Finding(
                    Pattern.RUSHING_INTIMACY,
                    "started_by_calmer_partner",
                    starter,
                    Severity.GENTLE,
                    f"You started a moment of {what} on a day when you were the "
                    "calmer of the two of you.",
                    "At these tiers it helps when the partner who needs it slower "
                    "decides when. You might let the invitation come from them, and "
                    "trust that it will.",
                    (_experience_ref(experience),),
                    now,
                    s.version,
                    {"tier": experience.tier},
                )
            )
    for person in record.person_ids:
        ratings = record._ratings.get(person, ())
        for experience_id, rating in _window(ratings, start, now, _rated_at):
            if rating.tier >= rule.min_tier and rating.felt_pressured:
                found.append(
                    Finding(
                        Pattern.RUSHING_INTIMACY,
                        "felt_pressured",
                        person,
                        Severity.NOTABLE,
                        f"You noted feeling pressured during a moment of "
                        f"{_tier_words(rating.tier)}.",
                        "Your no is part of what makes closeness safe again. You can pause "
                        "at any time without giving a reason, and choose a gentler tier "
                        "next time.",
                        (Evidence("rating", experience_id, rating.occurred_at.date()),),
                        now,
                        s.version,
                        {"tier": rating.tier},
                    )
                )
    return tuple(found)


def _rated_at(item: tuple[str, ExperienceRating]) -> datetime:
    return item[1].occurred_at


def _checked_at(item: tuple[str, CheckIn]) -> datetime:
    return item[1].recorded_at


# --- (b) minimizing ------------------------------------------------------------------


def _shared_words(
    record: CoupleRecord, start: datetime, now: datetime
) -> list[tuple[str, Evidence, str]]:
    """(author, evidence, words) of every shared text and status with words, in the window."""
    items: list[tuple[str, Evidence, str]] = [
        (t.author, Evidence("text", t.id, t.at.date()), t.text)
        for t in _window(record.shared_texts, start, now, _at)
    ]
    items.extend(
        (s.person_id, Evidence("status", s.id, s.at.date()), s.words)
        for s in _window(record.statuses, start, now, _at)
        if s.words.strip()
    )
    return items


def _flagged_words(
    record: CoupleRecord,
    start: datetime,
    now: datetime,
    checker: TextChecker,
    concerns: set[TextConcern],
) -> dict[str, tuple[list[Evidence], list[str]]]:
    """Per author: the flagged shared texts and the phrases found in them."""
    by_author: dict[str, tuple[list[Evidence], list[str]]] = {}
    for author, evidence, words in _shared_words(record, start, now):
        phrases = [f.phrase for f in checker.check(words) if f.concern in concerns]
        if phrases:
            refs, seen = by_author.setdefault(author, ([], []))
            refs.append(evidence)
            seen.extend(p for p in phrases if p not in seen)
    return by_author


def detect_minimizing(
    record: CoupleRecord,
    now: datetime,
    *,
    settings: DetectorSettings | None = None,
    checker: TextChecker | None = None,
) -> tuple[Finding, ...]:
    """Shared words that make the hurt smaller, or turn it away; to the author only."""
    _check_now(now)
    s = _settings(settings)
    rule = s.minimizing
    checker = checker if checker is not None else load_phrase_list()
    start = now - timedelta(days=rule.lookback_days)
    flagged = _flagged_words(
        record, start, now, checker, {TextConcern.MINIMIZING, TextConcern.DEFLECTING}
    )
    found: list[Finding] = []
    for author in record.person_ids:
        if author not in flagged:
            continue
        refs, phrases = flagged[author]
        refs.sort(key=lambda e: e.on)
        found.append(
            Finding(
                Pattern.MINIMIZING,
                "shared_words",
                author,
                Severity.NOTABLE if len(refs) >= rule.notable_count else Severity.GENTLE,
                "Some words you shared lately may have made the hurt sound smaller, or "
                "turned the talk away from it: " + ", ".join(f"“{p}”" for p in phrases) + ".",
                "You might try naming what happened and how it landed, in your own words, "
                "and leave room for the other's feelings without explaining them away.",
                tuple(refs),
                now,
                s.version,
                {"texts": len(refs)},
            )
        )
    return tuple(found)


# --- (c) avoiding difficult conversations --------------------------------------------


def _time_allowed(
    changes: Sequence[PermittedTier], start: datetime, end: datetime, min_tier: int
) -> timedelta:
    """How long within [start, end] the permitted tier was at least ``min_tier``."""
    first = max(0, bisect_right(changes, start, key=_at) - 1)
    total = timedelta(0)
    for index in range(first, len(changes)):
        change = changes[index]
        if change.at >= end:
            break
        until = changes[index + 1].at if index + 1 < len(changes) else end
        low, high = max(change.at, start), min(until, end)
        if change.tier >= min_tier and high > low:
            total += high - low
    return total


def detect_avoiding_conversations(
    record: CoupleRecord, now: datetime, *, settings: DetectorSettings | None = None
) -> tuple[Finding, ...]:
    """A long quiet stretch without deeper practices though the pace allowed them, or
    conversations left early again and again. Couple-level; nobody is named."""
    _check_now(now)
    s = _settings(settings)
    rule = s.avoiding_conversations
    found: list[Finding] = []
    start = now - timedelta(days=rule.quiet_days)
    recent = _window(record.experiences, start, now, _occurred)
    if not any(e.tier >= rule.min_tier for e in recent):
        allowed = _time_allowed(record.permitted_tiers, start, now, rule.min_tier)
        if allowed * 100 > (now - start) * rule.allowed_percent:
            found.append(
                Finding(
                    Pattern.AVOIDING_CONVERSATIONS,
                    "quiet_stretch",
                    COUPLE,
                    Severity.GENTLE,
                    f"For {rule.quiet_days} days there has been no practice at tier "
                    f"{rule.min_tier} or above, though the pace allowed one most of that time.",
                    "Ease can be a relief, and it can also be a way round what still hurts. "
                    "You might choose one short, time-boxed conversation from today's tier, "
                    "with the pause word agreed first.",
                    (
                        Evidence("period", "start", start.date()),
                        Evidence("period", "end", now.date()),
                    ),
                    now,
                    s.version,
                    {"days": rule.quiet_days, "tier": rule.min_tier},
                )
            )
    tries_start = now - timedelta(days=rule.tries_lookback_days)
    conversations = [
        e
        for e in _window(record.experiences, tries_start, now, _occurred)
        if e.tier == rule.conversation_tier
    ][-rule.recent_tries :]
    left = [e for e in conversations if e.someone_left]
    if len(left) >= rule.left_tries:
        found.append(
            Finding(
                Pattern.AVOIDING_CONVERSATIONS,
                "left_early",
                COUPLE,
                Severity.NOTABLE if len(left) >= rule.recent_tries else Severity.GENTLE,
                f"{len(left)} of your last {len(conversations)} conversations ended with "
                "someone stepping out before the end.",
                "Leaving can be self-protection, and that makes sense. Next time you might "
                "agree a pause word and a time to come back, so stepping out becomes a "
                "break rather than an ending.",
                tuple(_experience_ref(e) for e in left),
                now,
                s.version,
                {"left": len(left), "tries": len(conversations)},
            )
        )
    return tuple(found)


# --- (d) pressuring forgiveness ------------------------------------------------------


def detect_pressuring_forgiveness(
    record: CoupleRecord,
    now: datetime,
    *,
    settings: DetectorSettings | None = None,
    checker: TextChecker | None = None,
) -> tuple[Finding, ...]:
    """Asking again, soon after a no, for more than the other has accepted; and shared
    words that push for forgiveness. Privately to the one asking, plus a gentle
    couple-level note for asking again."""
    _check_now(now)
    s = _settings(settings)
    rule = s.pressuring_forgiveness
    checker = checker if checker is not None else load_phrase_list()
    found: list[Finding] = []
    start = now - timedelta(days=rule.lookback_days)
    reach = timedelta(days=max(rule.accepted_lookback_days, rule.after_decline_days))
    earlier = _window(record.proposals, start - reach, now, _at)
    for proposal in _window(record.proposals, start, now, _at):
        declined: list[Proposal] = []
        accepted_max = -1
        for old in earlier:
            if old.at >= proposal.at:
                break
            if old.by != proposal.by or old.responded_at is None:
                continue
            answered = old.responded_at
            if not answered < proposal.at:
                continue
            if old.response is Response.DECLINED and proposal.at - answered <= timedelta(
                days=rule.after_decline_days
            ):
                declined.append(old)
            if old.response is Response.ACCEPTED and proposal.at - answered <= timedelta(
                days=rule.accepted_lookback_days
            ):
                accepted_max = max(accepted_max, old.tier)
        if not declined:
            continue
        # With no yes to compare with, asking again means asking for at least what
        # was just declined; a smaller step after a no is a kind answer to it.
        bar = accepted_max if accepted_max >= 0 else min(d.tier for d in declined) - 1
        if proposal.tier <= bar:
            continue
        evidence = (
            *(
                Evidence("proposal", d.id, d.responded_at.date())
                for d in declined
                if d.responded_at is not None
            ),
            Evidence("proposal", proposal.id, proposal.at.date()),
        )
        details: dict[str, Detail] = {"tier": proposal.tier, "days": rule.after_decline_days}
        found.append(
            Finding(
                Pattern.PRESSURING_FORGIVENESS,
                "asked_again",
                proposal.by,
                Severity.NOTABLE if len(declined) > 1 else Severity.GENTLE,
                "You proposed a practice again within a few days of a no, at a tier your "
                "partner has not said yes to lately.",
                "A no that is allowed to stand is part of what makes a later yes safe. "
                "You might let the next invitation come from your partner, and share how "
                "the waiting feels for you in your own check-in.",
                evidence,
                now,
                s.version,
                details,
            )
        )
        found.append(
            Finding(
                Pattern.PRESSURING_FORGIVENESS,
                "asked_again",
                COUPLE,
                Severity.GENTLE,
                "A practice was proposed again soon after a no.",
                "Saying no without a reason is always allowed here. Letting a no rest for "
                f"{rule.after_decline_days} days or so helps both of you trust it.",
                evidence,
                now,
                s.version,
                {"days": rule.after_decline_days},
            )
        )
    words_start = now - timedelta(days=rule.words_lookback_days)
    flagged = _flagged_words(
        record, words_start, now, checker, {TextConcern.PRESSURING_FORGIVENESS}
    )
    for author in record.person_ids:
        if author not in flagged:
            continue
        refs, phrases = flagged[author]
        refs.sort(key=lambda e: e.on)
        found.append(
            Finding(
                Pattern.PRESSURING_FORGIVENESS,
                "shared_words",
                author,
                Severity.GENTLE,
                "Some words you shared lately may have asked for closure sooner than "
                "your partner can give it: " + ", ".join(f"“{p}”" for p in phrases) + ".",
                "Forgiveness, if it comes, grows after safety returns. You might say "
                "instead what you are willing to keep doing while it takes the time it takes.",
                tuple(refs),
                now,
                s.version,
                {"texts": len(refs)},
            )
        )
    return tuple(found)


# --- (e) pretending things are okay --------------------------------------------------


def detect_pretending_okay(
    record: CoupleRecord, now: datetime, *, settings: DetectorSettings | None = None
) -> tuple[Finding, ...]:
    """A shared "okay" on a day one's own check-in ran high, or an experience rated safe
    while activation climbed. From the person's own entries, to that person only."""
    _check_now(now)
    s = _settings(settings)
    rule = s.pretending_okay
    start = now - timedelta(days=rule.lookback_days)
    found: list[Finding] = []
    okays = [st for st in _window(record.statuses, start, now, _at) if st.mood is Mood.OKAY]
    for person in record.person_ids:
        if person not in record.private:
            continue  # private entries are read only while their owner's key is unlocked
        mine = [st for st in okays if st.person_id == person]
        if mine:
            # A check-in on the status's calendar day, before or after it.
            checkins = _window(
                record._checkins[person], start - timedelta(days=1), now, _checked_at
            )
            high_days: dict[date, tuple[str, CheckIn]] = {}
            for checkin_id, checkin in checkins:
                if checkin.activation >= rule.okay_activation_min:
                    day = checkin.recorded_at.date()
                    if day not in high_days or checkin.activation > high_days[day][1].activation:
                        high_days[day] = (checkin_id, checkin)
            refs: list[Evidence] = []
            days: set[date] = set()
            highest = 0
            for status in mine:
                day = status.at.date()
                if day in high_days:
                    checkin_id, checkin = high_days[day]
                    refs.append(Evidence("status", status.id, day))
                    if day not in days:
                        refs.append(Evidence("checkin", checkin_id, day))
                        days.add(day)
                    highest = max(highest, checkin.activation)
            if refs:
                found.append(
                    Finding(
                        Pattern.PRETENDING_OKAY,
                        "okay_while_activated",
                        person,
                        Severity.NOTABLE if len(days) >= rule.notable_count else Severity.GENTLE,
                        "On "
                        + ("a day" if len(days) == 1 else f"{len(days)} days")
                        + " you shared “okay”, your own check-in that day showed activation "
                        f"of {rule.okay_activation_min} or more.",
                        "You do not have to look fine for the two of you to be safe. "
                        "“Struggling” or “need space” are honest choices too, and they keep "
                        "the pace where your body can follow it.",
                        tuple(refs),
                        now,
                        s.version,
                        {"days": len(days), "your_highest_activation": highest},
                    )
                )
        ratings = _window(record._ratings[person], start, now, _rated_at)
        rising = [
            (experience_id, r)
            for experience_id, r in ratings
            if r.safety >= rule.safe_rating_min
            and r.activation_after - r.activation_before >= rule.activation_rise_min
        ]
        if rising:
            found.append(
                Finding(
                    Pattern.PRETENDING_OKAY,
                    "safe_while_rising",
                    person,
                    Severity.NOTABLE if len(rising) >= rule.notable_count else Severity.GENTLE,
                    "You rated "
                    + ("a practice" if len(rising) == 1 else f"{len(rising)} practices")
                    + " as safe while your activation rose by "
                    f"{rule.activation_rise_min} or more.",
                    "Both can be true: it felt safe enough, and your body still climbed. "
                    "You might let your next rating say so; a slower pace is not a failure.",
                    tuple(Evidence("rating", i, r.occurred_at.date()) for i, r in rising),
                    now,
                    s.version,
                    {"practices": len(rising)},
                )
            )
    return tuple(found)


# --- (f) affection to bypass pain ----------------------------------------------------


def detect_affection_bypass(
    record: CoupleRecord, now: datetime, *, settings: DetectorSettings | None = None
) -> tuple[Finding, ...]:
    """Affection or intimacy soon after a conversation that ended unresolved.

    Couple-level: "unresolved" is read from the coarse halves (someone left, or
    someone's activation after reached the line), never from a number.
    """
    _check_now(now)
    s = _settings(settings)
    rule = s.affection_bypass
    within = timedelta(hours=rule.within_hours)
    found: list[Finding] = []
    start = now - timedelta(days=rule.lookback_days)
    for closeness in _window(record.experiences, start, now, _occurred):
        if closeness.tier < rule.min_tier:
            continue
        before = _closed_window(
            record.experiences, closeness.occurred_at - within, closeness.occurred_at, _occurred
        )
        unresolved = [c for c in before if c.tier == rule.conversation_tier and c.ended_unresolved]
        if unresolved:
            found.append(
                Finding(
                    Pattern.AFFECTION_BYPASS,
                    "after_unresolved_conversation",
                    COUPLE,
                    Severity.GENTLE,
                    f"A moment of {_tier_words(closeness.tier)} came within "
                    f"{rule.within_hours} hours of a conversation that ended unresolved.",
                    "Comfort after a hard talk is human. Relief is not repair, though: you "
                    "might first agree when you will come back to the conversation, and let "
                    "closeness follow the repair rather than replace it.",
                    (*(_experience_ref(c) for c in unresolved), _experience_ref(closeness)),
                    now,
                    s.version,
                    {"tier": closeness.tier, "hours": rule.within_hours},
                )
            )
    return tuple(found)


# --- urgency mistaken for readiness ---------------------------------------------------


def detect_urgency_as_readiness(
    record: CoupleRecord, now: datetime, *, settings: DetectorSettings | None = None
) -> tuple[Finding, ...]:
    """Urgency running well ahead of readiness in most recent check-ins; owner-only."""
    _check_now(now)
    s = _settings(settings)
    rule = s.urgency_readiness
    start = now - timedelta(days=rule.lookback_days)
    found: list[Finding] = []
    for person in record.person_ids:
        if person not in record.private:
            continue
        recent = _window(record._checkins[person], start, now, _checked_at)[-rule.recent_checkins :]
        gaps = [(i, c) for i, c in recent if c.urgency_gap >= rule.gap_min]
        if len(gaps) >= rule.flagged_min:
            found.append(
                Finding(
                    Pattern.URGENCY_AS_READINESS,
                    "urgency_ahead_of_readiness",
                    person,
                    Severity.NOTABLE if len(gaps) >= rule.recent_checkins else Severity.GENTLE,
                    f"In {len(gaps)} of your last {len(recent)} check-ins the pull to "
                    f"reconnect ran at least {rule.gap_min} points ahead of your readiness.",
                    "The pull often comes from distress rather than from safety. When it is "
                    "strong, you might try a tier-0 practice first and then ask yourself "
                    "what the urgency is hoping for.",
                    tuple(Evidence("checkin", i, c.recorded_at.date()) for i, c in gaps),
                    now,
                    s.version,
                    {"checkins": len(gaps), "of": len(recent)},
                )
            )
    return tuple(found)


# --- All together --------------------------------------------------------------------

Detector = Callable[..., tuple[Finding, ...]]

DETECTORS: Mapping[Pattern, Detector] = {
    Pattern.RUSHING_INTIMACY: detect_rushing_intimacy,
    Pattern.MINIMIZING: detect_minimizing,
    Pattern.AVOIDING_CONVERSATIONS: detect_avoiding_conversations,
    Pattern.PRESSURING_FORGIVENESS: detect_pressuring_forgiveness,
    Pattern.PRETENDING_OKAY: detect_pretending_okay,
    Pattern.AFFECTION_BYPASS: detect_affection_bypass,
    Pattern.URGENCY_AS_READINESS: detect_urgency_as_readiness,
}
"""One detector per pattern; those that read words also take ``checker``."""

_READ_WORDS = {Pattern.MINIMIZING, Pattern.PRESSURING_FORGIVENESS}


def run_detectors(
    record: CoupleRecord,
    now: datetime,
    *,
    settings: DetectorSettings | None = None,
    checker: TextChecker | None = None,
) -> tuple[Finding, ...]:
    """Every detector at ``now``, in the order of :class:`Pattern`.

    Store each finding under its audience (a person's own findings encrypted for
    them, like any private entry) and show a person only :func:`findings_for` them.
    """
    s = _settings(settings)
    found: list[Finding] = []
    for pattern, detector in DETECTORS.items():
        if pattern in _READ_WORDS:
            found.extend(detector(record, now, settings=s, checker=checker))
        else:
            found.extend(detector(record, now, settings=s))
    return tuple(found)
