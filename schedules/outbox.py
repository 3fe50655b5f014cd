"""The delivery outbox: every outgoing message is a row first, sent by one engine.

Enqueuing is idempotent (`dedupe_key` is unique). The engine claims due rows
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, compare-and-set on SQLite), sends them through
the channel's transport at the channel's pace, and records the outcome in the same
transaction as its follow-ups (a ✅ reaction after a relayed reply, the Slack timestamp of
a posted ticket). Transient failures (429, 5xx, timeouts) are retried with backoff, a 429
pauses the whole channel for its `retry_after`, and a user who blocked the bot is marked.

Exactly once, with one window: if the peer accepted a message and the process died before
the outcome was recorded, the row is still `sending`; when its lease (30 s, longer than any
single send can take: a pacing wait plus the HTTP timeouts) expires it is sent again. Only
requests in flight at the moment of the crash can be duplicated (at most the engine's
concurrency, in practice one to three), never a whole batch: rows are claimed a
pacing-second at a time and each outcome is committed as soon as it is known.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Delivery, User

log = logging.getLogger(__name__)

BULK_KINDS = ("announcement",)
"""Kinds sent after everything else that is due: a broadcast must not delay the rest."""

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
SKIPPED = "skipped"


class DeliveryError(Exception):
    """A transport could not deliver a message."""


class TransientError(DeliveryError):
    """Worth retrying: a 429 (with `retry_after` seconds), a 5xx, a timeout."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RecipientBlocked(DeliveryError):
    """The user blocked the bot (Telegram 403): skip them from now on."""


class PermanentError(DeliveryError):
    """Retrying will not help (a 400, an unknown chat or channel)."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What a transport is asked to send."""

    id: int
    channel: str
    kind: str
    recipient: str
    payload: Mapping[str, Any]
    user_id: int | None
    ticket_id: int | None
    attempts: int


class Transport(Protocol):
    """A channel's sender, implemented by the platform adapters in `bot/`."""

    channel: str

    async def send(self, message: Outgoing) -> dict[str, Any]:
        """Send one message; return what the peer answered (e.g. a Slack `ts`)."""
        ...


class Clock(Protocol):
    """Source of the current time."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


SentHook = Callable[[AsyncSession, Delivery, dict[str, Any]], Awaitable[None]]
FailedHook = Callable[[AsyncSession, Delivery, DeliveryError], Awaitable[None]]


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    channel: str,
    kind: str,
    recipient: str,
    payload: Mapping[str, Any],
    now: datetime,
    not_before: datetime | None = None,
    user_id: int | None = None,
    ticket_id: int | None = None,
) -> bool:
    """Queue a message unless one with the same `dedupe_key` exists; True if queued now."""
    values = {
        "dedupe_key": dedupe_key[:200],
        "channel": channel,
        "kind": kind,
        "recipient": recipient,
        "payload": dict(payload),
        "status": PENDING,
        "not_before": not_before or now,
        "attempts": 0,
        "result": {},
        "user_id": user_id,
        "ticket_id": ticket_id,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Delivery).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def enqueue_many(
    session: AsyncSession, rows: list[dict[str, Any]], *, now: datetime, chunk: int = 500
) -> int:
    """Queue many messages at once (each row: dedupe_key, channel, kind, recipient, payload,
    and optionally not_before, user_id, ticket_id); duplicates are skipped; returns how many
    were new."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    added = 0
    for start in range(0, len(rows), chunk):
        values = [
            {
                "dedupe_key": row["dedupe_key"][:200],
                "channel": row["channel"],
                "kind": row["kind"],
                "recipient": row["recipient"],
                "payload": dict(row["payload"]),
                "status": PENDING,
                "not_before": row.get("not_before") or now,
                "attempts": 0,
                "result": {},
                "user_id": row.get("user_id"),
                "ticket_id": row.get("ticket_id"),
                "created_at": now,
            }
            for row in rows[start : start + chunk]
        ]
        statement = (
            insert(Delivery).values(values).on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        result = await session.execute(statement)
        added += int(getattr(result, "rowcount", 0) or 0)
    return added


@dataclass
class Pace:
    """How fast one channel may send: overall rate, and spacing per recipient."""

    per_second: float
    per_recipient_interval: float = 1.0
    group_interval: float = 3.0

    def interval_for(self, recipient: str) -> float:
        """Minimum spacing between two messages to `recipient`."""
        return self.group_interval if recipient.startswith("-") else self.per_recipient_interval


@dataclass
class _ChannelState:
    pace: Pace
    next_slot: float = 0.0
    paused_until: float = 0.0
    recipient_next: dict[str, float] = field(default_factory=dict)
    in_flight: int = 0
    # Recipients with a send under way: the next message to them waits for it, so a
    # conversation's messages arrive in the order they were queued.
    busy: set[str] = field(default_factory=set)

    def reserve(self, recipient: str, now: float) -> float | None:
        """Reserve a send time for `recipient` (seconds from now), or None if it must wait."""
        if now < self.paused_until:
            return None
        ready = self.recipient_next.get(recipient, 0.0)
        if ready > now + 0.05:
            return None
        slot = max(now, self.next_slot)
        self.next_slot = slot + 1.0 / self.pace.per_second
        self.recipient_next[recipient] = slot + self.pace.interval_for(recipient)
        return slot - now

    def wait_for(self, recipient: str, now: float) -> float:
        """Seconds until `recipient` may get a message on this channel."""
        return max(self.paused_until - now, self.recipient_next.get(recipient, 0.0) - now, 0.0)


class DeliveryEngine:
    """Claims due deliveries and sends them; one per process, several processes may share a DB."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        transports: Mapping[str, Transport],
        paces: Mapping[str, Pace],
        *,
        lease: timedelta = timedelta(seconds=30),
        max_attempts: int = 10,
        concurrency: int = 16,
    ) -> None:
        self.db = db
        self.clock = clock
        self.transports = dict(transports)
        self.max_attempts = max_attempts
        self.lease = lease
        self.worker = f"{uuid.uuid4().hex[:12]}"
        self._channels = {name: _ChannelState(pace) for name, pace in paces.items()}
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._timer: asyncio.TimerHandle | None = None
        self.on_sent: dict[str, SentHook] = {}
        self.on_failed: dict[str, FailedHook] = {}
        self.next_due_listeners: list[Callable[[datetime | None], None]] = []
        self.sent_count = 0

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the sending loop."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._loop(), name="delivery-engine")
            self.poke()

    async def stop(self) -> None:
        """Stop claiming, let sends in flight finish and record their outcome."""
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    def poke(self) -> None:
        """Something may be due now: look at the outbox."""
        self._wake.set()

    # -- the loop -------------------------------------------------------------------------

    async def _loop(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            if self._stopping:
                break
            try:
                # Claim without waiting for the sends: a slow Slack call never holds up
                # Telegram. Each channel claims only while it has room (see _paced), and
                # every finished send wakes the loop again.
                while not self._stopping and await self.run_once(wait=False) > 0:
                    pass
                await self._announce_next_due()
            except Exception:
                log.exception("delivery engine round failed")
                await asyncio.sleep(1.0)
                self._wake.set()

    async def run_once(self, wait: bool = True) -> int:
        """Claim what is due, start sending it; with `wait`, also await the sends."""
        claimed = await self._claim()
        if not claimed:
            return 0
        tasks = [self._spawn(row) for row in claimed]
        if wait:
            await asyncio.gather(*tasks, return_exceptions=True)
        return len(claimed)

    async def drain(self, rounds: int = 100) -> int:
        """Send everything due now (tests and `events` commands); returns how many were sent."""
        before = self.sent_count
        for _ in range(rounds):
            if await self.run_once() == 0:
                break
        return self.sent_count - before

    def _spawn(self, row: Delivery) -> asyncio.Task[None]:
        task = asyncio.create_task(self._deliver(row))
        self._inflight.add(task)
        state = self._channels.get(row.channel)
        if state is not None:
            state.in_flight += 1
            state.busy.add(row.recipient)

        def done(finished: asyncio.Task[None]) -> None:
            self._inflight.discard(finished)
            if state is not None:
                state.in_flight -= 1
                state.busy.discard(row.recipient)
            if not finished.cancelled() and finished.exception() is not None:
                log.error(
                    "delivery %s (%s) crashed; its lease will expire and it is retried",
                    row.id,
                    row.kind,
                    exc_info=finished.exception(),
                )
            self.poke()

        task.add_done_callback(done)
        return task

    async def _claim(self) -> list[Delivery]:
        """Claim about a second's worth of due rows per channel (bulk kinds last), so a
        broadcast never holds up a relayed reply, a reminder or the other channel."""
        now = self.clock.now()
        stale = now - self.lease
        due = or_(
            and_(Delivery.status == PENDING, Delivery.not_before <= now),
            and_(Delivery.status == SENDING, Delivery.claimed_at < stale),
        )
        bulk_last = case((Delivery.kind.in_(BULK_KINDS), 1), else_=0)
        async with self.db.session() as session:
            ids: list[int] = []
            for channel, state in self._channels.items():
                candidates = (
                    select(Delivery.id)
                    .where(due, Delivery.channel == channel)
                    .order_by(bulk_last, Delivery.not_before, Delivery.id)
                    .limit(max(2, int(state.pace.per_second) * 2))
                )
                if self.db.dialect == "postgresql":
                    candidates = candidates.with_for_update(skip_locked=True)
                ids += list((await session.execute(candidates)).scalars())
            if not ids:
                return []
            ids = self._paced(ids, await self._recipients(session, ids))
            if not ids:
                return []
            result = await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), due)
                .values(status=SENDING, claimed_by=self.worker, claimed_at=now)
                .returning(Delivery.id)
            )
            claimed = set(result.scalars())
            if not claimed:
                return []
            rows = await session.execute(select(Delivery).where(Delivery.id.in_(claimed)))
            order = {delivery_id: position for position, delivery_id in enumerate(ids)}
            ordered = sorted(rows.scalars(), key=lambda d: order[d.id])
        return ordered

    async def _recipients(
        self, session: AsyncSession, ids: list[int]
    ) -> dict[int, tuple[str, str]]:
        rows = await session.execute(
            select(Delivery.id, Delivery.channel, Delivery.recipient).where(Delivery.id.in_(ids))
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    def _paced(self, ids: list[int], recipients: dict[int, tuple[str, str]]) -> list[int]:
        """Keep rows that can go within about a second; at most one per recipient."""
        chosen: list[int] = []
        seen: set[tuple[str, str]] = set()
        per_channel: dict[str, int] = {}
        now = time.monotonic()
        soonest: float | None = None
        for delivery_id in ids:
            channel, recipient = recipients[delivery_id]
            state = self._channels.get(channel)
            if state is None:
                continue
            key = (channel, recipient)
            if recipient in state.busy:
                continue  # its finishing send wakes the loop
            wait = state.wait_for(recipient, now)
            if key in seen or wait > 1.0:
                soonest = min(soonest, wait) if soonest is not None else max(wait, 0.05)
                continue
            # About a second's worth per channel, counting what is still being sent.
            limit = max(1, int(state.pace.per_second)) - state.in_flight
            if per_channel.get(channel, 0) >= limit:
                continue
            per_channel[channel] = per_channel.get(channel, 0) + 1
            seen.add(key)
            chosen.append(delivery_id)
        if soonest is not None:
            self._wake_later(max(soonest - 0.9, 0.05) if chosen else soonest)
        return chosen

    def _wake_later(self, seconds: float) -> None:
        """Look again once a recipient's pacing interval has passed."""
        if self._timer is not None and not self._timer.cancelled():
            if self._timer.when() <= asyncio.get_running_loop().time() + seconds:
                return
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(seconds, self.poke)

    async def _deliver(self, row: Delivery) -> None:
        transport = self.transports.get(row.channel)
        state = self._channels.get(row.channel)
        if transport is None or state is None:
            await self._release(row, f"no transport for channel {row.channel!r}", delay=60.0)
            return
        expires = (row.payload or {}).get("expires_at")
        if expires and datetime.fromisoformat(str(expires)) <= self.clock.now():
            await self._give_up(row, PermanentError("too late: the event has already started"))
            return
        while True:
            now = time.monotonic()
            wait = state.reserve(row.recipient, now)
            if wait is None:
                await asyncio.sleep(min(max(state.wait_for(row.recipient, now), 0.02), 1.0))
                if self._stopping and state.wait_for(row.recipient, time.monotonic()) > 0.5:
                    await self._release(row, None, delay=0.0)
                    return
                continue
            if wait > 0:
                await asyncio.sleep(wait)
            # A 429 may have paused the channel while this one waited for its slot: then
            # queue up again behind the pause instead of sending straight into it.
            if time.monotonic() >= state.paused_until:
                break
        message = Outgoing(
            row.id,
            row.channel,
            row.kind,
            row.recipient,
            row.payload,
            row.user_id,
            row.ticket_id,
            row.attempts,
        )
        async with self._slots:
            try:
                result = await transport.send(message)
            except TransientError as err:
                if err.retry_after is not None:
                    state.paused_until = max(state.paused_until, time.monotonic() + err.retry_after)
                await self._retry(row, err)
                return
            except (RecipientBlocked, PermanentError) as err:
                await self._give_up(row, err)
                return
            except Exception as err:
                log.exception("delivery %s (%s) failed unexpectedly", row.id, row.kind)
                await self._retry(row, TransientError(f"unexpected: {err!r}"))
                return
        await self._succeed(row, result)

    async def _succeed(self, row: Delivery, result: dict[str, Any]) -> None:
        now = self.clock.now()
        async with self.db.session() as session:
            current = await session.get(Delivery, row.id)
            if current is None:
                return
            current.status = SENT
            current.sent_at = now
            current.result = result
            current.attempts += 1
            current.last_error = None
            hook = self.on_sent.get(row.kind)
            if hook is not None:
                await hook(session, current, result)
        self.sent_count += 1
        self.poke_if_followups()

    def poke_if_followups(self) -> None:
        """Follow-ups (reactions, notices) may have been queued: look again."""
        self._wake.set()

    async def _retry(self, row: Delivery, err: TransientError) -> None:
        now = self.clock.now()
        async with self._attempt(row, err) as attempt:
            if attempt is None:
                return
            session, current = attempt
            if current.attempts >= self.max_attempts:
                current.status = FAILED
                hook = self.on_failed.get(row.kind)
                if hook is not None:
                    await hook(session, current, err)
                log.warning("delivery %s (%s) failed for good: %s", row.id, row.kind, err)
                return
            delay = err.retry_after if err.retry_after is not None else _backoff(current.attempts)
            current.status = PENDING
            current.claimed_by = None
            current.not_before = now + timedelta(seconds=delay)
        log.info("delivery %s (%s) will be retried in %.1f s: %s", row.id, row.kind, delay, err)

    @contextlib.asynccontextmanager
    async def _attempt(
        self, row: Delivery, err: DeliveryError
    ) -> AsyncIterator[tuple[AsyncSession, Delivery] | None]:
        """The row, reloaded in a new session, with the failed attempt counted."""
        async with self.db.session() as session:
            current = await session.get(Delivery, row.id)
            if current is not None:
                current.attempts += 1
                current.last_error = str(err)[:500]
            yield (session, current) if current is not None else None

    async def _give_up(self, row: Delivery, err: DeliveryError) -> None:
        now = self.clock.now()
        async with self._attempt(row, err) as attempt:
            if attempt is None:
                return
            session, current = attempt
            current.status = SKIPPED if isinstance(err, RecipientBlocked) else FAILED
            if isinstance(err, RecipientBlocked) and current.user_id is not None:
                user = await session.get(User, current.user_id)
                if user is not None and user.blocked_at is None:
                    user.blocked_at = now
            hook = self.on_failed.get(row.kind)
            if hook is not None:
                await hook(session, current, err)
        log.info("delivery %s (%s) not sent: %s", row.id, row.kind, err)
        self._wake.set()

    async def _release(self, row: Delivery, error: str | None, delay: float) -> None:
        now = self.clock.now()
        async with self.db.session() as session:
            current = await session.get(Delivery, row.id)
            if current is not None and current.status == SENDING:
                current.status = PENDING
                current.claimed_by = None
                current.not_before = now + timedelta(seconds=delay)
                if error:
                    current.last_error = error

    async def settle(self, within: float = 10.0) -> None:
        """Wait until nothing due now is pending or being sent (tests, graceful commands)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            now = self.clock.now()
            async with self.db.session() as session:
                busy = await session.execute(
                    select(func.count()).where(
                        or_(
                            Delivery.status == SENDING,
                            and_(Delivery.status == PENDING, Delivery.not_before <= now),
                        )
                    )
                )
                count = int(busy.scalar_one())
            if count == 0 and not self._inflight:
                return
            self.poke()
            await asyncio.sleep(0.02)
        raise TimeoutError("the outbox did not settle")

    async def next_due(self) -> datetime | None:
        """When the next pending delivery becomes due."""
        async with self.db.session() as session:
            result = await session.execute(
                select(func.min(Delivery.not_before)).where(Delivery.status == PENDING)
            )
            value = result.scalar()
        return value if isinstance(value, datetime) or value is None else None

    async def _announce_next_due(self) -> None:
        due = await self.next_due()
        for listener in self.next_due_listeners:
            listener(due)

    async def counts(self) -> dict[str, int]:
        """Deliveries by status."""
        async with self.db.session() as session:
            rows = await session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            )
            return {status: int(count) for status, count in rows}


def _backoff(attempt: int) -> float:
    """Exponential backoff with jitter: about 2, 4, 8 … seconds, at most 15 minutes."""
    base: float = min(900.0, 2.0 ** max(1, attempt))
    return base * random.uniform(0.8, 1.2)
