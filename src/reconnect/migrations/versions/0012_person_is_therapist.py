"""people say at sign-up whether they are a couples therapist

``person.is_therapist`` is true for an account made by a couples therapist: they land
on their caseload from the start and never create or join a couple space. Accounts
from before are partners (false); a therapist among them is still known by the
couples that linked them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 18:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_therapist", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("is_therapist")
