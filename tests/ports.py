"""A free local port, and the app served on it, for the tests that start the app as a
server of its own."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

import uvicorn


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(app: Any, **options: Any) -> Iterator[int]:
    """``app`` served by uvicorn on a thread of its own (it runs its own event loop),
    on loopback (on a free port unless told), for as long as the block runs; yields the port."""
    options = {"host": "127.0.0.1", "port": free_port(), "log_level": "warning", **options}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield int(options["port"])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
