"""A hostile peer: bundles signed by a *trusted* key that forge, flood or brick. Each is refused
with one line naming the author, the record and the field, and the receiver's files unchanged."""

from __future__ import annotations

import base64
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridtool import sync
from gridtool.ids import new_id
from gridtool.store import Store
from gridtool.sync import signing
from tests.conftest import snapshot

Op = dict[str, Any]


class Laptops:
    """A worker, the office, a second worker and a newcomer, the office trusting both workers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.worker = Store.init(root / "worker" / "g.json", name="worker")
        self.office = Store.init(root / "office" / "g.json", name="office")
        self.other = Store.init(root / "other" / "g.json", name="other")
        self.newcomer = Store.init(root / "newcomer" / "g.json", name="newcomer")
        self.count = 0
        for store in (self.worker, self.other, self.newcomer):
            sync.trust_add(self.office, store.meta["name"], sync.whoami(store)["public_key"])
            sync.trust_add(store, "office", sync.whoami(self.office)["public_key"])
        sync.trust_add(self.newcomer, "worker", sync.whoami(self.worker)["public_key"])

    def path(self) -> Path:
        self.count += 1
        return self.root / f"b{self.count}.gtb"


@pytest.fixture
def laptops(tmp_path: Path) -> Laptops:
    return Laptops(tmp_path)


def _op(author: Store, seq: int | None = None, **fields: Any) -> Op:
    """An operation ``author`` might have made: a new grid cell, or ``fields`` over it."""
    seq = author.meta["seq"] + 1 if seq is None else seq
    clock = sync.store_module.wall_ms()
    body = {"code": "TL-09", "name": "第九网格", **fields}
    return {
        "id": [author.replica, seq],
        "hlc": [clock, 0],
        "t": "grid_cells",
        "r": new_id(),
        "pred": [],
        "set": body,
    }


def _signed(author: Store, ops: list[Op], tx: str = "T") -> tuple[dict[str, Any], list[Op]]:
    header = {"tx": tx}
    return {**header, **signing.sign(sync._private_key(author), header, ops)}, ops


def _bundle(
    packer: Store,
    units: list[tuple[dict[str, Any] | None, list[Op]]],
    dest: Path,
    fmt: int = 2,
    sort: bool = True,
) -> Path:
    """A bundle as ``packer`` would sign it, holding exactly ``units`` (``sort=False``: each line's
    keys in the operation's own order, which is not the canonical form)."""
    lines: list[bytes] = []
    for header, ops in units:
        if fmt >= 2:
            lines.append(
                orjson.dumps({**(header or {"tx": "U"}), "n": len(ops)}, option=orjson.OPT_SORT_KEYS)
            )
        lines += [orjson.dumps(op, option=orjson.OPT_SORT_KEYS if sort else None) for op in ops]
    return _packed(packer, b"\n".join(lines) + b"\n", dest, sum(len(ops) for _, ops in units), fmt)


def _packed(packer: Store, body: bytes, dest: Path, ops: int, fmt: int = 2) -> Path:
    """A bundle signed by ``packer`` whose ``ops.jsonl`` is exactly ``body``."""
    private = sync._private_key(packer)
    manifest = {
        "format": fmt,
        "features": ["ops", "tx"] if fmt >= 2 else ["ops"],
        "schema": sync.SCHEMA_VERSION,
        "bundle": new_id(),
        "sender": packer.replica,
        "key_id": sync.key_id(sync._public_raw(private)),
        "vector": {},
        "assumed": {},
        "created": 0,
        "ops": ops,
        "members": {"ops.jsonl": {"sha256": sync._sha256(body), "size": len(body)}},
    }
    signed = sync.canonical(manifest)
    with zipfile.ZipFile(dest, "w") as zf:
        zf.writestr("manifest.json", signed)
        zf.writestr("ops.jsonl", body)
        zf.writestr("signature", base64.b64encode(private.sign(signed)))
    return dest


def _refused(store: Store, bundle: Path, key: str) -> sync.SyncError:
    before = snapshot(store.path)
    with pytest.raises(sync.SyncError) as err:
        sync.import_bundle(store, bundle)
    assert err.value.key == key, err.value.message()
    message = err.value.message()
    assert "\n" not in message and message != key
    assert snapshot(store.path) == before
    return err.value


def _swap(source: Store, target: Store, laptops: Laptops) -> sync.ImportResult:
    path = laptops.path()
    sync.export_bundle(source, path)
    return sync.import_bundle(target, path)


# -- authorship ------------------------------------------------------------------------------


def test_a_trusted_laptop_cannot_sign_another_laptops_changes(laptops: Laptops) -> None:
    office, worker, other = laptops.office, laptops.worker, laptops.other
    with other.transaction() as tx:
        tx.create("grid_cells", {"code": "TL-01", "name": "一网格"})
    _swap(other, office, laptops)  # the office knows the other worker's key and replica id
    forged = _op(other, seq=2)  # the worker writes in the other's name, signed with its own key
    error = _refused(
        office, _bundle(worker, [_signed(worker, [forged])], laptops.path()), "sync.forged_author"
    )
    assert "worker" in error.message() and "other" in error.message()
    _swap(other, office, laptops)  # the other's genuine changes still arrive
    assert sync.vector(office)[other.replica] == 1


def test_a_change_under_the_receivers_own_id_is_refused_as_forged(laptops: Laptops) -> None:
    office, worker = laptops.office, laptops.worker
    with office.transaction() as tx:
        tx.create("grid_cells", {"code": "TL-01", "name": "一网格"})
    mine = _op(office, seq=2)
    _refused(office, _bundle(worker, [_signed(worker, [mine])], laptops.path()), "sync.forged_author")
    error = _refused(office, _bundle(worker, [(None, [mine])], laptops.path(), fmt=1), "sync.peer_refused")
    assert "forged" in error.message()


def test_a_relayed_change_altered_on_the_way_is_refused(laptops: Laptops) -> None:
    office, worker = laptops.office, laptops.worker
    header, ops = _signed(worker, [_op(worker, seq=1)])
    altered = [{**ops[0], "set": {**ops[0]["set"], "name": "改过的"}}]
    _refused(office, _bundle(worker, [(header, altered)], laptops.path()), "sync.tx_bad_signature")
    with mock.patch.object(signing, "verify", lambda *args: True):  # the check is what refuses it
        assert sync.import_bundle(office, _bundle(worker, [(header, altered)], laptops.path())).applied == 1


def test_an_unknown_authors_changes_wait_until_its_key_is_trusted(laptops: Laptops) -> None:
    worker, newcomer = laptops.worker, laptops.newcomer
    sync.trust_add(worker, "newcomer", sync.whoami(newcomer)["public_key"])
    with newcomer.transaction() as tx:
        tx.create("grid_cells", {"code": "TL-02", "name": "二网格"})
    _swap(newcomer, worker, laptops)  # the worker relays the newcomer's change
    fresh = Store.init(laptops.root / "fresh" / "g.json", name="fresh")
    sync.trust_add(fresh, "worker", sync.whoami(worker)["public_key"])
    result = _swap(worker, fresh, laptops)
    assert result.applied == 0 and [(h.reason, h.count) for h in result.held] == [("unknown_key", 1)]
    assert [(h.reason, h.count) for h in sync.held(fresh)] == [("unknown_key", 1)]
    assert fresh.records("grid_cells") == {}
    sync.trust_add(fresh, "newcomer", sync.whoami(newcomer)["public_key"])
    assert [r["code"] for r in Store(fresh.path).records("grid_cells").values()] == ["TL-02"]
    assert sync.held(fresh) == []


def test_a_revoked_author_is_refused_from_any_relay_and_its_earlier_changes_stay(laptops: Laptops) -> None:
    office, worker, other = laptops.office, laptops.worker, laptops.other
    sync.trust_add(other, "worker", sync.whoami(worker)["public_key"])
    with worker.transaction() as tx:
        tx.create("grid_cells", {"code": "TL-01", "name": "一网格"})
    _swap(worker, office, laptops)
    _swap(office, other, laptops)
    sync.trust_revoke(other, "worker")  # the worker's laptop was lost
    with worker.transaction() as tx:
        tx.create("grid_cells", {"code": "TL-02", "name": "二网格"})
    _swap(worker, office, laptops)  # the office still trusts it
    result = _swap(office, other, laptops)
    assert result.refused == {"worker": 1} and result.applied == 0
    codes = {r["code"] for r in other.records("grid_cells").values()}
    assert codes == {"TL-01"}


# -- bounds and values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "needle"),
    [
        ({"id": ["X", 1]}, "", "author id"),
        ({"seq": 2**53}, "", "2^53"),
        ({"hlc": [1_790_000_000_000, 2**64 - 1]}, "", "2^32"),
        ({"hlc": [9_999_999_999_999, 0]}, "", "2100"),
        ({"r": "../../etc"}, "", "record id"),
        ({"t": "log"}, "", "table"),
        ({"set": {"_op": 1}}, "_op", "does not know"),
        ({"set": {"worker_phone": "not-a-phone"}}, "worker_phone", "digits"),
        ({"set": {"notes": "x" * 5000}}, "notes", "200"),
        ({"set": {"name": "\x1b[31mred\x1b[0m"}}, "name", "control"),
        ({"set": {"name": 5}}, "name", "text"),
        ({"set": {"colour": "red"}}, "colour", "does not know"),
        ({"pred": [["X", 1]]}, "", "predecessor"),
    ],
)
def test_a_bad_operation_refuses_the_whole_bundle_naming_author_record_and_field(
    laptops: Laptops, change: dict[str, Any], field: str, needle: str
) -> None:
    office, worker = laptops.office, laptops.worker
    good = _op(worker, seq=1)
    bad = _op(worker, seq=2)
    if "seq" in change:
        bad["id"] = [worker.replica, change.pop("seq")]
    if "set" in change:
        bad["set"] = {**bad["set"], **change.pop("set")}
    bad.update(change)
    units = [_signed(worker, [good], "T1"), (None, [bad])]
    error = _refused(office, _bundle(worker, units, laptops.path()), "sync.peer_refused")
    message = error.message()
    assert needle in message, message
    if field:
        assert "worker" in message and bad["r"][-6:] in message


def test_a_household_with_a_negative_unit_or_a_list_for_text_is_refused(laptops: Laptops) -> None:
    office, worker = laptops.office, laptops.worker
    for fields in ({"unit": -5}, {"unit": "abc"}, {"tags": "独居老人"}, {"phone": "13800000000" * 2}):
        op = {**_op(worker, seq=1), "t": "households", "set": {"head": "程金娇", **fields}}
        _refused(office, _bundle(worker, [_signed(worker, [op])], laptops.path()), "sync.peer_refused")


@pytest.mark.parametrize(
    "payload",
    [
        {"note": "\x1b[2J"},
        {"note": "\u202eevil"},
        {"note": "\x9b31m"},
        {"note\x1b": "key with a control"},
        {"note": "x" * 5000},
        {"k" * 300: "a long key"},
        {"a": {"b": {"c": {"d": "too deep"}}}},
        {"n": 1e40},
    ],
)
def test_an_event_payload_with_a_control_character_or_out_of_bounds_is_refused(
    laptops: Laptops, payload: dict[str, Any]
) -> None:
    worker = laptops.worker
    op = {**_op(worker, seq=1), "t": "events", "set": {"issue": new_id(), "type": "note", "payload": payload}}
    _refused(laptops.office, _bundle(worker, [_signed(worker, [op])], laptops.path()), "sync.peer_refused")


def test_an_event_payload_of_short_texts_numbers_and_flags_is_taken(laptops: Laptops) -> None:
    worker = laptops.worker
    payload = {"note": "已上门，“情况”良好", "count": 3, "ok": True, "none": None, "list": ["a"]}
    op = {**_op(worker, seq=1), "t": "events", "set": {"issue": new_id(), "type": "note", "payload": payload}}
    bundle = _bundle(worker, [_signed(worker, [op])], laptops.path())
    assert sync.import_bundle(laptops.office, bundle).applied == 1


def test_a_jump_in_an_authors_sequence_inside_a_bundle_is_refused(laptops: Laptops) -> None:
    office, worker = laptops.office, laptops.worker
    ops = [_op(worker, seq=1), _op(worker, seq=5)]
    _refused(office, _bundle(worker, [(None, ops)], laptops.path(), fmt=1), "sync.peer_refused")


def test_after_a_refused_stamp_of_2_to_the_64_local_writes_still_work(laptops: Laptops) -> None:
    office, worker = laptops.office, laptops.worker
    stamp = [sync.store_module.wall_ms() + 23 * 3_600_000, 18446744073709551615]
    op = {**_op(worker, seq=1), "hlc": stamp}
    _refused(office, _bundle(worker, [_signed(worker, [op])], laptops.path()), "sync.peer_refused")
    with office.transaction() as tx:
        tx.create("grid_cells", {"code": "TL-01", "name": "一网格"})
    assert office.meta["hlc"][1] < 2**32


def _zip(dest: Path, members: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return dest


def test_a_decompression_bomb_is_refused_before_it_is_inflated(laptops: Laptops) -> None:
    bomb = _zip(
        laptops.path(), [("manifest.json", b"{}"), ("ops.jsonl", b"\n" * (4 << 20)), ("signature", b"")]
    )
    assert bomb.stat().st_size < 64 << 10
    _refused(laptops.office, bomb, "sync.bomb")


def test_a_strangers_operations_are_never_inflated(laptops: Laptops) -> None:
    stranger = Store.init(laptops.root / "stranger" / "g.json")
    path = laptops.path()
    sync.export_bundle(stranger, path)
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    broken = laptops.path()
    with zipfile.ZipFile(broken, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("manifest.json", members["manifest.json"])
        zf.writestr("signature", members["signature"])
        zf.writestr("ops.jsonl", b"A" * 1000)
    broken.write_bytes(broken.read_bytes().replace(b"A" * 1000, b"B" * 1000))  # its checksum fails
    _refused(laptops.office, broken, "sync.untrusted")  # not "damaged": ops.jsonl was never read


def test_ops_jsonl_is_read_a_chunk_at_a_time_and_lines_across_chunks_still_join(
    laptops: Laptops, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridtool.sync import bundle as bundle_module

    with laptops.worker.transaction() as tx:
        for n in range(30):
            tx.create("grid_cells", {"code": f"TL-{n:02d}", "name": f"第{n}网格"})
    path = laptops.path()
    sync.export_bundle(laptops.worker, path)
    monkeypatch.setattr(bundle_module, "STREAM_CHUNK", 7)  # shorter than any line
    asked: list[int] = []
    read = zipfile.ZipExtFile.read

    def counted(self: zipfile.ZipExtFile, n: int = -1) -> bytes:
        if self.name == "ops.jsonl":
            asked.append(n)
        return read(self, n)

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counted)
    assert sync.import_bundle(laptops.office, path).applied == 30
    assert asked and all(0 < n <= 7 for n in asked)  # never the whole member at once
    names = {r["code"]: r["name"] for r in laptops.office.records("grid_cells").values()}
    assert names == {r["code"]: r["name"] for r in laptops.worker.records("grid_cells").values()}


def test_a_line_that_does_not_parse_is_damage_when_the_hash_fails_and_named_when_it_holds(
    laptops: Laptops,
) -> None:
    ops = [_op(laptops.worker), _op(laptops.worker, laptops.worker.meta["seq"] + 2)]
    good = _bundle(laptops.worker, [_signed(laptops.worker, ops)], laptops.path())
    with zipfile.ZipFile(good) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    body = members["ops.jsonl"].split(b"\n")
    body[2] = b"{not json" + b" " * (len(body[2]) - 9)
    damaged = laptops.path()
    with zipfile.ZipFile(damaged, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, b"\n".join(body) if name == "ops.jsonl" else data)
    _refused(laptops.office, damaged, "sync.damaged")
    units: list[tuple[dict[str, Any] | None, list[Op]]] = [_signed(laptops.worker, ops)]
    malformed = _bundle(laptops.worker, units, laptops.path())
    with zipfile.ZipFile(malformed) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    manifest = orjson.loads(members["manifest.json"])
    lines = members["ops.jsonl"].split(b"\n")
    lines[2] = b"{not json"
    body_bytes = b"\n".join(lines)
    manifest["members"]["ops.jsonl"] = {"sha256": sync._sha256(body_bytes), "size": len(body_bytes)}
    signed = sync.canonical(manifest)
    private = sync._private_key(laptops.worker)
    with zipfile.ZipFile(malformed, "w") as zf:
        zf.writestr("manifest.json", signed)
        zf.writestr("ops.jsonl", body_bytes)
        zf.writestr("signature", base64.b64encode(private.sign(signed)))
    error = _refused(laptops.office, malformed, "sync.bad_ops")
    assert "3" in error.message()


# -- migration -------------------------------------------------------------------------------


def test_a_store_and_a_bundle_written_by_the_previous_release_keep_working(laptops: Laptops) -> None:
    office = laptops.office
    veteran = Store.init(laptops.root / "veteran" / "g.json", name="veteran")
    with veteran.transaction() as tx:  # before it has a key: its log lines as the previous release wrote them
        tx.create("grid_cells", {"code": "TL-01", "name": "一网格"})
        tx.create("grid_cells", {"code": "TL-02", "name": "二网格"})
    assert not any(b'"sig"' in line for line in veteran.log_path.read_bytes().splitlines())
    sync.trust_add(office, "veteran", sync.whoami(veteran)["public_key"])
    ops = list(sync.all_ops(veteran))
    old_bundle = _bundle(veteran, [(None, ops)], laptops.path(), fmt=1)  # what its export wrote
    assert sync.import_bundle(office, old_bundle).applied == 2
    with veteran.transaction() as tx:
        tx.create("grid_cells", {"code": "TL-03", "name": "三网格"})
    path = laptops.path()
    sync.export_bundle(veteran, path)  # its old transactions are signed by it as they leave
    with zipfile.ZipFile(path) as zf:
        headers = [orjson.loads(x) for x in zf.read("ops.jsonl").splitlines() if b'"n":' in x]
    assert len(headers) == 2 and all("sig" in h for h in headers)
    fresh = Store.init(laptops.root / "fresh" / "g.json", name="fresh")
    sync.trust_add(fresh, "veteran", sync.whoami(veteran)["public_key"])
    assert sync.import_bundle(fresh, path).applied == 3
    sync.export_bundle(office, laptops.path())  # the office relays what it took unsigned
    relayed = laptops.path()
    sync.export_bundle(office, relayed)
    sync.trust_add(fresh, "office", sync.whoami(office)["public_key"])
    assert sync.import_bundle(fresh, relayed).applied == 0  # already held, compared, not refused


# -- convergence through a relay, with an author revoked midway ------------------------------

relay_step = st.one_of(
    st.tuples(st.just("edit"), st.sampled_from(["worker", "other"]), st.integers(0, 3), st.integers(0, 9)),
    st.tuples(
        st.just("swap"),
        st.sampled_from(
            [("worker", "office"), ("office", "worker"), ("other", "office"), ("office", "other")]
        ),
    ),
    st.just(("revoke",)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(relay_step, min_size=4, max_size=20))
def test_changes_relayed_through_the_office_converge_and_a_revoked_author_stops_at_its_revocation(
    steps: list[tuple[Any, ...]],
) -> None:
    """worker -> office -> other and back; at some point the other laptop revokes the worker. In
    the end the worker and the office hold the same operations, and the other holds the same
    except the worker's after the revocation, of which it holds none."""
    with tempfile.TemporaryDirectory() as tmp:
        laptops = Laptops(Path(tmp))
        sync.trust_add(laptops.other, "worker", sync.whoami(laptops.worker)["public_key"])
        sync.trust_add(laptops.worker, "other", sync.whoami(laptops.other)["public_key"])
        stores = {"worker": laptops.worker, "office": laptops.office, "other": laptops.other}
        cutoff: int | None = None
        for step in [*steps, ("revoke",)]:
            if step[0] == "edit":
                store = stores[step[1]]
                rows = sorted(store.records("grid_cells"))
                with store.transaction() as tx:
                    if step[2] < len(rows):
                        tx.update("grid_cells", rows[step[2]], {"notes": f"{step[1]} {step[3]}"})
                    else:
                        tx.create("grid_cells", {"code": f"TL-{step[3]:02d}", "name": step[1]})
            elif step[0] == "swap":
                _swap(stores[step[1][0]], stores[step[1][1]], laptops)
            elif cutoff is None:
                cutoff = sync.vector(laptops.other).get(laptops.worker.replica, 0)
                sync.trust_revoke(laptops.other, "worker")
        for source, target in [("worker", "office"), ("other", "office"), ("office", "worker")] * 2:
            _swap(stores[source], stores[target], laptops)
        _swap(laptops.office, laptops.other, laptops)

        def held(store: Store) -> set[tuple[str, int]]:
            return {(op["id"][0], op["id"][1]) for op in sync.all_ops(Store(store.path))}

        everything = held(laptops.office)
        assert held(laptops.worker) == everything
        worker = laptops.worker.replica
        assert cutoff is not None
        late = {(origin, seq) for origin, seq in everything if origin == worker and seq > cutoff}
        assert held(laptops.other) == everything - late


def test_without_the_per_author_check_a_forged_change_gets_in(laptops: Laptops) -> None:
    """The suite depends on that check: trusting the relay for every transaction, as bundles did
    before, lets the worker write in the other's name and past a revocation."""
    from gridtool.sync import applying

    def relay_vouches(self: Any, header: Any, ops: list[Op], lines: Any = None) -> bool:
        return True

    office, worker, other = laptops.office, laptops.worker, laptops.other
    forged = _op(other, seq=1)
    with mock.patch.object(applying._Verifier, "judge", relay_vouches):
        assert (
            sync.import_bundle(office, _bundle(worker, [_signed(worker, [forged])], laptops.path())).applied
            == 1
        )
