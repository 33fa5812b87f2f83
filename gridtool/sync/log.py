"""Reading the store's operation log for sync: this replica's version vector, a peer's delta and a
record's history, with an index of byte offsets so a delta does not parse the whole log."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from gridtool.store import Store, collector_paused, committed_end
from gridtool.sync.operations import Key, Op, shareable
from gridtool.sync.roster import load_state


def _scan(store: Store, touched: set[Key] | None) -> tuple[dict[str, int], dict[Key, list[Op]]]:
    """This replica's version vector, and the operations of the ``touched`` records (all if None)."""
    vector: dict[str, int] = {}
    history: dict[Key, list[Op]] = {}
    for op in store.operations():
        origin, seq = op["id"]
        if seq > vector.get(origin, 0):
            vector[origin] = seq
        key = (op["t"], op["r"])
        if touched is None or key in touched:
            history.setdefault(key, []).append(op)
    return vector, history


MARK_BYTES = 256 << 10  # the log index remembers the vector every this many bytes of log


def _fresh_index(ino: int) -> dict[str, Any]:
    return {"ino": ino, "size": 0, "vector": {}, "marks": [[0, {}]]}


def _walk_log(
    store: Store,
    state: dict[str, Any],
    since: dict[str, int] | None = None,
    entries: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, int], list[Op]]:
    """Bring the log index in ``state`` up to date; with ``since``, also the operations beyond it.

    The index (``state["log"]``) holds the vector at the end of the indexed log and, every
    :data:`MARK_BYTES`, the vector before an offset. Each origin's operations sit in the log in
    ``seq`` order, so a delta for a peer starts reading at the last mark the peer's vector covers:
    a bundle of 10,000 changes does not parse the 30,000 households written before them.
    """
    try:
        st = os.stat(store.log_path)
    except FileNotFoundError:
        state["log"] = _fresh_index(0)
        return {}, []
    idx = state.get("log")
    if not idx or idx.get("ino") != st.st_ino or idx.get("size", 0) > st.st_size:
        idx = _fresh_index(st.st_ino)
    start = idx["size"]
    if since is not None:  # the last mark whose vector the peer's covers (mark 0 always is)
        start = max(m[0] for m in idx["marks"] if all(s <= since.get(o, 0) for o, s in m[1].items()))
    if start >= st.st_size:
        state["log"] = idx
        return dict(idx["vector"]), []
    with open(store.log_path, "rb") as fh:
        fh.seek(start)
        tail = fh.read(st.st_size - start)
    stop = committed_end(tail, tail.rfind(b"\n") + 1)
    found: list[Op] = []
    pos = start
    vector = dict(idx["vector"])
    marks = idx["marks"]
    for line in tail[:stop].split(b"\n")[:-1]:
        entry = store.verified_entry(line, pos)  # a damaged line is refused, never shipped to a peer
        ops = entry["ops"]
        pos += len(line) + 1
        if since is not None:
            beyond = [op for op in ops if op["id"][1] > since.get(op["id"][0], 0)]
            found += beyond
            if entries is not None and beyond:
                entries.append(entry)
        if pos <= idx["size"]:
            continue  # already indexed: read only for the delta
        note = entry.get("sync")
        if note:  # an import committed here whose sync state was not saved after it (a crash)
            if note["bundle"] not in state.setdefault("imported", []):
                state["imported"].append(note["bundle"])
            state["forks"] = note["forks"]
        for op in ops:
            origin, seq = op["id"]
            if seq > vector.get(origin, 0):
                vector[origin] = seq
        if pos - marks[-1][0] >= MARK_BYTES:
            marks.append([pos, dict(vector)])
    if pos > idx["size"]:
        idx["size"], idx["vector"] = pos, vector
    state["log"] = idx
    return dict(idx["vector"]), found


def _index_append(store: Store, state: dict[str, Any], after: dict[str, int]) -> None:
    """Index the line an import just committed without parsing it again (we hold the lock)."""
    idx = state["log"]
    st = os.stat(store.log_path)
    if idx.get("ino") != st.st_ino:
        _walk_log(store, state)
        return
    idx["size"], idx["vector"] = st.st_size, dict(after)
    if st.st_size - idx["marks"][-1][0] >= MARK_BYTES:
        idx["marks"].append([st.st_size, dict(after)])


def vector(store: Store) -> dict[str, int]:
    """``{origin: highest seq held}``; the log never holds an origin's operation past a gap."""
    with store.lock.hold(exclusive=False):
        return _walk_log(store, load_state(store))[0]


def history(store: Store) -> dict[Key, list[Op]]:
    """Every record's operations, in log order: read once and handed to what needs them, since
    the log is the biggest file a laptop has."""
    store.refresh()
    with collector_paused():
        return _scan(store, None)[1]


def all_ops(store: Store) -> Iterator[Op]:
    """Every operation as it would travel (for tests and the bench)."""
    for op in store.operations():
        yield shareable(op)
