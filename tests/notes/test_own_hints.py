"""The coach's reading under a writer's own notes: read once per text and model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconnect import coach
from reconnect.moments.store import Shared
from reconnect.notes import store
from tests.coach.stand_in import CLOSING_WORDS, OPENING_WORDS, fake_reader


@pytest.fixture
def counted(monkeypatch):
    """A stand-in coach that counts what it reads, answering as ``model``."""
    read = fake_reader({CLOSING_WORDS: ("minimizing", 0.8), OPENING_WORDS: ("validation", 0.8)})
    seen: list[str] = []
    model = ["stand-in"]

    def reading(text: str) -> coach.Reading:
        seen.append(text)
        return read(text)

    monkeypatch.setattr(coach, "read", reading)
    monkeypatch.setattr(coach, "model_name", lambda: model[0])
    store.HINTS_READ.forget()
    yield seen, model
    store.HINTS_READ.forget()


def note(number: int, who: str, text: str) -> Shared:
    return Shared(number, who, datetime(2026, 3, 2, 12, number, tzinfo=UTC), {"text": text})


def test_each_own_note_is_read_once_and_the_partners_never(counted):
    seen, model = counted
    listed = [note(1, "you", CLOSING_WORDS), note(2, "partner", OPENING_WORDS)]
    first = store.own_hints(listed)
    # The whole note, then its sentences and clauses (the findings).
    read_once = list(seen)
    again = store.own_hints(listed)
    assert first == again and set(first) == {1}
    assert first[1].tone == "closing"
    assert seen == read_once and CLOSING_WORDS in seen
    assert all(part in CLOSING_WORDS for part in seen)  # never a word of the partner's
    # When a better model has loaded, the page reads with it.
    model[0] = "better"
    store.own_hints(listed)
    assert seen == read_once * 2
