"""Checksums on every file the store writes, stores from before them, and what check and repair do."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import orjson
import pytest

from gridtool import integrity
from gridtool import store as store_module
from gridtool.errors import StoreError
from gridtool.store import Store, seal, unseal
from tests.conftest import snapshot


def _filled(store: Store, households: int = 5) -> list[str]:
    with store.transaction(actor="刘丹") as tx:
        ids = [tx.create("households", {"head": f"住户{n}", "room": f"{n:04d}"}) for n in range(households)]
        tx.create("issues", {"title": "楼道飞线充电"})
    with store.transaction() as tx:
        tx.update("households", ids[0], {"phone": "13512345678"})
    return ids


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x20
    path.write_bytes(bytes(data))


def _unsealed(path: Path) -> None:
    """Rewrite a store as the gridtool before checksums wrote it: no seals, no list of tables, and
    each checkpoint's offset where that log's lines end."""
    log = path.with_name(path.name + ".log")
    moved, old_at, new_at, lines = {0: 0}, 0, 0, []
    for line in log.read_bytes().splitlines():
        lines.append(orjson.dumps(unseal(line)) + b"\n")
        old_at, new_at = old_at + len(line) + 1, new_at + len(lines[-1])
        moved[old_at] = new_at
    log.write_bytes(b"".join(lines))
    path.with_name(path.name + ".lock").write_bytes(b"")  # it recorded no commits then
    for file_path in [path, *integrity_table_files(path)]:
        data = unseal(file_path.read_bytes())
        meta = data[store_module.META]
        meta = meta.get("store") or meta["table"]
        meta["log_offset"] = moved[meta["log_offset"]]
        for key in ("sums_from", "tables"):
            meta.pop(key, None)
        file_path.write_bytes(orjson.dumps(data))


def integrity_table_files(path: Path) -> list[Path]:
    return [path.with_name(f"{path.name}.{t}") for t in integrity._table_names_on_disk(path)]


def test_every_log_line_and_checkpoint_is_sealed_with_its_checksum(store: Store) -> None:
    _filled(store)
    store.checkpoint()
    for file_path in [store.path, *integrity_table_files(store.path)]:
        assert store_module.is_sealed(file_path.read_bytes()), file_path
    lines = store.log_path.read_bytes().splitlines()
    assert lines and all(store_module.is_sealed(line) for line in lines)
    assert "crc" not in unseal(lines[0])  # the checksum is not part of the entry it seals


def test_the_checksum_covers_whatever_keys_an_entry_holds(store: Store) -> None:
    body = orjson.dumps({"v": 1, "ops": [], "key": "k1", "sig": "c2ln"})
    assert unseal(seal(body)) == {"v": 1, "ops": [], "key": "k1", "sig": "c2ln"}
    with pytest.raises(store_module.Damaged):
        unseal(seal(body).replace(b"k1", b"k2"))


@pytest.mark.parametrize("which", ["main", "households", "log"])
def test_a_flipped_byte_is_refused_by_file_and_place_and_nothing_is_shown(store: Store, which: str) -> None:
    _filled(store)
    store.checkpoint()
    with store.transaction() as tx:  # one line past the checkpoint, replayed on open
        tx.create("households", {"head": "谭石泉"})
    target = {"main": store.path, "households": store.table_path("households"), "log": store.log_path}[which]
    _flip(target, target.stat().st_size - 40 if which == "log" else 30)
    before = snapshot(store.path)
    with pytest.raises(StoreError) as refused:
        Store(store.path).records("households")
    message = str(refused.value)
    assert str(target) in message and "gridtool store repair" in message
    if which == "log":
        assert "byte" in message
    assert snapshot(store.path) == before


def test_a_store_from_before_checksums_opens_and_is_upgraded(store: Store) -> None:
    ids = _filled(store)
    store.checkpoint()
    with store.transaction() as tx:  # a tail the upgrade must keep
        tx.update("households", ids[1], {"head": "程金娇"})
    _unsealed(store.path)
    assert not store_module.is_sealed(store.path.read_bytes())
    legacy_size = store.log_path.stat().st_size
    upgraded = Store(store.path)
    assert upgraded.get("households", ids[1])["head"] == "程金娇"
    assert upgraded.meta["sums_from"] == legacy_size
    for file_path in [store.path, *integrity_table_files(store.path)]:
        assert store_module.is_sealed(file_path.read_bytes()), file_path
    with upgraded.transaction() as tx:
        tx.update("households", ids[2], {"head": "谭石泉"})
    assert store_module.is_sealed(store.log_path.read_bytes().splitlines()[-1])
    assert integrity.examine(store.path).clean
    assert Store(store.path).get("households", ids[2])["head"] == "谭石泉"


def test_a_table_never_written_does_not_read_the_log_before_the_checkpoint(store: Store) -> None:
    _filled(store)
    store.checkpoint()
    _flip(store.log_path, 10)  # damage only a read of the whole log would meet
    reopened = Store(store.path)
    assert reopened.records("orders") == {}
    assert len(reopened.records("households")) == 5
    assert not integrity.examine(store.path).clean


def test_a_table_file_the_checkpoint_wrote_then_lost_is_refused(store: Store) -> None:
    _filled(store)
    store.checkpoint()
    store.table_path("issues").unlink()
    with pytest.raises(StoreError, match="store repair"):
        Store(store.path).records("issues")


def test_temp_files_of_an_interrupted_checkpoint_are_removed_on_open(store: Store) -> None:
    _filled(store)
    dead = store.path.with_name(f".{store.path.name}.households.999999999.ABCDEF.tmp")
    dead.write_bytes(b"{}")
    mine = store.path.with_name(f".{store.path.name}.issues.{os.getpid()}.ABCDEF.tmp")
    mine.write_bytes(b"{}")
    Store(store.path)
    assert not dead.exists() and mine.exists()  # a live process may still be writing its own


def test_a_failed_init_leaves_nothing_behind(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(store_module, "write_private", disk_full)
    with pytest.raises(StoreError, match="No space left"):
        Store.init(store_path)
    assert store_module.leftovers(store_path) == [] and not store_path.exists()
    monkeypatch.undo()
    assert Store.init(store_path).records("households") == {}


def test_check_names_each_kind_of_problem(store: Store) -> None:
    _filled(store)
    store.checkpoint()
    assert integrity.examine(store.path).clean
    os.chmod(store.table_path("issues"), 0o644)
    with open(store.log_path, "ab") as fh:
        fh.write(b'{"v":1,"ops":[{"id":')  # a crash's remnant: after the last commit's record
    found = integrity.examine(store.path)
    assert [key for key, _ in found.problems] == ["check.mode"]
    assert "check.log_remnant" in [key for key, _ in found.checked]
    store.lock.path.write_bytes(b"")  # without the record, a torn line may be a cut log
    assert {key for key, _ in integrity.examine(store.path).problems} == {"check.mode", "check.log_torn"}


def test_check_finds_an_authors_sequence_jumping(store: Store) -> None:
    _filled(store)
    op = {"id": [store.replica, 99], "hlc": [1, 0], "t": "households", "r": "X", "pred": [], "set": {}}
    with open(store.log_path, "ab") as fh:
        fh.write(seal(orjson.dumps({"v": 1, "tx": "T", "ops": [op]})) + b"\n")
    problems = integrity.examine(store.path).problems
    assert [key for key, _ in problems] == ["check.seq_gap"] and problems[0][1]["seq"] == 99


def test_repair_keeps_verified_checkpoints_and_rebuilds_a_damaged_one(store: Store) -> None:
    ids = _filled(store)
    store.checkpoint()
    _flip(store.table_path("households"), 40)
    plan = integrity.repair(store.path, dry_run=True)
    assert plan.rebuild_tables == ["households"] and plan.backup is None
    before = snapshot(store.path)
    assert snapshot(store.path) == before
    plan = integrity.repair(store.path)
    assert plan.backup is not None and stat.S_IMODE(plan.backup.stat().st_mode) == 0o700
    assert (plan.backup / store.table_path("households").name).exists()
    assert integrity.examine(store.path).clean
    assert Store(store.path).get("households", ids[0])["phone"] == "13512345678"  # the log had it all


def test_repair_cuts_a_damaged_log_and_a_new_replica_never_reuses_lost_numbers(store: Store) -> None:
    ids = _filled(store)
    store.checkpoint()
    old = store.replica
    with store.transaction() as tx:  # only the log holds this line
        tx.update("households", ids[3], {"head": "改过"})
    _flip(store.log_path, store.log_path.stat().st_size - 30)
    plan = integrity.repair(store.path)
    assert plan.cut_at is not None and plan.new_replica
    assert [line.ids for line in plan.examination.lost] == [[(old, 8)]]
    repaired = Store(store.path)
    assert repaired.replica != old and repaired.get("households", ids[3])["head"] == "住户3"
    assert repaired.last_op(repaired.get("households", ids[0])) == [[old, 7]]
    with repaired.transaction() as tx:
        tx.update("households", ids[3], {"head": "再改"})
    assert [op["id"] for op in repaired.operations()][-1] == [repaired.replica, 1]
    assert integrity.examine(store.path).clean


def test_repair_of_a_clean_store_changes_nothing(store: Store) -> None:
    _filled(store)
    before = snapshot(store.path)
    plan = integrity.repair(store.path)
    assert plan.examination.clean and plan.backup is None and snapshot(store.path) == before


def test_stores_that_synced_through_a_gap_check_clean(tmp_path: Path, community: dict, store: Store) -> None:
    from gridtool import sync

    office = Store.init(tmp_path / "office" / "gridtool.json", name="office")
    sync.trust_add(office, "liudan", sync.whoami(store)["public_key"])
    sync.trust_add(store, "office", sync.whoami(office)["public_key"])
    sync.export_bundle(store, tmp_path / "first.gtb")
    sent = sync.vector(store)
    with store.transaction() as tx:
        tx.update("households", community["household"], {"notes": "after"})
    sync.export_bundle(store, tmp_path / "later.gtb", since=sent)
    sync.import_bundle(office, tmp_path / "later.gtb")  # held back: a gap
    sync.import_bundle(office, tmp_path / "first.gtb")
    with office.transaction() as tx:
        tx.update("households", community["household"], {"notes": "office"})
    sync.export_bundle(office, tmp_path / "back.gtb")
    sync.import_bundle(store, tmp_path / "back.gtb")
    for synced in (store, office):
        found = integrity.examine(synced.path)
        assert found.clean, found.problems


def test_committed_lines_cut_off_the_end_of_the_log_are_refused_not_skipped(store: Store) -> None:
    ids = _filled(store)
    store.checkpoint()
    with store.transaction() as tx:
        tx.update("households", ids[4], {"head": "最后一笔"})
    with store.transaction() as tx:
        tx.update("households", ids[4], {"phone": "13912345678"})
    log = store.log_path.read_bytes()
    store.log_path.write_bytes(log[: log.rindex(b"\n", 0, len(log) - 1) + 1])  # one whole line gone
    with pytest.raises(StoreError, match="last commit"):
        Store(store.path)
    assert [key for key, _ in integrity.examine(store.path).problems] == ["check.log_cut"]
    plan = integrity.repair(store.path)
    assert plan.new_replica and integrity.examine(store.path).clean
    assert Store(store.path).get("households", ids[4])["head"] == "最后一笔"


def test_a_new_store_where_one_was_removed_starts_with_no_record_of_its_log(store: Store) -> None:
    _filled(store)
    for file_path in [store.path, store.log_path, *integrity_table_files(store.path)]:
        file_path.unlink()
    fresh = Store.init(store.path)
    with fresh.transaction() as tx:
        tx.create("households", {"head": "新"})
    assert len(Store(store.path).records("households")) == 1


def test_entries_are_read_verified_from_any_line(store: Store) -> None:
    _filled(store)
    with open(store.log_path, "ab") as fh:
        fh.write(b'{"v":1,"ops":[{"id":')  # a torn tail is not an entry
    offsets = [offset for offset, _ in store.entries()]
    assert len(offsets) == 2 and [len(e["ops"]) for _, e in store.entries(offsets[1])] == [1]
    _flip(store.log_path, 20)
    with pytest.raises(StoreError, match="byte 0"):
        list(store.entries())


def test_a_table_untouched_by_a_big_import_does_not_read_it_again(store: Store, monkeypatch) -> None:
    ids = _filled(store)
    store.checkpoint()
    with store.transaction() as tx:
        for n in range(200):
            tx.create("issues", {"title": f"诉求{n}"})
    store.checkpoint()
    read: list[int] = []
    entry = store_module.log_entry
    monkeypatch.setattr(
        store_module,
        "log_entry",
        lambda line, offset, *a, **k: read.append(offset) or entry(line, offset, *a, **k),
    )
    assert Store(store.path).get("households", ids[0])["phone"] == "13512345678"
    assert read == []


def test_a_table_file_put_back_from_an_older_copy_is_found_and_caught_up(store: Store) -> None:
    ids = _filled(store)
    store.checkpoint()
    older = store.table_path("households").read_bytes()
    with store.transaction() as tx:
        tx.update("households", ids[2], {"head": "后来改的"})
    store.checkpoint()
    store.table_path("households").write_bytes(older)
    assert [key for key, _ in integrity.examine(store.path).problems] == ["check.table_behind"]
    plan = integrity.repair(store.path)
    assert plan.catch_up_tables == ["households"] and integrity.examine(store.path).clean
    assert Store(store.path).get("households", ids[2])["head"] == "后来改的"


def test_a_rebuilt_main_file_leaves_no_table_behind(store: Store) -> None:
    ids = _filled(store)
    store.checkpoint()
    with store.transaction() as tx:  # the tail: past every checkpoint
        tx.update("households", ids[1], {"head": "尾巴"})
    _flip(store.path, 25)
    plan = integrity.repair(store.path)
    assert plan.rebuild_main and "households" in plan.catch_up_tables
    assert integrity.examine(store.path).clean
    assert Store(store.path).get("households", ids[1])["head"] == "尾巴"
