"""The triage queue through the pilot: press what a grid lead presses, then check screen and store."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridtool import i18n, issues, register
from gridtool.demo import create_store, shipped
from gridtool.store import Store
from gridtool.tui.app import GridtoolApp
from gridtool.tui.forms import ActionForm
from gridtool.tui.queue import QueueView, parse_filter
from gridtool.tui.record_list import RecordList


@pytest.fixture
def demo_path(tmp_path: Path) -> Path:
    path = tmp_path / "demo" / "gridtool.json"
    create_store(path, shipped())
    return path


async def _cursor_to(pilot, app: GridtoolApp, status: str) -> dict:
    listing = app.query_one("#queue-list", RecordList)
    index = next(i for i, row in enumerate(listing.rows) if row["status"] == status)
    listing.cursor = index
    await pilot.pause()
    return listing.current_row


async def test_the_queue_shows_open_issues_by_urgency_then_time_left(demo_path: Path) -> None:
    app = GridtoolApp(demo_path)
    async with app.run_test(size=(160, 45)):
        rows = app.query_one("#queue-list", RecordList).rows
        assert rows and all(r["status"] in issues.OPEN for r in rows)
        keys = [(QueueView._order(None, r)[1], r.get("due") or "9999") for r in rows]  # type: ignore[arg-type]
        assert keys == sorted(keys)
        summary = str(app.query_one("#queue-summary").render())
        assert f"{len(rows)} of {len(rows)} shown · Open {len(rows)}" in summary


async def test_assign_then_accept_resolve_and_visit_with_the_keyboard(demo_path: Path) -> None:
    app = GridtoolApp(demo_path)
    async with app.run_test(size=(160, 45)) as pilot:
        issue = await _cursor_to(pilot, app, "reported")
        await pilot.press("a")
        assert isinstance(app.screen, ActionForm)
        await pilot.press("enter")  # the first lead offered: one of this grid's
        await pilot.press("enter")  # no team instead
        await pilot.press("enter")  # no deadline override: submit
        await pilot.pause()
        stored = Store(demo_path).get("issues", issue["id"])
        assert stored["status"] == "assigned" and stored["assignee_kind"] == "lead"
        lead = Store(demo_path).get("leads", stored["assignee"])
        assert lead["grid_cell"] == stored["grid_cell"]  # leads of that grid come first

        await pilot.press("t")  # accept: no form needed
        await pilot.pause()
        assert Store(demo_path).get("issues", issue["id"])["status"] == "accepted"

        await pilot.press("d", *"清淤并更换管道", "enter")
        await pilot.pause()
        assert Store(demo_path).get("issues", issue["id"])["status"] == "resolved"

        app.query_one("#queue-filter").value = "all " + issue["number"]
        await pilot.pause()
        await pilot.press("f", "down", "enter", "enter")  # rating 4 stars, no comment
        await pilot.pause()
        stored = Store(demo_path).get("issues", issue["id"])
        assert stored["status"] == "visited" and stored["rating"] == 4
        assert (
            "回访" in str(app.query_one("#queue-detail").render())
            or "visit" in str(app.query_one("#queue-detail").render()).lower()
        )


async def test_a_refused_action_shows_the_reason_and_writes_nothing(demo_path: Path) -> None:
    from tests.conftest import snapshot

    app = GridtoolApp(demo_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await _cursor_to(pilot, app, "accepted")
        before = snapshot(demo_path)
        await pilot.press("x", "ctrl+a", "backspace", *"abc", "enter", "enter")  # days "abc", no reason
        await pilot.pause()
        assert isinstance(app.screen, ActionForm)
        error = str(app.screen.query_one("#form-error").render())
        assert "days" in error and "reason" in error
        assert snapshot(demo_path) == before
        await pilot.press("escape")
        assert not isinstance(app.screen, ActionForm)


async def test_a_new_issue_picks_the_household_by_search(demo_path: Path) -> None:
    store = Store(demo_path)
    household = register.list_records(store, "household")[7]
    app = GridtoolApp(demo_path)
    async with app.run_test(size=(160, 45)) as pilot:
        before = len(store.records("issues"))
        await pilot.press(
            "n", *household["id"][-8:], "enter", *"楼道灯不亮", "enter", "enter", "enter", "enter"
        )
        await pilot.pause()
        store.refresh()
        assert len(store.records("issues")) == before + 1
        new = max(store.records("issues").values(), key=lambda r: issues.number_key(r["number"]))
        assert new["household"] == household["id"] and new["title"] == "楼道灯不亮"
        assert new["status"] == "reported" and new["due"]


async def test_filter_tokens_and_pinyin_narrow_the_queue(demo_path: Path) -> None:
    app = GridtoolApp(demo_path)
    async with app.run_test(size=(160, 45)) as pilot:
        listing = app.query_one("#queue-list", RecordList)
        total = len(listing.rows)
        await pilot.press("slash", *"grid:QF-01 overdue")
        await pilot.pause()
        store = Store(demo_path)
        grid = register.grid_cell_by_ref(store, "QF-01")["id"]
        assert 0 < len(listing.rows) < total
        assert all(
            r["grid_cell"] == grid and issues.countdown(r, app.query_one(QueueView).now) == "red"
            for r in listing.rows
        )


def test_the_filter_line_splits_tokens_from_text() -> None:
    assert parse_filter("grid:QF-01 @谭石泉 下水道 overdue") == {
        "grid": "QF-01",
        "assignee": "谭石泉",
        "text": "下水道",
        "overdue": True,
        "all": False,
    }


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
async def test_every_queue_line_fills_the_width_exactly(demo_path: Path, size: tuple[int, int]) -> None:
    from wcwidth import wcswidth

    app = GridtoolApp(demo_path)
    async with app.run_test(size=size):
        listing = app.query_one("#queue-list", RecordList)
        widths = {wcswidth(listing.render_line(y).text) for y in range(listing.size.height)}
        assert widths == {listing.size.width}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_queue_column_fits_a_wide_terminal_without_scrolling_sideways(
    demo_path: Path, lang: str
) -> None:
    i18n.set_language(lang)
    try:
        app = GridtoolApp(demo_path)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause()
            listing = app.query_one("#queue-list", RecordList)
            assert listing.virtual_size.width <= listing.size.width
            header = listing.render_line(0).text
            assert all(column.label in header for column in listing.columns)
            if lang == "zh":  # titles are not cut at 160 columns
                assert listing.rows[0]["title"] in listing.render_line(1).text
    finally:
        i18n.set_language(None)
