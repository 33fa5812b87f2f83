"""``gridtool team``: volunteer teams (志愿服务队): silver team, party pioneers, safety, women's care ..."""

from __future__ import annotations

from collections.abc import Callable

import click

from gridtool.i18n import field_label, t

from .common import Env, actor_option, echo, format_option, pass_env, report_errors, success


@click.group(help=t("Volunteer teams (志愿服务队): name, colour, kind, leader."))
def group() -> None:
    pass


def _team_fields(command: Callable[..., None]) -> Callable[..., None]:
    """The options a team is made of, the same for ``add`` and ``edit``."""
    for option in reversed(
        (
            click.option("--name", help=t("The team's name, e.g. 银发志愿服务队.")),
            click.option("--colour", "--color", "colour", help=t("The team's colour, e.g. red or 红.")),
            click.option(
                "--kind",
                metavar="KIND",
                help=t("five-elders, party, safety, womens-care, elders-care, village or other."),
            ),
            click.option("--leader", help=t("The team leader's name.")),
            click.option("--notes", help=t("Free notes.")),
        )
    ):
        command = option(command)
    return command


@group.command("add", help=t("Register a volunteer team."))
@_team_fields
@actor_option
@pass_env
@report_errors
def add_cmd(env: Env, actor: str | None, **data: object) -> None:
    from gridtool.volunteers import add_team

    team = add_team(env.store(), data, actor=actor)
    success(t("team.added", name=team["name"]))
    echo(f"{field_label('id')}: {team['id']}")


@group.command("edit", help=t("Change a team: name, colour, kind, leader, notes (members stay)."))
@click.argument("ref")
@_team_fields
@actor_option
@pass_env
@report_errors
def edit_cmd(env: Env, ref: str, actor: str | None, **data: object) -> None:
    from gridtool.volunteers import edit_team

    team = edit_team(env.store(), ref, data, actor=actor)
    success(t("team.edited", name=team["name"]))


@group.command("list", help=t("List the volunteer teams with their member counts."))
@click.option("--full-ids", is_flag=True, help=t("Show whole ids instead of their last 8 characters."))
@format_option()
@pass_env
@report_errors
def list_cmd(env: Env, full_ids: bool, fmt: str) -> None:
    from gridtool.formats import render_rows
    from gridtool.volunteers import list_teams, team_rows

    store = env.store()
    echo(render_rows(team_rows(store, list_teams(store), full_ids or fmt != "table"), fmt))


@group.command("show", help=t("Show one team and its members."))
@click.argument("ref")
@format_option()
@pass_env
@report_errors
def show_cmd(env: Env, ref: str, fmt: str) -> None:
    from gridtool.formats import render_detail, render_json, render_rows, render_table
    from gridtool.volunteers import list_volunteers, team_by_ref, team_rows, volunteer_rows

    store = env.store()
    team = team_by_ref(store, ref)
    members = volunteer_rows(store, list_volunteers(store, team=team["id"]), full_ids=fmt != "table")
    if fmt == "json":
        echo(render_json({"team": team_rows(store, [team], True)[0], "members": members}))
        return
    if fmt == "csv":
        echo(render_rows(members, "csv"))
        return
    echo(render_detail(team_rows(store, [team], True)[0], "table"))
    echo("")
    echo(render_table(members))
