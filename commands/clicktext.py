"""Click's own words (usage, headings, defaults, usage errors, Aborted!) in the user's language.

Click marks its texts with ``gettext``, but Python's ``gettext`` picks its language from the locale
variables and reads compiled ``.mo`` files: it cannot follow ``--lang`` or ``GRIDTOOL_LANG``. So the
translation happens at Click's extension points instead, without patching Click:

- :class:`HelpFormatter` translates the usage prefix, section headings and the help rows
  (``Show this message and exit.``, ``[default: table]``, ``[required]``);
- :class:`Context` makes every help page use that formatter;
- :class:`TranslatedGroup` catches Click's usage errors and ``Abort`` on their way out and
  shows them through :func:`click_text`, with typo suggestions at every level.

:func:`click_text` reads a finished English sentence of Click's back against the message templates
of :data:`CLICK_MESSAGES` and fills in the catalog's translation. Checked against Click 8.1.8 and
8.5.1; a message a later Click adds (or rewords) matches nothing and stays English, never an error.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

import click

from gridtool import i18n
from gridtool.i18n import t

from .common import LazyGroup

# Click's message templates (its gettext msgids) that a user can meet, exactly as Click spells them.
# The Chinese catalog (data/i18n/cli.zh.json) is keyed by them, with the placeholders' `!r` dropped:
# the values read back from the English sentence already carry their quotes.
CLICK_MESSAGES: tuple[str, ...] = (
    "Usage:",
    "Options",
    "Commands",
    "Positional arguments",
    "Show this message and exit.",
    "Show the version and exit.",
    "%(prog)s, version %(version)s",
    "default: {default}",
    "required",
    "env var: {var}",
    "(dynamic)",
    "Aborted!",
    "Error: {message}",
    "Try '{command} {option}' for help.",
    "Missing command.",
    "Missing parameter: {param_name}",
    "No such option {name!r}.",
    "No such command {name!r}.",
    "No such option: {name}",  # Click 8.1
    "No such command {name!r}",
    "Invalid value: {message}",
    "Invalid value for {param_hint}: {message}",
    "Got unexpected extra argument ({args})",
    "Got unexpected extra arguments ({args})",
    "Option {name!r} does not take a value.",
    "Option {name!r} requires an argument.",
    "Option {name!r} requires {nargs} arguments.",
    "Argument {name!r} takes {nargs} values.",
    "Takes {nargs} values but 1 was given.",
    "Takes {nargs} values but {len} were given.",
    "Value must be an iterable.",
    "Could not open file {filename!r}: {message}",
    "Choose from:\n\t{choices}",
    "{value!r} is not {choice}.",
    "{value!r} is not one of {choices}.",
    "{value!r} is not a valid {number_type}.",
    "{value!r} is not a valid boolean. Recognized values: {states}",
    "{value!r} is not a valid boolean.",
    "{value!r} is not a valid UUID.",
    "{value!r} does not match the format {format}.",
    "{value!r} does not match the formats {formats}.",
    "{value} is not in the range {range}.",
    "{name} {filename!r} does not exist.",
    "{name} {filename!r} is a file.",
    "{name} {filename!r} is a directory.",
    "{name} {filename!r} is not readable.",
    "{name} {filename!r} is not writable.",
    "{name} {filename!r} is not executable.",
    "Repeat for confirmation",
    "Error: The two entered values do not match.",
    "Error: The value you entered was invalid.",
    "Error: invalid input",
    # Not gettext msgids: how Click 8.x joins MissingParameter's pieces (f"{missing}{hint}.{msg}").
    "Missing option {param_hint}.",
    "Missing option {param_hint}. {extra}",
    "Missing argument {param_hint}.",
    "Missing argument {param_hint}. {extra}",
    "Missing parameter {param_hint}.",
    "Missing parameter {param_hint}. {extra}",
    # Words Click puts into the templates above.
    "integer",
    "float",
    "integer range",
    "float range",
    "File",
    "Directory",
    "Path",
    "text",
    "boolean",
)

_FIELD = re.compile(r"\{(\w+)(?:![rsa])?\}")


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """The template as a regular expression that captures each placeholder's text."""
    parts: list[str] = []
    seen: set[str] = set()
    pos = 0
    for field in _FIELD.finditer(template):
        parts.append(re.escape(template[pos : field.start()]))
        name = field.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        pos = field.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("".join(parts), re.DOTALL)


@cache
def _templates() -> tuple[str, ...]:
    """Templates with placeholders, the most literal text first, so the most specific one wins."""
    with_fields = [m for m in CLICK_MESSAGES if _FIELD.search(m)]
    return tuple(sorted(with_fields, key=lambda m: -len(_FIELD.sub("", m))))


def click_text(text: str, _depth: int = 0) -> str:
    """Click's English ``text`` in the current language; English when no template matches."""
    lang = i18n.language()
    if lang == "en" or not text or _depth > 4:
        return text
    known = i18n.catalog(lang)
    if text in known:
        return known[text]
    for template in _templates():
        found = _pattern(template).fullmatch(text)
        if found is None or template not in known:
            continue
        values = {name: click_text(value, _depth + 1) for name, value in found.groupdict().items()}
        try:
            return known[template].format(**values)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def click_format(template: str, **values: object) -> str:
    """One of Click's templates filled in, in the current language (English when not in the catalog)."""
    lang = i18n.language()
    translated = i18n.catalog(lang).get(template) if lang != "en" else None
    try:
        return (translated or template).format(**values)
    except (KeyError, IndexError, ValueError):
        return template.format(**values)


def suggestion(typed: str, candidates: Iterable[str]) -> str:
    """``Did you mean …?`` for a mistyped name, or "" when nothing is close."""
    import difflib

    names = sorted(set(candidates))
    close = difflib.get_close_matches(typed, names, n=3, cutoff=0.6)
    if not close and len(typed.lstrip("-")) >= 2:
        close = [name for name in names if name.startswith(typed)][:3]
    if not close:
        return ""
    return t("cli.did_you_mean", choices=t("cli.or").join(close))


def _option_names(ctx: click.Context) -> list[str]:
    return [opt for param in ctx.command.get_params(ctx) for opt in (*param.opts, *param.secondary_opts)]


def _command_names(ctx: click.Context) -> list[str]:
    command = ctx.command
    if not isinstance(command, click.Group):
        return []
    return command.list_commands(ctx)  # names only: importing every lazy command to ask would be slow


def _no_such_command(exc: click.ClickException) -> str | None:
    """The name of the command an error says does not exist (Click 8.4+ has a class for it)."""
    name = getattr(exc, "command_name", None)
    if name is not None:
        return str(name)
    for template in ("No such command {name!r}.", "No such command {name!r}"):
        found = _pattern(template).fullmatch(exc.message)
        if found:
            return found["name"].strip("'\"")
    return None


def _joined(sentence: str, more: str) -> str:
    """Two sentences in a row: a space after English punctuation, none after Chinese."""
    return sentence + more if sentence.endswith(("。", "？", "！", "：")) else f"{sentence} {more}"


def _mistyped_choice(exc: click.ClickException) -> str:
    """A suggestion for a value that is not one of a ``Choice``'s, or ""."""
    param = getattr(exc, "param", None)
    choices = getattr(getattr(param, "type", None), "choices", None)
    if not isinstance(exc, click.BadParameter) or not choices:
        return ""
    for template in ("{value!r} is not one of {choices}.", "{value!r} is not {choice}."):
        found = _pattern(template).fullmatch(exc.message)
        if found:
            import ast

            with contextlib.suppress(ValueError, SyntaxError):
                return suggestion(str(ast.literal_eval(found["value"])), [str(c) for c in choices])
    return ""


def error_message(exc: click.ClickException) -> str:
    """The message of a Click error, translated, with a suggestion for a mistyped name or value."""
    ctx = getattr(exc, "ctx", None)
    hint = ""
    message = exc.format_message()
    if ctx is not None and isinstance(exc, click.NoSuchOption):
        message, hint = exc.message, suggestion(exc.option_name, _option_names(ctx))
    elif ctx is not None and (command := _no_such_command(exc)) is not None:
        message, hint = exc.message, suggestion(command, _command_names(ctx))
    else:
        hint = _mistyped_choice(exc)
    message = click_text(message)
    return _joined(message, hint) if hint else message


def usage_line(ctx: click.Context) -> str:
    formatter = HelpFormatter(width=ctx.terminal_width, max_width=ctx.max_content_width)
    ctx.command.format_usage(ctx, formatter)
    return formatter.getvalue().rstrip("\n")


class TranslatedError(click.ClickException):
    """A Click error on its way out, shown in the user's language (same exit code)."""

    def __init__(self, original: click.ClickException) -> None:
        super().__init__(original.message)
        self.original = original
        self.exit_code = original.exit_code  # type: ignore[misc]

    def show(self, file: Any = None) -> None:
        exc = self.original
        ctx = getattr(exc, "ctx", None)
        if isinstance(exc, click.UsageError) and ctx is not None:
            hint = ""
            if ctx.command.get_help_option(ctx) is not None and ctx.help_option_names:
                option = max(ctx.help_option_names, key=len)
                hint = click_format(
                    "Try '{command} {option}' for help.", command=ctx.command_path, option=option
                )
            click.echo(usage_line(ctx) + "\n" + hint + "\n", file=file, err=True, color=ctx.color)
        click.echo(click_format("Error: {message}", message=error_message(exc)), file=file, err=True)


class Aborted(click.ClickException):
    """``Abort`` (Ctrl-C, a refused prompt) shown as ``Aborted!`` in the user's language."""

    def __init__(self) -> None:
        super().__init__("Aborted!")

    def show(self, file: Any = None) -> None:
        click.echo(click_text("Aborted!"), file=file, err=True)


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    try:
        yield
    except (TranslatedError, Aborted):
        raise
    except click.ClickException as exc:
        raise TranslatedError(exc) from None
    except click.Abort:
        raise Aborted() from None
    except (EOFError, KeyboardInterrupt):
        click.echo(file=sys.stderr)  # closes the terminal's ^C echo, as Click does
        raise Aborted() from None


class HelpFormatter(click.HelpFormatter):
    """Click's help layout with Click's own words in the user's language."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None:
            prefix = _joined(click_text("Usage:"), "")
        super().write_usage(prog, args, prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{t('cli.heading', heading=click_text(heading))}\n")

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(term, help_text(text)) for term, text in rows], col_max, col_spacing)


_EXTRA = re.compile(r"(?P<help>.*?)(?:\s*)\[(?P<extra>[^\[\]]*)\]\s*$", re.DOTALL)


def help_text(text: str) -> str:
    """A help row's text: Click's own sentences and the ``[default: …; required]`` tail translated."""
    if i18n.language() == "en" or not text:
        return text
    found = _EXTRA.fullmatch(text)
    if found is None:
        return click_text(text)
    items = found["extra"].split("; ")
    if not all(_is_click_extra(item) for item in items):
        return click_text(text)
    extra = t("cli.list_separator").join(click_text(item) for item in items)
    body = click_text(found["help"])
    return f"{body}  [{extra}]" if body else f"[{extra}]"


_RANGE = re.compile(r"[\d.x<>=-]+")  # what an IntRange shows: x>=0, 1<=x<=5


def _is_click_extra(item: str) -> bool:
    """Whether an item of a help row's ``[…]`` tail is Click's (so the tail is Click's to translate)."""
    return item == "required" or item.startswith(("default: ", "env var: ")) or bool(_RANGE.fullmatch(item))


def warn_unrecognised_language(args: list[str]) -> None:
    """One warning when ``GRIDTOOL_LANG`` names another language and ``--lang`` does not decide."""
    from . import language_in

    value = i18n.unrecognised_setting()
    if value and language_in(args) is None:
        language = t(f"cli.language.{i18n.language()}")
        click.echo(t("warning.prefix") + t("cli.lang_unknown", value=value, language=language), err=True)


class Context(click.Context):
    formatter_class = HelpFormatter


def adopt(command: click.Command) -> click.Command:
    """Give a command, and every command under it, the translating context."""
    command.context_class = Context
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            if sub.context_class is not Context:
                adopt(sub)
    return command


class TranslatedGroup(LazyGroup):
    """The root group: translated help pages and errors for itself and everything under it."""

    context_class = Context

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            return None
        if "_GRIDTOOL_COMPLETE" in os.environ:  # the shell is asking: record references complete
            from .completion import attach

            attach(command, cmd_name)
        return adopt(command)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        if parent is None:
            warn_unrecognised_language(args)
        with translated_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with translated_errors():
            return super().invoke(ctx)


# -- prompts: click.confirm and click.prompt print their own English on a bad answer ------------------

YES = ("y", "yes", "是", "是的", "好")
NO = ("n", "no", "否", "不")


def confirm(question: str, default: bool = False) -> bool:
    """``click.confirm`` whose complaint about an answer that is neither yes nor no is translated;
    also takes 是 and 否. Ctrl-C or the end of input is ``Abort`` (shown as Aborted!)."""
    choices = "[Y/n]" if default else "[y/N]"
    while True:
        answer = click.prompt(f"{question} {choices}", default="", show_default=False, err=True)
        answer = str(answer).strip().lower()
        if not answer:
            return default
        if answer in YES:
            return True
        if answer in NO:
            return False
        click.echo(click_text("Error: invalid input"), err=True)


def prompt_twice(text: str, hide_input: bool = True) -> str:
    """``click.prompt(confirmation_prompt=True)`` with its repeat prompt and its mismatch error in
    the user's language: asked until both entries agree."""
    while True:
        first = str(click.prompt(text, hide_input=hide_input, err=True))
        again = str(click.prompt(click_text("Repeat for confirmation"), hide_input=hide_input, err=True))
        if first == again:
            return first
        click.echo(click_text("Error: The two entered values do not match."), err=True)
