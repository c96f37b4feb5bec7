"""A person's private entry, sealed under their own key.

Each entry row is bound to its table, its id and its owner: a ciphertext copied into
another row, or another person's row, does not open. Check-ins, reflections,
questionnaire answers and triggers are all sealed this way.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from reconnect import keys
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
    row.sealed = b""
    db.add(row)
    db.flush()
    row.sealed = keys.seal(
        key, to_json(entry), entry_context(row.__tablename__, row.id, row.person_id)
    )
    db.flush()


def open_entry(row: CheckInEntry | ExperienceRatingEntry, key: bytes) -> dict[str, Any]:
    context = entry_context(row.__tablename__, row.id, row.person_id)
    data: dict[str, Any] = json.loads(keys.unseal(key, row.sealed, context))
    return data
