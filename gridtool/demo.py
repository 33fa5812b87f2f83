"""A fictional community to explore, and a generator of large realistic stores for benchmarks.

Every person is invented: names are drawn from common characters, ID numbers use the region code
4399xx (no such county exists) with a valid check digit, so demo data can never be a real person's.
A dataset refers to its own records by ``key``; loading gives every record a fresh id, so two
laptops that load the demo still never share an id.
"""

from __future__ import annotations

import random
import warnings
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import orjson

from gridtool.errors import StoreError
from gridtool.paths import data_file
from gridtool.register import stage_add
from gridtool.store import Store, Transaction, leftovers
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
    issues: int | None = None,
) -> dict[str, Any]:
    """A dataset of invented grid cells, buildings, leads, households and issues (deterministic per
    seed); ``issues`` defaults to one for every two households."""
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
    n_issues = len(dataset["households"]) // 2 if issues is None else issues
    dataset["issues"] = generate_issues(dataset, n_issues, seed)
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


def load(
    store: Store, dataset: dict[str, Any], actor: str | None = "demo", today: date | None = None
) -> dict[str, int]:
    """Add a dataset to a store in one transaction; returns how many records of each kind.

    Issues are dated relative to ``today`` (default: the real today) and never later than now.
    """
    counts = {"grid_cells": 0, "buildings": 0, "leads": 0, "households": 0, "issues": 0}
    ids: dict[str, str] = {}
    lead_ids: dict[str, str] = {}
    household_ids: list[str] = []
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
            lead_ids[lead["key"]] = stage_add(tx, "lead", fields, where=f"lead {lead['key']}")
            counts["leads"] += 1
        for n, household in enumerate(dataset["households"], start=1):
            fields = dict(household)
            fields["grid_cell"] = ids[household["grid_cell"]]
            fields["building"] = ids[household["building"]]
            household_ids.append(stage_add(tx, "household", fields, where=f"household #{n}"))
            counts["households"] += 1
        if dataset.get("issues"):
            counts["issues"] = _load_issues(tx, dataset["issues"], ids, lead_ids, household_ids, today)
    return counts


def _load_issues(
    tx: Transaction,
    specs: list[dict[str, Any]],
    ids: dict[str, str],
    lead_ids: dict[str, str],
    household_ids: list[str],
    today: date | None,
) -> int:
    """Realise relative issue timelines, validated by the same code as the commands, in one go.

    Invented issues may fall due in a year the holiday data does not know yet; approximate
    deadlines are fine for a demo, so that calendar warning is not passed on to someone trying the
    tool out.
    """
    from gridtool.ids import new_id
    from gridtool.issues import END_OF_DAY, NumberAllocator, build
    from gridtool.issues import now as current_time
    from gridtool.sla import load_sla
    from gridtool.workdays import CalendarFallbackWarning

    store = tx.store
    sla = load_sla()
    moment = current_time()
    day0 = today or moment.date()
    numbers = NumberAllocator(store)
    built: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalendarFallbackWarning)
        for spec in specs:
            data = {k: spec[k] for k in ("title", "description", "category", "urgency", "scale", "channel")}
            if spec.get("household") is not None:
                data["household"] = household_ids[spec["household"]]
            else:
                data["grid_cell"] = ids[spec["grid_cell"]]
            steps = []
            previous = datetime.min
            for step in spec["steps"]:
                at = datetime.combine(day0 + timedelta(days=step["day"]), time.fromisoformat(step["time"]))
                at = max(min(at, moment), previous)  # never in the future, never out of order
                previous = at
                params = {
                    k: v for k, v in step.items() if k not in ("action", "day", "time", "actor", "due_day")
                }
                if "due_day" in step:
                    params["due"] = datetime.combine(day0 + timedelta(days=step["due_day"]), END_OF_DAY)
                if params.get("to") in lead_ids:  # a lead of the dataset by key; anything else is a team
                    params["to"] = lead_ids[params["to"]]
                if str(params.get("duplicate_of", "")).startswith("issue:"):
                    params["duplicate_of"] = built[int(params["duplicate_of"][6:])]
                steps.append((step["action"], at, step.get("actor"), params))
            record, events = build(store, data, steps, numbers, current=moment, sla=sla)
            issue_id = tx.create("issues", record, record_id=new_id())
            for event in events:
                tx.create("events", {"issue": issue_id, **event})
            built.append(record["number"])
    return len(built)


def create_store(
    path: Path, dataset: dict[str, Any], fresh: bool = False, volunteers: bool = False
) -> tuple[Store, dict[str, int]]:
    """A new store at ``path`` holding ``dataset``.

    With ``fresh``, an earlier demo store at ``path`` is replaced; a store that ``gridtool demo``
    did not make is never touched. With ``volunteers``, also teams, orders and visits
    (:func:`load_volunteers`): for the demo people try, not for generated benchmark stores.
    """
    if fresh and path.exists():
        earlier = Store(path)
        if earlier.meta.get("name") != "demo":
            raise StoreError("demo.not_demo", path=str(path))
        own = earlier.files()  # its own files only: `--db` may put it beside anything
        others = [p for p in leftovers(path) if p not in own]
        if others:  # Store.init would refuse them: say so before deleting anything
            raise StoreError("demo.neighbours", path=str(path), files=", ".join(p.name for p in others))
        for old in own:
            old.unlink()
    store = Store.init(path, name="demo")
    counts = load(store, dataset)
    if volunteers:
        counts.update(load_volunteers(store))
    store.checkpoint()
    return store, counts


_DEMO_TEAMS = (
    ("银发志愿服务队", "银", "five-elders", "five-elders"),
    ("党员先锋队", "红", "party", "party-member"),
    ("楼栋平安队", "蓝", "safety", "building-lead"),
)
_DEMO_SKILLS = (("haircut", "companionship"), ("repair",), ("tutoring",), ("errand", "parcel"), ("cleaning",))


def load_volunteers(store: Store, today: date | None = None, seed: int = 7) -> dict[str, int]:
    """Teams from the demo's leads, a few orders in every state, and weekly visits to the elderly.

    Goes through the same library calls as the commands (one transaction each), dated in the past
    weeks, so the order list, the points rank and the visit reports have something to show.
    """
    from gridtool import points, visits, volunteers
    from gridtool.issues import now

    rng = random.Random(seed)
    moment = now()
    day0 = today or moment.date()

    def when(days: int, hour: int) -> datetime:
        return min(datetime.combine(day0 + timedelta(days=days), time(hour)), moment)

    leads = sorted(store.records("leads").values(), key=lambda r: r["id"])
    for name, colour, kind, role in _DEMO_TEAMS:
        team = volunteers.add_team(store, {"name": name, "colour": colour, "kind": kind}, actor="demo")
        for lead in [r for r in leads if role in r.get("roles", [])][:6]:
            existing = [v for v in store.records("volunteers").values() if v["name"] == lead["name"]]
            if existing:
                continue
            skills = _DEMO_SKILLS[len(store.records("volunteers")) % len(_DEMO_SKILLS)]
            data = {"name": lead["name"], "phone": lead.get("phone"), "teams": [team["id"]], "skills": skills}
            volunteers.add_volunteer(store, data, actor="demo")
    people = sorted(store.records("volunteers").values(), key=lambda r: r["id"])
    elderly = sorted(
        (h for h in store.records("households").values() if "独居老人" in (h.get("tags") or [])),
        key=lambda h: h["id"],
    )[:60]
    if not people or not elderly:  # a dataset without leads or elderly: teams only
        return {"teams": len(store.records("teams")), "volunteers": len(people), "orders": 0}
    outcomes = ("rated", "rated", "rated", "rated", "done", "done", "taken", "taken", "open", "open")
    for n, outcome in enumerate(outcomes):
        household = elderly[n % len(elderly)]
        person = people[n % len(people)]
        service = rng.choice(person.get("skills") or ["errand"])
        start = -20 + 2 * n
        data = {"household": household["id"], "service": service, "wanted_by": day0 + timedelta(days=7)}
        order = volunteers.new_order(store, data, at=when(start, 9), actor="demo")
        if outcome == "open":
            continue
        volunteers.perform(store, "take", order["number"], at=when(start, 10), volunteer=person["id"])
        if outcome == "taken":
            continue
        hours = rng.choice((1, 1.5, 2))
        volunteers.perform(store, "done", order["number"], at=when(start + 1, 11), hours=hours)
        if outcome == "rated":
            rating = rng.choice((5, 5, 4))
            volunteers.perform(store, "rate", order["number"], at=when(start + 1, 16), rating=rating)
    top = max(people, key=lambda p: points.balance(store, p["id"]))
    if points.balance(store, top["id"]) >= 5:
        points.redeem(store, top["id"], 5, "食用油1桶", at=when(-1, 15), actor="demo")
    visits.plan(store, "独居老人", "7d", start=day0 - timedelta(days=28), actor="demo")
    visits.plan(store, "残疾人", "1m", start=day0 - timedelta(days=28), actor="demo")
    notes = ("身体尚可", "已提醒按时服药", "家中整洁，情绪稳定", "帮忙检查了燃气")
    disabled = sorted(
        (h for h in store.records("households").values() if "残疾人" in (h.get("tags") or [])),
        key=lambda h: h["id"],
    )[:30]
    for n, household in enumerate(elderly):
        if n % 4:  # most were visited this week; every fourth is overdue
            at = when(-rng.randint(0, 6), 10)
            visits.log(store, household["id"], rng.choice(notes), at=at, actor="demo")
    for household in disabled:
        if household["id"] not in {h["id"] for h in elderly}:
            at = when(-rng.randint(3, 25), 15)
            visits.log(store, household["id"], rng.choice(notes), at=at, actor="demo")
    return {
        "teams": len(store.records("teams")),
        "volunteers": len(people),
        "orders": len(store.records("orders")),
    }


# -- issues -------------------------------------------------------------------------------------------
# A dataset's issues are dated relative to the day it is loaded ("day": -12 is twelve days before), so
# the shipped demo always has something overdue, something due today and something just reported.

_TITLES = {
    "repair": [
        ("卫生间下水道返水", "楼上排水不畅，卫生间地漏返水，有异味"),
        ("楼道灯不亮", "单元楼道声控灯坏了一个多星期，老人晚上上下楼不方便"),
        ("单元门禁损坏", "单元门禁刷卡没反应，门关不上"),
        ("屋顶漏水", "顶楼下雨天屋顶渗水，墙面发霉"),
        ("二次供水水压不足", "高峰时段水压很低，热水器打不着火"),
        ("外墙雨水管破裂", "雨水管破了，下雨时水直接冲到一楼窗台"),
    ],
    "dispute": [
        ("楼上漏水殃及楼下", "楼上卫生间防水层老化，楼下天花板渗水，双方协商未果"),
        ("装修噪音扰民", "邻居周末一早就开始装修，影响休息"),
        ("宠物狗夜间吠叫扰民", "楼下住户养的狗夜里经常叫，多次沟通无效"),
        ("楼道堆放杂物引发纠纷", "邻居在公共楼道长期堆放纸箱，双方发生争执"),
        ("停车位争执", "小区内车位被长期占用，车主之间发生口角"),
    ],
    "environment": [
        ("垃圾清运不及时", "小区垃圾桶满溢，两天没人清运"),
        ("化粪池外溢", "化粪池堵塞外溢，气味很大"),
        ("绿化带杂草丛生", "楼前绿化带无人修剪，蚊虫多"),
        ("楼道小广告", "楼道墙面贴满小广告"),
        ("雨后道路积水", "小区主干道一下雨就积水，出行不便"),
    ],
    "safety": [
        ("电动车楼道飞线充电", "有住户从窗口拉线到楼道给电动车充电，存在火灾隐患"),
        ("消防通道被占用", "消防通道长期停放车辆"),
        ("楼道堆放易燃杂物", "楼梯间堆放旧家具和纸板"),
        ("外墙瓷砖脱落", "外墙瓷砖有松动脱落，楼下是人行道"),
        ("燃气管道老化", "厨房燃气管道锈蚀，担心漏气"),
    ],
    "elderly_care": [
        ("独居老人需代购生活用品", "老人腿脚不便，希望有人帮忙代购米面油"),
        ("高龄老人申请助餐服务", "老人独自在家，做饭困难，希望申请社区助餐"),
        ("老人就医需陪同", "老人下周要去医院复查，子女在外地"),
        ("独居老人安装紧急呼叫器", "子女希望给独居老人安装一键呼叫设备"),
    ],
    "policy": [
        ("咨询低保申请条件", "家庭收入下降，想了解低保申请需要哪些材料"),
        ("医保缴费咨询", "询问城乡居民医保缴费时间和方式"),
        ("高龄津贴办理", "老人满八十周岁，咨询高龄津贴如何办理"),
        ("残疾证办理咨询", "咨询残疾证申领流程"),
        ("居住证办理", "外地租户咨询居住证办理"),
    ],
    "other": [
        ("流浪猫扰民", "小区流浪猫较多，夜间叫声扰民"),
        ("建议增设休闲座椅", "建议在小区花园增设几张座椅"),
        ("快递柜位置建议", "快递柜离单元门太远，老人取件不便"),
        ("宽带线路杂乱", "楼道内通信线路杂乱下垂"),
    ],
}
_CATEGORY_WEIGHTS = {
    "repair": 30,
    "environment": 18,
    "dispute": 12,
    "safety": 12,
    "elderly_care": 10,
    "policy": 12,
    "other": 6,
}
_CHANNEL_WEIGHTS = {"walk-in": 20, "phone": 20, "wechat": 30, "suggestion-box": 5, "patrol": 15, "12345": 10}
_OUTCOME_WEIGHTS = {
    "closed": 52,
    "visited": 10,
    "resolved": 8,
    "accepted": 6,
    "assigned": 4,
    "reported": 3,
    "escalated": 3,
    "reopened": 2,
    "rejected": 6,
}
_OPEN_OUTCOMES = ("reported", "assigned", "accepted", "escalated", "reopened")
_DEPARTMENTS = {
    "repair": "街道城建办",
    "dispute": "街道综治中心",
    "environment": "街道城管科",
    "safety": "街道应急办",
    "elderly_care": "街道民政办",
    "policy": "街道便民服务中心",
    "other": "街道综治中心",
}
_DEFAULT_TEAMS = {
    "repair": "物业",
    "dispute": "社区人民调解委员会",
    "environment": "物业",
    "safety": "team:safety",
    "elderly_care": "社区养老服务站",
    "policy": "社区网格员",
    "other": "社区网格员",
}
_SUMMARIES = {
    "repair": ["已联系物业维修完毕", "更换损坏部件，恢复正常使用", "清淤并更换管道"],
    "dispute": ["经调解双方达成一致", "组织双方协商，签订调解协议", "上门沟通后问题化解"],
    "environment": ["已安排清运并加密频次", "物业已处理完毕", "已清理并设置提示牌"],
    "safety": ["已劝导拆除飞线，引导至集中充电桩", "已清理通道并张贴告知书", "已排除隐患"],
    "elderly_care": ["已安排志愿者定期上门", "已纳入社区助餐服务", "已安装并调试设备"],
    "policy": ["已当面解答并告知办理流程", "已协助准备材料", "已电话回复"],
    "other": ["已答复并记录建议", "已协调相关单位处理", "已处理"],
}
_COMMENTS = {5: "很满意，谢谢社区", 4: "基本满意", 3: "一般", 2: "问题没有彻底解决", 1: "不满意，还是老样子"}


class _Clock:
    """Walks an issue's timeline forward in office hours, as (day offset, "HH:MM") pairs."""

    def __init__(self, rng: random.Random, day: int) -> None:
        self.rng = rng
        self.day = day
        self.minute = rng.randint(8 * 60, 11 * 60)

    def stamp(self) -> dict[str, Any]:
        return {"day": min(self.day, 0), "time": f"{self.minute // 60:02d}:{self.minute % 60:02d}"}

    def later(self, low_hours: float, high_hours: float) -> dict[str, Any]:
        self.minute += int(self.rng.uniform(low_hours, high_hours) * 60)
        while self.minute >= 18 * 60:
            self.minute -= 10 * 60
            self.day += 1
        return self.stamp()

    def days_later(self, low: int, high: int) -> dict[str, Any]:
        self.day += self.rng.randint(low, high)
        self.minute = self.rng.randint(8 * 60 + 30, 17 * 60)
        return self.stamp()


def generate_issues(
    dataset: dict[str, Any], n: int, seed: int = 2026, history_days: int | None = None
) -> list[dict[str, Any]]:
    """``n`` invented issues over a dataset's households, covering every status, category, channel
    and countdown colour. Deterministic per seed, and drawn from their own random stream so adding
    issues never changes the households of a seed."""
    rng = random.Random(f"issues:{seed}")
    history = history_days or (90 if n <= 1000 else 365)
    households = dataset["households"]
    workers = {g["key"]: g["worker"] for g in dataset["grid_cells"]}
    lead_names = {lead["key"]: lead["name"] for lead in dataset["leads"]}
    alone = [i for i, h in enumerate(households) if "独居老人" in h.get("tags", ())]
    categories, category_w = list(_CATEGORY_WEIGHTS), list(_CATEGORY_WEIGHTS.values())
    channels, channel_w = list(_CHANNEL_WEIGHTS), list(_CHANNEL_WEIGHTS.values())
    outcomes, outcome_w = list(_OUTCOME_WEIGHTS), list(_OUTCOME_WEIGHTS.values())
    colours = ("red", "yellow", "green")
    issues: list[dict[str, Any]] = []
    open_count = 0
    for i in range(n):
        # The first ones walk every status (each open one in all three colours), category and channel,
        # so that even a small demo shows them all.
        outcome = outcomes[i % 9] if i < 27 else rng.choices(outcomes, outcome_w)[0]
        category = categories[i % 7] if i < 42 else rng.choices(categories, category_w)[0]
        channel = channels[i % 6] if i < 42 else rng.choices(channels, channel_w)[0]
        urgency = rng.choices(["urgent", "normal", "low"], [15, 70, 15])[0]
        scale = rng.choices(["major", "minor", "private"], [10, 80, 10])[0]
        if category in ("policy", "elderly_care", "other") and scale == "private":
            scale = "minor"
        colour = None
        if outcome in _OPEN_OUTCOMES:
            colour = colours[open_count % 3]
            open_count += 1
            if outcome == "reported" and colour == "yellow":
                colour = "red"
            if outcome == "reported":
                scale, urgency = "minor", "normal" if urgency == "urgent" else urgency
        if outcome == "escalated":
            scale = "major"
        if category == "elderly_care" and alone and rng.random() < 0.7:
            household: int | None = rng.choice(alone)
        elif channel == "patrol" and rng.random() < 0.5:
            household = None
        else:
            household = rng.randrange(len(households))
        grid = households[household]["grid_cell"] if household is not None else rng.choice(list(workers))
        building = households[household]["building"] if household is not None else None
        title, detail = rng.choice(_TITLES[category])
        issue: dict[str, Any] = {
            "household": household,
            "grid_cell": grid,
            "title": title,
            "description": detail,
            "category": category,
            "urgency": urgency,
            "scale": scale,
            "channel": channel,
        }
        issue["steps"] = _steps(rng, outcome, colour, issue, building, workers[grid], lead_names, history, i)
        issues.append(issue)
    return issues


def _assignee(rng: random.Random, issue: dict[str, Any], building: str | None) -> str:
    category = issue["category"]
    roll = rng.random()
    if building and roll < 0.55:
        return f"lead:{building}"
    if roll < 0.7:
        return f"vol:{issue['grid_cell']}:{rng.randrange(2)}"
    return _DEFAULT_TEAMS[category]


def _name(ref: str, lead_names: dict[str, str]) -> str:
    return lead_names.get(ref, ref)


def _steps(
    rng: random.Random,
    outcome: str,
    colour: str | None,
    issue: dict[str, Any],
    building: str | None,
    worker: str,
    lead_names: dict[str, str],
    history: int,
    index: int,
) -> list[dict[str, Any]]:
    category = issue["category"]
    to = _assignee(rng, issue, building)
    doer = _name(to, lead_names)
    due_day: int | None = None
    if colour == "red":
        due_day = -rng.randint(1, 8)
        start = due_day - rng.randint(3, 10)
    elif colour == "yellow":
        due_day = 0
        start = -rng.randint(18, 30)
    elif colour == "green":
        due_day = rng.randint(10, 20)
        start = -rng.randint(0, 1)
    else:
        start = -rng.randint(25, max(history, 26))
    if outcome == "reported":
        start = -rng.randint(45, 80) if colour == "red" else 0
    if outcome == "reopened":
        start = min(start, -12) - rng.randint(10, 20)
    clock = _Clock(rng, start)
    steps = [{"action": "report", **clock.stamp(), "actor": worker}]

    def add(action: str, when: dict[str, Any], actor: str, **params: Any) -> None:
        steps.append(
            {"action": action, **when, "actor": actor, **{k: v for k, v in params.items() if v is not None}}
        )

    if outcome == "reported":
        return steps
    if outcome == "rejected":
        if rng.random() < 0.5:
            add("assign", clock.later(0.5, 3), worker, to=to)
        if index > 0 and rng.random() < 0.6:
            add("reject", clock.later(1, 6), worker, duplicate_of=f"issue:{rng.randrange(index)}")
        else:
            add("reject", clock.later(1, 6), worker, reason="不属于社区职责范围，已告知反映人向相关部门反映")
        return steps
    open_due = due_day if outcome in ("assigned", "accepted", "escalated") else None
    if outcome == "escalated" or (issue["scale"] == "major" and rng.random() < 0.6):
        to = _DEPARTMENTS[category]
        doer = to
        add(
            "escalate",
            clock.later(0.5, 4),
            worker,
            to=to,
            reason="属于大事，需街道职能部门协调处理",
            due_day=open_due,
        )
        if outcome == "escalated":
            return steps
    else:
        add("assign", clock.later(0.5, 4), worker, to=to, due_day=open_due)
        if outcome == "assigned":
            return steps
    if rng.random() < 0.1:
        add("note", clock.later(1, 5), worker, text="已电话联系反映人，约定上门时间")
    add("accept", clock.later(0.3, 6), doer)
    if outcome == "accepted":
        return steps
    if rng.random() < 0.08:
        add(
            "extend",
            clock.days_later(1, 2),
            worker,
            days=rng.randint(2, 5),
            reason="需协调维修资金，申请延期",
        )
    late = outcome != "reopened" and rng.random() < 0.15
    add(
        "resolve",
        clock.days_later(4, 12) if late else clock.days_later(0, 3),
        doer,
        summary=rng.choice(_SUMMARIES[category]),
    )
    if outcome == "resolved":
        return steps
    if outcome == "reopened":
        if colour == "green" and rng.random() < 0.5:
            rating = rng.choice([1, 2])  # visited on the day of loading: a fresh deadline, so green
            add("visit", {"day": 0, "time": "17:30"}, worker, rating=rating, comment=_COMMENTS[rating])
        else:
            add("reopen", clock.days_later(1, 2), worker, reason="问题复发，重新办理", due_day=due_day)
        return steps
    rating = rng.choices([5, 4, 3, 2, 1], [55, 30, 8, 5, 2])[0]
    add("visit", clock.days_later(1, 3), worker, rating=rating, comment=_COMMENTS[rating])
    if rating <= 2:  # unhappy: rework, then a second visit
        add("accept", clock.later(0.5, 4), doer)
        add("resolve", clock.days_later(1, 4), doer, summary="返工处理完毕")
        rating = rng.choice([4, 5])
        add("visit", clock.days_later(1, 2), worker, rating=rating, comment=_COMMENTS[rating])
    if outcome == "closed":
        add("close", clock.later(0.5, 24), worker)
    return steps
