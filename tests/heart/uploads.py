"""Heart-rate files written for a test, and their upload through the API."""

from __future__ import annotations

from datetime import datetime, timedelta


def csv_of(start: datetime, rates: list[int], step_seconds: int = 60) -> bytes:
    rows = ["timestamp,bpm"]
    for i, bpm in enumerate(rates):
        rows.append(f"{(start + timedelta(seconds=i * step_seconds)).isoformat()},{bpm}")
    return ("\n".join(rows) + "\n").encode()


def upload(person, content: bytes, name: str = "hr.csv"):
    return person.client.post(
        "/api/v1/heart-rate/import",
        files={"file": (name, content, "text/csv")},
        headers=person.headers,
    )
