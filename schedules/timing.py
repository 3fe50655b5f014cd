"""Pure reminder and office-hours timing: no clock, no database, no scheduler.

All results are time-zone aware datetimes in UTC; the local zone (Europe/Helsinki by default)
only decides what "a day", "quiet hours" and "office hours" mean.

Rules, and why:

* Reminder offsets split into whole days and the rest. Whole days step back on the *local
  calendar* to the same wall-clock time ("1d before" an 18:00 event is 18:00 the previous day,
  even when a DST change makes that 23 or 25 real hours); the rest (``s``, ``m``, ``h``) is
  real elapsed time ("2h before" is always 7,200 seconds before). A ``timedelta`` cannot tell
  ``24h`` from ``1d``, so ``24h`` counts as one calendar day and ``36h`` as one day plus 12
  real hours.
* A local time that does not exist (spring-forward gap, 03:00–04:00 on the last Sunday of
  March in Helsinki) is read with the UTC offset before the gap, so 03:30 means 03:30+02:00 =
  04:30 EEST; a local time that happens twice (04:00–03:00 on the last Sunday of October) is
  the first of the two (EEST). This is RFC 5545's rule and ``zoneinfo``'s ``fold=0``.
* Quiet hours move a reminder *earlier*, to one minute before the quiet period begins, so a
  reminder is never late; the caller decides what to do when that is already in the past.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "add_office_hours",
    "apply_quiet_hours",
    "finnish_holidays",
    "next_office_time",
    "office_hours_between",
    "parse_offsets",
    "parse_quiet_hours",
    "reminder_times",
]

HELSINKI = "Europe/Helsinki"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TOKEN_RE = re.compile(r"(?:\d+[smhd])+")
_PART_RE = re.compile(r"(\d+)([smhd])")
# add_office_hours gives up after this many calendar days without office time (a holiday
# calendar that says every day is a holiday would otherwise loop forever).
_MAX_DAYS = 3660

HolidayCheck = Callable[[date], bool]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _aware(name: str, value: datetime) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be time-zone aware, got {value!r}")
    return value.astimezone(UTC)


def _resolve(naive: datetime, zone: tzinfo) -> datetime:
    """Local wall-clock time → UTC; gap: offset before the gap; repeated hour: the first."""
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _local(moment: datetime, zone: tzinfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


# ---------------------------------------------------------------------------------------------
# Reminder offsets


def parse_offsets(text: str) -> tuple[timedelta, ...]:
    """Parse offsets such as "7d,1d,2h" (units s, m, h, d) into timedeltas, largest first."""
    found: set[timedelta] = set()
    for raw in text.split(","):
        token = raw.strip().lower().replace(" ", "")
        if not token:
            continue
        if not _TOKEN_RE.fullmatch(token):
            raise ValueError(
                f"invalid reminder offset {raw.strip()!r} in {text!r}: use a whole number and a "
                "unit s, m, h or d, separated by commas, e.g. '7d,1d,2h'"
            )
        seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART_RE.findall(token))
        try:
            found.add(timedelta(seconds=seconds))
        except OverflowError:
            raise ValueError(f"reminder offset {raw.strip()!r} is too large") from None
    return tuple(sorted(found, reverse=True))


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """Parse quiet hours such as "21-08" or "21:30-07:45"; empty text means none."""
    body = text.strip()
    if not body:
        return None
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?", body)
    if match is None:
        raise ValueError(f"invalid quiet hours {text!r}: use HH-HH or HH:MM-HH:MM, e.g. '21-08'")
    try:
        begin = time(int(match.group(1)), int(match.group(2) or 0))
        end = time(int(match.group(3)), int(match.group(4) or 0))
    except ValueError:
        raise ValueError(f"invalid quiet hours {text!r}: hours 0-23, minutes 0-59") from None
    if begin == end:
        raise ValueError(f"invalid quiet hours {text!r}: start and end are the same")
    return begin, end


def _before(start: datetime, offset: timedelta, zone: tzinfo) -> datetime:
    if offset < timedelta(0):
        raise ValueError(f"a reminder offset cannot be negative, got {offset}")
    due = start
    if offset.days:
        due = _resolve(_local(start, zone) - timedelta(days=offset.days), zone)
    return due - timedelta(seconds=offset.seconds, microseconds=offset.microseconds)


def reminder_times(
    start: datetime, offsets: Sequence[timedelta], *, tz: str = HELSINKI
) -> list[tuple[timedelta, datetime]]:
    """Return (offset, due in UTC): days step back on the local calendar, s/m/h in real time."""
    begins = _aware("start", start)
    zone = _zone(tz)
    return [(offset, _before(begins, offset, zone)) for offset in offsets]


# ---------------------------------------------------------------------------------------------
# Quiet hours


def apply_quiet_hours(
    due: datetime, quiet: tuple[time, time] | None, tz: str = HELSINKI
) -> datetime:
    """Move a due time inside local quiet hours to one minute before they begin (UTC result)."""
    moment = _aware("due", due)
    if quiet is None:
        return moment
    begin, end = quiet
    if begin == end:  # an empty period; parse_quiet_hours refuses it, be lenient here
        return moment
    zone = _zone(tz)
    local = _local(moment, zone)
    clock = local.time()
    if begin < end:  # e.g. 12:00–13:00, within one day
        began_on: date | None = local.date() if begin <= clock < end else None
    elif clock >= begin:  # wraps midnight, e.g. 21:00–08:00: evening part
        began_on = local.date()
    elif clock < end:  # morning part: the period began the previous evening
        began_on = local.date() - timedelta(days=1)
    else:
        began_on = None
    if began_on is None:
        return moment
    return _resolve(datetime.combine(began_on, begin) - timedelta(minutes=1), zone)


# ---------------------------------------------------------------------------------------------
# Office hours


@lru_cache(maxsize=1)
def _default_holidays() -> HolidayCheck:
    return finnish_holidays()


def easter_sunday(year: int) -> date:
    """Western Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * weekday_shift) // 433
    month = (h + weekday_shift - 7 * m + 90) // 25
    return date(year, month, (h + weekday_shift - 7 * m + 33 * month + 19) % 32)


def _saturday_from(first: date) -> date:
    return first + timedelta(days=(5 - first.weekday()) % 7)


@lru_cache(maxsize=256)
def finnish_days_off(year: int) -> frozenset[date]:
    """Finnish public holidays of `year`, with Christmas Eve and Midsummer Eve (days off in
    practice). Sundays are days off anyway; Easter Sunday and Pentecost are listed too."""
    easter = easter_sunday(year)
    midsummer_day = _saturday_from(date(year, 6, 20))
    return frozenset(
        {
            date(year, 1, 1),  # uudenvuodenpäivä
            date(year, 1, 6),  # loppiainen
            easter - timedelta(days=2),  # pitkäperjantai
            easter,  # pääsiäispäivä
            easter + timedelta(days=1),  # 2. pääsiäispäivä
            date(year, 5, 1),  # vappu
            easter + timedelta(days=39),  # helatorstai
            easter + timedelta(days=49),  # helluntaipäivä
            midsummer_day - timedelta(days=1),  # juhannusaatto
            midsummer_day,  # juhannuspäivä
            _saturday_from(date(year, 10, 31)),  # pyhäinpäivä
            date(year, 12, 6),  # itsenäisyyspäivä
            date(year, 12, 24),  # jouluaatto
            date(year, 12, 25),  # joulupäivä
            date(year, 12, 26),  # tapaninpäivä
        }
    )


def finnish_holidays() -> HolidayCheck:
    """Return a check for Finnish public holidays plus Christmas Eve and Midsummer Eve
    (each year computed when first asked about)."""

    def is_holiday(day: date) -> bool:
        """True for a Finnish holiday or de facto day off."""
        return day in finnish_days_off(day.year)

    return is_holiday


def _check_day(day_start: time, day_end: time) -> None:
    if day_start >= day_end:
        raise ValueError(f"office day must start before it ends, got {day_start}–{day_end}")


def _window(
    day: date, zone: tzinfo, day_start: time, day_end: time, holidays: HolidayCheck
) -> tuple[datetime, datetime] | None:
    """The office period of one local day in UTC, or None on weekends and holidays."""
    if day.weekday() >= 5 or holidays(day):
        return None
    return (
        _resolve(datetime.combine(day, day_start), zone),
        _resolve(datetime.combine(day, day_end), zone),
    )


def office_hours_between(
    start: datetime,
    end: datetime,
    *,
    tz: str = HELSINKI,
    day_start: time = time(8),
    day_end: time = time(16),
    holidays: HolidayCheck | None = None,
) -> timedelta:
    """Return the office time (Mon–Fri, day_start–day_end local, no holidays) in [start, end)."""
    begin, finish = _aware("start", start), _aware("end", end)
    _check_day(day_start, day_end)
    zone = _zone(tz)
    check = holidays or _default_holidays()
    total = timedelta(0)
    if finish <= begin:
        return total
    day = _local(begin, zone).date()
    last = _local(finish, zone).date()
    while day <= last:
        window = _window(day, zone, day_start, day_end, check)
        if window is not None:
            low, high = max(window[0], begin), min(window[1], finish)
            if high > low:
                total += high - low
        day += timedelta(days=1)
    return total


def add_office_hours(
    start: datetime,
    hours: float,
    *,
    tz: str = HELSINKI,
    day_start: time = time(8),
    day_end: time = time(16),
    holidays: HolidayCheck | None = None,
) -> datetime:
    """Return the instant (UTC) at which `hours` office hours have elapsed after start."""
    if hours < 0:
        raise ValueError(f"hours cannot be negative, got {hours}")
    moment = _aware("start", start)
    _check_day(day_start, day_end)
    zone = _zone(tz)
    check = holidays or _default_holidays()
    remaining = timedelta(hours=hours)
    if not remaining:
        return moment
    day = _local(moment, zone).date()
    for _ in range(_MAX_DAYS):
        window = _window(day, zone, day_start, day_end, check)
        if window is not None and window[1] > moment:
            low = max(window[0], moment)
            available = window[1] - low
            if remaining <= available:
                return low + remaining
            remaining -= available
        day += timedelta(days=1)
    raise ValueError(f"no office hours found within {_MAX_DAYS} days after {moment}")


def next_office_time(
    moment: datetime,
    *,
    tz: str = HELSINKI,
    day_start: time = time(8),
    day_end: time = time(16),
    holidays: HolidayCheck | None = None,
) -> datetime:
    """Return moment (UTC) if within office hours, else the start of the next office period."""
    current = _aware("moment", moment)
    _check_day(day_start, day_end)
    zone = _zone(tz)
    check = holidays or _default_holidays()
    day = _local(current, zone).date()
    for _ in range(_MAX_DAYS):
        window = _window(day, zone, day_start, day_end, check)
        if window is not None and current < window[1]:
            return max(window[0], current)
        day += timedelta(days=1)
    raise ValueError(f"no office hours found within {_MAX_DAYS} days after {current}")
