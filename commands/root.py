"""The root ``gridtool`` group: global options and the lazily imported subcommands."""

from __future__ import annotations

import click

from gridtool import __version__
from gridtool.i18n import LANGUAGES, set_language, t

from .clicktext import TranslatedGroup, click_text
from .common import Env, fail

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


def undecodable_argument(args: list[str]) -> str | None:
    """The option (or argument) whose value held bytes that are not UTF-8, if any.

    Python hands such bytes over as lone surrogates; stored, they would break every later write,
    so they are refused here, for every command at once, before anything is read or written.
    """
    for n, arg in enumerate(args):
        if not any("\ud800" <= c <= "\udfff" for c in arg):
            continue
        if arg.startswith("--") and "=" in arg:
            return _printable(arg.partition("=")[0])
        previous = args[n - 1] if n else ""
        if previous.startswith("-") and previous != "--":
            return _printable(previous)
        return t("input.argument", n=n + 1)
    return None


def _printable(option: str) -> str:
    return option.encode("utf-8", "replace").decode("utf-8")


class RootGroup(TranslatedGroup):
    """The root group: refuses arguments that are not text before any command sees them."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        bad = undecodable_argument(args)
        if bad is not None:
            fail(t("input.not_utf8_option", option=bad))
        return super().parse_args(ctx, args)


@click.group(
    cls=RootGroup,
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
