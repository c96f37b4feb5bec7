"""Samples already stored are found by opening only the imports whose sealed span
overlaps, part by part, and an import holds flat memory however many samples it has."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from reconnect import keys
from reconnect.accounts import auth
from reconnect.accounts.signed_in import SignedIn
from reconnect.domain.heart.exports import importing
from reconnect.errors import Problem
from reconnect.heart import store as heart
from reconnect.models import HeartRateImport, Person
from tests.conftest import PASSWORD
from tests.heart.uploads import upload

START = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SAMPLES_CONTEXT = "entry:heart_rate_import:"  # the samples' seal, not the span's


def csv_at(minutes: list[int], bpm: int | list[int] = 70) -> bytes:
    """A CSV with a sample at each of ``minutes`` after START (repeats allowed)."""
    rates = bpm if isinstance(bpm, list) else [bpm] * len(minutes)
    rows = ["timestamp,bpm"]
    rows += [
        f"{(START + timedelta(minutes=m)).isoformat()},{r}"
        for m, r in zip(minutes, rates, strict=True)
    ]
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture
def hana(app: Any, hana_and_ivan: Any) -> Iterator[tuple[Any, SignedIn]]:
    """Hana's database session and her unlocked key, as a request has them."""
    with app.state.reconnect.sessions() as db:
        person = db.scalar(select(Person).where(Person.username == "hana"))
        data_key = auth.unlock_with_password(person, PASSWORD)
        yield db, SignedIn(person=person, data_key=data_key, token_hash="-")


def store(hana: tuple[Any, SignedIn], content: bytes) -> heart.Imported:
    db, signed_in = hana
    return heart.import_file(db, signed_in=signed_in, upload=io.BytesIO(content), now=NOW)


def stored_minutes(hana: tuple[Any, SignedIn]) -> dict[int, int]:
    db, signed_in = hana
    samples = heart.samples_between(
        db, signed_in.person, signed_in.data_key, START - timedelta(days=1), NOW
    )
    found = [(int((s.at - START).total_seconds()) // 60, s.bpm) for s in samples]
    assert len(found) == len({minute for minute, _ in found}), "a second stored twice"
    return dict(found)


def opened_imports(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every import whose samples are unsealed from now on (not its span)."""
    opened: list[str] = []
    real = keys.unseal

    def counting(key: bytes, blob: bytes, context: str) -> bytes:
        if context.startswith(SAMPLES_CONTEXT):
            opened.append(context)
        return real(key, blob, context)

    monkeypatch.setattr(keys, "unseal", counting)
    return opened


@pytest.fixture(params=[heart.PART_SAMPLES, 7], ids=["one part", "parts of 7"])
def part_size(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Large files are stored in parts: the same counts whatever the part's size."""
    monkeypatch.setattr(heart, "PART_SAMPLES", request.param)
    return int(request.param)


def test_an_overlapping_import_counts_exactly_the_shared_seconds(hana, part_size):
    assert store(hana, csv_at(list(range(100)), 70)).duplicates_of_earlier_imports == 0
    again = store(hana, csv_at(list(range(50, 150)), 90))
    assert (again.duplicates_of_earlier_imports, again.stored) == (50, 50)
    assert again.new_span == (START + timedelta(minutes=100), START + timedelta(minutes=149))
    minutes = stored_minutes(hana)
    assert sorted(minutes) == list(range(150))
    # What was stored first stays; only the new seconds came from the second file.
    assert {minutes[m] for m in range(100)} == {70}
    assert {minutes[m] for m in range(100, 150)} == {90}
    assert "50 were already stored from an earlier import" in again.summary


def _row_id(hana: tuple[Any, SignedIn], minute: int) -> int:
    """The id of the import holding the sample at ``minute``."""
    db, signed_in = hana
    second = int((START + timedelta(minutes=minute)).timestamp())
    rows = heart._overlapping_seconds(db, signed_in.person, signed_in.data_key, second, second)
    assert len(rows) == 1
    return rows[0].id


def _context_of(hana: tuple[Any, SignedIn], row_id: int) -> str:
    return f"{SAMPLES_CONTEXT}{row_id}:person:{hana[1].person.id}"


def test_earlier_samples_spread_over_several_imports_are_all_found(hana, part_size, monkeypatch):
    store(hana, csv_at(list(range(0, 30))))
    store(hana, csv_at(list(range(60, 90))))
    store(hana, csv_at(list(range(200, 260))))  # beside the new file, not inside it
    store(hana, csv_at([10_000 + m for m in range(30)]))  # days later
    inside = {_context_of(hana, _row_id(hana, m)) for m in (0, 60)}
    outside = {_context_of(hana, _row_id(hana, m)) for m in (200, 10_000)}
    opened = opened_imports(monkeypatch)
    result = store(hana, csv_at(list(range(0, 100)), 95))
    assert (result.duplicates_of_earlier_imports, result.stored) == (60, 40)
    assert inside <= set(opened) and not outside & set(opened)
    if part_size > 100:
        assert sorted(opened) == sorted(inside)  # each opened once
    assert sorted(stored_minutes(hana)) == [
        *range(0, 100),
        *range(200, 260),
        *range(10_000, 10_030),
    ]


def test_a_file_repeating_its_own_seconds_far_apart_keeps_the_first(hana, part_size, monkeypatch):
    # The reader only remembers the last few seconds; the store must find the others.
    monkeypatch.setattr(importing, "DUPLICATE_MEMORY", 5)
    store(hana, csv_at([3, 40], 70))
    minutes = [*range(30), 5, 12, 40, 41, 42, 43, 44, 45, 46, 40, 0, 12]
    rates = [60] * 30 + [101, 102, 103, 61, 62, 62, 62, 62, 62, 104, 105, 106]
    result = store(hana, csv_at(minutes, rates))
    assert result.report.skipped_total == 0  # none was recent enough for the reader
    seen = {3, 40}
    expected = 0
    for minute in minutes:  # the rule, with a set of every second
        expected += minute in seen
        seen.add(minute)
    assert expected == 7
    assert result.duplicates_of_earlier_imports == expected
    assert result.report.imported - result.stored == expected
    stored = stored_minutes(hana)
    assert sorted(stored) == [*range(30), *range(40, 47)]
    assert {stored[m] for m in range(30) if m != 3} == {60} and stored[3] == stored[40] == 70
    assert (stored[41], stored[42], stored[46]) == (61, 62, 62)


def test_an_import_is_stored_in_parts_that_together_hold_every_new_sample(hana, monkeypatch):
    monkeypatch.setattr(heart, "PART_SAMPLES", 10)
    first = store(hana, csv_at(list(range(25))))
    db, _ = hana
    rows = db.scalars(select(HeartRateImport)).all()
    assert len(rows) == 3 and len({row.file_hash for row in rows}) == 3
    assert sorted(stored_minutes(hana)) == list(range(25)) and first.stored == 25
    again = store(hana, csv_at(list(range(25))))
    assert again.already_imported and again.stored == 0


@pytest.mark.usefixtures("backend")
def test_a_reading_by_hand_is_refused_only_at_a_stored_second(hana_and_ivan, clock):
    person, _ = hana_and_ivan
    start = clock.now - timedelta(days=2)
    rows = ["timestamp,bpm"] + [
        f"{(start + timedelta(seconds=30 * i)).isoformat()},70" for i in range(20)
    ]
    assert upload(person, ("\n".join(rows) + "\n").encode()).status_code == 201
    stored = start + timedelta(seconds=30 * 13)
    new = stored + timedelta(seconds=1)
    for at, status in ((stored, 409), (new, 201), (new, 409), (start - timedelta(days=1), 201)):
        answer = person.post("/api/v1/heart-rate", {"at": at.isoformat(), "bpm": 80})
        assert answer.status_code == status, (at, answer.text)


def test_a_reading_by_hand_opens_only_the_imports_whose_span_covers_it(hana, monkeypatch):
    db, signed_in = hana
    for day in range(4):
        store(hana, csv_at([day * 1440 + m for m in range(0, 600, 10)]))
    opened = opened_imports(monkeypatch)
    covered_id = _row_id(hana, 2 * 1440 + 300)
    at = START + timedelta(days=2, minutes=305)  # between two of day 2's samples
    heart.add_reading(db, signed_in=signed_in, at=at, bpm=77, now=NOW)
    assert opened == [f"{SAMPLES_CONTEXT}{covered_id}:person:{signed_in.person.id}"]
    opened.clear()
    at = START + timedelta(days=1, hours=20)  # in no import's span
    heart.add_reading(db, signed_in=signed_in, at=at, bpm=78, now=NOW)
    assert opened == []
    with pytest.raises(Problem) as refused:
        heart.add_reading(db, signed_in=signed_in, at=at, bpm=79, now=NOW)
    assert refused.value.status == 409


def test_an_import_of_100000_samples_holds_flat_memory(hana, monkeypatch):
    # Parts of 10,000 and a reader remembering 1,000 recent seconds: the peak is set
    # by the part, not the file. Holding a set of every second, as this store once
    # did, took about 20 MB here; parts take about 2 MB.
    monkeypatch.setattr(heart, "PART_SAMPLES", 10_000)
    monkeypatch.setattr(importing, "DUPLICATE_MEMORY", 1_000)
    count = 100_000
    base = int(START.timestamp())
    content = b"timestamp,bpm\n" + b"".join(
        b"%d-%02d-%02dT%02d:%02d:%02d+00:00,%d\n"
        % (*datetime.fromtimestamp(base + 5 * i, UTC).timetuple()[:6], 60 + i % 50)
        for i in range(count)
    )
    store(hana, csv_at(list(range(60 * 24))))  # every minute of the first day
    tracemalloc.start()
    try:
        result = store(hana, content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.report.imported == count
    assert result.duplicates_of_earlier_imports == 60 * 24
    assert peak < 5 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MB"
