"""Exporting the register as ledgers a worker can open in Excel, and import again unchanged.

The columns are the import's own (headers in the user's language, both recognised on import), so
``import(export(store))`` changes nothing. ID numbers and phones are masked unless asked for;
a masked file is refused on import with a message saying so, never half-imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gridtool.i18n import language, t
from gridtool.ledger.columns import export_header, fields, member_spec
from gridtool.masking import FREE_TEXT, mask_field
from gridtool.register import list_records, members_of
from gridtool.store import Store
from gridtool.validate import mask_id_number, mask_phone

FORMATS = ("csv", "xlsx", "json")
INTEGER_FIELDS = frozenset({"unit", "units", "floors"})
HEAD = "户主"
Progress = Callable[[int, int], None]
_WIDTHS = {"id_number": 21, "members": 60, "phone": 14, "worker_phone": 14, "name": 18, "compound": 14}


def _split_head(household: dict[str, Any], people: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """The head's ID number for its own column, and everyone else for the members column.

    Only a plain head (relation 户主, the household's head name, an ID number, nothing else) goes
    in the ID column, so importing the file rebuilds exactly the same members.
    """
    for n, person in enumerate(people):
        if (
            person.get("relation") == HEAD
            and person.get("name") == household.get("head")
            and person.get("id_number")
            and not person.get("phone")
            and not person.get("birth_date")
        ):
            return person["id_number"], people[:n] + people[n + 1 :]
    return "", people


def _member(person: dict[str, Any], show_pii: bool) -> dict[str, Any]:
    out = {k: person[k] for k in ("name", "id_number", "relation", "birth_date", "phone") if person.get(k)}
    out.setdefault("name", "")
    out.setdefault("id_number", "")
    out.setdefault("relation", "")
    if not show_pii:
        out["id_number"] = mask_id_number(out["id_number"])
        if out.get("phone"):
            out["phone"] = mask_phone(out["phone"])
        if out.get("birth_date"):
            out["birth_date"] = out["birth_date"][:4]
    return out


def export_records(
    store: Store,
    kind: str,
    grid: str | None = None,
    show_pii: bool = False,
    progress: Progress | None = None,
    labels: bool = True,
) -> list[dict[str, Any]]:
    """Records as ledger rows keyed by field name (lists stay lists); an issue's category, status...
    as labels a person reads, or (``labels=False``, the JSON export) as their ids."""
    if kind == "issue":
        return _issue_records(store, grid, show_pii, progress, labels)
    records = list_records(store, kind, grid=grid)
    codes = {gid: g["code"] for gid, g in store.records("grid_cells").items()}
    buildings = store.records("buildings")

    rows = ((record, _register_row(store, kind, record, codes, buildings, show_pii)) for record in records)
    return _finished(rows, len(records), show_pii, progress)


def _register_row(
    store: Store,
    kind: str,
    record: dict[str, Any],
    codes: dict[str, str],
    buildings: dict[str, dict[str, Any]],
    show_pii: bool,
) -> dict[str, Any]:
    """One grid cell, building, lead or household as a ledger row."""
    row: dict[str, Any]
    if kind == "grid_cell":
        row = {f: record.get(f) or "" for f in fields(kind)}
        if not show_pii:
            row["worker_phone"] = mask_phone(row["worker_phone"])
    elif kind == "building":
        row = {f: record.get(f) for f in fields(kind)}
        row["grid_cell"] = codes.get(record["grid_cell"], "")
        row["notes"] = row["notes"] or ""
    elif kind == "lead":
        row = {
            "name": record["name"],
            "phone": record.get("phone") or "",
            "roles": list(record.get("roles", ())),
            "grid_cell": codes.get(record.get("grid_cell") or "", ""),
            "buildings": [
                f"{buildings[b]['compound']}/{buildings[b]['number']}"
                for b in record.get("buildings", ())
                if b in buildings
            ],
            "active": bool(record.get("active", True)),
            "notes": record.get("notes") or "",
        }
        if not show_pii:
            row["phone"] = mask_phone(row["phone"])
    else:
        building = buildings.get(record["building"], {})
        head_id, others = _split_head(record, members_of(store, record["id"]))
        row = {
            "grid_cell": codes.get(record["grid_cell"], ""),
            "compound": building.get("compound", ""),
            "building": building.get("number", ""),
            "unit": record.get("unit"),
            "room": record.get("room", ""),
            "head": record.get("head", ""),
            "id_number": head_id if show_pii else mask_id_number(head_id),
            "phone": (record.get("phone") or "") if show_pii else mask_phone(record.get("phone")),
            "members": [_member(m, show_pii) for m in others],
            "tags": list(record.get("tags", ())),
            "notes": record.get("notes") or "",
        }
    return row


def _finished(
    built: Iterator[tuple[dict[str, Any], dict[str, Any]]],
    total: int,
    show_pii: bool,
    progress: Progress | None,
) -> list[dict[str, Any]]:
    """Ledger rows of any kind made whole: the record's extra columns (in one file-wide order) and,
    unless ``show_pii``, numbers typed into free text masked; progress told as they come."""
    step = max(1, total // 100)
    rows = []
    for n, (record, row) in enumerate(built, start=1):
        if record.get("extras"):
            row["extras"] = dict(record["extras"])
        if not show_pii:
            _mask_free_text(row)
        rows.append(row)
        if progress is not None and (n % step == 0 or n == total):
            progress(n, total)
    _order_extras(rows)
    return rows


def _order_extras(rows: list[dict[str, Any]]) -> None:
    """Every record's extra columns in one file-wide order, the order an import reads them back
    in (the file's columns), so exporting what was imported gives the same file."""
    order: dict[str, None] = {}
    for row in rows:
        order.update(dict.fromkeys(row.get("extras") or ()))
    rank = {name: n for n, name in enumerate(order)}
    for row in rows:
        if len(row.get("extras") or ()) > 1:
            row["extras"] = dict(sorted(row["extras"].items(), key=lambda item: rank[item[0]]))


def _mask_free_text(row: dict[str, Any]) -> None:
    """Mask ID and mobile numbers typed into notes and unknown columns, as the named ones are."""
    for field in (*FREE_TEXT, "extras"):
        if field in row:
            row[field] = mask_field(field, row[field])


def _issue_records(
    store: Store, grid: str | None, show_pii: bool, progress: Progress | None, labels: bool = True
) -> list[dict[str, Any]]:
    """Issues as a 诉求台账: what was reported, where it stands, how it ended. Times to the second
    (``2026-07-03 09:00:00``) so importing the file rebuilds the same timeline."""
    from gridtool import issues as workflow

    records = workflow.list_issues(store, grid=grid)
    households = store.records("households")
    rows = ((issue, _issue_row(store, issue, households, labels)) for issue in records)
    return _finished(rows, len(records), show_pii, progress)


def _issue_row(
    store: Store, issue: dict[str, Any], households: dict[str, dict[str, Any]], labels: bool = True
) -> dict[str, Any]:
    """One issue as a row of the 诉求台账."""
    from gridtool import issues as workflow
    from gridtool.register import address, grid_code

    def named(kind: str, value: str | None) -> str | None:
        return workflow.label(kind, value) if labels else value

    events = workflow.timeline(store, issue["id"])
    facts = workflow.report_facts(events)
    resolved = issue.get("status") in workflow.DONE  # a reopened issue is not resolved: no 办结 columns
    summary = (
        next((e["payload"].get("summary", "") for e in reversed(events) if e["type"] == "resolve"), "")
        if resolved
        else ""
    )
    household = households.get(issue.get("household") or "")
    return {
        "number": issue.get("number") or "",
        "reported_at": _moment(issue.get("reported_at")),
        "title": issue.get("title") or "",
        "description": issue.get("description") or facts.get("description") or "",
        "category": named("category", issue.get("category")),
        "channel": named("channel", issue.get("channel") or facts.get("channel")),
        "urgency": named("urgency", issue.get("urgency")),
        "scale": named("scale", issue.get("scale")),
        "address": address(store, household) if household else "",
        "reporter": household["head"] if household else "",
        "grid_cell": grid_code(store, issue.get("grid_cell") or ""),
        "status": named("status", issue.get("status")),
        "assignee": workflow.assignee_name(store, issue),
        "due": _moment(issue.get("due")),
        "resolved_at": _moment(issue.get("resolved_at")) if resolved else "",
        "summary": summary,
        "rating": issue.get("rating"),
    }


def _moment(value: str | None) -> str:
    return value.replace("T", " ") if value else ""


def _cell(kind: str, field: str, value: Any) -> Any:
    if value is None:
        return ""
    if kind == "issue":
        return value if isinstance(value, int) else str(value)
    if field == "members":
        return ";".join(member_spec(m) for m in value)
    if field == "roles":
        return "、".join(t(f"role.{r}") for r in value)
    if field == "active":
        return t("yes") if value else t("no")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if field in INTEGER_FIELDS:
        return value
    return str(value)


def table(
    kind: str, records: list[dict[str, Any]], lang: str | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Header and rows for CSV and xlsx: the kind's columns, then every extra column records carry."""
    lang = lang or language()
    names = fields(kind)
    extras: dict[str, None] = {}
    for record in records:
        extras.update(dict.fromkeys(record.get("extras") or ()))
    header = [export_header(kind, f, lang) for f in names] + list(extras)
    rows = []
    for record in records:
        row = [_cell(kind, f, record.get(f)) for f in names]
        more = record.get("extras") or {}
        row += [str(more.get(e, "")) for e in extras]
        rows.append(row)
    return header, rows


def export_file(
    store: Store,
    kind: str,
    fmt: str,
    path: str | os.PathLike[str] | None = None,
    grid: str | None = None,
    show_pii: bool = False,
    progress: Progress | None = None,
) -> tuple[int, bytes | None]:
    """Write an export to ``path`` (created mode 0600), or return its bytes when ``path`` is None.

    CSV written to a file starts with a BOM so Excel reads the Chinese right; to standard output
    it does not, for scripts. Returns how many records were exported and the bytes if not written.
    """
    from gridtool.ledger.sheets import csv_text, write_csv, write_xlsx

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    records = export_records(
        store, kind, grid=grid, show_pii=show_pii, progress=progress, labels=fmt != "json"
    )
    target = Path(path) if path is not None else None
    if fmt == "json":  # for scripts: named as every other JSON names them (grid: a cell's code)
        import orjson

        named = [{("grid" if k == "grid_cell" else k): v for k, v in r.items()} for r in records]
        data = orjson.dumps(named, option=orjson.OPT_INDENT_2) + b"\n"
        if target is None:
            return len(records), data
        from gridtool.ledger.sheets import save

        save(target, data)
        return len(records), None
    header, rows = table(kind, records)
    if fmt == "csv":
        if target is None:
            return len(records), csv_text([header, *rows]).encode("utf-8")
        write_csv(target, [header, *rows])
        return len(records), None
    if target is None:
        raise ValueError("an xlsx export needs a path")
    widths = [_WIDTHS.get(f, 12) for f in fields(kind)] + [14] * (len(header) - len(fields(kind)))
    write_xlsx(target, t(f"kind.{kind}"), header, rows, widths)
    return len(records), None
