"""The roles a partner takes in a couple space, and which of them fit together."""

from __future__ import annotations

from reconnect.domain.pacing.history import Role

__all__ = ["PARTNER_ROLE", "PARTNER_SAID", "ROLE_CHOICES", "ROLE_LABELS", "Role", "joining_as"]

ROLE_LABELS: dict[Role, str] = {
    Role.HURT: "the hurt partner",
    Role.INVOLVED: "the involved partner",
    Role.BOTH_HURT: "one of two hurt partners",
}
"""A role named in a sentence: "Your role: the hurt partner"."""

ROLE_CHOICES: dict[Role, str] = {
    Role.HURT: "I am the hurt partner",
    Role.INVOLVED: "I am the involved partner",
    Role.BOTH_HURT: "We have both been hurt",
}
"""What a person says when they choose their role: each one a sentence of its own."""

PARTNER_SAID: dict[Role, str] = {
    Role.HURT: "Your partner said they are the hurt partner",
    Role.INVOLVED: "Your partner said they are the involved partner",
    Role.BOTH_HURT: "Your partner said you have both been hurt",
}
"""What the partner already chose, told to the person joining them."""

PARTNER_ROLE: dict[Role, Role] = {
    Role.HURT: Role.INVOLVED,
    Role.INVOLVED: Role.HURT,
    Role.BOTH_HURT: Role.BOTH_HURT,
}
"""The role a partner must take, given the other's."""


def joining_as(theirs: Role) -> str:
    """One sentence for the person joining: what their partner chose, and so their role."""
    return f"{PARTNER_SAID[theirs]}, so you join as {ROLE_LABELS[PARTNER_ROLE[theirs]]}."
