"""What every command shares: the store option, output formats, errors, the lazy command group.

Kept light on purpose: nothing heavy is imported until a command actually runs, so
``gridtool --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from gridtool.i18n import t

if TYPE_CHECKING:
    from gridtool.store import Store

F = TypeVar("F", bound=Callable[..., Any])


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used (``name -> "module:attr"``)."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, _, attr = self.lazy[cmd_name].partition(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, cmd_name)


class Env:
    """Per-invocation state: which store, opened at most once."""

    def __init__(self, db: str | None) -> None:
        self.db = db
        self._store: Store | None = None

    @property
    def path(self) -> Path:
        from gridtool.paths import default_store_path

        return Path(self.db) if self.db else default_store_path()

    def store(self) -> Store:
        if self._store is None:
            from gridtool.store import Store
            from gridtool.sync import signing  # noqa: F401 - every change made here is signed

            self._store = Store(self.path)
        return self._store


pass_env = click.make_pass_decorator(Env, ensure=True)


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices or ("table", "json", "csv")),
        default=default,
        show_default=True,
        help=t("Output: an aligned table for people, json or csv for scripts."),
    )


show_pii_option = click.option(
    "--show-pii", is_flag=True, help=t("Show ID numbers and phone numbers in full (masked by default).")
)
actor_option = click.option(
    "--actor", metavar="NAME", help=t("Who is making this change (recorded in the store's history).")
)


def _color() -> bool | None:
    """Colour only on a terminal (click decides), and never when NO_COLOR is set (no-color.org)."""
    return False if os.environ.get("NO_COLOR") else None


def echo(text: str, err: bool = False) -> None:
    """Print ``text``; a control sequence from the data is shown escaped, never acted on."""
    from gridtool.validate import visible

    click.echo(visible(text, keep_colour=True), err=err, color=_color())


def success(message: str) -> None:
    from gridtool.validate import visible

    click.echo(click.style("✓ ", fg="green") + visible(message), err=True, color=_color())


def fail(message: str, code: int = 2) -> None:
    from gridtool.validate import visible

    click.echo(
        click.style(t("error.prefix"), fg="red", bold=True) + visible(message), err=True, color=_color()
    )
    sys.exit(code)


def confirm(question: str, instead: str = "--yes") -> bool:
    """Ask a person; without a terminal to answer on (cron, a pipe that ran dry), exit 2 saying
    which option to pass instead, never click's bare "Aborted!" and exit 1."""
    from .clicktext import confirm as ask  # 是/否 taken, complaints translated

    try:
        return ask(question, default=False)
    except click.Abort:
        if sys.stdin is not None and sys.stdin.isatty():
            raise  # Ctrl-C at the question: the person chose not to answer
        fail(t("confirm.no_terminal", option=instead), 2)
        return False


wide_option = click.option(
    "--wide", is_flag=True, help=t("Show long texts in full instead of cutting them to the terminal's width.")
)


def table_width(wide: bool) -> int | None:
    """The width a table is cut to: ``COLUMNS``, else the terminal's; none with ``--wide`` or when
    no terminal reads it (cron mails and pipes keep every character)."""
    if wide:
        return None
    import shutil

    if not os.environ.get("COLUMNS") and not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def shell_quoted(path: object) -> str:
    """A path as it can be pasted into a shell (quoted when it holds spaces or quotes)."""
    import shlex

    return shlex.quote(str(path))


def report_errors(func: F) -> F:
    """Turn the library's errors, and the operating system's (disk full, no permission), into one
    clear line and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from gridtool.errors import GridtoolError, ValidationError

        try:
            return func(*args, **kwargs)
        except ValidationError as bad:
            lines = [p.message() for p in bad.problems]
            head = (bad.where + ": ") if bad.where else ""
            if len(lines) == 1:
                fail(head + lines[0], bad.exit_code)
            fail(head + t("error.problems", count=len(lines)) + "\n  " + "\n  ".join(lines), bad.exit_code)
        except GridtoolError as err:
            fail(err.message(), err.exit_code)
        except BrokenPipeError:  # the reader went away (`| head`): Click ends quietly
            raise
        except OSError as err:  # a full disk, a read-only folder, a file that vanished: one line
            reason = err.strerror or str(err)
            if err.filename:
                fail(t("store.os_error", path=str(err.filename), reason=reason))
            fail(t("store.os_error_nameless", reason=reason))

    return wrapper  # type: ignore[return-value]


at_option = click.option(
    "--at",
    metavar="DATETIME",
    help=t("When it happened, e.g. 2026-07-03T09:00 (default: now), to enter past ledgers."),
)


def parse_at(at: str | None) -> Any:
    """``--at`` as a moment, or ``None`` for now."""
    from gridtool.issues import parse_when

    return parse_when(at) if at else None


@contextlib.contextmanager
def markdown_language(fmt: str) -> Iterator[None]:
    """Markdown is for a Chinese WeChat group: Chinese unless the user chose a language explicitly."""
    from gridtool import i18n

    explicit = click.get_current_context().find_root().params.get("lang") or os.environ.get("GRIDTOOL_LANG")
    if fmt != "markdown" or explicit:
        yield
        return
    previous = i18n.language()
    i18n.set_language("zh")
    try:
        yield
    finally:
        i18n.set_language(previous)
