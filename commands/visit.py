"""``gridtool visit``: scheduled visits (走访) to households by tag, and the visit log."""

from __future__ import annotations

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


@click.group(help=t("Scheduled visits: plans by tag (独居老人 every 7d), the visit log, what is due."))
def group() -> None:
    pass


@group.command(
    "plan",
    help=t("Visit households with a tag on a schedule, e.g. --tag 独居老人 --every 7d (or 2w, 1m)."),
)
@click.option("--tag", metavar="TAG", help=t("The household tag, e.g. 独居老人."))
@click.option("--every", metavar="7d|2w|1m", help=t("How often: days (d), weeks (w) or months (m)."))
@click.option(
    "--start", metavar="DATE", help=t("When households never visited are first due (default: today).")
)
@actor_option
@pass_env
@report_errors
def plan_cmd(env: Env, tag: str | None, every: str | None, start: str | None, actor: str | None) -> None:
    from gridtool import visits

    store = env.store()
    record, created = visits.plan(store, tag or "", every or "", start=start, actor=actor)
    counts = visits.tag_counts(store)
    count = counts.get(record["tag"], 0)
    success(
        t(
            "visit.planned" if created else "visit.replanned",
            tag=record["tag"],
            every=visits.show_every(record["n"], record["unit"]),
            count=count,
        )
    )
    if not count:  # a typo (独居老 for 独居老人) would plan visits to nobody; a new tag is allowed
        known = "、".join(counts) or "—"
        echo(t("warning.prefix") + t("visit.tag_unused", tag=record["tag"], known=known), err=True)


@group.command("unplan", help=t("Stop the scheduled visits for a tag (visits logged stay)."))
@click.option("--tag", metavar="TAG", help=t("The household tag, e.g. 独居老人."))
@actor_option
@pass_env
@report_errors
def unplan_cmd(env: Env, tag: str | None, actor: str | None) -> None:
    from gridtool import visits

    removed = visits.unplan(env.store(), tag or "", actor=actor)
    success(t("visit.unplanned", tag=removed["tag"]))


@group.command("plans", help=t("List the visit plans."))
@format_option()
@pass_env
@report_errors
def plans_cmd(env: Env, fmt: str) -> None:
    from gridtool import visits
    from gridtool.formats import render_rows

    store = env.store()
    echo(render_rows(visits.plan_rows(store, visits.plans(store)), fmt))


@group.command("log", help=t("Record a visit to a household."))
@click.argument("household", metavar="HOUSEHOLD")
@click.option("--note", help=t("What you found, e.g. 身体尚可，已提醒按时服药."))
@at_option
@actor_option
@pass_env
@report_errors
def log_cmd(env: Env, household: str, note: str | None, at: str | None, actor: str | None) -> None:
    from gridtool import visits
    from gridtool.issues import show_time
    from gridtool.register import address

    store = env.store()
    visit = visits.log(store, household, note, at=parse_at(at), actor=actor)
    home = store.records("households")[visit["household"]]
    nxt = next((s["due"] for s in visits.schedule(store) if s["household"]["id"] == home["id"]), None)
    success(t("visit.logged", head=home["head"], address=address(store, home), at=show_time(visit["at"])))
    if nxt:
        echo(t("visit.next_due", due=nxt.isoformat()), err=True)


@group.command("history", help=t("A household's visits, newest first."))
@click.argument("household", metavar="HOUSEHOLD")
@format_option()
@show_pii_option
@pass_env
@report_errors
def history_cmd(env: Env, household: str, fmt: str, show_pii: bool) -> None:
    from gridtool import visits
    from gridtool.formats import render_rows
    from gridtool.ids import short
    from gridtool.issues import show_time
    from gridtool.masking import mask_field
    from gridtool.register import household_by_ref

    store = env.store()
    home = household_by_ref(store, household)
    rows = [
        {
            "at": v["at"] if fmt != "table" else show_time(v["at"]),
            "by": v.get("by") or "",
            "note": (v.get("note") or "") if show_pii else mask_field("note", v.get("note") or ""),
            "id": v["id"] if fmt != "table" else short(v["id"]),
        }
        for v in visits.history(store, home["id"])
    ]
    echo(render_rows(rows, fmt, ("at", "by", "note", "id")))
