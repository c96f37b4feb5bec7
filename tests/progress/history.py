"""A couple a few days in, shared by the page tests of progress and the therapist.

Hana and Ivan check in calmly each day and do the practice that fits; by the third
day they have reached "Being near each other" together. On the last evening Hana is
flooded and the pull to reconnect runs ahead of her readiness: what fits today drops
back to "Settling on your own", while where they have reached stays where it was.
"""

from __future__ import annotations

from tests.pacing.api_steps import check_in, do_together

REACHED = "Being near each other"
FITS_TODAY = "Settling on your own"


def a_few_days_together(hana, ivan, clock, days: int = 4) -> None:
    for _ in range(days):
        check_in(hana)
        check_in(ivan)
        permitted = int(hana.get("/api/v1/pace").json()["permitted_tier"])
        if permitted:
            do_together(hana, ivan, permitted)
        clock.advance(days=1)
    for _ in range(3):  # the private reflection on urgency names a first-step practice
        check_in(hana, activation=9, urgency=9, readiness=2)
        clock.advance(hours=5)
