"""The `sote-bot` command line (PRODUCT.md §3)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot.logs import configure_logging
from bot.settings import ConfigError, Settings, load_settings
from storage.db import DatabaseError

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sote-bot",
        description="Sote-muutostuki bot: FAQ, regional expert relay and event reminders.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="migrate the database and start every configured channel")

    shell = sub.add_parser("shell", help="chat with the bot in the terminal (no tokens needed)")
    shell.add_argument("--lang", choices=["fi", "sv", "en"], help="reply language")
    shell.add_argument("--user", default=None, help="who you are in the shell (default: login)")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply pending migrations")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as err:
        print(err, file=sys.stderr)
        return EXIT_CONFIG
    quiet = args.command in {"shell"}
    configure_logging(
        "WARNING" if quiet and settings.log_level in {"DEBUG", "INFO"} else settings.log_level,
        settings.log_format,
        settings.secrets(),
    )
    try:
        return asyncio.run(_dispatch(args, settings))
    except DatabaseError as err:
        print(f"sote-bot: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        return await _run(settings)
    if args.command == "shell":
        return await _shell(settings, args.lang, args.user)
    if args.command == "db":
        return await _db_upgrade(settings)
    raise AssertionError(args.command)


async def _run(settings: Settings) -> int:
    from bot.app import BotRuntime

    if not settings.telegram_enabled and not settings.slack_enabled:
        print(
            "Neither Telegram nor Slack is configured: set TELEGRAM_BOT_TOKEN and/or "
            "SLACK_BOT_TOKEN (see .env.example).\n"
            "To chat with the bot in this terminal without any tokens, run: sote-bot shell",
            file=sys.stderr,
        )
        if sys.stdin.isatty():
            print("Starting the terminal shell now.\n", file=sys.stderr)
            return await _shell(settings, None, None)
        return EXIT_CONFIG
    runtime = BotRuntime.create(settings)
    await runtime.serve_forever()
    return 0


async def _shell(settings: Settings, lang: str | None, user: str | None) -> int:
    from bot.app import build_router, build_services
    from bot.console import ConsoleChannel

    services = build_services(settings)
    try:
        await services.db.upgrade()
        channel = ConsoleChannel(build_router(services), language=lang)
        if user:
            channel.user_id = user
        await channel.run()
    finally:
        await services.db.dispose()
    return 0


async def _db_upgrade(settings: Settings) -> int:
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        await db.upgrade()
        print(f"database is up to date: {db.describe()}")
    finally:
        await db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
