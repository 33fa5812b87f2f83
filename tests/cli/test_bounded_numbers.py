"""Numbers and dates are bounded wherever they are entered (issue 16, item 5)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from gridtool import issues, sla
from gridtool.store import Store
from tests.cli.test_issue_cli import new, ok
from tests.conftest import snapshot

Run = Callable[..., Result]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["calendar", "add-workdays", "2026-09-30", "13800138000"], "outside the years 1900-2100"),
        (["calendar", "add-workdays", "2026-09-30", "--", "-13800138000"], "outside the years 1900-2100"),
        (["calendar", "add-workdays", "2100-12-30", "5"], "outside the years 1900-2100"),
        (["calendar", "is-workday", "9999-12-31"], "outside the years 1900-2100"),
        (["calendar", "is-workday", "0001-01-01"], "outside the years 1900-2100"),
        (["report", "due-soon", "--within", "9999999999999999999d"], "9999999999999999999d"),
        (["report", "due-soon", "--within", "9999999d"], "more than 3650 days"),
        (["report", "overdue", "--as-of", "2101-01-01"], "outside the years 1900-2100"),
    ],
)
def test_counts_and_dates_beyond_the_years_are_refused(
    run: Run, store: Store, store_path: Path, args: list[str], reason: str
) -> None:
    before = snapshot(store_path)
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert reason in result.stderr
    assert snapshot(store_path) == before


def test_an_issue_entered_in_another_century_is_refused(run: Run, store_path: Path, community: dict) -> None:
    before = snapshot(store_path)
    result = run(
        "issue", "new", "--household", "程金娇", "--category", "repair", "--title", "x", "--at", "1899-12-31"
    )
    assert result.exit_code == 2 and "1900-2100" in result.stderr
    assert snapshot(store_path) == before


def test_an_extension_is_bounded_by_the_sla_table(run: Run, store_path: Path, community: dict) -> None:
    number = new(run)
    before = snapshot(store_path)
    result = run("issue", "extend", number, "--days", "999", "--reason", "等待配件")
    assert result.exit_code == 2 and "30 working days" in result.stderr
    assert snapshot(store_path) == before
    ok(run("issue", "extend", number, "--days", "30", "--reason", "等待配件"))


def test_the_extension_limit_is_configurable_per_row(
    store: Store, community: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = sla.sla_path().read_text(encoding="utf-8").splitlines()
    own = [shipped[0] + ",max_extension"]
    own += [line + (",5" if line.startswith("repair,") else ",") for line in shipped[1:]]
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "sla.csv").write_text("\n".join(own) + "\n", encoding="utf-8")
    assert sla.load_sla().limit("repair", "normal").max_extension == 5
    assert sla.load_sla().limit("other", "normal").max_extension == sla.DEFAULT_MAX_EXTENSION
    issue, _ = issues.report(
        store, {"household": "程金娇", "category": "repair", "channel": "wechat", "title": "返水"}
    )
    with pytest.raises(issues.ValidationError) as refused:
        issues.perform(store, "extend", issue["number"], days=6, reason="等待配件")
    assert refused.value.problems[0].params == {"max": 5}
    issues.perform(store, "extend", issue["number"], days=5, reason="等待配件")


@pytest.mark.parametrize("value", ["0", "3651", "x", "1.5"])
def test_a_bad_max_extension_names_its_row(value: str, tmp_path: Path) -> None:
    path = tmp_path / "sla.csv"
    path.write_text(
        "category,urgency,scale,limit,unit,responsible,max_extension\n"
        f"repair,normal,*,3,workdays,物业,{value}\n",
        encoding="utf-8",
    )
    with pytest.raises(sla.InputError) as refused:
        sla.load_sla(path)
    assert refused.value.params["row"] == 2
