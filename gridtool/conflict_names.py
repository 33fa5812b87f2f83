"""Conflicts named as people name things: a household by its head and address, a laptop by its
name, and two phone numbers that mask alike shown with the digits that differ.

Display helpers for the dashboard's conflicts screen (and any other front end); they only read.
"""

from __future__ import annotations

from typing import Any

from gridtool import register
from gridtool.i18n import t, table_label
from gridtool.store import Store

KIND_OF_TABLE = {kind.table: name for name, kind in register.KINDS.items()}


def record_name(store: Store, table: str, record_id: str) -> str:
    """What a person calls the record: 湘离小区5栋1单元0502 程金娇, 2026-000012 楼道灯不亮, a member
    with their household; the table and the id's tail only when the record is gone."""
    record = store.records(table).get(record_id)
    if record is None:
        return f"{table_label(table)} {record_id[-6:]}"
    if table in KIND_OF_TABLE:
        return register.describe(store, KIND_OF_TABLE[table], record)
    if table == "members":
        household = store.records("households").get(record.get("household") or "")
        where = f"（{register.describe(store, 'household', household)}）" if household else ""
        return f"{record.get('name', '')}{where}"
    if table == "issues":
        return f"{record.get('number', '')} {record.get('title', '')}".strip()
    name = record.get("name") or record.get("title") or record_id[-6:]
    return f"{table_label(table)} {name}"


def laptop_name(store: Store, replica: str, known_as: str) -> str:
    """A replica as a person knows it: this laptop says so, others by their roster name."""
    if replica == store.replica:
        return t("tui.this_laptop", name=known_as) if known_as != replica[-6:] else t("tui.this_laptop_plain")
    return known_as


def unmask_differences(masked: list[str], plain: list[Any]) -> list[str]:
    """Masked values that would read alike with the characters that tell them apart revealed.

    13912340001 and 13912350001, both masked ``139****0001``, become ``139***40001`` and
    ``139***50001``: only the differing digit is shown, enough to choose, and the rest stays
    masked. Values that already read differently are returned unchanged.
    """
    texts = [str(p) if p is not None else "" for p in plain]
    if len(set(masked)) == len(masked) or len(set(texts)) == 1:
        return masked
    width = len(texts[0])
    if any(len(text) != width for text in texts) or any(len(m) != width for m in masked):
        return masked  # masked to another shape: leave them be rather than guess
    differing = {i for i in range(width) if len({text[i] for text in texts}) > 1}
    return [
        "".join(text[i] if i in differing else m[i] for i in range(width))
        for m, text in zip(masked, texts, strict=True)
    ]
