"""SQLAlchemy typed models: the database is the source of truth for everything that changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
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
    confidence: Mapped[float] = mapped_column(Float)
    suggested: Mapped[list[str]] = mapped_column(JSON, default=list)
    chosen_entry_id: Mapped[str | None] = mapped_column(String(80))
    feedback: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(index=True)


class Ticket(Base):
    """A volunteer's question to a regional expert, relayed between Telegram and Slack."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    county_code: Mapped[str] = mapped_column(String(2))
    area_id: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(String(4000))
    display_name: Mapped[str] = mapped_column(String(128))
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    escalation_level: Mapped[int] = mapped_column(default=0)
    waiting_since: Mapped[datetime | None]
    feedback: Mapped[int | None]
    faq_question_id: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_reply_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class TicketMessage(Base):
    """One message in a ticket's conversation (volunteer, staff reply or internal note)."""

    __tablename__ = "ticket_messages"
    __table_args__ = (UniqueConstraint("source_key", name="uq_ticket_messages_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(16))
    author: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(8000))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    source_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]


class Delivery(Base):
    """One message to send, in the outbox: the database decides what is due and what was sent.

    `dedupe_key` is unique: enqueuing the same logical message twice (a reminder to the same
    recipient for the same occurrence, a Slack event delivered twice) stores it once.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_deliveries_dedupe"),
        Index("ix_deliveries_due", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16))
    not_before: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]


class ProcessedEvent(Base):
    """A Slack event id already handled (Slack retries deliveries; we act once)."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)


class FaqDraft(Base):
    """A question and answer staff saved from a ticket, for the knowledge base editors."""

    __tablename__ = "faq_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    lang: Mapped[str] = mapped_column(String(2))
    question: Mapped[str] = mapped_column(String(4000))
    answer: Mapped[str] = mapped_column(String(8000))
    saved_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Event(Base):
    """An event of the outreach team (or a recurring series), local to counties or national."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("uid", name="uq_events_uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(String(4000), default="")
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime]
    all_day: Mapped[bool] = mapped_column(default=False)
    location: Mapped[str] = mapped_column(String(500), default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    counties: Mapped[list[str]] = mapped_column(JSON, default=list)
    rrule: Mapped[str | None] = mapped_column(String(500))
    exdates: Mapped[list[str]] = mapped_column(JSON, default=list)
    reminder_offsets: Mapped[str | None] = mapped_column(String(100))
    sequence: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    cancelled: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(16), default="slack")
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_occurrence: Mapped[datetime | None] = mapped_column(index=True)


class Subscription(Base):
    """A volunteer's wish for reminders: of one event, or of all events of their region."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("user_id", "scope", "event_id", name="uq_subscriptions_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(8))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]


class Announcement(Base):
    """A staff message to all subscribers of chosen counties."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(4000))
    counties: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
