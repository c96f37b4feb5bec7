"""When the demo couple is built in the tests: one fixed moment, so their story is
the same on every run."""

from __future__ import annotations

from datetime import UTC, datetime

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
