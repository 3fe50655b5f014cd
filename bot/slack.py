"""Slack adapter: a Bolt AsyncApp served by our aiohttp server, or over Socket Mode."""

from __future__ import annotations

import logging
import re
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from handlers.messages import Incoming, Platform, Reply, Sender
from handlers.router import Router

log = logging.getLogger(__name__)


def web_client(settings: Settings) -> AsyncWebClient:
    """A Slack Web API client that retries 429 (honouring Retry-After), 5xx and lost connections."""
    assert settings.slack_bot_token is not None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def reply_blocks(replies: list[Reply]) -> list[dict[str, Any]]:
    """Neutral replies as Block Kit: a section per text, an actions block per button row."""
    blocks: list[dict[str, Any]] = []
    counter = 0
    for reply in replies:
        if reply.text:
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": reply.text[:3000]}}
            )
        for row in reply.buttons:
            elements = []
            for button in row:
                counter += 1
                element: dict[str, Any] = {
                    "type": "button",
                    "text": {"type": "plain_text", "text": button.label[:75], "emoji": True},
                    "action_id": f"sote_button_{counter}",
                }
                if button.url:
                    element["url"] = button.url
                else:
                    element["value"] = button.payload
                elements.append(element)
            blocks.append({"type": "actions", "elements": elements})
    return blocks


def reply_text(replies: list[Reply]) -> str:
    """Plain-text fallback for notifications."""
    return "\n\n".join(r.text for r in replies if r.text)[:3900] or " "


class SlackChannel:
    """Bolt app wiring: `/sote` for staff, buttons, and (with tickets) thread replies."""

    def __init__(self, settings: Settings, router: Router) -> None:
        self.settings = settings
        self.router = router
        self.client = web_client(settings)
        signing = settings.slack_signing_secret
        self.app = AsyncApp(
            client=self.client,
            signing_secret=signing.get_secret_value() if signing else None,
            request_verification_enabled=not settings.slack_socket_mode,
            process_before_response=False,
            logger=logging.getLogger("bot.slack.bolt"),
        )
        self.app.command("/sote")(self._on_sote)
        self.app.action(re.compile(r"^sote_button_\d+$"))(self._on_button)
        self.app.error(self._on_error)
        self._socket: AsyncSocketModeHandler | None = None
        self._started = False

    async def start(self) -> None:
        """Connect Socket Mode if configured; HTTP events need nothing more."""
        if self.settings.slack_socket_mode:
            assert self.settings.slack_app_token is not None
            self._socket = AsyncSocketModeHandler(
                self.app, self.settings.slack_app_token.get_secret_value()
            )
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
        self._started = True
        log.info("slack channel started (%s)", "socket mode" if self._socket else "http events")

    async def stop_ingress(self) -> None:
        """Stop receiving Socket Mode events (HTTP ingress stops with the HTTP server)."""
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None

    async def stop(self) -> None:
        """Nothing is left running once ingress has stopped."""
        self._started = False

    def is_up(self) -> bool:
        """Whether events can be received."""
        if not self._started:
            return False
        if self.settings.slack_socket_mode:
            return self._socket is not None
        return True

    async def handle_http(self, request: web.Request) -> web.Response:
        """Dispatch a request posted to /slack/events; Bolt verifies its signature."""
        bolt_request = await to_bolt_request(request)
        bolt_response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def _on_sote(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        text = (command.get("text") or "").strip()
        sub, _, rest = text.partition(" ")
        msg = Incoming(
            Sender(Platform.SLACK, command.get("user_id", ""), command.get("user_name")),
            command.get("channel_id", ""),
            text=text,
            command=(sub or "help").lower(),
            args=rest.strip(),
            is_private=False,
        )
        replies = await self.router.dispatch(msg)
        await ack(text=reply_text(replies), blocks=reply_blocks(replies))

    async def _on_button(self, ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        user = body.get("user") or {}
        channel = (body.get("channel") or {}).get("id", "")
        msg = Incoming(
            Sender(Platform.SLACK, user.get("id", ""), user.get("name")),
            channel,
            callback=action.get("value") or "",
            is_private=False,
        )
        replies = await self.router.dispatch(msg)
        if replies:
            await respond(
                text=reply_text(replies), blocks=reply_blocks(replies), replace_original=False
            )

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error("slack request failed", exc_info=error)
