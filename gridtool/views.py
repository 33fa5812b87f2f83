"""What a person sees of a record: the columns of a list, the fields of a detail, masked by default.

Shared by the command line and the dashboard, so both mask personal data the same way.
"""

from __future__ import annotations

from typing import Any

from gridtool.i18n import t
from gridtool.ids import short
from gridtool.masking import mask_field, masked
from gridtool.register import address, building_label, grid_code, member_details, members_of
from gridtool.store import Store

LIST_COLUMNS: dict[str, tuple[str, ...]] = {
    "grid_cell": (
        "id",
        "code",
        "name",
        "community",
        "town",
        "worker",
        "worker_phone",
        "buildings",
        "households",
    ),
    "building": ("id", "grid", "compound", "number", "units", "floors", "leads", "households"),
    "lead": ("id", "name", "phone", "roles", "grid", "buildings", "active"),
    "household": ("id", "grid", "address", "head", "phone", "tags"),
}
"""Columns of a list. One vocabulary everywhere (lists, show, reports, JSON, CSV): ``grid`` is a
grid cell's code (``TL-03``) and ``grid_id`` its id, never the other way round."""


SHOW_ORDER: dict[str, tuple[str, ...]] = {
    "grid_cell": ("id", "code", "name", "community", "town", "worker", "worker_phone", "notes"),
    "building": (
        "id",
        "grid",
        "grid_id",
        "compound",
        "number",
        "units",
        "floors",
        "leads",
        "households",
        "notes",
    ),
    "lead": ("id", "name", "phone", "roles", "grid", "grid_id", "buildings", "active", "notes"),
    "household": (
        "id",
        "grid",
        "grid_id",
        "building",
        "unit",
        "room",
        "address",
        "head",
        "phone",
        "members",
        "tags",
        "leads",
        "notes",
        "extras",
    ),
}
"""The fields of ``show`` in this order, whatever order the store's history (a sync) left them
in; fields not listed follow in name order."""


def in_show_order(kind_name: str, fields: dict[str, Any]) -> dict[str, Any]:
    order = SHOW_ORDER.get(kind_name, ())
    known = [k for k in order if k in fields]
    return {k: fields[k] for k in [*known, *sorted(k for k in fields if k not in order)]}


def members(store: Store, household_id: str, show_pii: bool) -> list[dict[str, Any]]:
    people = [member_details(m) for m in members_of(store, household_id)]
    return people if show_pii else [_masked_member(m) for m in people]


def _masked_member(member: dict[str, Any]) -> dict[str, Any]:
    return {"id_number": "", **{k: mask_field(k, v) for k, v in member.items()}}


def _grid_named(store: Store, record: dict[str, Any], with_id: bool) -> dict[str, Any]:
    """``grid_cell`` (an id in the store) as ``grid`` (its code) in its place, and ``grid_id``
    after it for scripts."""
    if "grid_cell" not in record:
        return dict(record)
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "grid_cell":
            out["grid"] = grid_code(store, value or "")
            if with_id:
                out["grid_id"] = value
        else:
            out[key] = value
    return out


def _counts(store: Store, field: str, table: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in store.records(table).values():
        key = record.get(field)
        counts[key] = counts.get(key, 0) + 1
    return counts


def list_rows(
    store: Store,
    kind_name: str,
    records: list[dict[str, Any]],
    show_pii: bool = False,
    full_ids: bool = False,
    labels: bool = True,
) -> list[dict[str, Any]]:
    """One flat row per record, keyed by stable English column names: for a table (``labels``:
    lists joined, roles translated) or for CSV (lists kept, roles as ids, as JSON gives them)."""

    def joined(values: list[str]) -> str | list[str]:
        return "、".join(values) if labels else values

    rows = []
    extra: dict[str, dict[str, int]] = {}
    if kind_name == "grid_cell":
        extra = {
            "buildings": _counts(store, "grid_cell", "buildings"),
            "households": _counts(store, "grid_cell", "households"),
        }
    elif kind_name == "building":
        extra = {"households": _counts(store, "building", "households")}
        leads_by_building: dict[str, list[str]] = {}
        for lead in store.records("leads").values():
            for b in lead.get("buildings", ()):
                leads_by_building.setdefault(b, []).append(lead["name"])
    for record in records:
        r = masked(record, show_pii)
        row: dict[str, Any] = {"id": r["id"] if full_ids else short(r["id"])}
        if kind_name == "grid_cell":
            row.update({k: r.get(k, "") for k in LIST_COLUMNS["grid_cell"][1:7]})
            row["buildings"] = extra["buildings"].get(r["id"], 0)
            row["households"] = extra["households"].get(r["id"], 0)
        elif kind_name == "building":
            row.update(
                grid=grid_code(store, r["grid_cell"]),
                compound=r["compound"],
                number=r["number"],
                units=r.get("units"),
                floors=r.get("floors"),
                leads=joined(leads_by_building.get(r["id"], [])),
                households=extra["households"].get(r["id"], 0),
            )
        elif kind_name == "lead":
            buildings = store.records("buildings")
            row.update(
                name=r["name"],
                phone=r.get("phone", ""),
                roles=joined([t(f"role.{role}") if labels else role for role in r.get("roles", ())]),
                grid=grid_code(store, r.get("grid_cell", "")),
                buildings=joined([building_label(store, buildings.get(b)) for b in r.get("buildings", ())]),
                active=r.get("active", True),
            )
        else:
            row.update(
                grid=grid_code(store, r["grid_cell"]),
                address=address(store, record),
                head=r["head"],
                phone=r.get("phone", ""),
                tags=joined(list(r.get("tags", ()))),
            )
        rows.append(row)
    return rows


def json_rows(
    store: Store, kind_name: str, records: list[dict[str, Any]], show_pii: bool = False
) -> list[dict[str, Any]]:
    """Whole records for scripts: lists stay lists, references also given by their readable names."""
    buildings = store.records("buildings")
    rows = []
    for record in records:
        row = _grid_named(store, masked(record, show_pii), with_id=True)
        if kind_name == "household":  # ``building`` as people name it, ``building_id`` after it
            building_id = row.pop("building")
            row = {
                **row,
                "building": building_label(store, buildings.get(building_id)),
                "building_id": building_id,
            }
            row["address"] = address(store, record)
            row["members"] = members(store, record["id"], show_pii)
        elif kind_name == "lead":
            ids = list(row.get("buildings") or ())
            row["buildings"] = [building_label(store, buildings.get(b)) for b in ids]
            row["building_ids"] = ids
        rows.append(row)
    return rows


def detail(
    store: Store, kind_name: str, record: dict[str, Any], show_pii: bool = False, ids: bool = False
) -> dict[str, Any]:
    """Everything about one record, references spelled out, personal data masked unless asked;
    with ``ids`` (JSON, CSV) also ``grid_id`` beside ``grid``."""
    r = masked(record, show_pii)
    out = _grid_named(store, r, with_id=ids)
    if kind_name == "household":
        out["building"] = building_label(store, store.records("buildings").get(r["building"]))
        out["address"] = address(store, record)
        out["members"] = members(store, record["id"], show_pii)
        out["leads"] = [
            lead["name"]
            for lead in store.records("leads").values()
            if record["building"] in lead.get("buildings", ())
        ]
    elif kind_name == "lead":
        buildings = store.records("buildings")
        out["buildings"] = [building_label(store, buildings.get(b)) for b in r.get("buildings", ())]
        out["roles"] = [t(f"role.{role}") for role in r.get("roles", ())]
    elif kind_name == "building":
        out["leads"] = [
            lead["name"]
            for lead in store.records("leads").values()
            if record["id"] in lead.get("buildings", ())
        ]
        out["households"] = sum(1 for h in store.records("households").values() if h["building"] == r["id"])
    return in_show_order(kind_name, out)
