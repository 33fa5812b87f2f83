"""Population figures against an independent count from the ID numbers of a generated register."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridtool import population, register
from gridtool.errors import InputError, ValidationError
from gridtool.store import Store
from gridtool.validate import id_check_char

AS_OF = date(2026, 2, 28)  # a common year's last day of February: 29 February birthdays not yet reached
TAGS = ("独居老人", "低保户", "残疾人", "党员户")


def id_number(born: date, serial: int, male: bool) -> str:
    sex_digit = (serial % 5) * 2 + (1 if male else 0)
    first17 = f"430105{born:%Y%m%d}{serial % 100:02}{sex_digit}"
    return first17 + id_check_char(first17)


def birthday(born: date, year: int) -> date:
    """When someone born on ``born`` has their birthday in ``year`` (1 March for 29 February)."""
    if (born.month, born.day) == (2, 29) and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return date(year, 3, 1)
    return born.replace(year=year)


def reference_age(born: date, day: date) -> int | None:
    """Completed years by counting the birthdays passed, one by one (independent of the module)."""
    if born > day:
        return None
    age = 0
    while birthday(born, born.year + age + 1) <= day:
        age += 1
    return age


def reference_band(age: int | None) -> str:
    if age is None:
        return "age_unknown"
    if age <= 6:
        return "age_0_6"
    if age <= 17:
        return "age_7_17"
    if age <= 59:
        return "age_18_59"
    if age <= 79:
        return "age_60_79"
    return "age_80_plus"


def generated(store: Store, seed: int = 20) -> list[dict[str, Any]]:
    """Three grid cells of households with people of every age, some born on the as-of day, on
    29 February, without an ID number (with and without a birth date). Returns the plain facts."""
    rng = random.Random(seed)
    facts = []
    serial = 0
    for code in ("A-01", "A-02", "B-01"):
        register.add(store, "grid_cell", {"code": code, "name": f"第{code}网格"})
        building = register.add(
            store, "building", {"grid_cell": code, "compound": f"{code[0]}苑", "number": code[-1], "units": 4}
        )
        for n in range(12):
            people = []
            for position in range(rng.randint(1, 4)):
                serial += 1
                kind = rng.random()
                if kind < 0.12:
                    born = AS_OF.replace(year=AS_OF.year - rng.choice([0, 6, 7, 17, 18, 59, 60, 79, 80]))
                elif kind < 0.22:
                    born = date(rng.choice([1944, 1948, 2008, 2020, 2024]), 2, 29)
                elif kind < 0.26:
                    born = AS_OF - timedelta(days=1)
                else:
                    born = date(1925, 1, 1) + timedelta(days=rng.randrange(0, 36500))
                    born = min(born, AS_OF)
                name = f"居民{serial}"
                relation = "户主" if position == 0 else "家属"
                if rng.random() < 0.08:
                    entered = rng.choice([None, born])
                    spec: dict[str, Any] = {"name": name, "id_number": "", "relation": relation}
                    if entered:
                        spec["birth_date"] = entered.isoformat()
                    facts.append({"grid": code, "id": None, "born": entered, "male": None})
                else:
                    male = rng.random() < 0.5
                    spec = {"name": name, "id_number": id_number(born, serial, male), "relation": relation}
                    facts.append({"grid": code, "id": spec["id_number"], "born": born, "male": male})
                people.append(spec)
            tags = [tag for tag in TAGS if rng.random() < 0.3]
            register.add(
                store,
                "household",
                {
                    "grid_cell": code,
                    "building": building["id"],
                    "unit": 1,
                    "room": f"{n + 1:02}01",
                    "head": people[0]["name"],
                    "members": people,
                    "tags": tags,
                },
            )
            facts[-len(people)]["household_tags"] = tags
    return facts


def independent(facts: list[dict[str, Any]], day: date) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for fact in facts:
        row = counts.setdefault(fact["grid"], {key: 0 for key in population.COUNT_KEYS})
        row["residents"] += 1
        if fact["id"] is None:
            row["unknown"] += 1
        else:
            row["male" if fact["male"] else "female"] += 1
        born = fact["born"]
        row[reference_band(reference_age(born, day) if born else None)] += 1
        if "household_tags" in fact:
            row["households"] += 1
            for tag in fact["household_tags"]:
                row[tag] = row.get(tag, 0) + 1
    return counts


@pytest.fixture(scope="module")
def register_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, list[dict[str, Any]]]:
    store = Store.init(tmp_path_factory.mktemp("population") / "gridtool.json")
    return store, generated(store)


@pytest.mark.parametrize(
    "day",
    [
        AS_OF,
        date(2027, 3, 1),
        date(2028, 2, 28),
        date(2028, 2, 29),
        AS_OF - timedelta(days=2),
        date(2030, 6, 1),
    ],
)
def test_population_matches_an_independent_count_from_the_id_numbers(
    register_store: tuple[Store, list[dict[str, Any]]], day: date
) -> None:
    store, facts = register_store
    report = population.population(store, as_of=day)
    expected = independent(facts, day)
    assert [row.name for row in report.rows] == ["A-01", "A-02", "B-01"]
    for row in report.rows:
        want = expected[row.name]
        assert {key: row.get(key) for key in population.COUNT_KEYS} == {
            key: want[key] for key in population.COUNT_KEYS
        }
        assert row.tags == {tag: want[tag] for tag in TAGS if want.get(tag)}
    total = report.total
    assert total.residents == len(facts)
    assert total.male + total.female + total.unknown == total.residents
    assert sum(total.ages.values()) == total.residents


def test_the_as_of_birthday_and_29_february_are_counted_as_stated(
    register_store: tuple[Store, list[dict[str, Any]]],
) -> None:
    store, facts = register_store
    leap_born = [f for f in facts if f["born"] and (f["born"].month, f["born"].day) == (2, 29) and f["id"]]
    on_the_day = [f for f in facts if f["born"] and f["born"] == date(1946, 2, 28) and f["id"]]
    assert leap_born and on_the_day  # the generated register holds both cases
    before = population.population(store, as_of=date(2026, 2, 28)).total
    # born 1948-02-29: 77 on 28 February 2026, 78 on 1 March; born 1946-02-28: 80 on the day itself
    assert population.age_on("19480229", date(2026, 2, 28)) == 77
    assert population.age_on("19480229", date(2026, 3, 1)) == 78
    assert population.age_on("19480229", date(2028, 2, 29)) == 80
    assert population.age_on("19460228", date(2026, 2, 28)) == 80
    assert population.age_on("20260301", date(2026, 2, 28)) is None
    assert before.ages["age_80_plus"] >= len(on_the_day)


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
)
def test_age_on_agrees_with_counting_birthdays(born: date, day: date) -> None:
    assert population.age_on(born.strftime("%Y%m%d"), day) == reference_age(born, day)


def test_an_id_number_of_a_day_that_does_not_exist_is_refused_at_entry(store: Store) -> None:
    register.add(store, "grid_cell", {"code": "A-01", "name": "一"})
    building = register.add(store, "building", {"grid_cell": "A-01", "compound": "甲苑", "number": "1"})
    before = population.population(store).total.residents
    for digits in ("20230229", "19000229", "20260431"):
        first17 = f"430105{digits}011"
        with pytest.raises(ValidationError):
            register.add(
                store,
                "household",
                {
                    "grid_cell": "A-01",
                    "building": building["id"],
                    "unit": 1,
                    "room": "0101",
                    "head": "某",
                    "members": [
                        {"name": "某", "id_number": first17 + id_check_char(first17), "relation": "户主"}
                    ],
                },
            )
    assert population.population(store).total.residents == before == 0


def test_a_person_registered_twice_counts_once_where_registered_first(store: Store) -> None:
    for code in ("A-01", "A-02"):
        register.add(store, "grid_cell", {"code": code, "name": code})
    number = id_number(date(1950, 5, 1), 1, True)
    household = register.add(
        store,
        "household",
        {
            "grid_cell": "A-01",
            "building": register.add(
                store, "building", {"grid_cell": "A-01", "compound": "甲", "number": "1"}
            )["id"],
            "unit": 1,
            "room": "0101",
            "head": "甲",
            "members": [{"name": "甲", "id_number": number, "relation": "户主"}],
        },
    )
    other = register.add(
        store,
        "household",
        {
            "grid_cell": "A-02",
            "building": register.add(
                store, "building", {"grid_cell": "A-02", "compound": "乙", "number": "1"}
            )["id"],
            "unit": 1,
            "room": "0101",
            "head": "乙",
        },
    )
    with store.transaction() as tx:  # as two laptops that each registered the person leave it after sync
        tx.create(
            "members", {"household": other["id"], "name": "甲", "id_number": number, "relation": "户主"}
        )
    report = population.population(store, as_of=date(2026, 12, 1))
    assert report.total.residents == 1
    assert {row.name: row.residents for row in report.rows} == {"A-01": 1, "A-02": 0}
    assert household["id"]


def test_rows_by_compound_and_building_and_one_grid(
    register_store: tuple[Store, list[dict[str, Any]]],
) -> None:
    store, facts = register_store
    by_compound = population.population(store, as_of=AS_OF, by="compound")
    assert [row.name for row in by_compound.rows] == ["A苑", "B苑"]
    assert by_compound.total.residents == len(facts)
    by_building = population.population(store, as_of=AS_OF, by="building", grid="B-01")
    assert [row.name for row in by_building.rows] == ["B苑1栋"]
    assert by_building.total.residents == sum(1 for f in facts if f["grid"] == "B-01")
    with pytest.raises(InputError):
        population.population(store, by="street")


def test_json_shape_and_shares(register_store: tuple[Store, list[dict[str, Any]]]) -> None:
    store, _ = register_store
    data = population.as_json(population.population(store, as_of=AS_OF))
    assert data["report"] == "population" and data["as_of"] == AS_OF.isoformat()
    total = data["total"]
    assert set(population.COUNT_KEYS) <= set(total)
    from gridtool.reports import rate

    assert total["percent"]["age_80_plus"] == rate(total["age_80_plus"], total["residents"])
    assert sum(row["residents"] for row in data["rows"]) == total["residents"]


def test_birthdays_list_who_turns_the_ages_in_the_month(
    register_store: tuple[Store, list[dict[str, Any]]],
) -> None:
    store, facts = register_store
    for year, month in ((2026, 2), (2026, 3), (2028, 2)):
        ages = [78, 80, 83]
        report = population.birthdays(store, year, month, ages)
        expected = sorted(
            (birthday(f["born"], year).isoformat(), year - f["born"].year)
            for f in facts
            if f["born"] and year - f["born"].year in ages and birthday(f["born"], year).month == month
        )
        assert sorted((row["birthday"], row["age"]) for row in report.rows) == expected
        for row in report.rows:
            assert "*" in row["id_number"] or row["id_number"] == ""
    shown = population.birthdays(store, 2026, 3, [78], show_pii=True)
    assert all("*" not in row["id_number"] for row in shown.rows)
    assert any(row["birthday"] == "2026-03-01" for row in shown.rows)  # born 1948-02-29


@pytest.mark.parametrize("text", ["2026-13", "26-12", "2026", "december"])
def test_a_bad_month_is_refused(text: str) -> None:
    with pytest.raises(InputError):
        population.parse_month(text)


@pytest.mark.parametrize("text", ["80,x", "-1", "200", ""])
def test_bad_ages_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        population.parse_ages(text)
