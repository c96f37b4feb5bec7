"""How long one pacing decision takes, for a couple with 1 and with 3 years of history.

Run: python bench/pacing.py

Each synthetic couple lives a day at a time: morning check-ins (now and then an
evening one too), an evening practice at whatever tier the pace permits, a
rating from each partner (sometimes written hours later), a flood every few
weeks, a pause every couple of months. The couple's history is built the way the
web app builds it: deciding each evening from the previous stored decision.

The timing then measures the call the web app makes on a Today page: the last
stored decision (yesterday evening's) as the checkpoint, plus the couple's whole
sorted signal history. Only the signals after the checkpoint are read, so the
cost should not grow with the years.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from reconnect.domain.pacing.checkins import CheckIn
from reconnect.domain.pacing.engine import decide
from reconnect.domain.pacing.experiences import ExperienceRating
from reconnect.domain.pacing.history import Decision, History, Partner, Role
from reconnect.domain.pacing.policy import Policy, load_policy
from reconnect.domain.pacing.signals import (
    PauseSignal,
    ResumeSignal,
    Signal,
    signals_from_checkin,
    signals_from_rating,
)

HURT, INVOLVED = "hana", "ivan"
PARTNERS = (Partner(HURT, Role.HURT), Partner(INVOLVED, Role.INVOLVED))
START = datetime(2023, 1, 2, 15, 0, tzinfo=UTC)  # 07:00 in the couple's zone
ZONE = "America/Los_Angeles"
TARGET_MS = 5.0
TARGET_RATIO = 1.5


def live(days: int, policy: Policy, seed: int = 7) -> tuple[list[Signal], Decision]:
    """A couple's signals over ``days`` days, and the decision stored the evening before
    the last day (so a full day of signals comes after it)."""
    rng = random.Random(seed)
    signals: list[Signal] = []
    checkpoint: Decision | None = None
    paused_until: datetime | None = None
    resume_by = HURT
    stored: Decision | None = None

    def add(*new: Signal) -> None:
        signals.extend(new)
        signals.sort(key=lambda s: s.at)  # stable, and cheap on an almost sorted list

    def check_in(person: str, at: datetime) -> None:
        tense = rng.random() < 0.12
        entry = CheckIn(
            activation=rng.randint(6, 9) if tense else rng.randint(0, 5),
            state="revved_up" if tense else ("shut_down" if rng.random() < 0.02 else "settled"),
            safety=rng.randint(3, 9),
            urgency=rng.randint(0, 10),
            readiness=rng.randint(2, 9),
            recorded_at=at,
            drivers=("reassurance",) if rng.random() < 0.5 else (),
        )
        add(*signals_from_checkin(person, entry, policy, logged_at=at))

    for day in range(days):
        morning = START + timedelta(days=day)
        for person in (HURT, INVOLVED):
            if rng.random() < 0.92:
                check_in(person, morning + timedelta(minutes=rng.randint(0, 90)))
        if paused_until is None and rng.random() < 1 / 60:
            who = rng.choice((HURT, INVOLVED))
            add(PauseSignal(who, morning + timedelta(hours=4)))
            paused_until = morning + timedelta(days=rng.randint(1, 3))
            resume_by = who
        evening = morning + timedelta(hours=12)
        decision = decide(History(PARTNERS, signals, checkpoint, ZONE), policy, evening)
        checkpoint = decision
        if day == days - 2:
            stored = decision
        if rng.random() < 0.8:
            tier = decision.permitted_tier
            if rng.random() < 0.05:
                tier = min(6, tier + 1)  # life happens: a step ahead of the pace
            experience_id = f"d{day}"
            flood = rng.random() < 0.04
            for person in (HURT, INVOLVED):
                before = rng.randint(1, 6)
                rating = ExperienceRating(
                    practice_id="practice",
                    tier=tier,
                    occurred_at=evening,
                    safety=rng.randint(6, 10) if rng.random() < 0.9 else rng.randint(2, 5),
                    activation_before=before,
                    activation_after=9 if flood and person == HURT else max(0, before - 1),
                    staying="stayed",
                    felt_pressured=rng.random() < 0.1,
                    authenticity=rng.randint(1, 4),
                    vulnerability=rng.randint(1, 4),
                    transparency=rng.randint(1, 4),
                    presence=rng.randint(1, 4),
                )
                written = evening + timedelta(minutes=rng.choice((20, 45, 90, 300)))
                add(*signals_from_rating(person, experience_id, rating, policy, written_at=written))
        if paused_until is not None and evening + timedelta(hours=2) >= paused_until:
            add(ResumeSignal(resume_by, evening + timedelta(hours=2)))
            paused_until = None
    if stored is None:
        raise ValueError("a couple needs at least two days")
    return signals, stored


def median_ms(history: History, policy: Policy, now: datetime, rounds: int, batch: int) -> float:
    """Median over ``rounds`` of the mean time of ``batch`` calls, in milliseconds."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(batch):
            decide(history, policy, now)
        samples.append((time.perf_counter() - start) / batch * 1000)
    return statistics.median(samples)


def main() -> None:
    policy = load_policy()
    couples = {}
    for label, days in (("1y", 365), ("3y", 3 * 365)):
        signals, stored = live(days, policy)
        # The next evening, after both partners rated that day's practice.
        now = stored.decided_at + timedelta(hours=29)
        tail = sum(1 for s in signals if stored.decided_at < s.at <= now)
        couples[label] = (History(PARTNERS, signals, stored, ZONE), now, tail)
        replay = History(PARTNERS, signals, time_zone=ZONE)
        full = median_ms(replay, policy, now, rounds=3, batch=1)
        final = decide(couples[label][0], policy, now)
        print(
            f"{label}: {len(signals):,} signals, ladder tier {final.ladder_tier}, "
            f"replay from the first signal {full:.1f} ms (no checkpoint, reference only)"
        )
    gc.disable()  # keep collector pauses out of sub-millisecond timings
    try:
        timings: dict[str, list[float]] = {"1y": [], "3y": []}
        for _ in range(5):  # interleaved, so drift in the machine hits both alike
            for label, (history, now, _) in couples.items():
                timings[label].append(median_ms(history, policy, now, rounds=30, batch=20))
    finally:
        gc.enable()
    one, three = (statistics.median(timings[k]) for k in ("1y", "3y"))
    for label, value in (("1y", one), ("3y", three)):
        tail = couples[label][2]
        print(
            f"decide {label}: {value:.3f} ms median "
            f"(yesterday's stored decision + whole history; {tail} signals since it)"
        )
    ratio = three / one
    ok = three <= TARGET_MS and ratio <= TARGET_RATIO
    print(
        f"pace decide 3y: {three:.2f} ms, 3y/1y {ratio:.2f} "
        f"(target ≤ {TARGET_MS:g} ms, ≤ {TARGET_RATIO:g}) {'PASS' if ok else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
