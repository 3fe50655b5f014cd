"""The `sote-bot` command line (PRODUCT.md §3)."""

from __future__ import annotations

import argparse
import asyncio
import json
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

    ask = sub.add_parser("ask", help="answer one question (or, with -, each line of stdin)")
    ask.add_argument("--lang", choices=["fi", "sv", "en"], help="answer in this language")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("text", nargs="+", help="the question, or - to read standard input")

    route = sub.add_parser("route", help="resolve a region (or, with -, each line of stdin)")
    route.add_argument("--json", action="store_true", help="one JSON object per message")
    route.add_argument("text", nargs="+", help="the message, or - to read standard input")

    faq = sub.add_parser("faq", help="the knowledge base")
    faq_sub = faq.add_subparsers(dest="faq_command", required=True, metavar="ACTION")
    faq_sub.add_parser("check", help="validate the knowledge base files")
    misses = faq_sub.add_parser("misses", help="unanswered questions, most frequent first")
    misses.add_argument("--limit", type=int, default=50)
    misses.add_argument("--json", action="store_true")
    faq_sub.add_parser(
        "build", help="after editing the content: rebuild lemma tables and recalibrate"
    )

    events = sub.add_parser("events", help="events: import, list, export")
    events_sub = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    events_import = events_sub.add_parser("import", help="import an .ics file or URL (by UID)")
    events_import.add_argument("source", help="a file path or an http(s) URL")
    events_list = events_sub.add_parser("list", help="upcoming events")
    events_list.add_argument("--json", action="store_true")
    events_export = events_sub.add_parser("export", help="write every event as iCalendar")
    events_export.add_argument("-o", "--output", help="file to write (default: standard output)")

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
    quiet = args.command in {"shell", "ask", "faq", "route"}
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
    if args.command == "ask":
        return _ask(settings, args.text, args.lang, args.json)
    if args.command == "faq":
        return await _faq(settings, args)
    if args.command == "route":
        return _route(settings, args.text, args.json)
    if args.command == "events":
        return await _events(settings, args)
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


def _lines(arguments: list[str]) -> list[str]:
    """The texts to process: the arguments joined, or stdin's lines when given `-`."""
    if arguments == ["-"]:
        return [line.rstrip("\n") for line in sys.stdin if line.strip()]
    return [" ".join(arguments)]


def _ask(settings: Settings, texts: list[str], lang: str | None, as_json: bool) -> int:
    from handlers.faq import FaqService
    from handlers.faq_kb import KnowledgeBaseError
    from handlers.messages import Lang

    try:
        service = FaqService.load(settings.faq_dir)
    except KnowledgeBaseError as err:
        print(
            f"sote-bot: the knowledge base has problems (run sote-bot faq check):\n{err}",
            file=sys.stderr,
        )
        return 1
    forced = Lang(lang) if lang else None
    for text in _lines(texts):
        match = service.matcher.match(text, lang=forced)
        if as_json:
            print(json.dumps(service.as_json(text, match), ensure_ascii=False))
            continue
        entry = match.entry
        print(
            f"[{match.kind.value} · {match.lang.value} · {match.confidence:.2f}"
            + (f" · {entry.id} {','.join(entry.topics)}" if entry else "")
            + "]"
        )
        print(service.reply_text(match))
        for suggestion in match.suggestions:
            print(f"  → {suggestion.text(match.lang).question} ({suggestion.id})")
        print()
    return 0


def _route(settings: Settings, texts: list[str], as_json: bool) -> int:
    from handlers.experts import ExpertDirectory, ExpertsFileError, route_result
    from handlers.regions import RegionDirectory

    regions = RegionDirectory.load()
    try:
        experts = ExpertDirectory.load(settings.experts_file, regions)
    except ExpertsFileError as err:
        print(f"sote-bot: {err}", file=sys.stderr)
        return 1
    for text in _lines(texts):
        result = route_result(regions.resolve(text), experts, text)
        if as_json:
            print(json.dumps(result, ensure_ascii=False))
            continue
        status = result["status"]
        if status == "resolved":
            county = regions.county(result["county_code"])
            municipality = (
                regions.municipality(result["municipality_code"]).name_fi
                if result["municipality_code"]
                else "–"
            )
            area = experts.area(result["area_code"])
            print(
                f"{text}\n  → {municipality} · {county.name_fi} ({county.code}) · "
                f"{area.name('fi')} · {result['expert_id']}"
            )
        else:
            names = ", ".join(
                f"{regions.county(c).short_name('fi')} ({c})" for c in result["candidates"]
            )
            print(f"{text}\n  → {status}" + (f": {names}" if names else ""))
    return 0


async def _faq(settings: Settings, args: argparse.Namespace) -> int:
    from handlers.faq_kb import DEFAULT_FAQ_DIR, KnowledgeBaseError, load_knowledge_base

    if args.faq_command == "check":
        from handlers.faq_check import check_knowledge_base

        directory = settings.faq_dir or DEFAULT_FAQ_DIR
        result = check_knowledge_base(directory)
        if not result.ok:
            print(f"{len(result.problems)} problem(s) in {directory}:", file=sys.stderr)
            for problem in result.problems:
                print(f"  ✗ {problem}", file=sys.stderr)
            return 1
        for warning in result.warnings:
            print(f"  ! {warning}")
        print(result.summary)
        return 0
    if args.faq_command == "build":
        from handlers.faq_calibrate import calibrate
        from handlers.faq_lemmas import build_tables

        try:
            kb = load_knowledge_base(settings.faq_dir)
        except KnowledgeBaseError as err:
            print(f"fix the knowledge base first (sote-bot faq check):\n{err}", file=sys.stderr)
            return 1
        out_dir = settings.faq_dir  # None: the bundled language folder
        sizes = build_tables(kb, out_dir)
        print("lemma tables: " + ", ".join(f"{lang.value} {n} forms" for lang, n in sizes.items()))
        from handlers.faq import place_masker
        from handlers.regions import RegionDirectory

        calibration = calibrate(kb, out_dir, places=place_masker(RegionDirectory.load()))
        print(f"calibration: {json.dumps(calibration['fitted_on'])}")
        return 0
    return await _faq_misses(settings, args.limit, args.json)


async def _faq_misses(settings: Settings, limit: int, as_json: bool) -> int:
    from storage.db import Database
    from storage.repositories import FaqQuestionRepository

    db = Database(settings.database_url)
    try:
        await db.upgrade()
        async with db.session() as session:
            misses = await FaqQuestionRepository(session).misses(limit)
    finally:
        await db.dispose()
    if as_json:
        for miss in misses:
            print(
                json.dumps(
                    {
                        "text": miss.text,
                        "lang": miss.lang,
                        "count": miss.count,
                        "kinds": list(miss.kinds),
                        "last_asked": miss.last_asked.isoformat(),
                    },
                    ensure_ascii=False,
                )
            )
        return 0
    if not misses:
        print("No misses recorded yet.")
        return 0
    print(f"{'count':>5}  {'lang':<4}  {'last asked':<16}  {'why':<24}  question")
    for miss in misses:
        last = miss.last_asked.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        print(
            f"{miss.count:>5}  {miss.lang:<4}  {last:<16}  {','.join(miss.kinds):<24}  {miss.text}"
        )
    return 0


async def _read_source(source: str) -> bytes:
    """The bytes of a file or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(source) as response:
            if response.status != 200:
                raise OSError(f"{source} answered HTTP {response.status}")
            return await response.read()
    return await asyncio.to_thread(_read_file, source)


def _read_file(source: str) -> bytes:
    from pathlib import Path

    return Path(source).expanduser().read_bytes()


async def _events(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_core, build_services
    from handlers.events import format_when
    from handlers.ical import IcalError
    from handlers.messages import Lang

    services = build_services(settings)
    core = build_core(services)
    try:
        await services.db.upgrade()
        if args.events_command == "import":
            try:
                raw = await _read_source(args.source)
                report = await core.events.import_calendar(raw)
            except (OSError, IcalError) as err:
                print(f"sote-bot: cannot import {args.source}: {err}", file=sys.stderr)
                return 1
            print(f"imported {args.source}: {report.summary()}")
            return 0
        async with services.db.session() as session:
            if args.events_command == "export":
                body = await core.events.export_calendar(session)
                if args.output:
                    from pathlib import Path

                    await asyncio.to_thread(Path(args.output).write_bytes, body)
                    print(f"wrote {args.output}", file=sys.stderr)
                else:
                    sys.stdout.write(body.decode("utf-8"))
                return 0
            found = await core.events.upcoming(session, None, everywhere=True, limit=500)
            for event, start in found:
                end = start + (event.end - event.start)
                when = format_when(start, end, event.all_day, settings.tz, Lang.FI)
                if args.json:
                    print(
                        json.dumps(
                            {
                                "id": event.id,
                                "uid": event.uid,
                                "title": event.title,
                                "start": start.isoformat(),
                                "end": end.isoformat(),
                                "counties": list(event.counties or []),
                                "location": event.location,
                                "url": event.url,
                                "recurring": bool(event.rrule),
                            },
                            ensure_ascii=False,
                        )
                    )
                else:
                    where = ", ".join(event.counties or []) or "national"
                    print(f"#{event.id:<4} {when:<32} {where:<12} {event.title}")
            if not found and not args.json:
                print("No upcoming events.")
            return 0
    finally:
        await services.db.dispose()


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
