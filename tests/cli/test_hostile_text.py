"""Hostile text at the command line, in ledgers and on the way out (issue 16, items 2 and 3)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from gridtool import register
from gridtool.store import Store
from tests.conftest import snapshot

FORMULA = '=HYPERLINK("http://evil","x")'


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["household", "edit", "H", "--notes", "\udcff"], "--notes"),
        (["issue", "new", "--title=a\udcffb"], "--title"),
        (["visit", "log", "H", "--note", "\udcc4\udce3"], "--note"),
        (["building", "add", "--compound", "\udcff"], "--compound"),
    ],
)
def test_bytes_that_are_not_utf8_are_refused_naming_the_option(
    run: Callable[..., Result], store: Store, store_path: Path, args: list[str], option: str
) -> None:
    before = snapshot(store_path)
    result = run(*args)
    assert result.exit_code == 2
    assert option in result.stderr and "GBK" in result.stderr
    assert snapshot(store_path) == before


@pytest.mark.parametrize("name", ["\x1b]0;pwned\x07", "a\x9bb", "abc\u202edef", "a\nb", "a\x00"])
def test_control_characters_are_refused_in_names(
    run: Callable[..., Result], store_path: Path, community: dict[str, str], name: str
) -> None:
    before = snapshot(store_path)
    result = run("household", "edit", community["household"], "--head", name)
    assert result.exit_code == 2
    assert "control character" in result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert snapshot(store_path) == before


def test_notes_keep_newlines_and_tabs_and_refuse_the_rest(
    run: Callable[..., Result], store: Store, store_path: Path, community: dict[str, str]
) -> None:
    ok = run("household", "edit", community["household"], "--notes", "first line\r\n\tsecond")
    assert ok.exit_code == 0, ok.stderr
    assert (
        register.get(Store(store_path), "household", community["household"])["notes"]
        == "first line\n\tsecond"
    )
    before = snapshot(store_path)
    bad = run("household", "edit", community["household"], "--notes", "bell\x07")
    assert bad.exit_code == 2 and "U+0007" in bad.stderr
    assert snapshot(store_path) == before


def test_a_ledger_cell_with_an_escape_is_refused(
    run: Callable[..., Result], store_path: Path, community: dict[str, str], tmp_path: Path
) -> None:
    ledger = tmp_path / "grids.csv"
    ledger.write_text("网格编码,网格名称\nTL-09,\x1b[2J第九网格\n", encoding="utf-8")
    before = snapshot(store_path)
    result = run("import", "grid-cells", str(ledger))
    assert result.exit_code == 2
    assert "control character" in result.stdout and "\x1b" not in result.output
    assert snapshot(store_path) == before


def test_control_sequences_already_in_the_store_are_shown_escaped(
    run: Callable[..., Result], store: Store, community: dict[str, str]
) -> None:
    """A store written before these rules (or by an older peer) still never drives the terminal."""
    with store.transaction() as tx:
        tx.update("households", community["household"], {"head": "\x1b]0;pwned\x07程金娇\u202e"})
    for args in (["household", "list"], ["household", "show", community["household"]]):
        result = run(*args)
        assert result.exit_code == 0, result.stderr
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\u202e" not in result.stdout
        assert "\\x1b]0;pwned\\x07" in result.stdout


def test_exports_and_lists_defuse_formulas_and_import_back_unchanged(
    run: Callable[..., Result], store_path: Path, community: dict[str, str], tmp_path: Path
) -> None:
    hid = community["household"]
    assert (
        run("household", "edit", hid, "--head", FORMULA, "--notes", "-1+1", "--add-tag", "@home").exit_code
        == 0
    )
    target = tmp_path / "h.csv"
    assert run("export", "households", "--show-pii", "-o", str(target)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    cells = [cell for row in rows for cell in row.values()]
    assert "'" + FORMULA in cells and "'-1+1" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]

    listed = run("household", "list", "--format", "csv").stdout
    assert "'" + FORMULA.replace('"', '""') in listed

    before = snapshot(store_path)
    again = run("import", "households", str(target))
    assert again.exit_code == 0, again.stderr
    assert snapshot(store_path) == before  # the marks came off: every row equals its record
    household = register.get(Store(store_path), "household", hid)
    assert household["head"] == FORMULA and household["notes"] == "-1+1" and "@home" in household["tags"]
