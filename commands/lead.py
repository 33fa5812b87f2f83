"""``gridtool lead``: building leads (楼栋长), volunteers and teams."""

from __future__ import annotations

import click

from gridtool.i18n import t

from .common import Env, actor_option, pass_env, report_errors
from .records import quiet_option, register_commands, report_written

ROLE_HELP = "building-lead, party-member, five-elders, volunteer, team"


@click.group(help=t("Leads (楼栋长), volunteers and teams, and the buildings they look after."))
def group() -> None:
    pass


@group.command("add", help=t("Add a lead by name."))
@click.argument("name")
@click.option("--phone", help=t("Mobile number."))
@click.option(
    "--role", "roles", multiple=True, help=t("A role ({roles}); repeat for several.", roles=ROLE_HELP)
)
@click.option(
    "--building",
    "buildings",
    multiple=True,
    metavar="REF",
    help=t("A building this lead looks after; repeat for several."),
)
@click.option(
    "--grid", "grid_cell", metavar="CODE", help=t("The grid cell (taken from the building if omitted).")
)
@click.option("--inactive", is_flag=True, help=t("Record the lead as no longer active."))
@click.option("--notes", help=t("Free notes."))
@actor_option
@quiet_option
@pass_env
@report_errors
def add_cmd(env: Env, name: str, inactive: bool, actor: str | None, quiet: bool, **fields: object) -> None:
    from gridtool.register import add

    record = add(env.store(), "lead", {"name": name, "active": not inactive, **fields}, actor=actor)
    report_written(env, "lead", record, "added", quiet)


@group.command("edit", help=t("Change a lead (by id or unique name)."))
@click.argument("ref")
@click.option("--name", help=t("A new name."))
@click.option("--phone", help=t("Mobile number."))
@click.option("--add-role", multiple=True, metavar="ROLE", help=t("Give a role ({roles}).", roles=ROLE_HELP))
@click.option("--remove-role", multiple=True, metavar="ROLE", help=t("Take a role away."))
@click.option("--add-building", multiple=True, metavar="REF", help=t("Add a building this lead looks after."))
@click.option("--remove-building", multiple=True, metavar="REF", help=t("Remove a building from this lead."))
@click.option("--grid", "grid_cell", metavar="CODE", help=t("The grid cell."))
@click.option("--active/--inactive", default=None, help=t("Whether the lead is active."))
@click.option("--notes", help=t("Free notes."))
@actor_option
@pass_env
@report_errors
def edit_cmd(
    env: Env,
    ref: str,
    add_role: tuple[str, ...],
    remove_role: tuple[str, ...],
    add_building: tuple[str, ...],
    remove_building: tuple[str, ...],
    actor: str | None,
    **fields: object,
) -> None:
    from gridtool.register import building_by_ref, edit

    store = env.store()
    drop_buildings = [building_by_ref(store, ref)["id"] for ref in remove_building]
    record = edit(
        store,
        "lead",
        ref,
        fields,
        add_items={"roles": add_role, "buildings": add_building},
        remove_items={"roles": remove_role, "buildings": drop_buildings},
        actor=actor,
    )
    report_written(env, "lead", record, "edited", False)


register_commands(group, "lead")
