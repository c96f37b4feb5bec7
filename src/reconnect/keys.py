"""Per-person envelope encryption, built from well-kept primitives only.

Each person has a random 256-bit data key. It is never stored as is: only
wrapped (AES-256-GCM) under a key derived from their password (Argon2id), under
their recovery key, and, while they are signed in, under a secret that only
their session cookie or bearer token carries. Private entries are sealed with
the data key; the associated data names the entry and its owner, so a
ciphertext moved to another row or person fails to open.

See docs/privacy.md for the threat model this answers.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16  # AES-GCM's authentication tag, after the ciphertext
RECOVERY_BYTES = 20  # 160 bits, shown as 32 characters
# Crockford's base32 alphabet, as for invitation codes: easy to read aloud and copy.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class SealBroken(Exception):
    """A ciphertext did not open: wrong key, or moved or altered data."""


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost for deriving a key from a password (at least 64 MiB, t=3, p=4)."""

    memory_kib: int
    time_cost: int = 3
    parallelism: int = 4


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def new_salt() -> bytes:
    return secrets.token_bytes(16)


def seal(key: bytes, plaintext: bytes, context: str) -> bytes:
    """Encrypt and authenticate ``plaintext``; ``context`` is bound as associated data."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode())


# Sealed JSON is padded to a whole number of these bytes (see padded).
PAD_BLOCK = 256


def padded(plaintext: bytes, block: int = PAD_BLOCK) -> bytes:
    """``plaintext`` with spaces added up to a whole number of ``block`` bytes.

    For JSON about to be sealed: its length would otherwise tell someone holding the
    database file more than it should (a flag present or not, one answer or another).
    JSON readers ignore the trailing spaces.
    """
    return plaintext + b" " * (-len(plaintext) % block)


def is_padded(sealed: bytes, block: int = PAD_BLOCK) -> bool:
    """Whether what ``seal`` made holds a whole number of ``block`` bytes (see padded)."""
    return (len(sealed) - NONCE_BYTES - TAG_BYTES) % block == 0


def unseal(key: bytes, blob: bytes, context: str) -> bytes:
    """Open what ``seal`` made with the same key and context, or raise SealBroken."""
    return Opener(key)(blob, context)


class Opener:
    """:func:`unseal` under one key, for many blobs: a person's whole history is opened
    with one cipher, set up once rather than for every entry."""

    def __init__(self, key: bytes) -> None:
        self._cipher = AESGCM(key)

    def __call__(self, blob: bytes, context: str) -> bytes:
        if len(blob) < NONCE_BYTES + 16:
            raise SealBroken("ciphertext too short")
        try:
            return self._cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise SealBroken("ciphertext did not authenticate") from None


def password_key(password: str, salt: bytes, params: KdfParams) -> bytes:
    return hash_secret_raw(
        password.encode(),
        salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def _expand(secret: bytes, purpose: str) -> bytes:
    # For secrets that are already random and long (tokens, recovery keys, codes),
    # HKDF is the right tool; a slow password hash would add nothing.
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()
    ).derive(secret)


def token_key(token: str) -> bytes:
    """The key that wraps a data key for one session; only the token's holder has it."""
    return _expand(token.encode(), "reconnect session wrap v1")


def invite_key(code: str) -> bytes:
    """The key that carries the couple key to whoever holds the invitation code."""
    return _expand(code.encode(), "reconnect invite wrap v1")


def job_key(secret: str) -> bytes:
    """The key that carries a data key from a write to the job worker (reconnect.jobs).

    Derived from the installation's secret, which every web process and the worker
    share; the database does not hold it.
    """
    return _expand(secret.encode(), "reconnect job wrap v1")


def recovery_wrap_key(recovery: bytes) -> bytes:
    return _expand(recovery, "reconnect recovery wrap v1")


def new_recovery_key() -> tuple[str, bytes]:
    """A fresh recovery key: (how it is shown to the person, its bytes)."""
    raw = secrets.token_bytes(RECOVERY_BYTES)
    text = base64.b32encode(raw).decode().translate(str.maketrans(_RFC4648, _CROCKFORD))
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4)), raw


def parse_recovery_key(text: str) -> bytes | None:
    """The bytes of a recovery key as a person typed it, or None if it cannot be one."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum()).translate(
        str.maketrans("OIL", "011")
    )
    if len(cleaned) != 32 or any(ch not in _CROCKFORD for ch in cleaned):
        return None
    return base64.b32decode(cleaned.translate(str.maketrans(_CROCKFORD, _RFC4648)))
