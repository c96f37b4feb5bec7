"""Accounts, sign-in sessions and the sign-in rate limit.

Session tokens and invite codes are stored only as SHA-256 hashes: a copy of
the database cannot be replayed as a cookie.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import pyotp
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from reconnect import access, keys, localtime, ratelimit
from reconnect.accounts.reseal import seal_what_was_clear
from reconnect.accounts.signed_in import SignedIn, token_hash
from reconnect.database import UNLOCKED
from reconnect.domain.passwords import password_problem
from reconnect.errors import Problem
from reconnect.models import (
    AuthSession,
    CheckInEntry,
    Couple,
    ExperienceRatingEntry,
    Membership,
    Person,
    SafetyScreen,
)
from reconnect.settings import Settings

log = logging.getLogger("reconnect.accounts.auth")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._+@-]{2,253}$")


@dataclass(frozen=True)
class PasswordChecks:
    """What every password check needs: the limits' settings, the app's secret (for
    the keyed failure counters and device tokens) and the password hasher."""

    settings: Settings
    secret: str
    hasher: PasswordHasher


def make_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=3, memory_cost=settings.password_hash_memory_kib, parallelism=4, type=Type.ID
    )


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


SIGN_IN_PAUSED = "Too many sign-in attempts. Please wait a few minutes and try again."
CHECKS_PAUSED = "Too many tries with the password. Please wait a few minutes and try again."
NO_MATCH = "That username and password do not match."
CODE_NEEDED = "Please add the current code from your authenticator app."
CODE_USED = "That code has been used already. Please wait for the next one in your app."


def device_account(person: Person) -> str:
    """The name a device token is bound to: this account, and no later one that might
    get the same id (SQLite can reuse the id of the newest row once it is deleted)."""
    return f"{person.id}:{person.username}"


@dataclass(frozen=True)
class SignInResult:
    person: Person
    data_key: bytes
    device_token: str  # fresh, for the browser or client to keep (see ratelimit.py)


def sign_in(
    db: Session,
    *,
    username: str,
    password: str,
    code: str | None,
    address: str,
    device_tokens: list[str],
    checks: PasswordChecks,
    now: datetime,
) -> SignInResult:
    """Check the password (and the two-step code when it is on) and unlock the data key.

    ``device_tokens`` are what the browser or client kept from earlier sign-ins: one
    this account earned makes the attempt count on that device alone, so guesses made
    elsewhere cannot lock the person out of it (ratelimit.py). Raises Problem:
    too_many_attempts (429), invalid_credentials or second_step_needed (401). The
    caller commits, also when this raises, so a failure counts.
    """
    name = normalise_username(username)
    person = db.scalar(select(Person).where(Person.username == name))
    account = device_account(person) if person else ""
    device = ratelimit.known_device(checks.secret, account, device_tokens) if person else None
    limiter = ratelimit.Limiter(db, checks.settings, checks.secret)
    counters = limiter.sign_in_counters(name=name, address=address, device=device)
    # Never the typed name in the log: it is sometimes a password typed into the wrong box.
    who = f"person {person.id}" if person else "an unknown name"
    try:
        limiter.check(counters, now, SIGN_IN_PAUSED)
    except Problem:
        log.warning("sign-in paused for %s from %s", who, address)
        raise
    stored = person.password_hash if person else _dummy_hash(checks.hasher)
    try:
        checks.hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        person = None
    if person is None:
        limiter.fail(counters, now)
        log.warning("sign-in refused for %s from %s", who, address)
        raise Problem("invalid_credentials", NO_MATCH, 401)
    data_key = unlock_with_password(person, password)
    problem = second_step_problem(db, person, data_key, code)
    if problem:
        limiter.fail(counters, now)
        log.warning("second step refused for %s from %s", who, address)
        raise Problem("second_step_needed", problem, 401)
    log.info("signed in: %s from %s", who, address)
    if checks.hasher.check_needs_rehash(person.password_hash):
        person.password_hash = checks.hasher.hash(password)
    return SignInResult(person, data_key, ratelimit.new_device_token(checks.secret, account))


def confirm_password(
    db: Session,
    *,
    signed_in: SignedIn,
    password: str,
    checks: PasswordChecks,
    now: datetime,
    wrong: str = "Your password is not right.",
) -> None:
    """Check the signed-in person's own password before a change that needs it.

    Wrong passwords count like failed sign-ins, per sign-in: after too many, even the
    right one waits for the window (too_many_attempts, 429), so a session left open
    does not let anyone guess the password. Raises Problem wrong_password (403, with
    ``wrong``). The caller commits, also when this raises, so a wrong guess counts.
    """
    limiter = ratelimit.Limiter(db, checks.settings, checks.secret)
    counters = limiter.session_counters(signed_in.token_hash)
    limiter.check(counters, now, CHECKS_PAUSED)
    try:
        checks.hasher.verify(signed_in.person.password_hash, password)
    except (VerificationError, InvalidHashError):
        limiter.fail(counters, now)
        log.warning("password check refused for person %s", signed_in.person.id)
        raise Problem("wrong_password", wrong, 403) from None


def start_session(
    db: Session, *, person: Person, data_key: bytes, kind: str, settings: Settings, now: datetime
) -> str:
    """A fresh random token for ``person``; only its hash is stored.

    The data key is kept for the session wrapped under a key derived from the
    token, so only the holder of the cookie or bearer token can unlock it.
    """
    token = secrets.token_urlsafe(32)
    hashed = token_hash(token)
    # Ended sign-ins go, and the times kept are to the hour (the expiry rounded up,
    # so a sign-in never lasts less than session_hours): the database needs no more
    # to refuse an expired token, and a stolen copy dates no sign-in more finely.
    db.execute(
        delete(AuthSession).where(AuthSession.person_id == person.id, AuthSession.expires_at <= now)
    )
    hour = now.replace(minute=0, second=0, microsecond=0)
    lasts = timedelta(hours=settings.session_hours + (1 if now > hour else 0))
    db.add(
        AuthSession(
            token_hash=hashed,
            person_id=person.id,
            kind=kind,
            created_at=hour,
            expires_at=hour + lasts,
            key_wrap=keys.seal(keys.token_key(token), data_key, f"wrap:session:{hashed}"),
        )
    )
    # The person's key is at hand: seal what older versions kept in clear.
    seal_what_was_clear(db, person, data_key)
    return token


@dataclass(frozen=True)
class LoggedIn:
    person: Person
    token: str  # the new session's, for the cookie or the bearer header
    device_token: str


def log_in(
    db: Session,
    *,
    username: str,
    password: str,
    code: str | None,
    address: str,
    device_tokens: list[str],
    kind: str,
    replacing: str | None,
    checks: PasswordChecks,
    now: datetime,
) -> LoggedIn:
    """Sign in (see :func:`sign_in`) and start a new session of ``kind``.

    ``replacing`` is a token the client already held: that session ends, so a token
    planted before sign-in is never promoted. Raises what :func:`sign_in` raises; the
    caller commits, also when this raises, so a failure counts.
    """
    signed = sign_in(
        db,
        username=username,
        password=password,
        code=code,
        address=address,
        device_tokens=device_tokens,
        checks=checks,
        now=now,
    )
    end_session(db, replacing)
    token = start_session(
        db,
        person=signed.person,
        data_key=signed.data_key,
        kind=kind,
        settings=checks.settings,
        now=now,
    )
    return LoggedIn(signed.person, token, signed.device_token)


# Every signed-in request asks this first, built once: the sign-in, its person, and
# what nearly every request asks next, the person's couple with both members and their
# own safety screen. Plain joins, one row (or one per partner): the ORM's eager loading
# of the couple's members had cost twice as much as the whole sign-in. Of the sign-in
# itself only its expiry and key wrap are needed, as plain columns.
_PARTNER = aliased(Membership)
_SIGN_IN = (
    select(
        AuthSession.expires_at,
        AuthSession.key_wrap,
        Person,
        Membership,
        Couple,
        SafetyScreen,
        _PARTNER,
    )
    .join(Person, Person.id == AuthSession.person_id)
    .outerjoin(Membership, Membership.person_id == Person.id)
    .outerjoin(Couple, Couple.id == Membership.couple_id)
    .outerjoin(SafetyScreen, SafetyScreen.person_id == Person.id)
    .outerjoin(
        _PARTNER,
        (_PARTNER.couple_id == Membership.couple_id) & (_PARTNER.person_id != Person.id),
    )
    .where(AuthSession.token_hash == bindparam("hashed"))
)


def session_for_token(db: Session, token: str | None, now: datetime) -> SignedIn | None:
    """Who holds this token, with their unlocked data key; None if it is not valid."""
    if not token or len(token) > 200:
        return None
    hashed = token_hash(token)
    rows = db.execute(_SIGN_IN, {"hashed": hashed}).all()
    if not rows or rows[0][0] <= now:
        return None
    _, key_wrap, person, membership, couple, screen, _ = rows[0]
    partners = [r[6] for r in rows if r[6] is not None]
    access.remember(db, person, membership, couple, partners, screen)
    try:
        data_key = keys.unseal(keys.token_key(token), key_wrap, f"wrap:session:{hashed}")
    except keys.SealBroken:
        return None
    signed_in = SignedIn(person, data_key, hashed)
    for unlocked in db.info.get(UNLOCKED, ()):
        unlocked(db, signed_in)
    return signed_in


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
    checks: PasswordChecks,
    now: datetime,
) -> None:
    """New password: re-wraps only the data key, and signs out every other session.

    The current password is checked by ``confirm_password`` (wrong ones are counted).
    """
    person = signed_in.person
    confirm_password(
        db,
        signed_in=signed_in,
        password=current_password,
        checks=checks,
        now=now,
        wrong="Your current password is not right.",
    )
    problem = password_problem(new_password, person.username)
    if problem:
        raise Problem("weak_password", problem)
    person.password_hash = checks.hasher.hash(new_password)
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
    problem = password_problem(new_password, person.username)
    if problem:
        raise Problem("weak_password", problem)
    db.execute(delete(CheckInEntry).where(CheckInEntry.person_id == person.id))
    db.execute(delete(ExperienceRatingEntry).where(ExperienceRatingEntry.person_id == person.id))
    membership = access.membership_of(db, person)
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


def _step_context(person: Person) -> str:
    return f"totp-step:person:{person.id}"


def _matching_step(secret: str, code: str) -> int | None:
    """The time step ``code`` belongs to, allowing one step either side, or None.

    Read from the real clock, as the authenticator app reads its own."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time())
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), code.encode()):
            return step
    return None


def enable_totp(person: Person, data_key: bytes, secret: str, code: str) -> None:
    """Turn on two-step sign-in once the person shows their app produces ``code``."""
    if not TOTP_SECRET.fullmatch(secret) or _matching_step(secret, code.strip()) is None:
        raise Problem(
            "wrong_code",
            "That code did not match. Check the time on your phone and try the newest code.",
            422,
        )
    person.totp_sealed = keys.seal(data_key, secret.encode(), _totp_context(person))
    person.totp_step_sealed = None


def disable_totp(
    db: Session,
    *,
    signed_in: SignedIn,
    password: str,
    checks: PasswordChecks,
    now: datetime,
) -> None:
    """Turn off two-step sign-in; the password is checked by ``confirm_password``."""
    confirm_password(
        db,
        signed_in=signed_in,
        password=password,
        checks=checks,
        now=now,
    )
    signed_in.person.totp_sealed = None
    signed_in.person.totp_step_sealed = None


def _last_step(person: Person, data_key: bytes) -> int | None:
    if person.totp_step_sealed is None:
        return None
    try:
        return int(keys.unseal(data_key, person.totp_step_sealed, _step_context(person)))
    except keys.SealBroken:
        # Sealed under a key the person no longer has (an operator's reset).
        return None


def second_step_problem(db: Session, person: Person, data_key: bytes, code: str | None) -> str:
    """What to tell the person when the second step fails, or "" when it passes: no
    second step is set up, or ``code`` is current and newer than the last one used.

    A code works once: the time step it belongs to is remembered (sealed under the
    data key, so the database does not show when the person signed in), and a code at
    or before it is refused, also when two sign-ins race with the same code.
    """
    if person.totp_sealed is None:
        return ""
    if not code:
        return CODE_NEEDED
    secret = keys.unseal(data_key, person.totp_sealed, _totp_context(person)).decode()
    step = _matching_step(secret, code.strip())
    if step is None:
        return CODE_NEEDED
    last = _last_step(person, data_key)
    if last is not None and step <= last:
        return CODE_USED
    old = person.totp_step_sealed
    new = keys.seal(data_key, str(step).encode(), _step_context(person))
    unchanged = Person.totp_step_sealed.is_(None) if old is None else Person.totp_step_sealed == old
    # Compare-and-set: of two sign-ins with the same code, only one changes the row.
    written = db.execute(
        update(Person)
        .where(Person.id == person.id, unchanged)
        .values(totp_step_sealed=new)
        .execution_options(synchronize_session=False)
    )
    if written.rowcount != 1:  # type: ignore[attr-defined]
        return CODE_USED
    set_committed_value(person, "totp_step_sealed", new)
    return ""
