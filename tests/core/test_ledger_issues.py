"""Issues (诉求台账) through ledgers: exported with where they stand, rebuilt as timelines on import."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gridtool import issues
from gridtool.ledger import export_file, export_records, import_file
from gridtool.store import Store
from tests.conftest import snapshot

KINDS = ("grid_cell", "building", "lead", "household")


@pytest.fixture
def worked(store: Store, community: dict) -> dict[str, str]:
    """Three issues: one just reported, one closed after a rating, one escalated."""
    start = (datetime.now() - timedelta(days=20)).replace(hour=9, minute=0, second=0, microsecond=0)
    base = {"category": "repair", "urgency": "normal", "scale": "minor", "channel": "walk-in"}
    fresh, _ = issues.report(
        store, {**base, "title": "楼道灯不亮", "household": community["household"]}, at=start
    )
    done, _ = issues.report(
        store, {**base, "title": "水管漏水", "description": "厨房水管滴水", "household": "程金娇"}, at=start
    )
    steps = [
        ("assign", {"to": "谭石泉"}),
        ("accept", {}),
        ("resolve", {"summary": "更换水管接头"}),
        ("visit", {"rating": 5}),
        ("close", {}),
    ]
    for n, (action, params) in enumerate(steps, start=1):
        issues.perform(store, action, done["id"], at=start + timedelta(hours=n), **params)
    up, _ = issues.report(
        store, {**base, "title": "外墙脱落", "grid_cell": "TL-03", "scale": "major"}, at=start
    )
    issues.perform(
        store, "escalate", up["id"], at=start + timedelta(hours=1), to="街道城建办", reason="需专业维修"
    )
    return {"fresh": fresh["number"], "done": done["number"], "up": up["number"]}


def test_issues_export_and_import_into_the_same_store_changes_nothing(
    store: Store, worked: dict, tmp_path: Path
) -> None:
    path = tmp_path / "诉求.csv"
    export_file(store, "issue", "csv", path, show_pii=True)
    rows = {r["number"]: r for r in export_records(store, "issue")}
    assert rows[worked["done"]]["status"] == "closed"  # English labels in an English session
    assert rows[worked["done"]]["summary"] == "更换水管接头" and rows[worked["done"]]["rating"] == 5
    assert rows[worked["done"]]["address"] == "湘离小区5栋2单元0502"
    before = snapshot(store.path)
    report = import_file(store, "issue", path)
    assert report.counts()["unchanged"] == 3 and not report.problems
    assert snapshot(store.path) == before


def test_issues_rebuild_their_timeline_in_a_new_store(store: Store, worked: dict, tmp_path: Path) -> None:
    copy = Store.init(tmp_path / "copy" / "gridtool.json")
    for kind in (*KINDS, "issue"):
        export_file(store, kind, "csv", tmp_path / f"{kind}.csv", show_pii=True)
    for kind in KINDS:
        assert import_file(copy, kind, tmp_path / f"{kind}.csv").created
    report = import_file(copy, "issue", tmp_path / "issue.csv")
    assert (report.created, report.rejected) == (3, 0), report.as_dict()
    mine = {r["number"]: r for r in export_records(store, "issue")}
    theirs = {r["number"]: r for r in export_records(copy, "issue")}
    assert theirs == mine  # numbers kept, same facts, same standing (the escalated one too)
    done = next(i for i in copy.records("issues").values() if i["number"] == worked["done"])
    actions = [e["type"] for e in issues.timeline(copy, done["id"])]
    assert actions == ["report", "assign", "accept", "resolve", "visit", "close"]


def test_a_new_issue_without_a_number_gets_the_next_one(store: Store, worked: dict, tmp_path: Path) -> None:
    path = tmp_path / "new.csv"
    path.write_text("诉求事项,类别,渠道,住址\n路灯不亮,维修,电话,湘离小区5栋2单元0502\n", encoding="utf-8")
    report = import_file(store, "issue", path)
    assert report.created == 1, report.as_dict()
    numbers = sorted(i["number"] for i in store.records("issues").values())
    assert len(set(numbers)) == 4


def test_rows_without_a_number_import_once_however_often_the_file_comes(
    store: Store, worked: dict, tmp_path: Path
) -> None:
    path = tmp_path / "no-numbers.csv"
    path.write_text(
        "登记时间,诉求事项,类别,渠道,住址\n"
        "2026-11-02 09:30,路灯不亮,维修,电话,湘离小区5栋2单元0502\n"
        "2026-11-02 09:30,路灯不亮,维修,电话,湘离小区5栋2单元0502\n"
        "2026-11-03 10:00,路灯不亮,维修,电话,湘离小区5栋2单元0502\n",
        encoding="utf-8",
    )
    first = import_file(store, "issue", path)
    assert first.created == 2 and first.counts()["skipped"] == 1  # row 3 repeats row 2
    before = snapshot(store.path)
    again = import_file(store, "issue", path)
    assert again.created == 0 and again.counts()["unchanged"] == 2, again.as_dict()
    assert snapshot(store.path) == before


def test_rework_and_rejected_issues_rebuild_where_they_stand(
    store: Store, community: dict, tmp_path: Path
) -> None:
    start = (datetime.now() - timedelta(days=20)).replace(hour=9, minute=0, second=0, microsecond=0)
    base = {"category": "repair", "urgency": "normal", "scale": "minor", "channel": "walk-in"}
    poor, _ = issues.report(
        store, {**base, "title": "下水道堵塞", "household": community["household"]}, at=start
    )
    for n, (action, params) in enumerate(
        [
            ("assign", {"to": "谭石泉"}),
            ("accept", {}),
            ("resolve", {"summary": "疏通"}),
            ("visit", {"rating": 1}),
        ],
        start=1,
    ):
        issues.perform(store, action, poor["id"], at=start + timedelta(days=n), **params)
    again, _ = issues.report(store, {**base, "title": "楼道灯不亮", "grid_cell": "TL-03"}, at=start)
    for n, (action, params) in enumerate(
        [("assign", {"to": "谭石泉"}), ("accept", {}), ("resolve", {"summary": "换灯泡"}), ("reopen", {})],
        start=1,
    ):
        issues.perform(store, action, again["id"], at=start + timedelta(days=n), **params)
    dup, _ = issues.report(store, {**base, "title": "楼道灯又不亮", "grid_cell": "TL-03"}, at=start)
    issues.perform(store, "assign", dup["id"], at=start + timedelta(hours=1), to="谭石泉")
    issues.perform(store, "reject", dup["id"], at=start + timedelta(hours=2), duplicate_of=again["number"])

    copy = Store.init(tmp_path / "copy" / "gridtool.json")
    for kind in (*KINDS, "issue"):
        export_file(store, kind, "csv", tmp_path / f"{kind}.csv", show_pii=True)
        report = import_file(copy, kind, tmp_path / f"{kind}.csv")
        assert not report.refused, report.as_dict()
    mine = {r["number"]: r for r in export_records(store, "issue")}
    assert {r["status"] for r in mine.values()} == {"reopened", "rejected"}
    assert {r["number"]: r for r in export_records(copy, "issue")} == mine
