"""Sync benchmarks on a generated store of 30,000 households (issue #6's speed targets).

    python bench/bench_sync.py                  # generates the store in a temp dir
    python bench/bench_sync.py --households 5000
    python bench/bench_sync.py --cli            # also time the same steps as `gridtool` processes
    python bench/bench_sync.py --memory         # only: peak memory importing 1,000,000 operations

Prints wall-clock seconds for a full first sync (export + import into an empty replica), then for a
delta of 10,000 changes (export for the peer, import there), and the bundle sizes: a delta's size
follows the number of changes, not the size of the store.

Since each transaction carries its author's signature (issue 14), it also prints what verifying them
costs: the full first sync beside the figure measured before signatures (target: at most 1.25
times it), and a delta of 10,000 changes made one command at a time, so 10,000 transactions and
10,000 signatures to verify (target: imported in under 1 s).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

TARGETS = {"full": 10.0, "delta_export": 2.0, "delta_import": 1.0}
# Measured before transactions were signed (commit 7381a7c, 30,000 households, this machine's 2 cores
# shared): `python bench/bench_sync.py` there. The full first sync may cost at most 1.25 times it.
BEFORE_SIGNATURES = {"full": 5.31, "delta_import": 0.99}


def _timed(label: str, func: Callable[[], Any], target: float | None = None) -> tuple[Any, float]:
    start = time.perf_counter()
    result = func()
    took = time.perf_counter() - start
    verdict = f"  target < {target:g} s: {'ok' if took < target else 'MISSED'}" if target else ""
    print(f"{label:<58} {took:7.2f} s{verdict}")
    return result, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=30000)
    parser.add_argument("--changes", type=int, default=10000)
    parser.add_argument("--issues", type=int, help="issues to generate (default: one per two households)")
    parser.add_argument("--cli", action="store_true", help="also time the steps as gridtool processes")
    parser.add_argument(
        "--memory", action="store_true", help="only measure peak memory importing 1,000,000 operations"
    )
    parser.add_argument("--memory-ops", type=int, default=1_000_000)
    parser.add_argument(
        "--per-transaction",
        type=int,
        default=10_000,
        help="operations per transaction in the --memory bundle (1000000: all in one)",
    )
    parser.add_argument("--cache", type=Path, help="keep the generated big bundle here between runs")
    args = parser.parse_args()
    if args.memory:
        _memory(args.memory_ops, args.cache, args.per_transaction)
        return

    from gridtool import sync
    from gridtool.demo import create_store, generate
    from gridtool.store import Store

    workdir = Path(tempfile.mkdtemp(prefix="gridtool-bench-sync-"))
    try:
        worker_path = workdir / "worker" / "gridtool.json"
        worker_path.parent.mkdir()
        start = time.perf_counter()
        with _key_first():
            create_store(worker_path, generate(households=args.households, issues=args.issues))
        worker = Store(worker_path)
        ops = sum(1 for _ in worker.operations())
        print(
            f"generated {args.households} households, {len(worker.records('issues'))} issues "
            f"({ops} operations in the log) "
            f"in {time.perf_counter() - start:.2f} s"
        )
        office = Store.init(workdir / "office" / "gridtool.json", name="office")
        sync.trust_add(office, "worker", sync.whoami(worker)["public_key"])
        sync.trust_add(worker, "office", sync.whoami(office)["public_key"])
        print()

        full = workdir / "full.gtb"
        exported, t_export = _timed(
            "full first sync: export everything", lambda: sync.export_bundle(worker, full)
        )
        with _refold_timed() as refolding:
            imported, t_import = _timed(
                "full first sync: import into an empty replica", lambda: sync.import_bundle(office, full)
            )
        print(
            f"{'  of which refolding the issues it touched':<58} {refolding[0]:7.2f} s  "
            f"({100 * refolding[0] / t_import:.1f}% of the import)"
        )
        total = t_export + t_import
        print(
            f"{'full first sync: total':<58} {total:7.2f} s  target < {TARGETS['full']:g} s: "
            f"{'ok' if total < TARGETS['full'] else 'MISSED'}"
        )
        limit = 1.25 * BEFORE_SIGNATURES["full"]
        print(
            f"{'full first sync: before signatures':<58} {BEFORE_SIGNATURES['full']:7.2f} s  "
            f"now {total / BEFORE_SIGNATURES['full']:.2f}x, target <= 1.25x ({limit:.2f} s): "
            f"{'ok' if total <= limit else 'MISSED'}"
        )
        assert imported.applied == exported.ops == ops

        hello = workdir / "hello.gtb"  # the office tells the worker what it now holds
        sync.export_bundle(office, hello, peer="worker")
        sync.import_bundle(worker, hello)

        households = list(worker.records("households"))
        start = time.perf_counter()
        with worker.transaction() as tx:
            for n in range(args.changes):
                rid = households[n % len(households)]
                tx.update("households", rid, {"notes": f"visited {n}"})
        print(f"\nmade {args.changes} changes in one transaction in {time.perf_counter() - start:.2f} s")
        delta = workdir / "delta.gtb"
        out, _ = _timed(
            f"delta: export {args.changes} changes for the office",
            lambda: sync.export_bundle(worker, delta, peer="office"),
            TARGETS["delta_export"],
        )
        result, _ = _timed(
            f"delta: import {args.changes} changes at the office",
            lambda: sync.import_bundle(office, delta),
            TARGETS["delta_import"],
        )
        assert out.ops == args.changes and result.applied == args.changes
        print(f"{'delta: import before signatures':<58} {BEFORE_SIGNATURES['delta_import']:7.2f} s")
        _one_by_one(workdir, worker, office, households, args.changes)

        small = workdir / "small.gtb"
        with worker.transaction() as tx:
            for n in range(100):
                tx.update("households", households[n], {"notes": f"revisited {n}"})
        sync.export_bundle(office, hello, peer="worker")
        sync.import_bundle(worker, hello)
        small_out = sync.export_bundle(worker, small, peer="office")
        print()
        print(
            f"bundle sizes: full ({exported.ops} ops) {exported.size / 1e6:.2f} MB; "
            f"delta of {out.ops} changes {out.size / 1e6:.2f} MB; "
            f"delta of {small_out.ops} changes {small_out.size / 1e3:.1f} kB"
        )
        if args.cli:
            _cli(workdir, worker, args.changes)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def _refold_timed() -> Iterator[list[float]]:
    """Time what an import spends making issues' cached fields their folded timelines (issue 14):
    the batches it is shown and the corrections it writes at the end."""
    from unittest import mock

    from gridtool import issues  # noqa: F401 - registers the refold
    from gridtool.sync import derived

    spent = [0.0]
    see, finish = derived.Refolding.see, derived.Refolding.finish

    def timed(method: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args)
            finally:
                spent[0] += time.perf_counter() - start

        return wrapper

    with (
        mock.patch.object(derived.Refolding, "see", timed(see)),
        mock.patch.object(derived.Refolding, "finish", timed(finish)),
    ):
        yield spent


@contextlib.contextmanager
def _key_first() -> Iterator[None]:
    """Give the store its sync key before anything is written, as on a laptop that syncs: every
    transaction is then signed when committed, not at each export (what a store written before
    signatures costs until it is exported once)."""
    from unittest import mock

    from gridtool import sync
    from gridtool.store import Store

    init = Store.init.__func__  # type: ignore[attr-defined]

    def init_with_key(cls: type[Store], path: Any, name: str | None = None) -> Store:
        store = init(cls, path, name)
        sync.whoami(store)  # makes the key
        return store

    with mock.patch.object(Store, "init", classmethod(init_with_key)):
        yield


def _one_by_one(workdir: Path, worker: Any, office: Any, households: list[str], changes: int) -> None:
    """A delta of ``changes`` edits each made by its own command: as many signed transactions."""
    import os
    from unittest import mock

    from gridtool import sync

    hello = workdir / "hello-2.gtb"
    sync.export_bundle(office, hello, peer="worker")
    sync.import_bundle(worker, hello)
    start = time.perf_counter()
    with mock.patch.object(os, "fsync", lambda fd: None):  # setting up, not measured: 10,000 fsyncs
        for n in range(changes):
            with worker.transaction() as tx:
                tx.update("households", households[n % len(households)], {"notes": f"one by one {n}"})
    print(f"\nmade {changes} changes, one transaction each, in {time.perf_counter() - start:.2f} s")
    delta = workdir / "delta-signed.gtb"
    out, _ = _timed(
        f"delta: export {changes} transactions for the office",
        lambda: sync.export_bundle(worker, delta, peer="office"),
        TARGETS["delta_export"],
    )
    result, _ = _timed(
        f"delta: import {changes} transactions (each signature checked)",
        lambda: sync.import_bundle(office, delta),
        TARGETS["delta_import"],
    )
    assert out.ops == changes and result.applied == changes
    from gridtool.sync import signing

    header = {"tx": "bench"}
    ops = [
        {
            "id": [worker.replica, 1],
            "hlc": [0, 0],
            "t": "households",
            "r": households[0],
            "set": {"notes": "x"},
        }
    ]
    signed = {**header, **signing.sign(sync._private_key(worker), header, ops)}
    raw = sync._public_raw(sync._private_key(worker))
    start = time.perf_counter()
    for _ in range(2000):
        signing.verify(raw, signed, ops)
    per_second = 2000 / (time.perf_counter() - start)
    print(f"{'signature checks per second (one-operation transaction)':<58} {per_second:7.0f}")


def _cli(workdir: Path, worker: Any, changes: int) -> None:
    """The same first sync and delta, as a person runs them: whole processes, a new office."""
    import os
    import subprocess
    import sys

    from gridtool import sync
    from gridtool.store import Store

    office = Store.init(workdir / "office2" / "gridtool.json", name="office2")
    sync.trust_add(office, "worker", sync.whoami(worker)["public_key"])
    sync.trust_add(worker, "office2", sync.whoami(office)["public_key"])
    env = {**os.environ, "GRIDTOOL_LANG": "en"}
    beside = Path(sys.executable).with_name("gridtool")
    exe = [str(beside)] if beside.exists() else [sys.executable, "-m", "gridtool.commands"]

    def gridtool(store: Any, *args: str) -> None:
        subprocess.run([*exe, "--db", str(store.path), *args], env=env, check=True, capture_output=True)

    print()
    full = str(workdir / "cli-full.gtb")
    _, t_export = _timed(
        "gridtool sync export (everything)", lambda: gridtool(worker, "sync", "export", "--to", full)
    )
    _, t_import = _timed(
        "gridtool sync import (into an empty replica)", lambda: gridtool(office, "sync", "import", full)
    )
    total = t_export + t_import
    verdict = "ok" if total < TARGETS["full"] else "MISSED"
    print(
        f"{'gridtool full first sync: total':<58} {total:7.2f} s  target < {TARGETS['full']:g} s: {verdict}"
    )
    hello = workdir / "cli-hello.gtb"
    sync.export_bundle(office, hello, peer="worker")
    sync.import_bundle(worker, hello)
    households = list(worker.records("households"))
    with worker.transaction() as tx:
        for n in range(changes):
            tx.update("households", households[n % len(households)], {"notes": f"called {n}"})
    delta = str(workdir / "cli-delta.gtb")
    _timed(
        f"gridtool sync export --for office2 ({changes} changes)",
        lambda: gridtool(worker, "sync", "export", "--to", delta, "--for", "office2"),
        TARGETS["delta_export"],
    )
    _timed(
        f"gridtool sync import ({changes} changes)",
        lambda: gridtool(office, "sync", "import", delta),
        TARGETS["delta_import"],
    )


MEMORY_TARGET_MB = 500


def _memory(total: int, cache: Path | None, per_transaction: int = 10_000) -> None:
    """Peak resident memory of a process importing a bundle of ``total`` operations (target: under
    500 MB), read from ``/usr/bin/time -f %M``. The bundle holds a small store's records and then
    edits to them, ``per_transaction`` in each: what a hostile but trusted peer could send."""
    import os
    import subprocess
    import sys
    from unittest import mock

    from gridtool import sync
    from gridtool.demo import create_store, generate
    from gridtool.store import Store

    workdir = cache or Path(tempfile.mkdtemp(prefix="gridtool-bench-sync-memory-"))
    bundle = workdir / f"ops-{total}-{per_transaction}.gtb"
    worker_path = workdir / f"worker-{per_transaction}" / "gridtool.json"
    try:
        if not bundle.exists():
            start = time.perf_counter()
            shutil.rmtree(worker_path.parent, ignore_errors=True)
            worker_path.parent.mkdir(parents=True)
            with _key_first():
                create_store(worker_path, generate(households=1000))
            worker = Store(worker_path)
            households = list(worker.records("households"))
            made = sum(1 for _ in worker.operations())
            with mock.patch.object(os, "fsync", lambda fd: None):
                n = 0
                while made < total:
                    with worker.transaction() as tx:
                        for _ in range(min(per_transaction, total - made)):
                            tx.update("households", households[n % len(households)], {"notes": f"m {n}"})
                            n += 1
                            made += 1
            out = sync.export_bundle(worker, bundle)
            print(
                f"generated a bundle of {out.ops} operations ({out.size / 1e6:.1f} MB) "
                f"in {time.perf_counter() - start:.1f} s"
            )
        worker = Store(worker_path)
        office = workdir / "office" / "gridtool.json"
        shutil.rmtree(office.parent, ignore_errors=True)
        script = (
            "import sys\n"
            "from gridtool import sync\n"
            "from gridtool.store import Store\n"
            "office = Store.init(sys.argv[1], name='office')\n"
            "sync.trust_add(office, 'worker', sys.argv[2])\n"
            "print(sync.import_bundle(office, sys.argv[3]).applied)\n"
        )
        key = sync.whoami(worker)["public_key"]
        start = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M KB", sys.executable, "-c", script, str(office), key, str(bundle)],
            capture_output=True,
            text=True,
        )
        took = time.perf_counter() - start
        if done.returncode != 0:
            print(done.stderr[-2000:])
            raise SystemExit(1)
        peak_mb = int(done.stderr.strip().splitlines()[-1].split()[0]) / 1024
        applied = int(done.stdout.strip().splitlines()[-1])
        verdict = "ok" if peak_mb < MEMORY_TARGET_MB else "MISSED"
        print(f"import {applied} operations: {took:.1f} s")
        print(
            f"{'peak memory importing ' + str(applied) + ' operations':<58} {peak_mb:7.0f} MB  "
            f"target < {MEMORY_TARGET_MB} MB: {verdict}"
        )
    finally:
        if cache is None:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            shutil.rmtree(workdir / "office", ignore_errors=True)


if __name__ == "__main__":
    main()
