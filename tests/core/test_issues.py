"""The issue workflow through the library: the state machine, numbers, the timeline, deadlines."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

# volunteers too: removing a household needs its open orders counted, which it registers.
from gridtool import i18n, issues, register, volunteers, workdays  # noqa: F401
from gridtool.errors import InputError, NotFound, TransitionError, ValidationError
from gridtool.issues import COMMANDS, STATUSES, TRANSITIONS
from gridtool.sla import load_sla
from gridtool.store import Store
from tests.conftest import snapshot

T0 = datetime(2026, 7, 1, 9, 0)  # a Wednesday with ordinary working days around it
VALID: dict[str, dict[str, Any]] = {
    "assign": {"to": "谭石泉"},
    "accept": {},
    "escalate": {"to": "镇综治办", "reason": "涉及多户，需街道协调"},
    "reassign": {"to": "物业"},
    "extend": {"days": 2, "reason": "等待配件"},
    "note": {"text": "已电话联系反映人"},
    "resolve": {"summary": "清淤并更换管道"},
    "visit": {"rating": 5, "comment": "满意"},
    "reopen": {"reason": "问题复发"},
    "reject": {"reason": "不属于社区职责"},
    "close": {},
}
PATHS: dict[str, list[str]] = {
    "reported": [],
    "assigned": ["assign"],
    "accepted": ["assign", "accept"],
    "escalated": ["escalate"],
    "resolved": ["assign", "accept", "resolve"],
    "visited": ["assign", "accept", "resolve", "visit"],
    "reopened": ["assign", "accept", "resolve", "reopen"],
    "closed": ["assign", "accept", "resolve", "visit", "close"],
    "rejected": ["reject"],
}


def new_issue(store: Store, community: dict[str, str], at: datetime = T0, **data: Any) -> dict[str, Any]:
    fields = {
        "household": community["household"],
        "category": "repair",
        "urgency": "normal",
        "channel": "wechat",
        "title": "卫生间下水道返水",
        **data,
    }
    issue, _ = issues.report(store, fields, at=at, actor="刘丹")
    return issue


def drive(store: Store, community: dict[str, str], status: str) -> tuple[dict[str, Any], datetime]:
    """A fresh issue brought to ``status`` by the shortest path; returns it and its last event time."""
    issue = new_issue(store, community)
    at = T0
    for action in PATHS[status]:
        at += timedelta(hours=2)
        issue, _ = issues.perform(store, action, issue["number"], at=at, **VALID[action])
    assert issue["status"] == status
    return issue, at


def test_every_status_has_a_path_and_every_action_is_in_the_table() -> None:
    assert set(PATHS) == set(STATUSES)
    assert set(VALID) == set(COMMANDS) == set(TRANSITIONS) - {"report"}
    assert issues.allowed_actions("rejected") == ["note"], "rejected is terminal"


CASES = [(status, action) for status in STATUSES for action in COMMANDS]


@pytest.mark.parametrize(("status", "action"), CASES, ids=[f"{s}-{a}" for s, a in CASES])
def test_every_transition_is_allowed_or_refused_as_the_table_says(
    store: Store, community: dict[str, str], status: str, action: str
) -> None:
    issue, at = drive(store, community, status)
    allowed = status in TRANSITIONS[action].sources
    if allowed:
        after, event = issues.perform(
            store, action, issue["number"], at=at + timedelta(hours=1), **VALID[action]
        )
        expected = TRANSITIONS[action].target or status
        assert after["status"] == expected == event["to"] and event["from"] == status
        cached = {f: after.get(f) for f in issues.CACHE_FIELDS}
        assert cached == {f: v for f, v in issues.fold(issues.timeline(store, after["id"])).items()}
    else:
        before = snapshot(store.path)
        with pytest.raises(TransitionError) as refused:
            issues.perform(store, action, issue["number"], at=at + timedelta(hours=1), **VALID[action])
        assert snapshot(store.path) == before
        message = refused.value.message()
        for possible in issues.allowed_actions(status):
            assert possible in message
        assert store.records("issues")[issue["id"]]["status"] == status


def test_the_refusal_says_what_is_allowed_in_the_users_language(
    store: Store, community: dict[str, str]
) -> None:
    issue, at = drive(store, community, "resolved")
    i18n.set_language("zh")
    with pytest.raises(TransitionError) as refused:
        issues.perform(store, "close", issue["number"], at=at + timedelta(hours=1))
    assert refused.value.message() == (
        "诉求 2026-000001 当前为“已办结”，不能结案。现在可以：备注（note）、回访（visit）、返工（reopen）"
    )


@pytest.mark.parametrize(
    ("rating", "status", "rework"), [(1, "reopened", 1), (2, "reopened", 1), (3, "visited", 0)]
)
def test_a_rating_of_1_or_2_reopens_the_issue_as_rework_with_a_fresh_deadline(
    store: Store, community: dict[str, str], rating: int, status: str, rework: int
) -> None:
    issue, _ = drive(store, community, "resolved")
    visit_at = datetime(2026, 7, 10, 10, 0)  # a Friday
    after, _ = issues.perform(store, "visit", issue["number"], at=visit_at, rating=rating)
    assert (after["status"], after["rework"], after["rating"]) == (status, rework, rating)
    if status == "reopened":
        assert after["due"] == "2026-07-15T23:59:59", "3 working days from Friday: Mon, Tue, Wed"
        assert after["window_start"] == "2026-07-10T10:00:00"
    else:
        assert after["due"] == issue["due"]


def test_rework_counts_every_reopening(store: Store, community: dict[str, str]) -> None:
    issue, at = drive(store, community, "closed")
    for action, params in [
        ("reopen", {}),
        ("accept", {}),
        ("resolve", {"summary": "再次处理"}),
        ("visit", {"rating": 1}),
        ("accept", {}),
        ("resolve", {"summary": "第三次处理"}),
        ("visit", {"rating": 4}),
        ("close", {}),
    ]:
        at += timedelta(hours=3)
        issue, _ = issues.perform(store, action, issue["number"], at=at, **params)
    assert (issue["status"], issue["rework"], issue["rating"]) == ("closed", 2, 4)


def test_a_note_or_an_extension_on_a_reopened_issue_is_no_new_round_of_rework(
    store: Store, community: dict[str, str]
) -> None:
    """Only entering "reopened" starts a round with a fresh deadline; a note on the reopened issue
    once counted as another round and reset its deadline, and the lenient fold met a note with no
    deadline in it (found by tests/core/test_sync_timelines.py)."""
    issue, at = drive(store, community, "resolved")
    reopened, _ = issues.perform(store, "reopen", issue["number"], at=at + timedelta(hours=1))
    noted, _ = issues.perform(store, "note", issue["number"], at=at + timedelta(days=2), **VALID["note"])
    assert (noted["rework"], noted["due"], noted["window_start"]) == (
        1,
        reopened["due"],
        reopened["window_start"],
    )
    extended, _ = issues.perform(
        store, "extend", issue["number"], at=at + timedelta(days=2), **VALID["extend"]
    )
    assert extended["rework"] == 1 and extended["due"] > reopened["due"]
    assert extended["window_start"] == reopened["window_start"]
    events = issues.timeline(store, issue["id"])
    assert all("due" not in e.get("payload", {}) for e in events if e["type"] == "note")
    for strict in (True, False):
        folded = issues.fold(events, strict=strict)
        assert {f: extended.get(f) for f in issues.CACHE_FIELDS} == {
            f: folded.get(f) for f in issues.CACHE_FIELDS
        }


def test_reject_needs_a_reason_or_the_issue_it_duplicates(store: Store, community: dict[str, str]) -> None:
    first = new_issue(store, community)
    second = new_issue(store, community, at=T0 + timedelta(minutes=5))
    with pytest.raises(ValidationError) as refused:
        issues.perform(store, "reject", second["number"], at=T0 + timedelta(hours=1))
    assert refused.value.fields == ["reason"]
    with pytest.raises(ValidationError):
        issues.perform(store, "reject", second["number"], duplicate_of=second["number"])
    after, event = issues.perform(store, "reject", second["number"], duplicate_of="2026-1")
    assert after["status"] == "rejected"
    assert (
        event["payload"]["duplicate_of"] == first["id"]
        and event["payload"]["duplicate_number"] == "2026-000001"
    )


def test_extend_moves_the_deadline_by_working_days_and_needs_a_reason(
    store: Store, community: dict[str, str]
) -> None:
    issue = new_issue(store, community, at=datetime(2026, 9, 24, 9, 0))  # Thu; 25 Sep is 中秋
    assert issue["due"] == "2026-09-30T23:59:59", "Fri 25 (中秋) and the weekend are off: Mon 28 - Wed 30"
    with pytest.raises(ValidationError) as refused:
        issues.perform(store, "extend", issue["number"], days=0)
    assert set(refused.value.fields) == {"days", "reason"}
    after, event = issues.perform(store, "extend", issue["number"], days=2, reason="等待配件")
    assert after["due"] == "2026-10-09T23:59:59", "National Day is off until 7 Oct: Thu 8, Fri 9"
    assert event["payload"]["previous_due"] == "2026-09-30T23:59:59"


def test_assign_to_a_lead_or_a_team_records_which(store: Store, community: dict[str, str]) -> None:
    issue = new_issue(store, community)
    lead_issue, event = issues.perform(store, "assign", issue["number"], to=community["lead"][-6:])
    assert (lead_issue["assignee"], lead_issue["assignee_kind"]) == (community["lead"], "lead")
    assert event["payload"]["assignee_name"] == "谭石泉"
    with pytest.raises(InputError):
        issues.perform(store, "reassign", issue["number"], to="谭石泉")  # already theirs
    team_issue, _ = issues.perform(store, "reassign", issue["number"], to="镇综治办")
    assert (team_issue["assignee"], team_issue["assignee_kind"]) == ("镇综治办", "team")
    assert issues.assignee_name(store, team_issue) == "镇综治办"


def test_a_name_shared_by_two_leads_is_refused_not_guessed(store: Store, community: dict[str, str]) -> None:
    register.add(store, "lead", {"name": "谭石泉", "roles": ["volunteer"]})
    issue = new_issue(store, community)
    before = snapshot(store.path)
    with pytest.raises(NotFound, match="谭石泉"):
        issues.perform(store, "assign", issue["number"], to="谭石泉")
    assert snapshot(store.path) == before


def test_an_inactive_lead_cannot_be_given_an_issue(store: Store, community: dict[str, str]) -> None:
    register.edit(store, "lead", community["lead"], {"active": False})
    issue = new_issue(store, community)
    with pytest.raises(InputError, match="no longer active"):
        issues.perform(store, "assign", issue["number"], to=community["lead"])


def test_events_are_entered_in_order_and_never_far_in_the_future(
    store: Store, community: dict[str, str]
) -> None:
    issue = new_issue(store, community)
    issues.perform(store, "assign", issue["number"], at=T0 + timedelta(hours=2), to="物业")
    before = snapshot(store.path)
    with pytest.raises(InputError, match="earlier than its last event"):
        issues.perform(store, "accept", issue["number"], at=T0 + timedelta(hours=1))
    with pytest.raises(InputError, match="in the future"):
        issues.perform(store, "accept", issue["number"], at=datetime.now() + timedelta(days=2))
    assert snapshot(store.path) == before
    same_time, _ = issues.perform(store, "accept", issue["number"], at=T0 + timedelta(hours=2))
    assert same_time["status"] == "accepted", "an event at the same moment as the last one is fine"


def test_a_moment_outside_1900_to_2100_is_a_typo_not_issue_1_000001(
    store: Store, community: dict[str, str]
) -> None:
    before = snapshot(store.path)
    with pytest.raises(ValidationError) as refused:
        new_issue(store, community, at=datetime(1, 1, 1))
    assert list(refused.value.fields) == ["at"]
    assert snapshot(store.path) == before


def test_a_new_issue_is_validated_all_at_once_and_writes_nothing_when_refused(
    store: Store, community: dict[str, str]
) -> None:
    before = snapshot(store.path)
    with pytest.raises(ValidationError) as refused:
        issues.report(store, {"category": "plumbing", "channel": "fax", "urgency": "soon"}, at=T0)
    assert set(refused.value.fields) == {"title", "category", "urgency", "channel", "household"}
    assert snapshot(store.path) == before


def test_labels_in_either_language_are_accepted_for_choices(store: Store, community: dict[str, str]) -> None:
    issue = new_issue(store, community, category="维修", channel="微信群", urgency="紧急", scale="小事")
    assert (issue["category"], issue["urgency"], issue["scale"]) == ("repair", "urgent", "minor")
    facts = issues.report_facts(issues.timeline(store, issue["id"]))
    assert (facts["channel"], facts["responsible"], facts["limit"], facts["unit"]) == (
        "wechat",
        "物业",
        7,
        "workhours",
    )


def test_a_patrol_finding_needs_the_grid_and_a_household_must_agree_with_it(
    store: Store, community: dict[str, str]
) -> None:
    found, _ = issues.report(
        store,
        {"grid_cell": "tl-03", "category": "safety", "channel": "patrol", "title": "电动车楼道飞线充电"},
        at=T0,
    )
    assert (found["household"], found["grid_cell"]) == ("", community["grid"])
    register.add(store, "grid_cell", {"code": "TL-04", "name": "第四网格"})
    with pytest.raises(ValidationError) as refused:
        new_issue(store, community, grid_cell="TL-04")
    assert refused.value.fields == ["grid_cell"]


# -- numbers ----------------------------------------------------------------------------------------


def test_numbers_count_per_year_of_the_report(store: Store, community: dict[str, str]) -> None:
    numbers = [
        new_issue(store, community, at=datetime(2025, 12, 31, 16, 0))["number"],
        new_issue(store, community, at=datetime(2026, 1, 2, 9, 0))["number"],
        new_issue(store, community, at=datetime(2026, 1, 2, 9, 30))["number"],
        new_issue(store, community, at=datetime(2025, 12, 31, 17, 0))["number"],  # a late ledger entry
    ]
    assert numbers == ["2025-000001", "2026-000001", "2026-000002", "2025-000002"]
    assert issues.issue_by_ref(store, "2026-2")["number"] == "2026-000002"
    assert issues.issue_by_ref(store, " 2025-000002 ")["number"] == "2025-000002"


def test_a_number_two_laptops_both_gave_out_asks_for_the_id(store: Store, community: dict[str, str]) -> None:
    mine = new_issue(store, community)
    with store.transaction() as tx:  # what a sync would bring in: another replica's 2026-000001
        theirs = tx.create(
            "issues", {**issues.cache_of(mine), "number": "2026-000001", "title": "楼道灯不亮"}
        )
    with pytest.raises(NotFound) as ambiguous:
        issues.issue_by_ref(store, "2026-000001")
    assert ambiguous.value.key == "issue.ambiguous_number"
    assert mine["id"][-8:] in ambiguous.value.message() and theirs[-8:] in ambiguous.value.message()
    assert issues.issue_by_ref(store, theirs[-8:])["title"] == "楼道灯不亮"
    assert issues.issue_by_ref(store, mine["id"])["title"] == "卫生间下水道返水"
    assert new_issue(store, community)["number"] == "2026-000002"


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timedelta
    from gridtool import issues
    from gridtool.store import Store

    store = Store(sys.argv[1])
    for n in range(int(sys.argv[3])):
        title = sys.argv[4] + str(n)
        data = {"household": sys.argv[2], "category": "repair", "channel": "phone", "title": title}
        issues.report(store, data, at=datetime(2026, 7, 1, 9) + timedelta(minutes=n))
    """
)


def test_two_processes_reporting_at_once_never_share_a_number(
    store: Store, community: dict[str, str]
) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(store.path), community["household"], "15", p], env=env
        )
        for p in ("A", "B")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    numbers = sorted(i["number"] for i in Store(store.path).records("issues").values())
    assert numbers == [f"2026-{n:06d}" for n in range(1, 31)]


# -- deadlines --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reported", "category", "urgency", "scale", "due"),
    [
        # Spring Festival 2026: 15-23 Feb off, Saturday 14 Feb and Saturday 28 Feb are make-up days.
        (datetime(2026, 2, 12, 9, 0), "repair", "normal", "minor", "2026-02-24T23:59:59"),
        (datetime(2026, 2, 13, 10, 0), "repair", "urgent", "minor", "2026-02-14T10:00:00"),  # 7 h
        (datetime(2026, 2, 13, 10, 0), "repair", "normal", "private", "2026-02-27T23:59:59"),
        (datetime(2026, 2, 24, 9, 0), "repair", "normal", "minor", "2026-02-27T23:59:59"),
        (datetime(2026, 2, 26, 9, 0), "repair", "normal", "minor", "2026-03-02T23:59:59"),  # via Sat 28 Feb
        # National Day 2026: 1-7 Oct off (and 25 Sep, 中秋), Sunday 20 Sep and Saturday 10 Oct are worked.
        (datetime(2026, 9, 18, 15, 0), "policy", "normal", "minor", "2026-09-21T23:59:59"),  # via Sun 20 Sep
        (datetime(2026, 9, 30, 9, 0), "repair", "normal", "minor", "2026-10-10T23:59:59"),
        (datetime(2026, 9, 30, 17, 0), "policy", "urgent", "minor", "2026-10-08T12:00:00"),  # 0.5 h + 3.5 h
        (datetime(2026, 9, 29, 9, 0), "dispute", "normal", "minor", "2026-10-19T23:59:59"),
    ],
)
def test_deadlines_count_chinese_working_days(
    store: Store,
    community: dict[str, str],
    reported: datetime,
    category: str,
    urgency: str,
    scale: str,
    due: str,
) -> None:
    issue = new_issue(store, community, at=reported, category=category, urgency=urgency, scale=scale)
    assert issue["due"] == due


def test_a_report_on_30_december_2026_is_due_in_2027_with_one_warning(
    store: Store, community: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(issues, "now", lambda: datetime(2027, 1, 11, 9, 0))
    workdays.clear_cache()
    workdays._warned_years.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        issue = new_issue(store, community, at=datetime(2026, 12, 30, 9, 0))
        extended, _ = issues.perform(store, "extend", issue["number"], days=3, reason="元旦假期")
    assert issue["due"] == "2027-01-05T23:59:59", "31 Dec, then 1 Jan (holiday) and the weekend, 4 and 5 Jan"
    assert extended["due"] == "2027-01-08T23:59:59"
    assert [str(w.message) for w in caught if issubclass(w.category, workdays.CalendarFallbackWarning)] != []
    assert len([w for w in caught if issubclass(w.category, workdays.CalendarFallbackWarning)]) == 1


def test_assign_can_set_its_own_deadline_but_not_one_in_the_past(
    store: Store, community: dict[str, str]
) -> None:
    issue = new_issue(store, community)
    with pytest.raises(InputError, match="not after"):
        issues.perform(
            store, "assign", issue["number"], at=T0 + timedelta(hours=1), to="物业", due="2026-06-30"
        )
    after, _ = issues.perform(
        store, "assign", issue["number"], at=T0 + timedelta(hours=1), to="物业", due="2026-07-10"
    )
    assert after["due"] == "2026-07-10T23:59:59"


def test_the_countdown_is_green_then_yellow_then_red(store: Store, community: dict[str, str]) -> None:
    issue = new_issue(store, community, at=datetime(2026, 7, 6, 0, 0))  # Monday; due Thursday 23:59:59
    assert issue["due"] == "2026-07-09T23:59:59"
    assert issues.countdown(issue, datetime(2026, 7, 8, 12, 0)) == "green"  # 2.5 of 4 days' hours used
    assert issues.countdown(issue, datetime(2026, 7, 9, 8, 0)) == "green"  # 21 of 28 office hours
    assert issues.countdown(issue, datetime(2026, 7, 9, 10, 0)) == "yellow"  # 22.5 of 28: past 80 %
    assert issues.countdown(issue, datetime(2026, 7, 10, 0, 0)) == "red"
    resolved, at = issue, datetime(2026, 7, 6, 9, 0)
    for action in ("assign", "accept", "resolve"):
        at += timedelta(hours=1)
        resolved, _ = issues.perform(store, action, issue["number"], at=at, **VALID[action])
    assert issues.countdown(resolved, datetime(2026, 7, 20)) is None, "only open issues have a colour"


# -- reading ----------------------------------------------------------------------------------------


def test_lists_filter_as_a_worker_asks(store: Store, community: dict[str, str]) -> None:
    a = new_issue(store, community, title="卫生间下水道返水")
    b = new_issue(store, community, title="电动车楼道飞线充电", category="safety", at=T0 + timedelta(hours=1))
    c = new_issue(store, community, title="咨询低保申请条件", category="policy", at=T0 + timedelta(hours=2))
    issues.perform(store, "assign", a["number"], at=T0 + timedelta(hours=3), to="谭石泉")
    issues.perform(store, "assign", b["number"], at=T0 + timedelta(hours=3), to="镇综治办")
    issues.perform(store, "reject", c["number"], at=T0 + timedelta(hours=3), reason="重复")

    def numbers(**filters: Any) -> list[str]:
        return [i["number"] for i in issues.list_issues(store, **filters)]

    assert numbers() == [a["number"], b["number"], c["number"]]
    assert numbers(status="open") == [a["number"], b["number"]]
    assert numbers(status="rejected,reported") == [c["number"]]
    assert numbers(category="安全隐患") == [b["number"]]
    assert numbers(assignee="谭石泉") == [a["number"]]
    assert numbers(assignee="镇综治办") == [b["number"]]
    assert numbers(search="fxcd") == [b["number"]], "pinyin initials of 飞线充电"
    assert numbers(search="程金娇") == [a["number"], b["number"], c["number"]], "the reporter's name"
    assert numbers(overdue=True, at=datetime(2026, 7, 5)) == []
    assert numbers(overdue=True, at=datetime(2026, 7, 7)) == [a["number"], b["number"]]
    assert numbers(due_before="2026-07-06") == [c["number"]], "a bare date is its start; a and b end 6 Jul"
    assert numbers(due_before="2026-07-07") == [a["number"], b["number"], c["number"]]
    with pytest.raises(ValidationError):
        numbers(status="done")


def test_a_lead_or_household_with_live_issues_cannot_be_removed(
    store: Store, community: dict[str, str]
) -> None:
    issue = new_issue(store, community)
    issues.perform(store, "assign", issue["number"], at=T0 + timedelta(hours=1), to="谭石泉")
    before = snapshot(store.path)
    for kind, ref in (("lead", community["lead"]), ("household", community["household"])):
        with pytest.raises(InputError, match="1 open issues"):
            register.remove(store, kind, ref)
    assert snapshot(store.path) == before
    issues.perform(store, "reject", issue["number"], at=T0 + timedelta(hours=2), reason="重复")
    register.remove(store, "lead", community["lead"])
    register.remove(store, "household", community["household"])


def test_the_timeline_folds_back_to_the_cached_fields_and_tolerates_conflicts(
    store: Store, community: dict[str, str]
) -> None:
    issue, _ = drive(store, community, "closed")
    events = issues.timeline(store, issue["id"])
    assert [e["type"] for e in events] == ["report", "assign", "accept", "resolve", "visit", "close"]
    assert issues.fold(events) == {f: issue.get(f) for f in issues.CACHE_FIELDS}
    stray = {**events[2], "id": "ZZZZ", "type": "close", "payload": {}}  # another laptop closed it meanwhile
    with pytest.raises(TransitionError):
        issues.fold([*events, stray])
    assert issues.fold([*events, stray], strict=False)["conflicts"] == ["ZZZZ"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-07-03", datetime(2026, 7, 3)),
        ("2026/7/3 9:05", datetime(2026, 7, 3, 9, 5)),
        ("2026-07-03T09:00:30", datetime(2026, 7, 3, 9, 0, 30)),
        ("2026年7月3日 09:00", datetime(2026, 7, 3, 9, 0)),
    ],
)
def test_times_are_read_as_people_write_them(text: str, expected: datetime) -> None:
    assert issues.parse_when(text) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "03/07/2026", "tomorrow", "2026-07-03 25:00"])
def test_a_time_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(InputError):
        issues.parse_when(text)


def test_a_deadline_given_as_a_date_means_the_end_of_that_day() -> None:
    assert issues.parse_when("2026-07-03", end_of_day=True) == datetime(2026, 7, 3, 23, 59, 59)
    assert issues.parse_date("today") == date.today()


# -- the demo ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "today",
    [date(2026, 10, 9), date(2026, 2, 16), date(2026, 7, 4), date(2026, 12, 31)],
    ids=["after-national-day", "spring-festival", "a-saturday", "new-years-eve"],
)
def test_the_demo_issues_cover_every_state_and_are_dated_from_the_day_of_loading(
    store: Store, today: date
) -> None:
    from gridtool import demo

    counts = demo.load(store, demo.shipped(), today=today)
    assert counts["issues"] == 150
    loaded = list(store.records("issues").values())
    assert {i["status"] for i in loaded} == set(STATUSES)
    assert {i["category"] for i in loaded} == set(load_sla().categories())
    events = store.records("events").values()
    assert {e["payload"]["channel"] for e in events if e["type"] == "report"} == set(issues.CHANNELS)
    evening = datetime.combine(today, datetime.min.time()) + timedelta(hours=18)
    assert any(i["status"] in issues.OPEN and i["due"] < issues.iso(evening) for i in loaded), "some overdue"
    assert any(i["status"] in issues.OPEN and i["due"][:10] == today.isoformat() for i in loaded), "due today"
    assert max(i["last_event_at"] for i in loaded) < issues.iso(datetime.combine(today, datetime.max.time()))
    for issue in loaded:
        assert issues.fold(issues.timeline(store, issue["id"])) == {f: issue[f] for f in issues.CACHE_FIELDS}


def test_on_an_ordinary_working_day_the_demo_shows_every_countdown_colour(store: Store) -> None:
    from gridtool import demo

    demo.load(store, demo.shipped(), today=date(2026, 10, 9))
    evening = datetime(2026, 10, 9, 18, 0)
    colours = {issues.countdown(i, evening) for i in store.records("issues").values()}
    assert colours == {None, "green", "yellow", "red"}


def test_the_generator_makes_as_many_issues_as_asked_without_changing_the_households() -> None:
    from gridtool import demo

    plain = demo.generate(households=60, seed=5, issues=0)
    busy = demo.generate(households=60, seed=5, issues=400)
    assert plain["issues"] == [] and len(busy["issues"]) == 400
    assert busy["households"] == plain["households"] and busy["leads"] == plain["leads"]
    assert len(demo.generate(households=60, seed=5)["issues"]) == 30, "one for every two households"
