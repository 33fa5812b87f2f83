"""The long fuzz campaign (issue 16, item 7): every command driven with about 10,000 hostile
command lines through Hypothesis, as ``tests/cli/test_fuzz_commands.py`` does in a minute.

    python bench/bench_fuzz.py                  # 10,000 examples in all
    python bench/bench_fuzz.py --examples 2000

Prints the commands, the examples run and how many failed (target: none), and the time taken.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/cli/test_fuzz_commands.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="examples in all (default 10,000)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.cli.test_fuzz_commands import COMMANDS

    per_command = math.ceil(args.examples / len(COMMANDS))
    env = {**os.environ, "GRIDTOOL_FUZZ_EXAMPLES": str(per_command)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    tail = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    failed = re.search(r"(\d+) failed", tail)
    total = per_command * len(COMMANDS)
    print(f"commands: {len(COMMANDS)}, examples per command: {per_command}, in all: {total}")
    print(f"failed commands: {failed.group(1) if failed else 0} (target 0)   time: {took:.0f} s")
    print(f"pytest: {tail}")
    if done.returncode:
        print("\n".join(line for line in done.stdout.splitlines() if line.startswith(("FAILED", "E   "))))
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
