"""What a workbook may hold before the Excel reader sees it: read from the zip, never trusted.

The reader allocates the whole used area of a sheet at once: one cell at XFD1048576 is 17 billion
cells, and a 4.7 KB file aborted the process asking for 512 GB. So the zip's directory and the
sheets' XML are scanned first, in bounded chunks, and anything beyond a ledger is refused naming
the limit. The limits are documented in the README (Importing ledgers).
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from gridtool.errors import InputError

MAX_ROWS = 80_000
"""Rows in one sheet, title and header rows included. 30,000 households import in about 3 s and
0.3 GB, so 80,000 stay within the 10 s and 1 GB one command may take; a bigger ledger goes in parts."""
MAX_COLUMNS = 1_000
"""Columns in one sheet; a ledger has a few dozen."""
MAX_CELLS = 3_000_000
"""Rows x columns of a sheet's used area, as the reader allocates it (about 0.15 GB)."""
MAX_CELL_CHARS = 32_767
"""Excel's own limit for the text of one cell."""
MAX_UNCOMPRESSED = 200 * 1024 * 1024
"""All members of the zip together, unpacked (a 30,000-household export is 20 MB)."""
MAX_RATIO = 100
"""Unpacked / packed size of a member over 1 MB; sheets compress 5 to 10 times, bombs 1,000."""
_RATIO_FROM = 1024 * 1024
_CHUNK = 1024 * 1024
_MAX_RUN_BYTES = 1024 * 1024  # text this long between two tags is refused without decoding it

# Tags as Excel, WPS and openpyxl write them (r="" first); others, such as a namespace prefix or
# attributes in another order, take the general patterns below.
_ROW_R = re.compile(rb'<row r="([0-9]+)"')
_CELL_LETTERS = re.compile(rb'<c r="\$?([A-Z]{1,7})')
_CELL_DIGITS = re.compile(rb'<c r="\$?[A-Z]{1,7}\$?([0-9]+)"')
_ROW = re.compile(rb"<(?:[A-Za-z0-9_]+:)?row\b")
_ROW_NUMBER = re.compile(rb'<(?:[A-Za-z0-9_]+:)?row\b[^>]*?\sr="([0-9]+)"')
_CELL = re.compile(rb"<(?:[A-Za-z0-9_]+:)?c[\s/>]")
_CELL_REF = re.compile(rb'<(?:[A-Za-z0-9_]+:)?c\s[^>]*?\br="\$?([A-Za-z]{1,7})\$?([0-9]+)"')
_DIMENSION = re.compile(rb'<(?:[A-Za-z0-9_]+:)?dimension\b[^>]*?\sref="([^"]*)"')
_REF = re.compile(r"\$?([A-Za-z]{1,7})\$?([0-9]{1,9})")
_LONG_TEXT = re.compile(rb"<[^<]{%d,}" % (MAX_CELL_CHARS + 1))


class WorkbookTooLarge(InputError):
    """A workbook is beyond what a ledger holds; refused before it is read."""


def column_number(letters: str) -> int:
    """``A`` is 1, ``Z`` 26, ``AA`` 27, ``XFD`` 16384."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def check_workbook(path: Path) -> None:
    """Refuse (:class:`WorkbookTooLarge`) a workbook whose sheets or texts are beyond a ledger.

    Costs one pass over the unpacked sheets and shared strings, in 1 MB chunks: memory stays flat
    whatever the file claims.
    """
    with zipfile.ZipFile(path) as book:
        members = book.infolist()
        total = sum(m.file_size for m in members)
        if total > MAX_UNCOMPRESSED:
            raise _refused(path, "workbook.unpacked", size=_mb(total), max=_mb(MAX_UNCOMPRESSED))
        for member in members:
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > _RATIO_FROM and ratio > MAX_RATIO:
                raise _refused(path, "workbook.ratio", ratio=int(ratio), max=MAX_RATIO)
        for member in members:
            name = member.filename
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                _check_sheet(path, book, member)
            else:  # read through as well: a size the directory understates fails its checksum here
                for _ in _chunks_checked(path, book, member):
                    pass


def _check_sheet(path: Path, book: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    rows = columns = row_count = 0
    cells_in_row = 0  # cells of the current row that carry no position: the reader lines them up
    for chunk in _chunks_checked(path, book, member):
        if b"dimension" in chunk:
            for ref in _DIMENSION.findall(chunk):
                for letters, digits in _REF.findall(ref.decode("ascii", "replace")):
                    columns, rows = max(columns, column_number(letters)), max(rows, int(digits))
        row_numbers, letters, digits, tags, row_tags = _positions(chunk)
        if row_numbers:
            rows = max(rows, max(map(int, row_numbers)))
        if letters:
            columns = max(columns, max(column_number(c.decode()) for c in set(letters)))
            rows = max(rows, max(map(int, set(digits))))
        row_count += row_tags
        if tags > len(letters):  # some cells have no r="": count them row by row
            pieces = _ROW.split(chunk)
            cells_in_row += len(_CELL.findall(pieces[0]))
            for piece in pieces[1:]:
                columns = max(columns, cells_in_row)
                cells_in_row = len(_CELL.findall(piece))
            columns = max(columns, cells_in_row)
        rows = max(rows, row_count)
        if rows > MAX_ROWS:
            raise _refused(path, "workbook.rows", rows=rows, max=MAX_ROWS)
        if columns > MAX_COLUMNS:
            raise _refused(path, "workbook.columns", columns=columns, max=MAX_COLUMNS)
        if rows * columns > MAX_CELLS:
            raise _refused(path, "workbook.cells", cells=rows * columns, max=MAX_CELLS)


def _positions(chunk: bytes) -> tuple[list[bytes], list[bytes], list[bytes], int, int]:
    """Row numbers, cell column letters and row digits, and how many cell and row tags there are.

    The usual tags are matched by simple patterns (a fifth of the time); a chunk where they do not
    account for every tag is read again with the general ones.
    """
    if b":c " not in chunk and b":row" not in chunk:
        row_numbers = _ROW_R.findall(chunk)
        row_tags = chunk.count(b"<row")
        letters = _CELL_LETTERS.findall(chunk)
        if len(row_numbers) == row_tags and len(letters) == chunk.count(b"<c") - chunk.count(b"<col"):
            digits = _CELL_DIGITS.findall(chunk)
            if len(digits) == len(letters):
                return row_numbers, letters, digits, len(letters), row_tags
    refs = _CELL_REF.findall(chunk)
    letters = [c.upper() for c, _ in refs]
    digits = [d for _, d in refs]
    return _ROW_NUMBER.findall(chunk), letters, digits, len(_CELL.findall(chunk)), len(_ROW.findall(chunk))


def _chunks_checked(path: Path, book: zipfile.ZipFile, member: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member unpacked in chunks that end at a tag, each checked for a text too long for a cell."""
    carry = b""
    with book.open(member) as stream:
        while True:
            data = stream.read(_CHUNK)
            if not data:
                break
            chunk = carry + data
            cut = chunk.rfind(b"<")
            if cut <= 0:  # no tag yet: all of it is one text, still growing
                if len(chunk) > _MAX_RUN_BYTES:
                    raise _refused(path, "workbook.cell_text", max=MAX_CELL_CHARS)
                carry = chunk
                continue
            carry, chunk = chunk[cut:], chunk[:cut]
            _check_texts(path, chunk)
            yield chunk
    if carry:
        _check_texts(path, carry)
        yield carry


def _check_texts(path: Path, chunk: bytes) -> None:
    for run in _LONG_TEXT.findall(b"<" + chunk if chunk[:1] != b"<" else chunk):
        run = run[1:]
        if len(run) > _MAX_RUN_BYTES or len(html.unescape(run.decode("utf-8", "replace"))) > MAX_CELL_CHARS:
            raise _refused(path, "workbook.cell_text", max=MAX_CELL_CHARS)


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB"


def _refused(path: Path, key: str, **params: object) -> WorkbookTooLarge:
    return WorkbookTooLarge(key, path=path.name, **params)
