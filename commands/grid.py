"""``gridtool grid``: the grid cells (网格) of a community."""

from __future__ import annotations

import click

from gridtool.i18n import t

from .common import Env, actor_option, pass_env, report_errors
from .records import quiet_option, register_commands, report_written


@click.group(help=t("Grid cells (网格): code, name, community, grid worker."))
def group() -> None:
    pass


def _grid_options(func):  # type: ignore[no-untyped-def]
    for decorator in reversed(
        [
            click.option("--name", help=t("Name of the grid cell, e.g. 铁园社区第三网格.")),
            click.option("--community", help=t("Community or village (社区/村).")),
            click.option("--town", help=t("Town or street office (镇/街道).")),
            click.option("--worker", help=t("Name of the grid worker (网格员).")),
            click.option("--phone", "worker_phone", help=t("The grid worker's mobile number.")),
            click.option("--notes", help=t("Free notes.")),
            actor_option,
        ]
    ):
        func = decorator(func)
    return func


@group.command("add", help=t("Add a grid cell with its code, e.g. TL-03."))
@click.argument("code")
@_grid_options
@quiet_option
@pass_env
@report_errors
def add_cmd(env: Env, code: str, actor: str | None, quiet: bool, **fields: str | None) -> None:
    from gridtool.register import add

    record = add(env.store(), "grid_cell", {"code": code, **fields}, actor=actor)
    report_written(env, "grid_cell", record, "added", quiet)


@group.command("edit", help=t("Change fields of a grid cell (by code or id)."))
@click.argument("ref")
@click.option("--code", help=t("A new code for the grid cell."))
@_grid_options
@pass_env
@report_errors
def edit_cmd(env: Env, ref: str, actor: str | None, **fields: str | None) -> None:
    from gridtool.register import edit

    record = edit(env.store(), "grid_cell", ref, fields, actor=actor)
    report_written(env, "grid_cell", record, "edited", False)


register_commands(group, "grid_cell")
