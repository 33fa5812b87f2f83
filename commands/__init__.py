"""The gridtool command line (installed as ``gridtool.commands``): thin, it parses and prints.

Subcommands are imported lazily so ``gridtool --help`` does not pay for TinyDB, tabulate or Textual.
Help texts are translated when their command is defined, so ``main`` settles the language from
``--lang`` before any command is imported.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn


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


def main() -> NoReturn:
    lang = (language_in(sys.argv[1:]) or "").lower()
    if lang in ("zh", "en"):  # anything else is refused by the --lang option itself, exit 2
        from gridtool.i18n import set_language

        set_language(lang)
    from .root import cli

    leave(guarded(cli))


CRASH_EXIT = 70
"""EX_SOFTWARE from sysexits.h: gridtool itself failed, not the user's input."""


def guarded(command: Any, args: list[str] | None = None) -> int | str | None:
    """Run the root command and return its exit code; the one guard around every command.

    Anything the commands did not turn into a message (a bug, an exception nobody foresaw) ends
    as one translated line on stderr and exit 70, never a traceback: the stack goes to a crash
    file in the user's state folder (:func:`gridtool.crash.write_crash_file`) for a bug report.
    """
    from gridtool.store import commits_made

    before = commits_made()
    try:
        command(args=args, prog_name="gridtool")  # standalone mode ends every command with SystemExit
    except SystemExit as done:
        return done.code
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say to anyone
        _silence_stdout()
        return 1
    except Exception as exc:  # the one place that catches everything
        return _crashed(exc, commits_made() - before)
    return 0


def _crashed(exc: BaseException, kept: int) -> int:
    """One line: what happened, what the store kept (changes committed before the crash stay),
    and where the details are."""
    from gridtool.crash import write_crash_file
    from gridtool.i18n import t

    try:
        path: str | None = str(write_crash_file(exc))
    except OSError:
        path = None
    if kept:
        line = t("crash.kept", count=kept, path=path) if path else t("crash.kept_unwritten", count=kept)
    else:
        line = t("crash.saved", path=path) if path else t("crash.unsaved")
    import contextlib

    with contextlib.suppress(OSError, ValueError, AttributeError):  # no stderr to speak to
        print(t("error.prefix") + line, file=sys.stderr)
    return CRASH_EXIT


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the final flush does not raise again (Python's own advice)."""
    import contextlib
    import os

    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def leave(code: int | str | None) -> NoReturn:
    """End the process once the command is done, without freeing its objects one by one.

    Python's own shutdown deallocates every object still alive: with 30,000 households loaded
    that took 0.1-0.15 s (a fifth of ``household list``), for memory the system takes back at
    once anyway. Everything shutdown would still do for others happens first: the exit handlers
    run (temporary folders, finalizers) and the output is flushed. A traceback (a bug) takes
    Python's normal way out instead.
    """
    import atexit
    import contextlib
    import os

    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed, status 1, as Python does
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None: started with the descriptor closed (`>&-`)
            with contextlib.suppress(OSError, ValueError):  # the reader went away (`| head`)
                stream.flush()
    os._exit(code)


def __getattr__(name: str) -> Any:
    if name == "cli":
        from .root import cli

        return cli
    raise AttributeError(name)


__all__ = ["CRASH_EXIT", "cli", "guarded", "main"]
