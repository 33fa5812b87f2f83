"""The root ``gridtool`` group: global options and the lazily imported subcommands."""

from __future__ import annotations

import click

from gridtool import __version__
from gridtool.i18n import detect_language, set_language, t

from .common import Env, LazyGroup

SUBCOMMANDS = {
    "init": "gridtool.commands.store:init_cmd",
    "grid": "gridtool.commands.grid:group",
    "building": "gridtool.commands.building:group",
    "lead": "gridtool.commands.lead:group",
    "household": "gridtool.commands.household:group",
    "demo": "gridtool.commands.demo:group",
    "dashboard": "gridtool.commands.dashboard:dashboard_cmd",
    "issue": "gridtool.commands.issue:group",
    "report": "gridtool.commands.report:group",
    "calendar": "gridtool.commands.calendar:group",
    "import": "gridtool.commands.io:import_group",
    "export": "gridtool.commands.io:export_group",
    "team": "gridtool.commands.team:group",
    "volunteer": "gridtool.commands.volunteer:group",
    "order": "gridtool.commands.order:group",
    "points": "gridtool.commands.points:group",
    "visit": "gridtool.commands.visit:group",
    "sync": "gridtool.commands.sync:group",
    "store": "gridtool.commands.store:group",
}


@click.group(
    cls=LazyGroup,
    lazy=SUBCOMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
    help=t("gridtool: the register and residents' issues of a community grid office."),
)
@click.option(
    "--db",
    metavar="PATH",
    envvar="GRIDTOOL_DB",
    help=t("The store file (default: GRIDTOOL_DB, else your user data folder)."),
)
@click.option(
    "--lang",
    metavar="zh|en",
    envvar="GRIDTOOL_LANG",
    help=t("Language of messages and headers (default: GRIDTOOL_LANG, else your locale)."),
)
@click.version_option(__version__, prog_name="gridtool")
@click.pass_context
def cli(ctx: click.Context, db: str | None, lang: str | None) -> None:
    if lang:
        set_language(detect_language({"GRIDTOOL_LANG": lang}))  # zh_CN.UTF-8 and the like too
    ctx.obj = Env(db)
