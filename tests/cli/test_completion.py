"""Shell completion: the script Click makes, and record references completed from the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.shell_completion import ShellComplete
from click.testing import CliRunner

from gridtool.commands.root import cli


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_click_s_script_for_the_shell(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell], prog_name="gridtool")
    assert result.exit_code == 0 and f"_GRIDTOOL_COMPLETE={shell}_complete" in result.output


def test_completion_for_another_shell_is_a_usage_error() -> None:
    assert CliRunner().invoke(cli, ["completion", "tcsh"]).exit_code == 2


def completions(args: list[str], incomplete: str) -> list[str]:
    return [
        item.value
        for item in ShellComplete(cli, {}, "gridtool", "_GRIDTOOL_COMPLETE").get_completions(args, incomplete)
    ]


def test_commands_grid_codes_issue_numbers_and_households_complete(
    store_path: Path, community: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("_GRIDTOOL_COMPLETE", "bash_complete")
    db = ["--db", str(store_path)]
    new = ["issue", "new", "--household", "程金娇", "--category", "repair", "--channel", "wechat"]
    made = CliRunner().invoke(cli, [*db, *new, "--title", "漏水"])
    number = made.output.strip().splitlines()[-1]
    assert completions([], "hou") == ["household"]
    assert completions([*db, "household", "list", "--grid"], "TL") == ["TL-03"]
    assert completions([*db, "household", "show"], "程") == ["程金娇"]
    assert number in completions([*db, "issue", "show"], number[:6])


def test_without_a_store_references_complete_to_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("_GRIDTOOL_COMPLETE", "bash_complete")
    assert completions(["--db", str(tmp_path / "none.json"), "issue", "show"], "20") == []
