"""``gridtool issue``: residents' issues (诉求) from report to follow-up visit (the four-order model)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from gridtool.i18n import t

from .calendar import calendar_warnings
from .common import (
    Env,
    actor_option,
    at_option,
    echo,
    format_option,
    parse_at,
    pass_env,
    report_errors,
    show_pii_option,
    success,
    table_width,
    wide_option,
)

COLOURS = {"green": "green", "yellow": "yellow", "red": "red"}


@click.group(help=t("Residents' issues (诉求): report, dispatch, accept, resolve, follow up."))
def group() -> None:
    pass


due_option = click.option(
    "--due",
    metavar="DATE[TIME]",
    help=t("Deadline instead of the time-limit table's (a bare date means the end of that day)."),
)


@group.command("new", help=t("Register an issue a resident reported (群众点单); prints its number."))
@click.option("--household", metavar="REF", help=t("The reporting household: id, or the head's unique name."))
@click.option(
    "--grid",
    "grid_cell",
    metavar="CODE",
    help=t("The grid cell (taken from the household; needed when there is none, e.g. on patrol)."),
)
@click.option(
    "--category", metavar="NAME", help=t("Category from the time-limit table, e.g. repair or 维修.")
)
@click.option(
    "--urgency", metavar="NAME", default="normal", show_default=True, help=t("urgent, normal or low.")
)
@click.option(
    "--scale",
    metavar="NAME",
    default="minor",
    show_default=True,
    help=t("major (大事, goes up to the town), minor (小事) or private (私事)."),
)
@click.option(
    "--channel",
    metavar="NAME",
    help=t("How it came in: walk-in, phone, wechat, suggestion-box, patrol, 12345."),
)
@click.option("--title", help=t("A short title, e.g. 卫生间下水道返水."))
@click.option("--description", help=t("What the resident said, in full."))
@at_option
@actor_option
@pass_env
@report_errors
@calendar_warnings
def new_cmd(env: Env, at: str | None, actor: str | None, **data: Any) -> None:
    from gridtool import issues

    store = env.store()
    issue, event = issues.report(store, data, at=parse_at(at), actor=actor)
    success(
        t(
            "issue.created",
            number=issue["number"],
            title=issue["title"],
            due=issues.show_time(issue["due"]),
            responsible=event["payload"].get("responsible") or "—",
        )
    )
    echo(issue["number"])


def _perform(env: Env, action: str, ref: str, at: str | None, actor: str | None, **params: Any) -> None:
    from gridtool import issues

    store = env.store()
    issue, event = issues.perform(store, action, ref, at=parse_at(at), actor=actor, **params)
    change = (
        f"{issues.label('status', event['from'])} → {issues.label('status', event['to'])}"
        if event["from"] != event["to"]
        else issues.label("status", event["to"])
    )
    details = issues.event_details(store, event)
    success(
        t("issue.done", number=issue["number"], action=issues.label("action", action), change=change)
        + (f" · {details}" if details else "")
    )
    payload = event["payload"]
    if payload.get("assignee_kind") == "team":
        echo(t("issue.team_note", name=payload["assignee"]), err=True)
    if action == "visit" and event["to"] == "reopened":
        echo(t("issue.reopened_by_rating", rating=payload["rating"]), err=True)


def _transition(name: str, help_text: str, *options: Callable[[Any], Any]) -> None:
    """Add ``gridtool issue NAME NUMBER [options]`` applying one action of the state machine."""

    def command(env: Env, ref: str, at: str | None, actor: str | None, **params: Any) -> None:
        _perform(env, name, ref, at, actor, **params)

    command.__name__ = f"{name}_cmd"
    decorated: Any = calendar_warnings(command)
    decorated = report_errors(decorated)
    decorated = pass_env(decorated)
    for decorator in reversed([click.argument("ref", metavar="NUMBER"), *options, at_option, actor_option]):
        decorated = decorator(decorated)
    group.command(name, help=help_text)(decorated)


_to = click.option(
    "--to", metavar="LEAD|TEAM", help=t("A lead (id or unique name) or a team/department name.")
)
_reason = click.option("--reason", help=t("Why."))


_transition("assign", t("Dispatch an issue to a lead or team with a deadline (分单)."), _to, due_option)
_transition("accept", t("Record that the assignee took the issue on (接单)."))
_transition(
    "note",
    t("Add a note to the timeline; the status does not change."),
    click.argument("text"),
)
_transition(
    "escalate",
    t("Send a major matter up to the town office or a department (上报), e.g. --to 镇综治办."),
    _to,
    _reason,
    due_option,
)
_transition("reassign", t("Give the issue to another lead or team (改派)."), _to, _reason, due_option)
_transition(
    "extend",
    t("Move the deadline by N working days, with a reason (延期)."),
    click.option("--days", type=int, help=t("How many working days to add.")),
    _reason,
)
_transition(
    "resolve",
    t("Record that the issue was resolved (办结), with what was done."),
    click.option("--summary", help=t("What was done, e.g. 清淤并更换管道.")),
)
_transition(
    "visit",
    t("Record the follow-up visit and the resident's rating 1-5 (回访/评单); 1-2 reopens the issue."),
    click.option("--rating", type=int, help=t("Satisfaction from 1 (very unhappy) to 5 (very happy).")),
    click.option("--comment", help=t("What the resident said.")),
)
_transition(
    "reopen",
    t("Reopen a resolved or closed issue as rework (返工), with a fresh deadline."),
    _reason,
    due_option,
)
_transition(
    "reject",
    t("Reject an issue as a duplicate of another or not our matter (不予受理)."),
    click.option("--duplicate-of", metavar="NUMBER", help=t("The issue this one duplicates.")),
    _reason,
)
_transition(
    "close",
    t("Close an issue after its follow-up visit (结案)."),
    click.option("--comment", help=t("A closing remark.")),
)


@group.command("list", help=t("List issues, oldest number first, with their deadline colour."))
@click.option(
    "--status", metavar="STATUS[,..]", help=t("Only these statuses (comma-separated; 'open' for all open).")
)
@click.option("--grid", metavar="CODE", help=t("Only this grid cell."))
@click.option("--assignee", metavar="LEAD|TEAM", help=t("Only issues held by this lead or team."))
@click.option("--category", metavar="NAME", help=t("Only this category."))
@click.option("--overdue", is_flag=True, help=t("Only open issues past their deadline."))
@click.option("--due-before", metavar="DATE[TIME]", help=t("Only issues due before this moment."))
@click.option("--search", metavar="TEXT", help=t("Only issues matching this text (pinyin initials work)."))
@click.option("--full-ids", is_flag=True, help=t("Show whole ids instead of their last 8 characters."))
@format_option()
@show_pii_option
@wide_option
@pass_env
@report_errors
@calendar_warnings
def list_cmd(
    env: Env,
    status: str | None,
    grid: str | None,
    assignee: str | None,
    category: str | None,
    overdue: bool,
    due_before: str | None,
    search: str | None,
    full_ids: bool,
    fmt: str,
    show_pii: bool,
    wide: bool,
) -> None:
    from gridtool import issues
    from gridtool.formats import Styled, render_json, render_rows

    store = env.store()
    at = issues.now()
    found = issues.list_issues(
        store,
        status=status,
        grid=grid,
        assignee=assignee,
        category=category,
        overdue=overdue,
        due_before=due_before,
        search=search,
        at=at,
    )
    if fmt == "json":
        echo(render_json([issues.json_record(store, i, at, show_pii) for i in found]))
        return
    if fmt == "csv":
        echo(render_rows(issues.rows(store, found, at, labels=False, full_ids=True), "csv"))
        return
    rows = issues.rows(store, found, at, labels=True, full_ids=full_ids)
    for row, issue in zip(rows, found, strict=True):
        colour = issues.countdown(issue, at)
        if colour:
            row["countdown"] = Styled(click.style(row["countdown"], fg=COLOURS[colour]))
    echo(render_rows(rows, "table", issues.LIST_COLUMNS, width=table_width(wide)))


@group.command("show", help=t("Show one issue in full with its whole timeline."))
@click.argument("ref", metavar="NUMBER")
@format_option()
@show_pii_option
@pass_env
@report_errors
@calendar_warnings
def show_cmd(env: Env, ref: str, fmt: str, show_pii: bool) -> None:
    from gridtool import issues
    from gridtool.formats import render_detail, render_json, render_rows, render_table
    from gridtool.store import public

    store = env.store()
    at = issues.now()
    issue = issues.issue_by_ref(store, ref)
    events = issues.timeline(store, issue["id"])
    if fmt == "json":
        echo(
            render_json(
                {
                    "issue": issues.json_record(store, issue, at, show_pii, events),
                    "events": [public(e) for e in events],
                }
            )
        )
        return
    if fmt == "csv":
        echo(render_rows(issues.timeline_rows(store, events, labels=False), "csv"))
        return
    echo(render_detail(issues.detail(store, issue, at, show_pii, events), "table"))
    echo("")
    echo(t("issue.timeline", count=len(events)))
    echo(render_table(issues.timeline_rows(store, events)))
