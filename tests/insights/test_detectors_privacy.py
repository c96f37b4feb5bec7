"""Who may see what: properties every detector keeps, for any couple's history.

The strongest form of "Hana never sees Ivan's private numbers or words" is that
what Hana sees does not change at all when Ivan's private entries change or
disappear. The tests below draw random shared facts and, independently, random
private entries, and check exactly that, for every detector.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconnect.domain.insights.couple_record import (
    CoupleRecord,
    ExperienceHalf,
    Mood,
    PermittedTier,
    PrivateEntries,
    Proposal,
    Response,
    SharedExperience,
    SharedStatus,
    SharedText,
)
from reconnect.domain.insights.detector_settings import history_needed_since
from reconnect.domain.insights.detectors import DETECTORS, run_detectors
from reconnect.domain.insights.findings import Finding, Pattern, couple_findings, findings_for
from reconnect.domain.pacing.checkins import CheckIn
from reconnect.domain.pacing.experiences import ExperienceRating
from reconnect.domain.pacing.history import COUPLE
from reconnect.domain.pacing.signals import ExperienceSignal
from tests.insights.people import HANA, IVAN, NOW, PARTNERS

FAST = settings(max_examples=40, deadline=None)
PEOPLE = st.sampled_from([HANA, IVAN])
SECRET = "secret-word"
WORDS = st.sampled_from(
    ["", "", "fine", "it was just once", "let's move on", "what about you", "I'm listening"]
)
SCALE = st.integers(0, 10)
# Rules whose findings may only ever come from a person's private entries.
PRIVATE_RULES = {"felt_pressured", "okay_while_activated", "safe_while_rising"}
PRIVATE_RULES |= {"urgency_ahead_of_readiness"}
# The only details a couple-level finding may carry: shared, pace-level facts.
COUPLE_DETAILS = {"tier", "days", "hours", "left", "tries"}


def when(minutes: int) -> datetime:
    return NOW - timedelta(minutes=minutes)


@st.composite
def halves(draw: st.DrawFn, experience_id: str, tier: int, at: datetime) -> dict[str, Any]:
    found: dict[str, ExperienceHalf] = {}
    for person in draw(st.sampled_from([(), (HANA,), (IVAN,), (HANA, IVAN), (HANA, IVAN)])):
        signal = ExperienceSignal(
            person_id=person,
            at=at,
            experience_id=experience_id,
            tier=tier,
            day=at.date(),
            safe=draw(st.booleans()),
            flooded=draw(st.booleans()),
            band_before=draw(st.integers(0, 3)),
            not_worse_after=draw(st.booleans()),
        )
        found[person] = ExperienceHalf(signal, draw(st.booleans()), draw(st.booleans()))
    return found


@st.composite
def shared_records(draw: st.DrawFn, span_days: int = 20) -> dict[str, Any]:
    """Shared facts only, as keyword arguments for CoupleRecord."""
    minutes = st.integers(0, span_days * 24 * 60)
    experiences = []
    for index in range(draw(st.integers(0, 12))):
        tier = draw(st.sampled_from([2, 3, 4, 4, 5, 5, 6]))
        at = when(draw(minutes))
        experience_id = f"x{index}"
        experiences.append(
            SharedExperience(
                experience_id,
                "p",
                tier,
                at,
                draw(PEOPLE),
                draw(st.booleans()),
                draw(halves(experience_id, tier, at)),
            )
        )
    proposals = []
    for index in range(draw(st.integers(0, 6))):
        at = when(draw(minutes))
        response = draw(st.sampled_from([None, Response.ACCEPTED, Response.DECLINED]))
        answered = at + timedelta(minutes=draw(st.integers(1, 3000))) if response else None
        proposals.append(
            Proposal(
                f"p{index}", draw(PEOPLE), "p", draw(st.integers(1, 6)), at, response, answered
            )
        )
    return {
        "experiences": experiences,
        "permitted_tiers": [
            PermittedTier(when(draw(minutes)), draw(st.integers(0, 6)))
            for _ in range(draw(st.integers(0, 4)))
        ],
        "statuses": [
            SharedStatus(
                f"s{i}", draw(PEOPLE), when(draw(minutes)), draw(st.sampled_from(Mood)), draw(WORDS)
            )
            for i in range(draw(st.integers(0, 6)))
        ],
        "proposals": proposals,
        "shared_texts": [
            SharedText(f"t{i}", draw(PEOPLE), when(draw(minutes)), draw(WORDS))
            for i in range(draw(st.integers(0, 4)))
        ],
    }


@st.composite
def private_entries(
    draw: st.DrawFn, person: str, experience_ids: list[str], span_days: int = 20
) -> PrivateEntries:
    """A person's own entries, drawn independently of the shared facts."""
    minutes = st.integers(0, span_days * 24 * 60)
    checkins = {
        f"{person}-c{i}": CheckIn(
            activation=draw(SCALE),
            state=draw(st.sampled_from(["settled", "revved_up", "shut_down"])),
            safety=draw(SCALE),
            urgency=draw(SCALE),
            readiness=draw(SCALE),
            recorded_at=when(draw(minutes)),
            note=f"{SECRET} of {person}",
        )
        for i in range(draw(st.integers(0, 10)))
    }
    ratings = {}
    for experience_id in experience_ids:
        if draw(st.booleans()):
            ratings[experience_id] = ExperienceRating(
                practice_id="p",
                tier=draw(st.integers(0, 6)),
                occurred_at=when(draw(minutes)),
                safety=draw(SCALE),
                activation_before=draw(SCALE),
                activation_after=draw(SCALE),
                staying=draw(st.sampled_from(["stayed", "left_emotionally", "left_physically"])),
                felt_pressured=draw(st.booleans()),
                authenticity=2,
                vulnerability=2,
                transparency=2,
                presence=2,
                note=f"{SECRET} of {person}",
            )
    return PrivateEntries(person, checkins, ratings)


@st.composite
def couples(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, list[PrivateEntries]]]:
    """Shared facts, and for each partner two different versions of their private entries."""
    shared = draw(shared_records())
    ids = [e.id for e in shared["experiences"]]
    versions = {
        person: [draw(private_entries(person, ids)), draw(private_entries(person, ids))]
        for person in (HANA, IVAN)
    }
    return shared, versions


def record(shared: dict[str, Any], *entries: PrivateEntries) -> CoupleRecord:
    return CoupleRecord(PARTNERS, private={e.person_id: e for e in entries}, **shared)


def detector(pattern: Pattern) -> Callable[[CoupleRecord], tuple[Finding, ...]]:
    return lambda r: DETECTORS[pattern](r, NOW)


@pytest.mark.parametrize("pattern", list(Pattern), ids=[p.value for p in Pattern])
@FAST
@given(couple=couples())
def test_what_one_partner_sees_never_depends_on_the_others_private_entries(
    pattern: Pattern, couple: tuple[dict[str, Any], dict[str, list[PrivateEntries]]]
) -> None:
    shared, versions = couple
    run = detector(pattern)
    for me, other in ((HANA, IVAN), (IVAN, HANA)):
        mine = versions[me][0]
        seen = [
            findings_for(run(record(shared, mine, *theirs)), me)
            for theirs in ([versions[other][0]], [versions[other][1]], [])
        ]
        assert seen[0] == seen[1] == seen[2]
        for finding in seen[0]:
            assert f"of {other}" not in str(finding.to_dict())


@pytest.mark.parametrize("pattern", list(Pattern), ids=[p.value for p in Pattern])
@FAST
@given(couple=couples())
def test_couple_level_findings_come_from_shared_facts_alone(
    pattern: Pattern, couple: tuple[dict[str, Any], dict[str, list[PrivateEntries]]]
) -> None:
    shared, versions = couple
    run = detector(pattern)
    unlocked = run(record(shared, versions[HANA][0], versions[IVAN][0]))
    other_entries = run(record(shared, versions[HANA][1], versions[IVAN][1]))
    locked = run(record(shared))
    assert couple_findings(unlocked) == couple_findings(other_entries) == couple_findings(locked)
    for finding in couple_findings(unlocked):
        assert set(finding.details) <= COUPLE_DETAILS
        text = finding.message + finding.try_instead
        assert HANA not in text and IVAN not in text
    # With every key locked, no finding can rest on a private entry.
    assert not {f.rule for f in locked} & PRIVATE_RULES


@FAST
@given(couple=couples())
def test_private_words_never_reach_any_finding(
    couple: tuple[dict[str, Any], dict[str, list[PrivateEntries]]],
) -> None:
    shared, versions = couple
    for finding in run_detectors(record(shared, versions[HANA][0], versions[IVAN][0]), NOW):
        assert SECRET not in str(finding.to_dict())
        assert finding.audience in (COUPLE, HANA, IVAN)
        assert all(isinstance(e.on, date) for e in finding.evidence)


@settings(max_examples=30, deadline=None)
@given(shared=shared_records(span_days=120), data=st.data())
def test_the_history_window_is_all_the_detectors_read(
    shared: dict[str, Any], data: st.DataObject
) -> None:
    ids = [e.id for e in shared["experiences"]]
    mine = data.draw(private_entries(HANA, ids, span_days=120))
    full = run_detectors(record(shared, mine), NOW)
    since = history_needed_since(NOW)
    tiers = sorted(shared["permitted_tiers"], key=lambda t: t.at)
    before = [t for t in tiers if t.at < since][-1:]
    trimmed = {
        "experiences": [e for e in shared["experiences"] if e.occurred_at >= since],
        "permitted_tiers": before + [t for t in tiers if t.at >= since],
        "statuses": [s for s in shared["statuses"] if s.at >= since],
        "proposals": [p for p in shared["proposals"] if p.at >= since],
        "shared_texts": [t for t in shared["shared_texts"] if t.at >= since],
    }
    recent = PrivateEntries(
        HANA,
        {i: c for i, c in mine.checkins.items() if c.recorded_at >= since},
        {i: r for i, r in mine.ratings.items() if r.occurred_at >= since},
    )
    assert run_detectors(record(trimmed, recent), NOW) == full
