"""Typed settings read from the environment and `.env` (PRODUCT.md §3)."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from schedules.timing import parse_offsets, parse_quiet_hours


class ConfigError(Exception):
    """The configuration is invalid; the message names the variables to fix."""


class Settings(BaseSettings):
    """Every variable of the operational contract, validated at start-up."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = "sqlite+aiosqlite:///sotebot.db"

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_rate_limit: float = Field(default=25.0, gt=0, le=1000)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_coordination_channel: str | None = None

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)

    timezone: str = "Europe/Helsinki"
    reminder_offsets: Annotated[tuple[timedelta, ...], NoDecode] = (
        timedelta(days=7),
        timedelta(days=1),
        timedelta(hours=2),
    )
    quiet_hours: Annotated[tuple[time, time] | None, NoDecode] = (time(21), time(8))

    experts_file: Path | None = None
    faq_dir: Path | None = None

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["console", "json"] = "console"

    # Beyond §3: tuning with sensible defaults.
    escalation_office_hours: float = Field(default=8.0, gt=0)
    internal_note_prefixes: Annotated[tuple[str, ...], NoDecode] = ("//", "note:")
    show_staff_names: bool = False
    ticket_retention_days: int = Field(default=365, ge=1)

    @field_validator("telegram_bot_token", "telegram_webhook_secret", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "telegram_webhook_url",
        "slack_coordination_channel",
        "experts_file",
        "faq_dir",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _normalise_case(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return value.strip().upper() if value.strip().upper() in _LEVELS else value.strip().lower()

    @field_validator("telegram_mode", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("reminder_offsets", mode="before")
    @classmethod
    def _parse_offsets(cls, value: object) -> object:
        if isinstance(value, str):
            offsets = parse_offsets(value)
            if not offsets:
                raise ValueError("give at least one duration, e.g. 7d,1d,2h")
            return offsets
        return value

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _parse_quiet(cls, value: object) -> object:
        return parse_quiet_hours(value) if isinstance(value, str) else value

    @field_validator("internal_note_prefixes", mode="before")
    @classmethod
    def _parse_prefixes(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(p.strip().lower() for p in value.split(",") if p.strip())
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}") from err
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.slack_app_token and not self.slack_app_token.get_secret_value().startswith("xapp-"):
            raise ValueError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
        if self.slack_enabled and not self.slack_socket_mode and not self.slack_signing_secret:
            raise ValueError(
                "SLACK_SIGNING_SECRET is required when Slack HTTP events are on "
                "(SLACK_BOT_TOKEN is set and SLACK_APP_TOKEN is not)"
            )
        if (self.slack_app_token or self.slack_signing_secret) and not self.slack_bot_token:
            raise ValueError(
                "SLACK_BOT_TOKEN is required when SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set"
            )
        if self.telegram_mode == "webhook":
            if not self.telegram_bot_token:
                raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_BOT_TOKEN")
            if not self.telegram_webhook_url or not self.telegram_webhook_url.startswith(
                "https://"
            ):
                raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL (https://…)")
            if not self.telegram_webhook_secret:
                raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET")
            if not re.fullmatch(
                r"[A-Za-z0-9_-]{1,256}", self.telegram_webhook_secret.get_secret_value()
            ):
                raise ValueError(
                    "TELEGRAM_WEBHOOK_SECRET may contain only A-Z, a-z, 0-9, _ and - "
                    "(1-256 characters)"
                )
        return self

    @property
    def telegram_enabled(self) -> bool:
        """Whether the Telegram channel is configured."""
        return self.telegram_bot_token is not None

    @property
    def slack_enabled(self) -> bool:
        """Whether the Slack channel is configured."""
        return self.slack_bot_token is not None

    @property
    def slack_socket_mode(self) -> bool:
        """Whether Slack uses Socket Mode instead of HTTP events."""
        return self.slack_app_token is not None

    @property
    def tz(self) -> ZoneInfo:
        """The local time zone for showing times and office hours."""
        return ZoneInfo(self.timezone)

    def secrets(self) -> list[str]:
        """Every configured secret value, for log redaction."""
        values = [
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
        ]
        found = [v.get_secret_value() for v in values if v is not None]
        if "@" in self.database_url and ":" in self.database_url.split("@", 1)[0]:
            password = self.database_url.split("@", 1)[0].rsplit(":", 1)[1]
            if password and not password.startswith("//"):
                found.append(password)
        return [s for s in found if len(s) >= 6]


_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, raising ConfigError with readable messages."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        problems = []
        for error in err.errors():
            loc = [str(part) for part in error.get("loc", ()) if part != "__root__"]
            name = loc[0].upper() if loc else ""
            message = str(error.get("msg", "")).removeprefix("Value error, ")
            problems.append(f"{name}: {message}" if name else message)
        raise ConfigError("Invalid configuration:\n  " + "\n  ".join(problems)) from None
