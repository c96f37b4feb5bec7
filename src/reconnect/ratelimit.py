"""Where failed sign-ins are counted: the database, or Redis when one is configured.

Both stores answer the same question the same way: how many failures were recorded
under a key (``account:<name>`` or ``address:<ip>``) at or after a moment. Every web
process reads and writes the same store, so the limit holds however many processes
serve the app; nothing is counted in a process's memory.

The database store writes in the request's transaction (the caller commits, so a
refused sign-in still counts). The Redis store writes at once, keeps each key only
for the length of the window, and names keys by a hash, so Redis never holds a
username or an address.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol

import redis
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from reconnect.errors import Problem
from reconnect.models import LoginFailure
from reconnect.settings import Settings

log = logging.getLogger("reconnect.ratelimit")

# The database keeps a day of failures (for the operator's eye), then prunes them.
DATABASE_KEEP = timedelta(days=1)


class FailureStore(Protocol):
    def count(self, key: str, since: datetime) -> int:
        """Failures recorded under ``key`` at or after ``since``."""
        ...

    def add(self, keys: list[str], now: datetime) -> None:
        """One failure at ``now`` under each of ``keys``."""
        ...


class DatabaseFailures:
    """Failures as ``LoginFailure`` rows, written in the caller's transaction."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def count(self, key: str, since: datetime) -> int:
        query = select(func.count()).where(LoginFailure.key == key, LoginFailure.at >= since)
        return self.db.scalar(query) or 0

    def add(self, keys: list[str], now: datetime) -> None:
        self.db.add_all([LoginFailure(key=key, at=now) for key in keys])
        self.db.execute(delete(LoginFailure).where(LoginFailure.at < now - DATABASE_KEEP))


class RedisFailures:
    """Failures as members of one sorted set per key, scored by their time.

    A set expires a window after its last failure, and members older than the
    window are dropped on each write, so Redis holds no more than the limit needs.
    """

    def __init__(self, client: redis.Redis, prefix: str, window: timedelta) -> None:
        self.client = client
        self.prefix = prefix
        self.window = window

    def _name(self, key: str) -> str:
        return f"{self.prefix}:login-failures:{hashlib.sha256(key.encode()).hexdigest()}"

    def count(self, key: str, since: datetime) -> int:
        try:
            return int(self.client.zcount(self._name(key), since.timestamp(), "+inf"))
        except redis.RedisError as error:
            raise _unavailable(error) from None

    def add(self, keys: list[str], now: datetime) -> None:
        moment = now.timestamp()
        expiry = int(self.window.total_seconds()) + 60
        try:
            with self.client.pipeline(transaction=True) as pipe:
                for key in keys:
                    name = self._name(key)
                    # A random member: two failures at the same moment both count.
                    pipe.zadd(name, {f"{moment}:{secrets.token_hex(8)}": moment})
                    pipe.zremrangebyscore(name, "-inf", f"({moment - self.window.total_seconds()}")
                    pipe.expire(name, expiry)
                pipe.execute()
        except redis.RedisError as error:
            raise _unavailable(error) from None


def _unavailable(error: redis.RedisError) -> Problem:
    # Without its counters the limit cannot be checked; refusing is the safe side.
    log.error("the sign-in rate limit cannot reach Redis: %s", type(error).__name__)
    return Problem(
        "sign_in_unavailable",
        "Signing in is not possible for a moment. Please try again in a minute.",
        503,
    )


@lru_cache(maxsize=8)
def _client(url: str) -> redis.Redis:
    # One client (with its own connection pool) per process and URL; it holds
    # connections, never counts.
    return redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)


def failure_store(db: Session, settings: Settings) -> FailureStore:
    """The store these settings name: Redis when ``redis_url`` is set, else the database."""
    if settings.redis_url:
        window = timedelta(minutes=settings.login_window_minutes)
        return RedisFailures(_client(settings.redis_url), settings.redis_prefix, window)
    return DatabaseFailures(db)
