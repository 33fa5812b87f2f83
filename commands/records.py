"""The list / show / remove commands every register group shares, and how an add is reported."""

from __future__ import annotations

from typing import Any

import click

from gridtool.i18n import field_label, t

from .common import (
    Env,
    actor_option,
    confirm,
    echo,
    fail,
    format_option,
    pass_env,
    report_errors,
    show_pii_option,
    success,
    table_width,
    wide_option,
)


def register_commands(group: click.Group, kind_name: str, filters: bool = True) -> None:
    """Attach ``list``, ``show`` and ``remove`` for one kind of record to its group."""
    label = t(f"kind.{kind_name}")

    @group.command("list", help=t("List {kind} records.", kind=label))
    @click.option("--grid", metavar="CODE", help=t("Only this grid cell."))
    @(
        click.option("--tag", metavar="TAG", help=t("Only records with this tag."))
        if kind_name == "household"
        else _noop
    )
    @(
        click.option("--building", metavar="REF", help=t("Only this building."))
        if kind_name in ("household", "lead")
        else _noop
    )
    @click.option("--search", "query", metavar="TEXT", help=t("Only records matching this text."))
    @click.option("--full-ids", is_flag=True, help=t("Show whole ids instead of their last 8 characters."))
    @format_option()
    @show_pii_option
    @wide_option
    @pass_env
    @report_errors
    def list_cmd(
        env: Env,
        fmt: str,
        show_pii: bool,
        wide: bool,
        full_ids: bool,
        grid: str | None = None,
        tag: str | None = None,
        building: str | None = None,
        query: str | None = None,
    ) -> None:
        from gridtool.register import list_records

        store = env.store()
        records = list_records(store, kind_name, grid=grid, tag=tag, building=building, query=query)
        print_records(store, kind_name, records, fmt, show_pii, full_ids, table_width(wide))

    @group.command("show", help=t("Show one {kind} record in full.", kind=label))
    @click.argument("ref")
    @format_option()
    @show_pii_option
    @pass_env
    @report_errors
    def show_cmd(env: Env, ref: str, fmt: str, show_pii: bool) -> None:
        from gridtool.formats import render_detail
        from gridtool.register import get
        from gridtool.views import detail

        store = env.store()
        record = get(store, kind_name, ref)
        shown = detail(store, kind_name, record, show_pii, ids=fmt != "table")
        echo(render_detail(shown, fmt, table=kind_name))

    @group.command(
        "remove", help=t("Remove a {kind} record (refused while others still refer to it).", kind=label)
    )
    @click.argument("ref")
    @click.option("--yes", "-y", is_flag=True, help=t("Do not ask for confirmation."))
    @actor_option
    @pass_env
    @report_errors
    def remove_cmd(env: Env, ref: str, yes: bool, actor: str | None) -> None:
        # Imported for their side effect: each registers with the register what points at a
        # lead or household, so the removal below is checked against them.
        from gridtool import issues, volunteers  # noqa: F401
        from gridtool.register import describe, get, remove

        store = env.store()
        what = describe(store, kind_name, get(store, kind_name, ref))
        if not yes and not confirm(t("confirm.remove", what=what)):
            fail(t("cancelled"), 1)
        removed = remove(store, kind_name, ref, actor=actor)
        success(t("removed", what=describe(store, kind_name, removed)))


def print_records(
    store: Any,
    kind_name: str,
    records: list[dict[str, Any]],
    fmt: str,
    show_pii: bool,
    full_ids: bool = False,
    width: int | None = None,
) -> None:
    """A list of records as a table (cut to ``width``), flat CSV rows, or whole JSON records."""
    from gridtool.formats import render_json, render_rows
    from gridtool.views import json_rows, list_rows

    if fmt == "json":
        echo(render_json(json_rows(store, kind_name, records, show_pii)))
    else:
        table = fmt == "table"
        rows = list_rows(store, kind_name, records, show_pii, full_ids or not table, table)
        echo(render_rows(rows, fmt, table=kind_name, width=width))


def _noop(func: Any) -> Any:
    return func


def report_written(env: Env, kind_name: str, record: dict[str, Any], key: str, quiet: bool) -> None:
    """Say what was added or changed; with ``--quiet`` print only the id, for scripts."""
    if quiet:
        echo(record["id"])
        return
    from gridtool.register import describe

    success(t(key, kind=t(f"kind.{kind_name}"), what=describe(env.store(), kind_name, record)))
    echo(f"{field_label('id')}: {record['id']}")


quiet_option = click.option("--quiet", "-q", is_flag=True, help=t("Print only the new record's id."))
