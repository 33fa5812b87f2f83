"""A big bundle is read as a stream, checked whole before anything is written, then applied a
batch at a time into a transaction written in parts: nothing of it is held at once, and it still
commits as one or not at all. Here in miniature, with batches of two and parts of three."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from gridtool import integrity, sync
from gridtool.store import Store, is_part
from gridtool.sync import applying, bundle
from tests.conftest import snapshot
from tests.core.test_sync_hostile import Laptops, _bundle, _op, _packed, _signed


@pytest.fixture
def pieces() -> Iterator[None]:
    with (
        mock.patch.object(bundle, "BATCH_OPS", 2),
        mock.patch.object(applying, "KEEP_BYTES", 0),  # read again when applied
        mock.patch.object(applying, "PART_OPS", 3),
    ):
        yield


@pytest.fixture
def laptops(tmp_path: Path) -> Laptops:
    return Laptops(tmp_path)


def _work(worker: Store) -> list[str]:
    """Eleven operations in four transactions: creates, edits and a delete."""
    with worker.transaction(actor="刘丹") as tx:
        cells = [tx.create("grid_cells", {"code": f"TL-0{n}", "name": f"第{n}网格"}) for n in range(1, 5)]
    with worker.transaction() as tx:
        for n, cell in enumerate(cells):
            tx.update("grid_cells", cell, {"notes": f"走访 {n}"})
    with worker.transaction() as tx:
        tx.update("grid_cells", cells[0], {"name": "一网格"})
        tx.delete("grid_cells", cells[3])
    with worker.transaction() as tx:
        tx.update("grid_cells", cells[1], {"worker_phone": "13800000001"})
    return cells


def _records(store: Store) -> dict[str, dict[str, object]]:
    return {rid: {k: v for k, v in r.items() if k != "_op"} for rid, r in store.records("grid_cells").items()}


def _worker_office_other(laptops: Laptops) -> None:
    """The worker's eleven operations reach the office, which passes them on to the other laptop:
    each transaction still checked against the worker's key."""
    worker, office, other = laptops.worker, laptops.office, laptops.other
    _work(worker)
    path = laptops.path()
    sync.export_bundle(worker, path)
    result = sync.import_bundle(office, path)
    assert result.applied == 11 and result.added == 3
    assert _records(Store(office.path)) == _records(worker)
    assert integrity.examine(office.path).clean
    sync.trust_add(other, "worker", sync.whoami(worker)["public_key"])
    relayed = laptops.path()
    sync.export_bundle(office, relayed)  # the office passes the worker's transactions on, in parts
    assert sync.import_bundle(other, relayed).applied == 11
    assert _records(other) == _records(worker)


def test_a_bundle_applied_in_pieces_arrives_whole_and_relays_still_signed(
    laptops: Laptops, pieces: None
) -> None:
    _worker_office_other(laptops)
    assert any(is_part(line) for line in laptops.office.log_path.read_bytes().splitlines())


def test_one_bad_operation_in_the_last_batch_refuses_the_bundle_unchanged(
    laptops: Laptops, pieces: None
) -> None:
    worker, office = laptops.worker, laptops.office
    good = [_op(worker, seq=n) for n in range(1, 8)]
    bad = _op(worker, seq=8, worker_phone="not-a-phone")
    units = [_signed(worker, good[n : n + 2], f"T{n}") for n in range(0, 7, 2)] + [
        _signed(worker, [bad], "T9")
    ]
    before = snapshot(office.path)
    with pytest.raises(sync.SyncError) as err:
        sync.import_bundle(office, _bundle(worker, units, laptops.path()))
    assert err.value.key == "sync.peer_refused" and "worker phone" in err.value.message()
    assert snapshot(office.path) == before


def test_a_dry_run_in_pieces_tells_what_the_import_does_and_writes_nothing(
    laptops: Laptops, pieces: None
) -> None:
    worker, office = laptops.worker, laptops.office
    _work(worker)
    path = laptops.path()
    sync.export_bundle(worker, path)
    before = snapshot(office.path)
    dry = sync.import_bundle(office, path, dry_run=True)
    assert snapshot(office.path) == before
    assert office.records("grid_cells") == {}
    real = sync.import_bundle(office, path)
    assert (dry.applied, dry.added, dry.updated, dry.deleted) == (
        real.applied,
        real.added,
        real.updated,
        real.deleted,
    )


def test_a_record_that_turns_out_concurrent_midway_merges_as_when_read_whole(
    laptops: Laptops, pieces: None
) -> None:
    """A bundle holding four plain edits of a record (some already written in a part) and then
    another laptop's concurrent one: the record's history is read back from those parts."""
    worker, other, newcomer = laptops.worker, laptops.other, laptops.newcomer
    sync.trust_add(worker, "other", sync.whoami(other)["public_key"])
    sync.trust_add(other, "worker", sync.whoami(worker)["public_key"])
    sync.trust_add(newcomer, "other", sync.whoami(other)["public_key"])
    with worker.transaction() as tx:
        cell = tx.create("grid_cells", {"code": "TL-01", "name": "一网格"})
    path = laptops.path()
    sync.export_bundle(worker, path)
    sync.import_bundle(other, path)
    for n in range(4):
        with worker.transaction() as tx:
            tx.update("grid_cells", cell, {"notes": f"网格员第{n}次"})
    with other.transaction() as tx:
        tx.update("grid_cells", cell, {"notes": "另一位网格员改的"})
    back = laptops.path()
    sync.export_bundle(other, back, peer="worker")
    sync.import_bundle(worker, back)

    whole = laptops.path()
    sync.export_bundle(worker, whole)
    result = sync.import_bundle(newcomer, whole)
    assert result.applied == 6
    assert [c.field for c in result.new_conflicts] == ["notes"]
    assert _records(Store(newcomer.path)) == _records(worker)
    assert [c.id for c in sync.conflicts(newcomer)] == [c.id for c in sync.conflicts(worker)]


def test_a_signature_is_checked_over_the_lines_as_they_came_or_else_over_the_content(
    laptops: Laptops,
) -> None:
    """Lines written in another key order are no canonical form: the signature still holds over the
    content they mean, and a changed value fails both ways."""
    worker, office = laptops.worker, laptops.office
    ops = [_op(worker, seq=1), _op(worker, seq=2)]
    unsorted = _bundle(worker, [_signed(worker, ops, "T1")], laptops.path(), sort=False)
    assert sync.import_bundle(office, unsorted).applied == 2
    signed = _signed(worker, [_op(worker, seq=3)], "T2")
    signed[1][0]["set"]["name"] = "改过的"
    before = snapshot(office.path)
    with pytest.raises(sync.SyncError) as err:
        sync.import_bundle(office, _bundle(worker, [signed], laptops.path()))
    assert err.value.key == "sync.tx_bad_signature"
    assert snapshot(office.path) == before


def test_an_operation_is_always_the_line_its_signature_is_checked_over(laptops: Laptops) -> None:
    """A relay that spreads a header over lines and packs two items on one, so that counts still
    match, cannot slip its own operation under an author's signed line: every line is one item."""
    import orjson

    worker, office = laptops.worker, laptops.office
    genuine = _op(worker, seq=1)
    header, _ = _signed(worker, [genuine], "T1")
    forged = _op(worker, seq=1, name="伪造的网格")
    dump = lambda item: orjson.dumps(item, option=orjson.OPT_SORT_KEYS)  # noqa: E731
    head = dump({**header, "n": 1})
    split = head.index(b",")
    body = b"\n".join([head[: split + 1], head[split + 1 :], dump(forged) + b"," + dump(genuine)]) + b"\n"
    before = snapshot(office.path)
    with pytest.raises(sync.SyncError) as err:
        sync.import_bundle(office, _packed(worker, body, laptops.path(), 1))
    assert err.value.key == "sync.bad_ops"
    assert snapshot(office.path) == before


def test_a_control_character_past_a_batch_boundary_is_still_refused(laptops: Laptops, pieces: None) -> None:
    worker, office = laptops.worker, laptops.office
    ops = [_op(worker, seq=n) for n in range(1, 6)]
    ops[3]["set"]["name"] = "\x1b[2J清屏"
    before = snapshot(office.path)
    with pytest.raises(sync.SyncError) as err:
        sync.import_bundle(office, _bundle(worker, [_signed(worker, ops, "T1")], laptops.path()))
    assert err.value.key == "sync.peer_refused" and "U+001B" in err.value.message()
    assert snapshot(office.path) == before


@pytest.fixture
def small_pieces(pieces: None) -> Iterator[None]:
    with mock.patch.object(bundle, "PIECE_OPS", 3):
        yield


def test_a_transaction_bigger_than_a_piece_is_checked_as_it_streams_by(
    laptops: Laptops, small_pieces: None
) -> None:
    worker, office = laptops.worker, laptops.office
    _worker_office_other(laptops)
    altered = [_op(worker, seq=n) for n in range(12, 20)]
    header, ops = _signed(worker, altered, "T9")
    ops[6]["set"]["name"] = "途中改过"
    before = snapshot(office.path)
    with pytest.raises(sync.SyncError) as err:
        sync.import_bundle(office, _bundle(worker, [(header, ops)], laptops.path()))
    assert err.value.key == "sync.tx_bad_signature"
    assert snapshot(office.path) == before


def test_a_big_transaction_by_an_unknown_key_refuses_the_bundle_rather_than_being_held(
    laptops: Laptops, small_pieces: None
) -> None:
    worker, office = laptops.worker, laptops.office
    stranger = Store.init(laptops.root / "stranger" / "g.json", name="stranger")  # on no roster
    ops = [_op(stranger, seq=n) for n in range(1, 9)]
    before = snapshot(office.path)
    with pytest.raises(sync.SyncError) as err:
        sync.import_bundle(office, _bundle(worker, [_signed(stranger, ops, "T1")], laptops.path()))
    assert err.value.key == "sync.held_too_big" and "8" in err.value.message()
    assert snapshot(office.path) == before
