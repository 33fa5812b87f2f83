"""The gridtool command line (installed as ``gridtool.commands``): thin, it parses and prints.

Subcommands are imported lazily so ``gridtool --help`` does not pay for TinyDB, tabulate or Textual.
Help texts are translated when their command is defined, so ``main`` settles the language from
``--lang`` before any command is imported.
"""

from __future__ import annotations

import sys
from typing import Any


def language_in(argv: list[str]) -> str | None:
    """The value of ``--lang`` among the arguments, if any (``--lang zh`` or ``--lang=zh``)."""
    for n, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and n + 1 < len(argv):
            return argv[n + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


def main() -> None:
    lang = language_in(sys.argv[1:])
    if lang:
        from gridtool.i18n import detect_language, set_language

        set_language(detect_language({"GRIDTOOL_LANG": lang}))
    from .root import cli

    cli(prog_name="gridtool")


def __getattr__(name: str) -> Any:
    if name == "cli":
        from .root import cli

        return cli
    raise AttributeError(name)


__all__ = ["cli", "main"]
