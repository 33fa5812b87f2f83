"""The store's guarantees: atomic, private, one log line per transaction, no lost updates."""

from __future__ import annotations

import gc
import itertools
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest

from gridtool import store as store_module
from gridtool.errors import StoreError
from gridtool.store import Store
from tests.conftest import snapshot


def _log_lines(store: Store) -> list[dict]:
    return [orjson.loads(line) for line in store.log_path.read_bytes().splitlines()]


def test_init_creates_private_files_and_refuses_to_overwrite(store_path: Path) -> None:
    store = Store.init(store_path)
    for path in (store.path, store.log_path, store.lock.path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    with pytest.raises(StoreError, match="already exists"):
        Store.init(store_path)


def test_opening_a_missing_store_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="gridtool init"):
        Store(tmp_path / "nothing.json")


def test_a_transaction_is_one_log_line_and_survives_reopening(store: Store) -> None:
    with store.transaction(actor="刘丹") as tx:
        first = tx.create("households", {"head": "程金娇"})
        tx.create("households", {"head": "谭石泉"})
        tx.update("households", first, {"phone": "13512345678"})
    lines = _log_lines(store)
    assert len(lines) == 1 and len(lines[0]["ops"]) == 3 and lines[0]["actor"] == "刘丹"
    reopened = Store(store.path)
    assert reopened.get("households", first)["phone"] == "13512345678"
    assert {r["head"] for r in reopened.records("households").values()} == {"程金娇", "谭石泉"}


def test_operations_carry_replica_sequence_clock_and_predecessor(store: Store) -> None:
    with store.transaction() as tx:
        rid = tx.create("grid_cells", {"code": "A"})
    with store.transaction() as tx:
        tx.update("grid_cells", rid, {"code": "B"})
    with store.transaction() as tx:
        tx.delete("grid_cells", rid)
    ops = list(store.operations())
    assert [op["id"] for op in ops] == [[store.replica, 1], [store.replica, 2], [store.replica, 3]]
    assert ops[0]["pred"] == [] and ops[1]["pred"] == [ops[0]["id"]] and ops[2]["pred"] == [ops[1]["id"]]
    assert ops[2]["del"] is True  # a deletion is a tombstone in the log, not a lost line
    assert ops[0]["hlc"] < ops[1]["hlc"] < ops[2]["hlc"]
    assert Store(store.path).get("grid_cells", rid) is None


def test_an_update_that_changes_nothing_writes_nothing(store: Store) -> None:
    with store.transaction() as tx:
        rid = tx.create("grid_cells", {"code": "A"})
    before = snapshot(store.path)
    with store.transaction() as tx:
        assert tx.update("grid_cells", rid, {"code": "A"}) is False
    assert snapshot(store.path) == before


def test_an_error_inside_a_transaction_leaves_the_files_and_the_view_untouched(store: Store) -> None:
    with store.transaction() as tx:
        rid = tx.create("grid_cells", {"code": "A"})
    before = snapshot(store.path)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.update("grid_cells", rid, {"code": "B"})
        tx.create("grid_cells", {"code": "C"})
        raise RuntimeError("interrupted")
    assert snapshot(store.path) == before
    assert [r["code"] for r in store.records("grid_cells").values()] == ["A"]


def test_a_checkpoint_replaces_the_file_and_opening_replays_only_the_tail(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "CHECKPOINT_BYTES", 200)
    with store.transaction() as tx:
        for n in range(20):
            tx.create("grid_cells", {"code": f"G{n}"})
            tx.create("households", {"head": f"户主{n}"})
    checkpoint = orjson.loads(store.path.read_bytes())
    assert checkpoint["_meta"]["store"]["log_offset"] == store.log_path.stat().st_size
    assert len(checkpoint["grid_cells"]) == 20 and "households" not in checkpoint
    assert len(orjson.loads(store.table_path("households").read_bytes())["households"]) == 20
    with store.transaction() as tx:
        tx.create("households", {"head": "最后一户"})
    assert len(Store(store.path).records("households")) == 21


def test_a_checkpoint_that_fails_or_is_interrupted_leaves_the_saved_edit_saved(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log line is the commit: a full disk during the checkpoint after it does not report the
    edit as failed; a Ctrl-C there ends the command, and the edit is saved all the same."""
    monkeypatch.setattr(store_module, "CHECKPOINT_BYTES", 200)
    for n, failure in enumerate((OSError(28, "No space left on device"), KeyboardInterrupt())):

        def fail(path: Path, data: bytes, failure: BaseException = failure) -> None:
            raise failure

        with monkeypatch.context() as patched:
            patched.setattr(store_module, "write_private", fail)  # the checkpoint's files only
            try:
                with store.transaction() as tx:
                    for k in range(10):
                        tx.create("households", {"head": f"户主{n}-{k}"})
            except KeyboardInterrupt:
                assert isinstance(failure, KeyboardInterrupt)
        assert len(Store(store.path).records("households")) == 10 * (n + 1)
        assert len(store.records("households")) == 10 * (n + 1)


def test_a_ctrl_c_while_the_log_line_is_synced_leaves_the_store_as_before(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupting a write before its log line is safe takes it back whole: the command says
    "Aborted!", and that must be true (the import issue: Ctrl-C leaves the store as before)."""
    with store.transaction() as tx:
        tx.create("households", {"head": "程金娇"})
    before = snapshot(store.path)

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(store_module.os, "fsync", interrupted)
        with pytest.raises(KeyboardInterrupt), store.transaction() as tx:
            for n in range(100):
                tx.create("households", {"head": f"户主{n}"})
    assert snapshot(store.path) == before
    assert len(store.records("households")) == 1 and len(Store(store.path).records("households")) == 1
    with store.transaction() as tx:  # and the next write goes on from there
        tx.create("households", {"head": "谭石泉"})
    assert len(Store(store.path).records("households")) == 2


def test_a_corrupt_store_file_is_named_and_never_overwritten(store: Store) -> None:
    store.path.write_bytes(b'{"_meta": {"store": ')
    before = snapshot(store.path)
    with pytest.raises(StoreError) as refused:
        Store(store.path)
    assert str(store.path) in str(refused.value) and "damaged" in str(refused.value)
    assert snapshot(store.path) == before


def test_a_damaged_log_line_is_reported_with_its_place(store: Store) -> None:
    with store.transaction() as tx:
        tx.create("grid_cells", {"code": "A"})
    with open(store.log_path, "ab") as fh:
        fh.write(b"not json\n")
    with pytest.raises(StoreError, match="damaged at byte"):
        Store(store.path)


def test_a_line_cut_short_by_a_crash_is_ignored_then_replaced(store: Store) -> None:
    with store.transaction() as tx:
        tx.create("grid_cells", {"code": "A"})
    with open(store.log_path, "ab") as fh:
        fh.write(b'{"v":1,"ops":[{"id":')  # the process died mid-append
    reopened = Store(store.path)
    assert len(reopened.records("grid_cells")) == 1
    with reopened.transaction() as tx:
        tx.create("grid_cells", {"code": "B"})
    assert len(_log_lines(reopened)) == 2
    assert {r["code"] for r in Store(store.path).records("grid_cells").values()} == {"A", "B"}


def test_a_store_from_a_newer_gridtool_is_refused_clearly(store: Store) -> None:
    data = orjson.loads(store.path.read_bytes())
    data.pop("crc")
    data["_meta"]["store"]["schema"] = store_module.SCHEMA_VERSION + 1
    store.path.write_bytes(store_module.seal(orjson.dumps(data)))
    before = snapshot(store.path)
    with pytest.raises(StoreError, match="newer gridtool"):
        Store(store.path)
    assert snapshot(store.path) == before


def test_an_older_store_is_migrated_on_open(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    with store.transaction() as tx:
        rid = tx.create("households", {"head": "程金娇", "phone": "13512345678"})

    def add_tags(tables: dict) -> None:
        for record in tables["households"].values():
            record.setdefault("tags", [])

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(store_module.MIGRATIONS, 1, add_tags)
    migrated = Store(store.path)
    assert migrated.meta["schema"] == 2
    assert migrated.get("households", rid)["tags"] == []
    assert orjson.loads(store.path.read_bytes())["_meta"]["store"]["schema"] == 2


def test_a_long_lived_reader_sees_another_writers_changes(store: Store) -> None:
    other = Store(store.path)
    assert other.refresh() is False
    with store.transaction() as tx:
        rid = tx.create("grid_cells", {"code": "A"})
    assert other.refresh() is True
    assert other.get("grid_cells", rid)["code"] == "A"
    with other.transaction() as tx:  # the writer re-reads before writing: nothing is lost
        tx.create("grid_cells", {"code": "B"})
    store.refresh()
    assert {r["code"] for r in store.records("grid_cells").values()} == {"A", "B"}


WRITER = textwrap.dedent(
    """
    import sys
    from gridtool import register
    from gridtool.store import Store

    store = Store(sys.argv[1])
    building = sys.argv[2]
    for n in range(int(sys.argv[4])):
        register.add(store, "household", {"building": building, "unit": 1, "room": f"{sys.argv[3]}{n:03d}",
                                          "head": f"住户{sys.argv[3]}{n}"})
    """
)


def test_two_processes_adding_households_at_once_both_keep_their_rows(store: Store) -> None:
    from gridtool import register

    register.add(store, "grid_cell", {"code": "TL-03", "name": "三网格"})
    building = register.add(store, "building", {"grid_cell": "TL-03", "compound": "湘离小区", "number": "5"})
    count = 40
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(store.path), building["id"], prefix, str(count)], env=env
        )
        for prefix in ("A", "B")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    final = Store(store.path)
    rooms = {h["room"] for h in final.records("households").values()}
    assert len(rooms) == 2 * count
    assert len(_log_lines(final)) == 2 + 2 * count


def test_tables_beyond_the_register_are_kept_apart_and_read_only_when_needed(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.transaction() as tx:
        household = tx.create("households", {"head": "程金娇"})
        issue = tx.create("issues", {"title": "卫生间下水道返水", "household": household})
        tx.create("events", {"issue": issue, "type": "reported"})
    store.checkpoint()
    assert "issues" not in orjson.loads(store.path.read_bytes())
    assert (
        orjson.loads(store.table_path("issues").read_bytes())["issues"][issue]["title"] == "卫生间下水道返水"
    )

    with store.transaction() as tx:  # written after the checkpoint: must come back from the log
        tx.update("issues", issue, {"status": "assigned"})
    reader = Store(store.path)
    assert reader.get("households", household)["head"] == "程金娇"
    assert "issues" not in reader._view and "events" not in reader._view
    assert reader.get("issues", issue)["status"] == "assigned"
    assert "events" not in reader._view
    assert [e["type"] for e in reader.records("events").values()] == ["reported"]


def test_a_reader_that_opened_before_a_table_was_written_still_sees_it(store: Store) -> None:
    early = Store(store.path)
    with store.transaction() as tx:
        issue = tx.create("issues", {"title": "飞线充电"})
    store.checkpoint()
    early.refresh()
    assert early.get("issues", issue)["title"] == "飞线充电"


def test_a_crash_remnant_seen_once_never_cuts_another_writers_line(store: Store) -> None:
    with store.transaction() as tx:
        tx.create("grid_cells", {"code": "A"})
    with open(store.log_path, "ab") as fh:
        fh.write(b'{"v":1,"ops":[{"id":')  # a writer died mid-append
    dashboard, shell = Store(store.path), Store(store.path)
    with shell.transaction() as tx:  # replaces the remnant with its own complete line
        tx.create("grid_cells", {"code": "B"})
    dashboard.refresh()
    with dashboard.transaction() as tx:
        tx.create("grid_cells", {"code": "C"})
    assert {r["code"] for r in Store(store.path).records("grid_cells").values()} == {"A", "B", "C"}
    assert dashboard.refresh() is False  # and a settled log is not re-read on every poll


def test_init_refuses_to_start_over_another_stores_files(store: Store) -> None:
    with store.transaction() as tx:
        tx.create("members", {"name": "程金娇"})
    store.checkpoint()
    store.path.unlink()  # someone deleted only the main file
    before = snapshot(store.path)
    with pytest.raises(StoreError, match="beside it"):
        Store.init(store.path)
    assert snapshot(store.path) == before


def test_a_table_file_from_another_store_is_refused(store: Store, tmp_path: Path) -> None:
    other = Store.init(tmp_path / "other" / "gridtool.json")
    with other.transaction() as tx:
        tx.create("members", {"name": "别人"})
    other.checkpoint()
    store.table_path("members").write_bytes(other.table_path("members").read_bytes())
    with pytest.raises(StoreError, match="belongs to another store"):
        Store(store.path).records("members")


def test_valid_json_of_the_wrong_shape_is_damage_not_a_traceback(store: Store) -> None:
    store.path.write_bytes(b'{"_meta": {"store": {"schema": 1}}}')
    with pytest.raises(StoreError, match="damaged"):
        Store(store.path)


def test_an_operation_missing_its_parts_is_damage(store: Store) -> None:
    with open(store.log_path, "ab") as fh:
        fh.write(b'{"v":1,"ops":[{"t":"households"}]}\n')
    with pytest.raises(StoreError, match="damaged at byte 0"):
        Store(store.path)


def test_changes_to_a_table_nobody_read_still_reach_its_checkpoint(store: Store, monkeypatch) -> None:
    with store.transaction() as tx:
        member = tx.create("members", {"name": "程金娇"})
    store.checkpoint()
    editor = Store(store.path)  # never reads members itself
    with editor.transaction() as tx:
        tx.update("members", member, {"name": "程金姣"})
    editor.checkpoint()
    data = orjson.loads(store.table_path("members").read_bytes())
    assert data["members"][member]["name"] == "程金姣"
    assert data["_meta"]["table"]["log_offset"] == store.log_path.stat().st_size


def test_writes_to_an_unread_table_are_visible_inside_their_transaction(store: Store) -> None:
    with store.transaction() as tx:
        issue = tx.create("issues", {"title": "漏水"})
        tx.update("issues", issue, {"status": "assigned"})
        assert store.get("issues", issue)["status"] == "assigned"
    assert Store(store.path).get("issues", issue)["status"] == "assigned"


def test_the_checkpoint_is_a_tinydb_database_and_queries_work(store: Store) -> None:
    from tinydb import Query, TinyDB
    from tinydb.storages import JSONStorage

    with store.transaction() as tx:
        rid = tx.create("grid_cells", {"code": "TL-03", "name": "铁园社区第三网格"})
    store.checkpoint()
    from gridtool.store import RecordTable

    plain = TinyDB(store.path, storage=JSONStorage, access_mode="r")  # TinyDB itself reads the file
    plain.table_class = RecordTable  # whose document ids are our string ids, not TinyDB's integers
    assert plain.table("grid_cells").get(doc_id=rid)["name"] == "铁园社区第三网格"
    assert plain.table("grid_cells").search(Query().code == "TL-03")[0]["name"] == "铁园社区第三网格"
    plain.close()
    assert store.table("grid_cells").search(Query().name.search("第三"))[0]["id"] == rid


def test_records_created_in_bulk_are_found_through_every_index(store: Store) -> None:
    by_name = store.index("people", "name", lambda r: (r.get("name"),))
    with store.transaction() as tx:
        tx.create("people", {"name": "程金娇"}, "01A")
    assert by_name.lookup("程金娇") == {"01A"}
    with store.transaction() as tx:  # mostly new: the index is dropped and built again when asked
        tx.create_many("people", [(f"02{n:03d}", {"name": f"人{n % 3}"}) for n in range(30)])
    assert len(by_name.lookup("人1")) == 10 and by_name.lookup("程金娇") == {"01A"}
    with store.transaction() as tx:  # a few into many: the index is kept up to date as it goes
        tx.create_many("people", [("03A", {"name": "程金娇"})])
        assert by_name.built and by_name.lookup("程金娇") == {"01A", "03A"}
    ops = [op for op in store.operations() if op["t"] == "people"]
    assert [op["id"][1] for op in ops] == list(range(1, 33))
    assert all(a["hlc"] < b["hlc"] for a, b in itertools.pairwise(ops))
    reopened = Store(store.path)
    assert reopened.records("people") == store.records("people")
    assert reopened.index("people", "name", lambda r: (r.get("name"),)).lookup("人2") == by_name.lookup("人2")


def test_updates_and_deletes_keep_every_index_in_step_with_the_replayed_view(store: Store) -> None:
    """An update is applied straight to the view (not through the replay path): the view, the
    indexes and a store reopened from the log must still agree."""

    def by_name_index(s: Store):
        return s.index("people", "name", lambda r: (r.get("name"),))

    def by_phone_index(s: Store):
        return s.index("people", "phone", lambda r: (r.get("phone"),))

    by_name, by_phone = by_name_index(store), by_phone_index(store)
    with store.transaction() as tx:
        tx.create_many(
            "people", [("01A", {"name": "程金娇", "phone": "1"}), ("01B", {"name": "谭石泉", "phone": "2"})]
        )
    by_name.lookup("")  # built: from here on kept up to date by each write
    with store.transaction() as tx:
        assert tx.update("people", "01A", {"name": "程金娇", "phone": "3"}) is True
        assert tx.update("people", "01B", {"name": "程金娇"}) is True
        assert tx.update("people", "01B", {"name": "程金娇"}) is False
        tx.delete("people", "01A")
        tx.create("people", {"name": "刘丹", "phone": "3"}, "01C")
    assert by_name.lookup("程金娇") == {"01B"} and by_name.lookup("谭石泉") == set()
    assert by_phone.lookup("3") == {"01C"} and by_phone.lookup("1") == set()
    ops = [op for op in store.operations() if op["t"] == "people"]
    assert ops[2]["set"] == {"phone": "3"} and ops[2]["pred"] == [[store.replica, 1]]
    assert ops[3]["pred"] == [[store.replica, 2]] and all(
        a["hlc"] < b["hlc"] for a, b in itertools.pairwise(ops)
    )
    reopened = Store(store.path)
    assert reopened.records("people") == store.records("people")
    assert store.records("people")["01B"] == {"id": "01B", "name": "程金娇", "phone": "2", "_op": 4}
    assert by_name_index(reopened).lookup("程金娇") == {"01B"}
    assert by_phone_index(reopened).lookup("3") == {"01C"}


def test_bulk_work_leaves_nothing_out_of_the_collectors_reach() -> None:
    """A long-running dashboard syncs and reloads: what it made then must stay collectable."""
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    with store_module.collector_paused():
        made = [[] for _ in range(1000)]
        for a, b in itertools.pairwise(made):
            a.append(b)
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_a_lazily_read_table_takes_exactly_its_own_lines_of_the_log(store: Store) -> None:
    """Lazy tables are read from the log by searching it for the table's name: every op of that
    table comes back, in order, and a table never written is empty, with other tables' lines
    (some naming the table in their values) left alone."""
    with store.transaction() as tx:
        first = tx.create("orders", {"service": "理发"})
        tx.create("notes", {"text": '"t":"orders" written by a resident'})
    for n in range(3):
        with store.transaction() as tx:
            tx.update("orders", first, {"status": f"step-{n}"})
            tx.create("events", {"type": "noted", "n": n})
    reader = Store(store.path)
    assert reader.records("orders") == {first: {**reader.records("orders")[first], "status": "step-2"}}
    assert reader.records("orders")[first]["service"] == "理发"
    assert len(reader.records("events")) == 3
    assert reader.records("visit_plans") == {}
    assert len(reader.records("notes")) == 1
