"""The full first sync of 30,000 households, timed back to back against another checkout.

    git archive 7381a7c | tar -x -C /tmp/gridtool-before     # the code before signatures
    python bench/bench_sync_compare.py /tmp/gridtool-before --rounds 3

The machine is shared, so one run against a figure noted last week says little: each round times
the other checkout (in its own process, on a store it generated itself) and then this one, and
prints both and their ratio; the verdict on issue 14's target (at most 1.25 times the time
before) compares the best round of each, since load from elsewhere only ever adds time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_RATIO = 1.25

ROUND = """
import contextlib, shutil, sys, time
from pathlib import Path
from gridtool import sync
from gridtool.demo import create_store, generate
from gridtool.store import Store

root, households = Path(sys.argv[1]), int(sys.argv[2])
worker_path = root / "worker" / "gridtool.json"
if not worker_path.exists():
    worker_path.parent.mkdir(parents=True)
    try:
        sys.path.insert(0, sys.argv[3])
        from bench_sync import _key_first  # signed when committed, as on a laptop that syncs
    except ImportError:
        _key_first = contextlib.nullcontext
    with _key_first():
        create_store(worker_path, generate(households=households))
worker = Store(worker_path)
shutil.rmtree(root / "office", ignore_errors=True)
office = Store.init(root / "office" / "gridtool.json", name="office")
sync.trust_add(office, "worker", sync.whoami(worker)["public_key"])
bundle = root / "full.gtb"
start = time.perf_counter()
sync.export_bundle(worker, bundle)
exported = time.perf_counter() - start
start = time.perf_counter()
applied = sync.import_bundle(office, bundle).applied
print(exported, time.perf_counter() - start, applied)
"""


def _round(code: Path, root: Path, households: int) -> tuple[float, float, int]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run(
        [sys.executable, "-c", ROUND, str(root), str(households), str(code / "bench")],
        env=env,
        cwd=code,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--households", type=int, default=30000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", type=Path, help="keep the generated stores here between runs")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    work = args.cache or Path(tempfile.mkdtemp(prefix="gridtool-bench-compare-"))
    ratios, befores, nows = [], [], []
    for number in range(1, args.rounds + 1):
        be, bi, bn = _round(args.before.resolve(), work / "before", args.households)
        ne, ni, nn = _round(here, work / "now", args.households)
        ratio = (ne + ni) / (be + bi)
        ratios.append(ratio)
        befores.append(be + bi)
        nows.append(ne + ni)
        print(
            f"round {number}: before {be + bi:5.2f} s (export {be:.2f} + import {bi:.2f}, {bn} ops)  "
            f"now {ne + ni:5.2f} s (export {ne:.2f} + import {ni:.2f}, {nn} ops)  {ratio:.2f}x"
        )
    best = min(nows) / min(befores)  # other engineers' load only ever slows a run down
    verdict = "ok" if best <= TARGET_RATIO else "MISSED"
    print(
        f"best now {min(nows):.2f} s / best before {min(befores):.2f} s = {best:.2f}x "
        f"(median of rounds {statistics.median(ratios):.2f}x)  target <= {TARGET_RATIO}x: {verdict}"
    )
    if args.cache is None:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
