"""Moments as people type and read them: ``--at``, dates, deadlines, ``2026-07-08 09:30``.

Shared by issues, orders, points and visits, so every step is entered and shown the same way.
Low in the module order: it knows nothing of what happens at a moment.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from gridtool.errors import InputError
from gridtool.i18n import field_label
from gridtool.validate import MAX_YEAR, MIN_YEAR, check_year

MAX_AHEAD = timedelta(days=1)
"""How far in the future ``--at`` may be (a typo like 2062 would otherwise freeze the timeline)."""
END_OF_DAY = time(23, 59, 59)

_WHEN = re.compile(
    r"\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:(?:[T\s]+)(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?)?\s*\Z"
)


def parse_when(text: str | datetime | date, what: str = "at", end_of_day: bool = False) -> datetime:
    """A moment typed by a person: ``2026-07-03``, ``2026/7/3 09:00``, ``2026-07-03T09:00:00``, ``today``.

    A bare date means its start, or its end (23:59:59) with ``end_of_day`` (used for deadlines).
    """
    if isinstance(text, datetime):
        return text.replace(microsecond=0)
    if isinstance(text, date):
        return datetime.combine(text, END_OF_DAY if end_of_day else time())
    raw = str(text).strip()
    if raw.lower() in ("now", "现在"):
        return now()
    if raw.lower() in ("today", "今天"):
        return datetime.combine(date.today(), END_OF_DAY if end_of_day else time())
    m = _WHEN.match(raw)
    if m:
        y, mo, d, hh, mm, ss = m.groups()
        if not MIN_YEAR <= int(y) <= MAX_YEAR:
            raise InputError(
                "input.year_range", what=field_label(what), value=raw, min=MIN_YEAR, max=MAX_YEAR
            )
        try:
            if hh is None:
                return datetime.combine(date(int(y), int(mo), int(d)), END_OF_DAY if end_of_day else time())
            return datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss or 0))
        except ValueError:
            pass
    raise InputError("issue.bad_when", what=field_label(what), value=raw)


def parse_date(text: str | date) -> date:
    """A calendar day typed by a person (see :func:`parse_when`); a time of day is refused."""
    if isinstance(text, date):
        return text if not isinstance(text, datetime) else text.date()
    when = parse_when(text, "date")
    if when.time() != time() and str(text).strip().lower() not in ("now", "现在"):
        raise InputError("issue.bad_date", value=str(text).strip())
    return when.date()


def now() -> datetime:
    """The current local time to the second. Tests may replace it here, or ``issues.now``
    for the issue workflow alone (issues looks it up in its own namespace)."""
    return datetime.now().replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def show_time(value: str | None) -> str:
    """``2026-07-08 09:30``; a deadline at the end of a day shows as the day alone."""
    if not value:
        return ""
    if value.endswith("T23:59:59"):
        return value[:10]
    return value[:16].replace("T", " ")


def entered_at(at: datetime | None) -> datetime:
    """The moment a step is entered for (``--at``, default now) to the second: refused outside
    1900-2100 or more than a day ahead, the same for issues, orders, points and visits."""
    moment = (at or now()).replace(microsecond=0)
    check_moment(moment, now())
    return moment


def check_moment(at: datetime, current: datetime) -> None:
    """Refuse a moment outside the years allowed or more than :data:`MAX_AHEAD` after ``current``."""
    check_year(at, "at")  # 0001-01-01 would make issue number 1-000001
    if at > current + MAX_AHEAD:
        raise InputError("issue.at_future", at=show_time(iso(at)))
