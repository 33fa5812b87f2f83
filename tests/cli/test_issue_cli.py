"""The issue and calendar commands as a grid worker types them, checked through the library afterwards."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import Result

from gridtool import issues, workdays
from gridtool.store import Store
from tests.conftest import snapshot

Run = Callable[..., Result]


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def new(run: Run, *extra: str, lang: str = "en") -> str:
    result = ok(
        run(
            "issue",
            "new",
            "--household",
            "程金娇",
            "--category",
            "repair",
            "--channel",
            "wechat",
            "--title",
            "卫生间下水道返水",
            "--at",
            "2026-07-03T09:00",
            "--actor",
            "刘丹",
            *extra,
            lang=lang,
        )
    )
    return result.stdout.strip()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_four_order_lifecycle_through_the_command_line(
    run: Run, store_path: Path, community: dict[str, str], lang: str
) -> None:
    number = new(run, lang=lang)
    assert number == "2026-000001"
    steps = [
        ("assign", number, "--to", "谭石泉", "--at", "2026-07-03T10:00"),
        ("accept", number, "--at", "2026-07-03T11:00", "--actor", "谭石泉"),
        ("note", number, "已约定周六上门", "--at", "2026-07-03T11:30"),
        ("extend", number, "--days", "2", "--reason", "等待配件", "--at", "2026-07-06T09:00"),
        ("resolve", number, "--summary", "清淤并更换管道", "--at", "2026-07-09T16:00", "--actor", "谭石泉"),
        ("visit", number, "--rating", "5", "--comment", "很满意", "--at", "2026-07-10T10:00"),
        ("close", number, "--at", "2026-07-10T11:00"),
    ]
    for step in steps:
        ok(run("issue", *step, lang=lang))
    store = Store(store_path)
    issue = issues.issue_by_ref(store, number)
    assert (issue["status"], issue["assignee"], issue["assignee_kind"], issue["rating"]) == (
        "closed",
        community["lead"],
        "lead",
        5,
    )
    assert issue["due"] == "2026-07-10T23:59:59", "8 Jul + 2 working days"
    events = issues.timeline(store, issue["id"])
    assert [e["type"] for e in events] == [
        "report",
        "assign",
        "accept",
        "note",
        "extend",
        "resolve",
        "visit",
        "close",
    ]
    assert [e["actor"] for e in events][:2] == ["刘丹", ""] and events[2]["actor"] == "谭石泉"
    shown = ok(run("issue", "show", number, lang=lang)).stdout
    assert "卫生间下水道返水" in shown and "清淤并更换管道" in shown and "等待配件" in shown
    assert ("已结案" if lang == "zh" else "closed") in shown


def test_a_refused_transition_exits_2_says_what_is_allowed_and_writes_nothing(
    run: Run, store_path: Path, community: dict[str, str]
) -> None:
    number = new(run)
    before = snapshot(store_path)
    refused = run("issue", "close", number, lang="zh")
    assert refused.exit_code == 2
    assert "当前为“待分单”，不能结案" in refused.stderr
    for allowed in ("分单（assign）", "上报（escalate）", "不予受理（reject）"):
        assert allowed in refused.stderr
    assert "Traceback" not in refused.output
    assert snapshot(store_path) == before
    english = run("issue", "resolve", number, "--summary", "x")
    assert english.exit_code == 2 and "Allowed now: assign (dispatch)" in english.stderr
    assert snapshot(store_path) == before


def test_a_new_issue_with_bad_input_lists_every_problem(
    run: Run, store_path: Path, community: dict[str, str]
) -> None:
    before = snapshot(store_path)
    refused = run("issue", "new", "--household", "无此人", "--category", "plumbing", "--channel", "fax")
    assert refused.exit_code == 2
    for field in ("title", "category", "channel", "household"):
        assert field in refused.stderr
    assert "repair (Repair)" in refused.stderr, "the known categories are listed"
    assert snapshot(store_path) == before


def test_assigning_to_a_team_says_it_is_not_a_registered_lead(run: Run, community: dict[str, str]) -> None:
    number = new(run)
    result = ok(run("issue", "escalate", number, "--to", "镇综治办", "--reason", "需多部门协调", lang="zh"))
    assert "镇综治办 不是已登记的楼栋长或志愿者" in result.stderr
    assert "待分单 → 已上报" in result.stderr


def test_a_low_rating_reopens_the_issue_and_says_so(
    run: Run, store_path: Path, community: dict[str, str]
) -> None:
    number = new(run)
    for step in (
        ("assign", number, "--to", "谭石泉"),
        ("accept", number),
        ("resolve", number, "--summary", "已处理"),
    ):
        ok(run("issue", *step, "--at", "2026-07-03T12:00"))
    result = ok(run("issue", "visit", number, "--rating", "2", "--at", "2026-07-06T10:00"))
    assert "reopened as rework" in result.stderr
    issue = issues.issue_by_ref(Store(store_path), number)
    assert (issue["status"], issue["rework"]) == ("reopened", 1)


def test_list_filters_and_formats(
    run: Run, community: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(issues, "now", lambda: datetime(2026, 7, 9, 12, 0))
    first = new(run)
    second = new(
        run, "--category", "safety", "--title", "电动车楼道飞线充电", "--description", "三楼楼道私拉电线"
    )
    ok(run("issue", "assign", second, "--to", "镇综治办", "--at", "2026-07-03T10:00"))

    table = ok(run("issue", "list", "--overdue", lang="zh")).stdout
    assert "超期" in table and first in table and second in table, "both were due at the end of 8 July"
    assert "\x1b[" not in table, "no colour when the output is not a terminal"

    rows = list(csv.DictReader(io.StringIO(ok(run("issue", "list", "--format", "csv")).stdout)))
    assert [r["number"] for r in rows] == [first, second]
    assert (
        rows[1]["status"] == "assigned" and rows[1]["countdown"] == "red" and rows[1]["category"] == "safety"
    )

    data = json.loads(ok(run("issue", "list", "--assignee", "镇综治办", "--format", "json")).stdout)
    assert [d["number"] for d in data] == [second]
    assert data[0]["assignee"] == "镇综治办" and data[0]["assignee_id"] is None
    assert data[0]["reporter_phone"] == "135****5678"
    full = json.loads(ok(run("issue", "list", "--format", "json", "--show-pii")).stdout)
    assert full[0]["reporter_phone"] == "13512345678"

    def numbers(*filters: str) -> list[str]:
        return [
            d["number"] for d in json.loads(ok(run("issue", "list", *filters, "--format", "json")).stdout)
        ]

    assert numbers("--search", "fxcd") == [second], "pinyin initials of 飞线充电"
    assert numbers("--search", "私拉电线") == [second], "what the resident said"
    assert numbers("--status", "reported") == [first]
    assert numbers("--category", "维修") == [first]
    assert numbers("--grid", "TL-03", "--due-before", "2026-07-08") == []
    bad = run("issue", "list", "--status", "finished")
    assert bad.exit_code == 2 and "open, reported" in bad.stderr


def test_show_as_json_has_the_whole_timeline(run: Run, community: dict[str, str]) -> None:
    number = new(run, "--description", "楼上排水不畅")
    ok(run("issue", "assign", number, "--to", "物业", "--due", "2026-07-06", "--at", "2026-07-03T10:00"))
    data = json.loads(ok(run("issue", "show", number, "--format", "json")).stdout)
    assert data["issue"]["description"] == "楼上排水不畅" and data["issue"]["channel"] == "wechat"
    assert data["issue"]["due"] == "2026-07-06T23:59:59"
    assert [(e["type"], e["from"], e["to"]) for e in data["events"]] == [
        ("report", None, "reported"),
        ("assign", "reported", "assigned"),
    ]
    timeline = list(csv.DictReader(io.StringIO(ok(run("issue", "show", number, "--format", "csv")).stdout)))
    assert [r["type"] for r in timeline] == ["report", "assign"]


def test_two_issues_sharing_a_number_after_a_sync_ask_for_the_id(
    run: Run, store_path: Path, community: dict[str, str]
) -> None:
    number = new(run)
    store = Store(store_path)
    mine = issues.issue_by_ref(store, number)
    with store.transaction() as tx:
        theirs = tx.create("issues", {**issues.cache_of(mine), "number": number, "title": "楼道灯不亮"})
    refused = run("issue", "show", number)
    assert refused.exit_code == 2 and mine["id"][-8:] in refused.stderr and theirs[-8:] in refused.stderr
    assert "楼道灯不亮" in ok(run("issue", "show", theirs[-8:])).stdout


def test_an_issue_reported_on_30_december_is_due_in_2027_with_one_warning(
    run: Run, community: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(issues, "now", lambda: datetime(2027, 1, 4, 9, 0))
    workdays.clear_cache()
    workdays._warned_years.clear()
    result = ok(run("issue", "new", "--household", "程金娇", "--category", "repair", "--channel", "phone",
                    "--title", "暖气不热", "--at", "2026-12-30T09:00"))  # fmt: skip
    assert "due 2027-01-05" in result.stderr
    assert result.stderr.count("No official holiday arrangement is known for 2027") == 1
    assert "Traceback" not in result.stderr and "CalendarFallbackWarning" not in result.stderr


def test_a_household_with_an_open_issue_cannot_be_removed(
    run: Run, store_path: Path, community: dict[str, str]
) -> None:
    new(run)
    before = snapshot(store_path)
    refused = run("household", "remove", community["household"], "--yes")
    assert refused.exit_code == 2 and "1 open issues" in refused.stderr
    assert snapshot(store_path) == before


# -- the calendar ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        ("2026-02-12", "3", "2026-02-24"),  # Sat 14 Feb is worked, then the Spring Festival
        ("2026-02-26", "2", "2026-02-28"),  # Saturday 28 Feb is a make-up working day
        ("2026-09-30", "3", "2026-10-10"),  # National Day, then Saturday 10 Oct is worked
        ("2026-10-12", "-2", "2026-10-09"),
        ("2026-12-30", "3", "2027-01-05"),
    ],
)
def test_add_workdays(run: Run, day: str, n: str, expected: str) -> None:
    result = ok(run("calendar", "add-workdays", day, n))
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    ("day", "code", "answer"),
    [
        ("2026-02-14", 0, "是：调休上班日"),
        ("2026-02-16", 1, "否：法定节假日"),
        ("2026-10-01", 1, "否：法定节假日"),
        ("2026-10-10", 0, "是：调休上班日"),
        ("2026-11-21", 1, "否：周末"),
        ("2026-11-23", 0, "是：工作日"),
    ],
)
def test_is_workday_answers_and_exits_0_or_1(run: Run, day: str, code: int, answer: str) -> None:
    result = run("calendar", "is-workday", day, lang="zh")
    assert (result.exit_code, result.stdout.strip()) == (code, answer)


def test_an_unknown_year_is_answered_with_a_warning_once(run: Run) -> None:
    workdays.clear_cache()
    workdays._warned_years.clear()
    result = run("calendar", "is-workday", "2027-01-01")
    assert result.exit_code == 1 and result.stdout.strip() == "no: public holiday"
    assert result.stderr.count("2027") >= 1 and result.stderr.startswith("warning: No official holiday")
    assert run("calendar", "is-workday", "2027-13-01").exit_code == 2
