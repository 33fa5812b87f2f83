"""``gridtool import`` and ``gridtool export`` as a worker types them, checked through the library."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from gridtool import register
from gridtool.store import Store
from tests.conftest import snapshot
from tests.core.test_ledger_import import HEADER, household_row, ident, read_csv, write_csv


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    """A GBK ledger as Excel on Chinese Windows saves it: title row, two good households, one bad."""
    rows = [
        ["铁园社区第三网格住户台账"],
        HEADER,
        household_row("0101", "王建国", "19500203", 标签="独居老人"),
        [*household_row("0102", "赵敏", "19800101")[:6], "4.30105E+17", "13512345671", "", ""],
        household_row("0201", "钱多", "19800102"),
        [""] * len(HEADER),
    ]
    return write_csv(tmp_path / "台账.csv", rows, encoding="gbk")


def _addresses(store_path: Path) -> set[str]:
    store = Store(store_path)
    return {register.address(store, h) for h in store.records("households").values()}


def test_a_bad_row_refuses_the_whole_file_with_a_report(
    run: Callable[..., Result], store: Store, community: dict, ledger: Path
) -> None:
    before = snapshot(store.path)
    result = run("import", "households", str(ledger))
    assert result.exit_code == 2
    assert "row 4 “身份证号”: looks like Excel turned it into a number" in result.stdout
    assert "1 of 3 rows have problems; nothing was written" in result.stderr
    assert snapshot(store.path) == before


def test_the_report_is_in_chinese_for_a_chinese_worker(
    run: Callable[..., Result], store: Store, community: dict, ledger: Path
) -> None:
    result = run("import", "households", str(ledger), lang="zh")
    assert result.exit_code == 2
    assert "第 4 行 “身份证号”列：看起来被 Excel 转成了科学计数法数字" in result.stdout
    assert "未写入任何内容" in result.stderr


def test_skip_invalid_with_rejects_then_the_fixed_rejects_file_imports(
    run: Callable[..., Result], store: Store, community: dict, ledger: Path, tmp_path: Path
) -> None:
    rejects = tmp_path / "rejects.csv"
    result = run("import", "households", str(ledger), "--skip-invalid", "--rejects", str(rejects))
    assert result.exit_code == 0, result.stderr
    assert "2 created" in result.stdout and "1 rejected" in result.stdout
    assert str(rejects) in result.stderr
    assert _addresses(store.path) >= {"湘离小区5栋3单元0101", "湘离小区5栋3单元0201"}
    header, row = read_csv(rejects)
    row[6] = ident("19800101")
    write_csv(rejects, [header, row])
    again = run("import", "households", str(rejects))
    assert again.exit_code == 0 and "1 created" in again.stdout
    assert "湘离小区5栋3单元0102" in _addresses(store.path)


def test_dry_run_and_a_second_import_write_nothing(
    run: Callable[..., Result], store: Store, community: dict, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "a.csv", [HEADER, household_row("0101", "王建国", "19500203")])
    before = snapshot(store.path)
    dry = run("import", "households", str(path), "--dry-run")
    assert dry.exit_code == 0 and "1 created" in dry.stdout and "dry run" in dry.stderr
    assert snapshot(store.path) == before
    assert run("import", "households", str(path)).exit_code == 0
    after = snapshot(store.path)
    second = run("import", "households", str(path))
    assert second.exit_code == 0 and "1 unchanged" in second.stdout
    assert snapshot(store.path) == after


def test_json_report_for_scripts_has_counts_and_no_progress_bar(
    run: Callable[..., Result], store: Store, community: dict, ledger: Path
) -> None:
    result = run("import", "households", str(ledger), "--format", "json", "--skip-invalid")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert (report["created"], report["rejected"], report["encoding"]) == (2, 1, "GB18030")
    [problem] = report["problems"]
    assert (problem["row"], problem["column"], problem["key"]) == (4, "身份证号", "invalid.id_scientific")
    assert "%" not in result.stderr


def test_a_file_that_is_not_a_ledger_exits_2_naming_the_problem(
    run: Callable[..., Result], store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("户主,房号\n".encode() + b"\xe9t\xe9\n")
    result = run("import", "households", str(path))
    assert result.exit_code == 2 and "neither UTF-8 nor GBK" in result.stderr
    missing = run("import", "households", str(tmp_path / "none.csv"))
    assert missing.exit_code == 2 and "no file" in missing.stderr


def test_export_masks_by_default_and_writes_text_cells_in_xlsx(
    run: Callable[..., Result], store: Store, community: dict, tmp_path: Path
) -> None:
    masked = run("export", "households")
    assert masked.exit_code == 0
    assert "4301**********002X" in masked.stdout and "135****5678" in masked.stdout
    assert "masked" in masked.stderr
    target = tmp_path / "住户.xlsx"
    result = run("export", "households", "--show-pii", "-o", str(target))
    assert result.exit_code == 0 and "exported 1 household" in result.stderr
    from openpyxl import load_workbook

    sheet = load_workbook(target).active
    header = [c.value for c in sheet[1]]
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    for column in ("head's id number", "phone", "room"):
        assert row[column].data_type == "s" and row[column].number_format == "@"
    assert row["head's id number"].value == "43010519790312002X" and row["room"].value == "0502"
    assert target.stat().st_mode & 0o777 == 0o600


def test_export_xlsx_needs_an_output_file(run: Callable[..., Result], store: Store, community: dict) -> None:
    result = run("export", "households", "--format", "xlsx")
    assert result.exit_code == 2 and "--output" in result.stderr


def test_export_json_and_its_import_into_a_new_store(
    run: Callable[..., Result], store: Store, community: dict, tmp_path: Path
) -> None:
    other = tmp_path / "other" / "gridtool.json"
    assert run("init", db=other).exit_code == 0
    for name in ("grid-cells", "buildings", "leads", "households"):
        target = tmp_path / f"{name}.json"
        assert run("export", name, "--show-pii", "--format", "json", "-o", str(target)).exit_code == 0
        result = run("import", name, str(target), db=other)
        assert result.exit_code == 0, result.stdout + result.stderr
        assert "1 record" in result.stdout and "row 0" not in result.stdout  # JSON has no header row
    exported = json.loads(run("export", "households", "--show-pii", "--format", "json", db=other).stdout)
    assert exported[0]["id_number"] == "43010519790312002X" and exported[0]["tags"] == ["独居老人"]
    assert _addresses(other) == {"湘离小区5栋2单元0502"}
    lead = next(iter(Store(other).records("leads").values()))
    assert lead["roles"] == ["building-lead", "party-member"] and len(lead["buildings"]) == 1


def test_export_grid_filter(run: Callable[..., Result], store: Store, community: dict) -> None:
    register.add(store, "grid_cell", {"code": "TL-04", "name": "第四网格"})
    assert "TL-03" in run("export", "grid-cells").stdout
    only = run("export", "grid-cells", "--grid", "TL-04").stdout
    assert "TL-04" in only and "TL-03" not in only


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from gridtool.commands import io as ledger_io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out, err = Terminal(), Terminal()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    with ledger_io._progress(True, "households") as progress:
        assert progress is not None
        for done in (0, 10, 20, 30):  # as an import calls it: the commit's share comes after
            progress(done, 40)
        assert "100%" not in err.getvalue()
    assert "100%" in err.getvalue()  # filled once the import returned
    with ledger_io._progress(False, "households") as progress:  # --format json
        assert progress is None
    monkeypatch.setattr("sys.stdout", io.StringIO())  # piped
    with ledger_io._progress(True, "households") as progress:
        assert progress is None


def test_a_long_report_shows_a_screenful_and_says_where_the_rest_is(
    run: Callable[..., Result], store: Store, community: dict, tmp_path: Path
) -> None:
    bad_phones = [
        household_row(f"{n:02d}01", "王建国", f"1950{n // 28 + 1:02d}{n % 28 + 1:02d}", phone="123")
        for n in range(1, 41)
    ]
    ledger = write_csv(tmp_path / "bad.csv", [HEADER, *bad_phones])
    result = run("import", "households", str(ledger))
    assert result.exit_code == 2
    shown = [line for line in result.stdout.splitlines() if line.startswith("  row ")]
    assert len(shown) == 30 and all("“" in line for line in shown)
    assert "more, not shown: write them all with --rejects FILE" in result.stdout
    as_json = json.loads(run("import", "households", str(ledger), "--format", "json").stdout)
    assert len([p for p in as_json["problems"] if p["column"] == "联系电话"]) == 40


def test_a_head_registered_twice_in_one_file_names_the_id_column(
    run: Callable[..., Result], store: Store, community: dict, tmp_path: Path
) -> None:
    twice = [household_row(f"0{n}01", "王建国", "19500203") for n in range(1, 8)]
    result = run("import", "households", str(write_csv(tmp_path / "twice.csv", [HEADER, *twice])))
    assert result.exit_code == 2
    assert "row 2 “身份证号”: this ID number is also on row 3、4、5、6、7…(+1)" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["export", "households", "--output", "{store}"],
        ["export", "households", "--format", "json", "--output", "{store}.log"],
        ["import", "households", "{ledger}", "--skip-invalid", "--rejects", "{store}"],
        ["report", "overdue", "--output", "{store}"],
    ],
)
def test_nothing_is_ever_written_over_the_store_itself(
    run: Callable[..., Result], store: Store, community: dict, ledger: Path, command: list[str]
) -> None:
    before = snapshot(store.path)
    args = [a.format(store=store.path, ledger=ledger) for a in command]
    result = run(*args)
    assert result.exit_code == 2 and "store" in result.stderr and "Traceback" not in result.stderr
    assert snapshot(store.path) == before


def test_an_unwritable_rejects_file_is_refused_before_anything_is_imported(
    run: Callable[..., Result], store: Store, community: dict, ledger: Path, tmp_path: Path
) -> None:
    before = snapshot(store.path)
    missing_folder = tmp_path / "no-such-folder" / "rejects.csv"
    result = run("import", "households", str(ledger), "--skip-invalid", "--rejects", str(missing_folder))
    assert result.exit_code == 2 and str(missing_folder) in result.stderr
    assert snapshot(store.path) == before
    export = run("export", "households", "--output", str(missing_folder))
    assert export.exit_code == 2 and "Traceback" not in export.stderr


def test_rejects_without_skip_invalid_say_to_fix_the_original_file(
    run: Callable[..., Result], store: Store, community: dict, ledger: Path, tmp_path: Path
) -> None:
    rejects = tmp_path / "rejects.csv"
    result = run("import", "households", str(ledger), "--rejects", str(rejects))
    assert result.exit_code == 2 and rejects.exists()
    assert "nothing was imported, so fix the original file" in result.stderr


def test_phones_and_id_numbers_typed_into_notes_or_extra_columns_are_masked_on_export(
    run: Callable[..., Result], store: Store, community: dict, tmp_path: Path
) -> None:
    row = household_row("0101", "王建国", "19500203")
    path = write_csv(
        tmp_path / "extra.csv",
        [
            [*HEADER, "备注", "紧急联系人电话", "配偶身份证"],
            [*row, "女儿电话13988887777", "13988887777", ident("19600101")],
        ],
    )
    assert run("import", "households", str(path)).exit_code == 0
    for fmt in ("csv", "json"):
        masked = run("export", "households", "--format", fmt).stdout
        assert "13988887777" not in masked and ident("19600101") not in masked
        assert "139****7777" in masked
        shown = run("export", "households", "--format", fmt, "--show-pii").stdout
        assert "13988887777" in shown and ident("19600101") in shown
    shown_one = run("household", "find", "王建国", "--format", "json")
    assert shown_one.exit_code == 0 and "王建国" in shown_one.stdout
    assert "13988887777" not in shown_one.stdout and "139****7777" in shown_one.stdout


def test_a_member_registered_in_another_household_is_reported_in_the_members_column(
    run: Callable[..., Result], store: Store, community: dict, tmp_path: Path
) -> None:
    son = f"王小明,{ident('20100101', '011')},子"
    first = write_csv(tmp_path / "a.csv", [HEADER, household_row("0101", "王建国", "19500203", 家庭成员=son)])
    assert run("import", "households", str(first)).exit_code == 0
    second = write_csv(tmp_path / "b.csv", [HEADER, household_row("0201", "赵敏", "19800101", 家庭成员=son)])
    result = run("import", "households", str(second))
    assert result.exit_code == 2
    assert "row 2 “家庭成员”" in result.stdout and "湘离小区5栋3单元0101" in result.stdout
