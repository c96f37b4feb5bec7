"""a decision made before an entry dated back to its time was written is never resumed from

``pace_decision.superseded`` is set on every decision of the couple made at or after the
time a newly written entry is dated to: those decisions lack it, so the next decision
resumes from one made before it. Which of the decisions kept so far were made before
such an entry cannot be told now, so all but each couple's newest (which every entry
written so far reached) are marked; a back-dated entry soon after the upgrade then
replays the couple's signals from further back, once.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 06:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pace_decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("superseded", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    decisions = sa.table(
        "pace_decision",
        sa.column("couple_id", sa.Integer()),
        sa.column("decided_at", sa.DateTime()),
        sa.column("superseded", sa.Boolean()),
    )
    newest = sa.alias(decisions, "newest")
    latest = (
        sa.select(sa.func.max(newest.c.decided_at))
        .where(newest.c.couple_id == decisions.c.couple_id)
        .scalar_subquery()
    )
    op.get_bind().execute(
        decisions.update().where(decisions.c.decided_at < latest).values(superseded=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("pace_decision", schema=None) as batch_op:
        batch_op.drop_column("superseded")
