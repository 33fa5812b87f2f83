"""The register through the library API: validation, references, uniqueness, search."""

from __future__ import annotations

import pytest

# Removing a household or lead needs what points at it counted: these modules register that.
from gridtool import issues, register, volunteers  # noqa: F401
from gridtool.errors import InputError, NotFound, ValidationError
from gridtool.store import Store
from tests.conftest import snapshot


def _refused(store: Store, kind: str, data: dict) -> ValidationError:
    before = snapshot(store.path)
    with pytest.raises(ValidationError) as refused:
        register.add(store, kind, data)
    assert snapshot(store.path) == before
    return refused.value


def test_a_household_keeps_its_address_members_and_derived_birth_dates(store: Store, community: dict) -> None:
    household = store.get("households", community["household"])
    assert household["room"] == "0502" and household["unit"] == 2
    assert household["grid_cell"] == community["grid"]
    [member] = register.members_of(store, household["id"])
    assert member["household"] == household["id"] and member["id_number"] == "43010519790312002X"
    assert register.member_details(member) == {
        "id": member["id"],
        "name": "程金娇",
        "relation": "户主",
        "id_number": "43010519790312002X",
        "birth_date": "1979-03-12",
        "sex": "F",
    }
    assert register.address(store, household) == "湘离小区5栋2单元0502"


def test_grid_codes_are_unique_whatever_their_case(store: Store, community: dict) -> None:
    refused = _refused(store, "grid_cell", {"code": "tl-03", "name": "另一个"})
    assert refused.fields == ["code"] and "TL-03" in refused.message()


def test_an_address_is_registered_once(store: Store, community: dict) -> None:
    refused = _refused(
        store, "household", {"building": community["building"], "unit": 2, "room": "0502", "head": "别人"}
    )
    assert refused.fields == ["room"] and "程金娇" in refused.message()


def test_every_problem_of_a_record_is_reported_at_once(store: Store, community: dict) -> None:
    refused = _refused(
        store,
        "household",
        {
            "building": community["building"],
            "unit": 9,
            "room": "1201",
            "head": "",
            "phone": "1351234567",
            "members": ["张三,43010519790312002Y,户主"],
        },
    )
    assert set(refused.fields) == {"unit", "room", "head", "phone", "id_number"}


def test_references_must_exist_and_agree(store: Store, community: dict) -> None:
    register.add(store, "grid_cell", {"code": "TL-04", "name": "第四网格"})
    assert _refused(
        store, "building", {"grid_cell": "XX-99", "compound": "湘离小区", "number": "6"}
    ).fields == ["grid_cell"]
    mismatch = _refused(
        store,
        "household",
        {"grid_cell": "TL-04", "building": community["building"], "unit": 1, "room": "0101", "head": "张三"},
    )
    assert mismatch.fields == ["building"]
    unknown = _refused(
        store,
        "household",
        {"grid_cell": "XX-99", "building": community["building"], "unit": 1, "room": "0101", "head": "张三"},
    )
    assert unknown.fields == ["grid_cell"]
    for grid in (community["grid"], "tl-03"):  # the building's own grid, by id or by code
        added = register.add(
            store,
            "household",
            {"grid_cell": grid, "building": community["building"], "unit": 1, "room": "0101", "head": "张三"},
        )
        assert added["grid_cell"] == community["grid"]
        register.remove(store, "household", added["id"])


def test_members_written_as_one_cell_split_as_a_ledger_splits_them(store: Store, community: dict) -> None:
    cell = "张三,430105198001010010,户主；李四,,配偶,1981-02-03\n王五,,子"  # full-width ；, a line break
    added = register.add(
        store,
        "household",
        {"building": community["building"], "unit": 1, "room": "0101", "head": "张三", "members": cell},
    )
    people = register.members_of(store, added["id"])
    assert [m["name"] for m in people] == ["张三", "李四", "王五"]
    assert people[1]["birth_date"] == "1981-02-03"


def test_the_head_is_listed_first_then_the_others_as_registered(store: Store, community: dict) -> None:
    cell = "李四,,配偶;王五,,子;张三,430105198001010010,户主;赵六,,女"  # the head written third
    added = register.add(
        store,
        "household",
        {"building": community["building"], "unit": 1, "room": "0101", "head": "张三", "members": cell},
    )
    assert [m["name"] for m in register.members_of(store, added["id"])] == ["张三", "李四", "王五", "赵六"]
    two_heads = "张一,,户主;李四,,配偶;张二,,户主"  # nothing forbids it: both heads still come first
    added = register.add(
        store,
        "household",
        {"building": community["building"], "unit": 1, "room": "0102", "head": "张一", "members": two_heads},
    )
    assert [m["name"] for m in register.members_of(store, added["id"])] == ["张一", "张二", "李四"]


def test_a_person_is_registered_in_one_household_only(store: Store, community: dict) -> None:
    refused = _refused(
        store,
        "household",
        {
            "building": community["building"],
            "unit": 1,
            "room": "0101",
            "head": "程金娇",
            "members": ["程金娇,43010519790312002X,户主"],
        },
    )
    assert refused.fields == ["id_number"] and "湘离小区5栋2单元0502" in refused.message()
    assert "43010519790312002X" not in refused.message()  # the reason never shows the full number


def test_edit_changes_fields_members_and_tags_in_one_write(store: Store, community: dict) -> None:
    lines = store.log_path.read_bytes().count(b"\n")
    register.edit(
        store,
        "household",
        community["household"],
        {"phone": "13900001111"},
        add_items={"members": [register.parse_member("蒋伟,430105200501010017,子")], "tags": ["低保户"]},
        remove_items={"tags": ["独居老人"]},
    )
    household = store.get("households", community["household"])
    assert household["phone"] == "13900001111"
    assert [m["name"] for m in register.members_of(store, household["id"])] == ["程金娇", "蒋伟"]
    assert household["tags"] == ["低保户"]
    assert store.log_path.read_bytes().count(b"\n") == lines + 1


def test_members_are_edited_person_by_person(store: Store, community: dict) -> None:
    [head] = register.members_of(store, community["household"])
    register.edit(
        store,
        "household",
        community["household"],
        {},
        add_items={"members": [register.parse_member("蒋伟,430105200501010017,子")]},
    )
    register.edit(
        store, "household", community["household"], {"head": "程金娇"}, remove_items={"members": ["蒋伟"]}
    )
    [still] = register.members_of(store, community["household"])
    assert still["id"] == head["id"]  # untouched people keep their record (and their sync history)
    ops = [op for op in store.operations() if op["t"] == "members"]
    assert [("del" in op, op["r"] == head["id"]) for op in ops] == [
        (False, True),
        (False, False),
        (True, False),
    ]


def test_removal_is_refused_while_others_point_at_a_record(store: Store, community: dict) -> None:
    before = snapshot(store.path)
    with pytest.raises(InputError, match="households"):
        register.remove(store, "building", community["building"])
    with pytest.raises(InputError):
        register.remove(store, "grid_cell", "TL-03")
    assert snapshot(store.path) == before
    register.remove(store, "household", community["household"])
    assert store.records("members") == {}  # the people go with their household
    register.remove(store, "building", community["building"])
    assert store.get("leads", community["lead"])["buildings"] == []  # the lead no longer points at it


def test_lookups_accept_codes_suffixes_names_and_compound_numbers(store: Store, community: dict) -> None:
    assert register.grid_cell_by_ref(store, "tl-03")["id"] == community["grid"]
    assert register.building_by_ref(store, "湘离小区/5栋")["id"] == community["building"]
    assert register.building_by_ref(store, community["building"][-6:].lower())["id"] == community["building"]
    assert register.lead_by_ref(store, "谭石泉")["id"] == community["lead"]
    assert register.household_by_ref(store, "程金娇")["id"] == community["household"]
    with pytest.raises(NotFound):
        register.household_by_ref(store, "nobody")


@pytest.mark.parametrize("query", ["程", "cjj", "CJ", "湘离小区5栋", "5678", "独居"])
def test_find_matches_names_initials_addresses_phone_tails_and_tags(
    store: Store, community: dict, query: str
) -> None:
    assert [h["id"] for h in register.find_households(store, query)] == [community["household"]]


def test_find_matches_either_reading_of_a_polyphonic_surname(store: Store, community: dict) -> None:
    register.add(
        store, "household", {"building": community["building"], "unit": 1, "room": "0101", "head": "单田芳"}
    )
    assert [h["head"] for h in register.find_households(store, "stf")] == ["单田芳"]
    assert [h["head"] for h in register.find_households(store, "dtf")] == ["单田芳"]
    assert register.find_households(store, "xyz") == []


def test_lead_roles_accept_chinese_names_and_refuse_unknown_ones(store: Store, community: dict) -> None:
    lead = register.add(store, "lead", {"name": "周五老", "roles": ["五老", "党员"], "grid_cell": "TL-03"})
    assert lead["roles"] == ["five-elders", "party-member"]
    assert _refused(store, "lead", {"name": "某人", "roles": ["mayor"]}).fields == ["roles"]


def test_a_grid_cell_with_leads_is_not_removed_under_them(store: Store, community: dict) -> None:
    register.add(store, "grid_cell", {"code": "TL-09", "name": "九网格"})
    register.add(store, "lead", {"name": "甲", "grid_cell": "TL-09"})
    with pytest.raises(InputError, match="1 leads"):
        register.remove(store, "grid_cell", "TL-09")


def test_a_building_cannot_shrink_below_its_households(store: Store, community: dict) -> None:
    before = snapshot(store.path)
    with pytest.raises(ValidationError) as refused:
        register.edit(store, "building", community["building"], {"units": 1})
    assert refused.value.fields == ["units"] and "湘离小区5栋2单元0502" in refused.value.message()
    with pytest.raises(ValidationError):
        register.edit(store, "building", community["building"], {"floors": 4})
    assert snapshot(store.path) == before


def test_moving_house_to_another_grid_cell_takes_the_new_buildings_grid(
    store: Store, community: dict
) -> None:
    register.add(store, "grid_cell", {"code": "TL-04", "name": "四网格"})
    other = register.add(store, "building", {"grid_cell": "TL-04", "compound": "桂花里", "number": "1"})
    moved = register.edit(
        store, "household", community["household"], {"building": other["id"], "unit": 1, "room": "0101"}
    )
    assert moved["grid_cell"] == register.grid_cell_by_ref(store, "TL-04")["id"]


def test_a_room_typed_without_its_leading_zero_is_the_same_flat(store: Store, community: dict) -> None:
    refused = _refused(
        store, "household", {"building": community["building"], "unit": 2, "room": "502", "head": "别人"}
    )
    assert refused.fields == ["room"]
    added = register.add(
        store, "household", {"building": community["building"], "unit": 1, "room": "302", "head": "张三"}
    )
    assert added["room"] == "0302"


def test_removing_what_is_not_there_is_refused_not_silently_ignored(store: Store, community: dict) -> None:
    before = snapshot(store.path)
    with pytest.raises(ValidationError, match="不存在的人"):
        register.edit(
            store, "household", community["household"], {}, remove_items={"members": ["不存在的人"]}
        )
    with pytest.raises(ValidationError):
        register.edit(store, "household", community["household"], {}, remove_items={"tags": ["低保户"]})
    assert snapshot(store.path) == before
