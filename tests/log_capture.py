"""Capturing every log record, and finding the ones that hold a given text."""

from __future__ import annotations

import logging

import pytest


def records_holding(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    found = []
    for record in caplog.records:
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        seen = " ".join([str(record.msg), *(repr(arg) for arg in args)])
        if record.exc_text:
            seen += record.exc_text
        if text in seen:
            found.append(f"{record.name}: {record.getMessage()[:200]}")
    return found


def every_logger(caplog: pytest.LogCaptureFixture) -> None:
    """DEBUG everywhere, including loggers that set their own quieter level (SQLAlchemy)."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
