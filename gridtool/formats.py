"""Turning rows into text: aligned tables for people, JSON and CSV for scripts.

Tables go through tabulate with wcwidth, so a column of Chinese names lines up. JSON and CSV use
the stable English field names and carry no colour or decoration.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from gridtool.i18n import field_label, t
from gridtool.validate import visible

FORMATS = ("table", "json", "csv")


class Styled(str):
    """A cell gridtool coloured itself (a countdown): its escape codes are ours and are kept."""

    __slots__ = ()


def _cell(value: Any) -> Any:
    if isinstance(value, Styled):
        return value
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "、".join(_cell(v) for v in value)
    return value


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return t("list.empty")
    from tabulate import tabulate  # costs ~0.1 s to import: only when a table is drawn

    cols = list(columns or rows[0].keys())
    body = [[_cell(row.get(c)) for c in cols] for row in rows]
    return tabulate(body, headers=[field_label(c) for c in cols], tablefmt="simple", disable_numparse=True)


def render_json(data: Any) -> str:
    import orjson

    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def render_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    from gridtool.csvcells import write_rows

    cols = list(columns or (rows[0].keys() if rows else []))
    buf = io.StringIO()
    body = (
        [
            "|".join(map(str, v)) if isinstance(v, (list, tuple)) else ("" if v is None else v)
            for v in (row.get(c) for c in cols)
        ]
        for row in rows
    )
    write_rows(buf, [cols, *body], lineterminator="\n")
    return buf.getvalue().rstrip("\n")


def render_rows(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None) -> str:
    if fmt == "json":
        return render_json(list(rows))
    if fmt == "csv":
        return render_csv(rows, columns)
    return render_table(rows, columns)


def render_detail(record: dict[str, Any], fmt: str) -> str:
    """One record: a two-column table of label and value, or JSON/CSV of the record."""
    if fmt == "json":
        return render_json(record)
    if fmt == "csv":
        return render_csv([{k: _flat(v) for k, v in record.items()}])
    from tabulate import tabulate

    lines = []
    for key, value in record.items():
        if key == "members" and value:
            members = "\n".join(_member_line(m) for m in value)
            lines.append([field_label(key), members])
        else:
            lines.append([field_label(key), _cell(value)])
    return tabulate(lines, tablefmt="plain", disable_numparse=True)


def _member_line(member: dict[str, Any]) -> str:
    parts = [member.get("name", ""), member.get("relation", ""), member.get("id_number", "")]
    if member.get("birth_date"):
        parts.append(member["birth_date"])
    if member.get("phone"):
        parts.append(member["phone"])
    return visible("  ".join(str(p) for p in parts if p))


def _flat(value: Any) -> Any:
    if isinstance(value, list):
        return "|".join(_member_line(v) if isinstance(v, dict) else str(v) for v in value)
    return value
