"""Crash files: what a bug report needs, kept where the user's personal data may safely be.

An unexpected exception is a bug, not a message for a grid worker. Its stack is written to a file
in the user's state folder, mode 0600, and the user is told where. Only the stack is written:
the exception's message and the frames' local variables hold residents' names and ID numbers.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path


def state_dir() -> Path:
    """The user's state folder: ``GRIDTOOL_STATE_DIR`` or the platform's usual place."""
    env = os.environ.get("GRIDTOOL_STATE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_state_dir

    return Path(user_state_dir("gridtool", appauthor=False))


def stack_report(exc: BaseException) -> str:
    """The exception's type and stack, chained causes included, without its message or any value."""
    from gridtool import __version__

    lines = [f"gridtool {__version__}, Python {sys.version.split()[0]}, {sys.platform}\n"]
    for link in _chain(exc):
        lines.append(f"\n{type(link).__module__}.{type(link).__qualname__}\n")
        summary = traceback.StackSummary.extract(traceback.walk_tb(link.__traceback__), capture_locals=False)
        lines.extend(summary.format())
    return "".join(lines)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and the ones it was raised from or during, outermost last (as Python prints)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return seen[::-1]


def write_crash_file(exc: BaseException) -> Path:
    """Write :func:`stack_report` to a new file, mode 0600, in a folder only the user can read."""
    folder = state_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = f"crash-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    for n in range(1, 100):  # a second crash in the same second of the same process gets its own file
        path = folder / (f"{stamp}.txt" if n == 1 else f"{stamp}-{n}.txt")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(path)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(stack_report(exc))
    return path
