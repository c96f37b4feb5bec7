"""Counting the statements the app sends to its database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import event

T = TypeVar("T")


@contextmanager
def heard(engine: Any, note: Callable[[Any, str], T]) -> Iterator[list[T]]:
    """``note(connection, statement)`` for every statement ``engine`` sends while the
    block runs (listened to after the engine's own listeners)."""
    sent: list[T] = []

    def listen(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(note(connection, statement))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", listen)


@contextmanager
def statements(app: Any) -> Iterator[list[str]]:
    """Every statement the app sends to the database while the block runs."""
    with heard(app.state.engine, lambda _connection, statement: statement) as sent:
        yield sent
