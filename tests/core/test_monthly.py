"""The monthly report: figures as issues stood at the month's end, and a workbook whose charts show them."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from gridtool import i18n, issues, monthly, reports
from gridtool.store import Store

# (category, steps): November 2026 as it stood at its end differs from how it stands now.
HISTORIES: dict[str, tuple[str, list[tuple[str, str, dict[str, Any]]]]] = {
    # A: resolved, visited 5 and closed in November
    "A": (
        "repair",
        [
            ("report", "2026-11-02 09:00", {}),
            ("assign", "2026-11-02 10:00", {"to": "谭石泉"}),
            ("accept", "2026-11-02 11:00", {}),
            ("resolve", "2026-11-04 09:00", {"summary": "疏通"}),
            ("visit", "2026-11-05 10:00", {"rating": 5}),
            ("close", "2026-11-05 11:00", {}),
        ],
    ),
    # B: received in November, resolved on 1 December: open in November's report
    "B": (
        "environment",
        [
            ("report", "2026-11-10 09:00", {}),
            ("assign", "2026-11-10 10:00", {"to": "物业"}),
            ("accept", "2026-11-10 11:00", {}),
            ("resolve", "2026-12-01 09:00", {"summary": "清运"}),
        ],
    ),
    # C: resolved in November, rated 1 on 2 December (rework now, not at November's end)
    "C": (
        "repair",
        [
            ("report", "2026-11-16 09:00", {}),
            ("assign", "2026-11-16 10:00", {"to": "谭石泉"}),
            ("accept", "2026-11-16 11:00", {}),
            ("resolve", "2026-11-17 09:00", {"summary": "处理"}),
            ("visit", "2026-12-02 09:00", {"rating": 1}),
        ],
    ),
    # D: October, resolved in October
    "D": (
        "repair",
        [
            ("report", "2026-10-12 09:00", {}),
            ("assign", "2026-10-12 10:00", {"to": "谭石泉"}),
            ("accept", "2026-10-12 11:00", {}),
            ("resolve", "2026-10-14 09:00", {"summary": "修好"}),
        ],
    ),
    # E: received in December: in no figure of November's report
    "E": ("repair", [("report", "2026-12-01 09:00", {})]),
}


@pytest.fixture
def november(store: Store, community: dict[str, str]) -> Store:
    for name, (category, history) in HISTORIES.items():
        (_, at, _), *rest = history
        issue, _ = issues.report(
            store,
            {"household": community["household"], "category": category, "channel": "phone", "title": name},
            at=issues.parse_when(at),
        )
        for action, at, params in rest:
            issues.perform(store, action, issue["number"], at=issues.parse_when(at), **params)
    return store


def test_the_month_is_described_as_it_stood_at_its_end(november: Store) -> None:
    report = monthly.monthly(november, 2026, 11)
    assert report.as_of == datetime(2026, 11, 30, 23, 59, 59)
    m = report.summary
    assert (m.received, m.resolved, m.open, m.rated, m.satisfied, m.resolved_ever, m.reworked) == (
        3,
        2,
        1,
        1,
        1,
        2,
        0,
    )
    now = reports.stats(november, date(2026, 11, 1), date(2026, 11, 30)).total  # as it stands today
    assert (now.resolved, now.reworked, now.rated) == (2, 1, 2)
    later = monthly.monthly(november, 2026, 11, as_of=datetime(2026, 12, 2, 12, 0))
    assert (later.summary.resolved, later.summary.reworked) == (now.resolved, now.reworked)


def test_issues_as_of_folds_only_what_happened_by_then(november: Store) -> None:
    states = {
        i["title"]: i for i in monthly.issues_as_of(november, datetime(2026, 11, 30, 23, 59, 59)).values()
    }
    assert sorted(states) == ["A", "B", "C", "D"]
    assert (states["B"]["status"], states["C"]["status"], states["C"]["rating"]) == (
        "accepted",
        "resolved",
        None,
    )
    assert states["A"] is next(i for i in november.records("issues").values() if i["title"] == "A")
    everything = monthly.issues_as_of(november, datetime(2026, 12, 3))
    for issue_id, issue in november.records("issues").items():
        assert {f: everything[issue_id].get(f) for f in issues.CACHE_FIELDS} == issues.cache_of(issue)


def test_groups_and_the_twelve_month_trend(november: Store) -> None:
    report = monthly.monthly(november, 2026, 11)
    assert [(m.name, m.received) for m in report.by_grid] == [("TL-03", 3)]
    assert {(m.name, m.received, m.resolved) for m in report.by_category} == {
        (issues.label("category", "environment"), 1, 0),
        (issues.label("category", "repair"), 2, 2),
    }
    assert [m.name for m in report.trend] == ["2025-12", *(f"2026-{n:02}" for n in range(1, 12))]
    assert [(m.received, m.resolved) for m in report.trend][-2:] == [(1, 1), (3, 2)]
    assert sum(m.received for m in report.trend[:-2]) == 0
    assert report.population.total.residents == 1


def _values(book: Any, formula: str) -> list[Any]:
    """The cells a chart's reference (``'Sheet'!$B$3:$B$14``) points at."""
    sheet_name, _, cells = formula.rpartition("!")
    sheet = book[sheet_name.strip("'")]
    return (
        [row[0].value for row in sheet[cells.replace("$", "")]]
        if ":" in cells
        else [sheet[cells.replace("$", "")].value]
    )


def test_the_workbook_charts_show_the_reports_numbers(november: Store) -> None:
    i18n.set_language("zh")
    report = monthly.monthly(november, 2026, 11)
    book = load_workbook(io.BytesIO(monthly.workbook_bytes(report)))
    assert book.sheetnames == ["汇总", "分网格", "分类别", "近12个月趋势", "人口结构"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "B3"
        assert sheet.column_dimensions["A"].customWidth and sheet.column_dimensions["B"].width >= 8

    trend = book["近12个月趋势"]
    (line,) = trend._charts
    assert type(line).__name__ == "LineChart"
    received, resolved = line.series
    assert _values(book, received.tx.strRef.f) == ["受理"]
    assert _values(book, received.val.numRef.f) == [m.received for m in report.trend]
    assert _values(book, resolved.val.numRef.f) == [m.resolved for m in report.trend]
    assert _values(book, received.cat.strRef.f if received.cat.strRef else received.cat.numRef.f) == [
        m.name for m in report.trend
    ]

    categories = book["分类别"]
    (bars,) = categories._charts
    assert type(bars).__name__ == "BarChart"
    assert _values(book, bars.series[0].val.numRef.f) == [m.received for m in report.by_category]
    assert _values(book, bars.series[1].val.numRef.f) == [m.resolved for m in report.by_category]

    summary = book["汇总"]
    rows = {row[0].value: row for row in summary.iter_rows(min_row=3) if row[0].value}
    resolution = rows["办结率"]
    assert [c.value for c in resolution[1:4]] == [66.7, 2, 3]
    assert resolution[1].number_format == monthly.PERCENT
    assert rows["满意率"][4].value == "回访时有评分的诉求"

    people = book["人口结构"]
    assert [c.value for c in people[2]][:3] == ["网格", "户数", "人数"]
    assert people["A3"].value == "TL-03" and people["C3"].value == 1


def test_markdown_gives_the_same_figures(november: Store) -> None:
    i18n.set_language("zh")
    text = monthly.markdown(monthly.monthly(november, 2026, 11))
    assert "受理：3 件" in text
    assert "办结率：66.7% (2/3)" in text
    assert "2026-11：3 / 2" in text
    assert "1 人" in text


def test_the_month_just_ended() -> None:
    assert monthly.previous_month(date(2026, 12, 3)) == (2026, 11)
    assert monthly.previous_month(date(2027, 1, 1)) == (2026, 12)
    assert monthly.month_bounds(2028, 2) == (date(2028, 2, 1), date(2028, 2, 29))


def test_a_tag_that_looks_like_a_formula_stays_text_in_the_workbook(
    store: Store, community: dict[str, str]
) -> None:
    from gridtool import register

    register.edit(store, "household", community["household"], {"tags": ['=HYPERLINK("http://x","点")']})
    report = monthly.monthly(store, 2026, 11)
    sheet = load_workbook(io.BytesIO(monthly.workbook_bytes(report)))[i18n.t("monthly.sheet.population")]
    (cell,) = [c for c in sheet[2] if str(c.value).startswith("=")]
    assert cell.data_type == "s"
