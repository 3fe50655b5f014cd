"""SQLAlchemy typed models: the database is the source of truth for everything that changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Dialect, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Time-zone-aware datetimes stored as UTC; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use time-zone-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with the project's type map."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
    }


class User(Base):
    """A person who talks to the bot (a volunteer on Telegram, staff on Slack, a shell user)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "platform_id", name="uq_users_platform_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_id: Mapped[str] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(128))
    platform_language: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(2))
    county_code: Mapped[str | None] = mapped_column(String(2))
    municipality_code: Mapped[str | None] = mapped_column(String(3))
    state: Mapped[str | None] = mapped_column(String(32))
    state_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    blocked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    seen_at: Mapped[datetime]


Index("ix_users_county", User.county_code)


class FaqQuestion(Base):
    """A question put to the knowledge base, how it was answered and the user's feedback."""

    __tablename__ = "faq_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(4000))
    lang: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[str | None] = mapped_column(String(80))
    confidence: Mapped[float]
    suggested: Mapped[list[str]] = mapped_column(JSON, default=list)
    chosen_entry_id: Mapped[str | None] = mapped_column(String(80))
    feedback: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
