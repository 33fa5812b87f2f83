"""The gridtool command line (installed as ``gridtool.commands``): thin, it parses and prints.

Subcommands are imported lazily so ``gridtool --help`` does not pay for TinyDB, tabulate or Textual.
"""

from __future__ import annotations

import click

from gridtool import __version__
from gridtool.i18n import set_language, t

from .common import Env, LazyGroup

SUBCOMMANDS = {
    "init": "gridtool.commands.store:init_cmd",
    "grid": "gridtool.commands.grid:group",
    "building": "gridtool.commands.building:group",
    "lead": "gridtool.commands.lead:group",
    "household": "gridtool.commands.household:group",
    "demo": "gridtool.commands.demo:group",
    "dashboard": "gridtool.commands.dashboard:dashboard_cmd",
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
    type=click.Choice(["zh", "en"]),
    envvar="GRIDTOOL_LANG",
    help=t("Language of messages and headers (default: GRIDTOOL_LANG, else your locale)."),
)
@click.version_option(__version__, prog_name="gridtool")
@click.pass_context
def cli(ctx: click.Context, db: str | None, lang: str | None) -> None:
    if lang:
        set_language(lang)
    ctx.obj = Env(db)


def main() -> None:
    cli(prog_name="gridtool")


__all__ = ["Env", "cli", "main"]
