"""Routing and relay end to end: a volunteer on (fake) Telegram, experts in (fake) Slack."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import BotRuntime
from bot.settings import Settings
from handlers.tickets import CARD
from schedules.outbox import PENDING
from storage.models import Delivery, FaqDraft, Ticket, TicketMessage
from tests.fakes.clock import FakeClock
from tests.fakes.slack import (
    BOT_USER_ID,
    FakeSlack,
    SlackFailure,
    action_body,
    event_body,
    post_to_bot,
    slash_command_body,
)
from tests.fakes.telegram import Failure, FakeTelegram

VOLUNTEER = 2001
WEST = "C00EXAMPLE3"  # Länsi-Suomi: Varsinais-Suomi, Satakunta, Pohjanmaa
INLAND = "C00EXAMPLE4"  # Sisä-Suomi
COORDINATION = "C0COORD"
MONDAY_9 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 09:00 in Helsinki


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_9)


@pytest.fixture
async def bot(
    channel_settings: Callable[..., Settings], clock: FakeClock
) -> AsyncIterator[BotRuntime]:
    runtime = BotRuntime.create(
        channel_settings(slack_coordination_channel=COORDINATION, show_staff_names=True),
        clock=clock,
    )
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def _post(bot: BotRuntime, body: str, content_type: str) -> int:
    assert bot.http is not None
    status, _ = await post_to_bot(bot.http.port, body, content_type)
    return status


def thread_reply_body(
    thread_ts: str,
    text: str,
    ts: str,
    event_id: str | None = None,
    user: str = "UEXPERT01",
    channel: str = WEST,
    **extra: Any,
) -> str:
    """The Events API callback for a staff message in a thread."""
    event = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        "event_ts": ts,
        "channel_type": "channel",
        **extra,
    }
    return event_body(event, event_id or f"Ev{ts.replace('.', '')}")


async def staff_says(bot: BotRuntime, thread_ts: str, text: str, ts: str, **more: Any) -> None:
    """A staff member writes in a thread; the bot acknowledges it."""
    body = thread_reply_body(thread_ts, text, ts, **more)
    assert await _post(bot, body, "application/json") == 200


async def press_in_slack(bot: BotRuntime, action: dict[str, Any], user: str = "UEXPERT01") -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "name": "aino"},
        "team": {"id": "T00000001"},
        "api_app_id": "A0001",
        "channel": {"id": WEST},
        "container": {"type": "message", "channel_id": WEST},
        "trigger_id": "t1",
        "response_url": bot_response_url(bot),
        "actions": [action],
    }
    assert await _post(bot, action_body(payload), "application/x-www-form-urlencoded") == 200


def bot_response_url(bot: BotRuntime) -> str:
    return str(bot.settings.slack_api_url).replace("/api/", "/response/r1")


async def db_state(
    bot: BotRuntime, probe: Callable[[Any], Awaitable[Any]], what: str, timeout: float = 10.0
) -> Any:
    """Poll the database until `probe(session)` is truthy; return what it returned.

    For effects the bot writes after the user-visible step a test waited for.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with bot.services.db.session() as session:
            result = await probe(session)
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def card_recorded(bot: BotRuntime, number: int, ts: str | None = None) -> None:
    """Wait until the bot has stored where the ticket's card (the one at `ts`) is in Slack."""

    async def recorded(session: Any) -> bool:
        ticket = await session.get(Ticket, number, populate_existing=True)
        if ticket is None or not ticket.slack_ts:
            return False
        if ts is None:
            return True
        card = await session.scalar(
            select(TicketMessage.id).where(
                TicketMessage.ticket_id == number,
                TicketMessage.direction == "card",
                TicketMessage.slack_ts == ts,
            )
        )
        return card is not None

    await db_state(bot, recorded, f"ticket {number} card recorded")


async def ask_expert(
    telegram: FakeTelegram, slack: FakeSlack, text: str, bot: BotRuntime | None = None
) -> tuple[str, int]:
    """The volunteer asks, confirms the region and sends; returns the card's ts and number.

    With `bot`, also waits until the bot has recorded the card's thread: the HTTP answer of
    chat.postMessage reaches the fake before the bot stores the ts, and a staff reply in the
    thread is only recognised once it is stored (the desk waits for it for a few seconds only).
    """
    await telegram.send_text(VOLUNTEER, f"/kysy {text}")
    texts = await telegram.wait_for_texts(VOLUNTEER, 1)
    assert "Satakunta" in texts[-1]
    await telegram.press(VOLUNTEER, "rg:y:06")
    texts = await telegram.wait_for_texts(VOLUNTEER, 3)
    assert "Asiantuntija (Länsi-Suomi) näkee tämän" in texts[-1]
    assert "Maija" in texts[-1] and text in texts[-1]
    await telegram.press(VOLUNTEER, "tk:send")
    texts = await telegram.wait_for_texts(VOLUNTEER, 4)
    assert texts[-1].startswith("Kiitos! Kysymyksesi #")
    number = int(texts[-1].split("#")[1].split()[0])
    post = await slack.wait_for(lambda: slack.posts(WEST), what="ticket card")
    card_ts = str(post[-1].result["ts"])  # type: ignore[index]
    if bot is not None:
        await card_recorded(bot, number, card_ts)
    return card_ts, number


async def test_question_reaches_the_right_channel_and_the_reply_comes_back(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack
) -> None:
    card_ts, number = await ask_expert(telegram, slack, "Miten haemme avustusta Porissa?", bot=bot)
    card = slack.posts(WEST)[0]
    assert f"Kysymys #{number} · Satakunta" in json.dumps(card.params["blocks"], ensure_ascii=False)
    action_ids = {
        e["action_id"]
        for block in card.params["blocks"]
        if block["type"] == "actions"
        for e in block["elements"]
    }
    assert action_ids == {"ticket_claim", "ticket_reassign", "ticket_close", "ticket_faq_draft"}
    assert "Kiitos!" in telegram.texts(VOLUNTEER)[-1]
    assert "arkisin klo 8–16" in telegram.texts(VOLUNTEER)[-1]
    await telegram.press(VOLUNTEER, "tk:send")  # a second tap on "Lähetä"
    texts = await telegram.wait_for_texts(VOLUNTEER, 5)
    assert f"#{number} on jo lähetetty" in texts[-1]
    await bot.engine.settle()  # a second card would have been queued by now
    assert len(slack.posts(WEST)) == 1

    slack.users["UEXPERT01"] = {"real_name": "Aino Asiantuntija", "display_name": "Aino"}
    await staff_says(bot, card_ts, "Hei! Satakunnan avustushaku on syksyllä.", "1700000100.000100")
    texts = await telegram.wait_for_texts(VOLUNTEER, 6)
    assert "Satakunnan avustushaku on syksyllä" in texts[-1]
    assert "Länsi-Suomi, Aino" in texts[-1]
    await slack.wait_for(
        lambda: (WEST, "1700000100.000100", "white_check_mark") in slack.reactions(),
        what="✅ reaction",
    )

    await telegram.send_text(VOLUNTEER, "Kiitos! Entä milloin päätös tulee?")
    follow_up = await slack.wait_for(
        lambda: [p for p in slack.posts(WEST) if "päätös tulee" in p.params.get("text", "")],
        what="follow-up in the thread",
    )
    assert follow_up[0].params["thread_ts"] == card_ts
    assert "Maija" in follow_up[0].params["text"]
    updates = await slack.wait_for(
        lambda: [c for c in slack.ok_calls("chat.update") if c.params["ts"] == card_ts][1:],
        what="card updated twice",
    )
    statuses = [
        json.dumps(c.params["blocks"], ensure_ascii=False) for c in slack.ok_calls("chat.update")
    ]
    assert "vastattu" in statuses[0] and "odottaa vastausta" in statuses[1], updates


async def test_internal_notes_and_own_messages_are_never_relayed(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack
) -> None:
    card_ts, _ = await ask_expert(telegram, slack, "Kuka päättää avustuksista Porissa?", bot=bot)
    before = len(telegram.texts(VOLUNTEER))
    await staff_says(bot, card_ts, "// kysyn tätä ensin kollegalta", "1700000200.000100")
    await staff_says(bot, card_ts, "NOTE: älä lupaa rahaa", "1700000201.000100")
    await staff_says(bot, card_ts, "botin oma viesti", "1700000202.000100", user=BOT_USER_ID)
    await staff_says(
        bot, card_ts, "toinen botti", "1700000203.000100", bot_id="B0OTHER", subtype="bot_message"
    )
    await staff_says(bot, card_ts, "Vastaus tulee tässä.", "1700000204.000100")
    texts = await telegram.wait_for_texts(VOLUNTEER, before + 1)

    async def notes_stored(session: Any) -> bool:
        notes = await session.scalar(
            select(func.count()).select_from(TicketMessage).where(TicketMessage.direction == "note")
        )
        return notes == 2

    # Each event is handled on its own after its HTTP 200: check only once the notes are in.
    await db_state(bot, notes_stored, "both internal notes handled")
    await bot.engine.settle()
    texts = telegram.texts(VOLUNTEER)
    assert len(texts) == before + 1
    assert "Vastaus tulee tässä." in texts[-1]
    assert not any("kollegalta" in t or "lupaa rahaa" in t or "botin" in t for t in texts)


async def test_broadcast_replies_files_and_slack_markup_reach_the_volunteer_readably(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack
) -> None:
    card_ts, _ = await ask_expert(
        telegram, slack, "Porissa <b>tärkeä</b> & kiireellinen asia", bot=bot
    )
    card = json.dumps(slack.posts(WEST)[0].params["blocks"], ensure_ascii=False)
    assert "&lt;b&gt;tärkeä&lt;/b&gt; &amp; kiireellinen" in card

    await staff_says(
        bot,
        card_ts,
        "Katso <https://soteuudistus.fi/avustukset|ohjeet> &amp; kysy <@UEXPERT02> &lt;3",
        "1700000250.000100",
        subtype="thread_broadcast",
    )
    texts = await telegram.wait_for_texts(VOLUNTEER, 5)
    assert "Katso ohjeet (https://soteuudistus.fi/avustukset) & kysy @" in texts[-1]
    assert "<3" in texts[-1] and "<@" not in texts[-1]

    await staff_says(
        bot,
        card_ts,
        "Tässä lomake.",
        "1700000251.000100",
        subtype="file_share",
        files=[{"id": "F1", "name": "hakulomake.pdf"}],
    )
    texts = await telegram.wait_for_texts(VOLUNTEER, 6)
    assert "Tässä lomake." in texts[-1] and "hakulomake.pdf" in texts[-1]

    before = len(telegram.texts(VOLUNTEER))
    await staff_says(bot, card_ts, "muokattu", "1700000252.000100", subtype="message_changed")
    await staff_says(bot, card_ts, "Viimeinen vastaus.", "1700000253.000100")
    texts = await telegram.wait_for_texts(VOLUNTEER, before + 1)
    await bot.engine.settle()
    assert len(telegram.texts(VOLUNTEER)) == before + 1
    assert "Viimeinen vastaus." in texts[-1]


async def test_a_volunteer_who_moves_on_is_not_stuck_in_the_region_question(
    bot: BotRuntime, telegram: FakeTelegram
) -> None:
    for said, expected in (
        ("/kysy Miten haemme avustusta?", "Valitse"),
        ("Hölökyn kölökyn", "En tunnistanut paikkaa"),
        ("Mikä on STEA?", "Sosiaali- ja terveysjärjestöjen avustuskeskus"),
    ):
        await telegram.send_text(VOLUNTEER, said)
        await telegram.wait_for(
            lambda e=expected: any(e in t for t in telegram.texts(VOLUNTEER)),  # type: ignore[misc]
            what=expected,
        )


async def test_quick_follow_ups_reach_the_thread_in_order(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack
) -> None:
    card_ts, _ = await ask_expert(telegram, slack, "Porissa kysyttävää tiloista")
    for n in range(1, 7):
        await telegram.send_text(VOLUNTEER, f"lisäys {n}")
    posts = await slack.wait_for(
        lambda: (
            found
            if len(found := [p for p in slack.posts(WEST) if "lisäys" in p.params.get("text", "")])
            == 6
            else None
        ),
        what="six follow-ups in the thread",
    )
    said = [p.params["text"].rsplit(" ", 1)[-1] for p in posts]
    assert said == ["1", "2", "3", "4", "5", "6"]
    assert all(p.params["thread_ts"] == card_ts for p in posts)


async def test_a_slack_event_delivered_twice_is_relayed_once(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack
) -> None:
    card_ts, _ = await ask_expert(telegram, slack, "Porissa meillä on kysymys tiloista", bot=bot)
    for _ in range(2):
        await staff_says(
            bot, card_ts, "Tilat kannattaa kysyä kunnalta.", "1700000300.000100", event_id="EvSAME"
        )
    await telegram.wait_for_texts(VOLUNTEER, 5)
    await bot.engine.settle()
    assert sum("Tilat kannattaa kysyä" in t for t in telegram.texts(VOLUNTEER)) == 1


async def test_reassign_moves_the_ticket_with_a_link(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack
) -> None:
    card_ts, number = await ask_expert(
        telegram, slack, "Porin yhdistyksen kysymys tiloista", bot=bot
    )
    await press_in_slack(
        bot,
        {
            "type": "static_select",
            "action_id": "ticket_reassign",
            "block_id": f"ticket_{number}",
            "selected_option": {"value": f"{number}:sisa-suomi"},
        },
    )
    moved = await slack.wait_for(lambda: slack.posts(INLAND), what="card in the new channel")
    blocks = json.dumps(moved[0].params["blocks"], ensure_ascii=False)
    assert f"Kysymys #{number}" in blocks and "aiempi ketju" in blocks
    assert slack.ok_calls("chat.getPermalink")
    notice = await slack.wait_for(
        lambda: [p for p in slack.posts(WEST) if "siirsi kysymyksen" in p.params.get("text", "")],
        what="notice in the old thread",
    )
    assert notice[0].params["thread_ts"] == card_ts
    texts = await telegram.wait_for_texts(VOLUNTEER, 5)
    assert "siirrettiin alueen Sisä-Suomi asiantuntijalle" in texts[-1]
    # The note to staff goes to the response_url after the action's work, on its own time.
    responses = await slack.wait_for(lambda: slack.responses, what="the note to staff")
    assert "siirretty alueelle" in responses[-1]["text"]

    new_ts = str(moved[0].result["ts"])  # type: ignore[index]
    await card_recorded(bot, number, new_ts)
    await staff_says(bot, new_ts, "Sisä-Suomesta hei!", "1700000400.000100", channel=INLAND)
    texts = await telegram.wait_for_texts(VOLUNTEER, 6)
    assert "Sisä-Suomesta hei!" in texts[-1]


async def test_erasing_my_data_blanks_the_slack_card_and_drops_drafts(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack
) -> None:
    question = "Porin yhdistyksen salainen kysymys tiloista"
    card_ts, number = await ask_expert(telegram, slack, question, bot=bot)
    await staff_says(bot, card_ts, "Tilat kannattaa kysyä kunnalta.", "1700000350.000100")
    await telegram.wait_for_texts(VOLUNTEER, 5)
    await press_in_slack(
        bot, {"type": "button", "action_id": "ticket_faq_draft", "value": str(number)}
    )
    await slack.wait_for(lambda: slack.responses, what="the draft is confirmed to staff")
    async with bot.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(FaqDraft)) == 1

    await telegram.send_text(VOLUNTEER, "/omattiedot")
    await telegram.wait_for_texts(VOLUNTEER, 6)
    assert question in telegram.texts(VOLUNTEER)[-1]
    await telegram.send_text(VOLUNTEER, "/poista")
    await telegram.wait_for_texts(VOLUNTEER, 7)
    await telegram.press(VOLUNTEER, "del:yes")
    texts = await telegram.wait_for_texts(VOLUNTEER, 8)
    assert "Tietosi on poistettu" in texts[-1]

    update = await slack.wait_for(
        lambda: [
            c
            for c in slack.ok_calls("chat.update")
            if c.params["ts"] == card_ts and "[poistettu]" in json.dumps(c.params)
        ],
        what="blanked card",
    )
    card = json.dumps(update[-1].params, ensure_ascii=False)
    assert "[poistettu]" in card and "salainen" not in card and "Maija" not in card
    assert '"actions"' not in card
    await slack.wait_for(
        lambda: [p for p in slack.posts(WEST) if "poisti tietonsa" in p.params.get("text", "")],
        what="note in the thread",
    )
    async with bot.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(FaqDraft)) == 0
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0


async def test_a_card_that_cannot_be_posted_is_reported_and_the_volunteer_told(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack
) -> None:
    slack.failures.append(SlackFailure("chat.postMessage", error="not_in_channel"))
    await telegram.send_text(VOLUNTEER, "/kysy Porissa kysymys <tiloista>")
    await telegram.wait_for_texts(VOLUNTEER, 1)
    await telegram.press(VOLUNTEER, "rg:y:06")
    await telegram.wait_for_texts(VOLUNTEER, 3)
    await telegram.press(VOLUNTEER, "tk:send")
    texts = await telegram.wait_for_texts(VOLUNTEER, 5)
    assert "ei teknisen vian vuoksi mennyt perille" in texts[-1] and "/kysy" in texts[-1]
    alert = await slack.wait_for(lambda: slack.posts(COORDINATION), what="coordination alert")
    assert f"<#{WEST}>" in alert[0].params["text"] and "not_in_channel" in alert[0].params["text"]
    assert "&lt;tiloista&gt;" in alert[0].params["text"]
    await telegram.send_text(VOLUNTEER, "/tila")
    texts = await telegram.wait_for_texts(VOLUNTEER, 6)
    assert "suljettu" in texts[-1].lower() or "ratkaistu" in texts[-1].lower()


async def test_a_429_is_retried_after_its_retry_after(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack, clock: FakeClock
) -> None:
    card_ts, _ = await ask_expert(telegram, slack, "Porissa toimiva yhdistys kysyy", bot=bot)
    telegram.failures.append(
        Failure(
            "sendMessage",
            429,
            "Too Many Requests: retry after 1",
            retry_after=1,
            chat_id=str(VOLUNTEER),
        )
    )
    await staff_says(bot, card_ts, "Tässä vastaus ruuhkan jälkeen.", "1700000500.000100")
    await telegram.wait_for(lambda: telegram.too_many == 1, what="the 429")

    async def rescheduled(session: Any) -> bool:
        rows = await session.execute(
            select(Delivery)
            .where(Delivery.kind == "ticket_to_volunteer")
            .execution_options(populate_existing=True)
        )
        return any(d.status == PENDING and d.attempts == 1 for d in rows.scalars())

    # The bot reschedules the row after it has read the 429 (not_before = now + retry_after on
    # the fake clock); moving the clock before that would leave the retry in the future.
    await db_state(bot, rescheduled, "the retry to be scheduled")
    clock.advance(seconds=2)
    bot.engine.poke()
    texts = await telegram.wait_for_texts(VOLUNTEER, 5, timeout=10)
    assert sum("ruuhkan jälkeen" in t for t in texts) == 1
    await slack.wait_for(
        lambda: (WEST, "1700000500.000100", "white_check_mark") in slack.reactions(),
        what="✅ after the retry",
    )


async def test_a_blocked_volunteer_is_flagged_in_the_thread(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack
) -> None:
    card_ts, _ = await ask_expert(telegram, slack, "Porin kysymys", bot=bot)
    telegram.blocked.add(str(VOLUNTEER))
    await staff_says(bot, card_ts, "Tämä ei mene perille.", "1700000600.000100")
    await slack.wait_for(
        lambda: (WEST, "1700000600.000100", "warning") in slack.reactions(), what="⚠️"
    )
    notice = await slack.wait_for(
        lambda: [p for p in slack.posts(WEST) if "estänyt botin" in p.params.get("text", "")],
        what="thread notice",
    )
    assert notice[0].params["thread_ts"] == card_ts


async def test_close_asks_the_volunteer_for_feedback(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack
) -> None:
    _, number = await ask_expert(telegram, slack, "Porin kysymys tiloista", bot=bot)
    await press_in_slack(bot, {"type": "button", "action_id": "ticket_close", "value": str(number)})
    texts = await telegram.wait_for_texts(VOLUNTEER, 5)
    assert f"#{number} ratkaistuksi" in texts[-1]
    assert [b["text"] for b in telegram.buttons(telegram.sent(VOLUNTEER)[-1])] == ["👍", "👎"]
    updated = await slack.wait_for(lambda: slack.ok_calls("chat.update"), what="card update")
    assert "suljettu" in json.dumps(updated[-1].params["blocks"], ensure_ascii=False)


async def test_restart_between_reply_and_delivery_loses_nothing(
    channel_settings: Callable[..., Settings],
    telegram: FakeTelegram,
    slack: FakeSlack,
    clock: FakeClock,
) -> None:
    settings = channel_settings()
    first = BotRuntime.create(settings, clock=clock)
    await first.start()
    try:
        card_ts, _ = await ask_expert(telegram, slack, "Porissa kysyttävää", bot=first)
        telegram.failures.append(
            Failure("sendMessage", 502, "Bad Gateway", count=100, chat_id=str(VOLUNTEER))
        )
        await staff_says(first, card_ts, "Vastaus, joka jää jonoon.", "1700000700.000100")
        await telegram.wait_for(
            lambda: any(
                c.method == "sendMessage" and "jää jonoon" in str(c.params.get("text"))
                for c in telegram.calls
            ),
            what="a failed attempt",
        )
    finally:
        await first.stop()
    telegram.failures.clear()
    assert not any("jää jonoon" in t for t in telegram.texts(VOLUNTEER))

    second = BotRuntime.create(settings, clock=clock)
    await second.start()
    try:
        clock.advance(minutes=30)
        second.engine.poke()
        texts = await telegram.wait_for_texts(VOLUNTEER, 5, timeout=10)
        await second.engine.settle()
        assert sum("jää jonoon" in t for t in telegram.texts(VOLUNTEER)) == 1
        assert "jää jonoon" in texts[-1]
        async with second.services.db.session() as session:
            pending = [
                d
                for d in (await session.execute(select_deliveries())).scalars()
                if d.status != "sent"
            ]
        assert pending == []
    finally:
        await second.stop()


def select_deliveries() -> Any:
    from sqlalchemy import select

    return select(Delivery)


async def test_unanswered_ticket_escalates_in_office_hours(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack, clock: FakeClock
) -> None:
    card_ts, number = await ask_expert(telegram, slack, "Porissa odotellaan vastausta", bot=bot)
    clock.set(datetime(2026, 11, 23, 14, 30, tzinfo=UTC))  # Monday 16:30: 7 office hours
    assert await bot.core.desk.escalate() == 0
    clock.set(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))  # Tuesday 10:00: 9 office hours
    assert await bot.core.desk.escalate() == 1
    reminder = await slack.wait_for(
        lambda: [p for p in slack.posts(WEST) if "⏰" in p.params.get("text", "")],
        what="reminder in the thread",
    )
    assert reminder[0].params["thread_ts"] == card_ts
    assert "<@U00EXAMPLE5>" in reminder[0].params["text"]
    assert await bot.core.desk.escalate() == 0  # not twice
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))  # Wednesday 11:00: 18 office hours
    assert await bot.core.desk.escalate() == 1
    deputy = await slack.wait_for(
        lambda: [p for p in slack.posts(WEST) if "🚨" in p.params.get("text", "")],
        what="deputy in the thread",
    )
    assert "<@U00EXAMPLE6>" in deputy[0].params["text"]
    coordination = await slack.wait_for(lambda: slack.posts(COORDINATION), what="coordination")
    assert f"#{number}" in coordination[0].params["text"]
    assert "Avaa ketju" in coordination[0].params["text"]


async def test_outside_office_hours_the_volunteer_is_told_when(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 11, 28, 10, 0, tzinfo=UTC))  # Saturday
    await ask_expert(telegram, slack, "Porissa viikonloppuna")
    assert "maanantaina 30.11. klo 8" in telegram.texts(VOLUNTEER)[-1]


async def test_status_lists_my_questions(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack
) -> None:
    _, number = await ask_expert(telegram, slack, "Porin kysymys numero yksi")
    await telegram.send_text(VOLUNTEER, "/tila")
    texts = await telegram.wait_for_texts(VOLUNTEER, 5)
    assert f"#{number} · Länsi-Suomi · odottaa vastausta" in texts[-1]
    async with bot.services.db.session() as session:
        ticket = await session.get(Ticket, number)
        assert ticket is not None and ticket.county_code == "06"


async def test_home_tab_and_stats_show_staff_what_is_waiting(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack, clock: FakeClock
) -> None:
    await telegram.send_text(VOLUNTEER, "mikä on paras pizzatäyte")  # the FAQ cannot answer
    await telegram.wait_for_texts(VOLUNTEER, 1)
    await telegram.send_text(VOLUNTEER, "/kieli")  # not a question: not counted
    await telegram.wait_for_texts(VOLUNTEER, 2)
    clock.set(MONDAY_9.replace(hour=11))  # two office hours later
    _, number = await ask_expert_after(telegram, slack, "Porin yhdistyksen tilat", texts_before=2)
    await card_recorded(bot, number)

    home = {"type": "app_home_opened", "user": "UEXPERT01", "channel": "D0HOME", "tab": "home"}
    body = event_body({**home, "event_ts": "1700000900.000100"}, "EvHome1")
    assert await _post(bot, body, "application/json") == 200
    published = await slack.wait_for(lambda: slack.ok_calls("views.publish"), what="home tab")
    assert published[0].params["user_id"] == "UEXPERT01"
    view = published[0].params["view"]
    assert view["type"] == "home"
    shown = json.dumps(view["blocks"], ensure_ascii=False)
    assert "Avoimet kysymykset (1)" in shown
    assert f"*#{number}* Satakunta · odottaa vastausta" in shown
    assert "Porin yhdistyksen tilat" in shown and f"<#{WEST}>" in shown, shown
    assert "1× “mikä on paras pizzatäyte” (fi)" in shown
    assert "ma 23.11." in shown and "█" in shown  # the week's chart, today included
    assert "Asiantuntijalle 1" in shown

    assert bot.http is not None
    _, answer = await post_to_bot(bot.http.port, slash_command_body("tilastot", channel_id=WEST))
    stats = answer["text"]
    assert "Viikko lukuina" in stats
    assert "Kysymyksiä 1, joista UKK vastasi 0 %" in stats
    assert "ma 23.11." in stats and "1 (0 vastattu, 1 asiantuntijalle)" in stats


async def ask_expert_after(
    telegram: FakeTelegram, slack: FakeSlack, text: str, texts_before: int
) -> tuple[str, int]:
    """`ask_expert` for a chat that already holds `texts_before` messages from the bot."""
    await telegram.send_text(VOLUNTEER, f"/kysy {text}")
    await telegram.wait_for_texts(VOLUNTEER, texts_before + 1)
    await telegram.press(VOLUNTEER, "rg:y:06")
    await telegram.wait_for_texts(VOLUNTEER, texts_before + 3)
    await telegram.press(VOLUNTEER, "tk:send")
    texts = await telegram.wait_for_texts(VOLUNTEER, texts_before + 4)
    number = int(texts[-1].split("#")[1].split()[0])
    post = await slack.wait_for(lambda: slack.posts(WEST), what="ticket card")
    return str(post[-1].result["ts"]), number  # type: ignore[index]


async def test_a_reply_that_fails_to_store_is_not_acknowledged_and_slacks_retry_gets_through(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    card_ts, number = await ask_expert(telegram, slack, "Porin kysymys tallennusvirheestä", bot)
    desk = bot.core.desk
    original = desk.on_staff_message
    failures = [RuntimeError("database went away")]

    async def flaky(message: Any) -> Any:
        if failures:
            raise failures.pop()
        return await original(message)

    monkeypatch.setattr(desk, "on_staff_message", flaky)
    body = thread_reply_body(
        card_ts, "Vastaus, joka ei saa kadota.", "1700000700.000100", "EvRetry1"
    )
    assert await _post(bot, body, "application/json") == 500  # Slack will send it again
    assert await _post(bot, body, "application/json") == 200  # the retry, same event_id
    assert await _post(bot, body, "application/json") == 200  # and a duplicate is ignored
    texts = await telegram.wait_for_texts(VOLUNTEER, 5)
    assert "Vastaus, joka ei saa kadota." in texts[-1]
    async with bot.services.db.session() as session:  # each 200 came after the work was done
        stored = await session.scalar(
            select(func.count())
            .select_from(TicketMessage)
            .where(TicketMessage.ticket_id == number, TicketMessage.text.contains("kadota"))
        )
    assert stored == 1


async def test_a_reply_racing_its_card_is_refused_until_the_card_is_recorded(
    bot: BotRuntime, telegram: FakeTelegram, slack: FakeSlack
) -> None:
    desk = bot.core.desk
    original = desk.card_posted
    recorded = asyncio.Event()
    proceed = asyncio.Event()

    async def slow_card_posted(session: Any, delivery: Any, result: Any) -> None:
        await proceed.wait()  # a slow database: the card is in Slack, not yet in ours
        await original(session, delivery, result)
        recorded.set()

    bot.engine.on_sent[CARD] = slow_card_posted
    card_ts, _ = await ask_expert(telegram, slack, "Porin kysymys hitaasta kannasta")
    body = thread_reply_body(
        card_ts, "Nopea vastaus heti kortin perään.", "1700000800.000100", "EvRace1"
    )
    assert await _post(bot, body, "application/json") == 500  # Slack will send it again
    proceed.set()
    await recorded.wait()
    assert await _post(bot, body, "application/json") == 200
    texts = await telegram.wait_for_texts(VOLUNTEER, 5)
    assert "Nopea vastaus heti kortin perään." in texts[-1]
