"""The register (台账): grid cells, buildings, leads and households.

Every write validates the whole record against the current store *inside* the store's
transaction, so two shells adding at once are both checked against what the other wrote.
A refused write raises :class:`ValidationError` naming each field and reason; nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from gridtool.errors import InputError, NotFound, Problem, ValidationError
from gridtool.i18n import labelled_ids, t
from gridtool.ids import new_id as new_record_id
from gridtool.search import text_matches
from gridtool.store import Index, Store, Transaction
from gridtool.validate import (
    FREE_TEXT_FIELDS,
    Invalid,
    birth_date_of,
    check_id_number,
    check_mobile,
    check_text,
    sex_of,
)

ROLES = ("building-lead", "party-member", "five-elders", "volunteer", "team")
COMMON_TAGS = ("独居老人", "空巢老人", "脱贫户", "低保户", "残疾人", "留守儿童", "党员户", "退役军人")
MAX_TEXT = 200
# Compiled once: imports validate tens of thousands of records (re's own cache costs a lookup a call).
_LIST_SEPARATORS = re.compile(r"[,，、;；|]")
_MEMBER_SEPARATORS = re.compile(r"[,，]")
_MEMBERS_SEPARATORS = re.compile(r"[;；\n]")
_BUILDING_SUFFIX = re.compile(r"(号楼|栋|幢|号|楼)$")


class Problems:
    """Collects every problem with a record, so the user fixes them all in one go."""

    def __init__(self, table: str | None = None) -> None:
        self.items: list[Problem] = []
        self.table = table

    def add(self, field: str, key: str, value: Any = None, **params: object) -> None:
        self.items.append(
            Problem(field, key, dict(params), None if value is None else str(value), self.table)
        )

    def raise_if_any(self, where: str | None = None) -> None:
        if self.items:
            raise ValidationError(self.items, where)

    def text(self, data: dict[str, Any], field: str, required: bool = False, limit: int = MAX_TEXT) -> str:
        value = data.get(field)
        try:
            text = check_text(value, field, multiline=field in FREE_TEXT_FIELDS, max_len=limit)
        except Invalid as bad:
            self.add(field, bad.key, **bad.params)
            return "" if bad.key != "invalid.too_long" else str(value).strip()
        if required and not text:
            self.add(field, "invalid.required")
        return text

    def integer(
        self, data: dict[str, Any], field: str, minimum: int = 1, required: bool = False
    ) -> int | None:
        value = data.get(field)
        if value is None or value == "":
            if required:
                self.add(field, "invalid.required")
            return None
        try:
            number = int(str(value).strip())
        except ValueError:
            self.add(field, "invalid.integer", value)
            return None
        if number < minimum:
            self.add(field, "invalid.minimum", value, minimum=minimum)
            return None
        return number

    def mobile(self, data: dict[str, Any], field: str) -> str:
        value = data.get(field)
        if value is None or str(value).strip() == "":
            return ""
        try:
            return check_mobile(str(value))
        except Invalid as bad:
            self.add(field, bad.key, None, **bad.params)
            return str(value)

    def strings(self, data: dict[str, Any], field: str) -> list[str]:
        value = data.get(field) or []
        if isinstance(value, str):
            value = _LIST_SEPARATORS.split(value)
        seen: dict[str, None] = {}
        for item in value:
            try:
                text = check_text(item, field)
            except Invalid as bad:
                self.add(field, bad.key, **bad.params)
                continue
            if text:
                seen[text] = None
        return list(seen)


@dataclass(frozen=True)
class Kind:
    """What the register knows about one kind of record."""

    name: str
    table: str
    clean: Callable[[Checker, dict[str, Any], str | None, Problems], dict[str, Any]]
    natural_key: Callable[[dict[str, Any]], Hashable | None]


# -- grid cells ---------------------------------------------------------------------------------


def _clean_grid_cell(c: Checker, data: dict[str, Any], own_id: str | None, p: Problems) -> dict[str, Any]:
    code = p.text(data, "code", required=True).upper()
    if code and not re.fullmatch(r"[A-Z0-9][A-Z0-9_\-]{0,31}", code):
        p.add("code", "invalid.code", code)
    return {
        "code": code,
        "name": p.text(data, "name", required=True),
        "community": p.text(data, "community"),
        "town": p.text(data, "town"),
        "worker": p.text(data, "worker"),
        "worker_phone": p.mobile(data, "worker_phone"),
        "notes": p.text(data, "notes"),
    }


# -- buildings ----------------------------------------------------------------------------------


def _building_number(value: Any) -> str:
    text = str(value or "").strip()
    return _BUILDING_SUFFIX.sub("", text)


def _clean_building(c: Checker, data: dict[str, Any], own_id: str | None, p: Problems) -> dict[str, Any]:
    store = c.store
    grid_id = _id_of(_ref_record(p, data, "grid_cell", c.grid_cell, required=True))
    number = _building_number(data.get("number"))
    if not number:
        p.add("number", "invalid.required")
    clean = {
        "grid_cell": grid_id or "",
        "compound": p.text(data, "compound", required=True),
        "number": number,
        "units": p.integer(data, "units") or 1,
        "floors": p.integer(data, "floors"),
        "notes": p.text(data, "notes"),
    }
    if own_id:  # shrinking a building must not strand the households registered in it
        for household in store.records("households").values():
            if household["building"] != own_id:
                continue
            if (household.get("unit") or 0) > clean["units"]:
                p.add("units", "invalid.strands_household", clean["units"], what=address(store, household))
                break
            floor = _floor_of(household.get("room", ""))
            if clean["floors"] and floor and floor > clean["floors"]:
                p.add("floors", "invalid.strands_household", clean["floors"], what=address(store, household))
                break
    return clean


def _floor_of(room: str) -> int | None:
    """The floor a room number names (0502 -> 5, 1201 -> 12), if it is a plain number."""
    return int(room[:-2]) if room.isdecimal() and len(room) >= 3 else None  # "²01" is a digit, not a number


def normalise_room(value: Any) -> str:
    """Door numbers as a worker writes them: 502 and 0502 are the same flat, kept as 0502."""
    room = str(value or "").strip()
    return room.zfill(4) if room.isdigit() and len(room) == 3 else room


# -- leads --------------------------------------------------------------------------------------


def _clean_lead(c: Checker, data: dict[str, Any], own_id: str | None, p: Problems) -> dict[str, Any]:
    roles = []
    for role in p.strings(data, "roles"):
        canonical = _ROLE_ALIASES.get(role.lower(), role.lower())
        if canonical in ROLES:
            roles.append(canonical)
        else:
            p.add("roles", "invalid.role", role, allowed=labelled_ids("role", ROLES))
    buildings = []
    for ref in p.strings(data, "buildings"):
        try:
            buildings.append(c.building(ref)["id"])
        except NotFound as missing:
            p.add("buildings", "invalid.missing_ref", ref, what=missing.message())
    grid_id = _id_of(_ref_record(p, data, "grid_cell", c.grid_cell))
    if not grid_id and buildings:
        grid_id = c.buildings[buildings[0]]["grid_cell"]
    active = data.get("active", True)
    if isinstance(active, str):
        active = active.strip().lower() not in ("0", "false", "no", "n", "否", "")
    return {
        "name": p.text(data, "name", required=True),
        "phone": p.mobile(data, "phone"),
        "roles": list(dict.fromkeys(roles)),
        "buildings": list(dict.fromkeys(buildings)),
        "grid_cell": grid_id or "",
        "active": bool(active),
        "notes": p.text(data, "notes"),
    }


_ROLE_ALIASES = {
    "楼栋长": "building-lead",
    "党员": "party-member",
    "五老": "five-elders",
    "志愿者": "volunteer",
    "队伍": "team",
    "building_lead": "building-lead",
    "party_member": "party-member",
    "five_elders": "five-elders",
}


# -- households ---------------------------------------------------------------------------------


_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


def parse_member(spec: str) -> dict[str, str]:
    """``"程金娇,43010519790312002X,户主"`` (name, ID number, relation) as a member dict, then
    optionally a birth date (for someone without an ID number) and a phone, as ledgers write them."""
    pieces = _MEMBER_SEPARATORS.split(spec) if "，" in spec else spec.split(",")  # half the time of re
    parts = [part.strip() for part in pieces]
    if len(parts) < 3:
        parts += [""] * (3 - len(parts))
    member = {"name": parts[0], "id_number": parts[1], "relation": parts[2]}
    if len(parts) == 3:
        return member
    for extra in parts[3:]:
        if _DATE.match(extra):
            member["birth_date"] = extra
        elif extra:
            member["phone"] = extra
    return member


def parse_members(text: str) -> list[dict[str, str]]:
    """The members written in one cell, ``;`` (or ``；`` or a line break) between them."""
    return [parse_member(spec) for spec in _MEMBERS_SEPARATORS.split(text) if spec.strip()]


def _clean_extras(extras: dict[str, Any], p: Problems) -> dict[str, Any]:
    """A ledger's own columns, kept as given, but held to the same rule as every text: no control
    characters, and a cell no longer than a spreadsheet allows."""
    clean = {}
    for name, value in extras.items():
        try:
            clean[check_text(name, "extras")] = check_text(value, "extras", multiline=True, max_len=32_767)
        except Invalid as bad:
            p.add("extras", bad.key, None, **bad.params)
    return clean


def _member_text(p: Problems, member: dict[str, Any], key: str, position: int) -> str:
    try:
        return check_text(member.get(key) or "", "members")
    except Invalid as bad:
        p.add("members", bad.key, None, n=position, **bad.params)
        return ""


def _clean_members(c: Checker, raw: Any, own_id: str | None, p: Problems) -> list[dict[str, Any]]:
    members: list[dict[str, Any]] = []
    if not raw:
        return members
    if isinstance(raw, str):
        raw = parse_members(raw)
    used = c.member_ids
    people = c.people
    seen: set[str] = set()
    for position, member in enumerate(raw, start=1):
        if isinstance(member, str):
            member = parse_member(member)
        field = "members"
        name = _member_text(p, member, "name", position)
        if not name:
            p.add(field, "invalid.member_name", None, n=position)
        id_number = str(member.get("id_number") or "").strip()
        record: dict[str, Any] = {"name": name, "relation": _member_text(p, member, "relation", position)}
        if member.get("id"):
            record["id"] = member["id"]
        if id_number:
            try:
                id_number = check_id_number(id_number)
            except Invalid as bad:
                p.add("id_number", bad.key, _masked_id(id_number), n=position, **bad.params)
            else:
                if id_number in seen:
                    p.add("id_number", "invalid.member_duplicate", _masked_id(id_number), n=position)
                holders = used.lookup(id_number)  # almost always empty: skip building two sets
                others = ({people[m]["household"] for m in holders} - {own_id}) if holders else holders
                if others:
                    p.add(
                        "id_number",
                        "invalid.member_elsewhere",
                        _masked_id(id_number),
                        n=position,
                        household=address(c.store, c.store.records("households")[min(others)]),
                    )
                seen.add(id_number)
        record["id_number"] = id_number
        if not id_number and member.get("birth_date"):
            record["birth_date"] = str(member["birth_date"])
        if member.get("phone"):
            record["phone"] = p.mobile(member, "phone")
        members.append(record)
    return members


def _masked_id(value: str) -> str:
    from gridtool.validate import mask_id_number

    return mask_id_number(value)


def _member_id_key(member: dict[str, Any]) -> tuple[str | None]:
    return (member.get("id_number") or None,)


def members_of(store: Store, household_id: str) -> list[dict[str, Any]]:
    """The people of a household, head first, in the order they were registered.

    Members are records of their own (table ``members``), not a list inside the household, so
    two laptops that each add a person to the same household both keep theirs after sync, and
    listing households does not parse every person in the register.
    """
    people = store.records("members")
    found = [people[i] for i in store.index("members", "household", _household_of).lookup(household_id)]
    found.sort(key=_head_first)
    return found


def _household_of(member: dict[str, Any]) -> tuple[str | None]:
    return (member.get("household"),)


def _head_first(member: dict[str, Any]) -> tuple[bool, str]:
    return (member.get("relation") != "户主", member["id"])


def member_details(member: dict[str, Any]) -> dict[str, Any]:
    """A member with what the ID number tells: birth date and sex."""
    out = {k: v for k, v in member.items() if not k.startswith("_") and k not in ("household",)}
    number = member.get("id_number")
    if number:
        born = birth_date_of(number)
        out["birth_date"] = born.isoformat() if born else ""
        out["sex"] = sex_of(number)
    return out


def _clean_household(c: Checker, data: dict[str, Any], own_id: str | None, p: Problems) -> dict[str, Any]:
    store = c.store
    building = _ref_record(p, data, "building", c.building, required=True)
    if building is not None:
        grid_id = building["grid_cell"]
        if data.get("grid_cell") != grid_id:  # a ledger names the building's own grid by its id
            named = _ref_record(p, data, "grid_cell", c.grid_cell)
            if named is not None and named["id"] != grid_id:
                p.add(
                    "building",
                    "invalid.building_grid",
                    building_label(store, building),
                    grid=grid_code(store, grid_id),
                )
    else:
        grid_id = _id_of(_ref_record(p, data, "grid_cell", c.grid_cell))
        if not grid_id and data.get("grid_cell") in (None, ""):
            p.add("grid_cell", "invalid.required")
    unit = p.integer(data, "unit", required=True)
    if unit and building is not None and building.get("units") and unit > building["units"]:
        p.add("unit", "invalid.unit_range", unit, units=building["units"])
    room = normalise_room(p.text(data, "room", required=True))
    if building is not None and building.get("floors"):
        floor = _floor_of(room)
        if floor and floor > building["floors"]:
            p.add("room", "invalid.room_floor", room, floors=building["floors"])
    return {
        "grid_cell": grid_id or "",
        "building": building["id"] if building is not None else "",
        "unit": unit,
        "room": room,
        "head": p.text(data, "head", required=True),
        "phone": p.mobile(data, "phone"),
        **({"members": _clean_members(c, data["members"], own_id, p)} if "members" in data else {}),
        "tags": p.strings(data, "tags"),
        "notes": p.text(data, "notes"),
    }


def _ref_record(
    p: Problems,
    data: dict[str, Any],
    field: str,
    lookup: Callable[[str], dict[str, Any]],
    required: bool = False,
) -> dict[str, Any] | None:
    """The record ``data[field]`` names, or None with the problem added."""
    ref = data.get(field)
    text = "" if ref is None else str(ref).strip()
    if not text:
        if required:
            p.add(field, "invalid.required")
        return None
    try:
        return lookup(text)
    except NotFound as missing:
        p.add(field, "invalid.missing_ref", ref, what=missing.message())
        return None


def _id_of(record: dict[str, Any] | None) -> str | None:
    return None if record is None else record["id"]


KINDS: dict[str, Kind] = {
    "grid_cell": Kind("grid_cell", "grid_cells", _clean_grid_cell, lambda r: r.get("code") or None),
    "building": Kind(
        "building",
        "buildings",
        _clean_building,
        lambda r: (r.get("grid_cell"), r.get("compound"), r.get("number")),
    ),
    "lead": Kind("lead", "leads", _clean_lead, lambda r: None),
    "household": Kind(
        "household",
        "households",
        _clean_household,
        lambda r: (r.get("building"), r.get("unit"), r.get("room")),
    ),
}


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise InputError("error.unknown_kind", kind=name, allowed=", ".join(KINDS)) from None


# -- lookups ------------------------------------------------------------------------------------


def grid_cell_by_ref(store: Store, ref: str) -> dict[str, Any]:
    """A grid cell by its code (any case) or its id."""
    ids = _grid_code_index(store).lookup(ref.strip().upper())
    if ids:
        return store.records("grid_cells")[min(ids)]
    return store.records("grid_cells")[store.resolve("grid_cells", ref)]


def building_by_ref(store: Store, ref: str) -> dict[str, Any]:
    """A building by id (or id suffix), or by ``compound/number`` such as ``湘离小区/5``."""
    if "/" in ref:
        compound, _, number = ref.rpartition("/")
        number = _building_number(number)
        found = [
            b
            for b in store.records("buildings").values()
            if b["compound"] == compound.strip() and b["number"] == number
        ]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise NotFound("error.ambiguous", table="buildings", ref=ref, count=len(found), length=8)
    return store.records("buildings")[store.resolve("buildings", ref)]


def lead_by_ref(store: Store, ref: str) -> dict[str, Any]:
    """A lead by id (or id suffix), or by name when exactly one lead has it."""
    named = [r for r in store.records("leads").values() if r["name"] == ref.strip()]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise NotFound("error.ambiguous", table="leads", ref=ref, count=len(named), length=8)
    return store.records("leads")[store.resolve("leads", ref)]


def household_by_ref(store: Store, ref: str) -> dict[str, Any]:
    """A household by id (or id suffix), or by its head's name when exactly one has it."""
    records = store.records("households")
    try:
        return records[store.resolve("households", ref)]
    except NotFound:
        named = [h for h in records.values() if h["head"] == ref.strip()]
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise NotFound(
                "error.ambiguous", table="households", ref=ref, count=len(named), length=8
            ) from None
        raise


LOOKUPS: dict[str, Callable[[Store, str], dict[str, Any]]] = {
    "grid_cell": grid_cell_by_ref,
    "building": building_by_ref,
    "lead": lead_by_ref,
    "household": household_by_ref,
}


def get(store: Store, kind_name: str, ref: str) -> dict[str, Any]:
    return LOOKUPS[kind(kind_name).name](store, ref)


# -- writing ------------------------------------------------------------------------------------


def validate(
    store: Store, kind_name: str, data: dict[str, Any], own_id: str | None = None, where: str | None = None
) -> dict[str, Any]:
    """The cleaned record, or :class:`ValidationError` listing every problem with it."""
    return Checker(store, kind_name)(data, own_id, where)


class Checker:
    """The register's rules for one kind of record, with the tables and indexes they consult looked
    up once: :func:`validate` makes one per record, a ledger import one per file, so thirty
    thousand households do not repeat every lookup. Use it inside the transaction it was made in
    (a rollback reloads the tables it holds)."""

    def __init__(self, store: Store, kind_name: str) -> None:
        self.store = store
        self.kind = kind(kind_name)
        self.records = store.records(self.kind.table)
        self.buildings = store.records("buildings")
        self.grid_cells = store.records("grid_cells")

    def __call__(
        self, data: dict[str, Any], own_id: str | None = None, where: str | None = None
    ) -> dict[str, Any]:
        """The cleaned record, or :class:`ValidationError` listing every problem with it."""
        k = self.kind
        p = Problems(k.name)
        clean = k.clean(self, data, own_id, p)
        if data.get("extras"):  # columns a ledger had that the register does not know: kept as given
            clean["extras"] = _clean_extras(data["extras"], p)
        key = k.natural_key(clean)
        if key is not None and not p.items and (not isinstance(key, tuple) or all(key)):
            clash = self.natural.lookup(key)
            if clash and clash != {own_id}:
                p.add(
                    _natural_field(k.name),
                    "invalid.duplicate",
                    None,
                    existing=describe(self.store, k.name, self.records[min(clash - {own_id})]),
                )
        p.raise_if_any(where)
        return clean

    @cached_property
    def natural(self) -> Index:
        """Records of the kind by natural key; built only when a record is clean enough to ask."""
        return natural_index(self.store, self.kind)

    @cached_property
    def member_ids(self) -> Index:
        return self.store.index("members", "id_number", _member_id_key)

    @cached_property
    def people(self) -> dict[str, dict[str, Any]]:
        return self.store.records("members")

    def building(self, ref: str) -> dict[str, Any]:
        """:func:`building_by_ref`, an id costing one lookup."""
        found = self.buildings.get(ref)
        return found if found is not None else building_by_ref(self.store, ref)

    def grid_cell(self, ref: str) -> dict[str, Any]:
        """:func:`grid_cell_by_ref`, an id costing one lookup."""
        found = self.grid_cells.get(ref)
        if found is not None and not self.grid_codes.lookup(ref.upper()):
            return found
        return grid_cell_by_ref(self.store, ref)

    @cached_property
    def grid_codes(self) -> Index:
        return _grid_code_index(self.store)


def _grid_code_index(store: Store) -> Index:
    return natural_index(store, KINDS["grid_cell"])


def natural_index(store: Store, k: Kind) -> Index:
    """Records of a kind by natural key (grid code; building address; household address)."""
    return store.index(k.table, "natural", lambda record: (k.natural_key(record),))


def _natural_field(kind_name: str) -> str:
    return {"grid_cell": "code", "building": "number", "household": "room"}.get(kind_name, "id")


def stage_add(tx: Transaction, kind_name: str, data: dict[str, Any], where: str | None = None) -> str:
    """Validate and add a record inside an open transaction (imports add many in one)."""
    clean = validate(tx.store, kind_name, data, where=where)
    members = clean.pop("members", None)
    rid = tx.create(kind(kind_name).table, clean)
    for member in members or ():
        tx.create("members", {"household": rid, **member})
    return rid


def add(store: Store, kind_name: str, data: dict[str, Any], actor: str | None = None) -> dict[str, Any]:
    with store.transaction(actor=actor) as tx:
        rid = stage_add(tx, kind_name, data)
    return store.records(kind(kind_name).table)[rid]


def stage_edit(
    tx: Transaction,
    kind_name: str,
    ref: str,
    changes: dict[str, Any],
    add_items: dict[str, Iterable[Any]] | None = None,
    remove_items: dict[str, Iterable[str]] | None = None,
) -> str:
    store = tx.store
    k = kind(kind_name)
    current = get(store, kind_name, ref)
    merged = {key: value for key, value in current.items() if not key.startswith("_")}
    changes = {key: value for key, value in changes.items() if value is not None}
    if kind_name == "household" and "building" in changes and "grid_cell" not in changes:
        merged.pop("grid_cell", None)  # moving house: the new building says which grid cell
    merged.update(changes)
    add_items = {f: list(v) for f, v in (add_items or {}).items() if v}
    remove_items = {f: list(v) for f, v in (remove_items or {}).items() if v}
    before: list[dict[str, Any]] = []
    if kind_name == "household" and (
        "members" in merged or "members" in add_items or "members" in remove_items
    ):
        before = members_of(store, current["id"])
        if "members" not in merged:
            merged["members"] = [dict(m) for m in before]
    for field, items in add_items.items():
        merged[field] = list(merged.get(field) or []) + items
    for field, items in remove_items.items():
        drop = {str(i).strip() for i in items}
        present = merged.get(field) or []
        unknown = [d for d in drop if not any(_matches_item(v, {d}, store, field) for v in present)]
        if unknown:  # a typo must not look like a successful removal
            raise ValidationError(
                [Problem(field, "invalid.not_there", {"items": "、".join(sorted(unknown))})]
            )
        merged[field] = [v for v in present if not _matches_item(v, drop, store, field)]
    clean = validate(store, kind_name, merged, own_id=current["id"])
    members = clean.pop("members", None)
    tx.update(k.table, current["id"], clean)
    if members is not None:
        save_members(tx, current["id"], before, members)
    return current["id"]


def save_members(
    tx: Transaction,
    household_id: str,
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    new_id: Callable[[], str] | None = None,
) -> None:
    """Write the difference between a household's old and new members, person by person.

    ``after`` is the whole new list: a member keeps its record when it carries its ``id``, and an
    optional detail (birth date, phone) it no longer has is cleared. ``new_id`` lets a big import
    mint ids in bulk.
    """
    kept = {m["id"] for m in after if m.get("id")}
    olds = {m["id"]: m for m in before}
    for old in before:
        if old["id"] not in kept:
            tx.delete("members", old["id"])
    mint = new_id or new_record_id
    arriving = []
    for member in after:
        fields = {k: v for k, v in member.items() if k != "id"}
        if member.get("id"):
            old = olds.get(member["id"], {})
            for optional in ("birth_date", "phone"):
                if old.get(optional) and optional not in fields:
                    fields[optional] = ""
            tx.update("members", member["id"], fields)  # writes only the fields that changed
        else:
            arriving.append((mint(), {"household": household_id, **fields}))
    if arriving:
        tx.create_many("members", arriving)


def _matches_item(value: Any, drop: set[str], store: Store, field: str) -> bool:
    if isinstance(value, dict):
        return value.get("name") in drop or value.get("id_number") in drop
    if field == "buildings":
        return value in drop or any(len(d) >= 4 and value.endswith(d.upper()) for d in drop)
    return str(value) in drop


def edit(
    store: Store,
    kind_name: str,
    ref: str,
    changes: dict[str, Any],
    add_items: dict[str, Iterable[Any]] | None = None,
    remove_items: dict[str, Iterable[str]] | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Change some fields of a record; list fields can also gain or lose items."""
    with store.transaction(actor=actor) as tx:
        rid = stage_edit(tx, kind_name, ref, changes, add_items, remove_items)
    return store.records(kind(kind_name).table)[rid]


DependentCounter = Callable[[Store, str], int]
"""How many records of one table still point at a record (by its id)."""

_COUNTERS: dict[str, dict[str, DependentCounter]] = {}

COUNTED_ELSEWHERE: dict[str, frozenset[str]] = {
    "lead": frozenset({"issues"}),
    "household": frozenset({"issues", "orders"}),
}
"""Tables above the register that point at a lead or household; the modules owning them register
their counters with :func:`count_dependents` when imported. A removal is refused outright while
one is missing, rather than letting an unimported module skip the check."""


def count_dependents(kind_name: str, table: str, counter: DependentCounter) -> None:
    """Let a module above the register say how many of its records still point at a record of
    ``kind_name``; :func:`remove` refuses while that count is not zero."""
    _COUNTERS.setdefault(kind_name, {})[table] = counter


def dependents(store: Store, kind_name: str, record_id: str) -> dict[str, int]:
    """What still points at a record, by table; removal is refused while this is not empty.

    Raises :class:`RuntimeError` when a table in :data:`COUNTED_ELSEWHERE` has no counter yet:
    its owning module was not imported, and an unchecked removal would orphan its records.
    """
    counters = _COUNTERS.get(kind_name, {})
    missing = COUNTED_ELSEWHERE.get(kind_name, frozenset()) - counters.keys()
    if missing:
        raise RuntimeError(
            f"cannot tell whether {', '.join(sorted(missing))} still point at this {kind_name}: "
            "import the modules that own them (gridtool.issues, gridtool.volunteers) first"
        )
    counts: dict[str, int] = {}
    if kind_name == "grid_cell":
        counts["buildings"] = sum(
            1 for b in store.records("buildings").values() if b["grid_cell"] == record_id
        )
        counts["households"] = sum(
            1 for h in store.records("households").values() if h["grid_cell"] == record_id
        )
        counts["leads"] = sum(
            1 for lead in store.records("leads").values() if lead.get("grid_cell") == record_id
        )
    elif kind_name == "building":
        counts["households"] = sum(
            1 for h in store.records("households").values() if h["building"] == record_id
        )
    for table, counter in sorted(counters.items()):
        counts[table] = counter(store, record_id)
    return {table: n for table, n in counts.items() if n}


def remove(store: Store, kind_name: str, ref: str, actor: str | None = None) -> dict[str, Any]:
    """Delete a record (a tombstone in the log), refusing while others still point at it."""
    k = kind(kind_name)
    with store.transaction(actor=actor) as tx:
        current = get(store, kind_name, ref)
        blocking = dependents(store, kind_name, current["id"])
        if blocking:
            raise InputError(
                "error.has_dependents",
                what=describe(store, kind_name, current),
                counts=t("list.sep").join(t("count." + table, n=n) for table, n in blocking.items()),
            )
        if kind_name == "household":
            for member in members_of(store, current["id"]):
                tx.delete("members", member["id"])
        if kind_name == "building":
            for lead in list(store.records("leads").values()):
                if current["id"] in lead.get("buildings", ()):
                    tx.update(
                        "leads",
                        lead["id"],
                        {"buildings": [b for b in lead["buildings"] if b != current["id"]]},
                    )
        tx.delete(k.table, current["id"])
    return current


# -- reading ------------------------------------------------------------------------------------


def grid_code(store: Store, grid_id: str) -> str:
    grid = store.records("grid_cells").get(grid_id)
    return grid["code"] if grid else ""


def building_label(store: Store, building: dict[str, Any] | None) -> str:
    if not building:
        return ""
    return f"{building['compound']}{building['number']}栋"


def address(store: Store, household: dict[str, Any]) -> str:
    """The address a worker recognises: 湘离小区5栋2单元0502."""
    building = store.records("buildings").get(household.get("building", ""))
    return f"{building_label(store, building)}{household.get('unit')}单元{household.get('room')}"


def describe(store: Store, kind_name: str, record: dict[str, Any]) -> str:
    """A one-line name for a record in messages."""
    if kind_name == "grid_cell":
        return f"{record['code']} {record['name']}"
    if kind_name == "building":
        return f"{building_label(store, record)} ({grid_code(store, record['grid_cell'])})"
    if kind_name == "household":
        return f"{address(store, record)} {record['head']}"
    return str(record.get("name", record.get("id")))


def _natural_sort(text: str) -> tuple[Any, ...]:
    return tuple(int(part) if part.isdecimal() else part for part in re.split(r"(\d+)", text))


def household_sort_key(store: Store) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    buildings = store.records("buildings")

    def key(h: dict[str, Any]) -> tuple[Any, ...]:
        b = buildings.get(h["building"], {})
        return (
            grid_code(store, h["grid_cell"]),
            b.get("compound", ""),
            _natural_sort(b.get("number", "")),
            h.get("unit") or 0,
            _natural_sort(h.get("room", "")),
        )

    return key


def list_records(
    store: Store,
    kind_name: str,
    grid: str | None = None,
    tag: str | None = None,
    building: str | None = None,
    query: str | None = None,
) -> list[dict[str, Any]]:
    """Records of one kind, filtered and in the order a worker reads them."""
    k = kind(kind_name)
    records: Iterable[dict[str, Any]] = store.records(k.table).values()
    if grid:
        grid_id = grid_cell_by_ref(store, grid)["id"]
        if kind_name == "grid_cell":
            records = [r for r in records if r["id"] == grid_id]
        else:
            records = [r for r in records if r.get("grid_cell") == grid_id]
    if building:
        building_id = building_by_ref(store, building)["id"]
        if kind_name == "lead":
            records = [r for r in records if building_id in r.get("buildings", ())]
        else:
            records = [r for r in records if r.get("building") == building_id]
    if tag:
        records = [r for r in records if tag in r.get("tags", ())]
    if query:
        records = [r for r in records if record_matches(store, kind_name, r, query)]
    result = list(records)
    if kind_name == "household":
        result.sort(key=household_sort_key(store))
    elif kind_name == "grid_cell":
        result.sort(key=lambda r: _natural_sort(r["code"]))
    elif kind_name == "building":
        result.sort(
            key=lambda r: (grid_code(store, r["grid_cell"]), r["compound"], _natural_sort(r["number"]))
        )
    else:
        result.sort(key=lambda r: (grid_code(store, r.get("grid_cell", "")), r["name"]))
    return result


def record_matches(store: Store, kind_name: str, record: dict[str, Any], query: str) -> bool:
    """Free-text match: names, address, phone tail, tags, pinyin initials (``cjj`` → 程金娇)."""
    q = query.strip()
    if q.isdigit():
        phones = [record.get("phone"), record.get("worker_phone")]
        if kind_name == "household":
            phones += [m.get("phone") for m in members_of(store, record["id"])]
        if any(p and p.endswith(q) for p in phones):
            return True
    if kind_name == "household":
        names = [record["head"], *(m["name"] for m in members_of(store, record["id"]))]
        return text_matches(q, *names, address(store, record), *record.get("tags", ()), record.get("notes"))
    if kind_name == "building":
        return text_matches(q, building_label(store, record))
    if kind_name == "grid_cell":
        return text_matches(q, record["code"], record["name"], record.get("worker"), record.get("community"))
    return text_matches(q, record.get("name"))


def find_households(store: Store, query: str, limit: int | None = None) -> list[dict[str, Any]]:
    found = list_records(store, "household", query=query)
    return found[:limit] if limit else found
