"""Moving couples from one pacing policy to the next (``reconnect pace use-policy``).

Hana and Ivan paced under v1 before v2 existed; Olga and Oscar started on the newest.
"""

from __future__ import annotations

import json
from dataclasses import replace

from click.testing import CliRunner
from sqlalchemy import select

from reconnect.cli import main
from reconnect.domain.pacing.engine import decide
from reconnect.domain.pacing.history import Decision, History, LadderState
from reconnect.domain.pacing.policy import load_policy
from reconnect.domain.pacing.signals import signal_from_dict
from reconnect.models import Couple, Membership, PaceDecision, PaceSignal, Person
from reconnect.pacing.store import partners
from tests.pacing.api_steps import check_in

NEWEST = load_policy().version


def couple_of(db, username: str) -> Couple:
    person = db.scalar(select(Person).where(Person.username == username))
    return db.get(Membership, person.id).couple


def decisions(db, couple: Couple) -> list[Decision]:
    rows = db.scalars(
        select(PaceDecision.data)
        .where(PaceDecision.couple_id == couple.id)
        .order_by(PaceDecision.decided_at, PaceDecision.id)
    )
    return [Decision.from_dict(json.loads(data)) for data in rows]


def test_a_couple_from_v1_moves_with_its_earned_tier_and_its_past_intact(
    app, settings, clock, hana_and_ivan, olga_and_oscar
):
    hana, ivan = hana_and_ivan
    with app.state.reconnect.sessions() as db:
        couple = couple_of(db, "hana")
        assert couple.policy_version == NEWEST == "v4", "a new couple starts on the newest"
        # As if they had earned tier 3 under v1, before v2 existed.
        couple.policy_version = "v1"
        earned = LadderState(as_of=clock.now, tier=3)
        db.add(
            PaceDecision(
                couple_id=couple.id,
                decided_at=clock.now,
                policy_version="v1",
                permitted_tier=1,
                ladder_tier=3,
                data=json.dumps(
                    Decision(1, 3, (), None, False, (), "v1", clock.now, (), earned).to_dict()
                ),
            )
        )
        db.commit()
    clock.advance(hours=1)
    check_in(hana)
    check_in(ivan)
    clock.advance(hours=1)

    where = ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url]
    upgraded = CliRunner().invoke(main, ["db", "upgrade", *where])
    assert "1 couple(s) are paced under an older pacing policy" in upgraded.output
    assert f"reconnect pace use-policy {NEWEST} --all" in upgraded.output

    result = CliRunner().invoke(
        main,
        [
            "pace", "use-policy", NEWEST, "--all",
            "--data-dir", str(settings.data_dir), "--database-url", settings.database_url,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"1 couple(s) now paced under {NEWEST}; 1 already were." in result.output

    check_in(hana)
    again = CliRunner().invoke(main, ["db", "upgrade", *where])
    assert "older pacing policy" not in again.output
    with app.state.reconnect.sessions() as db:
        couple = couple_of(db, "hana")
        assert couple.policy_version == NEWEST
        stored = decisions(db, couple)
        versions = [d.policy_version for d in stored]
        assert versions == ["v1", "v1", "v1", NEWEST, NEWEST]
        assert [d.ladder_tier for d in stored] == [3, 3, 3, 3, 3]
        # Each v1 decision is still what v1 makes of the signals written before it.
        signals = [
            signal_from_dict(json.loads(data))
            for data in db.scalars(
                select(PaceSignal.data)
                .where(PaceSignal.couple_id == couple.id)
                .order_by(PaceSignal.at, PaceSignal.id)
            )
        ]
        first = stored[0]
        for decision in stored[1:3]:
            replay = decide(
                History(partners(couple), signals, first, couple.time_zone),
                load_policy("v1"),
                decision.decided_at,
            )
            # Stored with the couple's reasons only (a person's own are worked out when
            # they look); everything else is exactly what v1 decides.
            couple_only = tuple(r for r in replay.reasons if r.audience == "couple")
            assert replace(replay, reasons=couple_only) == decision
        # The switch itself is a decision under the newest policy, resumed from v1's state.
        switch = stored[3]
        assert switch.state.tier == stored[2].state.tier


def test_moving_needs_a_known_version_and_a_choice_of_couples(app, settings, hana_and_ivan):
    where = ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url]
    unknown = CliRunner().invoke(main, ["pace", "use-policy", "v9", "--all", *where])
    assert unknown.exit_code != 0 and "v9" in unknown.output
    unsaid = CliRunner().invoke(main, ["pace", "use-policy", "v2", *where])
    assert unsaid.exit_code != 0 and "--user NAME, or --all" in unsaid.output
    nobody = CliRunner().invoke(main, ["pace", "use-policy", "v2", "--user", "zed", *where])
    assert nobody.exit_code != 0 and "not in a couple space" in nobody.output
