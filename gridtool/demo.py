"""A fictional community to explore, and a generator of large realistic stores for benchmarks.

Every person is invented: names are drawn from common characters, ID numbers use the region code
4399xx (no such county exists) with a valid check digit, so demo data can never be a real person's.
A dataset refers to its own records by ``key``; loading gives every record a fresh id, so two
laptops that load the demo still never share an id.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from gridtool.errors import StoreError
from gridtool.paths import data_file
from gridtool.register import stage_add
from gridtool.store import Store
from gridtool.validate import id_check_char

DEMO_FILE = "demo/community.json"
HOUSEHOLDS_PER_GRID = 500


def _names() -> dict[str, Any]:
    return orjson.loads(data_file("demo", "names.json").read_bytes())


class _People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        pools = _names()
        self.surnames = list(pools["surnames"])
        self.weights = pools["surname_weights"]
        self.male = pools["given_male"]
        self.female = pools["given_female"]
        self.compounds = pools["compounds"]
        self.ids: set[str] = set()
        self.phones: set[str] = set()

    def name(self, sex: str, surname: str | None = None) -> str:
        rng = self.rng
        family = surname or rng.choices(self.surnames, self.weights)[0]
        pool = self.male if sex == "M" else self.female
        given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.7 else "")
        return family + given

    def id_number(self, born: date, sex: str) -> str:
        while True:
            seq = self.rng.randrange(0, 500) * 2 + (1 if sex == "M" else 0)
            first17 = f"4399{self.rng.randrange(1, 10):02d}{born:%Y%m%d}{seq:03d}"
            value = first17 + id_check_char(first17)
            if value not in self.ids:
                self.ids.add(value)
                return value

    def phone(self) -> str:
        while True:
            value = self.rng.choice(["13", "15", "17", "18", "19"]) + f"{self.rng.randrange(10**9):09d}"
            if value[2] == "0" and value[:2] == "17":
                continue
            if value not in self.phones:
                self.phones.add(value)
                return value

    def birth(self, low: int, high: int) -> date:
        return date(self.rng.randint(low, high), 1, 1) + timedelta(days=self.rng.randrange(365))


def generate(
    households: int = 300,
    seed: int = 2026,
    grid_cells: int | None = None,
    community: str = "青枫社区",
    town: str = "望城街道",
) -> dict[str, Any]:
    """A dataset of invented grid cells, buildings, leads and households (deterministic per seed)."""
    rng = random.Random(seed)
    people = _People(rng)
    n_grids = grid_cells or max(3, -(-households // HOUSEHOLDS_PER_GRID))
    per_grid = -(-households // n_grids)
    dataset: dict[str, Any] = {
        "community": community,
        "town": town,
        "grid_cells": [],
        "buildings": [],
        "leads": [],
        "households": [],
    }
    made = 0
    for g in range(1, n_grids + 1):
        code = f"QF-{g:02d}"
        dataset["grid_cells"].append(
            {
                "key": code,
                "code": code,
                "name": f"{community}第{_zh_number(g)}网格",
                "community": community,
                "town": town,
                "worker": people.name(rng.choice("MF")),
                "worker_phone": people.phone(),
            }
        )
        compound = people.compounds[(g - 1) % len(people.compounds)]
        grid_made = 0
        number = 0
        while grid_made < per_grid and made < households:
            number += 1
            units, floors = rng.choice([(2, 6), (3, 6), (2, 5), (1, 7), (3, 7)])
            key = f"{code}/{number}"
            dataset["buildings"].append(
                {
                    "key": key,
                    "grid_cell": code,
                    "compound": compound,
                    "number": str(number),
                    "units": units,
                    "floors": floors,
                }
            )
            lead_roles = ["building-lead", *rng.sample(["party-member", "five-elders"], rng.randint(0, 2))]
            dataset["leads"].append(
                {
                    "key": f"lead:{key}",
                    "name": people.name(rng.choice("MF")),
                    "phone": people.phone(),
                    "roles": lead_roles,
                    "buildings": [key],
                    "grid_cell": code,
                }
            )
            for unit in range(1, units + 1):
                for floor in range(1, floors + 1):
                    for door in (1, 2):
                        if grid_made >= per_grid or made >= households:
                            break
                        if rng.random() < 0.12:  # empty or rented-out flats
                            continue
                        dataset["households"].append(
                            _household(people, code, key, unit, f"{floor:02d}{door:02d}")
                        )
                        grid_made += 1
                        made += 1
        for n in range(2):
            dataset["leads"].append(
                {
                    "key": f"vol:{code}:{n}",
                    "name": people.name(rng.choice("MF")),
                    "phone": people.phone(),
                    "roles": ["volunteer"],
                    "buildings": [],
                    "grid_cell": code,
                }
            )
    dataset["leads"].append(
        {
            "key": "team:safety",
            "name": f"{community}安全巡查队",
            "phone": people.phone(),
            "roles": ["team"],
            "buildings": [],
            "grid_cell": "QF-01",
        }
    )
    return dataset


def _household(people: _People, grid: str, building: str, unit: int, room: str) -> dict[str, Any]:
    rng = people.rng
    sex = rng.choice("MF")
    surname = rng.choices(people.surnames, people.weights)[0]
    head_born = people.birth(1938, 1996)
    members = [_member(people, people.name(sex, surname), head_born, sex, "户主")]
    old = date.today().year - head_born.year >= 65
    tags: list[str] = []
    alone = rng.random() < (0.35 if old else 0.08)
    if not alone:
        spouse_sex = "F" if sex == "M" else "M"
        if rng.random() < 0.85:
            members.append(
                _member(
                    people,
                    people.name(spouse_sex),
                    people.birth(head_born.year - 4, min(head_born.year + 4, 2000)),
                    spouse_sex,
                    "配偶",
                )
            )
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
            child_year = head_born.year + rng.randint(22, 36)
            if child_year > 2024:
                break
            child_sex = rng.choice("MF")
            members.append(
                _member(
                    people,
                    people.name(child_sex, surname),
                    people.birth(child_year, child_year),
                    child_sex,
                    "子" if child_sex == "M" else "女",
                )
            )
    elif old:
        tags.append("独居老人")
    for tag, share in (
        ("低保户", 0.05),
        ("残疾人", 0.03),
        ("党员户", 0.1),
        ("脱贫户", 0.02),
        ("退役军人", 0.03),
        ("留守儿童", 0.02),
    ):
        if rng.random() < share:
            tags.append(tag)
    return {
        "grid_cell": grid,
        "building": building,
        "unit": unit,
        "room": room,
        "head": members[0]["name"],
        "phone": people.phone(),
        "members": members,
        "tags": tags,
    }


def _member(people: _People, name: str, born: date, sex: str, relation: str) -> dict[str, str]:
    return {"name": name, "id_number": people.id_number(born, sex), "relation": relation}


def _zh_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    return str(n)


def shipped() -> dict[str, Any]:
    """The demo community shipped in ``data/demo/community.json``."""
    return orjson.loads(data_file(*DEMO_FILE.split("/")).read_bytes())


def load(store: Store, dataset: dict[str, Any], actor: str | None = "demo") -> dict[str, int]:
    """Add a dataset to a store in one transaction; returns how many records of each kind."""
    counts = {"grid_cells": 0, "buildings": 0, "leads": 0, "households": 0}
    ids: dict[str, str] = {}
    with store.transaction(actor=actor) as tx:
        for grid in dataset["grid_cells"]:
            fields = {k: v for k, v in grid.items() if k != "key"}
            ids[grid["key"]] = stage_add(tx, "grid_cell", fields, where=f"grid_cell {grid['key']}")
            counts["grid_cells"] += 1
        for building in dataset["buildings"]:
            fields = {k: v for k, v in building.items() if k != "key"}
            fields["grid_cell"] = ids[building["grid_cell"]]
            ids[building["key"]] = stage_add(tx, "building", fields, where=f"building {building['key']}")
            counts["buildings"] += 1
        for lead in dataset["leads"]:
            fields = {k: v for k, v in lead.items() if k != "key"}
            fields["buildings"] = [ids[b] for b in lead.get("buildings", ())]
            if lead.get("grid_cell"):
                fields["grid_cell"] = ids[lead["grid_cell"]]
            stage_add(tx, "lead", fields, where=f"lead {lead['key']}")
            counts["leads"] += 1
        for n, household in enumerate(dataset["households"], start=1):
            fields = dict(household)
            fields["grid_cell"] = ids[household["grid_cell"]]
            fields["building"] = ids[household["building"]]
            stage_add(tx, "household", fields, where=f"household #{n}")
            counts["households"] += 1
    return counts


def create_store(path: Path, dataset: dict[str, Any], fresh: bool = False) -> tuple[Store, dict[str, int]]:
    """A new store at ``path`` holding ``dataset``.

    With ``fresh``, an earlier demo store at ``path`` is replaced; a store that ``gridtool demo``
    did not make is never touched.
    """
    if fresh and path.exists():
        if Store(path).meta.get("name") != "demo":
            raise StoreError("demo.not_demo", path=str(path))
        for old in path.parent.glob(path.name + "*"):
            old.unlink()
    store = Store.init(path, name="demo")
    counts = load(store, dataset)
    store.checkpoint()
    return store, counts
