"""The README is run by the tests: every ``sh`` example, in order, in a fresh store, on a fixed
clock, through a real shell, as a reader would paste them.

The clock is fixed by a ``gridtool`` on the PATH that starts time-machine before the real
command, each command a minute after the one before (as a person types them); two clocks in
different years show the examples read the same any day. The files the
Ledgers section imports are the reader's own: the test exports them from the store first.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"

WRAPPER = """#!{python}
import os, sys
from datetime import datetime, timedelta
from pathlib import Path

import time_machine

counter = Path(os.environ["README_CLOCK_COUNTER"])
n = int(counter.read_text()) if counter.exists() else 0
counter.write_text(str(n + 1))
start = datetime.fromisoformat(os.environ["README_CLOCK"]) + timedelta(minutes=n)
time_machine.travel(start, tick=True).start()
from gridtool.commands import main

sys.argv[0] = "gridtool"
main()
"""

LEDGER_FILES = """\
gridtool export households --output 住户台账.xlsx --show-pii
gridtool export households --output 台账.csv --show-pii
printf '%s\\n' 'TL-03,湘离小区,5,2,0602,王某,123,,,' >> 台账.csv
"""
"""A ledger as the office keeps it, and a CSV with one bad row (a phone that is no number)."""


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def test_the_readme_has_examples_to_run() -> None:
    blocks = sh_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 5 and all("gridtool" in b for b in blocks)
    for block in blocks:
        assert not re.search(r"\[--|\bFILE\b|\bENTRY --", block), "a synopsis, not an example:\n" + block


@pytest.mark.parametrize("clock", ["2026-12-03T09:30:00", "2027-03-15T10:00:00"])
def test_every_shell_example_in_the_readme_runs(tmp_path: Path, clock: str) -> None:
    bin_dir, home, work = tmp_path / "bin", tmp_path / "home", tmp_path / "work"
    for folder in (bin_dir, home, work):
        folder.mkdir()
    wrapper = bin_dir / "gridtool"
    wrapper.write_text(WRAPPER.format(python=sys.executable), encoding="utf-8")
    wrapper.chmod(0o755)
    script = ["set -euo pipefail", "set -x"]
    for block in sh_blocks(README.read_text(encoding="utf-8")):
        if "gridtool import households" in block:
            script.append(LEDGER_FILES)
        script.append(block)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GRIDTOOL_")},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "GRIDTOOL_CONFIG_DIR": str(tmp_path / "config"),
        "GRIDTOOL_LANG": "zh",
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "README_CLOCK": clock,
        "README_CLOCK_COUNTER": str(tmp_path / "commands-run"),
        "NO_COLOR": "1",
    }
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=work, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
