"""``gridtool volunteer``: the people who take residents' orders, their teams, skills and points."""

from __future__ import annotations

import click

from gridtool.i18n import field_label, t

from .common import Env, actor_option, echo, format_option, pass_env, report_errors, show_pii_option, success


@click.group(help=t("Volunteers (志愿者): name, phone, teams, skills; their points balance."))
def group() -> None:
    pass


@group.command("add", help=t("Register a volunteer."))
@click.option("--name", help=t("The volunteer's name."))
@click.option("--phone", help=t("The volunteer's mobile number."))
@click.option(
    "--team", "teams", multiple=True, metavar="TEAM", help=t("A team (name or id); repeat for several.")
)
@click.option(
    "--skill",
    "skills",
    multiple=True,
    metavar="SERVICE",
    help=t("A service from the points rules, e.g. haircut or 理发; repeat for several."),
)
@click.option("--notes", help=t("Free notes."))
@actor_option
@pass_env
@report_errors
def add_cmd(env: Env, actor: str | None, **data: object) -> None:
    from gridtool.volunteers import add_volunteer

    volunteer = add_volunteer(env.store(), data, actor=actor)
    success(t("volunteer.added", name=volunteer["name"]))
    echo(f"{field_label('id')}: {volunteer['id']}")


@group.command("edit", help=t("Change a volunteer: fields, teams, skills; --inactive when they stop."))
@click.argument("ref")
@click.option("--name", help=t("The volunteer's name."))
@click.option("--phone", help=t("The volunteer's mobile number."))
@click.option("--notes", help=t("Free notes."))
@click.option("--add-team", multiple=True, metavar="TEAM", help=t("Join a team (name or id)."))
@click.option("--remove-team", multiple=True, metavar="TEAM", help=t("Leave a team."))
@click.option("--add-skill", multiple=True, metavar="SERVICE", help=t("Add a skill (a service)."))
@click.option("--remove-skill", multiple=True, metavar="SERVICE", help=t("Remove a skill."))
@click.option(
    "--active/--inactive",
    default=None,
    help=t("Whether the volunteer still takes orders (their points stay)."),
)
@actor_option
@pass_env
@report_errors
def edit_cmd(
    env: Env,
    ref: str,
    add_team: tuple[str, ...],
    remove_team: tuple[str, ...],
    add_skill: tuple[str, ...],
    remove_skill: tuple[str, ...],
    actor: str | None,
    **data: object,
) -> None:
    from gridtool.volunteers import edit_volunteer

    volunteer = edit_volunteer(
        env.store(),
        ref,
        data,
        add={"teams": add_team, "skills": add_skill},
        remove={"teams": remove_team, "skills": remove_skill},
        actor=actor,
    )
    success(t("volunteer.edited", name=volunteer["name"]))


@group.command("list", help=t("List volunteers with their teams, skills and points balance."))
@click.option("--team", metavar="TEAM", help=t("Only this team's members."))
@click.option("--skill", metavar="SERVICE", help=t("Only volunteers with this skill."))
@click.option("--full-ids", is_flag=True, help=t("Show whole ids instead of their last 8 characters."))
@format_option()
@show_pii_option
@pass_env
@report_errors
def list_cmd(env: Env, team: str | None, skill: str | None, full_ids: bool, fmt: str, show_pii: bool) -> None:
    from gridtool.formats import render_rows
    from gridtool.volunteers import list_volunteers, volunteer_rows

    store = env.store()
    found = list_volunteers(store, team=team, skill=skill)
    echo(render_rows(volunteer_rows(store, found, show_pii, full_ids or fmt != "table"), fmt))


@group.command("show", help=t("Show one volunteer with their points and orders."))
@click.argument("ref")
@format_option()
@show_pii_option
@pass_env
@report_errors
def show_cmd(env: Env, ref: str, fmt: str, show_pii: bool) -> None:
    from gridtool.formats import render_detail, render_json, render_rows, render_table
    from gridtool.points import summary
    from gridtool.volunteers import list_orders, order_rows, volunteer_by_ref, volunteer_rows

    store = env.store()
    volunteer = volunteer_by_ref(store, ref)
    detail = {**volunteer_rows(store, [volunteer], show_pii, True)[0], **summary(store, volunteer["id"])}
    orders = order_rows(store, list_orders(store, volunteer=volunteer["id"]), labels=fmt == "table")
    if fmt == "json":
        echo(render_json({"volunteer": detail, "orders": orders}))
        return
    if fmt == "csv":
        echo(render_rows([detail], "csv"))
        return
    echo(render_detail(detail, "table"))
    if orders:
        echo("")
        echo(render_table(orders))
