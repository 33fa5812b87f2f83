"""Teams, volunteers and the order lifecycle, through the library's public functions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from gridtool import issues, points, volunteers
from gridtool.errors import InputError, NotFound, TransitionError, ValidationError
from gridtool.store import Store
from tests.conftest import snapshot


def at(text: str) -> datetime:
    return issues.parse_when(text)


@pytest.fixture
def crew(store: Store, community: dict[str, str]) -> dict[str, str]:
    team = volunteers.add_team(store, {"name": "银发志愿服务队", "colour": "红", "kind": "五老（银发）"})
    fang = volunteers.add_volunteer(
        store, {"name": "王芳", "phone": "13900001111", "teams": ["银发志愿服务队"], "skills": ["理发"]}
    )
    wei = volunteers.add_volunteer(
        store, {"name": "张伟", "teams": [team["id"]], "skills": "repair, tutoring"}
    )
    return {**community, "team": team["id"], "fang": fang["id"], "wei": wei["id"]}


def test_a_team_kind_is_accepted_by_its_label_and_a_duplicate_name_is_refused(
    store: Store, crew: dict[str, str]
) -> None:
    assert store.records("teams")[crew["team"]]["kind"] == "five-elders"
    before = snapshot(store.path)
    with pytest.raises(ValidationError) as refused:
        volunteers.add_team(store, {"name": "银发志愿服务队", "kind": "rocket"})
    assert refused.value.fields == ["kind", "name"]
    assert snapshot(store.path) == before


def test_a_volunteer_gets_services_by_name_and_unknown_skills_and_teams_are_refused(
    store: Store, crew: dict[str, str]
) -> None:
    assert store.records("volunteers")[crew["fang"]]["skills"] == ["haircut"]
    assert store.records("volunteers")[crew["wei"]]["skills"] == ["repair", "tutoring"]
    with pytest.raises(ValidationError) as refused:
        volunteers.add_volunteer(
            store, {"name": "李四", "phone": "123", "teams": ["无此队"], "skills": ["飞行"]}
        )
    assert sorted(refused.value.fields) == ["phone", "service", "teams"]
    with pytest.raises(ValidationError) as same_phone:
        volunteers.add_volunteer(store, {"name": "王芳二", "phone": "139 0000 1111"})
    assert same_phone.value.fields == ["phone"]
    assert [v["name"] for v in volunteers.list_volunteers(store, skill="维修")] == ["张伟"]
    assert len(volunteers.list_volunteers(store, team="银发志愿服务队")) == 2


def test_an_order_runs_open_taken_done_rated_and_earns_points(store: Store, crew: dict[str, str]) -> None:
    order = volunteers.new_order(
        store,
        {"household": "程金娇", "service": "理发", "wanted_by": "2026-06-10"},
        at=at("2026-06-01 09:00"),
    )
    assert order["number"] == "V2026-000001" and order["status"] == "open"
    order, written = volunteers.perform(store, "take", "V2026-1", at=at("2026-06-01 10:00"), volunteer="王芳")
    assert order["status"] == "taken" and order["volunteer"] == crew["fang"] and written == []
    order, written = volunteers.perform(store, "done", order["number"], at=at("2026-06-02 10:00"), hours="1")
    assert order["status"] == "done" and [(e["kind"], e["points"], e["rule"]) for e in written] == [
        ("credit", 5, "haircut")
    ]
    order, written = volunteers.perform(store, "rate", order["id"][-8:], at=at("2026-06-02 12:00"), rating=5)
    assert order["status"] == "rated" and [(e["kind"], e["points"]) for e in written] == [("bonus", 3)]
    assert points.balance(store, crew["fang"]) == 8
    assert [o["number"] for o in volunteers.list_orders(store, open_only=True)] == []
    assert (
        volunteers.new_order(store, {"household": "程金娇", "service": "parcel"}, at=at("2026-06-03 09:00"))[
            "number"
        ]
        == "V2026-000002"
    )


def test_steps_out_of_order_are_refused_with_what_is_allowed(store: Store, crew: dict[str, str]) -> None:
    order = volunteers.new_order(
        store, {"household": "程金娇", "service": "repair"}, at=at("2026-06-01 09:00")
    )
    before = snapshot(store.path)
    with pytest.raises(TransitionError) as refused:
        volunteers.perform(store, "done", order["number"], hours=1)
    assert "take, cancel" in refused.value.message()
    with pytest.raises(ValidationError) as no_one:
        volunteers.perform(store, "take", order["number"], volunteer="")
    assert no_one.value.fields == ["volunteer"]
    with pytest.raises(InputError):
        volunteers.perform(store, "take", order["number"], at=at("2026-05-31 09:00"), volunteer="张伟")
    assert snapshot(store.path) == before
    volunteers.perform(store, "take", order["number"], at=at("2026-06-01 10:00"), volunteer="张伟")
    for hours in ("0", "-1", "25", "abc", None):
        with pytest.raises(ValidationError) as bad:
            volunteers.perform(store, "done", order["number"], at=at("2026-06-01 11:00"), hours=hours)
        assert bad.value.fields == ["hours"]
    cancelled, _ = volunteers.perform(store, "cancel", order["number"], reason="住户已自行解决")
    assert cancelled["status"] == "cancelled"
    with pytest.raises(TransitionError):
        volunteers.perform(store, "take", order["number"], volunteer="张伟")
    assert points.entries(store) == []


def test_bad_new_orders_name_each_field_and_write_nothing(store: Store, crew: dict[str, str]) -> None:
    before = snapshot(store.path)
    with pytest.raises(ValidationError) as refused:
        volunteers.new_order(
            store, {"household": "无此人", "service": "飞行", "wanted_by": "2020-01-01"}, at=at("2026-06-01")
        )
    assert sorted(refused.value.fields) == ["household", "service", "wanted_by"]
    with pytest.raises(ValidationError) as nothing:
        volunteers.new_order(store, {})
    assert sorted(nothing.value.fields) == ["household", "service"]
    with pytest.raises(NotFound):
        volunteers.order_by_ref(store, "V2026-9")
    assert snapshot(store.path) == before


def test_an_order_from_an_issue_is_linked_and_its_steps_show_on_the_issue_timeline(
    store: Store, crew: dict[str, str]
) -> None:
    issue, _ = issues.report(
        store,
        {"household": crew["household"], "category": "repair", "channel": "phone", "title": "水管漏水"},
        at=at("2026-06-01 09:00"),
    )
    order = volunteers.new_order(
        store, {"from_issue": issue["number"], "service": "维修"}, at=at("2026-06-01 10:00"), actor="刘丹"
    )
    assert order["issue"] == issue["id"] and order["household"] == crew["household"]
    assert order["description"] == "水管漏水"
    volunteers.perform(store, "take", order["number"], at=at("2026-06-01 11:00"), volunteer="张伟")
    volunteers.perform(store, "done", order["number"], at=at("2026-06-01 15:00"), hours=1.5)
    events = issues.timeline(store, issue["id"])
    assert [e["type"] for e in events] == ["report", "note", "note"]
    assert order["number"] in issues.event_details(store, events[1])
    assert events[2]["payload"]["said"]["params"]["number"] == order["number"]
    assert "张伟" in issues.event_details(store, events[2]) and "1.5 h" in issues.event_details(
        store, events[2]
    )
    assert events[2]["at"] == "2026-06-01T15:00:00" and events[1]["actor"] == "刘丹"
    assert store.records("issues")[issue["id"]]["status"] == "reported", "a note changes no status"
    assert [e["points"] for e in points.entries(store, crew["wei"])] == [8], "1.5 h × 5 = 7.5, half up"


def test_an_order_for_another_household_than_the_issue_is_refused(store: Store, crew: dict[str, str]) -> None:
    from gridtool import register

    other = register.add(
        store,
        "household",
        {"grid_cell": "TL-03", "building": crew["building"], "unit": 1, "room": "0101", "head": "李大爷"},
    )
    issue, _ = issues.report(
        store,
        {"household": crew["household"], "category": "repair", "channel": "phone", "title": "灯坏了"},
        at=at("2026-06-01 09:00"),
    )
    before = snapshot(store.path)
    with pytest.raises(ValidationError) as refused:
        volunteers.new_order(
            store, {"from_issue": issue["number"], "household": other["id"], "service": "repair"}
        )
    assert refused.value.fields == ["household"]
    assert snapshot(store.path) == before


def test_order_tables_live_in_their_own_files(store: Store, crew: dict[str, str], store_path: Path) -> None:
    volunteers.new_order(store, {"household": "程金娇", "service": "理发"})
    store.checkpoint()
    reopened = Store(store_path)
    assert not reopened.is_loaded("orders")
    assert len(reopened.records("orders")) == 1
    assert store_path.with_name(store_path.name + ".orders").exists()


def test_a_household_with_an_open_order_cannot_be_removed(store: Store, crew: dict[str, str]) -> None:
    from gridtool import register

    order = volunteers.new_order(store, {"household": "程金娇", "service": "parcel"})
    with pytest.raises(InputError) as refused:
        register.remove(store, "household", crew["household"])
    assert "order" in refused.value.message()
    volunteers.perform(store, "cancel", order["number"], reason="已搬走")
    register.remove(store, "household", crew["household"])
    assert volunteers.order_rows(store, volunteers.list_orders(store))[0]["household"] == ""


def test_the_demo_has_teams_orders_in_every_state_points_and_visits_due(tmp_path: Path) -> None:
    from gridtool import demo, visits

    store, counts = demo.create_store(tmp_path / "demo" / "gridtool.json", demo.shipped(), volunteers=True)
    assert counts["teams"] == 3 and counts["volunteers"] >= 6 and counts["orders"] == 10
    statuses = {o["status"] for o in store.records("orders").values()}
    assert statuses == {"open", "taken", "done", "rated"}
    latest_credit = max(e["at"] for e in points.entries(store) if e["kind"] == "credit")
    ranked = points.rank(store, year=int(latest_credit[:4]))
    assert ranked and all(points.balance(store, r["volunteer"]) >= 0 for r in ranked)
    assert visits.overdue(store).rows and visits.due(store, within=7).rows


def test_two_orders_sharing_a_number_after_a_sync_are_asked_for_by_id(
    store: Store, crew: dict[str, str]
) -> None:
    first = volunteers.new_order(store, {"household": "程金娇", "service": "parcel"})
    second = volunteers.new_order(store, {"household": "程金娇", "service": "errand"})
    with store.transaction() as tx:  # what two laptops numbering on their own leave after a sync
        tx.update("orders", second["id"], {"number": first["number"]})
    with pytest.raises(NotFound) as ambiguous:
        volunteers.order_by_ref(store, first["number"])
    assert "2" in ambiguous.value.message()
    assert volunteers.order_by_ref(store, second["id"][-8:])["service"] == "errand"
    assert volunteers.new_order(store, {"household": "程金娇", "service": "parcel"})["number"].endswith(
        "0002"
    )
