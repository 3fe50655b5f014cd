"""The router: one visible middleware chain, then the feature that owns the update."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from weakref import WeakValueDictionary

from handlers.context import BotError, Context, Handler, Services
from handlers.messages import Incoming, Lang, Platform, Reply
from handlers.metrics import METRICS
from handlers.states import ConvState
from handlers.texts import text
from storage.repositories import UserRepository

log = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4000
_COMMAND = re.compile(r"^/([A-Za-z0-9_äöåÄÖÅ]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.DOTALL)


def parse_command(message: str) -> tuple[str, str] | None:
    """Split `/kysy@bot some text` into (`kysy`, `some text`); None if not a command."""
    match = _COMMAND.match(message.strip())
    if not match:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


@dataclass(frozen=True)
class Command:
    """A slash command: its Finnish name, aliases, menu descriptions and handler."""

    name: str
    handler: Handler
    descriptions: Mapping[Lang, str]
    aliases: tuple[str, ...] = ()
    in_menu: bool = True

    def english_name(self) -> str:
        """The English alias if there is one (for the English and Swedish menus)."""
        return self.aliases[0] if self.aliases else self.name


@dataclass(frozen=True)
class Feature:
    """What one feature module contributes to the router."""

    name: str
    commands: Sequence[Command] = ()
    callbacks: Mapping[str, Handler] = field(default_factory=dict)
    states: Mapping[ConvState, Handler] = field(default_factory=dict)
    on_location: Handler | None = None
    on_text: Handler | None = None
    platforms: frozenset[Platform] = frozenset(Platform)


class Router:
    """Dispatches neutral updates to features, one database session per update."""

    def __init__(self, services: Services, features: Sequence[Feature]) -> None:
        self.services = services
        self.features = tuple(features)
        self._locks: WeakValueDictionary[tuple[str, str], asyncio.Lock] = WeakValueDictionary()

    def commands(self, platform: Platform) -> list[Command]:
        """Commands available on `platform`, in feature order."""
        return [c for f in self.features if platform in f.platforms for c in f.commands]

    def _find_command(self, platform: Platform, name: str) -> Command | None:
        for command in self.commands(platform):
            if name == command.name or name in command.aliases:
                return command
        return None

    def _callback(self, platform: Platform, payload: str) -> Handler | None:
        prefix = payload.split(":", 1)[0]
        for feature in self.features:
            if platform in feature.platforms and prefix in feature.callbacks:
                return feature.callbacks[prefix]
        return None

    def _first(self, platform: Platform, attribute: str) -> Handler | None:
        for feature in self.features:
            handler = getattr(feature, attribute)
            if platform in feature.platforms and handler is not None:
                return handler  # type: ignore[no-any-return]
        return None

    def _state_handler(self, platform: Platform, state: str | None) -> Handler | None:
        if not state:
            return None
        for feature in self.features:
            for key, handler in feature.states.items():
                if platform in feature.platforms and key.value == state:
                    return handler
        return None

    async def dispatch(
        self, msg: Incoming, deliver: Callable[[list[Reply]], Awaitable[None]] | None = None
    ) -> list[Reply]:
        """Handle one update and return the replies to send, in order.

        One user's updates are handled one at a time, in the order they arrived (call this
        before awaiting anything else for the update). With `deliver`, the replies are also
        sent before the user's next update is handled, so a quick second message never
        gets its answer before the first one's.
        """
        METRICS.inc(
            "sotebot_updates_total", "Updates handled, by channel.", platform=msg.platform.value
        )
        key = (msg.sender.platform.value, msg.sender.platform_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        async with lock:
            replies = await self._dispatch(msg)
            if deliver is not None:
                await deliver(replies)
            return replies

    async def _dispatch(self, msg: Incoming) -> list[Reply]:
        fallback_lang = Lang.from_code(msg.sender.language_code)
        try:
            replies = await self._in_session(msg)
        except Exception:
            log.exception("update from %s failed", msg.sender.platform.value)
            return [Reply(text("error", fallback_lang))]
        return replies

    async def _in_session(self, msg: Incoming) -> list[Reply]:
        queued = False
        async with self.services.db.session() as session:
            users = UserRepository(session)
            now = self.services.clock.now()
            user = await users.touch(
                msg.sender.platform.value,
                msg.sender.platform_id,
                now=now,
                first_name=msg.sender.first_name,
                platform_language=msg.sender.language_code,
            )
            lang = Lang.from_code(user.language or user.platform_language)
            ctx = Context(self.services, session, user, lang, now)
            try:
                replies = list(await self._route(msg, ctx))
            except BotError as err:
                replies = [Reply(err.text)]
            queued = ctx.queued
        if queued:
            self.services.wake_outbox()
        return replies

    async def _route(self, msg: Incoming, ctx: Context) -> Sequence[Reply]:
        platform = msg.platform
        if msg.callback is not None:
            handler = self._callback(platform, msg.callback)
            if handler is None:
                return [Reply(text("stale_button", ctx.lang))]
            return await handler(msg, ctx)
        if msg.command is not None:
            command = self._find_command(platform, msg.command)
            if command is None:
                key = "unknown_command.staff" if platform is Platform.SLACK else "unknown_command"
                return [Reply(text(key, ctx.lang, command=msg.command))]
            return await command.handler(msg, ctx)
        if msg.location is not None:
            handler = self._first(platform, "on_location")
            if handler is not None:
                return await handler(msg, ctx)
        if msg.unsupported is not None or (msg.location is None and not msg.text.strip()):
            return [Reply(text("unsupported", ctx.lang))]
        replies: list[Reply] = []
        if len(msg.text) > MAX_TEXT_LENGTH:
            replies.append(Reply(text("too_long", ctx.lang, length=len(msg.text))))
            msg = replace(msg, text=msg.text[:MAX_TEXT_LENGTH])
        state_handler = self._state_handler(platform, ctx.user.state)
        if state_handler is not None:
            handled = await state_handler(msg, ctx)
            if handled:
                return [*replies, *handled]
        handler = self._first(platform, "on_text")
        if handler is None:
            return [*replies, Reply(text("fallback", ctx.lang))]
        return [*replies, *await handler(msg, ctx)]


def to_incoming_text(msg: Incoming) -> Incoming:
    """Parse a leading slash command out of a text message."""
    if msg.command is None and msg.callback is None and msg.text.startswith("/"):
        parsed = parse_command(msg.text)
        if parsed:
            return replace(msg, command=parsed[0], args=parsed[1])
    return msg
