"""Ledger import benchmarks (issue #4): 30,000 households as CSV (UTF-8, GBK) and xlsx.

    pip install -e '.[bench]'                 # sqlite-utils, the yardstick
    python bench/bench_import.py              # 30,000 households, 3 runs each
    python bench/bench_import.py --households 5000 --runs 1

For each file: an import into a store holding only the grid cells, buildings and leads ("empty"),
then an import of the same ledger with every phone changed into that full store ("all
updates"). Both are measured in-process (``gridtool.ledger.import_file``: read, validate, one
transaction, commit) and as a whole process (``gridtool import households FILE``: Python start-up,
opening the store, the same work). The yardstick is ``sqlite-utils insert --csv`` of the same file
into a new SQLite database, whole process; the ratio printed is ours / theirs. It also times the
two xlsx readers, python-calamine and openpyxl, on the same workbook.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_CSV_S = 2.0
TARGET_HOUSEHOLDS = 30_000


def _gridtool() -> list[str]:
    beside = Path(sys.executable).with_name("gridtool")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "gridtool.commands"]


def _sqlite_utils() -> list[str] | None:
    beside = Path(sys.executable).with_name("sqlite-utils")
    found = str(beside) if beside.exists() else shutil.which("sqlite-utils")
    return [found] if found else None


def _ledger_rows(dataset: dict[str, Any], phone_prefix: str | None = None) -> list[dict[str, Any]]:
    """The households of a generated dataset in the export's shape (head's ID in its own column)."""
    buildings = {b["key"]: b for b in dataset["buildings"]}
    rows = []
    for n, h in enumerate(dataset["households"]):
        building = buildings[h["building"]]
        head, *others = h["members"]
        rows.append(
            {
                "grid_cell": h["grid_cell"],
                "compound": building["compound"],
                "building": building["number"],
                "unit": h["unit"],
                "room": h["room"],
                "head": h["head"],
                "id_number": head["id_number"],
                "phone": f"{phone_prefix}{n:08d}" if phone_prefix else h["phone"],
                "members": others,
                "tags": h["tags"],
                "notes": "",
            }
        )
    return rows


def _write_files(directory: Path, dataset: dict[str, Any], lang: str) -> dict[str, Path]:
    from gridtool.ledger.exporting import table
    from gridtool.ledger.sheets import csv_text, write_xlsx

    files = {}
    for tag, prefix in (("", None), ("-updated", "139")):
        header, rows = table("household", _ledger_rows(dataset, prefix), lang)
        text = csv_text([header, *rows])
        files[f"csv{tag}"] = directory / f"households{tag}.csv"
        files[f"csv{tag}"].write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
        files[f"gbk{tag}"] = directory / f"households{tag}.gbk.csv"
        files[f"gbk{tag}"].write_bytes(text.encode("gb18030"))
        files[f"xlsx{tag}"] = directory / f"households{tag}.xlsx"
        write_xlsx(files[f"xlsx{tag}"], "住户", header, rows)
    return files


def _base_store(directory: Path, dataset: dict[str, Any]) -> Path:
    from gridtool.demo import create_store

    path = directory / "base" / "gridtool.json"
    create_store(path, {**dataset, "households": [], "issues": []})
    return path


def _copy_store(base: Path, directory: Path) -> Path:
    if directory.exists():
        shutil.rmtree(directory)
    shutil.copytree(base.parent, directory)
    return directory / base.name


def _byte_compiled() -> None:
    """Compile gridtool's modules first, as installing does. Where PYTHONDONTWRITEBYTECODE is set
    (it is on this machine), an edited checkout would otherwise compile every changed module again
    in each timed process: up to 0.1 s that an installed tool never spends."""
    import compileall

    import gridtool
    import gridtool.commands

    for package in (gridtool, gridtool.commands):
        for folder in package.__path__:
            compileall.compile_dir(folder, quiet=1)


def _pace() -> float:
    """Seconds for a fixed piece of pure-Python work (dicts and strings, like an import): this
    machine is shared, and its speed moves by a third from one minute to the next, so the figures
    come with the pace they were measured at."""
    start = time.perf_counter()
    table = {}
    for n in range(300_000):
        table[str(n)] = {"n": n, "text": str(n)[::-1]}
    return time.perf_counter() - start


def _verdict(name: str, empty: list[float], full: list[float], households: int) -> str:
    """Whether a CSV of the issue's size met its target, both imports judged by their median."""
    if name == "xlsx" or households != TARGET_HOUSEHOLDS:
        return ""
    ok = statistics.median(empty) < TARGET_CSV_S and statistics.median(full) < TARGET_CSV_S
    return f"   target < {TARGET_CSV_S:g} s: {'ok' if ok else 'MISSED'}"


def _stats(times: list[float]) -> str:
    return f"median {statistics.median(times):6.2f} s  best {min(times):6.2f} s"


def _in_process(
    base: Path, work: Path, first: Path, second: Path, runs: int
) -> tuple[list[float], list[float]]:
    from gridtool.ledger import import_file
    from gridtool.store import Store

    empty, full = [], []
    for _ in range(runs):
        # The last run's store is garbage in a reference cycle (its indexes call back into it):
        # collect it first, so that each run starts, as a command does, without 90 MB of it.
        store = None
        gc.collect()
        path = _copy_store(base, work)
        store = Store(path)
        start = time.perf_counter()
        report = import_file(store, "household", first)
        empty.append(time.perf_counter() - start)
        assert report.created and not report.rejected, report.as_dict()["problems"][:3]
        start = time.perf_counter()
        report = import_file(store, "household", second)
        full.append(time.perf_counter() - start)
        assert report.updated == report.rows, report.counts()
    return empty, full


def _whole_process(
    base: Path, work: Path, first: Path, second: Path, runs: int
) -> tuple[list[float], list[float]]:
    empty, full = [], []
    for _ in range(runs):
        path = _copy_store(base, work)
        for file, times in ((first, empty), (second, full)):
            start = time.perf_counter()
            subprocess.run(
                [*_gridtool(), "--db", str(path), "import", "households", str(file)],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            times.append(time.perf_counter() - start)
    return empty, full


def _sqlite_utils_times(work: Path, file: Path, encoding: str, runs: int) -> list[float] | None:
    tool = _sqlite_utils()
    if tool is None:
        return None
    times = []
    for n in range(runs):
        db = work / f"yardstick-{n}.db"
        db.unlink(missing_ok=True)
        start = time.perf_counter()
        subprocess.run(
            [*tool, "insert", str(db), "households", str(file), "--csv", "--encoding", encoding],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - start)
    return times


def _xlsx_readers(file: Path, runs: int) -> None:
    from gridtool.ledger.sheets import read_xlsx

    for engine in ("calamine", "openpyxl"):
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            [sheet] = read_xlsx(file, None, engine)
            times.append(time.perf_counter() - start)
        print(f"  read {file.name} with {engine:<9} {_stats(times)}  ({len(sheet.rows)} rows)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=30000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-process", action="store_true", help="in-process figures only")
    args = parser.parse_args()

    from gridtool.demo import generate

    _byte_compiled()
    workdir = Path(tempfile.mkdtemp(prefix="gridtool-bench-import-"))
    try:
        start = time.perf_counter()
        dataset = generate(households=args.households, seed=args.seed)
        members = sum(len(h["members"]) for h in dataset["households"])
        files = _write_files(workdir, dataset, "zh")
        base = _base_store(workdir, dataset)
        print(
            f"{len(dataset['households'])} households, {members} people; files and base store made in "
            f"{time.perf_counter() - start:.1f} s"
        )
        for name in ("csv", "gbk", "xlsx"):
            print(f"  {files[name].name}: {files[name].stat().st_size / 1e6:.1f} MB")
        print(f"pace before: {min(_pace() for _ in range(3)):.3f} s (a fixed piece of Python work)")
        print("\nxlsx readers (read only, in-process)")
        _xlsx_readers(files["xlsx"], args.runs)

        yardstick: dict[str, float] = {}
        print("\nsqlite-utils insert --csv (whole process, new database)")
        for name, encoding in (("csv", "utf-8-sig"), ("gbk", "gbk")):
            times = _sqlite_utils_times(workdir, files[name], encoding, args.runs)
            if times is None:
                print("  sqlite-utils not installed: pip install -e '.[bench]'")
                break
            yardstick[name] = statistics.median(times)
            print(f"  {files[name].name:<28} {_stats(times)}")

        print("\ngridtool import households, in-process (read + validate + one transaction + commit)")
        for name in ("csv", "gbk", "xlsx"):
            empty, full = _in_process(base, workdir / "run", files[name], files[f"{name}-updated"], args.runs)
            verdict = _verdict(name, empty, full, args.households)
            print(f"  {files[name].name:<28} into empty store {_stats(empty)}{verdict}")
            print(f"  {'':<28} all updates       {_stats(full)}")
        if not args.skip_process:
            print("\ngridtool import households FILE, whole process")
            for name in ("csv", "gbk", "xlsx"):
                empty, full = _whole_process(
                    base, workdir / "run", files[name], files[f"{name}-updated"], args.runs
                )
                ratio = ""
                if name in yardstick:
                    ratio = f"   ratio to sqlite-utils {statistics.median(empty) / yardstick[name]:.2f}"
                verdict = _verdict(name, empty, full, args.households)
                print(f"  {files[name].name:<28} into empty store {_stats(empty)}{ratio}{verdict}")
                print(f"  {'':<28} all updates       {_stats(full)}")
        print(f"\npace after: {min(_pace() for _ in range(3)):.3f} s")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
