"""The bot's own HTTP server: Slack events, the Telegram webhook and health."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings
from handlers.metrics import METRICS
from storage.db import Database
from storage.models import Delivery, Ticket, User

if TYPE_CHECKING:
    from bot.slack import SlackChannel
    from bot.telegram import TelegramChannel
    from schedules.leader import Leadership

log = logging.getLogger(__name__)


class HttpServer:
    """aiohttp server on HTTP_HOST:HTTP_PORT."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        telegram: TelegramChannel | None,
        slack: SlackChannel | None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.telegram = telegram
        self.slack = slack
        self.leadership: Leadership | None = None
        self.app = web.Application(client_max_size=1024 * 1024)
        self.app.router.add_get("/healthz", self.healthz)
        self.app.router.add_get("/metrics", self.metrics)
        if slack is not None and not settings.slack_socket_mode:
            self.app.router.add_post("/slack/events", slack.handle_http)
        if telegram is not None and settings.telegram_mode == "webhook":
            self.app.router.add_post("/telegram/webhook", telegram.handle_webhook)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        """Listen on the configured host and port (port 0 picks a free one)."""
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.http_host, self.settings.http_port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.settings.http_port
        log.info("http server on http://%s:%s", self.settings.http_host, self.port)

    async def stop(self) -> None:
        """Stop accepting connections and finish requests in flight."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def metrics(self, request: web.Request) -> web.Response:
        """Prometheus text format: counters, plus outbox, ticket and user gauges from the DB."""
        lines = METRICS.render()
        try:
            async with self.db.session() as session:
                gauges = [
                    ("sotebot_outbox_deliveries", "Outbox rows by status.", Delivery.status),
                    ("sotebot_tickets", "Tickets by status.", Ticket.status),
                ]
                for name, help_text, column in gauges:
                    rows = await session.execute(select(column, func.count()).group_by(column))
                    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
                    lines += [f'{name}{{status="{status}"}} {count}' for status, count in rows]
                users = (await session.execute(select(func.count()).select_from(User))).scalar()
                lines += [
                    "# HELP sotebot_users Users stored.",
                    "# TYPE sotebot_users gauge",
                    f"sotebot_users {int(users or 0)}",
                ]
        except SQLAlchemyError:
            lines += ["# database unavailable"]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")

    def role(self) -> str:
        """`leader` or `standby` among replicas (see schedules/leader.py)."""
        return self.leadership.role if self.leadership is not None else "leader"

    async def healthz(self, request: web.Request) -> web.Response:
        """200 when the database answers and every configured channel is up, else 503."""
        database_ok = await self.db.ping()
        channels: dict[str, str] = {}
        if self.telegram is not None:
            channels["telegram"] = self.telegram.state()
        if self.slack is not None:
            channels["slack"] = "up" if self.slack.is_up() else "down"
        healthy = database_ok and all(state in {"up", "standby"} for state in channels.values())
        body = {
            "status": "ok" if healthy else "unavailable",
            "database": "up" if database_ok else "down",
            "channels": channels,
            "role": self.role(),
        }
        return web.json_response(body, status=200 if healthy else 503)
