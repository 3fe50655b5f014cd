"""users

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("platform_id", sa.String(64), nullable=False),
        sa.Column("first_name", sa.String(128), nullable=True),
        sa.Column("platform_language", sa.String(16), nullable=True),
        sa.Column("language", sa.String(2), nullable=True),
        sa.Column("county_code", sa.String(2), nullable=True),
        sa.Column("municipality_code", sa.String(3), nullable=True),
        sa.Column("state", sa.String(32), nullable=True),
        sa.Column("state_data", sa.JSON(), nullable=False),
        sa.Column("blocked_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("seen_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("platform", "platform_id", name="uq_users_platform_id"),
    )
    op.create_index("ix_users_county", "users", ["county_code"])


def downgrade() -> None:
    op.drop_index("ix_users_county", table_name="users")
    op.drop_table("users")
