"""Broadcast benchmark (not a test): pace, 429s, loss, duplicates and memory (PRODUCT.md §4).

Run from the repository root:

    .venv/bin/python -m tests.bench_broadcast [--recipients 10000] [--rate 25] [--users 50000]

This process is the bot: a real `BotRuntime` (python-telegram-bot with its AIORateLimiter, the
outbox engine, APScheduler) on a temporary SQLite file, so its peak RSS is the bot's. The fake
Telegram Bot API runs in a child process (this module with `--serve-fake`) and answers 429
(retry_after=1) beyond `--flood-limit` messages in any sliding second, like Telegram. The
benchmark creates `--users` Telegram users, subscribes `--recipients` of them to their region's
events, has staff confirm an announcement to all subscribers (`StaffEvents.draft_announcement`
and `send_announcement`, the path the Slack modal takes), and waits until the outbox is empty.
At 25 messages/s, 10,000 recipients take about 7 minutes.

Rates are over the successful sends: (messages − 1) / (last − first), as Telegram saw them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
MEMORY_BUDGET_MB = 200.0
COUNTIES = ("02", "04", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17")
FIRST_CHAT = 5_000_000


# -- the fake Telegram, in its own process ----------------------------------------------------


async def serve_fake(flood_limit: float) -> None:
    """Run the fake Bot API; print its port; answer `stats` lines on stdin with JSON."""
    from tests.fakes.telegram import FakeTelegram

    fake = FakeTelegram()
    fake.rate_limit = flood_limit
    await fake.start()
    print(f"PORT {fake.port}", flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            if line.strip() == "stats":
                print(json.dumps(_fake_stats(fake)), flush=True)
    finally:
        await fake.stop()


def _fake_stats(fake: Any) -> dict[str, Any]:
    requests = [c for c in fake.calls if c.method == "sendMessage"]
    ok = [c for c in requests if c.params.get("_ok")]
    times = sorted(c.at for c in requests)
    busiest = start = 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    return {
        "requests": len(requests),
        "ok": len(ok),
        "too_many": fake.too_many,
        "first": ok[0].at if ok else None,
        "last": ok[-1].at if ok else None,
        "busiest_second": busiest,
        "per_chat": dict(Counter(str(c.params["chat_id"]) for c in ok)),
    }


class FakeProcess:
    """The child process running the fake Bot API."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port

    @classmethod
    async def start(cls, flood_limit: float) -> FakeProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.bench_broadcast",
            "--serve-fake",
            "--flood-limit",
            str(flood_limit),
            cwd=ROOT,
            limit=64 * 1024 * 1024,  # the stats line carries every chat's count
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the fake Telegram did not start: {line!r}")
        return cls(process, int(line.split()[1]))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def stats(self) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(b"stats\n")
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), 60)
        result: dict[str, Any] = json.loads(line)
        return result

    async def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


# -- memory -----------------------------------------------------------------------------------


def _status_mb(field: str) -> float:
    """VmRSS or VmHWM of this process from /proc/self/status, in MB (getrusage elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Resident memory now."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return max(_status_mb("VmHWM"), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


# -- the bot side -----------------------------------------------------------------------------


async def create_audience(database_url: str, users: int, subscribers: int) -> None:
    """Migrate the database, insert `users` Telegram users and subscribe every
    (users / subscribers)-th one to region events. Runs in a process of its own (`--setup`):
    in production the users are already stored, and the bot process never built them."""
    from sqlalchemy import literal

    from storage.db import Database
    from storage.models import Subscription, User

    now = datetime.now(UTC)
    db = Database(database_url)
    await db.upgrade()
    chunk = 2000
    try:
        for start in range(0, users, chunk):
            rows: list[dict[str, Any]] = [
                {
                    "platform": "telegram",
                    "platform_id": str(FIRST_CHAT + i),
                    "first_name": f"User {i}",
                    "platform_language": "fi",
                    "language": ("fi", "sv", "en")[i % 3],
                    "county_code": COUNTIES[i % len(COUNTIES)],
                    "state_data": {},
                    "created_at": now,
                    "seen_at": now,
                }
                for i in range(start, min(start + chunk, users))
            ]
            async with db.session() as session:
                await session.execute(insert(User), rows)
        step = max(1, users // subscribers)
        async with db.session() as session:
            picked = (
                select(User.id, literal("region"), literal(now, User.created_at.type))
                .where((User.id - 1) % step == 0)  # a fresh database: ids from 1
                .order_by(User.id)
                .limit(subscribers)
            )
            chosen = picked.subquery()
            await session.execute(
                insert(Subscription).from_select(
                    ["user_id", "scope", "created_at"], select(*chosen.c)
                )
            )
    finally:
        await db.dispose()


async def subscriber_chats(db: Any) -> list[str]:
    """The chats of everyone subscribed to region events."""
    from storage.models import Subscription, User

    async with db.session() as session:
        found = await session.execute(
            select(User.platform_id)
            .join(Subscription, Subscription.user_id == User.id)
            .where(Subscription.scope == "region")
        )
        return [str(chat) for chat in found.scalars()]


async def run(args: argparse.Namespace) -> int:
    from pydantic import SecretStr

    from bot.app import BotRuntime
    from bot.settings import Settings
    from tests.fakes.telegram import TOKEN

    phases: dict[str, float] = {"imports": peak_rss_mb()}
    fake = await FakeProcess.start(args.flood_limit)
    with tempfile.TemporaryDirectory(prefix="sotebot-bench-") as tmp:
        database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        t0 = time.monotonic()
        setup = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.bench_broadcast",
            "--setup",
            database_url,
            "--users",
            str(args.users),
            "--recipients",
            str(args.recipients),
            cwd=ROOT,
        )
        if await setup.wait() != 0:
            raise RuntimeError("creating the users failed")
        setup_seconds = time.monotonic() - t0
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            http_port=0,
            telegram_bot_token=SecretStr(TOKEN),
            telegram_api_base_url=fake.base_url,
            telegram_rate_limit=args.rate,
            slack_bot_token=None,
            quiet_hours=None,  # the benchmark may run at night
            log_level="WARNING",
        )
        runtime = BotRuntime.create(settings)
        await runtime.start()
        try:
            phases["bot started"] = peak_rss_mb()
            chats = await subscriber_chats(runtime.services.db)
            print(
                f"{args.users} users, {len(chats)} subscribers created in {setup_seconds:.1f} s "
                f"(another process); bot started, RSS {rss_mb():.0f} MB",
                flush=True,
            )

            staff = runtime.core.staff_events
            t0 = time.monotonic()
            draft = await staff.draft_announcement(
                "Muutostuen uutiskirje on ilmestynyt: https://example.invalid/uutiskirje",
                [],
                "UBENCH",
            )
            assert not isinstance(draft, str), draft
            draft_id, count = draft
            assert count == len(chats), (count, len(chats))
            queued = await staff.send_announcement(draft_id)
            queue_seconds = time.monotonic() - t0
            print(
                f"announcement queued to {queued} recipients in {queue_seconds:.1f} s", flush=True
            )
            phases["announcement queued"] = peak_rss_mb()

            started = time.monotonic()
            deadline = started + queued / (args.rate * 0.5) + 300
            samples: list[float] = []
            last_report = started
            while True:
                await asyncio.sleep(1.0)
                samples.append(rss_mb())
                counts = await runtime.engine.counts()
                busy = counts.get("pending", 0) + counts.get("sending", 0)
                now_m = time.monotonic()
                if now_m - last_report >= 30:
                    last_report = now_m
                    done = queued - busy
                    print(
                        f"  {now_m - started:6.0f} s: {done}/{queued} done, "
                        f"{done / (now_m - started):.1f}/s, RSS {samples[-1]:.0f} MB",
                        flush=True,
                    )
                if busy == 0:
                    break
                if now_m > deadline:
                    print(f"gave up waiting: {counts}", flush=True)
                    break
            wall = time.monotonic() - started
            phases["broadcast done"] = peak_rss_mb()
            final_counts = await runtime.engine.counts()
        finally:
            await runtime.stop()
        stats = await fake.stats()
        await fake.stop()

    per_chat: dict[str, int] = stats["per_chat"]
    wanted = set(chats)
    lost = len(wanted - set(per_chat))
    duplicates = sum(1 for chat in wanted if per_chat.get(chat, 0) > 1)
    strangers = sum(1 for chat in per_chat if chat not in wanted)
    messages = int(stats["ok"])
    span = (stats["last"] - stats["first"]) if messages > 1 else 0.0
    achieved = (messages - 1) / span if span > 0 else 0.0
    # VmHWM can trail VmRSS by a few pages (per-thread RSS counters): take both.
    peak = max(peak_rss_mb(), max(samples, default=0.0))

    rows = [
        ("recipients (subscribers / users)", f"{len(chats)} / {args.users}"),
        ("messages", f"{messages}"),
        ("seconds (first → last send)", f"{span:.1f}"),
        ("seconds (queued → outbox empty)", f"{wall:.1f}"),
        ("messages/s", f"{achieved:.2f}"),
        ("ratio to configured rate", f"{achieved / args.rate:.1%} of {args.rate:g}/s"),
        (
            "busiest second (requests)",
            f"{stats['busiest_second']} (flood limit {args.flood_limit:g})",
        ),
        ("429s received", f"{stats['too_many']}"),
        ("lost (users without a message)", f"{lost}"),
        ("duplicates (users with > 1)", f"{duplicates}"),
        ("messages to non-recipients", f"{strangers}"),
        ("outbox at the end", json.dumps(final_counts, sort_keys=True)),
        ("time to queue the announcement", f"{queue_seconds:.1f} s"),
        ("peak RSS after bot start (users stored)", f"{phases['bot started']:.0f} MB"),
        ("peak RSS after queueing", f"{phases['announcement queued']:.0f} MB"),
        ("RSS during broadcast (max sample)", f"{max(samples, default=0.0):.0f} MB"),
        ("peak RSS of the process", f"{peak:.0f} MB (budget {MEMORY_BUDGET_MB:.0f} MB)"),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    print(f"{'metric'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 30}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    bars = {
        "≥ 90 % of the configured rate": achieved >= 0.9 * args.rate,
        "no 429 storm (≤ 1 429)": stats["too_many"] <= 1,
        "nothing lost": lost == 0,
        "nothing duplicated": duplicates == 0,
        f"peak RSS ≤ {MEMORY_BUDGET_MB:.0f} MB": peak <= MEMORY_BUDGET_MB,
    }
    print()
    for bar, met in bars.items():
        print(f"{'PASS' if met else 'FAIL'}  {bar}")
    return 0 if all(bars.values()) else 1


def main() -> None:
    """Parse arguments; run the benchmark (or, with --serve-fake, the fake Telegram)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000, help="subscribers to reach")
    parser.add_argument("--users", type=int, default=50_000, help="Telegram users in the DB")
    parser.add_argument("--rate", type=float, default=25.0, help="TELEGRAM_RATE_LIMIT (msg/s)")
    parser.add_argument(
        "--flood-limit", type=float, default=30.0, help="the fake Telegram's limit (msg/s)"
    )
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--setup", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        asyncio.run(serve_fake(args.flood_limit))
        return
    if args.setup:
        asyncio.run(create_audience(args.setup, max(args.users, args.recipients), args.recipients))
        return
    args.users = max(args.users, args.recipients)
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
