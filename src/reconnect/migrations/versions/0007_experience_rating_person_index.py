"""index experience ratings by person

A person's own reflections are looked up by person on the today page (which shared
practices still wait for theirs), the progress page and the insights; without this
index each lookup read the whole table, so it slowed down as the service grew.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 23:55:00.000000
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("experience_rating", schema=None) as batch_op:
        batch_op.create_index("ix_experience_rating_person_id", ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("experience_rating", schema=None) as batch_op:
        batch_op.drop_index("ix_experience_rating_person_id")
