"""What the Chinese command line and shell completion cost (issue 18).

    python bench/bench_cli_language.py --store PATH   # a store made by `gridtool demo generate`

Prints wall-clock figures (median and best) for ``gridtool --help`` in English and Chinese (target:
the foundation's 0.15 s) and for one Tab press completing a command, a grid code, an issue number
and a household head against the store (target: 0.3 s, a pause a user does not notice).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HELP_TARGET = 0.15
TAB_TARGET = 0.3
TABS = {
    "command (gridtool hou<Tab>)": ("gridtool hou", 1),
    "grid code (household list --grid <Tab>)": ("gridtool household list --grid ", 4),
    "issue number (issue show 2026-0000<Tab>)": ("gridtool issue show 2026-0000", 3),
    "household head (household show 王<Tab>)": ("gridtool household show 王", 3),
}


def _gridtool() -> list[str]:
    beside = Path(sys.executable).with_name("gridtool")
    found = str(beside) if beside.exists() else shutil.which("gridtool")
    return [found] if found else [sys.executable, "-m", "gridtool.commands"]


def _time(args: list[str], env: dict[str, str], runs: int) -> tuple[list[float], str]:
    times, out = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(args, env=env, capture_output=True, text=True, check=True).stdout
        times.append(time.perf_counter() - start)
    return times, out


def _line(name: str, times: list[float], target: float, extra: str = "") -> None:
    median = statistics.median(times)
    verdict = "ok" if median <= target else "SLOW"
    print(f"{name:48} median {median:.3f} s  best {min(times):.3f} s  target {target} s  {verdict}{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a store made by `gridtool demo generate`")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    for lang in ("en", "zh"):
        env = {**os.environ, "GRIDTOOL_LANG": lang}
        _line(f"gridtool --help ({lang})", _time([*_gridtool(), "--help"], env, args.runs)[0], HELP_TARGET)
    for name, (words, cword) in TABS.items():
        env = {
            **os.environ,
            "GRIDTOOL_DB": str(args.store),
            "COMP_WORDS": words,
            "COMP_CWORD": str(cword),
            "_GRIDTOOL_COMPLETE": "bash_complete",
        }
        times, out = _time(_gridtool(), env, args.runs)
        _line(name, times, TAB_TARGET, f"  ({len(out.splitlines())} candidates)")


if __name__ == "__main__":
    main()
