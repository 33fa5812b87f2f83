"""Dashboard benchmarks through Textual's pilot (issue #5's scale targets).

    python bench/bench_dashboard.py                  # generates 30,000 households + 100,000 issues
    python bench/bench_dashboard.py --store PATH     # reuses a store made by `gridtool demo generate`

Prints: time from starting the app to a usable queue (rows drawn, cursor on the first), and the time
a filter keystroke takes to update the list, for typical keystrokes.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

TARGET_OPEN = 2.0
TARGET_KEY = 0.100


async def measure(path: Path) -> None:
    from gridtool.tui.app import GridtoolApp
    from gridtool.tui.queue import QueueView
    from gridtool.tui.record_list import RecordList

    start = time.perf_counter()
    app = GridtoolApp(path)
    async with app.run_test(size=(160, 45)) as pilot:
        listing = app.query_one("#queue-list", RecordList)
        while not listing.rows:
            await pilot.pause(0.01)
        opened = time.perf_counter() - start
        total = len(app.store.records("issues"))
        print(
            f"open to a usable queue ({len(listing.rows)} open of {total} issues): {opened:.2f} s"
            f"   target < {TARGET_OPEN} s: {'ok' if opened < TARGET_OPEN else 'MISSED'}"
        )

        view = app.query_one(QueueView)
        start = time.perf_counter()
        view.search_index()
        print(f"search index built (once, on the first keystroke): {time.perf_counter() - start:.2f} s")
        for query in ("z", "zs", "下水", "飞线", "grid:QF-07", "overdue", "2026-0001", "@谭"):
            times = []
            for _ in range(5):
                view.filter_text = ""
                view.apply_filter()
                t0 = time.perf_counter()
                view.filter_text = query
                view.apply_filter()
                times.append(time.perf_counter() - t0)
            median = statistics.median(times)
            print(
                f"filter keystroke {query!r:14} -> {len(listing.rows):6} rows: {median * 1000:6.1f} ms"
                f"   target < {TARGET_KEY * 1000:g} ms: {'ok' if median < TARGET_KEY else 'MISSED'}"
            )
        await pilot.press("q")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path)
    parser.add_argument("--households", type=int, default=30000)
    parser.add_argument("--issues", type=int, default=100000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="gridtool-bench-"))
    try:
        path = args.store
        if path is None:
            from gridtool.demo import create_store, generate

            path = workdir / "gridtool.json"
            start = time.perf_counter()
            create_store(path, generate(households=args.households, issues=args.issues))
            print(
                f"generated {args.households} households and {args.issues} issues in "
                f"{time.perf_counter() - start:.1f} s"
            )
        asyncio.run(measure(path))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
