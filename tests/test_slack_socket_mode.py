"""Slack over Socket Mode (SLACK_APP_TOKEN set): the real Bolt handler and slack_sdk client
against a fake Socket Mode server; no public HTTP endpoint, no signing secret."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qsl

import aiohttp
import pytest

from bot.app import BotRuntime
from bot.settings import Settings
from tests.fakes.clock import FakeClock
from tests.fakes.slack import BOT_TOKEN, slash_command_body
from tests.fakes.slack_socket import APP_TOKEN, FakeSlackSocketMode


@pytest.fixture
async def socket_slack() -> AsyncIterator[FakeSlackSocketMode]:
    fake = FakeSlackSocketMode()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


async def test_socket_mode_answers_commands_and_events(
    make_settings: Callable[..., Settings], socket_slack: FakeSlackSocketMode, clock: FakeClock
) -> None:
    settings = make_settings(
        slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN, slack_api_url=socket_slack.api_url
    )
    assert settings.slack_socket_mode and settings.slack_signing_secret is None
    runtime = BotRuntime.create(settings, clock=clock)
    await runtime.start()
    try:
        await socket_slack.wait_connected()
        assert socket_slack.connections_opened == 1
        assert runtime.http is not None
        async with aiohttp.ClientSession() as http:
            response = await http.get(f"http://127.0.0.1:{runtime.http.port}/healthz")
            assert response.status == 200
            assert (await response.json())["channels"] == {"slack": "up"}

        command = dict(parse_qsl(slash_command_body("help")))
        ack = await socket_slack.push("slash_commands", command)
        assert "Sote-botin komennot" in ack["payload"]["text"]

        event = {
            "type": "app_home_opened",
            "user": "UEXPERT01",
            "channel": "D0HOME",
            "tab": "home",
            "event_ts": "1700000000.000100",
        }
        callback = {
            "token": "legacy",
            "team_id": command["team_id"],
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": "EvSocket1",
            "event_time": 1700000000,
        }
        await socket_slack.push("events_api", callback)
        published = await socket_slack.wait_for(
            lambda: socket_slack.ok_calls("views.publish"), what="home tab"
        )
        assert "Avoimet kysymykset (0)" in json.dumps(published[0].params, ensure_ascii=False)
    finally:
        await runtime.stop()
    await socket_slack.wait_for(lambda: not socket_slack.connected, what="socket closed")
