"""time zones, each couple's pacing policy, who started a shared practice

People and couples get an IANA time zone (UTC for those who registered before, until
they choose theirs). Couples get the policy version they are paced under: couples
that exist now stay on v1, so every stored decision stays reproducible, until an
operator moves them (``reconnect pace use-policy``). A shared experience records who
started it, which the "started by the calmer partner" reflection reads.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 07:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False)
        )
    with op.batch_alter_table("couple", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False)
        )
        batch_op.add_column(
            sa.Column("policy_version", sa.String(length=16), server_default="v1", nullable=False)
        )
    with op.batch_alter_table("experience", schema=None) as batch_op:
        batch_op.add_column(sa.Column("started_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_experience_started_by_person"),
            "person",
            ["started_by"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("experience", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_experience_started_by_person"), type_="foreignkey")
        batch_op.drop_column("started_by")
    with op.batch_alter_table("couple", schema=None) as batch_op:
        batch_op.drop_column("policy_version")
        batch_op.drop_column("time_zone")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
