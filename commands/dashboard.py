"""``gridtool dashboard``: open the Textual dashboard (imported only here, so other commands stay fast)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from gridtool.i18n import t

from .common import Env, pass_env, report_errors


@click.command("dashboard", help=t("Open the dashboard: triage, dispatch and follow up with the keyboard."))
@click.option(
    "--demo",
    is_flag=True,
    help=t("Open a fresh copy of the demo community (the shipped data never changes)."),
)
@pass_env
@report_errors
def dashboard_cmd(env: Env, demo: bool) -> None:
    if demo:  # a throwaway copy, removed when the dashboard closes: runs leave nothing behind
        from gridtool.demo import create_store, shipped
        from gridtool.tui.app import run

        with tempfile.TemporaryDirectory(prefix="gridtool-demo-") as folder:
            path = Path(folder) / "gridtool.json"
            create_store(path, shipped(), volunteers=True)
            run(path)
        return
    env.store()  # a missing or damaged store is reported here, before the screen is taken over
    from gridtool.tui.app import run

    run(env.path)
