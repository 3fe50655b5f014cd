"""Telegram adapter: python-telegram-bot in the shared event loop, translating both ways."""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

# Opt in to python-telegram-bot's future API: durations (retry_after …) as timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    TypeHandler,
)

from bot.settings import Settings
from handlers import texts
from handlers.messages import Incoming, Lang, Location, Platform, Reply, Sender
from handlers.router import Router, parse_command
from schedules.outbox import Outgoing, PermanentError, RecipientBlocked, TransientError

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_MESSAGE = 4096
# The only commands answered in a group chat (with a pointer to a private chat).
_GROUP_COMMANDS = frozenset({"start", "apua", "help"})

_UNSUPPORTED_KINDS = (
    "photo",
    "sticker",
    "voice",
    "video",
    "video_note",
    "audio",
    "document",
    "animation",
    "contact",
    "poll",
    "venue",
    "dice",
)


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split a long text at paragraph or line breaks so each part fits one message."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    parts.append(text)
    return parts


def to_incoming(update: Update) -> Incoming | None:
    """Translate a Telegram update into a neutral message (None for updates we ignore)."""
    query = update.callback_query
    if query is not None and query.from_user is not None:
        user = query.from_user
        chat = query.message.chat if query.message is not None else None
        return Incoming(
            _sender(user.id, user.first_name, user.language_code, user.is_bot),
            str(chat.id if chat is not None else user.id),
            callback=query.data or "",
            is_private=chat is None or chat.type == "private",
        )
    message = update.message
    if message is None or message.from_user is None:
        return None
    user = message.from_user
    sender = _sender(user.id, user.first_name, user.language_code, user.is_bot)
    chat_id = str(message.chat.id)
    private = message.chat.type == "private"
    message_id = str(message.message_id)
    if message.location is not None and message.venue is None:
        point = Location(message.location.latitude, message.location.longitude)
        return Incoming(sender, chat_id, location=point, message_id=message_id, is_private=private)
    if message.text is not None:
        parsed = parse_command(message.text) if message.text.startswith("/") else None
        command, args = parsed if parsed else (None, "")
        return Incoming(
            sender,
            chat_id,
            text=message.text,
            command=command,
            args=args,
            message_id=message_id,
            is_private=private,
        )
    kind = next((k for k in _UNSUPPORTED_KINDS if getattr(message, k, None)), "other")
    return Incoming(sender, chat_id, unsupported=kind, message_id=message_id, is_private=private)


def _sender(user_id: int, first_name: str | None, language: str | None, is_bot: bool) -> Sender:
    return Sender(Platform.TELEGRAM, str(user_id), first_name, language, is_bot)


def inline_keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard."""
    if not reply.buttons:
        return None
    rows = [
        [
            InlineKeyboardButton(b.label, url=b.url)
            if b.url
            else InlineKeyboardButton(b.label, callback_data=b.payload)
            for b in row
        ]
        for row in reply.buttons
    ]
    return InlineKeyboardMarkup(rows)


class TelegramChannel:
    """python-telegram-bot with a manual lifecycle: polling by default, webhook if configured."""

    def __init__(self, settings: Settings, router: Router) -> None:
        assert settings.telegram_bot_token is not None
        self.settings = settings
        self.router = router
        base_url = settings.telegram_api_base_url
        file_url = base_url[: -len("/bot")] + "/file/bot" if base_url.endswith("/bot") else base_url
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token.get_secret_value())
            .base_url(base_url)
            .base_file_url(file_url)
            .rate_limiter(
                # No retries inside the limiter: a 429 must reach the outbox (which pauses
                # the channel and reschedules) or `with_retries` for direct replies.
                AIORateLimiter(overall_max_rate=settings.telegram_rate_limit, max_retries=0)
            )
            .concurrent_updates(64)
            .connection_pool_size(8)
            .get_updates_read_timeout(40)
            .build()
        )
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self._polling_timeout = 30
        self._standby = False
        self._answers: set[asyncio.Task[None]] = set()

    @property
    def bot(self) -> Any:
        """The python-telegram-bot Bot, for senders."""
        return self.application.bot

    async def start(self, poll: bool = True) -> None:
        """Initialise, publish command menus, start receiving updates (in polling mode only
        with `poll`: of several replicas, only the leader polls)."""
        app = self.application
        await app.initialize()
        await self.publish_commands()
        await app.start()
        if self.settings.telegram_mode == "webhook":
            assert self.settings.telegram_webhook_secret is not None
            await app.bot.set_webhook(
                url=str(self.settings.telegram_webhook_url),
                secret_token=self.settings.telegram_webhook_secret.get_secret_value(),
                allowed_updates=["message", "callback_query"],
            )
        elif poll:
            await self.start_polling()
        else:
            self._standby = True
        log.info("telegram channel started (%s)", self.settings.telegram_mode)

    @property
    def polls(self) -> bool:
        """Whether this channel receives updates by long polling."""
        return self.settings.telegram_mode != "webhook"

    async def start_polling(self) -> None:
        """Start fetching updates (polling mode; no-op if already polling)."""
        updater = self.application.updater
        assert updater is not None
        self._standby = False
        if not self.polls or updater.running:
            return
        await updater.start_polling(
            timeout=self._polling_timeout,
            allowed_updates=["message", "callback_query"],
            bootstrap_retries=-1,
            error_callback=self._on_polling_error,
        )
        log.info("telegram polling started")

    async def stop_polling(self, standby: bool = True) -> None:
        """Stop fetching updates; with `standby`, another replica polls instead."""
        self._standby = standby
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
            log.info("telegram polling stopped")

    async def publish_commands(self) -> None:
        """Set the command menus: Finnish names by default and for fi, English aliases for sv/en."""
        commands = [c for c in self.router.commands(Platform.TELEGRAM) if c.in_menu]
        for lang in (None, Lang.FI, Lang.SV, Lang.EN):
            menu_lang = lang or Lang.FI
            menu = [
                BotCommand(
                    c.name if menu_lang is Lang.FI else c.english_name(),
                    c.descriptions[menu_lang][:256],
                )
                for c in commands
            ]
            try:
                await self.application.bot.set_my_commands(
                    menu, language_code=lang.value if lang else None
                )
            except TelegramError as err:
                # The menu is a convenience; the bot answers commands without it.
                log.warning("could not set the %s command menu: %s", menu_lang.value, err)
                return

    async def stop_ingress(self) -> None:
        """Stop fetching new updates."""
        await self.stop_polling(standby=False)

    async def stop(self) -> None:
        """Let running handlers finish, then shut down."""
        app = self.application
        if app.running:
            await app.stop()
        await app.shutdown()

    def is_up(self) -> bool:
        """Whether updates are being received (or, on a standby replica, could be at once)."""
        return self.state() in {"up", "standby"}

    def state(self) -> str:
        """`up`, `standby` (another replica polls) or `down`, as /healthz shows it."""
        app = self.application
        if not app.running:
            return "down"
        if not self.polls or (app.updater is not None and app.updater.running):
            return "up"
        return "standby" if self._standby else "down"

    async def handle_webhook(self, request: web.Request) -> web.Response:
        """Accept an update posted by Telegram, after checking the secret token header."""
        assert self.settings.telegram_webhook_secret is not None
        expected = self.settings.telegram_webhook_secret.get_secret_value()
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return web.Response(status=401, text="bad secret token")
        try:
            data = await request.json()
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400, text="malformed update")
        await self.application.update_queue.put(update)
        return web.Response(status=200, text="ok")

    async def _on_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update):
            return
        if update.callback_query is not None:
            # Stops the button's spinner. In the background: awaiting it here would let the
            # user's next update reach the router first and be answered out of order.
            self._answer_later(update.callback_query)
        msg = to_incoming(update)
        if msg is None or msg.sender.is_bot:
            return
        if not msg.is_private:
            # Groups see nothing personal: /start and /apua point to a private chat, the rest
            # (answers, buttons, /omattiedot…) is ignored.
            if msg.command in _GROUP_COMMANDS:
                lang = Lang.from_code(msg.sender.language_code)
                username = self.application.bot.username
                await self.send(
                    msg.chat_id, Reply(texts.text("group.private_only", lang, bot=username))
                )
            return

        async def deliver(replies: list[Reply]) -> None:
            for reply in replies:
                await self.send(msg.chat_id, reply)

        await self.router.dispatch(msg, deliver)

    def _answer_later(self, query: CallbackQuery) -> None:
        async def answer() -> None:
            try:
                await query.answer()
            except TelegramError as err:
                log.info("answering a callback query failed: %s", err)

        task = asyncio.get_running_loop().create_task(answer())
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def send(self, chat_id: str, reply: Reply, *, retry: bool = True) -> list[Message]:
        """Send one neutral reply (retrying 429/5xx/timeouts if `retry`); raises telegram errors."""
        bot = self.application.bot
        attempts = 4 if retry else 1
        sent: list[Message] = []
        preview = LinkPreviewOptions(is_disabled=not reply.link_preview)
        parts = split_text(reply.text) if reply.text else []
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            markup: Any = inline_keyboard(reply) if last else None
            if last and reply.request_location and not reply.buttons:
                markup = _location_keyboard(reply.request_location)
            sent.append(
                await with_retries(
                    attempts=attempts,
                    call=functools.partial(
                        bot.send_message,
                        chat_id,
                        part,
                        reply_markup=markup,
                        link_preview_options=preview,
                    ),
                )
            )
        if reply.request_location and reply.buttons:
            location_markup = _location_keyboard(reply.request_location)
            sent.append(
                await with_retries(
                    lambda: bot.send_message(chat_id, "📍", reply_markup=location_markup),
                    attempts,
                )
            )
        if reply.attachment is not None:
            attachment = reply.attachment
            sent.append(
                await with_retries(
                    lambda: bot.send_document(
                        chat_id, InputFile(attachment.content, filename=attachment.filename)
                    ),
                    attempts,
                )
            )
        return sent

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if isinstance(error, Forbidden):
            log.info("telegram user blocked the bot: %s", error)
            return
        log.error("telegram update failed", exc_info=error)

    def _on_polling_error(self, error: TelegramError) -> None:
        log.warning("telegram polling error: %s", error)


async def with_retries(call: Callable[[], Awaitable[T]], attempts: int = 4) -> T:
    """Retry a Bot API call on 429 (after `retry_after`), 5xx and timeouts; not on 4xx."""
    delay = 0.5
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryAfter as err:
            if attempt == attempts:
                raise
            wait = err.retry_after
            await asyncio.sleep(wait.total_seconds() if hasattr(wait, "total_seconds") else wait)
        except (Forbidden, BadRequest):
            raise
        except NetworkError:
            if attempt == attempts:
                raise
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


class TelegramTransport:
    """Sends outbox messages through the Telegram channel; the outbox does the retrying."""

    channel = "telegram"

    def __init__(self, telegram: TelegramChannel) -> None:
        self.telegram = telegram

    async def send(self, message: Outgoing) -> dict[str, Any]:
        """Send one outbox row; translate Telegram errors into the outbox's kinds."""
        reply = Reply.from_payload(message.payload)
        try:
            sent = await self.telegram.send(message.recipient, reply, retry=False)
        except RetryAfter as err:
            wait = err.retry_after
            seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
            raise TransientError(f"telegram flood limit: {err}", seconds) from err
        except Forbidden as err:
            raise RecipientBlocked(f"telegram: {err}") from err
        except BadRequest as err:
            raise PermanentError(f"telegram refused: {err}") from err
        except (NetworkError, TelegramError) as err:
            raise TransientError(f"telegram unreachable: {err}") from err
        return {"message_ids": [m.message_id for m in sent]}


def _location_keyboard(label: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(label, request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def remove_keyboard() -> ReplyKeyboardRemove:
    """Markup that hides a reply keyboard."""
    return ReplyKeyboardRemove()
