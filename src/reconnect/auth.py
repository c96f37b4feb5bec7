"""Accounts, sign-in sessions and the sign-in rate limit.

Session tokens and invite codes are stored only as SHA-256 hashes: a copy of
the database cannot be replayed as a cookie.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import pyotp
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reconnect import keys, localtime, ratelimit
from reconnect.domain.passwords import password_problem
from reconnect.errors import Problem
from reconnect.models import AuthSession, Person
from reconnect.settings import Settings

log = logging.getLogger("reconnect.auth")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._+@-]{2,253}$")


def make_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=3, memory_cost=settings.password_hash_memory_kib, parallelism=4, type=Type.ID
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_username(raw: str) -> str:
    return raw.strip().casefold()


@dataclass(frozen=True)
class NewAccount:
    person: Person
    data_key: bytes
    recovery_key: str  # shown to the person once, never stored


def kdf_params(settings: Settings) -> keys.KdfParams:
    return keys.KdfParams(memory_kib=settings.password_hash_memory_kib)


def register(
    db: Session,
    *,
    username: str,
    password: str,
    hasher: PasswordHasher,
    kdf: keys.KdfParams,
    time_zone: str = localtime.DEFAULT_ZONE,
) -> NewAccount:
    """Create an account with its own data key and recovery key, living in ``time_zone``.

    Raises Problem (invalid_username, username_taken, weak_password, invalid_time_zone).
    """
    zone_name = localtime.check_zone(time_zone)
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
    data_key = keys.new_key()
    recovery_text, recovery = keys.new_recovery_key()
    person = Person(
        username=name,
        password_hash=hasher.hash(password),
        kdf_salt=keys.new_salt(),
        kdf_memory_kib=kdf.memory_kib,
        kdf_time_cost=kdf.time_cost,
        kdf_parallelism=kdf.parallelism,
        key_by_password=b"",
        key_by_recovery=b"",
        time_zone=zone_name,
    )
    db.add(person)
    try:
        db.flush()
    except IntegrityError:  # two registrations raced for the same name
        raise Problem(
            "username_taken", "That username is taken. Please choose another.", 409
        ) from None
    wrap_for_password(person, data_key, password)
    person.key_by_recovery = keys.seal(
        keys.recovery_wrap_key(recovery), data_key, f"wrap:recovery:person:{person.id}"
    )
    db.flush()
    return NewAccount(person, data_key, recovery_text)


def _person_kdf(person: Person) -> keys.KdfParams:
    return keys.KdfParams(person.kdf_memory_kib, person.kdf_time_cost, person.kdf_parallelism)


def wrap_for_password(person: Person, data_key: bytes, password: str) -> None:
    """(Re)wrap the data key under a fresh salt and the password; entries stay untouched."""
    person.kdf_salt = keys.new_salt()
    kek = keys.password_key(password, person.kdf_salt, _person_kdf(person))
    person.key_by_password = keys.seal(kek, data_key, f"wrap:password:person:{person.id}")


def unlock_with_password(person: Person, password: str) -> bytes:
    kek = keys.password_key(password, person.kdf_salt, _person_kdf(person))
    return keys.unseal(kek, person.key_by_password, f"wrap:password:person:{person.id}")


def unlock_with_recovery_key(person: Person, recovery_text: str) -> bytes | None:
    recovery = keys.parse_recovery_key(recovery_text)
    if recovery is None:
        return None
    try:
        return keys.unseal(
            keys.recovery_wrap_key(recovery),
            person.key_by_recovery,
            f"wrap:recovery:person:{person.id}",
        )
    except keys.SealBroken:
        return None


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
    failures = ratelimit.failure_store(db, settings)
    if (
        failures.count(account_key, since) >= settings.login_attempts_per_account
        or failures.count(address_key, since) >= settings.login_attempts_per_address
    ):
        log.warning("sign-in rate-limited for %r from %s", name, address)
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
        record_failure(db, name=name, address=address, now=now, settings=settings)
        return None
    log.info("signed in: person %s from %s", person.id, address)
    if hasher.check_needs_rehash(person.password_hash):
        person.password_hash = hasher.hash(password)
    return person


def record_failure(
    db: Session, *, name: str, address: str, now: datetime, settings: Settings
) -> None:
    """Count a failed sign-in towards both rate limits, in the database (the caller
    commits) or in Redis (at once), as ``settings`` say."""
    # Logged for the operator: who tried and from where, never what they typed.
    log.warning("sign-in refused for %r from %s", name, address)
    ratelimit.failure_store(db, settings).add([f"account:{name}", f"address:{address}"], now)


def start_session(
    db: Session, *, person: Person, data_key: bytes, kind: str, settings: Settings, now: datetime
) -> str:
    """A fresh random token for ``person``; only its hash is stored.

    The data key is kept for the session wrapped under a key derived from the
    token, so only the holder of the cookie or bearer token can unlock it.
    """
    token = secrets.token_urlsafe(32)
    hashed = token_hash(token)
    db.add(
        AuthSession(
            token_hash=hashed,
            person_id=person.id,
            kind=kind,
            created_at=now,
            expires_at=now + timedelta(hours=settings.session_hours),
            key_wrap=keys.seal(keys.token_key(token), data_key, f"wrap:session:{hashed}"),
        )
    )
    return token


@dataclass(frozen=True)
class SignedIn:
    person: Person
    data_key: bytes
    token_hash: str


def session_for_token(db: Session, token: str | None, now: datetime) -> SignedIn | None:
    """Who holds this token, with their unlocked data key; None if it is not valid."""
    if not token or len(token) > 200:
        return None
    hashed = token_hash(token)
    row = db.get(AuthSession, hashed)
    if row is None or row.expires_at <= now:
        return None
    try:
        data_key = keys.unseal(keys.token_key(token), row.key_wrap, f"wrap:session:{hashed}")
    except keys.SealBroken:
        return None
    return SignedIn(row.person, data_key, hashed)


def end_other_sessions(db: Session, person: Person, keep: str | None) -> None:
    query = delete(AuthSession).where(AuthSession.person_id == person.id)
    if keep:
        query = query.where(AuthSession.token_hash != keep)
    db.execute(query)


def end_session(db: Session, token: str | None) -> None:
    if token:
        db.execute(delete(AuthSession).where(AuthSession.token_hash == token_hash(token)))


def change_password(
    db: Session,
    *,
    signed_in: SignedIn,
    current_password: str,
    new_password: str,
    hasher: PasswordHasher,
) -> None:
    """New password: re-wraps only the data key, and signs out every other session."""
    person = signed_in.person
    try:
        hasher.verify(person.password_hash, current_password)
    except (VerificationError, InvalidHashError):
        raise Problem("wrong_password", "Your current password is not right.", 403) from None
    problem = password_problem(new_password, person.username)
    if problem:
        raise Problem("weak_password", problem)
    person.password_hash = hasher.hash(new_password)
    wrap_for_password(person, signed_in.data_key, new_password)
    end_other_sessions(db, person, keep=signed_in.token_hash)


def recover_account(
    db: Session, *, username: str, recovery_key: str, new_password: str, hasher: PasswordHasher
) -> tuple[Person, bytes]:
    """Set a new password with the recovery key; everything written stays readable."""
    person = db.scalar(select(Person).where(Person.username == normalise_username(username)))
    data_key = unlock_with_recovery_key(person, recovery_key) if person else None
    if person is None or data_key is None:
        raise Problem("recovery_failed", "That username and recovery key do not match.", 403)
    problem = password_problem(new_password, person.username)
    if problem:
        raise Problem("weak_password", problem)
    person.password_hash = hasher.hash(new_password)
    wrap_for_password(person, data_key, new_password)
    end_other_sessions(db, person, keep=None)
    return person, data_key


def start_fresh(
    db: Session, *, person: Person, new_password: str, hasher: PasswordHasher
) -> NewAccount:
    """Reset without the recovery key: the old private history cannot be opened by
    anyone any more, so it is removed and the person starts again with new keys."""
    from reconnect.models import CheckInEntry, ExperienceRatingEntry, Membership

    problem = password_problem(new_password, person.username)
    if problem:
        raise Problem("weak_password", problem)
    db.execute(delete(CheckInEntry).where(CheckInEntry.person_id == person.id))
    db.execute(delete(ExperienceRatingEntry).where(ExperienceRatingEntry.person_id == person.id))
    membership = db.get(Membership, person.id)
    if membership is not None:
        membership.couple_key_wrap = None
    data_key = keys.new_key()
    recovery_text, recovery = keys.new_recovery_key()
    person.password_hash = hasher.hash(new_password)
    wrap_for_password(person, data_key, new_password)
    person.key_by_recovery = keys.seal(
        keys.recovery_wrap_key(recovery), data_key, f"wrap:recovery:person:{person.id}"
    )
    end_other_sessions(db, person, keep=None)
    return NewAccount(person, data_key, recovery_text)


# --- optional two-step sign-in (TOTP, RFC 6238) ----------------------------------


# What new_totp_secret() makes: 32 base32 characters, 160 bits.
TOTP_SECRET = re.compile(r"[A-Z2-7]{32}")


def _totp_context(person: Person) -> str:
    return f"totp:person:{person.id}"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(person: Person, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=person.username, issuer_name="Reconnect")


def enable_totp(person: Person, data_key: bytes, secret: str, code: str) -> None:
    """Turn on two-step sign-in once the person shows their app produces ``code``."""
    if not TOTP_SECRET.fullmatch(secret) or not pyotp.TOTP(secret).verify(
        code.strip(), valid_window=1
    ):
        raise Problem(
            "wrong_code",
            "That code did not match. Check the time on your phone and try the newest code.",
            422,
        )
    person.totp_sealed = keys.seal(data_key, secret.encode(), _totp_context(person))


def disable_totp(person: Person, password: str, hasher: PasswordHasher) -> None:
    try:
        hasher.verify(person.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise Problem("wrong_password", "Your password is not right.", 403) from None
    person.totp_sealed = None


def check_second_step(person: Person, data_key: bytes, code: str | None) -> bool:
    """True when no second step is set up, or ``code`` is the current one."""
    if person.totp_sealed is None:
        return True
    if not code:
        return False
    secret = keys.unseal(data_key, person.totp_sealed, _totp_context(person)).decode()
    return bool(pyotp.TOTP(secret).verify(code.strip(), valid_window=1))
