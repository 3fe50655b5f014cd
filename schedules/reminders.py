"""Reminder planning: turn events and subscriptions into outbox rows shortly before they are due.

Every minute (and whenever an event or a subscription changes) the planner looks at event
occurrences whose reminders fall within the next `horizon`, and queues one delivery per
(reminder, recipient, occurrence) with `not_before` = the due time; the outbox's unique
`dedupe_key` makes planning idempotent across runs, replicas and restarts. Reminders to
volunteers respect quiet hours (moved earlier, to just before they begin); reminders to the
experts' Slack channels do not. A reminder whose time passed while the bot was down is still
sent (only the latest one of an occurrence) if the event has not started yet; reminders that
were due before the event was created or last changed are not.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from handlers.context import Services
from handlers.events import REMINDER, EventService, after_quiet_hours, to_event_data
from handlers.ical import occurrences
from handlers.messages import Lang
from schedules import timing
from schedules.outbox import enqueue_many
from storage.models import Event

log = logging.getLogger(__name__)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


class ReminderPlanner:
    """Queues due reminders; cheap to run often."""

    def __init__(
        self, services: Services, events: EventService, horizon: timedelta = timedelta(minutes=20)
    ) -> None:
        self.services = services
        self.events = events
        self.horizon = horizon
        self._planned: dict[tuple[int, int, str, int], int] = {}

    def forget(self) -> None:
        """Plan everything again on the next run (after subscriptions change)."""
        self._planned.clear()

    async def plan(self, now: datetime | None = None) -> int:
        """Queue reminders due before `now + horizon`; returns how many rows were new."""
        now = now or self.services.clock.now()
        settings = self.services.settings
        added = 0
        async with self.services.db.session() as session:
            rows = await session.execute(
                select(Event).where(
                    Event.cancelled.is_(False),
                    or_(Event.last_occurrence.is_(None), Event.last_occurrence > now),
                )
            )
            for event in rows.scalars():
                offsets = (
                    timing.parse_offsets(event.reminder_offsets)
                    if event.reminder_offsets
                    else settings.reminder_offsets
                )
                if not offsets:
                    continue
                data = to_event_data(event)
                window_end = now + max(offsets) + self.horizon
                for start in occurrences(data, now, window_end, settings.timezone):
                    if start <= now:
                        continue
                    added += await self._plan_occurrence(session, event, start, offsets, now)
        if added:
            log.info("queued %d reminders", added)
            self.services.wake_outbox()
        return added

    def _chosen(
        self, event: Event, start: datetime, offsets: tuple[timedelta, ...], now: datetime
    ) -> list[tuple[timedelta, datetime]]:
        settings = self.services.settings
        due = timing.reminder_times(start, offsets, tz=settings.timezone)
        upcoming = [(o, d) for o, d in due if now < d <= now + self.horizon]
        missed = [(o, d) for o, d in due if d <= now and d >= event.updated_at]
        if missed:
            upcoming.append(max(missed, key=lambda pair: pair[1]))
        quiet = settings.quiet_hours
        early = [
            (o, d)
            for o, d in due
            if d > now + self.horizon
            and timing.apply_quiet_hours(d, quiet, settings.timezone) <= now + self.horizon
        ]
        return upcoming + early

    async def _plan_occurrence(
        self,
        session: Any,
        event: Event,
        start: datetime,
        offsets: tuple[timedelta, ...],
        now: datetime,
    ) -> int:
        chosen = self._chosen(event, start, offsets, now)
        if not chosen:
            return 0
        settings = self.services.settings
        users = await self.events.recipients(session, event)
        channels = self.events.slack_channels(event) if settings.slack_enabled else []
        added = 0
        for offset, due in chosen:
            seconds = int(offset.total_seconds())
            marker = (event.id, event.version, _stamp(start), seconds)
            audience = hash((frozenset(u.id for u in users), tuple(channels)))
            if self._planned.get(marker) == audience:
                continue
            key = f"reminder:{event.id}:{_stamp(start)}:{seconds}"
            volunteer_due = timing.apply_quiet_hours(due, settings.quiet_hours, settings.timezone)
            if volunteer_due < now:
                volunteer_due = after_quiet_hours(now, settings.quiet_hours, settings.timezone)
            rows: list[dict[str, Any]] = []
            replies: dict[Lang, dict[str, Any]] = {}
            for user in users if volunteer_due < start else ():
                lang = user.lang
                if lang not in replies:
                    payload = self.events.reminder_reply(event, start, lang).to_payload()
                    payload["expires_at"] = start.isoformat()
                    replies[lang] = payload
                rows.append(
                    {
                        "dedupe_key": f"{key}:{user.id}",
                        "channel": "telegram",
                        "kind": REMINDER,
                        "recipient": user.platform_id,
                        "payload": replies[lang],
                        "user_id": user.id,
                        "not_before": volunteer_due,
                    }
                )
            for channel in channels:
                rows.append(
                    {
                        "dedupe_key": f"{key}:slack:{channel}",
                        "channel": "slack",
                        "kind": REMINDER,
                        "recipient": channel,
                        "payload": {
                            "op": "post",
                            "text": self.events.reminder_text_for_staff(event, start),
                            "expires_at": start.isoformat(),
                        },
                        "not_before": due,
                    }
                )
            added += await enqueue_many(session, rows, now=now)
            self._planned[marker] = audience
        return added
