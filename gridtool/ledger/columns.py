"""Which column is which: the header aliases shipped in ``data/header_aliases.json``.

Offices name their columns differently (户主姓名 / 户主 / 姓名), put title rows above them and mark
required ones with ``*``; this module finds the header row and maps each column to a field, and
keeps every column it does not know so nothing a worker typed is silently dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

from gridtool.i18n import t
from gridtool.ledger.sheets import LedgerError, Sheet

HEADER_SCAN_ROWS = 30
# Fields a ledger must have a column for; a tuple offers alternatives (the address column holds
# building, unit and room at once).
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "grid_cell": (("code",), ("name",)),
    "building": (("compound",), ("number",)),
    "lead": (("name",),),
    "household": (("building", "address"), ("unit", "address"), ("room", "address"), ("head",)),
    "issue": (("title",),),
}
_BRACKETED = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]$")
_SPACES = re.compile(r"\s+")


@cache
def _table() -> dict[str, Any]:
    import orjson

    from gridtool.paths import data_file

    return orjson.loads(data_file("header_aliases.json").read_bytes())


def normalize_header(text: str) -> str:
    """The form headers are compared in: NFKC, no spaces, lower case, no ``*`` marks."""
    text = unicodedata.normalize("NFKC", text)
    text = _SPACES.sub("", text).lower()
    return text.strip("*※")


@cache
def aliases(kind: str) -> dict[str, str]:
    """Normalized header -> field, for one kind of record."""
    out: dict[str, str] = {}
    for field, names in _table()[kind].items():
        for name in (*names["zh"], *names["en"]):
            out.setdefault(normalize_header(name), field)
    return out


def fields(kind: str) -> list[str]:
    """The fields of a kind in the order exports write them (hidden ``_`` fields left out)."""
    return [f for f in _table()[kind] if not f.startswith("_") and (f != "address" or kind == "issue")]


def export_header(kind: str, field: str, lang: str) -> str:
    return _table()[kind][field][lang][0]


def field_for(kind: str, header: str) -> str | None:
    table = aliases(kind)
    key = normalize_header(header)
    if not key:
        return None
    found = table.get(key)
    if found is None:
        trimmed = _BRACKETED.sub("", key)
        if trimmed != key:
            found = table.get(trimmed)
    return found


@dataclass
class Column:
    index: int
    header: str  # as written in the file
    field: str | None  # None: unknown, kept in extras


@dataclass
class Header:
    row: int  # index into Sheet.rows
    columns: list[Column]
    unknown: list[str]
    doubled: list[str]  # columns naming a field an earlier column already gave

    def by_field(self) -> dict[str, Column]:
        return {c.field: c for c in self.columns if c.field}


def find_header(sheet: Sheet, kind: str) -> Header | None:
    """The row among the first few that names the most known fields (title rows name none)."""
    best: tuple[int, int] | None = None
    for index, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        known = {f for f in (field_for(kind, c) for c in row if c) if f and not f.startswith("_")}
        if len(known) >= 2 and (best is None or len(known) > best[1]):
            best = (index, len(known))
    if best is None:
        return None
    columns, unknown, doubled = [], [], []
    seen: set[str] = set()
    header_cells = sheet.rows[best[0]]
    blank = [i for i, text in enumerate(header_cells) if not text.strip()]
    for index, text in enumerate(header_cells):
        header = text.strip()
        if not header:
            continue
        field = field_for(kind, header)
        if field in seen and not field.startswith("_"):
            doubled.append(header)  # kept as an extra column, like an unknown one
            field = None
        elif field is None:
            unknown.append(header)
        else:
            seen.add(field)
        columns.append(Column(index, header, field))
    for index in _unnamed_with_data(sheet, best[0], blank, len(header_cells)):
        label = t("ledger.unnamed_column", letter=column_letter(index))
        unknown.append(label)  # data under no header is kept and reported, never dropped
        columns.append(Column(index, label, None))
    return Header(best[0], columns, unknown, doubled)


def _unnamed_with_data(sheet: Sheet, header_row: int, blank: list[int], width: int) -> list[int]:
    """Columns with a blank header (or past the header's end) that hold something below it."""
    found: set[int] = set()
    for cells in sheet.rows[header_row + 1 :]:
        for i in blank:
            if i < len(cells) and cells[i].strip():
                found.add(i)
        for i in range(width, len(cells)):
            if cells[i].strip():
                found.add(i)
    return sorted(found)


def column_letter(index: int) -> str:
    """Excel's name for a column: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def check_required(sheet: Sheet, kind: str, header: Header, lang: str) -> None:
    present = {c.field for c in header.columns if c.field}
    missing = [names for names in REQUIRED[kind] if not present & set(names)]
    if missing:
        raise LedgerError(
            "ledger.missing_columns",
            where=where(sheet),
            columns="、".join(export_header(kind, names[0], lang) for names in missing),
            headers="、".join(c.header for c in header.columns),
        )


def expected_headers(kind: str, lang: str) -> str:
    return "、".join(export_header(kind, names[0], lang) for names in REQUIRED[kind])


def where(sheet: Sheet) -> str:
    """How messages name a table: the file, and the sheet when a workbook has several."""
    if len(sheet.sheet_names) > 1 or (sheet.sheet_names and sheet.name != sheet.source):
        return f"{sheet.source} [{sheet.name}]"
    return sheet.source


# -- members in one cell ------------------------------------------------------------------------


def member_spec(member: dict[str, Any]) -> str:
    """``name,ID number,relation`` plus birth date and phone when known: one member in a cell."""
    parts = [
        str(member.get("name") or ""),
        str(member.get("id_number") or ""),
        str(member.get("relation") or ""),
    ]
    for key in ("birth_date", "phone"):
        if member.get(key):
            parts.append(str(member[key]))
    return ",".join(parts)
