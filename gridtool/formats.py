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


def render_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str] | None = None,
    table: str | None = None,
    width: int | None = None,
) -> str:
    """An aligned table; headers are the labels of ``table``'s fields (a building's number is 楼号).

    With ``width`` (the terminal's), the widest text columns (:data:`CUTTABLE`: titles,
    addresses...) are cut with … until a row fits in it; numbers, ids and dates never are.
    """
    if not rows:
        return t("list.empty")
    from tabulate import tabulate  # costs ~0.1 s to import: only when a table is drawn

    cols = list(columns or rows[0].keys())
    body = [[_cell(row.get(c)) for c in cols] for row in rows]
    headers = [field_label(c, table) for c in cols]
    if width:
        body = _fitted(body, headers, width, [c in CUTTABLE for c in cols])
    return tabulate(body, headers=headers, tablefmt="simple", disable_numparse=True)


NARROWEST = 8
"""A column is never cut below this many display columns."""
CUTTABLE = frozenset(
    {"title", "address", "tags", "buildings", "leads", "notes", "details", "summary", "description", "reason"}
)
"""Columns of free text, which a person recognises from their start."""


def _fitted(body: list[list[Any]], headers: list[str], width: int, cuttable: list[bool]) -> list[list[Any]]:
    """The cells cut so the table fits ``width`` display columns, widest text columns first."""
    from wcwidth import wcswidth

    def shown(value: Any) -> int:
        return max(wcswidth(str(value)), 0)

    # tabulate pads a header by 2 where it is the widest of its column
    widths = [max([shown(h) + 2, *(shown(row[i]) for row in body)]) for i, h in enumerate(headers)]
    limits = list(widths)
    excess = sum(limits) + 2 * (len(limits) - 1) - width
    candidates = [i for i, ok in enumerate(cuttable) if ok]
    while excess > 0 and candidates:
        widest = max(candidates, key=lambda i: limits[i])
        if limits[widest] <= NARROWEST:
            break
        others = sorted(limits[i] for i in candidates if i != widest)
        cut = min(excess, limits[widest] - NARROWEST, max(1, limits[widest] - (others[-1] if others else 0)))
        limits[widest] -= cut
        excess -= cut
    if limits == widths:
        return body
    return [
        [_cut(value, limits[i]) if shown(value) > limits[i] else value for i, value in enumerate(row)]
        for row in body
    ]


def _cut(value: Any, limit: int) -> str:
    """``value`` in at most ``limit`` display columns, the last of them an ellipsis."""
    from wcwidth import wcwidth

    out, used = [], 0
    for char in str(value):
        w = max(wcwidth(char), 0)
        if used + w > limit - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…"


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


def render_rows(
    rows: Sequence[dict[str, Any]],
    fmt: str,
    columns: Sequence[str] | None = None,
    table: str | None = None,
    width: int | None = None,
) -> str:
    if fmt == "json":
        return render_json(list(rows))
    if fmt == "csv":
        return render_csv(rows, columns)
    return render_table(rows, columns, table, width)


def render_detail(record: dict[str, Any], fmt: str, table: str | None = None) -> str:
    """One record: a two-column table of label and value, or JSON/CSV of the record.

    Members line up in columns by display width (a Chinese character takes two); a mapping (the
    extra columns a ledger had) prints as ``name: value`` lines.
    """
    if fmt == "json":
        return render_json(record)
    if fmt == "csv":
        return render_csv([{k: _flat(v) for k, v in record.items()}])
    from tabulate import tabulate

    lines = []
    for key, value in record.items():
        if key == "members" and value:
            members = tabulate([_member_cells(m) for m in value], tablefmt="plain", disable_numparse=True)
            lines.append([field_label(key, table), members])
        elif isinstance(value, dict):
            lines.append([field_label(key, table), "\n".join(f"{k}: {_cell(v)}" for k, v in value.items())])
        else:
            lines.append([field_label(key, table), _cell(value)])
    return tabulate(lines, tablefmt="plain", disable_numparse=True)


def _member_cells(member: dict[str, Any]) -> list[str]:
    return [str(member.get(k) or "") for k in ("name", "relation", "id_number", "birth_date", "phone")]


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
