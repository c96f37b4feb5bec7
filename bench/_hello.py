"""The bare ceiling for bench/load.py: one hello-world route on the same stack.

Same framework (FastAPI), same server (uvicorn, started the way ``reconnect serve``
starts it) and worker count as the app, and a plain ``def`` route like the app's
handlers, so it runs in the same thread pool, with as many threads as the app's
(RECONNECT_THREADS' default for the backend measured). Nothing else: no database,
no templates, no middleware.

Run: python bench/_hello.py PORT WORKERS THREADS
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    threads = int(os.environ.get("HELLO_THREADS", "40"))
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    yield


app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)


@app.get("/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}


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
