"""APScheduler only wakes things up; the database decides what is due.

One AsyncIOScheduler in the shared event loop runs: a `next-due` date job at the time of the
earliest pending delivery (moved whenever that changes), a periodic sweep that pokes the
delivery engine anyway (a safety net after clock jumps or other replicas' work), and the
periodic jobs features register (reminder planning, escalation, retention). Of several
replicas only the leader runs the periodic jobs (`leading`, see schedules/leader.py); every
replica wakes its own delivery engine.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from schedules.outbox import Clock, DeliveryEngine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """A coroutine run every `seconds`."""

    name: str
    seconds: float
    run: Callable[[], Awaitable[object]]


class Wakeups:
    """Owns the scheduler; start after the engine, shut down before it."""

    def __init__(
        self,
        engine: DeliveryEngine,
        clock: Clock,
        jobs: list[PeriodicJob] | None = None,
        sweep_seconds: float = 30.0,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.jobs = list(jobs or [])
        self.sweep_seconds = sweep_seconds
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.leading: Callable[[], bool] = lambda: True
        engine.next_due_listeners.append(self.schedule_next_due)

    def start(self) -> None:
        """Start the scheduler with the sweep and the periodic jobs."""
        self.scheduler.add_job(
            self._poke,
            "interval",
            seconds=self.sweep_seconds,
            id="sweep",
            coalesce=True,
            max_instances=1,
        )
        for job in self.jobs:
            self.scheduler.add_job(
                self._guarded(job),
                "interval",
                seconds=job.seconds,
                id=job.name,
                coalesce=True,
                max_instances=1,
                next_run_time=datetime.now(UTC) + timedelta(seconds=min(job.seconds, 5.0)),
            )
        self.scheduler.start()

    async def _poke(self) -> None:
        # A coroutine on purpose: APScheduler runs plain functions in a worker thread, and
        # the engine's asyncio.Event must be set from the event loop's own thread.
        self.engine.poke()

    def _guarded(self, job: PeriodicJob) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if not self.leading():
                return
            try:
                await job.run()
            except Exception:
                log.exception("periodic job %s failed", job.name)

        return run

    def schedule_next_due(self, due: datetime | None) -> None:
        """Wake the engine when the earliest pending delivery becomes due."""
        if due is None or not self.scheduler.running:
            return
        # Something already due is still pending after a round: it is paced, paused by a
        # 429 or claimed elsewhere, and the engine wakes itself for those. Look again in a
        # second at the latest, never in a tight loop.
        delay = max((due - self.clock.now()).total_seconds(), 1.0)
        self.scheduler.add_job(
            self._poke,
            "date",
            run_date=datetime.now(UTC) + timedelta(seconds=delay),
            id="next-due",
            replace_existing=True,
        )

    def run_now(self, name: str) -> None:
        """Run a periodic job as soon as possible (something it looks at changed)."""
        if not self.scheduler.running:
            return
        job = self.scheduler.get_job(name)
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC))

    def shutdown(self) -> None:
        """Stop waking anything."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
