"""Working days, working hours and countdown colours on the official Chinese calendar."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridtool import i18n, workdays
from gridtool.errors import InputError
from gridtool.workdays import (
    CalendarFallbackWarning,
    add_work_hours,
    add_workdays,
    calendar_source,
    countdown,
    is_workday,
    work_seconds_between,
    workdays_between,
)

HOUR = 3600
ignore_fallback = pytest.mark.filterwarnings("ignore::gridtool.workdays.CalendarFallbackWarning")


@pytest.fixture(autouse=True)
def fresh_calendar(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """An empty config dir of our own (never the user's) and no cached years or warnings."""
    config = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("GRIDTOOL_CONFIG_DIR", str(config))
    i18n.set_language("en")
    workdays.clear_cache()
    workdays._warned_years.clear()
    yield config
    workdays.clear_cache()
    workdays._warned_years.clear()
    i18n.set_language(None)


def write_override(config: Path, entries: dict) -> None:
    (config / "holidays.json").write_text(json.dumps(entries), encoding="utf-8")
    workdays.clear_cache()


def fallback_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, CalendarFallbackWarning)]


def test_spring_festival_2026_matches_the_official_arrangement():
    off = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]
    assert off[-1] == date(2026, 2, 23)
    assert not any(is_workday(d) for d in off)
    assert is_workday(date(2026, 2, 14)), "Saturday make-up working day"
    assert is_workday(date(2026, 2, 28)), "Saturday make-up working day"
    assert is_workday(date(2026, 2, 13)) and is_workday(date(2026, 2, 24))
    assert not is_workday(date(2026, 2, 7)), "an ordinary Saturday"


def test_national_day_2026_matches_the_official_arrangement():
    assert not any(is_workday(date(2026, 10, day)) for day in range(1, 8))
    assert is_workday(date(2026, 9, 20)), "Sunday make-up working day"
    assert is_workday(date(2026, 10, 10)), "Saturday make-up working day"
    assert not is_workday(date(2026, 10, 11))
    assert is_workday(date(2026, 10, 8))


def test_agrees_with_chinese_calendar_on_every_day_it_knows():
    day = date(2024, 1, 1)
    while day.year <= 2026:
        assert is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
    assert calendar_source(2026) == "official"


def test_datetimes_are_judged_by_their_date():
    assert not is_workday(datetime(2026, 10, 1, 9, 30))
    assert is_workday(datetime(2026, 10, 10, 23, 59))


def test_add_workdays_across_the_spring_festival():
    assert add_workdays(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_workdays(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert add_workdays(date(2026, 2, 12), 3) == date(2026, 2, 24)
    assert add_workdays(date(2026, 2, 16), 1) == date(2026, 2, 24), "reported during the holiday"
    assert add_workdays(date(2026, 2, 24), -1) == date(2026, 2, 14)
    assert add_workdays(date(2026, 2, 24), -2) == date(2026, 2, 13)


def test_add_workdays_across_national_day():
    assert add_workdays(date(2026, 9, 19), 1) == date(2026, 9, 20)
    assert add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert add_workdays(date(2026, 9, 30), 4) == date(2026, 10, 12)
    assert add_workdays(date(2026, 10, 12), -4) == date(2026, 9, 30)


def test_add_workdays_zero_is_the_same_day_and_datetimes_keep_their_time():
    assert add_workdays(date(2026, 10, 3), 0) == date(2026, 10, 3)
    assert add_workdays(datetime(2026, 9, 30, 15, 20), 1) == datetime(2026, 10, 8, 15, 20)


def test_add_workdays_over_several_years():
    start = date(2024, 1, 2)
    end = add_workdays(start, 700)
    assert workdays_between(start, end) == 700
    assert add_workdays(end, -700) == start


def test_workdays_between_counts_the_half_open_interval():
    assert workdays_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
    assert workdays_between(date(2026, 2, 24), date(2026, 2, 13)) == -2
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert workdays_between(date(2026, 3, 2), date(2026, 3, 2)) == 0


def test_a_december_report_gets_a_2027_deadline_with_one_warning_per_year():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        due = add_workdays(date(2026, 12, 30), 3)
        assert due == date(2027, 1, 5), "1 Jan 2027 is a (provisional) holiday, then a weekend"
        add_workdays(date(2027, 3, 1), 10)
        is_workday(date(2027, 6, 9))
        assert len(fallback_warnings(caught)) == 1
        assert "2027" in fallback_warnings(caught)[0]
        is_workday(date(2028, 1, 3))
        workdays.clear_cache()
        is_workday(date(2027, 1, 4))
    messages = fallback_warnings(caught)
    assert len(messages) == 2, "once per year per process, even after the cache is cleared"
    assert "2028" in messages[1]


@ignore_fallback
def test_provisional_2027_has_the_statutory_holidays_but_no_make_up_days():
    assert calendar_source(2027) == "provisional"
    for day in (
        "2027-01-01",
        "2027-02-05",
        "2027-02-08",
        "2027-04-05",
        "2027-06-09",
        "2027-09-15",
        "2027-10-01",
        "2027-10-03",
    ):
        assert not is_workday(date.fromisoformat(day)), day
    assert is_workday(date(2027, 2, 9))
    assert is_workday(date(2027, 10, 4))
    assert not is_workday(date(2027, 2, 20)), "a Saturday stays off: no make-up days known"


def test_a_year_nobody_knows_counts_weekends_only_and_still_warns():
    with pytest.warns(CalendarFallbackWarning, match="2030"):
        assert is_workday(date(2030, 10, 1))
    assert not is_workday(date(2030, 10, 5))
    assert calendar_source(2030) == "weekends"
    assert add_workdays(date(2030, 10, 4), 1) == date(2030, 10, 7)


def test_a_user_override_with_the_official_arrangement_wins_and_silences_the_warning(fresh_calendar):
    write_override(
        fresh_calendar,
        {
            "2027": {
                "holidays": [
                    "2027-01-01",
                    "2027-02-05",
                    "2027-02-06",
                    "2027-02-07",
                    "2027-02-08",
                    "2027-02-09",
                    "2027-02-10",
                    "2027-02-11",
                ],
                "workdays": ["2027-02-20"],
                "source": "State Council notice (test)",
            }
        },
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalendarFallbackWarning)
        assert not is_workday(date(2027, 2, 10))
        assert is_workday(date(2027, 2, 20))
        assert add_workdays(date(2027, 2, 4), 1) == date(2027, 2, 12)
    assert calendar_source(2027) == "override"


def test_a_non_provisional_override_replaces_a_known_year_wholesale(fresh_calendar):
    assert is_workday(date(2026, 3, 3))
    write_override(fresh_calendar, {"2026": {"holidays": ["2026-03-03"]}})
    assert not is_workday(date(2026, 3, 3))
    assert is_workday(date(2026, 10, 1)), "the file, not chinese_calendar, now defines 2026"


def test_a_provisional_override_never_beats_official_data(fresh_calendar):
    write_override(fresh_calendar, {"2026": {"provisional": True, "holidays": ["2026-03-03"]}})
    assert is_workday(date(2026, 3, 3))
    assert calendar_source(2026) == "official"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"2027": {"holidays": ["2028-01-01"]}}', "2028-01-01"),
        ('{"2027": {"holidays": ["1 May"]}}', "1 May"),
        ('{"27": {}}', '"27"'),
        ('{"2027": {"holidays": ["2027-05-01"], "workdays": ["2027-05-01"]}}', "both"),
        ("{not json", "JSON"),
    ],
)
def test_a_broken_override_file_is_a_clear_error(fresh_calendar, content, needle):
    (fresh_calendar / "holidays.json").write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        is_workday(date(2026, 5, 6))
    assert info.value.key == "calendar.bad_override"
    assert str(fresh_calendar / "holidays.json") in str(info.value)
    assert needle in str(info.value)


def test_the_fallback_warning_is_translated():
    i18n.set_language("zh")
    with pytest.warns(CalendarFallbackWarning, match="2030年"):
        is_workday(date(2030, 1, 1))


def test_add_work_hours_counts_office_hours_and_skips_the_weekend():
    friday = datetime(2026, 3, 6, 17, 0)
    assert add_work_hours(friday, 0.5) == datetime(2026, 3, 6, 17, 30), "the day's last office minute"
    assert add_work_hours(friday, 1) == datetime(2026, 3, 9, 9, 0)
    assert add_work_hours(friday, 7) == datetime(2026, 3, 9, 17, 0), "a working day is 7 office hours"
    assert add_work_hours(datetime(2026, 3, 9, 11, 0), 2) == datetime(2026, 3, 9, 15, 0), "lunch skipped"
    assert add_work_hours(datetime(2026, 3, 9, 7, 30), 1) == datetime(2026, 3, 9, 9, 30)
    assert add_work_hours(datetime(2026, 3, 9, 12, 30), 3.5) == datetime(2026, 3, 9, 17, 30)


def test_add_work_hours_over_holidays_and_make_up_days():
    assert add_work_hours(datetime(2026, 2, 13, 17), 7) == datetime(2026, 2, 14, 17)
    assert add_work_hours(datetime(2026, 2, 14, 17), 7) == datetime(2026, 2, 24, 17)
    assert add_work_hours(datetime(2026, 10, 3, 10), 1) == datetime(2026, 10, 8, 9, 30), (
        "a start on a holiday counts from the first office minute of the next working day"
    )
    assert add_work_hours(date(2026, 3, 6), 7) == datetime(2026, 3, 6, 17, 30), "a date means its midnight"


def test_add_work_hours_backwards():
    assert add_work_hours(datetime(2026, 3, 9, 10), -7) == datetime(2026, 3, 6, 10)
    assert add_work_hours(datetime(2026, 3, 7, 10), -1) == datetime(2026, 3, 6, 16, 30)


def test_work_seconds_between_counts_office_hours():
    friday, monday = datetime(2026, 3, 6, 17), datetime(2026, 3, 9, 17)
    assert work_seconds_between(friday, monday) == 7 * HOUR
    assert work_seconds_between(monday, friday) == -7 * HOUR
    assert work_seconds_between(datetime(2026, 3, 7, 9), datetime(2026, 3, 8, 18)) == 0
    assert work_seconds_between(datetime(2026, 3, 2, 9), datetime(2026, 3, 2, 9, 30)) == 1800
    assert work_seconds_between(datetime(2026, 3, 2, 12), datetime(2026, 3, 2, 14)) == 0, "lunch"
    assert work_seconds_between(datetime(2026, 3, 2, 7, 30), datetime(2026, 3, 2, 23)) == 7 * HOUR
    assert work_seconds_between(datetime(2026, 9, 30, 12), datetime(2026, 10, 8, 12)) == 7 * HOUR


def test_the_issue_report_at_07_30_an_issue_due_today_has_7_office_hours_left():
    morning, due = datetime(2026, 3, 2, 7, 30), datetime(2026, 3, 2, 23, 59, 59)
    assert work_seconds_between(morning, due) == 7 * HOUR


def test_office_hours_come_from_the_table_beside_the_sla_table(fresh_calendar):
    (fresh_calendar / "workhours.csv").write_text("start,end\n09:00,12:00\n13:00,18:00\n", encoding="utf-8")
    workdays.clear_cache()
    assert workdays.work_hours().text() == "09:00-12:00, 13:00-18:00"
    assert work_seconds_between(datetime(2026, 3, 2), datetime(2026, 3, 3)) == 8 * HOUR
    assert add_work_hours(datetime(2026, 3, 2, 11), 2) == datetime(2026, 3, 2, 14)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("start,end\n8:30,12:00\n12:00,11:00\n", "row 3"),
        ("start,end\n08:30,25:00\n", "25:00"),
        ("start,end\n08:30,12:00\n11:00,17:30\n", "row 3"),
        ("from,to\n08:30,12:00\n", "start"),
        ("start,end\n", "no rows"),
    ],
)
def test_a_broken_office_hours_table_is_a_clear_error(fresh_calendar, content, needle):
    (fresh_calendar / "workhours.csv").write_text(content, encoding="utf-8")
    workdays.clear_cache()
    with pytest.raises(InputError) as info:
        work_seconds_between(datetime(2026, 3, 2), datetime(2026, 3, 3))
    assert info.value.key == "workhours.bad_row" and needle in str(info.value)
    assert str(fresh_calendar / "workhours.csv") in str(info.value)


def test_countdown_colours_at_79_and_80_percent():
    reported = datetime(2026, 3, 2, 0, 0)
    due = add_work_hours(reported, 35)
    assert due == datetime(2026, 3, 6, 17, 30), "five working days of office hours"
    assert countdown(reported, due, reported) == "green"
    assert countdown(reported, due, add_work_hours(reported, 27.65)) == "green"
    assert countdown(reported, due, add_work_hours(reported, 28)) == "yellow"
    assert countdown(reported, due, due) == "yellow"
    assert countdown(reported, due, due + timedelta(seconds=1)) == "red"


def test_countdown_counts_office_hours_not_wall_clock():
    reported, due = datetime(2026, 3, 6, 14), datetime(2026, 3, 10, 14)
    assert work_seconds_between(reported, due) == 14 * HOUR
    sunday_night = datetime(2026, 3, 8, 23)
    assert countdown(reported, due, sunday_night) == "green", "only 3.5 of 14 office hours used"
    assert countdown(reported, due, datetime(2026, 3, 10, 9, 11)) == "green"
    assert countdown(reported, due, datetime(2026, 3, 10, 9, 12)) == "yellow", "11.2 h = 80 %"


def test_countdown_with_no_working_time_in_the_window():
    moment = datetime(2026, 3, 2, 9)
    assert countdown(moment, moment, moment) == "yellow"
    assert countdown(moment, moment, moment + timedelta(minutes=1)) == "red"
    saturday = datetime(2026, 3, 7, 10)
    assert countdown(saturday, saturday + timedelta(hours=2), saturday + timedelta(hours=1)) == "yellow"
    assert countdown(saturday, saturday - timedelta(hours=1), saturday - timedelta(hours=2)) == "yellow"


days_2024_2028 = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))


@ignore_fallback
@settings(max_examples=300, deadline=None)
@given(day=days_2024_2028, n=st.integers(min_value=1, max_value=400))
def test_property_add_workdays_lands_on_the_nth_working_day(day, n):
    later = add_workdays(day, n)
    assert later > day
    assert is_workday(later)
    assert workdays_between(day, later) == n
    earlier = add_workdays(day, -n)
    assert earlier < day and is_workday(earlier)
    if is_workday(day):
        assert add_workdays(later, -n) == day
        assert workdays_between(earlier, day) == n


@ignore_fallback
@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31)),
    minutes=st.integers(min_value=1, max_value=60 * 24 * 60),
)
def test_property_work_hours_round_trip(start, minutes):
    start = start.replace(microsecond=0)
    end = add_work_hours(start, minutes / 60)
    assert end > start
    assert work_seconds_between(start, end) == pytest.approx(minutes * 60)
    office = workdays.work_hours()
    secs = start.hour * 3600 + start.minute * 60 + start.second
    if is_workday(start) and office.at(office.done(secs)) == secs:  # in office hours, not at lunch
        assert add_work_hours(end, -minutes / 60) == start


def test_chinese_calendar_is_imported_lazily():
    code = "import sys, gridtool.workdays; assert 'chinese_calendar' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
