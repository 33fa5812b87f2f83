import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridtool.validate import (
    PROVINCES,
    Invalid,
    birth_date_of,
    check_id_number,
    check_mobile,
    id_check_char,
    mask_id_number,
    mask_phone,
    sex_of,
)

VALID_ID = "43010519790312002X"


def test_a_valid_id_number_is_normalised_to_upper_case_x() -> None:
    assert check_id_number(" 43010519790312002x ") == VALID_ID
    assert birth_date_of(VALID_ID) == date(1979, 3, 12)
    assert sex_of(VALID_ID) == "F"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("4.30105E+17", "invalid.id_scientific"),
        ("430105790312002", "invalid.id_old15"),
        ("4301051979031200", "invalid.id_length"),
        ("43010519790312002Y", "invalid.id_chars"),
        ("00010519790312002X", "invalid.id_region"),
        ("430105" + "19790231" + "0029", "invalid.id_birth"),  # 31 February
        ("430105" + "20990101" + "0011", "invalid.id_birth"),  # born in the future
        ("430105197903120021", "invalid.id_checksum"),
    ],
)
def test_bad_id_numbers_are_refused_with_their_reason(value: str, reason: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_id_number(value)
    assert refused.value.key == reason


@given(st.text("0123456789", min_size=17, max_size=17))
def test_the_check_character_is_the_standards_weighted_sum(first17: str) -> None:
    weights = [2 ** (17 - i) % 11 for i in range(17)]  # GB 11643-1999: 7, 9, 10, 5, 8, 4, ...
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    assert id_check_char(first17) == "10X98765432"[total % 11]


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])  # the standard's examples
def test_the_standards_own_examples_pass(number: str) -> None:
    assert id_check_char(number[:17]) == number[17]


def test_a_birth_day_checked_once_is_still_checked_against_the_day_given() -> None:
    assert check_id_number(VALID_ID) == VALID_ID  # 1979-03-12, today: fine
    with pytest.raises(Invalid) as refused:
        check_id_number(VALID_ID, today=date(1979, 3, 11))
    assert refused.value.key == "invalid.id_birth"


def test_full_width_digits_from_a_chinese_input_method_are_read_as_digits() -> None:
    assert check_id_number("４３０１０５１９７９０３１２００２ｘ") == VALID_ID
    assert check_id_number("430105\u300019790312002X") == VALID_ID  # a full-width space
    for look_alike in (
        "٤٣٠١٠٥١٩٧٩٠٣١٢٠٠٢X",  # Arabic-Indic digits
        "43010519790312002Ⅹ",  # the Roman numeral ten
        "4301051979031200²X",  # a superscript two
    ):
        with pytest.raises(Invalid) as refused:
            check_id_number(look_alike)
        assert refused.value.key == "invalid.id_chars", look_alike


def test_born_today_is_fine_and_born_after_today_is_not() -> None:
    day = date(2024, 2, 29)
    born_today = _with_check(f"430105{day:%Y%m%d}001")
    assert check_id_number(born_today, today=day) == born_today
    with pytest.raises(Invalid):
        check_id_number(born_today, today=day - timedelta(days=1))
    later = date.today() + timedelta(days=2)  # two days: the test may run across midnight
    with pytest.raises(Invalid) as refused:
        check_id_number(_with_check(f"430105{later:%Y%m%d}001"))
    assert refused.value.key == "invalid.id_birth"


@pytest.mark.parametrize(
    ("born", "real"),
    [
        ("19000101", True),
        ("18991231", False),
        ("19000228", True),
        ("19000229", False),  # 1900 was no leap year: a century, not a fourth one
        ("20000229", True),
        ("20230229", False),
        ("20240229", True),
        ("20240431", False),
        ("20241300", False),
    ],
)
def test_birth_days_are_real_days(born: str, real: bool) -> None:
    value = _with_check(f"430105{born}001")
    if real:
        assert check_id_number(value, today=date(2026, 11, 28)) == value
    else:
        with pytest.raises(Invalid) as refused:
            check_id_number(value, today=date(2026, 11, 28))
        assert refused.value.key == "invalid.id_birth"


def _standard_accepts(value: str, today: date) -> bool:
    """The rules as the standard states them, written plainly: the reference for the fast check."""
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value) or value[:2] not in PROVINCES:
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    total = sum(int(d) * w for d, w in zip(value[:17], weights, strict=True))
    return date(1900, 1, 1) <= born <= today and "10X98765432"[total % 11] == value[17]


@settings(max_examples=400)
@given(
    st.sampled_from(["11", "43", "65", "91", "00", "10", "99"]),
    st.sampled_from([1899, 1900, 1901, 1999, 2000, 2023, 2024, 2026, 2100]) | st.integers(1890, 2035),
    st.integers(0, 13),
    st.sampled_from([0, 1, 28, 29, 30, 31, 32]) | st.integers(0, 32),
    st.text("0123456789", min_size=3, max_size=3),
    st.one_of(st.none(), st.sampled_from("0123456789X")),  # None: the right check character
    st.dates(date(1990, 1, 1), date(2030, 12, 31)),
)
def test_the_check_agrees_with_the_standard_written_plainly(
    region: str, year: int, month: int, day: int, seq: str, last: str | None, today: date
) -> None:
    first17 = f"{region}0105{year:04}{month:02}{day:02}{seq}"
    value = first17 + (id_check_char(first17) if last is None else last)
    try:
        accepted = check_id_number(value, today=today) == value
    except Invalid:
        accepted = False
    assert accepted == _standard_accepts(value, today)


def _with_check(first17: str) -> str:
    return first17 + id_check_char(first17)


ids = st.builds(
    lambda region, born, seq: _with_check(f"{region}0105{born:%Y%m%d}{seq:03d}"),
    st.sampled_from(["11", "31", "43", "44", "65"]),
    st.dates(date(1900, 1, 1), date(2020, 12, 31)),
    st.integers(0, 999),
)


@given(ids)
def test_every_well_formed_id_number_is_accepted(value: str) -> None:
    assert check_id_number(value) == value


@given(ids, st.integers(0, 17), st.integers(1, 9))
def test_any_single_mistyped_character_is_caught(value: str, position: int, shift: int) -> None:
    chars = "0123456789X" if position == 17 else "0123456789"
    wrong = chars[(chars.index(value[position]) + shift) % len(chars)]
    typo = value[:position] + wrong + value[position + 1 :]
    with pytest.raises(Invalid):
        check_id_number(typo)


@pytest.mark.parametrize(
    "value",
    [
        "13512345678",
        "135 1234 5678",
        "135-1234-5678",
        "+8613512345678",
        "１３５１２３４５６７８",  # full-width, as a Chinese input method types them
        "13５12345678",
        "＋８６ １３５－１２３４－５６７８",
    ],
)
def test_mobile_numbers_are_normalised(value: str) -> None:
    assert check_mobile(value) == "13512345678"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1351234567", "invalid.phone_length"),
        ("12512345678", "invalid.phone_prefix"),
        ("0731-8888888", "invalid.phone_prefix"),
        ("135123456ab", "invalid.phone_chars"),
        ("135١٢٣٤٥٦٧٨", "invalid.phone_chars"),  # Arabic-Indic digits
        ("13⁵12345678", "invalid.phone_chars"),
    ],
)
def test_bad_mobile_numbers_are_refused(value: str, reason: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_mobile(value)
    assert refused.value.key == reason


def test_masks_keep_only_what_a_worker_needs_to_recognise_a_record() -> None:
    assert mask_id_number(VALID_ID) == "4301**********002X"
    assert mask_phone("13512345678") == "135****5678"
    assert mask_id_number("") == "" and mask_phone(None) == ""
