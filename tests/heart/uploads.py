"""Heart-rate files written for a test, and their upload through the API."""

from __future__ import annotations

import io
import tracemalloc
from datetime import datetime, timedelta
from typing import Any

from reconnect.domain.heart.exports.importing import HeartRateImport, read_heart_rate


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


def traced_import(raw: Any, now: datetime) -> tuple[HeartRateImport, int, int]:
    """Import a generated file (a raw stream) with memory traced: the import, how many
    samples came out, and the most memory held at once."""
    tracemalloc.start()
    try:
        heart_rate = read_heart_rate(io.BufferedReader(raw), now=now)
        imported = sum(1 for _ in heart_rate)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return heart_rate, imported, peak
