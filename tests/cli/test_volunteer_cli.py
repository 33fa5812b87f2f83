"""Teams, volunteers, orders, points and visits through the command line: output, exit codes, masks."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from gridtool import issues, points
from gridtool.store import Store
from tests.conftest import snapshot

Run = Callable[..., Result]


@pytest.fixture
def crew(run: Run, community: dict[str, str]) -> dict[str, str]:
    assert (
        run("team", "add", "--name", "银发志愿服务队", "--colour", "红", "--kind", "five-elders").exit_code
        == 0
    )
    added = run(
        "volunteer",
        "add",
        "--name",
        "王芳",
        "--phone",
        "13900001111",
        "--team",
        "银发志愿服务队",
        "--skill",
        "理发",
    )
    assert added.exit_code == 0, added.output
    assert run("volunteer", "add", "--name", "欧阳娜娜", "--skill", "repair").exit_code == 0
    return community


def test_an_order_from_request_to_rating_through_the_command_line(run: Run, crew: dict[str, str]) -> None:
    new = run("order", "new", "--household", "程金娇", "--service", "理发", "--at", "2026-06-01 09:00")
    assert new.exit_code == 0 and new.stdout.strip() == "V2026-000001"
    assert run("order", "take", "V2026-1", "--volunteer", "王芳", "--at", "2026-06-01 10:00").exit_code == 0
    done = run("order", "done", "V2026-1", "--hours", "1", "--at", "2026-06-01 11:00", lang="zh")
    assert done.exit_code == 0 and "王芳 +5 分" in done.stderr and "余额 5" in done.stderr
    rated = run("order", "rate", "V2026-1", "--rating", "5", "--at", "2026-06-01 12:00")
    assert rated.exit_code == 0 and "+3 points" in rated.stderr and "balance 8" in rated.stderr
    listed = run("order", "list", "--format", "json")
    [order] = json.loads(listed.stdout)
    assert (order["order"], order["status"], order["hours"], order["rating"]) == (
        "V2026-000001",
        "rated",
        1.0,
        5,
    )
    assert run("order", "list", "--open").stdout.strip() == "(nothing found)"
    shown = run("order", "show", "V2026-000001", lang="zh").stdout
    assert "已评价" in shown and "135****5678" in shown and "好评奖励" in shown
    assert "13512345678" in run("order", "show", "V2026-1", "--show-pii").stdout
    balance = run("points", "show", "王芳", "--format", "json")
    data = json.loads(balance.stdout)
    assert (data["balance"], data["earned"], len(data["ledger"])) == (8, 8, 2)


def test_refusals_exit_2_in_the_users_language_and_change_nothing(
    run: Run, crew: dict[str, str], store_path: Path
) -> None:
    before = snapshot(store_path)
    cases = [
        (("order", "new", "--household", "程金娇", "--service", "飞行"), "服务项目"),
        (
            ("order", "new", "--household", "程金娇", "--service", "理发", "--wanted-by", "2020-01-01"),
            "期望完成日期",
        ),
        (("order", "take", "V2026-1", "--volunteer", "王芳"), "V2026-1"),
        (("points", "redeem", "王芳", "--points", "20", "--item", "大米5kg"), "余额为 0"),
        (("points", "redeem", "王芳", "--points", "-2", "--item", "大米5kg"), "积分"),
        (("points", "correct", "ZZZZZZZZ", "--points", "1", "--reason", "x"), "积分记录"),
        (("volunteer", "add", "--name", "李四", "--phone", "123"), "手机号"),
        (("team", "add", "--kind", "rocket"), "类型"),
        (("visit", "plan", "--tag", "独居老人", "--every", "weekly"), "频次"),
        (("visit", "log", "无此人"), "住户"),
    ]
    for args, words in cases:
        result = run(*args, lang="zh")
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("错误：") and words in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output
    assert snapshot(store_path) == before


def test_a_redemption_refused_for_lack_of_points_shows_the_balance(
    run: Run, crew: dict[str, str], store: Store, store_path: Path
) -> None:
    run("order", "new", "--household", "程金娇", "--service", "repair", "--at", "2026-06-01 09:00")
    run("order", "take", "V2026-1", "--volunteer", "欧阳娜娜", "--at", "2026-06-01 09:30")
    run("order", "done", "V2026-1", "--hours", "2", "--at", "2026-06-01 11:30")
    ok = run("points", "redeem", "欧阳娜娜", "--points", "6", "--item", "食用油")
    assert ok.exit_code == 0 and "balance 4" in ok.stderr
    before = snapshot(store_path)
    refused = run("points", "redeem", "欧阳娜娜", "--points", "5", "--item", "大米5kg")
    assert refused.exit_code == 2 and "has 4 points, not enough to redeem 5" in refused.stderr
    assert snapshot(store_path) == before
    credit = next(e for e in points.entries(Store(store_path)) if e["kind"] == "credit")
    fixed = run("points", "correct", credit["id"][-8:], "--points", "-3", "--reason", "实际1.4小时")
    assert fixed.exit_code == 0 and "balance 1" in fixed.stderr
    ledger = list(csv.DictReader(io.StringIO(run("points", "ledger", "--format", "csv").stdout)))
    assert [(r["kind"], r["points"], r["balance"]) for r in ledger] == [
        ("credit", "10", "10"),
        ("redeem", "-6", "4"),
        ("correction", "-3", "1"),
    ]
    assert ledger[2]["corrects"] == credit["id"] and ledger[1]["item"] == "食用油"


def test_an_order_from_an_issue_shows_on_the_issue_timeline(run: Run, crew: dict[str, str]) -> None:
    number = run(
        "issue", "new", "--household", "程金娇", "--category", "repair", "--channel", "phone",
        "--title", "水管漏水", "--at", "2026-06-01 09:00",
    ).stdout.strip()  # fmt: skip
    made = run("order", "new", "--from-issue", number, "--service", "repair", "--at", "2026-06-01 10:00")
    assert made.exit_code == 0 and number in made.stderr
    run("order", "take", "V2026-1", "--volunteer", "欧阳娜娜", "--at", "2026-06-01 10:30")
    run("order", "done", "V2026-1", "--hours", "1.5", "--at", "2026-06-01 12:00")
    timeline = run("issue", "show", number, lang="zh").stdout
    assert "已转志愿服务工单 V2026-000001（维修）" in timeline
    assert "志愿服务工单 V2026-000001（维修）已由 欧阳娜娜 完成，用时 1.5 小时" in timeline
    assert json.loads(run("order", "list", "--format", "json").stdout)[0]["issue"] == number


def test_volunteer_lists_mask_phones_and_line_up_chinese(run: Run, crew: dict[str, str]) -> None:
    masked = run("volunteer", "list", lang="zh").stdout
    assert "139****1111" in masked and "13900001111" not in masked
    assert "13900001111" in run("volunteer", "list", "--show-pii").stdout
    lines = masked.splitlines()
    from wcwidth import wcswidth

    assert len({wcswidth(line.rstrip()) <= len(lines[1]) for line in lines}) == 1
    header_starts = [i for i, ch in enumerate(lines[1]) if ch == "-" and (i == 0 or lines[1][i - 1] == " ")]
    for line in lines[2:]:
        width = 0
        starts = []
        for j, ch in enumerate(line):
            if ch != " " and (j == 0 or line[j - 1 : j + 1].startswith("  ") or line[j - 2 : j] == "  "):
                starts.append(width)
            width += wcswidth(ch)
        assert set(starts) <= set(header_starts), line
    team = run("team", "show", "银发志愿服务队", lang="zh").stdout
    assert "五老（银发）" in team and "王芳" in team and "139****1111" in team


def test_rank_as_an_honour_roll(run: Run, crew: dict[str, str]) -> None:
    for n, who in enumerate(["王芳", "欧阳娜娜"], start=1):
        service = "haircut" if who == "王芳" else "parcel"
        run("order", "new", "--household", "程金娇", "--service", service, "--at", f"2026-06-0{n} 09:00")
        run("order", "take", f"V2026-{n}", "--volunteer", who, "--at", f"2026-06-0{n} 09:30")
        run("order", "done", f"V2026-{n}", "--hours", "1", "--at", f"2026-06-0{n} 10:00")
    roll = run("points", "rank", "--year", "2026", "--format", "markdown", lang="zh")
    assert roll.exit_code == 0
    assert roll.stdout.startswith("# 2026年度志愿服务积分光荣榜\n")
    assert "1. 王芳（银发志愿服务队）：5 分，服务 1 次" in roll.stdout and "2. 欧阳娜娜：1 分" in roll.stdout
    assert "积分相同时服务次数多者在前" in roll.stdout
    data = json.loads(run("points", "rank", "--year", "2026", "--format", "json").stdout)
    assert [r["name"] for r in data["rank"]] == ["王芳", "欧阳娜娜"] and "ties" in data["tie_rule"]
    top = run("points", "rank", "--year", "2026", "--top", "1", "--format", "csv").stdout
    assert len(top.splitlines()) == 2
    assert run("points", "rank", "--top", "0").exit_code == 2


@pytest.fixture
def planned(run: Run, crew: dict[str, str]) -> dict[str, str]:
    assert run("visit", "plan", "--tag", "独居老人", "--every", "7d", "--start", "2026-09-01").exit_code == 0
    logged = run("visit", "log", "程金娇", "--note", "身体尚可", "--at", "2026-09-24 10:00", lang="zh")
    assert logged.exit_code == 0 and "下次走访应在 2026-10-08" in logged.stderr
    return crew


def test_visit_reports_exit_1_only_when_asked_and_something_is_listed(
    run: Run, planned: dict[str, str]
) -> None:
    calm = run("report", "visits-overdue", "--as-of", "2026-10-08", "--fail-if-any")
    assert calm.exit_code == 0 and "no visit is overdue as of 2026-10-08" in calm.stdout
    late = run("report", "visits-overdue", "--as-of", "2026-10-09", "--fail-if-any", lang="zh")
    assert late.exit_code == 1 and "超期未走访住户 1 户" in late.stdout and "程金娇" in late.stdout
    assert "135****5678" in late.stdout
    assert run("report", "visits-overdue", "--as-of", "2026-10-09").exit_code == 0
    assert run("report", "visits-due", "--as-of", "2026-10-07", "--fail-if-any").exit_code == 0
    due = run("report", "visits-due", "--as-of", "2026-10-07", "--within", "1", "--fail-if-any")
    assert due.exit_code == 1 and "2026-10-08" in due.stdout
    assert run("report", "visits-due", "--as-of", "2026-13-01").exit_code == 2


def test_visit_reports_for_scripts_and_files(run: Run, planned: dict[str, str], tmp_path: Path) -> None:
    data = json.loads(run("report", "visits-overdue", "--as-of", "2026-10-10", "--format", "json").stdout)
    assert (data["report"], data["count"], data["households"][0]["days_overdue"]) == ("visits_overdue", 1, 2)
    rows = list(
        csv.DictReader(
            io.StringIO(run("report", "visits-due", "--as-of", "2026-10-10", "--format", "csv").stdout)
        )
    )
    assert rows[0]["due"] == "2026-10-08" and rows[0]["phone"] == "135****5678" and rows[0]["household_id"]
    out = tmp_path / "visits.md"
    written = run(
        "report",
        "visits-overdue",
        "--as-of",
        "2026-10-10",
        "--format",
        "markdown",
        "--output",
        str(out),
        lang="zh",
    )
    assert written.exit_code == 0 and written.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("## 超期未走访（截至 2026-10-10）")
    plans = run("visit", "plans", lang="zh").stdout
    assert "独居老人" in plans and "每 7 天" in plans
    history = run("visit", "history", "程金娇").stdout
    assert "身体尚可" in history


def test_orders_and_visits_sit_beside_the_issue_reports(
    run: Run, planned: dict[str, str], store: Store
) -> None:
    issues.report(
        store, {"household": planned["household"], "category": "repair", "channel": "phone", "title": "灯"}
    )
    assert run("report", "overdue", "--as-of", "2026-06-01").exit_code == 0


def test_visit_reports_are_cron_safe_and_never_write(
    planned: dict[str, str], store_path: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    beside = Path(sys.executable).with_name("gridtool")
    command = [str(beside)] if beside.exists() else [sys.executable, "-m", "gridtool.commands"]
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    before = snapshot(store_path)
    base = [*command, "--db", str(store_path), "report", "visits-overdue", "--as-of", "2026-10-10"]
    table = subprocess.run([*base, "--fail-if-any"], env=bare, capture_output=True, timeout=300, check=False)
    assert table.returncode == 1 and table.stderr == b""
    text = table.stdout.decode("utf-8")
    assert "程金娇" in text and "\x1b[" not in text
    markdown = subprocess.run(
        [*base, "--format", "markdown"], env=bare, capture_output=True, timeout=300, check=False
    )
    assert markdown.returncode == 0
    assert markdown.stdout.decode("utf-8").startswith("## 超期未走访（截至 2026-10-10）\n"), (
        "Chinese for WeChat"
    )
    assert snapshot(store_path) == before


def test_an_inactive_volunteer_keeps_their_points_but_takes_no_orders(
    run: Run, crew: dict[str, str], store_path: Path
) -> None:
    edited = run(
        "volunteer", "edit", "王芳", "--add-skill", "维修", "--remove-team", "银发志愿服务队", "--inactive"
    )
    assert edited.exit_code == 0, edited.output
    fang = json.loads(run("volunteer", "list", "--format", "json", "--skill", "repair").stdout)
    assert [v["name"] for v in fang] == ["欧阳娜娜", "王芳"] and fang[1]["teams"] == []
    run("order", "new", "--household", "程金娇", "--service", "repair", "--at", "2026-06-01 09:00")
    before = snapshot(store_path)
    refused = run("order", "take", "V2026-1", "--volunteer", "王芳", lang="zh")
    assert refused.exit_code == 2 and "已不再活跃" in refused.stderr
    assert run("volunteer", "edit", "王芳", "--phone", "123").exit_code == 2
    assert snapshot(store_path) == before
    assert run("volunteer", "edit", "王芳", "--active").exit_code == 0
    assert run("order", "take", "V2026-1", "--volunteer", "王芳").exit_code == 0


def test_the_demo_command_shows_orders_points_and_visits(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gridtool.commands import cli

    made = CliRunner().invoke(cli, ["demo", "--path", str(tmp_path / "demo")])
    assert made.exit_code == 0, made.output
    db = ["--db", str(tmp_path / "demo" / "gridtool.json"), "--lang", "zh"]
    assert "服务中" in CliRunner().invoke(cli, [*db, "order", "list", "--open"]).stdout
    assert "服务积分" in CliRunner().invoke(cli, [*db, "points", "ledger"]).stdout  # rank: by year, Jan-safe
    assert CliRunner().invoke(cli, [*db, "report", "visits-overdue", "--fail-if-any"]).exit_code == 1


def _issue(run: Run, at: str = "2026-06-01 09:00") -> str:
    return run(
        "issue", "new", "--household", "程金娇", "--category", "repair", "--channel", "phone",
        "--title", "水管漏水", "--at", at,
    ).stdout.strip()  # fmt: skip


def test_an_order_from_an_issue_whose_household_was_removed_is_refused(
    run: Run, crew: dict[str, str], store_path: Path
) -> None:
    number = _issue(run)
    for step in (  # the issue runs its whole course and is closed: the household may then go
        ("assign", number, "--to", "谭石泉", "--at", "2026-06-01 10:00"),
        ("accept", number, "--at", "2026-06-01 11:00"),
        ("resolve", number, "--summary", "已修好", "--at", "2026-06-02 10:00"),
        ("visit", number, "--rating", "5", "--at", "2026-06-03 10:00"),
        ("close", number, "--at", "2026-06-03 11:00"),
    ):
        assert run("issue", *step).exit_code == 0, step
    assert run("household", "remove", "-y", crew["household"]).exit_code == 0
    before = snapshot(store_path)
    for lang, words in (("zh", "住户已被删除"), ("en", "household of issue")):
        refused = run("order", "new", "--from-issue", number, "--service", "理发", lang=lang)
        assert refused.exit_code == 2 and words in refused.stderr, refused.output
        assert number in refused.stderr
    assert snapshot(store_path) == before


def test_an_order_from_a_closed_or_rejected_issue_is_refused_with_its_status(
    run: Run, crew: dict[str, str], store_path: Path
) -> None:
    number = _issue(run)
    assert run("issue", "reject", number, "--reason", "重复", "--at", "2026-06-01 10:00").exit_code == 0
    before = snapshot(store_path)
    refused = run("order", "new", "--from-issue", number, "--service", "理发", lang="zh")
    assert refused.exit_code == 2 and "不予受理" in refused.stderr, refused.stderr
    assert number in refused.stderr
    assert "rejected" in run("order", "new", "--from-issue", number, "--service", "理发").stderr
    assert snapshot(store_path) == before


def test_visit_reports_for_a_past_day_ignore_later_visits(run: Run, planned: dict[str, str]) -> None:
    assert run("visit", "log", "程金娇", "--at", "2026-10-20 10:00").exit_code == 0
    late = run("report", "visits-overdue", "--as-of", "2026-10-15", "--format", "json")
    [row] = json.loads(late.stdout)["households"]
    assert (row["due"], row["last_visit"], row["days_overdue"]) == ("2026-10-08", "2026-09-24T10:00:00", 7)
    due = run("report", "visits-due", "--as-of", "2026-10-15", "--within", "30")
    assert "2026-09-24 10:00" in due.stdout and "2026-10-20" not in due.stdout
    assert (
        json.loads(run("report", "visits-overdue", "--as-of", "2026-10-21", "--format", "json").stdout)[
            "households"
        ]
        == []
    ), "the visit counts from its own day on"


def test_a_correction_keeps_to_its_entrys_side_and_date(
    run: Run, crew: dict[str, str], store_path: Path
) -> None:
    run("order", "new", "--household", "程金娇", "--service", "repair", "--at", "2026-06-01 09:00")
    run("order", "take", "V2026-1", "--volunteer", "欧阳娜娜", "--at", "2026-06-01 09:30")
    run("order", "done", "V2026-1", "--hours", "2", "--at", "2026-06-01 11:30")
    run("points", "redeem", "欧阳娜娜", "--points", "6", "--item", "食用油", "--at", "2026-06-02 09:00")
    spent = next(e for e in points.entries(Store(store_path)) if e["kind"] == "redeem")
    before = snapshot(store_path)
    early = run("points", "correct", spent["id"], "--points", "+5", "--reason", "退回", "--at", "2026-06-01")
    assert early.exit_code == 2 and "before entry" in early.stderr and "2026-06-02 09:00" in early.stderr
    assert snapshot(store_path) == before
    ok = run("points", "correct", spent["id"], "--points", "+5", "--reason", "退回", "--at", "2026-06-03")
    assert ok.exit_code == 0, ok.output
    data = json.loads(run("points", "show", "欧阳娜娜", "--format", "json").stdout)
    assert (data["balance"], data["earned"], data["redeemed"]) == (9, 10, 1)
    [ranked] = json.loads(run("points", "rank", "--year", "2026", "--format", "json").stdout)["rank"]
    assert ranked["points"] == 10


def test_a_service_retired_from_the_rules_keeps_stored_skills_and_orders_valid(
    run: Run, crew: dict[str, str], tmp_path: Path
) -> None:
    run("order", "new", "--household", "程金娇", "--service", "repair", "--at", "2026-06-01 09:00")
    run("order", "take", "V2026-1", "--volunteer", "欧阳娜娜", "--at", "2026-06-01 09:30")
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "points_rules.csv").write_text(
        "rule,service,basis,points,name\nhaircut,haircut,per-service,5,理发\nstar,*,bonus-5-star,3,好评\n",
        encoding="utf-8",
    )
    edited = run("volunteer", "edit", "欧阳娜娜", "--phone", "13900002222")
    assert edited.exit_code == 0, edited.output
    refused = run("volunteer", "edit", "王芳", "--add-skill", "repair", lang="zh")
    assert refused.exit_code == 2 and "未知的服务项目" in refused.stderr, "new input is still checked"
    done = run("order", "done", "V2026-1", "--hours", "2", "--at", "2026-06-01 11:30")
    assert (
        done.exit_code == 0 and "+0 points" in done.stderr and "no longer in the points rules" in done.stderr
    )
    rated = run("order", "rate", "V2026-1", "--rating", "5", "--at", "2026-06-01 12:00")
    assert rated.exit_code == 0 and "+3 points" in rated.stderr, "the * bonus still applies"
    ledger = json.loads(run("points", "ledger", "--format", "json").stdout)
    assert [(e["kind"], e["points"], e["rule"]) for e in ledger] == [("credit", 0, ""), ("bonus", 3, "star")]
    assert [
        o["order"] for o in json.loads(run("order", "list", "--service", "repair", "--format", "json").stdout)
    ] == ["V2026-000001"]
    skilled = run("volunteer", "list", "--skill", "repair", "--format", "json")
    assert [v["name"] for v in json.loads(skilled.stdout)] == ["欧阳娜娜"]
    dropped = run("volunteer", "edit", "欧阳娜娜", "--remove-skill", "repair")
    everyone = {v["name"]: v for v in json.loads(run("volunteer", "list", "--format", "json").stdout)}
    assert dropped.exit_code == 0 and everyone["欧阳娜娜"]["skills"] == []


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("order", "new", "--household", "程金娇", "--service", "理发", "--at", "0001-01-01"), "时间"),
        (("order", "new", "--household", "程金娇", "--service", "理发", "--wanted-by", "9999-12-31"), "期望"),
        (("report", "visits-due", "--as-of", "9999-12-31", "--within", "5"), "统计"),
        (("report", "visits-overdue", "--as-of", "0001-01-01"), "统计"),
        (("report", "visits-due", "--within", "99999999"), "99999999"),
        (("visit", "plan", "--tag", "独居老人", "--every", "7d", "--start", "9999-12-31"), "9999-12-31"),
        (("visit", "log", "程金娇", "--at", "1800-01-01"), "时间"),
        (("points", "redeem", "王芳", "--points", "1", "--item", "x", "--at", "0001-01-01"), "时间"),
    ],
)
def test_dates_outside_the_years_1900_to_2100_are_refused(
    run: Run, crew: dict[str, str], store_path: Path, args: tuple[str, ...], field: str
) -> None:
    before = snapshot(store_path)
    refused = run(*args, lang="zh")
    assert refused.exit_code == 2 and field in refused.stderr, refused.output
    assert "1900" in refused.stderr or "不能超过" in refused.stderr, refused.stderr
    assert snapshot(store_path) == before


def test_order_show_for_scripts_gives_raw_stable_values(run: Run, crew: dict[str, str]) -> None:
    run("order", "new", "--household", "程金娇", "--service", "repair", "--at", "2026-06-01 09:00")
    run("order", "take", "V2026-1", "--volunteer", "欧阳娜娜", "--at", "2026-06-01 09:30")
    run("order", "done", "V2026-1", "--hours", "1.5", "--at", "2026-06-01 11:00")
    run("order", "rate", "V2026-1", "--rating", "5", "--at", "2026-06-01 12:00")
    run("order", "new", "--household", "程金娇", "--service", "理发", "--at", "2026-06-02 09:00")
    run("order", "cancel", "V2026-2", "--reason", "住户外出", "--at", "2026-06-02 10:00")
    for lang in ("zh", "en"):  # the same for every language
        data = json.loads(run("order", "show", "V2026-1", "--format", "json", lang=lang).stdout)
        order = data["order"]
        assert (order["status"], order["service"], order["hours"], order["rating"]) == (
            "rated",
            "repair",
            1.5,
            5,
        )
        assert (order["created_at"], order["rated_at"]) == ("2026-06-01T09:00:00", "2026-06-01T12:00:00")
        assert order["cancelled_at"] is None and order["phone"] == "135****5678"
        assert [(e["kind"], e["points"], e["at"]) for e in data["points"]] == [
            ("credit", 8, "2026-06-01T11:00:00"),
            ("bonus", 3, "2026-06-01T12:00:00"),
        ]
        assert all("balance" not in e for e in data["points"]), "a volunteer's balance is not the order's"
    [row] = list(
        csv.DictReader(io.StringIO(run("order", "show", "V2026-2", "--format", "csv", lang="zh").stdout))
    )
    assert (row["status"], row["service"], row["cancelled_at"], row["hours"]) == (
        "cancelled",
        "haircut",
        "2026-06-02T10:00:00",
        "",
    )
    listed = {r["order"]: r for r in json.loads(run("order", "list", "--format", "json").stdout)}
    assert listed["V2026-000001"]["rated_at"] == "2026-06-01T12:00:00"
    assert listed["V2026-000002"]["cancelled_at"] == "2026-06-02T10:00:00"
    shown = run("order", "show", "V2026-2").stdout
    assert "cancelled" in shown and "2026-06-02 10:00" in shown


@pytest.mark.parametrize(
    "command", [("redeem", "王芳", "--item", "大米"), ("correct", "ZZZZ", "--reason", "x")]
)
def test_a_missing_points_option_is_required_not_a_bad_number(
    run: Run, crew: dict[str, str], command: tuple[str, ...]
) -> None:
    refused = run("points", *command, lang="zh")
    assert refused.exit_code == 2 and "积分: 必填" in refused.stderr and "None" not in refused.stderr, (
        refused.stderr
    )


def test_removing_a_skill_or_team_the_volunteer_does_not_have_is_refused(
    run: Run, crew: dict[str, str], store_path: Path
) -> None:
    before = snapshot(store_path)
    for args, words in (
        (("--remove-skill", "维修"), "没有可删除的 维修"),
        (("--remove-team", "银发志愿服务队", "--remove-skill", "理发"), None),
    ):
        result = run("volunteer", "edit", "王芳", *args, lang="zh")
        if words:
            assert result.exit_code == 2 and words in result.stderr, result.stderr
            assert snapshot(store_path) == before
        else:
            assert result.exit_code == 0, result.output
    again = run("volunteer", "edit", "王芳", "--remove-team", "银发志愿服务队")
    assert again.exit_code == 2 and "has no 银发志愿服务队 to remove" in again.stderr, again.stderr


def test_planning_visits_for_a_tag_no_household_has_warns_with_the_tags_in_use(
    run: Run, crew: dict[str, str]
) -> None:
    typo = run("visit", "plan", "--tag", "独居老", "--every", "7d", lang="zh")
    assert typo.exit_code == 0 and "提示" in typo.stderr and "已在用的标签：独居老人" in typo.stderr, (
        typo.stderr
    )
    fine = run("visit", "plan", "--tag", "独居老人", "--every", "7d")
    assert fine.exit_code == 0 and "warning" not in fine.stderr


def test_team_edit_changes_fields_keeps_members_and_refuses_a_taken_name(
    run: Run, crew: dict[str, str], store_path: Path
) -> None:
    assert run("team", "add", "--name", "平安巡防队", "--kind", "safety").exit_code == 0
    edited = run("team", "edit", "银发志愿服务队", "--leader", "赵老师", "--kind", "elders-care", lang="zh")
    assert edited.exit_code == 0 and "银发志愿服务队" in edited.stderr, edited.output
    [team] = [
        t for t in json.loads(run("team", "list", "--format", "json").stdout) if t["name"] == "银发志愿服务队"
    ]
    assert (team["leader"], team["colour"], team["size"]) == ("赵老师", "红", 1)
    before = snapshot(store_path)
    for args, words in (
        (("--name", "平安巡防队"), "平安巡防队"),
        (("--kind", "rocket"), "类型"),
        (("--name", " "), "必填"),
    ):
        refused = run("team", "edit", "银发志愿服务队", *args, lang="zh")
        assert refused.exit_code == 2 and words in refused.stderr, refused.stderr
    assert snapshot(store_path) == before
    assert run("team", "edit", "银发志愿服务队", "--name", "银龄先锋队").exit_code == 0
    assert "银龄先锋队" in run("volunteer", "show", "王芳").stdout


def test_numbers_typed_into_order_text_and_visit_notes_are_masked_unless_asked(
    run: Run, crew: dict[str, str]
) -> None:
    new = run(
        "order", "new", "--household", "程金娇", "--service", "理发", "--description", "联系女儿13900002222"
    )
    assert new.exit_code == 0, new.output
    for fmt in ("table", "json"):
        shown = run("order", "show", "V2026-1", "--format", fmt).stdout
        assert "13900002222" not in shown and "139****2222" in shown
    assert "13900002222" in run("order", "show", "V2026-1", "--show-pii").stdout
    assert run("visit", "log", "程金娇", "--note", "邻居电话13900003333").exit_code == 0
    assert "139****3333" in run("visit", "history", "程金娇").stdout
    assert "13900003333" in run("visit", "history", "程金娇", "--show-pii").stdout
