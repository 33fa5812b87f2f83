"""Report benchmarks on a generated store of 30,000 households and 100,000 issues (issue #3: < 1 s).

Also ``gridtool order list`` and ``gridtool report visits-due``, whose tables the generated store has
never written (issue #15: < 0.3 s and < 300 MB each, whatever the length of the log).

    python bench/bench_workflow.py                   # generates a store in a temp dir (about 1.5 min)
    python bench/bench_workflow.py --store PATH      # reuses one made by
                                                     # gridtool demo generate --issues 100000

Times ``gridtool report overdue --format json`` and ``gridtool report stats --from ... --to ...`` as
whole processes (Python start-up, opening the store, the report, the output), best of several runs,
and prints where an in-process run spends its time. The measured processes run with bytecode
caching on, as an installed gridtool does, even when PYTHONDONTWRITEBYTECODE is set here.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from harness import add_store_options, command_env, gridtool_command, measured_store

TARGET_S = 1.0
UNWRITTEN_TARGET_S = 0.3
UNWRITTEN_TARGET_MB = 300


def _best(args: list[str], runs: int, env: dict[str, str]) -> tuple[float, bytes]:
    """Best wall-clock time of ``runs`` whole processes, and the last one's output."""
    best, out = float("inf"), b""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, check=False)
        best = min(best, time.perf_counter() - start)
        if done.returncode not in (0, 1):
            sys.exit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
        out = done.stdout
    return best, out


def _best_with_memory(args: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Best wall-clock time of ``runs`` whole processes, and the largest peak memory (MB) of one."""
    best, peak = float("inf"), 0.0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        best = min(best, time.perf_counter() - start)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            sys.exit(f"{' '.join(args)} failed ({proc.returncode})")
        peak = max(peak, usage.ru_maxrss / 1024)  # kilobytes on Linux
    return best, peak


def _line(name: str, seconds: float, target: float | None = TARGET_S) -> None:
    verdict = f"  target < {target:g} s: {'ok' if seconds < target else 'MISSED'}" if target else ""
    print(f"{name:<58} best {seconds:6.3f} s{verdict}")


def _breakdown(path: Path, first: date, last: date) -> None:
    """One in-process run, step by step, with the garbage collector paused as the commands do."""
    from gridtool import reports
    from gridtool.formats import render_json
    from gridtool.store import Store

    gc.disable()
    try:
        steps = []
        start = time.perf_counter()
        store = Store(path)
        steps.append(("open the store (register tables)", time.perf_counter() - start))
        start = time.perf_counter()
        count = len(store.records("issues"))
        steps.append((f"load the issues table ({count} issues)", time.perf_counter() - start))
        start = time.perf_counter()
        listing = reports.overdue(store)
        render_json(reports.listing_json(listing))
        steps.append((f"overdue report + JSON ({len(listing.rows)} issues)", time.perf_counter() - start))
        start = time.perf_counter()
        reports.stats(store, first, last)
        steps.append(("stats report", time.perf_counter() - start))
    finally:
        gc.freeze()
        gc.unfreeze()
        gc.enable()
    for name, seconds in steps:
        print(f"  {name:<56} {seconds:6.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_store_options(parser)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with measured_store(args) as (path, _workdir):
        sizes = ", ".join(
            f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in sorted(path.parent.glob(path.name + "*"))
        )
        print(f"store files: {sizes}")
        env = command_env(path)
        today = date.today()
        first = today - timedelta(days=364)
        gridtool = gridtool_command()
        print()

        _line("python -c pass (reference)", _best([sys.executable, "-c", "pass"], args.runs, env)[0], None)
        seconds, out = _best([*gridtool, "report", "overdue", "--format", "json"], args.runs, env)
        import orjson

        overdue = orjson.loads(out)["count"]
        _line(f"gridtool report overdue --format json ({overdue} overdue)", seconds)
        seconds, _ = _best(
            [*gridtool, "report", "stats", "--from", first.isoformat(), "--to", today.isoformat()],
            args.runs,
            env,
        )
        _line(f"gridtool report stats --from {first} --to {today}", seconds)
        seconds, _ = _best(
            [
                *gridtool,
                "report",
                "stats",
                "--from",
                first.isoformat(),
                "--to",
                today.isoformat(),
                "--by",
                "grid",
            ],
            args.runs,
            env,
        )
        _line("gridtool report stats ... --by grid", seconds)
        for command in (["order", "list"], ["report", "visits-due"]):
            seconds, peak = _best_with_memory([*gridtool, *command], args.runs, env)
            verdict = "ok" if seconds < UNWRITTEN_TARGET_S and peak < UNWRITTEN_TARGET_MB else "MISSED"
            print(
                f"{'gridtool ' + ' '.join(command):<58} best {seconds:6.3f} s, peak {peak:5.0f} MB"
                f"  target < {UNWRITTEN_TARGET_S:g} s and < {UNWRITTEN_TARGET_MB} MB: {verdict}"
            )
        # a report for a past moment folds again the timelines that moved since: it reads the events
        month_ago = (today - timedelta(days=30)).isoformat()
        seconds, out = _best(
            [*gridtool, "report", "overdue", "--format", "json", "--as-of", month_ago], args.runs, env
        )
        then = orjson.loads(out)["count"]
        _line(f"gridtool report overdue --as-of {month_ago} ({then} overdue then)", seconds, None)
        last_month_end = today.replace(day=1) - timedelta(days=1)
        seconds, _ = _best(
            [
                *gridtool,
                "report",
                "stats",
                "--from",
                last_month_end.replace(day=1).isoformat(),
                "--to",
                last_month_end.isoformat(),
                "--as-of",
                last_month_end.isoformat(),
            ],
            args.runs,
            env,
        )
        _line(f"gridtool report stats (last month) --as-of {last_month_end}", seconds, None)
        print("\nwhere an in-process run spends its time:")
        _breakdown(path, first, today)


if __name__ == "__main__":
    main()
