"""Events and reminders: import/export, what volunteers see, and reminders on time."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import BotRuntime, build_core, build_services
from bot.settings import Settings
from handlers.ical import parse_calendar
from storage.models import Delivery, Event, Subscription, User
from tests.chat import Chat
from tests.fakes.clock import FakeClock, RunningClock
from tests.fakes.slack import FakeSlack, action_body, post_to_bot, slash_command_body
from tests.fakes.telegram import FakeTelegram

HELSINKI_INFO = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:info-1@sote
DTSTAMP:20261101T120000Z
DTSTART;TZID=Europe/Helsinki:{start}
DTEND;TZID=Europe/Helsinki:{end}
SUMMARY:{title}
LOCATION:Pori
URL:https://example.fi/ilmoittaudu
X-SOTE-COUNTIES:06
{extra}END:VEVENT
BEGIN:VEVENT
UID:webinaari@sote
DTSTAMP:20261101T120000Z
DTSTART:20261203T100000Z
DTEND:20261203T113000Z
SUMMARY:Valtakunnallinen webinaari
RRULE:FREQ=WEEKLY;COUNT=3
END:VEVENT
END:VCALENDAR
"""


def calendar(
    start: str = "20261215T180000",
    end: str = "20261215T200000",
    title: str = "Järjestöinfo: avustukset 2027",
    extra: str = "",
) -> bytes:
    return HELSINKI_INFO.format(start=start, end=end, title=title, extra=extra).encode()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
async def core(make_settings: Callable[..., Settings], clock: FakeClock) -> AsyncIterator[Any]:
    services = build_services(make_settings(), clock)
    await services.db.upgrade()
    try:
        yield build_core(services)
    finally:
        await services.db.dispose()


async def test_import_is_idempotent_and_updates_by_uid(core: Any) -> None:
    first = await core.events.import_calendar(calendar())
    again = await core.events.import_calendar(calendar())
    moved = await core.events.import_calendar(
        calendar(start="20261216T180000", end="20261216T200000")
    )
    assert (first.created, again.unchanged, moved.updated) == (2, 2, 1)
    async with core.services.db.session() as session:
        events = list((await session.execute(select(Event))).scalars())
    assert len(events) == 2
    info = next(e for e in events if e.uid == "info-1@sote")
    assert info.start == datetime(2026, 12, 16, 16, 0, tzinfo=UTC)
    assert info.counties == ["06"]


async def test_export_round_trips_through_icalendar(core: Any) -> None:
    await core.events.import_calendar(calendar())
    async with core.services.db.session() as session:
        body = await core.events.export_calendar(session)
    events = {e.uid: e for e in parse_calendar(body)}
    assert set(events) == {"info-1@sote", "webinaari@sote"}
    assert events["webinaari@sote"].rrule and "COUNT=3" in events["webinaari@sote"].rrule
    assert events["info-1@sote"].start == datetime(2026, 12, 15, 16, 0, tzinfo=UTC)


async def test_volunteers_see_their_region_and_national_events(core: Any) -> None:
    await core.events.import_calendar(calendar())
    chat = Chat(core.router)
    await chat.say("/tapahtumat")
    assert "valtakunnalliset" in chat.text()
    assert "webinaari" in chat.text() and "avustukset 2027" not in chat.text()
    await chat.say("/alue Pori")
    await chat.press("Kyllä")
    await chat.say("/tapahtumat")
    text = chat.text()
    assert "Satakunta ja valtakunnalliset" in text
    assert "ti 15.12.2026 klo 18.00–20.00" in text
    assert "📍 Pori" in text
    assert "Ilmoittaudu" in chat.buttons() and "Muistuta minua" in chat.buttons()
    await chat.press("Lisää kalenteriin")
    attachment = chat.last[0].attachment
    assert attachment is not None and attachment.filename.endswith(".ics")
    assert parse_calendar(attachment.content)[0].title


async def test_events_list_pages(core: Any, clock: FakeClock) -> None:
    async with core.services.db.session() as session:
        for n in range(7):
            start = clock.now() + timedelta(days=n + 1)
            session.add(
                Event(
                    uid=f"e{n}",
                    title=f"Tapahtuma {n}",
                    start=start,
                    end=start + timedelta(hours=1),
                    counties=[],
                    exdates=[],
                    created_at=clock.now(),
                    updated_at=clock.now(),
                    last_occurrence=start,
                )
            )
    chat = Chat(core.router)
    await chat.say("/tapahtumat")
    assert "Tapahtuma 4" in chat.text() and "Tapahtuma 5" not in chat.text()
    await chat.press("Lisää tapahtumia")
    assert "Tapahtuma 5" in chat.text() and "Tapahtuma 6" in chat.text()


async def test_subscribe_and_unsubscribe(core: Any) -> None:
    await core.events.import_calendar(calendar())
    chat = Chat(core.router)
    await chat.say("/tilaa")
    assert "valtakunnallisista tapahtumista" in chat.text()
    await chat.say("/tilaa")
    assert "jo tilannut" in chat.text()
    await chat.say("/tapahtumat")
    await chat.press("Muistuta minua")
    assert "Muistutan tapahtumasta" in chat.text()
    await chat.say("/peru")
    assert chat.buttons() == [
        "Alueen tapahtumat",
        "Valtakunnallinen webinaari",
        "Kaikki muistutukset",
    ]
    await chat.press("Kaikki muistutukset")
    async with core.services.db.session() as session:
        assert list((await session.execute(select(Subscription))).scalars()) == []


async def _subscriber(core: Any, chat_id: str, county: str | None, language: str = "fi") -> None:
    chat = Chat(core.router, user_id=chat_id, language_code=language)
    if county:
        await chat.say(f"/alue {county}")
        await chat.press("Kyllä")
    await chat.say("/tilaa")


async def _reminders(core: Any) -> list[Delivery]:
    async with core.services.db.session() as session:
        rows = await session.execute(
            select(Delivery).where(Delivery.kind == "event_reminder").order_by(Delivery.not_before)
        )
        return list(rows.scalars())


async def test_reminders_are_planned_once_per_recipient_and_offset(
    core: Any, clock: FakeClock
) -> None:
    await core.events.import_calendar(calendar())
    await _subscriber(core, "301", "Pori")
    await _subscriber(core, "302", None)  # national only: no reminder of the Satakunta event
    await _subscriber(core, "303", "Tampere")
    clock.set(datetime(2026, 12, 8, 15, 50, tzinfo=UTC))  # 7 d before 15.12. 18:00 is 16:00 UTC
    await core.planner.plan()
    await core.planner.plan()
    rows = [r for r in await _reminders(core) if "info-1" in r.payload.get("text", "") or True]
    info = [r for r in rows if r.dedupe_key.startswith("reminder:1:")]
    assert [(r.recipient, r.not_before) for r in info] == [
        ("301", datetime(2026, 12, 8, 16, 0, tzinfo=UTC))
    ]
    assert "Muistutus: Järjestöinfo" in info[0].payload["text"]
    assert info[0].payload["expires_at"] == "2026-12-15T16:00:00+00:00"


async def test_quiet_hours_move_a_reminder_earlier(core: Any, clock: FakeClock) -> None:
    # An event at 09:00 → its 2 h reminder would be 07:00, inside 21–08: it goes at 20:59.
    await core.events.import_calendar(calendar(start="20261215T090000", end="20261215T100000"))
    await _subscriber(core, "311", "Pori")
    clock.set(datetime(2026, 12, 14, 18, 45, tzinfo=UTC))  # 20:45 in Helsinki
    await core.planner.plan()
    rows = [
        r
        for r in await _reminders(core)
        if r.dedupe_key.endswith(":7200:" + r.dedupe_key.split(":")[-1])
    ]
    assert [(r.recipient, r.not_before) for r in rows] == [
        ("311", datetime(2026, 12, 14, 18, 59, tzinfo=UTC))  # 20:59 Helsinki
    ]


@pytest.mark.parametrize(
    ("local", "offset", "due_utc"),
    [
        # 29 March 2026: clocks go 03:00 → 04:00; 03:30 does not exist and is read as 01:30 UTC
        # (= 04:30 EEST, when the event really starts): 2 h before is 23:30 UTC, and 1 d before
        # is 04:30 local on the 28th (EET) = 02:30 UTC.
        ("20260329T033000", "2h", datetime(2026, 3, 28, 23, 30, tzinfo=UTC)),
        ("20260329T033000", "1d", datetime(2026, 3, 28, 2, 30, tzinfo=UTC)),
        # 25 October 2026: 03:30 happens twice; the first one (EEST, 00:30 UTC) is meant.
        ("20261025T033000", "2h", datetime(2026, 10, 24, 22, 30, tzinfo=UTC)),
        ("20261025T033000", "1d", datetime(2026, 10, 24, 0, 30, tzinfo=UTC)),
        # A 1 d reminder across the change keeps the local clock time: 18:00 the day before.
        ("20260330T180000", "1d", datetime(2026, 3, 29, 15, 0, tzinfo=UTC)),
        ("20261026T180000", "1d", datetime(2026, 10, 25, 16, 0, tzinfo=UTC)),
    ],
)
async def test_reminders_across_daylight_saving_changes(
    make_settings: Callable[..., Settings], local: str, offset: str, due_utc: datetime
) -> None:
    clock = FakeClock(due_utc - timedelta(minutes=10))
    services = build_services(make_settings(reminder_offsets=offset, quiet_hours=""), clock)
    await services.db.upgrade()
    try:
        core = build_core(services)
        end = local[:9] + "235900"
        await core.events.import_calendar(calendar(start=local, end=end))
        await _subscriber(core, "321", "Pori")
        await core.planner.plan()
        rows = [r for r in await _reminders(core) if r.dedupe_key.startswith("reminder:1:")]
        assert [r.not_before for r in rows] == [due_utc]
    finally:
        await services.db.dispose()


async def test_changed_and_cancelled_events_notify_subscribers(core: Any, clock: FakeClock) -> None:
    await core.events.import_calendar(calendar())
    await _subscriber(core, "331", "Pori")
    clock.set(datetime(2026, 12, 8, 15, 55, tzinfo=UTC))
    await core.planner.plan()
    moved = await core.events.import_calendar(
        calendar(start="20261216T180000", end="20261216T200000")
    )
    assert moved.updated == 1 and moved.notified == 1
    cancelled = await core.events.import_calendar(
        calendar(start="20261216T180000", end="20261216T200000", extra="STATUS:CANCELLED\n")
    )
    assert cancelled.cancelled == 1
    async with core.services.db.session() as session:
        rows = list((await session.execute(select(Delivery).order_by(Delivery.id))).scalars())
    notices = [r.payload["text"] for r in rows if r.kind == "event_change"]
    assert (
        notices[0].startswith("📣 Tapahtuman tiedot muuttuivat") and "ke 16.12.2026" in notices[0]
    )
    assert notices[1].startswith("❌ Tapahtuma on peruttu")
    await core.planner.plan()
    assert not [r for r in await _reminders(core) if r.dedupe_key.startswith("reminder:1:")]


async def test_an_edited_event_is_reminded_with_its_new_details(
    core: Any, clock: FakeClock
) -> None:
    await core.events.import_calendar(calendar())
    await _subscriber(core, "332", "Pori")
    clock.set(datetime(2026, 12, 8, 15, 55, tzinfo=UTC))
    await core.planner.plan()
    await core.events.import_calendar(calendar(title="Järjestöinfo: avustukset ja tilat 2027"))
    await core.planner.plan()
    rows = [r for r in await _reminders(core) if r.dedupe_key.startswith("reminder:1:")]
    assert [(r.status, r.recipient) for r in rows] == [("pending", "332")]
    assert "avustukset ja tilat 2027" in rows[0].payload["text"]


async def test_subscribing_again_plans_the_reminder_again(core: Any, clock: FakeClock) -> None:
    await core.events.import_calendar(calendar())
    await _subscriber(core, "333", "Pori")
    clock.set(datetime(2026, 12, 8, 15, 55, tzinfo=UTC))
    await core.planner.plan()
    chat = Chat(core.router, user_id="333")
    await chat.say("/peru kaikki")
    await core.planner.plan()
    assert not [r for r in await _reminders(core) if r.dedupe_key.startswith("reminder:1:")]
    await chat.say("/tilaa")
    await core.planner.plan()
    rows = [r for r in await _reminders(core) if r.dedupe_key.startswith("reminder:1:")]
    assert [(r.status, r.recipient) for r in rows] == [("pending", "333")]


async def test_announcement_reaches_subscribers_of_chosen_counties(core: Any) -> None:
    await _subscriber(core, "341", "Pori")
    await _subscriber(core, "342", "Tampere")
    await _subscriber(core, "343", None)
    draft = await core.staff_events.draft_announcement("Tervetuloa infoon!", ["06"], "UEXPERT01")
    assert isinstance(draft, tuple) and draft[1] == 1
    assert await core.staff_events.send_announcement(draft[0]) == 1
    assert await core.staff_events.send_announcement(draft[0]) == 0  # once
    everyone = await core.staff_events.draft_announcement("Kaikille!", [], "UEXPERT01")
    assert isinstance(everyone, tuple) and everyone[1] == 3


# -- end to end, with real time and the real scheduler ------------------------------------------


@pytest.fixture
async def live_bot(
    channel_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[BotRuntime, RunningClock]]:
    # A minute before the reminder test's due time (16:00 UTC): start-up and the chat steps
    # take what they take on a loaded machine; that test then jumps to 5 s before due.
    clock = RunningClock(datetime(2026, 12, 8, 15, 59, 0, tzinfo=UTC))
    runtime = BotRuntime.create(channel_settings(quiet_hours=""), clock=clock)  # type: ignore[arg-type]
    await runtime.start()
    try:
        yield runtime, clock
    finally:
        await runtime.stop()


async def test_subscriber_gets_the_reminder_within_two_seconds_of_due(
    live_bot: tuple[BotRuntime, RunningClock], telegram: FakeTelegram, slack: FakeSlack
) -> None:
    runtime, clock = live_bot
    await runtime.core.events.import_calendar(calendar())
    await telegram.send_text(351, "/alue Pori")
    await telegram.wait_for_texts(351, 1)
    await telegram.press(351, "rg:y:06")
    # A button press and a text are separate updates, handled concurrently: /tilaa only
    # after the region is saved.
    await telegram.wait_for_texts(351, 2)
    await telegram.send_text(351, "/tilaa")
    texts = await telegram.wait_for_texts(351, 3)
    assert "alueesi (Satakunta)" in texts[-1]
    due = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)  # 7 days before 15.12. 18:00 Helsinki
    lead = due - timedelta(seconds=5) - clock.now()
    assert lead > timedelta(0), f"setting up took until {clock.now()}"
    clock.jump(seconds=lead.total_seconds())  # 5 s before due, however long the set-up took
    runtime.engine.poke()  # the engine times its wake-up from the clock it sees now
    await runtime.core.planner.plan()
    texts = await telegram.wait_for(
        lambda: [c for c in telegram.sent(351) if "Muistutus" in str(c.params.get("text"))],
        timeout=15,
        what="the reminder",
    )
    sent_at = clock.now() - timedelta(seconds=time.monotonic() - texts[0].at)
    lateness = (sent_at - due).total_seconds()
    print(f"reminder delivered {lateness:+.3f} s after its due time")
    assert -0.05 <= lateness < 2.0
    channel = await slack.wait_for(lambda: slack.posts("C00EXAMPLE3"), what="area channel")
    assert "Tapahtuma tulossa" in channel[0].params["text"]


async def _slack_post(bot: BotRuntime, body: str) -> tuple[int, Any]:
    assert bot.http is not None
    return await post_to_bot(bot.http.port, body)


def _view_submission(callback_id: str, values: dict[str, Any], metadata: dict[str, Any]) -> str:
    state = {
        block: {"value": {"type": "plain_text_input", "value": value}}
        if not isinstance(value, list)
        else {
            "value": {
                "type": "multi_static_select",
                "selected_options": [{"value": v} for v in value],
            }
        }
        for block, value in values.items()
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T00000001"},
        "user": {"id": "UEXPERT01", "name": "aino"},
        "api_app_id": "A0001",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": json.dumps(metadata),
            "state": {"values": state},
        },
    }
    return action_body(payload)


async def test_staff_create_an_event_in_a_slack_modal(
    live_bot: tuple[BotRuntime, RunningClock], telegram: FakeTelegram, slack: FakeSlack
) -> None:
    runtime, _ = live_bot
    body = slash_command_body("tapahtuma")
    status, _ = await _slack_post(runtime, body)
    assert status == 200
    opened = await slack.wait_for(lambda: slack.ok_calls("views.open"), what="modal")
    assert opened[0].params["view"]["callback_id"] == "sote_event"

    bad = _view_submission("sote_event", {"title": "Info", "start": "huomenna"}, {"channel": "C1"})
    _, errors = await _slack_post(runtime, bad)
    assert errors["response_action"] == "errors" and "start" in errors["errors"]

    good = _view_submission(
        "sote_event",
        {
            "title": "Kumppanuuspöytä",
            "start": "20.1.2027 17:30",
            "end": "",
            "location": "Pori",
            "url": "",
            "description": "",
            "counties": ["06"],
            "reminders": "1d",
        },
        {"channel": "C1"},
    )
    status, _ = await _slack_post(runtime, good)
    assert status == 200
    # Bolt answers once the listener acks; what follows happens after the HTTP 200. The
    # confirmation to staff comes last: the event is stored by then.
    confirmed = await slack.wait_for(
        lambda: slack.ok_calls("chat.postEphemeral"), what="the confirmation to staff"
    )
    assert "Kumppanuuspöytä" in confirmed[0].params["text"]
    async with runtime.services.db.session() as session:
        event = (await session.execute(select(Event))).scalar_one()
    assert event.start == datetime(2027, 1, 20, 15, 30, tzinfo=UTC)
    assert event.counties == ["06"] and event.reminder_offsets == "1d"


async def test_announcement_modal_shows_the_recipient_count_then_sends(
    live_bot: tuple[BotRuntime, RunningClock], telegram: FakeTelegram, slack: FakeSlack
) -> None:
    runtime, _ = live_bot
    async with runtime.services.db.session() as session:
        for n in range(3):
            user = User(
                platform="telegram",
                platform_id=str(360 + n),
                county_code="06",
                state_data={},
                created_at=datetime.now(UTC),
                seen_at=datetime.now(UTC),
            )
            session.add(user)
            await session.flush()
            session.add(Subscription(user_id=user.id, scope="region", created_at=datetime.now(UTC)))
    first = _view_submission(
        "sote_announce", {"text": "Muistakaa kysely!", "counties": ["06"]}, {"channel": "C1"}
    )
    _, step = await _slack_post(runtime, first)
    assert step["response_action"] == "update"
    assert step["view"]["submit"]["text"] == "Lähetä (3)"
    metadata = json.loads(step["view"]["private_metadata"])
    confirm = _view_submission("sote_announce_confirm", {}, metadata)
    await _slack_post(runtime, confirm)
    for chat in ("360", "361", "362"):
        texts = await telegram.wait_for_texts(chat, 1)
        assert "Muistakaa kysely!" in texts[0]
    confirmed = await slack.wait_for(
        lambda: slack.ok_calls("chat.postEphemeral"), what="the confirmation to staff"
    )
    assert "3 tilaajalle" in confirmed[0].params["text"]
