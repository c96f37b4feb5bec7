"""Moving a person to another time zone through the API, and the app's clock forward."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def patch(person: Any, path: str, body: Any) -> Any:
    return person.client.patch(path, json=body, headers=person.headers)


def move(person: Any, zone: str) -> None:
    moved = patch(person, "/api/v1/me", {"time_zone": zone})
    assert moved.status_code == 200, moved.text
    assert moved.json()["time_zone"] == zone


def set_clock(clock: Any, people: Any, when: datetime, *persons: Any) -> None:
    """Move the app's clock, and sign the API people in again (tokens last 12 hours)."""
    clock.now = when
    for person in persons:
        person.token = people.login(person.username)
