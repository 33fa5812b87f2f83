"""``import(export(store))`` round-trips exactly, for any register hypothesis can think of.

Records are generated with Chinese text in every free field, members with and without ID numbers,
tags, notes with commas, quotes and line breaks, and columns the office added (extras).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridtool import i18n, register
from gridtool.ledger import export_file, export_records, import_file
from gridtool.register import ROLES
from gridtool.store import Store
from gridtool.validate import id_check_char
from tests.conftest import snapshot

KINDS = ("grid_cell", "building", "lead", "household")
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
names = st.text(CJK, min_size=1, max_size=4)
notes = st.one_of(
    st.just(""),
    st.text(st.one_of(CJK, st.sampled_from("abcXYZ0129 ,，\"'=+-\n：")), min_size=1, max_size=12).map(
        str.strip
    ),
)
dates = st.dates(
    min_value=__import__("datetime").date(1930, 1, 1), max_value=__import__("datetime").date(2020, 12, 31)
)


class Counter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n += 1
        return self.n


def _ident(born: Any, n: int) -> str:
    first17 = f"430105{born:%Y%m%d}{n % 1000:03d}"
    return first17 + id_check_char(first17)


@st.composite
def registers(draw: st.DrawFn) -> dict[str, Any]:
    """A small register: grid cells, buildings, leads and households with members and extras."""
    count = Counter()
    spec: dict[str, Any] = {"grids": [], "buildings": [], "leads": [], "households": []}
    for g in range(draw(st.integers(1, 2))):
        spec["grids"].append(
            {
                "code": f"G{g}-{draw(st.integers(0, 99)):02d}",
                "name": draw(names),
                "community": draw(names),
                "worker": draw(names),
                "worker_phone": f"138{count():08d}",
                "notes": draw(notes),
            }
        )
        compound = draw(names) + f"{g}区"  # unique per grid, so compound/number names one building
        for b in range(draw(st.integers(1, 2))):
            spec["buildings"].append(
                {
                    "grid": g,
                    "compound": compound,
                    "number": str(b + 1),
                    "units": draw(st.integers(1, 3)),
                    "floors": draw(st.integers(1, 12)),
                    "notes": draw(notes),
                }
            )
    addresses = set()
    for _ in range(draw(st.integers(0, 6))):
        b = draw(st.integers(0, len(spec["buildings"]) - 1))
        building = spec["buildings"][b]
        unit = draw(st.integers(1, building["units"]))
        room = f"{draw(st.integers(1, building['floors'])):02d}{draw(st.integers(1, 4)):02d}"
        if (b, unit, room) in addresses:
            continue
        addresses.add((b, unit, room))
        members = []
        for position in range(draw(st.integers(0, 3))):
            member: dict[str, Any] = {
                "name": draw(names),
                "relation": "户主" if position == 0 else draw(names),
            }
            if draw(st.booleans()):
                member["id_number"] = _ident(draw(dates), count())
            else:
                member["birth_date"] = draw(dates).isoformat()
            if draw(st.integers(0, 3)) == 0:
                member["phone"] = f"137{count():08d}"
            members.append(member)
        extras_keys = draw(st.lists(st.text(CJK, min_size=1, max_size=3), max_size=2, unique=True))
        spec["households"].append(
            {
                "building": b,
                "unit": unit,
                "room": room,
                "head": members[0]["name"] if members and draw(st.booleans()) else draw(names),
                "phone": draw(st.sampled_from(["", f"135{count():08d}"])),
                "members": members,
                "tags": draw(st.lists(names, max_size=3, unique=True)),
                "notes": draw(notes),
                "extras": {f"附加{k}": draw(names) for k in extras_keys},
            }
        )
    for _ in range(draw(st.integers(0, 2))):
        spec["leads"].append(
            {
                "name": draw(names),
                "phone": f"139{count():08d}",
                "roles": draw(st.lists(st.sampled_from(ROLES), max_size=3, unique=True)),
                "buildings": draw(
                    st.lists(st.integers(0, len(spec["buildings"]) - 1), max_size=2, unique=True)
                ),
                "active": draw(st.booleans()),
                "notes": draw(notes),
            }
        )
    return spec


def fill(store: Store, spec: dict[str, Any]) -> None:
    grids = [register.add(store, "grid_cell", g)["id"] for g in spec["grids"]]
    buildings = []
    for b in spec["buildings"]:
        data = {k: v for k, v in b.items() if k != "grid"}
        buildings.append(register.add(store, "building", {**data, "grid_cell": grids[b["grid"]]})["id"])
    for lead in spec["leads"]:
        register.add(store, "lead", {**lead, "buildings": [buildings[b] for b in lead["buildings"]]})
    for h in spec["households"]:
        register.add(store, "household", {**h, "building": buildings[h["building"]]})


def _everything(store: Store) -> dict[str, list[dict[str, Any]]]:
    return {kind: export_records(store, kind, show_pii=True) for kind in KINDS}


@given(spec=registers(), fmt=st.sampled_from(["csv", "xlsx", "json"]), lang=st.sampled_from(["en", "zh"]))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_import_of_an_export_changes_nothing_and_rebuilds_the_same_register(
    tmp_path_factory: Any, spec: dict[str, Any], fmt: str, lang: str
) -> None:
    i18n.set_language(lang)
    try:
        directory: Path = tmp_path_factory.mktemp("roundtrip")
        original = Store.init(directory / "a" / "gridtool.json")
        fill(original, spec)
        files = {}
        for kind in KINDS:
            files[kind] = directory / f"{kind}.{fmt}"
            export_file(original, kind, fmt, files[kind], show_pii=True)

        before = snapshot(original.path)
        for kind in KINDS:
            report = import_file(original, kind, files[kind])
            assert not report.problems and not report.warnings, report.as_dict()
            assert report.unchanged == report.rows
        assert snapshot(original.path) == before  # not one operation written

        copy = Store.init(directory / "b" / "gridtool.json")
        for kind in KINDS:
            report = import_file(copy, kind, files[kind])
            assert report.created == report.rows and not report.problems, report.as_dict()
        assert _everything(copy) == _everything(original)
        if fmt != "xlsx":  # a workbook carries its creation time; its cells are compared above
            for kind in KINDS:
                export_file(copy, kind, fmt, directory / f"again-{kind}.{fmt}", show_pii=True)
                assert (directory / f"again-{kind}.{fmt}").read_bytes() == files[kind].read_bytes()
    finally:
        i18n.set_language(None)
