"""Personal data as people see it without ``--show-pii``.

Low in the module order so that issues, volunteers, the ledger and sync can mask a record the
same way as the register's views without importing the views (which sit above them all).
"""

from __future__ import annotations

from typing import Any

from gridtool.store import public
from gridtool.validate import mask_id_number, mask_in_text, mask_phone

FREE_TEXT = ("notes", "note", "description", "summary", "comment", "reason", "cancel_reason")


def mask_field(name: str, value: Any) -> Any:
    """One field as people see it without ``--show-pii``: ID numbers, phones and birth dates
    masked, and any such number typed into free text (people note a relative's phone too)."""
    if not value:
        return value
    if name in ("phone", "worker_phone"):
        return mask_phone(str(value))
    if name == "id_number":
        return mask_id_number(str(value))
    if name == "birth_date":
        return str(value)[:4]
    if name in FREE_TEXT:
        return mask_in_text(value)
    if name == "extras" and isinstance(value, dict):
        return {k: mask_in_text(v) for k, v in value.items()}
    return value


def masked(record: dict[str, Any], show_pii: bool) -> dict[str, Any]:
    """A public copy of a record with personal data masked (see :func:`mask_field`)."""
    out = public(record)
    return out if show_pii else {k: mask_field(k, v) for k, v in out.items()}
