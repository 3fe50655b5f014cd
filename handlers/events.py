"""Events: staff create and import them, volunteers list them, subscribe and get reminders.

The reminder planning itself (what is due when) lives in `schedules/reminders.py`; this module
holds the events, subscriptions and the texts volunteers read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context, Services
from handlers.experts import ExpertDirectory
from handlers.ical import EventData, occurrences, parse_calendar, stable_uid, to_ics
from handlers.messages import Attachment, Button, Incoming, Lang, Platform, Reply
from handlers.regions import RegionDirectory
from handlers.router import Command, Feature
from handlers.texts import Texts
from schedules import timing
from schedules.outbox import PENDING, enqueue_many
from storage.models import Announcement, Delivery, Event, Subscription, User

PAGE = 5


@dataclass(frozen=True, slots=True)
class Recipient:
    """The few user columns a message needs (rows, not ORM objects: broadcasts are big)."""

    id: int
    platform_id: str
    language: str | None
    platform_language: str | None

    @property
    def lang(self) -> Lang:
        """The language to write in."""
        return Lang.from_code(self.language or self.platform_language)


_RECIPIENT_COLUMNS = (User.id, User.platform_id, User.language, User.platform_language)
CHANGE = "event_change"
REMINDER = "event_reminder"
ANNOUNCEMENT = "announcement"

T = Texts(
    {
        "events.none": {
            Lang.FI: "Tulevia tapahtumia ei ole tiedossa {where}. Tilaa muistutukset komennolla "
            "/tilaa, niin kerron, kun uusia tulee.",
            Lang.SV: "Inga kommande evenemang är kända {where}. Prenumerera med /subscribe så "
            "berättar jag när nya kommer.",
            Lang.EN: "No upcoming events are known {where}. Subscribe with /subscribe and I'll "
            "tell you when new ones come.",
        },
        "events.where_region": {
            Lang.FI: "alueelle {county} eikä valtakunnallisesti",
            Lang.SV: "för {county} eller hela landet",
            Lang.EN: "for {county} or nationally",
        },
        "events.where_national": {
            Lang.FI: "valtakunnallisesti",
            Lang.SV: "på riksnivå",
            Lang.EN: "nationally",
        },
        "events.header": {
            Lang.FI: "Tulevat tapahtumat ({what}):",
            Lang.SV: "Kommande evenemang ({what}):",
            Lang.EN: "Upcoming events ({what}):",
        },
        "events.what_region": {
            Lang.FI: "{county} ja valtakunnalliset",
            Lang.SV: "{county} och riksomfattande",
            Lang.EN: "{county} and national",
        },
        "events.what_national": {
            Lang.FI: "valtakunnalliset; aseta alueesi komennolla /alue",
            Lang.SV: "riksomfattande; välj ditt område med /region",
            Lang.EN: "national; set your region with /region",
        },
        "events.remind_me": {
            Lang.FI: "Muistuta minua",
            Lang.SV: "Påminn mig",
            Lang.EN: "Remind me",
        },
        "events.add_calendar": {
            Lang.FI: "Lisää kalenteriin",
            Lang.SV: "Lägg till i kalendern",
            Lang.EN: "Add to calendar",
        },
        "events.register": {Lang.FI: "Ilmoittaudu", Lang.SV: "Anmäl dig", Lang.EN: "Register"},
        "events.more": {
            Lang.FI: "Lisää tapahtumia ›",
            Lang.SV: "Fler evenemang ›",
            Lang.EN: "More events ›",
        },
        "events.subscribed_event": {
            Lang.FI: "Selvä! Muistutan tapahtumasta ”{title}” ennen sen alkua.",
            Lang.SV: "Klart! Jag påminner om evenemanget ”{title}” innan det börjar.",
            Lang.EN: "Done! I'll remind you about “{title}” before it starts.",
        },
        "events.subscribed_region": {
            Lang.FI: "Tilasit muistutukset alueesi ({county}) ja valtakunnallisista "
            "tapahtumista. Lopeta komennolla /peru.",
            Lang.SV: "Du prenumererar nu på påminnelser om evenemang i {county} och i hela "
            "landet. Sluta med /unsubscribe.",
            Lang.EN: "You now get reminders of events in {county} and national ones. Stop with "
            "/unsubscribe.",
        },
        "events.subscribed_national": {
            Lang.FI: "Tilasit muistutukset valtakunnallisista tapahtumista. Jos asetat alueesi "
            "komennolla /alue, saat myös alueesi tapahtumat. Lopeta komennolla /peru.",
            Lang.SV: "Du prenumererar nu på påminnelser om riksomfattande evenemang. Väljer du "
            "ditt område med /region får du också områdets evenemang. Sluta med /unsubscribe.",
            Lang.EN: "You now get reminders of national events. Set your region with /region to "
            "get your region's events too. Stop with /unsubscribe.",
        },
        "events.already": {
            Lang.FI: "Olet jo tilannut nämä muistutukset.",
            Lang.SV: "Du prenumererar redan på de här påminnelserna.",
            Lang.EN: "You already get these reminders.",
        },
        "events.unsubscribe_choose": {
            Lang.FI: "Mistä muistutuksista haluat luopua?",
            Lang.SV: "Vilka påminnelser vill du sluta få?",
            Lang.EN: "Which reminders do you want to stop?",
        },
        "events.unsubscribe_region": {
            Lang.FI: "Alueen tapahtumat",
            Lang.SV: "Områdets evenemang",
            Lang.EN: "My region's events",
        },
        "events.unsubscribe_all": {
            Lang.FI: "Kaikki muistutukset",
            Lang.SV: "Alla påminnelser",
            Lang.EN: "All reminders",
        },
        "events.no_subscriptions": {
            Lang.FI: "Sinulla ei ole tilattuja muistutuksia.",
            Lang.SV: "Du har inga påminnelser.",
            Lang.EN: "You have no reminders.",
        },
        "events.unsubscribed": {
            Lang.FI: "Selvä, en lähetä niitä muistutuksia enää.",
            Lang.SV: "Okej, jag skickar inte de påminnelserna längre.",
            Lang.EN: "OK, I won't send those reminders any more.",
        },
        "events.reminder": {
            Lang.FI: "⏰ Muistutus: {title}\n📅 {when}",
            Lang.SV: "⏰ Påminnelse: {title}\n📅 {when}",
            Lang.EN: "⏰ Reminder: {title}\n📅 {when}",
        },
        "events.changed": {
            Lang.FI: "📣 Tapahtuman tiedot muuttuivat: {title}\n📅 {when}",
            Lang.SV: "📣 Evenemanget har ändrats: {title}\n📅 {when}",
            Lang.EN: "📣 The event has changed: {title}\n📅 {when}",
        },
        "events.cancelled": {
            Lang.FI: "❌ Tapahtuma on peruttu: {title} ({when})",
            Lang.SV: "❌ Evenemanget är inställt: {title} ({when})",
            Lang.EN: "❌ The event is cancelled: {title} ({when})",
        },
        "events.gone": {
            Lang.FI: "Tapahtumaa ei enää löydy.",
            Lang.SV: "Evenemanget finns inte längre.",
            Lang.EN: "The event is no longer available.",
        },
        "events.announcement": {
            Lang.FI: "📢 Tiedote Järjestöjen sote-muutostuelta:\n\n{text}",
            Lang.SV: "📢 Meddelande från Järjestöjen sote-muutostuki:\n\n{text}",
            Lang.EN: "📢 Announcement from Järjestöjen sote-muutostuki:\n\n{text}",
        },
    }
)

_DAYS = {
    Lang.FI: ("ma", "ti", "ke", "to", "pe", "la", "su"),
    Lang.SV: ("mån", "tis", "ons", "tor", "fre", "lör", "sön"),
    Lang.EN: ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def format_when(start: datetime, end: datetime, all_day: bool, tz: ZoneInfo, lang: Lang) -> str:
    """`to 24.12.2026 klo 18.00–20.00` (fi), `tor 24.12.2026 kl. 18.00–20.00` (sv), English."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    day = _DAYS[lang][local_start.weekday()]
    date_text = f"{local_start.day}.{local_start.month}.{local_start.year}"
    if all_day:
        return f"{day} {date_text}"
    time_format = "%H:%M" if lang is Lang.EN else "%H.%M"
    begins, ends = local_start.strftime(time_format), local_end.strftime(time_format)
    word = {Lang.FI: "klo ", Lang.SV: "kl. "}.get(lang, "")
    if local_end.date() != local_start.date():
        end_date = f"{local_end.day}.{local_end.month}.{local_end.year}"
        return f"{day} {date_text} {word}{begins} – {end_date} {ends}"
    return f"{day} {date_text} {word}{begins}–{ends}"


_DATE_TIME = re.compile(
    r"^\s*(?:(?P<iso>\d{4}-\d{2}-\d{2})|(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{2,4})?)"
    r"(?:\s*(?:klo|kl\.?|at|,)?\s*(?P<h>\d{1,2})(?:[.:](?P<min>\d{2}))?)?\s*$",
    re.IGNORECASE,
)


class EventFormError(ValueError):
    """A field of an event form is not valid; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_local_datetime(text: str, tz: ZoneInfo, now: datetime) -> tuple[datetime, bool]:
    """Parse `24.12.2026 18:00`, `24.12. klo 18`, `2026-12-24 18.30` → (UTC instant, has_time).

    A date without a year is the next such date from `now`; local times follow the RFC 5545
    rule for the daylight-saving gap and overlap (see `handlers.ical`).
    """
    match = _DATE_TIME.match(text)
    if not match:
        raise ValueError(f"{text!r}: use a date like 24.12.2026 18:00")
    if match.group("iso"):
        day = date.fromisoformat(match.group("iso"))
    else:
        year_text = match.group("y")
        local_now = now.astimezone(tz)
        year = int(year_text) if year_text else local_now.year
        if year < 100:
            year += 2000
        day = date(year, int(match.group("m")), int(match.group("d")))
        if not year_text and day < local_now.date():
            day = date(year + 1, day.month, day.day)
    has_time = match.group("h") is not None
    clock = time(int(match.group("h") or 0), int(match.group("min") or 0)) if has_time else time()
    local = datetime.combine(day, clock, tzinfo=tz)
    return timing_resolve(local), has_time


def timing_resolve(local: datetime) -> datetime:
    """A local wall-clock time (maybe in a DST gap or overlap) as a UTC instant.

    `zoneinfo` with fold=0 reads a time in the spring gap with the offset before the gap and
    the first of two repeated autumn times, as RFC 5545 asks.
    """
    return local.astimezone(UTC)


@dataclass
class EventForm:
    """What staff typed in the Slack modal (all strings)."""

    title: str
    start: str
    end: str = ""
    description: str = ""
    location: str = ""
    url: str = ""
    counties: list[str] = field(default_factory=list)
    reminders: str = ""

    def validate(self, tz: ZoneInfo, now: datetime, regions: RegionDirectory) -> EventData:
        """The event this form describes; EventFormError names the first bad field."""
        title = self.title.strip()
        if not title:
            raise EventFormError("title", "Anna tapahtumalle nimi.")
        try:
            start, has_time = parse_local_datetime(self.start, tz, now)
        except ValueError:
            raise EventFormError("start", "Kirjoita alkuaika muodossa 24.12.2026 18:00.") from None
        if start <= now:
            raise EventFormError("start", "Alkuaika on jo mennyt.")
        if self.end.strip():
            try:
                end, _ = parse_local_datetime(self.end, tz, now)
            except ValueError:
                raise EventFormError(
                    "end", "Kirjoita loppuaika muodossa 24.12.2026 20:00."
                ) from None
            if end <= start:
                raise EventFormError("end", "Loppuajan pitää olla alkuajan jälkeen.")
        else:
            end = start + (timedelta(hours=2) if has_time else timedelta(days=1))
        url = self.url.strip()
        if url and not re.match(r"^https?://\S+$", url):
            raise EventFormError("url", "Ilmoittautumislinkin pitää alkaa https://")
        for code in self.counties:
            if not regions.has_county(code) or not regions.county(code).in_reform:
                raise EventFormError("counties", f"Tuntematon hyvinvointialue {code}.")
        if self.reminders.strip():
            try:
                timing.parse_offsets(self.reminders)
            except ValueError:
                raise EventFormError("reminders", "Muistutukset muodossa 7d,1d,2h.") from None
        return EventData(
            uid=stable_uid(title, start),
            title=title[:300],
            description=self.description.strip()[:4000],
            start=start,
            end=end,
            all_day=not has_time,
            location=self.location.strip()[:500],
            url=url[:500],
            counties=tuple(sorted(set(self.counties))),
            rrule=None,
            exdates=(),
            sequence=0,
            cancelled=False,
        )


def to_event_data(event: Event) -> EventData:
    """A stored event in iCalendar terms."""
    return EventData(
        uid=event.uid,
        title=event.title,
        description=event.description,
        start=event.start,
        end=event.end,
        all_day=event.all_day,
        location=event.location,
        url=event.url,
        counties=tuple(event.counties or ()),
        rrule=event.rrule,
        exdates=tuple(datetime.fromisoformat(x) for x in event.exdates or ()),
        sequence=event.sequence,
        cancelled=event.cancelled,
    )


@dataclass
class ImportReport:
    """What an import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0
    notified: int = 0

    def summary(self) -> str:
        """One line for the command line."""
        return (
            f"{self.created} new, {self.updated} updated, {self.cancelled} cancelled, "
            f"{self.unchanged} unchanged; {self.notified} subscribers notified of changes"
        )


def _last_occurrence(data: EventData, tz: str) -> datetime | None:
    """When the series ends (None: it never ends)."""
    if not data.rrule:
        return data.start
    if "COUNT=" not in data.rrule.upper() and "UNTIL=" not in data.rrule.upper():
        return None
    found = occurrences(data, data.start, data.start + timedelta(days=3660), tz)
    return found[-1] if found else data.start


class EventService:
    """Events, subscriptions and the messages about them."""

    def __init__(
        self, services: Services, regions: RegionDirectory, experts: ExpertDirectory
    ) -> None:
        self.services = services
        self.regions = regions
        self.experts = experts

    @property
    def tz(self) -> ZoneInfo:
        """The local time zone."""
        return self.services.settings.tz

    # -- staff: create, import, export -----------------------------------------------------

    async def upsert(
        self, session: AsyncSession, data: EventData, *, source: str, created_by: str | None = None
    ) -> tuple[Event, str]:
        """Create the event or update the one with the same UID; returns (event, what happened)."""
        now = self.services.clock.now()
        existing = (
            await session.execute(select(Event).where(Event.uid == data.uid[:255]))
        ).scalar_one_or_none()
        last = _last_occurrence(data, self.services.settings.timezone)
        values: dict[str, Any] = {
            # Cut to the columns' sizes (PostgreSQL refuses longer); a cut link would be
            # broken, so an over-long one is left out.
            "title": data.title[:300],
            "description": data.description[:4000],
            "start": data.start,
            "end": data.end,
            "all_day": data.all_day,
            "location": data.location[:500],
            "url": data.url if len(data.url) <= 500 else "",
            "counties": list(data.counties),
            "rrule": data.rrule,
            "exdates": [x.isoformat() for x in data.exdates],
            "sequence": data.sequence,
            "cancelled": data.cancelled,
            "last_occurrence": last,
        }
        if existing is None:
            event = Event(
                uid=data.uid[:255],
                source=source,
                created_by=created_by,
                created_at=now,
                updated_at=now,
                version=1,
                **values,
            )
            session.add(event)
            await session.flush()
            return event, "cancelled" if data.cancelled else "created"
        changed = any(getattr(existing, key) != value for key, value in values.items())
        if not changed:
            return existing, "unchanged"
        timing_changed = (
            existing.start != data.start
            or existing.end != data.end
            or existing.rrule != data.rrule
            or existing.location != data.location
        )
        newly_cancelled = data.cancelled and not existing.cancelled
        for key, value in values.items():
            setattr(existing, key, value)
        existing.version += 1
        existing.updated_at = now
        # Reminders already queued carry the old details; the planner queues them afresh.
        await self._drop_pending_reminders(session, existing)
        if newly_cancelled:
            await self.notify_change(session, existing, cancelled=True)
            return existing, "cancelled"
        if timing_changed:
            await self.notify_change(session, existing, cancelled=False)
        return existing, "updated"

    async def import_calendar(self, raw: bytes) -> ImportReport:
        """Read an .ics file and upsert its events by UID."""
        events = parse_calendar(raw, default_tz=self.services.settings.timezone)
        report = ImportReport()
        async with self.services.db.session() as session:
            for data in events:
                _, what = await self.upsert(session, data, source="ical")
                if what == "created":
                    report.created += 1
                elif what == "updated":
                    report.updated += 1
                elif what == "cancelled":
                    report.cancelled += 1
                else:
                    report.unchanged += 1
            report.notified = await self._count_notices(session)
        self.services.wake_outbox()
        return report

    async def _count_notices(self, session: AsyncSession) -> int:
        result = await session.execute(
            select(func.count()).where(Delivery.kind == CHANGE, Delivery.status == PENDING)
        )
        return int(result.scalar_one())

    async def export_calendar(
        self, session: AsyncSession, event_ids: list[int] | None = None
    ) -> bytes:
        """Every (or the given) event as one .ics file."""
        query = select(Event).order_by(Event.start)
        if event_ids is not None:
            query = query.where(Event.id.in_(event_ids))
        events = [to_event_data(e) for e in (await session.execute(query)).scalars()]
        return to_ics(events, tz=self.services.settings.timezone, dtstamp=self.services.clock.now())

    async def upcoming(
        self,
        session: AsyncSession,
        county: str | None,
        *,
        everywhere: bool = False,
        horizon_days: int = 365,
        limit: int = 200,
    ) -> list[tuple[Event, datetime]]:
        """(event, next start) of coming events for a county with national ones (or all)."""
        now = self.services.clock.now()
        query = select(Event).where(
            Event.cancelled.is_(False),
            or_(Event.last_occurrence.is_(None), Event.last_occurrence >= now - timedelta(days=1)),
        )
        found: list[tuple[Event, datetime]] = []
        for event in (await session.execute(query)).scalars():
            counties = list(event.counties or [])
            if counties and not everywhere and (county is None or county not in counties):
                continue
            data = to_event_data(event)
            length = event.end - event.start
            starts = occurrences(
                data,
                now - length,
                now + timedelta(days=horizon_days),
                self.services.settings.timezone,
            )
            upcoming = [s for s in starts if s + length > now]
            if upcoming:
                found.append((event, upcoming[0]))
        found.sort(key=lambda pair: pair[1])
        return found[:limit]

    # -- volunteer texts ----------------------------------------------------------------------

    def describe(self, event: Event, start: datetime, lang: Lang) -> str:
        """An event as volunteers see it in a list."""
        end = start + (event.end - event.start)
        lines = [f"🗓 {event.title}", f"📅 {format_when(start, end, event.all_day, self.tz, lang)}"]
        if event.location:
            lines.append(f"📍 {event.location}")
        if event.counties:
            names = ", ".join(self.regions.county(c).short_name(lang.value) for c in event.counties)
            lines.append(f"🧭 {names}")
        if event.description:
            text = (
                event.description
                if len(event.description) <= 300
                else event.description[:297] + "…"
            )
            lines.append(text)
        return "\n".join(lines)

    def event_buttons(self, event: Event, lang: Lang, remind: bool = True) -> list[list[Button]]:
        """Buttons under an event: remind me, add to calendar, register."""
        row = []
        if remind:
            row.append(Button(T("events.remind_me", lang), payload=f"ev:sub:{event.id}"))
        row.append(Button(T("events.add_calendar", lang), payload=f"ev:ics:{event.id}"))
        rows = [row]
        if event.url:
            rows.append([Button(T("events.register", lang), url=event.url)])
        return rows

    def reminder_reply(self, event: Event, start: datetime, lang: Lang) -> Reply:
        """The reminder message."""
        end = start + (event.end - event.start)
        text = T(
            "events.reminder",
            lang,
            title=event.title,
            when=format_when(start, end, event.all_day, self.tz, lang),
        )
        if event.location:
            text += f"\n📍 {event.location}"
        return Reply.with_buttons(text, *self.event_buttons(event, lang, remind=False))

    def reminder_text_for_staff(self, event: Event, start: datetime) -> str:
        """The reminder as posted to a Slack channel."""
        end = start + (event.end - event.start)
        when = format_when(start, end, event.all_day, self.tz, Lang.FI)
        parts = [f"⏰ Tapahtuma tulossa: *{event.title}* · {when}"]
        if event.location:
            parts.append(f"📍 {event.location}")
        if event.url:
            parts.append(f"Ilmoittautuminen: {event.url}")
        return "\n".join(parts)

    # -- subscribers ----------------------------------------------------------------------------

    def _audience(self, event: Event) -> Any:
        """SQL condition: users who want reminders of this event."""
        counties = list(event.counties or [])
        by_event = and_(Subscription.scope == "event", Subscription.event_id == event.id)
        if counties:
            by_region = and_(Subscription.scope == "region", User.county_code.in_(counties))
        else:
            by_region = Subscription.scope == "region"
        return or_(by_event, by_region)

    async def recipients(self, session: AsyncSession, event: Event) -> list[Recipient]:
        """Telegram users (not blocked) who get this event's reminders, each once."""
        rows = await session.execute(
            select(*_RECIPIENT_COLUMNS)
            .join(Subscription, Subscription.user_id == User.id)
            .where(self._audience(event), User.blocked_at.is_(None), User.platform == "telegram")
            .distinct()
            .order_by(User.id)
        )
        return [Recipient(*row) for row in rows]

    def _region_audience(self, counties: list[str]) -> Any:
        condition = and_(
            Subscription.scope == "region",
            User.blocked_at.is_(None),
            User.platform == "telegram",
        )
        return and_(condition, User.county_code.in_(counties)) if counties else condition

    async def count_region_subscribers(self, session: AsyncSession, counties: list[str]) -> int:
        """How many users an announcement to `counties` (all if empty) would reach."""
        result = await session.execute(
            select(func.count(distinct(User.id)))
            .select_from(User)
            .join(Subscription, Subscription.user_id == User.id)
            .where(self._region_audience(counties))
        )
        return int(result.scalar_one())

    async def region_subscribers(
        self, session: AsyncSession, counties: list[str], *, after: int = 0, limit: int = 1000
    ) -> list[Recipient]:
        """A page of users subscribed to region events in `counties` (all if empty)."""
        rows = await session.execute(
            select(*_RECIPIENT_COLUMNS)
            .join(Subscription, Subscription.user_id == User.id)
            .where(self._region_audience(counties), User.id > after)
            .distinct()
            .order_by(User.id)
            .limit(limit)
        )
        return [Recipient(*row) for row in rows]

    def slack_channels(self, event: Event) -> list[str]:
        """The expert areas' channels for the event's counties, or the coordination channel."""
        counties = list(event.counties or [])
        if not counties:
            coordination = self.services.settings.slack_coordination_channel
            return [coordination] if coordination else []
        channels: list[str] = []
        for code in counties:
            channel = self.experts.area_for_county(code).slack_channel
            if channel not in channels:
                channels.append(channel)
        return channels

    async def notify_change(self, session: AsyncSession, event: Event, *, cancelled: bool) -> int:
        """Tell subscribers that a future event changed or was cancelled."""
        now = self.services.clock.now()
        data = to_event_data(event)
        length = event.end - event.start
        starts = occurrences(data, now, now + timedelta(days=400), self.services.settings.timezone)
        if not starts and not cancelled:
            return 0
        start = starts[0] if starts else event.start
        if start + length < now:
            return 0
        users = await self.recipients(session, event)
        quiet = self.services.settings.quiet_hours
        rows = []
        for user in users:
            lang = user.lang
            key = "events.cancelled" if cancelled else "events.changed"
            text = T(
                key,
                lang,
                title=event.title,
                when=format_when(start, start + length, event.all_day, self.tz, lang),
            )
            reply = (
                Reply(text)
                if cancelled
                else Reply.with_buttons(text, *self.event_buttons(event, lang, remind=False))
            )
            rows.append(
                {
                    "dedupe_key": f"event-change:{event.id}:v{event.version}:{user.id}",
                    "channel": "telegram",
                    "kind": CHANGE,
                    "recipient": user.platform_id,
                    "payload": reply.to_payload(),
                    "user_id": user.id,
                    "not_before": after_quiet_hours(now, quiet, self.services.settings.timezone),
                }
            )
        return await enqueue_many(session, rows, now=now)

    async def _drop_pending_reminders(self, session: AsyncSession, event: Event) -> None:
        # Deleted, not marked skipped: the planner queues them afresh under the same keys.
        await session.execute(
            delete(Delivery).where(
                Delivery.kind == REMINDER,
                Delivery.status == PENDING,
                Delivery.dedupe_key.like(f"reminder:{event.id}:%"),
            )
        )

    async def subscribe(self, session: AsyncSession, user: User, event_id: int | None) -> bool:
        """Subscribe to one event or (None) to the user's region; False if already."""
        scope = "event" if event_id is not None else "region"
        existing = await session.execute(
            select(Subscription.id).where(
                Subscription.user_id == user.id,
                Subscription.scope == scope,
                Subscription.event_id.is_(None)
                if event_id is None
                else Subscription.event_id == event_id,
            )
        )
        if existing.first() is not None:
            return False
        session.add(
            Subscription(
                user_id=user.id,
                scope=scope,
                event_id=event_id,
                created_at=self.services.clock.now(),
            )
        )
        return True

    async def unsubscribe(self, session: AsyncSession, user: User, what: str) -> int:
        """Remove `region`, `all` or an event id's subscription; pending reminders go too
        (deleted, so subscribing again plans them again)."""
        query = delete(Subscription).where(Subscription.user_id == user.id)
        pending = delete(Delivery).where(
            Delivery.user_id == user.id, Delivery.kind == REMINDER, Delivery.status == PENDING
        )
        if what == "region":
            query = query.where(Subscription.scope == "region")
        elif what.isdigit():
            query = query.where(Subscription.scope == "event", Subscription.event_id == int(what))
            pending = pending.where(Delivery.dedupe_key.like(f"reminder:{int(what)}:%"))
        result = await session.execute(query)
        if what in {"all"} or what.isdigit():
            await session.execute(pending)
        elif what == "region":
            await self._drop_region_reminders(session, user)
        return int(getattr(result, "rowcount", 0) or 0)

    async def _drop_region_reminders(self, session: AsyncSession, user: User) -> None:
        event_subs = await session.execute(
            select(Subscription.event_id).where(
                Subscription.user_id == user.id, Subscription.scope == "event"
            )
        )
        keep = {f"reminder:{event_id}:" for event_id in event_subs.scalars()}
        rows = await session.execute(
            select(Delivery).where(
                Delivery.user_id == user.id, Delivery.kind == REMINDER, Delivery.status == PENDING
            )
        )
        for delivery in rows.scalars():
            if not any(delivery.dedupe_key.startswith(prefix) for prefix in keep):
                await session.delete(delivery)

    async def subscriptions(self, session: AsyncSession, user: User) -> list[Subscription]:
        """The user's subscriptions."""
        rows = await session.execute(
            select(Subscription).where(Subscription.user_id == user.id).order_by(Subscription.id)
        )
        return list(rows.scalars())

    # -- announcements ----------------------------------------------------------------------------

    async def announce(
        self, session: AsyncSession, text: str, counties: list[str], announcement_id: int
    ) -> int:
        """Queue an announcement to subscribers of `counties` (all if empty), a page at a
        time so a large broadcast never holds every recipient in memory; returns how many."""
        now = self.services.clock.now()
        not_before = after_quiet_hours(
            now, self.services.settings.quiet_hours, self.services.settings.timezone
        )
        payloads = {
            lang: Reply(T("events.announcement", lang, text=text)).to_payload() for lang in Lang
        }
        queued, last = 0, 0
        while True:
            page = await self.region_subscribers(session, counties, after=last)
            if not page:
                return queued
            queued += await enqueue_many(
                session,
                [
                    {
                        "dedupe_key": f"announcement:{announcement_id}:{user.id}",
                        "channel": "telegram",
                        "kind": ANNOUNCEMENT,
                        "recipient": user.platform_id,
                        "payload": payloads[user.lang],
                        "user_id": user.id,
                        "not_before": not_before,
                    }
                    for user in page
                ],
                now=now,
            )
            last = page[-1].id


def after_quiet_hours(now: datetime, quiet: tuple[time, time] | None, tz: str) -> datetime:
    """`now`, or the end of the quiet hours if `now` falls inside them."""
    if quiet is None:
        return now
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    begin, end = quiet
    clock = local.time()
    inside = begin <= clock < end if begin < end else clock >= begin or clock < end
    if not inside:
        return now
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return timing_resolve(datetime.combine(day, end, tzinfo=zone))


def build_staff_events_feature(service: EventService) -> Feature:
    """`/sote tapahtumat` for staff: what is coming, everywhere."""

    async def list_all(msg: Incoming, ctx: Context) -> list[Reply]:
        rows = await ctx.session.execute(
            select(Event).where(Event.cancelled.is_(False)).order_by(Event.start)
        )
        lines = []
        now = ctx.now
        for event in rows.scalars():
            found = occurrences(
                to_event_data(event),
                now,
                now + timedelta(days=365),
                service.services.settings.timezone,
            )
            if not found:
                continue
            start = found[0]
            where = ", ".join(event.counties or []) or "valtakunnallinen"
            users = len(await service.recipients(ctx.session, event))
            end = start + (event.end - event.start)
            when = format_when(start, end, event.all_day, service.tz, Lang.FI)
            lines.append(f"• #{event.id} *{event.title}* · {when} · {where} · {users} tilaajaa")
        if not lines:
            return [Reply("Ei tulevia tapahtumia. Lisää tapahtuma: `/sote tapahtuma`")]
        return [Reply("*Tulevat tapahtumat*\n" + "\n".join(lines[:40]))]

    async def new_event_hint(msg: Incoming, ctx: Context) -> list[Reply]:
        return [Reply("Tapahtuman lisääminen avaa lomakkeen Slackissa: `/sote tapahtuma`")]

    return Feature(
        name="events-staff",
        commands=(
            Command(
                "tapahtumat",
                list_all,
                {
                    Lang.FI: "tulevat tapahtumat",
                    Lang.SV: "kommande evenemang",
                    Lang.EN: "upcoming events",
                },
                aliases=("events",),
            ),
            Command(
                "tapahtuma",
                new_event_hint,
                {
                    Lang.FI: "lisää tapahtuma (lomake)",
                    Lang.SV: "nytt evenemang",
                    Lang.EN: "new event",
                },
                aliases=("event",),
            ),
            Command(
                "tiedote",
                new_event_hint,
                {
                    Lang.FI: "tiedote tilaajille (lomake)",
                    Lang.SV: "meddelande till prenumeranter",
                    Lang.EN: "announcement to subscribers",
                },
                aliases=("announce",),
            ),
        ),
        platforms=frozenset({Platform.SLACK}),
    )


# What may follow /peru instead of pressing a button.
_UNSUBSCRIBE_WORDS = {
    "kaikki": "all",
    "all": "all",
    "alla": "all",
    "alue": "region",
    "region": "region",
    "regionen": "region",
}


def build_events_feature(service: EventService) -> Feature:
    """`/tapahtumat`, `/tilaa`, `/peru` and the event buttons."""

    async def list_events(msg: Incoming, ctx: Context, page: int = 0) -> list[Reply]:
        county = ctx.user.county_code
        found = await service.upcoming(ctx.session, county)
        lang = ctx.lang
        if county and service.regions.has_county(county):
            name = service.regions.county(county).short_name(lang.value)
            what, where = (
                T("events.what_region", lang, county=name),
                T("events.where_region", lang, county=name),
            )
        else:
            what, where = T("events.what_national", lang), T("events.where_national", lang)
        if not found:
            return [Reply(T("events.none", lang, where=where))]
        shown = found[page * PAGE : (page + 1) * PAGE]
        replies = [Reply(T("events.header", lang, what=what))] if page == 0 else []
        for event, start in shown:
            replies.append(
                Reply.with_buttons(
                    service.describe(event, start, lang), *service.event_buttons(event, lang)
                )
            )
        if len(found) > (page + 1) * PAGE:
            replies.append(
                Reply.with_buttons(
                    "…", [Button(T("events.more", lang), payload=f"ev:page:{page + 1}")]
                )
            )
        return replies

    async def events_command(msg: Incoming, ctx: Context) -> list[Reply]:
        return await list_events(msg, ctx)

    async def subscribe_command(msg: Incoming, ctx: Context) -> list[Reply]:
        added = await service.subscribe(ctx.session, ctx.user, None)
        if not added:
            return [Reply(T("events.already", ctx.lang))]
        ctx.mark_queued()
        county = ctx.user.county_code
        if county and service.regions.has_county(county):
            name = service.regions.county(county).short_name(ctx.lang.value)
            return [Reply(T("events.subscribed_region", ctx.lang, county=name))]
        return [Reply(T("events.subscribed_national", ctx.lang))]

    async def unsubscribe_command(msg: Incoming, ctx: Context) -> list[Reply]:
        subscriptions = await service.subscriptions(ctx.session, ctx.user)
        if not subscriptions:
            return [Reply(T("events.no_subscriptions", ctx.lang))]
        typed = _UNSUBSCRIBE_WORDS.get(msg.args.strip().lower())
        if typed is not None:
            await service.unsubscribe(ctx.session, ctx.user, typed)
            return [Reply(T("events.unsubscribed", ctx.lang))]
        rows: list[list[Button]] = []
        for subscription in subscriptions:
            if subscription.scope == "region":
                rows.append(
                    [Button(T("events.unsubscribe_region", ctx.lang), payload="ev:unsub:region")]
                )
            elif subscription.event_id is not None:
                event = await ctx.session.get(Event, subscription.event_id)
                if event is not None:
                    rows.append([Button(event.title[:60], payload=f"ev:unsub:{event.id}")])
        rows.append([Button(T("events.unsubscribe_all", ctx.lang), payload="ev:unsub:all")])
        return [Reply.with_buttons(T("events.unsubscribe_choose", ctx.lang), *rows)]

    async def on_button(msg: Incoming, ctx: Context) -> list[Reply]:
        assert msg.callback is not None
        parts = msg.callback.split(":")
        action = parts[1] if len(parts) > 1 else ""
        argument = parts[2] if len(parts) > 2 else ""
        if action == "page" and argument.isdigit():
            return await list_events(msg, ctx, int(argument))
        if action == "unsub" and argument:
            await service.unsubscribe(ctx.session, ctx.user, argument)
            return [Reply(T("events.unsubscribed", ctx.lang))]
        if not argument.isdigit():
            return [Reply(T("events.gone", ctx.lang))]
        event = await ctx.session.get(Event, int(argument))
        if event is None:
            return [Reply(T("events.gone", ctx.lang))]
        if action == "sub":
            added = await service.subscribe(ctx.session, ctx.user, event.id)
            ctx.mark_queued()
            key = "events.subscribed_event" if added else "events.already"
            return [Reply(T(key, ctx.lang, title=event.title))]
        if action == "ics":
            body = await service.export_calendar(ctx.session, [event.id])
            name = re.sub(r"[^a-z0-9]+", "-", event.title.lower()).strip("-")[:40] or "tapahtuma"
            return [
                Reply(
                    f"🗓 {event.title}", attachment=Attachment(f"{name}.ics", body, "text/calendar")
                )
            ]
        return [Reply(T("events.gone", ctx.lang))]

    return Feature(
        name="events",
        commands=(
            Command(
                "tapahtumat",
                events_command,
                {
                    Lang.FI: "tulevat tapahtumat",
                    Lang.SV: "kommande evenemang",
                    Lang.EN: "upcoming events",
                },
                aliases=("events",),
            ),
            Command(
                "tilaa",
                subscribe_command,
                {
                    Lang.FI: "tilaa tapahtumamuistutukset",
                    Lang.SV: "prenumerera på påminnelser",
                    Lang.EN: "subscribe to event reminders",
                },
                aliases=("subscribe",),
            ),
            Command(
                "peru",
                unsubscribe_command,
                {
                    Lang.FI: "lopeta muistutukset",
                    Lang.SV: "sluta med påminnelser",
                    Lang.EN: "stop reminders",
                },
                aliases=("unsubscribe",),
            ),
        ),
        callbacks={"ev": on_button},
        platforms=frozenset({Platform.TELEGRAM, Platform.CONSOLE}),
    )


class StaffEvents:
    """What staff do with events and announcements in Slack, independent of Slack."""

    def __init__(self, service: EventService) -> None:
        self.service = service

    async def create(self, form: EventForm, staff_id: str) -> tuple[Event | None, dict[str, str]]:
        """Validate the form and store the event; (event, {}) or (None, {field: error})."""
        services = self.service.services
        try:
            data = form.validate(self.service.tz, services.clock.now(), self.service.regions)
        except EventFormError as err:
            return None, {err.field: str(err)}
        async with services.db.session() as session:
            event, _ = await self.service.upsert(session, data, source="slack", created_by=staff_id)
            if form.reminders.strip():
                event.reminder_offsets = form.reminders.strip()
        services.wake_outbox()
        return event, {}

    async def draft_announcement(
        self, text: str, counties: list[str], staff_id: str
    ) -> tuple[int, int] | str:
        """Store a draft; returns (draft id, recipient count) or an error message."""
        body = text.strip()
        if not body:
            return "Kirjoita tiedotteen teksti."
        if len(body) > 3500:
            return "Tiedote on liian pitkä (enintään 3500 merkkiä)."
        services = self.service.services
        async with services.db.session() as session:
            recipients = await self.service.count_region_subscribers(session, counties)
            draft = Announcement(
                text=body,
                counties=sorted(set(counties)),
                created_by=staff_id,
                recipients=recipients,
                status="draft",
                created_at=services.clock.now(),
            )
            session.add(draft)
            await session.flush()
            return draft.id, recipients

    async def send_announcement(self, announcement_id: int) -> int:
        """Queue a confirmed draft to its recipients (once); returns how many were queued."""
        services = self.service.services
        async with services.db.session() as session:
            draft = await session.get(Announcement, announcement_id)
            if draft is None or draft.status == "sent":
                return 0
            queued = await self.service.announce(
                session, draft.text, list(draft.counties or []), draft.id
            )
            draft.status = "sent"
            draft.recipients = queued
            draft.sent_at = services.clock.now()
        services.wake_outbox()
        return queued

    def county_options(self) -> list[tuple[str, str]]:
        """(code, name) of every county in the reform, for a picker."""
        return [(c.code, c.short_name("fi")) for c in self.service.regions.reform_counties()]
