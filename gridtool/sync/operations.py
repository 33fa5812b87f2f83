"""Operations as they travel between replicas: their canonical form, their order, and the one error
sync raises (a bundle or request refused with a one-line reason, nothing written)."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import orjson

from gridtool import store as store_module
from gridtool.errors import InputError
from gridtool.store import Store

Op = dict[str, Any]


Key = tuple[str, str]  # (table, record id)


class SyncError(InputError):
    """A bundle or sync request refused with a one-line reason; nothing was written."""


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {_nfc(k): _nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    return value


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, UTF-8, strings in NFC, so equal content hashes equally."""
    data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    if data.isascii() or unicodedata.is_normalized("NFC", data.decode("utf-8")):
        return data  # nearly always: one check of the whole text instead of a walk through it
    return orjson.dumps(_nfc(value), option=orjson.OPT_SORT_KEYS)


def stamp(op: Op) -> tuple[int, int, str, int]:
    """The total order the merge uses: hybrid clock, then origin (then seq, never needed)."""
    return (op["hlc"][0], op["hlc"][1], op["id"][0], op["id"][1])


def op_ref(op_id: Iterable[Any]) -> str:
    origin, seq = op_id
    return f"{origin}:{seq}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _now_ms() -> int:
    return store_module.wall_ms()


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone().isoformat(timespec="minutes")


def shareable(op: Op) -> Op:
    """An operation as it travels: without this replica's local ``eff`` note."""
    if "eff" in op:
        op = {k: v for k, v in op.items() if k != "eff"}
    return op


def clock_ahead_ms(store: Store) -> int:
    """How far this laptop's hybrid clock runs ahead of its wall clock (0 when it does not).

    After the clock was once set ahead, every change is still stamped at that time, and peers hold
    them back as from the future: the laptop itself says so (whoami, status, export).
    """
    return max(0, store.meta["hlc"][0] - _now_ms())
