"""What staff see at a glance: open questions, coming events, what the FAQ missed, and the
week in figures (Slack's App Home tab and `/sote tilastot`)."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.events import EventService
from handlers.messages import Incoming, Lang, Platform, Reply
from handlers.router import Command, Feature
from handlers.tickets import ACTIVE, TicketDesk
from handlers.tickets import T as TICKET_TEXTS
from schedules import timing
from storage.models import Event, FaqQuestion, Ticket
from storage.repositories import FaqQuestionRepository, MissSummary

WEEKDAYS_FI = ("ma", "ti", "ke", "to", "pe", "la", "su")
BAR_WIDTH = 20


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One day (Helsinki time) of the past week."""

    day: date
    questions: int
    answered: int
    tickets: int
    replied: int


@dataclass(frozen=True, slots=True)
class WeekSummary:
    """The past seven days, today included."""

    days: tuple[DayFigures, ...]
    thumbs_up: int
    thumbs_down: int
    closed: int
    median_reply_hours: float | None  # office hours from question to first staff reply

    @property
    def questions(self) -> int:
        return sum(d.questions for d in self.days)

    @property
    def answered(self) -> int:
        return sum(d.answered for d in self.days)

    @property
    def tickets(self) -> int:
        return sum(d.tickets for d in self.days)


@dataclass(frozen=True, slots=True)
class OpenTicket:
    """A question waiting for staff."""

    number: int
    county: str
    status: str
    claimed_by: str | None
    waited_hours: float | None
    text: str
    channel: str | None
    ts: str | None


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the App Home tab shows."""

    open_tickets: tuple[OpenTicket, ...]
    open_count: int
    events: tuple[tuple[Event, datetime], ...]
    misses: tuple[MissSummary, ...]
    week: WeekSummary
    generated_at: datetime


class StaffOverview:
    """Collects the overview from the database."""

    def __init__(self, desk: TicketDesk, events: EventService) -> None:
        self.desk = desk
        self.events = events

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.desk.services.settings.timezone)

    async def collect(self, tickets: int = 10, events: int = 5, misses: int = 5) -> Overview:
        """A fresh overview, in its own database session."""
        now = self.desk.services.clock.now()
        async with self.desk.services.db.session() as session:
            waiting, count = await self.open_tickets(session, now, tickets)
            coming = await self.events.upcoming(session, None, everywhere=True, limit=events)
            missed = await FaqQuestionRepository(session).misses(limit=misses)
            week = await self.week(session, now)
        return Overview(tuple(waiting), count, tuple(coming), tuple(missed), week, now)

    async def open_tickets(
        self, session: AsyncSession, now: datetime, limit: int
    ) -> tuple[list[OpenTicket], int]:
        """Open questions, the longest-waiting first, and how many there are in all."""
        rows = await session.execute(select(Ticket).where(Ticket.status.in_(ACTIVE)))
        found: list[OpenTicket] = []
        for ticket in rows.scalars():
            waited = None
            if ticket.waiting_since is not None:
                span = timing.office_hours_between(ticket.waiting_since, now, **self.desk._office())
                waited = span.total_seconds() / 3600
            found.append(
                OpenTicket(
                    ticket.id,
                    self.desk.regions.county(ticket.county_code).short_name("fi"),
                    ticket.status,
                    ticket.claimed_by,
                    waited,
                    ticket.text,
                    ticket.slack_channel,
                    ticket.slack_ts,
                )
            )
        # Waiting for staff first (longest first), then those waiting for the volunteer.
        found.sort(key=lambda t: (t.waited_hours is None, -(t.waited_hours or 0.0), t.number))
        return found[:limit], len(found)

    async def week(self, session: AsyncSession, now: datetime) -> WeekSummary:
        """Day by day: questions asked and answered by the FAQ, tickets opened and replied."""
        tz = self.tz
        today = now.astimezone(tz).date()
        first = today - timedelta(days=6)
        since = datetime.combine(first, datetime.min.time(), tz)
        asked: Counter[date] = Counter()
        answered: Counter[date] = Counter()
        up = down = 0
        questions = await session.execute(
            select(FaqQuestion.created_at, FaqQuestion.kind, FaqQuestion.feedback).where(
                FaqQuestion.created_at >= since
            )
        )
        for created, kind, feedback in questions.all():
            day = created.astimezone(tz).date()
            asked[day] += 1
            answered[day] += kind == "answer"
            up += (feedback or 0) > 0
            down += (feedback or 0) < 0
        opened: Counter[date] = Counter()
        replied: Counter[date] = Counter()
        closed = 0
        reply_hours: list[float] = []
        tickets = await session.execute(
            select(Ticket.created_at, Ticket.first_reply_at, Ticket.closed_at).where(
                (Ticket.created_at >= since)
                | (Ticket.first_reply_at >= since)
                | (Ticket.closed_at >= since)
            )
        )
        for opened_at, first_reply, closed_at in tickets.all():
            if opened_at >= since:
                opened[opened_at.astimezone(tz).date()] += 1
            if first_reply is not None and first_reply >= since:
                replied[first_reply.astimezone(tz).date()] += 1
                span = timing.office_hours_between(opened_at, first_reply, **self.desk._office())
                reply_hours.append(span.total_seconds() / 3600)
            if closed_at is not None and closed_at >= since:
                closed += 1
        days = tuple(
            DayFigures(d, asked[d], answered[d], opened[d], replied[d])
            for d in (first + timedelta(days=n) for n in range(7))
        )
        median = statistics.median(reply_hours) if reply_hours else None
        return WeekSummary(days, up, down, closed, median)


def bar(value: int, largest: int, width: int = BAR_WIDTH) -> str:
    """A bar of block characters, `width` long for the largest value; at least one for > 0."""
    if value <= 0 or largest <= 0:
        return ""
    eighths = max(1, round(value / largest * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[rest]


def week_chart(week: WeekSummary) -> str:
    """The week as a monospaced bar chart: questions per day (FAQ-answered in brackets)."""
    largest = max((d.questions for d in week.days), default=0)
    lines = []
    for d in week.days:
        label = f"{WEEKDAYS_FI[d.day.weekday()]} {d.day.day}.{d.day.month}."
        lines.append(
            f"{label:<10}{bar(d.questions, largest):<{BAR_WIDTH + 1}} {d.questions:>3}"
            f" ({d.answered} vastattu, {d.tickets} asiantuntijalle)"
        )
    return "\n".join(lines)


def week_totals(week: WeekSummary) -> str:
    """The week's key figures in one short paragraph."""
    share = f"{round(100 * week.answered / week.questions)} %" if week.questions else "–"
    reply = (
        f"{week.median_reply_hours:.1f} työtuntia".replace(".", ",")
        if week.median_reply_hours is not None
        else "ei vastauksia"
    )
    return (
        f"Kysymyksiä {week.questions}, joista UKK vastasi {share}. "
        f"Asiantuntijalle {week.tickets}, ratkaistu {week.closed}; "
        f"ensimmäinen vastaus mediaanina {reply}. "
        f"Palaute vastauksista: 👍 {week.thumbs_up} · 👎 {week.thumbs_down}."
    )


def build_stats_feature(overview: StaffOverview) -> Feature:
    """`/sote tilastot`: the past week in figures, with a chart."""

    async def stats(msg: Incoming, ctx: Context) -> list[Reply]:
        week = await overview.week(ctx.session, ctx.now)
        text = (
            "*Viikko lukuina* (7 päivää, tänään mukana)\n"
            f"```\n{week_chart(week)}\n```\n{week_totals(week)}"
        )
        return [Reply(text)]

    return Feature(
        name="staff-stats",
        commands=(
            Command(
                "tilastot",
                stats,
                {
                    Lang.FI: "viikon luvut kaaviona",
                    Lang.SV: "veckans siffror som diagram",
                    Lang.EN: "the week in figures, with a chart",
                },
                aliases=("stats", "tilasto"),
            ),
        ),
        platforms=frozenset({Platform.SLACK}),
    )


def status_label(status: str) -> str:
    """The Finnish status shown to staff."""
    return TICKET_TEXTS(f"status.{status}", Lang.FI)
