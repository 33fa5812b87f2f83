"""Importing a ledger: rows to records, matched to the register by natural key, in one transaction.

Natural keys (what makes a row "the same record" as one already registered):

* grid cell: its code (case-insensitive);
* building: grid cell + compound + building number;
* lead: name + mobile number;
* household: building (grid + compound + number) + unit + room. Rooms follow the register's rule
  (:func:`gridtool.register.normalise_room`: 502 is 0502), and digits-only rooms match a registered
  one whatever its leading zeros, so a store written before that rule is still matched;
* member: ID number within the household (a member without one: by name).

Importing the same file twice changes nothing the second time: rows equal to their record write
no operation, and a transaction without operations writes no log line at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from gridtool.errors import InputError, NotFound, Problem, ValidationError
from gridtool.i18n import catalog, language, t
from gridtool.ids import IdMinter
from gridtool.ledger.columns import (
    HEADER_SCAN_ROWS,
    Header,
    check_required,
    expected_headers,
    find_header,
    where,
)
from gridtool.ledger.sheets import LedgerError, Sheet, read_file
from gridtool.register import (
    Checker,
    _building_number,
    describe,
    members_of,
    normalise_room,
    parse_members,
    save_members,
)
from gridtool.store import Store, Transaction, collector_paused
from gridtool.validate import Invalid, check_mobile, id_number_text, mask_id_number, mask_phone

ON_EXISTING = ("update", "skip", "error")
_BLANK = ("", [], None)
Progress = Callable[[int, int], None]
HEAD = "户主"
_ID_LIKE = re.compile(r"[0-9]{6,}[0-9Xx*]*|[0-9]{4}\*+[0-9Xx]+")
_ADDRESS = re.compile(
    r"^(?P<compound>.*?)(?P<building>[0-9A-Za-z]+)(?:号楼|栋|幢|号|楼)"
    r"(?P<unit>[0-9]+)单元(?P<room>[0-9A-Za-z\-]+?)(?:室|号|房)?$"
)
_SPLIT_LIST = re.compile(r"[,，、;；|]")
# A building cell that also names its compound (青枫小区1栋, 青枫小区/1), in a file without 小区.
_COMPOUND_AND_NUMBER = re.compile(r"^(?P<compound>[^0-9].*?)[/／\s\-]*(?P<number>[0-9]+)$")


@dataclass
class RowIssue:
    """A problem (or a warning) with one cell or row, as the worker finds it in Excel."""

    row: int
    column: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    value: str = ""

    def reason(self) -> str:
        params = dict(self.params)
        if "table" in params:
            params["table"] = t(f"table.{params['table']}")
        text = t(self.key, **params)
        if "n" in self.params:
            text = f"{t('member.n', n=self.params['n'])} {text}"
        return text

    def message(self, unit: str = "row") -> str:
        place = t(f"ledger.{unit}", row=self.row)
        if self.column:
            place += f" {t('ledger.column', column=self.column)}"
        value = t("ledger.value", value=self.value) if self.value else ""
        return t("ledger.issue", place=place, reason=self.reason(), value=value)


@dataclass
class ImportReport:
    """What an import found and did; the command layer prints it, the library never does."""

    kind: str
    source: str
    sheet: str
    encoding: str | None
    header_row: int
    headers: list[str]
    positions: list[int] = field(default_factory=list)  # where each header's cells sit in a row
    unit: str = "row"
    unknown_columns: list[str] = field(default_factory=list)
    doubled_columns: list[str] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    rejected_rows: list[tuple[int, list[str]]] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False
    partial: bool = False  # --skip-invalid: good rows are written, bad ones reported

    @property
    def rejected(self) -> int:
        return len(self.rejected_rows)

    @property
    def refused(self) -> bool:
        """All-or-nothing and something was wrong: nothing was (or would be) written."""
        return bool(self.rejected_rows) and not self.partial

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "rejected": self.rejected,
        }

    def reasons(self) -> dict[int, str]:
        """Row number -> every reason it was rejected, for the rejects file."""
        out: dict[int, list[str]] = {}
        for issue in self.problems:
            text = issue.reason()
            out.setdefault(issue.row, []).append(f"{issue.column}: {text}" if issue.column else text)
        return {row: "; ".join(texts) for row, texts in out.items()}

    def as_dict(self) -> dict[str, Any]:
        """The report for scripts (``--format json``): counts and every problem, values masked."""

        def issue(i: RowIssue) -> dict[str, Any]:
            return {"row": i.row, "column": i.column, "reason": i.reason(), "value": i.value, "key": i.key}

        return {
            "kind": self.kind,
            "file": self.source,
            "sheet": self.sheet,
            "encoding": self.encoding,
            "header_row": self.header_row,
            "rows": self.rows,
            **self.counts(),
            "dry_run": self.dry_run,
            "written": self.written,
            "unknown_columns": self.unknown_columns,
            "doubled_columns": self.doubled_columns,
            "problems": [issue(i) for i in self.problems],
            "warnings": [issue(i) for i in self.warnings],
        }


@dataclass(eq=False, slots=True)
class _Row:
    index: int
    number: int
    cells: list[str]
    values: dict[str, str]
    extras: dict[str, str]
    problems: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    key: Any = None
    skip: bool = False
    members: list[dict[str, str]] | None = None
    member_mode: str | None = None  # "replace" (a members column), "head" (only the head's ID)
    member_columns: list[str] = field(default_factory=list)
    member_keys: list[str] = field(default_factory=list)  # normalized ID numbers, computed once
    building: str | None = None


class _Rollback(Exception):
    pass


# -- one handler per kind of record -------------------------------------------------------------


class _Ledger:
    """What importing one kind of record needs: resolving references, natural keys, staging."""

    kind = ""
    table = ""
    text_fields: tuple[str, ...] = ()

    def __init__(self, store: Store, header: Header, grid: str | None, ids: IdMinter) -> None:
        self.store = store
        self.actor = ""
        self.columns = header.by_field()
        self.ids = ids
        self.codes = {g["code"]: gid for gid, g in store.records("grid_cells").items()}
        self.default_grid = grid.strip().upper() if grid else None
        if self.default_grid and self.default_grid not in self.codes:
            raise LedgerError("ledger.unknown_grid_option", code=grid)

    @cached_property
    def check(self) -> Checker:
        """The register's rules for this kind, looked up once for the whole file."""
        return Checker(self.store, self.kind)

    def has(self, name: str) -> bool:
        return name in self.columns

    def column(self, name: str) -> str:
        col = self.columns.get(name)
        return col.header if col else ""

    def problem(self, row: _Row, name: str, key: str, value: str = "", **params: Any) -> None:
        row.problems.append(RowIssue(row.number, self.column(name), key, params, value))

    def grid_of(self, row: _Row) -> str | None:
        """The row's grid cell id: its own column, else ``--grid``; a row naming another grid than
        ``--grid`` is refused, so ``--grid`` both fills blanks and guards against a wrong file."""
        given = row.values.get("grid_cell", "").upper()
        if given and self.default_grid and given != self.default_grid:
            self.problem(row, "grid_cell", "ledger.other_grid", given, expected=self.default_grid)
            return None
        code = given or self.default_grid
        if not code:
            return None
        gid = self.codes.get(code)
        if gid is None:
            self.problem(row, "grid_cell", "ledger.unknown_grid", code)
        return gid

    def plain(self, row: _Row) -> dict[str, Any]:
        return {f: row.values[f] for f in self.text_fields if f in row.values}

    def prepare(self, rows: list[_Row]) -> None:
        raise NotImplementedError

    def existing(self, row: _Row) -> str | None:
        raise NotImplementedError

    def flush(self, tx: Transaction) -> None:
        """Write what :meth:`stage` kept back to write in bulk."""

    def holders(self, row: _Row) -> set[str]:
        """The other records holding what the row claims (households: its people)."""
        return set()

    def settle(self, row: _Row, rid: str) -> str | None:
        """For records a ledger cannot edit: ``unchanged`` or ``skipped`` instead of an update."""
        return None

    def merged(self, row: _Row, rid: str | None) -> dict[str, Any]:
        """The whole record to validate: the registered one with the file's columns laid over it.
        Columns the file does not have keep their registered values."""
        data = dict(row.data)
        if rid is None:
            if row.extras:
                data["extras"] = dict(row.extras)
            return data
        current = self.store.records(self.table)[rid]
        # Without the id and the store's "_op" (fields the register does not know are dropped by
        # its checks anyway): a copy and two deletions cost a third of a filtering comprehension.
        merged = dict(current)
        merged.pop("id", None)
        merged.pop("_op", None)
        for name, value in list(data.items()):
            # A blank cell in a ledger means "not filled in", not "erase": keep what is registered
            # and say so (a worker clears a value with `edit`, where it is deliberate).
            if not value and value in _BLANK and current.get(name) not in _BLANK:
                del data[name]
                row.warnings.append(RowIssue(row.number, self.column(name), "ledger.blank_kept"))
        merged.update(data)
        if row.extras:
            merged["extras"] = {**(current.get("extras") or {}), **row.extras}
        return merged

    def stage(self, tx: Transaction | None, row: _Row, rid: str | None) -> bool:
        """Validate the row and, inside ``tx``, write it; returns whether anything changed."""
        merged = self.merged(row, rid)
        clean = self.check(merged, own_id=rid)
        if tx is None:
            return False
        if rid is None:
            tx.create(self.table, clean, self.ids())
            return True
        return tx.update(self.table, rid, clean)

    def column_of(self, problem: Problem, row: _Row) -> str:
        return self.column(problem.field)

    def masked_value(self, name: str, row: _Row) -> str:
        text = row.values.get(name, "")
        if name in ("phone", "worker_phone"):
            return mask_phone(text)
        if name in ("id_number", "members"):
            return _ID_LIKE.sub(lambda m: mask_id_number(m.group(0)), text)
        return text[:60]

    def check_masked(self, rows: list[_Row]) -> None:
        """A file exported without --show-pii has 4301**********002X where the ID number was."""
        names = [n for n in ("id_number", "phone", "worker_phone", "members") if self.has(n)]
        for row in rows:
            for name in names:
                if "*" in row.values.get(name, ""):
                    self.problem(row, name, "ledger.masked", self.masked_value(name, row))

    def issues(self, row: _Row, problems: list[Problem]) -> list[RowIssue]:
        flagged = {i.column: i.key for i in row.problems}
        out = []
        for p in problems:
            column = self.column_of(p, row)
            if column in flagged and (
                flagged[column] == "ledger.masked" or p.key in ("invalid.required", "invalid.missing_ref")
            ):
                continue  # already explained more precisely by the import
            name = next((f for f, c in self.columns.items() if c.header == column), p.field)
            value = p.value if p.value else self.masked_value(name, row)
            out.append(RowIssue(row.number, column, p.key, self.member_params(p, row), value or ""))
        return out

    def member_params(self, problem: Problem, row: _Row) -> dict[str, Any]:
        """Number members as the worker sees them: the head's ID column is no "member 1", and the
        members cell counts its own people from 1."""
        params = dict(problem.params)
        n = params.get("n")
        if isinstance(n, int) and row.member_mode == "replace" and 0 < n <= len(row.member_columns):
            id_column = self.column("id_number")
            if id_column and row.member_columns[n - 1] == id_column:
                del params["n"]
            elif id_column and row.member_columns[0] == id_column:
                params["n"] = n - 1
        elif isinstance(n, int) and row.member_mode == "head":
            del params["n"]
        return params

    def describe(self, rid: str) -> str:
        return describe(self.store, self.kind, self.store.records(self.table)[rid])


class _GridCells(_Ledger):
    kind, table = "grid_cell", "grid_cells"
    text_fields = ("code", "name", "community", "town", "worker", "worker_phone", "notes")

    def prepare(self, rows: list[_Row]) -> None:
        for row in rows:
            row.data = self.plain(row)
            code = row.values.get("code", "").upper()
            row.key = code or None

    def existing(self, row: _Row) -> str | None:
        return self.codes.get(row.key) if row.key else None


class _Buildings(_Ledger):
    kind, table = "building", "buildings"
    text_fields = ("compound", "units", "floors", "notes")

    def __init__(self, store: Store, header: Header, grid: str | None, ids: IdMinter) -> None:
        super().__init__(store, header, grid, ids)
        self.by_key = {
            (b["grid_cell"], b["compound"], b["number"]): bid for bid, b in store.records("buildings").items()
        }

    def prepare(self, rows: list[_Row]) -> None:
        for row in rows:
            gid = self.grid_of(row)
            if gid is None and not row.problems:
                self.problem(row, "grid_cell", "invalid.required")
            row.data = self.plain(row)
            number = _building_number(row.values.get("number"))
            row.data["number"] = number
            if gid:
                row.data["grid_cell"] = gid
                row.key = (gid, row.values.get("compound", ""), number)

    def existing(self, row: _Row) -> str | None:
        return self.by_key.get(row.key)

    def column_of(self, problem: Problem, row: _Row) -> str:
        return self.column(problem.field) or self.column("grid_cell")


class _Leads(_Ledger):
    kind, table = "lead", "leads"
    text_fields = ("name", "phone", "notes")

    def __init__(self, store: Store, header: Header, grid: str | None, ids: IdMinter) -> None:
        super().__init__(store, header, grid, ids)
        self.by_key = {(r["name"], r.get("phone", "")): rid for rid, r in store.records("leads").items()}
        self.roles: dict[str, str] = {}
        for lang in ("en", "zh"):
            for key, label in catalog(lang).items():
                if key.startswith("role."):
                    self.roles[label.lower()] = key[5:]
        buildings = store.records("buildings")
        self.buildings: dict[tuple[str, str], list[str]] = {}
        for bid, b in buildings.items():
            self.buildings.setdefault((b["compound"], b["number"]), []).append(bid)

    def building(self, ref: str, gid: str | None) -> str | None:
        compound, _, number = ref.rpartition("/")
        found = self.buildings.get((compound.strip(), _building_number(number)), [])
        if len(found) > 1 and gid:
            found = [b for b in found if self.store.records("buildings")[b]["grid_cell"] == gid]
        if len(found) == 1:
            return found[0]
        try:
            return self.store.resolve("buildings", ref) if not found else None
        except NotFound:
            return None

    def prepare(self, rows: list[_Row]) -> None:
        for row in rows:
            gid = self.grid_of(row)
            row.data = self.plain(row)
            if gid:
                row.data["grid_cell"] = gid
            if "roles" in row.values:
                tokens = [x.strip() for x in _SPLIT_LIST.split(row.values["roles"]) if x.strip()]
                row.data["roles"] = [self.roles.get(x.lower(), x) for x in tokens]
            if "buildings" in row.values:
                ids = []
                for ref in (x.strip() for x in _SPLIT_LIST.split(row.values["buildings"])):
                    if not ref:
                        continue
                    bid = self.building(ref, gid)
                    if bid is None:
                        self.problem(row, "buildings", "ledger.unknown_lead_building", ref)
                    else:
                        ids.append(bid)
                row.data["buildings"] = ids
            if row.values.get("active"):
                row.data["active"] = row.values["active"]
            row.key = (row.values.get("name", ""), _phone_key(row.values.get("phone", "")))

    def existing(self, row: _Row) -> str | None:
        return self.by_key.get(row.key)


class _Households(_Ledger):
    kind, table = "household", "households"
    text_fields = ("head", "phone", "tags", "notes")

    def __init__(self, store: Store, header: Header, grid: str | None, ids: IdMinter) -> None:
        super().__init__(store, header, grid, ids)
        self.arriving: list[tuple[str, dict[str, Any]]] = []
        self.arriving_people: list[tuple[str, dict[str, Any]]] = []
        self.buildings = store.records("buildings")
        self.by_address: dict[tuple[str, str, str], str] = {}
        self.by_number: dict[tuple[str, str], list[str]] = {}
        for bid, b in self.buildings.items():
            self.by_address[(b["grid_cell"], b["compound"], b["number"])] = bid
            self.by_number.setdefault((b["compound"], b["number"]), []).append(bid)
            self.by_number.setdefault(("", b["number"]), []).append(bid)
        self.registered_before = list(store.records("households"))

    @cached_property
    def loose(self) -> dict[tuple[str, int, str], str]:
        """Rooms as registered are matched through the register's own natural index (self.check);
        this map adds digits-only rooms whatever their zeros, for stores written before 0502. Built
        on the first row the index misses (never, when a file updates what it registered), from
        the households registered before the import."""
        households = self.store.records("households")
        loose: dict[tuple[str, int, str], str] = {}
        for hid in self.registered_before:
            h = households[hid]
            loose.setdefault((h["building"], h["unit"], _room_key(h.get("room") or "")), hid)
        return loose

    # -- addresses

    def address_parts(self, row: _Row) -> tuple[str, str, str, str]:
        """Compound, building number, unit and room: from their columns, or read from an address
        column (湘离小区5栋2单元0502) when the file has no separate columns for them."""
        values = row.values
        parts = {f: values.get(f, "") for f in ("compound", "building", "unit", "room")}
        text = re.sub(r"\s+", "", values.get("address", ""))
        found = _ADDRESS.match(text)
        if found is None:
            if text or not all(parts[f] for f in ("building", "unit", "room")):
                self.problem(row, "address", "ledger.address_unparsed", text[:60])
        else:
            for name, value in found.groupdict().items():
                if not (self.has(name) and parts[name]):
                    parts[name] = value
        return parts["compound"], parts["building"], parts["unit"], parts["room"]

    def building_of(self, row: _Row, gid: str | None, compound: str, number: str) -> str | None:
        column = "building" if self.has("building") else "address"
        if not number:
            if not row.problems:  # an unreadable address already said so
                self.problem(row, column, "invalid.required")
            return None
        named = _COMPOUND_AND_NUMBER.match(number) if not compound else None
        if gid:
            bid = self.by_address.get((gid, compound, number))
            if bid is None and not compound:
                found = [
                    b for b in self.by_number.get(("", number), []) if self.buildings[b]["grid_cell"] == gid
                ]
                bid = found[0] if len(found) == 1 else None
            if bid is None and named:
                bid = self.by_address.get((gid, named["compound"], named["number"]))
            if bid is None:
                code = self.store.records("grid_cells")[gid]["code"]
                self.problem(row, column, "ledger.unknown_building", f"{compound}{number}栋", grid=code)
            return bid
        found = self.by_number.get((compound, number), [])
        if not found and named:
            found = self.by_number.get((named["compound"], named["number"]), [])
        if len(found) == 1:
            return found[0]
        label = f"{compound}{number}栋"
        if found:
            self.problem(row, column, "ledger.ambiguous_building", label, count=len(found))
        else:
            self.problem(row, column, "ledger.unknown_building_anywhere", label)
        return None

    def prepare(self, rows: list[_Row]) -> None:
        use_address = self.has("address") and not all(self.has(f) for f in ("building", "unit", "room"))
        for row in rows:
            gid = self.grid_of(row)
            values = row.values
            if use_address:
                compound, number, unit, room = self.address_parts(row)
            else:
                compound, number = values.get("compound", ""), values["building"]
                unit, room = values["unit"], values["room"]
            if not number.isdigit():
                number = _building_number(number)
            bid = self.building_of(row, gid, compound, number)
            row.building = bid
            if unit.endswith("单元"):
                unit = unit[:-2]
            if room.endswith(("室", "号", "房")):
                room = room[:-1]
            row.data = self.plain(row)
            row.data.update(unit=unit, room=room)
            if bid:
                row.data["building"] = bid
                row.data["grid_cell"] = self.buildings[bid]["grid_cell"]
            elif gid:
                row.data["grid_cell"] = gid
            self.prepare_members(row)
        padded: list[_Row] = []
        for row in rows:  # rooms as the register writes them: 502 is 0502 (normalise_room)
            room, bid, unit = row.data["room"], row.building, row.data["unit"]
            number = _unit_number(unit)
            if not self.registered(bid, number, room):  # a room registered as written stays so
                normal = normalise_room(room)
                if normal != room:
                    padded.append(row)
                    row.data["room"] = room = normal
            if bid and number is not None and room:
                row.key = (bid, number, _room_key(room))
        if padded:  # one line for the file: Excel drops the zero from every such room at once
            first = padded[0]
            first.warnings.append(
                RowIssue(
                    first.number,
                    self.room_column(),
                    "ledger.room_padded",
                    {"padded": first.data["room"], "count": len(padded)},
                    first.values.get("room") or first.data["room"].lstrip("0"),
                )
            )

    def room_column(self) -> str:
        return self.column("room") or self.column("address")

    def prepare_members(self, row: _Row) -> None:
        head_id = row.values.get("id_number", "")
        listed = row.values.get("members")
        desired: list[dict[str, str]] = []
        keys: list[str] = []
        columns: list[str] = []
        head_key = _norm_id(head_id) if head_id else ""
        if head_id:
            desired.append({"name": row.values.get("head", ""), "id_number": head_id, "relation": HEAD})
            keys.append(head_key)
            columns.append(self.column("id_number"))
        if listed:  # a blank members cell leaves the registered members alone, like any blank
            members_column = self.column("members")
            for member in parse_members(listed):
                key = _norm_id(member["id_number"])
                if head_key and key == head_key:
                    continue
                desired.append(member)
                keys.append(key)
                columns.append(members_column)
            row.member_mode = "replace"
        elif head_id:
            row.member_mode = "head"
        row.members = desired
        row.member_keys = keys
        row.member_columns = columns

    # -- matching and staging

    def existing(self, row: _Row) -> str | None:
        if row.key is None:
            return None
        bid, unit, _ = row.key
        return self.registered(bid, unit, row.data["room"]) or self.loose.get(row.key)

    def registered(self, building: str | None, unit: int | None, room: str) -> str | None:
        """The household registered at exactly this address, by the register's natural key."""
        found = self.check.natural.lookup((building, unit, room))
        return min(found) if found else None

    def final_members(self, row: _Row, before: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The household's members after the import, each matched to a registered member (by ID
        number, else by name) so it keeps its id: unchanged people write nothing."""
        if not before:  # a new household, or one without people yet: everyone is new (read only)
            return list(row.members or ())
        desired = row.members or []
        if row.member_mode == "head":
            olds = [{k: v for k, v in m.items() if k[0] != "_" and k != "household"} for m in before]
            head = desired[0]
            wanted = _norm_id(head["id_number"])
            if any(_norm_id(m.get("id_number")) == wanted for m in olds):
                return olds
            for m in olds:
                if m.get("relation") == HEAD or m.get("name") == head["name"]:
                    m.update(name=head["name"], id_number=head["id_number"])
                    return olds
            return [head, *olds]
        olds = before  # only read from here on
        by_id = {m["id_number"]: m for m in olds if m.get("id_number")}
        used: set[str] = set()
        final = []
        for member, key in zip(desired, row.member_keys, strict=True):
            match = by_id.get(key) if key else None
            if match is None:
                match = next(
                    (
                        m
                        for m in olds
                        if m["name"] == member["name"]
                        and not (m.get("id_number") and key)
                        and m["id"] not in used
                    ),
                    None,
                )
            if match is not None and match["id"] not in used:
                used.add(match["id"])
                final.append({**member, "id": match["id"]})
            else:
                final.append(dict(member))
        return final

    def stage(self, tx: Transaction | None, row: _Row, rid: str | None) -> bool:
        merged = self.merged(row, rid)
        before = members_of(self.store, rid) if rid and row.member_mode else []
        if row.member_mode and not _listed_as_registered(row, before):
            final = self.final_members(row, before)
            if not _same_members(before, final):  # unchanged people were validated when written
                merged["members"] = final
        clean = self.check(merged, own_id=rid)
        members = clean.pop("members", None)
        if tx is None:
            return False
        if rid is None:
            rid = self.ids()
            self.arriving.append((rid, clean))
            for person in members or ():  # the register's own clean copies: nobody else holds them
                person["household"] = rid
                self.arriving_people.append((self.ids(), person))
            return True
        n = len(tx.ops)
        tx.update("households", rid, clean)
        if members is not None:
            save_members(tx, rid, before, members, self.ids)
        return len(tx.ops) > n

    def holders(self, row: _Row) -> set[str]:
        """The other households the row's people are registered in."""
        people, index = self.check.people, self.check.member_ids
        found = {people[m]["household"] for key in row.member_keys if key for m in index.lookup(key)}
        found.discard(self.existing(row))
        return found

    def flush(self, tx: Transaction) -> None:
        """Write the new households and their people, two tight loops instead of one generic
        operation each. Until then later rows are checked without them: the file's duplicate
        addresses and people were found before any row was staged, and a row refused before it is
        staged flushes them first, so its report names clashes with them too."""
        tx.create_many("households", self.arriving)
        tx.create_many("members", self.arriving_people)
        self.arriving, self.arriving_people = [], []

    def column_of(self, problem: Problem, row: _Row) -> str:
        name = problem.field
        if name in ("members", "id_number"):
            n = problem.params.get("n")
            if row.member_mode == "replace" and isinstance(n, int) and 0 < n <= len(row.member_columns):
                return row.member_columns[n - 1]
            return self.column("id_number") or self.column("members")
        if name == "building":
            return self.column("building") or self.column("compound") or self.column("address")
        if name in ("unit", "room", "grid_cell"):
            return self.column(name) or self.column("address")
        return self.column(name)


class _Issues(_Ledger):
    """Residents' issues (诉求台账). An issue is its timeline of events, so a ledger row creates an
    issue with a timeline that reaches the row's status (report, assign, accept, resolve, visit,
    close at the times the row gives); it never edits a registered issue: those change through
    ``gridtool issue`` commands, and a row that disagrees with one is skipped with a warning."""

    kind, table = "issue", "issues"
    FACTS = ("title", "description", "category", "urgency", "scale", "channel")

    def __init__(self, store: Store, header: Header, grid: str | None, ids: IdMinter) -> None:
        super().__init__(store, header, grid, ids)
        from gridtool import issues as workflow
        from gridtool.register import address
        from gridtool.sla import load_sla

        self.workflow = workflow
        self.sla = load_sla()
        self.now = workflow.now()
        records = store.records("issues")
        self.by_number = {r["number"]: rid for rid, r in records.items() if r.get("number")}
        # A ledger row without a number is the same issue when it was reported at the same minute
        # with the same title (and household, when both name one): re-importing it changes nothing.
        self.by_facts: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for rid, r in records.items():
            if r.get("reported_at") and r.get("title"):
                key = (str(r["reported_at"])[:16], r["title"])
                self.by_facts.setdefault(key, []).append((rid, r.get("household") or ""))
        self.numbers = workflow.NumberAllocator(store)  # registered numbers and the file's are taken
        self.by_address = {address(store, h): hid for hid, h in store.records("households").items()}
        self.statuses: dict[str, str] = {}
        for status in workflow.STATUSES:
            self.statuses[status] = status
            for lang in ("en", "zh"):
                name = catalog(lang).get(f"status.{status}")
                if name:
                    self.statuses[name.lower()] = status
        self.actor = ""

    def prepare(self, rows: list[_Row]) -> None:
        from gridtool.errors import InputError

        for row in rows:
            values = row.values
            number = values.get("number", "")
            if number:
                try:
                    number = self.workflow.format_number(*self.workflow.number_key(number))
                except (InputError, ValueError):
                    self.problem(row, "number", "ledger.bad_issue_number", number)
                    number = ""
            row.key = number or None
            row.data = {f: values[f] for f in self.FACTS if f in values}
            status_text = values.get("status", "").strip()
            row.data["_status"] = self.statuses.get(status_text.lower(), "") if status_text else "reported"
            row.data["_status_text"] = status_text
            place = re.sub(r"\s+", "", values.get("address", ""))
            if place:
                hid = self.by_address.get(place)
                row.data["household" if hid else "_unknown_address"] = hid or place
            elif values.get("reporter"):
                row.data["household"] = values["reporter"]  # a head's name, if only one household has it
            gid = self.grid_of(row)
            if gid:
                row.data["grid_cell"] = gid
        seen: dict[tuple[str, str, str], int] = {}
        for row in rows:
            if row.key:
                self.numbers.reserve(row.key)
                continue
            facts = self._facts(row)
            if facts is None:
                continue
            row.data["_facts"] = facts
            if facts in seen:
                row.skip = True
                row.warnings.append(RowIssue(row.number, "", "ledger.same_row", {"first": seen[facts]}))
            else:
                seen[facts] = row.number

    def _facts(self, row: _Row) -> tuple[str, str, str] | None:
        from gridtool.errors import InputError

        when, title = row.values.get("reported_at", ""), row.data.get("title", "")
        if not when or not title:
            return None
        try:
            moment = self.workflow.parse_when(when, "reported_at").isoformat()[:16]
        except (InputError, ValueError):
            return None
        household = row.data.get("household", "")
        return moment, title, household if household in self.store.records("households") else ""

    def existing(self, row: _Row) -> str | None:
        if row.key:
            return self.by_number.get(row.key)
        facts = row.data.get("_facts")
        if facts is None:
            return None
        moment, title, household = facts
        for rid, registered in self.by_facts.get((moment, title), ()):
            if not household or not registered or household == registered:
                return rid
        return None

    def settle(self, row: _Row, rid: str) -> str | None:
        issue = self.store.records("issues")[rid]
        if (
            issue.get("title") == row.data.get("title", issue.get("title"))
            and issue.get("status") == row.data["_status"]
        ):
            return "unchanged"
        row.warnings.append(
            RowIssue(
                row.number,
                self.column("number"),
                "ledger.issue_exists",
                {"status": self.workflow.label("status", issue.get("status"))},
                row.key,
            )
        )
        return "skipped"

    def steps(self, row: _Row) -> list[tuple[str, Any, str | None, dict[str, Any]]]:
        parse = self.workflow.parse_when
        values = row.values
        status = row.data["_status"]
        at = parse(values["reported_at"], "reported_at") if values.get("reported_at") else self.now
        steps: list[tuple[str, Any, str | None, dict[str, Any]]] = [("report", at, self.actor, {})]
        if status == "reported":
            return steps
        # A ledger says where an issue stands, not why it got there: the steps it cannot tell
        # (an escalation's or a rejection's reason) say they come from the ledger.
        reason = t("ledger.reason_from_ledger")
        assign: dict[str, Any] = {"to": values.get("assignee", "")}
        if values.get("due"):
            assign["due"] = values["due"]
        if status == "rejected":
            if values.get("assignee"):
                steps.append(("assign", at, self.actor, assign))
            return [*steps, ("reject", at, self.actor, {"reason": reason})]
        if status == "escalated":
            return [*steps, ("escalate", at, self.actor, {**assign, "reason": reason})]
        steps += [("assign", at, self.actor, assign)]
        if status == "assigned":
            return steps
        steps.append(("accept", at, self.actor, {}))
        if status == "accepted":
            return steps
        if status == "reopened":  # not resolved now: its ledger row need not say when it once was
            done = parse(values["resolved_at"], "resolved_at") if values.get("resolved_at") else at
            steps.append(("resolve", done, self.actor, {"summary": values.get("summary") or reason}))
        else:
            done = parse(values.get("resolved_at") or "", "resolved_at")
            steps.append(("resolve", done, self.actor, {"summary": values.get("summary", "")}))
        if status == "reopened":
            rework = {"due": values["due"]} if values.get("due") else {}
            rating = str(values.get("rating") or "")
            if rating.isdecimal() and int(rating) <= self.workflow.LOW_RATING:  # a poor rating reopened it
                return [*steps, ("visit", done, self.actor, {"rating": rating, **rework})]
            return [*steps, ("reopen", done, self.actor, {"reason": reason, **rework})]
        if status in ("visited", "closed"):
            steps.append(("visit", done, self.actor, {"rating": values.get("rating", "")}))
        if status == "closed":
            steps.append(("close", done, self.actor, {}))
        return steps

    def stage(self, tx: Transaction | None, row: _Row, rid: str | None) -> bool:
        status, text = row.data["_status"], row.data["_status_text"]
        refusals = []
        if not status:
            refusals.append(Problem("status", "ledger.unknown_status", {}, text))
        if row.data.get("_unknown_address"):
            refusals.append(
                Problem("household", "ledger.unknown_household", {}, row.data["_unknown_address"])
            )
        if refusals:
            raise ValidationError(refusals)
        data = {k: v for k, v in row.data.items() if k[0] != "_"}
        record, events = self.workflow.build(
            self.store, data, self.steps(row), self.numbers, self.now, self.sla, number=row.key
        )
        if tx is None:
            return False
        if row.extras:
            record["extras"] = dict(row.extras)
        issue_id = tx.create("issues", record, self.ids())
        for event in events:
            tx.create("events", {"issue": issue_id, **event}, self.ids())
        return True

    def column_of(self, problem: Problem, row: _Row) -> str:
        if problem.field == "household":
            return self.column("address") or self.column("reporter")
        if problem.field in ("to", "assignee"):
            return self.column("assignee")
        if problem.field in ("at",):
            return self.column("reported_at")
        return self.column(problem.field)


HANDLERS: dict[str, type[_Ledger]] = {
    "grid_cell": _GridCells,
    "building": _Buildings,
    "lead": _Leads,
    "household": _Households,
    "issue": _Issues,
}


_PERSON_FIELDS = ("name", "relation", "id_number", "birth_date", "phone")


def _listed_as_registered(row: _Row, before: list[dict[str, Any]]) -> bool:
    """Whether a members cell lists the registered people exactly, in the order they are
    registered, as a re-imported export does: then nobody needs matching or checking again.
    Anything else (another order, one detail changed) goes the long way round."""
    listed = row.members
    if row.member_mode != "replace" or not listed or len(listed) != len(before):
        return False
    for member, old in zip(listed, before, strict=True):  # noqa: SIM110 - see _same_person
        if not _same_person(old, member):
            return False
    return True


def _same_members(before: list[dict[str, Any]], final: list[dict[str, Any]]) -> bool:
    """Whether the file leaves a household's people exactly as registered."""
    if len(before) != len(final):
        return False
    olds = {m["id"]: m for m in before}
    for member in final:
        old = olds.get(member.get("id", ""))
        if old is None or not _same_person(old, member):
            return False
    return True


def _same_person(old: dict[str, Any], member: dict[str, Any]) -> bool:
    """Whether a member says of a person exactly what is registered (a blank is no value)."""
    for key in _PERSON_FIELDS:  # noqa: SIM110 - all() over a generator: 4% more for an update import
        if (old.get(key) or "") != (member.get(key) or ""):
            return False
    return True


def _unit_number(unit: str) -> int | None:
    """The unit as the register reads it (``Problems.integer``: " 3", "+3" and "３" are 3), so
    the file's duplicate check keys rows the way the register will."""
    try:
        return int(unit.strip())
    except ValueError:
        return None


def _room_key(room: str) -> str:
    return (room.lstrip("0") or "0") if room.isdigit() else room


def _norm_id(value: str | None) -> str:
    return id_number_text(value) if value else ""


def _phone_key(value: str) -> str:
    try:
        return check_mobile(value) if value else ""
    except Invalid:
        return value


# -- the import ---------------------------------------------------------------------------------


def choose_sheet(sheets: list[Sheet], kind: str) -> tuple[Sheet, Header]:
    """The first sheet with a header row for this kind (title rows above it are fine)."""
    for sheet in sheets:
        if sheet.unit == "record" and len(sheet.rows) <= 1:
            return sheet, Header(0, [], [], [])  # an empty JSON list: nothing to import, not an error
        header = find_header(sheet, kind)
        if header is not None:
            check_required(sheet, kind, header, language())
            return sheet, header
    first = sheets[0] if sheets else None
    raise LedgerError(
        "ledger.no_header",
        where=where(first) if first else "",
        rows=HEADER_SCAN_ROWS,
        kind=t(f"kind.{kind}"),
        expected=expected_headers(kind, language()),
    )


def read_rows(sheet: Sheet, header: Header) -> list[_Row]:
    """The data rows under the header; blank rows (a ledger's tail, a template's numbered but
    empty rows) are skipped."""
    rows = []
    known = [(c.index, c.field) for c in header.columns if c.field is not None and c.field[0] != "_"]
    unknown = [(c.index, c.header) for c in header.columns if c.field is None]
    full = max((c.index for c in header.columns), default=-1) + 1
    for index in range(header.row + 1, len(sheet.rows)):
        cells = sheet.rows[index]
        width = len(cells)
        if width >= full:  # the usual row, every column there
            values = {field: cells[i].strip() for i, field in known}
        else:
            values = {field: cells[i].strip() if i < width else "" for i, field in known}
        extras = {name: text for i, name in unknown if i < width and (text := cells[i].strip())}
        if extras or any(values.values()):
            rows.append(_Row(index, sheet.number(index), cells, values, extras))
    return rows


def _mark_duplicates(ledger: _Ledger, rows: list[_Row]) -> None:
    """Rows with one natural key: an exact repeat is skipped with a warning; rows that differ
    are all refused, since only the worker knows which one is right."""
    groups: dict[Any, list[_Row]] = {}
    for row in rows:
        if row.key is not None and not row.problems:
            groups.setdefault(row.key, []).append(row)
    for group in groups.values():
        if len(group) < 2:
            continue
        first = group[0]
        differing = [r for r in group[1:] if (r.values, r.extras) != (first.values, first.extras)]
        if not differing:
            for row in group[1:]:
                row.skip = True
                row.warnings.append(RowIssue(row.number, "", "ledger.same_row", {"first": first.number}))
            continue
        for row in group:
            others = _row_list([r.number for r in group if r is not row])
            row.problems.append(RowIssue(row.number, "", "ledger.duplicate_key", {"rows": others}))
    if isinstance(ledger, _Households):
        first: dict[str, _Row] = {}
        shared: dict[str, list[_Row]] = {}  # lists only for the rare number seen twice
        for row in rows:
            if row.skip:
                continue
            for number in row.member_keys:
                if number:
                    holder = first.setdefault(number, row)
                    if holder is not row:
                        shared.setdefault(number, [holder]).append(row)
        for number in (n for n in first if n in shared):  # as the file first names them
            holders = shared[number]
            distinct = list(dict.fromkeys(holders))
            if len(distinct) > 1:
                for row in distinct:
                    others = _row_list([r.number for r in distinct if r is not row])
                    head = _norm_id(row.values.get("id_number", "")) == number or not ledger.column("members")
                    column = ledger.column("id_number") if head else ledger.column("members")
                    row.problems.append(
                        RowIssue(
                            row.number,
                            column,
                            "ledger.duplicate_id",
                            {"rows": others},
                            mask_id_number(number),
                        )
                    )


def _row_list(numbers: list[int], shown: int = 5) -> str:
    """Row numbers for a message: a few, then how many more, so one line stays one line."""
    text = "、".join(str(n) for n in numbers[:shown])
    return text + (f"…(+{len(numbers) - shown})" if len(numbers) > shown else "")


def import_sheet(
    store: Store,
    kind: str,
    sheet: Sheet,
    header: Header,
    *,
    dry_run: bool = False,
    on_existing: str = "update",
    skip_invalid: bool = False,
    grid: str | None = None,
    actor: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one sheet whose header row has been found; see :func:`import_file`."""
    if on_existing not in ON_EXISTING:
        raise ValueError(f"on_existing must be one of {ON_EXISTING}")
    report = ImportReport(
        kind=kind,
        source=sheet.source,
        sheet=sheet.name,
        encoding=sheet.encoding,
        header_row=sheet.number(header.row),
        headers=[c.header for c in header.columns],
        positions=[c.index for c in header.columns],
        unit=sheet.unit,
        unknown_columns=list(header.unknown),
        doubled_columns=list(header.doubled),
        dry_run=dry_run,
        partial=skip_invalid,
    )
    ids = IdMinter()
    with collector_paused():
        rows = read_rows(sheet, header)
        report.rows = total = len(rows)
        steps = total + max(1, total // 4)  # the last fifth: the bulk write, then the commit
        step = max(1, total // 100)
        if progress is not None:
            progress(0, steps)  # the bar shows while the file's keys and people are matched
        try:
            with store.transaction(actor=actor) as tx:
                ledger = HANDLERS[kind](store, header, grid, ids)
                ledger.actor = actor or ""
                ledger.prepare(rows)
                ledger.check_masked(rows)
                _mark_duplicates(ledger, rows)
                moves = _Moves(ledger, tx, report, on_existing)
                for n, row in enumerate(rows, start=1):
                    if row.problems:  # checked against everything written before it
                        ledger.flush(tx)
                    moves.stage(row)
                    if progress is not None and (n % step == 0 or n == total):
                        progress(n, steps)
                for row in rows:
                    report.warnings += row.warnings
                    if row.problems:
                        report.problems += row.problems
                        report.rejected_rows.append((row.number, row.cells))
                if dry_run or (report.rejected_rows and not skip_invalid):
                    raise _Rollback
                # The rows are done with (the report keeps the rejected ones' cells): let them go,
                # so the bulk write reuses their memory.
                rows.clear()
                del moves
                ledger.flush(tx)
                report.written = bool(tx.ops)
                if progress is not None:  # the commit's share is left for the caller to fill
                    progress((total + steps) // 2, steps)
        except _Rollback:
            report.written = False
    return report


def _moving_in(row: _Row) -> bool:
    """Refused only because its people are registered in other households."""
    return bool(row.problems) and all(p.key == "invalid.member_elsewhere" for p in row.problems)


class _Moves:
    """People moving between households of one file: the row taking someone in may come before
    the row that lets them go. Such a row waits for the rows of the households holding its people
    and is tried again as soon as one of them is written, so a chain of moves goes through in one
    pass whatever the order of the rows. A row still waiting at the end keeps its problems: a
    person two households both keep, or two households swapping people (that takes two imports).
    """

    def __init__(self, ledger: _Ledger, tx: Transaction, report: ImportReport, on_existing: str) -> None:
        self.ledger, self.tx, self.report, self.on_existing = ledger, tx, report, on_existing
        self.waiting: dict[str, list[tuple[_Row, int]]] = {}  # household id -> rows waiting on it

    def stage(self, row: _Row) -> None:
        ledger = self.ledger
        todo = [(row, len(row.warnings), False)]
        while todo:
            row, warned, again = todo.pop()
            if again:
                if not _moving_in(row):  # already in, through another household's row
                    continue
                row.problems.clear()
                del row.warnings[warned:]
            _import_row(ledger, self.tx, row, self.report, self.on_existing)
            if _moving_in(row):
                for holder in ledger.holders(row):
                    self.waiting.setdefault(holder, []).append((row, warned))
            elif not row.problems and self.waiting:
                rid = ledger.existing(row)
                if rid is not None:
                    todo += [(waiter, mark, True) for waiter, mark in self.waiting.pop(rid, ())]


def _import_row(ledger: _Ledger, tx: Transaction, row: _Row, report: ImportReport, on_existing: str) -> None:
    if row.skip:
        report.skipped += 1
        return
    rid = ledger.existing(row)
    if row.problems:  # still validate, so the worker sees every problem of the row at once
        try:
            ledger.stage(None, row, rid)
        except ValidationError as bad:
            row.problems += ledger.issues(row, bad.problems)
        except InputError:
            pass  # a whole-record refusal adds nothing to the problems already found
        return
    outcome = ledger.settle(row, rid) if rid is not None else None
    if outcome is not None:
        setattr(report, outcome, getattr(report, outcome) + 1)
        return
    if rid is not None and on_existing == "skip":
        report.skipped += 1
        return
    if rid is not None and on_existing == "error":
        row.problems.append(RowIssue(row.number, "", "invalid.duplicate", {"existing": ledger.describe(rid)}))
        return
    try:
        changed = ledger.stage(tx, row, rid)
    except ValidationError as bad:
        row.problems += ledger.issues(row, bad.problems)
        return
    except InputError as bad:  # a refused transition, a time in the future...
        row.problems.append(RowIssue(row.number, "", bad.key, dict(bad.params)))
        return
    if rid is None:
        report.created += 1
    elif changed:
        report.updated += 1
    else:
        report.unchanged += 1


def import_file(
    store: Store,
    kind: str,
    path: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    dry_run: bool = False,
    on_existing: str = "update",
    skip_invalid: bool = False,
    grid: str | None = None,
    actor: str | None = None,
    progress: Progress | None = None,
    engine: str = "calamine",
) -> ImportReport:
    """Import a ledger file (CSV in UTF-8 or GBK, .xlsx, .json, .jsonl) into the register.

    All or nothing by default: one bad row and nothing is written (``report.refused``). With
    ``skip_invalid`` the good rows are written and the bad ones listed for a rejects file.
    ``progress(done, total)`` is called as rows are processed and written, from ``(0, total)``;
    the last share of ``total`` is the commit, after the last call. Whatever it raises (Ctrl-C)
    abandons the transaction and leaves the store as it was.
    """
    with collector_paused():
        sheets = read_file(path, sheet, engine)
        chosen, header = choose_sheet(sheets, kind)
        return import_sheet(
            store,
            kind,
            chosen,
            header,
            dry_run=dry_run,
            on_existing=on_existing,
            skip_invalid=skip_invalid,
            grid=grid,
            actor=actor,
            progress=progress,
        )


def write_rejects(report: ImportReport, path: str | os.PathLike[str]) -> int:
    """The rejected rows, as read, under the file's own header and a column saying what is wrong:
    fix them there and import that file again. CSV (UTF-8 with BOM) or .xlsx by the name."""
    from gridtool.ledger.sheets import write_csv, write_xlsx

    target = Path(path)
    reasons = report.reasons()
    header = [*report.headers, t("ledger.reason_header")]
    rows = []
    for number, cells in report.rejected_rows:
        picked = [cells[i] if i < len(cells) else "" for i in report.positions]
        rows.append([*picked, reasons.get(number, "")])
    if target.suffix.lower() in (".xlsx", ".xlsm"):
        write_xlsx(target, t("ledger.rejects_sheet"), header, rows)
    else:
        write_csv(target, [header, *rows])
    return len(rows)


__all__ = ["ON_EXISTING", "ImportReport", "RowIssue", "import_file", "import_sheet", "write_rejects"]
