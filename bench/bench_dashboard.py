"""Dashboard benchmarks through Textual's pilot (issues #5 and #19's scale targets).

    python bench/bench_dashboard.py                  # generates 30,000 households + 100,000 issues
    python bench/bench_dashboard.py --store PATH     # reuses a store made by `gridtool demo generate`

Prints, each beside its target:
- open: from starting the app to a usable queue (rows drawn, cursor on the first);
- each tab's first visit: from pressing its key (2, 3, 4, 5, then 1 back) until the pilot has
  processed the key and the screen has been redrawn (``pilot.pause()``), i.e. until the tab
  answers; the first visit is the slow one, since a tab reads its tables only when first shown;
- Enter: the same measure for Enter on the queue, which reads the timelines;
- memory: the process's resident set (VmRSS in /proc/self/status) after every tab has been
  visited, and again after Enter;
- a filter keystroke: the time to update the list, for typical keystrokes.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from harness import add_store_options, measured_store

TARGET_OPEN = 2.0
TARGET_KEY = 0.100
TARGET_TAB = 1.0
TARGET_MEMORY_MB = 500


def resident_mb() -> float:
    """This process's resident memory (Linux), in MB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


async def measure(path: Path) -> None:
    from gridtool.tui.app import GridtoolApp
    from gridtool.tui.queue import QueueView
    from gridtool.tui.record_list import RecordList

    start = time.perf_counter()
    app = GridtoolApp(path, poll_seconds=3600)  # no redraws from polling inside the figures
    async with app.run_test(size=(160, 45)) as pilot:
        listing = app.query_one("#queue-list", RecordList)
        while not listing.rows:
            await pilot.pause(0.01)
        opened = time.perf_counter() - start
        total = len(app.store.records("issues"))
        print(
            f"open to a usable queue ({len(listing.rows)} open of {total} issues): {opened:.2f} s"
            f"   target < {TARGET_OPEN} s: {verdict(opened < TARGET_OPEN)}"
        )

        print(f"memory with the queue open: {resident_mb():.0f} MB")
        for key, tab in (
            ("2", "households"),
            ("3", "leads"),
            ("4", "stats"),
            ("5", "service"),
            ("1", "queue"),
        ):
            t0 = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            took = time.perf_counter() - t0
            print(
                f"tab {key} ({tab}) first visit: {took:.2f} s   "
                f"target < {TARGET_TAB:g} s: {verdict(took < TARGET_TAB)}"
            )
        memory = resident_mb()
        print(
            f"memory after visiting every tab: {memory:.0f} MB   target < {TARGET_MEMORY_MB} MB: "
            f"{verdict(memory < TARGET_MEMORY_MB)}"
        )
        t0 = time.perf_counter()
        await pilot.press("enter")
        await pilot.pause()
        took = time.perf_counter() - t0
        print(
            f"Enter (read the timelines): {took:.2f} s   "
            f"target < {TARGET_TAB:g} s: {verdict(took < TARGET_TAB)}"
        )
        memory = resident_mb()
        print(
            f"memory after Enter too: {memory:.0f} MB   target < {TARGET_MEMORY_MB} MB: "
            f"{verdict(memory < TARGET_MEMORY_MB)}"
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
                f"   target < {TARGET_KEY * 1000:g} ms: {verdict(median < TARGET_KEY)}"
            )
        await pilot.press("q")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_store_options(parser)
    args = parser.parse_args()
    with measured_store(args) as (path, _workdir):
        asyncio.run(measure(path))


if __name__ == "__main__":
    main()
