"""``gridtool points``: the love bank's ledger (爱心银行积分): balances, redemptions, corrections, rank.

``--format markdown`` of ``rank`` is an honour roll (光荣榜) in Chinese unless a language was chosen
explicitly, like the reports.
"""

from __future__ import annotations

import click

from gridtool.i18n import t

from .common import (
    Env,
    actor_option,
    at_option,
    echo,
    format_option,
    markdown_language,
    parse_at,
    pass_env,
    report_errors,
    success,
)


@click.group(help=t("Volunteers' points: balances, the ledger, redemptions, corrections, the rank."))
def group() -> None:
    pass


@group.command("show", help=t("A volunteer's balance and ledger, computed from the ledger."))
@click.argument("volunteer", metavar="REF")
@format_option()
@pass_env
@report_errors
def show_cmd(env: Env, volunteer: str, fmt: str) -> None:
    from gridtool.formats import render_detail, render_json, render_rows, render_table
    from gridtool.points import entries, ledger_rows, summary
    from gridtool.volunteers import volunteer_by_ref

    store = env.store()
    person = volunteer_by_ref(store, volunteer)
    found = entries(store, person["id"])
    totals = {"name": person["name"], **summary(store, person["id"])}
    if fmt == "json":
        echo(render_json({**totals, "ledger": ledger_rows(store, found, labels=False, full_ids=True)}))
        return
    if fmt == "csv":
        echo(render_rows([totals], "csv"))
        return
    echo(render_detail(totals, "table"))
    if found:
        echo("")
        echo(render_table(ledger_rows(store, found)))


@group.command("ledger", help=t("The points ledger in order, with each volunteer's running balance."))
@click.option("--volunteer", metavar="REF", help=t("Only this volunteer's entries."))
@click.option("--full-ids", is_flag=True, help=t("Show whole ids instead of their last 8 characters."))
@format_option()
@pass_env
@report_errors
def ledger_cmd(env: Env, volunteer: str | None, full_ids: bool, fmt: str) -> None:
    from gridtool.formats import render_rows
    from gridtool.points import LEDGER_COLUMNS, entries, ledger_rows
    from gridtool.volunteers import volunteer_by_ref

    store = env.store()
    vid = volunteer_by_ref(store, volunteer)["id"] if volunteer else None
    found = entries(store, vid)
    if fmt == "table":
        echo(render_rows(ledger_rows(store, found, full_ids=full_ids), "table", LEDGER_COLUMNS))
    else:
        echo(render_rows(ledger_rows(store, found, labels=False, full_ids=True), fmt))


@group.command(
    "redeem", help=t("Exchange points for an item (大米5kg ...); refused if the balance is short.")
)
@click.argument("volunteer", metavar="REF")
@click.option("--points", metavar="N", help=t("How many points."))
@click.option("--item", help=t("What the volunteer receives, e.g. 大米5kg."))
@at_option
@actor_option
@pass_env
@report_errors
def redeem_cmd(
    env: Env, volunteer: str, points: str | None, item: str | None, at: str | None, actor: str | None
) -> None:
    from gridtool.points import redeem
    from gridtool.volunteers import volunteer_name

    store = env.store()
    entry, left = redeem(store, volunteer, points, item or "", at=parse_at(at), actor=actor)
    success(
        t(
            "points.redeemed",
            name=volunteer_name(store, entry["volunteer"]),
            points=-entry["points"],
            item=entry["item"],
            balance=left,
        )
    )


@group.command(
    "correct",
    help=t("Correct a ledger entry with a new entry of +/- points and a reason (entries are never edited)."),
)
@click.argument("entry", metavar="ENTRY")
@click.option("--points", metavar="+N|-N", help=t("Points to add (positive) or take back (negative)."))
@click.option("--reason", help=t("Why."))
@at_option
@actor_option
@pass_env
@report_errors
def correct_cmd(
    env: Env, entry: str, points: str | None, reason: str | None, at: str | None, actor: str | None
) -> None:
    from gridtool.points import correct
    from gridtool.volunteers import volunteer_name

    store = env.store()
    written, left = correct(store, entry, points, reason or "", at=parse_at(at), actor=actor)
    success(
        t(
            "points.corrected",
            name=volunteer_name(store, written["volunteer"]),
            points=f"{written['points']:+d}",
            balance=left,
        )
    )


@group.command("rank", help=t("Volunteers by points earned in a year; --format markdown for an honour roll."))
@click.option("--year", type=int, help=t("The year (default: this year)."))
@click.option("--team", metavar="TEAM", help=t("Only this team's members."))
@click.option("--top", type=int, help=t("Only the first N."))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "markdown"]),
    default="table",
    show_default=True,
    help=t("table for people, csv or json for scripts, markdown for an honour roll to post."),
)
@pass_env
@report_errors
def rank_cmd(env: Env, year: int | None, team: str | None, top: int | None, fmt: str) -> None:
    from gridtool.formats import render_json, render_rows
    from gridtool.issues import now, show_time
    from gridtool.points import RANK_COLUMNS, rank, rank_markdown

    store = env.store()
    year = year or now().year
    rows = rank(store, year=year, team=team, top=top)
    if fmt == "json":
        echo(render_json({"year": year, "team": team, "tie_rule": t("points.md.rule"), "rank": rows}))
    elif fmt == "csv":
        echo(
            render_rows(
                rows,
                "csv",
                ("rank", "volunteer", "teams", "points", "services", "reached_at", "volunteer_id"),
            )
        )
    elif fmt == "markdown":
        with markdown_language(fmt):
            echo(rank_markdown(rows, year, team).rstrip("\n"))
    else:
        shown = [{**r, "reached_at": show_time(r["reached_at"])} for r in rows]
        echo(render_rows(shown, "table", RANK_COLUMNS) if rows else t("points.md.none", year=year))
        if rows:
            echo(t("points.md.rule"), err=True)
