"""iCalendar (RFC 5545) import and export of events, and recurrence expansion.

Pure: no database, no network. Everything this module returns is in UTC; local time only
matters while reading a file (TZID parameters, floating times, DATE values) and while
expanding a recurrence, which happens on the local wall clock so that a weekly 18:00 event
stays at 18:00 across daylight-saving changes.

Local times that do not exist or that happen twice follow RFC 5545 §3.3.5 (which matches
``zoneinfo`` with ``fold=0``):

* a time in the spring-forward gap is read with the UTC offset in force *before* the gap, so
  03:30 on 29 March 2026 in Helsinki is 03:30+02:00 = 01:30 UTC (= 04:30 EEST);
* a time in the repeated autumn hour is the *first* of the two, so 03:30 on 25 October 2026
  in Helsinki is 03:30+03:00 = 00:30 UTC (EEST).

Other decisions:

* a TZID that is neither defined by a VTIMEZONE in the file nor known to the time-zone
  database (nor a Windows zone name) is read like a floating time, in ``default_tz``;
* a modified instance of a recurring event (a VEVENT with RECURRENCE-ID) removes that instance
  from the series (it is added to the master's ``exdates``) and becomes an event of its own
  with the UID ``"<UID>/<RECURRENCE-ID in UTC>"``;
* ``METHOD:CANCEL`` on the calendar marks all its events cancelled;
* county codes (``X-SOTE-COUNTIES:05,06`` and ``CATEGORIES:county:05``) are merged, sorted and
  zero-padded to two digits;
* on export, timed events are written in ``tz`` with a VTIMEZONE (a time in the second,
  repeated autumn hour is written in UTC instead, so it reads back as the same instant), and
  all-day dates are the nearest midnight in ``tz``;
* RDATE is not supported (ignored); so is RANGE=THISANDFUTURE on RECURRENCE-ID.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
from icalendar import Calendar, Event, Timezone
from icalendar.prop import vBroken, vRecur

__all__ = [
    "EventData",
    "IcalError",
    "occurrences",
    "parse_calendar",
    "stable_uid",
    "to_ics",
]

PRODID = "-//Jarjestojen sote-muutostuki//sote-bot//FI"
_COUNTY_CATEGORY = "county:"
_COUNTIES_PROPERTY = "X-SOTE-COUNTIES"
# Recurrence expansion stops after this many generated instances (a guard against rules such
# as FREQ=MINUTELY with a start years ago).
_MAX_INSTANCES = 100_000


class IcalError(ValueError):
    """An iCalendar file that cannot be read; the message says what and where."""


@dataclass(frozen=True, slots=True)
class EventData:
    """One event (or one recurring series) as read from or written to iCalendar."""

    uid: str
    title: str
    description: str
    start: datetime
    end: datetime
    all_day: bool
    location: str
    url: str
    counties: tuple[str, ...]
    rrule: str | None
    exdates: tuple[datetime, ...]
    sequence: int
    cancelled: bool

    def __post_init__(self) -> None:
        """Reject naive datetimes and store every instant in UTC."""
        for name in ("start", "end"):
            value: datetime = getattr(self, name)
            if value.utcoffset() is None:
                raise ValueError(f"EventData.{name} must be time-zone aware, got {value!r}")
            object.__setattr__(self, name, value.astimezone(UTC))
        if self.end < self.start:
            raise ValueError(f"EventData {self.uid!r} ends ({self.end}) before it starts")
        exdates = []
        for value in self.exdates:
            if value.utcoffset() is None:
                raise ValueError(f"EventData.exdates must be time-zone aware, got {value!r}")
            exdates.append(value.astimezone(UTC))
        object.__setattr__(self, "exdates", tuple(sorted(set(exdates))))


def stable_uid(title: str, start: datetime) -> str:
    """Return a deterministic UID for an event that has none (a hash of title and start)."""
    stamp = start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    digest = hashlib.sha256(f"{title}\n{stamp}".encode()).hexdigest()[:32]
    return f"{digest}@sote-bot"


# ---------------------------------------------------------------------------------------------
# Local time helpers


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _resolve(naive: datetime, zone: tzinfo) -> datetime:
    """Local wall-clock time → UTC; gap: offset before the gap, repeated hour: the first."""
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _midnight(day: date, zone: tzinfo) -> datetime:
    return _resolve(datetime.combine(day, time()), zone)


def _instant(value: datetime, zone: tzinfo) -> datetime:
    """A parsed DATE-TIME → UTC; floating (or unresolvable TZID) times are read in ``zone``."""
    if value.tzinfo is None or value.utcoffset() is None:
        return _resolve(value.replace(tzinfo=None), zone)
    return value.replace(fold=0).astimezone(UTC)


def _add_nominal(start: datetime, delta: timedelta, zone: tzinfo) -> datetime:
    """Add whole days on the local calendar (same wall-clock time), the rest in real time."""
    local = start.astimezone(zone).replace(tzinfo=None)
    shifted = _resolve(local + timedelta(days=delta.days), zone) if delta.days else start
    return shifted + timedelta(seconds=delta.seconds, microseconds=delta.microseconds)


def _require_aware(**values: datetime) -> None:
    for name, value in values.items():
        if value.utcoffset() is None:
            raise ValueError(f"{name} must be time-zone aware, got {value!r}")


# ---------------------------------------------------------------------------------------------
# Recurrence rules


_UNTIL_RE = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")


def _split_rule(text: str) -> list[tuple[str, str]]:
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    parts: list[tuple[str, str]] = []
    for chunk in body.split(";"):
        if not chunk.strip():
            continue
        name, sep, value = chunk.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"RRULE part {chunk!r} is not NAME=value")
        parts.append((name.strip().upper(), value.strip()))
    if not any(name == "FREQ" for name, _ in parts):
        raise ValueError("RRULE has no FREQ")
    return parts


def _parse_until(value: str) -> date | datetime:
    """UNTIL text → date, naive (floating) datetime or UTC datetime."""
    match = _UNTIL_RE.match(value.strip().upper())
    if match is None:
        raise ValueError(f"RRULE UNTIL {value!r} is not a date or date-time")
    digits = match.group(1)
    day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    clock_digits = match.group(2)
    if clock_digits is None:
        return day
    clock = time(int(clock_digits[:2]), int(clock_digits[2:4]), int(clock_digits[4:6]))
    moment = datetime.combine(day, clock)
    return moment.replace(tzinfo=UTC) if match.group(3) else moment


def _until_instant(until: date | datetime, zone: tzinfo, all_day: bool) -> datetime:
    """The last instant an occurrence may start at, in UTC (UNTIL is inclusive)."""
    if isinstance(until, datetime):
        return _instant(until, zone)
    if all_day:
        return _midnight(until, zone)
    return _midnight(until + timedelta(days=1), zone) - timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class _Rule:
    text: str  # the rule for dateutil: without UNTIL and X- parts
    until: datetime | None  # inclusive, UTC


def _compile_rule(
    text: str, local_start: datetime, zone: tzinfo, all_day: bool
) -> tuple[_Rule, Any]:
    """Check a rule and build its dateutil expansion from the naive local start."""
    parts = _split_rule(text)
    until: datetime | None = None
    kept: list[str] = []
    for name, value in parts:
        if name == "UNTIL":
            until = _until_instant(_parse_until(value), zone, all_day)
        elif not name.startswith("X-"):
            kept.append(f"{name}={value}")
    rule_text = ";".join(kept)
    try:
        expansion = rrulestr(rule_text, dtstart=local_start)
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"RRULE {text!r} is not valid: {exc}") from None
    return _Rule(rule_text, until), expansion


def _normalise_rule(text: str, zone: tzinfo, all_day: bool) -> str:
    """Canonical rule text: UNTIL as a DATE for all-day events, else as a UTC date-time."""
    out: list[str] = []
    for name, value in _split_rule(text):
        if name == "UNTIL":
            instant = _until_instant(_parse_until(value), zone, all_day)
            if all_day:
                value = instant.astimezone(zone).strftime("%Y%m%d")
            else:
                value = instant.replace(microsecond=0).strftime("%Y%m%dT%H%M%SZ")
        out.append(f"{name}={value}")
    return ";".join(out)


def occurrences(
    event: EventData, start: datetime, end: datetime, tz: str = "Europe/Helsinki"
) -> list[datetime]:
    """Return the UTC starts of the event's occurrences within [start, end), expanded in tz."""
    _require_aware(start=start, end=end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if event.rrule is None:
        return [event.start] if start <= event.start < end else []
    zone = _zone(tz)
    local_start = event.start.astimezone(zone).replace(tzinfo=None)
    rule, expansion = _compile_rule(event.rrule, local_start, zone, event.all_day)
    excluded = set(event.exdates)
    horizon = end + timedelta(days=1)  # local → UTC is monotonic up to the DST shift
    found: list[datetime] = []
    for count, local in enumerate(expansion):
        if count >= _MAX_INSTANCES:
            break
        instant = _resolve(local, zone)
        if (rule.until is not None and instant > rule.until) or instant >= horizon:
            break
        if start <= instant < end and instant not in excluded:
            found.append(instant)
    return sorted(found)


# ---------------------------------------------------------------------------------------------
# Reading


_NAME_RE = re.compile(r"^([A-Za-z0-9-]+)[;:]")
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")


@dataclass
class _EventLines:
    begin: int
    props: dict[str, int] = field(default_factory=dict)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    try:
        return data.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:  # not UTF-8: an old Windows export
        return data.decode("cp1252", errors="replace")


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _scan(text: str) -> list[_EventLines]:
    """Check the BEGIN/END structure and note the line of each VEVENT and its properties."""
    logical: list[tuple[int, str]] = []
    for number, raw in enumerate(_NEWLINE_RE.split(text), start=1):
        if raw[:1] in (" ", "\t") and logical:
            first, content = logical[-1]
            logical[-1] = (first, content + raw[1:])
        elif raw.strip():
            logical.append((number, raw))
    if not logical:
        raise IcalError("not an iCalendar file: it is empty (expected BEGIN:VCALENDAR)")
    first_line, first_content = logical[0]
    if first_content.strip().upper() != "BEGIN:VCALENDAR":
        raise IcalError(
            "not an iCalendar file: expected BEGIN:VCALENDAR on the first line, found "
            f"{_shorten(first_content.strip())!r} (line {first_line})"
        )
    stack: list[tuple[str, int]] = []
    events: list[_EventLines] = []
    for number, content in logical:
        match = _NAME_RE.match(content)
        if match is None or ":" not in content:
            raise IcalError(
                f"line {number}: {_shorten(content)!r} is not an iCalendar line "
                "(expected NAME:value)"
            )
        name = match.group(1).upper()
        if name in ("BEGIN", "END"):
            kind = content.partition(":")[2].strip().upper()
            if name == "BEGIN":
                if not stack and kind != "VCALENDAR":
                    raise IcalError(f"line {number}: BEGIN:{kind} outside a VCALENDAR")
                stack.append((kind, number))
                if kind == "VEVENT":
                    events.append(_EventLines(number))
            elif not stack:
                raise IcalError(f"line {number}: END:{kind} without a matching BEGIN")
            elif stack[-1][0] != kind:
                open_kind, open_line = stack[-1]
                raise IcalError(
                    f"line {number}: END:{kind} does not close BEGIN:{open_kind} (line {open_line})"
                )
            else:
                stack.pop()
        elif stack and stack[-1][0] == "VEVENT" and events:
            events[-1].props.setdefault(name, number)
    if stack:
        open_kind, open_line = stack[-1]
        raise IcalError(
            f"the file ends before END:{open_kind} (BEGIN:{open_kind} is on line {open_line}); "
            "is it truncated?"
        )
    return events


@dataclass(frozen=True, slots=True)
class _Where:
    index: int
    uid: str
    lines: _EventLines | None

    def error(self, prop: str | None, problem: str) -> IcalError:
        line = None
        if self.lines is not None:
            line = self.lines.props.get(prop, self.lines.begin) if prop else self.lines.begin
        place = f"VEVENT #{self.index}" + (f", UID {self.uid!r}" if self.uid else "")
        prefix = f"line {line} ({place})" if line is not None else place
        return IcalError(f"{prefix}: {prop + ' ' if prop else ''}{problem}")


def _single(event: Event, name: str, where: _Where) -> Any:
    value = event.get(name)
    if isinstance(value, list):
        if not value:
            return None
        if name in ("DTSTART", "DTEND", "DURATION", "RRULE", "RECURRENCE-ID"):
            raise where.error(name, "appears more than once")
        value = value[0]
    if isinstance(value, vBroken):
        raise where.error(name, f"has an invalid value {_shorten(str(value))!r}")
    return value


def _ical_text(prop: Any) -> str:
    raw = prop.to_ical() if hasattr(prop, "to_ical") else str(prop)
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _text(event: Event, name: str, where: _Where) -> str:
    value = _single(event, name, where)
    return "" if value is None else str(value)


def _datetime_value(event: Event, name: str, where: _Where) -> date | datetime | None:
    prop = _single(event, name, where)
    if prop is None:
        return None
    value = getattr(prop, "dt", None)
    if not isinstance(value, date):
        raise where.error(name, f"must be a date or a date-time, got {_shorten(str(value))!r}")
    return value


def _as_instant(value: date | datetime, zone: tzinfo) -> datetime:
    return _instant(value, zone) if isinstance(value, datetime) else _midnight(value, zone)


def _counties(event: Event) -> tuple[str, ...]:
    found: list[str] = []
    custom = event.get(_COUNTIES_PROPERTY)
    for prop in custom if isinstance(custom, list) else [custom]:
        if prop is not None:
            found.extend(str(prop).replace("\\,", ",").split(","))
    categories = event.get("CATEGORIES")
    for prop in categories if isinstance(categories, list) else [categories]:
        if prop is None or isinstance(prop, vBroken):
            continue
        for item in getattr(prop, "cats", []):
            text = str(item).strip()
            if text.lower().startswith(_COUNTY_CATEGORY):
                found.append(text[len(_COUNTY_CATEGORY) :])
    codes = set()
    for raw in found:
        code = raw.strip()
        if code:
            codes.add(code.zfill(2) if code.isdigit() else code)
    return tuple(sorted(codes))


def _exdates(
    event: Event, where: _Where, zone: tzinfo, start: datetime, all_day: bool
) -> list[datetime]:
    props = event.get("EXDATE")
    out: list[datetime] = []
    for prop in props if isinstance(props, list) else [props]:
        if prop is None:
            continue
        if isinstance(prop, vBroken):
            raise where.error("EXDATE", f"has an invalid value {_shorten(str(prop))!r}")
        for item in getattr(prop, "dts", []):
            value = item.dt
            if isinstance(value, datetime):
                out.append(_instant(value, zone))
            elif isinstance(value, date):
                if all_day:
                    out.append(_midnight(value, zone))
                else:  # a DATE exception of a timed series: that day's occurrence
                    clock = start.astimezone(zone).time()
                    out.append(_resolve(datetime.combine(value, clock), zone))
            else:
                raise where.error("EXDATE", f"must be dates or date-times, got {value!r}")
    return out


@dataclass(frozen=True, slots=True)
class _Parsed:
    event: EventData
    recurrence_id: datetime | None


def _read_event(event: Event, where: _Where, zone: ZoneInfo, cancel_all: bool) -> _Parsed:
    for prop_name, problem in getattr(event, "errors", []):
        if prop_name is None:
            raise where.error(None, f"has a line that cannot be read: {problem}")
        if prop_name.upper() in _READ_PROPERTIES:
            raise where.error(prop_name.upper(), f"has an invalid value ({problem})")

    start_value = _datetime_value(event, "DTSTART", where)
    if start_value is None:
        raise where.error(None, "has no DTSTART")
    all_day = not isinstance(start_value, datetime)
    start = _as_instant(start_value, zone)

    end_value = _datetime_value(event, "DTEND", where)
    duration_prop = _single(event, "DURATION", where)
    if end_value is not None:
        end = _as_instant(end_value, zone)
    elif duration_prop is not None:
        duration = getattr(duration_prop, "dt", None)
        if not isinstance(duration, timedelta) or duration < timedelta(0):
            raise where.error("DURATION", f"must be a positive duration, got {duration!r}")
        end = _add_nominal(start, duration, zone)
    elif all_day:
        end = _add_nominal(start, timedelta(days=1), zone)
    else:
        end = start + timedelta(hours=1)
    if end < start:
        raise where.error("DTEND", "is before DTSTART")

    rrule: str | None = None
    rule_prop = _single(event, "RRULE", where)
    if rule_prop is not None:
        raw_rule = _ical_text(rule_prop)
        try:
            rrule = _normalise_rule(raw_rule, zone, all_day)
            local_start = start.astimezone(zone).replace(tzinfo=None)
            _compile_rule(rrule, local_start, zone, all_day)
        except ValueError as exc:
            raise where.error("RRULE", f"cannot be used: {exc}") from None

    sequence_prop = _single(event, "SEQUENCE", where)
    try:
        sequence = int(sequence_prop) if sequence_prop is not None else 0
    except (TypeError, ValueError):
        raise where.error("SEQUENCE", f"must be a whole number, got {sequence_prop!r}") from None

    recurrence_value = _datetime_value(event, "RECURRENCE-ID", where)
    recurrence_id = None if recurrence_value is None else _as_instant(recurrence_value, zone)

    title = _text(event, "SUMMARY", where)
    uid = _text(event, "UID", where).strip() or stable_uid(title, start)
    status = _text(event, "STATUS", where).strip().upper()
    data = EventData(
        uid=uid,
        title=title,
        description=_text(event, "DESCRIPTION", where),
        start=start,
        end=end,
        all_day=all_day,
        location=_text(event, "LOCATION", where),
        url=_text(event, "URL", where).strip(),
        counties=_counties(event),
        rrule=rrule,
        exdates=tuple(_exdates(event, where, zone, start, all_day)),
        sequence=sequence,
        cancelled=cancel_all or status == "CANCELLED",
    )
    return _Parsed(data, recurrence_id)


_READ_PROPERTIES = frozenset(
    {
        "DTSTART",
        "DTEND",
        "DURATION",
        "RRULE",
        "EXDATE",
        "SEQUENCE",
        "RECURRENCE-ID",
        "UID",
        "SUMMARY",
        "STATUS",
    }
)


def _iter_events(calendars: list[Any]) -> Iterator[tuple[Event, bool]]:
    for calendar in calendars:
        method = str(calendar.get("METHOD", "")).strip().upper()
        for component in calendar.walk("VEVENT"):
            yield component, method == "CANCEL"


def parse_calendar(data: bytes | str, *, default_tz: str = "Europe/Helsinki") -> list[EventData]:
    """Read the VEVENTs of an iCalendar file; raise IcalError saying what is wrong and where."""
    zone = _zone(default_tz)
    text = _decode(data)
    event_lines = _scan(text)
    try:
        # Always bytes: icalendar treats a one-line str as a file path to open.
        calendars = Calendar.from_ical(text.encode("utf-8"), multiple=True)
    except Exception as exc:  # the parser has more failure modes than ValueError
        raise IcalError(f"not a valid iCalendar file: {exc}") from None

    parsed: list[_Parsed] = []
    for index, (component, cancel_all) in enumerate(_iter_events(calendars), start=1):
        uid_prop = component.get("UID")
        uid = str(uid_prop[0] if isinstance(uid_prop, list) else uid_prop or "").strip()
        lines = event_lines[index - 1] if index - 1 < len(event_lines) else None
        where = _Where(index, uid, lines)
        try:
            parsed.append(_read_event(component, where, zone, cancel_all))
        except IcalError:
            raise
        except Exception as exc:  # a value icalendar accepted but cannot use
            raise where.error(None, f"cannot be read: {exc}") from None

    masters = {p.event.uid: i for i, p in enumerate(parsed) if p.recurrence_id is None}
    events = [p.event for p in parsed]
    for i, item in enumerate(parsed):
        rid = item.recurrence_id
        if rid is None:
            continue
        master_index = masters.get(item.event.uid)
        if master_index is not None:
            master = events[master_index]
            events[master_index] = replace(master, exdates=(*master.exdates, rid))
        stamp = rid.strftime("%Y%m%dT%H%M%SZ")
        events[i] = replace(item.event, uid=f"{item.event.uid}/{stamp}")
    return events


# ---------------------------------------------------------------------------------------------
# Writing


def _write_instant(value: datetime, zone: ZoneInfo, use_utc: bool) -> datetime:
    """A UTC instant as a local time with TZID, or in UTC when local time would be ambiguous."""
    if use_utc:
        return value.astimezone(UTC)
    local = value.astimezone(zone)
    if _resolve(local.replace(tzinfo=None), zone) != value:
        return value.astimezone(UTC)  # the second 03:30 of an autumn night: write it as Z
    return local


def _nearest_date(value: datetime, zone: ZoneInfo) -> date:
    """The date of an all-day boundary: the midnight nearest to it in ``zone``.

    An all-day start is a local midnight of the zone it was read in; rounding keeps the right
    date when it is written in another zone (Helsinki midnight is 21:00 or 22:00 UTC).
    """
    return (value.astimezone(zone) + timedelta(hours=12)).date()


def to_ics(
    events: Sequence[EventData],
    *,
    calendar_name: str = "Sote-muutostuki",
    tz: str = "Europe/Helsinki",
    dtstamp: datetime | None = None,
) -> bytes:
    """Write events as an iCalendar file (local times with a VTIMEZONE, or UTC for tz 'UTC')."""
    zone = _zone(tz)
    use_utc = zone.key in ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu")
    stamp = (dtstamp or datetime.now(UTC)).astimezone(UTC)
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    calendar.add("X-WR-CALNAME", calendar_name)
    calendar.add("X-WR-TIMEZONE", tz)

    if events and not use_utc:
        first = min(event.start for event in events).astimezone(zone).year
        last = max(event.end for event in events).astimezone(zone).year
        if any(event.rrule for event in events):
            last += 10
        calendar.add_component(
            Timezone.from_tzid(tz, first_date=date(first - 1, 1, 1), last_date=date(last + 1, 1, 1))
        )

    for data in events:
        calendar.add_component(_event_component(data, zone, use_utc, stamp))
    return bytes(calendar.to_ical())


def _event_component(data: EventData, zone: ZoneInfo, use_utc: bool, stamp: datetime) -> Event:
    event = Event()
    event.add("UID", data.uid or stable_uid(data.title, data.start))
    event.add("DTSTAMP", stamp)
    if data.all_day:
        event.add("DTSTART", _nearest_date(data.start, zone))
        event.add("DTEND", _nearest_date(data.end, zone))
    else:
        event.add("DTSTART", _write_instant(data.start, zone, use_utc))
        event.add("DTEND", _write_instant(data.end, zone, use_utc))
    event.add("SUMMARY", data.title)
    if data.description:
        event.add("DESCRIPTION", data.description)
    if data.location:
        event.add("LOCATION", data.location)
    if data.url:
        event.add("URL", data.url)
    if data.rrule:
        rule = _normalise_rule(data.rrule, zone, data.all_day)
        event.add("RRULE", vRecur.from_ical(rule))
    for excluded in data.exdates:
        if data.all_day:
            event.add("EXDATE", _nearest_date(excluded, zone))
        else:
            event.add("EXDATE", _write_instant(excluded, zone, use_utc))
    event.add("SEQUENCE", data.sequence)
    event.add("STATUS", "CANCELLED" if data.cancelled else "CONFIRMED")
    if data.counties:
        event.add(_COUNTIES_PROPERTY, ",".join(data.counties))
    return event
