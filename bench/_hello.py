"""The bare ceiling for bench/load.py: one hello-world route on the same stack.

Same framework (FastAPI), same server (uvicorn) and worker count as the app, and a
plain ``def`` route like the app's handlers, so it runs in the same thread pool.
Nothing else: no database, no templates, no middleware.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}
