"""The dashboard's queue of sync conflicts: open it with 6, settle with m or o, and it syncs."""

from __future__ import annotations

from pathlib import Path

# Removing a household or lead needs what points at it counted: these modules register that.
from gridtool import i18n, issues, register, sync, volunteers  # noqa: F401
from gridtool.store import Store
from gridtool.tui.app import GridtoolApp
from gridtool.tui.conflicts import ConflictsScreen


def _conflicted(tmp_path: Path) -> tuple[Path, Store]:
    """The office's store with one phone conflict against 刘丹's laptop."""
    office = Store.init(tmp_path / "office" / "gridtool.json", name="office")
    worker = Store.init(tmp_path / "worker" / "gridtool.json", name="刘丹")
    sync.trust_add(office, "刘丹", sync.whoami(worker)["public_key"])
    sync.trust_add(worker, "office", sync.whoami(office)["public_key"])
    register.add(office, "grid_cell", {"code": "TL-03", "name": "第三网格", "worker": "刘丹"})
    sync.export_bundle(office, tmp_path / "o.gtb")
    sync.import_bundle(worker, tmp_path / "o.gtb")
    register.edit(office, "grid_cell", "TL-03", {"worker_phone": "13900000001"})
    register.edit(worker, "grid_cell", "TL-03", {"worker_phone": "13900000002"})
    sync.export_bundle(worker, tmp_path / "w.gtb")
    sync.import_bundle(office, tmp_path / "w.gtb")
    return office.path, worker


async def test_settle_a_conflict_from_the_dashboard(tmp_path: Path) -> None:
    path, _ = _conflicted(tmp_path)
    app = GridtoolApp(path, poll_seconds=3600)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConflictsScreen) and len(screen.found) == 1
        detail = str(screen.query_one("#conflict-detail").render())
        assert "139****0001" in detail and "13900000001" not in detail  # masked until p
        await pilot.press("p")
        assert "13900000001" in str(screen.query_one("#conflict-detail").render())
        await pilot.press("m")  # keep the office's own value
        await pilot.pause()
        assert screen.found == []
        await pilot.press("escape")
        assert not isinstance(app.screen, ConflictsScreen)
    store = Store(path)
    assert sync.conflicts(store) == [] and next(iter(store.records("grid_cells").values()))[
        "worker_phone"
    ] == ("13900000001")


async def test_keep_theirs_from_the_worker_laptop(tmp_path: Path) -> None:
    path, worker = _conflicted(tmp_path)
    sync.export_bundle(Store(path), tmp_path / "o2.gtb")
    sync.import_bundle(worker, tmp_path / "o2.gtb")
    app = GridtoolApp(worker.path, poll_seconds=3600)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        await pilot.press("o")  # the office's value, not this laptop's
        await pilot.pause()
        assert app.screen.found == []  # type: ignore[attr-defined]
    assert next(iter(Store(worker.path).records("grid_cells").values()))["worker_phone"] == "13900000001"


async def test_6_toggles_the_queue_and_5_does_not_close_it(tmp_path: Path) -> None:
    path, _ = _conflicted(tmp_path)
    app = GridtoolApp(path, poll_seconds=3600)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        assert isinstance(app.screen, ConflictsScreen)
        depth = len(app.screen_stack)
        await pilot.press("5")
        await pilot.pause()
        assert isinstance(app.screen, ConflictsScreen) and len(app.screen_stack) == depth
        await pilot.press("6")
        await pilot.pause()
        assert not isinstance(app.screen, ConflictsScreen) and len(app.screen_stack) == depth - 1


async def test_keeping_a_removed_household_says_its_members_came_back(tmp_path: Path) -> None:
    office = Store.init(tmp_path / "office" / "gridtool.json", name="office")
    worker = Store.init(tmp_path / "worker" / "gridtool.json", name="刘丹")
    sync.trust_add(office, "刘丹", sync.whoami(worker)["public_key"])
    sync.trust_add(worker, "office", sync.whoami(office)["public_key"])
    with office.transaction() as tx:
        hid = tx.create("households", {"head": "程金娇", "room": "0502"})
        tx.create("members", {"household": hid, "name": "程金娇"})
    sync.export_bundle(office, tmp_path / "o.gtb")
    sync.import_bundle(worker, tmp_path / "o.gtb")
    with worker.transaction() as tx:
        tx.update("households", hid, {"room": "0503"})
    register.remove(office, "household", hid)
    sync.export_bundle(worker, tmp_path / "w.gtb")
    sync.import_bundle(office, tmp_path / "w.gtb")
    app = GridtoolApp(office.path, poll_seconds=3600)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        await pilot.press("o")  # keep 刘丹's edit: the household stays, with its member
        await pilot.pause()
        assert "also restored 1 record" in str(app.screen.query_one("#conflict-detail").render())
    assert len(Store(office.path).records("members")) == 1


async def test_closing_the_conflicts_at_once_leaves_no_redraw_behind(tmp_path: Path) -> None:
    """The footer's redraw, scheduled when the screen opened, must not run on a screen gone since."""
    path, _ = _conflicted(tmp_path)
    app = GridtoolApp(path, poll_seconds=3600)
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(3):
            await pilot.press("6", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, ConflictsScreen)
        await pilot.press("6")
        await pilot.pause()
        assert isinstance(app.screen, ConflictsScreen)


def _household_conflict(tmp_path: Path) -> tuple[Path, str]:
    """A household whose phone two laptops changed at once, to numbers that mask alike, and an
    issue whose title they both changed."""
    office = Store.init(tmp_path / "office" / "gridtool.json", name="office")
    worker = Store.init(tmp_path / "worker" / "gridtool.json", name="刘丹")
    sync.trust_add(office, "刘丹", sync.whoami(worker)["public_key"])
    sync.trust_add(worker, "office", sync.whoami(office)["public_key"])
    register.add(office, "grid_cell", {"code": "TL-03", "name": "第三网格", "worker": "刘丹"})
    building = register.add(
        office, "building", {"grid_cell": "TL-03", "compound": "湘离小区", "number": "5", "units": 1}
    )
    household = register.add(
        office, "household", {"building": building["id"], "unit": 1, "room": "0502", "head": "程金娇"}
    )
    issue, _ = issues.report(
        office,
        {"household": household["id"], "category": "repair", "channel": "phone", "title": "下水道返水"},
        actor="刘丹",
    )
    sync.export_bundle(office, tmp_path / "o.gtb")
    sync.import_bundle(worker, tmp_path / "o.gtb")
    register.edit(office, "household", household["id"], {"phone": "13912340001"})
    register.edit(worker, "household", household["id"], {"phone": "13912350001"})
    with office.transaction() as tx:
        tx.update("issues", issue["id"], {"title": "卫生间下水道返水"})
    with worker.transaction() as tx:
        tx.update("issues", issue["id"], {"title": "厨房下水道返水"})
    sync.export_bundle(worker, tmp_path / "w.gtb")
    sync.import_bundle(office, tmp_path / "w.gtb")
    return office.path, issue["id"]


async def test_conflicts_are_named_as_people_name_things(tmp_path: Path) -> None:
    path, _ = _household_conflict(tmp_path)
    i18n.set_language("en")
    try:
        app = GridtoolApp(path, poll_seconds=3600)
        async with app.run_test(size=(120, 35)) as pilot:
            await pilot.press("6")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, ConflictsScreen)
            titles = [str(screen.query_one("#conflict-list").get_option_at_index(i).prompt) for i in (0, 1)]
            assert any(
                "[needs you]" in title and "程金娇" in title and "湘离小区" in title for title in titles
            )
            phone = next(i for i, c in enumerate(screen.found) if c.field == "phone")
            screen.query_one("#conflict-list").highlighted = phone
            await pilot.pause()
            detail = str(screen.query_one("#conflict-detail").render())
            assert "139***40001" in detail and "139***50001" in detail  # only the differing digit
            assert "13912340001" not in detail
            assert "this laptop (office)" in detail and "(刘丹)" in detail
    finally:
        i18n.set_language(None)


async def test_after_settling_the_confirmation_stays_and_the_queue_shows_the_kept_value(
    tmp_path: Path,
) -> None:
    path, issue_id = _household_conflict(tmp_path)
    app = GridtoolApp(path, poll_seconds=3600)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        screen = app.screen
        title = next(i for i, c in enumerate(screen.found) if c.field == "title")  # type: ignore[attr-defined]
        screen.query_one("#conflict-list").highlighted = title
        await pilot.pause()
        kept = Store(path).get("issues", issue_id)["title"]
        await pilot.press("o" if kept == "卫生间下水道返水" else "m")  # whichever is not shown now
        await pilot.pause()
        assert "settled conflict" in str(screen.query_one("#conflict-detail").render())
        await pilot.pause(0.3)
        assert "settled conflict" in str(screen.query_one("#conflict-detail").render())  # still there
        await pilot.press("escape")
        await pilot.pause()
        now = Store(path).get("issues", issue_id)["title"]
        assert now != kept
        row = next(r for r in app.query_one("#queue-list").rows if r["id"] == issue_id)
        assert row["title"] == now
        assert now in str(app.query_one("#queue-detail").render())
