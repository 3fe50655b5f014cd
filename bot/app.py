"""The composition root: settings → database → services → router → channels, and back down."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.settings import Settings
from handlers.context import Clock, Services, SystemClock
from handlers.core import build_core_feature
from handlers.events import (
    EventService,
    StaffEvents,
    build_events_feature,
    build_staff_events_feature,
)
from handlers.experts import ExpertDirectory
from handlers.faq import FaqService, build_faq_features
from handlers.overview import StaffOverview, build_stats_feature
from handlers.privacy import build_privacy_feature
from handlers.region_profile import RegionProfile
from handlers.regions import RegionDirectory
from handlers.router import Feature, Router
from handlers.staff import build_staff_feature
from handlers.tickets import (
    CARD,
    TO_VOLUNTEER,
    TicketDesk,
    build_staff_ticket_feature,
    build_ticket_feature,
)
from schedules.leader import Leadership
from schedules.outbox import DeliveryEngine, Pace, Transport
from schedules.reminders import ReminderPlanner
from schedules.retention import purge_old_data
from schedules.scheduler import PeriodicJob, Wakeups
from storage.db import Database
from storage.repositories import QuestionLog

if TYPE_CHECKING:
    from bot.http import HttpServer
    from bot.slack import SlackChannel
    from bot.telegram import TelegramChannel

log = logging.getLogger(__name__)


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    """Long-lived services; loads reference data and the knowledge base once."""
    regions = RegionDirectory.load()
    return Services(
        settings=settings,
        db=Database(settings.database_url),
        clock=clock or SystemClock(),
        faq=FaqService.load(settings.faq_dir, regions),
        regions=regions,
        experts=ExpertDirectory.load(settings.experts_file, regions),
    )


@dataclass
class Core:
    """The neutral application: services, router and the features' long-lived parts."""

    services: Services
    router: Router
    desk: TicketDesk
    events: EventService
    staff_events: StaffEvents
    planner: ReminderPlanner
    overview: StaffOverview


def build_core(services: Services) -> Core:
    """Compose every feature module into one router, in priority order."""
    assert services.regions is not None and services.experts is not None
    features: list[Feature] = []
    router = Router(services, features)
    profile = RegionProfile(services.regions)
    desk = TicketDesk(services, services.regions, services.experts, profile)
    profile.after_region_set(desk.after_region)
    events = EventService(services, services.regions, services.experts)
    overview = StaffOverview(desk, events)
    features += [
        build_core_feature(router.commands, profile.start_prompt),
        build_privacy_feature(erasers=(desk.forget_user,)),
        build_staff_feature(router.commands),
        build_ticket_feature(desk),
        build_staff_ticket_feature(desk),
        build_events_feature(events),
        build_staff_events_feature(events),
        build_stats_feature(overview),
        profile.feature(),
    ]
    if services.faq is not None:
        features += build_faq_features(
            services.faq, profile.hint_from_text, QuestionLog(services.db)
        )
    router.features = tuple(features)
    return Core(
        services,
        router,
        desk,
        events,
        StaffEvents(events),
        ReminderPlanner(services, events),
        overview,
    )


def build_router(services: Services) -> Router:
    """The router alone (the terminal shell needs nothing more)."""
    return build_core(services).router


@dataclass
class BotRuntime:
    """Everything `sote-bot run` starts, stopped in reverse order."""

    settings: Settings
    core: Core
    engine: DeliveryEngine
    wakeups: Wakeups
    telegram: TelegramChannel | None = None
    slack: SlackChannel | None = None
    http: HttpServer | None = None
    leadership: Leadership | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def services(self) -> Services:
        """The application's services."""
        return self.core.services

    @property
    def router(self) -> Router:
        """The application's router."""
        return self.core.router

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> BotRuntime:
        """Build (but do not start) every configured component."""
        from bot.http import HttpServer

        services = build_services(settings, clock)
        core = build_core(services)
        transports: dict[str, Transport] = {}
        paces = {
            "telegram": Pace(settings.telegram_rate_limit, 1.0, 3.0),
            "slack": Pace(20.0, 1.0, 1.0),
        }
        telegram = slack = None
        if settings.telegram_enabled:
            from bot.telegram import TelegramChannel, TelegramTransport

            telegram = TelegramChannel(settings, core.router)
            transports["telegram"] = TelegramTransport(telegram)
        if settings.slack_enabled:
            from bot.slack import SlackChannel, SlackTransport, outbox_client

            slack = SlackChannel(settings, core.router, core.desk, core.staff_events, core.overview)
            transports["slack"] = SlackTransport(outbox_client(settings))
        engine = DeliveryEngine(services.db, services.clock, transports, paces)
        engine.on_sent[CARD] = core.desk.card_posted
        engine.on_sent[TO_VOLUNTEER] = core.desk.delivered_to_volunteer
        engine.on_failed[TO_VOLUNTEER] = core.desk.volunteer_unreachable
        engine.on_failed[CARD] = core.desk.card_not_posted
        jobs = [
            PeriodicJob("reminders", 60.0, core.planner.plan),
            PeriodicJob("escalation", 300.0, core.desk.escalate),
            PeriodicJob("retention", 6 * 3600.0, lambda: purge_old_data(services)),
        ]
        wakeups = Wakeups(engine, services.clock, jobs)

        def changed() -> None:
            engine.poke()
            wakeups.run_now("reminders")

        services.outbox_changed = changed
        runtime = cls(settings, core, engine, wakeups, telegram, slack)
        runtime.leadership = Leadership(services.db, runtime._lead, runtime._follow)
        wakeups.leading = lambda: runtime.leadership is not None and runtime.leadership.is_leader
        runtime.http = HttpServer(settings, services.db, telegram, slack)
        runtime.http.leadership = runtime.leadership
        return runtime

    async def _lead(self) -> None:
        """This replica won the leadership: poll Telegram (the periodic jobs check it)."""
        if self.telegram is not None and self.telegram.polls:
            await self.telegram.start_polling()

    async def _follow(self) -> None:
        """This replica lost the leadership: leave polling to the new leader."""
        if self.telegram is not None:
            await self.telegram.stop_polling(standby=True)

    async def start(self) -> None:
        """Migrate, then start the HTTP server, the channels, the sender and the scheduler."""
        await self.services.db.upgrade()
        log.info("database ready: %s", self.services.db.describe())
        assert self.http is not None
        await self.http.start()
        if self.telegram is not None:
            await self.telegram.start(poll=False)  # the leader polls (below)
        if self.slack is not None:
            await self.slack.start()
        self.engine.start()
        self.wakeups.start()
        assert self.leadership is not None
        await self.leadership.start()
        log.info("sote-bot is running (%s)", self.leadership.role)

    async def stop(self) -> None:
        """Stop ingress first, let in-flight work finish, then release resources."""
        if self.telegram is not None:
            await _quietly(self.telegram.stop_ingress(), "telegram ingress")
        if self.slack is not None:
            await _quietly(self.slack.stop_ingress(), "slack ingress")
        if self.http is not None:
            await _quietly(self.http.stop(), "http server")
        if self.leadership is not None:
            await _quietly(self.leadership.stop(), "leadership")  # another replica may lead
        self.wakeups.shutdown()
        await _quietly(self.engine.stop(), "delivery engine")
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
            freeze_loaded_data()
            await self._stopping.wait()
            log.info("stopping")
        finally:
            await self.stop()


def freeze_loaded_data() -> None:
    """Move what start-up loaded (knowledge base index, regions, lexicons: ~200k objects)
    out of the garbage collector's sight, so full collections stay short while serving."""
    gc.collect()
    gc.freeze()


async def _quietly(step: object, what: str) -> None:
    try:
        await asyncio.wait_for(step, timeout=10)  # type: ignore[arg-type]
    except Exception:
        log.exception("stopping %s failed", what)
