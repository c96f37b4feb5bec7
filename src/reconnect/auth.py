"""Accounts, sign-in sessions and the sign-in rate limit.

Session tokens and invite codes are stored only as SHA-256 hashes: a copy of
the database cannot be replayed as a cookie.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reconnect.domain.passwords import password_problem
from reconnect.errors import Problem
from reconnect.models import AuthSession, LoginFailure, Person
from reconnect.settings import Settings

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._+@-]{2,253}$")


def make_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=3, memory_cost=settings.password_hash_memory_kib, parallelism=4, type=Type.ID
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_username(raw: str) -> str:
    return raw.strip().casefold()


def register(db: Session, *, username: str, password: str, hasher: PasswordHasher) -> Person:
    """Create an account, or raise Problem (invalid_username, username_taken, weak_password)."""
    name = normalise_username(username)
    if not USERNAME.match(name):
        raise Problem(
            "invalid_username",
            "A username is 3 to 254 letters, digits or . _ + @ - (an email address works).",
        )
    problem = password_problem(password, name)
    if problem:
        raise Problem("weak_password", problem)
    if db.scalar(select(Person.id).where(Person.username == name)) is not None:
        raise Problem("username_taken", "That username is taken. Please choose another.", 409)
    person = Person(username=name, password_hash=hasher.hash(password))
    db.add(person)
    try:
        db.flush()
    except IntegrityError:  # two registrations raced for the same name
        raise Problem(
            "username_taken", "That username is taken. Please choose another.", 409
        ) from None
    return person


def _recent_failures(db: Session, key: str, since: datetime) -> int:
    query = select(func.count()).where(LoginFailure.key == key, LoginFailure.at >= since)
    return db.scalar(query) or 0


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Verifying against this when the account does not exist keeps the answer's
    # timing the same for "no such person" and "wrong password".
    return hasher.hash(secrets.token_urlsafe(16))


def check_login(
    db: Session,
    *,
    username: str,
    password: str,
    address: str,
    settings: Settings,
    hasher: PasswordHasher,
    now: datetime,
) -> Person | None:
    """The person these credentials belong to, or None (the failure is recorded).

    Raises Problem 429 when the account or the address has failed too often lately.
    The caller commits, so a failure counts even though the sign-in is refused.
    """
    name = normalise_username(username)
    since = now - timedelta(minutes=settings.login_window_minutes)
    account_key, address_key = f"account:{name}", f"address:{address}"
    if (
        _recent_failures(db, account_key, since) >= settings.login_attempts_per_account
        or _recent_failures(db, address_key, since) >= settings.login_attempts_per_address
    ):
        raise Problem(
            "too_many_attempts",
            "Too many sign-in attempts. Please wait a few minutes and try again.",
            429,
        )
    person = db.scalar(select(Person).where(Person.username == name))
    stored = person.password_hash if person else _dummy_hash(hasher)
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        person = None
    if person is None:
        db.add_all([LoginFailure(key=account_key, at=now), LoginFailure(key=address_key, at=now)])
        db.execute(delete(LoginFailure).where(LoginFailure.at < now - timedelta(days=1)))
        return None
    if hasher.check_needs_rehash(person.password_hash):
        person.password_hash = hasher.hash(password)
    return person


def start_session(
    db: Session, *, person: Person, kind: str, settings: Settings, now: datetime
) -> str:
    """A fresh random token for ``person``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.add(
        AuthSession(
            token_hash=token_hash(token),
            person_id=person.id,
            kind=kind,
            created_at=now,
            expires_at=now + timedelta(hours=settings.session_hours),
        )
    )
    return token


def person_for_token(db: Session, token: str | None, now: datetime) -> Person | None:
    if not token or len(token) > 200:
        return None
    row = db.get(AuthSession, token_hash(token))
    if row is None or row.expires_at <= now:
        return None
    return row.person


def end_session(db: Session, token: str | None) -> None:
    if token:
        db.execute(delete(AuthSession).where(AuthSession.token_hash == token_hash(token)))
