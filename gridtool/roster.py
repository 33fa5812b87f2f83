"""Who is on the volunteer roster: volunteers and teams looked up by id, id suffix or name.

Kept apart from :mod:`gridtool.volunteers` so the points ledger, which the volunteers module
builds on, can name a volunteer or a team without importing the module above it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gridtool.errors import NotFound
from gridtool.ids import SHORT_LEN, short
from gridtool.store import Store


def by_name(store: Store, table: str, ref: str) -> dict[str, Any]:
    """A record by id, id suffix, or exactly one record with that name."""
    records = store.records(table)
    text = str(ref or "").strip()
    named = [r for r in records.values() if r.get("name") == text]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise NotFound("error.ambiguous", table=table, ref=text, count=len(named), length=SHORT_LEN)
    return records[store.resolve(table, text)]


def team_by_ref(store: Store, ref: str) -> dict[str, Any]:
    """A team by id (or id suffix) or by its name."""
    return by_name(store, "teams", ref)


def team_names(store: Store, team_ids: Iterable[str]) -> list[str]:
    teams = store.records("teams")
    return [teams[i]["name"] if i in teams else short(i) for i in team_ids]


def volunteer_by_ref(store: Store, ref: str) -> dict[str, Any]:
    """A volunteer by id (or id suffix) or by name when exactly one volunteer has it."""
    return by_name(store, "volunteers", ref)


def volunteer_name(store: Store, volunteer_id: str | None) -> str:
    if not volunteer_id:
        return ""
    record = store.records("volunteers").get(volunteer_id)
    return record["name"] if record else short(volunteer_id)
