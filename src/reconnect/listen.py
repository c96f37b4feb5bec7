"""Whether the web server can listen where it is asked to, said in one line.

``reconnect serve`` and ``reconnect demo`` ask before they print an address (or, for
the demo, rebuild its data), so a port already taken by another Reconnect or another
program is one line naming ``--port``, not uvicorn's "address already in use" after
"Open http://...". A port taken in the moment between that check and uvicorn's own
bind is said in the same line (``bind_failure_said``).
"""

from __future__ import annotations

import errno
import inspect
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from reconnect.connections import HeadersInTime
from reconnect.settings import Settings

IN_USE = {errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", errno.EADDRINUSE)}
SUGGESTIONS = 20  # ports after the taken one tried for a free one to suggest


class CannotListen(Exception):
    """The server cannot listen where asked; the message is the one line to show."""


def listen_problem(host: str, port: int) -> str | None:
    """Why the app cannot listen on ``host``:``port``, in one line, or None if it can."""

    error = _bind_error(host, port)
    return None if error is None else cannot_listen(host, port, error)


def cannot_listen(host: str, port: int, error: OSError) -> str:
    """The one line for ``error``, met binding ``host``:``port``."""

    if error.errno in IN_USE:
        return (
            f"Port {port} is already in use on {host} (another Reconnect, or another "
            f"program). Start on another port with --port {_free_port_after(host, port)}."
        )
    reason = error.strerror or str(error)
    return (
        f"Cannot listen on {host} port {port} ({reason}). Choose another address with "
        "--host or another port with --port."
    )


@contextmanager
def bind_failure_said(host: str, port: int) -> Iterator[None]:
    """Run uvicorn, turning its own report of a failed bind into ``CannotListen``.

    uvicorn logs the OSError on its "uvicorn.error" logger and exits; the record is kept
    from the screen here and the exit becomes the same one line as ``listen_problem``'s.
    """

    caught = _BindFailure()
    logger = logging.getLogger("uvicorn.error")
    logger.addFilter(caught)
    try:
        yield
    except SystemExit:
        if caught.error is None:
            raise
        raise CannotListen(cannot_listen(host, port, caught.error)) from None
    finally:
        logger.removeFilter(caught)


class _BindFailure(logging.Filter):
    """Keeps back the OSError uvicorn logs when it cannot bind, and remembers it."""

    def __init__(self) -> None:
        super().__init__()
        self.error: OSError | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, OSError):
            self.error = record.msg
            return False
        return True


def _bind_error(host: str, port: int) -> OSError | None:
    """What binding every address ``host`` names would meet, as uvicorn binds them.

    SO_REUSEADDR as uvicorn and asyncio set it (except on Windows, where it would let
    two servers share a port), so a port still closing from the last run counts as free.
    """

    try:
        addresses = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        for family, kind, proto, _, address in addresses:
            with socket.socket(family, kind, proto) as probe:
                if os.name != "nt":
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind(address)
    except OSError as error:
        return error
    return None


def _free_port_after(host: str, port: int) -> int:
    """The first free port after ``port`` (within a few), to suggest; else the next one."""

    for candidate in range(port + 1, min(port + SUGGESTIONS, 65535) + 1):
        if _bind_error(host, candidate) is None:
            return candidate
    return port + 1 if port < 65535 else 8001


# --- how ``reconnect serve`` runs uvicorn ------------------------------------------


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for ``serve``, one process or several."""

    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        # X-Forwarded-For/-Proto from these proxies give the client's own address
        # (for the per-address sign-in limit) and https (for secure cookies).
        "proxy_headers": True,
        "forwarded_allow_ips": settings.trusted_proxies,
        # Request headers that never finish arriving do not hold a connection for ever.
        "http": HeadersInTime,
    }


def tcp_listener(bound: socket.socket) -> socket.socket:
    """The same listening socket, saying it is TCP (so accepted ones get TCP_NODELAY)."""
    listener = socket.socket(
        bound.family, socket.SOCK_STREAM, socket.IPPROTO_TCP, fileno=bound.detach()
    )
    listener.set_inheritable(True)
    return listener


WORKER_HEALTH_CHECK_S = 30


def run_workers(app: str, *, factory: bool, workers: int, **server: Any) -> None:
    """uvicorn's process manager for ``app`` (an import string), with ``workers`` processes.

    What ``uvicorn.run(workers=N)`` does, except that the listening socket says it is
    TCP: uvicorn's own leaves its protocol number at 0, so asyncio never turns on
    TCP_NODELAY for the connections it accepts, and every request after the first on
    a kept-alive connection (a browser's, or a reverse proxy's) waits about 40 ms for
    a delayed ACK (uvicorn issue #3149).
    """

    # uvicorn kills a worker that does not answer its health check within five seconds
    # by default; a worker still starting on a busy machine (importing the coach's
    # model) can take longer, and would be killed and started again, over and over.
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:
        server.setdefault("timeout_worker_healthcheck", WORKER_HEALTH_CHECK_S)
    config = uvicorn.Config(app, factory=factory, workers=workers, **server)
    listener = tcp_listener(config.bind_socket())
    supervisor: Any = Multiprocess  # its signature changed across uvicorn versions
    if "target" in inspect.signature(Multiprocess).parameters:
        supervisor(config, target=uvicorn.Server(config).run, sockets=[listener]).run()
    else:
        supervisor(config, sockets=[listener]).run()
