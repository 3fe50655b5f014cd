"""A clock tests move by hand instead of sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class FakeClock:
    """Returns a fixed time until moved."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """The current fake time."""
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta's keyword arguments."""
        self._now += timedelta(**delta)
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to `when` (time-zone aware)."""
        assert when.tzinfo is not None
        self._now = when


class RunningClock:
    """Real time, shifted: starts at a chosen instant and then runs like a wall clock.

    For tests of "on time" behaviour, where the real scheduler must wake things at the
    right moment; `jump` moves it like a fake clock.
    """

    def __init__(self, start: datetime) -> None:
        assert start.tzinfo is not None
        self._origin = start
        self._started = time.monotonic()

    def now(self) -> datetime:
        """The shifted current time."""
        return self._origin + timedelta(seconds=time.monotonic() - self._started)

    def jump(self, **delta: float) -> None:
        """Move forward instantly."""
        self._origin += timedelta(**delta)
