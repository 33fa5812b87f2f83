"""Reading the files ledgers arrive in: encodings Excel writes, workbooks with title rows, JSON."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from gridtool.ledger.columns import field_for, find_header
from gridtool.ledger.sheets import LedgerError, cell_text, read_file
from gridtool.register import parse_members

HEADER = ["所属网格", "小区", "楼栋", "单元", "房号", "户主姓名", "身份证号", "联系电话"]
ROW = ["TL-03", "湘离小区", "5", "2", "0502", "程金娇", "43010519790312002X", "13512345678"]


def _csv(rows: list[list[str]]) -> str:
    return "\r\n".join(",".join(r) for r in rows) + "\r\n"


def make_xlsx(path: Path, rows: list[list[object]], title: str | None = None, sheet: str = "住户") -> Path:
    """A workbook as offices make them: a merged title row, then the header, then the data."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = sheet
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(r) for r in rows))
        ws.append([])
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("encoding", "prefix", "expected"),
    [
        ("utf-8", b"", "UTF-8"),
        ("utf-8", codecs.BOM_UTF8, "UTF-8 BOM"),
        ("gbk", b"", "GB18030"),
        ("gb18030", b"", "GB18030"),
    ],
)
def test_csv_in_every_encoding_excel_writes_reads_the_same(
    tmp_path: Path, encoding: str, prefix: bytes, expected: str
) -> None:
    path = tmp_path / "台账.csv"
    path.write_bytes(prefix + _csv([HEADER, ROW]).encode(encoding))
    [sheet] = read_file(path)
    assert sheet.encoding == expected
    assert sheet.rows == [HEADER, ROW]


def test_a_file_in_no_known_encoding_is_refused_naming_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("户主\n".encode() + "Jos\u00e9,ok\n".encode("latin-1"))
    with pytest.raises(LedgerError) as refused:
        read_file(path)
    assert refused.value.key == "ledger.encoding"
    assert refused.value.params["byte"] == "0xE9" and refused.value.params["line"] == 2
    assert "GBK" in refused.value.message() and "UTF-8" in refused.value.message()


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (codecs.BOM_UTF16_LE + "户主".encode("utf-16-le"), "ledger.utf16"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "ledger.xls"),
        (b"abc\x00\x01\x02", "ledger.binary"),
    ],
)
def test_files_that_are_not_text_or_xlsx_are_refused_with_the_reason(
    tmp_path: Path, data: bytes, key: str
) -> None:
    path = tmp_path / "ledger.csv"
    path.write_bytes(data)
    with pytest.raises(LedgerError) as refused:
        read_file(path)
    assert refused.value.key == key


def test_tab_separated_text_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "ledger.txt"
    path.write_text("\n".join("\t".join(r) for r in (HEADER, ROW)), encoding="utf-8")
    assert read_file(path)[0].rows == [HEADER, ROW]


def test_tab_separated_members_full_of_commas_are_still_tab_separated(tmp_path: Path) -> None:
    members = ";".join(f"成员{n},4301051979031200{n}X,子" for n in range(8))
    rows = [["住户台账"], [*HEADER, "家庭成员"], *([*ROW, members] for _ in range(3))]
    path = tmp_path / "ledger.txt"
    path.write_text("\n".join("\t".join(r) for r in rows), encoding="utf-8")
    assert read_file(path)[0].rows[1:] == rows[1:]


@pytest.mark.parametrize("engine", ["calamine", "openpyxl"])
def test_xlsx_keeps_excel_row_numbers_below_merged_title_rows(tmp_path: Path, engine: str) -> None:
    numeric = [*ROW[:4], 502, "程金娇", 4.30105197903120e17, 13512345678]
    path = make_xlsx(tmp_path / "台账.xlsx", [HEADER, numeric], title="铁园社区住户台账")
    [sheet] = read_file(path, engine=engine)
    assert sheet.name == "住户"
    assert sheet.rows[0][0] == "铁园社区住户台账"  # row 1 in Excel
    header = find_header(sheet, "household")
    assert header is not None and sheet.number(header.row) == 3
    data = sheet.rows[3]
    assert data[4] == "502"  # the room lost its zero: the importer decides what to do
    assert data[6] == "4.30105E+17"  # shown as Excel shows it, so the validator explains it
    assert data[7] == "13512345678"


def test_a_named_sheet_that_does_not_exist_is_refused_listing_the_sheets(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "a.xlsx", [HEADER, ROW])
    with pytest.raises(LedgerError) as refused:
        read_file(path, sheet="楼栋")
    assert refused.value.key == "ledger.no_sheet" and "住户" in refused.value.message()


def test_a_renamed_workbook_is_still_read_as_one(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "a.xlsx", [HEADER, ROW])
    renamed = path.rename(tmp_path / "a.csv")
    assert read_file(renamed)[0].rows[1][5] == "程金娇"


def test_json_records_and_lines_become_rows_under_their_keys(tmp_path: Path) -> None:
    record = {
        "grid_cell": "TL-03",
        "unit": 2,
        "members": [{"name": "程金娇", "id_number": "43010519790312002X", "relation": "户主"}],
        "tags": ["独居老人", "低保户"],
        "extras": {"楼层": "5"},
    }
    (tmp_path / "a.json").write_text('{"households": [' + _json(record) + "]}", encoding="utf-8")
    (tmp_path / "a.jsonl").write_text(_json(record) + "\n\n" + _json(record) + "\n", encoding="utf-8")
    [whole] = read_file(tmp_path / "a.json")
    [lines] = read_file(tmp_path / "a.jsonl")
    assert whole.rows[0] == ["grid_cell", "unit", "members", "tags", "楼层"]
    assert whole.rows[1] == ["TL-03", "2", "程金娇,43010519790312002X,户主", "独居老人、低保户", "5"]
    assert len(lines.rows) == 3 and whole.number(1) == 1 and whole.unit == "record"


def test_a_json_id_number_written_as_a_number_stays_whole(tmp_path: Path) -> None:
    (tmp_path / "n.json").write_text('[{"id_number": 430105197001011318, "floor": 5.0}]', encoding="utf-8")
    [sheet] = read_file(tmp_path / "n.json")
    assert sheet.rows[1] == ["430105197001011318", "5"]  # JSON numbers are exact, unlike Excel's


def _json(value: object) -> str:
    import orjson

    return orjson.dumps(value).decode()


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("户主姓名", "head"),
        ("*户主", "head"),
        (" 联系 电话 ", "phone"),
        ("手机号码（必填）", "phone"),
        ("公民身份号码", "id_number"),
        ("Phone", "phone"),
        ("ＩＤ ｎｕｍｂｅｒ", "id_number"),  # full-width letters typed on a Chinese keyboard
        ("人员类别", "tags"),
        ("门牌号", "room"),
        ("序号", "_serial"),
        ("楼层", None),
    ],
)
def test_header_aliases_ignore_spaces_width_marks_and_notes(header: str, field: str | None) -> None:
    assert field_for("household", header) == field


def test_no_header_text_maps_to_two_fields_of_one_kind() -> None:
    import orjson

    from gridtool.ledger.columns import normalize_header
    from gridtool.paths import data_file

    table = orjson.loads(data_file("header_aliases.json").read_bytes())
    for kind, columns in table.items():
        if kind.startswith("_"):
            continue
        seen: dict[str, str] = {}
        for field, names in columns.items():
            for name in (*names["zh"], *names["en"]):
                key = normalize_header(name)
                assert seen.setdefault(key, field) == field, f"{kind}: {name} is {seen[key]} and {field}"


def test_the_header_row_is_the_one_naming_most_fields_not_the_title() -> None:
    from gridtool.ledger.sheets import Sheet

    rows = [
        ["住户台账（户主、电话）"],
        ["填表人：刘丹", "", "日期"],
        ["序号", *HEADER, "楼层"],
        ["1", *ROW, "5"],
    ]
    header = find_header(Sheet("s", rows, "s.csv"), "household")
    assert header is not None and header.row == 2
    assert header.unknown == ["楼层"]


def test_members_in_one_cell_with_birth_dates_and_phones() -> None:
    assert parse_members("张三,43010519790312002X,户主；李四,,子,2010-05-01\n王五,,配偶,13512345678") == [
        {"name": "张三", "id_number": "43010519790312002X", "relation": "户主"},
        {"name": "李四", "id_number": "", "relation": "子", "birth_date": "2010-05-01"},
        {"name": "王五", "id_number": "", "relation": "配偶", "phone": "13512345678"},
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (502.0, "502"),
        (2, "2"),
        (1.5, "1.5"),
        (4.30105197903120e17, "4.30105E+17"),
        (True, "true"),
    ],
)
def test_cells_read_as_the_text_excel_shows(value: object, text: str) -> None:
    assert cell_text(value) == text


def test_a_second_column_for_the_same_field_is_kept_as_an_extra_column() -> None:
    from gridtool.ledger.sheets import Sheet

    header = find_header(Sheet("s", [["户主", "房号", "姓名", "序号", "#"]], "s.csv"), "household")
    assert header is not None
    assert header.doubled == ["姓名"] and header.unknown == []
    assert [c.field for c in header.columns] == ["head", "room", None, "_serial", "_serial"]


def test_a_quote_never_closed_is_refused_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "open.csv"
    path.write_text('所属网格,户主姓名,备注\nTL-03,张三,"未闭合\nTL-03,李四,正常\n', encoding="utf-8")
    with pytest.raises(LedgerError) as refused:
        read_file(path)
    assert refused.value.key == "ledger.open_quote" and refused.value.params["line"] == 2
    fine = tmp_path / "fine.csv"
    fine.write_text('户主姓名,备注\n张三,"有,逗号"\n', encoding="utf-8")
    assert read_file(fine)[0].rows[1] == ["张三", "有,逗号"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('户主姓名,备注\n张三,正常\n李四,"未闭合', 3),  # on the last line, no line break after it
        ('户主姓名,备注\n张三,"未闭合\n', 2),
        ('户主姓名,备注\n张三,"两行\n的备注"\n李四,正常\n', 0),  # a closed cell over two lines
        ('户主姓名,备注\n张三,"有,逗号"\n李四,"最后一行"', 0),
    ],
)
def test_only_a_quote_left_open_is_refused(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(text, encoding="utf-8")
    if line:
        with pytest.raises(LedgerError) as refused:
            read_file(path)
        assert refused.value.params["line"] == line
    else:
        assert read_file(path)[0].rows[-1][0] == "李四"
