"""``gridtool dashboard``: open the Textual dashboard (imported only here, so other commands stay fast)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
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
    if not demo:
        env.store()  # a missing or damaged store is reported here, before the screen is taken over
    with _demo_copy() if demo else contextlib.nullcontext(env.path) as path:
        from gridtool.tui.app import run

        run(path)


@contextlib.contextmanager
def _demo_copy() -> Iterator[Path]:
    """A throwaway copy of the demo, removed when the dashboard closes: runs leave nothing behind."""
    from gridtool.demo import create_store, shipped

    with tempfile.TemporaryDirectory(prefix="gridtool-demo-") as folder:
        path = Path(folder) / "gridtool.json"
        create_store(path, shipped(), volunteers=True)
        yield path
