"""The monthly report (月报): a month's issues, the last twelve months, and the population, in one workbook.

Offices forward it as it is, so it is an ``.xlsx`` with its own charts (openpyxl draws native Excel
charts, which Excel and WPS render; no picture that goes stale), set column widths, number formats
and frozen header rows. The same figures come as Markdown for a WeChat group.

Every figure is :func:`gridtool.reports.stats` over the issues *received* in a month, as they stood
at the report's moment (the month's last second by default): an issue resolved on 2 December is
open in November's report, however late the report is run. The state at a moment comes from
:func:`issues_as_of`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from gridtool.i18n import t
from gridtool.population import Population
from gridtool.reports import Metrics
from gridtool.store import Store

TREND_MONTHS = 12


def issues_as_of(store: Store, moment: datetime, since: date | None = None) -> dict[str, dict[str, Any]]:
    """Every issue reported from ``since`` to ``moment``, as it stood at ``moment``, by id.

    The same answer as :func:`gridtool.issues.issues_as_of` (an issue untouched since the moment is
    its record, the others :func:`gridtool.issues.state_at` of their timeline), restricted to the
    twelve months a monthly report shows, and with the timelines gathered in one pass over the
    events for just the issues that moved: building the store's index of every event by issue
    costs 0.3 s more at 100,000 issues, a tenth of the report's budget.
    """
    from gridtool.issues import cache_of, state_at

    cutoff = moment.isoformat(timespec="seconds")
    start = since.isoformat() if since else ""
    out: dict[str, dict[str, Any]] = {}
    later: dict[str, dict[str, Any]] = {}
    for issue_id, issue in store.records("issues").items():
        if not start <= (issue.get("reported_at") or "") <= cutoff:
            continue
        if (issue.get("last_event_at") or "") <= cutoff:
            out[issue_id] = issue
        else:
            later[issue_id] = issue
    if later:
        timelines: dict[str, list[dict[str, Any]]] = {issue_id: [] for issue_id in later}
        for event in store.records("events").values():
            events = timelines.get(event.get("issue"))
            if events is not None:
                events.append(event)
        for issue_id, issue in later.items():
            state = state_at(timelines[issue_id], cutoff)
            if state.get("status"):
                out[issue_id] = {**issue, **cache_of(state)}
    return out


class _StoreAsOf:
    """A store whose issues are those of :func:`issues_as_of`; everything else is the store's.

    The month's three reports then share one rebuilding of the issues changed since the moment."""

    def __init__(self, store: Store, issues: dict[str, dict[str, Any]]) -> None:
        self._store = store
        self._issues = issues

    def records(self, table: str) -> dict[str, dict[str, Any]]:
        return self._issues if table == "issues" else self._store.records(table)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def previous_month(today: date | None = None) -> tuple[int, int]:
    """The month just ended: the one a monthly report is written about."""
    first = (today or date.today()).replace(day=1)
    last = first - timedelta(days=1)
    return last.year, last.month


@dataclass
class Monthly:
    year: int
    month: int
    as_of: datetime
    summary: Metrics
    by_grid: list[Metrics]
    by_category: list[Metrics]
    trend: list[Metrics]
    """The last twelve months up to this one, oldest first, months without issues included."""
    population: Population
    grid: str | None = None

    @property
    def label(self) -> str:
        return f"{self.year:04}-{self.month:02}"


def monthly(
    store: Store, year: int, month: int, as_of: datetime | None = None, grid: str | None = None
) -> Monthly:
    """The month's figures, by grid cell and category, the twelve-month trend and the population."""
    from gridtool.population import population
    from gridtool.reports import stats

    first, last = month_bounds(year, month)
    moment = as_of or datetime.combine(last, time(23, 59, 59))
    trend_first = _trend_start(year, month)
    states = issues_as_of(store, moment, since=trend_first)
    by_month = stats(_StoreAsOf(store, states), trend_first, last, by="month", grid=grid, as_of=moment)
    lo, hi = first.isoformat(), last.isoformat() + "T99"
    month_view: Any = _StoreAsOf(store, {k: i for k, i in states.items() if lo <= i["reported_at"] <= hi})
    by_grid = stats(month_view, first, last, by="grid", grid=grid, as_of=moment)
    by_category = stats(month_view, first, last, by="category", grid=grid, as_of=moment)
    trend = _twelve(by_month.groups, trend_first)
    people = population(store, as_of=min(moment.date(), last), by="grid", grid=grid)
    return Monthly(
        year, month, moment, by_grid.total, by_grid.groups, by_category.groups, trend, people, grid
    )


def _trend_start(year: int, month: int) -> date:
    """The first day of the twelve months ending with ``month``."""
    return date(year - (1 if month < TREND_MONTHS else 0), (month % TREND_MONTHS) + 1, 1)


def _twelve(groups: Sequence[Metrics], first: date) -> list[Metrics]:
    """Twelve months from ``first``, a month without issues as zeros (a chart needs every month)."""
    months = {m.name: m for m in groups}
    out = []
    for n in range(TREND_MONTHS):
        index = first.month - 1 + n
        key = f"{first.year + index // 12:04}-{index % 12 + 1:02}"
        out.append(months.get(key) or Metrics(key))
    return out


@dataclass
class Figures:
    """What the dashboard's figures tab draws: the trend, this month by category, people per grid."""

    trend: list[Metrics]
    by_category: list[Metrics]
    population: Population


def figures(store: Store, today: date) -> Figures:
    """The dashboard's charts as issues stand now (no rebuilding: it redraws whenever the store
    changes, and must not read the events table to do so)."""
    from gridtool.population import population
    from gridtool.reports import stats

    first = _trend_start(today.year, today.month)
    trend = _twelve(stats(store, first, today, by="month").groups, first)
    by_category = stats(store, today.replace(day=1), today, by="category").groups
    return Figures(trend, by_category, population(store, as_of=today))


# -- figures as rows -----------------------------------------------------------------------------

SUMMARY_ROWS = (
    # (figure, numerator, denominator, denominator's name) of Metrics
    ("resolution_rate", "resolved", "received"),
    ("on_time_rate", "on_time", "resolved"),
    ("satisfaction_rate", "satisfied", "rated"),
    ("rework_rate", "reworked", "resolved_ever"),
)
GROUP_COLUMNS = (
    "group",
    "received",
    "resolved",
    "resolution_rate",
    "on_time",
    "on_time_rate",
    "rated",
    "satisfied",
    "satisfaction_rate",
    "resolved_ever",
    "reworked",
    "rework_rate",
    "median_workdays_to_resolve",
    "mean_rating",
)
RATE_COLUMNS = frozenset({"resolution_rate", "on_time_rate", "satisfaction_rate", "rework_rate"})
TREND_COLUMNS = ("month", "received", "resolved", "resolution_rate")


def group_row(metrics: Metrics) -> dict[str, Any]:
    """A row of figures; rates as percentages (88.9), ``None`` when the denominator is 0."""
    d = metrics.as_dict()
    return {
        "group": metrics.name,
        **{c: d[c] for c in GROUP_COLUMNS[1:] if c not in RATE_COLUMNS},
        **{c: d[c]["percent"] for c in RATE_COLUMNS},
    }


def trend_row(metrics: Metrics) -> dict[str, Any]:
    return {
        "month": metrics.name,
        "received": metrics.received,
        "resolved": metrics.resolved,
        "resolution_rate": metrics.rates()["resolution_rate"].percent,
    }


def as_json(report: Monthly) -> dict[str, Any]:
    from gridtool import population

    return {
        "report": "monthly",
        "month": report.label,
        "as_of": report.as_of.isoformat(timespec="seconds"),
        "grid": report.grid,
        "rounding": "percent to one decimal place, half up; null when the denominator is 0",
        "summary": {k: v for k, v in report.summary.as_dict().items() if k != "name"},
        "by_grid": [group_row(m) for m in report.by_grid],
        "by_category": [group_row(m) for m in report.by_category],
        "trend": [trend_row(m) for m in report.trend],
        "population": population.as_json(report.population),
    }


def _title(report: Monthly) -> str:
    return t("monthly.title", month=report.label, as_of=report.as_of.isoformat(sep=" ", timespec="minutes"))


def markdown(report: Monthly) -> str:
    """The workbook's figures as text for a WeChat group."""
    from gridtool import population
    from gridtool.reports import definitions, show_percent

    m = report.summary
    rates = m.rates()
    lines = [f"**{_title(report)}**", "", t("monthly.md.summary"), ""]
    lines.append("- " + t("monthly.md.received", received=m.received))
    for key, _, _ in SUMMARY_ROWS:
        lines.append("- " + t(f"monthly.figure.{key}") + f"：{rates[key].text()}")
    lines.append("- " + t("monthly.figure.median_workdays_to_resolve") + f"：{_dash(m.median_workdays)}")
    lines.append("- " + t("monthly.figure.mean_rating") + f"：{_dash(m.mean_rating)}")
    for heading, groups in (
        ("monthly.md.by_grid", report.by_grid),
        ("monthly.md.by_category", report.by_category),
    ):
        if groups:
            lines += ["", t(heading), ""]
            for g in groups:
                r = g.rates()
                lines.append(
                    "- "
                    + t(
                        "monthly.md.group",
                        name=g.name,
                        received=g.received,
                        resolved=g.resolved,
                        resolution=show_percent(r["resolution_rate"].percent),
                        satisfaction=show_percent(r["satisfaction_rate"].percent),
                    )
                )
    lines += ["", t("monthly.md.trend"), ""]
    lines += [
        "- " + t("monthly.md.trend_item", month=g.name, received=g.received, resolved=g.resolved)
        for g in report.trend
    ]
    lines += ["", t("monthly.md.population", as_of=report.population.as_of.isoformat()), ""]
    lines.append("- " + population.line(report.population.total))
    lines += ["", t("report.md.definitions"), ""]
    lines += [f"- {line}" for line in [t("monthly.def.as_of"), *definitions()]]
    return "\n".join(lines) + "\n"


def _dash(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


# -- the workbook ------------------------------------------------------------------------------------

PERCENT = '0.0"%"'
DECIMAL = "0.0"


def workbook_bytes(report: Monthly) -> bytes:
    """The ``.xlsx`` as bytes, for the caller to write atomically where it belongs."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    summary = book.active
    summary.title = t("monthly.sheet.summary")
    _summary_sheet(summary, report)
    _group_sheet(book.create_sheet(t("monthly.sheet.by_grid")), report, report.by_grid, "grid")
    categories = book.create_sheet(t("monthly.sheet.by_category"))
    _group_sheet(categories, report, report.by_category, "category")
    _category_chart(categories, report)
    trend = book.create_sheet(t("monthly.sheet.trend"))
    _trend_sheet(trend, report)
    _population_sheet(book.create_sheet(t("monthly.sheet.population")), report)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _header(sheet: Any, title: str, names: Sequence[str]) -> None:
    """A title in row 1, the column names in row 2, both frozen with the first column."""
    from openpyxl.styles import Alignment, Font, PatternFill

    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(list(names))
    _as_text(sheet)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.freeze_panes = "B3"


def _widths(sheet: Any, minimum: int = 8, maximum: int = 60) -> None:
    """Column widths from what they hold (a Chinese character is two columns wide)."""
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.value is None:
                continue
            text = f"{cell.value:.1f}" if isinstance(cell.value, float) else str(cell.value)
            width = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) + 2
            widths[cell.column] = max(widths.get(cell.column, minimum), min(width, maximum))
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width


def _as_text(sheet: Any) -> None:
    """Every string of the last row as text, even one starting with ``=`` (a tag typed as
    ``=HYPERLINK(...)`` stays words in a workbook the office forwards, never a formula)."""
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _put(sheet: Any, values: Sequence[Any], formats: Sequence[str | None]) -> None:
    sheet.append(list(values))
    _as_text(sheet)
    row = sheet.max_row
    for column, fmt in enumerate(formats, start=1):
        if fmt:
            sheet.cell(row=row, column=column).number_format = fmt


def _summary_sheet(sheet: Any, report: Monthly) -> None:
    from gridtool.reports import definitions

    m = report.summary
    _header(
        sheet,
        _title(report),
        [t(f"monthly.col.{c}") for c in ("figure", "value", "numerator", "denominator", "of")],
    )
    _put(sheet, [t("monthly.figure.received"), m.received, m.received, None, None], [None, "0", "0"])
    rates = m.rates()
    for key, numerator, denominator in SUMMARY_ROWS:
        rate = rates[key]
        _put(
            sheet,
            [
                t(f"monthly.figure.{key}"),
                rate.percent,
                getattr(m, numerator),
                getattr(m, denominator),
                t(f"monthly.of.{rate.of}"),
            ],
            [None, PERCENT, "0", "0"],
        )
    _put(sheet, [t("monthly.figure.median_workdays_to_resolve"), m.median_workdays], [None, DECIMAL])
    _put(
        sheet,
        [t("monthly.figure.mean_rating"), m.mean_rating, m.rating_sum, m.rated, t("monthly.of.rated")],
        [None, DECIMAL, "0", "0"],
    )
    sheet.append([])
    for line in [t("monthly.def.as_of"), *definitions()]:
        sheet.append([line])
    _widths(sheet)
    sheet.column_dimensions["A"].width = 24


def _group_sheet(sheet: Any, report: Monthly, groups: Sequence[Metrics], by: str) -> None:
    names = [t(f"monthly.by.{by}"), *(t(f"monthly.figure.{c}") for c in GROUP_COLUMNS[1:])]
    _header(sheet, _title(report), names)
    formats = [
        None,
        *(
            PERCENT
            if c in RATE_COLUMNS
            else DECIMAL
            if c in ("median_workdays_to_resolve", "mean_rating")
            else "0"
            for c in GROUP_COLUMNS[1:]
        ),
    ]
    total = Metrics.merged(t("report.total"), groups) if groups else Metrics(t("report.total"))
    for metrics in [*groups, total]:
        row = group_row(metrics)
        _put(sheet, [row[c] for c in GROUP_COLUMNS], formats)
    _widths(sheet)


def _category_chart(sheet: Any, report: Monthly) -> None:
    """Bars of received and resolved per category (the rows above the total)."""
    from openpyxl.chart import BarChart, Reference

    count = len(report.by_category)
    if not count:
        return
    chart = BarChart()
    chart.type = "col"
    chart.title = t("monthly.chart.by_category", month=report.label)
    chart.y_axis.title = t("monthly.chart.issues")
    data = Reference(sheet, min_col=2, max_col=3, min_row=2, max_row=2 + count)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=3, max_row=2 + count))
    chart.width, chart.height = 18, 9
    sheet.add_chart(chart, f"A{count + 6}")


def _trend_sheet(sheet: Any, report: Monthly) -> None:
    from openpyxl.chart import LineChart, Reference

    _header(sheet, _title(report), [t(f"monthly.trend.{c}") for c in TREND_COLUMNS])
    for metrics in report.trend:
        row = trend_row(metrics)
        _put(sheet, [row[c] for c in TREND_COLUMNS], [None, "0", "0", PERCENT])
    _widths(sheet)
    chart = LineChart()
    chart.title = t("monthly.chart.trend")
    chart.y_axis.title = t("monthly.chart.issues")
    chart.x_axis.title = t("monthly.trend.month")
    count = len(report.trend)
    chart.add_data(
        Reference(sheet, min_col=2, max_col=3, min_row=2, max_row=2 + count), titles_from_data=True
    )
    chart.set_categories(Reference(sheet, min_col=1, min_row=3, max_row=2 + count))
    chart.width, chart.height = 20, 9
    sheet.add_chart(chart, "F3")


def _population_sheet(sheet: Any, report: Monthly) -> None:
    from gridtool import population

    people = report.population
    cols = population.columns(people)
    names = population.headers(people)
    _header(sheet, t("population.title", as_of=people.as_of.isoformat()), [names[c] for c in cols])
    for row in population.rows(people):
        _put(sheet, [row[c] for c in cols], [None, *("0" for _ in cols[1:])])
    sheet.append([])
    for line in population.definitions():
        sheet.append([line])
    _widths(sheet, maximum=14)
    sheet.column_dimensions["A"].width = 14
