"""Tests for handlers.ical: reading, expanding and writing iCalendar events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.ical import EventData, IcalError, occurrences, parse_calendar, stable_uid, to_ics

HKI = ZoneInfo("Europe/Helsinki")
NY = ZoneInfo("America/New_York")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hki(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HKI)


def cal(*lines: str) -> bytes:
    """A VCALENDAR around the given lines, with CRLF line ends."""
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//test//EN", *lines, "END:VCALENDAR"]
    return ("\r\n".join(body) + "\r\n").encode()


def vevent(*lines: str, uid: str = "e1@test") -> list[str]:
    head = ["BEGIN:VEVENT", f"UID:{uid}"] if uid else ["BEGIN:VEVENT"]
    return [*head, "DTSTAMP:20260101T000000Z", *lines, "END:VEVENT"]


def one(*lines: str, default_tz: str = "Europe/Helsinki") -> EventData:
    events = parse_calendar(cal(*vevent(*lines)), default_tz=default_tz)
    assert len(events) == 1
    return events[0]


def local_clock(instants: list[datetime]) -> set[tuple[int, int]]:
    return {(i.astimezone(HKI).hour, i.astimezone(HKI).minute) for i in instants}


WINDOW = (utc(2025, 1, 1), utc(2028, 1, 1))

# -- time zones --------------------------------------------------------------------------------


def test_helsinki_tzid_without_vtimezone() -> None:
    event = one(
        "SUMMARY:Aluekierros Turku",
        "DTSTART;TZID=Europe/Helsinki:20260115T180000",
        "DTEND;TZID=Europe/Helsinki:20260115T200000",
    )
    assert event.start == utc(2026, 1, 15, 16)  # EET, +02:00
    assert event.end == utc(2026, 1, 15, 18)
    assert event.start.tzinfo is UTC
    assert event.title == "Aluekierros Turku"
    assert not event.all_day
    assert event.rrule is None
    assert event.sequence == 0
    assert not event.cancelled


def test_helsinki_tzid_in_summer_and_quoted_tzid() -> None:
    event = one('DTSTART;TZID="Europe/Helsinki":20260615T180000')
    assert event.start == utc(2026, 6, 15, 15)  # EEST, +03:00


def test_tzid_with_its_own_vtimezone() -> None:
    data = cal(
        "BEGIN:VTIMEZONE",
        "TZID:Suomen aika",
        "BEGIN:STANDARD",
        "DTSTART:19701025T040000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "TZOFFSETFROM:+0300",
        "TZOFFSETTO:+0200",
        "END:STANDARD",
        "BEGIN:DAYLIGHT",
        "DTSTART:19700329T030000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0300",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
        *vevent("DTSTART;TZID=Suomen aika:20260615T180000", uid="a"),
        *vevent("DTSTART;TZID=Suomen aika:20260115T180000", uid="b"),
    )
    summer, winter = parse_calendar(data)
    assert summer.start == utc(2026, 6, 15, 15)
    assert winter.start == utc(2026, 1, 15, 16)


def test_windows_zone_name() -> None:
    event = one("DTSTART;TZID=FLE Standard Time:20260115T180000")
    assert event.start == utc(2026, 1, 15, 16)


def test_unknown_tzid_is_read_in_the_default_zone() -> None:
    event = one("DTSTART;TZID=Somewhere/Nowhere:20260115T180000")
    assert event.start == utc(2026, 1, 15, 16)


def test_other_zone() -> None:
    event = one("DTSTART;TZID=America/New_York:20260115T180000")
    assert event.start == utc(2026, 1, 15, 23)


def test_utc_z_times() -> None:
    event = one("DTSTART:20260115T160000Z", "DTEND:20260115T173000Z")
    assert event.start == utc(2026, 1, 15, 16)
    assert event.end == utc(2026, 1, 15, 17, 30)


def test_floating_time_uses_default_tz() -> None:
    assert one("DTSTART:20260115T180000").start == utc(2026, 1, 15, 16)
    assert one("DTSTART:20260715T180000").start == utc(2026, 7, 15, 15)
    assert one("DTSTART:20260115T180000", default_tz="UTC").start == utc(2026, 1, 15, 18)


def test_unknown_default_tz_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_calendar(cal(), default_tz="Mars/Olympus")


# -- non-existent and repeated local times (documented choice: RFC 5545 §3.3.5) -----------------


def test_time_in_the_spring_forward_gap_uses_the_offset_before_the_gap() -> None:
    # 29.3.2026 clocks go 03:00 EET → 04:00 EEST; 03:30 does not exist.
    event = one("DTSTART;TZID=Europe/Helsinki:20260329T033000")
    assert event.start == utc(2026, 3, 29, 1, 30)
    assert event.start.astimezone(HKI) == hki(2026, 3, 29, 4, 30)


def test_floating_time_in_the_gap_behaves_the_same() -> None:
    assert one("DTSTART:20260329T033000").start == utc(2026, 3, 29, 1, 30)


def test_time_in_the_repeated_autumn_hour_is_the_first_one() -> None:
    # 25.10.2026 clocks go 04:00 EEST → 03:00 EET; 03:30 happens twice.
    event = one("DTSTART;TZID=Europe/Helsinki:20261025T033000")
    assert event.start == utc(2026, 10, 25, 0, 30)  # 03:30 EEST, not 01:30 UTC (EET)


# -- all-day and durations ---------------------------------------------------------------------


def test_all_day_single_day() -> None:
    event = one("DTSTART;VALUE=DATE:20260115", "DTEND;VALUE=DATE:20260116")
    assert event.all_day
    assert event.start == utc(2026, 1, 14, 22)  # local midnight, EET
    assert event.end == utc(2026, 1, 15, 22)


def test_all_day_without_dtend_lasts_one_day() -> None:
    event = one("DTSTART;VALUE=DATE:20260115")
    assert event.end - event.start == timedelta(days=1)


def test_all_day_across_dst_ends_at_local_midnight_after_the_last_day() -> None:
    event = one("DTSTART;VALUE=DATE:20260328", "DTEND;VALUE=DATE:20260330")
    assert event.start == hki(2026, 3, 28)
    assert event.end == hki(2026, 3, 30)
    assert event.end - event.start == timedelta(hours=47)  # two local days, one 23 h long


def test_all_day_with_duration_in_days() -> None:
    event = one("DTSTART;VALUE=DATE:20260328", "DURATION:P2D")
    assert event.end == hki(2026, 3, 30)


def test_duration() -> None:
    event = one("DTSTART;TZID=Europe/Helsinki:20260115T180000", "DURATION:PT1H30M")
    assert event.end == utc(2026, 1, 15, 17, 30)


def test_duration_of_a_day_is_nominal_across_dst() -> None:
    event = one("DTSTART;TZID=Europe/Helsinki:20260328T180000", "DURATION:P1DT2H")
    assert event.end == hki(2026, 3, 29, 20)


def test_missing_end_defaults_to_one_hour() -> None:
    event = one("DTSTART:20260115T160000Z")
    assert event.end == utc(2026, 1, 15, 17)


# -- properties --------------------------------------------------------------------------------


def test_text_properties_and_counties() -> None:
    event = one(
        "DTSTART:20260115T160000Z",
        "SUMMARY:Järjestöilta\\, Pori",
        "DESCRIPTION:Rivi 1\\nRivi 2\\; loppu",
        "LOCATION:Teams",
        "URL:https://example.org/ilmoittaudu?id=1",
        "X-SOTE-COUNTIES:06,05",
        "CATEGORIES:county:07,Koulutus",
        "SEQUENCE:3",
    )
    assert event.title == "Järjestöilta, Pori"
    assert event.description == "Rivi 1\nRivi 2; loppu"
    assert event.location == "Teams"
    assert event.url == "https://example.org/ilmoittaudu?id=1"
    assert event.counties == ("05", "06", "07")
    assert event.sequence == 3


def test_county_codes_escaped_and_unpadded() -> None:
    event = one("DTSTART:20260115T160000Z", "X-SOTE-COUNTIES:5\\, 90", "CATEGORIES:County:05")
    assert event.counties == ("05", "90")


def test_no_counties_means_national() -> None:
    assert one("DTSTART:20260115T160000Z", "CATEGORIES:Koulutus").counties == ()


def test_cancelled() -> None:
    assert one("DTSTART:20260115T160000Z", "STATUS:CANCELLED").cancelled
    assert not one("DTSTART:20260115T160000Z", "STATUS:CONFIRMED").cancelled


def test_method_cancel_cancels_every_event() -> None:
    data = cal("METHOD:CANCEL", *vevent("DTSTART:20260115T160000Z"))
    assert parse_calendar(data)[0].cancelled


def test_missing_uid_gets_a_stable_hash() -> None:
    data = cal(*vevent("SUMMARY:Ilta", "DTSTART:20260115T160000Z", uid=""))
    first, second = parse_calendar(data)[0].uid, parse_calendar(data)[0].uid
    assert first == second == stable_uid("Ilta", utc(2026, 1, 15, 16))
    assert first != stable_uid("Ilta", utc(2026, 1, 15, 17))


def test_todo_and_journal_are_ignored_and_empty_calendar_is_empty() -> None:
    data = cal(
        "BEGIN:VTODO",
        "UID:t",
        "SUMMARY:ei tapahtuma",
        "END:VTODO",
        "BEGIN:VJOURNAL",
        "UID:j",
        "END:VJOURNAL",
    )
    assert parse_calendar(data) == []
    assert parse_calendar(cal()) == []


def test_str_input_lf_line_ends_and_bom() -> None:
    text = "\ufeffBEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\nDTSTART:20260115T160000Z\nEND:VEVENT\n"
    text += "END:VCALENDAR\n"
    assert parse_calendar(text)[0].uid == "x"
    assert parse_calendar(text.encode())[0].start == utc(2026, 1, 15, 16)


def test_folded_lines() -> None:
    event = one("DTSTART:20260115T160000Z", "DESCRIPTION:pitkä", "  kuvaus")
    assert event.description == "pitkä kuvaus"


# -- recurrences -------------------------------------------------------------------------------


def test_weekly_rrule_keeps_local_time_across_spring_dst() -> None:
    event = one(
        "DTSTART;TZID=Europe/Helsinki:20260316T180000",
        "DURATION:PT1H",
        "RRULE:FREQ=WEEKLY;COUNT=4",
    )
    assert event.rrule == "FREQ=WEEKLY;COUNT=4"
    got = occurrences(event, *WINDOW)
    assert got == [
        utc(2026, 3, 16, 16),  # EET
        utc(2026, 3, 23, 16),
        utc(2026, 3, 30, 15),  # EEST after 29.3.
        utc(2026, 4, 6, 15),
    ]
    assert local_clock(got) == {(18, 0)}


def test_weekly_rrule_keeps_local_time_across_autumn_dst() -> None:
    event = one("DTSTART;TZID=Europe/Helsinki:20261012T180000", "RRULE:FREQ=WEEKLY;COUNT=4")
    got = occurrences(event, *WINDOW)
    assert got == [
        utc(2026, 10, 12, 15),  # EEST
        utc(2026, 10, 19, 15),
        utc(2026, 10, 26, 16),  # EET after 25.10.
        utc(2026, 11, 2, 16),
    ]
    assert local_clock(got) == {(18, 0)}


def test_rrule_from_utc_dtstart_still_expands_in_local_time() -> None:
    event = one("DTSTART:20260323T160000Z", "RRULE:FREQ=WEEKLY;COUNT=2")
    assert local_clock(occurrences(event, *WINDOW)) == {(18, 0)}


def test_expansion_zone_is_a_parameter() -> None:
    event = one("DTSTART:20260309T160000Z", "RRULE:FREQ=WEEKLY;COUNT=2")
    # US DST starts 8.3.2026: in New York time the series stays at 12:00 local.
    assert occurrences(event, *WINDOW, tz="America/New_York") == [
        utc(2026, 3, 9, 16),
        utc(2026, 3, 16, 16),
    ]
    assert occurrences(event, *WINDOW, tz="UTC") == [utc(2026, 3, 9, 16), utc(2026, 3, 16, 16)]


def test_until_in_utc_is_inclusive() -> None:
    event = one(
        "DTSTART;TZID=Europe/Helsinki:20260316T180000",
        "RRULE:FREQ=WEEKLY;UNTIL=20260330T150000Z",
    )
    assert occurrences(event, *WINDOW) == [
        utc(2026, 3, 16, 16),
        utc(2026, 3, 23, 16),
        utc(2026, 3, 30, 15),
    ]


def test_until_as_date_and_floating_is_normalised_to_utc() -> None:
    by_date = one(
        "DTSTART;TZID=Europe/Helsinki:20260316T180000", "RRULE:FREQ=WEEKLY;UNTIL=20260330"
    )
    assert by_date.rrule == "FREQ=WEEKLY;UNTIL=20260330T205959Z"
    assert len(occurrences(by_date, *WINDOW)) == 3
    floating = one("DTSTART:20260316T180000", "RRULE:FREQ=WEEKLY;UNTIL=20260323T180000")
    assert floating.rrule == "FREQ=WEEKLY;UNTIL=20260323T160000Z"
    assert len(occurrences(floating, *WINDOW)) == 2


def test_count_with_exdate_counts_the_excluded_instance() -> None:
    event = one(
        "DTSTART;TZID=Europe/Helsinki:20260316T180000",
        "RRULE:FREQ=WEEKLY;COUNT=4",
        "EXDATE;TZID=Europe/Helsinki:20260323T180000,20260406T180000",
    )
    assert event.exdates == (utc(2026, 3, 23, 16), utc(2026, 4, 6, 15))
    assert occurrences(event, *WINDOW) == [utc(2026, 3, 16, 16), utc(2026, 3, 30, 15)]


def test_exdate_in_utc_and_as_date() -> None:
    event = one(
        "DTSTART;TZID=Europe/Helsinki:20260316T180000",
        "RRULE:FREQ=DAILY;COUNT=5",
        "EXDATE:20260317T160000Z",
        "EXDATE;VALUE=DATE:20260319",
    )
    assert [o.astimezone(HKI).day for o in occurrences(event, *WINDOW)] == [16, 18, 20]


def test_daily_interval_and_byday() -> None:
    event = one(
        "DTSTART;TZID=Europe/Helsinki:20260302T090000",
        "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=4",
    )
    got = [o.astimezone(HKI).date().isoformat() for o in occurrences(event, *WINDOW)]
    assert got == ["2026-03-02", "2026-03-04", "2026-03-16", "2026-03-18"]


def test_monthly_by_last_weekday() -> None:
    event = one("DTSTART;TZID=Europe/Helsinki:20260130T100000", "RRULE:FREQ=MONTHLY;BYDAY=-1FR")
    got = occurrences(event, utc(2026, 1, 1), utc(2026, 5, 1))
    assert [o.astimezone(HKI).day for o in got] == [30, 27, 27, 24]
    assert local_clock(got) == {(10, 0)}


def test_all_day_recurrence_stays_at_local_midnight() -> None:
    event = one("DTSTART;VALUE=DATE:20260327", "RRULE:FREQ=DAILY;UNTIL=20260330")
    assert event.rrule == "FREQ=DAILY;UNTIL=20260330"
    assert occurrences(event, *WINDOW) == [
        hki(2026, 3, 27),
        hki(2026, 3, 28),
        hki(2026, 3, 29),
        hki(2026, 3, 30),
    ]


def test_occurrences_window_is_half_open() -> None:
    event = one("DTSTART:20260316T160000Z", "RRULE:FREQ=DAILY")  # open-ended
    got = occurrences(event, utc(2026, 3, 17, 16), utc(2026, 3, 19, 16))
    assert got == [utc(2026, 3, 17, 16), utc(2026, 3, 18, 16)]


def test_single_event_occurrence() -> None:
    event = one("DTSTART:20260316T160000Z")
    assert occurrences(event, *WINDOW) == [utc(2026, 3, 16, 16)]
    assert occurrences(event, utc(2026, 3, 16, 16), utc(2026, 3, 16, 17)) == [event.start]
    assert occurrences(event, utc(2026, 3, 16, 17), utc(2026, 3, 17)) == []
    assert occurrences(event, utc(2026, 3, 16), utc(2026, 3, 16, 16)) == []


def test_occurrences_need_aware_bounds() -> None:
    event = one("DTSTART:20260316T160000Z")
    with pytest.raises(ValueError, match="aware"):
        occurrences(event, datetime(2026, 1, 1), utc(2027, 1, 1))  # noqa: DTZ001


def test_modified_instance_moves_out_of_the_series() -> None:
    data = cal(
        *vevent(
            "SUMMARY:Kerho",
            "DTSTART;TZID=Europe/Helsinki:20260316T180000",
            "RRULE:FREQ=WEEKLY;COUNT=3",
            uid="series",
        ),
        *vevent(
            "SUMMARY:Kerho (siirretty)",
            "RECURRENCE-ID;TZID=Europe/Helsinki:20260323T180000",
            "DTSTART;TZID=Europe/Helsinki:20260324T180000",
            uid="series",
        ),
    )
    master, moved = parse_calendar(data)
    assert master.uid == "series"
    assert master.exdates == (utc(2026, 3, 23, 16),)
    assert moved.uid == "series/20260323T160000Z"
    assert moved.start == utc(2026, 3, 24, 16)
    assert occurrences(master, *WINDOW) == [utc(2026, 3, 16, 16), utc(2026, 3, 30, 15)]


# -- broken input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty"),
        (b"<html><body>Not found</body></html>", "not an iCalendar file.*<html>"),
        ("just some text", "not an iCalendar file"),
        (b"BEGIN:VEVENT\r\nEND:VEVENT\r\n", "not an iCalendar file"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", "line 2.*truncated"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VTODO\r\n", "line 3: END:VTODO.*line 2"),
        (b"BEGIN:VCALENDAR\r\nhello there\r\nEND:VCALENDAR\r\n", "line 2: 'hello there'"),
    ],
)
def test_not_a_calendar(data: bytes | str, expected: str) -> None:
    with pytest.raises(IcalError, match=expected):
        parse_calendar(data)


def test_bad_date_names_the_event_and_line() -> None:
    data = cal(*vevent("SUMMARY:Rikki", "DTSTART;TZID=Europe/Helsinki:20260332T180000"))
    with pytest.raises(IcalError) as caught:
        parse_calendar(data)
    message = str(caught.value)
    assert message.startswith("line 8 (VEVENT #1, UID 'e1@test'): DTSTART")
    assert "20260332T180000" in message
    assert "Traceback" not in message


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["SUMMARY:ei alkua"], "has no DTSTART"),
        (["DTSTART:20260115T160000Z", "DTEND:20260115T150000Z"], "DTEND is before DTSTART"),
        (["DTSTART:20260115T160000Z", "DURATION:tunti"], "line 8.*DURATION.*tunti"),
        (["DTSTART:20260115T160000Z", "RRULE:FREQ=SOMETIMES"], "RRULE.*SOMETIMES"),
        (["DTSTART:20260115T160000Z", "RRULE:FREQ=WEEKLY;BYDAY=XX"], "RRULE"),
        (["DTSTART:20260115T160000Z", "EXDATE:tomorrow"], "EXDATE"),
        (["DTSTART:20260115T160000Z", "SEQUENCE:two"], "SEQUENCE"),
    ],
)
def test_bad_event_properties(lines: list[str], expected: str) -> None:
    with pytest.raises(IcalError, match=expected):
        parse_calendar(cal(*vevent(*lines)))


def test_second_event_is_named_in_the_error() -> None:
    data = cal(*vevent("DTSTART:20260115T160000Z", uid="ok"), *vevent("SUMMARY:x", uid="bad"))
    with pytest.raises(IcalError, match=r"VEVENT #2, UID 'bad'"):
        parse_calendar(data)


def test_a_path_like_string_is_not_opened_as_a_file() -> None:
    with pytest.raises(IcalError, match="not an iCalendar file"):
        parse_calendar("/etc/hostname")


# -- export ------------------------------------------------------------------------------------


def sample_events() -> list[EventData]:
    return [
        EventData(
            uid="kerho@sote-bot",
            title="Järjestökerho; Pori, Rauma",
            description="Ohjelma:\n- kahvit\n- keskustelu",
            start=hki(2026, 3, 16, 18),
            end=hki(2026, 3, 16, 19, 30),
            all_day=False,
            location="Porin kaupunginkirjasto",
            url="https://example.org/ilmoittaudu?tapahtuma=1&kieli=fi",
            counties=("05", "06"),
            rrule="FREQ=WEEKLY;UNTIL=20260413T150000Z",
            exdates=(hki(2026, 3, 30, 18),),
            sequence=2,
            cancelled=False,
        ),
        EventData(
            uid="",
            title="Kesäpäivät",
            description="",
            start=hki(2026, 6, 18),
            end=hki(2026, 6, 20),
            all_day=True,
            location="",
            url="",
            counties=(),
            rrule=None,
            exdates=(),
            sequence=0,
            cancelled=True,
        ),
        EventData(
            uid="yo@sote-bot",
            title="Yöllinen huolto",
            description="",
            # the second 03:30 of 25.10.2026 (EET): must survive the round trip
            start=utc(2026, 10, 25, 1, 30),
            end=utc(2026, 10, 25, 2, 30),
            all_day=False,
            location="https://teams.example.org/meet/1",
            url="",
            counties=("90",),
            rrule=None,
            exdates=(),
            sequence=0,
            cancelled=False,
        ),
    ]


def test_to_ics_is_a_valid_calendar() -> None:
    out = to_ics(sample_events(), dtstamp=utc(2026, 1, 1))
    text = out.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    for needle in (
        "VERSION:2.0",
        "PRODID:",
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Helsinki",
        "X-WR-CALNAME:Sote-muutostuki",
        "DTSTART;TZID=Europe/Helsinki:20260316T180000",
        "DTEND;TZID=Europe/Helsinki:20260316T193000",
        "RRULE:FREQ=WEEKLY;UNTIL=20260413T150000Z",
        "EXDATE;TZID=Europe/Helsinki:20260330T180000",
        "DTSTART;VALUE=DATE:20260618",
        "DTEND;VALUE=DATE:20260620",
        "DTSTAMP:20260101T000000Z",
        "SEQUENCE:2",
        "STATUS:CANCELLED",
        "STATUS:CONFIRMED",
        "X-SOTE-COUNTIES:05,06",
        "DTSTART:20261025T013000Z",
        f"UID:{stable_uid('Kesäpäivät', hki(2026, 6, 18))}",
    ):
        assert needle in text, needle
    assert text.count("BEGIN:VEVENT") == 3


def test_round_trip() -> None:
    events = sample_events()
    back = parse_calendar(to_ics(events))
    expected = [*events]
    expected[1] = replace(events[1], uid=stable_uid("Kesäpäivät", hki(2026, 6, 18)))
    assert back == expected
    assert occurrences(back[0], *WINDOW) == occurrences(events[0], *WINDOW)
    assert len(occurrences(back[0], *WINDOW)) == 4


def test_round_trip_in_utc() -> None:
    events = sample_events()
    out = to_ics(events, tz="UTC", calendar_name="Testi")
    assert b"BEGIN:VTIMEZONE" not in out
    assert b"DTSTART:20260316T160000Z" in out
    assert b"X-WR-CALNAME:Testi" in out
    assert b"DTSTART;VALUE=DATE:20260618" in out  # the Helsinki date, not 17.6. (UTC)
    back = parse_calendar(out)
    assert [e.start for e in back] == [e.start for e in events]
    assert [e.end for e in back] == [e.end for e in events]
    assert back[0].rrule == events[0].rrule


def test_round_trip_of_parsed_file() -> None:
    data = cal(
        *vevent(
            "SUMMARY:Kerho",
            "DTSTART;TZID=Europe/Helsinki:20260316T180000",
            "DURATION:PT2H",
            "RRULE:FREQ=WEEKLY;COUNT=5;BYDAY=MO",
            "EXDATE:20260323T160000Z",
            "CATEGORIES:county:08",
        ),
        *vevent("DTSTART;VALUE=DATE:20261224", "RRULE:FREQ=YEARLY", uid="aatto"),
    )
    events = parse_calendar(data)
    assert parse_calendar(to_ics(events)) == events


def test_empty_export() -> None:
    out = to_ics([])
    assert parse_calendar(out) == []
    assert b"PRODID" in out


def test_event_data_requires_aware_times_and_stores_utc() -> None:
    event = sample_events()[0]
    assert event.start == utc(2026, 3, 16, 16)
    assert event.start.tzinfo is UTC
    with pytest.raises(ValueError, match="aware"):
        replace(event, start=datetime(2026, 1, 1))  # noqa: DTZ001
