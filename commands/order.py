"""``gridtool order``: residents' service orders (群众点单) taken by volunteers (接单), rated (评单)."""

from __future__ import annotations

from typing import Any

import click

from gridtool.i18n import t

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
)


@click.group(help=t("Service orders: a resident asks, a volunteer takes it, does it, and is rated."))
def group() -> None:
    pass


@group.command("new", help=t("Register a resident's request for a service; prints its number."))
@click.option("--household", metavar="REF", help=t("The household asking: id, or the head's unique name."))
@click.option(
    "--service", metavar="SERVICE", help=t("A service from the points rules, e.g. haircut or 理发.")
)
@click.option("--wanted-by", metavar="DATE", help=t("The day the resident needs it by."))
@click.option("--description", help=t("What the resident asked for."))
@click.option(
    "--from-issue",
    metavar="NUMBER",
    help=t("Hand a resident's issue to the volunteers: the order is linked to it."),
)
@at_option
@actor_option
@pass_env
@report_errors
def new_cmd(env: Env, at: str | None, actor: str | None, **data: Any) -> None:
    from gridtool.points import load_rules
    from gridtool.volunteers import new_order

    order = new_order(env.store(), data, at=parse_at(at), actor=actor)
    success(t("order.created", number=order["number"], service=load_rules().service_name(order["service"])))
    if order.get("issue_number"):
        echo(t("order.linked", issue=order["issue_number"]), err=True)
    echo(order["number"])


def _perform(env: Env, action: str, ref: str, at: str | None, actor: str | None, **params: Any) -> None:
    from gridtool.points import balance, entry_details
    from gridtool.volunteers import label, perform, volunteer_name

    store = env.store()
    order, entries = perform(store, action, ref, at=parse_at(at), actor=actor, **params)
    success(t("order.done", number=order["number"], status=label("order_status", order["status"])))
    for entry in entries:
        echo(
            t(
                "order.points",
                name=volunteer_name(store, entry["volunteer"]),
                points=f"{entry['points']:+d}",
                details=entry_details(entry),
                balance=balance(store, entry["volunteer"]),
            ),
            err=True,
        )


@group.command("take", help=t("A volunteer takes the order (接单)."))
@click.argument("ref", metavar="NUMBER")
@click.option("--volunteer", metavar="REF", help=t("The volunteer: id or unique name."))
@at_option
@actor_option
@pass_env
@report_errors
def take_cmd(env: Env, ref: str, at: str | None, actor: str | None, volunteer: str | None) -> None:
    _perform(env, "take", ref, at, actor, volunteer=volunteer)


@group.command("done", help=t("The service was done: record the hours; the volunteer earns points."))
@click.argument("ref", metavar="NUMBER")
@click.option("--hours", metavar="H", help=t("Hours worked, e.g. 1.5."))
@click.option("--summary", help=t("What was done."))
@at_option
@actor_option
@pass_env
@report_errors
def done_cmd(
    env: Env, ref: str, at: str | None, actor: str | None, hours: str | None, summary: str | None
) -> None:
    _perform(env, "done", ref, at, actor, hours=hours, summary=summary)


@group.command("rate", help=t("The resident's rating 1-5 (评单); 5 stars earn the bonus."))
@click.argument("ref", metavar="NUMBER")
@click.option("--rating", metavar="1-5", help=t("Satisfaction from 1 (very unhappy) to 5 (very happy)."))
@click.option("--comment", help=t("What the resident said."))
@at_option
@actor_option
@pass_env
@report_errors
def rate_cmd(
    env: Env, ref: str, at: str | None, actor: str | None, rating: str | None, comment: str | None
) -> None:
    _perform(env, "rate", ref, at, actor, rating=rating, comment=comment)


@group.command("cancel", help=t("Cancel an order not yet done, with a reason."))
@click.argument("ref", metavar="NUMBER")
@click.option("--reason", help=t("Why."))
@at_option
@actor_option
@pass_env
@report_errors
def cancel_cmd(env: Env, ref: str, at: str | None, actor: str | None, reason: str | None) -> None:
    _perform(env, "cancel", ref, at, actor, reason=reason)


@group.command("list", help=t("List orders, oldest first."))
@click.option("--open", "open_only", is_flag=True, help=t("Only orders waiting for or in service."))
@click.option("--status", metavar="STATUS", help=t("Only this status: open, taken, done, rated, cancelled."))
@click.option("--service", metavar="SERVICE", help=t("Only this service."))
@click.option("--volunteer", metavar="REF", help=t("Only this volunteer's orders."))
@click.option("--full-ids", is_flag=True, help=t("Show whole ids instead of their last 8 characters."))
@format_option()
@pass_env
@report_errors
def list_cmd(
    env: Env,
    open_only: bool,
    status: str | None,
    service: str | None,
    volunteer: str | None,
    full_ids: bool,
    fmt: str,
) -> None:
    from gridtool.formats import render_rows
    from gridtool.volunteers import ORDER_COLUMNS, list_orders, order_rows

    store = env.store()
    found = list_orders(store, open_only=open_only, service=service, volunteer=volunteer, status=status)
    if fmt == "table":
        echo(render_rows(order_rows(store, found, labels=True, full_ids=full_ids), "table", ORDER_COLUMNS))
    else:
        echo(render_rows(order_rows(store, found, labels=False, full_ids=True), fmt))


@group.command("show", help=t("Show one order in full with the points it earned."))
@click.argument("ref", metavar="NUMBER")
@format_option()
@show_pii_option
@pass_env
@report_errors
def show_cmd(env: Env, ref: str, fmt: str, show_pii: bool) -> None:
    from gridtool.formats import render_csv, render_detail, render_json, render_table
    from gridtool.points import ledger_rows
    from gridtool.volunteers import ORDER_RECORD_KEYS, order_by_ref, order_detail, order_points, order_record

    store = env.store()
    order = order_by_ref(store, ref)
    earned = order_points(store, order["id"])
    if fmt in ("json", "csv"):  # for scripts: raw values, the same keys every time
        record = order_record(store, order, show_pii)
        if fmt == "csv":
            echo(render_csv([record], ORDER_RECORD_KEYS))
            return
        # the running balance of ledger rows is a volunteer's, not this order's: left out here
        entries = [
            {k: v for k, v in row.items() if k != "balance"}
            for row in ledger_rows(store, earned, labels=False, full_ids=True)
        ]
        echo(render_json({"order": record, "points": entries}))
        return
    echo(render_detail(order_detail(store, order, show_pii), fmt))
    if earned:
        echo("")
        echo(render_table(ledger_rows(store, earned), ("at", "volunteer", "kind", "points", "details", "id")))
