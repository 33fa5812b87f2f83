"""``gridtool household``: the household register (住户台账)."""

from __future__ import annotations

import click

from gridtool.i18n import t

from .common import Env, actor_option, format_option, pass_env, report_errors, show_pii_option
from .records import print_records, quiet_option, register_commands, report_written

MEMBER_HELP = "NAME,ID_NUMBER,RELATION"


@click.group(help=t("Households (住户): address, head, members, tags such as 独居老人."))
def group() -> None:
    pass


def _address_options(func):  # type: ignore[no-untyped-def]
    for decorator in reversed(
        [
            click.option(
                "--grid",
                "grid_cell",
                metavar="CODE",
                help=t("The grid cell (taken from the building if omitted)."),
            ),
            click.option(
                "--building",
                metavar="REF",
                help=t("The building: its id, or compound/number such as 湘离小区/5."),
            ),
            click.option("--unit", type=int, help=t("Unit (单元) number.")),
            click.option("--room", help=t("Room number as written on the door, e.g. 0502.")),
            click.option("--head", help=t("Head of household (户主).")),
            click.option("--phone", help=t("The household's mobile number.")),
            click.option("--notes", help=t("Free notes.")),
            actor_option,
        ]
    ):
        func = decorator(func)
    return func


@group.command("add", help=t("Add a household at an address."))
@_address_options
@click.option(
    "--member",
    "members",
    multiple=True,
    metavar=MEMBER_HELP,
    help=t("A member as name,ID number,relation; repeat for each member."),
)
@click.option("--tag", "tags", multiple=True, help=t("A tag such as 独居老人; repeat for several."))
@quiet_option
@pass_env
@report_errors
def add_cmd(env: Env, actor: str | None, quiet: bool, **fields: object) -> None:
    from gridtool.register import add

    record = add(env.store(), "household", fields, actor=actor)
    report_written(env, "household", record, "added", quiet)


@group.command("edit", help=t("Change a household: fields, members and tags."))
@click.argument("ref")
@_address_options
@click.option("--add-member", multiple=True, metavar=MEMBER_HELP, help=t("Add a member."))
@click.option(
    "--remove-member", multiple=True, metavar="NAME|ID", help=t("Remove a member by name or ID number.")
)
@click.option("--add-tag", multiple=True, metavar="TAG", help=t("Add a tag."))
@click.option("--remove-tag", multiple=True, metavar="TAG", help=t("Remove a tag."))
@pass_env
@report_errors
def edit_cmd(
    env: Env,
    ref: str,
    add_member: tuple[str, ...],
    remove_member: tuple[str, ...],
    add_tag: tuple[str, ...],
    remove_tag: tuple[str, ...],
    actor: str | None,
    **fields: object,
) -> None:
    from gridtool.register import edit, parse_member

    record = edit(
        env.store(),
        "household",
        ref,
        fields,
        add_items={"members": [parse_member(m) for m in add_member], "tags": add_tag},
        remove_items={"members": remove_member, "tags": remove_tag},
        actor=actor,
    )
    report_written(env, "household", record, "edited", False)


@group.command(
    "find", help=t("Find households by name, address, phone tail or pinyin initials (cjj finds 程金娇).")
)
@click.argument("query")
@click.option("--limit", type=int, default=50, show_default=True, help=t("Show at most this many."))
@format_option()
@show_pii_option
@pass_env
@report_errors
def find_cmd(env: Env, query: str, limit: int, fmt: str, show_pii: bool) -> None:
    from gridtool.register import find_households

    store = env.store()
    found = find_households(store, query)
    shown = found[:limit] if limit else found
    print_records(store, "household", shown, fmt, show_pii)
    if len(shown) < len(found):
        from .common import echo

        echo(t("find.more", shown=len(shown), total=len(found)), err=True)


register_commands(group, "household")
