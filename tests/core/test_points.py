"""The points ledger: each rule, redemption, correction, the balance invariant, and the rank."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridtool import issues, points, register, volunteers
from gridtool.errors import InputError, ValidationError
from gridtool.store import Store
from tests.conftest import snapshot


def at(text: str) -> datetime:
    return issues.parse_when(text)


@pytest.fixture
def people(store: Store, community: dict[str, str]) -> dict[str, str]:
    volunteers.add_team(store, {"name": "平安巡防队", "kind": "safety"})
    volunteers.add_team(store, {"name": "巾帼志愿队", "kind": "womens-care"})
    ids = {}
    for name, team in (
        ("王芳", "平安巡防队"),
        ("张伟", "平安巡防队"),
        ("李娜", "巾帼志愿队"),
        ("刘洋", "巾帼志愿队"),
    ):
        ids[name] = volunteers.add_volunteer(store, {"name": name, "teams": [team]})["id"]
    return ids


def serve(
    store: Store, who: str, service: str, when: str, hours: float = 1, rating: int | None = None
) -> str:
    """One order from request to done (and rated), stamped from ``when`` on."""
    start = at(when)
    order = volunteers.new_order(store, {"household": "程金娇", "service": service}, at=start)
    volunteers.perform(store, "take", order["number"], at=start, volunteer=who)
    volunteers.perform(store, "done", order["number"], at=start + timedelta(hours=1), hours=hours)
    if rating is not None:
        volunteers.perform(store, "rate", order["number"], at=start + timedelta(hours=2), rating=rating)
    return order["number"]


def test_per_service_and_per_hour_credits_name_the_order_and_the_rule(
    store: Store, people: dict[str, str]
) -> None:
    first = serve(store, "王芳", "haircut", "2026-03-02 09:00", hours=3)
    second = serve(store, "王芳", "tutoring", "2026-03-03 09:00", hours=2.5)
    credits = points.entries(store, people["王芳"])
    assert [(e["order_number"], e["rule"], e["points"]) for e in credits] == [
        (first, "haircut", 5),  # per service: the hours do not matter
        (second, "tutoring", 10),  # 4 an hour × 2.5 h
    ]
    assert points.balance(store, people["王芳"]) == 15
    assert points.hour_points(5, 1.5) == 8 and points.hour_points(3, 0.5) == 2, "halves round up"


def test_the_five_star_bonus_comes_only_with_five_stars(store: Store, people: dict[str, str]) -> None:
    serve(store, "张伟", "haircut", "2026-03-02 09:00", rating=4)
    serve(store, "张伟", "haircut", "2026-03-03 09:00", rating=5)
    kinds = [(e["kind"], e["points"]) for e in points.entries(store, people["张伟"])]
    assert kinds == [("credit", 5), ("credit", 5), ("bonus", 3)]
    bonus = points.entries(store, people["张伟"])[-1]
    assert bonus["rule"] == "five-star" and bonus["rating"] == 5


def test_the_rules_table_is_editable_and_a_service_bonus_beats_the_general_one(
    store: Store, people: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "points_rules.csv").write_text(
        "rule,service,basis,points,name\n"
        "haircut,haircut,per-service,6,理发\n"
        "haircut-star,haircut,bonus-5-star,4,理发好评\n"
        "star,*,bonus-5-star,1,好评\n"
        "garden,garden,per-hour,2,绿化\n",
        encoding="gbk",
    )
    serve(store, "李娜", "haircut", "2026-03-02 09:00", rating=5)
    serve(store, "李娜", "绿化", "2026-03-03 09:00", hours=2, rating=5)
    assert [(e["rule"], e["points"]) for e in points.entries(store, people["李娜"])] == [
        ("haircut", 6),
        ("haircut-star", 4),
        ("garden", 4),
        ("star", 1),
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("rule,service,basis,points\n", "name"),
        ("rule,service,basis,points,name\nx,x,per-day,1,\n", "per-day"),
        ("rule,service,basis,points,name\nx,x,per-hour,0,\n", "0"),
        ("rule,service,basis,points,name\nx,x,per-hour,1,\ny,x,per-service,2,\n", "x"),
        ("rule,service,basis,points,name\nx,*,bonus-5-star,1,\n", "no rule"),
    ],
)
def test_a_broken_rules_table_is_refused_with_its_row(tmp_path: Path, body: str, reason: str) -> None:
    path = tmp_path / "rules.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as refused:
        points.load_rules(path)
    assert str(path) in refused.value.message() and reason in refused.value.message()


def test_a_redemption_names_the_item_and_is_refused_when_points_are_short(
    store: Store, people: dict[str, str]
) -> None:
    serve(store, "王芳", "repair", "2026-03-02 09:00", hours=4)  # 20 points
    entry, left = points.redeem(store, "王芳", 15, "大米5kg", at=at("2026-03-05 09:00"))
    assert (entry["kind"], entry["points"], entry["item"], left) == ("redeem", -15, "大米5kg", 5)
    before = snapshot(store.path)
    with pytest.raises(InputError) as refused:
        points.redeem(store, "王芳", 6, "食用油")
    assert "5" in refused.value.message() and refused.value.params["balance"] == 5
    for bad, field in ((0, "points"), (-3, "points"), ("十", "points")):
        with pytest.raises(ValidationError) as invalid:
            points.redeem(store, "王芳", bad, "食用油")
        assert invalid.value.fields == [field]
    with pytest.raises(ValidationError) as no_item:
        points.redeem(store, "王芳", 1, " ")
    assert no_item.value.fields == ["item"]
    assert snapshot(store.path) == before
    assert points.balance(store, people["王芳"]) == 5


def test_a_backdated_redemption_may_not_dip_the_ledger_below_zero(
    store: Store, people: dict[str, str]
) -> None:
    serve(store, "王芳", "repair", "2026-03-01 09:00", hours=2)  # +10
    points.redeem(store, "王芳", 8, "大米5kg", at=at("2026-03-10 09:00"))
    serve(store, "王芳", "repair", "2026-03-20 09:00", hours=2)  # +10: balance 12
    before = snapshot(store.path)
    with pytest.raises(InputError) as refused:
        points.redeem(store, "王芳", 5, "食用油", at=at("2026-03-05 09:00"))
    assert refused.value.params["balance"] == 2, "only 2 could be spent then without a later dip"
    assert snapshot(store.path) == before
    assert points.redeem(store, "王芳", 5, "食用油", at=at("2026-03-21 09:00"))[1] == 7


def test_a_correction_is_a_new_entry_and_the_corrected_one_stays(
    store: Store, people: dict[str, str]
) -> None:
    serve(store, "刘洋", "tutoring", "2026-03-02 09:00", hours=3)  # 12 points, should have been 2 h
    credit = points.entries(store, people["刘洋"])[0]
    fixed, left = points.correct(store, credit["id"][-8:], -4, "实际服务2小时", at=at("2026-03-04 09:00"))
    assert (fixed["kind"], fixed["points"], fixed["corrects"], left) == ("correction", -4, credit["id"], 8)
    assert fixed["order_number"] == credit["order_number"]
    assert store.records("points")[credit["id"]]["points"] == 12, "never edited"
    assert points.balance(store, people["刘洋"]) == 8
    before = snapshot(store.path)
    with pytest.raises(InputError) as negative:
        points.correct(store, credit["id"], -9, "多扣")
    assert negative.value.params["balance"] == 8
    with pytest.raises(ValidationError) as no_reason:
        points.correct(store, credit["id"], 1, "")
    assert no_reason.value.fields == ["reason"]
    with pytest.raises(ValidationError) as unknown:
        points.correct(store, "ZZZZZZZZ", 1, "?")
    assert unknown.value.fields == ["entry"]
    assert snapshot(store.path) == before
    ledger_ops = [op for op in store.operations() if op["t"] == "points"]
    assert ledger_ops and all(op["pred"] == [] and "set" in op for op in ledger_ops), "creates only"


def test_the_rank_breaks_ties_by_services_then_by_who_got_there_first(
    store: Store, people: dict[str, str]
) -> None:
    # 王芳: one repair of 2 h = 10 points. 张伟: two haircuts = 10 points, two services: ahead.
    serve(store, "王芳", "repair", "2026-03-02 09:00", hours=2)
    serve(store, "张伟", "haircut", "2026-03-03 09:00")
    serve(store, "张伟", "haircut", "2026-03-04 09:00")
    # 李娜 and 刘洋: 10 points from one repair each; 刘洋 got there a day earlier than 李娜 and 王芳.
    serve(store, "刘洋", "repair", "2026-03-01 09:00", hours=2)
    serve(store, "李娜", "repair", "2026-03-05 09:00", hours=2)
    points.redeem(store, "张伟", 10, "洗衣液", at=at("2026-03-06 09:00"))
    ranked = points.rank(store, year=2026)
    assert [(r["rank"], r["name"], r["points"], r["services"]) for r in ranked] == [
        (1, "张伟", 10, 2),
        (2, "刘洋", 10, 1),
        (3, "王芳", 10, 1),
        (4, "李娜", 10, 1),
    ], "redemptions do not lower anyone's honour"
    assert [r["name"] for r in points.rank(store, year=2026, team="巾帼志愿队")] == ["刘洋", "李娜"]
    assert [r["name"] for r in points.rank(store, year=2026, top=2)] == ["张伟", "刘洋"]
    assert points.rank(store, year=2025) == []
    roll = points.rank_markdown(ranked, 2026)
    assert roll.startswith("# ") and "1. 张伟" in roll and "4. 李娜" in roll


def test_a_correction_counts_in_the_year_it_was_made(store: Store, people: dict[str, str]) -> None:
    serve(store, "王芳", "haircut", "2025-12-30 09:00")
    credit = points.entries(store, people["王芳"])[0]
    points.correct(store, credit["id"], 2, "漏记加时", at=at("2026-01-02 09:00"))
    assert [(r["name"], r["points"]) for r in points.rank(store, year=2025)] == [("王芳", 5)]
    assert [(r["name"], r["points"], r["services"]) for r in points.rank(store, year=2026)] == [
        ("王芳", 2, 0)
    ]


def _never_negative(ledger: list[tuple[str, int]]) -> bool:
    running = 0
    for _, amount in ledger:
        running += amount
        if running < 0:
            return False
    return True


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["earn", "redeem", "correct"]),
            st.integers(min_value=-12, max_value=15).filter(bool),
            st.integers(min_value=0, max_value=4),  # the day it is entered for: some are backdated
        ),
        max_size=8,
    )
)
def test_the_balance_is_the_ledger_sum_and_never_negative(steps: list[tuple[str, int, int]]) -> None:
    """Whatever order credits, redemptions and corrections come in (backdated too), the balance is
    the sum of the ledger, the ledger read in its order never dips below zero, and a request is
    refused only when accepting it would make it dip."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.init(Path(tmp) / "g.json")
        register.add(store, "grid_cell", {"code": "A-1", "name": "一网格"})
        building = register.add(store, "building", {"grid_cell": "A-1", "compound": "小区", "number": "1"})
        household = register.add(
            store, "household", {"building": building["id"], "unit": 1, "room": "101", "head": "甲"}
        )
        vid = volunteers.add_volunteer(store, {"name": "乙"})["id"]
        for kind, amount, day in steps:
            when = datetime(2026, 3, 1, 9, 0) + timedelta(days=day)
            before = [(e["at"], int(e["points"])) for e in points.entries(store, vid)]
            change = -abs(amount) if kind == "redeem" else amount
            # The new entry placed first among those of the same moment: the strictest place, and a
            # negative entry dips anywhere only if it dips there.
            would = sorted([(when.isoformat(), change), *before], key=lambda e: e[0])
            if kind == "earn":
                order = volunteers.new_order(
                    store, {"household": household["id"], "service": "haircut"}, at=when
                )
                volunteers.perform(store, "take", order["number"], at=when, volunteer=vid)
                volunteers.perform(store, "done", order["number"], at=when, hours=1)
            elif kind == "redeem" or (kind == "correct" and before):
                target = points.entries(store, vid)[-1] if before else {}
                try:
                    if kind == "redeem":
                        points.redeem(store, vid, abs(amount), "物品", at=when)
                    else:
                        points.correct(store, target["id"], amount, "更正", at=when)
                except InputError as refused:
                    if refused.key == "points.correction_before_entry":
                        assert target["at"] > when.isoformat(), "refused although it comes after"
                    else:
                        assert not _never_negative(would), "refused although nothing would dip"
            ledger = points.entries(store, vid)
            assert _never_negative([(e["at"], int(e["points"])) for e in ledger])
            assert points.balance(store, vid) == sum(int(e["points"]) for e in ledger) >= 0
        reopened = Store(store.path)
        assert points.balance(reopened, vid) == points.balance(store, vid), "the same from the files"


def test_an_orders_credit_and_bonus_have_ids_every_replica_derives_alike(
    store: Store, people: dict[str, str]
) -> None:
    from gridtool.ids import derived_id

    number = serve(store, "王芳", "haircut", "2026-03-02 09:00", rating=5)
    order = volunteers.order_by_ref(store, number)
    credit, bonus = points.entries(store, people["王芳"])
    assert credit["id"] == derived_id(order["id"], "credit") and bonus["id"] == derived_id(
        order["id"], "bonus"
    )
    assert len(credit["id"]) == 26 and credit["id"][:10] == order["id"][:10]
    assert store.resolve("points", credit["id"][-8:]) == credit["id"]


def test_a_correction_of_a_redemption_changes_what_was_spent_not_what_was_earned(
    store: Store, people: dict[str, str]
) -> None:
    serve(store, "王芳", "repair", "2026-03-02 09:00", hours=2)  # 10 points
    serve(store, "张伟", "repair", "2026-03-02 09:00", hours=2)  # 10 points, registered after 王芳
    spent, _ = points.redeem(store, "王芳", 8, "大米5kg", at=at("2026-03-03 09:00"))
    points.correct(store, spent["id"], 5, "退回", at=at("2026-03-04 09:00"))
    assert points.summary(store, people["王芳"]) | {"entries": 0} == {
        "balance": 7,
        "earned": 10,
        "redeemed": 3,
        "services": 1,
        "entries": 0,
    }
    assert [(r["name"], r["points"]) for r in points.rank(store, year=2026)] == [("王芳", 10), ("张伟", 10)]
    fix, _ = points.correct(store, spent["id"], -1, "多退", at=at("2026-03-05 09:00"))
    points.correct(store, fix["id"], 1, "撤回多退", at=at("2026-03-06 09:00"))  # a correction's correction
    assert points.summary(store, people["王芳"])["earned"] == 10
    assert points.summary(store, people["王芳"])["redeemed"] == 3


def test_a_correction_dated_before_the_entry_it_corrects_is_refused(
    store: Store, people: dict[str, str]
) -> None:
    serve(store, "王芳", "repair", "2026-03-02 09:00", hours=2)  # credited 10:00
    credit = points.entries(store, people["王芳"])[0]
    before = snapshot(store.path)
    with pytest.raises(InputError) as early:
        points.correct(store, credit["id"], -2, "记错", at=at("2026-03-02 09:30"))
    assert early.value.key == "points.correction_before_entry"
    assert early.value.params["entry_at"] == "2026-03-02 10:00"
    assert snapshot(store.path) == before
    fixed, left = points.correct(store, credit["id"], -2, "记错", at=at("2026-03-02 10:00"))
    assert left == 8 and fixed["at"] == credit["at"], "the same second is allowed"
