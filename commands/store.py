"""``gridtool init``: create a store; ``gridtool store check|repair``: verify and repair one."""

from __future__ import annotations

import sys
from typing import Any

import click

from gridtool.i18n import t, table_label

from .common import Env, echo, fail, pass_env, report_errors, shell_quoted, success


@click.command("init", help=t("Create an empty store (at --db, GRIDTOOL_DB or your user data folder)."))
@click.option("--name", help=t("A name for this laptop's copy, e.g. the grid worker's name."))
@pass_env
@report_errors
def init_cmd(env: Env, name: str | None) -> None:
    from gridtool.store import Store

    store = Store.init(env.path, name=name)
    success(t("store.created", path=str(store.path)))
    echo(t("store.next_steps", path=shell_quoted(store.path)))


@click.group("store", help=t("Verify the store's files and repair a damaged store."))
def group() -> None:
    pass


def _say(message: tuple[str, dict]) -> str:
    key, params = message
    return t(key, **params)


@group.command("check", help=t("Verify every file of the store; exit 1 if any problem is found (for cron)."))
@pass_env
@report_errors
def check_cmd(env: Env) -> None:
    from gridtool.integrity import examine

    found = examine(env.path)
    for message in found.checked:
        echo(_say(message))
    for message in found.problems:
        echo(t("check.problem", text=_say(message)))
    if found.clean:
        success(t("check.clean", path=str(env.path)))
        return
    echo(t("check.summary", count=len(found.problems), path=str(env.path)), err=True)
    sys.exit(1)


@group.command(
    "repair",
    help=t("Back up the damaged files, cut a damaged log tail and rebuild damaged checkpoints from the log."),
)
@click.option("--dry-run", is_flag=True, help=t("Say what repair would do, and change nothing."))
@pass_env
@report_errors
def repair_cmd(env: Env, dry_run: bool) -> None:
    from gridtool.integrity import examine, repair

    plan = repair(env.path, dry_run=dry_run)
    found = plan.examination
    if found.clean:
        success(t("repair.nothing", path=str(env.path)))
        return
    for message in found.problems:
        echo(t("check.problem", text=_say(message)))
    for message in plan.unrepairable:
        fail(_say(message))
    if dry_run:
        echo(t("repair.dry_run"))
        for line in _intentions(plan):
            echo("  " + line)
    else:
        for message in plan.done:
            echo(_say(message))
    for lost in found.lost:
        echo("  " + _lost(lost))
    if found.cut_short:
        echo("  " + t("repair.cut_short", count=found.cut_short))
    covered = _covered(plan)
    if found.lost and covered:
        echo(t("repair.covered", offset=covered))
    if found.lost or found.cut_short or plan.new_replica:
        echo(t("repair.office"))
    if dry_run:
        return
    after = examine(env.path)
    if after.clean:
        success(t("repair.done", path=str(env.path)))
        return
    for message in after.problems:
        echo(t("check.problem", text=_say(message)))
    fail(t("repair.incomplete", count=len(after.problems)), code=1)


def _intentions(plan: Any) -> list[str]:
    found = plan.examination
    lines = []
    if plan.cut_at is not None:
        lines.append(t("repair.would_cut", offset=plan.cut_at, count=len(found.lost)))
    if plan.rebuild_main:
        lines.append(t("repair.would_rebuild", file=found.path.name))
    lines += [t("repair.would_rebuild", file=f"{found.path.name}.{table}") for table in plan.rebuild_tables]
    lines += [t("repair.would_keep", file=f"{found.path.name}.{table}") for table in plan.rewind_tables]
    lines += [t("repair.would_catch_up", file=f"{found.path.name}.{table}") for table in plan.catch_up_tables]
    if plan.new_replica:
        lines.append(t("repair.would_new_replica"))
    lines += [t("repair.would_remove", file=temp.name) for temp in found.temp_files]
    lines += [t("repair.would_chmod", file=path.name) for path in found.loose_modes]
    return lines


def _covered(plan: Any) -> int:
    """How far into the cut part of the log the kept checkpoints reach (0: not at all)."""
    found = plan.examination
    if plan.cut_at is None:
        return 0
    reach = [found.table_files[t].offset for t in plan.rewind_tables]
    if found.main_meta is not None and not plan.rebuild_main:
        reach.append(found.main_offset)
    return max((r for r in reach if r > plan.cut_at), default=0)


def _lost(lost: Any) -> str:
    """One lost line: where it was, and what it held as far as its bytes still say."""
    by_origin: dict[str, list[int]] = {}
    for origin, seq in lost.ids:
        by_origin.setdefault(origin, []).append(seq)
    held = ", ".join(
        t("repair.seqs", origin=origin, first=min(seqs), last=max(seqs)) for origin, seqs in by_origin.items()
    )
    tables = ", ".join(f"{table_label(name)} {count}" for name, count in sorted(lost.tables.items()))
    return t(
        "repair.lost_line",
        line=lost.line,
        offset=lost.offset,
        size=lost.size,
        held=held or t("repair.unknown_author"),
        actor=lost.actor or "-",
        tables=tables or "-",
    )
