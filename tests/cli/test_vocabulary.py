"""One vocabulary for scripts: a field name means the same thing in every command and format.

Walks every listing command over the demo community with ``--format json`` and ``--format csv``:
a column both formats give holds the same value for the same row, and a name shared between
commands holds the same kind of value everywhere (``grid`` a cell's code, ``*_id`` an id, names
of people never ids).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

Run = Callable[..., Result]

ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}\Z")
GRID_CODE = re.compile(r"[A-Z]{2,}-\d{2,}\Z")

COMMANDS: dict[str, tuple[tuple[str, ...], Callable[[Any], list[dict[str, Any]]]]] = {
    "grid list": (("grid", "list"), lambda d: d),
    "building list": (("building", "list"), lambda d: d),
    "lead list": (("lead", "list"), lambda d: d),
    "household list": (("household", "list"), lambda d: d),
    "household show": (("household", "show", "于玲秀"), lambda d: [d]),
    "building show": (("building", "show", "青枫小区/1"), lambda d: [d]),
    "issue list": (("issue", "list"), lambda d: d),
    "report overdue": (("report", "overdue"), lambda d: d["issues"]),
    "report due-soon": (("report", "due-soon", "--within", "5"), lambda d: d["issues"]),
    "report followups": (("report", "followups", "--after", "0"), lambda d: d["issues"]),
    "report visits-due": (("report", "visits-due", "--within", "7"), lambda d: d["households"]),
    "report visits-overdue": (("report", "visits-overdue"), lambda d: d["households"]),
    "team list": (("team", "list"), lambda d: d),
    "volunteer list": (("volunteer", "list"), lambda d: d),
    "order list": (("order", "list"), lambda d: d),
    "points rank": (("points", "rank"), lambda d: d["rank"]),
    "points ledger": (("points", "ledger"), lambda d: d),
    "visit plans": (("visit", "plans"), lambda d: d),
}

NAMES_NOT_IDS = ("grid", "household", "volunteer", "assignee", "building", "reporter", "head", "leader")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(map(str, value))
    return str(value)


def _fits(column: str, text: str) -> bool:
    """Whether a value is of the kind its name promises."""
    if column == "grid":
        return bool(GRID_CODE.match(text))
    if column.endswith("_id"):
        return bool(ULID.match(text))
    if column.endswith("_ids"):
        return all(ULID.match(v) for v in text.split("|"))
    return column not in NAMES_NOT_IDS or not ULID.match(text)


@pytest.fixture
def outputs(run: Run, store_path: Path) -> dict[str, tuple[list[dict[str, Any]], list[dict[str, str]]]]:
    assert run("demo").exit_code == 0
    out = {}
    for name, (args, rows_of) in COMMANDS.items():
        as_json, as_csv = (run(*args, "--format", fmt) for fmt in ("json", "csv"))
        assert as_json.exit_code == 0 and as_csv.exit_code == 0, (name, as_json.stderr, as_csv.stderr)
        out[name] = (rows_of(json.loads(as_json.stdout)), list(csv.DictReader(io.StringIO(as_csv.stdout))))
    return out


def test_json_and_csv_of_a_command_agree_on_every_column_they_share(
    outputs: dict[str, tuple[list[dict[str, Any]], list[dict[str, str]]]],
) -> None:
    differences = []
    for name, (json_rows, csv_rows) in outputs.items():
        assert len(json_rows) == len(csv_rows), name
        for j, c in zip(json_rows, csv_rows, strict=True):
            for column in sorted(set(j) & set(c)):
                if isinstance(j[column], list) and any(isinstance(v, dict) for v in j[column]):
                    continue  # members: records within a record, flattened to one cell in CSV
                if _text(j[column]) != c[column]:
                    differences.append((name, column, j[column], c[column]))
    assert differences == []


def test_a_name_means_the_same_thing_in_every_command(
    outputs: dict[str, tuple[list[dict[str, Any]], list[dict[str, str]]]],
) -> None:
    wrong = []
    seen: set[str] = set()
    for name, (json_rows, csv_rows) in outputs.items():
        for row in [*json_rows, *csv_rows]:
            for column, value in row.items():
                seen.add(column)
                text = _text(value)
                if not text:
                    continue
                if not _fits(column, text):
                    wrong.append((name, column, text))
    assert wrong == []
    assert {"grid", "grid_id", "household", "household_id", "volunteer", "volunteer_id"} <= seen
    assert "grid_cell" not in seen and "grid_code" not in seen, "one name for a grid cell: grid"


def test_a_json_export_speaks_the_same_vocabulary(
    run: Run, outputs: dict[str, tuple[list[dict[str, Any]], list[dict[str, str]]]]
) -> None:
    listed = {row["number"]: row for row in outputs["issue list"][0]}
    exported = json.loads(run("export", "issues", "--format", "json").stdout)
    assert exported and all("grid_cell" not in row for row in exported)
    for row in exported:
        same = listed[row["number"]]
        assert (row["grid"], row["status"], row["category"], row["assignee"]) == (
            same["grid"],
            same["status"],
            same["category"],
            same["assignee"],
        )
    households = json.loads(run("export", "households", "--format", "json").stdout)
    assert all(GRID_CODE.match(row["grid"]) for row in households)
