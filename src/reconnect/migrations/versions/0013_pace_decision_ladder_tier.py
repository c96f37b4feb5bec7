"""each pacing decision keeps where the couple had reached, beside what fitted that day

``pace_decision.ladder_tier`` is the step the couple had reached together when the
decision was made (the decision's ``ladder_tier``), as ``permitted_tier`` is what fitted
that day. Progress and the therapist's caseload chart the first; reading it from the
decision's JSON meant reading every decision's whole checkpoint. Decisions from before
get it from that JSON, once, here.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 19:10:00.000000
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("pace_decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ladder_tier", sa.Integer(), nullable=True))
    decisions = sa.table(
        "pace_decision",
        sa.column("id", sa.Integer()),
        sa.column("data", sa.Text()),
        sa.column("ladder_tier", sa.Integer()),
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(decisions.c.id, decisions.c.data)
            .where(decisions.c.id > last)
            .order_by(decisions.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            decisions.update()
            .where(decisions.c.id == sa.bindparam("row_id"))
            .values(ladder_tier=sa.bindparam("reached")),
            [{"row_id": i, "reached": int(json.loads(data)["ladder_tier"])} for i, data in rows],
        )
        last = rows[-1][0]
    with op.batch_alter_table("pace_decision", schema=None) as batch_op:
        batch_op.alter_column("ladder_tier", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("pace_decision", schema=None) as batch_op:
        batch_op.drop_column("ladder_tier")
