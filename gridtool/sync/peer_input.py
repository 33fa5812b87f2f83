"""Operations from peers are input: each is checked, bounded and validated before anything is written.

Why: a bundle signed by a trusted key is still only as careful as the laptop that packed it. An
operation past these checks is written verbatim to the log and passed on to every peer, so one bad
stamp (an ``hlc`` counter of 2^64 - 1) or one bad value (a phone that is no phone) would reach, and
break, every laptop of the community. So every number is bounded, every table and field name is one
this version writes, and every value passes the rule the field's own ``add``/``edit`` applies.
One bad operation refuses the whole bundle, naming the author, the record and the field.
"""

from __future__ import annotations

import math
import re
from typing import Any

from gridtool.sync.operations import SyncError
from gridtool.validate import Invalid, check_id_number, check_mobile, check_text

MAX_SEQ = 2**53 - 1  # a JSON number every reader holds exactly
MAX_COUNTER = 2**32 - 1  # the hybrid clock's counter: a million changes in one millisecond fit
# No clock reads past 2100 (validate.MAX_YEAR): refused outright. Anything more than a day ahead of
# this laptop is held back by the clock guard, since either laptop's clock may be the wrong one.
MAX_WALL_MS = 4_102_444_800_000
MAX_PRED = 1_000  # a settled conflict names every visible value; never this many
MAX_FIELDS = 64
MAX_LIST = 200
MAX_NUMBER = 2**53 - 1
ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
OP_KEYS = frozenset({"id", "hlc", "t", "r", "pred", "set", "del"})

SHORT_TEXT = 200
_CONTROL_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
LONG_TEXT = 2000

# Every field each table's own commands write: a field this version does not know could be a
# store's bookkeeping or a name that later becomes one, so it is refused. A new field is added here.
FIELDS: dict[str, frozenset[str]] = {
    table: frozenset(names.split())
    for table, names in {
        "grid_cells": "code name community town worker worker_phone notes",
        "buildings": "grid_cell compound number floors units notes",
        "leads": "name phone grid_cell buildings roles active notes",
        "households": "grid_cell building room unit head phone tags notes",
        "members": "household name id_number relation",
        "issues": (
            "number title description category urgency scale channel household grid_cell reporter"
            " reporter_phone address status reported_at assignee assignee_kind due window_start"
            " resolved_at last_event_at rating rework responsible"
        ),
        "events": "issue type at actor from to payload",
        "teams": "name colour kind leader notes",
        "volunteers": "name phone teams skills active notes",
        "orders": (
            "number service description household address phone wanted_by issue issue_number"
            " grid_cell volunteer status created_at taken_at done_at rated_at cancelled_at hours"
            " summary rating comment cancel_reason"
        ),
        "points": (
            "volunteer kind points order order_number rule basis rate hours rating item actor at reason"
        ),
        "visit_plans": "tag unit n start",
        "visits": "household at by note",
    }.items()
}
PHONES = frozenset({"phone", "worker_phone", "reporter_phone"})
LISTS = frozenset({"tags", "roles", "buildings", "skills", "teams"})
BOOLS = frozenset({"active"})
# Whole numbers and their least value, as the field's own command checks them.
INTEGERS = {
    ("households", "unit"): 1,
    ("buildings", "floors"): 1,
    ("buildings", "units"): 1,
    ("visit_plans", "n"): 1,
    ("issues", "rework"): 0,
    ("points", "rate"): 0,
    ("points", "points"): -(10**9),
}
NUMBERS = frozenset({"hours", "rating"})
LONG = frozenset({"description", "summary", "comment", "cancel_reason", "reason", "note", "text"})
LONG_NOTES = frozenset({"teams", "volunteers"})  # their notes take LONG_TEXT; the register's do not


# Per table, the fields whose value is one line of short text: no rule beyond length and controls.
PLAIN_TEXT = {
    table: frozenset(
        name
        for name in names
        if name not in PHONES | LISTS | BOOLS | NUMBERS | LONG | {"id_number", "payload", "notes"}
        and (table, name) not in INTEGERS
    )
    for table, names in FIELDS.items()
}


class PeerInputError(SyncError):
    """One operation of a bundle refused: whose it is, which record, which field, and why."""

    def __init__(self, reason: str, field: str = "", **params: object) -> None:
        super().__init__("sync.peer_refused", field=field, **params)
        self.reason = reason
        self.author = ""
        self.table = ""
        self.record = ""

    def message(self) -> str:
        from gridtool.i18n import field_label, t, table_label

        reason = t(self.reason, **{k: v for k, v in self.params.items() if k != "field"})
        field = self.params.get("field") or ""
        return t(
            "sync.peer_refused",
            author=self.author,
            table=table_label(self.table) if self.table else "",
            record=self.record[-6:],
            field=field_label(str(field)) if field else t("sync.peer_field_none"),
            reason=reason,
        )


def _number(value: Any) -> bool:
    if type(value) is int:
        return -MAX_NUMBER <= value <= MAX_NUMBER
    return type(value) is float and math.isfinite(value) and abs(value) <= MAX_NUMBER


def _text(value: Any, field: str, *, long: bool) -> None:
    if type(value) is not str:  # check_text takes a number a person typed; a peer's must be text
        raise Invalid("invalid.text_type", field=field)
    check_text(value, field, multiline=long, max_len=LONG_TEXT if long else SHORT_TEXT)


def _free(value: Any, field: str, depth: int = 0) -> None:
    """A structured value (an event's payload): bounded in depth and size, its text checked."""
    if type(value) is str and len(value) <= SHORT_TEXT and _CONTROL_TEXT.search(value) is None:
        return
    if value is None or type(value) is bool or _number(value):
        return
    if isinstance(value, str):
        _text(value, field, long=True)
    elif type(value) is list and depth < 3 and len(value) <= MAX_LIST:
        for item in value:
            _free(item, field, depth + 1)
    elif type(value) is dict and depth < 3 and len(value) <= MAX_FIELDS:
        for key, item in value.items():
            _text(key, field, long=False)
            _free(item, field, depth + 1)
    else:
        raise Invalid("sync.peer_bad_value")


def check_value(table: str, field: str, value: Any) -> None:
    """Refuse (``Invalid``) a value the field's own command would not write."""
    if field in PHONES:
        if value in (None, ""):
            return
        if not isinstance(value, str) or check_mobile(value) != value:
            raise Invalid("invalid.phone_chars")
    elif field == "id_number":
        if value in (None, ""):
            return
        if not isinstance(value, str) or check_id_number(value) != value:
            raise Invalid("invalid.id_chars")
    elif (table, field) in INTEGERS:
        least = INTEGERS[(table, field)]
        if value is None and field != "n":
            return
        if type(value) is not int or not least <= value <= MAX_NUMBER:
            raise Invalid("invalid.minimum", minimum=least)
    elif field in NUMBERS:
        if value is not None and not (_number(value) and value >= 0):
            raise Invalid("sync.peer_bad_value")
    elif field in BOOLS:
        if type(value) is not bool:
            raise Invalid("sync.peer_bad_value")
    elif field in LISTS:
        if type(value) is not list or len(value) > MAX_LIST:
            raise Invalid("sync.peer_bad_value")
        for item in value:
            _text(item, field, long=False)
    elif field == "payload":
        _free(value, field)
    elif value is not None:
        long = field in LONG or (field == "notes" and table in LONG_NOTES)
        _text(value, field, long=long)


def _ref_ok(ref: Any) -> bool:
    return (
        type(ref) is list
        and len(ref) == 2
        and type(ref[0]) is str
        and ULID.fullmatch(ref[0]) is not None
        and type(ref[1]) is int
        and 1 <= ref[1] <= MAX_SEQ
    )


# What a control character looks like in a JSON text as orjson writes it: an escape, or the UTF-8
# of C1 controls and bidirectional marks. A bundle without any (nearly all) skips the per-text search.
_CONTROL_IN_JSON = re.compile(
    rb"\\[bfnrt]|\\u00[01]|\\u007f|\x7f|\xc2[\x80-\x9f]|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]"
)


def may_hold_controls(body: bytes) -> bool:
    """Whether a bundle's ``ops.jsonl`` may hold a control character anywhere (a cheap scan).

    Each form of one starts with one of four bytes; finding none of them (a byte search is some
    twenty times faster than the pattern's) answers for the nearly every bundle that has none."""
    if all(body.find(lead) < 0 for lead in (b"\\", b"\x7f", b"\xc2", b"\xe2")):
        return False
    return _CONTROL_IN_JSON.search(body) is not None


def check_op(op: Any, controls: bool = True) -> None:
    """Refuse one operation as it travels: its shape, its bounds, its names and its values.

    ``controls=False`` says the bundle holds no control character at all, so plain text fields
    need only their length checked (the common case, and most of the cost on a first sync).
    """
    if type(op) is not dict or not OP_KEYS.issuperset(op):
        raise PeerInputError("sync.peer_bad_shape")
    ident, clock, table, record = op.get("id"), op.get("hlc"), op.get("t"), op.get("r")
    if not _ref_ok(ident):
        raise PeerInputError("sync.peer_bad_id")
    if type(table) is not str or table not in FIELDS:
        raise PeerInputError("sync.peer_bad_table")
    if type(record) is not str or ULID.fullmatch(record) is None:
        raise PeerInputError("sync.peer_bad_record")
    if not (
        type(clock) is list
        and len(clock) == 2
        and type(clock[0]) is int
        and type(clock[1]) is int
        and 0 <= clock[0] <= MAX_WALL_MS
        and 0 <= clock[1] <= MAX_COUNTER
    ):
        raise PeerInputError("sync.peer_bad_clock")
    pred = op.get("pred", [])
    if type(pred) is not list or len(pred) > MAX_PRED or (pred and not all(_ref_ok(p) for p in pred)):
        raise PeerInputError("sync.peer_bad_pred")
    _check_changes(op, table, controls)


def _check_changes(op: dict[str, Any], table: str, controls: bool) -> None:
    """An operation's delete mark, or its fields and values (its frame already checked)."""
    if "del" in op:
        if op["del"] is not True or "set" in op:
            raise PeerInputError("sync.peer_bad_shape")
        return
    changes = op.get("set")
    if type(changes) is not dict or len(changes) > MAX_FIELDS:
        raise PeerInputError("sync.peer_bad_shape")
    known = FIELDS[table]
    plain = PLAIN_TEXT[table]
    for name, value in changes.items():
        if name in plain and type(value) is str and len(value) <= SHORT_TEXT and not controls:
            continue
        if name not in known:
            raise PeerInputError("sync.peer_unknown_field", field=str(name)[:40])
        if name == "payload" and not controls and type(value) is dict and _flat_payload(value):
            continue
        try:
            check_value(table, name, value)
        except Invalid as bad:
            params = {k: v for k, v in bad.params.items() if k != "field"}
            raise PeerInputError(bad.key, field=name, **params) from None


def _flat_payload(value: dict[str, Any]) -> bool:
    """An event's payload of short texts, numbers, flags or nothing under short keys (nearly every
    one): in a bundle without a control character, :func:`_free` would pass it as it is."""
    if len(value) > MAX_FIELDS:
        return False
    for key, item in value.items():
        if len(key) > SHORT_TEXT:
            return False
        if type(item) is str:
            if len(item) > SHORT_TEXT:
                return False
        elif not (item is None or type(item) is bool or _number(item)):
            return False
    return True


def check_ops(ops: list[Any], controls: bool = True) -> None:
    """:func:`check_op` for a whole bundle: the same checks, with the common case (a known author,
    a record of plain text fields) tested inline; anything unusual goes through check_op itself,
    which raises the reason. A first sync checks some 200,000 operations."""
    authors: set[str] = set()
    fullmatch = ULID.fullmatch
    for op in ops:
        try:
            ident, clock, table, record = op["id"], op["hlc"], op["t"], op["r"]
            origin, seq = ident
            ok = (
                type(op) is dict
                and OP_KEYS.issuperset(op)
                and type(ident) is list
                and type(seq) is int
                and 0 < seq <= MAX_SEQ
                and (origin in authors or (type(origin) is str and fullmatch(origin) is not None))
                and type(clock) is list
                and len(clock) == 2
                and type(clock[0]) is int
                and type(clock[1]) is int
                and 0 <= clock[0] <= MAX_WALL_MS
                and 0 <= clock[1] <= MAX_COUNTER
                and type(record) is str
                and fullmatch(record) is not None
                and not op.get("pred")
                and table in FIELDS
            )
        except (KeyError, TypeError, ValueError):
            ok = False
        if ok:
            authors.add(origin)
            _check_changes(op, table, controls)
        else:
            check_op(op, controls)


def check_sequences(ops: list[dict[str, Any]], last: dict[str, int] | None = None) -> None:
    """Each author's operations continue its sequence: 1, 2, 3 without a repeat or a jump inside
    the bundle (a bundle carries an unbroken run of each author's log). ``last``: each author's
    last ``seq`` in the batches before these, updated (a bundle is checked a batch at a time)."""
    if last is None:
        last = {}
    for op in ops:
        origin, seq = op["id"]
        previous = last.get(origin)
        if previous is not None and seq != previous + 1:
            error = PeerInputError("sync.peer_bad_sequence", seq=seq, previous=previous)
            error.author, error.table, error.record = origin, op["t"], op["r"]
            raise error
        last[origin] = seq
