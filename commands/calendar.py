"""``gridtool calendar``: Chinese working days, as every deadline counts them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from gridtool.i18n import t

from .common import echo, report_errors

F = TypeVar("F", bound=Callable[..., Any])


def calendar_warnings(func: F) -> F:
    """Show each calendar fallback warning once, as a plain line on stderr, never as a traceback.

    Deadlines in a year the holiday data does not know (2027 today) are approximate; the user must
    hear it, but a cron job's output must stay readable.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import warnings

        from gridtool.workdays import CalendarFallbackWarning

        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", CalendarFallbackWarning)
                return func(*args, **kwargs)
        finally:  # outside the block: other warnings go back to Python's usual handling
            seen: set[str] = set()
            for warning in caught:
                if issubclass(warning.category, CalendarFallbackWarning):
                    text = str(warning.message)
                    if text not in seen:
                        seen.add(text)
                        click.echo(t("warning.prefix") + text, err=True)
                else:
                    warnings.warn_explicit(
                        warning.message, warning.category, warning.filename, warning.lineno
                    )

    return wrapper  # type: ignore[return-value]


@click.group(help=t("Chinese working days (工作日): weekends and holidays off, make-up days (调休) on."))
def group() -> None:
    pass


@group.command(
    "add-workdays",
    help=t("Print the Nth working day after DATE (DATE itself not counted; N may be negative)."),
    context_settings={"ignore_unknown_options": True},
)
@click.argument("day", metavar="DATE")
@click.argument("n", metavar="N", type=int)
@report_errors
@calendar_warnings
def add_workdays_cmd(day: str, n: int) -> None:
    from gridtool.issues import parse_date
    from gridtool.workdays import add_workdays

    echo(add_workdays(parse_date(day), n).isoformat())


@group.command("is-workday", help=t("Say whether DATE is a working day: exit 0 if it is, 1 if it is not."))
@click.argument("day", metavar="DATE")
@report_errors
@calendar_warnings
def is_workday_cmd(day: str) -> None:
    from gridtool.issues import parse_date
    from gridtool.workdays import is_workday

    when = parse_date(day)
    working = is_workday(when)
    weekend = when.weekday() >= 5
    if working:
        echo(t("calendar.makeup_day") if weekend else t("calendar.workday"))
    else:
        echo(t("calendar.weekend") if weekend else t("calendar.holiday"))
    if not working:
        raise SystemExit(1)
