"""``gridtool demo``: a fictional community to explore, and large generated stores."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from gridtool.i18n import t

from .common import echo, report_errors, shell_quoted, success

DEFAULT_DIR = "gridtool-demo"


@click.group(
    invoke_without_command=True, help=t("Load the shipped fictional community into a fresh store at --path.")
)
@click.option(
    "--path",
    "directory",
    type=click.Path(file_okay=False),
    default=DEFAULT_DIR,
    show_default=True,
    help=t(
        "Folder for the demo store (created; must not hold a store already). "
        "The global --db names the store file instead."
    ),
)
@click.option(
    "--fresh", is_flag=True, help=t("Replace an earlier demo store at --path (never any other store).")
)
@click.pass_context
@report_errors
def group(ctx: click.Context, directory: str, fresh: bool) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from gridtool.demo import shipped

    _create(_store_path(ctx, directory), shipped(), fresh, volunteers=True)


@group.command("generate", help=t("Generate a large realistic store for benchmarks (all names invented)."))
@click.option("--households", type=click.IntRange(1), default=30000, show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True)
@click.option(
    "--issues",
    type=click.IntRange(0),
    help=t("How many issues to generate (default: one for every two households)."),
)
@click.option(
    "--path",
    "directory",
    type=click.Path(file_okay=False),
    default="gridtool-generated",
    show_default=True,
    help=t("Folder for the generated store."),
)
@click.option(
    "--fresh", is_flag=True, help=t("Replace an earlier demo store at --path (never any other store).")
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    help=t("Write the dataset as JSON to this file instead of creating a store."),
)
@click.pass_context
@report_errors
def generate_cmd(
    ctx: click.Context,
    households: int,
    seed: int,
    issues: int | None,
    directory: str,
    output: str | None,
    fresh: bool,
) -> None:
    from gridtool.demo import generate

    dataset = generate(households=households, seed=seed, issues=issues)
    if output:
        import orjson

        Path(output).write_bytes(orjson.dumps(dataset, option=orjson.OPT_INDENT_2) + b"\n")
        success(t("demo.written", path=output, households=len(dataset["households"])))
        return
    _create(_store_path(ctx, directory), dataset, fresh)


def _store_path(ctx: click.Context, directory: str) -> Path:
    """The demo store: in the folder --path names, unless --db was given and --path was not, as in
    ``gridtool --db ~/练习/gridtool.json demo`` (not GRIDTOOL_DB, which names the real store)."""
    root = ctx.find_root()
    if (
        ctx.get_parameter_source("directory") is ParameterSource.DEFAULT
        and root.params.get("db")
        and root.get_parameter_source("db") is ParameterSource.COMMANDLINE
    ):
        return Path(root.params["db"])
    return Path(directory) / "gridtool.json"


def _create(path: Path, dataset: dict, fresh: bool, volunteers: bool = False) -> None:  # type: ignore[type-arg]
    from gridtool.demo import create_store

    store, counts = create_store(path, dataset, fresh=fresh, volunteers=volunteers)
    success(t("demo.created", path=str(store.path), **counts))
    echo(t("demo.try", path=shell_quoted(store.path)))
