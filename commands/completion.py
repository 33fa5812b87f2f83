"""Shell completion: ``gridtool completion bash|zsh|fish`` prints Click's own script, and record
references (grid codes, issue and order numbers, buildings, leads, households) complete from the store.

Click completes through the ``_GRIDTOOL_COMPLETE`` variable; the script this command prints sets
it. Record references are attached only while completing (see :func:`attach`), so an ordinary run
pays nothing for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click
from click.shell_completion import CompletionItem

from gridtool.i18n import t

from .common import fail

COMPLETE_VAR = "_GRIDTOOL_COMPLETE"
SHELLS = ("bash", "zsh", "fish")
LIMIT = 200  # a shell shows no more than a screenful anyway


@click.command(
    "completion",
    short_help=t("Print the shell completion script (bash, zsh, fish)."),
    help=t(
        "Print the shell completion script. Install it with "
        '`eval "$(gridtool completion bash)"` in ~/.bashrc (zsh: the same in ~/.zshrc; '
        "fish: `gridtool completion fish > ~/.config/fish/completions/gridtool.fish`)."
    ),
)
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion_cmd(ctx: click.Context, shell: str) -> None:
    from click.shell_completion import get_completion_class

    complete = get_completion_class(shell)
    if complete is None:  # Click dropped the shell: say so rather than print nothing
        fail(t("completion.unsupported", shell=shell))
        return
    try:
        script = complete(ctx.find_root().command, {}, "gridtool", COMPLETE_VAR).source()
    except RuntimeError as refused:  # bash too old, or no bash to ask its version
        fail(t("completion.unsupported", shell=f"{shell} ({refused})"))
        return
    click.echo(script)


def completing() -> bool:
    return COMPLETE_VAR in os.environ


# -- record references ------------------------------------------------------------------------------


def _values(table: str, shown: Callable[[dict[str, Any]], str]) -> Callable[[click.Context], list[str]]:
    def read(ctx: click.Context) -> list[str]:
        from gridtool.paths import default_store_path
        from gridtool.store import Store

        db = ctx.find_root().params.get("db")
        store = Store(db or default_store_path())
        return [value for record in store.records(table).values() if (value := shown(record))]

    return read


GRID_CODES = _values("grid_cells", lambda r: str(r.get("code") or ""))
ISSUE_NUMBERS = _values("issues", lambda r: str(r.get("number") or ""))
ORDER_NUMBERS = _values("orders", lambda r: str(r.get("number") or ""))
HOUSEHOLD_HEADS = _values("households", lambda r: str(r.get("head") or ""))
LEAD_NAMES = _values("leads", lambda r: str(r.get("name") or ""))
TEAM_NAMES = _values("teams", lambda r: str(r.get("name") or ""))
VOLUNTEER_NAMES = _values("volunteers", lambda r: str(r.get("name") or ""))
BUILDINGS = _values("buildings", lambda r: f"{r.get('compound') or ''}/{r.get('number') or ''}".strip("/"))

# What a command's argument REF names, by the top-level command it sits under.
REFS_BY_GROUP = {
    "grid": GRID_CODES,
    "building": BUILDINGS,
    "lead": LEAD_NAMES,
    "household": HOUSEHOLD_HEADS,
    "issue": ISSUE_NUMBERS,
    "order": ORDER_NUMBERS,
    "team": TEAM_NAMES,
    "volunteer": VOLUNTEER_NAMES,
}
# What an option names, whatever command it is on.
REFS_BY_OPTION = {
    "grid": GRID_CODES,
    "grid_cell": GRID_CODES,
    "household": HOUSEHOLD_HEADS,
    "building": BUILDINGS,
    "team": TEAM_NAMES,
}


class RecordRef(click.ParamType):
    """Text, as before, that completes from the records of the store (a reference is still
    checked when the command runs, not here)."""

    name = "text"

    def __init__(self, candidates: Callable[[click.Context], list[str]]) -> None:
        self.candidates = candidates

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return click.STRING.convert(value, param, ctx)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        try:
            values = self.candidates(ctx)
        except Exception:  # no store yet, a damaged one, a lock: completion offers nothing, says nothing
            return []
        found = sorted({v for v in values if v.startswith(incomplete)})
        return [CompletionItem(v) for v in found[:LIMIT]]


def attach(command: click.Command, group: str) -> None:
    """Give the text parameters that name records (``--grid``, ``REF`` under ``issue``…) a type
    that completes them; only while the shell asks (:func:`completing`)."""
    for param in command.params:
        if not isinstance(param.type, click.types.StringParamType):
            continue
        if isinstance(param, click.Argument) and param.name == "ref":
            candidates = REFS_BY_GROUP.get(group)
        elif isinstance(param, click.Option):
            candidates = REFS_BY_OPTION.get(param.name or "")
        else:
            candidates = None
        if candidates is not None:
            param.type = RecordRef(candidates)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            attach(sub, group)
