"""Small workbooks built to exhaust the Excel reader, written by hand as the zip they are."""

from __future__ import annotations

import zipfile
from pathlib import Path

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
    '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
    'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxml'
    'formats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)


def workbook(path: Path, rows_xml: str, strings: list[str] = (), dimension: str | None = None) -> Path:
    """A one-sheet workbook whose ``<sheetData>`` is ``rows_xml``, with shared ``strings``."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        f'<?xml version="1.0"?><worksheet xmlns="{_MAIN}">{dim}<sheetData>{rows_xml}</sheetData></worksheet>'
    )
    sst = f'<?xml version="1.0"?><sst xmlns="{_MAIN}">' + "".join(f"<si><t>{s}</t></si>" for s in strings)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", _TYPES)
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets><sheet name="Sheet1" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/worksheet" '
            f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{_REL}/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>',
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/sharedStrings.xml", sst + "</sst>")
    return path


HEADER = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>网格编码</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>网格名称</t></is></c></row>'
)
SECOND = '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'


def hostile_workbooks(folder: Path) -> dict[str, Path]:
    """Each shape the issue found, and the ones next to it, as small files."""
    one = '<row r="{r}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row>'
    rless = "<row>" + '<c t="inlineStr"><is><t>x</t></is></c>' * 2000 + "</row>"
    return {
        "corner": workbook(folder / "corner.xlsx", HEADER + one.format(r=1048576, ref="XFD1048576")),
        "zz": workbook(folder / "zz.xlsx", HEADER + one.format(r=300000, ref="ZZ300000")),
        "wide_and_long": workbook(folder / "area.xlsx", HEADER + one.format(r=5000, ref="ALL5000")),
        "lying_dimension": workbook(folder / "dim.xlsx", HEADER, dimension="A1:XFD1048576"),
        "cell_not_in_its_row": workbook(folder / "cell.xlsx", HEADER + one.format(r=2, ref="C1048000")),
        "no_positions": workbook(folder / "rless.xlsx", HEADER + rless),
        "long_string": workbook(folder / "long.xlsx", HEADER + SECOND, ["长" * 40_000]),
        "bomb": workbook(
            folder / "bomb.xlsx",
            HEADER + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>',
            ["A" * 210_000_000],
        ),
    }
