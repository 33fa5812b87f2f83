"""Chinese official working days (工作日), the clock that every issue deadline runs on.

Weekends and public holidays are off, make-up working days (调休) are on. The official
arrangement comes from the ``chinese_calendar`` package. An override file (the shipped
``data/holidays.json`` merged year by year with ``<config dir>/holidays.json``, the user's file
winning) can replace any year wholesale, so an office can add next year's arrangement the day the
State Council publishes it. Entries marked ``"provisional": true`` are used only for years
``chinese_calendar`` does not know; such years, and years with no data at all (weekends only), give
one :class:`CalendarFallbackWarning` per year per process and never an error.

Everything is cached per calendar year (a working-day flag per day, a cumulative count and the
list of working days), so counting is arithmetic, not a walk over days. The caches and the override
files are read once; call :func:`clear_cache` after changing the override file or the config dir.

Working *hours* are the office hours of working days (:func:`work_hours`): by default 08:30-12:00
and 14:00-17:30, from ``data/workhours.csv`` or the user's ``<config dir>/workhours.csv`` beside
``sla.csv``. Limits in working hours, the countdown colour and the time left all count them.

Datetimes are naive local time: China has one time zone.
"""

from __future__ import annotations

import sys
import warnings
from calendar import isleap
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from pathlib import Path
from typing import NamedTuple

import orjson

from gridtool.errors import InputError
from gridtool.i18n import t
from gridtool.oserrors import os_reason
from gridtool.paths import config_dir, data_file

__all__ = [
    "CalendarFallbackWarning",
    "LazyText",
    "WorkHours",
    "add_work_hours",
    "add_workdays",
    "calendar_source",
    "clear_cache",
    "countdown",
    "is_workday",
    "work_hours",
    "work_seconds_between",
    "work_time_text",
    "workdays_between",
]

DAY_SECONDS = 86400
OVERRIDE_FILE = "holidays.json"
WORKHOURS_FILE = "workhours.csv"
"""The office hours of a working day, beside the time-limit table (``data/workhours.csv``, or
``<config dir>/workhours.csv`` which replaces it): one ``start,end`` row per period."""
YELLOW_SHARE = (4, 5)
"""Share of the working time used from which an open issue turns yellow (80 %), as a fraction."""


class CalendarFallbackWarning(UserWarning):
    """Deadlines in this year are approximate: no official holiday arrangement is known."""


class LazyText:
    """A translated message that is rendered when shown, so an error parameter follows the language
    in force when the error is displayed, not when it was raised."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, /, **params: object) -> None:
        self.key = key
        self.params = params

    def __str__(self) -> str:
        return t(self.key, **self.params)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"LazyText({self.key!r}, {self.params!r})"


class _Override(NamedTuple):
    holidays: frozenset[int]
    workdays: frozenset[int]
    provisional: bool


class _Year:
    """One calendar year: flags[i] is 1 when day ``start + i`` (an ordinal) is a working day."""

    __slots__ = ("cum", "end", "flags", "source", "start", "total", "work", "year")

    def __init__(self, year: int, start: int, flags: bytes, source: str) -> None:
        self.year = year
        self.start = start
        self.end = start + len(flags)
        self.flags = flags
        self.cum = list(accumulate(flags, initial=0))
        self.total = self.cum[-1]
        self.work = [start + i for i, flag in enumerate(flags) if flag]
        self.source = source


_years: dict[int, _Year] = {}
_by_ordinal: dict[int, _Year] = {}
_overrides: dict[int, _Override] | None = None
_warned_years: set[int] = set()


def clear_cache() -> None:
    """Forget the per-year tables and the override files (not which years were warned about)."""
    global _overrides, _office
    _years.clear()
    _by_ordinal.clear()
    _overrides = None
    _office = None


class WorkHours:
    """The periods of a working day in seconds since midnight, e.g. 08:30-12:00 and 14:00-17:30.

    :meth:`done` maps a time of day to the working seconds behind it, :meth:`at` maps them back (to
    the earliest such time: 3.5 h into the default day is 12:00, not 14:00).
    """

    def __init__(self, periods: list[tuple[int, int]]) -> None:
        self.periods = tuple(periods)
        self.day = sum(end - start for start, end in self.periods)

    def done(self, secs: float) -> float:
        total = 0.0
        for start, end in self.periods:
            if secs <= start:
                break
            total += min(secs, end) - start
        return total

    def at(self, worked: float) -> float:
        for start, end in self.periods:
            if worked <= end - start:
                return start + worked
            worked -= end - start
        return float(self.periods[-1][1])

    def text(self) -> str:
        """``08:30-12:00, 14:00-17:30``"""
        return ", ".join(f"{_clock(a)}-{_clock(b)}" for a, b in self.periods)


def _clock(secs: int) -> str:
    return f"{secs // 3600:02d}:{secs % 3600 // 60:02d}"


def _parse_clock(text: str) -> int | None:
    hh, sep, mm = text.strip().replace("：", ":").partition(":")
    if not (sep and hh.isdigit() and mm.isdigit() and len(mm) == 2):
        return None
    secs = int(hh) * 3600 + int(mm) * 60
    return secs if int(mm) < 60 and 0 <= secs <= DAY_SECONDS else None


def _parse_work_hours(path: Path, data: bytes) -> WorkHours:
    import csv
    import io

    from gridtool.paths import decode_table

    def bad(row: int, reason: str, /, **params: object) -> InputError:
        return InputError("workhours.bad_row", path=str(path), row=row, reason=LazyText(reason, **params))

    text = decode_table(data)
    if text is None:
        raise bad(1, "sla.reason.encoding")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [cell.strip().lower() for cell in next(reader, [])]
    for column in ("start", "end"):
        if column not in header:
            raise bad(1, "sla.reason.missing_column", column=column)
    first, last = header.index("start"), header.index("end")
    periods: list[tuple[int, int]] = []
    for cells in reader:
        n = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        values = [cells[i] if i < len(cells) else "" for i in (first, last)]
        start, end = (_parse_clock(v) for v in values)
        if start is None or end is None:
            raise bad(n, "workhours.reason.bad_time", value=values[0] if start is None else values[1])
        if end <= start:
            raise bad(n, "workhours.reason.empty_period", start=values[0].strip(), end=values[1].strip())
        if periods and start < periods[-1][1]:
            raise bad(n, "workhours.reason.overlap")
        periods.append((start, end))
    if not periods:
        raise bad(2, "sla.reason.no_rows")
    return WorkHours(periods)


_office: tuple[str, float, WorkHours] | None = None
RECHECK_SECONDS = 1.0
"""How long the office hours are trusted before the file is looked at again: a countdown is drawn
for every row of a list, and a dashboard runs for days while someone may edit the file."""


def work_hours() -> WorkHours:
    """The office hours in force (looked at again at most once a second, re-read when changed)."""
    global _office
    from time import monotonic

    where = str(config_dir())
    if _office is not None and _office[0] == where and monotonic() - _office[1] < RECHECK_SECONDS:
        return _office[2]
    from gridtool.paths import in_force, load_table

    hours = load_table(in_force(WORKHOURS_FILE), _parse_work_hours, "workhours.unreadable")
    _office = (where, monotonic(), hours)
    return hours


def _bad_override(path: Path, reason: str, /, **params: object) -> InputError:
    return InputError("calendar.bad_override", path=str(path), reason=LazyText(reason, **params))


def _parse_dates(path: Path, year: int, values: object) -> frozenset[int]:
    if values is None:
        return frozenset()
    if not isinstance(values, list):
        raise _bad_override(path, "calendar.reason.bad_entry", year=year)
    out = set()
    for value in values:
        try:
            day = date.fromisoformat(value)
        except (TypeError, ValueError):
            raise _bad_override(path, "calendar.reason.bad_date", year=year, value=value) from None
        if day.year != year:
            raise _bad_override(path, "calendar.reason.wrong_year", year=year, value=value)
        out.add(day.toordinal())
    return frozenset(out)


def _read_override_file(path: Path) -> dict[int, _Override]:
    """Parse one override file: ``{"2027": {"holidays": [...], "workdays": [...], ...}}``.

    Keys starting with ``_`` are notes. A broken file is an error, not ignored, because silently
    dropping an office's holidays would move every deadline.
    """
    try:
        raw = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise _bad_override(path, "calendar.reason.json", detail=str(exc)) from None
    except OSError as exc:
        raise _bad_override(path, "calendar.reason.json", detail=os_reason(exc)) from None
    if not isinstance(raw, dict):
        raise _bad_override(path, "calendar.reason.not_object")
    result: dict[int, _Override] = {}
    for key, entry in raw.items():
        if key.startswith("_"):
            continue
        if not (len(key) == 4 and key.isdigit()):
            raise _bad_override(path, "calendar.reason.bad_year", key=key)
        year = int(key)
        if not isinstance(entry, dict):
            raise _bad_override(path, "calendar.reason.bad_entry", year=year)
        holidays = _parse_dates(path, year, entry.get("holidays"))
        workdays = _parse_dates(path, year, entry.get("workdays"))
        both = holidays & workdays
        if both:
            value = date.fromordinal(min(both)).isoformat()
            raise _bad_override(path, "calendar.reason.both", value=value)
        result[year] = _Override(holidays, workdays, bool(entry.get("provisional", False)))
    return result


def _load_overrides() -> dict[int, _Override]:
    global _overrides
    if _overrides is None:
        shipped = data_file(OVERRIDE_FILE)
        merged = _read_override_file(shipped) if shipped.is_file() else {}
        user = config_dir() / OVERRIDE_FILE
        if user.is_file():
            merged.update(_read_override_file(user))
        _overrides = merged
    return _overrides


def _weekend_flags(start: int, end: int, override: _Override | None) -> bytes:
    flags = bytearray((o - 1) % 7 < 5 for o in range(start, end))
    if override is not None:
        for o in override.holidays:
            flags[o - start] = 0
        for o in override.workdays:
            flags[o - start] = 1
    return bytes(flags)


def _official_flags(start: int, end: int) -> bytes | None:
    import chinese_calendar

    try:
        return bytes(chinese_calendar.is_workday(date.fromordinal(o)) for o in range(start, end))
    except NotImplementedError:
        return None


def _warn_fallback(year: int) -> None:
    if year in _warned_years:
        return
    _warned_years.add(year)
    message = t("calendar.fallback", year=year, path=str(config_dir() / OVERRIDE_FILE))
    level, frame = 1, sys._getframe(0)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        level, frame = level + 1, frame.f_back
    warnings.warn(message, CalendarFallbackWarning, stacklevel=level)


def _year(year: int) -> _Year:
    table = _years.get(year)
    if table is not None:
        return table
    start = date(year, 1, 1).toordinal()
    end = start + (366 if isleap(year) else 365)
    override = _load_overrides().get(year)
    if override is not None and not override.provisional:
        flags, source = _weekend_flags(start, end, override), "override"
    else:
        official = _official_flags(start, end)
        if official is not None:
            flags, source = official, "official"
        else:
            flags = _weekend_flags(start, end, override)
            source = "provisional" if override is not None else "weekends"
            _warn_fallback(year)
    table = _Year(year, start, flags, source)
    _years[year] = table
    for o in range(start, end):
        _by_ordinal[o] = table
    return table


def _table(o: int) -> _Year:
    table = _by_ordinal.get(o)
    if table is None:
        table = _year(date.fromordinal(o).year)
    return table


def _is_work(o: int) -> int:
    table = _by_ordinal.get(o) or _table(o)
    return table.flags[o - table.start]


def _count(lo: int, hi: int) -> int:
    """Working days among ordinals ``lo <= o < hi`` (``lo <= hi``)."""
    table = _table(lo)
    if hi <= table.end:
        return table.cum[hi - table.start] - table.cum[lo - table.start]
    n = table.total - table.cum[lo - table.start]
    year = table.year + 1
    while True:
        table = _year(year)
        if hi <= table.end:
            return n + table.cum[hi - table.start]
        n += table.total
        year += 1


def _nth_from(o: int, m: int) -> int:
    """The m-th (m >= 1) working day among ordinals ``>= o``."""
    table = _table(o)
    i = o - table.start
    while True:
        done = table.cum[i]
        if m <= table.total - done:
            return table.work[done + m - 1]
        m -= table.total - done
        table = _year(table.year + 1)
        i = 0


def _nth_back(o: int, m: int) -> int:
    """The m-th (m >= 1) working day among ordinals ``<= o``, counting backwards."""
    table = _table(o)
    i = o - table.start + 1
    while True:
        avail = table.cum[i]
        if m <= avail:
            return table.work[avail - m]
        m -= avail
        table = _year(table.year - 1)
        i = len(table.flags)


def _split(x: date) -> tuple[int, float]:
    """(day ordinal, seconds since midnight) of a date or datetime."""
    if isinstance(x, datetime):
        return x.toordinal(), x.hour * 3600 + x.minute * 60 + x.second + x.microsecond / 1e6
    return x.toordinal(), 0.0


def _as_datetime(x: date) -> datetime:
    return x if isinstance(x, datetime) else datetime.combine(x, time())


def _work_seconds(a: int, sa: float, b: int, sb: float, hours: WorkHours | None = None) -> float:
    if (b, sb) < (a, sa):
        return -_work_seconds(b, sb, a, sa, hours)
    hours = hours or work_hours()
    if a == b:
        return hours.done(sb) - hours.done(sa) if _is_work(a) else 0.0
    total = hours.day - hours.done(sa) if _is_work(a) else 0.0
    if b > a + 1:
        total += hours.day * _count(a + 1, b)
    if _is_work(b):
        total += hours.done(sb)
    return total


def is_workday(d: date) -> bool:
    """Whether ``d`` (a date or datetime) is a working day."""
    return bool(_is_work(d.toordinal()))


def calendar_source(year: int) -> str:
    """Where the year's working days come from: ``official`` (chinese_calendar), ``override``
    (a non-provisional entry in an override file), ``provisional`` (a provisional entry, no make-up
    days) or ``weekends`` (nothing known); the last two are approximate."""
    return _year(year).source


MAX_SPAN_DAYS = 73_000
"""About two centuries: no count of days or hours may carry a date past the years gridtool
accepts (:data:`gridtool.validate.MIN_YEAR` .. ``MAX_YEAR``), where date arithmetic overflows."""


def _check_span(d: date, amount: float, per_day: int) -> None:
    """Refuse a count whose result would leave the years allowed, before any arithmetic."""
    from gridtool.validate import MAX_YEAR, MIN_YEAR

    if abs(amount) > MAX_SPAN_DAYS * per_day or not MIN_YEAR <= d.year <= MAX_YEAR:
        raise InputError("input.span_range", min=MIN_YEAR, max=MAX_YEAR)


def _in_years(result: date) -> date:
    from gridtool.validate import MAX_YEAR, MIN_YEAR

    if not MIN_YEAR <= result.year <= MAX_YEAR:
        raise InputError("input.span_range", min=MIN_YEAR, max=MAX_YEAR)
    return result


def add_workdays(d: date, n: int) -> date:
    """The n-th working day after ``d`` (``d`` itself not counted, as 开始的当日不计入).

    Negative ``n`` gives the |n|-th working day before ``d``. ``n == 0`` returns ``d`` unchanged,
    even on a holiday, so ``workdays_between(d, add_workdays(d, n)) == n`` for every ``n >= 0``.
    A datetime keeps its time of day.
    """
    if n == 0:
        return d
    _check_span(d, n, 1)
    o = d.toordinal()
    target = _nth_from(o + 1, n) if n > 0 else _nth_back(o - 1, -n)
    return _in_years(d + timedelta(days=target - o))


def workdays_between(start: date, end: date) -> int:
    """Working days in ``(start, end]`` by calendar date; negative when ``end`` is before ``start``."""
    a, b = start.toordinal(), end.toordinal()
    if b >= a:
        return _count(a + 1, b + 1)
    return -_count(b + 1, a + 1)


def add_work_hours(start: date, hours: float) -> datetime:
    """The moment ``hours`` working hours after ``start``: only office hours of working days count
    (:func:`work_hours`, by default 08:30-12:00 and 14:00-17:30, 7 hours a day).

    A window that uses up a day's hours ends at the day's last office minute (17:30), not at the
    next morning; Friday 16:30 + 2 h is Monday 09:30. A start outside office hours counts from
    the next office minute. Negative ``hours`` count backwards.
    """
    _check_span(start, hours, 24)
    s = _as_datetime(start)
    remaining = hours * 3600
    if remaining == 0:
        return s
    office = work_hours()
    o, secs = _split(s)
    midnight = s - timedelta(seconds=secs)
    working = _is_work(o)

    def on(day: int, worked: float) -> datetime:
        return midnight + timedelta(days=day - o, seconds=office.at(worked))

    if remaining > 0:
        if working:
            done = office.done(secs)
            if remaining <= office.day - done:
                return on(o, done + remaining)
            remaining -= office.day - done
        days, rest = divmod(remaining, office.day)
        if rest == 0:
            return on(_nth_from(o + 1, int(days)), office.day)
        return on(_nth_from(o + 1, int(days) + 1), rest)
    remaining = -remaining
    if working:
        done = office.done(secs)
        if remaining <= done:
            return on(o, done - remaining)
        remaining -= done
    days, rest = divmod(remaining, office.day)
    if rest == 0:
        return on(_nth_back(o - 1, int(days)), 0)
    return on(_nth_back(o - 1, int(days) + 1), office.day - rest)


def work_seconds_between(start: date, end: date) -> float:
    """Seconds of office hours on working days in ``[start, end]``; negative when ``end`` is
    before ``start``."""
    a, sa = _split(start)
    b, sb = _split(end)
    return _work_seconds(a, sa, b, sb)


def countdown(reported_at: date, due: date, now: date) -> str:
    """The deadline colour of an open issue: ``green`` below 80 % of its office hours used,
    ``yellow`` from 80 %, ``red`` once ``now`` is past ``due``.

    A window with no working time in it (due at or before the report, or only holidays) is yellow
    until it is overdue, since there is no slack left to show.
    """
    r, sr = _split(reported_at)
    d, sd = _split(due)
    n, sn = _split(now)
    if (n, sn) > (d, sd):
        return "red"
    office = work_hours()
    window = _work_seconds(r, sr, d, sd, office)
    if window <= 0:
        return "yellow"
    used = _work_seconds(r, sr, n, sn, office)
    return "yellow" if used * YELLOW_SHARE[1] >= window * YELLOW_SHARE[0] else "green"


def work_time_text(hours: float) -> str:
    """Working time as a person reads it: ``1 个工作日 3.5 小时`` from 10.5 hours of 7-hour days."""
    from decimal import ROUND_HALF_UP, Decimal

    tenths = int(Decimal(str(hours)).scaleb(1).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    day = round(work_hours().day / 360)
    days, rest = divmod(max(tenths, 0), day) if day else (0, max(tenths, 0))
    shown = f"{rest / 10:g}"
    if days and rest:
        return t("report.left.days_hours", days=days, hours=shown)
    if days:
        return t("report.left.days", days=days)
    return t("report.left.hours", hours=shown)
