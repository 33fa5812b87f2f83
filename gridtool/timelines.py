"""One issue's timeline straight from the events file, without loading every event.

The events table is the store's biggest (half a million events, 150 MB for 100,000 issues):
loading it takes two seconds and 700 MB. The dashboard shows one issue's timeline at a time, so
it finds where each issue's events lie in the table's file once (a byte search, half a second,
some 50 MB) and reads only those. Whenever the file is not the whole table (the table is loaded
already, or the log holds events written since the file), the answer is None and the caller
reads the table as usual.
"""

from __future__ import annotations

import json
import os
from typing import Any

from gridtool.store import Store, is_sealed, seal_holds

TABLE = "events"
NEEDLE = b'"issue":"'
ID_LEN = 26
RECORD_START = b'{"id":"'
WINDOW = 4096


class EventFile:
    """Where each issue's events lie in the events file, by byte offset."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.path = store.table_path(TABLE)
        self.offsets: dict[str, list[int]] = {}
        self.identity: tuple[int, int, int] | None = None

    def _identity(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def usable(self) -> bool:
        """Whether the file holds the whole table and the offsets found in it still hold."""
        return (
            self.store.is_checkpointed(TABLE)
            and self.identity is not None
            and self._identity() == self.identity
        )

    def build(self) -> bool:
        """Find every issue's events in the file; False when the file is not the whole table."""
        if not self.store.is_checkpointed(TABLE):
            return False
        self.identity = self._identity()
        if self.identity is None:
            return False
        data = self.path.read_bytes()
        if is_sealed(data) and not seal_holds(data):
            return False  # damaged: the table's own reader refuses it by name, nothing is shown
        offsets: dict[str, list[int]] = {}
        find, step = data.find, len(NEEDLE)
        at = find(NEEDLE)
        while at >= 0:
            issue = data[at + step : at + step + ID_LEN].decode("ascii", "replace")
            found = offsets.get(issue)
            if found is None:
                offsets[issue] = [at]
            else:
                found.append(at)
            at = find(NEEDLE, at + step)
        self.offsets = offsets
        return True

    def events(self, issue_id: str) -> list[dict[str, Any]] | None:
        """The events of ``issue_id`` (unordered), or None when they cannot be read from the file."""
        if not self.usable():
            return None
        found = []
        decoder = json.JSONDecoder()
        with open(self.path, "rb") as fh:
            for at in self.offsets.get(issue_id, ()):
                # An event is written {"id":"<id>","issue":"<issue>",...}: its start is just before.
                start = at - len(RECORD_START) - ID_LEN - 2
                size = WINDOW
                while True:
                    fh.seek(start)
                    chunk = fh.read(size)
                    if not chunk.startswith(RECORD_START):
                        return None  # written another way: let the caller read the table
                    try:
                        event, _ = decoder.raw_decode(chunk.decode("utf-8", "ignore"))
                        break
                    except json.JSONDecodeError:
                        if len(chunk) < size:
                            return None
                        size *= 4
                if isinstance(event, dict) and event.get("issue") == issue_id:
                    found.append(event)
        return found
