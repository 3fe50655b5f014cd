"""End to end: the real python-telegram-bot and Bolt against fake Telegram and Slack servers."""

from __future__ import annotations

import time
from collections.abc import Callable

import aiohttp
import pytest

from bot.app import BotRuntime
from bot.http import HttpServer
from bot.settings import Settings
from storage.db import Database
from tests.fakes.slack import FakeSlack, sign, slash_command_body
from tests.fakes.telegram import FakeTelegram


def _url(bot: BotRuntime, path: str) -> str:
    assert bot.http is not None
    return f"http://127.0.0.1:{bot.http.port}{path}"


@pytest.mark.parametrize(
    ("language_code", "greeting", "privacy"),
    [
        ("fi", "Hei Maija!", "Tietosuoja"),
        ("sv", "Hej Maija!", "Dataskydd"),
        ("en", "Hi Maija!", "Privacy"),
        ("de", "Hei Maija!", "Tietosuoja"),
        (None, "Hei Maija!", "Tietosuoja"),
    ],
)
async def test_start_greets_in_the_users_language(
    bot: BotRuntime, telegram: FakeTelegram, language_code: str | None, greeting: str, privacy: str
) -> None:
    await telegram.send_text(1001, "/start", language_code=language_code)
    texts = await telegram.wait_for_texts(1001, 3)
    assert texts[0].startswith(greeting)
    assert privacy in texts[1]
    assert "/poista" in texts[1] or "/delete" in texts[1]


async def test_command_menus_are_localised(bot: BotRuntime, telegram: FakeTelegram) -> None:
    assert set(telegram.commands) == {None, "fi", "sv", "en"}
    finnish = {c["command"] for c in telegram.commands["fi"]}
    english = {c["command"] for c in telegram.commands["en"]}
    assert {"apua", "kieli", "omattiedot", "poista"} <= finnish
    assert {"help", "language", "mydata", "delete"} <= english
    swedish_descriptions = {c["description"] for c in telegram.commands["sv"]}
    assert "byt språk" in swedish_descriptions


async def test_language_is_chosen_with_a_button(bot: BotRuntime, telegram: FakeTelegram) -> None:
    await telegram.send_text(1002, "/kieli")
    await telegram.wait_for_texts(1002, 1)
    buttons = telegram.buttons(telegram.sent(1002)[0])
    assert [b["text"] for b in buttons] == ["Suomi", "Svenska", "English"]
    await telegram.press(1002, buttons[2]["callback_data"])
    texts = await telegram.wait_for_texts(1002, 2)
    assert texts[1] == "OK, let's talk in English."
    await telegram.send_text(1002, "/apua", language_code="fi")
    texts = await telegram.wait_for_texts(1002, 3)
    assert "/language" in texts[2]


async def test_a_photo_gets_a_polite_explanation(bot: BotRuntime, telegram: FakeTelegram) -> None:
    await telegram.send_photo(1003)
    texts = await telegram.wait_for_texts(1003, 1)
    assert "tekstiviestejä" in texts[0]


async def test_unknown_command_points_to_help(bot: BotRuntime, telegram: FakeTelegram) -> None:
    await telegram.send_text(1004, "/olematon")
    texts = await telegram.wait_for_texts(1004, 1)
    assert "/olematon" in texts[0] and "/apua" in texts[0]


async def test_in_a_group_the_bot_only_points_to_a_private_chat(
    bot: BotRuntime, telegram: FakeTelegram
) -> None:
    group = -100123
    await telegram.send_text(1005, "/omattiedot", chat_type="group", chat_id=group)
    await telegram.send_text(1005, "Mikä on hyvinvointialue?", chat_type="group", chat_id=group)
    await telegram.press(1005, "del:yes", chat_type="group", chat_id=group)
    await telegram.send_text(1005, "/start", chat_type="group", chat_id=group, language_code="sv")
    texts = await telegram.wait_for_texts(group, 1)
    await bot.engine.settle()
    assert telegram.texts(group) == texts
    assert "privata meddelanden" in texts[0] and "https://t.me/sote_test_bot" in texts[0]
    assert telegram.texts(1005) == []


async def test_signed_slash_command_is_answered(bot: BotRuntime, slack: FakeSlack) -> None:
    body = slash_command_body("help")
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            _url(bot, "/slack/events"),
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
        )
        assert response.status == 200
        payload = await response.json()
    assert "Sote-botin komennot" in payload["text"]
    assert "/sote help" in payload["text"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="unsigned"),
        pytest.param(sign(slash_command_body("help"), secret="wrong-secret"), id="forged"),
        pytest.param(
            sign(slash_command_body("help"), timestamp=int(time.time()) - 600), id="stale"
        ),
    ],
)
async def test_forged_stale_and_unsigned_slack_requests_are_rejected(
    bot: BotRuntime, slack: FakeSlack, headers: dict[str, str]
) -> None:
    body = slash_command_body("help")
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            _url(bot, "/slack/events"),
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        )
    assert response.status == 401


async def test_healthz_reports_database_and_channels(bot: BotRuntime) -> None:
    async with aiohttp.ClientSession() as http:
        response = await http.get(_url(bot, "/healthz"))
        body = await response.json()
    assert response.status == 200
    assert body == {
        "status": "ok",
        "database": "up",
        "channels": {"telegram": "up", "slack": "up"},
        "role": "leader",
    }


async def test_healthz_is_503_when_the_database_is_down(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    db = Database("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    server = HttpServer(settings, db, None, None)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            response = await http.get(f"http://127.0.0.1:{server.port}/healthz")
            body = await response.json()
    finally:
        await server.stop()
        await db.dispose()
    assert response.status == 503
    assert body["database"] == "down"


async def test_metrics_are_exposed_for_prometheus(bot: BotRuntime, telegram: FakeTelegram) -> None:
    await telegram.send_text(1005, "/start")
    await telegram.wait_for_texts(1005, 3)
    async with aiohttp.ClientSession() as http:
        response = await http.get(_url(bot, "/metrics"))
        body = await response.text()
    assert response.status == 200
    assert 'sotebot_updates_total{platform="telegram"}' in body
    assert "sotebot_users 1" in body


async def test_start_prompts_for_the_region(bot: BotRuntime, telegram: FakeTelegram) -> None:
    await telegram.send_text(1006, "/start")
    texts = await telegram.wait_for_texts(1006, 4)
    assert "Mistä päin yhdistyksesi on?" in texts[3]
    areas = [b["text"] for b in telegram.buttons(telegram.sent(1006)[3])]
    assert "Etelä-Suomi" in areas and len(areas) == 5


async def test_webhook_mode_checks_the_secret_token(
    make_settings: Callable[..., Settings], telegram: FakeTelegram
) -> None:
    from tests.fakes.telegram import TOKEN

    settings = make_settings(
        telegram_bot_token=TOKEN,
        telegram_api_base_url=telegram.base_url,
        telegram_mode="webhook",
        telegram_webhook_url="https://bot.example.fi/telegram/webhook",
        telegram_webhook_secret="s3cret-token_1",
    )
    runtime = BotRuntime.create(settings)
    await runtime.start()
    try:
        assert telegram.webhook is not None
        assert telegram.webhook["secret_token"] == "s3cret-token_1"
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": 1007, "type": "private"},
                "from": {"id": 1007, "is_bot": False, "first_name": "Maija", "language_code": "fi"},
                "text": "/apua",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        async with aiohttp.ClientSession() as http:
            forged = await http.post(
                _url(runtime, "/telegram/webhook"),
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
            )
            assert forged.status == 401
            accepted = await http.post(
                _url(runtime, "/telegram/webhook"),
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token_1"},
            )
            assert accepted.status == 200
        texts = await telegram.wait_for_texts(1007, 1)
        assert "Näin voin auttaa" in texts[0]
    finally:
        await runtime.stop()


async def test_quick_messages_are_answered_in_the_order_they_were_sent(
    bot: BotRuntime, telegram: FakeTelegram
) -> None:
    telegram.response_delay = 0.05  # a slow network: /start's four messages take a while
    await telegram.send_text(1007, "/start")
    await telegram.send_text(1007, "kiitos")
    texts = await telegram.wait_for_texts(1007, 6)
    assert "Mistä päin yhdistyksesi on?" in texts[3] and texts[4] == "📍"  # /start, complete
    assert "hyvä" in texts[5].lower(), texts  # then the answer to "kiitos"
