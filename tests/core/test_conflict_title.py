"""Conflict lists name records as every other list does."""

from __future__ import annotations


def test_a_conflict_names_its_record_by_the_same_8_characters_as_every_list() -> None:
    from gridtool.ids import SHORT_LEN, short
    from gridtool.sync import Conflict, conflict_title

    record = "01M8XH55YSC13KCF74CJDA900Z"
    conflict = Conflict("c1", "households", record, "phone", True, [], 0)
    assert SHORT_LEN == 8 and f" {short(record)} · " in conflict_title(conflict)
