"""``--as-of`` rebuilds the past: a report for a moment equals the report a store would give that
never received the events after it.

The property builds random timelines in one store, then replays only the events up to a random
moment into a second, fresh store, and compares every report (and every issue's derived fields).
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridtool import issues, register, reports
from gridtool.errors import GridtoolError
from gridtool.store import Store

BASE = datetime(2025, 9, 22, 9, 0)
"""A Monday a week before the 2025 National Day holiday, so some deadlines jump over it."""

Step = tuple[str, datetime, dict[str, Any]]


def _community(store: Store) -> str:
    register.add(store, "grid_cell", {"code": "TL-03", "name": "第三网格", "worker": "刘丹"})
    building = register.add(
        store, "building", {"grid_cell": "TL-03", "compound": "湘离小区", "number": "5", "units": 3}
    )
    register.add(store, "lead", {"name": "谭石泉", "phone": "13907320001", "roles": ["building-lead"]})
    household = register.add(
        store,
        "household",
        {"grid_cell": "TL-03", "building": building["id"], "unit": 2, "room": "0502", "head": "程金娇"},
    )
    return household["id"]


def _params(data: st.DataObject, action: str) -> dict[str, Any]:
    people = st.sampled_from(["谭石泉", "物业", "城管"])
    return {
        "assign": lambda: {"to": data.draw(people)},
        "reassign": lambda: {"to": data.draw(people)},
        "escalate": lambda: {"to": "街道办", "reason": "大事上报"},
        "extend": lambda: {"days": data.draw(st.integers(1, 3)), "reason": "等材料"},
        "note": lambda: {"text": "电话联系"},
        "resolve": lambda: {"summary": "已处理"},
        "visit": lambda: {"rating": data.draw(st.integers(1, 5))},
        "reopen": lambda: {"reason": "返工"},
        "reject": lambda: {"reason": "不属于社区职责"},
    }.get(action, dict)()


def _build(store: Store, household: str, timelines: list[tuple[datetime, str, list[Step]]]) -> None:
    for reported, category, steps in timelines:
        issue, _ = issues.report(
            store,
            {"household": household, "category": category, "channel": "phone", "title": "诉求"},
            at=reported,
        )
        for action, at, params in steps:
            issues.perform(store, action, issue["id"], at=at, **params)


def _without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def _reports(store: Store, moment: datetime) -> dict[str, Any]:
    derived = {
        issue["number"]: {
            **{f: issue.get(f) for f in issues.CACHE_FIELDS if f != "last_event_at"},
            "assignee": issues.assignee_name(store, issue),
        }
        for issue in issues.issues_as_of(store, moment)
    }
    stats = reports.stats(store, BASE.date(), moment.date(), by="assignee", as_of=moment)
    return {
        "issues": derived,
        "overdue": _without_ids(reports.overdue(store, as_of=moment).rows),
        "due_soon": _without_ids(reports.due_soon(store, within="2d", as_of=moment).rows),
        "followups": _without_ids(reports.followups(store, after=0, as_of=moment).rows),
        "stats": [m.as_dict() for m in [*stats.groups, stats.total]],
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_report_as_of_a_moment_equals_one_on_a_store_without_the_later_events(
    data: st.DataObject,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        full = Store.init(Path(folder) / "full" / "gridtool.json")
        household = _community(full)
        timelines: list[tuple[datetime, str, list[Step]]] = []
        reported = BASE
        for _ in range(data.draw(st.integers(1, 4), label="issues")):
            reported += timedelta(minutes=data.draw(st.integers(0, 3 * 24 * 60)))
            category = data.draw(st.sampled_from(["repair", "dispute"]))
            issue, _ = issues.report(
                full,
                {"household": household, "category": category, "channel": "phone", "title": "诉求"},
                at=reported,
            )
            steps: list[Step] = []
            at = reported
            for _ in range(data.draw(st.integers(0, 7), label="steps")):
                status = full.records("issues")[issue["id"]]["status"]
                allowed = [a for a in issues.allowed_actions(status) if a != "report"]
                if not allowed:
                    break
                action = data.draw(st.sampled_from(allowed))
                at = at + timedelta(minutes=data.draw(st.integers(1, 4 * 24 * 60)))
                params = _params(data, action)
                try:
                    issues.perform(full, action, issue["id"], at=at, **params)
                except GridtoolError:  # reassigning to the same person: not a step of the timeline
                    continue
                steps.append((action, at, params))
            timelines.append((reported, category, steps))

        moments = [r for r, _, _ in timelines] + [at for _, _, steps in timelines for _, at, _ in steps]
        moment = data.draw(
            st.one_of(
                st.sampled_from(moments),
                st.integers(-60, 30 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m)),
            ),
            label="moment",
        )

        past = Store.init(Path(folder) / "past" / "gridtool.json")
        _build(
            past,
            _community(past),
            [(r, c, [s for s in steps if s[1] <= moment]) for r, c, steps in timelines if r <= moment],
        )
        assert _reports(full, moment) == _reports(past, moment)


def test_the_issue_of_the_bug_report_stays_overdue_on_the_day_it_was(store: Store) -> None:
    """Reported 3 Aug 2026, accepted, due 6 Aug, resolved 20 Aug: overdue as of 10 Aug, for good."""
    household = _community(store)
    issue, _ = issues.report(
        store,
        {"household": household, "category": "repair", "channel": "phone", "title": "下水道返水"},
        at=datetime(2026, 8, 3, 9, 0),
    )
    issues.perform(store, "assign", issue["id"], at=datetime(2026, 8, 3, 10, 0), to="谭石泉")
    issues.perform(store, "accept", issue["id"], at=datetime(2026, 8, 3, 11, 0))
    before = reports.overdue(store, as_of=datetime(2026, 8, 10)).rows
    issues.perform(store, "resolve", issue["id"], at=datetime(2026, 8, 20, 9, 0), summary="疏通")
    after = reports.overdue(store, as_of=datetime(2026, 8, 10)).rows
    assert [r["number"] for r in after] == [issue["number"]] and after == before
    assert after[0]["status"] == "accepted" and after[0]["due"] == "2026-08-06T23:59:59"
    assert reports.overdue(store, as_of=datetime(2026, 8, 21)).rows == []
    soon = reports.due_soon(store, within="3d", as_of=datetime(2026, 8, 5, 9, 0)).rows
    assert [r["number"] for r in soon] == [issue["number"]]


def test_an_issue_not_yet_reported_at_the_moment_is_in_no_report(store: Store) -> None:
    household = _community(store)
    issues.report(
        store,
        {"household": household, "category": "repair", "channel": "phone", "title": "楼道灯"},
        at=datetime(2026, 8, 3, 9, 0),
    )
    assert issues.issues_as_of(store, datetime(2026, 8, 3, 8, 59)) == []
    august = reports.stats(store, date(2026, 8, 1), date(2026, 8, 31), as_of=datetime(2026, 8, 2))
    assert august.total.received == 0
