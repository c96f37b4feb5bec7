"""How ``reconnect serve`` treats a connection whose request never finishes arriving.

uvicorn closes a kept-alive connection that stays silent, but not one that opens and
then sends its request headers slowly or never: each such connection would be held
for ever. ``HeadersInTime`` closes it once ``HEADER_TIMEOUT_SECONDS`` pass without the
headers arriving whole. A body that stops arriving is the app's to bound
(``BodyLimit`` in app.py answers 408).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_SECONDS = 30.0


class HeadersInTime(H11Protocol):
    """uvicorn's h11 protocol, with a bound on the wait for each request's headers.

    The bound is read from this module when a connection opens, so a test may shorten it.
    """

    _late: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:  # a request's headers are all in
            self._disarm()

    def on_response_complete(self) -> None:
        self._arm()  # for the next request's headers; a pipelined one disarms it at once
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._late = self.loop.call_later(HEADER_TIMEOUT_SECONDS, self.timeout_keep_alive_handler)

    def _disarm(self) -> None:
        if self._late is not None:
            self._late.cancel()
            self._late = None
