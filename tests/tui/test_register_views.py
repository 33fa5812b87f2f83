"""The dashboard's register views through Textual's pilot: keys in, then screen and store checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridtool import register
from gridtool.demo import create_store, shipped
from gridtool.store import Store
from gridtool.tui.app import GridtoolApp
from gridtool.tui.record_list import RecordList


@pytest.fixture
def demo_path(tmp_path: Path) -> Path:
    path = tmp_path / "demo" / "gridtool.json"
    create_store(path, shipped())
    return path


async def test_typing_pinyin_initials_filters_households_as_you_type(demo_path: Path) -> None:
    store = Store(demo_path)
    target = register.list_records(store, "household")[42]
    from gridtool.search import initials

    letters = "".join(options[0] for options in initials(target["head"]))
    app = GridtoolApp(demo_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        listing = app.query_one("#household-list", RecordList)
        assert len(listing.rows) == 300
        await pilot.press("slash", *letters)
        await pilot.pause()
        assert 0 < len(listing.rows) < 300
        assert target["id"] in {row["id"] for row in listing.rows}
        assert all(
            register.record_matches(store, "household", store.get("households", row["id"]), letters)
            for row in listing.rows
        )


async def test_details_are_masked_until_revealed_for_that_record(demo_path: Path) -> None:
    app = GridtoolApp(demo_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("2")
        listing = app.query_one("#household-list", RecordList)
        first = Store(demo_path).get("households", listing.current_row["id"])
        detail = app.query_one("#household-detail")
        assert first["phone"] not in str(detail.render())
        await pilot.press("p")
        assert first["phone"] in str(detail.render())
        await pilot.press("down")
        assert listing.cursor == 1
        assert "****" in str(detail.render())  # the next record stays masked


async def test_a_write_from_another_process_shows_up_without_a_keypress(demo_path: Path) -> None:
    app = GridtoolApp(demo_path, poll_seconds=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        other = Store(demo_path)
        building = next(iter(other.records("buildings").values()))
        register.add(
            other, "household", {"building": building["id"], "unit": 1, "room": "0109", "head": "新住户"}
        )
        await pilot.pause(0.3)
        listing = app.query_one("#household-list", RecordList)
        assert len(listing.rows) == 301
        assert any(row["head"] == "新住户" for row in listing.rows)


async def test_chinese_columns_line_up_on_a_small_terminal(demo_path: Path) -> None:
    from wcwidth import wcswidth

    app = GridtoolApp(demo_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        listing = app.query_one("#household-list", RecordList)
        lines = [listing.render_line(y).text for y in range(0, 10)]
        widths = {wcswidth(line) for line in lines}
        assert widths == {listing.size.width}


async def test_the_stats_view_shows_this_months_figures_by_grid(demo_path: Path) -> None:
    app = GridtoolApp(demo_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("4")
        body = str(app.query_one("#stats-body").render())
        assert "QF-01" in body and "%" in body


async def test_households_show_their_open_issues_and_leads_their_workload(demo_path: Path) -> None:
    from gridtool.issues import open_counts_by

    store = Store(demo_path)
    per_household = open_counts_by(store, "household")
    app = GridtoolApp(demo_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("2")
        rows = app.query_one("#household-list", RecordList).rows
        assert sum(r["open_issues"] for r in rows) == sum(per_household.values()) > 0
        await pilot.press("3")
        leads = app.query_one("#lead-list", RecordList).rows
        assert sum(r["open_issues"] for r in leads) == sum(open_counts_by(store, "assignee").values())


def _screen_lines(listing: RecordList) -> list[str]:
    return [listing.render_line(y).text for y in range(listing.size.height)]


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 45)])
async def test_the_orders_and_visits_tab_reaches_every_row_by_keyboard(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    from datetime import datetime

    from gridtool import visits, volunteers

    demo_path = tmp_path / "volunteers" / "gridtool.json"
    create_store(demo_path, shipped(), volunteers=True)
    store = Store(demo_path)
    waiting = volunteers.list_orders(store, open_only=True)
    due = visits.due(store)
    assert len(waiting) > 1 and len(due.rows) > 1
    app = GridtoolApp(demo_path, clock=datetime.now)
    async with app.run_test(size=size) as pilot:
        await pilot.press("5")
        await pilot.pause()
        orders = app.query_one("#orders-list", RecordList)
        assert app.focused is orders
        assert [row["order"] for row in orders.rows] == [o["number"] for o in waiting]
        await pilot.press("end")
        await pilot.pause()
        assert orders.cursor == len(waiting) - 1
        assert any(waiting[-1]["number"] in line for line in _screen_lines(orders)), "the last order is seen"
        await pilot.press("tab")
        visit_list = app.query_one("#visits-list", RecordList)
        assert app.focused is visit_list
        assert [row["household"] for row in visit_list.rows] == [r["household"] for r in due.rows]
        for _ in due.rows:  # row by row, as a worker would
            await pilot.press("down")
        await pilot.pause()
        assert visit_list.cursor == len(due.rows) - 1
        last = due.rows[-1]
        seen = _screen_lines(visit_list)
        assert any(last["head"] in line and last["due"] in line for line in seen), seen
        assert all("****" in line for line in seen[1:] if last["due"][:4] in line), "phones stay masked"
        from textual.widgets import Footer

        assert visit_list.region.bottom <= app.query_one(Footer).region.y, "the list itself is on screen"


async def test_switching_tabs_all_day_does_not_keep_old_footer_keys_alive(demo_path: Path) -> None:
    """Each time the footer composes its keys again, the replaced ones must be collectable
    (Textual's data_bind kept every one alive: textualize/textual#6666); and the footer always
    shows the keys bound now."""
    import gc

    from textual.widgets._footer import FooterKey

    from gridtool.tui.footer import Footer

    def alive() -> int:
        gc.collect()
        return sum(isinstance(o, FooterKey) for o in gc.get_objects())

    def footer_keys() -> set[str]:
        return {key.action for key in app.screen.query(FooterKey)} - {"command_palette"}

    def bound_keys() -> set[str]:
        return {b.action for _, b, _, _ in app.screen.active_bindings.values() if b.show}

    app = GridtoolApp(demo_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2", "1")
        before = alive()
        for tab in ("2", "3", "1", "2", "1", "4", "1"):
            await pilot.press(tab)
            await pilot.pause(0.05)
            assert footer_keys() == bound_keys()
        footer = app.screen.query_one(Footer)
        for _ in range(6):  # as when the keys shown change: composed afresh each time
            footer._composed = None
            footer.call_later(footer.recompose)  # from the footer's own queue, as Textual does
            await pilot.pause(0.05)
        shown = len(app.screen.query(FooterKey))
        assert shown > 5 and footer_keys() == bound_keys()
        assert alive() <= max(before, 2 * shown)  # not seven sets of keys
