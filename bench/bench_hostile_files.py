"""Hostile workbooks (issue 16, item 4): each is refused or imported within 10 s and 1 GB.

    python bench/bench_hostile_files.py                         # the shapes the issue found
    python bench/bench_hostile_files.py --ledger h30k.xlsx      # also time the bounds on a real ledger

Each file is imported as a whole process (``gridtool import grid-cells FILE``) with its address
space capped at 1 GB; the figures are the exit status, wall time and peak memory (max RSS), beside
the targets. With ``--ledger``, the time of the check before the reader is printed beside the
reader's own time for that workbook.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S, TARGET_BYTES, MAX_FILE = 10.0, 1 << 30, 10 * 1024 * 1024


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (TARGET_BYTES, TARGET_BYTES))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=Path, help="an ordinary workbook to time the check on")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))

    with tempfile.TemporaryDirectory() as folder:
        # built in a process of their own: a child forked from a parent holding them would count
        # the parent's memory as its own
        build = f"import pathlib, tests.hostile_files as h; h.hostile_workbooks(pathlib.Path({folder!r}))"
        subprocess.run([sys.executable, "-c", build], cwd=ROOT, check=True)
        store = Path(folder) / "s" / "gridtool.json"
        cmd = [sys.executable, "-m", "gridtool.commands", "--db", str(store)]
        subprocess.run([*cmd, "init"], capture_output=True, check=True)
        print(
            f"{'file':22} {'size':>9} {'exit':>4} {'time':>7} {'max RSS':>9}   target: exit 0/2, "
            f"< {TARGET_S:.0f} s, < 1 GB"
        )
        worst = 0.0
        for path in sorted(Path(folder).glob("*.xlsx")):
            size = path.stat().st_size
            assert size <= MAX_FILE
            started = time.perf_counter()
            child = subprocess.Popen(
                [*cmd, "import", "grid-cells", str(path)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=_capped,
            )
            _, status, usage = os.wait4(child.pid, 0)
            took = time.perf_counter() - started
            worst = max(worst, took)
            code = os.waitstatus_to_exitcode(status)
            print(f"{path.name:22} {size:>9,} {code:>4} {took:>6.2f}s {usage.ru_maxrss / 1024:>7.0f} MB")
        print(f"slowest: {worst:.2f} s (target {TARGET_S:.0f} s)")
    if args.ledger:
        from gridtool.ledger.bounds import check_workbook
        from gridtool.ledger.sheets import read_xlsx

        runs = []
        for _ in range(3):
            started = time.perf_counter()
            check_workbook(args.ledger)
            checked = time.perf_counter()
            read_xlsx(args.ledger, None)
            runs.append((checked - started, time.perf_counter() - checked))
        check, whole = min(r[0] for r in runs), min(r[1] for r in runs)
        print(f"{args.ledger.name}: check {check:.2f} s, then the reader (check included) {whole:.2f} s")


if __name__ == "__main__":
    main()
