"""A fake Telegram Bot API server on 127.0.0.1 that the real python-telegram-bot talks to."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 999000111
TOKEN = "999000111:AAEfakeTokenForTestsOnly_abcdefghijklmnop"


@dataclass
class Failure:
    """Answer the next `count` calls of `method` (optionally only for `chat_id`) with an error."""

    method: str
    status: int
    description: str
    retry_after: int | None = None
    count: int = 1
    chat_id: str | None = None
    delay: float = 0.0


@dataclass
class Call:
    """One API call the bot made."""

    method: str
    params: dict[str, Any]
    at: float
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


class FakeTelegram:
    """Implements the Bot API methods the bot uses, records every call, injects failures."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.blocked: set[str] = set()
        self.commands: dict[str | None, list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] | None = None
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._changed = asyncio.Condition()
        self.rate_limit: float | None = None
        self.per_chat_limit: float | None = None
        self._window: list[float] = []
        self._chat_last: dict[str, float] = {}
        self.too_many: int = 0
        self.response_delay: float = 0.0
        self.app = web.Application(client_max_size=20 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.by_chat: dict[str, list[Call]] = defaultdict(list)

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL should be."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        """Listen on a free port."""
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Stop listening."""
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what users do -------------------------------------------------------------------

    def _user(self, user_id: int, first_name: str, language_code: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        return user

    async def push(self, update: dict[str, Any]) -> int:
        """Queue a raw update for getUpdates."""
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **update}
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        return update_id

    async def send_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Maija",
        language_code: str | None = "fi",
        chat_type: str = "private",
        chat_id: int | None = None,
    ) -> int:
        """A user writes `text` to the bot, in a private chat unless told otherwise."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id or user_id, "type": chat_type, "first_name": first_name},
            "from": self._user(user_id, first_name, language_code),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self.push({"message": message})

    async def send_location(
        self, user_id: int, latitude: float, longitude: float, *, language_code: str = "fi"
    ) -> int:
        """A user shares a location."""
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Maija"},
            "from": self._user(user_id, "Maija", language_code),
            "location": {"latitude": latitude, "longitude": longitude},
        }
        return await self.push({"message": message})

    async def send_photo(self, user_id: int, *, language_code: str = "fi") -> int:
        """A user sends a photo (which the bot cannot read)."""
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Maija"},
            "from": self._user(user_id, "Maija", language_code),
            "photo": [{"file_id": "f1", "file_unique_id": "u1", "width": 10, "height": 10}],
        }
        return await self.push({"message": message})

    async def press(
        self,
        user_id: int,
        data: str,
        *,
        language_code: str = "fi",
        message_id: int = 1,
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> int:
        """A user presses an inline button whose callback data is `data`."""
        query = {
            "id": str(next(self._message_ids)),
            "from": self._user(user_id, "Maija", language_code),
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id or user_id, "type": chat_type},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Sote"},
                "text": "…",
            },
        }
        return await self.push({"callback_query": query})

    # -- what the bot did ----------------------------------------------------------------

    def sent(self, chat_id: int | str | None = None) -> list[Call]:
        """sendMessage/sendDocument calls that succeeded, optionally to one chat."""
        wanted = {"sendMessage", "sendDocument"}
        return [
            c
            for c in self.calls
            if c.method in wanted
            and c.params.get("_ok")
            and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
        ]

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts of messages the bot sent successfully."""
        return [str(c.params.get("text", "")) for c in self.sent(chat_id) if "text" in c.params]

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
    ) -> Any:
        """Wait until `predicate()` is truthy (polled as calls arrive)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}; calls: {self.summary()}")
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
                except TimeoutError:
                    pass

    async def wait_for_texts(
        self, chat_id: int | str, count: int = 1, timeout: float = 10.0
    ) -> list[str]:
        """Wait until the bot has sent `count` texts to `chat_id`; return them all."""
        await self.wait_for(
            lambda: len(self.texts(chat_id)) >= count, timeout, f"{count} messages to {chat_id}"
        )
        return self.texts(chat_id)

    def summary(self) -> list[str]:
        """Short description of calls so far (for assertion messages)."""
        return [
            f"{c.method}({c.params.get('chat_id', '')}: {str(c.params.get('text', ''))[:40]!r})"
            for c in self.calls[-15:]
        ]

    def buttons(self, call: Call) -> list[dict[str, Any]]:
        """Inline buttons of a sent message."""
        markup = call.params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
        return [button for row in rows for button in row]

    # -- the HTTP side -------------------------------------------------------------------

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
        files: dict[str, Any] = {}
        if request.content_type == "application/json":
            params = await request.json() if request.can_read_body else {}
        elif request.can_read_body:
            form = await request.post()
            params = {}
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = (value.filename, value.file.read())
                    continue
                params[key] = _decode(str(value))
        else:
            params = {k: _decode(v) for k, v in request.query.items()}
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                name = value.removeprefix("attach://")
                if name in files:
                    files[key] = files.pop(name)
        return params, files

    def _failure_for(self, method: str, chat_id: str | None) -> Failure | None:
        for failure in self.failures:
            if failure.method == method and failure.count > 0:
                if failure.chat_id is not None and failure.chat_id != chat_id:
                    continue
                failure.count -= 1
                return failure
        return None

    def _rate_limited(self, chat_id: str | None, now: float) -> int | None:
        if self.rate_limit is not None:
            self._window = [t for t in self._window if now - t < 1.0]
            if len(self._window) >= self.rate_limit:
                return 1
        if self.per_chat_limit is not None and chat_id is not None:
            last = self._chat_last.get(chat_id)
            if last is not None and now - last < 1.0 / self.per_chat_limit:
                return 1
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != TOKEN:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params, files = await self._params(request)
        chat_id = str(params["chat_id"]) if "chat_id" in params else None
        call = Call(method, params, time.monotonic(), files)
        if method != "getUpdates":
            self.calls.append(call)
            if chat_id is not None:
                self.by_chat[chat_id].append(call)
        try:
            if self.response_delay and method != "getUpdates":
                await asyncio.sleep(self.response_delay)
            failure = self._failure_for(method, chat_id)
            if failure is not None:
                if failure.delay:
                    await asyncio.sleep(failure.delay)
                body: dict[str, Any] = {
                    "ok": False,
                    "error_code": failure.status,
                    "description": failure.description,
                }
                if failure.retry_after is not None:
                    body["parameters"] = {"retry_after": failure.retry_after}
                    self.too_many += 1
                return web.json_response(body, status=failure.status)
            if method in {"sendMessage", "sendDocument"}:
                if chat_id in self.blocked:
                    return web.json_response(
                        {
                            "ok": False,
                            "error_code": 403,
                            "description": "Forbidden: bot was blocked by the user",
                        },
                        status=403,
                    )
                now = time.monotonic()
                retry = self._rate_limited(chat_id, now)
                if retry is not None:
                    self.too_many += 1
                    return web.json_response(
                        {
                            "ok": False,
                            "error_code": 429,
                            "description": f"Too Many Requests: retry after {retry}",
                            "parameters": {"retry_after": retry},
                        },
                        status=429,
                    )
                self._window.append(now)
                if chat_id is not None:
                    self._chat_last[chat_id] = now
            result = await self._result(method, params, files)
            if method in {"sendMessage", "sendDocument"}:
                call.params["_ok"] = True
            return web.json_response({"ok": True, "result": result})
        finally:
            if method != "getUpdates":
                async with self._changed:
                    self._changed.notify_all()

    async def _result(self, method: str, params: dict[str, Any], files: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Sote-botti",
                "username": "sote_test_bot",
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "getUpdates":
            return await self._get_updates(params)
        if method == "setMyCommands":
            commands = params.get("commands") or []
            self.commands[params.get("language_code")] = list(commands)
            return True
        if method == "setWebhook":
            self.webhook = params
            return True
        if method in {"deleteWebhook", "answerCallbackQuery", "close", "logOut"}:
            return True
        if method == "sendMessage":
            return self._message(params, text=params.get("text", ""))
        if method == "sendDocument":
            document = files.get("document")
            return self._message(
                params,
                document={
                    "file_id": "doc1",
                    "file_unique_id": "doc1u",
                    "file_name": document[0] if document else "file",
                },
            )
        if method in {"editMessageText", "editMessageReplyMarkup"}:
            return self._message(params, text=params.get("text", ""))
        return True

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Sote-botti"},
            **content,
        }

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = asyncio.get_running_loop().time() + min(timeout, 2.0)
        async with self._changed:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    break
            return list(self._updates)


def _decode(value: str) -> Any:
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
