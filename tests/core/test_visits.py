"""Visit plans and due dates: calendar-day intervals, moved off weekends and holidays."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridtool import issues, register, visits
from gridtool.errors import NotFound, ValidationError
from gridtool.store import Store
from tests.conftest import snapshot


def test_every_accepts_days_weeks_and_months_in_both_languages() -> None:
    assert visits.parse_every("7d") == (7, "d")
    assert visits.parse_every("2w") == (14, "d")
    assert visits.parse_every("1m") == (1, "m")
    assert visits.parse_every("7天") == (7, "d")
    assert visits.parse_every("1个月") == (1, "m")
    assert visits.parse_every("7") == (7, "d"), "a bare number means days, as for every --within"
    for bad in ("", "0d", "1.5w", "weekly", "1y", "8h"):
        with pytest.raises(ValidationError) as refused:
            visits.parse_every(bad)
        assert refused.value.fields == ["every"]


@pytest.mark.parametrize(
    ("last", "every", "due"),
    [
        (date(2026, 9, 10), "7d", date(2026, 9, 17)),  # a Thursday: stays
        (date(2026, 9, 24), "7d", date(2026, 10, 8)),  # 1 Oct is National Day: first working day after
        (date(2026, 9, 13), "7d", date(2026, 9, 20)),  # a Sunday, but a make-up working day (调休)
        (date(2026, 9, 12), "7d", date(2026, 9, 20)),  # Saturday 19 Sep: on to the 调休 Sunday
        (date(2026, 11, 14), "7d", date(2026, 11, 23)),  # an ordinary Saturday: the Monday after
        (date(2026, 1, 31), "1m", date(2026, 2, 28)),  # month end clamps; 28 Feb 2026 is a 调休 Saturday
        (date(2026, 2, 1), "1m", date(2026, 3, 2)),  # 1 Mar 2026 is a Sunday
    ],
)
def test_due_dates_count_calendar_days_and_move_off_holidays(last: date, every: str, due: date) -> None:
    n, unit = visits.parse_every(every)
    assert visits.due_date(last, date(2026, 1, 1), n, unit) == due


def test_a_household_never_visited_is_due_on_the_plans_start(store: Store, community: dict[str, str]) -> None:
    plan, created = visits.plan(store, "独居老人", "7d", start="2026-10-01")
    assert created and plan["n"] == 7
    [row] = visits.schedule(store)
    assert row["household"]["id"] == community["household"] and row["due"] == date(2026, 10, 8)
    assert row["last_visit"] is None


def test_visits_due_and_overdue_follow_the_last_visit(store: Store, community: dict[str, str]) -> None:
    visits.plan(store, "独居老人", "7d", start="2026-09-01")
    visits.log(store, "程金娇", "身体尚可", at=issues.parse_when("2026-09-24 10:00"), actor="刘丹")
    assert visits.due(store, as_of=date(2026, 10, 7)).rows == []
    soon = visits.due(store, as_of=date(2026, 10, 7), within=1)
    assert [r["due"] for r in soon.rows] == ["2026-10-08"]
    assert visits.overdue(store, as_of=date(2026, 10, 8)).rows == [], "due today is not overdue"
    [late] = visits.overdue(store, as_of=date(2026, 10, 10)).rows
    assert late["days_overdue"] == 2 and late["phone"] == "135****5678" and late["tag"] == "独居老人"
    assert visits.overdue(store, as_of=date(2026, 10, 10), show_pii=True).rows[0]["phone"] == "13512345678"
    visits.log(store, community["household"], at=issues.parse_when("2026-10-09 09:00"))
    assert visits.overdue(store, as_of=date(2026, 10, 10)).rows == []
    assert [v["note"] for v in visits.history(store, community["household"])] == ["", "身体尚可"]


def test_the_most_frequent_plan_wins_and_replanning_changes_the_interval(
    store: Store, community: dict[str, str]
) -> None:
    register.edit(store, "household", community["household"], {}, add_items={"tags": ["残疾人"]})
    visits.plan(store, "残疾人", "1m", start="2026-06-01")
    visits.plan(store, "独居老人", "14d", start="2026-06-01")
    visits.log(store, "程金娇", at=issues.parse_when("2026-06-01 09:00"))
    assert visits.schedule(store)[0]["plan"]["tag"] == "独居老人"
    assert visits.schedule(store)[0]["due"] == date(2026, 6, 15)
    plan, created = visits.plan(store, "独居老人", "2m")
    assert not created and (plan["n"], plan["unit"]) == (2, "m")
    assert visits.schedule(store)[0]["plan"]["tag"] == "残疾人"
    visits.unplan(store, "残疾人")
    visits.unplan(store, "独居老人")
    assert visits.schedule(store) == []
    with pytest.raises(NotFound):
        visits.unplan(store, "独居老人")


def test_bad_visits_are_refused_and_write_nothing(store: Store, community: dict[str, str]) -> None:
    before = snapshot(store.path)
    with pytest.raises(ValidationError) as nobody:
        visits.log(store, "无此人", "x")
    assert nobody.value.fields == ["household"]
    with pytest.raises(ValidationError) as long_note:
        visits.log(store, "程金娇", "很" * 2001)
    assert long_note.value.fields == ["note"]
    with pytest.raises(ValidationError) as no_tag:
        visits.plan(store, " ", "7d")
    assert no_tag.value.fields == ["tag"]
    assert snapshot(store.path) == before


@given(
    st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 6, 1)),  # years the calendar knows
    st.integers(min_value=1, max_value=6),
    st.sampled_from(["d", "m"]),
)
def test_a_due_date_is_the_first_working_day_on_or_after_the_interval(last: date, n: int, unit: str) -> None:
    from gridtool.workdays import is_workday

    nominal = visits.add_interval(last, n, unit)
    due = visits.due_date(last, date(2025, 1, 1), n, unit)
    assert is_workday(due) and due >= nominal
    assert not any(is_workday(nominal + timedelta(days=k)) for k in range((due - nominal).days))


def test_two_plans_for_one_tag_after_a_sync_resolve_alike_and_unplan_removes_both(
    store: Store, community: dict[str, str]
) -> None:
    visits.plan(store, "独居老人", "2w", start="2026-06-01")
    with store.transaction() as tx:  # what a second laptop's plan for the same tag leaves after a sync
        tx.create("visit_plans", {"tag": "独居老人", "n": 7, "unit": "d", "start": "2026-06-01"})
    visits.log(store, "程金娇", at=issues.parse_when("2026-06-01 09:00"))
    assert visits.schedule(store)[0]["due"] == date(2026, 6, 8), "the more frequent plan"
    visits.unplan(store, "独居老人")
    assert store.records("visit_plans") == {} and visits.schedule(store) == []
