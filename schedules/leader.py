"""Exactly one leader among replicas sharing one PostgreSQL database.

The leader polls Telegram (Telegram allows one `getUpdates` at a time) and runs the periodic
jobs (reminder planning, escalation, retention). Every replica serves HTTP (Slack events,
the Telegram webhook, `/healthz`) and sends from the outbox, whose claims are safe to share.

On PostgreSQL the leader holds a session-level advisory lock on a connection of its own.
The lock goes with the connection: when the leader's process dies or loses the database,
a follower's next attempt (every `retry` seconds) takes it over. A leader that can no
longer reach the database steps down at once, so two pollers overlap at most until the
database has noticed the dead connection. SQLite serves one process: it always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database

log = logging.getLogger(__name__)

# pg_advisory_lock takes a bigint; this one is "sotebot" in ASCII.
LOCK_KEY = 0x736F7465626F74

Hook = Callable[[], Awaitable[None]]


class Leadership:
    """Campaign for leadership, run `on_elected` on winning and `on_deposed` on losing it."""

    def __init__(
        self,
        db: Database,
        on_elected: Hook,
        on_deposed: Hook,
        retry: float = 5.0,
        key: int = LOCK_KEY,
    ) -> None:
        self.db = db
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.retry = retry
        self.key = key
        self.is_leader = False
        self._conn: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def role(self) -> str:
        """`leader` or `standby`, as /healthz shows it."""
        return "leader" if self.is_leader else "standby"

    async def start(self) -> None:
        """Lead at once on SQLite; on PostgreSQL try now, then keep trying in the background."""
        if self.db.is_sqlite:
            await self._elected()
            return
        await self._campaign_once()
        self._task = asyncio.create_task(self._campaign(), name="leadership")

    async def stop(self) -> None:
        """Stop campaigning and give the lock back (without running `on_deposed`: the caller
        is stopping everything anyway)."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.is_leader = False
        await self._release()

    async def _campaign(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.retry)
            if not self._stopping.is_set():
                await self._campaign_once()

    async def _campaign_once(self) -> None:
        """Win the lock if it is free; as the leader, check the connection still holds it."""
        try:
            if self.is_leader:
                assert self._conn is not None
                await self._conn.execute(text("SELECT 1"))
                await self._conn.commit()
                return
            conn = await self.db.engine.connect()
            self._conn = conn  # released below unless this replica wins
            won = bool(
                await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
            )
            await conn.commit()  # end the transaction; the session-level lock stays
            if not won:
                self._conn = None
                await conn.close()
                return
        except Exception as err:  # the database is unreachable: nobody can lead from here
            log.warning("leadership check failed: %s", err.__class__.__name__)
            if self.is_leader:
                self.is_leader = False
                log.warning("stepping down as leader")
                await self._safely(self.on_deposed, "stepping down")
            await self._release()
            return
        await self._elected()

    async def _elected(self) -> None:
        self.is_leader = True
        log.info("this replica leads (Telegram polling, periodic jobs)")
        await self._safely(self.on_elected, "taking the lead")

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            await conn.commit()
        except Exception:
            # Unsure whether the lock is gone: drop the connection rather than pool it.
            with contextlib.suppress(Exception):
                await conn.invalidate()
        with contextlib.suppress(Exception):
            await conn.close()

    @staticmethod
    async def _safely(hook: Hook, what: str) -> None:
        try:
            await hook()
        except Exception:
            log.exception("%s failed", what)
