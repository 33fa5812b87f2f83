"""Snapshots of the queue, a form with an error, the detail with a long timeline, the help and
the conflicts screen, at 80×24 and 120×35, in Chinese and English.

The store is built with fixed times and the app runs on a fixed clock, so the pictures only change
when the dashboard does (``pytest --snapshot-update`` after a deliberate change, then look at them).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from gridtool import i18n, issues, register, sync
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
    for n in range(14):  # a long timeline: the detail must open on its newest entry
        issues.perform(
            store,
            "note",
            "2026-000001",
            at=datetime(2026, 11, 17, 10 + n // 2, 30 * (n % 2)),
            actor="谭石泉",
            text=f"第{n + 1}次跟进：已联系物业",
        )
    return path


def _conflicted(tmp_path: Path) -> Path:
    """A household whose phone the office and 刘丹's laptop changed at once."""
    office = Store.init(tmp_path / "office" / "gridtool.json", name="office")
    worker = Store.init(tmp_path / "worker" / "gridtool.json", name="刘丹")
    sync.trust_add(office, "刘丹", sync.whoami(worker)["public_key"])
    sync.trust_add(worker, "office", sync.whoami(office)["public_key"])
    register.add(office, "grid_cell", {"code": "TL-03", "name": "铁园社区第三网格", "worker": "刘丹"})
    building = register.add(office, "building", {"grid_cell": "TL-03", "compound": "湘离小区", "number": "5"})
    household = register.add(
        office, "household", {"building": building["id"], "unit": 1, "room": "0502", "head": "程金娇"}
    )
    sync.export_bundle(office, tmp_path / "o.gtb")
    sync.import_bundle(worker, tmp_path / "o.gtb")
    register.edit(office, "household", household["id"], {"phone": "13912340001"})
    register.edit(worker, "household", household["id"], {"phone": "13912350001"})
    sync.export_bundle(worker, tmp_path / "w.gtb")
    sync.import_bundle(office, tmp_path / "w.gtb")
    return office.path


@pytest.fixture(params=["zh", "en"])
def lang(request: pytest.FixtureRequest):
    i18n.set_language(request.param)
    yield request.param
    i18n.set_language(None)


SIZES = [(80, 24), (120, 35)]


@pytest.fixture
def app(tmp_path: Path, lang: str) -> GridtoolApp:
    return GridtoolApp(_store(tmp_path / "s" / "gridtool.json"), poll_seconds=3600, clock=lambda: NOW)


@pytest.mark.parametrize("size", SIZES)
def test_queue(snap_compare, app: GridtoolApp, size: tuple[int, int]) -> None:
    assert snap_compare(app, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_form_with_an_error(snap_compare, app: GridtoolApp, size: tuple[int, int]) -> None:
    async def refused(pilot) -> None:
        await pilot.press("n", *"无此住户", "enter", *"楼道灯不亮", "ctrl+s")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=refused)


@pytest.mark.parametrize("size", SIZES)
def test_detail_with_a_long_timeline(snap_compare, app: GridtoolApp, size: tuple[int, int]) -> None:
    async def opened(pilot) -> None:
        listing = pilot.app.query_one("#queue-list")
        listing.cursor = next(i for i, r in enumerate(listing.rows) if r["number"] == "2026-000001")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=opened)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, app: GridtoolApp, size: tuple[int, int]) -> None:
    assert snap_compare(app, terminal_size=size, press=["question_mark"])


@pytest.mark.parametrize("size", SIZES)
def test_conflicts(snap_compare, tmp_path: Path, lang: str, size: tuple[int, int]) -> None:
    app = GridtoolApp(_conflicted(tmp_path), poll_seconds=3600, clock=lambda: NOW)
    assert snap_compare(app, terminal_size=size, press=["6"])


def test_assign_form(snap_compare, app: GridtoolApp) -> None:
    async def open_form(pilot) -> None:
        listing = pilot.app.query_one("#queue-list")
        listing.cursor = next(i for i, r in enumerate(listing.rows) if r["status"] == "reported")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 35), run_before=open_form)
