"""One place answers "may this person see this thing": ``reconnect/access.py``.

A source scan: no other module looks a membership up to decide access, and no other
module defines a ``get_<thing>_for_person`` or ``_for_therapist`` helper. The few
lookups that decide nothing about access are allowed below, each with its reason.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import reconnect

PACKAGE = Path(reconnect.__file__).resolve().parent
# access.py answers; models.py defines the row; migrations change the schema.
EXEMPT = {"access.py", "models.py"}
LOOKUP = re.compile(r"\b(?:db\.get|select)\(\s*Membership\b")

ALLOWED = {
    (
        "demo.py",
        "select(Membership.couple_id).where(Membership.person_id.in_(old))",
    ): "removes old demo accounts' couples; no one is asking to see anything",
    (
        "couples/store.py",
        "select(Membership).where(Membership.couple_id == invite.couple_id)",
    ): "counts the members of the couple an invitation code names; the code is the gate",
    (
        "therapist/store.py",
        "select(Membership).where(Membership.couple_id == link.couple_id)",
    ): "the partners' roles in a couple whose link both partners agree to (checked first)",
}


def _modules() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).as_posix() not in EXEMPT
        and "migrations" not in path.relative_to(PACKAGE).parts
    )


def _lookups() -> list[tuple[str, str]]:
    found = []
    for path in _modules():
        name = path.relative_to(PACKAGE).as_posix()
        for line in path.read_text(encoding="utf-8").splitlines():
            if LOOKUP.search(line):
                found.append((name, line.strip()))
    return found


def _allowed(name: str, line: str) -> bool:
    return any(name == where and code in line for where, code in ALLOWED)


def test_only_access_looks_up_memberships():
    outside = [f"{name}: {line}" for name, line in _lookups() if not _allowed(name, line)]
    assert outside == [], (
        "Ask reconnect.access (membership_of, get_membership_for_person, ...) instead:\n"
        + "\n".join(outside)
    )


def test_every_allowed_lookup_is_still_there():
    lookups = _lookups()
    stale = [
        f"{where}: {code}"
        for where, code in ALLOWED
        if not any(name == where and code in line for name, line in lookups)
    ]
    assert stale == [], "remove these from ALLOWED:\n" + "\n".join(stale)


def test_access_helpers_live_only_in_access():
    helper = re.compile(r"^_?get_\w+_for_(?:person|therapist)$")
    elsewhere = [
        f"{path.relative_to(PACKAGE).as_posix()}: {node.name}"
        for path in _modules()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and helper.match(node.name)
    ]
    assert elsewhere == [], "move these to reconnect/access.py:\n" + "\n".join(elsewhere)
