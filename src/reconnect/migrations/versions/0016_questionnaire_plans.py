"""questionnaires that repeat: a person's own plan, and the one a therapist asks of a couple

``questionnaire_plan`` holds, per person, a sealed plan (which questionnaires repeat and
how often, when each was last answered, the check owed after a crisis answer);
``couple_questionnaire_plan`` the therapist's, sealed under the couple key.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 15:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "questionnaire_plan",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_questionnaire_plan_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_questionnaire_plan")),
    )
    op.create_table(
        "couple_questionnaire_plan",
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["couple_id"],
            ["couple.id"],
            name=op.f("fk_couple_questionnaire_plan_couple_id_couple"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("couple_id", name=op.f("pk_couple_questionnaire_plan")),
    )


def downgrade() -> None:
    op.drop_table("couple_questionnaire_plan")
    op.drop_table("questionnaire_plan")
