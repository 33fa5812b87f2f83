"""The one way gridtool writes CSV and TSV: cells a spreadsheet would run as formulas are defused.

A name typed as ``=HYPERLINK("http://evil","x")`` is a live formula when Excel or WPS opens an
export. As OWASP recommends, a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading ``'`` (plain numbers such as ``-5`` or ``+8613800138000`` stay as they are),
and reading a CSV takes that mark off again, so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MARK = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MARKED = re.compile(r"'[=+\-@\t\r]")


def neutralize(value: Any) -> Any:
    """``value`` as a spreadsheet will take it as text, never as a formula."""
    if type(value) is not str or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return MARK + value


def unneutralize(text: str) -> str:
    """A cell read back from a CSV: the mark :func:`neutralize` added is taken off."""
    if _MARKED.match(text) and not _PLAIN_NUMBER.fullmatch(text[1:]):  # we never mark a number
        return text[1:]
    return text


def may_hold_marks(text: str) -> bool:
    """Whether a file's text has any marked cell at all (most do not: skip the per-cell pass)."""
    return _MARKED.search(text) is not None


def write_rows(
    out: IO[str], rows: Iterable[Sequence[Any]], *, lineterminator: str = "\r\n", delimiter: str = ","
) -> None:
    """Every row through :func:`neutralize`, as CSV (or TSV with ``delimiter="\\t"``)."""
    writer = csv.writer(out, lineterminator=lineterminator, delimiter=delimiter)
    writer.writerows([neutralize(cell) for cell in row] for row in rows)
