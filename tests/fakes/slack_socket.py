"""The fake Slack, plus Socket Mode: `apps.connections.open` hands out a WebSocket URL on
this server, which says hello and then delivers envelopes the test pushes, collecting the
bot's acknowledgements (with their response payloads) by envelope id."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.slack import FakeSlack

APP_TOKEN = "xapp-1-A0001-test-app-token"


class FakeSlackSocketMode(FakeSlack):
    """FakeSlack with a Socket Mode endpoint."""

    def __init__(self) -> None:
        super().__init__()
        self.app.router.add_get("/link", self._socket)
        self.connections_opened = 0
        self.acks: dict[str, dict[str, Any]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._ids = itertools.count(1)

    def _result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "apps.connections.open":
            self.connections_opened += 1
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"}
        return super()._result(method, params)

    @property
    def connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await self.wait_for(lambda: self.connected, timeout, "a Socket Mode connection")

    async def push(self, kind: str, payload: dict[str, Any], timeout: float = 10.0) -> Any:
        """Deliver one envelope (`events_api`, `slash_commands`, `interactive`) and return
        the bot's acknowledgement, its response payload included."""
        envelope_id = f"env-{next(self._ids)}"
        socket = next(ws for ws in self._sockets if not ws.closed)
        await socket.send_str(
            json.dumps(
                {
                    "envelope_id": envelope_id,
                    "type": kind,
                    "payload": payload,
                    "accepts_response_payload": kind != "events_api",
                    "retry_attempt": 0,
                    "retry_reason": "",
                }
            )
        )
        return await self.wait_for(lambda: self.acks.get(envelope_id), timeout, f"ack {kind}")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()  # answers the client's pings itself
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(
            json.dumps({"type": "hello", "num_connections": 1, "connection_info": {}})
        )
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "envelope_id" in data:
                self.acks[data["envelope_id"]] = data
                async with self._changed:
                    self._changed.notify_all()
        return ws

    async def stop(self) -> None:
        for ws in self._sockets:
            await ws.close()
        await asyncio.sleep(0)
        await super().stop()
