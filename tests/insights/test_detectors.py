"""Each false-connection detector, on both sides of every threshold.

Hana is the hurt partner and Ivan the involved partner. ``Couple`` below writes
their shared facts and private entries the way storage will assemble them; the
halves of each experience go through the real ``experience_half``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from reconnect.domain.insights.affection_bypass import detect_affection_bypass
from reconnect.domain.insights.avoiding_conversations import detect_avoiding_conversations
from reconnect.domain.insights.couple_record import (
    CoupleRecord,
    ExperienceHalf,
    InvalidRecord,
    Mood,
    PermittedTier,
    PrivateEntries,
    Proposal,
    Response,
    SharedExperience,
    SharedStatus,
    SharedText,
    experience_half,
)
from reconnect.domain.insights.detector_settings import (
    DetectorSettings,
    InvalidDetectorSettings,
    history_needed_since,
    load_detector_settings,
    settings_from_mapping,
    words_needed_since,
)
from reconnect.domain.insights.detectors import run_detectors
from reconnect.domain.insights.findings import (
    Evidence,
    Finding,
    Pattern,
    Severity,
    couple_findings,
    findings_for,
)
from reconnect.domain.insights.minimizing import detect_minimizing
from reconnect.domain.insights.pressuring_forgiveness import detect_pressuring_forgiveness
from reconnect.domain.insights.pretending_okay import detect_pretending_okay
from reconnect.domain.insights.rushing_intimacy import detect_rushing_intimacy
from reconnect.domain.insights.text_checker import (
    PhraseList,
    TextConcern,
    TextFlag,
    load_phrase_list,
)
from reconnect.domain.insights.urgency_as_readiness import detect_urgency_as_readiness
from reconnect.domain.pacing.checkins import CheckIn
from reconnect.domain.pacing.experiences import ExperienceRating
from reconnect.domain.pacing.history import COUPLE
from reconnect.domain.pacing.policy import load_policy
from tests.insights.people import HANA, IVAN, NOW, PARTNERS

POLICY = load_policy()
SETTINGS = load_detector_settings()
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)

CALM_CHECKIN: dict[str, Any] = {
    "activation": 2,
    "state": "settled",
    "safety": 7,
    "urgency": 3,
    "readiness": 5,
}
SAFE_RATING: dict[str, Any] = {
    "safety": 8,
    "activation_before": 3,
    "activation_after": 2,
    "staying": "stayed",
    "felt_pressured": False,
    "authenticity": 3,
    "vulnerability": 2,
    "transparency": 3,
    "presence": 3,
}
_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


@dataclass
class Couple:
    """Hana and Ivan's shared facts and private entries, written as a story."""

    experiences: list[SharedExperience] = field(default_factory=list)
    tiers: list[PermittedTier] = field(default_factory=list)
    statuses: list[SharedStatus] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    texts: list[SharedText] = field(default_factory=list)
    checkins: dict[str, dict[str, CheckIn]] = field(default_factory=lambda: {HANA: {}, IVAN: {}})
    ratings: dict[str, dict[str, ExperienceRating]] = field(
        default_factory=lambda: {HANA: {}, IVAN: {}}
    )

    def practice(
        self,
        at: datetime,
        tier: int,
        *,
        by: str = HANA,
        started_by: str | None = None,
        ahead: bool = False,
        hana: dict[str, Any] | None = None,
        ivan: dict[str, Any] | None = None,
        rated_by: Sequence[str] = (HANA, IVAN),
    ) -> str:
        """A shared practice; each partner in ``rated_by`` rates it (safe unless told)."""
        experience_id = _id("x")
        halves: dict[str, ExperienceHalf] = {}
        for person, overrides in ((HANA, hana), (IVAN, ivan)):
            if person not in rated_by:
                continue
            rating = ExperienceRating(
                practice_id="p",
                tier=tier,
                occurred_at=at,
                **{**SAFE_RATING, **(overrides or {})},
            )
            self.ratings[person][experience_id] = rating
            halves[person] = experience_half(person, experience_id, rating, POLICY)
        self.experiences.append(
            SharedExperience(experience_id, "p", tier, at, by, ahead, halves, started_by)
        )
        return experience_id

    def checkin(self, person: str, at: datetime, **overrides: Any) -> str:
        checkin_id = _id("c")
        self.checkins[person][checkin_id] = CheckIn(recorded_at=at, **{**CALM_CHECKIN, **overrides})
        return checkin_id

    def status(self, person: str, at: datetime, mood: str, words: str = "") -> str:
        status_id = _id("s")
        self.statuses.append(SharedStatus(status_id, person, at, Mood(mood), words))
        return status_id

    def share(self, author: str, at: datetime, text: str) -> str:
        text_id = _id("t")
        self.texts.append(SharedText(text_id, author, at, text))
        return text_id

    def propose(
        self,
        by: str,
        tier: int,
        at: datetime,
        response: str | None = None,
        after: timedelta = H,
    ) -> str:
        proposal_id = _id("p")
        answer = Response(response) if response else None
        self.proposals.append(
            Proposal(proposal_id, by, "p", tier, at, answer, at + after if answer else None)
        )
        return proposal_id

    def pace(self, at: datetime, tier: int) -> None:
        self.tiers.append(PermittedTier(at, tier))

    def record(self, unlocked: Sequence[str] = (HANA, IVAN)) -> CoupleRecord:
        return CoupleRecord(
            PARTNERS,
            experiences=self.experiences,
            permitted_tiers=self.tiers,
            statuses=self.statuses,
            proposals=self.proposals,
            shared_texts=self.texts,
            private={
                person: PrivateEntries(person, self.checkins[person], self.ratings[person])
                for person in unlocked
            },
        )


def rules(findings: Sequence[Finding]) -> list[tuple[str, str]]:
    return [(f.rule, f.audience) for f in findings]


# --- (a) rushing physical intimacy --------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "ahead", "expected"),
    [(5, True, True), (6, True, True), (4, True, False), (6, False, False)],
)
def test_intimacy_ahead_of_the_pace_is_a_couple_level_reflection(
    tier: int, ahead: bool, expected: bool
) -> None:
    couple = Couple()
    couple.practice(NOW - D, tier, ahead=ahead)
    found = detect_rushing_intimacy(couple.record(), NOW)
    assert rules(found) == ([("ahead_of_pace", COUPLE)] if expected else [])


@pytest.mark.parametrize(("age", "expected"), [(14 * D - M, True), (14 * D, False)])
def test_rushing_looks_back_14_days(age: timedelta, expected: bool) -> None:
    couple = Couple()
    couple.practice(NOW - age, 6, ahead=True)
    assert bool(detect_rushing_intimacy(couple.record(), NOW)) is expected


@pytest.mark.parametrize(
    ("ivan_before", "hana_before", "expected"),
    [(3, 4, True), (3, 3, False), (4, 5, False), (6, 4, False), (0, 9, True)],
)
def test_intimacy_started_by_the_calmer_partner_is_told_to_the_starter_only(
    ivan_before: int, hana_before: int, expected: bool
) -> None:
    """Bands of activation before are 0-3, 4-5, 6-7, 8-10: only a band difference counts."""
    couple = Couple()
    couple.practice(
        NOW - D,
        5,
        by=HANA,
        started_by=IVAN,
        hana={"activation_before": hana_before},
        ivan={"activation_before": ivan_before},
    )
    found = detect_rushing_intimacy(couple.record(), NOW)
    assert rules(found) == ([("started_by_calmer_partner", IVAN)] if expected else [])
    assert not findings_for(found, HANA)


def test_whoever_logged_a_practice_is_not_taken_as_the_one_who_started_it() -> None:
    """Issue 12, finding 10: Ivan, the calmer one, logs what Hana started."""
    couple = Couple()
    calm_ivan, tense_hana = {"activation_before": 1}, {"activation_before": 5}
    couple.practice(NOW - D, 5, by=IVAN, started_by=HANA, ivan=calm_ivan, hana=tense_hana)
    # Nobody said who started this one.
    couple.practice(NOW - D + M, 5, by=IVAN, ivan=calm_ivan, hana=tense_hana)
    found = detect_rushing_intimacy(couple.record(), NOW)
    assert "started_by_calmer_partner" not in [rule for rule, _ in rules(found)]


def test_starting_cannot_be_judged_before_both_halves_arrive() -> None:
    couple = Couple()
    couple.practice(NOW - D, 5, by=IVAN, ivan={"activation_before": 0}, rated_by=(IVAN,))
    assert detect_rushing_intimacy(couple.record(), NOW) == ()


@pytest.mark.parametrize(("tier", "expected"), [(5, True), (6, True), (4, False)])
def test_feeling_pressured_is_reflected_to_that_person_alone(tier: int, expected: bool) -> None:
    couple = Couple()
    couple.practice(NOW - D, tier, hana={"felt_pressured": True})
    found = detect_rushing_intimacy(couple.record(), NOW)
    assert rules(found) == ([("felt_pressured", HANA)] if expected else [])
    assert findings_for(found, IVAN) == ()
    assert couple_findings(found) == ()


def test_feeling_pressured_is_only_read_while_its_owners_key_is_unlocked() -> None:
    couple = Couple()
    couple.practice(NOW - D, 6, hana={"felt_pressured": True})
    assert detect_rushing_intimacy(couple.record(unlocked=(IVAN,)), NOW) == ()


def test_the_couple_hears_about_the_pace_never_about_pressure() -> None:
    couple = Couple()
    couple.practice(NOW - D, 6, ahead=True, hana={"felt_pressured": True})
    found = detect_rushing_intimacy(couple.record(), NOW)
    (shared,) = couple_findings(found)
    assert "pressur" not in (shared.message + shared.try_instead).lower()
    assert dict(shared.details) == {"tier": 6}


# --- (b) minimizing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("It was just a few messages.", True),
        ("IT WAS  JUST\na mistake", True),
        ("You’re overreacting.", True),
        ("What about you and your phone?", True),
        ("It was justified to be angry and I understand.", False),
        ("I hurt you and I am sorry.", False),
    ],
)
def test_minimizing_words_are_reflected_to_their_author_only(words: str, expected: bool) -> None:
    couple = Couple()
    couple.share(IVAN, NOW - H, words)
    found = detect_minimizing(couple.record(), NOW)
    assert rules(found) == ([("shared_words", IVAN)] if expected else [])
    assert findings_for(found, HANA) == ()


def test_words_in_a_shared_status_count_too() -> None:
    couple = Couple()
    status = couple.status(HANA, NOW - H, "okay", "you need to get over it, me too")
    (finding,) = detect_minimizing(couple.record(), NOW)
    assert finding.audience == HANA
    assert [e.id for e in finding.evidence] == [status]
    assert "“you need to get over”" in finding.message


@pytest.mark.parametrize(("count", "severity"), [(2, Severity.GENTLE), (3, Severity.NOTABLE)])
def test_three_flagged_texts_make_minimizing_notable(count: int, severity: Severity) -> None:
    couple = Couple()
    for index in range(count):
        couple.share(IVAN, NOW - (index + 1) * D, "it meant nothing")
    (finding,) = detect_minimizing(couple.record(), NOW)
    assert finding.severity is severity
    assert len(finding.evidence) == count


@pytest.mark.parametrize(("age", "expected"), [(14 * D - M, True), (14 * D, False)])
def test_minimizing_looks_back_14_days(age: timedelta, expected: bool) -> None:
    couple = Couple()
    couple.share(IVAN, NOW - age, "it was just once")
    assert bool(detect_minimizing(couple.record(), NOW)) is expected


def test_a_message_coach_can_replace_the_phrase_list() -> None:
    class Coach:
        def check(self, text: str) -> Sequence[TextFlag]:
            return [TextFlag(TextConcern.MINIMIZING, "coach")] if "smaller" in text else []

    couple = Couple()
    couple.share(IVAN, NOW - H, "it was just smaller")
    (finding,) = detect_minimizing(couple.record(), NOW, checker=Coach())
    assert "“coach”" in finding.message


def test_the_phrase_list_matches_whole_words_and_either_apostrophe() -> None:
    phrases = PhraseList({TextConcern.MINIMIZING: ["it wasn't that bad"]})
    assert phrases.check("It wasn’t that bad!") == (
        TextFlag(TextConcern.MINIMIZING, "it wasn't that bad"),
    )
    assert phrases.check("it wasn't that badly meant") == ()
    shipped = load_phrase_list()
    assert shipped.version == "v1"
    assert {f.concern for f in shipped.check("Let's move on, it was just a kiss")} == {
        TextConcern.MINIMIZING,
        TextConcern.PRESSURING_FORGIVENESS,
    }


# --- (c) avoiding difficult conversations -------------------------------------------


def test_a_quiet_fortnight_while_the_pace_allowed_more_is_named() -> None:
    couple = Couple()
    couple.pace(NOW - 30 * D, 4)
    couple.practice(NOW - 3 * D, 2)  # lighter practices do not break the quiet
    (finding,) = detect_avoiding_conversations(couple.record(), NOW)
    assert (finding.rule, finding.audience) == ("quiet_stretch", COUPLE)
    assert [e.kind for e in finding.evidence] == ["period", "period"]


@pytest.mark.parametrize(("age", "expected"), [(14 * D, True), (14 * D - M, False)])
def test_a_tier_3_practice_within_14_days_breaks_the_quiet(age: timedelta, expected: bool) -> None:
    couple = Couple()
    couple.pace(NOW - 30 * D, 4)
    couple.practice(NOW - age, 3)
    found = detect_avoiding_conversations(couple.record(), NOW)
    assert rules(found) == ([("quiet_stretch", COUPLE)] if expected else [])


@pytest.mark.parametrize(("extra", "expected"), [(timedelta(0), False), (M, True)])
def test_the_pace_must_have_allowed_tier_3_for_more_than_half_the_time(
    extra: timedelta, expected: bool
) -> None:
    couple = Couple()
    couple.pace(NOW - 30 * D, 2)
    couple.pace(NOW - 7 * D - extra, 3)  # from here on tier 3 was allowed
    found = detect_avoiding_conversations(couple.record(), NOW)
    assert bool(found) is expected


def test_no_stored_pace_means_nothing_was_allowed() -> None:
    assert detect_avoiding_conversations(Couple().record(), NOW) == ()


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        ((False, True, True), Severity.GENTLE),
        ((True, False, True), Severity.GENTLE),
        ((True, True, True), Severity.NOTABLE),
        ((False, False, True), None),
        ((True, True, False, False, False), None),  # only the last three tries count
    ],
)
def test_conversations_left_early_on_two_of_the_last_three_tries(
    left: tuple[bool, ...], expected: Severity | None
) -> None:
    couple = Couple()
    couple.pace(NOW - 30 * D, 4)
    couple.practice(NOW - 2 * D, 3)  # not quiet
    for index, someone_left in enumerate(left):
        at = NOW - (len(left) - index) * D
        who = HANA if index % 2 else IVAN
        staying = {"staying": "left_emotionally"} if someone_left else {}
        couple.practice(at, 4, **{who: staying})  # type: ignore[arg-type]
    found = detect_avoiding_conversations(couple.record(), NOW)
    if expected is None:
        assert found == ()
        return
    (finding,) = found
    assert (finding.rule, finding.audience, finding.severity) == ("left_early", COUPLE, expected)
    text = (finding.message + finding.try_instead).lower()
    assert HANA not in text and IVAN not in text and "your partner" not in text


def test_left_early_only_counts_tries_within_60_days() -> None:
    couple = Couple()
    couple.practice(NOW - 61 * D, 4, hana={"staying": "left_physically"})
    couple.practice(NOW - 59 * D, 4, hana={"staying": "left_physically"})
    assert detect_avoiding_conversations(couple.record(), NOW) == ()


# --- (d) pressuring forgiveness -----------------------------------------------------


@pytest.mark.parametrize(("gap", "expected"), [(7 * D, True), (7 * D + M, False)])
def test_asking_again_within_7_days_of_a_no(gap: timedelta, expected: bool) -> None:
    couple = Couple()
    couple.propose(IVAN, 5, NOW - 10 * D - H, "declined", after=H)  # declined at NOW - 10 days
    again = couple.propose(IVAN, 5, NOW - 10 * D + gap)
    found = detect_pressuring_forgiveness(couple.record(), NOW)
    if not expected:
        assert found == ()
        return
    assert rules(found) == [("asked_again", IVAN), ("asked_again", COUPLE)]
    assert found[0].evidence[-1].id == again
    assert rules(findings_for(found, HANA)) == [("asked_again", COUPLE)]


@pytest.mark.parametrize(("tier", "expected"), [(4, False), (5, True)])
def test_only_asking_for_more_than_the_other_accepted_counts(tier: int, expected: bool) -> None:
    couple = Couple()
    couple.propose(IVAN, 4, NOW - 5 * D, "accepted")
    couple.propose(IVAN, 6, NOW - 3 * D, "declined")
    couple.propose(IVAN, tier, NOW - 2 * D)
    assert bool(detect_pressuring_forgiveness(couple.record(), NOW)) is expected


@pytest.mark.parametrize(("age", "expected"), [(30 * D, False), (30 * D + M, True)])
def test_an_acceptance_older_than_30_days_no_longer_sets_the_bar(
    age: timedelta, expected: bool
) -> None:
    couple = Couple()
    couple.propose(IVAN, 4, NOW - 2 * D - age - H, "accepted")  # accepted 1 hour later
    couple.propose(IVAN, 4, NOW - 3 * D, "declined")
    couple.propose(IVAN, 4, NOW - 2 * D)  # the same again: only a recent yes covers it
    assert bool(detect_pressuring_forgiveness(couple.record(), NOW)) is expected


def test_a_proposal_after_the_others_no_to_someone_else_is_not_asking_again() -> None:
    couple = Couple()
    couple.propose(HANA, 5, NOW - 3 * D, "declined")  # Ivan said no to Hana
    couple.propose(IVAN, 5, NOW - 2 * D)
    assert detect_pressuring_forgiveness(couple.record(), NOW) == ()


@pytest.mark.parametrize(("tier", "expected"), [(4, False), (5, True), (6, True)])
def test_with_no_recent_yes_asking_again_means_at_least_the_declined_tier(
    tier: int, expected: bool
) -> None:
    couple = Couple()
    couple.propose(HANA, 5, NOW - 3 * D, "declined")
    couple.propose(HANA, tier, NOW - 1 * D)
    found = detect_pressuring_forgiveness(couple.record(), NOW)
    assert rules(found) == ([("asked_again", HANA), ("asked_again", COUPLE)] if expected else [])


def test_a_no_answered_after_the_new_proposal_does_not_count() -> None:
    couple = Couple()
    couple.propose(IVAN, 5, NOW - 3 * D, "declined", after=2 * D)
    couple.propose(IVAN, 5, NOW - 2 * D)
    assert detect_pressuring_forgiveness(couple.record(), NOW) == ()


def test_words_that_push_for_forgiveness_go_to_their_author() -> None:
    couple = Couple()
    couple.share(IVAN, NOW - H, "I already said sorry, can we move on?")
    found = detect_pressuring_forgiveness(couple.record(), NOW)
    assert rules(found) == [("shared_words", IVAN)]
    assert findings_for(found, HANA) == ()


# --- (e) pretending things are okay -------------------------------------------------


@pytest.mark.parametrize(
    ("activation", "checkin_at", "expected"),
    [
        (7, NOW - 3 * H, True),
        (6, NOW - 3 * H, False),
        (9, NOW - 20 * H, True),  # earlier the same day
        (9, NOW - 22 * H, False),  # the day before
    ],
)
def test_okay_shared_while_ones_own_checkin_is_high(
    activation: int, checkin_at: datetime, expected: bool
) -> None:
    couple = Couple()
    couple.status(HANA, NOW - 2 * H, "okay")
    couple.checkin(HANA, checkin_at, activation=activation, state="revved_up")
    found = detect_pretending_okay(couple.record(), NOW)
    assert rules(found) == ([("okay_while_activated", HANA)] if expected else [])
    assert findings_for(found, IVAN) == ()


@pytest.mark.parametrize("mood", ["struggling", "need_space"])
def test_an_honest_status_is_never_flagged(mood: str) -> None:
    couple = Couple()
    couple.status(HANA, NOW - 2 * H, mood)
    couple.checkin(HANA, NOW - 3 * H, activation=9)
    assert detect_pretending_okay(couple.record(), NOW) == ()


def test_okay_is_only_compared_with_the_same_persons_checkin_while_unlocked() -> None:
    couple = Couple()
    couple.status(HANA, NOW - 2 * H, "okay")
    couple.checkin(IVAN, NOW - 3 * H, activation=9)  # Ivan's number says nothing of Hana
    couple.checkin(HANA, NOW - 3 * H, activation=9)
    assert detect_pretending_okay(couple.record(unlocked=(IVAN,)), NOW) == ()
    assert rules(detect_pretending_okay(couple.record(), NOW)) == [("okay_while_activated", HANA)]


@pytest.mark.parametrize(
    ("safety", "before", "after", "expected"),
    [(6, 2, 5, True), (5, 2, 5, False), (6, 2, 4, False), (10, 0, 10, True)],
)
def test_rated_safe_while_activation_rose(
    safety: int, before: int, after: int, expected: bool
) -> None:
    couple = Couple()
    couple.practice(
        NOW - D, 2, ivan={"safety": safety, "activation_before": before, "activation_after": after}
    )
    found = detect_pretending_okay(couple.record(), NOW)
    assert rules(found) == ([("safe_while_rising", IVAN)] if expected else [])


@pytest.mark.parametrize(("days", "severity"), [(1, Severity.GENTLE), (2, Severity.NOTABLE)])
def test_okay_on_two_high_days_is_notable(days: int, severity: Severity) -> None:
    couple = Couple()
    for day in range(days):
        couple.status(HANA, NOW - day * D - H, "okay")
        couple.checkin(HANA, NOW - day * D - 2 * H, activation=8)
    (finding,) = detect_pretending_okay(couple.record(), NOW)
    assert finding.severity is severity
    assert finding.details["days"] == days


# --- (f) affection to bypass pain ---------------------------------------------------


@pytest.mark.parametrize(("gap", "expected"), [(24 * H, True), (24 * H + M, False), (M, True)])
def test_affection_within_24_hours_of_a_conversation_someone_left(
    gap: timedelta, expected: bool
) -> None:
    couple = Couple()
    couple.practice(NOW - 2 * D, 4, hana={"staying": "left_physically"})
    couple.practice(NOW - 2 * D + gap, 5)
    found = detect_affection_bypass(couple.record(), NOW)
    assert rules(found) == ([("after_unresolved_conversation", COUPLE)] if expected else [])


@pytest.mark.parametrize(("after", "expected"), [(7, True), (6, False)])
def test_a_conversation_that_ended_activated_counts_as_unresolved(
    after: int, expected: bool
) -> None:
    couple = Couple()
    couple.practice(NOW - 2 * D, 4, ivan={"activation_after": after})
    couple.practice(NOW - 2 * D + 3 * H, 6)
    found = detect_affection_bypass(couple.record(), NOW)
    assert bool(found) is expected
    for finding in found:
        assert str(after) not in finding.message + finding.try_instead


@pytest.mark.parametrize(("tier", "expected"), [(5, True), (4, False), (3, False)])
def test_only_affection_or_intimacy_after_the_conversation_counts(
    tier: int, expected: bool
) -> None:
    couple = Couple()
    couple.practice(NOW - 2 * D, 4, hana={"staying": "left_emotionally"})
    couple.practice(NOW - 2 * D + H, tier)
    assert bool(detect_affection_bypass(couple.record(), NOW)) is expected


def test_affection_after_a_conversation_that_ended_well_is_fine() -> None:
    couple = Couple()
    couple.practice(NOW - 2 * D, 4)
    couple.practice(NOW - 2 * D + H, 5)
    assert detect_affection_bypass(couple.record(), NOW) == ()


# --- urgency mistaken for readiness -------------------------------------------------


@pytest.mark.parametrize(
    ("gaps", "expected"),
    [
        ((4, 4, 4, 0, 0), Severity.GENTLE),
        ((3, 4, 4, 4, 3), Severity.GENTLE),
        ((4, 4, 4, 4, 4), Severity.NOTABLE),
        ((3, 3, 4, 4, 0), None),
        ((4, 4, 4, 0, 0, 0, 0, 0), None),  # only the last five count
    ],
)
def test_urgency_ahead_of_readiness_on_three_of_the_last_five_checkins(
    gaps: tuple[int, ...], expected: Severity | None
) -> None:
    couple = Couple()
    for index, gap in enumerate(gaps):
        couple.checkin(IVAN, NOW - (len(gaps) - index) * 6 * H, urgency=2 + gap, readiness=2)
    found = detect_urgency_as_readiness(couple.record(), NOW)
    if expected is None:
        assert found == ()
        return
    (finding,) = found
    assert (finding.audience, finding.severity) == (IVAN, expected)
    assert findings_for(found, HANA) == ()


def test_urgency_needs_its_owner_unlocked_and_looks_back_14_days() -> None:
    couple = Couple()
    for day in (15, 16, 17):
        couple.checkin(HANA, NOW - day * D, urgency=9, readiness=1)
    assert detect_urgency_as_readiness(couple.record(), NOW) == ()
    for hour in (1, 2, 3):
        couple.checkin(HANA, NOW - hour * H, urgency=9, readiness=1)
    assert detect_urgency_as_readiness(couple.record(unlocked=(IVAN,)), NOW) == ()
    assert len(detect_urgency_as_readiness(couple.record(), NOW)) == 1


# --- Everything together ------------------------------------------------------------


def busy_couple() -> Couple:
    couple = Couple()
    couple.pace(NOW - 40 * D, 4)
    couple.practice(NOW - 3 * D, 4, hana={"staying": "left_emotionally"})
    couple.practice(NOW - 3 * D + 2 * H, 6, by=IVAN, ahead=True, hana={"felt_pressured": True})
    couple.practice(NOW - 2 * D, 4, ivan={"staying": "left_physically"})
    couple.share(IVAN, NOW - D, "it was just a phase, let's move on")
    couple.status(HANA, NOW - 5 * H, "okay")
    couple.checkin(HANA, NOW - 6 * H, activation=8, state="revved_up")
    couple.propose(IVAN, 6, NOW - 5 * D, "declined")
    couple.propose(IVAN, 6, NOW - 4 * D)
    for hour in (2, 8, 14):
        couple.checkin(IVAN, NOW - hour * H, urgency=9, readiness=3)
    return couple


def test_run_detectors_finds_every_pattern_in_a_busy_fortnight() -> None:
    found = run_detectors(busy_couple().record(), NOW)
    assert {f.pattern for f in found} == set(Pattern)
    assert {f.audience for f in found} == {COUPLE, HANA, IVAN}
    assert all(f.found_at == NOW and f.settings_version == "v1" for f in found)


def test_each_person_sees_the_couple_and_their_own_findings_only() -> None:
    found = run_detectors(busy_couple().record(), NOW)
    for person in (HANA, IVAN):
        visible = findings_for(found, person)
        assert {f.audience for f in visible} == {COUPLE, person}
        assert set(visible) | set(findings_for(found, {HANA: IVAN, IVAN: HANA}[person])) == set(
            found
        )
    assert {f.audience for f in couple_findings(found)} == {COUPLE}
    with pytest.raises(ValueError, match="couple_findings"):
        findings_for(found, COUPLE)


def test_findings_survive_a_trip_through_json() -> None:
    for finding in run_detectors(busy_couple().record(), NOW):
        assert Finding.from_dict(finding.to_dict()) == finding


def test_a_findings_key_stays_the_same_as_evidence_grows() -> None:
    couple = Couple()
    couple.share(IVAN, NOW - 3 * D, "it meant nothing")
    (first,) = detect_minimizing(couple.record(), NOW)
    couple.share(IVAN, NOW - D, "it meant nothing")
    (later,) = detect_minimizing(couple.record(), NOW)
    assert first.key == later.key
    assert len(later.evidence) == 2


def test_storage_may_pass_only_the_history_the_detectors_need() -> None:
    couple = busy_couple()
    for day in range(40, 400, 3):  # old history that no window reaches
        couple.practice(NOW - day * D, 6, ahead=True, hana={"felt_pressured": True})
        couple.checkin(IVAN, NOW - day * D, urgency=10, readiness=0)
        couple.share(IVAN, NOW - day * D, "let's move on")
    full = run_detectors(couple.record(), NOW)
    since = history_needed_since(NOW)
    trimmed = Couple(
        experiences=[e for e in couple.experiences if e.occurred_at >= since],
        tiers=couple.tiers,
        statuses=couple.statuses,
        proposals=couple.proposals,
        texts=[t for t in couple.texts if t.at >= since],
        checkins={
            p: {i: c for i, c in cs.items() if c.recorded_at >= since}
            for p, cs in couple.checkins.items()
        },
        ratings={
            p: {i: r for i, r in rs.items() if r.occurred_at >= since}
            for p, rs in couple.ratings.items()
        },
    )
    assert run_detectors(trimmed.record(), NOW) == full


def test_storage_may_pass_only_the_notes_the_word_windows_read() -> None:
    couple = busy_couple()
    for day in range(1, 60):  # a note a day for two months, "moving on" in each
        couple.share(IVAN, NOW - day * D + H, "let's just move on, it meant nothing")
        couple.share(HANA, NOW - day * D + 2 * H, "I am still hurting")
    full = run_detectors(couple.record(), NOW)
    since = words_needed_since(NOW)
    assert since > history_needed_since(NOW)  # a shorter window than the rest
    trimmed = replace(couple, texts=[t for t in couple.texts if t.at >= since])
    assert run_detectors(trimmed.record(), NOW) == full


def test_a_record_refuses_outsiders() -> None:
    couple = Couple()
    couple.share("charlie", NOW - H, "hello")
    with pytest.raises(InvalidRecord):
        couple.record()
    with pytest.raises(InvalidRecord):
        CoupleRecord(PARTNERS, private={HANA: PrivateEntries(IVAN)})
    with pytest.raises(InvalidRecord):
        Proposal("p", IVAN, "p", 4, NOW, Response.DECLINED, None)


def test_now_needs_a_time_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        detect_affection_bypass(Couple().record(), NOW.replace(tzinfo=None))


def test_the_shipped_settings_load_and_bad_ones_are_refused() -> None:
    assert load_detector_settings("v1") == SETTINGS
    with pytest.raises(InvalidDetectorSettings, match="v9"):
        load_detector_settings("v9")
    import tomllib
    from importlib import resources

    raw = (
        resources.files("reconnect.domain.insights").joinpath("data", "detectors.toml").read_text()
    )
    table = tomllib.loads(raw)["v1"]
    broken = {**table, "urgency_readiness": {**table["urgency_readiness"], "flagged_min": 6}}
    with pytest.raises(InvalidDetectorSettings, match="flagged_min"):
        settings_from_mapping("v1", broken)
    missing = {k: v for k, v in table.items() if k != "minimizing"}
    with pytest.raises(InvalidDetectorSettings, match="minimizing"):
        settings_from_mapping("v1", missing)
    typo = {**table, "minimizing": {**table["minimizing"], "lookback": 3}}
    with pytest.raises(InvalidDetectorSettings, match="unknown"):
        settings_from_mapping("v1", typo)


def test_a_tuned_setting_moves_the_threshold() -> None:
    quicker: DetectorSettings = replace(
        SETTINGS, urgency_readiness=replace(SETTINGS.urgency_readiness, flagged_min=1)
    )
    couple = Couple()
    couple.checkin(HANA, NOW - H, urgency=9, readiness=1)
    assert detect_urgency_as_readiness(couple.record(), NOW) == ()
    assert len(detect_urgency_as_readiness(couple.record(), NOW, settings=quicker)) == 1


def test_evidence_names_ids_and_days_only() -> None:
    for finding in run_detectors(busy_couple().record(), NOW):
        for item in finding.evidence:
            assert isinstance(item, Evidence)
            assert set(vars(item)) == {"kind", "id", "on"}
