"""seal what only the owner's side needs; coarsen sign-in times

A stolen database file told private facts without any key. From here:

- ``safety_screen`` keeps only ``sealed``: the outcome, when it was answered and when
  the person chose to go on, under the person's own key. The outcomes stored in clear
  are removed, not kept for sealing later: a migration has nobody's key, and sealing
  at the next sign-in would leave the most sensitive fact in the file in clear for
  exactly the person who may not come back. Everyone answers the screen again (a
  minute) before couple features reopen for them; the partner is told nothing.
- ``questionnaire_response.instrument_id`` and ``taken_at`` go into the sealed answers;
  the columns stay, nullable, for rows written before, which are sealed the first time
  their owner signs in (``reseal.py``): dropping them would lose people's history.
- ``trigger.at`` is null for a trigger not told (its time is sealed with it; rows from
  before are sealed at the owner's next sign-in, as above) and kept to the minute for
  a told one, whose time the partner is shown.
- ``heart_rate_import`` loses ``imported_at`` (read by nothing) and ``first_at`` /
  ``last_at``: the span is sealed in ``span_sealed``, and for rows from before it is
  read from the sealed samples themselves, so nothing is lost.
- ``auth_session`` keeps ``created_at`` and ``expires_at`` to the hour (expiry must be
  checked without the person's key), and ended sign-ins are removed.

Downgrading removes what the older schema cannot hold without the owners' keys:
every safety-screen outcome (asked again), and questionnaire results, untold triggers
and heart-rate imports stored in the sealed form.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 08:00:00.000000
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_sessions = sa.table(
    "auth_session",
    sa.column("token_hash", sa.String),
    sa.column("created_at", sa.DateTime),
    sa.column("expires_at", sa.DateTime),
)
_triggers = sa.table(
    "trigger",
    sa.column("id", sa.Integer),
    sa.column("at", sa.DateTime),
    sa.column("told_sealed", sa.LargeBinary),
)


def _hour_down(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _hour_up(moment: datetime) -> datetime:
    down = _hour_down(moment)
    return down if down == moment else down + timedelta(hours=1)


def upgrade() -> None:
    bind = op.get_bind()

    op.execute(sa.text("DELETE FROM safety_screen"))
    with op.batch_alter_table("safety_screen", schema=None) as batch_op:
        batch_op.drop_column("continued_at")
        batch_op.drop_column("needs_support")
        batch_op.drop_column("answered_at")
        batch_op.add_column(sa.Column("sealed", sa.LargeBinary(), nullable=False))

    with op.batch_alter_table("questionnaire_response", schema=None) as batch_op:
        batch_op.drop_index("ix_questionnaire_person_taken")
        batch_op.alter_column("instrument_id", existing_type=sa.String(length=40), nullable=True)
        batch_op.alter_column("taken_at", existing_type=sa.DateTime(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_questionnaire_response_person_id"), ["person_id"], unique=False
        )

    with op.batch_alter_table("trigger", schema=None) as batch_op:
        batch_op.alter_column("at", existing_type=sa.DateTime(), nullable=True)
    told = bind.execute(
        sa.select(_triggers.c.id, _triggers.c.at).where(_triggers.c.told_sealed.is_not(None))
    ).all()
    for trigger_id, at in told:
        bind.execute(
            _triggers.update()
            .where(_triggers.c.id == trigger_id)
            .values(at=at.replace(second=0, microsecond=0))
        )

    with op.batch_alter_table("heart_rate_import", schema=None) as batch_op:
        batch_op.drop_column("imported_at")
        batch_op.drop_column("first_at")
        batch_op.drop_column("last_at")
        batch_op.add_column(sa.Column("span_sealed", sa.LargeBinary(), nullable=True))

    # Stored UTC times are naive in the database (models.UTCDateTime).
    now = datetime.now(UTC).replace(tzinfo=None)
    bind.execute(_sessions.delete().where(_sessions.c.expires_at <= now))
    for token_hash, created, expires in bind.execute(sa.select(_sessions)).all():
        bind.execute(
            _sessions.update()
            .where(_sessions.c.token_hash == token_hash)
            .values(created_at=_hour_down(created), expires_at=_hour_up(expires))
        )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM safety_screen"))
    with op.batch_alter_table("safety_screen", schema=None) as batch_op:
        batch_op.drop_column("sealed")
        batch_op.add_column(sa.Column("answered_at", sa.DateTime(), nullable=False))
        batch_op.add_column(sa.Column("needs_support", sa.Boolean(), nullable=False))
        batch_op.add_column(sa.Column("continued_at", sa.DateTime(), nullable=True))

    op.execute(sa.text("DELETE FROM questionnaire_response WHERE taken_at IS NULL"))
    with op.batch_alter_table("questionnaire_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_response_person_id"))
        batch_op.alter_column("taken_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column("instrument_id", existing_type=sa.String(length=40), nullable=False)
        batch_op.create_index(
            "ix_questionnaire_person_taken", ["person_id", "taken_at"], unique=False
        )

    op.execute(sa.text('DELETE FROM "trigger" WHERE at IS NULL'))
    with op.batch_alter_table("trigger", schema=None) as batch_op:
        batch_op.alter_column("at", existing_type=sa.DateTime(), nullable=False)

    op.execute(sa.text("DELETE FROM heart_rate_import"))
    with op.batch_alter_table("heart_rate_import", schema=None) as batch_op:
        batch_op.drop_column("span_sealed")
        batch_op.add_column(sa.Column("imported_at", sa.DateTime(), nullable=False))
        batch_op.add_column(sa.Column("first_at", sa.DateTime(), nullable=False))
        batch_op.add_column(sa.Column("last_at", sa.DateTime(), nullable=False))
