"""Broadcasts through the delivery engine (PRODUCT.md §2.3, §4): pace, 429s, crash and restart.

"Reminders: on time, exactly once per recipient across a crash and restart, at ≥ 90 % of the
configured broadcast rate with no 429 storms." The bot runs for real (python-telegram-bot
with its AIORateLimiter, the outbox engine, SQLite) against the fake Telegram Bot API, which
enforces a flood limit and records when each request arrived.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select, update

from bot.app import BotRuntime
from bot.settings import Settings
from schedules.outbox import SENDING, SENT, enqueue_many
from storage.db import Database
from storage.models import Delivery, User
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import TOKEN, Call, Failure, FakeTelegram

SOTE_BOT = [sys.executable, "-m", "bot"]
FIRST_CHAT = 700_000


async def queue_broadcast(
    db: Database, count: int, now: datetime, *, prefix: str = "bench"
) -> list[str]:
    """Create `count` Telegram users and queue one announcement to each; return their chats."""
    chats = [str(FIRST_CHAT + i) for i in range(count)]
    async with db.session() as session:
        users = [
            User(platform="telegram", platform_id=chat, created_at=now, seen_at=now)
            for chat in chats
        ]
        session.add_all(users)
        await session.flush()
        rows = [
            {
                "dedupe_key": f"{prefix}:{i}",
                "channel": "telegram",
                "kind": "announcement",
                "recipient": chat,
                "payload": {"text": f"hello {i}"},
                "user_id": user.id,
            }
            for i, (chat, user) in enumerate(zip(chats, users, strict=True))
        ]
        assert await enqueue_many(session, rows, now=now) == count
    return chats


def per_chat(telegram: FakeTelegram) -> Counter[str]:
    """How many messages each chat got (successful sendMessage calls only)."""
    return Counter(str(call.params["chat_id"]) for call in telegram.sent())


def achieved_rate(sent: list[Call]) -> tuple[float, float]:
    """(seconds from the first to the last successful send, messages per second over it)."""
    span = sent[-1].at - sent[0].at
    return span, (len(sent) - 1) / span


def busiest_second(calls: list[Call]) -> int:
    """The most requests that arrived within any 1-second window."""
    times = sorted(call.at for call in calls)
    best = start = 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def outbox_counts(db: Database) -> dict[str, int]:
    async with db.session() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        return {status: int(count) for status, count in rows}


# -- a. the configured rate, without a 429 storm ---------------------------------------------
#
# These run on the system clock (no FakeClock): the outbox schedules retries by `not_before`,
# and a clock that does not move would never make a retried row due again.


async def test_broadcast_runs_at_the_configured_rate_without_429_storm(
    channel_settings: Callable[..., Settings], telegram: FakeTelegram
) -> None:
    telegram.rate_limit = 30  # Telegram's own flood limit, roughly
    configured = 25.0
    runtime = BotRuntime.create(channel_settings(telegram_rate_limit=configured))
    await runtime.start()
    try:
        chats = await queue_broadcast(runtime.services.db, 250, runtime.services.clock.now())
        runtime.services.wake_outbox()
        await telegram.wait_for(
            lambda: len(telegram.sent()) >= len(chats), timeout=30, what="250 messages"
        )
        await runtime.engine.settle(5)
        counts = await outbox_counts(runtime.services.db)
    finally:
        await runtime.stop()

    sent = [call for call in telegram.sent() if call.method == "sendMessage"]
    span, rate = achieved_rate(sent)
    got = per_chat(telegram)
    peak = busiest_second(sent)
    print(
        f"\nbroadcast: {len(sent)} messages in {span:.2f} s = {rate:.2f} msg/s "
        f"({rate / configured:.0%} of the configured {configured:g}/s); "
        f"429s: {telegram.too_many}; busiest second: {peak} messages; outbox: {counts}"
    )
    assert set(got) == set(chats), "some users got nothing"
    assert max(got.values()) == 1, "some users got the announcement twice"
    assert counts == {SENT: len(chats)}
    assert telegram.too_many <= 1, f"429 storm: {telegram.too_many} answered Too Many Requests"
    assert rate >= 0.9 * configured, f"only {rate:.1f} msg/s of the configured {configured}"


# -- b. a 429 in the middle pauses the channel for its retry_after ----------------------------


async def _broadcast_with_a_429(
    settings: Settings, telegram: FakeTelegram, users: int, retry_after: int
) -> tuple[list[str], dict[str, int]]:
    """Broadcast to `users`; once 50 are served, Telegram answers one request with a 429."""
    runtime = BotRuntime.create(settings)
    await runtime.start()
    try:
        chats = await queue_broadcast(runtime.services.db, users, runtime.services.clock.now())
        runtime.services.wake_outbox()
        await telegram.wait_for(lambda: len(telegram.sent()) >= 50, timeout=15, what="50 sent")
        telegram.failures.append(
            Failure(
                "sendMessage",
                429,
                f"Too Many Requests: retry after {retry_after}",
                retry_after=retry_after,
            )
        )
        await telegram.wait_for(
            lambda: len(per_chat(telegram)) >= len(chats), timeout=30, what="every user served"
        )
        await runtime.engine.settle(5)
        return chats, await outbox_counts(runtime.services.db)
    finally:
        await runtime.stop()


@pytest.mark.parametrize(
    "latency",
    [
        0.0,
        0.1,
    ],
    ids=["instant", "100ms"],
)
async def test_a_429_pauses_the_channel_for_retry_after_and_loses_nothing(
    channel_settings: Callable[..., Settings], telegram: FakeTelegram, latency: float
) -> None:
    telegram.rate_limit = 30
    telegram.response_delay = latency  # Telegram's real round trip is 50–300 ms
    retry_after = 2
    chats, counts = await _broadcast_with_a_429(
        channel_settings(telegram_rate_limit=25), telegram, 150, retry_after
    )

    requests = [call for call in telegram.calls if call.method == "sendMessage"]
    refused = [call for call in requests if not call.params.get("_ok")]
    assert refused, "the injected 429 was never answered"
    injected = refused[0].at
    # Every 429 is a pause: the injected one for `retry_after`, any later one from the fake's
    # flood limit for 1 s. Requests already on the wire before the 429 reached the bot cannot
    # be recalled: they arrive within the latency (+ 20 ms).
    grace = latency + 0.02
    pauses = [(injected, float(retry_after))] + [(call.at, 1.0) for call in refused[1:]]
    during_pause = [
        round(call.at - start, 3)
        for start, length in pauses
        for call in requests
        if start + grace < call.at < start + length
    ]
    resumed = min(call.at for call in requests if call.at > injected + grace) - injected
    got = per_chat(telegram)
    print(
        f"\n429 (retry_after={retry_after}, latency {latency:g} s) at request "
        f"#{requests.index(refused[0]) + 1}; next request after {resumed:.2f} s; "
        f"requests during a pause: {len(during_pause)}; 429s in all: {telegram.too_many}; "
        f"busiest second: {busiest_second(requests)}; outbox: {counts}"
    )
    assert set(got) == set(chats), "a message was lost"
    assert max(got.values()) == 1, "a message was duplicated"
    assert counts == {SENT: len(chats)}
    assert not during_pause, f"requests sent during a retry_after pause, at +{during_pause} s"
    assert resumed >= retry_after


async def test_one_429_does_not_start_a_429_storm(
    channel_settings: Callable[..., Settings], telegram: FakeTelegram
) -> None:
    telegram.rate_limit = 30
    await _broadcast_with_a_429(channel_settings(telegram_rate_limit=25), telegram, 200, 2)
    requests = [call for call in telegram.calls if call.method == "sendMessage"]
    print(
        f"\n429s after one injected: {telegram.too_many}; busiest second: "
        f"{busiest_second(requests)}"
    )
    assert telegram.too_many == 1, f"one 429 led to {telegram.too_many - 1} more"


# -- c. crash (SIGKILL) in the middle of a broadcast, restart on the same database -----------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(database_url: str, telegram: FakeTelegram, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "SLACK_")) and k.lower() not in Settings.model_fields
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "TELEGRAM_RATE_LIMIT": "20",
            "HTTP_PORT": str(port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def _start(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            *SOTE_BOT, "run", env=env, stdout=out, stderr=out
        )
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        while time.monotonic() - started < 30:
            if process.returncode is not None:
                raise AssertionError(f"sote-bot run exited: {_tail(log)}")
            try:
                response = await http.get(f"http://127.0.0.1:{env['HTTP_PORT']}/healthz")
                if response.status == 200:
                    return process
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    process.kill()
    await process.wait()
    raise AssertionError(f"sote-bot run never became healthy: {_tail(log)}")


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


async def test_crash_and_restart_loses_nothing_and_duplicates_at_most_the_inflight(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    total, before_crash = 300, 110
    # Telegram takes 100 ms to answer: about two requests are on the wire at any moment, so
    # the kill is likely to land inside the documented duplicate window, not beside it.
    telegram.response_delay = 0.1
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    log = tmp_path / "sote-bot.log"
    env = _env(database_url, telegram, _free_port())

    with log.open("wb") as out:
        upgrade = await asyncio.create_subprocess_exec(
            *SOTE_BOT, "db", "upgrade", env=env, stdout=out, stderr=out
        )
        assert await asyncio.wait_for(upgrade.wait(), 60) == 0, _tail(log)
    db = Database(database_url)
    try:
        chats = await queue_broadcast(db, total, datetime.now(UTC), prefix="crash")
    finally:
        await db.dispose()

    first = await _start(env, log)
    try:
        await telegram.wait_for(
            lambda: len(telegram.sent()) >= before_crash, timeout=30, what=f"{before_crash} sent"
        )
        first.kill()  # SIGKILL: no shutdown, no outcome recorded for what is in flight
        await first.wait()
    finally:
        await _kill(first)
    at_crash = per_chat(telegram)
    # Requests the dead process had on the wire may still complete inside the fake.
    await asyncio.sleep(telegram.response_delay + 0.2)

    db = Database(database_url)
    try:
        counts_after_crash = await outbox_counts(db)
        # The outbox lease is 30 s: a row a dead worker left in `sending` is claimed again only
        # once its lease has run out. Ageing the claims stands in for waiting those seconds.
        async with db.session() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.status == SENDING)
                .values(claimed_at=datetime.now(UTC) - timedelta(minutes=5))
            )
    finally:
        await db.dispose()

    env["HTTP_PORT"] = str(_free_port())
    second = await _start(env, log)
    try:
        await telegram.wait_for(
            lambda: len(per_chat(telegram)) >= total, timeout=30, what="every user served"
        )
        db = Database(database_url)
        try:
            for _ in range(100):
                counts = await outbox_counts(db)
                if counts.get(SENT) == total:
                    break
                await asyncio.sleep(0.05)
        finally:
            await db.dispose()
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 15)
    finally:
        await _kill(second)

    got = per_chat(telegram)
    twice = sorted(chat for chat, n in got.items() if n == 2)
    print(
        f"\ncrash after {sum(at_crash.values())} messages ({len(at_crash)} users); "
        f"outbox at the crash: {counts_after_crash}; after the restart: {counts}; "
        f"users with two messages: {len(twice)} {twice}; "
        f"max per user: {max(got.values())}; 429s: {telegram.too_many}"
    )
    assert second.returncode == 0, _tail(log)
    assert set(got) == set(chats), f"lost: {sorted(set(chats) - set(got))[:10]}"
    assert max(got.values()) <= 2, "a user got the announcement three times"
    assert counts_after_crash.get(SENDING, 0) <= 20, "more was claimed than a second's pace"
    # The documented window: only requests in flight at the crash (at most the engine's
    # concurrency, 16) can be sent twice.
    assert len(twice) <= 16
    assert counts == {SENT: total}


async def test_a_broadcast_does_not_hold_up_a_reply_or_the_other_channel(
    channel_settings: Callable[..., Settings], telegram: FakeTelegram, slack: FakeSlack
) -> None:
    runtime = BotRuntime.create(channel_settings(telegram_rate_limit=25))
    await runtime.start()
    try:
        now = datetime.now(UTC)
        await queue_broadcast(runtime.services.db, 300, now)
        runtime.engine.poke()
        await telegram.wait_for(lambda: len(telegram.sent()) >= 25, what="the broadcast")
        async with runtime.services.db.session() as session:
            await enqueue_many(
                session,
                [
                    {
                        "dedupe_key": "urgent-reply",
                        "channel": "telegram",
                        "kind": "ticket_to_volunteer",
                        "recipient": "424242",
                        "payload": {"text": "an expert's reply"},
                    },
                    {
                        "dedupe_key": "slack-card",
                        "channel": "slack",
                        "kind": "ticket_thread",
                        "recipient": "C00EXAMPLE3",
                        "payload": {"op": "post", "text": "a note in a thread"},
                    },
                ],
                now=datetime.now(UTC),
            )
        queued = time.monotonic()
        runtime.engine.poke()
        reply = await telegram.wait_for(lambda: telegram.sent("424242"), what="the reply")
        waited = reply[0].at - queued
        print(f"reply queued behind a 300-message broadcast went out after {waited:.2f} s")
        assert waited < 2.0
        note = await slack.wait_for(lambda: slack.posts("C00EXAMPLE3"), what="the Slack post")
        assert note[0].at - queued < 2.0
        assert len(telegram.sent()) < 300  # the broadcast was still going
    finally:
        await runtime.stop()
