"""What every handler receives: long-lived services and the per-update context."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.messages import Incoming, Lang, Reply
from storage.db import Database
from storage.models import User

if TYPE_CHECKING:
    from bot.settings import Settings
    from handlers.experts import ExpertDirectory
    from handlers.faq import FaqService
    from handlers.regions import RegionDirectory


class Clock(Protocol):
    """Source of the current time; tests substitute a clock they can move."""

    def now(self) -> datetime:
        """The current time, time-zone aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)


class BotError(Exception):
    """An expected failure shown to the user kindly; `text` is already in their language."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass
class Services:
    """Long-lived dependencies built once by the composition root (bot/app.py)."""

    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    faq: FaqService | None = None
    regions: RegionDirectory | None = None
    experts: ExpertDirectory | None = None
    outbox_changed: Callable[[], None] = field(default=lambda: None)

    def wake_outbox(self) -> None:
        """Messages were queued: ask the delivery engine to look now."""
        self.outbox_changed()


@dataclass
class Context:
    """One update's view of the world: its database session, user and language."""

    services: Services
    session: AsyncSession
    user: User
    lang: Lang
    now: datetime
    queued: bool = False

    def mark_queued(self) -> None:
        """This update queued outgoing messages; wake the sender once it is committed."""
        self.queued = True

    @property
    def settings(self) -> Settings:
        """The application settings."""
        return self.services.settings


Handler = Callable[[Incoming, Context], Awaitable[Sequence[Reply]]]
