"""The scheduler wakes the delivery engine from the event loop's own thread, on time."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from schedules.scheduler import PeriodicJob, Wakeups
from tests.fakes.clock import RunningClock


class RecordingEngine:
    """Stands in for DeliveryEngine: records which thread poked it and when."""

    def __init__(self) -> None:
        self.next_due_listeners: list[Any] = []
        self.pokes: list[tuple[str, float]] = []
        self.woken = asyncio.Event()

    def poke(self) -> None:
        self.pokes.append((threading.current_thread().name, asyncio.get_running_loop().time()))
        self.woken.set()


async def test_next_due_wakes_the_engine_in_the_loop_thread() -> None:
    clock = RunningClock(datetime(2026, 12, 8, 16, 0, tzinfo=UTC))
    engine = RecordingEngine()
    ran = asyncio.Event()

    async def job() -> None:
        ran.set()

    wakeups = Wakeups(engine, clock, [PeriodicJob("job", 3600.0, job)])  # type: ignore[arg-type]
    wakeups.start()
    try:
        loop = asyncio.get_running_loop()
        asked = loop.time()
        wakeups.schedule_next_due(clock.now() + timedelta(seconds=1.2))
        await asyncio.wait_for(engine.woken.wait(), timeout=5)
        thread, at = engine.pokes[0]
        assert thread == threading.main_thread().name
        assert 1.0 <= at - asked < 2.5

        engine.woken.clear()
        wakeups.schedule_next_due(clock.now() - timedelta(minutes=5))  # overdue: no busy loop
        await asyncio.wait_for(engine.woken.wait(), timeout=5)
        assert engine.pokes[-1][1] - engine.pokes[0][1] >= 0.9

        wakeups.run_now("job")
        await asyncio.wait_for(ran.wait(), timeout=5)
    finally:
        wakeups.shutdown()
