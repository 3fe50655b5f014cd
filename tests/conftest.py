"""Shared fixtures: clean environment, databases (SQLite and PostgreSQL), fake peers, the bot."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.app import BotRuntime
from bot.settings import Settings
from handlers.faq import FaqService
from handlers.regions import RegionDirectory
from storage.db import Database
from tests.fakes.clock import FakeClock
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram import TOKEN, FakeTelegram

POSTGRES_URL = os.environ.get("SOTEBOT_TEST_POSTGRES_URL")


@pytest.fixture(autouse=True, scope="session")
def load_reference_data_once() -> Iterator[None]:
    """The knowledge base and regions load in about a second; tests share one copy."""
    faq_load, regions_load = FaqService.load, RegionDirectory.load
    faq_cache: dict[Any, FaqService] = {}
    regions_cache: dict[Any, RegionDirectory] = {}

    def cached_faq(directory: Path | None = None, regions: Any = None) -> FaqService:
        if directory not in faq_cache:
            faq_cache[directory] = faq_load(directory, regions)
        return faq_cache[directory]

    def cached_regions(data_dir: Path | None = None) -> RegionDirectory:
        if data_dir not in regions_cache:
            regions_cache[data_dir] = regions_load(data_dir)
        return regions_cache[data_dir]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FaqService, "load", staticmethod(cached_faq))
        patch.setattr(RegionDirectory, "load", staticmethod(cached_regions))
        yield


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable or .env file of the developer's leaks into a test."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves."""
    return FakeClock()


async def _create_pg_database(base_url: str) -> str:
    url = make_url(base_url)
    name = f"sotebot_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(base_url: str, test_url: str) -> None:
    url = make_url(base_url)
    name = make_url(test_url).database
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database URL on each backend (PostgreSQL only when configured)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        return
    async with fresh_pg_database() as url:
        yield url


@contextlib.asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards (skips without PostgreSQL)."""
    if not POSTGRES_URL:
        pytest.skip("SOTEBOT_TEST_POSTGRES_URL is not set")
    url = await _create_pg_database(POSTGRES_URL)
    try:
        yield url
    finally:
        await _drop_pg_database(POSTGRES_URL, url)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated database on each backend."""
    db = Database(database_url)
    await db.upgrade()
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file in the test's folder."""
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
def make_settings(sqlite_url: str) -> Callable[..., Settings]:
    """Settings for tests: embedded SQLite, a free HTTP port, nothing from the environment."""

    def make(**values: Any) -> Settings:
        base: dict[str, Any] = {"database_url": sqlite_url, "http_port": 0}
        base.update(values)
        return Settings(_env_file=None, **base)  # type: ignore[call-arg]

    return make


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """A running fake Telegram Bot API."""
    fake = FakeTelegram()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    """A running fake Slack Web API."""
    fake = FakeSlack()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
def channel_settings(
    make_settings: Callable[..., Settings], telegram: FakeTelegram, slack: FakeSlack
) -> Callable[..., Settings]:
    """Settings with both channels pointing at the fakes."""

    def make(**values: Any) -> Settings:
        base: dict[str, Any] = {
            "telegram_bot_token": TOKEN,
            "telegram_api_base_url": telegram.base_url,
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack.api_url,
        }
        base.update(values)
        return make_settings(**base)

    return make


@pytest.fixture
async def bot(
    channel_settings: Callable[..., Settings], clock: FakeClock
) -> AsyncIterator[BotRuntime]:
    """The whole bot, started against both fakes, stopped afterwards."""
    runtime = BotRuntime.create(channel_settings(), clock=clock)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()
