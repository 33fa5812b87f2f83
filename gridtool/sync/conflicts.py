"""Conflicts: the merge as a pure function of a record's operations, how a conflict is shown, and
settling one with an operation that names every value it supersedes, so it syncs like any edit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from gridtool.ids import short
from gridtool.store import Store
from gridtool.sync.derived import load_owner
from gridtool.sync.log import history
from gridtool.sync.operations import Key, Op, SyncError, _sha256, canonical, op_ref, stamp

# Fields that follow from other records and never conflict: an issue's status, assignee, deadline
# and the like are its timeline folded (gridtool.issues.fold), and events only ever append, so two
# laptops that acted on one issue apart made two events, both on the timeline. Each import folds
# the timelines it touched again and writes what the merge got wrong (see derived).
DERIVED = {
    "issues": frozenset(
        {"status", "reported_at", "assignee", "assignee_kind", "due", "window_start", "resolved_at"}
        | {"rating", "rework", "last_event_at"}
    )
}
HUMAN_FIELDS = frozenset({"status", "phone", "worker_phone", "id_number"})  # never settled by the clock


def materialize(ops: list[Op]) -> tuple[dict[str, Any] | None, list[Any] | None]:
    """A record's fields (None when deleted) and the id of its highest operation."""
    if not ops:
        return None, None
    top = max(ops, key=stamp)
    if top.get("del"):
        return None, list(top["id"])
    return _merged_fields(ops), list(top["id"])


def _merged_fields(ops: list[Op]) -> dict[str, Any]:
    """Every field's latest value by ``(hlc, origin)``, whatever the deletes say."""
    fields: dict[str, Any] = {}
    best: dict[str, tuple[int, int, str, int]] = {}
    for op in ops:
        changes = op.get("set")
        if not changes:
            continue
        s = stamp(op)
        for name, value in changes.items():
            if name not in best or s > best[name]:
                best[name] = s
                fields[name] = value
    return fields


def _naive(before: tuple[dict[str, Any] | None, Any], op: Op) -> tuple[dict[str, Any] | None, list[Any]]:
    """What the store's plain ``_apply`` would make of ``op`` over ``before``."""
    if op.get("del"):
        return None, list(op["id"])
    return {**(before[0] or {}), **op["set"]}, list(op["id"])


@dataclass
class Conflict:
    """Two or more concurrent values of one field, or an edit concurrent with a delete."""

    id: str
    table: str
    record: str
    field: str  # "*" for edit-versus-delete
    human: bool  # must a person settle it (issue status, ID number, phone, deletes)?
    options: list[dict[str, Any]]  # {"op": "origin:seq", "origin", "hlc", "value" | "deleted"}
    winner: int  # index into options of what the view shows now
    restored: list[dict[str, Any]] = field(default_factory=list)  # set by resolve: see cascade()

    def as_dict(self, show_pii: bool = False) -> dict[str, Any]:
        """The conflict for ``--format json``: personal data masked as in every list, unless asked."""
        from gridtool.masking import mask_field

        options = self.options
        if not show_pii:
            options = []
            for option in self.options:
                if "value" in option:
                    value = option["value"]
                    if isinstance(value, dict):  # an edit against a delete: every field it wrote
                        value = {k: mask_field(k, v) for k, v in value.items()}
                    else:
                        value = mask_field(self.field, value)
                    option = {**option, "value": value}
                options.append(option)
        return {
            "id": self.id,
            "table": self.table,
            "record": self.record,
            "field": self.field,
            "human": self.human,
            "winner": self.winner,
            "options": options,
        }


def conflict_title(conflict: Conflict) -> str:
    """What a conflict is about, as the CLI and the dashboard list it: badge, table, record, field."""
    from gridtool.i18n import field_label, t, table_label

    badge = t("sync.badge_human") if conflict.human else t("sync.badge_auto")
    name = t("sync.field_record") if conflict.field == "*" else field_label(conflict.field)
    return f"{badge}  {table_label(conflict.table)} {short(conflict.record)} · {name}"


# Fields whose value names another record, and that record's table: shown by its name, not its id.
REFERENCES = {
    "grid_cell": "grid_cells",
    "building": "buildings",
    "buildings": "buildings",
    "household": "households",
    "lead": "leads",
    "volunteer": "volunteers",
    "leader": "volunteers",
    "teams": "teams",
}


def _named(store: Store, field_name: str, value: Any) -> Any:
    """``value`` with the ids it holds replaced by the names of the records they name."""
    from gridtool import register

    table = REFERENCES.get(field_name)
    if table is None or not isinstance(value, (str, list)):
        return value
    kinds = {k.table: name for name, k in register.KINDS.items()}
    records = store.records(table)

    def name(ref: Any) -> Any:
        record = records.get(ref) if isinstance(ref, str) else None
        if record is None:
            return ref
        kind = kinds.get(table)
        return register.describe(store, kind, record) if kind else str(record.get("name", ref))

    return [name(v) for v in value] if isinstance(value, list) else name(value)


def shown_value(
    conflict: Conflict, option: dict[str, Any], show_pii: bool = False, store: Store | None = None
) -> str:
    """One side of a conflict as a person reads it, personal data masked unless asked; with
    ``store``, a value naming another record shows that record's name, not its id."""
    from gridtool.i18n import t
    from gridtool.masking import mask_field

    if option.get("deleted"):
        return t("sync.value_deleted")
    value = option.get("value")
    if isinstance(value, dict) and conflict.field == "*":  # the edit against a delete: what it changed
        shown = {k: v if show_pii else mask_field(k, v) for k, v in sorted(value.items())}
        return ", ".join(
            f"{k}={v if isinstance(v, str) else orjson.dumps(v).decode()}" for k, v in shown.items()
        )
    if not show_pii:
        value = mask_field(conflict.field, value)
    if store is not None:
        value = _named(store, conflict.field, value)
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _conflict_id(table: str, record: str, name: str, refs: list[str]) -> str:
    return _sha256("\x00".join([table, record, name, *sorted(refs)]).encode())[:8]


def _ancestors(ops: list[Op]) -> dict[tuple[str, int], set[tuple[str, int]]]:
    """For each operation, every operation of the record its ``pred`` chain reaches."""
    known = {(op["id"][0], op["id"][1]) for op in ops}
    anc: dict[tuple[str, int], set[tuple[str, int]]] = {}
    for op in sorted(ops, key=stamp):  # a predecessor always has a lower clock (the HLC absorbs it)
        mine: set[tuple[str, int]] = set()
        for p in op.get("pred") or ():
            ref = (p[0], p[1])
            if ref in known:
                mine.add(ref)
                mine |= anc.get(ref, set())
        anc[(op["id"][0], op["id"][1])] = mine
    return anc


def record_conflicts(table: str, record: str, ops: list[Op]) -> list[Conflict]:
    """The conflicts of one record: the same on every replica that holds the same operations."""
    if len(ops) < 2 or len({op["id"][0] for op in ops}) < 2:
        return []  # one origin's operations on a record always form a chain
    anc = _ancestors(ops)
    covered: set[tuple[str, int]] = set().union(*anc.values())
    ident = {id(op): (op["id"][0], op["id"][1]) for op in ops}
    heads = [op for op in ops if ident[id(op)] not in covered]
    out: list[Conflict] = []
    top = max(ops, key=stamp)
    if any(op.get("del") for op in heads) and any("set" in op for op in heads):
        heads.sort(key=stamp)
        options = [_option(op, value=op.get("set"), deleted=bool(op.get("del"))) for op in heads]
        winner = next((i for i, op in enumerate(heads) if op is top), len(heads) - 1)
        refs = [o["op"] for o in options]
        out.append(
            Conflict(_conflict_id(table, record, "*", refs), table, record, "*", True, options, winner)
        )
    # Field by field, on a record that is there: a delete hides nothing here (it is the conflict
    # above), so a value written before a concurrent delete still competes with the others.
    derived = DERIVED.get(table, frozenset())
    names = [] if top.get("del") else sorted({name for op in ops for name in (op.get("set") or ())} - derived)
    for name in names:
        writers = [op for op in ops if name in (op.get("set") or ())]
        hidden: set[tuple[str, int]] = set().union(*(anc[ident[id(w)]] for w in writers))
        visible = [w for w in writers if ident[id(w)] not in hidden]
        if len(visible) < 2 or len({canonical(w["set"][name]) for w in visible}) < 2:
            continue
        visible.sort(key=stamp)
        options = [_option(op, value=op["set"][name]) for op in visible]
        refs = [o["op"] for o in options]
        cid = _conflict_id(table, record, name, refs)
        out.append(Conflict(cid, table, record, name, name in HUMAN_FIELDS, options, len(options) - 1))
    return out


def _option(op: Op, value: Any = None, deleted: bool = False) -> dict[str, Any]:
    option: dict[str, Any] = {"op": op_ref(op["id"]), "origin": op["id"][0], "hlc": list(op["hlc"])}
    if deleted:
        option["deleted"] = True
    else:
        option["value"] = value
    return option


def conflicts(store: Store, ops: dict[Key, list[Op]] | None = None) -> list[Conflict]:
    """Every unsettled conflict in the store, oldest record first."""
    return _all_conflicts(history(store) if ops is None else ops)


def _all_conflicts(history: dict[Key, list[Op]]) -> list[Conflict]:
    out: list[Conflict] = []
    for (table, record), ops in history.items():
        if len(ops) > 1:
            out += record_conflicts(table, record, ops)
    return sorted(out, key=lambda c: (c.table, c.record, c.field))


def find_conflict(store: Store, ref: str, ops: dict[Key, list[Op]] | None = None) -> Conflict:
    matches = (
        [c for c in conflicts(store, ops) if c.id.startswith(ref.strip().lower())] if ref.strip() else []
    )
    if len(matches) != 1:
        raise SyncError("sync.no_conflict", ref=ref)
    return matches[0]


PHONE_FIELDS = frozenset({"phone", "worker_phone"})

ValueCheck = Callable[[str], Any]
_VALUE_CHECKS: dict[tuple[str, str], ValueCheck] = {}


def register_value_check(table: str, name: str, check: ValueCheck) -> None:
    """Let the layer that owns ``table`` check a value typed to settle a conflict on ``name``
    (issues: a status must be one of theirs). ``check(text)`` returns the value to keep or raises
    :class:`~gridtool.errors.ValidationError`."""
    _VALUE_CHECKS[(table, name)] = check


def _value_check(table: str, name: str) -> ValueCheck | None:
    if (table, name) not in _VALUE_CHECKS:
        load_owner(table)
    return _VALUE_CHECKS.get((table, name))


def _take_value(store: Store, conflict: Conflict, text: str, ops: list[Op]) -> Any:
    """The value ``--take`` names: one of those shown, or new text checked like the field's own edit.

    Text stays text (``0003`` is not the number 3), and a new value passes the validator the
    field's edit uses, because a settled value syncs to every laptop with no further check.
    """
    for option in conflict.options:
        value = option.get("value")
        if not option.get("deleted") and (
            text == value or text == str(value) or text == canonical(value).decode()
        ):
            return value
    from gridtool.errors import Problem, ValidationError
    from gridtool.validate import Invalid, check_id_number, check_mobile

    name = conflict.field
    register_kind = _register_kind(conflict.table)
    if register_kind is not None:  # a register record: its own cleaning, on the record with the value
        from gridtool import register

        merged = {**_merged_fields(ops), name: text}
        try:
            clean = register.validate(store, register_kind, merged, own_id=conflict.record)
        except ValidationError as err:
            mine = [p for p in err.problems if p.field == name]
            if mine:
                raise ValidationError(mine) from None
            return text.strip()  # other fields' old troubles are not this decision's
        return clean.get(name, text.strip())
    try:
        if name in PHONE_FIELDS:
            return check_mobile(text)
        if name == "id_number":
            return check_id_number(text)
    except Invalid as bad:
        raise ValidationError([Problem(name, bad.key, dict(bad.params), None)]) from None
    check = _value_check(conflict.table, name)
    if check is not None:
        return check(text)
    if any(not isinstance(o.get("value"), str) for o in conflict.options if not o.get("deleted")):
        raise SyncError("sync.take_shown_only")  # a number or a list: no checked way to read text as one
    return text


def _register_kind(table: str) -> str | None:
    from gridtool.register import KINDS

    return next((name for name, k in KINDS.items() if k.table == table), None)


def resolve(
    store: Store,
    ref: str,
    take: str | None = None,
    keep: str | None = None,
    actor: str | None = None,
) -> tuple[Conflict, Any]:
    """Settle a conflict with one operation over every visible value; returns what was kept.

    ``keep`` is ``"mine"`` (this replica's value, else what the view shows) or ``"theirs"`` (the
    newest value from elsewhere); ``take`` is any value typed in. Keeping a deleted record also
    restores what was deleted with it (:func:`cascade`), listed in the conflict's ``restored``.
    """
    if (take is None) == (keep is None):
        raise SyncError("sync.resolve_how")
    with store.lock.hold(exclusive=True):
        every = history(store)
        conflict = find_conflict(store, ref, every)
        if conflict.field == "*" and take is not None:
            raise SyncError("sync.take_on_delete")
        ops = every[(conflict.table, conflict.record)]
        options = conflict.options
        mine_idx = [i for i, o in enumerate(options) if o["origin"] == store.replica]
        mine = mine_idx[-1] if mine_idx else conflict.winner
        if take is not None:
            chosen: dict[str, Any] | None = None
            value = _take_value(store, conflict, take, ops)
        else:
            others = [i for i in range(len(options)) if i != mine and options[i]["origin"] != store.replica]
            if keep == "theirs" and not others:
                raise SyncError("sync.no_theirs")
            chosen = options[mine] if keep == "mine" else options[others[-1]]
            value = chosen.get("value")
        current = store.records(conflict.table).get(conflict.record)
        pred = [o["op"].rsplit(":", 1) for o in options]
        pred = [[origin, int(seq)] for origin, seq in pred]
        if current is not None:
            for p in store.last_op(current):
                if p not in pred:
                    pred.append(p)
        if conflict.field == "*":
            if chosen is not None and chosen.get("deleted"):
                change: dict[str, Any] = {"del": True}
                value = None
            else:
                change = {"set": _merged_fields(ops)}
        elif current is None:
            change = {"set": {**_merged_fields(ops), conflict.field: value}}
        else:
            change = {"set": {conflict.field: value}}
        restore = cascade(store, conflict, every) if "set" in change and conflict.field == "*" else []
        with store.transaction(actor=actor) as tx:
            tx.settle(conflict.table, conflict.record, change, pred)
            for item in restore:
                tx.settle(item["table"], item["record"], {"set": item["fields"]}, [item["deleted_by"]])
        conflict.restored = restore
    return conflict, value


def cascade(store: Store, conflict: Conflict, ops: dict[Key, list[Op]] | None = None) -> list[dict[str, Any]]:
    """Records deleted together with the record of an edit-versus-delete conflict (its members).

    Keeping the record brings these back too, so a household is never restored without the people
    in it. They are the delete operations its writer made just before the record's own delete (as
    ``register.remove`` does, in one transaction) on records that name the kept record, and that
    nothing has written since; anything else touched meanwhile stays as it is and, if concurrent,
    shows as a conflict of its own.
    """
    if conflict.field != "*":
        return []
    starts = [o["op"].rsplit(":", 1) for o in conflict.options if o.get("deleted")]
    if not starts:
        return []
    every = history(store) if ops is None else ops
    by_id = {(op["id"][0], op["id"][1]): op for record_ops in every.values() for op in record_ops}
    found: list[dict[str, Any]] = []
    for origin, seq_text in starts:
        seq = int(seq_text) - 1
        while (origin, seq) in by_id and by_id[(origin, seq)].get("del"):
            op = by_id[(origin, seq)]
            record_ops = every[(op["t"], op["r"])]
            fields = _merged_fields(record_ops)
            if conflict.record in fields.values() and materialize(record_ops) == (None, [origin, seq]):
                found.append(
                    {"table": op["t"], "record": op["r"], "fields": fields, "deleted_by": [origin, seq]}
                )
            seq -= 1
    return sorted(found, key=lambda item: (item["table"], item["record"]))
