"""Tests for schedules.timing: reminder offsets, quiet hours, office hours, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from schedules.timing import (
    add_office_hours,
    apply_quiet_hours,
    finnish_days_off,
    finnish_holidays,
    next_office_time,
    office_hours_between,
    parse_offsets,
    parse_quiet_hours,
    reminder_times,
)

HKI = ZoneInfo("Europe/Helsinki")
D, H, M, S = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)
QUIET = (time(21), time(8))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hki(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HKI)


def no_holidays(day: date) -> bool:
    return False


# -- parse_offsets -----------------------------------------------------------------------------


def test_parse_default_offsets() -> None:
    assert parse_offsets("7d,1d,2h") == (7 * D, D, 2 * H)


def test_parse_offsets_sorts_dedupes_and_tolerates_spaces() -> None:
    assert parse_offsets(" 2h, 7D ,1d,2h,") == (7 * D, D, 2 * H)
    assert parse_offsets("45s,30m") == (30 * M, 45 * S)
    assert parse_offsets("1d12h") == (D + 12 * H,)
    assert parse_offsets("24h") == (D,)  # the same timedelta: counts as one calendar day
    assert parse_offsets("0m") == (timedelta(0),)


def test_parse_offsets_empty_means_none() -> None:
    assert parse_offsets("") == ()
    assert parse_offsets("  ") == ()


@pytest.mark.parametrize("text", ["7x", "1.5h", "-2h", "h", "2", "7d;1d", "2 tuntia", "1d,abc"])
def test_parse_offsets_rejects_garbage_clearly(text: str) -> None:
    with pytest.raises(ValueError, match=r"invalid reminder offset .* unit s, m, h or d"):
        parse_offsets(text)


def test_parse_offsets_too_large() -> None:
    with pytest.raises(ValueError, match="too large"):
        parse_offsets("99999999999d")


# -- reminder_times ----------------------------------------------------------------------------


def test_reminder_times_plain() -> None:
    start = hki(2026, 5, 20, 18)
    assert reminder_times(start, parse_offsets("7d,1d,2h")) == [
        (7 * D, hki(2026, 5, 13, 18)),
        (D, hki(2026, 5, 19, 18)),
        (2 * H, hki(2026, 5, 20, 16)),
    ]
    assert all(due.tzinfo is UTC for _, due in reminder_times(start, [D, H]))


def test_one_day_before_monday_after_spring_change() -> None:
    # Event Mon 30.3.2026 18:00 EEST = 15:00 UTC; the clocks changed at 03:00 on Sunday, so
    # Sunday 18:00 is already EEST too: 15:00 UTC, exactly 24 real hours before.
    start = hki(2026, 3, 30, 18)
    assert start == utc(2026, 3, 30, 15)
    [(_, due)] = reminder_times(start, [D])
    assert due == hki(2026, 3, 29, 18) == utc(2026, 3, 29, 15)
    assert start - due == 24 * H


def test_one_day_offset_across_spring_change_is_23_real_hours() -> None:
    # Event Sun 29.3.2026 18:00 EEST (15:00 UTC) → Sat 28.3. 18:00 EET (16:00 UTC).
    start = hki(2026, 3, 29, 18)
    [(_, due)] = reminder_times(start, [D])
    assert due == utc(2026, 3, 28, 16)
    assert due.astimezone(HKI).hour == 18
    assert start - due == 23 * H


def test_one_day_offset_across_autumn_change_is_25_real_hours() -> None:
    start = hki(2026, 10, 25, 18)  # EET, 16:00 UTC
    [(_, due)] = reminder_times(start, [D])
    assert due == utc(2026, 10, 24, 15)  # Sat 18:00 EEST
    assert start - due == 25 * H


def test_seven_days_across_dst_keep_wall_clock() -> None:
    [(_, due)] = reminder_times(hki(2026, 4, 2, 18), [7 * D])
    assert due == hki(2026, 3, 26, 18) == utc(2026, 3, 26, 16)


def test_two_hours_across_spring_change_is_real_time() -> None:
    # Event 29.3.2026 05:00 EEST = 02:00 UTC; 2 h before is 00:00 UTC = 02:00 EET.
    start = hki(2026, 3, 29, 5)
    assert start == utc(2026, 3, 29, 2)
    [(_, due)] = reminder_times(start, [2 * H])
    assert due == utc(2026, 3, 29, 0)
    assert due.astimezone(HKI).replace(tzinfo=None) == datetime(2026, 3, 29, 2)  # noqa: DTZ001
    assert start - due == 2 * H


def test_two_hours_across_autumn_change_is_real_time() -> None:
    start = hki(2026, 10, 25, 4, 30)  # EET, 02:30 UTC; the local clock says 1.5 h earlier is 03:00
    [(_, due)] = reminder_times(start, [2 * H])
    assert due == utc(2026, 10, 25, 0, 30)
    assert due.astimezone(HKI).hour == 3 and due.astimezone(HKI).utcoffset() == 3 * H


def test_day_and_hours_combined() -> None:
    [(_, due)] = reminder_times(hki(2026, 3, 30, 18), [D + 2 * H])
    assert due == hki(2026, 3, 29, 16)


def test_one_day_before_lands_in_the_gap() -> None:
    # Event Mon 30.3. 03:30 EEST; Sunday 03:30 does not exist → offset before the gap:
    # 03:30+02:00 = 01:30 UTC (= 04:30 EEST).
    [(_, due)] = reminder_times(hki(2026, 3, 30, 3, 30), [D])
    assert due == utc(2026, 3, 29, 1, 30)


def test_one_day_before_lands_in_the_repeated_hour() -> None:
    # Event Mon 26.10. 03:30 EET; Sunday 03:30 happens twice → the first (EEST) = 00:30 UTC.
    [(_, due)] = reminder_times(hki(2026, 10, 26, 3, 30), [D])
    assert due == utc(2026, 10, 25, 0, 30)


def test_reminder_times_validates() -> None:
    with pytest.raises(ValueError, match="aware"):
        reminder_times(datetime(2026, 1, 1), [D])  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        reminder_times(hki(2026, 1, 1), [-H])


def test_reminder_times_other_zone() -> None:
    # US DST began 8.3.2026: 1 day before Mon 9.3. 12:00 New York is Sun 8.3. 12:00 (EDT).
    start = datetime(2026, 3, 9, 12, tzinfo=ZoneInfo("America/New_York"))
    [(_, due)] = reminder_times(start, [D], tz="America/New_York")
    assert due == utc(2026, 3, 8, 16)


# -- quiet hours -------------------------------------------------------------------------------


def test_parse_quiet_hours() -> None:
    assert parse_quiet_hours("21-08") == (time(21), time(8))
    assert parse_quiet_hours("21:30 - 07:45") == (time(21, 30), time(7, 45))
    assert parse_quiet_hours("") is None
    for bad in ("21", "25-08", "21-21", "ilta"):
        with pytest.raises(ValueError, match="quiet hours"):
            parse_quiet_hours(bad)


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (hki(2026, 5, 19, 22, 30), hki(2026, 5, 19, 20, 59)),  # evening: same day
        (hki(2026, 5, 20, 2), hki(2026, 5, 19, 20, 59)),  # night: previous evening
        (hki(2026, 5, 20, 7, 59), hki(2026, 5, 19, 20, 59)),
        (hki(2026, 5, 19, 21), hki(2026, 5, 19, 20, 59)),  # the start is inside
        (hki(2026, 5, 20, 8), hki(2026, 5, 20, 8)),  # the end is outside
        (hki(2026, 5, 19, 20, 59), hki(2026, 5, 19, 20, 59)),
        (hki(2026, 5, 19, 12), hki(2026, 5, 19, 12)),
    ],
)
def test_quiet_hours_move_earlier(due: datetime, expected: datetime) -> None:
    moved = apply_quiet_hours(due, QUIET)
    assert moved == expected
    assert moved.tzinfo is UTC
    assert moved <= due


def test_quiet_hours_off() -> None:
    due = hki(2026, 5, 20, 2)
    assert apply_quiet_hours(due, None) == due
    assert apply_quiet_hours(due, None).tzinfo is UTC


def test_quiet_hours_on_the_spring_change_night() -> None:
    # 04:30 EEST on 29.3. (01:30 UTC); quiet hours began Sat 28.3. 21:00 EET.
    moved = apply_quiet_hours(utc(2026, 3, 29, 1, 30), QUIET)
    assert moved == hki(2026, 3, 28, 20, 59) == utc(2026, 3, 28, 18, 59)
    # Sunday evening is EEST already.
    assert apply_quiet_hours(hki(2026, 3, 29, 23), QUIET) == utc(2026, 3, 29, 17, 59)


def test_quiet_hours_on_the_autumn_change_night() -> None:
    first, second = utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)  # 03:30 EEST, 03:30 EET
    assert first.astimezone(HKI).hour == second.astimezone(HKI).hour == 3
    for due in (first, second):
        assert apply_quiet_hours(due, QUIET) == hki(2026, 10, 24, 20, 59)  # 17:59 UTC, EEST


def test_quiet_hours_within_one_day_and_from_midnight() -> None:
    lunch = (time(12), time(13))
    assert apply_quiet_hours(hki(2026, 5, 19, 12, 30), lunch) == hki(2026, 5, 19, 11, 59)
    assert apply_quiet_hours(hki(2026, 5, 19, 13), lunch) == hki(2026, 5, 19, 13)
    night = (time(0), time(6))
    assert apply_quiet_hours(hki(2026, 5, 20, 3), night) == hki(2026, 5, 19, 23, 59)


def test_quiet_hours_other_zone() -> None:
    due = utc(2026, 5, 20, 2)  # 05:00 in Helsinki, 02:00 in UTC
    assert apply_quiet_hours(due, QUIET, tz="UTC") == utc(2026, 5, 19, 20, 59)


def test_quiet_hours_need_aware_due() -> None:
    with pytest.raises(ValueError, match="aware"):
        apply_quiet_hours(datetime(2026, 5, 20, 2), QUIET)  # noqa: DTZ001


# -- holidays ----------------------------------------------------------------------------------


def test_finnish_holidays() -> None:
    is_holiday = finnish_holidays()
    assert is_holiday(date(2026, 12, 6))  # itsenäisyyspäivä
    assert is_holiday(date(2026, 12, 24))  # jouluaatto
    assert is_holiday(date(2026, 6, 19))  # juhannusaatto (Fri)
    assert is_holiday(date(2027, 6, 25))
    assert is_holiday(date(2026, 4, 3))  # pitkäperjantai
    assert is_holiday(date(2026, 5, 1))
    assert not is_holiday(date(2026, 6, 18))
    assert not is_holiday(date(2026, 3, 18))
    assert is_holiday(date(2030, 12, 6))  # any year: computed on demand
    assert finnish_holidays()(date(2028, 6, 23))  # juhannusaatto 2028


def test_finnish_holidays_agree_with_an_independent_calendar() -> None:
    """The python-holidays package (a dev dependency only: it costs 17 MB resident), for
    1991–2100 (until 1990 Ascension Day was kept on a Saturday)."""
    import holidays as reference

    for year in range(1991, 2101):
        official = set(reference.country_holidays("FI", years=[year]).keys())
        assert finnish_days_off(year) == official, year


# -- office hours ------------------------------------------------------------------------------


def test_office_hours_within_a_day() -> None:
    assert office_hours_between(hki(2026, 5, 19, 7), hki(2026, 5, 19, 12)) == 4 * H
    assert office_hours_between(hki(2026, 5, 19, 12), hki(2026, 5, 19, 7)) == timedelta(0)


def test_office_hours_across_a_weekend() -> None:
    got = office_hours_between(hki(2026, 5, 15, 15), hki(2026, 5, 18, 9))  # Fri → Mon
    assert got == 2 * H


def test_office_hours_across_independence_day() -> None:
    got = office_hours_between(hki(2027, 12, 3, 15), hki(2027, 12, 7, 9))  # Fri → Tue, Mon 6.12.
    assert got == 2 * H
    assert office_hours_between(hki(2027, 12, 6, 8), hki(2027, 12, 6, 16)) == timedelta(0)
    no_days_off = office_hours_between(
        hki(2027, 12, 3, 15), hki(2027, 12, 7, 9), holidays=no_holidays
    )
    assert no_days_off == 10 * H


def test_office_hours_across_midsummer() -> None:
    got = office_hours_between(hki(2026, 6, 18, 15), hki(2026, 6, 22, 9))  # Thu → Mon
    assert got == 2 * H


def test_office_hours_across_dst_weekends() -> None:
    assert office_hours_between(hki(2026, 3, 27, 8), hki(2026, 3, 30, 16)) == 16 * H
    assert office_hours_between(hki(2026, 10, 23, 8), hki(2026, 10, 26, 16)) == 16 * H
    # Monday's office day is 08–16 EEST, i.e. 05–13 UTC (Friday's was 06–14 UTC).
    assert office_hours_between(utc(2026, 3, 30, 5), utc(2026, 3, 30, 6)) == H
    assert office_hours_between(utc(2026, 3, 27, 5), utc(2026, 3, 27, 6)) == timedelta(0)


def test_office_hours_custom_day_and_zone() -> None:
    got = office_hours_between(
        utc(2026, 5, 19, 0),
        utc(2026, 5, 20, 0),
        tz="UTC",
        day_start=time(9),
        day_end=time(17, 30),
        holidays=no_holidays,
    )
    assert got == 8.5 * H
    with pytest.raises(ValueError, match="start before it ends"):
        office_hours_between(utc(2026, 5, 19), utc(2026, 5, 20), day_start=time(16))


def test_add_office_hours_over_a_weekend_and_dst() -> None:
    # Fri 27.3. 15:00 EET + 2 h → Mon 30.3. 09:00 EEST.
    assert add_office_hours(hki(2026, 3, 27, 15), 2) == hki(2026, 3, 30, 9) == utc(2026, 3, 30, 6)


def test_add_office_hours_before_midsummer() -> None:
    start = hki(2026, 6, 18, 15)  # Thursday before juhannusaatto
    assert add_office_hours(start, 1) == hki(2026, 6, 18, 16)  # exactly the end of the day
    assert add_office_hours(start, 1.5) == hki(2026, 6, 22, 8, 30)


def test_add_office_hours_from_outside_office_time() -> None:
    assert add_office_hours(hki(2026, 5, 16, 12), 1) == hki(2026, 5, 18, 9)  # Saturday
    assert add_office_hours(hki(2026, 5, 19, 6), 9) == hki(2026, 5, 20, 9)
    assert add_office_hours(hki(2026, 5, 16, 12), 0) == hki(2026, 5, 16, 12)


def test_add_office_hours_matches_between() -> None:
    start = hki(2026, 12, 23, 13, 15)
    end = add_office_hours(start, 12.25)
    assert end == hki(2026, 12, 29, 9, 30)  # 2.75 h + Mon 8 h + 1.5 h; 24.–27.12. off
    assert office_hours_between(start, end) == timedelta(hours=12.25)


def test_add_office_hours_validates() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_office_hours(hki(2026, 5, 19, 9), -1)
    with pytest.raises(ValueError, match="no office hours"):
        add_office_hours(hki(2026, 5, 19, 9), 10, holidays=lambda day: True)


def test_next_office_time() -> None:
    inside = hki(2026, 5, 19, 10)
    assert next_office_time(inside) == inside
    assert next_office_time(inside).tzinfo is UTC
    assert next_office_time(hki(2026, 5, 19, 7)) == hki(2026, 5, 19, 8)
    assert next_office_time(hki(2026, 5, 22, 16)) == hki(2026, 5, 25, 8)  # Fri 16:00 → Mon
    assert next_office_time(hki(2026, 5, 23, 12)) == hki(2026, 5, 25, 8)  # Saturday
    assert next_office_time(hki(2027, 12, 5, 20)) == hki(2027, 12, 7, 8)  # 6.12. is Monday
    assert next_office_time(hki(2026, 12, 24, 10)) == hki(2026, 12, 28, 8)  # Christmas
    assert next_office_time(hki(2026, 6, 18, 17)) == hki(2026, 6, 22, 8)  # Midsummer
    assert next_office_time(hki(2026, 3, 28, 12)) == utc(2026, 3, 30, 5)  # after DST change
