"""The composition root: settings → database → services → router → channels, and back down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.settings import Settings
from handlers.context import Clock, Services, SystemClock
from handlers.core import build_core_feature
from handlers.faq import FaqService, build_faq_features
from handlers.privacy import build_privacy_feature
from handlers.router import Feature, Router
from handlers.staff import build_staff_feature
from storage.db import Database

if TYPE_CHECKING:
    from bot.http import HttpServer
    from bot.slack import SlackChannel
    from bot.telegram import TelegramChannel

log = logging.getLogger(__name__)


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    """Long-lived services; loads reference data and the knowledge base once."""
    return Services(
        settings=settings,
        db=Database(settings.database_url),
        clock=clock or SystemClock(),
        faq=FaqService.load(settings.faq_dir),
    )


def build_router(services: Services) -> Router:
    """Compose every feature module into one router, in priority order."""
    features: list[Feature] = []
    router = Router(services, features)
    features.extend(
        [
            build_core_feature(router.commands),
            build_privacy_feature(),
            build_staff_feature(router.commands),
        ]
    )
    if services.faq is not None:
        features.extend(build_faq_features(services.faq))
    router.features = tuple(features)
    return router


@dataclass
class BotRuntime:
    """Everything `sote-bot run` starts, stopped in reverse order."""

    settings: Settings
    services: Services
    router: Router
    telegram: TelegramChannel | None = None
    slack: SlackChannel | None = None
    http: HttpServer | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> BotRuntime:
        """Build (but do not start) every configured component."""
        from bot.http import HttpServer

        services = build_services(settings, clock)
        router = build_router(services)
        runtime = cls(settings, services, router)
        if settings.telegram_enabled:
            from bot.telegram import TelegramChannel

            runtime.telegram = TelegramChannel(settings, router)
        if settings.slack_enabled:
            from bot.slack import SlackChannel

            runtime.slack = SlackChannel(settings, router)
        runtime.http = HttpServer(settings, services.db, runtime.telegram, runtime.slack)
        return runtime

    async def start(self) -> None:
        """Migrate, then start the HTTP server and every channel."""
        await self.services.db.upgrade()
        log.info("database ready: %s", self.services.db.describe())
        assert self.http is not None
        await self.http.start()
        if self.telegram is not None:
            await self.telegram.start()
        if self.slack is not None:
            await self.slack.start()
        log.info("sote-bot is running")

    async def stop(self) -> None:
        """Stop ingress first, let in-flight work finish, then release resources."""
        if self.telegram is not None:
            await _quietly(self.telegram.stop_ingress(), "telegram ingress")
        if self.slack is not None:
            await _quietly(self.slack.stop_ingress(), "slack ingress")
        if self.http is not None:
            await _quietly(self.http.stop(), "http server")
        if self.telegram is not None:
            await _quietly(self.telegram.stop(), "telegram")
        if self.slack is not None:
            await _quietly(self.slack.stop(), "slack")
        await self.services.db.dispose()
        log.info("sote-bot stopped")

    def request_stop(self) -> None:
        """Ask `serve_forever` to return (signal handlers call this)."""
        self._stopping.set()

    async def serve_forever(self) -> None:
        """Start, wait for SIGINT/SIGTERM, stop."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, self.request_stop)
        try:
            await self.start()
            await self._stopping.wait()
            log.info("stopping")
        finally:
            await self.stop()


async def _quietly(step: object, what: str) -> None:
    try:
        await asyncio.wait_for(step, timeout=10)  # type: ignore[arg-type]
    except Exception:
        log.exception("stopping %s failed", what)
