"""Sync through the library: deltas, bad bundles, the clock guard, privacy, conflicts and settling."""

from __future__ import annotations

import base64
import os
import stat
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
import pytest

# Removing a household or lead needs what points at it counted: these modules register that.
from gridtool import issues, register, sync, volunteers  # noqa: F401
from gridtool import store as store_module
from gridtool.store import Store, public
from tests.conftest import snapshot


@pytest.fixture
def pair(tmp_path: Path, community: dict[str, str], store: Store) -> tuple[Store, Store]:
    """The worker's store (with the README's community) and the office's, each trusting the other."""
    office = Store.init(tmp_path / "office" / "gridtool.json", name="office")
    sync.trust_add(office, "liudan", sync.whoami(store)["public_key"])
    sync.trust_add(store, "office", sync.whoami(office)["public_key"])
    return store, office


TABLES = ("grid_cells", "buildings", "leads", "households", "members")


def _view(store: Store, tables: tuple[str, ...] = TABLES) -> dict:
    return {t: {rid: public(r) for rid, r in store.records(t).items()} for t in tables}


def _ops(path: Path) -> list[dict[str, Any]]:
    """The operations of a bundle, without the transaction headers between them."""
    with zipfile.ZipFile(path) as zf:
        lines = [orjson.loads(line) for line in zf.read("ops.jsonl").splitlines() if line]
    return [item for item in lines if "id" in item]


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _write_zip(path: Path, items: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in items:
            zf.writestr(name, data)
    return path


def _resigned(signer: Store, src: Path, dest: Path, **changes: Any) -> Path:
    """The same bundle with manifest fields changed and signed again by ``signer``'s key."""
    members = _members(src)
    manifest = {**orjson.loads(members["manifest.json"]), **changes}
    body = sync.canonical(manifest)
    signature = base64.b64encode(sync._private_key(signer).sign(body))
    return _write_zip(
        dest, [("manifest.json", body), ("ops.jsonl", members["ops.jsonl"]), ("signature", signature)]
    )


# -- round trips and deltas -------------------------------------------------------------------


def test_a_full_bundle_brings_the_whole_community_and_a_second_import_changes_nothing(
    pair: tuple[Store, Store], tmp_path: Path
) -> None:
    worker, office = pair
    bundle = tmp_path / "b.gtb"
    sync.export_bundle(worker, bundle)
    result = sync.import_bundle(office, bundle)
    assert (result.added, result.applied, result.signer) == (5, 5, "liudan")
    assert _view(office) == _view(worker)
    assert Store(office.path).get("households", next(iter(worker.records("households"))))["head"] == "程金娇"
    before = snapshot(office.path)
    again = sync.import_bundle(office, bundle)
    assert again.already and snapshot(office.path) == before


def test_a_bundle_for_a_known_peer_holds_only_what_it_lacks(
    pair: tuple[Store, Store], tmp_path: Path, community: dict[str, str]
) -> None:
    worker, office = pair
    sync.export_bundle(worker, tmp_path / "w1.gtb")
    sync.import_bundle(office, tmp_path / "w1.gtb")
    sync.export_bundle(office, tmp_path / "o1.gtb", peer="liudan")  # tells the worker what it holds
    sync.import_bundle(worker, tmp_path / "o1.gtb")
    register.edit(worker, "household", community["household"], {"room": "0503"})
    one = sync.export_bundle(worker, tmp_path / "w2.gtb", peer="office")
    assert one.ops == 1 and not one.full
    assert [op["set"] for op in _ops(tmp_path / "w2.gtb")] == [{"room": "0503"}]
    for n in range(30):
        register.edit(worker, "household", community["household"], {"room": f"{n:04d}"})
    more = sync.export_bundle(worker, tmp_path / "w3.gtb", peer="office")
    assert more.ops == 31 and more.size > one.size
    assert sync.export_bundle(worker, tmp_path / "w4.gtb", full=True).ops == 36
    sync.import_bundle(office, tmp_path / "w3.gtb")
    assert _view(office) == _view(worker)


def test_an_unknown_peer_is_refused(pair: tuple[Store, Store], tmp_path: Path) -> None:
    with pytest.raises(sync.SyncError) as err:
        sync.export_bundle(pair[0], tmp_path / "x.gtb", peer="nobody")
    assert err.value.key == "sync.unknown_peer"


def test_an_export_refused_leaves_a_laptop_without_a_key_keyless(tmp_path: Path) -> None:
    """A refused export writes nothing beside the store, not even the key it would have signed with."""
    store = Store.init(tmp_path / "g.json", name="worker")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(sync.SyncError) as err:
        sync.export_bundle(store, tmp_path / "x.gtb", peer="nobody")
    assert err.value.key == "sync.unknown_peer"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not sync.key_path(store).exists()


def test_operations_past_a_gap_wait_until_it_fills(pair: tuple[Store, Store], tmp_path: Path) -> None:
    worker, office = pair
    sync.export_bundle(worker, tmp_path / "first.gtb")
    sent = sync.vector(worker)
    with worker.transaction() as tx:
        tx.update("grid_cells", next(iter(worker.records("grid_cells"))), {"notes": "after"})
    sync.export_bundle(worker, tmp_path / "later.gtb", since=sent)  # as if the first had arrived
    held = sync.import_bundle(office, tmp_path / "later.gtb")
    assert held.applied == 0 and [(h.reason, h.count, h.first_missing) for h in held.held] == [("gap", 1, 1)]
    assert sync.vector(office) == {} and sync.status(office)["held"][0]["reason"] == "gap"
    filled = sync.import_bundle(office, tmp_path / "first.gtb")
    assert filled.applied == 6 and not filled.held
    assert _view(office) == _view(worker) and not sync.load_state(office)["held"]


# -- bad bundles ------------------------------------------------------------------------------


def _bad_bundles(worker: Store, office: Store, tmp: Path) -> dict[str, tuple[Path, str]]:
    good = tmp / "good.gtb"
    sync.export_bundle(worker, good)
    raw = good.read_bytes()
    members = _members(good)
    cases: dict[str, tuple[Path, str]] = {}

    def put(name: str, data: bytes, key: str) -> None:
        path = tmp / f"{name}.gtb"
        path.write_bytes(data)
        cases[name] = (path, key)

    put("truncated", raw[: len(raw) // 2], "sync.not_bundle")
    flipped = bytearray(raw)
    at = raw.index(b"ops.jsonl") + 60  # inside the compressed operations
    flipped[at] ^= 0x10
    put("bit_flipped", bytes(flipped), "sync.damaged")
    put("empty", b"", "sync.not_bundle")
    put("not_a_zip", b"hello, this is a photo of a cat", "sync.not_bundle")
    no_sig = _write_zip(tmp / "z.gtb", [(n, d) for n, d in members.items() if n != "signature"]).read_bytes()
    put("unsigned", no_sig, "sync.unsigned")
    tampered = {**members, "ops.jsonl": members["ops.jsonl"].replace(b"TL-03", b"TL-04")}
    put("tampered_ops", _write_zip(tmp / "z.gtb", list(tampered.items())).read_bytes(), "sync.damaged")
    manifest = orjson.loads(members["manifest.json"])
    manifest["ops"] = 99
    forged = {**members, "manifest.json": sync.canonical(manifest)}
    put(
        "tampered_manifest",
        _write_zip(tmp / "z.gtb", list(forged.items())).read_bytes(),
        "sync.bad_signature",
    )
    stranger = Store.init(tmp / "stranger" / "g.json")
    sync.export_bundle(stranger, tmp / "s.gtb")
    put("untrusted", (tmp / "s.gtb").read_bytes(), "sync.untrusted")
    newer = _resigned(worker, good, tmp / "z.gtb", format=sync.FORMAT_VERSION + 1)
    put("newer_format", newer.read_bytes(), "sync.too_new")
    put(
        "unknown_feature",
        _resigned(worker, good, tmp / "z.gtb", features=["ops", "columns"]).read_bytes(),
        "sync.unknown_features",
    )
    put("other_schema", _resigned(worker, good, tmp / "z.gtb", schema=2).read_bytes(), "sync.schema")
    trick = [*members.items(), ("../../gridtool.json", b"{}")]
    put("path_trick", _write_zip(tmp / "z.gtb", trick).read_bytes(), "sync.unsafe_name")
    absolute = [*members.items(), ("/etc/passwd", b"x")]
    put("absolute_path", _write_zip(tmp / "z.gtb", absolute).read_bytes(), "sync.unsafe_name")
    extra = [*members.items(), ("run.sh", b"rm -rf ~")]
    put("unknown_member", _write_zip(tmp / "z.gtb", extra).read_bytes(), "sync.unknown_member")
    bomb = _write_zip(
        tmp / "z.gtb",
        [("manifest.json", b" " * (2 << 20)), ("ops.jsonl", b""), ("signature", b"")],
    )
    put("oversized_member", bomb.read_bytes(), "sync.oversized")
    bad_op = [{"id": "nonsense"}]
    body = b"\n".join(orjson.dumps(op) for op in bad_op) + b"\n"
    manifest = orjson.loads(members["manifest.json"])
    manifest["members"] = {"ops.jsonl": {"sha256": sync._sha256(body), "size": len(body)}}
    signed = sync.canonical(manifest)
    signature = base64.b64encode(sync._private_key(worker).sign(signed))
    malformed = _write_zip(
        tmp / "z.gtb", [("manifest.json", signed), ("ops.jsonl", body), ("signature", signature)]
    )
    put("malformed_operation", malformed.read_bytes(), "sync.bad_ops")
    for name, op in (
        (
            "table_path_trick",
            {"id": ["X", 1], "hlc": [1, 0], "t": "../../etc", "r": "R", "pred": [], "set": {}},
        ),
        (
            "bookkeeping_field",
            {"id": ["X", 1], "hlc": [1, 0], "t": "leads", "r": "R", "pred": [], "set": {"_op": 1}},
        ),
    ):
        body = orjson.dumps(op) + b"\n"
        manifest["members"] = {"ops.jsonl": {"sha256": sync._sha256(body), "size": len(body)}}
        signed = sync.canonical(manifest)
        signature = base64.b64encode(sync._private_key(worker).sign(signed))
        built = _write_zip(
            tmp / "z.gtb", [("manifest.json", signed), ("ops.jsonl", body), ("signature", signature)]
        )
        put(name, built.read_bytes(), "sync.bad_ops")
    encrypted = tmp / "enc.gtb"
    sync.export_bundle(worker, encrypted, passphrase="铁园社区 north gate 3")
    put("wrong_passphrase", encrypted.read_bytes(), "sync.bad_passphrase")
    return cases


def test_every_bad_bundle_is_refused_with_its_reason_and_changes_no_byte(
    pair: tuple[Store, Store], tmp_path: Path
) -> None:
    worker, office = pair
    cases = _bad_bundles(worker, office, tmp_path)
    before = snapshot(office.path)
    for name, (path, key) in cases.items():
        passphrase = "wrong" if name == "wrong_passphrase" else None
        with pytest.raises(sync.SyncError) as err:
            sync.import_bundle(office, path, passphrase=passphrase)
        assert err.value.key == key, name
        message = err.value.message()
        assert "\n" not in message and message != key, name
        assert snapshot(office.path) == before, name
    assert len(cases) == 19


def test_a_revoked_key_and_a_too_large_file_are_refused(pair: tuple[Store, Store], tmp_path: Path) -> None:
    worker, office = pair
    sync.export_bundle(worker, tmp_path / "b.gtb")
    sync.trust_revoke(office, "liudan")
    before = snapshot(office.path)
    with pytest.raises(sync.SyncError) as err:
        sync.import_bundle(office, tmp_path / "b.gtb")
    assert err.value.key == "sync.revoked" and "liudan" in err.value.message()
    with pytest.raises(sync.SyncError) as again:
        sync.trust_add(office, "liudan-new-laptop", sync.whoami(worker)["public_key"])
    assert again.value.key == "sync.trust_was_revoked"
    with mock.patch.object(sync.bundle, "MAX_BUNDLE_BYTES", 100), pytest.raises(sync.SyncError) as big:
        sync.import_bundle(office, tmp_path / "b.gtb")
    assert big.value.key == "sync.too_large"
    assert snapshot(office.path) == before


def test_an_encrypted_bundle_needs_the_passphrase(pair: tuple[Store, Store], tmp_path: Path) -> None:
    worker, office = pair
    path = tmp_path / "b.gtb"
    sync.export_bundle(worker, path, passphrase="铁园社区 north gate 3")
    assert sync.is_encrypted(path) and b"PK" not in path.read_bytes()[:64]
    with pytest.raises(sync.SyncError) as err:
        sync.import_bundle(office, path)
    assert err.value.key == "sync.needs_passphrase"
    assert sync.import_bundle(office, path, passphrase="铁园社区 north gate 3").added == 5


# -- clock guard ------------------------------------------------------------------------------


def test_operations_from_a_clock_days_ahead_are_held_and_the_local_clock_stays(
    pair: tuple[Store, Store], tmp_path: Path
) -> None:
    worker, office = pair
    real = store_module.wall_ms()
    ahead = real + 5 * 86_400_000
    with mock.patch.object(store_module, "wall_ms", lambda: ahead):
        with worker.transaction() as tx:
            tx.update("grid_cells", next(iter(worker.records("grid_cells"))), {"notes": "from the future"})
        sync.export_bundle(worker, tmp_path / "b.gtb")
    result = sync.import_bundle(office, tmp_path / "b.gtb")
    assert result.applied == 5  # what was written before the clock went wrong
    [held] = result.held
    assert (held.reason, held.name, held.count) == ("future", "liudan", 1)
    assert office.meta["hlc"][0] < real + 86_400_000  # the office's clock did not jump five days
    later = ahead + 1000
    with mock.patch.object(store_module, "wall_ms", lambda: later):  # the days have passed
        sync.export_bundle(office, tmp_path / "o.gtb")
        released = sync.import_bundle(office, tmp_path / "o.gtb")
    assert released.applied == 1 and _view(office) == _view(worker)


# -- privacy ----------------------------------------------------------------------------------


def test_bundles_and_keys_are_private_and_carry_no_personal_data(
    pair: tuple[Store, Store], tmp_path: Path
) -> None:
    worker, office = pair
    path = tmp_path / "b.gtb"
    os.umask(0o022)
    sync.export_bundle(worker, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(sync.key_path(worker).stat().st_mode) == 0o600
    assert stat.S_IMODE(sync.state_path(worker).stat().st_mode) == 0o600
    manifest = _members(path)["manifest.json"].decode()
    for personal in (
        "程金娇",
        "13512345678",
        "43010519790312002X",
        "谭石泉",
        worker.meta.get("name") or "刘丹",
    ):
        assert personal not in manifest
    secret = base64.b64decode(sync.key_path(worker).read_bytes())
    assert secret not in path.read_bytes() and base64.b64encode(secret) not in path.read_bytes()
    sync.export_bundle(worker, tmp_path / "e.gtb", passphrase="wind over 湘江 7q")
    sync.import_bundle(office, tmp_path / "e.gtb", passphrase="wind over 湘江 7q")
    for store in (worker, office):
        for content in snapshot(store.path).values():
            assert "wind over 湘江 7q".encode() not in content


# -- conflicts --------------------------------------------------------------------------------


def _swap(a: Store, b: Store, tmp: Path, tag: str) -> None:
    sync.export_bundle(a, tmp / f"{tag}-a.gtb")
    sync.export_bundle(b, tmp / f"{tag}-b.gtb")
    sync.import_bundle(a, tmp / f"{tag}-b.gtb")
    sync.import_bundle(b, tmp / f"{tag}-a.gtb")


def _both_change(a: Store, b: Store, tmp: Path, office: dict, worker: dict | None) -> str:
    """The laptops share the register, then the office (``b``) and the worker (``a``) each change
    the first grid cell while apart (``worker=None``: the worker deletes it), and swap bundles."""
    _swap(a, b, tmp, "0")
    gid = next(iter(a.records("grid_cells")))
    with b.transaction() as tx:
        tx.update("grid_cells", gid, office)
    with a.transaction() as tx:
        if worker is None:
            tx.delete("grid_cells", gid)
        else:
            tx.update("grid_cells", gid, worker)
    _swap(a, b, tmp, "1")
    return gid


def test_concurrent_edits_conflict_the_same_way_everywhere_and_settling_syncs(
    pair: tuple[Store, Store], tmp_path: Path, community: dict[str, str]
) -> None:
    worker, office = pair
    _swap(worker, office, tmp_path, "0")
    hid = community["household"]
    register.edit(worker, "household", hid, {"phone": "13900000001", "room": "0503"})
    register.edit(office, "household", hid, {"phone": "13900000002", "room": "0504"})
    sync.export_bundle(office, tmp_path / "o.gtb")
    result = sync.import_bundle(worker, tmp_path / "o.gtb")
    assert sorted((c.field, c.human) for c in result.new_conflicts) == [("phone", True), ("room", False)]
    sync.export_bundle(worker, tmp_path / "w.gtb")
    sync.import_bundle(office, tmp_path / "w.gtb")
    mine = [c.as_dict() for c in sync.conflicts(worker)]
    assert mine == [c.as_dict() for c in sync.conflicts(office)] and len(mine) == 2
    assert _view(worker) == _view(office)  # the newest write shows while the conflict waits
    phone = next(c for c in sync.conflicts(worker) if c.field == "phone")
    _, value = sync.resolve(worker, phone.id[:5], keep="mine")
    assert value == "13900000001" and worker.get("households", hid)["phone"] == "13900000001"
    _swap(worker, office, tmp_path, "1")
    assert [c.field for c in sync.conflicts(office)] == ["room"] == [c.field for c in sync.conflicts(worker)]
    assert office.get("households", hid)["phone"] == "13900000001"
    room = sync.conflicts(office)[0]
    sync.resolve(office, room.id, take="0505")
    _swap(worker, office, tmp_path, "2")
    assert sync.conflicts(worker) == [] == sync.conflicts(office)
    assert worker.get("households", hid)["room"] == "0505" and _view(worker) == _view(office)


def test_an_edit_concurrent_with_a_delete_is_a_conflict_and_can_be_undone(
    pair: tuple[Store, Store], tmp_path: Path
) -> None:
    worker, office = pair
    gid = _both_change(worker, office, tmp_path, office={"notes": "office edit"}, worker=None)
    [conflict] = sync.conflicts(worker)
    assert conflict.field == "*" and conflict.human
    assert [c.as_dict() for c in sync.conflicts(office)] == [conflict.as_dict()]
    assert _view(worker) == _view(office)  # the newer of the two shows on both
    with pytest.raises(sync.SyncError):
        sync.resolve(worker, conflict.id, take="x")
    sync.resolve(worker, conflict.id, keep="theirs")
    assert worker.get("grid_cells", gid)["notes"] == "office edit"
    _swap(worker, office, tmp_path, "2")
    assert office.get("grid_cells", gid)["notes"] == "office edit" and sync.conflicts(office) == []


def test_a_late_older_operation_does_not_overwrite_a_newer_one_even_after_reopening(
    pair: tuple[Store, Store], tmp_path: Path
) -> None:
    worker, office = pair
    _swap(worker, office, tmp_path, "0")
    gid = next(iter(worker.records("grid_cells")))
    with worker.transaction() as tx:
        tx.update("grid_cells", gid, {"notes": "older"})
    with office.transaction() as tx:
        tx.update("grid_cells", gid, {"notes": "newer"})
    sync.export_bundle(worker, tmp_path / "w.gtb")
    sync.import_bundle(office, tmp_path / "w.gtb")
    assert office.get("grid_cells", gid)["notes"] == "newer"
    office.checkpoint()
    assert Store(office.path).get("grid_cells", gid)["notes"] == "newer"
    store_module.CHECKPOINT_BYTES, old = 1, store_module.CHECKPOINT_BYTES
    try:
        assert Store(office.path).get("grid_cells", gid)["notes"] == "newer"
    finally:
        store_module.CHECKPOINT_BYTES = old


# -- trust roster -----------------------------------------------------------------------------


def test_the_trust_roster(store: Store, tmp_path: Path) -> None:
    wangfang = Store.init(tmp_path / "wf" / "g.json")
    other = sync.whoami(wangfang)["public_key"]
    with pytest.raises(sync.SyncError) as bad:
        sync.trust_add(store, "x", "ed25519:not-a-key")
    assert bad.value.key == "sync.bad_key"
    sync.trust_add(store, "wangfang", other)
    with pytest.raises(sync.SyncError):
        sync.trust_add(store, "someone-else", other)
    assert [r["name"] for r in sync.trust_list(store)] == ["wangfang"]
    sync.trust_revoke(store, "wangfang")
    assert sync.trust_list(store) == [
        {"name": "wangfang", "key_id": sync.whoami(wangfang)["key_id"], "revoked": True}
    ]
    with pytest.raises(sync.SyncError):
        sync.trust_revoke(store, "wangfang")


def test_a_trusted_key_cannot_speak_for_another_laptop(pair: tuple[Store, Store], tmp_path: Path) -> None:
    worker, office = pair
    sync.export_bundle(worker, tmp_path / "w.gtb")
    sync.import_bundle(office, tmp_path / "w.gtb")
    other = Store.init(tmp_path / "other" / "g.json")
    sync.trust_add(office, "wangfang", sync.whoami(other)["public_key"])
    sync.export_bundle(other, tmp_path / "o.gtb")
    forged = _resigned(other, tmp_path / "o.gtb", tmp_path / "f.gtb", sender=worker.replica, bundle="X1")
    before = snapshot(office.path)
    with pytest.raises(sync.SyncError) as err:
        sync.import_bundle(office, forged)
    assert err.value.key == "sync.sender_mismatch" and snapshot(office.path) == before


# -- review fixes -----------------------------------------------------------------------------


def test_an_export_over_one_of_the_stores_own_files_is_refused_and_changes_no_byte(
    pair: tuple[Store, Store],
) -> None:
    worker, _ = pair
    worker.records("households")
    worker.checkpoint()  # so the households table has a file of its own too
    before = snapshot(worker.path)
    for suffix in ("", ".log", ".sync-key", ".sync-state", ".households"):
        target = worker.path.with_name(worker.path.name + suffix)
        with pytest.raises(sync.SyncError) as err:
            sync.export_bundle(worker, target)
        assert err.value.key == "sync.target_is_store"
        assert snapshot(worker.path) == before


def _phone_conflict(worker: Store, office: Store, tmp_path: Path, hid: str) -> sync.Conflict:
    _swap(worker, office, tmp_path, "p0")
    register.edit(worker, "household", hid, {"phone": "13900000001"})
    register.edit(office, "household", hid, {"phone": "13900000002"})
    _swap(worker, office, tmp_path, "p1")
    [conflict] = sync.conflicts(worker)
    return conflict


def test_a_taken_value_stays_text_and_is_checked_like_the_fields_own_edit(
    pair: tuple[Store, Store], tmp_path: Path, community: dict[str, str]
) -> None:
    worker, office = pair
    hid = community["household"]
    conflict = _phone_conflict(worker, office, tmp_path, hid)
    before = snapshot(worker.path)
    for bad in ("not a phone", "0003", "12345678901", "[1, 2]"):
        with pytest.raises(sync.InputError):
            sync.resolve(worker, conflict.id, take=bad)
        assert snapshot(worker.path) == before, bad
    _, value = sync.resolve(worker, conflict.id, take="139 0000 0003")
    assert value == "13900000003" and worker.get("households", hid)["phone"] == "13900000003"
    assert [h["id"] for h in register.find_households(worker, "0003")] == [hid]


def test_a_taken_member_id_number_is_checked(
    pair: tuple[Store, Store], tmp_path: Path, community: dict[str, str]
) -> None:
    worker, office = pair
    _swap(worker, office, tmp_path, "m0")
    mid = next(iter(worker.records("members")))
    with worker.transaction() as tx:
        tx.update("members", mid, {"id_number": "430105197903120046"})
    with office.transaction() as tx:
        tx.update("members", mid, {"id_number": "430105197903120062"})
    _swap(worker, office, tmp_path, "m1")
    [conflict] = sync.conflicts(worker)
    with pytest.raises(sync.InputError):
        sync.resolve(worker, conflict.id, take="430105197903120000")  # a wrong check digit
    _, value = sync.resolve(worker, conflict.id, take="43010519790312002x")
    assert value == "43010519790312002X"


def test_an_issue_assigned_on_two_laptops_apart_has_both_events_and_no_conflict(
    pair: tuple[Store, Store], tmp_path: Path, community: dict[str, str]
) -> None:
    from datetime import datetime

    worker, office = pair
    fields = {"household": community["household"], "category": "repair", "urgency": "normal"}
    issue, _ = issues.report(worker, {**fields, "channel": "wechat", "title": "楼道灯坏了"}, actor="刘丹")
    _swap(worker, office, tmp_path, "i0")
    issues.perform(worker, "assign", issue["number"], to=community["lead"][-6:], at=datetime.now())
    issues.perform(office, "assign", issue["number"], to="物业", at=datetime.now())  # later by the clock
    _swap(worker, office, tmp_path, "i1")
    for store in (worker, office):
        assert sync.conflicts(store) == []  # status, assignee, its kind, last event: the timeline's
        shown = store.get("issues", issue["id"])
        assert (shown["assignee"], shown["assignee_kind"]) == ("物业", "team")
        assert [e["type"] for e in issues.timeline(store, issue["id"])].count("assign") == 2


def test_derived_issue_fields_are_the_issue_caches_fields() -> None:
    from gridtool.issues import CACHE_FIELDS
    from gridtool.sync.conflicts import DERIVED

    assert DERIVED["issues"] == frozenset(CACHE_FIELDS)


def test_keeping_a_household_deleted_concurrently_brings_its_members_back(
    pair: tuple[Store, Store], tmp_path: Path, community: dict[str, str]
) -> None:
    worker, office = pair
    hid = community["household"]
    register.edit(worker, "household", hid, {"members": ["程金娇,43010519790312002X,户主", "程小红"]})
    _swap(worker, office, tmp_path, "0")
    members = {rid: public(m) for rid, m in worker.records("members").items()}
    assert len(members) == 2
    register.remove(worker, "household", hid)
    register.edit(office, "household", hid, {"room": "0503"})
    _swap(worker, office, tmp_path, "1")
    [conflict] = sync.conflicts(worker)
    assert conflict.field == "*" and worker.records("members") == {}
    assert [(c["table"], c["record"]) for c in sync.cascade(worker, conflict)] == sorted(
        ("members", rid) for rid in members
    )
    settled, _ = sync.resolve(worker, conflict.id, keep="theirs")  # the office's edit: keep it
    assert len(settled.restored) == 2
    assert worker.get("households", hid)["room"] == "0503"
    assert {rid: public(m) for rid, m in worker.records("members").items()} == members
    _swap(worker, office, tmp_path, "2")
    assert sync.conflicts(worker) == [] == sync.conflicts(office)
    assert _view(office) == _view(worker) and len(office.records("members")) == 2


def test_a_laptop_whose_clock_ran_ahead_says_so_and_its_peers_can_accept_its_changes(
    pair: tuple[Store, Store], tmp_path: Path
) -> None:
    worker, office = pair
    gid = next(iter(worker.records("grid_cells")))
    real = store_module.wall_ms()
    with (
        mock.patch.object(store_module, "wall_ms", lambda: real + 5 * 86_400_000),
        worker.transaction() as tx,
    ):
        tx.update("grid_cells", gid, {"notes": "clock set ahead"})
    with worker.transaction() as tx:  # the clock is fixed: the hybrid clock still runs ahead
        tx.update("grid_cells", gid, {"notes": "clock fixed"})
    assert sync.whoami(worker)["ahead_ms"] > 4 * 86_400_000
    assert sync.status(worker)["ahead_ms"] > 4 * 86_400_000
    exported = sync.export_bundle(worker, tmp_path / "w.gtb")
    assert exported.ahead_ms > 4 * 86_400_000
    result = sync.import_bundle(office, tmp_path / "w.gtb")
    assert [(h.reason, h.count) for h in result.held] == [("future", 2)]
    assert [(h.reason, h.name, h.count) for h in sync.held(office)] == [("future", "liudan", 2)]
    assert sync.import_bundle(office, sync.export_bundle(worker, tmp_path / "w2.gtb").path).applied == 0
    before = snapshot(office.path)
    with pytest.raises(sync.SyncError):
        sync.accept_clock(office, "nobody")
    assert snapshot(office.path) == before
    accepted = sync.accept_clock(office, "liudan")  # a person checked 刘丹's laptop
    assert accepted.applied == 2 and sync.held(office) == []
    assert office.get("grid_cells", gid)["notes"] == "clock fixed" and _view(office) == _view(worker)


def test_a_copied_store_that_reuses_the_replica_id_is_refused_not_silently_diverged(
    pair: tuple[Store, Store], tmp_path: Path
) -> None:
    import shutil

    worker, office = pair
    _swap(worker, office, tmp_path, "0")
    copy_dir = tmp_path / "restored"
    shutil.copytree(worker.path.parent, copy_dir, symlinks=True)
    copy = Store(copy_dir / worker.path.name)
    assert copy.replica == worker.replica
    gid = next(iter(worker.records("grid_cells")))
    with worker.transaction() as tx:
        tx.update("grid_cells", gid, {"notes": "the original"})
    with copy.transaction() as tx:
        tx.update("grid_cells", gid, {"notes": "the copy"})
    sync.export_bundle(worker, tmp_path / "w.gtb", peer="office")
    sync.export_bundle(copy, tmp_path / "c.gtb", peer="office")
    sync.import_bundle(office, tmp_path / "w.gtb")
    before = snapshot(office.path)
    for dry_run in (True, False):
        with pytest.raises(sync.SyncError) as err:
            sync.import_bundle(office, tmp_path / "c.gtb", dry_run=dry_run)
        assert err.value.key == "sync.replica_clash" and "same replica id" in err.value.message()
    assert snapshot(office.path) == before
    copy_before = snapshot(copy.path)
    with pytest.raises(sync.SyncError):
        sync.import_bundle(copy, tmp_path / "w.gtb")
    assert snapshot(copy.path) == copy_before
    assert sync.import_bundle(office, tmp_path / "w.gtb").already  # the genuine one still is fine


def test_this_laptops_own_key_is_not_added_to_its_roster(store: Store) -> None:
    with pytest.raises(sync.SyncError) as err:
        sync.trust_add(store, "me", sync.whoami(store)["public_key"])
    assert err.value.key == "sync.trust_self" and sync.trust_list(store) == []


@pytest.mark.parametrize("table", ["log", "sync_state", "lock", "nonsense"])
def test_an_operation_for_a_table_gridtool_does_not_sync_is_refused_as_malformed(
    pair: tuple[Store, Store], tmp_path: Path, table: str
) -> None:
    worker, office = pair
    bundle = tmp_path / "b.gtb"
    sync.export_bundle(worker, bundle)
    members = _members(bundle)
    ops = [orjson.loads(line) for line in members["ops.jsonl"].splitlines()]
    ops[0]["t"] = table
    body = b"".join(sync.canonical(op) + b"\n" for op in ops)
    manifest = orjson.loads(members["manifest.json"])
    manifest["members"]["ops.jsonl"] = {"sha256": sync._sha256(body), "size": len(body)}
    signed = sync.canonical(manifest)
    signature = base64.b64encode(sync._private_key(worker).sign(signed))
    forged = _write_zip(
        tmp_path / "t.gtb", [("manifest.json", signed), ("ops.jsonl", body), ("signature", signature)]
    )
    before = snapshot(office.path)
    with pytest.raises(sync.SyncError) as err:
        sync.import_bundle(office, forged)
    assert err.value.key == "sync.bad_ops" and snapshot(office.path) == before


def test_an_edit_against_a_delete_shows_what_the_edit_changed(
    pair: tuple[Store, Store], tmp_path: Path
) -> None:
    worker, office = pair
    _both_change(
        worker, office, tmp_path, office={"notes": "office edit", "worker_phone": "13900000009"}, worker=None
    )
    [conflict] = sync.conflicts(worker)
    shown = sorted(sync.shown_value(conflict, o) for o in conflict.options)
    assert "null" not in shown and "(deleted)" in shown
    assert "notes=office edit, worker_phone=139****0009" in shown
    assert "notes=office edit, worker_phone=13900000009" in [
        sync.shown_value(conflict, o, show_pii=True) for o in conflict.options
    ]


def test_a_phone_typed_into_conflicting_notes_is_masked_like_everywhere_else(
    pair: tuple[Store, Store], tmp_path: Path
) -> None:
    worker, office = pair
    _both_change(
        worker, office, tmp_path, office={"notes": "女儿电话13900000009"}, worker={"notes": "已搬走"}
    )
    [conflict] = [c for c in sync.conflicts(worker) if c.field == "notes"]
    shown = {sync.shown_value(conflict, o) for o in conflict.options}
    assert shown == {"女儿电话139****0009", "已搬走"}


def test_every_table_the_demo_community_writes_can_be_synced(tmp_path: Path) -> None:
    from gridtool import demo

    store, _ = demo.create_store(tmp_path / "demo" / "gridtool.json", demo.shipped(), volunteers=True)
    written = {op["t"] for op in sync.all_ops(store)}
    assert written and written <= sync.SYNC_TABLES


def test_a_restored_backup_that_imports_before_it_writes_carries_on_as_the_same_replica(
    pair: tuple[Store, Store], tmp_path: Path
) -> None:
    import shutil

    worker, office = pair
    _swap(worker, office, tmp_path, "0")
    shutil.copytree(worker.path.parent, tmp_path / "backup", symlinks=True)
    gid = next(iter(worker.records("grid_cells")))
    with worker.transaction() as tx:
        tx.update("grid_cells", gid, {"notes": "after the backup"})
    sync.export_bundle(worker, tmp_path / "w.gtb", peer="office")
    sync.import_bundle(office, tmp_path / "w.gtb")
    restored = Store(tmp_path / "backup" / worker.path.name)  # the laptop died; its backup comes back
    sync.export_bundle(office, tmp_path / "o.gtb", full=True)
    sync.import_bundle(restored, tmp_path / "o.gtb")
    assert restored.get("grid_cells", gid)["notes"] == "after the backup"
    with restored.transaction() as tx:
        tx.update("grid_cells", gid, {"notes": "back at work"})
    sync.export_bundle(restored, tmp_path / "r.gtb", peer="office")
    assert sync.import_bundle(office, tmp_path / "r.gtb").applied == 1
    assert office.get("grid_cells", gid)["notes"] == "back at work" and sync.conflicts(office) == []


def test_an_import_whose_sync_state_was_not_saved_is_recorded_by_its_log_line(
    pair: tuple[Store, Store], tmp_path: Path
) -> None:
    """The bundle's id commits with its operations, so a failure after the commit leaves both
    after: importing the bundle again says "already imported" and changes nothing."""
    worker, office = pair
    sync.export_bundle(worker, tmp_path / "b.gtb")
    full_disk = mock.patch.object(sync.applying, "_save_state", side_effect=OSError(28, "No space left"))
    with full_disk, pytest.raises(sync.SyncError) as err:
        sync.import_bundle(office, tmp_path / "b.gtb")
    assert err.value.key == "sync.state_unsaved" and "again" in err.value.message()
    assert len(office.records("grid_cells")) == 1
    before = snapshot(office.path)
    again = sync.import_bundle(office, tmp_path / "b.gtb")
    assert again.already and snapshot(office.path) == before


def test_a_conflict_over_a_reference_shows_the_records_names_not_their_ids(
    pair: tuple[Store, Store], tmp_path: Path, community: dict[str, str]
) -> None:
    worker, office = pair
    _swap(worker, office, tmp_path, "r0")
    grid = next(iter(worker.records("grid_cells")))
    ninth = register.add(worker, "building", {"grid_cell": grid, "compound": "铁园小区", "number": "9"})
    tenth = register.add(worker, "building", {"grid_cell": grid, "compound": "铁园小区", "number": "10"})
    _swap(worker, office, tmp_path, "r1")
    hid = community["household"]
    with worker.transaction() as tx:
        tx.update("households", hid, {"building": ninth["id"]})
    with office.transaction() as tx:
        tx.update("households", hid, {"building": tenth["id"]})
    _swap(worker, office, tmp_path, "r2")
    [conflict] = sync.conflicts(worker)
    shown = sorted(sync.shown_value(conflict, o, store=worker) for o in conflict.options)
    assert shown == sorted(register.describe(worker, "building", b) for b in (ninth, tenth))
    assert not any(b["id"] in text for b in (ninth, tenth) for text in shown)


def test_a_crash_while_the_key_is_made_never_leaves_a_note_of_a_key_that_is_not(store: Store) -> None:
    """The key is written before the note that remembers it: a crash between the two leaves a
    usable key, never a note that would refuse every later sync as a lost key."""
    from gridtool.sync import roster

    real = roster.write_private

    def crash_at_the_note(path: Path, data: bytes) -> None:
        if path.name.endswith(".sync-key-id"):
            raise OSError(28, "No space left on device")
        real(path, data)

    with mock.patch.object(roster, "write_private", crash_at_the_note), pytest.raises(OSError):
        sync.whoami(store)
    assert roster.key_path(store).exists() and not store.sidecar("sync-key-id").exists()
    assert sync.whoami(store)["key_id"]
