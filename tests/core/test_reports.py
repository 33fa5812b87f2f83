"""Reports on a small, hand-computed set of issues: every rate, the rounding rule, the listings."""

from __future__ import annotations

import random
import warnings
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from gridtool import i18n, issues, reports, workdays
from gridtool.errors import InputError
from gridtool.reports import rate, round_half_up
from gridtool.store import Store

# June 2026: Monday 1 June, no holiday before the Dragon Boat Festival on 19 June.
# Every issue is a normal repair: due at the end of the third working day after the report.
HISTORIES: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    # A: resolved on time after exactly 2 working days, rated 5, closed
    "A": [
        ("report", "2026-06-01 09:00", {}),
        ("assign", "2026-06-01 10:00", {"to": "谭石泉"}),
        ("accept", "2026-06-01 11:00", {}),
        ("resolve", "2026-06-03 09:00", {"summary": "疏通"}),
        ("visit", "2026-06-04 10:00", {"rating": 5}),
        ("close", "2026-06-04 11:00", {}),
    ],
    # B: due Thu 4 June, resolved Mon 8 June 10:00 (late, 5 working days), rated 4
    "B": [
        ("report", "2026-06-01 10:00", {}),
        ("assign", "2026-06-01 10:30", {"to": "谭石泉"}),
        ("accept", "2026-06-01 11:00", {}),
        ("resolve", "2026-06-08 10:00", {"summary": "更换水管"}),
        ("visit", "2026-06-09 10:00", {"rating": 4}),
    ],
    # C: resolved on time, rated 2 (rework, fresh deadline Tue 9 June), resolved again Wed 10 June
    # (late against the fresh deadline; 6 working days from the report), rated 3
    "C": [
        ("report", "2026-06-02 09:00", {}),
        ("assign", "2026-06-02 09:30", {"to": "谭石泉"}),
        ("accept", "2026-06-02 10:00", {}),
        ("resolve", "2026-06-03 09:00", {"summary": "处理"}),
        ("visit", "2026-06-04 09:00", {"rating": 2}),
        ("accept", "2026-06-04 10:00", {}),
        ("resolve", "2026-06-10 09:00", {"summary": "返工处理"}),
        ("visit", "2026-06-11 09:00", {"rating": 3}),
    ],
    # D: still open with a team, due Fri 5 June
    "D": [("report", "2026-06-02 14:00", {}), ("assign", "2026-06-02 15:00", {"to": "物业"})],
    # E: rejected
    "E": [("report", "2026-06-03 09:00", {}), ("reject", "2026-06-03 10:00", {"reason": "不属于社区职责"})],
    # F: resolved the same day (0 working days), not visited yet
    "F": [
        ("report", "2026-06-03 09:00", {}),
        ("assign", "2026-06-03 09:10", {"to": "谭石泉"}),
        ("accept", "2026-06-03 09:20", {}),
        ("resolve", "2026-06-03 15:00", {"summary": "已修复"}),
    ],
    # G and H: received outside June
    "G": [("report", "2026-05-29 09:00", {}), ("reject", "2026-05-29 10:00", {"reason": "重复"})],
    "H": [("report", "2026-07-01 09:00", {})],
}


@pytest.fixture
def june(store: Store, community: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The issues above, numbered 2026-000001 (A) to 2026-000008 (H) in that order."""
    made = {}
    for name, history in HISTORIES.items():
        (_, at, _), *rest = history
        issue, _ = issues.report(
            store,
            {
                "household": community["household"],
                "category": "repair",
                "channel": "phone",
                "title": f"诉求{name}",
            },
            at=issues.parse_when(at),
        )
        for action, at, params in rest:
            issue, _ = issues.perform(store, action, issue["number"], at=issues.parse_when(at), **params)
        made[name] = issue
    return made


@pytest.mark.parametrize(
    ("n", "d", "expected"),
    [
        (72, 81, 88.9),  # 88.888...
        (2, 3, 66.7),
        (1, 8, 12.5),
        (1, 16, 6.3),  # 6.25: half up, not to even
        (1, 400, 0.3),  # 0.25
        (3, 3, 100.0),
        (0, 5, 0.0),
        (5, 0, None),
    ],
)
def test_rate_is_a_percentage_to_one_decimal_rounded_half_up(n: int, d: int, expected: float | None) -> None:
    assert rate(n, d) == expected


def test_the_same_rounding_serves_means_and_medians() -> None:
    assert round_half_up(2.25) == 2.3 and round_half_up(2.35) == 2.4 and round_half_up(4.0) == 4.0
    assert reports.Metrics("x", rated=3, rating_sum=13).mean_rating == 4.3


def test_stats_on_a_hand_computed_month(store: Store, june: dict[str, dict[str, Any]]) -> None:
    assert [june[k]["status"] for k in "ABCDEF"] == [
        "closed",
        "visited",
        "visited",
        "assigned",
        "rejected",
        "resolved",
    ]
    total = reports.stats(store, date(2026, 6, 1), date(2026, 6, 30)).total
    assert (total.received, total.resolved, total.open, total.rejected) == (6, 4, 1, 1)
    r = total.rates()
    assert r["resolution_rate"].as_dict() == {
        "percent": 66.7,
        "numerator": 4,
        "denominator": 6,
        "of": "received",
    }
    assert r["on_time_rate"].as_dict() == {
        "percent": 50.0,
        "numerator": 2,
        "denominator": 4,
        "of": "resolved",
    }
    assert r["satisfaction_rate"].as_dict() == {
        "percent": 66.7,
        "numerator": 2,
        "denominator": 3,
        "of": "rated",
    }
    assert r["rework_rate"].as_dict() == {
        "percent": 25.0,
        "numerator": 1,
        "denominator": 4,
        "of": "resolved_ever",
    }
    assert sorted(total.days) == [0, 2, 5, 6], "F same day, A Mon-Wed, B Mon-Mon, C Tue-Wed next week"
    assert total.median_workdays == 3.5
    assert total.mean_rating == 4.0


def test_stats_by_assignee_and_month(store: Store, june: dict[str, dict[str, Any]]) -> None:
    i18n.set_language("en")
    by_assignee = reports.stats(store, date(2026, 6, 1), date(2026, 6, 30), by="assignee")
    groups = {m.name: m for m in by_assignee.groups}
    assert set(groups) == {"谭石泉", "物业", "(unassigned)"}
    assert (groups["谭石泉"].received, groups["谭石泉"].rates()["resolution_rate"].percent) == (4, 100.0)
    assert groups["物业"].rates()["on_time_rate"].percent is None, "nothing resolved: no on-time rate"
    by_month = reports.stats(store, date(2026, 5, 1), date(2026, 7, 31), by="month")
    assert [(m.name, m.received) for m in by_month.groups] == [("2026-05", 1), ("2026-06", 6), ("2026-07", 1)]
    with pytest.raises(InputError):
        reports.stats(store, date(2026, 6, 30), date(2026, 6, 1))


def test_stats_read_as_text_and_json_name_every_denominator(
    store: Store, june: dict[str, dict[str, Any]]
) -> None:
    i18n.set_language("zh")
    text = reports.stats_markdown(reports.stats(store, date(2026, 6, 1), date(2026, 6, 30)))
    for expected in (
        "受理 6 件，办结 4 件，办结率 66.7%（办结 ÷ 受理）",
        "按期办结 2 件，按期办结率 50.0%（按期办结 ÷ 办结 4 件）",
        "办结用时中位数 3.5 个工作日",
        "回访评价 3 件，平均 4.0 分，满意（4–5 分）2 件，满意率 66.7%（满意 ÷ 已评价）",
        "返工 1 件，返工率 25.0%（返工 ÷ 办结过的 4 件）",
        "保留一位小数，四舍五入",
    ):
        assert expected in text
    data = reports.stats_json(reports.stats(store, date(2026, 6, 1), date(2026, 6, 30), by="grid"))
    assert data["total"]["resolution_rate"]["of"] == "received"
    assert data["groups"][0]["name"] == "TL-03" and data["groups"][0]["received"] == 6


def test_the_day_table_counts_working_days_as_the_calendar_does() -> None:
    rng = random.Random(7)
    start = datetime(2026, 1, 1)  # through the Spring Festival, National Day and into 2027
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", workdays.CalendarFallbackWarning)
        through = reports.workdays_through(date(2026, 1, 1), date(2027, 3, 1))
        for _ in range(3000):
            a = start + timedelta(minutes=rng.randrange(0, 390 * 24 * 60))
            b = a + timedelta(minutes=rng.randrange(0, 30 * 24 * 60))
            counted = through[b.date().isoformat()] - through[a.date().isoformat()]
            assert counted == workdays.workdays_between(a, b), (a, b)
    assert through["2026-02-24"] - through["2026-02-13"] == 2, "Sat 14 Feb is worked, then 9 days off"


def test_the_total_row_is_the_groups_together(store: Store, june: dict[str, dict[str, Any]]) -> None:
    whole = reports.stats(store, date(2026, 5, 1), date(2026, 7, 31))
    by_grid = reports.stats(store, date(2026, 5, 1), date(2026, 7, 31), by="month")
    assert whole.total.as_dict() | {"name": ""} == by_grid.total.as_dict() | {"name": ""}


def test_overdue_lists_open_issues_past_due_with_working_days_late(
    store: Store, june: dict[str, dict[str, Any]]
) -> None:
    # B was due Thu 4 June and resolved only on Mon 8 June: overdue on the Friday, whatever came later
    friday = reports.overdue(store, as_of=datetime(2026, 6, 5, 12, 0))
    assert [(r["number"], r["status"], r["overdue_workdays"]) for r in friday.rows] == [
        ("2026-000002", "accepted", 1)
    ]
    assert reports.overdue(store, as_of=datetime(2026, 6, 4, 12, 0)).rows == []
    # at the start of 10 June, C's rework was past its fresh deadline (Tue 9 June), D long past its own
    listing = reports.overdue(store, as_of=datetime(2026, 6, 10), group_by="assignee")
    assert [(r["number"], r["assignee"], r["overdue_workdays"]) for r in listing.rows] == [
        ("2026-000004", "物业", 3),
        ("2026-000003", "谭石泉", 1),
    ]
    assert listing.groups() == [("物业", listing.rows[:1]), ("谭石泉", listing.rows[1:])]
    data = reports.listing_json(listing)
    assert data["count"] == 2 and data["groups"][0]["issues"][0]["due"] == "2026-06-05T23:59:59"
    assert reports.overdue(store, as_of=datetime(2026, 6, 10), grid="TL-03").rows == listing.rows
    assert [r["number"] for r in reports.overdue(store, as_of=datetime(2026, 6, 11)).rows] == ["2026-000004"]
    with pytest.raises(InputError):
        reports.overdue(store, group_by="household")


def test_due_soon_counts_working_hours_ahead(store: Store, june: dict[str, dict[str, Any]]) -> None:
    friday_noon = datetime(2026, 6, 5, 12, 0)
    soon = reports.due_soon(store, within="1d", as_of=friday_noon)
    assert [(r["number"], r["hours_left"]) for r in soon.rows] == [("2026-000004", 3.5)], "14:00-17:30"
    assert reports.due_soon(store, within="1", as_of=friday_noon).rows == soon.rows, "a bare number: days"
    assert reports.due_soon(store, within="2h", as_of=friday_noon).rows == []
    assert reports.listing_rows(soon, labels=True)[0]["hours_left"] == "3.5 h"
    for bad in ("1w", "0h", "soon"):
        with pytest.raises(InputError):
            reports.due_soon(store, within=bad)


def test_followups_are_resolved_issues_waiting_for_a_visit(
    store: Store, june: dict[str, dict[str, Any]]
) -> None:
    monday = datetime(2026, 6, 8, 9, 0)  # F was resolved Wed 3 June: Thu, Fri, Mon have passed
    assert [r["number"] for r in reports.followups(store, after=3, as_of=monday).rows] == ["2026-000006"]
    assert reports.followups(store, after=3, as_of=monday).rows[0]["waiting_workdays"] == 3
    assert reports.followups(store, after=4, as_of=monday).rows == []


def test_the_overdue_text_for_a_wechat_group(store: Store, june: dict[str, dict[str, Any]]) -> None:
    i18n.set_language("zh")
    text = reports.listing_markdown(reports.overdue(store, as_of=datetime(2026, 6, 10), group_by="grid"))
    assert text.startswith("【超期诉求通报】截至 2026-06-10 00:00\n")
    assert "共 2 件诉求超期未办结" in text and "TL-03（2 件）：" in text
    assert "1. 2026-000004 诉求D（维修，TL-03）— 承办：物业，期限 2026-06-05，已超期 3 个工作日" in text
    assert "没有超期" in reports.listing_markdown(reports.overdue(store, as_of=datetime(2026, 6, 1)))
