"""``gridtool sync``: swap bundle files between offline laptops (the work is in gridtool.sync)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from gridtool.i18n import t, tn

if TYPE_CHECKING:
    from gridtool.sync import ImportResult

from .common import Env, actor_option, echo, format_option, pass_env, report_errors, show_pii_option, success

PASSPHRASE_ENV = "GRIDTOOL_SYNC_PASSPHRASE"


@click.group(help=t("Sync by file exchange: export a bundle, carry it over, import it elsewhere."))
def group() -> None:
    pass


def _local_minute(ms: int) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(ms / 1000).isoformat(timespec="minutes")


def _interactive() -> bool:
    """Whether a person can type the passphrase (a terminal on stdin)."""
    import sys

    return sys.stdin is not None and sys.stdin.isatty()


def _passphrase(confirm: bool) -> str:
    """The community passphrase: from the environment (scripts) or typed, never stored."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not _interactive():  # a script or a pipe: one clear line, not click's "Aborted!"
        from gridtool.sync import SyncError

        raise SyncError("sync.needs_passphrase")
    return click.prompt(t("sync.passphrase_prompt"), hide_input=True, confirmation_prompt=confirm, err=True)


@group.command("whoami", help=t("This laptop's replica id, name, public key and clock."))
@format_option("table", "json")
@pass_env
@report_errors
def whoami_cmd(env: Env, fmt: str) -> None:
    from gridtool import sync
    from gridtool.formats import render_json

    me = sync.whoami(env.store())
    _warn_ahead(me["ahead_ms"], me["hlc"][0])
    if fmt == "json":
        echo(render_json(me))
        return
    echo(t("sync.whoami", **me))


def _warn_ahead(ahead_ms: int, stamp_ms: int) -> None:
    """On the laptop whose stamps run ahead: peers hold its changes back until told otherwise."""
    from gridtool.sync import FUTURE_MS

    if ahead_ms > FUTURE_MS:
        days = ahead_ms // 86_400_000
        echo(tn("sync.clock_ahead", days, when=_local_minute(stamp_ms)), err=True)


@group.command("export", help=t("Write a signed bundle of changes for another laptop or the office."))
@click.option("--to", "dest", required=True, metavar="FILE", help=t("The bundle file to write (mode 0600)."))
@click.option(
    "--for", "peer", metavar="PEER", help=t("Only what this peer (roster name or replica id) lacks.")
)
@click.option("--full", is_flag=True, help=t("Everything this store holds, whatever the peer has."))
@click.option(
    "--encrypt",
    is_flag=True,
    help=t("Encrypt with the community passphrase (asked for, or GRIDTOOL_SYNC_PASSPHRASE)."),
)
@pass_env
@report_errors
def export_cmd(env: Env, dest: str, peer: str | None, full: bool, encrypt: bool) -> None:
    from gridtool import sync

    passphrase = _passphrase(confirm=True) if encrypt else None
    result = sync.export_bundle(env.store(), dest, peer=peer, full=full, passphrase=passphrase)
    key = "sync.exported_full" if result.full else "sync.exported_delta"
    success(tn(key, result.ops, ops=result.ops, path=str(result.path), size=result.size))
    _warn_ahead(result.ahead_ms, env.store().meta["hlc"][0])
    if result.encrypted:
        echo(t("sync.exported_encrypted"))


def _say_applied(result: ImportResult, head: str) -> None:
    """What an import (or accepting held changes) did: counts, new conflicts, what stays held."""
    success(
        tn(
            head,
            result.applied,
            signer=result.signer,
            ops=result.applied,
            added=result.added,
            updated=result.updated,
            deleted=result.deleted,
        )
    )
    for conflict in result.new_conflicts:
        echo("  " + _conflict_line(conflict, show_pii=False))
    if result.new_conflicts:
        echo(tn("sync.conflicts_hint", len(result.new_conflicts)))
    for held in result.held:
        echo(_held_line(held), err=True)
    for name, count in sorted(result.refused.items()):
        echo(tn("sync.refused_revoked", count, name=name), err=True)


def _applying() -> Any:
    """The sync package, for a command that applies peers' changes: with the issues layer loaded,
    which registers how an import reworks an issue's cached fields (an import refuses without it)."""
    from gridtool import issues, sync

    del issues  # loaded for what it registers
    return sync


@group.command("import", help=t("Check a bundle and apply what it adds; says what changes."))
@click.argument("file", metavar="FILE")
@click.option("--dry-run", is_flag=True, help=t("Say what the bundle would change, and change nothing."))
@actor_option
@pass_env
@report_errors
def import_cmd(env: Env, file: str, dry_run: bool, actor: str | None) -> None:
    sync = _applying()

    passphrase = _passphrase(confirm=False) if sync.is_encrypted(file) else None
    result = sync.import_bundle(env.store(), file, dry_run=dry_run, passphrase=passphrase, actor=actor)
    if result.already:
        success(t("sync.already_imported", signer=result.signer))
        return
    _say_applied(result, "sync.would_import" if dry_run else "sync.imported")


@group.command("status", help=t("Known peers, what each has acknowledged, held operations, conflicts."))
@format_option("table", "json")
@pass_env
@report_errors
def status_cmd(env: Env, fmt: str) -> None:
    from gridtool import sync
    from gridtool.formats import render_json, render_table

    info = sync.status(env.store())
    _warn_ahead(info["ahead_ms"], env.store().meta["hlc"][0])
    if fmt == "json":
        echo(render_json(info))
        return
    echo(
        t(
            "sync.status_head",
            name=info["name"] or "-",
            replica=info["replica"],
            ops=sum(info["vector"].values()),
        )
    )
    rows = [
        {
            "peer": p["name"],
            "replica": p["replica"][-6:],
            "lacks": p["lacks"],
            "last_import": p["last_import"],
        }
        for p in info["peers"]
    ]
    echo(render_table(rows) if rows else t("sync.no_peers"))
    for held in info["held"]:
        echo(_held_line(sync.Held(**held)))
    echo(t("sync.status_conflicts", human=info["conflicts"]["human"], auto=info["conflicts"]["auto"]))


# -- held back ------------------------------------------------------------------------------


def _held_line(held: Any) -> str:
    if held.reason in ("unknown_key", "unsigned"):
        return tn(f"sync.held_{held.reason}", held.count, name=held.name)
    if held.reason == "future":
        return tn("sync.held_future", held.count, name=held.name, when=_local_minute(held.latest_ms))
    return tn("sync.held_gap", held.count, name=held.name, seq=held.first_missing)


@group.group(
    "held",
    invoke_without_command=True,
    help=t("Changes held back: past a gap, or stamped ahead of this laptop's clock."),
)
@click.pass_context
def held_group(ctx: click.Context) -> None:
    if ctx.invoked_subcommand is None:
        ctx.invoke(held_list_cmd)


@held_group.command("list", help=t("What is held back, from whom, and why."))
@format_option("table", "json")
@pass_env
@report_errors
def held_list_cmd(env: Env, fmt: str = "table") -> None:
    from gridtool import sync
    from gridtool.formats import render_json

    found = sync.held(env.store())
    if fmt == "json":
        echo(render_json([h.__dict__ for h in found]))
        return
    echo("\n".join(_held_line(h) for h in found) if found else t("sync.nothing_held_at_all"))


@held_group.command(
    "accept",
    help=t("Apply a peer's changes held back for its clock, once you checked it (see README)."),
)
@click.argument("peer", metavar="NAME")
@actor_option
@pass_env
@report_errors
def held_accept_cmd(env: Env, peer: str, actor: str | None) -> None:
    sync = _applying()

    result = sync.accept_clock(env.store(), peer, actor=actor)
    _say_applied(result, "sync.imported")
    _warn_ahead(sync.clock_ahead_ms(env.store()), env.store().meta["hlc"][0])


# -- conflicts ------------------------------------------------------------------------------


def _conflict_line(conflict: Any, show_pii: bool, store: Any = None) -> str:
    from gridtool.sync import conflict_title, shown_value

    values = " | ".join(shown_value(conflict, o, show_pii, store) for o in conflict.options)
    return f"{conflict.id}  {conflict_title(conflict)}: {values}"


@group.group(
    "conflicts",
    invoke_without_command=True,
    help=t("Values two laptops changed at once: list them, show one, settle it."),
)
@format_option("table", "json")
@show_pii_option
@click.pass_context
def conflicts_group(ctx: click.Context, fmt: str, show_pii: bool) -> None:
    if ctx.invoked_subcommand is None:  # bare `sync conflicts` lists, with list's options
        ctx.invoke(list_cmd, fmt=fmt, show_pii=show_pii)


@conflicts_group.command(
    "list", help=t("Every unsettled conflict (needs a person, or settled by the clock).")
)
@format_option("table", "json")
@show_pii_option
@pass_env
@report_errors
def list_cmd(env: Env, fmt: str = "table", show_pii: bool = False) -> None:
    from gridtool import sync
    from gridtool.formats import render_json

    found = sync.conflicts(env.store())
    if fmt == "json":
        echo(render_json([c.as_dict(show_pii) for c in found]))
        return
    if not found:
        echo(t("sync.no_conflicts"))
        return
    for conflict in found:
        echo(_conflict_line(conflict, show_pii, env.store()))


@conflicts_group.command("show", help=t("One conflict: each value, who wrote it and when."))
@click.argument("ref", metavar="ID")
@show_pii_option
@pass_env
@report_errors
def show_cmd(env: Env, ref: str, show_pii: bool) -> None:
    from gridtool import sync

    store = env.store()
    every = sync.history(store)
    conflict = sync.find_conflict(store, ref, every)
    state = sync.load_state(store)
    echo(_conflict_line(conflict, show_pii, store))
    echo(t("sync.conflict_record", record=conflict.record))
    for n, option in enumerate(conflict.options):
        mark = "→" if n == conflict.winner else " "
        who = sync.peer_name(store, state, option["origin"])
        shown = sync.shown_value(conflict, option, show_pii, store)
        echo(f" {mark} {shown}  ({who}, {_local_minute(option['hlc'][0])})")
    restores = sync.cascade(store, conflict, every)
    if restores:
        echo(tn("sync.cascade_hint", len(restores), what=_what(restores)))
    echo(t("sync.resolve_hint", id=conflict.id))


@conflicts_group.command("resolve", help=t("Settle a conflict; the decision syncs like any edit."))
@click.argument("ref", metavar="ID")
@click.option("--take", metavar="VALUE", help=t("Keep this value (one of those shown, or a new one)."))
@click.option("--keep-mine", is_flag=True, help=t("Keep this laptop's value."))
@click.option("--keep-theirs", is_flag=True, help=t("Keep the other laptop's value."))
@actor_option
@pass_env
@report_errors
def resolve_cmd(
    env: Env, ref: str, take: str | None, keep_mine: bool, keep_theirs: bool, actor: str | None
) -> None:
    from gridtool import sync

    if keep_mine and keep_theirs:
        raise sync.SyncError("sync.resolve_how")
    keep = "mine" if keep_mine else "theirs" if keep_theirs else None
    conflict, _ = sync.resolve(env.store(), ref, take=take, keep=keep, actor=actor)
    success(t("sync.resolved", id=conflict.id))
    if conflict.restored:
        echo(tn("sync.restored", len(conflict.restored), what=_what(conflict.restored)))


def _what(items: list[dict[str, Any]]) -> str:
    """Restored records by table, as a person reads them: "members ×2"."""
    from collections import Counter

    counts = Counter(item["table"] for item in items)
    from gridtool.i18n import table_label

    return ", ".join(f"{table_label(n)} ×{c}" for n, c in sorted(counts.items()))


# -- trust ----------------------------------------------------------------------------------


@group.group("trust", help=t("The roster of keys whose bundles this laptop accepts."))
def trust_group() -> None:
    pass


@trust_group.command("add", help=t("Trust a key (as `sync whoami` prints it) under a name."))
@click.argument("name")
@click.argument("public_key", metavar="PUBLIC_KEY")
@pass_env
@report_errors
def trust_add_cmd(env: Env, name: str, public_key: str) -> None:
    sync = _applying()

    entry = sync.trust_add(env.store(), name, public_key)
    success(t("sync.trusted", name=entry["name"], key_id=entry["key_id"]))


@trust_group.command("list", help=t("Trusted and revoked keys."))
@format_option("table", "json")
@pass_env
@report_errors
def trust_list_cmd(env: Env, fmt: str) -> None:
    from gridtool import sync
    from gridtool.formats import render_rows

    rows = sync.trust_list(env.store())
    echo(render_rows(rows, fmt) if rows or fmt == "json" else t("sync.no_trust"))


@trust_group.command("revoke", help=t("Stop accepting a key's bundles (a lost laptop)."))
@click.argument("name")
@pass_env
@report_errors
def trust_revoke_cmd(env: Env, name: str) -> None:
    from gridtool import sync

    entry = sync.trust_revoke(env.store(), name)
    success(t("sync.revoked_done", name=entry["name"], key_id=entry["key_id"]))
