"""The store: a TinyDB checkpoint plus an append-only operation log that doubles as its WAL.

Why this shape (see "Guarantees the store gives" in DESIGN.md):

* ``NAME.json`` is a TinyDB database written by our own orjson storage, and only ever replaced
  whole (temp file + fsync + ``os.replace``), so a crash leaves the old or the new file.
* ``NAME.json.log`` holds one line per committed transaction, each a list of operations
  ``{id: [origin, seq], hlc, t, r, set | del, pred}``. A small edit appends one fsynced line
  instead of rewriting the whole store; the sync layer ships these same operations.
* Opening loads the checkpoint and replays the log past the offset the checkpoint recorded.
  When the unreplayed tail grows past :data:`CHECKPOINT_BYTES` the checkpoint is rewritten.
* The register tables live in ``NAME.json``; every other table (issues, events, ...) has its own
  checkpoint ``NAME.json.<table>`` with its own log offset, loaded only when first read, so listing
  households does not parse 100,000 issues and a report on issues does not parse their events.
* Writers hold an exclusive ``flock`` on ``NAME.json.lock`` around read-modify-write and replay
  what other processes appended first, so concurrent shells never lose each other's rows.

Records are keyed by ULID (TinyDB's document id *is* the ULID), never by TinyDB's integer ids.
"""

from __future__ import annotations

import contextlib
import gc
import mmap
import os
import re
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from gridtool.errors import NotFound, StoreError
from gridtool.ids import SHORT_LEN, new_id

SCHEMA_VERSION = 1
LOG_FORMAT = 1
CHECKPOINT_BYTES = 1 << 20
# The files beside a store's main file, besides one per table kept apart: its log and lock, and
# sync's key and state (gridtool.sync), which belong to the store as much.
SIDECARS = ("log", "lock", "sync-key", "sync-key-id", "sync-state")
LOCK_TIMEOUT_S = 30.0
META = "_meta"
# Every log line and checkpoint file ends with this key: a CRC-32 of the line or file without it.
# CRC-32 catches every flipped byte and every burst up to 32 bits, at the speed of a memory copy.
CHECKSUM_KEY = b',"crc":"'
_SEAL_LEN = len(CHECKSUM_KEY) + 8 + 2  # the key, eight hex digits, '"}'
# Temp files of an interrupted write_private: ".NAME.<pid>.<id>.tmp" (pid and id are what tell
# a leftover of a dead process from a file another process is writing right now).
_TEMP_NAME = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9A-Z]{6}\.tmp")
_OP_TABLE = re.compile(rb'"t":"([a-z_]+)"')
TABLES = ("grid_cells", "buildings", "leads")  # small, kept in NAME.json; every other table loads lazily

# Migrations from version N to N + 1, applied to the raw view (tables -> id -> record).
Migration = Callable[[dict[str, dict[str, dict[str, Any]]]], None]
MIGRATIONS: dict[int, Migration] = {}


class RecordTable(Table):
    """A TinyDB table whose document ids are our cross-replica string ids."""

    document_id_class = str


class ViewStorage(Storage):
    """Hands TinyDB the in-memory view. Disk I/O is the Store's job, not TinyDB's."""

    def __init__(self, view: dict[str, Any]) -> None:
        self.view = view

    def read(self) -> dict[str, Any]:
        return self.view

    def write(self, data: dict[str, Any]) -> None:
        self.view = data


class _Lock:
    """An inter-process lock on a sidecar file (flock on POSIX, msvcrt on Windows)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._depth = 0
        self._exclusive = False

    @contextlib.contextmanager
    def hold(self, exclusive: bool) -> Iterator[None]:
        if self._depth and (self._exclusive or not exclusive):
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if self._depth:  # upgrading shared -> exclusive is a deadlock risk; refuse loudly
            raise RuntimeError("cannot upgrade a shared store lock to exclusive")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            if exclusive:
                raise StoreError("store.read_only", path=str(self.path)) from None
            try:  # a store on a read-only disk or CD can still be read
                fd = os.open(self.path, os.O_RDONLY)
            except OSError:
                self._depth, self._exclusive = 1, False
                try:
                    yield
                finally:
                    self._depth = 0
                return
        try:
            self._acquire(fd, exclusive)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._depth, self._exclusive = fd, 1, exclusive
        try:
            yield
        finally:
            self._depth = 0
            self._fd = None
            self._release(fd)
            os.close(fd)

    def _acquire(self, fd: int, exclusive: bool) -> None:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                if sys.platform == "win32":
                    import msvcrt

                    msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                else:
                    import fcntl

                    fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise StoreError("store.locked", path=str(self.path)) from None
                time.sleep(0.01)

    @staticmethod
    def _release(fd: int) -> None:
        if sys.platform == "win32":
            import msvcrt

            with contextlib.suppress(OSError):
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)


_commits_made = 0


def commits_made() -> int:
    """How many transactions this process has committed to any store: what a crash keeps."""
    return _commits_made


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with ``data``; the new file is mode 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{new_id()[-6:]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


# The log's committed size and inode, kept in the lock file (the size is what is compared: a store
# copied elsewhere keeps its record, and a copy cut short is as much a cut log).
_COMMITTED = struct.Struct("<QQ")


def commit_record(size: int, inode: int) -> bytes:
    """What the lock file holds after a commit: how long the log is, sealed with a CRC-32. A log
    found shorter than that was cut after the commit, not torn by a crash during one."""
    body = _COMMITTED.pack(size, inode)
    return body + struct.pack("<I", zlib.crc32(body))


def read_commit_record(raw: bytes) -> tuple[int, int] | None:
    """``(size, inode)`` from a lock file's bytes; None if it holds none; :class:`Damaged` if bad."""
    if not raw:
        return None
    if len(raw) != _COMMITTED.size + 4 or struct.unpack("<I", raw[-4:])[0] != zlib.crc32(raw[:-4]):
        raise Damaged("checksum mismatch")
    size, inode = _COMMITTED.unpack(raw[:-4])
    return size, inode


def write_commit_record(fd: int, size: int, inode: int) -> None:
    """Best effort, not synced: a record lost with the page cache only weakens the check."""
    with contextlib.suppress(OSError):
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, commit_record(size, inode))


class Damaged(ValueError):
    """A file's bytes fail their checksum or are missing it where one is required."""


def seal(body: bytes) -> bytes:
    """``body`` (the bytes of a JSON object) with its CRC-32 added as the object's last key.

    The checksum is taken over the exact bytes written, whatever keys they hold, so anything may
    add keys to a log entry before it is sealed, and verifying never re-serialises anything."""
    return b'%s%s%08x"}' % (body[:-1], CHECKSUM_KEY, zlib.crc32(body))


def is_sealed(raw: bytes) -> bool:
    """Whether ``raw`` ends with a checksum key (it may still be wrong)."""
    return raw[-_SEAL_LEN:-10] == CHECKSUM_KEY and raw[-2:] == b'"}'


def seal_holds(raw: bytes) -> bool:
    """Whether sealed bytes still match their checksum (without parsing them)."""
    return b"%08x" % zlib.crc32(b"}", zlib.crc32(memoryview(raw)[:-_SEAL_LEN])) == raw[-10:-2]


def unseal(raw: bytes, legacy: bool = False) -> Any:
    """The JSON object sealed in ``raw``, after its checksum matched; :class:`Damaged` if not.

    ``legacy``: bytes written before checksums existed are parsed as they are."""
    if is_sealed(raw):
        if not seal_holds(raw):
            raise Damaged("checksum mismatch")
        parsed = _parse(raw)
        if not isinstance(parsed, dict):
            raise Damaged("not an object")
        del parsed["crc"]
        return parsed
    if not legacy:
        raise Damaged("checksum missing")
    return _parse(raw)


def leftovers(target: Path) -> list[Path]:
    """Files beside ``target`` named as a store's files would be (``gridtool.json.log``, ...), which
    :meth:`Store.init` refuses to start over; a lock file alone is harmless."""
    return sorted(p for p in target.parent.glob(target.name + ".*") if not p.name.endswith(".lock"))


def _refuse_existing(target: Path) -> None:
    """A new store never starts over another one's files: its log is history that init would lose."""
    if target.exists():
        raise StoreError("store.exists", path=str(target))
    found = leftovers(target)
    if found:
        raise StoreError("store.leftovers", path=str(target), files=", ".join(p.name for p in found))


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process (EPERM): alive, and not ours to judge
    return True


def log_entry(line: bytes, offset: int, path: Path, legacy: bool = False) -> dict[str, Any]:
    """A log line (without its newline) as an entry: checksum verified, operations complete.
    ``legacy``: the line lies before the store started sealing lines, so one without a checksum
    is accepted. Raises :class:`StoreError` naming the file and the byte."""
    try:
        entry = unseal(line, legacy=legacy)
        if entry.get("v", 1) > LOG_FORMAT:
            raise StoreError("store.too_new", path=str(path), found=entry["v"], supported=LOG_FORMAT)
        if (not entry["ops"] and not entry.get("parts")) or not all(
            isinstance(op["id"], list) and op["hlc"] and op["t"] and op["r"] for op in entry["ops"]
        ):
            raise ValueError("an entry without complete operations")
    except Damaged as exc:
        raise StoreError("store.log_corrupt", path=str(path), offset=offset, reason=str(exc)) from None
    except (orjson.JSONDecodeError, KeyError, TypeError, IndexError, AttributeError, ValueError) as exc:
        raise StoreError("store.log_corrupt", path=str(path), offset=offset, reason=str(exc)[:120]) from None
    return entry


# A transaction too big to hold (a sync import of a million operations) is written as several
# lines: each but the last ends with its part number, just before the checksum, and the last line
# (without one) commits them all. Lines of parts at the log's end with no last line were never
# committed (a crash in between): readers stop before them, and the next commit cuts them off.
_PART_END = re.compile(rb',"part":\d{1,9},"crc":"[0-9a-f]{8}"\}\Z')
_PART_TAIL = 40  # bytes enough to hold that ending


def is_part(line: bytes) -> bool:
    """Whether a log line (without its newline) is a part of a transaction, not its last line."""
    return _PART_END.search(line[-_PART_TAIL:]) is not None


def committed_end(body: Any, stop: int, start: int = 0) -> int:
    """Where the committed lines of ``body[start:stop]`` (bytes or a memory map; ``stop`` follows a
    newline) end: before a run of parts at the end whose transaction has no last line yet."""
    while stop > start and is_part(body[max(start, stop - 1 - _PART_TAIL) : stop - 1]):
        stop = max(start, body.rfind(b"\n", start, stop - 1) + 1)
    return stop


def _fsync_dir(directory: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _reason(exc: OSError) -> str:
    """An OS error's reason in one line ("No space left on device"), without the file name."""
    return exc.strerror or str(exc)


def _parse(raw: bytes) -> Any:
    """orjson.loads with the cyclic GC paused: a big store is millions of small objects without
    reference cycles, and collections running while they were made took parsing from 0.3 s to
    0.55 s. The parsed records then join the oldest generation (:func:`collector_paused`)."""
    with collector_paused():
        return orjson.loads(raw)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic GC around bulk work on records (parsing, an import, a sync): they hold no
    reference cycles, and full collections rescanning them cost a fifth to a third of the work.
    What the work made is then moved to the oldest generation: the first young collection after an
    import would otherwise walk its million new objects (40-90 ms). Moved, not frozen: a frozen
    object is never collected, and in the dashboard that would keep every closed screen's widgets."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()  # freeze, then unfreeze: everything moves to the oldest generation, which
            gc.unfreeze()  # the next (young) collection does not walk and a full one still frees
            gc.enable()


def wall_ms() -> int:
    """This laptop's clock in milliseconds; one place, so tests can skew a replica's clock."""
    return time.time_ns() // 1_000_000


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A record without the store's bookkeeping keys (those starting with ``_``)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


_NOTHING: frozenset[str] = frozenset()


class Index:
    """A secondary index kept up to date as operations are applied: key -> set of record ids.

    A dropped index (a reload, a bulk create) builds itself again from ``records`` when next
    asked, so whoever holds it never reads a stale map."""

    def __init__(
        self,
        keys: Callable[[dict[str, Any]], Iterable[Any]],
        records: Callable[[], dict[str, dict[str, Any]]] | None = None,
    ) -> None:
        self.keys = keys
        self.records = records
        self.map: dict[Any, set[str]] = {}
        self.built = False

    def build(self) -> None:
        self.map.clear()
        if self.records is not None:
            for rid, record in self.records().items():
                self.add(rid, record)
        self.built = True

    def drop(self) -> None:
        self.map.clear()
        self.built = False

    def add(self, record_id: str, record: dict[str, Any]) -> None:
        for key in self.keys(record):
            if key is not None:
                ids = self.map.get(key)
                if ids is None:
                    self.map[key] = {record_id}
                else:
                    ids.add(record_id)

    def remove(self, record_id: str, record: dict[str, Any]) -> None:
        for key in self.keys(record):
            ids = self.map.get(key)
            if ids is not None:
                ids.discard(record_id)
                if not ids:
                    del self.map[key]

    def lookup(self, key: Any) -> set[str] | frozenset[str]:
        """The ids under ``key``: the live set, so read it, never change it."""
        if not self.built:
            self.build()
        return self.map.get(key, _NOTHING)


class Transaction:
    """The operations of one command. Applied to the view as they are made, written on commit."""

    def __init__(self, store: Store, actor: str | None, at: datetime | None) -> None:
        self.store = store
        self.actor = actor
        self.at = at
        self.ops: list[dict[str, Any]] = []
        # Other replicas' transactions this one adopts, as they travel (id, author's key and
        # signature, op range): kept on the log line so they can be passed on still signed.
        self.relayed: list[dict[str, Any]] = []
        # What a higher layer records in the same log line, so it commits with the operations or
        # not at all (sync: the bundle an import took them from).
        self.notes: dict[str, Any] = {}
        self.id = new_id()
        self.parts = 0  # lines already written by write_part, committed by the last line
        self.parts_from: int | None = None  # where the first of them starts in the log
        self.parts_end = 0

    @property
    def written(self) -> bool:
        """Whether the transaction has anything to commit."""
        return bool(self.ops) or self.parts > 0

    def operations(self, mentioning: bytes | None = None) -> Iterator[dict[str, Any]]:
        """Every operation of this transaction so far, in order: its parts' (read back from the
        log; with ``mentioning``, only lines holding those bytes) and those it still holds."""
        if self.parts_from is not None:
            for _, entry in self.store._read_log(self.parts_from, self.parts_end, mentioning):
                yield from entry["ops"]
        yield from self.ops

    def write_part(self) -> None:
        """Write the operations so far (and ``relayed``) as a line of this still uncommitted
        transaction and let go of them: a sync import of a million operations never holds them
        all. Committed, like the rest, by the transaction's last line; taken back with it."""
        if self.ops:
            self.store._write_part(self)

    def create(self, table: str, fields: dict[str, Any], record_id: str | None = None) -> str:
        if record_id is None:
            rid = new_id()  # fresh: no need to read a big table just to check it is unused
        else:
            rid = record_id
            if rid in self.store.records(table):
                raise StoreError("store.duplicate_id", table=table, id=rid)
        self._emit(table, rid, {"set": dict(fields)}, pred=[])
        return rid

    def create_many(self, table: str, records: Iterable[tuple[str, dict[str, Any]]]) -> int:
        """Create records under ids the caller minted: the operations :meth:`create` makes, in one
        tight loop, for an import that adds a hundred thousand people at once. The field dicts
        become the operations' own (no copy), so pass fresh ones. Returns how many."""
        store = self.store
        view = store.records(table)
        if not isinstance(records, list):
            records = list(records)
        indexes = [idx for idx in store._indexes.get(table, {}).values() if idx.built]
        if len(records) > len(view):  # mostly new: building afresh when asked costs no more
            for idx in indexes:
                idx.drop()
            indexes = []
        rids = list(map(itemgetter(0), records))
        fresh = set(rids)
        if len(fresh) != len(rids) or not view.keys().isdisjoint(fresh):  # checked before any write
            seen: set[str] = set()
            for rid in rids:
                if rid in view or rid in seen:
                    raise StoreError("store.duplicate_id", table=table, id=rid)
                seen.add(rid)
        meta = store.meta
        replica = meta["replica"]
        ops = self.ops
        seq = meta["seq"]
        now = wall_ms()
        ms, counter = meta["hlc"]
        if now > ms:
            ms, counter = now, -1
        for rid, fields in records:
            seq += 1
            counter += 1
            ops.append(
                {"id": [replica, seq], "hlc": [ms, counter], "t": table, "r": rid, "pred": [], "set": fields}
            )
            view[rid] = {"id": rid, **fields, "_op": seq}
        for idx in indexes:
            for rid in rids:
                idx.add(rid, view[rid])
        meta["seq"] = seq
        if records:
            meta["hlc"] = [ms, counter]
        return len(records)

    def update(self, table: str, record_id: str, fields: dict[str, Any]) -> bool:
        """Record the fields that actually change; returns whether anything did.

        The operation :meth:`_emit` would make, applied without going through :meth:`Store._apply`:
        an import updates thirty thousand households, and the general path cost a quarter more.
        """
        store = self.store
        records = store.records(table)
        current = records.get(record_id)
        if current is None:
            raise NotFound("error.not_found", table=table, ref=record_id)
        changed = {k: v for k, v in fields.items() if current.get(k) != v}
        if not changed:
            return False
        meta = store.meta
        seq = meta["seq"] = meta["seq"] + 1
        pred = store.last_op(current)
        self.ops.append(
            {
                "id": [meta["replica"], seq],
                "hlc": store._tick(),
                "t": table,
                "r": record_id,
                "pred": pred,
                "set": changed,
            }
        )
        store._put(table, record_id, current, {**current, **changed, "_op": seq})
        return True

    def delete(self, table: str, record_id: str) -> None:
        current = self.store.records(table).get(record_id)
        if current is None:
            raise NotFound("error.not_found", table=table, ref=record_id)
        self._emit(table, record_id, {"del": True}, pred=self.store.last_op(current))

    def settle(self, table: str, record_id: str, change: dict[str, Any], pred: list[Any]) -> None:
        """Write ``change`` (``{"set": ...}`` or ``{"del": True}``) over several predecessors.

        How a sync conflict is settled: the new operation names every value it supersedes, so on
        every replica those values stop being visible and the conflict disappears everywhere.
        """
        self._emit(table, record_id, change, pred=[list(p) for p in pred])

    def adopt(self, op: dict[str, Any]) -> None:
        """Apply and log another replica's operation as it is (its id, clock and predecessors).

        Kept verbatim so this replica can pass it on and rebuild its view from the log. An ``eff``
        key (added by the sync layer, stripped when shared) says what the operation does to the view
        when it arrives after a later one, so replaying the log in its order gives the merged view.
        """
        self.store._apply(op)
        self.ops.append(op)

    def adopt_many(self, ops: list[dict[str, Any]]) -> None:
        """:meth:`adopt` for a batch of operations, in their order."""
        self.store._apply_many(ops)
        self.ops += ops

    def _emit(self, table: str, rid: str, change: dict[str, Any], pred: list[Any]) -> None:
        store = self.store
        meta = store.meta
        meta["seq"] += 1
        op = {
            "id": [meta["replica"], meta["seq"]],
            "hlc": store._tick(),
            "t": table,
            "r": rid,
            "pred": pred,
            **change,
        }
        store._apply(op)
        self.ops.append(op)


TxSigner = Callable[["Store", dict[str, Any]], dict[str, Any]]
_TX_SIGNERS: list[TxSigner] = []


def register_tx_signer(signer: TxSigner) -> None:
    """Let a higher layer (sync) add keys to each log entry of a transaction made here, such as
    its author's signature over the entry's portable content. The store never imports sync."""
    if signer not in _TX_SIGNERS:
        _TX_SIGNERS.append(signer)


class Store:
    """A gridtool store on disk: open it, read its tables, and write through transactions."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.log_path = self.sidecar("log")
        self.lock = _Lock(self.sidecar("lock"))
        self.generation = 0
        self._indexes: dict[str, dict[str, Index]] = {}
        self._view: dict[str, Any] = {}
        self._lazy_loaded: set[str] = set()
        self._table_lock = threading.RLock()
        self._tx: Transaction | None = None
        self._offset = 0
        self._log_identity: tuple[int, int] | None = None
        self._torn_at: int | None = None
        self._seen_size = 0
        self._sums_from = 1 << 62
        self._dirty_unloaded: set[str] = set()
        self._stale = True
        if not self.path.exists():
            raise StoreError("store.missing", path=str(self.path))
        with self.lock.hold(exclusive=False):
            self._load()
            self._remove_temp_leftovers()
        if self.meta["schema"] < SCHEMA_VERSION or "sums_from" not in self.meta:
            try:
                with self.lock.hold(exclusive=True):
                    self._load()
                    self._migrate()
            except (OSError, StoreError):
                if self.meta["schema"] < SCHEMA_VERSION:
                    raise
                # A store from before checksums on a read-only disk: read as it is, upgraded on
                # the first open that may write.

    def _remove_temp_leftovers(self) -> None:
        """Delete temp files that a checkpoint interrupted by a crash left beside the store (full
        copies of tables, personal data included). Called under the store lock, so no checkpoint
        is being written; a file whose process is still alive is left alone all the same."""
        prefix = self.path.name
        for path in self.path.parent.glob(f".{prefix}*.tmp"):
            match = _TEMP_NAME.fullmatch(path.name)
            if not match or not (match["name"] == prefix or match["name"].startswith(prefix + ".")):
                continue
            if _process_alive(int(match["pid"])):
                continue
            with contextlib.suppress(OSError):
                path.unlink()

    # -- creating -----------------------------------------------------------------------------

    @classmethod
    def init(cls, path: str | os.PathLike[str], name: str | None = None) -> Store:
        """Create an empty store with a new replica id; refuses to touch an existing file."""
        target = Path(path)
        _refuse_existing(target)
        meta = {
            "schema": SCHEMA_VERSION,
            "replica": new_id(),
            "name": name or "",
            "seq": 0,
            "hlc": [0, 0],
            "log_offset": 0,
            "created": datetime.now().isoformat(timespec="seconds"),
        }
        view: dict[str, Any] = {META: {"store": meta}}
        for table in TABLES:
            view[table] = {}
        meta["sums_from"] = 0
        meta["tables"] = []
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreError("store.write_failed", path=str(target.parent), reason=_reason(exc)) from None
        lock = _Lock(target.with_name(target.name + ".lock"))
        with lock.hold(exclusive=True):
            _refuse_existing(target)
            log_path = target.with_name(target.name + ".log")
            made: list[Path] = []
            try:  # all or nothing: a failed init leaves nothing that would refuse the next one
                fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                made.append(log_path)
                os.close(fd)
                if lock._fd is not None:  # a lock file left by a store that was here before
                    os.ftruncate(lock._fd, 0)
                write_private(target, seal(orjson.dumps(view)))
            except BaseException as exc:
                for path in made:
                    with contextlib.suppress(OSError):
                        path.unlink()
                if isinstance(exc, OSError):
                    path = exc.filename or target
                    raise StoreError("store.write_failed", path=str(path), reason=_reason(exc)) from None
                raise
        return cls(target)

    # -- reading ------------------------------------------------------------------------------

    @property
    def meta(self) -> dict[str, Any]:
        return self._view[META]["store"]

    @property
    def replica(self) -> str:
        return self.meta["replica"]

    def records(self, table: str) -> dict[str, dict[str, Any]]:
        """The live records of ``table`` by id (the raw view: do not mutate)."""
        if table not in TABLES and table not in self._lazy_loaded:
            with self._table_lock:  # a dashboard may load a big table in a worker thread
                if table not in self._lazy_loaded:
                    self._load_table(table)
        return self._view.setdefault(table, {})

    def last_op(self, record: dict[str, Any]) -> list[list[Any]]:
        """The id of the operation that last wrote ``record``, as a ``pred`` list."""
        last = record.get("_op")
        if last is None:
            return []
        if isinstance(last, int):
            return [[self.replica, last]]
        if isinstance(last, list):  # stores written before the compact form
            return [last]
        origin, _, seq = str(last).rpartition(":")
        return [[origin, int(seq)]]

    def files(self) -> list[Path]:
        """This store's own files: the main file, its log and lock, and the file of each table kept
        apart. The tables are named from the log, so ``office.json`` beside a store ``office`` is
        not mistaken for its table ``json``."""
        if "tables" in self.meta:  # every table with a file, and those only the replayed tail holds
            names = {*self.meta["tables"], *self._lazy_loaded, *self._dirty_unloaded, *TABLES}
        else:
            names = {op["t"] for op in self.operations()} | set(TABLES)
        candidates = [self.path, *map(self.sidecar, SIDECARS), *map(self.table_path, sorted(names))]
        return [path for path in candidates if path.exists()]

    def owns(self, path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` is one of this store's files, which an export must never overwrite."""
        target = Path(path).resolve()
        return target.parent == self.path.parent.resolve() and (
            target.name == self.path.name or target.name.startswith(self.path.name + ".")
        )

    def is_loaded(self, table: str) -> bool:
        """Whether reading ``table`` is free (it is in memory already)."""
        return table in TABLES or table in self._lazy_loaded

    def is_checkpointed(self, table: str) -> bool:
        """Whether ``table``'s own file holds all of it: not read yet and no later operation in
        the log, so a reader may look things up in that file without loading the table."""
        return table not in TABLES and table not in self._lazy_loaded and table not in self._dirty_unloaded

    def table_path(self, table: str) -> Path:
        """The checkpoint file of a table kept outside the main file."""
        return self.sidecar(table)

    def sidecar(self, suffix: str) -> Path:
        """A file kept beside the store's own, ``NAME.<suffix>``: a table's checkpoint, or one of
        :data:`SIDECARS`."""
        return self.path.with_name(f"{self.path.name}.{suffix}")

    def _load_table(self, table: str) -> None:
        """Read a lazily kept table's checkpoint and replay the log lines written since it."""
        with self.lock.hold(exclusive=False):
            path = self.table_path(table)
            try:
                data = unseal(path.read_bytes(), legacy="sums_from" not in self.meta)
                records = data[table]
                offset = int(data[META]["table"]["log_offset"])
                owner = data[META]["table"].get("replica")
                if not isinstance(records, dict):
                    raise TypeError(f"{table} is not a table")
            except FileNotFoundError:
                written = self.meta.get("tables")
                if written is None:  # a store from before the list: the table may be in the log
                    records, offset, owner = {}, 0, self.replica
                elif table in written:  # the last checkpoint wrote it: its file went missing
                    raise StoreError("store.table_missing", path=str(path)) from None
                else:  # never written before the checkpoint: only the log's tail can hold it
                    records, offset, owner = {}, int(self.meta["log_offset"]), self.replica
            except OSError as exc:
                raise StoreError("store.unreadable", path=str(path), reason=_reason(exc)) from None
            except Damaged as exc:
                raise StoreError("store.corrupt", path=str(path), reason=str(exc)) from None
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise StoreError("store.corrupt", path=str(path), reason=str(exc)[:120]) from None
            if owner not in (None, self.replica):  # files from before tables were signed carry none
                raise StoreError("store.foreign_table", path=str(path), store=str(self.path))
            if "tables" in self.meta:
                # Every checkpoint rewrites each table changed since the one before, so a table's
                # file is current up to the main file's offset: a table untouched while a 266 MB
                # import was logged does not read that import again.
                offset = max(offset, int(self.meta["log_offset"]))
            self._view[table] = records
            self._lazy_loaded.add(table)
            if offset < self._offset:
                for _, entry in self._read_log(offset, self._offset, mentioning=f'"t":"{table}"'.encode()):
                    for op in entry["ops"]:
                        if op["t"] == table:
                            self._apply(op)
            if self._tx is not None:  # this transaction's own, not yet committed, writes to it
                for op in self._tx.operations(f'"t":"{table}"'.encode()):
                    if op["t"] == table:
                        self._apply(op)

    def get(self, table: str, record_id: str) -> dict[str, Any] | None:
        return self.records(table).get(record_id)

    def table(self, name: str) -> Table:
        """A read-only TinyDB table over the current view, for ad-hoc ``tinydb.Query`` searches.

        Writes go through :meth:`transaction` only: a TinyDB insert would bypass the log.
        """
        self.records(name)  # a lazily kept table is read first
        table = self._db.table(name)
        table.clear_cache()  # our writes do not go through TinyDB, so its query cache may be stale
        return table

    def resolve(self, table: str, ref: str) -> str:
        """The id of the record that ``ref`` names: a full id or a unique id suffix (4+ chars)."""
        records = self.records(table)
        if ref in records:
            return ref
        needle = ref.strip().upper()
        if needle in records:
            return needle
        if len(needle) >= 4:
            matches = [rid for rid in records if rid.endswith(needle)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise NotFound("error.ambiguous", table=table, ref=ref, count=len(matches), length=SHORT_LEN)
        raise NotFound("error.not_found", table=table, ref=ref)

    def index(self, table: str, name: str, keys: Callable[[dict[str, Any]], Iterable[Any]]) -> Index:
        """A secondary index on ``table``, built on its first lookup and maintained on every write."""
        per_table = self._indexes.setdefault(table, {})
        idx = per_table.get(name)
        if idx is None:
            idx = per_table[name] = Index(keys, lambda: self.records(table))
        return idx

    # -- keeping up with other processes ------------------------------------------------------

    def refresh(self) -> bool:
        """Take in what other processes wrote since we last looked; returns whether anything did."""
        if not self._stale and self._log_unchanged():
            return False
        before = self.generation
        with self.lock.hold(exclusive=False):
            self._catch_up()
        return self.generation != before

    def _log_unchanged(self) -> bool:
        try:
            st = os.stat(self.log_path)
        except FileNotFoundError:
            return False
        return (st.st_ino, st.st_dev) == self._log_identity and st.st_size == self._seen_size

    def _catch_up(self) -> None:
        """Under a lock: replay the log's new lines, or reload whole if the files were replaced."""
        if self._stale:
            self._load()
            return
        try:
            st = os.stat(self.log_path)
        except FileNotFoundError:
            self._load()
            return
        if (st.st_ino, st.st_dev) != self._log_identity or st.st_size < self._offset:
            self._load()
        elif st.st_size > self._offset:
            self._replay()

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raise StoreError("store.missing", path=str(self.path)) from None
        except OSError as exc:  # a directory, no permission: say which file and why
            raise StoreError("store.unreadable", path=str(self.path), reason=_reason(exc)) from None
        try:
            view = unseal(raw, legacy=True)
            meta = view[META]["store"]
            schema = int(meta["schema"])
            for key in ("replica", "seq", "hlc"):
                meta[key]
            if not is_sealed(raw) and "sums_from" in meta:  # written with a checksum, now without
                raise Damaged("checksum missing")
            sums_from = int(meta.get("sums_from", 1 << 62))
        except Damaged as exc:
            raise StoreError("store.corrupt", path=str(self.path), reason=str(exc)) from None
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise StoreError("store.corrupt", path=str(self.path), reason=str(exc)[:120]) from None
        if schema > SCHEMA_VERSION:
            raise StoreError("store.too_new", path=str(self.path), found=schema, supported=SCHEMA_VERSION)
        for table in TABLES:
            view.setdefault(table, {})
        self._view = view
        self._sums_from = sums_from
        self._lazy_loaded = set()
        for name in [n for n in view if n != META and n not in TABLES]:
            # A store written before this table moved to a file of its own keeps it in the main
            # file; use that copy until the next checkpoint writes the table's own file.
            if self.table_path(name).exists():
                del view[name]
            else:
                self._lazy_loaded.add(name)
        self._db = TinyDB(storage=ViewStorage, view=view)
        self._db.table_class = RecordTable
        self._offset = int(meta.get("log_offset", 0))
        self._checkpoint_offset = self._offset
        self._log_identity = None
        self._torn_at = None
        for per_table in self._indexes.values():
            for idx in per_table.values():
                idx.drop()
        self._stale = False
        self._replay()
        self.generation += 1

    def _replay(self) -> None:
        """Apply the log lines written since our view, to the tables we hold."""
        applied = False
        for _, entry in self._read_log(self._offset):
            for op in entry["ops"]:
                self._apply(op)
            applied = True
        if applied:
            self.generation += 1

    def _read_log(
        self, start: int, end: int | None = None, mentioning: bytes | None = None
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """The committed entries of the log from byte ``start`` (to ``end``), with their offsets.

        Reading to the end also advances the view's offset and remembers a torn last line. With
        ``mentioning``, only lines holding those bytes are parsed: a table never written, read
        lazily, skips a long log in a fraction of a second instead of parsing all of it.
        """
        try:
            fh = open(self.log_path, "rb")  # noqa: SIM115 - closed below, stat taken on the same fd
        except FileNotFoundError:
            if start:
                raise StoreError("store.log_missing", path=str(self.log_path)) from None
            self._log_identity = None
            return
        except OSError as exc:
            raise StoreError("store.unreadable", path=str(self.log_path), reason=_reason(exc)) from None
        with fh:
            st = os.fstat(fh.fileno())
            if st.st_size < (end if end is not None else start):
                raise StoreError("store.log_short", path=str(self.log_path), size=st.st_size, offset=start)
            chosen: Iterable[tuple[int, bytes]] | None = None
            if mentioning is not None and end is not None and end > start:
                # Searched in place: copying a log of some hundred MB would cost more than the search.
                with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as whole:
                    chosen = list(_lines(whole, mentioning, start, end))
                tail = b""
            else:
                fh.seek(start)
                tail = fh.read() if end is None else fh.read(end - start)
        if end is None:
            self._log_identity = (st.st_ino, st.st_dev)
        stop = tail.rfind(b"\n") + 1
        if end is None:  # a line cut short by a crash was never committed: it is not applied
            stop = committed_end(tail, stop)  # nor the parts of a transaction it never finished
            self._refuse_cut_log(start + stop)
            self._torn_at = start + stop if stop < len(tail) else None
            self._seen_size = start + len(tail)
        if chosen is None:
            chosen = ((start + pos, line) for pos, line in _lines(tail, mentioning, 0, stop))
        for pos, line in chosen:
            yield pos, self.verified_entry(line, pos)
        if end is None:
            self._offset = start + stop

    @classmethod
    def replayed(
        cls,
        path: str | os.PathLike[str],
        meta: dict[str, Any],
        tables: Iterable[str],
        end: int,
        start: int = 0,
        records: dict[str, dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The main file's tables and ``tables`` rebuilt from the log's bytes ``start`` to ``end``
        (onto ``records``, a table's checkpointed records, when given), with ``meta``'s sequence
        and clock brought up to them: what ``store repair`` writes in place of a damaged or
        lagging checkpoint. Other tables' operations are read but not kept."""
        store = cls.__new__(cls)
        store.path = Path(path)
        store.log_path = store.sidecar("log")
        store.generation = 0
        store._indexes = {}
        store._view = {META: {"store": meta}, **{t: {} for t in TABLES}, **(records or {})}
        store._lazy_loaded = set(tables) - set(TABLES)
        store._dirty_unloaded = set()
        store._sums_from = int(meta.get("sums_from", 1 << 62))
        store._tx = None
        with collector_paused():
            for _, entry in store._read_log(start, end):
                for op in entry["ops"]:
                    store._apply(op)
        return store._view

    def _refuse_cut_log(self, complete: int) -> None:
        """A log whose complete lines end before the size the last commit recorded lost committed
        lines (a copy cut short, a truncation), which replaying must not pass over in silence."""
        try:
            record = read_commit_record(self.lock.path.read_bytes()[: _COMMITTED.size + 4])
        except (OSError, Damaged):  # no lock file, or a damaged record: store check reports it
            return
        if record is not None and record[0] > complete:  # by size alone: a copied store keeps its record
            raise StoreError("store.log_cut", path=str(self.log_path), size=complete, committed=record[0])

    def verified_entry(self, line: bytes, offset: int) -> dict[str, Any]:
        """The entry a log line holds, after its checksum (the one place lines are verified):
        a line that fails it is refused by file and byte, never used."""
        return log_entry(line, offset, self.log_path, legacy=offset < self._sums_from)

    # -- writing ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, actor: str | None = None, at: datetime | None = None) -> Iterator[Transaction]:
        """One command's writes: validated and applied inside, committed as one log line.

        Anything raised inside leaves the files untouched and the view reloaded from disk.
        """
        with self.lock.hold(exclusive=True):
            self._catch_up()
            tx = self._tx = Transaction(self, actor, at)
            try:
                yield tx
                if tx.written:
                    self._commit(tx)
            except BaseException:
                if tx.parts_from is not None:  # its parts are taken back (or cut by the next commit)
                    self._cut_log(tx.parts_from)
                if tx.written:
                    self._stale = True
                    with contextlib.suppress(StoreError):
                        self._load()
                raise
            finally:
                self._tx = None
        if tx.written and self._offset - self._checkpoint_offset > CHECKPOINT_BYTES:
            # The change is already safe in the log; a checkpoint that fails (a full disk) only means
            # the next open replays a longer tail, so it must not turn a saved edit into an error.
            # A Ctrl-C here still ends the command: swallowed, it could be lost for the seconds a
            # big table takes to load, and a table interrupted half-loaded must never be written.
            with contextlib.suppress(OSError):
                self.checkpoint()

    def _commit(self, tx: Transaction) -> None:
        entry: dict[str, Any] = {"v": LOG_FORMAT, "tx": tx.id, "ops": tx.ops}
        if tx.parts:  # what this line commits besides its own operations (it may have none)
            entry["parts"] = tx.parts
        if tx.actor:
            entry["actor"] = tx.actor
        if tx.at:
            entry["at"] = tx.at.isoformat(timespec="seconds")
        entry.update(tx.notes)
        if tx.relayed:
            entry["txs"] = tx.relayed
        elif not tx.parts:  # a transaction in parts adopts other replicas' operations: none to sign
            for signer in _TX_SIGNERS:
                entry.update(signer(self, entry))
        line = seal(orjson.dumps(entry)) + b"\n"  # sealed last, over whatever the entry holds
        start = tx.parts_end if tx.parts_from is not None else self._append_at()
        st = self._write_line(line, start, tx.parts_from, sync=True)
        if self.lock._fd is not None:
            write_commit_record(self.lock._fd, start + len(line), st.st_ino)
        self._torn_at = None
        self._offset = self._seen_size = start + len(line)
        self._log_identity = (st.st_ino, st.st_dev)
        self.generation += 1
        global _commits_made
        _commits_made += 1

    def _write_part(self, tx: Transaction) -> None:
        tx.parts += 1
        entry: dict[str, Any] = {"v": LOG_FORMAT, "tx": tx.id, "ops": tx.ops}
        if tx.relayed:
            entry["txs"] = tx.relayed
        entry["part"] = tx.parts  # last before the checksum: readers spot a part by its ending
        line = seal(orjson.dumps(entry)) + b"\n"
        if tx.parts_from is None:
            tx.parts_from = tx.parts_end = self._append_at()
        self._write_line(line, tx.parts_end, tx.parts_from, sync=False)
        tx.parts_end += len(line)
        tx.ops = []
        tx.relayed = []

    def _append_at(self) -> int:
        return self._torn_at if self._torn_at is not None else self._offset

    def _write_line(self, line: bytes, start: int, first: int | None, sync: bool) -> os.stat_result:
        """Write ``line`` at byte ``start`` of the log, cutting what follows (a torn tail left by a
        crash); on failure the log is cut back to ``first`` (a transaction's first part) or
        ``start``, so "Aborted!" and a write error are both true: nothing of it stays."""
        back = start if first is None else first
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.ftruncate(fd, start)
            os.lseek(fd, start, os.SEEK_SET)
            try:
                view = memoryview(line)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                if sync:  # one fsync for every part: it flushes the file, whichever write made it
                    os.fsync(fd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, back)
                raise StoreError("store.write_failed", path=str(self.log_path), reason=str(exc)) from None
            except BaseException:  # Ctrl-C while the line is written or synced (50 ms for a big
                with contextlib.suppress(OSError):  # import): taken back, so "Aborted!" is true
                    os.ftruncate(fd, back)
                raise
            return os.fstat(fd)
        finally:
            os.close(fd)

    def _cut_log(self, size: int) -> None:
        with contextlib.suppress(OSError):
            os.truncate(self.log_path, size)

    def checkpoint(self) -> None:
        """Rewrite the TinyDB file from the current view so opening replays a short tail."""
        with self.lock.hold(exclusive=True):
            self._catch_up()
            self._write_checkpoint()

    def _write_checkpoint(self) -> None:
        # Table files first, the main file last: a crash in between leaves table files that are
        # newer than the main file's offset, and replaying operations already applied is harmless
        # because every operation assigns absolute values.
        for table in sorted(self._dirty_unloaded - self._lazy_loaded):
            self.records(table)  # changed since its file was written: bring it up to date too
        self._dirty_unloaded.clear()
        for table in sorted(self._lazy_loaded):
            data = {
                META: {"table": {"log_offset": self._offset, "replica": self.replica}},
                table: self._view.get(table, {}),
            }
            write_private(self.table_path(table), seal(orjson.dumps(data)))
        self.meta["log_offset"] = self._offset
        # The tables with a file as of this offset: a table not named has nothing in the log before
        # it, so reading it replays only the tail (not the whole log, to find nothing); and one
        # named has nothing in the log between its own file's offset and this one (it would be
        # loaded or dirty here, and written above).
        self.meta["tables"] = sorted({*self.meta.get("tables", ()), *self._lazy_loaded})
        self.meta.setdefault("sums_from", self._offset)
        main = {name: value for name, value in self._view.items() if name == META or name in TABLES}
        write_private(self.path, seal(orjson.dumps(main)))
        self._sums_from = self.meta["sums_from"]
        self._checkpoint_offset = self._offset

    def _all_table_names(self) -> set[str]:
        """Every table the store has: with a checkpoint file, or so far only in the log (rare: a
        migration's cost)."""
        names = {
            path.name[len(self.path.name) + 1 :]
            for path in self.path.parent.glob(f"{self.path.name}.*")
            if re.fullmatch(r"[a-z_]+", path.name[len(self.path.name) + 1 :])
        } - {"log", "lock"}
        return names | self._tables_in_log() | set(TABLES)

    def _tables_in_log(self) -> set[str]:
        """The names of the tables the log's operations write, read off its bytes in chunks: a
        266 MB log is one import's line, which parsed whole takes 2.5 GB. A field that happens to
        be called ``t`` only adds a name, whose table then reads as empty."""
        found: set[str] = set()
        try:
            fh = open(self.log_path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return found
        with fh:
            carry = b""
            while chunk := fh.read(16 << 20):
                data = carry + chunk
                found.update(m.decode() for m in _OP_TABLE.findall(data))
                carry = data[-64:]
        return found

    def _migrate(self) -> None:
        if "sums_from" not in self.meta:  # from before checksums: every file is rewritten sealed
            for table in self._all_table_names():
                self.records(table)
        while self.meta["schema"] < SCHEMA_VERSION:
            version = self.meta["schema"]
            migration = MIGRATIONS.get(version)
            if migration is None:
                raise StoreError(
                    "store.no_migration", path=str(self.path), found=version, supported=SCHEMA_VERSION
                )
            for table in self._all_table_names():
                self.records(table)
            tables = {name: recs for name, recs in self._view.items() if name != META}
            migration(tables)
            self.meta["schema"] = version + 1
        self._write_checkpoint()
        self._load()

    # -- applying operations ------------------------------------------------------------------

    def _tick(self) -> list[int]:
        """Advance the hybrid logical clock: wall milliseconds, or a counter when they tie."""
        now = wall_ms()
        ms, counter = self.meta["hlc"]
        clock = [now, 0] if now > ms else [ms, counter + 1]
        self.meta["hlc"] = clock
        return clock

    def _apply(self, op: dict[str, Any]) -> None:
        meta = self.meta
        origin, seq = op["id"]
        if origin == meta["replica"] and seq > meta["seq"]:
            meta["seq"] = seq
        if op["hlc"] > meta["hlc"]:
            meta["hlc"] = list(op["hlc"])
        if op["t"] not in TABLES and op["t"] not in self._lazy_loaded:
            self._dirty_unloaded.add(op["t"])
            return  # replayed from that table's own checkpoint when it is first read
        rid = op["r"]
        current = self._view.setdefault(op["t"], {}).get(rid)
        eff = op.get("eff")
        if eff is not None:  # a merged operation: its effect was worked out against the history
            merged = eff.get("rec")
            record = None if merged is None else {**merged, "id": rid}
            origin, seq = eff["op"]
        elif op.get("del"):
            record = None
        else:
            record = dict(current) if current is not None else {"id": rid}
            record.update(op["set"])
        if record is not None:
            # The operation that last wrote the record (the next one's predecessor): a bare
            # sequence number when it was written here, which parses far cheaper than a list.
            record["_op"] = seq if origin == meta["replica"] else f"{origin}:{seq}"
        self._put(op["t"], rid, current, record)

    def _apply_many(self, ops: list[dict[str, Any]]) -> None:
        """:meth:`_apply` for a sync import's batch: the same effect, with the common operation (a
        plain write to a loaded table without built indexes) done inline. A first sync adopts
        some 200,000 operations, and the general path cost half a second more."""
        meta = self.meta
        replica = meta["replica"]
        view = self._view
        plain: dict[str, dict[str, Any] | None] = {}
        for op in ops:
            table = op["t"]
            records = plain.get(table, False)
            if records is False:
                indexes = self._indexes.get(table) or {}
                loaded = table in TABLES or table in self._lazy_loaded
                built = any(idx.built for idx in indexes.values())
                records = plain[table] = view.setdefault(table, {}) if loaded and not built else None
            if records is None or "eff" in op or "del" in op:
                self._apply(op)
                continue
            origin, seq = op["id"]
            if origin == replica:
                if seq > meta["seq"]:
                    meta["seq"] = seq
                mark: int | str = seq
            else:
                mark = f"{origin}:{seq}"
            if op["hlc"] > meta["hlc"]:
                meta["hlc"] = list(op["hlc"])
            rid = op["r"]
            current = records.get(rid)
            record = dict(current) if current is not None else {"id": rid}
            record.update(op["set"])
            record["_op"] = mark
            records[rid] = record

    def _put(
        self, table: str, rid: str, current: dict[str, Any] | None, record: dict[str, Any] | None
    ) -> None:
        """Replace ``current`` by ``record`` (None: delete) in the view and in the built indexes."""
        records = self._view[table]
        if record is None:
            records.pop(rid, None)
        else:
            records[rid] = record
        indexes = self._indexes.get(table)
        if not indexes:
            return
        for idx in indexes.values():
            if not idx.built:
                continue
            if current is None:
                if record is not None:
                    idx.add(rid, record)
            elif record is None:
                idx.remove(rid, current)
            elif idx.keys(current) != idx.keys(record):  # a new phone leaves the address index be
                idx.remove(rid, current)
                idx.add(rid, record)

    def entries(self, start: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """The log's committed entries from byte ``start`` (a line's start), with their offsets,
        each verified against its checksum: how anything outside the store should read the log."""
        with self.lock.hold(exclusive=False):
            size = self.committed_size()
            if start >= size:
                return
            yield from self._read_log(start, size)

    def committed_size(self) -> int:
        """How many bytes of the log hold committed lines: not a torn last line, nor the parts of
        a transaction that never wrote its last line."""
        try:
            fh = open(self.log_path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return 0
        with fh:
            size = os.fstat(fh.fileno()).st_size
            if not size:
                return 0
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as whole:
                return committed_end(whole, whole.rfind(b"\n") + 1)

    def operations(self) -> Iterator[dict[str, Any]]:
        """Every committed operation in log order (the history sync will exchange)."""
        with self.lock.hold(exclusive=False):
            end = self.committed_size()
            if not end:
                return
            with open(self.log_path, "rb") as fh:
                offset = 0
                for line in fh:
                    if offset + len(line) > end:
                        break
                    yield from self.verified_entry(line[:-1], offset)["ops"]
                    offset += len(line)


def _lines(body: Any, mentioning: bytes | None, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    """The complete lines of ``body[start:end]`` (bytes or a memory map) with their offsets in
    ``body``; with ``mentioning``, only those holding it, found by searching for it rather than
    by splitting every line. Lines end at ``\n`` only (never at another line break a value holds)."""
    if mentioning is None:
        pos = start
        for line in body[start:end].split(b"\n")[:-1]:
            yield pos, line
            pos += len(line) + 1
        return
    found = body.find(mentioning, start, end)
    while found >= 0:
        begin = max(start, body.rfind(b"\n", start, found) + 1)
        stop = body.find(b"\n", found, end)
        if stop < 0:  # the last line has no newline yet: not committed
            return
        yield begin, bytes(body[begin:stop])
        found = body.find(mentioning, stop, end)
