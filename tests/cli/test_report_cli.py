"""The report commands for people and for cron: formats, files, exit codes, a bare environment."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gridtool import issues
from gridtool.store import Store
from tests.conftest import snapshot

Run = Callable[..., Result]


@pytest.fixture
def june(store: Store, community: dict[str, str]) -> dict[str, str]:
    """2026-000001 overdue from 5 June; 2026-000002 resolved 3 June, never visited; 2026-000003 closed."""

    def report(title: str, at: str) -> str:
        data = {"household": community["household"], "category": "repair", "channel": "phone", "title": title}
        return issues.report(store, data, at=issues.parse_when(at))[0]["number"]

    late = report("楼道灯不亮", "2026-06-01 09:00")
    issues.perform(store, "assign", late, at=issues.parse_when("2026-06-01 10:00"), to="谭石泉")
    waiting = report("卫生间下水道返水", "2026-06-01 09:30")
    done = report("垃圾清运不及时", "2026-06-02 09:00")
    for number in (waiting, done):
        for action, params in (
            ("assign", {"to": "物业"}),
            ("accept", {}),
            ("resolve", {"summary": "已处理"}),
        ):
            issues.perform(store, action, number, at=issues.parse_when("2026-06-03 10:00"), **params)
    for action, params in (("visit", {"rating": 5}), ("close", {})):
        issues.perform(store, action, done, at=issues.parse_when("2026-06-04 10:00"), **params)
    return {"late": late, "waiting": waiting, "done": done}


def test_overdue_fails_only_when_asked_and_something_is_overdue(run: Run, june: dict[str, str]) -> None:
    calm = run("report", "overdue", "--as-of", "2026-06-04", "--fail-if-any")
    assert calm.exit_code == 0 and "nothing is overdue as of 2026-06-04 00:00" in calm.stdout
    late = run("report", "overdue", "--as-of", "2026-06-10", "--fail-if-any", lang="zh")
    assert late.exit_code == 1
    assert "截至 2026-06-10 00:00，超期未办结诉求 1 件" in late.stdout and june["late"] in late.stdout
    assert run("report", "overdue", "--as-of", "2026-06-10").exit_code == 0, "no --fail-if-any: still 0"


@pytest.mark.parametrize(
    "args",
    [
        ("report", "overdue", "--format", "xml"),
        ("report", "overdue", "--group-by", "household"),
        ("report", "overdue", "--as-of", "yesterday"),
        ("report", "due-soon", "--within", "1w"),
        ("report", "followups", "--after", "-1"),
        ("report", "stats", "--from", "2026-06-31"),
        ("report", "stats", "--from", "2026-07-01", "--to", "2026-06-01"),
    ],
)
def test_usage_and_input_errors_exit_2(run: Run, june: dict[str, str], args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_reports_never_write_to_the_store(run: Run, store_path: Path, june: dict[str, str]) -> None:
    before = snapshot(store_path)
    for args in (
        ("overdue", "--format", "json"),
        ("due-soon", "--within", "8h"),
        ("followups", "--after", "0"),
        ("stats", "--from", "2026-06-01", "--to", "2026-06-30", "--by", "assignee"),
    ):
        assert run("report", *args).exit_code in (0, 1)
    assert snapshot(store_path) == before


def test_output_goes_to_a_utf8_file_and_nothing_to_the_screen(
    run: Run, tmp_path: Path, june: dict[str, str]
) -> None:
    target = tmp_path / "out" / "超期.md"
    target.parent.mkdir()
    result = run(
        "report", "overdue", "--as-of", "2026-06-10", "--format", "markdown", "--output", str(target)
    )
    assert result.exit_code == 0 and result.stdout == ""
    text = target.read_text(encoding="utf-8")
    assert text.startswith("【Overdue issues】as of 2026-06-10 00:00") and "楼道灯不亮" in text
    assert [p.name for p in target.parent.iterdir()] == ["超期.md"], "no temporary file left behind"
    nowhere = run("report", "overdue", "--output", str(tmp_path / "missing" / "x.md"))
    assert nowhere.exit_code == 2


def test_markdown_is_chinese_unless_a_language_was_chosen(
    store_path: Path, june: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridtool.commands import cli

    for var in ("GRIDTOOL_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    args = ["--db", str(store_path), "report", "overdue", "--as-of", "2026-06-10", "--group-by", "assignee"]
    markdown = CliRunner().invoke(cli, [*args, "--format", "markdown"])
    assert markdown.exit_code == 0
    assert markdown.stdout.splitlines()[0] == "【超期诉求通报】截至 2026-06-10 00:00"
    assert "谭石泉（1 件）：" in markdown.stdout
    assert (
        "1. 2026-000001 楼道灯不亮（维修，TL-03）— 承办：谭石泉，期限 2026-06-04，已超期 4 个工作日"
        in markdown.stdout
    )
    table = CliRunner().invoke(cli, args)
    assert "open issues past their deadline" in table.stdout, "the rest follows the locale (English here)"


def test_json_and_csv_for_scripts(run: Run, june: dict[str, str]) -> None:
    data = json.loads(run("report", "overdue", "--as-of", "2026-06-10", "--format", "json").stdout)
    assert data["count"] == 1 and data["as_of"] == "2026-06-10T00:00:00"
    assert data["issues"][0]["number"] == june["late"] and data["issues"][0]["overdue_workdays"] == 4
    grouped = json.loads(
        run("report", "overdue", "--as-of", "2026-06-10", "--format", "json", "--group-by", "grid").stdout
    )
    assert grouped["groups"][0]["name"] == "TL-03" and grouped["groups"][0]["count"] == 1
    rows = list(
        csv.DictReader(
            io.StringIO(run("report", "followups", "--as-of", "2026-06-10", "--format", "csv").stdout)
        )
    )
    assert [(r["number"], r["reporter"], r["waiting_workdays"]) for r in rows] == [
        (june["waiting"], "程金娇", "5")
    ]
    soon = json.loads(run("report", "due-soon", "--as-of", "2026-06-04 12:00", "--format", "json").stdout)
    assert [i["number"] for i in soon["issues"]] == [june["late"]] and soon["issues"][0]["hours_left"] == 3.5


def test_stats_name_their_denominators(run: Run, june: dict[str, str]) -> None:
    data = json.loads(
        run("report", "stats", "--from", "2026-06-01", "--to", "2026-06-30", "--format", "json").stdout
    )
    total = data["total"]
    assert (total["received"], total["resolved"]) == (3, 2)
    assert total["resolution_rate"] == {"percent": 66.7, "numerator": 2, "denominator": 3, "of": "received"}
    assert total["satisfaction_rate"] == {"percent": 100.0, "numerator": 1, "denominator": 1, "of": "rated"}
    assert total["median_workdays_to_resolve"] == 1.5, "2 (1 to 3 June) and 1 (2 to 3 June)"
    assert "half up" in data["rounding"]
    table = run(
        "report", "stats", "--from", "2026-06-01", "--to", "2026-06-30", "--by", "assignee", lang="zh"
    ).stdout
    assert "66.7% (2/3)" in table and "办结率 = 已办结（含已回访、已结案）件数 ÷ 受理件数。" in table
    june_by_month = ("--from", "2026-06-01", "--to", "2026-06-30", "--by", "month", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(run("report", "stats", *june_by_month).stdout)))
    assert [(r["group"], r["received"], r["resolution_rate"]) for r in rows] == [
        ("2026-06", "3", "66.7"),
        ("total", "3", "66.7"),
    ]


def _gridtool() -> list[str]:
    beside = Path(sys.executable).with_name("gridtool")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "gridtool.commands"]


def test_under_crons_bare_environment_the_output_is_plain_utf8(
    store_path: Path, tmp_path: Path, june: dict[str, str]
) -> None:
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home")}  # what `env -i PATH=... HOME=...` leaves
    base = [*_gridtool(), "--db", str(store_path), "report", "overdue", "--as-of", "2026-06-10"]
    table = subprocess.run([*base, "--fail-if-any"], env=bare, capture_output=True, timeout=300, check=False)
    assert table.returncode == 1
    text = table.stdout.decode("utf-8")
    assert "楼道灯不亮" in text and "\x1b[" not in text and "\r" not in text
    assert table.stderr == b""
    markdown = subprocess.run(
        [*base, "--format", "markdown"], env=bare, capture_output=True, timeout=300, check=False
    )
    assert markdown.returncode == 0
    assert markdown.stdout.decode("utf-8").startswith("【超期诉求通报】截至 2026-06-10 00:00\n")
    unknown = subprocess.run(
        [*base, "--format", "pdf"], env=bare, capture_output=True, timeout=300, check=False
    )
    assert unknown.returncode == 2 and unknown.stdout == b""
