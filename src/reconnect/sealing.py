"""A person's private entry, sealed under their own key.

Each entry row is bound to its table, its id and its owner: a ciphertext copied into
another row, or another person's row, does not open. Check-ins, reflections,
questionnaire answers and triggers are all sealed this way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import Insert, Table, Update, bindparam, insert, inspect, update
from sqlalchemy.orm import InstanceState, Session, make_transient_to_detached

from reconnect import keys
from reconnect.database import session_connection
from reconnect.models import CheckInEntry, ExperienceRatingEntry


def to_json(entry: Any) -> bytes:
    def plain(value: Any) -> Any:
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        return value

    return json.dumps({k: plain(v) for k, v in asdict(entry).items()}).encode()


def seal_padded(key: bytes, content: dict[str, Any], context: str) -> bytes:
    """``content`` as JSON, padded to whole blocks (so its length says nothing of the
    words) and sealed under ``key`` for ``context``."""
    return keys.seal(key, keys.padded(json.dumps(content).encode()), context)


def open_json(key: bytes, sealed: bytes, context: str) -> dict[str, Any]:
    """What :func:`seal_padded` (or a plain JSON seal) sealed, opened."""
    data: dict[str, Any] = json.loads(keys.unseal(key, sealed, context))
    return data


def entry_context(table: str, entry_id: int, owner_id: int) -> str:
    # Binding the row and its owner: a ciphertext copied elsewhere does not open.
    return f"entry:{table}:{entry_id}:person:{owner_id}"


def seal_entry(
    db: Session, row: CheckInEntry | ExperienceRatingEntry, key: bytes, entry: Any
) -> None:
    """Give ``row`` an id, then seal ``entry`` into it under the owner's key."""

    def sealed(row: Any) -> bytes:
        return keys.seal(
            key, to_json(entry), entry_context(row.__tablename__, row.id, row.person_id)
        )

    state: InstanceState[Any] = inspect(row)
    if state.transient:
        add_sealed(db, row, sealed)
        return
    row.sealed = sealed(row)  # stored already: sealed again through the session
    db.flush()


def add_sealed(db: Session, row: Any, sealed: Callable[[Any], bytes]) -> None:
    """Store a new ``row`` whose seal is bound to its id: insert it for the id, then set
    ``row.sealed = sealed(row)``.

    Two plain statements, after which the row joins the session as though it had been
    read back: the ORM's flush of one new object cost three times as much, and the
    check-in, the reflection, the note and the status each write one. Columns it was not
    given (their defaults) are read back if asked for.
    """
    state: InstanceState[Any] = inspect(row)
    if linked := set(state.dict) & set(state.mapper.relationships.keys()):
        raise TypeError(f"add_sealed takes column values, not related rows: {sorted(linked)}")
    given = {
        a.columns[0].key: state.dict[a.key]
        for a in state.mapper.column_attrs
        if a.key in state.dict and a.key != "id"
    }
    table = row.__table__
    connection = session_connection(db)
    row.id = connection.execute(_new_row(table), {**given, "sealed": b""}).scalar_one()
    row.sealed = sealed(row)
    connection.execute(_sealed_row(table), {"row_id": row.id, "sealed": row.sealed})
    make_transient_to_detached(row)
    db.add(row)


@cache
def _new_row(table: Table) -> Insert:
    return insert(table).returning(table.c.id)


@cache
def _sealed_row(table: Table) -> Update:
    return update(table).where(table.c.id == bindparam("row_id")).values(sealed=bindparam("sealed"))


def open_entry(row: CheckInEntry | ExperienceRatingEntry, key: bytes) -> dict[str, Any]:
    context = entry_context(row.__tablename__, row.id, row.person_id)
    data: dict[str, Any] = json.loads(keys.unseal(key, row.sealed, context))
    return data
