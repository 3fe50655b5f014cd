"""A fake Slack Web API on 127.0.0.1 that the real slack_sdk/Bolt talk to, plus request signing."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web

BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T00000001"
BOT_TOKEN = "xoxb-000000001-fake-test-token"
SIGNING_SECRET = "fake-signing-secret-for-tests"


@dataclass
class SlackFailure:
    """Answer the next `count` calls of `method` with an error (HTTP status or ok=false)."""

    method: str
    status: int = 200
    error: str = "internal_error"
    retry_after: int | None = None
    count: int = 1
    delay: float = 0.0


@dataclass
class SlackCall:
    """One Web API call the bot made."""

    method: str
    params: dict[str, Any]
    at: float
    ok: bool = False
    result: dict[str, Any] | None = None


class FakeSlack:
    """Implements the Web API methods the bot uses, records calls, injects failures."""

    def __init__(self) -> None:
        self.calls: list[SlackCall] = []
        self.failures: list[SlackFailure] = []
        self.responses: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.views: list[dict[str, Any]] = []
        self.channel_limit: float | None = None
        self._channel_last: dict[str, float] = {}
        self.too_many = 0
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self.app = web.Application()
        self.app.router.add_route("*", "/api/{method}", self._handle)
        self.app.router.add_post("/response/{token}", self._response_url)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL should be."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, token: str = "r1") -> str:
        """A response_url that lands here."""
        return f"http://127.0.0.1:{self.port}/response/{token}"

    async def start(self) -> None:
        """Listen on a free port."""
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    # -- inspection ----------------------------------------------------------------------

    def ok_calls(self, method: str) -> list[SlackCall]:
        """Successful calls of `method`."""
        return [c for c in self.calls if c.method == method and c.ok]

    def posts(self, channel: str | None = None) -> list[SlackCall]:
        """Successful chat.postMessage calls, optionally to one channel."""
        return [
            c
            for c in self.ok_calls("chat.postMessage")
            if channel is None or c.params.get("channel") == channel
        ]

    def reactions(self) -> list[tuple[str, str, str]]:
        """(channel, ts, emoji name) of every reaction added."""
        return [
            (c.params.get("channel", ""), c.params.get("timestamp", ""), c.params.get("name", ""))
            for c in self.ok_calls("reactions.add")
        ]

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
    ) -> Any:
        """Wait until `predicate()` is truthy."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                summary = [f"{c.method}:{c.ok}" for c in self.calls[-15:]]
                raise AssertionError(f"timed out waiting for {what}; calls: {summary}")
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
                except TimeoutError:
                    pass

    # -- HTTP ----------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "GET" or not request.can_read_body:
            return params
        if request.content_type == "application/json":
            params.update(await request.json())
            return params
        form = await request.post()
        for key, value in form.items():
            text = str(value)
            if key in {"blocks", "view", "attachments"} and text[:1] in "[{":
                params[key] = json.loads(text)
            else:
                params[key] = text
        return params

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        async with self._changed:
            self._changed.notify_all()
        return web.json_response({"ok": True})

    def _failure(self, method: str) -> SlackFailure | None:
        for failure in self.failures:
            if failure.method == method and failure.count > 0:
                failure.count -= 1
                return failure
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        auth = request.headers.get("Authorization", "")
        params = await self._params(request)
        call = SlackCall(method, params, time.monotonic())
        self.calls.append(call)
        try:
            if auth != f"Bearer {BOT_TOKEN}" and method != "apps.connections.open":
                return web.json_response({"ok": False, "error": "invalid_auth"})
            failure = self._failure(method)
            if failure is not None:
                if failure.delay:
                    await asyncio.sleep(failure.delay)
                headers = {}
                if failure.retry_after is not None:
                    headers["Retry-After"] = str(failure.retry_after)
                    self.too_many += 1
                return web.json_response(
                    {"ok": False, "error": failure.error}, status=failure.status, headers=headers
                )
            if method == "chat.postMessage" and self.channel_limit is not None:
                channel = str(params.get("channel"))
                now = time.monotonic()
                last = self._channel_last.get(channel)
                if last is not None and now - last < 1.0 / self.channel_limit:
                    self.too_many += 1
                    return web.json_response(
                        {"ok": False, "error": "ratelimited"},
                        status=429,
                        headers={"Retry-After": "1"},
                    )
                self._channel_last[channel] = now
            result = self._result(method, params)
            call.ok = bool(result.get("ok"))
            call.result = result
            return web.json_response(result)
        finally:
            async with self._changed:
                self._changed.notify_all()

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Test",
                "user": "sotebot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if method in {"chat.postMessage", "chat.postEphemeral"}:
            channel = params.get("channel", "")
            ts = self._next_ts()
            return {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "message_ts": ts,
                "message": {"text": params.get("text", ""), "ts": ts, "bot_id": BOT_ID},
            }
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "chat.getPermalink":
            channel, ts = params.get("channel", ""), str(params.get("message_ts", ""))
            return {
                "ok": True,
                "channel": channel,
                "permalink": f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}",
            }
        if method in {"views.open", "views.update", "views.push", "views.publish"}:
            self.views.append(params)
            view = params.get("view") or {}
            return {"ok": True, "view": {"id": f"V{len(self.views)}", **view}}
        if method == "users.info":
            user_id = str(params.get("user", ""))
            profile = self.users.get(user_id, {"real_name": "Aino Asiantuntija"})
            return {
                "ok": True,
                "user": {"id": user_id, "name": user_id.lower(), "profile": profile},
            }
        return {"ok": True}


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Slack signature headers for `body`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    basestring = f"v0:{ts}:{body}".encode()
    digest = hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def slash_command_body(
    text: str,
    *,
    user_id: str = "UEXPERT01",
    channel_id: str = "C0SOUTH01",
    response_url: str = "https://hooks.slack.invalid/x",
    trigger_id: str = "trigger1",
) -> str:
    """A form-encoded `/sote` slash command payload."""
    return urlencode(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "channel_id": channel_id,
            "user_id": user_id,
            "user_name": "aino",
            "command": "/sote",
            "text": text,
            "response_url": response_url,
            "trigger_id": trigger_id,
            "api_app_id": "A0001",
        }
    )


def event_body(event: dict[str, Any], event_id: str = "Ev0001") -> str:
    """A JSON Events API callback wrapping `event`."""
    return json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
    )


def action_body(payload: dict[str, Any]) -> str:
    """A form-encoded interactivity payload."""
    return urlencode({"payload": json.dumps(payload)})


def parse_form(body: str) -> dict[str, str]:
    """Decode a form body (for assertions)."""
    return dict(parse_qsl(body))


FORM = "application/x-www-form-urlencoded"


async def post_to_bot(port: int, body: str, content_type: str = FORM) -> tuple[int, Any]:
    """POST a correctly signed request to the bot's /slack/events, as Slack does; returns
    the status and the JSON answer (None when the answer is not JSON)."""
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"http://127.0.0.1:{port}/slack/events",
            data=body,
            headers={"Content-Type": content_type, **sign(body)},
        )
        text = await response.text()
    try:
        answer = json.loads(text) if text else None
    except ValueError:
        answer = None
    return response.status, answer
