"""``gridtool init``: create a store."""

from __future__ import annotations

import click

from gridtool.i18n import t

from .common import Env, echo, pass_env, report_errors, shell_quoted, success


@click.command("init", help=t("Create an empty store (at --db, GRIDTOOL_DB or your user data folder)."))
@click.option("--name", help=t("A name for this laptop's copy, e.g. the grid worker's name."))
@pass_env
@report_errors
def init_cmd(env: Env, name: str | None) -> None:
    from gridtool.store import Store

    store = Store.init(env.path, name=name)
    success(t("store.created", path=str(store.path)))
    echo(t("store.next_steps", path=shell_quoted(store.path)))
