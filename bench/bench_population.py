"""Population and monthly report benchmarks (issue 20): ``report population`` on 30,000 households
under 1 s, ``report monthly`` on 100,000 issues under 3 s.

    python bench/bench_population.py                  # generates a store in a temp dir (about 1 min)
    python bench/bench_population.py --store PATH     # reuses one made by
                                                      # gridtool demo generate --issues 100000

Times the commands as whole processes (start-up, opening the store, the report, the output file),
best of several runs, then where an in-process run of the monthly report spends its time.
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import time
from pathlib import Path

from harness import add_store_options, command_env, gridtool_command, measured_store


def _best(args: list[str], runs: int, env: dict[str, str]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, check=False)
        best = min(best, time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return best


def _line(name: str, seconds: float, target: float | None) -> None:
    verdict = f"  target < {target:g} s: {'ok' if seconds < target else 'MISSED'}" if target else ""
    print(f"{name:<66} best {seconds:6.3f} s{verdict}")


def _breakdown(path: Path, year: int, month: int) -> None:
    from datetime import date, datetime
    from datetime import time as clock

    from gridtool import monthly, population, reports
    from gridtool.store import Store

    gc.disable()
    steps = []

    def step(name: str, start: float) -> float:
        now = time.perf_counter()
        steps.append((name, now - start))
        return now

    try:
        start = time.perf_counter()
        store = Store(path)
        store.records("issues")
        start = step("open the store, load the issues", start)
        store.records("events")
        start = step("load the events (to refold issues changed after the month)", start)
        last = monthly.month_bounds(year, month)[1]
        states = monthly.issues_as_of(store, datetime.combine(last, clock(23, 59, 59)))
        start = step(f"issues as of the month's end ({len(states)})", start)
        view = monthly._StoreAsOf(store, states)
        reports.stats(view, date(year - 1, month, 1), last, by="month")
        start = step("stats by month (12-month trend)", start)
        population.population(store)
        start = step("population (loads the members)", start)
        report = monthly.monthly(store, year, month)
        start = step("the whole monthly report again, tables loaded", start)
        monthly.workbook_bytes(report)
        step("the workbook (openpyxl)", start)
    finally:
        gc.enable()
    for name, seconds in steps:
        print(f"  {name:<64} {seconds:6.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_store_options(parser)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with measured_store(args) as (path, workdir):
        from gridtool.monthly import previous_month

        year, month = previous_month()
        env = command_env(path)
        gridtool = gridtool_command()
        _line("python -c pass (reference)", _best([sys.executable, "-c", "pass"], args.runs, env), None)
        _line(
            "gridtool report population --format json",
            _best([*gridtool, "report", "population", "--format", "json"], args.runs, env),
            1.0,
        )
        _line(
            "gridtool report population (table)",
            _best([*gridtool, "report", "population"], args.runs, env),
            1.0,
        )
        label = f"{year:04}-{month:02}"
        xlsx = workdir / "月报.xlsx"
        _line(
            f"gridtool report monthly --month {label} --output 月报.xlsx",
            _best([*gridtool, "report", "monthly", "--month", label, "--output", str(xlsx)], args.runs, env),
            3.0,
        )
        _line(
            f"gridtool report monthly --month {label} --format markdown",
            _best([*gridtool, "report", "monthly", "--month", label, "--format", "markdown"], args.runs, env),
            3.0,
        )
        print("\nwhere an in-process monthly report spends its time:")
        _breakdown(path, year, month)


if __name__ == "__main__":
    main()
