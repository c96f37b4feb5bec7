"""Password rules after NIST SP 800-63B: long enough, and not a known-common one.

No composition rules (they make passwords worse); instead a length floor and a
check against a shipped list of passwords that attackers try first.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources
from itertools import pairwise

MIN_LENGTH = 12
MAX_LENGTH = 256


@cache
def common_passwords() -> frozenset[str]:
    data = (resources.files(__package__) / "data" / "common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def _looks_common(lowered: str) -> bool:
    common = common_passwords()
    if lowered in common:
        return True
    # "password1234" and "!!dragon2024" are a common word dressed up.
    core = lowered.strip("0123456789!@#$%^&*()-_=+.?,;: ")
    if len(core) >= 4 and core in common:
        return True
    # One repeated character or a run like "abcdefghijkl" / "123456789012".
    if len(set(lowered)) <= 2:
        return True
    steps = {ord(b) - ord(a) for a, b in pairwise(lowered)}
    return steps <= {1} or steps <= {-1} or steps <= {1, -9}


def password_problem(password: str, username: str = "") -> str | None:
    """A calm sentence saying what is wrong with ``password``, or None if it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Please choose a password of at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Please keep the password under {MAX_LENGTH} characters."
    lowered = password.lower()
    if _looks_common(lowered):
        return "That password is one of the most common ones. A few unrelated words work well."
    name = username.lower().split("@")[0]
    if len(name) >= 4 and name in lowered:
        return "Please choose a password that does not contain your username."
    return None
