"""How the pace changed, as the progress pages and the therapist read it from storage:
both steps (what fitted each day, where the couple had reached together) in one
statement, each list with exactly its own changes, on the clock of the person looking."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from reconnect.domain.pacing.history import Decision
from reconnect.domain.pacing.ladder import LadderState
from reconnect.domain.progress.points import TierPoint, tier_changes
from reconnect.models import PaceDecision
from reconnect.pacing.changes import pace_changes
from tests.statements import statements

START = datetime(2026, 3, 1, 9, tzinfo=UTC)
# Each decision: minutes after the one before (0: the same moment), what fitted, and
# where the couple had reached.
DECISIONS = st.lists(
    st.tuples(st.integers(0, 3000), st.integers(0, 4), st.integers(0, 4)), max_size=25
)


def _store(db, couple_id: int, decisions: list[tuple[int, int, int]]) -> list[PaceDecision]:
    db.execute(delete(PaceDecision).where(PaceDecision.couple_id == couple_id))
    at, rows = START, []
    for minutes, fits, reached in decisions:
        at += timedelta(minutes=minutes)
        state = LadderState(as_of=at, tier=reached)
        data = Decision(fits, reached, (), None, False, (), "v4", at, (), state)
        rows.append(
            PaceDecision(
                couple_id=couple_id,
                decided_at=at,
                policy_version="v4",
                permitted_tier=fits,
                ladder_tier=reached,
                data=json.dumps(data.to_dict()),
            )
        )
    db.add_all(rows)
    db.commit()
    return rows


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(decisions=DECISIONS)
def test_each_step_keeps_its_own_changes_read_in_one_statement(app, couple_id, decisions):
    zone = ZoneInfo("Pacific/Auckland")
    with app.state.reconnect.sessions() as db:
        rows = _store(db, couple_id, decisions)
        with statements(app) as sent:
            changes = pace_changes(db, couple_id, zone)
    assert len(sent) == 1, sent
    every = sorted(rows, key=lambda row: (row.decided_at, row.id))
    assert changes.fits == list(
        tier_changes(TierPoint(r.decided_at.astimezone(zone), r.permitted_tier) for r in every)
    )
    assert changes.reached == list(
        tier_changes(TierPoint(r.decided_at.astimezone(zone), r.ladder_tier) for r in every)
    )
    assert all(point.at.tzinfo == zone for point in [*changes.fits, *changes.reached])
