"""the couple's decisions indexed with both of their steps, so how the pace changed is
read from the index alone

The progress pages and the therapist's views read, over all of a couple's decisions,
when what fitted and where they had reached changed. Each decision row also holds the
whole decision (a few kilobytes), so reading its two steps from the table meant a page
or more per decision; the index now carries them. It replaces the index on
``(couple_id, decided_at, id)``, which it begins with, so every other read of the
decisions uses it as before.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 09:10:00.000000
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

OLD = ["couple_id", "decided_at", "id"]
NEW = [*OLD, "permitted_tier", "ladder_tier"]


def upgrade() -> None:
    with op.batch_alter_table("pace_decision", schema=None) as batch_op:
        batch_op.create_index("ix_pace_decision_couple_at_steps", NEW, unique=False)
        batch_op.drop_index("ix_pace_decision_couple_at")


def downgrade() -> None:
    with op.batch_alter_table("pace_decision", schema=None) as batch_op:
        batch_op.create_index("ix_pace_decision_couple_at", OLD, unique=False)
        batch_op.drop_index("ix_pace_decision_couple_at_steps")
