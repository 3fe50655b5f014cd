"""Logging set-up: console or JSON lines, with every secret scrubbed."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

_TOKEN_PATTERNS = (
    re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b"),  # Telegram bot token
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{8,}\b"),  # Slack bot/user tokens
    re.compile(r"\bxapp-[A-Za-z0-9-]{8,}\b"),  # Slack app-level token
)
_QUIET_LOGGERS = (
    "httpx",
    "httpcore",
    "apscheduler",
    "aiosqlite",
    "asyncio",
    "slack_sdk",
    "alembic",
    "telegram.ext.Application",
)
# Flood-limit errors are handled (the outbox pauses and reschedules); the limiter's own
# ERROR log with a traceback for each would only alarm operators.
_SILENCED_LOGGERS = ("telegram.ext.AIORateLimiter",)


def scrub(message: str, secrets: Iterable[str] = ()) -> str:
    """Replace secret values and anything shaped like a token with `***`."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    for pattern in _TOKEN_PATTERNS:
        message = pattern.sub("***", message)
    return message


class SecretFilter(logging.Filter):
    """Scrubs secrets from every record's message and traceback before it is written."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message, self.secrets)
        if record.exc_info and record.exc_info[0] is not None:
            formatter = logging.Formatter()
            record.exc_text = scrub(formatter.formatException(record.exc_info), self.secrets)
            record.exc_info = None
        record.msg = cleaned
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    level: str = "INFO",
    fmt: str = "console",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Install one handler on the root logger; safe to call more than once."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(SecretFilter(secrets))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in _SILENCED_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
