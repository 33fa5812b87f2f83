"""The time-limit table (部门晒单): category × urgency × scale → limit, unit and who is responsible.

The table is a CSV an office can edit (``data/sla.csv``, or ``<config dir>/sla.csv`` which replaces
it). Columns: ``category,urgency,scale,limit,unit,responsible``; ``scale`` is ``major``, ``minor``,
``private`` or ``*`` (any), ``unit`` is ``workdays`` or ``workhours``. A row for an exact scale beats
the ``*`` row, and every category × urgency needs a ``*`` row so that every issue gets a deadline.

Deadline rule: a limit in working days ends at 23:59:59 of the N-th working day after the day of the
report (the report day is not counted and the last day runs to its end, as the Civil Code counts
periods, arts. 201 and 203); a limit in working hours ends exactly that many working hours after the
report (see :func:`gridtool.workdays.add_work_hours`).
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from gridtool.errors import InputError
from gridtool.i18n import has, labelled_ids, t
from gridtool.paths import decode_table, in_force, load_table
from gridtool.workdays import LazyText, add_work_hours, add_workdays

__all__ = [
    "ANY_SCALE",
    "COLUMNS",
    "DEFAULT_MAX_EXTENSION",
    "END_OF_DAY",
    "EXTENSION_COLUMN",
    "SCALES",
    "SLA_FILE",
    "UNITS",
    "Limit",
    "SlaRow",
    "SlaTable",
    "label",
    "load_sla",
    "sla_path",
]

SLA_FILE = "sla.csv"
COLUMNS = ("category", "urgency", "scale", "limit", "unit", "responsible")
EXTENSION_COLUMN = "max_extension"
"""Optional: the most working days one extension may add (default :data:`DEFAULT_MAX_EXTENSION`)."""
DEFAULT_MAX_EXTENSION = 30
MAX_LIMIT_DAYS = 3_650
"""A limit, and an extension, of at most ten years of working days (or as many working hours)."""
UNITS = ("workdays", "workhours")
SCALES = ("major", "minor", "private")
ANY_SCALE = "*"
END_OF_DAY = time(23, 59, 59)
_ID = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class Limit:
    """How long an issue may take and who answers for it."""

    amount: float
    unit: str
    responsible: str
    max_extension: int = 30
    """The most working days one extension (``issue extend``) may add."""


@dataclass(frozen=True)
class SlaRow:
    category: str
    urgency: str
    scale: str
    limit: Limit
    row: int
    """Row number as a spreadsheet shows it (the header is row 1)."""


def label(kind: str, value: str) -> str:
    """The translated name of a category, urgency, scale or unit id; an office's own id as is."""
    key = f"{kind}.{value}"
    return t(key) if has(key) else value


class SlaTable:
    """A validated time-limit table; immutable once loaded."""

    def __init__(self, rows: list[SlaRow], path: Path) -> None:
        self.path = path
        self.rows = tuple(rows)
        self._index = {(r.category, r.urgency, r.scale): r.limit for r in self.rows}
        self._categories = tuple(dict.fromkeys(r.category for r in self.rows))
        self._urgencies = tuple(dict.fromkeys(r.urgency for r in self.rows))

    def categories(self) -> tuple[str, ...]:
        return self._categories

    def urgencies(self) -> tuple[str, ...]:
        return self._urgencies

    def scales(self) -> tuple[str, ...]:
        return SCALES

    def limit(self, category: str, urgency: str, scale: str | None = None) -> Limit:
        """The limit for an issue; the row for its exact scale wins over the ``*`` row."""
        _check_known("category", category, self._categories)
        _check_known("urgency", urgency, self._urgencies)
        if scale is not None and scale != ANY_SCALE:
            _check_known("scale", scale, SCALES)
            exact = self._index.get((category, urgency, scale))
            if exact is not None:
                return exact
        return self._index[(category, urgency, ANY_SCALE)]

    def due(self, reported_at: date, category: str, urgency: str, scale: str | None = None) -> datetime:
        """When an issue reported at ``reported_at`` must be resolved (see the module doc for the rule)."""
        limit = self.limit(category, urgency, scale)
        if limit.unit == "workhours":
            return add_work_hours(reported_at, limit.amount)
        day = reported_at.date() if isinstance(reported_at, datetime) else reported_at
        return datetime.combine(add_workdays(day, int(limit.amount)), END_OF_DAY)


def _check_known(kind: str, value: str, known: tuple[str, ...]) -> None:
    if value not in known:
        raise InputError(
            "sla.unknown", kind=LazyText(f"sla.kind.{kind}"), value=value, known=labelled_ids(kind, known)
        )


def sla_path() -> Path:
    """The table in force: the user's ``<config dir>/sla.csv`` if present, else the shipped one."""
    return in_force(SLA_FILE)


def load_sla(path: Path | None = None) -> SlaTable:
    """Load and validate a time-limit table (default: :func:`sla_path`), re-read when it changed."""
    path = sla_path() if path is None else Path(path)
    return load_table(path, lambda p, data: SlaTable(_parse(p, data), p), "sla.unreadable")


def _decode(path: Path, data: bytes) -> str:
    text = decode_table(data)
    if text is None:
        raise InputError("sla.unreadable", path=str(path), reason=LazyText("sla.reason.encoding"))
    return text


def _parse(path: Path, data: bytes) -> list[SlaRow]:
    reader = csv.reader(io.StringIO(_decode(path, data), newline=""))

    def bad(row: int, reason: str, /, **params: object) -> InputError:
        return InputError("sla.bad_row", path=str(path), row=row, reason=LazyText(reason, **params))

    header = [cell.strip().lower() for cell in next(reader, [])]
    for column in COLUMNS:
        if column not in header:
            raise bad(1, "sla.reason.missing_column", column=column)
    where = {column: header.index(column) for column in COLUMNS}

    rows: list[SlaRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    for cells in reader:
        n = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            raise bad(n, "sla.reason.extra_cells")
        values: dict[str, str] = {}
        for column in COLUMNS:
            if where[column] >= len(cells):
                raise bad(n, "sla.reason.missing_column", column=column)
            values[column] = cells[where[column]].strip()
            if not values[column]:
                raise bad(n, "sla.reason.empty", column=column)

        category, urgency = values["category"].lower(), values["urgency"].lower()
        for column, value in (("category", category), ("urgency", urgency)):
            if not _ID.match(value):
                raise bad(n, "sla.reason.bad_id", column=column, value=values[column])
        scale = values["scale"].lower()
        if scale != ANY_SCALE and scale not in SCALES:
            raise bad(n, "sla.reason.bad_scale", value=values["scale"], known=", ".join((*SCALES, ANY_SCALE)))
        unit = values["unit"].lower()
        if unit not in UNITS:
            raise bad(n, "sla.reason.bad_unit", value=values["unit"], known=", ".join(UNITS))
        try:
            amount: float = float(values["limit"])
        except ValueError:
            raise bad(n, "sla.reason.bad_limit", value=values["limit"]) from None
        if not math.isfinite(amount):
            raise bad(n, "sla.reason.bad_limit", value=values["limit"])
        if amount <= 0:
            raise bad(n, "sla.reason.not_positive", value=values["limit"])
        if amount > (MAX_LIMIT_DAYS if unit == "workdays" else MAX_LIMIT_DAYS * 24):
            raise bad(n, "sla.reason.too_long", value=values["limit"], max=MAX_LIMIT_DAYS)
        if unit == "workdays":
            if not amount.is_integer():
                raise bad(n, "sla.reason.not_whole", value=values["limit"])
            amount = int(amount)
        elif amount.is_integer():
            amount = int(amount)

        extension = DEFAULT_MAX_EXTENSION
        if EXTENSION_COLUMN in header and header.index(EXTENSION_COLUMN) < len(cells):
            text = cells[header.index(EXTENSION_COLUMN)].strip()
            if text:
                if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT_DAYS:
                    raise bad(n, "sla.reason.bad_extension", value=text, max=MAX_LIMIT_DAYS)
                extension = int(text)

        key = (category, urgency, scale)
        if key in seen:
            raise bad(n, "sla.reason.duplicate", first=seen[key])
        seen[key] = n
        rows.append(
            SlaRow(category, urgency, scale, Limit(amount, unit, values["responsible"], extension), n)
        )

    if not rows:
        raise bad(2, "sla.reason.no_rows")
    categories = dict.fromkeys(r.category for r in rows)
    urgencies = dict.fromkeys(r.urgency for r in rows)
    for category in categories:
        for urgency in urgencies:
            if (category, urgency, ANY_SCALE) not in seen:
                raise InputError("sla.missing_default", path=str(path), category=category, urgency=urgency)
    return rows
