"""Errors people can act on: a stable code for the API, a calm sentence for pages."""

from __future__ import annotations


class Problem(Exception):
    """Something the person can fix or should know; never a crash.

    ``code`` is stable and documented for API clients; ``message`` is shown as is.
    """

    def __init__(
        self, code: str, message: str, status: int = 400, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}  # sent with the answer, such as Retry-After
