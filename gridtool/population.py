"""Population figures (人口结构) from the register: who lives in each grid cell, by age, sex and tag.

Grid workers are asked every month how many children, elderly, people living alone ... live in
their cells. Everything needed is already in the register: a resident ID number holds the birth
date (digits 7-14) and the sex (the 17th digit, odd for men). Definitions, stated once:

* **households**: the registered households of the row.
* **residents**: the people registered as members, each person once. A person is found by ID
  number; should two member records carry the same number (two laptops that each registered them,
  then synced), the one registered first counts, where it lives. A member without an ID number is
  a person of their own and is counted under **unknown** as well (their sex is unknown; their age
  comes from the birth date entered for them, if any). So ``male + female + unknown = residents``
  and the age bands add up to ``residents`` too.
* **age** is counted in completed years on the ``as_of`` day: a person is a year older *on* their
  birthday; someone born on 29 February becomes a year older on 1 March in a common year.
  Bands: ``age_0_6``, ``age_7_17``, ``age_18_59``, ``age_60_79``, ``age_80_plus``; ``age_unknown``
  holds those without a birth date and those born after the ``as_of`` day.
* **tags**: the number of households of the row carrying each tag (独居老人, 低保户, 残疾人 ...).
* shares are percentages of ``residents`` with the reports' one rounding rule
  (:func:`gridtool.reports.rate`).

The register has no history of moves, so ``as_of`` changes the day ages are counted on, not who
lives where. Counts are not personal data; the birthday list (:func:`birthdays`) is, and is masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gridtool.errors import InputError
from gridtool.i18n import t
from gridtool.register import COMMON_TAGS
from gridtool.store import Store

BY = ("grid", "compound", "building")
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("age_0_6", 0, 6),
    ("age_7_17", 7, 17),
    ("age_18_59", 18, 59),
    ("age_60_79", 60, 79),
    ("age_80_plus", 80, None),
)
AGE_KEYS = (*(band for band, _, _ in AGE_BANDS), "age_unknown")
COUNT_KEYS = ("households", "residents", "male", "female", "unknown", *AGE_KEYS)
SHARE_KEYS = ("male", "female", "unknown", *AGE_KEYS)

_BAND_OF_AGE = [
    next(band for band, lo, hi in AGE_BANDS if lo <= age and (hi is None or age <= hi)) for age in range(81)
]


def age_on(born: str, day: date) -> int | None:
    """Completed years on ``day`` of someone born on ``born`` (``YYYYMMDD``); ``None`` if not yet born.

    Compared as text, month and day together: on the birthday itself ``0312 > 0312`` is false, so the
    year counts; a 29 February birthday is greater than ``0228`` and smaller than ``0301``.
    """
    years = day.year - int(born[:4]) - (born[4:] > f"{day.month:02}{day.day:02}")
    return years if years >= 0 and born <= f"{day.year:04}{day.month:02}{day.day:02}" else None


@dataclass
class Counts:
    """The figures of one row (a grid cell, compound or building) or of the total."""

    name: str
    households: int = 0
    residents: int = 0
    male: int = 0
    female: int = 0
    unknown: int = 0
    ages: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AGE_KEYS, 0))
    tags: dict[str, int] = field(default_factory=dict)

    def get(self, key: str) -> int:
        if key in self.ages:
            return self.ages[key]
        return int(getattr(self, key))

    def add(self, other: Counts) -> None:
        for key in ("households", "residents", "male", "female", "unknown"):
            setattr(self, key, getattr(self, key) + getattr(other, key))
        for key, n in other.ages.items():
            self.ages[key] += n
        for tag, n in other.tags.items():
            self.tags[tag] = self.tags.get(tag, 0) + n

    def shares(self) -> dict[str, float | None]:
        """Each figure as a percentage of the residents (one decimal, half up; ``None`` when none)."""
        from gridtool.reports import rate

        return {key: rate(self.get(key), self.residents) for key in SHARE_KEYS}

    def as_dict(self, tags: Sequence[str]) -> dict[str, Any]:
        return {
            "name": self.name,
            **{key: self.get(key) for key in COUNT_KEYS},
            "tags": {tag: self.tags.get(tag, 0) for tag in tags},
            "percent": self.shares(),
        }


@dataclass
class Population:
    as_of: date
    by: str
    total: Counts
    rows: list[Counts]
    tags: list[str]
    """Every tag carried by a counted household: the shipped common tags first, then the others."""
    grid: str | None = None


def _key_of(by: str, store: Store) -> Any:
    """How a household is named in a row: its grid cell's code, its compound, or its building."""
    grids = store.records("grid_cells")
    buildings = store.records("buildings")
    if by == "grid":
        return lambda h: grids[h["grid_cell"]]["code"] if h.get("grid_cell") in grids else "—"
    if by == "compound":
        return lambda h: buildings[h["building"]]["compound"] if h.get("building") in buildings else "—"

    def building(h: dict[str, Any]) -> str:
        b = buildings.get(h.get("building") or "")
        return f"{b['compound']}{b['number']}栋" if b else "—"

    return building


def _natural(text: str) -> tuple[Any, ...]:
    return tuple((0, int(p), "") if p.isdecimal() else (1, 0, p) for p in re.split(r"(\d+)", text))


def counted_members(store: Store, households: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """The member records that count, each person once (see the module's definition of residents)."""
    first: dict[str, dict[str, Any]] = {}
    for member in store.records("members").values():
        if member.get("household") not in households:
            continue
        number = member.get("id_number")
        if not number:
            yield member
            continue
        seen = first.get(number)
        if seen is None or member["id"] < seen["id"]:
            first[number] = member
    yield from first.values()


def birth_digits(member: dict[str, Any]) -> str | None:
    """``YYYYMMDD`` from the ID number, else from a birth date entered for someone without one."""
    number = member.get("id_number")
    if number:
        return number[6:14]
    born = member.get("birth_date")
    if not born:
        return None
    try:
        return date.fromisoformat(_padded(born)).strftime("%Y%m%d")
    except ValueError:
        return None


def _padded(text: str) -> str:
    y, m, d = str(text).split("-") if str(text).count("-") == 2 else (text, "", "")
    return f"{y}-{m:0>2}-{d:0>2}"


def population(
    store: Store, as_of: date | None = None, by: str = "grid", grid: str | None = None
) -> Population:
    """The population of each grid cell (or compound, or building) and of them all on ``as_of``."""
    if by not in BY:
        raise InputError("report.bad_group", value=by, known=", ".join(BY))
    day = as_of or date.today()
    households = store.records("households")
    if grid:
        from gridtool.register import grid_cell_by_ref

        grid_id = grid_cell_by_ref(store, grid)["id"]
        households = {k: h for k, h in households.items() if h.get("grid_cell") == grid_id}
    name_of = _key_of(by, store)
    row_of: dict[str, Counts] = {}
    household_row: dict[str, Counts] = {}
    for hid, household in households.items():
        name = name_of(household)
        row = row_of.get(name)
        if row is None:
            row = row_of[name] = Counts(name)
        household_row[hid] = row
        row.households += 1
        for tag in household.get("tags") or ():
            row.tags[tag] = row.tags.get(tag, 0) + 1
    today = f"{day.year:04}{day.month:02}{day.day:02}"
    mmdd = today[4:]
    year = day.year
    bands = _BAND_OF_AGE
    for member in counted_members(store, households):
        row = household_row[member["household"]]
        row.residents += 1
        number = member.get("id_number")
        if number:
            born = number[6:14]
            if number[16] in "13579":
                row.male += 1
            else:
                row.female += 1
        else:
            row.unknown += 1
            born = birth_digits(member)
        if born is None or born > today:
            row.ages["age_unknown"] += 1
            continue
        age = year - int(born[:4]) - (born[4:] > mmdd)
        row.ages[bands[age if age < 80 else 80]] += 1
    total = Counts(t("report.total"))
    for row in row_of.values():
        total.add(row)
    known = [tag for tag in COMMON_TAGS if tag in total.tags]
    tags = known + sorted(tag for tag in total.tags if tag not in COMMON_TAGS)
    rows = sorted(row_of.values(), key=lambda r: _natural(r.name))
    return Population(day, by, total, rows, tags, grid)


# -- output -------------------------------------------------------------------------------------------


def columns(report: Population) -> list[str]:
    return ["name", *COUNT_KEYS, *(f"tag:{tag}" for tag in report.tags)]


def rows(report: Population) -> list[dict[str, Any]]:
    """One flat row per group, then the total."""
    out = []
    for counts in [*report.rows, report.total]:
        row: dict[str, Any] = {"name": counts.name}
        for key in COUNT_KEYS:
            row[key] = counts.get(key)
        for tag in report.tags:
            row[f"tag:{tag}"] = counts.tags.get(tag, 0)
        out.append(row)
    return out


def headers(report: Population) -> dict[str, str]:
    """Column titles for a table: translated figures, tags as they are written."""
    names = {"name": t(f"population.by.{report.by}")}
    names.update({key: t(f"population.{key}") for key in COUNT_KEYS})
    names.update({f"tag:{tag}": tag for tag in report.tags})
    return names


def table(report: Population) -> str:
    """An aligned table for a terminal, with the definitions under it."""
    from tabulate import tabulate

    cols = columns(report)
    names = headers(report)
    body = [[row[c] for c in cols] for row in rows(report)]
    lines = [
        t("population.title", as_of=report.as_of.isoformat()),
        tabulate(body, headers=[names[c] for c in cols], tablefmt="simple", disable_numparse=True)
        if report.rows
        else t("population.none"),
        "",
        *definitions(),
    ]
    return "\n".join(lines)


def csv_text(report: Population) -> str:
    from gridtool.formats import render_csv

    return render_csv(rows(report), columns(report))


def as_json(report: Population) -> dict[str, Any]:
    return {
        "report": "population",
        "as_of": report.as_of.isoformat(),
        "by": report.by,
        "grid": report.grid,
        "rounding": "percent of residents to one decimal place, half up; null when there are none",
        "total": {k: v for k, v in report.total.as_dict(report.tags).items() if k != "name"},
        "rows": [counts.as_dict(report.tags) for counts in report.rows],
    }


def definitions() -> list[str]:
    return [t(f"population.def.{key}") for key in ("residents", "unknown", "age", "tags")] + [
        t("report.def.rounding")
    ]


def line(counts: Counts) -> str:
    """One row's figures in a sentence (Markdown, the monthly report)."""
    from gridtool.reports import show_percent

    return t(
        "population.md.line",
        households=counts.households,
        residents=counts.residents,
        male=counts.male,
        female=counts.female,
        unknown=counts.unknown,
        **{key: counts.get(key) for key in AGE_KEYS},
        elderly=counts.ages["age_60_79"] + counts.ages["age_80_plus"],
        elderly_share=show_percent(_elderly_share(counts)),
    )


def _elderly_share(counts: Counts) -> float | None:
    from gridtool.reports import rate

    return rate(counts.ages["age_60_79"] + counts.ages["age_80_plus"], counts.residents)


def markdown(report: Population) -> str:
    """The figures as text for a WeChat group or a monthly note."""
    lines = [t("population.md.title", as_of=report.as_of.isoformat()), "", "- " + line(report.total)]
    if report.tags:
        tags = "、".join(f"{tag} {report.total.tags.get(tag, 0)}" for tag in report.tags)
        lines.append("- " + t("population.md.tags", tags=tags))
    if report.rows:
        lines += ["", t(f"population.md.by.{report.by}"), ""]
        lines += [f"- **{c.name}** " + line(c) for c in report.rows]
    lines += ["", t("report.md.definitions"), ""]
    lines += [f"- {line}" for line in definitions()]
    return "\n".join(lines) + "\n"


# -- birthdays ------------------------------------------------------------------------------------------

_MONTH = re.compile(r"\s*(\d{4})[-/.年](\d{1,2})月?\s*\Z")


def parse_month(text: str) -> tuple[int, int]:
    """``2026-12`` (or ``2026/12``, ``2026年12月``) as (year, month)."""
    m = _MONTH.match(str(text))
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1900 <= int(m.group(1)) <= 2100:
        raise InputError("population.bad_month", value=text)
    return int(m.group(1)), int(m.group(2))


def parse_ages(text: str) -> list[int]:
    """``80,90,100`` as a sorted list of ages."""
    ages = set()
    for part in re.split(r"[,，、\s]+", str(text).strip()):
        if not part:
            continue
        if not part.isdigit() or not 0 <= int(part) <= 150:
            raise InputError("population.bad_age", value=part)
        ages.add(int(part))
    if not ages:
        raise InputError("population.bad_age", value=text)
    return sorted(ages)


BIRTHDAY_COLUMNS = ("birthday", "age", "name", "sex", "id_number", "grid", "address", "phone", "tags")


@dataclass
class Birthdays:
    year: int
    month: int
    ages: list[int]
    rows: list[dict[str, Any]]


def birthday_in(born: str, year: int) -> date:
    """The day of ``year`` someone born on ``born`` (``YYYYMMDD``) becomes a year older: a 29 February
    birthday falls on 1 March in a common year, as :func:`age_on` counts it."""
    month, day = int(born[4:6]), int(born[6:8])
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, 3, 1)


def birthdays(
    store: Store,
    year: int,
    month: int,
    ages: Sequence[int],
    grid: str | None = None,
    show_pii: bool = False,
) -> Birthdays:
    """Residents who turn one of ``ages`` in the month (寿星, for birthday visits), by day."""
    from gridtool.register import address
    from gridtool.validate import mask_id_number, mask_phone

    households = store.records("households")
    if grid:
        from gridtool.register import grid_cell_by_ref

        grid_id = grid_cell_by_ref(store, grid)["id"]
        households = {k: h for k, h in households.items() if h.get("grid_cell") == grid_id}
    grids = store.records("grid_cells")
    wanted = {year - age for age in ages}
    found = []
    for member in counted_members(store, households):
        born = birth_digits(member)
        if born is None or int(born[:4]) not in wanted:
            continue
        day = birthday_in(born, year)
        if day.month != month:
            continue
        household = households[member["household"]]
        number = member.get("id_number") or ""
        phone = member.get("phone") or household.get("phone") or ""
        found.append(
            {
                "birthday": day.isoformat(),
                "age": year - int(born[:4]),
                "name": member.get("name", ""),
                "sex": ("M" if number[16] in "13579" else "F") if number else "",
                "id_number": number if show_pii else mask_id_number(number),
                "grid": grids[household["grid_cell"]]["code"] if household.get("grid_cell") in grids else "",
                "address": address(store, household),
                "phone": phone if show_pii else mask_phone(phone),
                "tags": list(household.get("tags") or ()),
            }
        )
    found.sort(key=lambda r: (r["birthday"], -r["age"], r["grid"], r["address"], r["name"]))
    return Birthdays(year, month, sorted(ages), found)


def birthdays_json(report: Birthdays) -> dict[str, Any]:
    return {
        "report": "birthdays",
        "month": f"{report.year:04}-{report.month:02}",
        "ages": report.ages,
        "count": len(report.rows),
        "residents": report.rows,
    }


def birthday_rows(report: Birthdays, labels: bool) -> list[dict[str, Any]]:
    if not labels:
        return report.rows
    sexes = {"M": t("population.sex.M"), "F": t("population.sex.F"), "": ""}
    return [{**row, "sex": sexes[row["sex"]]} for row in report.rows]


def birthday_headers() -> list[str]:
    return [t(f"population.col.{c}") for c in BIRTHDAY_COLUMNS]


def birthdays_markdown(report: Birthdays) -> str:
    month = f"{report.year:04}-{report.month:02}"
    ages = "、".join(map(str, report.ages))
    lines = [t("population.md.birthdays.title", month=month, ages=ages), ""]
    if not report.rows:
        lines.append(t("population.birthdays.none", month=month, ages=ages))
        return "\n".join(lines) + "\n"
    lines.append(t("population.md.birthdays.summary", count=len(report.rows)))
    lines.append("")
    for n, row in enumerate(report.rows, start=1):
        lines.append(
            f"{n}. "
            + t(
                "population.md.birthdays.item",
                day=row["birthday"][5:],
                name=row["name"],
                age=row["age"],
                grid=row["grid"] or "—",
                address=row["address"],
            )
        )
    return "\n".join(lines) + "\n"


def birthdays_table(report: Birthdays) -> str:
    from tabulate import tabulate

    from gridtool.formats import _cell

    month = f"{report.year:04}-{report.month:02}"
    ages = "、".join(map(str, report.ages))
    if not report.rows:
        return t("population.birthdays.none", month=month, ages=ages)
    body = [[_cell(row[c]) for c in BIRTHDAY_COLUMNS] for row in birthday_rows(report, labels=True)]
    return "\n".join(
        [
            t("population.birthdays.summary", month=month, ages=ages, count=len(report.rows)),
            tabulate(body, headers=birthday_headers(), tablefmt="simple", disable_numparse=True),
        ]
    )
