"""heart-rate imports keep the watch's calm readings apart, sealed

``heart_rate_import.calm_sealed`` holds, sealed under the owner's key like the samples
themselves, the readings that give a better calm baseline when an export has them: the
watch's own daily resting heart rate (Apple's RestingHeartRate records) and readings
it marked as taken sitting still. Imports from before have none (null): their baseline
is read from all their waking samples, as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 14:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("heart_rate_import", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calm_sealed", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("heart_rate_import", schema=None) as batch_op:
        batch_op.drop_column("calm_sealed")
