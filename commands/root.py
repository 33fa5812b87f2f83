"""The root ``gridtool`` group: global options and the lazily imported subcommands."""

from __future__ import annotations

import click

from gridtool import __version__
from gridtool.i18n import LANGUAGES, set_language, t

from .clicktext import TranslatedGroup, click_text
from .common import Env

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
    "completion": "gridtool.commands.completion:completion_cmd",
}


@click.group(
    cls=TranslatedGroup,
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
    type=click.Choice(LANGUAGES, case_sensitive=False),
    metavar="zh|en",
    help=t("Language of messages and headers (default: GRIDTOOL_LANG, else your locale)."),
)
@click.version_option(__version__, prog_name="gridtool", message=click_text("%(prog)s, version %(version)s"))
@click.pass_context
def cli(ctx: click.Context, db: str | None, lang: str | None) -> None:
    if lang:
        set_language(lang.lower())
    ctx.obj = Env(db)
