"""Questions to regional experts: a ticket per question, relayed between the volunteer's
chat and a thread in the expert area's Slack channel.

Everything that leaves the bot goes through the outbox (`schedules.outbox`), so a restart,
a 429 or a timeout loses nothing; Slack events are acted on once (`processed_events`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context, Services
from handlers.experts import ExpertArea, ExpertDirectory
from handlers.messages import Button, Incoming, Lang, Platform, Reply
from handlers.region_profile import RegionProfile, county_label
from handlers.regions import RegionDirectory, RegionStatus
from handlers.router import Command, Feature
from handlers.states import ConvState
from handlers.texts import Texts
from schedules import timing
from schedules.outbox import SENDING, DeliveryError, RecipientBlocked, enqueue
from storage.models import (
    Delivery,
    FaqDraft,
    FaqQuestion,
    ProcessedEvent,
    Ticket,
    TicketMessage,
    User,
)

log = logging.getLogger(__name__)


class TicketStatus(StrEnum):
    """Where a ticket is in its life."""

    OPEN = "open"
    CLAIMED = "claimed"
    ANSWERED = "answered"
    CLOSED = "closed"


ACTIVE = (TicketStatus.OPEN, TicketStatus.CLAIMED, TicketStatus.ANSWERED)

# Outbox kinds.
CARD = "ticket_card"
CARD_UPDATE = "ticket_card_update"
THREAD = "ticket_thread"
REACTION = "ticket_reaction"
TO_VOLUNTEER = "ticket_to_volunteer"
ESCALATION = "ticket_escalation"


def mrkdwn_escape(text: str) -> str:
    """Volunteer-written text made safe for Slack mrkdwn: no mentions, links or broadcasts."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# What a Slack card shows once the volunteer has erased their data.
ERASED = "[poistettu]"


def _started_lately(thread_ts: str) -> bool:
    """Whether a Slack thread was started in the last minute (its ts is a Unix time)."""
    try:
        return time.time() - float(thread_ts) <= 60
    except ValueError:
        return False


class CardNotRecordedYet(Exception):
    """A thread reply arrived while its ticket card was still being recorded; Slack's retry
    of the event will find it."""


T = Texts(
    {
        "ticket.ask_text": {
            Lang.FI: "Kirjoita kysymyksesi asiantuntijalle yhteen viestiin. Kerro myös "
            "yhdistyksestäsi sen verran kuin haluat.",
            Lang.SV: "Skriv din fråga till experten i ett meddelande. Berätta gärna så mycket "
            "om din förening som du vill.",
            Lang.EN: "Write your question to the expert in one message. Tell as much about "
            "your association as you like.",
        },
        "ticket.need_region": {
            Lang.FI: "Mille alueelle kysymys kuuluu? Asiantuntija valitaan hyvinvointialueen "
            "mukaan.",
            Lang.SV: "Vilket område gäller frågan? Experten väljs enligt välfärdsområde.",
            Lang.EN: "Which region is your question about? The expert is chosen by wellbeing "
            "services county.",
        },
        "ticket.preview": {
            Lang.FI: "Asiantuntija ({area}) näkee tämän:\n\n👤 {name}\n📍 {county}\n💬 {text}\n\n"
            "Puhelinnumeroasi tai Telegram-tunnustasi ei näytetä. Lähetetäänkö?",
            Lang.SV: "Experten ({area}) ser det här:\n\n👤 {name}\n📍 {county}\n💬 {text}\n\n"
            "Ditt telefonnummer eller Telegram-id visas inte. Ska jag skicka?",
            Lang.EN: "The expert ({area}) will see this:\n\n👤 {name}\n📍 {county}\n💬 {text}\n\n"
            "Your phone number and Telegram id are not shown. Send it?",
        },
        "ticket.send": {Lang.FI: "Lähetä", Lang.SV: "Skicka", Lang.EN: "Send"},
        "ticket.send_anonymous": {
            Lang.FI: "Lähetä ilman nimeä",
            Lang.SV: "Skicka utan namn",
            Lang.EN: "Send without my name",
        },
        "ticket.change_region": {
            Lang.FI: "Vaihda alue",
            Lang.SV: "Byt område",
            Lang.EN: "Change region",
        },
        "ticket.cancel": {Lang.FI: "Peruuta", Lang.SV: "Avbryt", Lang.EN: "Cancel"},
        "ticket.cancelled": {
            Lang.FI: "Selvä, kysymystä ei lähetetty.",
            Lang.SV: "Okej, frågan skickades inte.",
            Lang.EN: "OK, the question was not sent.",
        },
        "ticket.anonymous_name": {
            Lang.FI: "Vapaaehtoinen (nimetön)",
            Lang.SV: "Volontär (anonym)",
            Lang.EN: "Volunteer (anonymous)",
        },
        "ticket.created": {
            Lang.FI: "Kiitos! Kysymyksesi #{number} on välitetty alueen {area} "
            "järjestöasiantuntijalle. {expectation}\n\nVastaus tulee tähän keskusteluun. Jos "
            "haluat lisätä jotain, kirjoita vain, niin välitän sen samaan kysymykseen.",
            Lang.SV: "Tack! Din fråga #{number} har skickats till organisationsexperten för "
            "{area}. {expectation}\n\nSvaret kommer i den här chatten. Vill du lägga till "
            "något, skriv bara så skickar jag det till samma fråga.",
            Lang.EN: "Thank you! Your question #{number} has been passed to the expert for "
            "{area}. {expectation}\n\nThe answer will arrive in this chat. To add something, "
            "just write and I'll add it to the same question.",
        },
        "ticket.not_delivered": {
            Lang.FI: "Valitettavasti kysymyksesi #{number} ei teknisen vian vuoksi mennyt "
            "perille asiantuntijoille. Ylläpito on saanut tiedon viasta. Voit lähettää "
            "kysymyksen uudelleen myöhemmin komennolla /kysy – pahoittelemme vaivaa!",
            Lang.SV: "Tyvärr nådde din fråga #{number} inte experterna på grund av ett tekniskt "
            "fel. Administratörerna har fått veta om felet. Du kan skicka frågan på nytt senare "
            "med /ask – vi beklagar besväret!",
            Lang.EN: "Sorry, a technical fault kept your question #{number} from reaching the "
            "experts. The administrators have been told. You can send it again later with /ask "
            "– apologies for the trouble!",
        },
        "ticket.already_sent": {
            Lang.FI: "Kysymyksesi #{number} on jo lähetetty. Jos haluat lisätä jotain, kirjoita "
            "vain, niin välitän sen samaan kysymykseen.",
            Lang.SV: "Din fråga #{number} har redan skickats. Vill du lägga till något, skriv "
            "bara så skickar jag det till samma fråga.",
            Lang.EN: "Your question #{number} has already been sent. To add something, just "
            "write and I'll add it to the same question.",
        },
        "ticket.expect_office": {
            Lang.FI: "Asiantuntijat vastaavat arkisin klo 8–16, yleensä saman työpäivän aikana.",
            Lang.SV: "Experterna svarar vardagar kl. 8–16, oftast samma arbetsdag.",
            Lang.EN: "The experts answer on weekdays 8–16, usually within the same working day.",
        },
        "ticket.expect_later": {
            Lang.FI: "Nyt on virka-ajan ulkopuolella, joten vastausta voi odottaa aikaisintaan "
            "{when}.",
            Lang.SV: "Det är utanför kontorstid, så du kan vänta dig ett svar tidigast {when}.",
            Lang.EN: "It is outside office hours, so expect a reply at the earliest {when}.",
        },
        "ticket.follow_up_sent": {
            Lang.FI: "✓ Välitetty asiantuntijalle (kysymys #{number}).",
            Lang.SV: "✓ Skickat till experten (fråga #{number}).",
            Lang.EN: "✓ Passed to the expert (question #{number}).",
        },
        "ticket.stop_chat": {
            Lang.FI: "Lopeta ja kysy botilta",
            Lang.SV: "Sluta och fråga boten",
            Lang.EN: "Stop and ask the bot",
        },
        "ticket.chat_stopped": {
            Lang.FI: "Selvä. Kysymys #{number} pysyy avoinna, ja asiantuntijan vastaus tulee "
            "tänne. Nyt vastaan itse kysymyksiisi.",
            Lang.SV: "Okej. Fråga #{number} förblir öppen och expertens svar kommer hit. Nu "
            "svarar jag själv på dina frågor.",
            Lang.EN: "OK. Question #{number} stays open and the expert's answer will come "
            "here. Now I'll answer your questions myself.",
        },
        "ticket.reply": {
            Lang.FI: "💬 Vastaus kysymykseesi #{number} ({who}):\n\n{text}\n\nVoit vastata "
            "kirjoittamalla tähän.",
            Lang.SV: "💬 Svar på din fråga #{number} ({who}):\n\n{text}\n\nDu kan svara genom "
            "att skriva här.",
            Lang.EN: "💬 Reply to your question #{number} ({who}):\n\n{text}\n\nYou can answer "
            "by writing here.",
        },
        "ticket.files_not_relayed": {
            Lang.FI: "(Asiantuntija liitti Slackissa tiedoston, jota en pysty välittämään tänne: "
            "{names}. Pyydä sitä tarvittaessa vastaamalla tähän.)",
            Lang.SV: "(Experten bifogade en fil i Slack som jag inte kan skicka vidare hit: "
            "{names}. Be om den vid behov genom att svara här.)",
            Lang.EN: "(The expert attached a file in Slack that I can't pass on here: {names}. "
            "Reply here to ask for it if you need it.)",
        },
        "ticket.closed": {
            Lang.FI: "Asiantuntija merkitsi kysymyksesi #{number} ratkaistuksi. Oliko "
            "vastauksesta apua?",
            Lang.SV: "Experten markerade din fråga #{number} som löst. Var svaret till hjälp?",
            Lang.EN: "The expert marked your question #{number} as resolved. Was the answer "
            "helpful?",
        },
        "ticket.moved": {
            Lang.FI: "Kysymyksesi #{number} siirrettiin alueen {area} asiantuntijalle.",
            Lang.SV: "Din fråga #{number} flyttades till experten för {area}.",
            Lang.EN: "Your question #{number} was moved to the expert for {area}.",
        },
        "ticket.thanks": {
            Lang.FI: "Kiitos palautteesta! 🙏",
            Lang.SV: "Tack för responsen! 🙏",
            Lang.EN: "Thanks for the feedback! 🙏",
        },
        "ticket.none": {
            Lang.FI: "Sinulla ei ole kysymyksiä asiantuntijoille. Kysy komennolla /kysy.",
            Lang.SV: "Du har inga frågor till experterna. Fråga med /ask.",
            Lang.EN: "You have no questions to the experts. Ask with /ask.",
        },
        "ticket.status_header": {
            Lang.FI: "Kysymyksesi asiantuntijoille:",
            Lang.SV: "Dina frågor till experterna:",
            Lang.EN: "Your questions to the experts:",
        },
        "ticket.status_line": {
            Lang.FI: "#{number} · {area} · {status} · lähetetty {sent}\n   “{text}”",
            Lang.SV: "#{number} · {area} · {status} · skickad {sent}\n   “{text}”",
            Lang.EN: "#{number} · {area} · {status} · sent {sent}\n   “{text}”",
        },
        "status.open": {
            Lang.FI: "odottaa vastausta",
            Lang.SV: "väntar på svar",
            Lang.EN: "waiting for a reply",
        },
        "status.claimed": {
            Lang.FI: "asiantuntija käsittelee",
            Lang.SV: "experten behandlar",
            Lang.EN: "an expert is on it",
        },
        "status.answered": {Lang.FI: "vastattu", Lang.SV: "besvarad", Lang.EN: "answered"},
        "status.closed": {Lang.FI: "ratkaistu", Lang.SV: "löst", Lang.EN: "resolved"},
        "ticket.unavailable": {
            Lang.FI: "Kysymysten välitys asiantuntijoille ei ole käytössä tässä asennuksessa. "
            "Kysy minulta, niin yritän vastata.",
            Lang.SV: "Att skicka frågor till experter är inte i bruk i den här installationen. "
            "Fråga mig så försöker jag svara.",
            Lang.EN: "Passing questions to experts is not enabled in this installation. Ask "
            "me and I'll try to answer.",
        },
    }
)

_WEEKDAYS = {
    Lang.FI: ("maanantaina", "tiistaina", "keskiviikkona", "torstaina", "perjantaina",
              "lauantaina", "sunnuntaina"),
    Lang.SV: ("på måndag", "på tisdag", "på onsdag", "på torsdag", "på fredag",
              "på lördag", "på söndag"),
    Lang.EN: ("on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday",
              "on Saturday", "on Sunday"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class StaffMessage:
    """A message staff wrote in Slack, translated by the adapter."""

    event_id: str
    channel: str
    thread_ts: str | None
    ts: str
    user_id: str
    text: str
    user_name: str | None = None
    files: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StaffAction:
    """A button staff pressed on a ticket card."""

    action: str
    ticket_id: int
    user_id: str
    user_name: str | None = None
    area_id: str | None = None


def local_time(moment: datetime, services: Services) -> datetime:
    """A UTC instant in the configured local time zone."""
    return moment.astimezone(services.settings.tz)


def short_time(moment: datetime, services: Services) -> str:
    """`22.11. klo 14.05` style local time."""
    local = local_time(moment, services)
    return f"{local.day}.{local.month}. {local.hour:02d}.{local.minute:02d}"


class TicketDesk:
    """Creates tickets, relays messages both ways, and escalates unanswered ones."""

    def __init__(
        self,
        services: Services,
        regions: RegionDirectory,
        experts: ExpertDirectory,
        profile: RegionProfile,
    ) -> None:
        self.services = services
        self.regions = regions
        self.experts = experts
        self.profile = profile
        self._holidays = timing.finnish_holidays()

    # -- time ------------------------------------------------------------------------------

    def _office(self) -> dict[str, Any]:
        return {"tz": self.services.settings.timezone, "holidays": self._holidays}

    def expectation(self, now: datetime, lang: Lang) -> str:
        """What to tell the volunteer about when to expect a reply."""
        start = timing.next_office_time(now, **self._office())
        if start <= now:
            return T("ticket.expect_office", lang)
        local = local_time(start, self.services)
        day = f"{_WEEKDAYS[lang][local.weekday()]} {local.day}.{local.month}."
        hour = {Lang.FI: f"klo {local.hour}", Lang.SV: f"kl. {local.hour}"}.get(
            lang, f"at {local.hour}:00"
        )
        return T("ticket.expect_later", lang, when=f"{day} {hour}")

    # -- volunteer side ----------------------------------------------------------------------

    def available(self) -> bool:
        """Whether tickets can reach Slack in this installation."""
        return self.services.settings.slack_enabled

    async def begin(
        self, ctx: Context, text: str, faq_question_id: int | None = None
    ) -> list[Reply]:
        """Start "ask an expert": get the text, then the region, then confirmation."""
        if not self.available():
            return [Reply(T("ticket.unavailable", ctx.lang))]
        text = text.strip()
        data: dict[str, Any] = {"faq_question_id": faq_question_id}
        if not text:
            ctx.user.state, ctx.user.state_data = ConvState.ASK_TEXT, data
            return [Reply(T("ticket.ask_text", ctx.lang))]
        data["text"] = text[:4000]
        return await self._region_step(ctx, data)

    async def _region_step(self, ctx: Context, data: dict[str, Any]) -> list[Reply]:
        text = str(data.get("text", ""))
        found = self.regions.resolve(text)
        saved = ctx.user.county_code
        resolved = found.status is RegionStatus.RESOLVED and found.county is not None
        if resolved and found.county is not None and found.county.code != saved:
            ctx.user.state, ctx.user.state_data = ConvState.ASK_REGION, data
            return self.profile.propose(ctx, found)
        if saved and self.regions.has_county(saved):
            return self._preview(ctx, data)
        ctx.user.state, ctx.user.state_data = ConvState.ASK_REGION, data
        if found.status is RegionStatus.AMBIGUOUS:
            return self.profile.propose(ctx, found)
        return self.profile.menu(ctx, T("ticket.need_region", ctx.lang))

    async def after_region(self, ctx: Context) -> list[Reply]:
        """Continue a pending question once the region is saved."""
        if ctx.user.state != ConvState.ASK_REGION or "text" not in (ctx.user.state_data or {}):
            if ctx.user.state == ConvState.ASK_REGION:
                ctx.user.state, ctx.user.state_data = None, {}
            return []
        return self._preview(ctx, dict(ctx.user.state_data))

    def _preview(self, ctx: Context, data: dict[str, Any]) -> list[Reply]:
        county = self.regions.county(str(ctx.user.county_code))
        area = self.experts.area_for_county(county.code)
        ctx.user.state, ctx.user.state_data = ConvState.ASK_CONFIRM, data
        lang = ctx.lang
        name = ctx.user.first_name or T("ticket.anonymous_name", lang)
        preview = T(
            "ticket.preview",
            lang,
            area=area.name(lang.value),
            name=name,
            county=county_label(county, lang),
            text=str(data["text"]),
        )
        return [
            Reply.with_buttons(
                preview,
                [Button(T("ticket.send", lang), payload="tk:send")],
                [Button(T("ticket.send_anonymous", lang), payload="tk:anon")],
                [
                    Button(T("ticket.change_region", lang), payload="rg:menu"),
                    Button(T("ticket.cancel", lang), payload="tk:cancel"),
                ],
            )
        ]

    async def confirm(self, ctx: Context, anonymous: bool) -> list[Reply]:
        """Create the ticket and queue its card for the area's Slack channel."""
        data = dict(ctx.user.state_data or {})
        if ctx.user.state == ConvState.TICKET_CHAT and "ticket_id" in data:
            # "Lähetä" pressed twice: the question has already gone.
            return [Reply(T("ticket.already_sent", ctx.lang, number=data["ticket_id"]))]
        if (
            ctx.user.state != ConvState.ASK_CONFIRM
            or "text" not in data
            or not ctx.user.county_code
        ):
            return [Reply(T("ticket.cancelled", ctx.lang))]
        county = self.regions.county(ctx.user.county_code)
        area = self.experts.area_for_county(county.code)
        lang = ctx.lang
        ticket = Ticket(
            user_id=ctx.user.id,
            status=TicketStatus.OPEN,
            county_code=county.code,
            area_id=area.id,
            lang=lang.value,
            text=str(data["text"]),
            display_name=(
                T("ticket.anonymous_name", Lang.FI)
                if anonymous or not ctx.user.first_name
                else ctx.user.first_name
            ),
            escalation_level=0,
            waiting_since=ctx.now,
            faq_question_id=data.get("faq_question_id"),
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        ctx.session.add(ticket)
        await ctx.session.flush()
        ctx.session.add(
            TicketMessage(
                ticket_id=ticket.id,
                direction="volunteer",
                author=None,
                text=ticket.text,
                created_at=ctx.now,
            )
        )
        await self._queue_card(ctx.session, ticket, area, ctx.now)
        ctx.mark_queued()
        ctx.user.state, ctx.user.state_data = ConvState.TICKET_CHAT, {"ticket_id": ticket.id}
        created = T(
            "ticket.created",
            lang,
            number=ticket.id,
            area=area.name(lang.value),
            expectation=self.expectation(ctx.now, lang),
        )
        return [Reply(created)]

    async def follow_up(self, ctx: Context, text: str) -> list[Reply]:
        """A volunteer's message while their ticket is open goes to the same thread."""
        ticket_id = int((ctx.user.state_data or {}).get("ticket_id", 0))
        # The card may be posted at this very moment (card_posted). Locking the ticket row
        # (PostgreSQL) and reading it again once this transaction writes (SQLite, whose
        # writers take turns) means either we see the card's thread, or card_posted sees
        # this message: it is relayed either way.
        ticket = await ctx.session.get(
            Ticket, ticket_id, with_for_update=True, populate_existing=True
        )
        if ticket is None or ticket.user_id != ctx.user.id or ticket.status == TicketStatus.CLOSED:
            ctx.user.state, ctx.user.state_data = None, {}
            return []
        message = TicketMessage(
            ticket_id=ticket.id,
            direction="volunteer",
            author=None,
            text=text[:8000],
            created_at=ctx.now,
        )
        ctx.session.add(message)
        await ctx.session.flush()
        await ctx.session.refresh(ticket)
        reopened = ticket.status == TicketStatus.ANSWERED
        if reopened:
            ticket.status = TicketStatus.OPEN
        if ticket.waiting_since is None:
            ticket.waiting_since = ctx.now
        ticket.updated_at = ctx.now
        if ticket.slack_ts is not None:
            await self._queue_volunteer_message(ctx.session, ticket, message, ctx.now)
            if reopened:
                await self._queue_card_update(ctx.session, ticket, ctx.now)  # 🟡 again
            ctx.mark_queued()
        return [
            Reply.with_buttons(
                T("ticket.follow_up_sent", ctx.lang, number=ticket.id),
                [Button(T("ticket.stop_chat", ctx.lang), payload=f"tk:stop:{ticket.id}")],
            )
        ]

    async def status(self, ctx: Context) -> list[Reply]:
        """The volunteer's tickets, newest first."""
        rows = await ctx.session.execute(
            select(Ticket).where(Ticket.user_id == ctx.user.id).order_by(Ticket.id.desc()).limit(10)
        )
        tickets = list(rows.scalars())
        if not tickets:
            return [Reply(T("ticket.none", ctx.lang))]
        lines = [T("ticket.status_header", ctx.lang)]
        for ticket in tickets:
            area = self.experts.area(ticket.area_id) if self._has_area(ticket.area_id) else None
            text = ticket.text if len(ticket.text) <= 80 else ticket.text[:77] + "…"
            lines.append(
                T(
                    "ticket.status_line",
                    ctx.lang,
                    number=ticket.id,
                    area=area.name(ctx.lang.value) if area else ticket.area_id,
                    status=T(f"status.{ticket.status}", ctx.lang),
                    sent=short_time(ticket.created_at, self.services),
                    text=text,
                )
            )
        return [Reply("\n\n".join(lines))]

    def _has_area(self, area_id: str) -> bool:
        return any(area.id == area_id for area in self.experts.areas)

    # -- outbox payloads ---------------------------------------------------------------------

    def _card(self, ticket: Ticket, area: ExpertArea) -> dict[str, Any]:
        county = self.regions.county(ticket.county_code)
        return {
            "id": ticket.id,
            "county": county.short_name("fi"),
            "area": area.name("fi"),
            "lang": ticket.lang,
            "text": ticket.text,
            "who": ticket.display_name,
            "status": str(ticket.status),
            "claimed_by": ticket.claimed_by,
            "created": short_time(ticket.created_at, self.services),
            "areas": [[a.id, a.name("fi")] for a in self.experts.areas if a.id != area.id],
        }

    async def _queue_card(
        self,
        session: AsyncSession,
        ticket: Ticket,
        area: ExpertArea,
        now: datetime,
        moved_from: dict[str, str] | None = None,
    ) -> None:
        payload: dict[str, Any] = {"op": "ticket_card", "ticket": self._card(ticket, area)}
        if moved_from:
            payload["moved_from"] = moved_from
        await enqueue(
            session,
            dedupe_key=f"card:{ticket.id}:{area.id}:{ticket.updated_at.isoformat()}",
            channel="slack",
            kind=CARD,
            recipient=area.slack_channel,
            payload=payload,
            now=now,
            ticket_id=ticket.id,
        )

    async def _queue_card_update(
        self,
        session: AsyncSession,
        ticket: Ticket,
        now: datetime,
        *,
        erased: bool = False,
    ) -> None:
        """Redraw the ticket's card; `erased` blanks the volunteer's words and queues the
        update unlinked from the ticket, so it outlives the ticket's deletion."""
        if ticket.slack_ts is None or ticket.slack_channel is None:
            return
        card = self._card(ticket, self.experts.area(ticket.area_id))
        key = f"card-update:{ticket.id}:{ticket.status}:{ticket.claimed_by}:{now.isoformat()}"
        if erased:
            card.update(text=ERASED, who=ERASED, status=str(TicketStatus.CLOSED))
            key = f"erase-card:{ticket.id}"
        await enqueue(
            session,
            dedupe_key=key,
            channel="slack",
            kind=CARD_UPDATE,
            recipient=ticket.slack_channel,
            payload={"op": "ticket_card_update", "ts": ticket.slack_ts, "ticket": card},
            now=now,
            ticket_id=None if erased else ticket.id,
        )

    async def _queue_thread(
        self,
        session: AsyncSession,
        ticket: Ticket,
        key: str,
        text: str,
        now: datetime,
        kind: str = THREAD,
        *,
        linked: bool = True,
    ) -> None:
        if ticket.slack_ts is None or ticket.slack_channel is None:
            return
        await enqueue(
            session,
            dedupe_key=key,
            channel="slack",
            kind=kind,
            recipient=ticket.slack_channel,
            payload={"op": "post", "thread_ts": ticket.slack_ts, "text": text},
            now=now,
            ticket_id=ticket.id if linked else None,
        )

    async def _queue_volunteer_message(
        self, session: AsyncSession, ticket: Ticket, message: TicketMessage, now: datetime
    ) -> None:
        await self._queue_thread(
            session,
            ticket,
            f"volunteer:{message.id}",
            f"*{mrkdwn_escape(ticket.display_name)}* (#{ticket.id}): {mrkdwn_escape(message.text)}",
            now,
        )

    async def _queue_to_volunteer(
        self,
        session: AsyncSession,
        ticket: Ticket,
        key: str,
        reply: Reply,
        now: datetime,
        extra: dict[str, Any] | None = None,
    ) -> None:
        user = await session.get(User, ticket.user_id)
        if user is None:
            return
        payload = reply.to_payload()
        payload.update(extra or {})
        await enqueue(
            session,
            dedupe_key=key,
            channel=user.platform,
            kind=TO_VOLUNTEER,
            recipient=user.platform_id,
            payload=payload,
            now=now,
            user_id=user.id,
            ticket_id=ticket.id,
        )

    # -- erasure ---------------------------------------------------------------------------------

    async def forget_user(self, session: AsyncSession, user: User, now: datetime) -> None:
        """Before a volunteer's data is erased (/poista): drop FAQ drafts made from their
        tickets and blank their question on every Slack card. The Slack messages are queued
        without user or ticket so they survive the cascade that deletes both."""
        tickets = list(
            (await session.execute(select(Ticket).where(Ticket.user_id == user.id))).scalars()
        )
        if not tickets:
            return
        await session.execute(
            delete(FaqDraft).where(FaqDraft.ticket_id.in_([t.id for t in tickets]))
        )
        for ticket in tickets:
            await self._queue_card_update(session, ticket, now, erased=True)
            await self._queue_thread(
                session,
                ticket,
                f"erase-note:{ticket.id}",
                f"Kysyjä poisti tietonsa botista, joten kysymys #{ticket.id} on suljettu eikä "
                "ketjuun kirjoitettuja viestejä enää välitetä. Poistakaa ketjusta myös kysyjän "
                "henkilötiedot, jos niitä on.",
                now,
                linked=False,
            )

    # -- staff side ----------------------------------------------------------------------------

    async def _first_time(self, session: AsyncSession, event_id: str, now: datetime) -> bool:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        result = await session.execute(
            insert(ProcessedEvent)
            .values(event_id=event_id[:64], received_at=now)
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        return bool(getattr(result, "rowcount", 0))

    async def _ticket_for_thread(
        self, session: AsyncSession, channel: str, thread_ts: str
    ) -> Ticket | None:
        row = await session.execute(
            select(Ticket)
            .join(TicketMessage, TicketMessage.ticket_id == Ticket.id)
            .where(
                TicketMessage.direction == "card",
                TicketMessage.slack_ts == thread_ts,
                TicketMessage.author == channel,
            )
            .limit(1)
        )
        return row.scalar_one_or_none()

    async def _card_in_flight(self, session: AsyncSession, channel: str) -> bool:
        """Whether a ticket card to `channel` is being posted right now."""
        found = await session.scalar(
            select(Delivery.id)
            .where(
                Delivery.kind == CARD,
                Delivery.recipient == channel,
                Delivery.status == SENDING,
            )
            .limit(1)
        )
        return found is not None

    async def _wait_for_card(self, channel: str, thread_ts: str) -> None:
        """A reply can race the recording of a card posted a moment ago: give it a few seconds.

        Only threads started in the last minute are waited for, so ordinary threads in the
        channel cost nothing.
        """
        if not _started_lately(thread_ts):
            return
        for delay in (0.1, 0.2, 0.4, 0.8, 1.5):
            async with self.services.db.session() as session:
                if await self._ticket_for_thread(session, channel, thread_ts) is not None:
                    return
            await asyncio.sleep(delay)

    def is_internal_note(self, text: str) -> bool:
        """Whether a thread message is an internal note that must never reach the volunteer."""
        lowered = text.strip().lower()
        return any(lowered.startswith(p) for p in self.services.settings.internal_note_prefixes)

    async def on_staff_message(self, msg: StaffMessage) -> bool:
        """Handle a message in a ticket thread; True if it will be relayed to the volunteer."""
        if not msg.thread_ts or msg.thread_ts == msg.ts:
            return False
        if not msg.text.strip() and not msg.files:
            return False
        now = self.services.clock.now()
        relayed = False
        await self._wait_for_card(msg.channel, msg.thread_ts)
        async with self.services.db.session() as session:
            if not await self._first_time(session, msg.event_id, now):
                return False
            ticket = await self._ticket_for_thread(session, msg.channel, msg.thread_ts)
            if ticket is None:
                if _started_lately(msg.thread_ts) and await self._card_in_flight(
                    session, msg.channel
                ):
                    # Perhaps this very card, posted but not yet recorded: fail the event
                    # (rolling back its "processed" mark) so that Slack delivers it again.
                    raise CardNotRecordedYet(f"{msg.channel}:{msg.thread_ts}")
                return False
            note = self.is_internal_note(msg.text)
            message = TicketMessage(
                ticket_id=ticket.id,
                direction="note" if note else "staff",
                author=msg.user_id,
                text=(msg.text + "".join(f"\n[liite: {name}]" for name in msg.files)).strip()[
                    :8000
                ],
                slack_ts=msg.ts,
                source_key=f"slack:{msg.channel}:{msg.ts}",
                created_at=now,
            )
            session.add(message)
            await session.flush()
            if note:
                return False
            status_before = ticket.status
            if ticket.status == TicketStatus.CLOSED:
                ticket.status = TicketStatus.ANSWERED
                ticket.closed_at = None
            elif ticket.status in (TicketStatus.OPEN, TicketStatus.CLAIMED):
                ticket.status = TicketStatus.ANSWERED
            ticket.first_reply_at = ticket.first_reply_at or now
            ticket.waiting_since = None
            ticket.escalation_level = 0
            ticket.updated_at = now
            if ticket.status != status_before:
                await self._queue_card_update(session, ticket, now)  # 🟢 on the card
            area = self.experts.area(ticket.area_id) if self._has_area(ticket.area_id) else None
            lang = Lang.from_code(ticket.lang)
            who = area.name(lang.value) if area else ticket.area_id
            if self.services.settings.show_staff_names and msg.user_name:
                who = f"{who}, {msg.user_name}"
            said = msg.text.strip()
            if msg.files:
                files = T("ticket.files_not_relayed", lang, names=", ".join(msg.files))
                said = f"{said}\n\n{files}" if said else files
            reply = Reply(T("ticket.reply", lang, number=ticket.id, who=who, text=said))
            await self._queue_to_volunteer(
                session,
                ticket,
                f"relay:{msg.channel}:{msg.ts}",
                reply,
                now,
                {"reply_to": {"channel": msg.channel, "ts": msg.ts}},
            )
            user = await session.get(User, ticket.user_id)
            if user is not None and user.state in (None, ConvState.TICKET_CHAT):
                user.state, user.state_data = ConvState.TICKET_CHAT, {"ticket_id": ticket.id}
            relayed = True
        self.services.wake_outbox()
        return relayed

    async def on_staff_action(self, action: StaffAction) -> str:
        """Claim, reassign, close or save as FAQ draft; returns a short note for staff."""
        now = self.services.clock.now()
        async with self.services.db.session() as session:
            ticket = await session.get(Ticket, action.ticket_id)
            if ticket is None:
                return f"Tikettiä #{action.ticket_id} ei löydy (poistettu?)."
            who = f"<@{action.user_id}>"
            if action.action == "claim":
                ticket.status = (
                    TicketStatus.CLAIMED if ticket.status == TicketStatus.OPEN else ticket.status
                )
                ticket.claimed_by = action.user_id
                ticket.updated_at = now
                await self._queue_card_update(session, ticket, now)
                await self._queue_thread(
                    session,
                    ticket,
                    f"claim:{ticket.id}:{action.user_id}:{now.isoformat()}",
                    f"{who} otti kysymyksen #{ticket.id} hoitaakseen.",
                    now,
                )
                note = f"Otit kysymyksen #{ticket.id} hoitaaksesi."
            elif action.action == "close":
                if ticket.status == TicketStatus.CLOSED:
                    return f"Kysymys #{ticket.id} on jo suljettu."
                ticket.status = TicketStatus.CLOSED
                ticket.closed_at = now
                ticket.waiting_since = None
                ticket.updated_at = now
                await self._queue_card_update(session, ticket, now)
                lang = Lang.from_code(ticket.lang)
                closed = Reply.with_buttons(
                    T("ticket.closed", lang, number=ticket.id),
                    [
                        Button("👍", payload=f"tk:fb:{ticket.id}:up"),
                        Button("👎", payload=f"tk:fb:{ticket.id}:down"),
                    ],
                )
                await self._queue_to_volunteer(
                    session, ticket, f"closed:{ticket.id}:{now.isoformat()}", closed, now
                )
                user = await session.get(User, ticket.user_id)
                if (
                    user is not None
                    and user.state == ConvState.TICKET_CHAT
                    and (user.state_data or {}).get("ticket_id") == ticket.id
                ):
                    user.state, user.state_data = None, {}
                note = f"Kysymys #{ticket.id} suljettu; vapaaehtoiselta kysytään palautetta."
            elif action.action == "reassign":
                note = await self._reassign(session, ticket, action, now)
            elif action.action == "faq_draft":
                note = await self._save_draft(session, ticket, action, now)
            else:
                return f"Tuntematon toiminto {action.action!r}."
        self.services.wake_outbox()
        return note

    async def _reassign(
        self, session: AsyncSession, ticket: Ticket, action: StaffAction, now: datetime
    ) -> str:
        if not action.area_id or not self._has_area(action.area_id):
            return "Valitse alue, jolle kysymys siirretään."
        if action.area_id == ticket.area_id:
            return "Kysymys on jo tällä alueella."
        old_area = self.experts.area(ticket.area_id)
        new_area = self.experts.area(action.area_id)
        moved_from = (
            {"channel": ticket.slack_channel, "ts": ticket.slack_ts, "area": old_area.name("fi")}
            if ticket.slack_channel and ticket.slack_ts
            else None
        )
        await self._queue_thread(
            session,
            ticket,
            f"thread-moved:{ticket.id}:{new_area.id}:{now.isoformat()}",
            f"<@{action.user_id}> siirsi kysymyksen #{ticket.id} alueelle *{new_area.name('fi')}*.",
            now,
        )
        ticket.area_id = new_area.id
        ticket.status = TicketStatus.OPEN
        ticket.claimed_by = None
        ticket.escalation_level = 0
        ticket.waiting_since = ticket.waiting_since or now
        ticket.updated_at = now
        await self._queue_card(session, ticket, new_area, now, moved_from)
        lang = Lang.from_code(ticket.lang)
        await self._queue_to_volunteer(
            session,
            ticket,
            f"volunteer-moved:{ticket.id}:{new_area.id}:{now.isoformat()}",
            Reply(T("ticket.moved", lang, number=ticket.id, area=new_area.name(lang.value))),
            now,
        )
        return f"Kysymys #{ticket.id} siirretty alueelle {new_area.name('fi')}."

    async def _save_draft(
        self, session: AsyncSession, ticket: Ticket, action: StaffAction, now: datetime
    ) -> str:
        rows = await session.execute(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket.id, TicketMessage.direction == "staff")
            .order_by(TicketMessage.id)
        )
        answers = [m.text for m in rows.scalars()]
        if not answers:
            return "Tallenna UKK-luonnokseksi vasta, kun kysymykseen on vastattu ketjussa."
        session.add(
            FaqDraft(
                ticket_id=ticket.id,
                lang=ticket.lang,
                question=ticket.text[:4000],
                answer="\n\n".join(answers)[:8000],
                saved_by=action.user_id,
                created_at=now,
            )
        )
        return (
            f"Kysymys #{ticket.id} ja sen vastaus tallennettiin UKK-luonnokseksi. "
            "Luonnokset näkyvät komennolla `/sote luonnokset`."
        )

    # -- outbox hooks ---------------------------------------------------------------------------

    async def card_posted(
        self, session: AsyncSession, delivery: Delivery, result: dict[str, Any]
    ) -> None:
        """The card is in Slack: remember its thread and send what waited for it."""
        if delivery.ticket_id is None:
            return
        ticket = await session.get(
            Ticket, delivery.ticket_id, with_for_update=True, populate_existing=True
        )
        ts, channel = result.get("ts"), result.get("channel") or delivery.recipient
        if ticket is None or not ts:
            return
        ticket.slack_channel, ticket.slack_ts = str(channel), str(ts)
        session.add(
            TicketMessage(
                ticket_id=ticket.id,
                direction="card",
                author=str(channel),
                text="",
                slack_ts=str(ts),
                created_at=self.services.clock.now(),
            )
        )
        rows = await session.execute(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket.id, TicketMessage.direction == "volunteer")
            .order_by(TicketMessage.id)
        )
        follow_ups = list(rows.scalars())[1:]
        for message in follow_ups:
            await self._queue_volunteer_message(session, ticket, message, self.services.clock.now())

    async def delivered_to_volunteer(
        self, session: AsyncSession, delivery: Delivery, result: dict[str, Any]
    ) -> None:
        """A staff reply reached the volunteer: ✅ on the Slack message."""
        target = (delivery.payload or {}).get("reply_to")
        if target:
            await self._react(session, delivery, target, "white_check_mark")

    async def _react(
        self, session: AsyncSession, delivery: Delivery, target: dict[str, str], emoji: str
    ) -> None:
        await enqueue(
            session,
            dedupe_key=f"reaction:{target['channel']}:{target['ts']}:{emoji}",
            channel="slack",
            kind=REACTION,
            recipient=str(target["channel"]),
            payload={"op": "react", "ts": target["ts"], "name": emoji},
            now=self.services.clock.now(),
            ticket_id=delivery.ticket_id,
        )

    async def volunteer_unreachable(
        self, session: AsyncSession, delivery: Delivery, error: DeliveryError
    ) -> None:
        """A reply could not be delivered: ⚠️ on the message and a notice in the thread."""
        target = (delivery.payload or {}).get("reply_to")
        if not target or delivery.ticket_id is None:
            return
        now = self.services.clock.now()
        await self._react(session, delivery, target, "warning")
        ticket = await session.get(Ticket, delivery.ticket_id)
        if ticket is None:
            return
        reason = (
            "vapaaehtoinen on estänyt botin Telegramissa"
            if isinstance(error, RecipientBlocked)
            else f"toimitus epäonnistui toistuvasti ({error})"
        )
        await self._queue_thread(
            session,
            ticket,
            f"undeliverable:{target['channel']}:{target['ts']}",
            f"⚠️ Vastausta ei voitu toimittaa vapaaehtoiselle: {reason}.",
            now,
        )

    async def card_not_posted(
        self, session: AsyncSession, delivery: Delivery, error: DeliveryError
    ) -> None:
        """A ticket card could not be posted for good (a missing channel, the bot not in it,
        Slack down for hours): say so loudly, tell the coordinators and the volunteer."""
        if delivery.ticket_id is None:
            return
        ticket = await session.get(Ticket, delivery.ticket_id)
        if ticket is None or ticket.slack_ts is not None:
            return
        now = self.services.clock.now()
        log.error(
            "ticket %s card could not be posted to %s: %s", ticket.id, delivery.recipient, error
        )
        if self.services.settings.slack_coordination_channel != delivery.recipient:
            county = self.regions.county(ticket.county_code).short_name("fi")
            await self._alert_coordination(
                session,
                ticket,
                f"card-failed:{ticket.id}:{delivery.id}",
                f"🚨 Kysymyksen #{ticket.id} korttia ei saatu kanavalle "
                f"<#{delivery.recipient}> ({error}). Onko botti kutsuttu kanavalle? "
                f"Kysymys ({county}):\n> "
                + mrkdwn_escape(ticket.text[:2000]).replace("\n", "\n> "),
                now,
            )
        ticket.status = TicketStatus.CLOSED
        ticket.closed_at = now
        ticket.updated_at = now
        await self._queue_to_volunteer(
            session,
            ticket,
            f"card-failed-volunteer:{ticket.id}",
            Reply(T("ticket.not_delivered", Lang.from_code(ticket.lang), number=ticket.id)),
            now,
        )

    # -- escalation ------------------------------------------------------------------------------

    async def escalate(self, now: datetime | None = None) -> int:
        """Remind about tickets waiting N office hours, and the deputy after 2N; returns count."""
        now = now or self.services.clock.now()
        hours = self.services.settings.escalation_office_hours
        count = 0
        async with self.services.db.session() as session:
            rows = await session.execute(
                select(Ticket).where(
                    Ticket.status.in_([TicketStatus.OPEN, TicketStatus.CLAIMED]),
                    Ticket.waiting_since.is_not(None),
                    Ticket.slack_ts.is_not(None),
                    Ticket.escalation_level < 2,
                )
            )
            for ticket in rows.scalars():
                assert ticket.waiting_since is not None
                waited = timing.office_hours_between(ticket.waiting_since, now, **self._office())
                level = (
                    2
                    if waited >= timedelta(hours=2 * hours)
                    else 1
                    if waited >= timedelta(hours=hours)
                    else 0
                )
                if level <= ticket.escalation_level:
                    continue
                await self._escalate_to(session, ticket, level, waited, now)
                ticket.escalation_level = level
                count += 1
        if count:
            self.services.wake_outbox()
        return count

    async def _escalate_to(
        self, session: AsyncSession, ticket: Ticket, level: int, waited: timedelta, now: datetime
    ) -> None:
        area = self.experts.area(ticket.area_id)
        hours = int(waited.total_seconds() // 3600)
        since = ticket.waiting_since.isoformat() if ticket.waiting_since else ""
        if level == 1:
            mentions = " ".join(f"<@{e.slack_user_id}>" for e in area.experts)
            text = (
                f"⏰ {mentions} kysymys #{ticket.id} on odottanut vastausta {hours} työtuntia. "
                "Ehtisikö joku vastata tai ottaa sen hoitaakseen?"
            )
        else:
            deputy = f"<@{area.deputy.slack_user_id}>" if area.deputy else "Varahenkilö"
            text = (
                f"🚨 {deputy} kysymys #{ticket.id} on odottanut vastausta {hours} työtuntia "
                "eikä kukaan ole vastannut. Voitko auttaa?"
            )
        await self._queue_thread(
            session,
            ticket,
            f"escalation:{ticket.id}:{ticket.area_id}:{level}:{since}",
            text,
            now,
            ESCALATION,
        )
        if level == 2:
            county = self.regions.county(ticket.county_code).short_name("fi")
            await self._alert_coordination(
                session,
                ticket,
                f"escalation-coordination:{ticket.id}:{ticket.area_id}:{since}",
                f"🚨 Kysymys #{ticket.id} ({area.name('fi')}, {county}) on odottanut "
                f"vastausta {hours} työtuntia.",
                now,
                link_to={"channel": ticket.slack_channel, "ts": ticket.slack_ts},
            )

    async def _alert_coordination(
        self,
        session: AsyncSession,
        ticket: Ticket,
        key: str,
        text: str,
        now: datetime,
        link_to: dict[str, str | None] | None = None,
    ) -> None:
        """A post in SLACK_COORDINATION_CHANNEL about `ticket` (nothing if none is set)."""
        coordination = self.services.settings.slack_coordination_channel
        if not coordination:
            return
        payload: dict[str, Any] = {"op": "post", "text": text}
        if link_to is not None:
            payload["link_to"] = link_to
        await enqueue(
            session,
            dedupe_key=key,
            channel="slack",
            kind=ESCALATION,
            recipient=coordination,
            payload=payload,
            now=now,
            ticket_id=ticket.id,
        )


def build_staff_ticket_feature(desk: TicketDesk) -> Feature:
    """`/sote tiketit` (open questions) and `/sote luonnokset` (saved FAQ drafts) for staff."""

    async def open_tickets(msg: Incoming, ctx: Context) -> list[Reply]:
        rows = await ctx.session.execute(
            select(Ticket).where(Ticket.status.in_(ACTIVE)).order_by(Ticket.id).limit(50)
        )
        tickets = list(rows.scalars())
        if not tickets:
            return [Reply("Ei avoimia kysymyksiä. 🎉")]
        lines = [f"*Avoimet kysymykset ({len(tickets)})*"]
        for ticket in tickets:
            county = desk.regions.county(ticket.county_code).short_name("fi")
            waited = ""
            if ticket.waiting_since is not None:
                hours = timing.office_hours_between(ticket.waiting_since, ctx.now, **desk._office())
                waited = f" · odottanut {hours.total_seconds() / 3600:.1f} työtuntia"
            owner = f" · <@{ticket.claimed_by}>" if ticket.claimed_by else ""
            lines.append(
                f"• #{ticket.id} · {county} · {T(f'status.{ticket.status}', Lang.FI)}"
                f"{owner}{waited}: {mrkdwn_escape(ticket.text[:80])}"
            )
        return [Reply("\n".join(lines))]

    async def drafts(msg: Incoming, ctx: Context) -> list[Reply]:
        rows = await ctx.session.execute(select(FaqDraft).order_by(FaqDraft.id.desc()).limit(10))
        saved = list(rows.scalars())
        if not saved:
            return [Reply("Ei tallennettuja UKK-luonnoksia.")]
        blocks = []
        for draft in saved:
            blocks.append(
                f"*Luonnos {draft.id}* (kysymys #{draft.ticket_id}, {draft.lang}):\n"
                f"```\n- id: luonnos-{draft.id}\n  topics: []\n  {draft.lang}:\n"
                f"    question: {mrkdwn_escape(draft.question[:300])}\n    answer: |\n"
                + "\n".join(
                    f"      {line}" for line in mrkdwn_escape(draft.answer[:1500]).splitlines()
                )
                + "\n```"
            )
        return [Reply("\n\n".join(blocks))]

    return Feature(
        name="tickets-staff",
        commands=(
            Command(
                "tiketit",
                open_tickets,
                {Lang.FI: "avoimet kysymykset", Lang.SV: "öppna frågor", Lang.EN: "open questions"},
                aliases=("tickets", "avoimet"),
            ),
            Command(
                "luonnokset",
                drafts,
                {
                    Lang.FI: "tallennetut UKK-luonnokset",
                    Lang.SV: "sparade FAQ-utkast",
                    Lang.EN: "saved FAQ drafts",
                },
                aliases=("drafts",),
            ),
        ),
        platforms=frozenset({Platform.SLACK}),
    )


def build_ticket_feature(desk: TicketDesk) -> Feature:
    """`/kysy`, "Kysy asiantuntijalta", the confirmation, relay mode and `/tila`."""

    async def ask_command(msg: Incoming, ctx: Context) -> list[Reply]:
        return await desk.begin(ctx, msg.args)

    async def ask_button(msg: Incoming, ctx: Context) -> list[Reply]:
        assert msg.callback is not None
        parts = msg.callback.split(":")
        text, question_id = "", None
        if len(parts) > 2 and parts[2].isdigit():
            question = await ctx.session.get(FaqQuestion, int(parts[2]))
            if question is not None and question.user_id == ctx.user.id:
                text, question_id = question.text, question.id
        return await desk.begin(ctx, text, question_id)

    async def on_ticket_button(msg: Incoming, ctx: Context) -> list[Reply]:
        assert msg.callback is not None
        parts = msg.callback.split(":")
        action = parts[1] if len(parts) > 1 else ""
        if action in {"send", "anon"}:
            return await desk.confirm(ctx, anonymous=action == "anon")
        if action == "cancel":
            ctx.user.state, ctx.user.state_data = None, {}
            return [Reply(T("ticket.cancelled", ctx.lang))]
        if action == "stop" and len(parts) == 3:
            ctx.user.state, ctx.user.state_data = None, {}
            return [Reply(T("ticket.chat_stopped", ctx.lang, number=parts[2]))]
        if action == "fb" and len(parts) == 4 and parts[2].isdigit():
            ticket = await ctx.session.get(Ticket, int(parts[2]))
            if ticket is not None and ticket.user_id == ctx.user.id:
                ticket.feedback = 1 if parts[3] == "up" else -1
            return [Reply(T("ticket.thanks", ctx.lang))]
        return [Reply(T("ticket.cancelled", ctx.lang))]

    async def on_ask_text(msg: Incoming, ctx: Context) -> list[Reply]:
        data = dict(ctx.user.state_data or {})
        ctx.user.state = None
        return await desk.begin(ctx, msg.text, data.get("faq_question_id"))

    async def on_confirm_text(msg: Incoming, ctx: Context) -> list[Reply]:
        data = dict(ctx.user.state_data or {})
        data["text"] = msg.text[:4000]
        return desk._preview(ctx, data)

    async def on_chat_text(msg: Incoming, ctx: Context) -> list[Reply]:
        replies = await desk.follow_up(ctx, msg.text)
        return replies

    async def status(msg: Incoming, ctx: Context) -> list[Reply]:
        return await desk.status(ctx)

    return Feature(
        name="tickets",
        commands=(
            Command(
                "kysy",
                ask_command,
                {
                    Lang.FI: "kysy alueesi asiantuntijalta",
                    Lang.SV: "fråga experten i ditt område",
                    Lang.EN: "ask your region's expert",
                },
                aliases=("ask",),
            ),
            Command(
                "tila",
                status,
                {
                    Lang.FI: "kysymysteni tilanne",
                    Lang.SV: "läget för mina frågor",
                    Lang.EN: "status of my questions",
                },
                aliases=("status",),
            ),
        ),
        callbacks={"ask": ask_button, "tk": on_ticket_button},
        states={
            ConvState.ASK_TEXT: on_ask_text,
            ConvState.ASK_CONFIRM: on_confirm_text,
            ConvState.TICKET_CHAT: on_chat_text,
        },
        platforms=frozenset({Platform.TELEGRAM, Platform.CONSOLE}),
    )
