"""Settings: defaults of the operational contract and readable errors."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings


def test_defaults_follow_the_contract() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///sotebot.db"
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.telegram_mode == "polling"
    assert settings.telegram_rate_limit == 25
    assert settings.slack_api_url == "https://slack.com/api/"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.timezone == "Europe/Helsinki"
    assert settings.reminder_offsets == (timedelta(days=7), timedelta(days=1), timedelta(hours=2))
    assert settings.quiet_hours == (time(21), time(8))
    assert (settings.log_level, settings.log_format) == ("INFO", "console")
    assert not settings.telegram_enabled and not settings.slack_enabled


def test_environment_and_dotenv_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("REMINDER_OFFSETS=3d, 90m\nQUIET_HOURS=\nLOG_FORMAT=JSON\n")
    monkeypatch.setenv("TELEGRAM_RATE_LIMIT", "10")
    settings = load_settings()
    assert settings.reminder_offsets == (timedelta(days=3), timedelta(minutes=90))
    assert settings.quiet_hours is None
    assert settings.log_format == "json"
    assert settings.telegram_rate_limit == 10


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is required"),
        ({"SLACK_SIGNING_SECRET": "abc"}, "SLACK_BOT_TOKEN is required"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "SLACK_APP_TOKEN must be"),
        ({"TELEGRAM_MODE": "webhook", "TELEGRAM_BOT_TOKEN": "1:x"}, "TELEGRAM_WEBHOOK_URL"),
        ({"TELEGRAM_MODE": "carrier-pigeon"}, "TELEGRAM_MODE"),
        ({"TELEGRAM_RATE_LIMIT": "0"}, "TELEGRAM_RATE_LIMIT"),
        ({"REMINDER_OFFSETS": "1w"}, "REMINDER_OFFSETS"),
        ({"QUIET_HOURS": "25-08"}, "QUIET_HOURS"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE: unknown time zone"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"HTTP_PORT": "http"}, "HTTP_PORT"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_socket_mode_needs_no_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-abc")
    settings = load_settings()
    assert settings.slack_socket_mode


def test_plain_postgres_url_gets_the_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:pw@db/sote")
    settings = load_settings()
    assert settings.database_url == "postgresql+asyncpg://bot:pw@db/sote"
