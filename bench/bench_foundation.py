"""Foundation benchmarks on a generated store of 30,000 households (issue #2's speed targets).

    python bench/bench_foundation.py                 # generates a store in a temp dir
    python bench/bench_foundation.py --store PATH    # reuses a store made by `gridtool demo generate`

Prints wall-clock figures (median and best of several runs) against each target; whole-process
figures run the installed ``gridtool`` as a user would.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from harness import add_store_options, gridtool_command, measured_store

TARGETS = {"help": 0.15, "list": 0.4, "edit_api": 0.020, "edit_cli": 0.5}


def _time_process(args: list[str], runs: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return times


def _line(name: str, times: list[float], target: float | None = None, unit: str = "s") -> None:
    scale = 1000 if unit == "ms" else 1
    median, best = statistics.median(times) * scale, min(times) * scale
    verdict = ""
    if target is not None:
        verdict = f"  target < {target * scale:g} {unit}: {'ok' if median < target * scale else 'MISSED'}"
    print(f"{name:<46} median {median:8.3f} {unit}   best {best:8.3f} {unit}{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_store_options(parser, issues=None)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    from gridtool import register
    from gridtool.store import Store

    with measured_store(args) as (path, _):
        store = Store(path)
        sizes = ", ".join(
            f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in sorted(path.parent.glob(path.name + "*"))
        )
        print(f"store: {len(store.records('households'))} households; files: {sizes}")
        env = {**os.environ, "GRIDTOOL_DB": str(path), "GRIDTOOL_LANG": "zh"}
        grids = register.list_records(store, "grid_cell")
        grid = grids[len(grids) // 2]["code"]
        rows = len(register.list_records(store, "household", grid=grid))
        print()

        base = _time_process([sys.executable, "-c", "pass"], args.runs, env)
        _line("python -c pass (reference)", base)
        _line(
            "gridtool --help",
            _time_process([*gridtool_command(), "--help"], args.runs * 2, env),
            TARGETS["help"],
        )
        _line(
            f"gridtool household list --grid {grid} ({rows} rows)",
            _time_process([*gridtool_command(), "household", "list", "--grid", grid], args.runs, env),
            TARGETS["list"],
        )

        households = list(store.records("households"))[:200]
        # A new number every run, so a rerun on a kept --store still writes (an unchanged edit
        # writes nothing and would time nothing).
        salt = time.time_ns() // 1000 % 1000
        times = []
        for n, rid in enumerate(households):
            start = time.perf_counter()
            register.edit(store, "household", rid, {"phone": f"139{salt:03d}{n:05d}"})
            times.append(time.perf_counter() - start)
        _line("household edit via the library (open store)", times, TARGETS["edit_api"], unit="ms")

        cli_times = []
        for n, rid in enumerate(households[: args.runs]):
            cli_times += _time_process(
                [*gridtool_command(), "household", "edit", rid, "--phone", f"137{salt:03d}{n:05d}"], 1, env
            )
        _line("gridtool household edit ID --phone ...", cli_times, TARGETS["edit_cli"])


if __name__ == "__main__":
    main()
