"""The roles a partner takes in a couple space, and which of them fit together."""

from __future__ import annotations

from reconnect.domain.pacing.history import Role

__all__ = ["PARTNER_ROLE", "ROLE_LABELS", "Role"]

ROLE_LABELS: dict[Role, str] = {
    Role.HURT: "the hurt partner",
    Role.INVOLVED: "the involved partner",
    Role.BOTH_HURT: "both of us are hurt",
}

PARTNER_ROLE: dict[Role, Role] = {
    Role.HURT: Role.INVOLVED,
    Role.INVOLVED: Role.HURT,
    Role.BOTH_HURT: Role.BOTH_HURT,
}
"""The role a partner must take, given the other's."""
