"""shared notes between partners

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 23:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import reconnect.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shared_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", reconnect.models.UTCDateTime(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["couple_id"],
            ["couple.id"],
            name=op.f("fk_shared_note_couple_id_couple"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_shared_note_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shared_note")),
    )
    with op.batch_alter_table("shared_note", schema=None) as batch_op:
        batch_op.create_index("ix_shared_note_couple_at", ["couple_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shared_note", schema=None) as batch_op:
        batch_op.drop_index("ix_shared_note_couple_at")

    op.drop_table("shared_note")
