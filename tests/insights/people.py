"""The couple the detector tests look at, and the evening they are looked at.

Hana is the hurt partner and Ivan the involved partner.
"""

from __future__ import annotations

from datetime import UTC, datetime

from reconnect.domain.pacing.history import Partner, Role

HANA = "hana"  # the hurt partner
IVAN = "ivan"  # the involved partner
PARTNERS = (Partner(HANA, Role.HURT), Partner(IVAN, Role.INVOLVED))
NOW = datetime(2025, 6, 30, 21, 0, tzinfo=UTC)  # a Monday evening
