"""Fills a benchmark database with synthetic couples, fast. For benchmarks only.

Signing 10,000 couples up through the app would take hours: every account costs an
Argon2id hash and an Argon2id key derivation, on purpose. Here the password hash and
the key that wraps data keys are derived ONCE and shared by every synthetic person
(same password, same salt). That is safe for made-up people in a throw-away
database and nowhere else: the app itself never reuses a salt or a hash. Each person
still has their own random data key, each couple its own couple key, and every
entry is sealed the way the app seals it, so the app reads them like real ones.

Two kinds of couples:

- active couples, the ones the load clients sign in as: weeks of realistic history
  written through the app's own functions (check-ins, shared practices with both
  reflections, findings), day by day;
- background couples: a few sealed check-ins each, one shared practice with both
  reflections, the check-ins' pace signals and one decision, inserted in bulk. They
  make the tables as large as a real service's.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session

from reconnect import access, keys, sealing
from reconnect.accounts.auth import kdf_params, make_hasher
from reconnect.accounts.signed_in import SignedIn
from reconnect.after_write import look_again
from reconnect.domain.pacing.checkins import CheckIn
from reconnect.domain.pacing.engine import decide
from reconnect.domain.pacing.experiences import ExperienceRating
from reconnect.domain.pacing.history import COUPLE, History, Partner, Role
from reconnect.domain.pacing.signals import signals_from_checkin
from reconnect.models import (
    CheckInEntry,
    Couple,
    Experience,
    ExperienceRatingEntry,
    Membership,
    PaceDecision,
    PaceSignal,
    Person,
    SafetyScreen,
)
from reconnect.pacing import store as pace
from reconnect.safety import store as safety
from reconnect.settings import Settings

PASSWORD = "synthetic couples only, never real"  # noqa: S105 - made-up people
SHARED_SALT = b"bench-only-salt!"  # 16 bytes; see the module docstring
BACKGROUND_CHECKINS = 3  # per person
STATES = ("settled", "settled", "settled", "revved_up", "shut_down")


def username(index: int, partner: int) -> str:
    return f"bench{index:05d}{'ab'[partner]}"


@dataclass
class KeyMaterial:
    """What every synthetic person shares: derived once (Argon2id twice in total)."""

    password_hash: str
    kek: bytes
    recovery: bytes
    kdf: keys.KdfParams

    @classmethod
    def derive(cls, settings: Settings) -> KeyMaterial:
        kdf = kdf_params(settings)
        return cls(
            password_hash=make_hasher(settings).hash(PASSWORD),
            kek=keys.password_key(PASSWORD, SHARED_SALT, kdf),
            recovery=b"\x01" * 20,
            kdf=kdf,
        )


def _screen(person_id: int, data_key: bytes, now: datetime) -> bytes:
    """A safety screen answered two months ago with no concern, sealed as the app seals it."""
    screen = SafetyScreen(person_id=person_id)
    outcome = safety.ScreenOutcome(
        needs_support=False, answered_at=now - timedelta(days=60), continued_at=None
    )
    safety._seal_outcome(screen, data_key, outcome)  # the app's own sealing
    return bytes(screen.sealed)


def _next_id(db: Session, model: Any) -> int:
    return int(db.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) + 1


def _checkin(rng: random.Random, at: datetime, calm: float) -> CheckIn:
    activation = max(0, min(10, round(rng.gauss(6 - 4 * calm, 1.5))))
    return CheckIn(
        activation=activation,
        state=rng.choice(STATES) if rng.random() > calm else "settled",
        safety=max(0, min(10, round(rng.gauss(4 + 4 * calm, 1.5)))),
        urgency=rng.randint(1, 6),
        readiness=rng.randint(3, 8),
        recorded_at=at,
        drivers=(),
        body_signals=(),
        note=rng.choice(("", "", "slept badly", "a quiet evening together", "work was a lot")),
    )


def add_couples(
    engine: Engine, settings: Settings, *, first: int, count: int, now: datetime, seed: int = 8
) -> None:
    """Insert background couples ``first .. first+count-1`` (people, keys, history)."""
    material = KeyMaterial.derive(settings)
    rng = random.Random(seed + first)
    policy = pace.policy()
    with Session(engine) as db:
        person_id, couple_id = _next_id(db, Person), _next_id(db, Couple)
        checkin_id, signal_id = _next_id(db, CheckInEntry), _next_id(db, PaceSignal)
        decision_id = _next_id(db, PaceDecision)
        experience_id, rating_id = _next_id(db, Experience), _next_id(db, ExperienceRatingEntry)
        practice = next(p for p in pace.catalogue() if p.tier == 0)
        experiences: list[dict[str, Any]] = []
        ratings: list[dict[str, Any]] = []
        people: list[dict[str, Any]] = []
        couples: list[dict[str, Any]] = []
        members: list[dict[str, Any]] = []
        screens: list[dict[str, Any]] = []
        checkins: list[dict[str, Any]] = []
        signals: list[dict[str, Any]] = []
        decisions: list[dict[str, Any]] = []
        for index in range(first, first + count):
            couple_key = keys.new_key()
            couples.append({"id": couple_id, "created_at": now - timedelta(days=60)})
            partners = []
            couple_signals = []
            done_at = now - timedelta(days=2, hours=rng.random() * 8)
            experiences.append(
                {
                    "id": experience_id,
                    "couple_id": couple_id,
                    "practice_id": practice.id,
                    "tier": practice.tier,
                    "occurred_at": done_at,
                    "created_by": person_id,
                    "created_at": done_at,
                    "ahead_of_pace": False,
                }
            )
            for partner in (0, 1):
                data_key = keys.new_key()
                people.append(
                    {
                        "id": person_id,
                        "username": username(index, partner),
                        "password_hash": material.password_hash,
                        "created_at": now - timedelta(days=60),
                        "kdf_salt": SHARED_SALT,
                        "kdf_memory_kib": material.kdf.memory_kib,
                        "kdf_time_cost": material.kdf.time_cost,
                        "kdf_parallelism": material.kdf.parallelism,
                        "key_by_password": keys.seal(
                            material.kek, data_key, f"wrap:password:person:{person_id}"
                        ),
                        "key_by_recovery": keys.seal(
                            keys.recovery_wrap_key(material.recovery),
                            data_key,
                            f"wrap:recovery:person:{person_id}",
                        ),
                        "totp_sealed": None,
                    }
                )
                role = ("hurt", "involved")[partner]
                members.append(
                    {
                        "person_id": person_id,
                        "couple_id": couple_id,
                        "role": role,
                        "joined_at": now - timedelta(days=60, hours=-partner),
                        "couple_key_wrap": keys.seal(
                            data_key, couple_key, f"wrap:couple:{couple_id}:person:{person_id}"
                        ),
                    }
                )
                screens.append(
                    {"person_id": person_id, "sealed": _screen(person_id, data_key, now)}
                )
                partners.append(Partner(str(person_id), Role(role)))
                reflection = ExperienceRating(
                    practice_id=practice.id,
                    tier=practice.tier,
                    occurred_at=done_at,
                    safety=7,
                    activation_before=3,
                    activation_after=rng.randint(1, 4),
                    staying="stayed",
                    felt_pressured=False,
                    authenticity=3,
                    vulnerability=2,
                    transparency=3,
                    presence=3,
                )
                context = sealing.entry_context("experience_rating", rating_id, person_id)
                ratings.append(
                    {
                        "id": rating_id,
                        "experience_id": experience_id,
                        "person_id": person_id,
                        "created_at": done_at,
                        "sealed": keys.seal(data_key, sealing.to_json(reflection), context),
                    }
                )
                rating_id += 1
                for day in range(BACKGROUND_CHECKINS):
                    at = now - timedelta(days=BACKGROUND_CHECKINS - day, hours=rng.random() * 8)
                    entry = _checkin(rng, at, calm=0.5)
                    sealed = keys.seal(
                        data_key,
                        sealing.to_json(entry),
                        sealing.entry_context("checkin", checkin_id, person_id),
                    )
                    checkins.append(
                        {
                            "id": checkin_id,
                            "person_id": person_id,
                            "recorded_at": at,
                            "created_at": at,
                            "sealed": sealed,
                        }
                    )
                    checkin_id += 1
                    for signal in signals_from_checkin(str(person_id), entry, policy):
                        couple_signals.append(signal)
                        signals.append(
                            {
                                "id": signal_id,
                                "couple_id": couple_id,
                                "person_id": person_id,
                                "kind": signal.kind,
                                "at": signal.at,
                                "data": json.dumps(signal.to_dict()),
                            }
                        )
                        signal_id += 1
                person_id += 1
            couple_signals.sort(key=lambda s: s.at)
            decided_at = couple_signals[-1].at
            decision = decide(
                History((partners[0], partners[1]), couple_signals), policy, decided_at
            )
            couple_only = tuple(r for r in decision.reasons if r.audience == COUPLE)
            decisions.append(
                {
                    "id": decision_id,
                    "couple_id": couple_id,
                    "decided_at": decision.decided_at,
                    "policy_version": decision.policy_version,
                    "permitted_tier": decision.permitted_tier,
                    "ladder_tier": decision.ladder_tier,
                    # Only the couple's reasons are kept, as the app keeps them.
                    "data": json.dumps(replace(decision, reasons=couple_only).to_dict()),
                }
            )
            decision_id += 1
            experience_id += 1
            couple_id += 1
        for model, rows in (
            (Person, people),
            (Couple, couples),
            (Membership, members),
            (SafetyScreen, screens),
            (Experience, experiences),
            (ExperienceRatingEntry, ratings),
            (CheckInEntry, checkins),
            (PaceSignal, signals),
            (PaceDecision, decisions),
        ):
            for start in range(0, len(rows), 5000):
                db.execute(insert(model), rows[start : start + 5000])
        db.commit()
    _move_sequences(engine)


def _move_sequences(engine: Engine) -> None:
    """On PostgreSQL, ids were given explicitly: move each sequence past them."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table in (
            "person",
            "couple",
            "experience",
            "experience_rating",
            "checkin",
            "pace_signal",
            "pace_decision",
        ):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )


def add_history(
    engine: Engine, settings: Settings, *, couples: int, days: int, now: datetime, seed: int = 9
) -> None:
    """Give the first ``couples`` couples ``days`` of realistic history through the app's
    own write functions: a check-in each a day, and a shared practice every third
    day with both partners' reflections."""
    material = KeyMaterial.derive(settings)
    rng = random.Random(seed)
    with Session(engine) as db:
        for index in range(couples):
            first, second = (
                db.scalars(select(Person).where(Person.username == username(index, p))).one()
                for p in (0, 1)
            )
            keys_by_id = {
                person.id: keys.unseal(
                    material.kek, person.key_by_password, f"wrap:password:person:{person.id}"
                )
                for person in (first, second)
            }
            for day in range(days):
                moment = now - timedelta(days=days - day, hours=-rng.randint(7, 21))
                calm = min(1.0, 0.2 + day / days)
                for person in (first, second):
                    entry = _checkin(rng, moment, calm)
                    fields = {
                        "activation": entry.activation,
                        "state": entry.state.value,
                        "safety": entry.safety,
                        "urgency": entry.urgency,
                        "readiness": entry.readiness,
                        "drivers": [],
                        "body_signals": [],
                        "note": entry.note,
                    }
                    pace.record_checkin(
                        db, person=person, key=keys_by_id[person.id], fields=fields, now=moment
                    )
                    look_again(
                        db,
                        signed_in=SignedIn(person, keys_by_id[person.id], ""),
                        now=moment,
                        shared=False,
                    )
                    moment += timedelta(minutes=30)
                if day % 3 == 2:
                    couple = access.get_couple_for_person(
                        db, person=first, data_key=keys_by_id[first.id]
                    )
                    level = pace.current_pace(db, couple, moment).permitted_tier
                    # Tier 0 is practised alone; the seed's practices are shared ones.
                    chosen = next(p for p in pace.catalogue() if p.tier == max(level, 1))
                    rating = {
                        "safety": 7,
                        "activation_before": 3,
                        "activation_after": rng.randint(1, 4),
                        "staying": "stayed",
                        "felt_pressured": False,
                        "authenticity": 3,
                        "vulnerability": 2,
                        "transparency": 3,
                        "presence": 3,
                        "note": "",
                    }
                    experience, _ = pace.record_experience(
                        db,
                        person=first,
                        key=keys_by_id[first.id],
                        practice_id=chosen.id,
                        experience_id=None,
                        occurred_at=moment,
                        rating=rating,
                        now=moment,
                        started_by="me",
                    )
                    if experience is None:  # shared practices always make one
                        continue
                    look_again(db, signed_in=SignedIn(first, keys_by_id[first.id], ""), now=moment)
                    pace.record_experience(
                        db,
                        person=second,
                        key=keys_by_id[second.id],
                        practice_id=None,
                        experience_id=experience.id,
                        occurred_at=None,
                        rating=rating,
                        now=moment + timedelta(minutes=5),
                    )
                    look_again(
                        db,
                        signed_in=SignedIn(second, keys_by_id[second.id], ""),
                        now=moment + timedelta(minutes=5),
                        shared=False,
                    )
            db.commit()
