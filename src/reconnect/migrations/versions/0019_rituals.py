"""rituals of connection a couple chose, and the days they did them, under the couple key

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 18:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ritual",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["couple_id"],
            ["couple.id"],
            name=op.f("fk_ritual_couple_id_couple"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ritual")),
    )
    with op.batch_alter_table("ritual", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ritual_couple_id"), ["couple_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ritual", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ritual_couple_id"))
    op.drop_table("ritual")
