"""How long a couple's whole progress dashboard takes to draw, at 3 years of data.

The dashboard is everything the progress pages show: both partners' own charts and
markers (with three questionnaires each, answered every three weeks), the couple's
charts and marker, and this week's summaries. Synthetic daily data (three check-ins
a day, a shared practice most days, a decision a day) for 3 months and for 3 years;
the time is the median of several runs, interleaved.

Run: python bench/progress.py
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from reconnect.domain.pacing.checkins import State
from reconnect.domain.progress.points import (
    CheckInPoint,
    ExperiencePoint,
    ScorePoint,
    SharedExperience,
    TierPoint,
    tier_changes,
)
from reconnect.progress.charts import couple_dashboard, person_dashboard, score_chart
from reconnect.progress.summary import weekly_summary

# The shipped questionnaires and their highest totals.
INSTRUMENTS = {"phq-9": 27, "gad-7": 21, "pcl-5": 80}
CHANGES = ("improved", "worse", "no reliable change")

TARGET_MS = 150.0
START = date(2024, 1, 1)


@dataclass(frozen=True)
class Couple:
    checkins: tuple[list[CheckInPoint], list[CheckInPoint]]
    experiences: tuple[list[ExperiencePoint], list[ExperiencePoint]]
    shared: list[SharedExperience]
    tiers: list[TierPoint]
    scores: tuple[dict[str, list[ScorePoint]], dict[str, list[ScorePoint]]]
    today: date


def synthetic_couple(days: int, seed: int = 6) -> Couple:
    rng = random.Random(seed)
    checkins: tuple[list[CheckInPoint], list[CheckInPoint]] = ([], [])
    experiences: tuple[list[ExperiencePoint], list[ExperiencePoint]] = ([], [])
    shared: list[SharedExperience] = []
    tiers: list[TierPoint] = []
    tier = 0
    for index in range(days):
        day = START + timedelta(days=index)
        calm = min(1.0, index / max(days, 1) + 0.2)  # things settle slowly
        for person in (0, 1):
            for _ in range(3):
                activation = max(0, min(10, round(rng.gauss(7 - 4 * calm, 2))))
                state = State.SETTLED if rng.random() < calm else rng.choice(list(State))
                checkins[person].append(
                    CheckInPoint(
                        day,
                        activation,
                        rng.randint(3, 10),
                        rng.randint(0, 10),
                        rng.randint(0, 10),
                        state,
                    )
                )
        if rng.random() < 0.8:
            ratings = []
            for person in (0, 1):
                safety = rng.randint(2, 10)
                ratings.append(
                    ExperiencePoint(
                        day,
                        tier,
                        safety >= 6,
                        safety,
                        *(rng.randint(0, 4) for _ in range(4)),
                        left=rng.random() < 0.1,
                        vulnerable_share=tier == 3 and rng.random() < 0.5,
                    )
                )
                experiences[person].append(ratings[-1])
            shared.append(
                SharedExperience(
                    day,
                    tier,
                    safe=all(r.safe for r in ratings),
                    left=any(r.left for r in ratings),
                )
            )
        tier = max(0, min(6, tier + rng.choice((-1, 0, 0, 0, 1, 1))))
        tiers.append(TierPoint(datetime(day.year, day.month, day.day, 7, tzinfo=UTC), tier))
    scores: tuple[dict[str, list[ScorePoint]], dict[str, list[ScorePoint]]] = ({}, {})
    for index in range(0, days, 21):
        for person in (0, 1):
            for instrument, top in INSTRUMENTS.items():
                point = ScorePoint(
                    START + timedelta(days=index),
                    rng.randint(0, top),
                    rng.choice(CHANGES) if index else None,
                )
                scores[person].setdefault(instrument, []).append(point)
    # The app keeps only the tier's changes (the time of every decision is private).
    changes = list(tier_changes(tiers))
    return Couple(checkins, experiences, shared, changes, scores, START + timedelta(days=days - 1))


def render_dashboard(couple: Couple) -> int:
    """Everything on the progress pages; returns the SVG size so nothing is skipped."""
    size = 0
    for person in (0, 1):
        scores = [
            score_chart(f"scores-{name}", name, points, INSTRUMENTS[name])
            for name, points in couple.scores[person].items()
        ]
        page = person_dashboard(
            couple.checkins[person], couple.experiences[person], couple.today, scores
        )
        size += sum(len(c.svg or "") for c in page.charts)
        weekly_summary(
            couple.today,
            checkins=couple.checkins[person],
            experiences=couple.experiences[person],
            tiers=couple.tiers,
        )
    page = couple_dashboard(couple.tiers, couple.shared)
    size += sum(len(c.svg or "") for c in page.charts)
    weekly_summary(couple.today, experiences=couple.shared, tiers=couple.tiers)
    return size


def main() -> None:
    couples = {"3m": synthetic_couple(91), "3y": synthetic_couple(3 * 365)}
    for label, couple in couples.items():
        size = render_dashboard(couple)  # warm up fonts and caches
        print(f"{label}: {len(couple.checkins[0]) * 2:,} check-ins, SVG {size / 1024:.0f} KiB")
    timings: dict[str, list[float]] = {label: [] for label in couples}
    gc.disable()
    try:
        for _ in range(7):  # interleaved, so drift in the machine hits both alike
            for label, couple in couples.items():
                started = time.perf_counter()
                render_dashboard(couple)
                timings[label].append((time.perf_counter() - started) * 1000)
            gc.collect()
    finally:
        gc.enable()
    short, long = (statistics.median(timings[k]) for k in ("3m", "3y"))
    print(f"dashboard 3m: {short:.0f} ms median")
    print(f"dashboard 3y: {long:.0f} ms median")
    verdict = "PASS" if long <= TARGET_MS else "FAIL"
    print(
        f"progress dashboard 3y: {long:.0f} ms, 3y/3m {long / short:.2f} "
        f"(target ≤ {TARGET_MS:g} ms) {verdict}"
    )


if __name__ == "__main__":
    main()
