"""Validators for what grid workers type in, and the masks that keep personal data private.

Each ``check_*`` returns the normalised value or raises :class:`Invalid` with a message key; the
record layer turns that into a :class:`gridtool.errors.Problem` naming the field.
"""

from __future__ import annotations

import calendar
import operator
import re
import time
from datetime import date, datetime
from typing import Any

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# GB/T 2260 province-level codes: the first two digits of every resident ID number.
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43"  # noqa: SIM905
    " 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83 91".split()
)
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_SCIENTIFIC = re.compile(r"^[0-9](\.[0-9]+)?[eE]\+?[0-9]+$")
# What a well-formed number looks like; one that matches skips the checks explaining what is wrong.
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
# What a Chinese input method types in full-width mode, as the ASCII it stands for.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ＋－（）\u3000", "0123456789Xx+-() ")
# Month and day of every day a year can have: a birth day is checked by looking it up.
_MONTH_DAYS = frozenset(
    f"{month:02}{day:02}"
    for month in range(1, 13)
    for day in range(1, calendar.monthrange(2000, month)[1] + 1)  # 2000 was a leap year
)
_PHONE_JUNK = re.compile(r"[\s\-()]")


class Invalid(ValueError):
    """A value was refused; ``key`` names the translated reason, ``params`` fill it in; ``field``
    names what was refused when the validator was told (:func:`check_text`)."""

    field: str | None = None

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


# Characters that make a terminal or an editor show something other than the text: C0 and C1
# controls (ESC among them), DEL, lone surrogates (bytes that were not UTF-8), and the bidi
# marks, embeddings, overrides and isolates that reorder what is shown (Trojan Source).
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
_CONTROL_IN_NOTES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
FREE_TEXT_FIELDS = frozenset({"notes", "note", "description", "text", "summary", "comment", "reason"})
"""Fields written as paragraphs: newlines and tabs are kept there and nowhere else."""


def check_text(value: Any, field: str, *, multiline: bool = False, max_len: int = 200) -> str:
    """Text a person typed, or a ledger cell, or a peer's operation: stripped, at most ``max_len``
    characters, with no character that could change what a terminal shows.

    ``multiline`` (notes, descriptions) keeps newlines (a Windows CR LF becomes LF) and tabs. Bytes
    that were not UTF-8 (a GBK terminal) arrive as lone surrogates and get a reason of their own.
    """
    text = "" if value is None else value if type(value) is str else str(value)
    if multiline and "\r" in text:
        text = text.replace("\r\n", "\n")
    bad = (_CONTROL_IN_NOTES if multiline else _CONTROL).search(text)
    if bad is not None:
        char = bad.group()
        if "\ud800" <= char <= "\udfff":
            raise _invalid(field, "invalid.not_utf8")
        raise _invalid(field, "invalid.control_char", char=f"U+{ord(char):04X}")
    text = text.strip()
    if len(text) > max_len:
        raise _invalid(field, "invalid.too_long", max=max_len)
    return text


def _invalid(field: str, key: str, **params: object) -> Invalid:
    refused = Invalid(key, **params)
    refused.field = field
    return refused


_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def visible(text: str, *, keep_colour: bool = False) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\u202e``) instead of
    acted on: what comes out of the data never drives the terminal. Newlines and tabs stay, and
    with ``keep_colour`` the colour codes gridtool itself added (the data's were escaped before)."""
    if _CONTROL_IN_NOTES.search(text) is None:
        return text
    if not keep_colour:
        return _CONTROL_IN_NOTES.sub(_escaped, text)
    parts = _COLOUR.split(text)
    colours = _COLOUR.findall(text)
    out = [_CONTROL_IN_NOTES.sub(_escaped, parts[0])]
    for colour, part in zip(colours, parts[1:], strict=True):
        out += [colour, _CONTROL_IN_NOTES.sub(_escaped, part)]
    return "".join(out)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID number.

    The weights are 2**(18 - i) mod 11 and 13 is 2 mod 11, so the weighted sum is twice the
    digits read as one base-13 number: one C call instead of seventeen multiplications.
    """
    if first17.isascii() and first17.isdigit():
        return _CHECK_CHARS[2 * int(first17, 13) % 11]
    return _CHECK_CHARS[sum(map(operator.mul, map(int, first17), _WEIGHTS)) % 11]


_today_cache: tuple[float, str] = (float("-inf"), "")


def _today_digits() -> str:
    """Today as YYYYMMDD, read from the clock at most once a minute (imports check thousands of
    birth days)."""
    global _today_cache
    now = time.monotonic()
    if now - _today_cache[0] > 60:
        _today_cache = (now, _digits(date.today()))
    return _today_cache[1]


def _digits(day: date) -> str:
    return f"{day.year:04}{day.month:02}{day.day:02}"


def _is_birth_day(digits: str, today: date | None) -> bool:
    """Whether ASCII ``YYYYMMDD`` is a real day from 1900 to today. Read as text, since an import
    checks a hundred thousand of them: three ``int()`` and a ``date`` cost several times as much."""
    month_day = digits[4:]
    if month_day not in _MONTH_DAYS or digits < "19000101":
        return False
    if month_day == "0229" and not calendar.isleap(int(digits[:4])):
        return False
    return digits <= (_today_digits() if today is None else _digits(today))


def id_number_text(value: Any) -> str:
    """An ID number as text to check and compare: the full-width digits, X and space a Chinese
    input method types read as ASCII, spaces dropped, upper-case ``X``. What counts as the same
    number in a file. Other look-alikes (①, ², Ⅹ, digits of other scripts) stay, to be refused."""
    text = str(value)
    if not text.isascii():
        text = text.translate(_FULL_WIDTH)
    return text.strip().replace(" ", "").upper()


def check_id_number(value: str, today: date | None = None) -> str:
    """A Chinese resident ID number (居民身份证号码), normalised to ASCII and upper-case ``X``:
    full-width digits typed with a Chinese input method are read as the digits they are
    (:func:`id_number_text`)."""
    if type(value) is str and _ID_SHAPE.fullmatch(value) is not None:
        text = value  # as almost every number arrives: no copies
    else:
        text = id_number_text(value)
        if _ID_SHAPE.fullmatch(text) is None:  # a match passes all four checks below
            if _SCIENTIFIC.match(text):
                raise Invalid("invalid.id_scientific")
            if len(text) == 15 and text.isascii() and text.isdigit():
                raise Invalid("invalid.id_old15")
            if len(text) != 18:
                raise Invalid("invalid.id_length", length=len(text))
            raise Invalid("invalid.id_chars")
    if text[:2] not in PROVINCES:
        raise Invalid("invalid.id_region", code=text[:2])
    if not _is_birth_day(text[6:14], today):
        raise Invalid("invalid.id_birth", digits=text[6:14])
    if _CHECK_CHARS[2 * int(text[:17], 13) % 11] != text[17]:  # id_check_char, on known digits
        raise Invalid("invalid.id_checksum")
    return text


def birth_date_of(id_number: str) -> date | None:
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def sex_of(id_number: str) -> str:
    """``"M"`` or ``"F"`` from the 17th digit (odd for men)."""
    return "M" if int(id_number[16]) % 2 else "F"


def check_mobile(value: str) -> str:
    """An 11-digit mainland mobile number in ASCII; spaces, dashes and a +86 prefix are dropped,
    full-width digits read as the digits they are."""
    text = str(value)
    if len(text) == 11 and _MOBILE.fullmatch(text):  # how almost every number arrives
        return text
    if not text.isascii():
        text = text.translate(_FULL_WIDTH)
    text = _PHONE_JUNK.sub("", text)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    if not (text.isascii() and text.isdigit()):
        raise Invalid("invalid.phone_chars")
    if len(text) != 11:
        raise Invalid("invalid.phone_length", length=len(text))
    if not _MOBILE.fullmatch(text):
        raise Invalid("invalid.phone_prefix")
    return text


def mask_id_number(value: str | None) -> str:
    """``4301**********002X``: the region and the last four stay, the birth date does not."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


MIN_YEAR, MAX_YEAR = 1900, 2100
"""Days and moments outside these years are typos (0001-01-01, 9999-12-31): a record number needs
four digits, and date arithmetic near year 9999 overflows."""


def check_year(value: date | datetime, field: str) -> None:
    """Refuse a day or moment outside :data:`MIN_YEAR` .. :data:`MAX_YEAR`, naming the field."""
    from gridtool.errors import Problem, ValidationError

    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(
            [Problem(field, "invalid.year_range", {"min": MIN_YEAR, "max": MAX_YEAR}, value.isoformat())]
        )


_ID_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def mask_in_text(value: Any) -> Any:
    """Free text (notes, extra columns) with any ID number or mobile number in it masked: people
    type an emergency contact's phone into 备注 too."""
    if not isinstance(value, str) or len(value) < 11:
        return value
    value = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), value)
    return _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group()), value)


def mask_phone(value: str | None) -> str:
    """``135****5678``."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
