"""``gridtool import`` and ``gridtool export``: ledgers (台账) in Excel, CSV and JSON.

Thin on purpose: the library reads, validates and writes; this module picks the options, draws a
progress bar on a terminal (fed by the library's callback) and prints the library's report.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gridtool.i18n import t, tn

from .common import Env, actor_option, echo, fail, pass_env, report_errors, show_pii_option, success

if TYPE_CHECKING:
    from gridtool.ledger import ImportReport

# command name -> register kind
KINDS = {
    "households": "household",
    "grid-cells": "grid_cell",
    "buildings": "building",
    "leads": "lead",
    "issues": "issue",
}
ON_EXISTING = ("update", "skip", "error")  # gridtool.ledger.ON_EXISTING, without importing it for --help
FORMATS = ("csv", "xlsx", "json")
SHOWN_PER_LIST = 30  # a screenful; --rejects and --format json carry every problem


@click.group("import", help=t("Import a ledger (Excel, CSV or JSON) into the register, all or nothing."))
def import_group() -> None:
    pass


@click.group("export", help=t("Export the register as a ledger that opens in Excel and imports again."))
def export_group() -> None:
    pass


@contextmanager
def _progress(enabled: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on standard error, only for a person at a terminal (never when piped)."""
    if not (enabled and sys.stdout.isatty() and sys.stderr.isatty()):
        yield None
        return
    bars: list[Any] = []

    def update(done: int, total: int) -> None:
        if not bars:
            bar = click.progressbar(length=total, label=label, file=sys.stderr, show_eta=False)
            bar.__enter__()
            bars.append(bar)
        bars[0].update(done - bars[0].pos)

    try:
        yield update
        if bars:  # done: the library leaves the commit's share to fill
            bars[0].update(bars[0].length - bars[0].pos)
    finally:
        if bars:
            bars[0].__exit__(None, None, None)


def _where(report: ImportReport) -> str:
    return report.source if report.sheet == report.source else f"{report.source} [{report.sheet}]"


def _print_report(report: ImportReport) -> None:
    encoding = t("ledger.encoding_note", encoding=report.encoding) if report.encoding else ""
    if report.unit == "record":  # JSON has no header row: its field names are the header
        echo(tn("ledger.read_records", report.rows, where=_where(report), encoding=encoding))
    else:
        header = report.header_row
        echo(t("ledger.read", where=_where(report), rows=report.rows, header=header, encoding=encoding))
    if report.unknown_columns:
        echo(t("ledger.unknown_columns", columns="、".join(report.unknown_columns)))
    if report.doubled_columns:
        echo(t("ledger.doubled_columns", columns="、".join(report.doubled_columns)))
    for heading, issues in (("ledger.problems", report.problems), ("ledger.warnings", report.warnings)):
        if not issues:
            continue
        echo(t(heading))
        for issue in issues[:SHOWN_PER_LIST]:
            echo("  " + issue.message(report.unit))
        if len(issues) > SHOWN_PER_LIST:
            echo("  " + t("ledger.more_not_shown", count=len(issues) - SHOWN_PER_LIST))
    echo(t("ledger.summary", **report.counts()))


def _import_command(name: str, kind: str) -> click.Command:
    label = t(f"kind.{kind}")

    @import_group.command(
        name,
        help=t(
            "Import {kind} records from FILE: .xlsx, .csv (UTF-8 or GBK), .json or .jsonl. "
            "Rows already registered (same natural key) are updated; a second import of the same "
            "file changes nothing.",
            kind=label,
        ),
    )
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option(
        "--sheet", metavar="NAME", help=t("The sheet to read (default: the first with a header row).")
    )
    @click.option(
        "--dry-run", is_flag=True, help=t("Check everything and say what would change; write nothing.")
    )
    @click.option(
        "--on-existing",
        type=click.Choice(ON_EXISTING),
        default="update",
        show_default=True,
        help=t("What to do with rows whose record is already registered."),
    )
    @click.option(
        "--skip-invalid",
        is_flag=True,
        help=t("Import the good rows and leave out the bad ones (default: one bad row, nothing written)."),
    )
    @click.option(
        "--rejects",
        metavar="FILE",
        type=click.Path(dir_okay=False),
        help=t("Write rejected rows with a problem column to this .csv or .xlsx, to fix and import again."),
    )
    @click.option(
        "--grid",
        metavar="CODE",
        help=t("The grid cell of rows that name none; rows naming another grid cell are refused."),
    )
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=t("The report: text for people, json for scripts."),
    )
    @actor_option
    @pass_env
    @report_errors
    def command(
        env: Env,
        file: str,
        sheet: str | None,
        dry_run: bool,
        on_existing: str,
        skip_invalid: bool,
        rejects: str | None,
        grid: str | None,
        fmt: str,
        actor: str | None,
    ) -> None:
        from gridtool.ledger import import_file, write_rejects
        from gridtool.ledger.sheets import check_target

        store = env.store()
        if rejects:
            check_target(rejects, store)  # before the import writes anything
        with _progress(fmt != "json", label) as progress:
            report = import_file(
                store,
                kind,
                file,
                sheet=sheet,
                dry_run=dry_run,
                on_existing=on_existing,
                skip_invalid=skip_invalid,
                grid=grid,
                actor=actor,
                progress=progress,
            )
        if rejects and report.rejected_rows:
            write_rejects(report, rejects)
        if fmt == "json":
            from gridtool.formats import render_json

            echo(render_json(report.as_dict()))
        else:
            _print_report(report)
            if rejects and report.rejected_rows:
                # Nothing is written unless --skip-invalid: then the original file is what to re-import.
                key = "ledger.rejects_written" if skip_invalid and not dry_run else "ledger.rejects_to_read"
                echo(t(key, path=rejects), err=True)
        if report.refused:
            key = "ledger.would_refuse" if dry_run else "ledger.refused"
            fail(t(key, rejected=report.rejected, rows=report.rows))
        if fmt == "json":
            return
        if dry_run:
            success(t("ledger.dry_run"))
        elif not report.written and not report.rejected:
            success(t("ledger.nothing_changed"))
        else:
            success(t("ledger.imported", file=Path(file).name))
            if report.rejected:
                echo(t("ledger.partial", rejected=report.rejected), err=True)

    return command


def _export_command(name: str, kind: str) -> click.Command:
    label = t(f"kind.{kind}")

    @export_group.command(
        name,
        help=t(
            "Export {kind} records as a ledger in the columns import reads. ID numbers and phones are "
            "masked unless --show-pii.",
            kind=label,
        ),
    )
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        help=t("csv, xlsx or json (default: from the --output name, else csv)."),
    )
    @click.option(
        "--output",
        "-o",
        metavar="FILE",
        type=click.Path(dir_okay=False),
        help=t("The file to write (default: standard output; xlsx needs a file)."),
    )
    @click.option("--grid", metavar="CODE", help=t("Only this grid cell."))
    @show_pii_option
    @pass_env
    @report_errors
    def command(env: Env, fmt: str | None, output: str | None, grid: str | None, show_pii: bool) -> None:
        from gridtool.ledger import export_file

        if fmt is None:
            suffix = Path(output).suffix.lower().lstrip(".") if output else ""
            fmt = suffix if suffix in FORMATS else "csv"
        if fmt == "xlsx" and not output:
            fail(t("ledger.xlsx_needs_output"))
        store = env.store()
        if output:
            from gridtool.ledger.sheets import check_target

            check_target(output, store)
        with _progress(fmt != "json" and output is not None, label) as progress:
            count, data = export_file(
                store, kind, fmt, output, grid=grid, show_pii=show_pii, progress=progress
            )
        if data is not None:
            click.echo(data, nl=False)
        else:
            success(t("ledger.exported", count=count, kind=label, path=output))
        if not show_pii:
            echo(t("ledger.masked_export"), err=True)

    return command


for _name, _kind in KINDS.items():
    _import_command(_name, _kind)
    _export_command(_name, _kind)
