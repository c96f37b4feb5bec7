"""remember the last two-step code used; failure counters only as keyed digests

People get the time step of the last TOTP code they signed in with, sealed under
their data key, so a code works once. Failed sign-ins were counted under keys such
as ``account:<what was typed in the name box>``, in clear; they are now keyed
digests, so the rows kept in the old form (a day's worth at most) are removed: they
count towards nothing any more, and the name box sometimes holds a password.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_step_sealed", sa.LargeBinary(length=64), nullable=True))
    op.execute(sa.text("DELETE FROM login_failure"))


def downgrade() -> None:
    # The digests mean nothing to the older code; it starts counting afresh.
    op.execute(sa.text("DELETE FROM login_failure"))
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("totp_step_sealed")
