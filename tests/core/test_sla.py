"""The time-limit table: loading, validation, precedence and deadlines."""

from __future__ import annotations

import json
import string
import warnings
from datetime import datetime
from pathlib import Path

import pytest

from gridtool import i18n, sla, workdays
from gridtool.errors import InputError
from gridtool.paths import data_file
from gridtool.sla import Limit, label, load_sla, sla_path
from gridtool.workdays import CalendarFallbackWarning

HEADER = "category,urgency,scale,limit,unit,responsible\n"


@pytest.fixture(autouse=True)
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty config dir of our own, so the user's real sla.csv is never read."""
    folder = tmp_path / "config"
    folder.mkdir()
    monkeypatch.setenv("GRIDTOOL_CONFIG_DIR", str(folder))
    i18n.set_language("en")
    workdays.clear_cache()
    workdays._warned_years.clear()
    yield folder
    workdays.clear_cache()
    workdays._warned_years.clear()
    i18n.set_language(None)


def write_table(path: Path, body: str, encoding: str = "utf-8") -> Path:
    path.write_text(HEADER + body, encoding=encoding)
    return path


def test_the_shipped_table_covers_every_category_and_urgency():
    table = load_sla()
    assert table.path == data_file("sla.csv")
    assert table.categories() == (
        "repair",
        "dispute",
        "environment",
        "safety",
        "elderly_care",
        "policy",
        "other",
    )
    assert table.urgencies() == ("urgent", "normal", "low")
    assert table.scales() == ("major", "minor", "private")
    for category in table.categories():
        for urgency in table.urgencies():
            for scale in (None, *table.scales()):
                limit = table.limit(category, urgency, scale)
                assert limit.amount > 0 and limit.unit in sla.UNITS and limit.responsible


def test_the_shipped_limits_are_the_agreed_ones():
    table = load_sla()
    assert table.limit("safety", "urgent") == Limit(7, "workhours", "社区网格员"), (
        "a working day of office hours"
    )
    assert table.limit("repair", "normal") == Limit(3, "workdays", "物业")
    assert table.limit("dispute", "normal").amount == 10
    assert table.limit("policy", "normal").amount == 2

    def hours(limit: Limit) -> float:
        return limit.amount * 7 if limit.unit == "workdays" else limit.amount

    for category in table.categories():
        for urgency in table.urgencies():
            ordinary, major = table.limit(category, urgency), table.limit(category, urgency, "major")
            assert hours(major) >= hours(ordinary), f"{category}/{urgency}: major goes up, never quicker"


def test_the_exact_scale_beats_the_star_row(tmp_path):
    table = load_sla(
        write_table(
            tmp_path / "sla.csv",
            (
                "repair,normal,*,3,workdays,物业\n"
                "repair,normal,major,10,workdays,街道城建办\n"
                "repair,urgent,*,24,workhours,物业\n"
                "repair,urgent,major,48,workhours,街道城建办\n"
            ),
        )
    )
    assert table.limit("repair", "normal", "major") == Limit(10, "workdays", "街道城建办")
    assert table.limit("repair", "normal", "minor") == Limit(3, "workdays", "物业")
    assert table.limit("repair", "normal") == Limit(3, "workdays", "物业")
    assert table.limit("repair", "normal", "*") == Limit(3, "workdays", "物业")
    assert table.limit("repair", "urgent", "major").amount == 48
    assert [row.row for row in table.rows] == [2, 3, 4, 5]


def test_due_in_workdays_is_the_end_of_the_nth_working_day_after_the_report():
    table = load_sla()
    due = table.due(datetime(2026, 2, 12, 10, 15), "repair", "normal")
    assert due == datetime(2026, 2, 24, 23, 59, 59), "13 Feb, make-up Sat 14 Feb, then 24 Feb"
    assert table.due(datetime(2026, 3, 2, 23, 50), "policy", "normal") == datetime(2026, 3, 4, 23, 59, 59)


def test_due_in_workhours_skips_non_working_time():
    table = load_sla()
    assert table.due(datetime(2026, 3, 6, 17), "safety", "urgent") == datetime(2026, 3, 9, 17)
    assert table.due(datetime(2026, 9, 30, 17), "safety", "urgent", "major") == datetime(2026, 10, 8, 17)


def test_a_report_on_30_december_2026_is_due_in_2027():
    table = load_sla()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        due = table.due(datetime(2026, 12, 30, 9), "dispute", "normal")
        table.due(datetime(2026, 12, 31, 9), "repair", "low")
    assert due == datetime(2027, 1, 14, 23, 59, 59)
    assert [w.category for w in caught] == [CalendarFallbackWarning]


def test_unknown_category_urgency_or_scale_lists_the_known_ones():
    table = load_sla()
    with pytest.raises(InputError) as info:
        table.limit("parking", "normal")
    assert info.value.key == "sla.unknown"
    assert "parking" in str(info.value) and "repair, dispute" in str(info.value)
    assert "category" in str(info.value)
    with pytest.raises(InputError, match="urgent, normal, low"):
        table.limit("repair", "asap")
    with pytest.raises(InputError, match=r"major \(Major matter\), minor \(Minor matter\), private"):
        table.due(datetime(2026, 3, 2), "repair", "normal", "huge")


@pytest.mark.parametrize(
    ("body", "row", "needle"),
    [
        ("repair,normal,*,3,workdays,物业\nrepair,urgent,*,1,weeks,物业\n", 3, 'unit "weeks"'),
        ("repair,normal,*,0,workdays,物业\n", 2, "greater than 0"),
        ("repair,normal,*,-2,workdays,物业\n", 2, "greater than 0"),
        ("repair,normal,*,three,workdays,物业\n", 2, '"three" is not a number'),
        ("repair,normal,*,2.5,workdays,物业\n", 2, "whole number"),
        ("repair,normal,*,3,workdays\n", 2, 'column "responsible" is missing'),
        ("repair,normal,*,3,workdays,\n", 2, 'column "responsible" is empty'),
        ("repair,normal,*,3,workdays,物业,社区\n", 2, "more cells"),
        ("repair,normal,huge,3,workdays,物业\n", 2, 'scale "huge"'),
        ("维修,normal,*,3,workdays,物业\n", 2, "category"),
        ("repair,normal,*,3,workdays,物业\n\nrepair,normal,*,5,workdays,物业\n", 4, "same category"),
    ],
)
def test_a_bad_row_names_the_file_the_row_and_the_reason(tmp_path, body, row, needle):
    path = write_table(tmp_path / "sla.csv", body)
    with pytest.raises(InputError) as info:
        load_sla(path)
    error = info.value
    assert error.key == "sla.bad_row"
    assert error.params["row"] == row
    assert str(path) in str(error) and f"row {row}" in str(error) and needle in str(error)


def test_a_missing_header_column_is_reported_on_row_1(tmp_path):
    path = tmp_path / "sla.csv"
    path.write_text("category,urgency,scale,limit,responsible\nrepair,normal,*,3,物业\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_sla(path)
    assert info.value.params["row"] == 1
    assert 'column "unit" is missing' in str(info.value)


def test_every_category_and_urgency_needs_a_star_row(tmp_path):
    path = write_table(
        tmp_path / "sla.csv", ("repair,normal,*,3,workdays,物业\nsafety,urgent,*,24,workhours,社区网格员\n")
    )
    with pytest.raises(InputError) as info:
        load_sla(path)
    assert info.value.key == "sla.missing_default"
    assert "repair / urgent" in str(info.value)


def test_errors_are_shown_in_the_language_in_force_when_displayed(tmp_path):
    path = write_table(tmp_path / "sla.csv", "repair,normal,*,0,workdays,物业\n")
    with pytest.raises(InputError) as info:
        load_sla(path)
    i18n.set_language("zh")
    assert "第 2 行" in str(info.value) and "必须大于 0" in str(info.value)


def test_a_user_table_in_the_config_dir_replaces_the_shipped_one(config):
    assert sla_path() == data_file("sla.csv")
    user = write_table(
        config / "sla.csv", ("parking,normal,*,4,workdays,物业\nparking,urgent,*,12,workhours,物业\n")
    )
    assert sla_path() == user
    table = load_sla()
    assert table.path == user
    assert table.categories() == ("parking",)
    assert table.limit("parking", "urgent") == Limit(12, "workhours", "物业")
    with pytest.raises(InputError):
        table.limit("repair", "normal")


def test_an_edited_file_is_read_again(tmp_path):
    path = write_table(tmp_path / "sla.csv", "repair,normal,*,3,workdays,物业\n")
    assert load_sla(path).limit("repair", "normal").amount == 3
    write_table(path, "repair,normal,*,4,workdays,物业公司\n")
    assert load_sla(path).limit("repair", "normal") == Limit(4, "workdays", "物业公司")


def test_excel_style_files_with_a_bom_or_in_gbk_load(tmp_path):
    bom = write_table(tmp_path / "bom.csv", "repair,normal,*,3,workdays,物业\n", encoding="utf-8-sig")
    assert load_sla(bom).limit("repair", "normal").responsible == "物业"
    gbk = write_table(tmp_path / "gbk.csv", "Repair,Normal,*,3,WorkDays,物业\n", encoding="gbk")
    assert load_sla(gbk).limit("repair", "normal") == Limit(3, "workdays", "物业")


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as info:
        load_sla(tmp_path / "nope.csv")
    assert info.value.key == "sla.unreadable"


def test_labels_are_translated_and_an_offices_own_ids_shown_as_is():
    i18n.set_language("zh")
    assert label("category", "safety") == "安全隐患"
    assert label("urgency", "low") == "较缓"
    assert label("scale", "major") == "大事"
    assert label("unit", "workhours") == "工作小时"
    assert label("category", "parking") == "parking"
    i18n.set_language("en")
    assert label("category", "elderly_care") == "Elderly care"


def test_both_languages_have_the_same_keys_and_placeholders():
    catalogs = {
        lang: json.loads(data_file("i18n", f"workflow.{lang}.json").read_text(encoding="utf-8"))
        for lang in ("en", "zh")
    }
    assert catalogs["en"].keys() == catalogs["zh"].keys()
    fields = string.Formatter()
    for key, template in catalogs["en"].items():
        en = {f for _, f, _, _ in fields.parse(template) if f}
        zh = {f for _, f, _, _ in fields.parse(catalogs["zh"][key]) if f}
        assert en == zh, key
    assert catalogs["zh"]["countdown.yellow"] == "临期"
    table = load_sla()
    for category in table.categories():
        assert f"category.{category}" in catalogs["en"]
