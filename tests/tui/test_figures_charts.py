"""The figures tab's charts: a snapshot of the tab, the numbers they draw, and a redraw on change.

The snapshot hosts the tab's own view (:class:`StatsView`) in a bare app with the dashboard's
``store`` and ``clock``, so the picture changes when the figures tab does, not when the rest of the
dashboard's chrome does.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from gridtool import i18n, issues, monthly, register
from gridtool.store import Store
from gridtool.tui.app import GridtoolApp, StatsView
from gridtool.tui.charts import columns, hbar

NOW = datetime(2026, 11, 20, 10, 0)


def _store(path: Path) -> Store:
    store = Store.init(path, name="铁园社区")
    for code in ("TL-03", "TL-04"):
        register.add(store, "grid_cell", {"code": code, "name": f"铁园社区{code}网格"})
        register.add(store, "building", {"grid_cell": code, "compound": "湘离小区", "number": code[-1]})
    buildings = {b["grid_cell"]: b["id"] for b in store.records("buildings").values()}
    grids = {g["code"]: g["id"] for g in store.records("grid_cells").values()}
    people = [
        ("TL-03", "0101", [("程金娇", "430105194003120020"), ("程小", "")]),
        ("TL-03", "0102", [("张三", "430105199001010015")]),
        ("TL-04", "0201", [("单田芳", "430105193612030026")]),
    ]
    for code, room, members in people:
        register.add(
            store,
            "household",
            {
                "building": buildings[grids[code]],
                "unit": 1,
                "room": room,
                "head": members[0][0],
                "members": [{"name": n, "id_number": i, "relation": "户主"} for n, i in members],
            },
        )
    plan = [
        ("repair", "2026-09-07 09:00", True),
        ("repair", "2026-10-12 09:00", True),
        ("environment", "2026-10-20 09:00", False),
        ("repair", "2026-11-02 09:00", True),
        ("safety", "2026-11-16 09:00", False),
        ("repair", "2026-11-18 09:00", False),
    ]
    for n, (category, at, done) in enumerate(plan):
        issue, _ = issues.report(
            store,
            {
                "household": "张三" if n % 2 else "程金娇",
                "category": category,
                "channel": "phone",
                "title": f"诉求{n}",
            },
            at=issues.parse_when(at),
        )
        if done:
            moment = issues.parse_when(at)
            for action, params in (
                ("assign", {"to": "物业"}),
                ("accept", {}),
                ("resolve", {"summary": "好"}),
            ):
                issues.perform(store, action, issue["number"], at=moment.replace(hour=10), **params)
    return store


class FiguresHost(App[None]):
    """The figures tab alone, with what it asks of the dashboard."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.clock = lambda: NOW

    def compose(self) -> ComposeResult:
        yield StatsView(id="stats-view")

    def on_mount(self) -> None:
        self.query_one(StatsView).reload()


@pytest.fixture(params=["zh", "en"])
def lang(request: pytest.FixtureRequest):
    i18n.set_language(request.param)
    yield request.param
    i18n.set_language(None)


def test_figures_tab(snap_compare, tmp_path: Path, lang: str) -> None:
    assert snap_compare(FiguresHost(_store(tmp_path / "s" / "gridtool.json")), terminal_size=(130, 60))


def test_the_charts_draw_the_reports_numbers(tmp_path: Path) -> None:
    store = _store(tmp_path / "s" / "gridtool.json")
    figures = monthly.figures(store, NOW.date())
    assert [m.name for m in figures.trend][-3:] == ["2026-09", "2026-10", "2026-11"]
    assert [(m.received, m.resolved) for m in figures.trend][-3:] == [(1, 1), (2, 1), (3, 1)]
    assert sum(m.received for m in figures.trend[:-3]) == 0
    assert {(m.name, m.received) for m in figures.by_category} == {
        (issues.label("category", "repair"), 2),
        (issues.label("category", "safety"), 1),
    }
    assert [(row.name, row.residents) for row in figures.population.rows] == [("TL-03", 3), ("TL-04", 1)]
    assert figures.population.as_of == date(2026, 11, 20)


def test_bars_and_columns_are_proportional() -> None:
    assert hbar(0, 10) == "" and hbar(10, 10, cells=4) == "████" and hbar(5, 10, cells=3) == "█▌"
    assert hbar(1, 1000, cells=4) == "▏", "a value above zero never vanishes"
    picture = columns([([4, 8], "red"), ([2, 0], "green")], ["09", "10"], rows=2).plain.splitlines()
    assert picture == ["   █  ", "█▄ █  ", "09 10 "]


async def test_the_charts_redraw_when_the_store_changes(tmp_path: Path) -> None:
    path = tmp_path / "s" / "gridtool.json"
    _store(path)
    app = GridtoolApp(path, poll_seconds=0.05, clock=lambda: NOW)
    async with app.run_test(size=(130, 60)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        before = str(app.query_one("#chart-categories").render())
        other = Store(path)  # another process files an issue
        issues.report(
            other,
            {"household": "张三", "category": "dispute", "channel": "phone", "title": "邻里纠纷"},
            at=issues.parse_when("2026-11-19 09:00"),
        )
        for _ in range(40):
            await pilot.pause(0.05)
            if str(app.query_one("#chart-categories").render()) != before:
                break
        after = str(app.query_one("#chart-categories").render())
        assert (
            issues.label("category", "dispute") in after and issues.label("category", "dispute") not in before
        )
