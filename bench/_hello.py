"""The bare ceiling for bench/load.py: one hello-world route on the same stack.

Same framework (FastAPI), same server (uvicorn, started the way ``reconnect serve``
starts it) and worker count as the app, and a plain ``def`` route like the app's
handlers, so it runs in the same thread pool, with as many threads as the app's
(RECONNECT_THREADS' default for the backend measured). Nothing else: no database,
no templates, no middleware.

Beside it, the floor under any signed-in request: the least the app could do and still
know who is asking, with nothing of the app around it.

- ``GET /floor/read``: the bearer token's SHA-256, and one indexed select of a session
  row by that hash (the app's sign-in is that select, with more joined to it).
- ``POST /floor/write``: the same read, then one row inserted and committed (the
  least a check-in could write).

Each runs where the app runs its quick reads and writes: on SQLite on the event loop,
over one connection with the app's own pragmas; on PostgreSQL in the thread pool,
over SQLAlchemy's pool of psycopg connections the size of the app's
(HELLO_FLOOR_POOL), reading in autocommit as the app does. The
database is a scratch one, made by :func:`prepare_floor`, named by HELLO_FLOOR_DB
("sqlite:<path>" or a PostgreSQL URL); without it the floor routes are not there.

Run: python bench/_hello.py PORT WORKERS THREADS
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, closing
from functools import cache
from typing import Any

import anyio.to_thread
import psycopg
from fastapi import FastAPI, Request
from sqlalchemy.pool import QueuePool

from reconnect.database import _sqlite_pragmas, sqlite_module

FLOOR_DB = os.environ.get("HELLO_FLOOR_DB", "")
READ = "SELECT person_id, expires_at FROM bench_floor_session WHERE token_hash = {}"
WRITE = "INSERT INTO bench_floor_write (person_id, body) VALUES ({0}, {0})"
BODY = "a check-in's sealed fields, about this long " * 8


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    threads = int(os.environ.get("HELLO_THREADS", "40"))
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    yield


app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)


@app.get("/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}


def prepare_floor(database: str, tokens: Iterable[str]) -> None:
    """The floor's tables in ``database``, with a session row for each token."""
    until = "2100-01-01T00:00:00+00:00"
    rows = [(hashed(token), index, until) for index, token in enumerate(tokens)]
    if database.startswith("sqlite:"):
        with closing(sqlite_module().connect(database.removeprefix("sqlite:"))) as connection:
            connection.execute(
                "CREATE TABLE bench_floor_session "
                "(token_hash TEXT PRIMARY KEY, person_id INTEGER NOT NULL, expires_at TEXT)"
            )
            connection.execute(
                "CREATE TABLE bench_floor_write "
                "(id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL, body TEXT NOT NULL)"
            )
            connection.executemany("INSERT INTO bench_floor_session VALUES (?, ?, ?)", rows)
            connection.commit()
        return
    with psycopg.connect(database, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE bench_floor_session "
            "(token_hash TEXT PRIMARY KEY, person_id INTEGER NOT NULL, expires_at TIMESTAMPTZ)"
        )
        connection.execute(
            "CREATE TABLE bench_floor_write "
            "(id BIGSERIAL PRIMARY KEY, person_id INTEGER NOT NULL, body TEXT NOT NULL)"
        )
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_floor_session VALUES (%s, %s, %s)", rows)
        connection.execute("ANALYZE")


def hashed(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer(request: Request) -> str:
    return hashed(request.headers.get("authorization", "").removeprefix("Bearer "))


def answer(row: Any) -> dict[str, int]:
    return {"person": row[0] if row else -1}


if FLOOR_DB.startswith("sqlite:"):

    @cache
    def sqlite() -> Any:
        """This worker's connection, with the app's pragmas, opened on first use."""
        connection = sqlite_module().connect(FLOOR_DB.removeprefix("sqlite:"), isolation_level=None)
        _sqlite_pragmas(connection, None)
        return connection

    @app.get("/floor/read")
    async def sqlite_read(request: Request) -> dict[str, int]:
        return answer(sqlite().execute(READ.format("?"), (bearer(request),)).fetchone())

    @app.post("/floor/write")
    async def sqlite_write(request: Request) -> dict[str, int]:
        connection = sqlite()
        row = connection.execute(READ.format("?"), (bearer(request),)).fetchone()
        connection.execute("BEGIN")
        connection.execute(WRITE.format("?"), (row[0] if row else -1, BODY))
        connection.execute("COMMIT")
        return answer(row)

elif FLOOR_DB:
    # SQLAlchemy's pool, as the app's, keeping as many connections (bench/load.py).
    _pool = QueuePool(
        lambda: psycopg.connect(FLOOR_DB, autocommit=True),
        pool_size=int(os.environ.get("HELLO_FLOOR_POOL", "10")),
        max_overflow=0,
    )

    @app.get("/floor/read")
    def postgres_read(request: Request) -> dict[str, int]:
        with closing(_pool.connect()) as pooled:
            cursor = pooled.driver_connection.execute(READ.format("%s"), (bearer(request),))
            return answer(cursor.fetchone())

    @app.post("/floor/write")
    def postgres_write(request: Request) -> dict[str, int]:
        with closing(_pool.connect()) as pooled:
            connection = pooled.driver_connection
            row = connection.execute(READ.format("%s"), (bearer(request),)).fetchone()
            with connection.transaction():
                connection.execute(WRITE.format("%s"), (row[0] if row else -1, BODY))
        return answer(row)


if __name__ == "__main__":
    import uvicorn

    from reconnect.cli import run_workers

    port, workers = int(sys.argv[1]), int(sys.argv[2])
    os.environ["HELLO_THREADS"] = sys.argv[3]  # each worker process reads it at start
    server = {"host": "127.0.0.1", "port": port, "log_level": "warning"}
    if workers == 1:
        uvicorn.run(app, **server)
    else:
        run_workers("_hello:app", factory=False, workers=workers, **server)
