"""Workbooks are bounded before the Excel reader sees them (issue 16, item 4)."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from gridtool.ledger import bounds
from gridtool.ledger.sheets import read_file
from tests.hostile_files import HEADER, hostile_workbooks, workbook

REASONS = {
    "corner": "workbook.rows",
    "zz": "workbook.rows",
    "wide_and_long": "workbook.cells",
    "lying_dimension": "workbook.rows",
    "cell_not_in_its_row": "workbook.rows",
    "no_positions": "workbook.columns",
    "long_string": "workbook.cell_text",
    "bomb": "workbook.unpacked",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return hostile_workbooks(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("shape", sorted(REASONS))
def test_each_hostile_shape_is_refused_with_its_reason(hostile: dict[str, Path], shape: str) -> None:
    assert hostile[shape].stat().st_size < 10 * 1024 * 1024
    with pytest.raises(bounds.WorkbookTooLarge) as refused:
        read_file(hostile[shape])
    assert refused.value.key == REASONS[shape]
    assert refused.value.exit_code == 2


def test_a_zip_packed_like_a_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    rows = HEADER + "".join(f'<row r="{n}"></row>' for n in range(2, 3)) + " " * 20_000_000
    path = workbook(tmp_path / "ratio.xlsx", rows)
    with pytest.raises(bounds.WorkbookTooLarge) as refused:
        read_file(path)
    assert refused.value.key == "workbook.ratio"


def test_an_ordinary_workbook_within_the_limits_is_read(tmp_path: Path) -> None:
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>TL-{n:02}</t></is></c>'
        f'<c r="B{n}" t="inlineStr"><is><t>{"长" * 30_000}</t></is></c></row>'
        for n in range(2, 5)
    )
    (sheet,) = read_file(workbook(tmp_path / "ok.xlsx", HEADER + rows, dimension="A1:B4"))
    assert [r[0] for r in sheet.rows] == ["网格编码", "TL-02", "TL-03", "TL-04"]


def test_column_numbers() -> None:
    assert [bounds.column_number(c) for c in ("A", "Z", "AA", "ZZ", "XFD")] == [1, 26, 27, 702, 16384]


def _one_gigabyte() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def test_the_command_never_aborts_under_one_gigabyte(hostile: dict[str, Path], tmp_path: Path) -> None:
    """Through the real entry point with the address space capped at 1 GB: exit 2, never an abort."""
    store = tmp_path / "s" / "gridtool.json"
    env = {"GRIDTOOL_LANG": "en", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    cmd = [sys.executable, "-m", "gridtool.commands", "--db", str(store)]
    assert subprocess.run([*cmd, "init"], env=env, capture_output=True, check=False).returncode == 0
    for shape, path in sorted(hostile.items()):
        done = subprocess.run(
            [*cmd, "import", "grid-cells", str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            preexec_fn=_one_gigabyte,
            timeout=120,
        )
        assert done.returncode == 2, (shape, done.returncode, done.stderr[-300:])
        assert "Traceback" not in done.stderr
