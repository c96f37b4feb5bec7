"""Who a request is from: the signed-in person, their unlocked data key, and the hash
of their session's token (the only form in which a token is stored).

Kept apart from auth.py so that every store can name the signed-in person without
importing sign-in itself (auth.py reseals older entries through the stores).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from reconnect.models import Person


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    person: Person
    data_key: bytes
    token_hash: str
