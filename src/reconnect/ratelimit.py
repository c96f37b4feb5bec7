"""Where failed sign-ins and password checks are counted, and which devices are known.

Both stores (the database, or Redis when one is configured) answer the same question
the same way: how many failures were recorded under a counter at or after a moment.
Every web process reads and writes the same store, so the limit holds however many
processes serve the app; nothing is counted in a process's memory.

A counter is named by a keyed digest (HMAC-SHA256 under a key derived from the app's
secret key, which lives in the data folder or the environment, never in the
database): neither store holds a name someone typed (often a password typed into the
wrong box), an address or a token, nor a plain hash of one that could be checked
against guesses.

The counters, each allowing ``login_attempts_per_account`` failures in the window
unless said otherwise:

- ``account``: sign-ins to one account from devices it does not know;
- ``address``: sign-ins from one network address, to any account
  (``login_attempts_per_address``), again only from unknown devices;
- ``device``: sign-ins from one known device (below) to the account that knows it;
- ``session``: password checks inside one sign-in (changing the password, turning
  off two-step sign-in, deleting the account).

Known devices follow OWASP's "device cookies": after a successful sign-in the
browser (a cookie) or the API client (a token it keeps) gets a device token, a random
nonce with a MAC binding it to that one account. It names nobody and opens nothing.
A device that shows a token the account earned is counted on its own, so someone
guessing elsewhere (the partner at another browser, or on the same home network)
cannot lock the person out of their own device; unknown devices still share the
account's and the address's limits.

The database store writes in the request's transaction (the caller commits, so a
refused attempt still counts). The Redis store writes at once and keeps each key
only for the length of the window.

The same stores also count each person's writes that feed shared work (notes, shared
statuses, heart-rate imports and readings typed by hand; ``WriteLimits`` below), so
that one partner cannot slow the other's requests, or another couple's, by writing
hundreds of times: each write runs the detectors. Those counters are keyed digests of
the kind of write and the person's row id, counted per person only, so a limit on one
person never touches their partner or anyone else. Within those limits each person's
writes are also spaced (``WriteSpacing``), in the memory of the process they load.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Protocol

import redis
from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.orm import Session

from reconnect.database import plain_value, session_connection
from reconnect.errors import Problem
from reconnect.models import LoginFailure
from reconnect.settings import Settings

log = logging.getLogger("reconnect.ratelimit")

# The database keeps a day of failures (digests only), then prunes them.
DATABASE_KEEP = timedelta(days=1)


class FailureStore(Protocol):
    def count(self, key: str, since: datetime) -> int:
        """Failures recorded under ``key`` at or after ``since``."""
        ...

    def add(self, keys: list[str], now: datetime) -> None:
        """One failure at ``now`` under each of ``keys``."""
        ...

    def nth_since(self, key: str, since: datetime, n: int) -> datetime | None:
        """The time of the ``n``-th oldest (from 0) event under ``key`` at or after
        ``since``, or None when there are not that many."""
        ...


# The counters' statements, built once: every note and status asks one and writes two
# or three, and through the ORM they had cost more than the note itself (plain reads
# and writes on the session's connection: database.plain_value, session_connection).
_COUNT = select(func.count()).where(
    LoginFailure.key == bindparam("key"), LoginFailure.at >= bindparam("since")
)
_ADD = insert(LoginFailure)
_FORGET_OLDER = delete(LoginFailure).where(
    LoginFailure.key == bindparam("key"), LoginFailure.at < bindparam("before")
)
_FORGET_EVERYONES_OLDER = delete(LoginFailure).where(LoginFailure.at < bindparam("before"))


class DatabaseFailures:
    """Failures as ``LoginFailure`` rows, written in the caller's transaction."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def count(self, key: str, since: datetime) -> int:
        return plain_value(self.db, _COUNT, {"key": key, "since": since}) or 0

    def add(self, keys: list[str], now: datetime) -> None:
        connection = session_connection(self.db)
        if keys:  # an empty list would insert one row without a key, and fail
            connection.execute(_ADD, [{"key": key, "at": now} for key in keys])
        connection.execute(_FORGET_EVERYONES_OLDER, {"before": now - DATABASE_KEEP})

    def nth_since(self, key: str, since: datetime, n: int) -> datetime | None:
        query = (
            select(LoginFailure.at)
            .where(LoginFailure.key == key, LoginFailure.at >= since)
            .order_by(LoginFailure.at)
            .offset(n)
            .limit(1)
        )
        return self.db.scalar(query)

    def note(self, key: str, now: datetime, window: timedelta, *, prune_all: bool) -> None:
        """One write at ``now`` under ``key``; this counter's events older than
        ``window`` go (through the key's index), and everyone's older than a day when
        ``prune_all`` (the first write of a window), so no row outlives a day for long."""
        connection = session_connection(self.db)
        connection.execute(_ADD, {"key": key, "at": now})
        connection.execute(_FORGET_OLDER, {"key": key, "before": now - window})
        if prune_all:
            connection.execute(_FORGET_EVERYONES_OLDER, {"before": now - DATABASE_KEEP})


class RedisFailures:
    """Failures as members of one sorted set per key, scored by their time.

    A set expires a window after its last failure, and members older than the
    window are dropped on each write, so Redis holds no more than the limit needs.
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        window: timedelta,
        family: str = "login-failures",
        unavailable: Problem | None = None,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.window = window
        self.family = family
        self.unavailable = unavailable

    def _name(self, key: str) -> str:
        return f"{self.prefix}:{self.family}:{key}"

    def _error(self, error: redis.RedisError) -> Problem:
        problem = _unavailable(error)
        return self.unavailable or problem

    def count(self, key: str, since: datetime) -> int:
        try:
            return int(self.client.zcount(self._name(key), since.timestamp(), "+inf"))
        except redis.RedisError as error:
            raise self._error(error) from None

    def nth_since(self, key: str, since: datetime, n: int) -> datetime | None:
        try:
            found = self.client.zrangebyscore(
                self._name(key), since.timestamp(), "+inf", start=n, num=1, withscores=True
            )
        except redis.RedisError as error:
            raise self._error(error) from None
        return datetime.fromtimestamp(float(found[0][1]), tz=since.tzinfo) if found else None

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
            raise self._error(error) from None

    def note(self, key: str, now: datetime, window: timedelta, *, prune_all: bool) -> None:
        """One write at ``now`` under ``key`` (the window is this store's own)."""
        self.add([key], now)


def _unavailable(error: redis.RedisError) -> Problem:
    # Without its counters the limit cannot be checked; refusing is the safe side.
    log.error("a rate limit cannot reach Redis: %s", type(error).__name__)
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


def _derived_key(secret: str, purpose: str) -> bytes:
    # One key per use, so a digest made for one purpose is no use for another.
    return hmac.new(secret.encode(), f"reconnect {purpose} v1".encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Counter:
    """One count of failures (named by its keyed digest) and how many it allows."""

    name: str
    limit: int


class Limiter:
    """The counters of this installation, in its store, named under its secret key."""

    def __init__(self, db: Session, settings: Settings, secret: str) -> None:
        self.store = failure_store(db, settings)
        self.settings = settings
        self.window = timedelta(minutes=settings.login_window_minutes)
        self._key = _derived_key(secret, "rate-limit counters")

    def counter(self, kind: str, value: str, limit: int | None = None) -> Counter:
        digest = hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return Counter(digest, self.settings.login_attempts_per_account if limit is None else limit)

    def sign_in_counters(self, *, name: str, address: str, device: str | None) -> list[Counter]:
        """What a sign-in is counted under: its known device alone, or, from a device
        the account does not know, the account and the address."""
        if device is not None:
            return [self.counter("device", device)]
        return [
            self.counter("account", name),
            self.counter("address", address, self.settings.login_attempts_per_address),
        ]

    def session_counters(self, token_hash: str) -> list[Counter]:
        """What a password check inside a sign-in is counted under."""
        return [self.counter("session", token_hash)]

    def check(self, counters: list[Counter], now: datetime, message: str) -> None:
        """Raise Problem 429 (``message``) when any counter is used up for the window."""
        since = now - self.window
        if any(self.store.count(c.name, since) >= c.limit for c in counters):
            raise Problem("too_many_attempts", message, 429)

    def fail(self, counters: list[Counter], now: datetime) -> None:
        """One failure on each counter (the database store: in the caller's transaction)."""
        self.store.add([c.name for c in counters], now)


# --- writes that feed shared work ----------------------------------------------------


class Write(StrEnum):
    """The writes counted per person, each in a window of its own."""

    NOTE = "note"
    STATUS = "status"
    HEART_IMPORT = "heart-import"
    HEART_READING = "heart-reading"


@dataclass(frozen=True)
class _Kind:
    setting: str  # the Settings field that holds the limit
    window: timedelta
    what: str  # "That is a lot of <what> <span>."
    span: str
    again: str  # "... you can <again> in 12 minutes."
    kept: str  # what happened to what they sent, on a page (which keeps it)
    unsent: str  # the same through the API (the client keeps it, or not)


_KINDS = {
    Write.NOTE: _Kind(
        "notes_per_hour",
        timedelta(hours=1),
        "notes",
        "in a short time",
        "send again",
        "Your words are kept here",
        "This note was not sent yet",
    ),
    Write.STATUS: _Kind(
        "statuses_per_hour",
        timedelta(hours=1),
        "shared statuses",
        "in a short time",
        "share again",
        "Your words are kept here",
        "This status was not shared yet",
    ),
    Write.HEART_IMPORT: _Kind(
        "heart_imports_per_day",
        timedelta(days=1),
        "heart-rate imports",
        "in one day",
        "import again",
        "Nothing from this file was stored yet",
        "Nothing from this file was stored yet",
    ),
    Write.HEART_READING: _Kind(
        "heart_readings_per_hour",
        timedelta(hours=1),
        "heart-rate readings",
        "in a short time",
        "add readings again",
        "This reading was not stored yet",
        "This reading was not stored yet",
    ),
}
# The database store prunes every row older than a day: no window may be longer.
if any(kind.window > DATABASE_KEEP for kind in _KINDS.values()):  # pragma: no cover
    raise RuntimeError("a write window is longer than the database keeps its counters")


class SlowDown(Problem):
    """A person's writes of one kind used up their window: 429 ``slow_down``, with
    ``retry_after`` (whole seconds) for the Retry-After header."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__("slow_down", message, 429, {"Retry-After": str(retry_after)})
        self.retry_after = retry_after


def in_words(seconds: int) -> str:
    """A wait, said plainly: "a few seconds", "less than a minute", "1 minute",
    "12 minutes", "about 3 hours". A write refused for coming too fast may be sent again
    within seconds, and is told so."""
    if seconds <= 10:
        return "a few seconds"
    if seconds < 60:
        return "less than a minute"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"about {math.ceil(minutes / 60)} hours"


def slow_down(kind: Write, wait_s: float, *, page: bool) -> SlowDown:
    """The calm refusal of a write of ``kind`` that may be made again in ``wait_s``
    seconds; it says the words are kept when a page (``page``) shows them again."""
    about = _KINDS[kind]
    wait = max(1, math.ceil(wait_s))
    return SlowDown(
        f"That is a lot of {about.what} {about.span}. "
        f"{about.kept if page else about.unsent}; you can "
        f"{about.again} in {in_words(wait)}.",
        wait,
    )


class WriteLimits:
    """How many writes of each kind one person may make in its window, counted in the
    installation's store (the database, or Redis when configured) under keyed digests.

    ``check`` before the write refuses one that would go over with ``SlowDown``;
    ``record`` after it succeeded counts it (the database store: in the caller's
    transaction, so a write that is rolled back is not counted)."""

    def __init__(self, db: Session, settings: Settings, secret: str) -> None:
        self.db = db
        self.settings = settings
        self._key = _derived_key(secret, "write-limit counters")
        self._seen: dict[str, int] = {}

    def _store(self, kind: Write) -> DatabaseFailures | RedisFailures:
        if not self.settings.redis_url:
            return DatabaseFailures(self.db)
        refusal = Problem(
            "writes_unavailable",
            "Saving is not possible for a moment. Please try again in a minute.",
            503,
        )
        client = _client(self.settings.redis_url)
        window = _KINDS[kind].window
        return RedisFailures(client, self.settings.redis_prefix, window, "writes", refusal)

    def _name(self, kind: Write, person_id: int) -> str:
        return hmac.new(self._key, f"{kind}:{person_id}".encode(), hashlib.sha256).hexdigest()

    def limit(self, kind: Write) -> int:
        limit: int = getattr(self.settings, _KINDS[kind].setting)
        return limit

    def check(self, kind: Write, person_id: int, now: datetime, *, page: bool = True) -> None:
        """Raise SlowDown when ``person_id`` has used up ``kind``'s window. Its message
        says the words are kept when a page (``page``) shows them again."""
        about = _KINDS[kind]
        name = self._name(kind, person_id)
        store = self._store(kind)
        since = now - about.window
        count = store.count(name, since)
        self._seen[name] = count
        limit = self.limit(kind)
        if count < limit:
            return
        # A place frees when the oldest write that keeps the count at the limit leaves
        # the window.
        oldest = store.nth_since(name, since, count - limit) or now
        raise slow_down(kind, (oldest + about.window - now).total_seconds(), page=page)

    def record(self, kind: Write, person_id: int, now: datetime) -> None:
        """Count one write of ``kind`` by ``person_id`` at ``now``."""
        name = self._name(kind, person_id)
        first = self._seen.get(name, 0) == 0
        self._store(kind).note(name, now, _KINDS[kind].window, prune_all=first)


# --- spacing: one person's writes in one process ------------------------------------
#
# The limits above count an hour's writes. Within it, a script can still send them as
# fast as the server answers, and every other request in the process shares its time
# with them: another couple's check-in took 1.6-1.9 times as long while one partner sent
# notes one after another (bench/load.py, with the hourly limit raised out of the way).
# So each person's limited writes are also spaced: a burst of SPACING_BURST at once (a
# phone sending what it kept while offline), then one every SPACING_GAP_S. Nobody
# typing ever meets it. The spacing protects this process's time, so it is this
# process's own, kept in memory.

SPACING_BURST = 20
SPACING_GAP_S = 0.05  # 20 a second once the burst is used
SPACING_WAIT_AT_MOST_S = 5.0  # an API write that would wait longer is refused (429)
_SPACING_REMEMBERED = 10_000  # people, before those with no burst spent are forgotten


class WriteSpacing:
    """Turns for one person's writes of the limited kinds (notes, statuses, heart-rate
    imports and readings), all kinds together: the first ``burst`` at once, then one
    every ``gap_s`` seconds. Another person's turns never wait for these."""

    def __init__(
        self,
        burst: int = SPACING_BURST,
        gap_s: float = SPACING_GAP_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.burst, self.gap_s = burst, gap_s
        self._clock, self._sleep = clock, sleep
        # When each person's next turn comes once their burst is spent.
        self._next: dict[int, float] = {}

    def _wait_at(self, person_id: int, now: float) -> tuple[float, float]:
        """When the person's next turn is due, past their burst; and the seconds from
        ``now`` to their next turn (0 while the burst lasts)."""
        due = max(self._next.get(person_id, now), now)
        return due, max(0.0, due - (self.burst - 1) * self.gap_s - now)

    def waiting(self, person_id: int) -> float:
        """The seconds the person's next write would wait for its turn."""
        return self._wait_at(person_id, self._clock())[1]

    def book(self, person_id: int) -> float:
        """Book the person's next turn; the seconds to wait for it."""
        now = self._clock()
        due, wait = self._wait_at(person_id, now)
        self._next[person_id] = due + self.gap_s
        if len(self._next) > _SPACING_REMEMBERED:
            self._next = {p: at for p, at in self._next.items() if at > now}
        return wait

    async def take_turn(self, kind: Write, person_id: int, *, page: bool) -> None:
        """Wait for the person's turn. Through the API a wait over
        SPACING_WAIT_AT_MOST_S is refused with ``slow_down`` instead (the app keeps
        the words and sends them again later). A page waits at most that long: refused
        before its handler, it could not show the words typed again."""
        waiting = self.waiting(person_id)
        if not page and waiting > SPACING_WAIT_AT_MOST_S:
            raise slow_down(kind, waiting - SPACING_WAIT_AT_MOST_S, page=False)
        wait = self.book(person_id)
        if wait:
            await self._sleep(min(wait, SPACING_WAIT_AT_MOST_S))


# --- known devices (OWASP "device cookies") -----------------------------------------

# How many accounts' device tokens one browser keeps (partners may share a computer).
DEVICE_TOKENS_KEPT = 4
_NONCE_BYTES = 16
DEVICE_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _device_mac(secret: str, account: str, nonce: str) -> str:
    key = _derived_key(secret, "device tokens")
    return _b64(hmac.new(key, f"{account}:{nonce}".encode(), hashlib.sha256).digest())


def new_device_token(secret: str, account: str) -> str:
    """A fresh token for a device that just signed in to ``account`` (an opaque,
    stable name for the account): ``<nonce>.<mac>``, naming nobody."""
    nonce = _b64(secrets.token_bytes(_NONCE_BYTES))
    return f"{nonce}.{_device_mac(secret, account, nonce)}"


def earned_by(secret: str, account: str, token: str) -> str | None:
    """The token's nonce (its device's name) if ``account`` earned it, else None."""
    if not DEVICE_TOKEN.fullmatch(token):
        return None
    nonce, _, mac = token.partition(".")
    return nonce if hmac.compare_digest(mac, _device_mac(secret, account, nonce)) else None


def known_device(secret: str, account: str, tokens: Iterable[str]) -> str | None:
    """The device name of the first of ``tokens`` that ``account`` earned, or None."""
    for token in tokens:
        nonce = earned_by(secret, account, token)
        if nonce is not None:
            return nonce
    return None


def keep_device_token(secret: str, account: str, new: str, kept: Iterable[str]) -> list[str]:
    """The tokens a browser keeps after signing in to ``account``: the new one, and
    those other accounts earned (newest first, at most ``DEVICE_TOKENS_KEPT``)."""
    others = [
        t
        for t in kept
        if t != new and DEVICE_TOKEN.fullmatch(t) and earned_by(secret, account, t) is None
    ]
    return [new, *others][:DEVICE_TOKENS_KEPT]
