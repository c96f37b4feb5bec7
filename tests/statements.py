"""Counting the statements the app sends to its database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event


@contextmanager
def statements(app: Any) -> Iterator[list[str]]:
    """Every statement the app sends to the database while the block runs."""
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
