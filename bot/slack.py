"""Slack adapter: a Bolt AsyncApp served by our aiohttp server, or over Socket Mode."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from bot.slack_cards import ticket_card, to_plain_text
from bot.slack_home import home_view
from bot.slack_views import (
    ANNOUNCE_CONFIRM_VIEW,
    ANNOUNCE_VIEW,
    EVENT_VIEW,
    announcement_confirmation,
    announcement_modal,
    event_modal,
    values,
)
from handlers.events import EventForm, StaffEvents
from handlers.messages import Incoming, Platform, Reply, Sender
from handlers.overview import StaffOverview
from handlers.router import Router
from handlers.tickets import StaffAction, StaffMessage, TicketDesk
from schedules.outbox import Outgoing, PermanentError, TransientError

log = logging.getLogger(__name__)

# Channel messages relayed from ticket threads: plain ones, "also send to channel" replies
# and messages with files. Edits, deletions, joins and bot posts are not.
_RELAYED_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})


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


def outbox_client(settings: Settings) -> AsyncWebClient:
    """A client for the outbox: connection retries only; the outbox handles 429 and 5xx."""
    assert settings.slack_bot_token is not None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1)],
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

    def __init__(
        self,
        settings: Settings,
        router: Router,
        desk: TicketDesk | None = None,
        staff_events: StaffEvents | None = None,
        overview: StaffOverview | None = None,
    ) -> None:
        self.settings = settings
        self.router = router
        self.desk = desk
        self.staff_events = staff_events
        self.overview = overview
        self._names: dict[str, str] = {}
        self.client = web_client(settings)
        signing = settings.slack_signing_secret
        self.app = AsyncApp(
            client=self.client,
            signing_secret=signing.get_secret_value() if signing else None,
            request_verification_enabled=not settings.slack_socket_mode,
            # Slack hears "OK" only once a listener has finished (stored the staff reply,
            # queued the relay): a request in flight when the bot stops is completed by the
            # HTTP server's graceful shutdown instead of being dropped after the OK, and one
            # that fails gets no OK, so Slack sends the event again (deduplicated by
            # event_id). Listeners only touch the database and queue; sending is the outbox's.
            process_before_response=True,
            logger=logging.getLogger("bot.slack.bolt"),
        )
        self.app.command("/sote")(self._on_sote)
        self.app.action(re.compile(r"^sote_button_\d+$"))(self._on_button)
        self.app.action(re.compile(r"^ticket_(claim|close|faq_draft|reassign)$"))(
            self._on_ticket_action
        )
        self.app.event("message")(self._on_message)
        self.app.event("app_home_opened")(self._on_home_opened)
        self.app.view(EVENT_VIEW)(self._on_event_view)
        self.app.view(ANNOUNCE_VIEW)(self._on_announce_view)
        self.app.view(ANNOUNCE_CONFIRM_VIEW)(self._on_announce_confirm)
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
        if sub.lower() in {"tapahtuma", "event", "tiedote", "announce"} and self.staff_events:
            await ack()
            options = self.staff_events.county_options()
            channel = str(command.get("channel_id", ""))
            view = (
                event_modal(options, channel)
                if sub.lower() in {"tapahtuma", "event"}
                else announcement_modal(options, channel)
            )
            await self.client.views_open(trigger_id=command.get("trigger_id"), view=view)
            return
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

    async def _user_name(self, user_id: str) -> str | None:
        """A staff member's display name (cached); None if Slack does not tell."""
        if user_id in self._names:
            return self._names[user_id]
        try:
            response = await self.client.users_info(user=user_id)
        except (SlackApiError, SlackRequestError) as err:
            log.info("users.info failed: %s", err)
            return None
        profile = (response.get("user") or {}).get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or None
        if name:
            self._names[user_id] = str(name)
        return name

    async def _on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """A message in a channel: relay replies in ticket threads, never our own."""
        if self.desk is None:
            return
        if event.get("subtype") not in _RELAYED_SUBTYPES:
            return
        if event.get("bot_id") or not event.get("user"):
            return
        user_id = str(event["user"])
        show_names = self.settings.show_staff_names
        name = await self._user_name(user_id) if show_names else None
        files = tuple(
            str(f.get("name") or f.get("title") or "liite") for f in event.get("files") or ()
        )
        await self.desk.on_staff_message(
            StaffMessage(
                event_id=str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}"),
                channel=str(event.get("channel", "")),
                thread_ts=event.get("thread_ts"),
                ts=str(event.get("ts", "")),
                user_id=user_id,
                text=to_plain_text(str(event.get("text", "")), self._names if show_names else {}),
                user_name=name,
                files=files,
            )
        )

    async def _on_home_opened(self, event: dict[str, Any]) -> None:
        """Staff opened the bot's Home tab: publish a fresh overview for them."""
        if self.overview is None or event.get("tab", "home") != "home" or not event.get("user"):
            return
        overview = await self.overview.collect()
        try:
            await self.client.views_publish(
                user_id=str(event["user"]), view=home_view(overview, self.overview.tz)
            )
        except (SlackApiError, SlackRequestError) as err:
            log.warning("publishing the Home tab failed: %s", err)

    async def _on_ticket_action(self, ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
        await ack()
        if self.desk is None:
            return
        action = (body.get("actions") or [{}])[0]
        action_id = str(action.get("action_id", ""))
        user = body.get("user") or {}
        area_id = None
        if action_id == "ticket_reassign":
            value = str((action.get("selected_option") or {}).get("value", ""))
            number, _, area_id = value.partition(":")
        else:
            number = str(action.get("value", ""))
        if not number.isdigit():
            return
        note = await self.desk.on_staff_action(
            StaffAction(
                action=action_id.removeprefix("ticket_"),
                ticket_id=int(number),
                user_id=str(user.get("id", "")),
                user_name=user.get("name"),
                area_id=area_id or None,
            )
        )
        await respond(text=note, response_type="ephemeral", replace_original=False)

    async def _on_event_view(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        assert self.staff_events is not None
        data = values(view)
        form = EventForm(
            title=str(data.get("title", "")),
            start=str(data.get("start", "")),
            end=str(data.get("end", "")),
            description=str(data.get("description", "")),
            location=str(data.get("location", "")),
            url=str(data.get("url", "")),
            counties=list(data.get("counties") or []),
            reminders=str(data.get("reminders", "")),
        )
        user = str((body.get("user") or {}).get("id", ""))
        event, errors = await self.staff_events.create(form, user)
        if errors or event is None:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        channel = json.loads(view.get("private_metadata") or "{}").get("channel")
        if channel:
            await self.client.chat_postEphemeral(
                channel=channel,
                user=user,
                text=f"✅ Tapahtuma *{event.title}* tallennettu (#{event.id}). Muistutukset "
                "lähtevät tilaajille ja alueen kanavalle.",
            )

    async def _on_announce_view(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        assert self.staff_events is not None
        data = values(view)
        user = str((body.get("user") or {}).get("id", ""))
        text = str(data.get("text", ""))
        draft = await self.staff_events.draft_announcement(
            text, list(data.get("counties") or []), user
        )
        if isinstance(draft, str):
            await ack(response_action="errors", errors={"text": draft})
            return
        channel = json.loads(view.get("private_metadata") or "{}").get("channel", "")
        await ack(
            response_action="update",
            view=announcement_confirmation(draft[0], draft[1], text.strip(), channel),
        )

    async def _on_announce_confirm(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        assert self.staff_events is not None
        await ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        queued = await self.staff_events.send_announcement(int(meta.get("draft", 0)))
        user = str((body.get("user") or {}).get("id", ""))
        if meta.get("channel"):
            await self.client.chat_postEphemeral(
                channel=meta["channel"],
                user=user,
                text=f"📢 Tiedote lähtee {queued} tilaajalle.",
            )

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error("slack request failed", exc_info=error)


class SlackTransport:
    """Sends outbox messages to Slack: ticket cards, thread posts, reactions."""

    channel = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send(self, message: Outgoing) -> dict[str, Any]:
        """Send one outbox row; translate Slack errors into the outbox's kinds."""
        payload = message.payload
        op = payload.get("op", "post")
        try:
            if op == "ticket_card":
                link = await self._permalink(payload.get("moved_from"))
                text, blocks = ticket_card(dict(payload["ticket"]), link)
                response = await self.client.chat_postMessage(
                    channel=message.recipient, text=text, blocks=blocks, unfurl_links=False
                )
                return {"channel": response.get("channel"), "ts": response.get("ts")}
            if op == "ticket_card_update":
                text, blocks = ticket_card(dict(payload["ticket"]))
                response = await self.client.chat_update(
                    channel=message.recipient, ts=str(payload["ts"]), text=text, blocks=blocks
                )
                return {"channel": response.get("channel"), "ts": response.get("ts")}
            if op == "react":
                try:
                    await self.client.reactions_add(
                        channel=message.recipient,
                        timestamp=str(payload["ts"]),
                        name=str(payload["name"]),
                    )
                except SlackApiError as err:
                    if (err.response or {}).get("error") != "already_reacted":
                        raise
                return {}
            text = str(payload.get("text", ""))
            link = await self._permalink(payload.get("link_to"))
            if link:
                text = f"{text}\n<{link}|Avaa ketju>"
            kwargs: dict[str, Any] = {"channel": message.recipient, "text": text[:3900]}
            if payload.get("thread_ts"):
                kwargs["thread_ts"] = str(payload["thread_ts"])
            if payload.get("blocks"):
                kwargs["blocks"] = payload["blocks"]
            response = await self.client.chat_postMessage(**kwargs)
            return {"channel": response.get("channel"), "ts": response.get("ts")}
        except SlackApiError as err:
            raise _translate(err) from err
        except (SlackRequestError, TimeoutError, OSError) as err:
            raise TransientError(f"slack unreachable: {err}") from err

    async def _permalink(self, target: Any) -> str | None:
        if not target or not target.get("channel") or not target.get("ts"):
            return None
        try:
            response = await self.client.chat_getPermalink(
                channel=str(target["channel"]), message_ts=str(target["ts"])
            )
        except (SlackApiError, SlackRequestError) as err:
            log.info("chat.getPermalink failed: %s", err)
            return None
        link = response.get("permalink")
        return str(link) if link else None


_PERMANENT = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_blocks",
    "msg_too_long",
    "no_text",
    "message_not_found",
    "cant_update_message",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "missing_scope",
}


def _translate(err: SlackApiError) -> Exception:
    response = err.response
    status = getattr(response, "status_code", 200)
    code = (response.get("error") if response is not None else None) or "error"
    if status == 429 or code == "ratelimited":
        retry = getattr(response, "headers", {}).get("Retry-After") or getattr(
            response, "headers", {}
        ).get("retry-after")
        return TransientError(f"slack rate limited ({code})", float(retry) if retry else 1.0)
    if status >= 500 or code in {
        "internal_error",
        "service_unavailable",
        "fatal_error",
        "request_timeout",
    }:
        return TransientError(f"slack error {status} {code}")
    if code in _PERMANENT or 400 <= status < 500:
        return PermanentError(f"slack refused: {code}")
    return TransientError(f"slack error {code}")
