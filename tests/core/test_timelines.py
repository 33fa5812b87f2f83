"""Timelines read from the events file: the same events as loading the table, or no answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridtool import issues
from gridtool.demo import create_store, generate
from gridtool.errors import StoreError
from gridtool.store import Store
from gridtool.timelines import EventFile


def _checkpointed(tmp_path: Path) -> Path:
    store, _ = create_store(tmp_path / "s" / "gridtool.json", generate(households=60, issues=80))
    store.checkpoint()
    return store.path


def test_every_timeline_from_the_file_is_the_one_the_table_gives(tmp_path: Path) -> None:
    path = _checkpointed(tmp_path)
    reader = Store(path)
    found = EventFile(reader)
    assert found.build()
    from_file = {i: sorted(found.events(i) or [], key=issues.event_order) for i in reader.records("issues")}
    assert not reader.is_loaded("events")  # the point: the table was never read
    whole = Store(path)
    assert from_file == {i: issues.timeline(whole, i) for i in whole.records("issues")}
    assert sum(map(len, from_file.values())) == len(whole.records("events"))


def test_events_written_since_the_file_send_the_reader_to_the_table(tmp_path: Path) -> None:
    path = _checkpointed(tmp_path)
    reader = Store(path)
    found = EventFile(reader)
    assert found.build()
    first = next(iter(reader.records("issues")))
    issues.perform(Store(path), "note", first, actor="刘丹", text="已电话联系反映人")  # another program
    reader.refresh()
    assert found.events(first) is None and not EventFile(reader).build()
    assert issues.timeline(reader, first)[-1]["type"] == "note"


def test_a_store_whose_events_are_loaded_is_not_read_from_the_file(tmp_path: Path) -> None:
    reader = Store(_checkpointed(tmp_path))
    reader.records("events")
    assert not EventFile(reader).build()


def test_a_damaged_events_file_is_never_read_by_offset(tmp_path: Path) -> None:
    """Reading single events skips the file's checksum, so the file is checked when it is indexed:
    a flipped byte sends the reader to the table, which refuses the file by name."""
    path = _checkpointed(tmp_path)
    events = path.with_name(path.name + ".events")
    data = bytearray(events.read_bytes())
    at = data.index(b'"issue":"') - 3  # inside the first event's id
    data[at] ^= 0x01
    events.write_bytes(bytes(data))
    reader = Store(path)
    assert not EventFile(reader).build()
    with pytest.raises(StoreError, match="events"):
        issues.timeline(reader, next(iter(reader.records("issues"))))
