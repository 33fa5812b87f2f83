"""Reading and writing the files ledgers (台账) arrive in: CSV in any encoding Excel uses, .xlsx, JSON.

Everything is read into a :class:`Sheet` of text cells whose row numbers are the ones Excel shows,
so every message can point at the cell a worker has to fix.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gridtool.errors import InputError
from gridtool.i18n import t
from gridtool.oserrors import os_reason

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
# A float this large has lost digits: Excel keeps 15 significant digits, an ID number has 18.
TOO_LONG_FOR_A_NUMBER = 1e15
ENGINES = ("calamine", "openpyxl")


class LedgerError(InputError):
    """The file as a whole cannot be imported (encoding, format, no header row...)."""


@dataclass
class Sheet:
    """One table of text cells. ``rows[i]`` is shown to the user as row ``i + numbering``."""

    name: str
    rows: list[list[str]]
    source: str
    encoding: str | None = None
    numbering: int = 1  # Excel and CSV rows count from 1; JSON records count from 1 after the header
    unit: str = "row"  # "row" or "record" (JSON), for messages
    sheet_names: list[str] = field(default_factory=list)

    def number(self, index: int) -> int:
        return index + self.numbering


def detect_format(path: Path, head: bytes) -> str:
    """``xlsx``, ``json``, ``jsonl`` or ``csv``: by content first (a renamed workbook is still one)."""
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if head.startswith(XLS_MAGIC):
        raise LedgerError("ledger.xls", path=path.name)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return "jsonl"
    if suffix == ".json":
        return "json"
    if suffix in (".xlsx", ".xlsm"):
        raise LedgerError("ledger.bad_xlsx", path=path.name, reason=t("os.not_zip"))
    return "csv"


def decode(raw: bytes, name: str) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was in: UTF-8 (with or without BOM) or GB18030.

    GB18030 is a superset of GBK and GB2312, which Excel on Chinese Windows writes as "CSV".
    Anything else is refused, naming the byte that made no sense, rather than imported as mojibake.
    """
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[3:].decode("utf-8"), "UTF-8 BOM"
        except UnicodeDecodeError as bad:
            raise _encoding_error(name, raw, bad.start + 3) from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise LedgerError("ledger.utf16", path=name)
    if b"\x00" in raw[:4096]:
        raise LedgerError("ledger.binary", path=name)
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as bad:
        utf8_error = bad.start
    try:
        return raw.decode("gb18030"), "GB18030"
    except UnicodeDecodeError:
        raise _encoding_error(name, raw, utf8_error) from None


def _encoding_error(name: str, raw: bytes, offset: int) -> LedgerError:
    line = raw.count(b"\n", 0, offset) + 1
    return LedgerError("ledger.encoding", path=name, byte=f"0x{raw[offset]:02X}", line=line)


def _delimiter(text: str) -> str:
    """Tab when most lines have one: counting characters would take a tab-separated ledger whose
    members cells are full of commas for CSV."""
    lines = [line for line in text[:20000].splitlines()[:50] if line.strip()]
    tabbed = sum("\t" in line for line in lines)
    return "\t" if lines and tabbed * 2 >= len(lines) else ","


def read_csv(raw: bytes, name: str) -> Sheet:
    text, encoding = decode(raw, name)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as bad:
        raise LedgerError("ledger.bad_csv", path=name, line=reader.line_num, reason=str(bad)) from None
    opened = _unclosed_quote(text, delimiter) if _may_hold_open_quote(text, rows) else 0
    if opened:  # read leniently, the rest of the file would be one cell: one person's name
        raise LedgerError("ledger.open_quote", path=name, line=opened)
    from gridtool.csvcells import may_hold_marks, unneutralize

    if may_hold_marks(text):  # our own export: its defused formula cells come back as they were
        rows = [[unneutralize(cell) for cell in row] for row in rows]
    return Sheet(name=name, rows=rows, source=name, encoding=encoding)


def _may_hold_open_quote(text: str, rows: list[list[str]]) -> bool:
    """Whether the lenient read may have swallowed the file's tail into one quoted cell: then its
    last cell runs over a line break, or the quote opens on the last line. Saves re-reading every
    well-formed ledger."""
    if '"' not in text or not rows:
        return False
    tail = text.rstrip("\r\n").rpartition("\n")[2]
    return '"' in tail or any("\n" in cell or "\r" in cell for cell in rows[-1])


def _unclosed_quote(text: str, delimiter: str) -> int:
    """The line where a quote that is never closed opens, or 0."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    last = 0
    try:
        for _ in reader:
            last = reader.line_num
    except csv.Error as bad:
        if "end of data" in str(bad):
            return last + 1
    return 0


def cell_text(value: Any) -> str:
    """A workbook cell as the text a worker sees (502.0 -> "502"; a date -> 2024-05-01).

    A number too long for Excel to hold exactly (an ID number typed into a number cell) is shown
    the way Excel shows it, 4.30105E+17, so the validators explain what happened.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if abs(value) >= TOO_LONG_FOR_A_NUMBER:
            return f"{float(value):.5E}"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _texts(row: Iterable[Any]) -> list[str]:
    return [c if type(c) is str else cell_text(c) for c in row]


def read_xlsx(path: Path, sheet: str | None, engine: str = "calamine") -> list[Sheet]:
    """The named sheet, or every sheet in order (the caller picks the first that has a header)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    from gridtool.ledger.bounds import check_workbook

    try:
        check_workbook(path)  # before the reader: it allocates whatever the sheet claims
        if engine == "calamine":
            return _read_calamine(path, sheet)
        return _read_openpyxl(path, sheet)
    except InputError:
        raise
    except Exception as bad:  # zip, XML and Rust errors alike: the file is not a usable workbook
        reason = t("os.not_zip") if "zip" in str(bad).lower() else os_reason(bad)[:120]
        raise LedgerError("ledger.bad_xlsx", path=path.name, reason=reason) from None


def _pick(names: list[str], sheet: str | None, path: Path) -> list[str]:
    if sheet is None:
        return names
    if sheet in names:
        return [sheet]
    raise LedgerError("ledger.no_sheet", path=path.name, sheet=sheet, sheets="、".join(names))


def _read_calamine(path: Path, sheet: str | None) -> list[Sheet]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    names = list(book.sheet_names)
    sheets = []
    for name in _pick(names, sheet, path):
        # skip_empty_area=False keeps the blank rows above the data, so row numbers match Excel's
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        sheets.append(Sheet(name, [_texts(r) for r in rows], path.name, sheet_names=names))
    return sheets


def _read_openpyxl(path: Path, sheet: str | None) -> list[Sheet]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        names = list(book.sheetnames)
        sheets = []
        for name in _pick(names, sheet, path):
            rows = book[name].iter_rows(min_row=1, values_only=True)
            sheets.append(Sheet(name, [_texts(r) for r in rows], path.name, sheet_names=names))
        return sheets
    finally:
        book.close()


def _json_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            from gridtool.ledger.columns import member_spec

            return ";".join(member_spec(v) for v in value)
        return "、".join(_json_cell(v) for v in value)
    if isinstance(value, int):  # exact in JSON, unlike Excel's numbers: an ID number stays whole
        return str(value)
    return cell_text(value)


def read_json(raw: bytes, name: str, lines: bool) -> Sheet:
    """Objects (a list, ``{"records": [...]}``, or one per line) as rows under a header of their keys.

    A nested ``extras`` object becomes columns of its own, as it was in the sheet it came from.
    """
    import orjson

    try:
        text, _ = decode(raw, name)
        if lines:
            objects = [orjson.loads(line) for line in text.splitlines() if line.strip()]
        else:
            data = orjson.loads(text)
            if isinstance(data, dict):
                lists = [v for v in data.values() if isinstance(v, list)]
                data = lists[0] if len(lists) == 1 else [data]
            objects = data
    except orjson.JSONDecodeError as bad:
        raise LedgerError("ledger.bad_json", path=name, reason=str(bad)[:120]) from None
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        raise LedgerError("ledger.bad_json", path=name, reason="expected a list of objects")
    header: dict[str, None] = {}
    flat = []
    for obj in objects:
        row = {k: v for k, v in obj.items() if k != "extras"}
        extras = obj.get("extras")
        if isinstance(extras, dict):
            row.update(extras)
        flat.append(row)
        header.update(dict.fromkeys(row))
    columns = list(header)
    rows = [columns] + [[_json_cell(row.get(c)) for c in columns] for row in flat]
    return Sheet(name=name, rows=rows, source=name, encoding="UTF-8", numbering=0, unit="record")


def read_file(
    path: str | os.PathLike[str], sheet: str | None = None, engine: str = "calamine"
) -> list[Sheet]:
    """Every candidate sheet of a ledger file (one for CSV and JSON)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise LedgerError("ledger.missing", path=str(p)) from None
    except OSError as bad:
        raise LedgerError("ledger.unreadable", path=str(p), reason=os_reason(bad)) from None
    kind = detect_format(p, raw[:8])
    if kind == "xlsx":
        return read_xlsx(p, sheet, engine)
    if kind in ("json", "jsonl"):
        return [read_json(raw, p.name, lines=kind == "jsonl")]
    return [read_csv(raw, p.name)]


# -- writing ------------------------------------------------------------------------------------


def check_target(path: str | os.PathLike[str], store: Any = None) -> Path:
    """Refuse, before anything is read or written, a file that cannot be written or that is one of
    the store's own files (an export written over the store would destroy it)."""
    target = Path(path)
    if store is not None and store.owns(target):
        raise LedgerError("ledger.target_is_store", path=str(target))
    folder = target.parent
    if target.is_dir():
        raise LedgerError("ledger.cannot_write", path=str(target), reason=os_reason(errno.EISDIR))
    if not folder.is_dir():
        raise LedgerError("ledger.cannot_write", path=str(target), reason=os_reason(errno.ENOENT))
    if not os.access(folder, os.W_OK):
        raise LedgerError("ledger.cannot_write", path=str(target), reason=os_reason(errno.EACCES))
    return target


def save(path: Path, data: bytes) -> None:
    """Write an export or rejects file whole, mode 0600 (it holds personal data), through the
    store's own atomic write, so a failure leaves no half file and never a half-overwritten one."""
    from gridtool.store import write_private

    try:
        write_private(path, data)
    except OSError as exc:
        raise LedgerError("ledger.cannot_write", path=str(path), reason=os_reason(exc)) from None


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """CSV as Excel writes it, formula cells defused (:mod:`gridtool.csvcells`)."""
    from gridtool.csvcells import write_rows

    buf = io.StringIO()
    write_rows(buf, rows)
    return buf.getvalue()


def write_csv(path: Path, rows: Iterable[Sequence[Any]]) -> None:
    """UTF-8 with a BOM: without it, Excel on Chinese Windows reads the file as GBK and garbles it."""
    save(path, codecs.BOM_UTF8 + csv_text(rows).encode("utf-8"))


def write_xlsx(
    path: Path, sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[int] = ()
) -> None:
    """A workbook whose text cells are formatted as text (``@``), so Excel keeps ID numbers,
    phones and 0502 as typed instead of turning them into numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from gridtool.validate import visible

    book = Workbook(write_only=True)
    title = "".join("_" if c in "/\\?*[]:" else c for c in sheet)[:31]  # Excel forbids these in names
    ws = book.create_sheet(title=title or "Sheet1")
    for n, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(n)].width = width
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    head = []
    for title in header:
        cell = WriteOnlyCell(ws, value=visible(title))
        cell.font = bold
        head.append(cell)
    ws.append(head)
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(ws, value=visible(value))  # a workbook cannot hold control characters
                cell.data_type = "s"  # text, even when it starts with "=": never a formula
                cell.number_format = "@"
                cells.append(cell)
            else:
                cells.append(value)
        ws.append(cells)
    buf = io.BytesIO()
    book.save(buf)
    save(path, buf.getvalue())
