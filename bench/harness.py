"""What the store benchmarks share: the options that pick or generate the store, the generated
store's temp folder, and how to run ``gridtool`` as a user would (its own script, bytecode warm).

Scripts under bench/ run as ``python bench/NAME.py``, so this module is importable beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def add_store_options(parser: argparse.ArgumentParser, issues: int | None = 100000) -> None:
    """``--store``, or ``--households`` and ``--issues`` to generate one (``issues=None``: the
    demo's one issue for every two households)."""
    parser.add_argument("--store", type=Path, help="an existing store to measure (default: generate one)")
    parser.add_argument("--households", type=int, default=30000)
    parser.add_argument("--issues", type=int, default=issues)


@contextlib.contextmanager
def measured_store(args: argparse.Namespace) -> Iterator[tuple[Path, Path]]:
    """``(store, workdir)``: ``--store`` as given, or one generated into ``workdir``; the folder
    (generated store and whatever the bench writes there) is removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="gridtool-bench-"))
    try:
        path = args.store
        if path is None:
            from gridtool.demo import create_store, generate

            path = workdir / "gridtool.json"
            start = time.perf_counter()
            issues = args.issues if args.issues is not None else args.households // 2
            create_store(path, generate(households=args.households, issues=issues))
            print(
                f"generated {args.households} households and {issues} issues in "
                f"{time.perf_counter() - start:.1f} s"
            )
        yield path, workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def gridtool_command() -> list[str]:
    """The installed ``gridtool`` script beside this Python, as a user runs it."""
    beside = Path(sys.executable).with_name("gridtool")
    found = str(beside) if beside.exists() else shutil.which("gridtool")
    return [found] if found else [sys.executable, "-m", "gridtool.commands"]


def command_env(store: Path) -> dict[str, str]:
    """The environment for timed runs on ``store``, with the bytecode written by one run first (a
    first run compiling every module is not what a user waits for)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(GRIDTOOL_DB=str(store), GRIDTOOL_LANG="zh")
    subprocess.run([*gridtool_command(), "--help"], env=env, capture_output=True, check=True)
    return env
