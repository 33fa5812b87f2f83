"""``gridtool building``: buildings (楼栋) of the grid cells."""

from __future__ import annotations

import click

from gridtool.i18n import t

from .common import Env, actor_option, pass_env, report_errors
from .records import quiet_option, register_commands, report_written


@click.group(help=t("Buildings (楼栋): compound, number, units and floors, in a grid cell."))
def group() -> None:
    pass


def _building_options(func):  # type: ignore[no-untyped-def]
    for decorator in reversed(
        [
            click.option("--grid", "grid_cell", metavar="CODE", help=t("The grid cell the building is in.")),
            click.option("--compound", help=t("The compound (小区), e.g. 湘离小区.")),
            click.option("--number", help=t("The building number, e.g. 5 (or 5栋).")),
            click.option("--units", type=int, help=t("How many units (单元) it has.")),
            click.option("--floors", type=int, help=t("How many floors it has.")),
            click.option("--notes", help=t("Free notes.")),
            actor_option,
        ]
    ):
        func = decorator(func)
    return func


@group.command("add", help=t("Add a building to a grid cell."))
@_building_options
@quiet_option
@pass_env
@report_errors
def add_cmd(env: Env, actor: str | None, quiet: bool, **fields: object) -> None:
    from gridtool.register import add

    record = add(env.store(), "building", fields, actor=actor)
    report_written(env, "building", record, "added", quiet)


@group.command("edit", help=t("Change fields of a building (by id, or compound/number)."))
@click.argument("ref")
@_building_options
@pass_env
@report_errors
def edit_cmd(env: Env, ref: str, actor: str | None, **fields: object) -> None:
    from gridtool.register import edit

    record = edit(env.store(), "building", ref, fields, actor=actor)
    report_written(env, "building", record, "edited", False)


register_commands(group, "building")
