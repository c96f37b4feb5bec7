"""(a) Rushing physical intimacy: affection or intimacy (tier 5-6) ahead of the pace,
started by the calmer partner, or felt as pressure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from reconnect.domain.insights.couple_record import (
    CoupleRecord,
    check_now,
    occurred_time,
    rating_time,
    window,
)
from reconnect.domain.insights.detector_settings import DetectorSettings, settings_or_default
from reconnect.domain.insights.findings import (
    Evidence,
    Finding,
    Pattern,
    Severity,
    experience_ref,
    tier_words,
)
from reconnect.domain.pacing.history import COUPLE

__all__ = ["detect_rushing_intimacy"]


def detect_rushing_intimacy(
    record: CoupleRecord, now: datetime, *, settings: DetectorSettings | None = None
) -> tuple[Finding, ...]:
    """Affection or intimacy (tier 5-6) that went ahead of the pace, was started by the
    partner who came in calmer, or that someone felt pressured into.

    Ahead of the pace: couple-level. Started by the calmer partner: to the one who
    started it. Felt pressured: to the person who felt it, from their own rating.
    """
    check_now(now)
    s = settings_or_default(settings)
    rule = s.rushing_intimacy
    start = now - timedelta(days=rule.lookback_days)
    found: list[Finding] = []
    for experience in window(record.experiences, start, now, occurred_time):
        if experience.tier < rule.min_tier:
            continue
        what = tier_words(experience.tier)
        if experience.ahead_of_pace:
            found.append(
                Finding(
                    Pattern.RUSHING_INTIMACY,
                    "ahead_of_pace",
                    COUPLE,
                    Severity.NOTABLE,
                    f"A moment of {what} went ahead of the pace you had that day.",
                    "Closeness that waits for the slower nervous system tends to last. "
                    "Next time the pull comes, try a practice from what fits today first and "
                    "see how both bodies feel afterwards.",
                    (experience_ref(experience),),
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
                    "At these steps it helps when the partner who needs it slower "
                    "decides when. You might let the invitation come from them, and "
                    "trust that it will.",
                    (experience_ref(experience),),
                    now,
                    s.version,
                    {"tier": experience.tier},
                )
            )
    for person in record.person_ids:
        ratings = record._ratings.get(person, ())
        for experience_id, rating in window(ratings, start, now, rating_time):
            if rating.tier >= rule.min_tier and rating.felt_pressured:
                found.append(
                    Finding(
                        Pattern.RUSHING_INTIMACY,
                        "felt_pressured",
                        person,
                        Severity.NOTABLE,
                        f"You noted feeling pressured during a moment of "
                        f"{tier_words(rating.tier)}.",
                        "Your no is part of what makes closeness safe again. You can pause "
                        "at any time without giving a reason, and choose a gentler step "
                        "next time.",
                        (Evidence("rating", experience_id, rating.occurred_at.date()),),
                        now,
                        s.version,
                        {"tier": rating.tier},
                    )
                )
    return tuple(found)
