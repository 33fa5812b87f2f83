"""Two laptops, one ledger: balances are computed from ledger operations, so replicas that
exchanged sync bundles agree on every balance, entry and rank."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from gridtool import points, register, sync, volunteers
from gridtool.store import Store


def _exchange(source: Store, target: Store, folder: Path, peer: str) -> Store:
    """What two workers do: one exports a bundle for the other (``peer`` in its roster), who
    imports it."""
    bundle = folder / f"bundle-{len(list(folder.iterdir()))}.zip"
    sync.export_bundle(source, bundle, peer=peer)
    sync.import_bundle(target, bundle)
    return Store(target.path)


def test_two_replicas_agree_on_every_balance_after_exchanging_operations(tmp_path: Path) -> None:
    a = Store.init(tmp_path / "a" / "gridtool.json", name="刘丹")
    b = Store.init(tmp_path / "b" / "gridtool.json", name="谭石泉")
    sync.trust_add(a, "tanshiquan", sync.whoami(b)["public_key"])
    sync.trust_add(b, "liudan", sync.whoami(a)["public_key"])
    usb = tmp_path / "usb"
    usb.mkdir()
    register.add(a, "grid_cell", {"code": "TL-03", "name": "铁园"})
    building = register.add(a, "building", {"grid_cell": "TL-03", "compound": "湘离小区", "number": "5"})
    household = register.add(
        a, "household", {"building": building["id"], "unit": 1, "room": "101", "head": "程金娇"}
    )
    fang = volunteers.add_volunteer(a, {"name": "王芳"})["id"]
    b = _exchange(a, b, usb, "tanshiquan")  # the second laptop starts from the first one's register

    def serve(store: Store, day: int, service: str) -> None:
        when = datetime(2026, 6, day, 9, 0)
        order = volunteers.new_order(store, {"household": household["id"], "service": service}, at=when)
        volunteers.perform(store, "take", order["id"], at=when, volunteer=fang)
        volunteers.perform(store, "done", order["id"], at=when, hours=2)
        volunteers.perform(store, "rate", order["id"], at=when, rating=5)

    serve(a, 1, "haircut")  # 5 + 3 on laptop A
    serve(b, 2, "repair")  # 10 + 3 on laptop B
    points.redeem(b, fang, 4, "食用油", at=datetime(2026, 6, 3, 9, 0))
    a = _exchange(b, a, usb, "liudan")
    b = _exchange(a, b, usb, "tanshiquan")
    assert points.balance(a, fang) == points.balance(b, fang) == 5 + 3 + 10 + 3 - 4
    assert [e["id"] for e in points.entries(a, fang)] == [e["id"] for e in points.entries(b, fang)]
    assert points.rank(a, year=2026) == points.rank(b, year=2026)
