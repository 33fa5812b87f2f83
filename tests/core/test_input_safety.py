"""The shared text validator, the terminal escaping and the formula defusing, as properties."""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridtool.csvcells import neutralize, unneutralize, write_rows
from gridtool.validate import Invalid, check_text, visible

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
hostile = st.text(
    st.one_of(st.characters(), st.sampled_from("\x1b\x07\r\n\t\u202e\u2066\x9b\udcff=+-@'\"")), max_size=60
)


@given(hostile, st.booleans())
def test_check_text_returns_only_safe_text_or_refuses(value: str, multiline: bool) -> None:
    try:
        text = check_text(value, "name", multiline=multiline)
    except Invalid as bad:
        assert bad.field == "name"
        assert bad.key in ("invalid.control_char", "invalid.not_utf8", "invalid.too_long")
        return
    assert CONTROL.search(text) is None
    assert multiline or ("\n" not in text and "\t" not in text.strip())


def test_check_text_names_the_character_and_keeps_paragraphs() -> None:
    with pytest.raises(Invalid) as refused:
        check_text("a\x1bb", "title")
    assert refused.value.params == {"char": "U+001B"} and refused.value.field == "title"
    assert check_text(" one\r\n\ttwo ", "notes", multiline=True) == "one\n\ttwo"
    with pytest.raises(Invalid, match=r"invalid\.too_long"):
        check_text("x" * 201, "name")


@given(hostile)
def test_visible_leaves_no_control_sequence(text: str) -> None:
    assert CONTROL.search(visible(text)) is None


def test_visible_keeps_only_our_own_colours() -> None:
    ours = "\x1b[31mred\x1b[0m"
    assert visible(ours, keep_colour=True) == ours
    assert visible("\x1b]0;t\x07" + ours, keep_colour=True) == "\\x1b]0;t\\x07" + ours
    assert "\x1b" not in visible(ours)


cells = hostile.map(lambda s: s.replace("\udcff", "")).filter(lambda s: unneutralize(s) == s)


@given(st.lists(st.lists(cells, min_size=1, max_size=4), max_size=5))
def test_a_csv_never_starts_a_cell_with_a_formula_and_reads_back_unchanged(rows: list[list[str]]) -> None:
    buf = io.StringIO()
    write_rows(buf, rows)
    read = list(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    for cell in (c for row in read for c in row):
        assert neutralize(cell) == cell or cell.startswith("'")
    assert [[unneutralize(c) for c in row] for row in read] == rows


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-5", "-5"),
        ("+8613800138000", "+8613800138000"),
        ("-1+1", "'-1+1"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (-3, -3),
    ],
)
def test_neutralize(cell: object, written: object) -> None:
    assert neutralize(cell) == written
