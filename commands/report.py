"""``gridtool report``: overdue, due soon, follow-ups and statistics, for people and for cron.

Output is plain UTF-8 whenever it does not go to a terminal: no colour, no progress. Exit codes:
0 ok, 1 only with ``--fail-if-any`` when something is overdue, 2 for usage and input errors.
``--format markdown`` is written in Chinese for the office's WeChat group unless a language was
chosen explicitly (``--lang`` or ``GRIDTOOL_LANG``): cron's bare environment has no locale.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gridtool.i18n import t

from .calendar import calendar_warnings
from .common import (
    Env,
    echo,
    markdown_language,
    pass_env,
    report_errors,
    show_pii_option,
    success,
    table_width,
    wide_option,
)

if TYPE_CHECKING:
    from gridtool.reports import Listing

FORMATS = ("table", "csv", "json", "markdown")


def without_gc(func: Callable[..., Any]) -> Callable[..., Any]:
    """Keep the cyclic garbage collector off the store a report loads.

    A report reads a few million small objects that hold no cycles; the collector would rescan them
    again and again while they are built (0.3 s at 100,000 issues), and once more when it is turned
    back on, unless they are first moved out of the young generation.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from gridtool.store import collector_paused

        with collector_paused():
            return func(*args, **kwargs)

    return wrapper


@click.group(help=t("Reports for people and for cron: overdue, due soon, follow-ups, statistics."))
def group() -> None:
    pass


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed(
        [
            click.option(
                "--format",
                "fmt",
                type=click.Choice(FORMATS),
                default="table",
                show_default=True,
                help=t("table for people, csv or json for scripts, markdown to paste into a WeChat group."),
            ),
            click.option(
                "--output",
                type=click.Path(dir_okay=False, writable=True),
                help=t("Write the report to this file (UTF-8) instead of the screen."),
            ),
        ]
    ):
        func = decorator(func)
    return func


def _listing_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed(
        [
            click.option(
                "--as-of",
                metavar="DATE[TIME]",
                help=t("Compute the report for this moment (a bare date means its start; default: now)."),
            ),
            click.option("--grid", metavar="CODE", help=t("Only this grid cell.")),
            wide_option,
            click.option(
                "--group-by",
                type=click.Choice(["grid", "assignee", "category"]),
                help=t("Group the issues by grid cell, assignee or category."),
            ),
        ]
    ):
        func = decorator(func)
    return _common(func)


def _emit(text: str, output: str | None, env: Env) -> None:
    """To stdout, or atomically to a file (a script reading it never sees half a report)."""
    text = text.rstrip("\n")
    if not output:
        echo(text)
        return
    path = Path(output)
    if env.store().owns(path):  # a report written over the store would destroy it
        from gridtool.errors import InputError

        raise InputError("report.target_is_store", path=output)
    from gridtool.store import write_private

    try:
        write_private(path, (text + "\n").encode("utf-8"))  # whole, and 0600: reports name residents
    except OSError as exc:
        from gridtool.errors import InputError

        raise InputError("report.cannot_write", path=output, reason=exc.strerror or str(exc)) from None
    if sys.stderr.isatty():  # a person is watching; a cron job stays silent
        success(t("report.written", path=output))


def _render_listing(listing: Listing, fmt: str, width: int | None = None) -> str:
    from gridtool import reports
    from gridtool.formats import render_csv, render_json, render_table

    if fmt == "json":
        return render_json(reports.listing_json(listing))
    if fmt == "csv":
        rows = reports.listing_rows(listing, labels=False)
        columns = (["group"] if listing.group_by else []) + list(reports.LISTING_COLUMNS[listing.kind])
        return render_csv(rows, columns)
    if fmt == "markdown":
        return reports.listing_markdown(listing)
    params = reports.listing_params(listing)
    if not listing.rows:
        return t(f"report.{listing.kind}.none", **params)
    parts = [t(f"report.{listing.kind}.summary", **params)]
    for name, rows in listing.groups():
        if name:
            parts.append("")
            parts.append(t("report.group", name=name, count=len(rows)))
        parts.append(render_table(reports.listing_rows(listing, labels=True, rows=rows), width=width))
    return "\n".join(parts)


def _moment(as_of: str | None) -> Any:
    from gridtool.issues import parse_when

    return parse_when(as_of, "as_of") if as_of else None


@group.command("overdue", help=t("Open issues past their deadline, most overdue first."))
@_listing_options
@click.option(
    "--fail-if-any", is_flag=True, help=t("Exit 1 when anything is overdue (for cron and scripts).")
)
@pass_env
@report_errors
@calendar_warnings
@without_gc
def overdue_cmd(
    env: Env,
    as_of: str | None,
    grid: str | None,
    wide: bool,
    group_by: str | None,
    fmt: str,
    output: str | None,
    fail_if_any: bool,
) -> None:
    from gridtool import reports

    listing = reports.overdue(env.store(), as_of=_moment(as_of), grid=grid, group_by=group_by)
    with markdown_language(fmt):
        _emit(_render_listing(listing, fmt, None if output else table_width(wide)), output, env)
    if fail_if_any and listing.rows:
        raise SystemExit(1)


@group.command("due-soon", help=t("Open issues whose deadline falls within the next working time."))
@_listing_options
@click.option(
    "--within",
    default="1d",
    show_default=True,
    metavar="1d|8h|2",
    help=t("How far ahead, in working days (d, or a bare number) or office hours (h)."),
)
@pass_env
@report_errors
@calendar_warnings
@without_gc
def due_soon_cmd(
    env: Env,
    as_of: str | None,
    grid: str | None,
    wide: bool,
    group_by: str | None,
    fmt: str,
    output: str | None,
    within: str,
) -> None:
    from gridtool import reports

    listing = reports.due_soon(env.store(), within=within, as_of=_moment(as_of), grid=grid, group_by=group_by)
    with markdown_language(fmt):
        _emit(_render_listing(listing, fmt, None if output else table_width(wide)), output, env)


@group.command("followups", help=t("Resolved issues still waiting for their follow-up visit (回访)."))
@_listing_options
@click.option(
    "--after",
    type=click.IntRange(0),
    default=3,
    show_default=True,
    help=t("Only those resolved at least this many working days ago."),
)
@pass_env
@report_errors
@calendar_warnings
@without_gc
def followups_cmd(
    env: Env,
    as_of: str | None,
    grid: str | None,
    wide: bool,
    group_by: str | None,
    fmt: str,
    output: str | None,
    after: int,
) -> None:
    from gridtool import reports

    listing = reports.followups(env.store(), after=after, as_of=_moment(as_of), grid=grid, group_by=group_by)
    with markdown_language(fmt):
        _emit(_render_listing(listing, fmt, None if output else table_width(wide)), output, env)


@group.command(
    "stats",
    help=t("Resolution, on-time, satisfaction and rework rates of the issues received in a period."),
)
@click.option(
    "--from",
    "start",
    metavar="DATE",
    help=t("First day of the period (default: the first of this month)."),
)
@click.option("--to", "end", metavar="DATE", help=t("Last day of the period, included (default: today)."))
@click.option(
    "--by",
    type=click.Choice(["grid", "category", "assignee", "month"]),
    help=t("One row per grid cell, category, assignee or month, and a total."),
)
@click.option("--grid", metavar="CODE", help=t("Only this grid cell."))
@click.option(
    "--as-of",
    metavar="DATE[TIME]",
    help=t("Describe each issue as it stood at this moment (a bare date means its end; default: now)."),
)
@_common
@pass_env
@report_errors
@calendar_warnings
@without_gc
def stats_cmd(
    env: Env,
    start: str | None,
    end: str | None,
    by: str | None,
    grid: str | None,
    as_of: str | None,
    fmt: str,
    output: str | None,
) -> None:
    from datetime import date

    from gridtool import reports
    from gridtool.formats import render_csv, render_json, render_table
    from gridtool.issues import parse_date, parse_when

    moment = parse_when(as_of, "as_of", end_of_day=True) if as_of else None
    today = moment.date() if moment else date.today()
    first = parse_date(start) if start else today.replace(day=1)
    last = parse_date(end) if end else today
    report = reports.stats(env.store(), first, last, by=by, grid=grid, as_of=moment)
    with markdown_language(fmt):
        if fmt == "json":
            text = render_json(reports.stats_json(report))
        elif fmt == "csv":
            text = render_csv(reports.stats_rows(report, labels=False))
        elif fmt == "markdown":
            text = reports.stats_markdown(report)
        else:
            text = "\n".join(
                [
                    t("report.stats.title", start=first.isoformat(), end=last.isoformat()),
                    render_table(reports.stats_rows(report, labels=True), reports.STATS_COLUMNS),
                    "",
                    *reports.definitions(),
                ]
            )
        _emit(text, output, env)


def _render_visits(listing: Any, fmt: str) -> str:
    from gridtool import visits
    from gridtool.formats import render_csv, render_json, render_table

    if fmt == "json":
        return render_json(visits.listing_json(listing))
    if fmt == "csv":
        return render_csv(
            visits.listing_rows(listing, labels=False), [*visits.LISTING_COLUMNS, "household_id"]
        )
    if fmt == "markdown":
        return visits.listing_markdown(listing)
    params = visits.listing_params(listing)
    if not listing.rows:
        return t(f"report.{listing.kind}.none", **params)
    return "\n".join(
        [
            t(f"report.{listing.kind}.summary", **params),
            render_table(visits.listing_rows(listing, labels=True), visits.LISTING_COLUMNS),
        ]
    )


def _visit_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed(
        [
            click.option(
                "--as-of", metavar="DATE[TIME]", help=t("Compute the report for this day (default: today).")
            ),
            click.option("--grid", metavar="CODE", help=t("Only this grid cell.")),
            click.option(
                "--fail-if-any",
                is_flag=True,
                help=t("Exit 1 when any household is listed (for cron and scripts)."),
            ),
            show_pii_option,
        ]
    ):
        func = decorator(func)
    return _common(func)


def _day(as_of: str | None) -> Any:
    """The day of ``--as-of``: a moment is accepted as every report's ``--as-of`` is."""
    from gridtool.issues import parse_when

    return parse_when(as_of, "as_of").date() if as_of else None


@group.command(
    "visits-due",
    help=t("Households due for a scheduled visit by a day (overdue ones included), most overdue first."),
)
@_visit_options
@click.option(
    "--within",
    default="0",
    show_default=True,
    metavar="2|2d|1w",
    help=t("Also those due within this many days (a bare number, d) or weeks (w) after the day."),
)
@pass_env
@report_errors
@calendar_warnings
def visits_due_cmd(
    env: Env,
    as_of: str | None,
    grid: str | None,
    fail_if_any: bool,
    show_pii: bool,
    fmt: str,
    output: str | None,
    within: str,
) -> None:
    from gridtool import visits

    listing = visits.due(env.store(), as_of=_day(as_of), within=within, grid=grid, show_pii=show_pii)
    with markdown_language(fmt):
        _emit(_render_visits(listing, fmt), output, env)
    if fail_if_any and listing.rows:
        raise SystemExit(1)


@group.command("visits-overdue", help=t("Households whose scheduled visit is past due, most overdue first."))
@_visit_options
@pass_env
@report_errors
@calendar_warnings
def visits_overdue_cmd(
    env: Env,
    as_of: str | None,
    grid: str | None,
    fail_if_any: bool,
    show_pii: bool,
    fmt: str,
    output: str | None,
) -> None:
    from gridtool import visits

    listing = visits.overdue(env.store(), as_of=_day(as_of), grid=grid, show_pii=show_pii)
    with markdown_language(fmt):
        _emit(_render_visits(listing, fmt), output, env)
    if fail_if_any and listing.rows:
        raise SystemExit(1)


# -- population, birthdays and the monthly workbook (issue 20) ----------------------------------------


@group.command("population", help=t("Population structure (人口结构) per grid cell, compound or building."))
@click.option(
    "--by",
    type=click.Choice(["grid", "compound", "building"]),
    default="grid",
    show_default=True,
    help=t("One row per grid cell, compound or building, and a total."),
)
@click.option("--as-of", metavar="DATE", help=t("Count ages on this day (default: today)."))
@click.option("--grid", metavar="CODE", help=t("Only this grid cell."))
@_common
@pass_env
@report_errors
@without_gc
def population_cmd(
    env: Env, by: str, as_of: str | None, grid: str | None, fmt: str, output: str | None
) -> None:
    from gridtool import population
    from gridtool.formats import render_json

    report = population.population(env.store(), as_of=_day(as_of), by=by, grid=grid)
    with markdown_language(fmt):
        if fmt == "json":
            text = render_json(population.as_json(report))
        elif fmt == "csv":
            text = population.csv_text(report)
        elif fmt == "markdown":
            text = population.markdown(report)
        else:
            text = population.table(report)
        _emit(text, output, env)


@group.command(
    "birthdays", help=t("Residents turning the given ages in a month (寿星, for birthday visits).")
)
@click.option("--month", metavar="YYYY-MM", help=t("The month (default: this month)."))
@click.option(
    "--age",
    "ages",
    default="80,90,100",
    show_default=True,
    metavar="AGES",
    help=t("The ages to list, separated by commas."),
)
@click.option("--grid", metavar="CODE", help=t("Only this grid cell."))
@show_pii_option
@_common
@pass_env
@report_errors
def birthdays_cmd(
    env: Env,
    month: str | None,
    ages: str,
    grid: str | None,
    show_pii: bool,
    fmt: str,
    output: str | None,
) -> None:
    from datetime import date

    from gridtool import population
    from gridtool.formats import render_csv, render_json

    year, number = population.parse_month(month) if month else (date.today().year, date.today().month)
    report = population.birthdays(
        env.store(), year, number, population.parse_ages(ages), grid=grid, show_pii=show_pii
    )
    with markdown_language(fmt):
        if fmt == "json":
            text = render_json(population.birthdays_json(report))
        elif fmt == "csv":
            text = render_csv(report.rows, population.BIRTHDAY_COLUMNS)
        elif fmt == "markdown":
            text = population.birthdays_markdown(report)
        else:
            text = population.birthdays_table(report)
        _emit(text, output, env)


@group.command(
    "monthly",
    help=t(
        "The monthly report (月报): a workbook with the month's figures, by grid cell and category, "
        "the 12-month trend with charts, and the population; or the same as Markdown."
    ),
)
@click.option("--month", metavar="YYYY-MM", help=t("The month (default: the month just ended)."))
@click.option(
    "--as-of",
    metavar="DATE[TIME]",
    help=t("Describe the issues as they stood at this moment (default: the month's last second)."),
)
@click.option("--grid", metavar="CODE", help=t("Only this grid cell."))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "markdown", "json"]),
    help=t("xlsx (the default with --output), markdown for a WeChat group (the default on screen), json."),
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help=t("Write the report to this file instead of the screen."),
)
@pass_env
@report_errors
@calendar_warnings
@without_gc
def monthly_cmd(
    env: Env,
    month: str | None,
    as_of: str | None,
    grid: str | None,
    fmt: str | None,
    output: str | None,
) -> None:
    from gridtool import monthly
    from gridtool.errors import InputError
    from gridtool.formats import render_json
    from gridtool.population import parse_month

    fmt = fmt or ("xlsx" if output and output.lower().endswith(".xlsx") else "markdown")
    if fmt == "xlsx" and not output:
        raise InputError("monthly.xlsx_needs_output")
    year, number = parse_month(month) if month else monthly.previous_month()
    report = monthly.monthly(env.store(), year, number, as_of=_moment(as_of), grid=grid)
    if fmt == "xlsx":
        _emit_bytes(monthly.workbook_bytes(report), str(output), env)
        return
    with markdown_language(fmt):
        text = render_json(monthly.as_json(report)) if fmt == "json" else monthly.markdown(report)
        _emit(text, output, env)


def _emit_bytes(data: bytes, output: str, env: Env) -> None:
    """A binary report (a workbook) written whole and private, never over the store."""
    from gridtool.errors import InputError
    from gridtool.store import write_private

    path = Path(output)
    if env.store().owns(path):
        raise InputError("report.target_is_store", path=output)
    try:
        write_private(path, data)
    except OSError as exc:
        raise InputError("report.cannot_write", path=output, reason=exc.strerror or str(exc)) from None
    if sys.stderr.isatty():
        success(t("report.written", path=output))
