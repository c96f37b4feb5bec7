"""findings are worked out after the answer, from a row written with the entry

``refresh_request`` holds, per person, the refresh of their findings that a write asked
for and the job worker has not yet done (reconnect.jobs). Rows live for about a second;
a table that is empty when nothing is waiting.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 22:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refresh_request",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(length=128), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("waiting_since", sa.DateTime(), nullable=False),
        sa.Column("opened", sa.BigInteger(), nullable=False),
        sa.Column("latest", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_refresh_request_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_refresh_request")),
    )


def downgrade() -> None:
    op.drop_table("refresh_request")
