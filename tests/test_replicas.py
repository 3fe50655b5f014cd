"""Several replicas on one PostgreSQL: exactly one polls Telegram and runs the periodic jobs,
and when it goes away another takes over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import aiohttp
import asyncpg
import pytest
from sqlalchemy import make_url

from bot.app import BotRuntime
from bot.settings import Settings
from tests.conftest import fresh_pg_database
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.postgres

VOLUNTEER = 4100


@pytest.fixture
async def shared_pg() -> AsyncIterator[str]:
    async with fresh_pg_database() as url:
        yield url


def polling(runtime: BotRuntime) -> bool:
    assert runtime.telegram is not None
    updater = runtime.telegram.application.updater
    return bool(updater is not None and updater.running)


async def health(runtime: BotRuntime) -> tuple[int, dict[str, object]]:
    assert runtime.http is not None
    async with aiohttp.ClientSession() as http:
        response = await http.get(f"http://127.0.0.1:{runtime.http.port}/healthz")
        return response.status, await response.json()


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_one_replica_leads_and_another_takes_over_when_it_stops(
    shared_pg: str,
    channel_settings: Callable[..., Settings],
    telegram: FakeTelegram,
    clock: FakeClock,
) -> None:
    first = BotRuntime.create(channel_settings(database_url=shared_pg), clock=clock)
    second = BotRuntime.create(channel_settings(database_url=shared_pg), clock=clock)
    for runtime in (first, second):
        assert runtime.leadership is not None
        runtime.leadership.retry = 0.1
    running = [first, second]
    await first.start()
    await second.start()
    try:
        assert polling(first) and not polling(second)
        assert first.wakeups.leading() and not second.wakeups.leading()
        status, body = await health(second)
        assert status == 200 and body["role"] == "standby"
        assert body["channels"] == {"telegram": "standby", "slack": "up"}

        await telegram.send_text(VOLUNTEER, "kiitos")  # one short reply
        await telegram.wait_for_texts(VOLUNTEER, 1)
        await asyncio.sleep(0.3)  # a second poller would have answered again by now
        assert len(telegram.texts(VOLUNTEER)) == 1

        running.remove(first)
        await first.stop()
        await until(lambda: polling(second))
        assert second.wakeups.leading()
        status, body = await health(second)
        assert status == 200 and body["role"] == "leader"
        assert body["channels"] == {"telegram": "up", "slack": "up"}

        await telegram.send_text(VOLUNTEER, "/apua")
        texts = await telegram.wait_for_texts(VOLUNTEER, 2)
        assert "/kysy" in texts[-1]
    finally:
        for runtime in running:
            await runtime.stop()


async def test_a_leader_that_loses_its_database_connection_steps_down(
    shared_pg: str,
    channel_settings: Callable[..., Settings],
    telegram: FakeTelegram,
    clock: FakeClock,
) -> None:
    replicas = [
        BotRuntime.create(channel_settings(database_url=shared_pg), clock=clock) for _ in range(2)
    ]
    for runtime in replicas:
        assert runtime.leadership is not None
        runtime.leadership.retry = 0.1
        await runtime.start()
    try:
        assert [polling(r) for r in replicas] == [True, False]
        url = make_url(shared_pg)
        admin = await asyncpg.connect(
            host=url.host, port=url.port or 5432, user=url.username, database=url.database
        )
        try:  # what a database restart or a dropped connection does to the lock holder
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                " WHERE locktype = 'advisory' AND granted"
            )
        finally:
            await admin.close()
        assert killed == 1
        both = False
        for _ in range(100):  # 2 s of samples: never two pollers, and soon one again
            both = both or all(polling(r) for r in replicas)
            await asyncio.sleep(0.02)
        assert not both
        await until(lambda: sum(polling(r) for r in replicas) == 1)
        assert sum(r.wakeups.leading() for r in replicas) == 1
    finally:
        for runtime in replicas:
            await runtime.stop()
