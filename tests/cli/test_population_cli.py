"""`report population`, `report birthdays` and `report monthly` from the command line."""

from __future__ import annotations

import csv
import io
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from openpyxl import load_workbook

from gridtool import issues, register
from gridtool.store import Store
from tests.conftest import snapshot

Run = Callable[..., Result]
HEAD = "430105193612030026"  # born 3 December 1936: 90 on 3 December 2026, a woman (17th digit 2)


@pytest.fixture
def people(store: Store, community: dict[str, str]) -> dict[str, str]:
    """The README's household, plus an old man living alone in another building and a child."""
    building = register.add(
        store, "building", {"grid_cell": "TL-03", "compound": "湘离小区", "number": "6", "units": 2}
    )
    register.add(
        store,
        "household",
        {
            "grid_cell": "TL-03",
            "building": building["id"],
            "unit": 1,
            "room": "0101",
            "head": "谭老",
            "phone": "13912345678",
            "members": [
                {"name": "谭老", "id_number": HEAD, "relation": "户主"},
                {"name": "小谭", "id_number": "", "relation": "孙", "birth_date": "2022-05-01"},
            ],
            "tags": ["独居老人", "低保户"],
        },
    )
    issue, _ = issues.report(
        store,
        {"household": community["household"], "category": "repair", "channel": "phone", "title": "灯"},
        at=issues.parse_when("2026-11-02 09:00"),
    )
    return {"issue": issue["number"]}


def test_population_json_has_the_stats_shape(run: Run, people: dict[str, str]) -> None:
    result = run("report", "population", "--as-of", "2026-12-03", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["report"], data["as_of"]) == ("population", "2026-12-03")
    total = data["total"]
    assert (total["households"], total["residents"], total["male"], total["female"], total["unknown"]) == (
        2,
        3,
        0,
        2,
        1,
    )
    assert (total["age_0_6"], total["age_18_59"], total["age_80_plus"]) == (1, 1, 1)
    assert total["tags"] == {"独居老人": 2, "低保户": 1}
    assert total["percent"]["age_80_plus"] == 33.3
    assert [row["name"] for row in data["rows"]] == ["TL-03"]


def test_population_by_building_as_csv_table_and_markdown(run: Run, people: dict[str, str]) -> None:
    rows = list(
        csv.DictReader(io.StringIO(run("report", "population", "--by", "building", "--format", "csv").stdout))
    )
    assert [(r["name"], r["residents"]) for r in rows] == [
        ("湘离小区5栋", "1"),
        ("湘离小区6栋", "2"),
        ("total", "3"),
    ]
    assert rows[1]["tag:独居老人"] == "1"
    table = run("report", "population", "--as-of", "2026-12-02", lang="zh")
    assert "80岁及以上" in table.stdout and "生日当天长一岁" in table.stdout
    markdown = run("report", "population", "--as-of", "2026-12-03", "--format", "markdown", lang="zh").stdout
    assert markdown.startswith("【人口结构】截至 2026-12-03") and "60 岁及以上 1 人（33.3%）" in markdown
    assert HEAD not in markdown


def test_birthdays_are_masked_unless_asked(run: Run, people: dict[str, str]) -> None:
    masked = run("report", "birthdays", "--month", "2026-12", "--age", "80,90", "--format", "json")
    data = json.loads(masked.stdout)
    assert data["count"] == 1
    (row,) = data["residents"]
    assert (row["birthday"], row["age"], row["name"]) == ("2026-12-03", 90, "谭老")
    assert HEAD not in masked.stdout and "13912345678" not in masked.stdout
    shown = run("report", "birthdays", "--month", "2026-12", "--age", "90", "--show-pii", "--format", "json")
    assert HEAD in shown.stdout and "13912345678" in shown.stdout
    none = run("report", "birthdays", "--month", "2026-11", "--age", "90")
    assert none.exit_code == 0 and "nobody turns 90 in 2026-11" in none.stdout


def test_monthly_writes_a_private_workbook(
    run: Run, tmp_path: Path, people: dict[str, str], store_path: Path
) -> None:
    before = snapshot(store_path)
    target = tmp_path / "11月报.xlsx"
    result = run("report", "monthly", "--month", "2026-11", "--output", str(target), lang="zh")
    assert result.exit_code == 0 and result.stdout == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    book = load_workbook(target)
    assert book["汇总"]["B3"].value == 1  # received in November
    assert snapshot(store_path) == before
    markdown = run("report", "monthly", "--month", "2026-11", "--format", "markdown", lang="zh").stdout
    assert "受理：1 件" in markdown and "2026-11：1 / 0" in markdown


@pytest.mark.parametrize(
    "args",
    [
        ("report", "population", "--by", "street"),
        ("report", "population", "--as-of", "2026-02-30"),
        ("report", "population", "--grid", "XX-99"),
        ("report", "birthdays", "--month", "2026-13"),
        ("report", "birthdays", "--age", "eighty"),
        ("report", "monthly", "--format", "xlsx"),
        ("report", "monthly", "--month", "11"),
    ],
)
def test_bad_input_exits_2_with_one_line(run: Run, people: dict[str, str], args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 or "Usage" in result.output


def test_a_report_is_never_written_over_the_store(run: Run, people: dict[str, str], store_path: Path) -> None:
    before = snapshot(store_path)
    for args in (
        ("population", "--output", str(store_path)),
        ("monthly", "--month", "2026-11", "--format", "xlsx", "--output", str(store_path)),
    ):
        assert run("report", *args).exit_code == 2
    assert snapshot(store_path) == before
