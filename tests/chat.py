"""Talking to the router with neutral messages, as the terminal channel does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bot.app import build_router, build_services
from bot.settings import Settings
from handlers.context import Services
from handlers.messages import Incoming, Location, Platform, Reply, Sender
from handlers.router import Router, parse_command
from tests.fakes.clock import FakeClock


@dataclass
class Chat:
    """One user's conversation with the bot; remembers the last buttons shown."""

    router: Router
    user_id: str = "100"
    language_code: str | None = "fi"
    platform: Platform = Platform.TELEGRAM
    first_name: str = "Maija"
    last: list[Reply] = field(default_factory=list)

    def _sender(self) -> Sender:
        return Sender(self.platform, self.user_id, self.first_name, self.language_code)

    async def say(self, text: str) -> list[Reply]:
        """Send a text (or a /command) and return the replies."""
        parsed = parse_command(text) if text.startswith("/") else None
        msg = Incoming(
            self._sender(),
            self.user_id,
            text=text,
            command=parsed[0] if parsed else None,
            args=parsed[1] if parsed else "",
        )
        self.last = await self.router.dispatch(msg)
        return self.last

    async def press(self, label: str) -> list[Reply]:
        """Press the button whose label contains `label` among the last replies."""
        for reply in self.last:
            for button in reply.all_buttons():
                if label in button.label and button.payload:
                    return await self.callback(button.payload)
        labels = [b.label for r in self.last for b in r.all_buttons()]
        raise AssertionError(f"no button {label!r} among {labels}")

    async def callback(self, payload: str) -> list[Reply]:
        """Send raw button data."""
        msg = Incoming(self._sender(), self.user_id, callback=payload)
        self.last = await self.router.dispatch(msg)
        return self.last

    async def share_location(self, latitude: float, longitude: float) -> list[Reply]:
        """Share a map point."""
        msg = Incoming(self._sender(), self.user_id, location=Location(latitude, longitude))
        self.last = await self.router.dispatch(msg)
        return self.last

    def text(self) -> str:
        """All texts of the last replies."""
        return "\n".join(r.text for r in self.last)

    def buttons(self) -> list[str]:
        """Labels of the last replies' buttons."""
        return [b.label for r in self.last for b in r.all_buttons()]


@asynccontextmanager
async def bot_services(
    settings: Settings, clock: FakeClock
) -> AsyncIterator[tuple[Services, Router]]:
    """Services and router on a migrated database, disposed afterwards."""
    services = build_services(settings, clock)
    await services.db.upgrade()
    try:
        yield services, build_router(services)
    finally:
        await services.db.dispose()
