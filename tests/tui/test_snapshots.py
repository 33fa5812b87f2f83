"""Snapshots of the queue, the detail pane and a form, in Chinese and English.

The store is built with fixed times and the app runs on a fixed clock, so the pictures only change
when the dashboard does (``pytest --snapshot-update`` after a deliberate change, then look at them).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from gridtool import i18n, issues, register
from gridtool.store import Store
from gridtool.tui.app import GridtoolApp

NOW = datetime(2026, 11, 20, 10, 0)


def _store(path: Path) -> Path:
    store = Store.init(path, name="铁园社区")
    register.add(store, "grid_cell", {"code": "TL-03", "name": "铁园社区第三网格", "worker": "刘丹"})
    building = register.add(
        store,
        "building",
        {"grid_cell": "TL-03", "compound": "湘离小区", "number": "5", "units": 3, "floors": 7},
    )
    register.add(
        store,
        "lead",
        {"name": "谭石泉", "phone": "13907320001", "roles": ["building-lead"], "buildings": [building["id"]]},
    )
    register.add(store, "lead", {"name": "欧阳娜娜", "roles": ["volunteer"], "grid_cell": "TL-03"})
    heads = [("程金娇", "0502", "13512345678"), ("张三", "0301", "13600001111"), ("单田芳", "0701", "")]
    for n, (head, room, phone) in enumerate(heads):
        register.add(
            store,
            "household",
            {"building": building["id"], "unit": n + 1, "room": room, "head": head, "phone": phone},
        )
    plan = [
        ("程金娇", "repair", "urgent", "卫生间下水道返水", datetime(2026, 11, 16, 9, 0)),
        ("张三", "safety", "normal", "电动车楼道飞线充电", datetime(2026, 11, 19, 15, 30)),
        ("单田芳", "dispute", "normal", "楼上漏水殃及楼下", datetime(2026, 11, 2, 11, 0)),
        ("张三", "environment", "low", "垃圾清运不及时", datetime(2026, 11, 20, 8, 0)),
    ]
    for head, category, urgency, title, at in plan:
        issues.report(
            store,
            {
                "household": head,
                "category": category,
                "urgency": urgency,
                "channel": "wechat",
                "title": title,
            },
            at=at,
            actor="刘丹",
        )
    issues.perform(
        store, "assign", "2026-000001", at=datetime(2026, 11, 16, 10, 0), actor="刘丹", to="谭石泉"
    )
    issues.perform(store, "accept", "2026-000001", at=datetime(2026, 11, 16, 14, 0), actor="谭石泉")
    issues.perform(
        store,
        "note",
        "2026-000001",
        at=datetime(2026, 11, 17, 9, 0),
        actor="谭石泉",
        text="已联系物业，明天上门",
    )
    return path


@pytest.fixture(params=["zh", "en"])
def lang(request: pytest.FixtureRequest):
    i18n.set_language(request.param)
    yield request.param
    i18n.set_language(None)


@pytest.fixture
def app(tmp_path: Path, lang: str) -> GridtoolApp:
    return GridtoolApp(_store(tmp_path / "s" / "gridtool.json"), poll_seconds=3600, clock=lambda: NOW)


def test_queue_and_detail(snap_compare, app: GridtoolApp) -> None:
    assert snap_compare(app, terminal_size=(160, 45))


def test_queue_on_a_small_terminal(snap_compare, app: GridtoolApp) -> None:
    assert snap_compare(app, terminal_size=(80, 24))


def test_assign_form(snap_compare, app: GridtoolApp) -> None:
    async def open_form(pilot) -> None:
        listing = pilot.app.query_one("#queue-list")
        listing.cursor = next(i for i, r in enumerate(listing.rows) if r["status"] == "reported")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=open_form)
