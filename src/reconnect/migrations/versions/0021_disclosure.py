"""disclosure: each partner's preparation under their own key, what they bring under
the couple key, and the therapist's reading sealed to the writer alone

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 22:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("shared_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("review_key", sa.LargeBinary(length=32), nullable=True),
        sa.Column("review_sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["couple_id"],
            ["couple.id"],
            name=op.f("fk_disclosure_couple_id_couple"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_disclosure_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure")),
        sa.UniqueConstraint("couple_id", "person_id", name=op.f("uq_disclosure_couple_id")),
    )
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disclosure_couple_id"), ["couple_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_couple_id"))
    op.drop_table("disclosure")
