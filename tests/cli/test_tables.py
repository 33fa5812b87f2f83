"""Tables for people: headers from the table's own catalog, columns aligned by display width,
fields in one order, a question without a terminal refused with what to pass instead."""

from __future__ import annotations

import glob
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from wcwidth import wcswidth

from gridtool import register, views
from gridtool.store import Store

Run = Callable[..., Result]


def test_no_catalog_gives_one_key_two_meanings() -> None:
    """All ``*.<lang>.json`` files are merged: a key defined twice differently loses one meaning
    (a building's 楼号 once showed as 诉求编号)."""
    for lang in ("zh", "en"):
        seen: dict[str, tuple[str, str]] = {}
        for path in sorted(
            glob.glob(str(Path(views.__file__).parents[1] / "data" / "i18n" / f"*.{lang}.json"))
        ):
            for key, value in json.loads(Path(path).read_text(encoding="utf-8")).items():
                first = seen.setdefault(key, (value, path))
                assert first[0] == value, (key, first[1], path)


def test_a_building_number_is_headed_by_its_own_label(run: Run, community: dict[str, str]) -> None:
    listed = run("building", "list", lang="zh").stdout
    shown = run("building", "show", "湘离小区/5", lang="zh").stdout
    for text in (listed, shown):
        assert "楼号" in text and "诉求编号" not in text
    assert "building no." in run("building", "list").stdout.splitlines()[0]
    refused = run("building", "add", "--grid", "TL-03", "--compound", "湘离小区", "--number", "", lang="zh")
    assert refused.exit_code == 2 and "楼号" in refused.stderr and "诉求编号" not in refused.stderr


def test_members_line_up_by_display_width_and_extra_columns_read_as_lines(
    run: Run, store: Store, community: dict[str, str]
) -> None:
    register.edit(
        store,
        "household",
        community["household"],
        {
            "members": ["程金娇,43010519790312002X,户主", "欧阳小明,430105201001010015,孙子"],
            "extras": {"民族": "汉", "备用电话": "无"},
        },
    )
    text = run("household", "show", "程金娇", lang="zh").stdout
    lines = text.splitlines()
    members = [line for line in lines if "4301**" in line]
    assert len(members) == 2
    columns = [
        wcswidth(line[: line.index(word)]) for line, word in zip(members, (" 户主", " 孙子"), strict=True)
    ]
    assert columns[0] == columns[1], text
    assert any(line.rstrip().endswith("民族: 汉") for line in lines) and "{" not in text


def test_show_prints_fields_in_one_order_whatever_the_store_holds(
    store: Store, community: dict[str, str]
) -> None:
    record = store.records("households")[community["household"]]
    scrambled = dict(reversed(list(record.items())))
    assert list(views.detail(store, "household", scrambled)) == list(views.detail(store, "household", record))
    assert list(views.detail(store, "household", record))[:4] == ["id", "grid", "building", "unit"]


def test_a_question_without_a_terminal_says_to_pass_yes(
    run: Run, store_path: Path, community: dict[str, str]
) -> None:
    from tests.conftest import snapshot

    before = snapshot(store_path)
    refused = run("grid", "add", "XX-01", "--name", "空网格")
    assert refused.exit_code == 0
    before = snapshot(store_path)
    result = run("grid", "remove", "XX-01")
    assert result.exit_code == 2 and "--yes" in result.stderr and "Aborted" not in result.output
    assert snapshot(store_path) == before
    assert run("grid", "remove", "XX-01", input="y\n").exit_code == 0, "an answer on a pipe still counts"


def test_hints_quote_paths_for_the_shell(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gridtool.commands import cli

    target = tmp_path / "my store" / "gridtool.json"
    result = CliRunner().invoke(cli, ["--db", str(target), "--lang", "en", "init"])
    assert result.exit_code == 0 and f"'{target}'" in result.output


def _report_long_title(run: Run, *extra: str) -> str:
    """A 200-character title, reported for 程金娇: wider than any terminal."""
    title = "楼道" * 100
    made = run(
        "issue", "new", "--household", "程金娇", "--category", "repair", "--channel", "phone",
        "--title", title, *extra,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return title


def test_a_long_title_is_cut_to_the_terminal_and_shown_whole_with_wide(
    run: Run, community: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    title = _report_long_title(run)
    monkeypatch.setenv("COLUMNS", "100")
    cut = run("issue", "list", lang="zh").stdout.splitlines()
    assert max(wcswidth(line) for line in cut) <= 100 and "…" in cut[2]
    whole = run("issue", "list", "--wide", lang="zh").stdout
    assert title in whole
    assert title in run("issue", "list", "--format", "csv").stdout, "scripts are never cut"


def test_a_report_cuts_long_titles_to_the_terminal_but_not_in_a_file(
    run: Run, community: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    title = _report_long_title(run, "--at", "2026-01-05 09:00")
    monkeypatch.setenv("COLUMNS", "100")
    cut = run("report", "overdue", lang="zh").stdout
    assert title not in cut and "楼道楼道…" in cut
    assert title in run("report", "overdue", "--wide", lang="zh").stdout
    out = tmp_path / "overdue.txt"
    assert run("report", "overdue", "--output", str(out), lang="zh").exit_code == 0
    assert title in out.read_text(encoding="utf-8"), "a report kept in a file is read later, whole"
