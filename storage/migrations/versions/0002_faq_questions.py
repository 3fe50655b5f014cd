"""faq questions and feedback

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("text", sa.String(4000), nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("entry_id", sa.String(80), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("suggested", sa.JSON(), nullable=False),
        sa.Column("chosen_entry_id", sa.String(80), nullable=True),
        sa.Column("feedback", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_faq_questions_user_id", "faq_questions", ["user_id"])
    op.create_index("ix_faq_questions_created_at", "faq_questions", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_faq_questions_created_at", table_name="faq_questions")
    op.drop_index("ix_faq_questions_user_id", table_name="faq_questions")
    op.drop_table("faq_questions")
