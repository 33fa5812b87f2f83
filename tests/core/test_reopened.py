"""A reopened issue is not resolved: no field derived from its timeline says it is."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from gridtool import i18n, issues, reports
from gridtool.ledger.exporting import export_records
from gridtool.store import Store


def _reopened(store: Store, household: str) -> dict[str, Any]:
    issue, _ = issues.report(
        store,
        {"household": household, "category": "repair", "channel": "phone", "title": "下水道返水"},
        at=datetime(2026, 6, 1, 9, 0),
    )
    for action, at, params in [
        ("assign", datetime(2026, 6, 1, 10, 0), {"to": "谭石泉"}),
        ("accept", datetime(2026, 6, 1, 11, 0), {}),
        ("resolve", datetime(2026, 6, 2, 9, 0), {"summary": "疏通"}),
        ("visit", datetime(2026, 6, 3, 9, 0), {"rating": 1}),  # 不满意: rework
    ]:
        issue, _ = issues.perform(store, action, issue["id"], at=at, **params)
    return issue


def test_a_reopened_issue_shows_no_resolution_time_anywhere(store: Store, community: dict[str, str]) -> None:
    issue = _reopened(store, community["household"])
    at = datetime(2026, 6, 3, 12, 0)
    events = issues.timeline(store, issue["id"])
    assert issue["status"] == "reopened" and issue["resolved_at"] is None and issue["rework"] == 1
    assert issues.fold(events)["resolved_at"] is None
    assert "resolved_at" not in issues.detail(store, issue, at, events=events)
    assert issues.json_record(store, issue, at, events=events)["resolved_at"] is None
    assert issues.rows(store, [issue], at, labels=False)[0]["resolved_at"] is None
    (row,) = export_records(store, "issue")
    assert row["resolved_at"] == "" and row["summary"] == ""
    assert [e["type"] for e in events if e["type"] == "resolve"] == ["resolve"]  # history kept


def test_a_store_cached_before_the_rule_still_shows_no_resolution(
    store: Store, community: dict[str, str]
) -> None:
    issue = _reopened(store, community["household"])
    stale = {**issue, "resolved_at": "2026-06-02T09:00:00"}
    at = datetime(2026, 6, 3, 12, 0)
    assert "resolved_at" not in issues.detail(store, stale, at)
    assert issues.json_record(store, stale, at)["resolved_at"] is None


def test_resolved_again_it_has_the_new_time_and_still_counts_as_rework(
    store: Store, community: dict[str, str]
) -> None:
    issue = _reopened(store, community["household"])
    figures = reports.stats(store, date(2026, 6, 1), date(2026, 6, 30), as_of=datetime(2026, 6, 4))
    assert (figures.total.resolved, figures.total.reworked, figures.total.resolved_ever) == (0, 1, 1)
    issues.perform(store, "accept", issue["id"], at=datetime(2026, 6, 4, 9, 0))
    issue, _ = issues.perform(store, "resolve", issue["id"], at=datetime(2026, 6, 5, 9, 0), summary="换管")
    assert issue["resolved_at"] == "2026-06-05T09:00:00"
    figures = reports.stats(store, date(2026, 6, 1), date(2026, 6, 30), as_of=datetime(2026, 6, 6))
    assert (figures.total.resolved, figures.total.reworked, figures.total.resolved_ever) == (1, 1, 1)


def test_show_says_the_working_time_left_in_days_and_hours(store: Store, community: dict[str, str]) -> None:
    issue, _ = issues.report(
        store,
        {"household": community["household"], "category": "repair", "channel": "phone", "title": "漏水"},
        at=datetime(2026, 6, 1, 9, 0),
    )  # due Thu 4 June 23:59:59
    i18n.set_language("zh")
    assert issues.detail(store, issue, datetime(2026, 6, 3, 7, 30))["time_left"] == "2 个工作日"
    assert issues.detail(store, issue, datetime(2026, 6, 3, 14, 0))["time_left"] == "1 个工作日 3.5 小时"
    assert "time_left" not in issues.detail(store, issue, datetime(2026, 6, 5, 9, 0))
