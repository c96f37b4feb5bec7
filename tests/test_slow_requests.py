"""A request whose body never arrives, or trickles in, does not hold the server.

Each test serves the app with uvicorn on a free local port (as the browser tests
do) and talks to it over a real socket, with a bound on every wait.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from reconnect import app as app_module
from reconnect import connections
from reconnect.app import create_app
from reconnect.connections import HeadersInTime
from tests.conftest import make_settings
from tests.ports import free_port, serving

WAIT_S = 15  # no test here waits longer than this for any answer


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    # The real bounds are tens of seconds; these are short so the tests are quick.
    monkeypatch.setattr(app_module, "BODY_IDLE_SECONDS", 1.0)
    monkeypatch.setattr(app_module, "BODY_TOTAL_SECONDS", 3.0)
    application = create_app(make_settings(tmp_path))
    with serving(application) as port:
        yield port
    application.state.engine.dispose()


def post_head(port: int, length: int, path: str = "/api/v1/auth/login") -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)
    connection.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n".encode()
    )
    return connection


def read_until_closed(connection: socket.socket) -> bytes:
    answer = b""
    while chunk := connection.recv(65536):
        answer += chunk
    return answer


def test_a_body_that_never_arrives_is_answered_408_and_the_connection_closed(served: Any):
    started = time.monotonic()
    with post_head(served, 100) as connection:
        connection.sendall(b'{"username": ')
        answer = read_until_closed(connection)  # raises socket.timeout if held open
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b'"code":"body_too_slow"' in answer
    assert time.monotonic() - started < 5


def test_a_body_that_trickles_in_is_cut_off_at_the_total_bound(served: Any):
    started = time.monotonic()
    with post_head(served, 1000) as connection:
        try:
            for _ in range(40):  # a byte every half second: never idle for long
                connection.sendall(b" ")
                time.sleep(0.5)
        except OSError:
            pass  # the server hung up on us, as it should
        answer = read_until_closed(connection)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert time.monotonic() - started < 8


def test_headers_that_never_finish_arriving_do_not_hold_the_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(connections, "HEADER_TIMEOUT_SECONDS", 1.0)
    application = create_app(make_settings(tmp_path))
    port = free_port()
    config = uvicorn.Config(
        application, host="127.0.0.1", port=port, log_level="warning", http=HeadersInTime
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while not server.started:
            assert time.monotonic() < deadline, "the test server did not start"
            time.sleep(0.05)
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT_S) as connection:
            connection.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            try:
                for _ in range(40):  # a header byte every 0.2 s, never the blank line
                    connection.sendall(b"X")
                    time.sleep(0.2)
            except OSError:
                pass  # the server hung up on us, as it should
            assert read_until_closed(connection) == b""
        assert time.monotonic() - started < 5
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT_S) as connection:
            connection.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert connection.recv(65536).startswith(b"HTTP/1.1 200 ")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        application.state.engine.dispose()


def test_serve_uses_the_protocol_that_bounds_headers(tmp_path: Path):
    from reconnect.listen import server_options

    assert server_options(make_settings(tmp_path))["http"] is HeadersInTime


def test_a_body_sent_at_once_is_read_as_usual(served: Any):
    body = b'{"username": "nobody", "password": "not a real one"}'
    with post_head(served, len(body)) as connection:
        connection.sendall(body)
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
