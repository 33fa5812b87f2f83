"""A transaction written in parts (a sync import too big to hold at once) commits as one or not at
all: its last line commits every part, and parts a crash left without one are never read."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridtool import integrity
from gridtool.store import Store, is_part


def _lines(store: Store) -> list[bytes]:
    return store.log_path.read_bytes().splitlines()


def test_a_transaction_in_parts_commits_as_one(tmp_path: Path) -> None:
    store = Store.init(tmp_path / "gridtool.json")
    with store.transaction(actor="刘丹") as tx:
        first = [tx.create("households", {"head": f"住户{n}"}) for n in range(3)]
        tx.write_part()
        assert tx.ops == []  # handed to the log, no longer held
        second = [tx.create("households", {"head": f"住户{n}"}) for n in range(3, 5)]
        tx.write_part()
        last = tx.create("households", {"head": "住户5"})
    lines = _lines(store)
    assert [is_part(line) for line in lines] == [True, True, False]
    again = Store(store.path)
    assert sorted(again.records("households")) == sorted([*first, *second, last])
    assert [op["id"][1] for op in again.operations()] == [1, 2, 3, 4, 5, 6]
    found = integrity.examine(store.path)
    assert found.clean, found.problems


def test_a_last_line_may_commit_parts_without_operations_of_its_own(tmp_path: Path) -> None:
    store = Store.init(tmp_path / "gridtool.json")
    with store.transaction() as tx:
        made = [tx.create("households", {"head": f"住户{n}"}) for n in range(2)]
        tx.write_part()
    assert len(_lines(store)) == 2
    assert sorted(Store(store.path).records("households")) == sorted(made)
    assert integrity.examine(store.path).clean


def test_a_failure_after_parts_takes_them_all_back(tmp_path: Path) -> None:
    store = Store.init(tmp_path / "gridtool.json")
    with store.transaction() as tx:
        kept = tx.create("households", {"head": "王芳"})
    before = store.log_path.read_bytes()
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.create("households", {"head": "李强"})
        tx.write_part()
        tx.create("households", {"head": "赵敏"})
        raise RuntimeError("the import stopped")
    assert store.log_path.read_bytes() == before
    assert list(store.records("households")) == [kept]
    assert list(Store(store.path).records("households")) == [kept]


CRASH = """
import os, sys
from gridtool.store import Store
store = Store(sys.argv[1])
with store.transaction() as tx:
    tx.create("households", {"head": "半途"})
    tx.write_part()
    tx.create("households", {"head": "半途二"})
    tx.write_part()
    os._exit(9)  # killed before the last line: as kill -9 or a power cut would leave it
"""


def test_parts_a_crash_left_are_never_read_and_the_next_change_drops_them(tmp_path: Path) -> None:
    store = Store.init(tmp_path / "gridtool.json")
    with store.transaction() as tx:
        kept = tx.create("households", {"head": "王芳"})
    committed = store.log_path.read_bytes()
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(CRASH), str(store.path)], check=False)
    assert done.returncode == 9
    assert len(store.log_path.read_bytes()) > len(committed)  # the parts are there, uncommitted

    reopened = Store(store.path)
    assert list(reopened.records("households")) == [kept]
    assert [op["id"][1] for op in reopened.operations()] == [1]
    assert reopened.committed_size() == len(committed)
    found = integrity.examine(store.path)
    assert found.clean, found.problems
    assert ("check.log_unfinished", {"file": store.log_path.name, "lines": 2}) in found.checked

    with reopened.transaction() as tx:
        later = tx.create("households", {"head": "李强"})
    log = store.log_path.read_bytes()
    assert log.startswith(committed) and log.count(b"\n") == 2  # the parts were cut, then appended
    assert sorted(Store(store.path).records("households")) == sorted([kept, later])
    assert integrity.examine(store.path).clean


def test_a_reader_open_during_the_crash_catches_up_without_the_parts(tmp_path: Path) -> None:
    store = Store.init(tmp_path / "gridtool.json")
    watcher = Store(store.path)
    subprocess.run([sys.executable, "-c", textwrap.dedent(CRASH), str(store.path)], check=False)
    watcher.refresh()
    assert watcher.records("households") == {}
    with watcher.transaction() as tx:
        tx.create("households", {"head": "李强"})
    assert [op["id"][1] for op in Store(store.path).operations()] == [1]


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=12), max_size=5))
def test_where_the_parts_are_cut_changes_nothing(
    tmp_path_factory: pytest.TempPathFactory, cuts: list[int]
) -> None:
    """Split anywhere, a transaction leaves the same store as written in one line."""
    root = tmp_path_factory.mktemp("parts")
    stores = [Store.init(root / f"{name}.json") for name in ("whole", "parts")]
    for store, splits in zip(stores, ([], sorted(cuts)), strict=True):
        with store.transaction() as tx:
            ids = []
            for n in range(12):
                while splits and splits[0] == n:
                    tx.write_part()
                    splits.pop(0)
                ids.append(tx.create("households", {"head": f"住户{n}"}, record_id=f"H{n:02d}"))
                if n % 3 == 2:
                    tx.update("households", ids[n - 1], {"phone": f"1351234{n:04d}"})
            tx.delete("households", ids[4])
    whole, parts = (Store(s.path) for s in stores)
    assert whole.records("households") == parts.records("households")
    shape = [(op["t"], op["r"], op.get("set"), op.get("del")) for op in whole.operations()]
    assert [(op["t"], op["r"], op.get("set"), op.get("del")) for op in parts.operations()] == shape


def test_repair_after_a_crash_mid_import_cuts_the_parts_and_the_store_opens(tmp_path: Path) -> None:
    store = Store.init(tmp_path / "gridtool.json")
    with store.transaction() as tx:
        kept = tx.create("households", {"head": "王芳"})
    store.checkpoint()
    subprocess.run([sys.executable, "-c", textwrap.dedent(CRASH), str(store.path)], check=False)
    store.path.chmod(0o644)  # something for repair to do
    plan = integrity.repair(store.path)
    assert plan.done, plan
    again = Store(store.path)
    assert list(again.records("households")) == [kept]
    with again.transaction() as tx:
        tx.create("households", {"head": "李强"})
    assert sorted(r["head"] for r in Store(store.path).records("households").values()) == ["李强", "王芳"]
    assert integrity.examine(store.path).clean
