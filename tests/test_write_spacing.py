"""Within the hourly limits, one person's notes, statuses and heart-rate writes are
spaced: a burst at once (a phone sending what it kept offline), then one turn every
gap (ratelimit.WriteSpacing). A partner writing as fast as the server answers then
takes a bounded share of the process, and another person's writes never wait for
theirs. Nothing sent is lost: a spaced write waits, and an API write that would wait
too long is refused with ``slow_down``, its words still with the sender."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconnect.ratelimit import SPACING_WAIT_AT_MOST_S, SlowDown, Write, WriteSpacing

BURST, GAP = 4, 0.5
EPSILON = 1e-9


class StandingClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def booked_starts(arrivals: list[tuple[int, float]]) -> dict[int, list[float]]:
    """When each write starts: its arrival plus the wait its booking gave it."""
    clock = StandingClock()
    spacing = WriteSpacing(burst=BURST, gap_s=GAP, clock=clock)
    starts: dict[int, list[float]] = {}
    for person, at in arrivals:
        clock.now = at
        starts.setdefault(person, []).append(at + spacing.book(person))
    return starts


def _arrivals(steps: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Who writes when, from who writes and how long after the write before."""
    at, arrivals = 1000.0, []
    for person, after in steps:
        at += after
        arrivals.append((person, at))
    return arrivals


# Often at the same moment (a burst), often just apart, sometimes long after.
AFTER = st.one_of(st.just(0.0), st.floats(0, GAP), st.floats(0, 3 * BURST * GAP))
ARRIVALS = st.lists(st.tuples(st.integers(1, 3), AFTER), min_size=1, max_size=60).map(_arrivals)


@settings(max_examples=200, deadline=None)
@given(arrivals=ARRIVALS)
def test_each_persons_writes_are_spaced_and_never_wait_for_anothers(arrivals):
    starts = booked_starts(arrivals)
    for person, theirs in starts.items():
        # In order, never before they arrived; past the burst, at most one per gap.
        assert theirs == sorted(theirs)
        mine = [at for who, at in arrivals if who == person]
        assert all(start >= at - EPSILON for start, at in zip(theirs, mine, strict=True))
        # Past the burst, at most one more per gap: n writes in a row span at least
        # (n - BURST) gaps.
        for i, first in enumerate(theirs):
            for j in range(i + BURST, len(theirs)):
                assert theirs[j] - first >= (j - i + 1 - BURST) * GAP - EPSILON
        # Exactly the waits they would have had writing alone.
        assert booked_starts([(who, at) for who, at in arrivals if who == person]) == {
            person: theirs
        }


@settings(max_examples=100, deadline=None)
@given(count=st.integers(1, 30), every=st.floats(GAP, 5 * GAP))
def test_writing_no_faster_than_the_gap_never_waits(count, every):
    assert all(
        start == at
        for start, (_, at) in zip(
            booked_starts([(1, 1000 + i * every) for i in range(count)])[1],
            [(1, 1000 + i * every) for i in range(count)],
            strict=True,
        )
    )


def test_a_burst_goes_at_once_and_then_each_write_waits_a_gap_more():
    spacing = WriteSpacing(burst=BURST, gap_s=GAP, clock=StandingClock())
    assert [spacing.book(7) for _ in range(BURST + 3)] == [0, 0, 0, 0, GAP, 2 * GAP, 3 * GAP]
    assert spacing.book(8) == 0  # someone else


def test_an_api_write_that_would_wait_too_long_is_refused_and_not_booked():
    clock = StandingClock()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    spacing = WriteSpacing(burst=1, gap_s=3.0, clock=clock, sleep=sleep)

    async def turns() -> None:
        await spacing.take_turn(Write.NOTE, 1, page=False)  # at once
        await spacing.take_turn(Write.NOTE, 1, page=False)  # 3 s
        with pytest.raises(SlowDown) as refused:
            await spacing.take_turn(Write.NOTE, 1, page=False)  # 6 s: too long
        assert refused.value.status == 429
        assert refused.value.code == "slow_down"
        assert refused.value.retry_after == 1
        assert "This note was not sent yet" in refused.value.message
        assert spacing.waiting(1) == 6.0  # the refused write took no turn
        # On a page, the words typed could not be shown again: it waits, at most the limit.
        await spacing.take_turn(Write.NOTE, 1, page=True)
        clock.now += 10
        await spacing.take_turn(Write.NOTE, 1, page=False)

    asyncio.run(turns())
    assert slept == [3.0, SPACING_WAIT_AT_MOST_S]


@pytest.fixture
def spacing(app: Any) -> list[float]:
    """The app's spacing on a clock that stands still; the waits it asks for, recorded
    (and not slept)."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    state = app.state.reconnect
    app.state.reconnect = replace(state, spacing=WriteSpacing(clock=StandingClock(), sleep=sleep))
    return slept


def test_a_partners_flood_of_notes_is_spaced_and_every_note_kept(hana_and_ivan, spacing):
    hana, ivan = hana_and_ivan
    burst = WriteSpacing().burst
    for i in range(burst + 5):
        assert hana.post("/api/v1/notes", {"text": f"note {i}"}).status_code == 201
    gap = WriteSpacing().gap_s
    assert spacing == pytest.approx([gap * n for n in range(1, 6)])
    spacing.clear()
    for i in range(3):  # the partner's own notes: nothing to wait for
        assert ivan.post("/api/v1/notes", {"text": f"reply {i}"}).status_code == 201
    assert spacing == []
    assert len(ivan.get("/api/v1/notes").json()["notes"]) == burst + 8


def test_statuses_share_the_same_turns(hana_and_ivan, spacing):
    hana, _ = hana_and_ivan
    for i in range(WriteSpacing().burst):
        hana.post("/api/v1/notes", {"text": f"note {i}"})
    shared = hana.post("/api/v1/status", {"status": "okay", "words": "a quiet day"})
    assert shared.status_code == 201
    assert spacing == pytest.approx([WriteSpacing().gap_s])


def test_notes_sent_from_the_page_wait_their_turn_and_arrive(paired, spacing):
    hana, ivan = paired
    burst = WriteSpacing().burst
    # A forged form is refused before its turn is taken.
    assert hana.post("/notes", {"text": "forged"}, csrf=False).status_code == 403
    for i in range(burst + 2):
        sent = hana.post("/notes", {"text": f"from the page {i}"})
        assert sent.status_code == 303, sent.text
    assert len(spacing) == 2
    shown = ivan.get("/notes").get_text()
    assert all(f"from the page {i}" in shown for i in range(burst + 2))


def test_a_note_that_would_wait_too_long_is_refused_calmly_and_not_stored(hana_and_ivan, app):
    hana, _ = hana_and_ivan
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    slow = WriteSpacing(burst=1, gap_s=3.0, clock=StandingClock(), sleep=sleep)
    app.state.reconnect = replace(app.state.reconnect, spacing=slow)
    assert hana.post("/api/v1/notes", {"text": "one"}).status_code == 201
    assert hana.post("/api/v1/notes", {"text": "two"}).status_code == 201  # after 3 s
    refused = hana.post("/api/v1/notes", {"text": "three"})
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "slow_down"
    assert refused.headers["Retry-After"] == "1"
    assert error["message"].endswith(
        "This note was not sent yet; you can send again in a few seconds."
    )
    assert slept == [3.0]
    assert [n["text"] for n in hana.get("/api/v1/notes").json()["notes"]] == ["two", "one"]
