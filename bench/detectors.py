"""How fast every false-connection detector runs, for 1,000 couples with 1 and 2 years.

Run: python bench/detectors.py

Each synthetic couple lives a day at a time: one to three private check-ins
each, a shared status most days (sometimes with words from a small pool, some
of them on the phrase list), a shared practice most evenings at about the
permitted tier (now and then a step ahead of it), both partners' ratings with
their halves, a proposal every week or so (accepted or declined), a shared note
now and then, and the permitted tier stored each evening. Both partners' keys
are unlocked, so every detector, private ones included, does its work.

Building 1,000 distinct two-year histories would take gigabytes, so the
benchmark builds 100 distinct couples and assembles each one into 10 separate
records. The timing covers ``run_detectors`` on every record at the end of the
last day, with the whole history in the record (storage could pass less, see
``history_needed_since``). Each detector only reads its own window, found by
binary search, so twice the history should cost about the same.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

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
    experience_half,
)
from reconnect.domain.insights.detector_settings import load_detector_settings
from reconnect.domain.insights.detectors import run_detectors
from reconnect.domain.insights.text_checker import load_phrase_list
from reconnect.domain.pacing.checkins import CheckIn
from reconnect.domain.pacing.experiences import ExperienceRating
from reconnect.domain.pacing.history import Partner, Role
from reconnect.domain.pacing.policy import Policy, load_policy

HURT, INVOLVED = "hana", "ivan"
PARTNERS = (Partner(HURT, Role.HURT), Partner(INVOLVED, Role.INVOLVED))
START = datetime(2023, 1, 2, 7, 0, tzinfo=UTC)
COUPLES = 1000
DISTINCT = 100
TARGET_RATIO = 2.2
WORDS = (
    "",
    "",
    "",
    "tired but here",
    "thank you for listening last night",
    "it was just a bad day",
    "let's move on from this",
    "I want to understand what it was like for you",
)


def live(days: int, seed: int, policy: Policy) -> dict[str, Any]:
    """The raw lists of one couple's life over ``days`` days (what storage would load)."""
    rng = random.Random(seed)
    experiences: list[SharedExperience] = []
    tiers: list[PermittedTier] = []
    statuses: list[SharedStatus] = []
    proposals: list[Proposal] = []
    texts: list[SharedText] = []
    checkins: dict[str, dict[str, CheckIn]] = {HURT: {}, INVOLVED: {}}
    ratings: dict[str, dict[str, ExperienceRating]] = {HURT: {}, INVOLVED: {}}
    permitted = 1
    for day in range(days):
        morning = START + timedelta(days=day)
        evening = morning + timedelta(hours=12)
        for person in (HURT, INVOLVED):
            for index in range(rng.randint(1, 3)):
                tense = rng.random() < 0.15
                checkins[person][f"c{day}-{person}-{index}"] = CheckIn(
                    activation=rng.randint(6, 9) if tense else rng.randint(0, 5),
                    state="revved_up" if tense else "settled",
                    safety=rng.randint(3, 9),
                    urgency=rng.randint(0, 10),
                    readiness=rng.randint(2, 9),
                    recorded_at=morning + timedelta(hours=4 * index, minutes=rng.randint(0, 90)),
                )
            if rng.random() < 0.7:
                statuses.append(
                    SharedStatus(
                        f"s{day}-{person}",
                        person,
                        morning + timedelta(hours=2),
                        rng.choice((Mood.OKAY, Mood.OKAY, Mood.STRUGGLING, Mood.NEED_SPACE)),
                        rng.choice(WORDS),
                    )
                )
        permitted = max(0, min(6, permitted + rng.choice((-1, 0, 0, 0, 1))))
        tiers.append(PermittedTier(evening - timedelta(hours=1), permitted))
        if rng.random() < 0.8:
            tier = min(6, permitted + (1 if rng.random() < 0.05 else 0))
            experience_id = f"x{day}"
            halves: dict[str, ExperienceHalf] = {}
            for person in (HURT, INVOLVED):
                if rng.random() < 0.9:
                    before = rng.randint(0, 7)
                    rating = ExperienceRating(
                        practice_id="practice",
                        tier=tier,
                        occurred_at=evening,
                        safety=rng.randint(4, 10),
                        activation_before=before,
                        activation_after=max(0, min(10, before + rng.randint(-3, 3))),
                        staying="stayed" if rng.random() < 0.9 else "left_emotionally",
                        felt_pressured=rng.random() < 0.05,
                        authenticity=rng.randint(1, 4),
                        vulnerability=rng.randint(1, 4),
                        transparency=rng.randint(1, 4),
                        presence=rng.randint(1, 4),
                    )
                    ratings[person][experience_id] = rating
                    halves[person] = experience_half(person, experience_id, rating, policy)
            experiences.append(
                SharedExperience(
                    experience_id,
                    "practice",
                    tier,
                    evening,
                    rng.choice((HURT, INVOLVED)),
                    tier > permitted,
                    halves,
                )
            )
        if rng.random() < 0.15:
            at = morning + timedelta(hours=rng.randint(1, 14))
            response = rng.choice((None, Response.ACCEPTED, Response.DECLINED))
            proposals.append(
                Proposal(
                    f"p{day}",
                    rng.choice((HURT, INVOLVED)),
                    "practice",
                    rng.randint(1, 6),
                    at,
                    response,
                    at + timedelta(hours=2) if response else None,
                )
            )
        if rng.random() < 0.2:
            author = rng.choice((HURT, INVOLVED))
            texts.append(SharedText(f"t{day}", author, evening, rng.choice(WORDS[3:])))
    return {
        "experiences": experiences,
        "permitted_tiers": tiers,
        "statuses": statuses,
        "proposals": proposals,
        "shared_texts": texts,
        "private": {
            person: PrivateEntries(person, checkins[person], ratings[person])
            for person in (HURT, INVOLVED)
        },
    }


def assemble(lives: list[dict[str, Any]]) -> list[CoupleRecord]:
    """1,000 records, each distinct life assembled COUPLES // DISTINCT times."""
    return [CoupleRecord(PARTNERS, **lives[i % len(lives)]) for i in range(COUPLES)]


def run_all(records: list[CoupleRecord], now: datetime) -> tuple[float, int]:
    """Seconds to run every detector on every record, and how many findings came out."""
    settings, checker = load_detector_settings(), load_phrase_list()
    start = time.perf_counter()
    count = 0
    for record in records:
        count += len(run_detectors(record, now, settings=settings, checker=checker))
    return time.perf_counter() - start, count


def main() -> None:
    policy = load_policy()
    sets: dict[str, tuple[list[dict[str, Any]], list[CoupleRecord], datetime]] = {}
    for label, days in (("1y", 365), ("2y", 730)):
        began = time.perf_counter()
        lives = [live(days, seed, policy) for seed in range(DISTINCT)]
        built = time.perf_counter() - began
        records = assemble(lives)
        now = START + timedelta(days=days - 1, hours=23)
        sets[label] = (lives, records, now)
        entries = sum(
            len(r.experiences) + len(r.statuses) + len(r.permitted_tiers)
            for r in records[:DISTINCT]
        ) + sum(
            len(p.checkins) + len(p.ratings) for r in records[:DISTINCT] for p in r.private.values()
        )
        print(
            f"{label}: {COUPLES} records from {DISTINCT} distinct couples, "
            f"{entries // DISTINCT:,} entries each, generated in {built:.1f} s"
        )
    gc.disable()  # keep collector pauses out of the comparison
    try:
        timings: dict[str, list[float]] = {"1y": [], "2y": []}
        assembling: dict[str, list[float]] = {"1y": [], "2y": []}
        findings: dict[str, int] = {}
        for _ in range(5):  # interleaved, so drift in the machine hits both alike
            for label, (lives, records, now) in sets.items():
                began = time.perf_counter()
                for life in lives:
                    CoupleRecord(PARTNERS, **life)
                assembling[label].append((time.perf_counter() - began) / len(lives))
                seconds, findings[label] = run_all(records, now)
                timings[label].append(seconds)
    finally:
        gc.enable()
    for label in ("1y", "2y"):
        print(
            f"assembling one record (storage's side, whole history, sorted once) {label}: "
            f"{statistics.median(assembling[label]) * 1000:.2f} ms; pass only "
            "history_needed_since() to keep it flat"
        )
    one, two = (statistics.median(timings[k]) for k in ("1y", "2y"))
    for label, value in (("1y", one), ("2y", two)):
        print(
            f"run_detectors {label}: {value * 1000 / COUPLES:.3f} ms per couple "
            f"({findings[label] / COUPLES:.1f} findings each), median of 5 rounds"
        )
    ratio = two / one
    rate = COUPLES / one
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    print(
        f"detectors {COUPLES} couples x 1y: {rate:,.0f} couples/s, 2y/1y {ratio:.2f} "
        f"(target linear: ≤ {TARGET_RATIO:g}) {verdict}"
    )


if __name__ == "__main__":
    main()
