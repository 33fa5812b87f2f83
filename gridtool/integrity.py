"""``store check`` and ``store repair``: find every damaged file of a store, and rebuild from what
is intact.

Why this shape: a damaged store cannot be opened (that is the point of its checksums), so both
work on the files directly, reading each one once, line by line, and never loading a table they do
not have to. The log is the source of truth, as the design says of the view: repair keeps the log up
to its first damaged line and rebuilds every checkpoint that is damaged or holds more than that.
Every message is a ``(key, params)`` pair, translated by the command that prints it.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from gridtool.errors import StoreError
from gridtool.ids import new_id
from gridtool.store import (
    _TEMP_NAME,
    LOG_FORMAT,
    META,
    SCHEMA_VERSION,
    SIDECARS,
    TABLES,
    Damaged,
    Store,
    _fsync_dir,
    _Lock,
    committed_end,
    is_sealed,
    log_entry,
    read_commit_record,
    seal,
    seal_holds,
    unseal,
    write_commit_record,
    write_private,
)

Message = tuple[str, dict[str, Any]]
_OP_ID = re.compile(rb'"id":\["([0-9A-Z]{26})",(\d+)\]')
_OP_TABLE = re.compile(rb'"t":"([a-z_]+)"')
_FORMAT = re.compile(rb'\{"v":(\d+),')
_TABLE_NAME = re.compile(r"[a-z_]+")


@dataclass
class LostLine:
    """A log line that repair would cut: what it held, as far as its bytes still say."""

    line: int
    offset: int
    size: int
    readable: bool
    ids: list[tuple[str, int]] = field(default_factory=list)
    actor: str | None = None
    tables: Counter[str] = field(default_factory=Counter)


@dataclass
class TableFile:
    path: Path
    ok: bool
    offset: int = 0
    owner: str | None = None
    records: int = 0


@dataclass
class Examination:
    """What ``store check`` found: what it checked, each problem, and what repair needs to know."""

    path: Path
    checked: list[Message] = field(default_factory=list)
    problems: list[Message] = field(default_factory=list)
    main_meta: dict[str, Any] | None = None
    main_offset: int = 0
    log_size: int | None = None
    complete_end: int = 0  # where the log's last line with its newline ends
    cut_short: int = 0  # committed bytes missing from the end of the log (the lock file's record)
    record_damaged: bool = False
    first_bad: int | None = None  # offset of the first line that is damaged or torn
    unfinished: int = 0  # lines at the end of a transaction a crash stopped (never committed)
    lines: int = 0
    lost: list[LostLine] = field(default_factory=list)
    tables_in_log: set[str] = field(default_factory=set)
    tables_before_main: set[str] = field(default_factory=set)
    last_write: dict[str, int] = field(default_factory=dict)  # table -> end of its last intact line
    last_before_main: dict[str, int] = field(default_factory=dict)  # the same, up to the main offset
    local_seq: dict[str, int] = field(default_factory=dict)
    boundaries: set[int] = field(default_factory=set)
    first_sealed: int | None = None
    table_files: dict[str, TableFile] = field(default_factory=dict)
    temp_files: list[Path] = field(default_factory=list)
    loose_modes: list[Path] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    @property
    def intact_end(self) -> int:
        """Where the log's intact part ends: repair cuts it here."""
        return self.first_bad if self.first_bad is not None else (self.log_size or 0)


def _sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(f"{path.name}.{suffix}")


def examine(path: str | os.PathLike[str], locked: bool = False) -> Examination:
    """Verify every file of the store at ``path``; never changes a byte. ``locked``: the caller
    holds the store's lock already."""
    path = Path(path)
    ex = Examination(path)
    if not path.exists():
        raise StoreError("store.missing", path=str(path))
    with contextlib.nullcontext() if locked else _Lock(_sidecar(path, "lock")).hold(exclusive=False):
        _check_main(ex)
        _check_table_files(ex)
        _check_log(ex)
        _check_commit_record(ex)
        _check_offsets(ex)
        _check_files(ex)
    return ex


def _check_main(ex: Examination) -> None:
    try:
        raw = ex.path.read_bytes()
        view = unseal(raw, legacy=True)
        meta = view[META]["store"]
        for key in ("replica", "seq", "hlc", "schema"):
            meta[key]
        if not is_sealed(raw) and "sums_from" in meta:
            raise Damaged("checksum missing")
        for table in TABLES:
            _check_records(table, view.get(table, {}))
    except OSError as exc:
        ex.problems.append(("check.unreadable", {"file": ex.path.name, "reason": exc.strerror or str(exc)}))
        return
    except (Damaged, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        ex.problems.append(("check.file_damaged", {"file": ex.path.name, "reason": str(exc)[:120]}))
        return
    ex.main_meta = meta
    ex.main_offset = int(meta.get("log_offset", 0))
    records = sum(len(view.get(table, {})) for table in TABLES)
    ex.checked.append(("check.main_ok", {"file": ex.path.name, "records": records, "offset": ex.main_offset}))
    if "sums_from" not in meta:
        ex.checked.append(("check.legacy", {"file": ex.path.name}))


def _check_records(table: str, records: Any) -> int:
    """Every record readable: a mapping of id to a record that carries that id."""
    if not isinstance(records, dict):
        raise TypeError(f"{table} is not a table")
    for rid, record in records.items():
        if not isinstance(record, dict) or record.get("id") != rid:
            raise ValueError(f"{table} record {rid} is unreadable")
    return len(records)


def _table_names_on_disk(path: Path) -> list[str]:
    prefix = path.name + "."
    names = [
        p.name[len(prefix) :]
        for p in path.parent.glob(prefix + "*")
        if _TABLE_NAME.fullmatch(p.name[len(prefix) :]) and p.name[len(prefix) :] not in SIDECARS
    ]
    return sorted(names)


def _check_table_files(ex: Examination) -> None:
    legacy = ex.main_meta is not None and "sums_from" not in ex.main_meta
    for table in _table_names_on_disk(ex.path):
        file_path = _sidecar(ex.path, table)
        entry = TableFile(file_path, ok=False)
        ex.table_files[table] = entry
        try:
            data = unseal(file_path.read_bytes(), legacy=legacy)
            entry.offset = int(data[META]["table"]["log_offset"])
            entry.owner = data[META]["table"].get("replica")
            entry.records = _check_records(table, data[table])
        except OSError as exc:
            ex.problems.append(
                ("check.unreadable", {"file": file_path.name, "reason": exc.strerror or str(exc)})
            )
            continue
        except (Damaged, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            ex.problems.append(("check.file_damaged", {"file": file_path.name, "reason": str(exc)[:120]}))
            continue
        if ex.main_meta is not None and entry.owner not in (None, ex.main_meta["replica"]):
            ex.problems.append(("check.foreign", {"file": file_path.name}))
            continue
        entry.ok = True
    good = [t for t in ex.table_files.values() if t.ok]
    if good:
        ex.checked.append(("check.tables_ok", {"count": len(good), "records": sum(t.records for t in good)}))
    listed = ex.main_meta.get("tables", []) if ex.main_meta else []
    for table in listed:
        if table not in ex.table_files:
            ex.problems.append(("check.table_missing", {"file": _sidecar(ex.path, table).name}))


def _lost_line(number: int, offset: int, raw: bytes) -> LostLine:
    lost = LostLine(number, offset, len(raw), readable=False)
    lost.ids = [(m[1].decode(), int(m[2])) for m in _OP_ID.finditer(raw)]
    with contextlib.suppress(orjson.JSONDecodeError, TypeError, AttributeError, KeyError):
        entry = orjson.loads(raw)
        lost.actor = entry.get("actor")
        lost.tables = Counter(op["t"] for op in entry["ops"])
        lost.readable = True
    return lost


def _sealed_ops(line: bytes) -> list[tuple[str, int, str]] | None:
    """``(origin, seq, table)`` of each operation of a line whose checksum holds, read off its bytes.

    The checksum proves the bytes are what gridtool's serialiser wrote, so they parse; reading the
    ids and tables without building every operation keeps a check of a 266 MB log (one import is
    one line) to seconds and a few hundred megabytes. None: verify and parse the line fully."""
    if not is_sealed(line) or not seal_holds(line):
        return None
    version = _FORMAT.match(line)
    if version is None or int(version[1]) > LOG_FORMAT:
        return None
    ids = _OP_ID.findall(line)
    tables = _OP_TABLE.findall(line)
    if not ids or len(ids) != len(tables):
        return None
    return [
        (origin.decode(), int(seq), table.decode()) for (origin, seq), table in zip(ids, tables, strict=True)
    ]


def _check_log(ex: Examination) -> None:
    log_path = _sidecar(ex.path, "log")
    meta = ex.main_meta
    sums_from = int(meta.get("sums_from", 1 << 62)) if meta else None
    try:
        fh = open(log_path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        ex.problems.append(("check.log_missing", {"file": log_path.name}))
        return
    except OSError as exc:
        ex.problems.append(("check.unreadable", {"file": log_path.name, "reason": exc.strerror or str(exc)}))
        return
    last: dict[str, int] = {}
    operations = 0
    offset = 0
    unfinished = 0
    with fh:
        committed = _committed(fh)
        for number, raw in enumerate(fh, start=1):
            ex.boundaries.add(offset)
            body = raw[:-1] if raw.endswith(b"\n") else raw
            if body is not raw and offset >= committed and ex.first_bad is None:
                unfinished += 1  # parts of a transaction a crash stopped: never committed, not lost
                offset += len(raw)
                continue
            if body is not raw:
                ex.complete_end = offset + len(raw)
            if ex.first_sealed is None and is_sealed(body):
                ex.first_sealed = offset
            if ex.first_bad is not None:
                ex.lost.append(_lost_line(number, offset, body))
                offset += len(raw)
                continue
            if not raw.endswith(b"\n"):
                ex.first_bad = offset
                ex.lost.append(_lost_line(number, offset, body))
                ex.problems.append(
                    (
                        "check.log_torn",
                        {"file": log_path.name, "line": number, "offset": offset, "size": len(raw)},
                    )
                )
                offset += len(raw)
                continue
            legacy = offset < sums_from if sums_from is not None else ex.first_sealed is None
            try:
                ops = _sealed_ops(body)
                if ops is None:
                    entry = log_entry(body, offset, log_path, legacy=legacy)
                    ops = [(op["id"][0], op["id"][1], op["t"]) for op in entry["ops"]]
            except StoreError as exc:
                ex.first_bad = offset
                ex.lost.append(_lost_line(number, offset, body))
                reason = exc.params.get("reason", exc.key)
                ex.problems.append(
                    (
                        "check.log_damaged",
                        {"file": log_path.name, "line": number, "offset": offset, "reason": reason},
                    )
                )
                offset += len(raw)
                continue
            end = offset + len(raw)
            for origin, seq, table in ops:
                expected = last.get(origin, 0) + 1
                if seq != expected:
                    ex.problems.append(
                        (
                            "check.seq_gap",
                            {
                                "file": log_path.name,
                                "line": number,
                                "origin": origin,
                                "seq": seq,
                                "expected": expected,
                            },
                        )
                    )
                last[origin] = max(seq, last.get(origin, 0))
                ex.tables_in_log.add(table)
                ex.last_write[table] = end
                if end <= ex.main_offset:
                    ex.tables_before_main.add(table)
                    ex.last_before_main[table] = end
            operations += len(ops)
            ex.lines = number
            offset = end
    ex.log_size = offset
    if unfinished:  # the log ends, as far as anything reads it, before those parts
        ex.unfinished = unfinished
        ex.log_size = committed
        if ex.first_bad is not None and ex.first_bad > committed:
            ex.first_bad = committed
        ex.checked.append(("check.log_unfinished", {"file": log_path.name, "lines": unfinished}))
    ex.boundaries.add(ex.intact_end)
    ex.local_seq = last
    ex.checked.append(
        (
            "check.log_ok",
            {"file": log_path.name, "lines": ex.lines, "operations": operations, "authors": len(last)},
        )
    )


def _committed(fh: Any) -> int:
    """Where the log's committed lines end: before the parts of a transaction with no last line."""
    size = os.fstat(fh.fileno()).st_size
    if not size:
        return 0
    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as whole:
        return committed_end(whole, whole.rfind(b"\n") + 1)


def _check_commit_record(ex: Examination) -> None:
    """The lock file's record of the log's size at the last commit: a log shorter than that lost
    committed lines from its end, which no line's checksum can tell."""
    lock = _sidecar(ex.path, "lock")
    try:
        record = read_commit_record(lock.read_bytes())
    except FileNotFoundError:
        return
    except (OSError, Damaged) as exc:
        ex.record_damaged = True
        ex.problems.append(("check.file_damaged", {"file": lock.name, "reason": str(exc)[:120]}))
        return
    if ex.log_size is None or record is None:
        return
    complete = ex.complete_end
    torn = [p for p in ex.problems if p[0] == "check.log_torn"]
    if torn and record[0] == complete:  # the commit record ends where the torn line begins
        ex.problems.remove(torn[0])
        ex.checked.append(("check.log_remnant", {"file": torn[0][1]["file"], "size": torn[0][1]["size"]}))
    if record[0] > complete:
        ex.cut_short = record[0] - complete
        ex.problems.append(
            (
                "check.log_cut",
                {"file": _sidecar(ex.path, "log").name, "size": complete, "committed": record[0]},
            )
        )


def _check_offsets(ex: Examination) -> None:
    if ex.log_size is None:
        return
    end = ex.intact_end
    places = [(ex.path, ex.main_offset)] if ex.main_meta else []
    places += [(t.path, t.offset) for t in ex.table_files.values() if t.ok]
    for file_path, offset in places:
        if offset > end or offset not in ex.boundaries:
            ex.problems.append(("check.offset", {"file": file_path.name, "offset": offset, "size": end}))
    if ex.main_meta and "tables" in ex.main_meta:
        for table, tf in ex.table_files.items():
            if tf.ok and tf.offset < ex.main_offset and ex.last_before_main.get(table, 0) > tf.offset:
                ex.problems.append(("check.table_behind", {"file": tf.path.name, "offset": tf.offset}))
        unlisted = ex.tables_before_main - set(TABLES) - set(ex.main_meta["tables"]) - set(ex.table_files)
        for table in sorted(unlisted):
            ex.problems.append(("check.table_missing", {"file": _sidecar(ex.path, table).name}))


def _check_files(ex: Examination) -> None:
    """Every file private (0600), and no temp file of an interrupted write left behind."""
    own = [ex.path, *(_sidecar(ex.path, s) for s in SIDECARS), *(t.path for t in ex.table_files.values())]
    checked = 0
    for file_path in own:
        try:
            mode = stat.S_IMODE(file_path.stat().st_mode)
        except OSError:
            continue
        checked += 1
        if mode & 0o077:
            ex.loose_modes.append(file_path)
            ex.problems.append(("check.mode", {"file": file_path.name, "mode": f"{mode:04o}"}))
    ex.checked.append(("check.modes_ok", {"count": checked}))
    for temp in sorted(ex.path.parent.glob(f".{ex.path.name}*.tmp")):
        match = _TEMP_NAME.fullmatch(temp.name)
        if match and (match["name"] == ex.path.name or match["name"].startswith(ex.path.name + ".")):
            ex.temp_files.append(temp)
            ex.problems.append(("check.temp", {"file": temp.name}))


# -- repair ---------------------------------------------------------------------------------------


@dataclass
class RepairPlan:
    """What repair does (or, with --dry-run, would do), in the order it does it."""

    examination: Examination
    cut_at: int | None = None
    rebuild_main: bool = False
    rebuild_tables: list[str] = field(default_factory=list)
    rewind_tables: list[str] = field(default_factory=list)
    catch_up_tables: list[str] = field(default_factory=list)
    new_replica: bool = False
    unrepairable: list[Message] = field(default_factory=list)
    done: list[Message] = field(default_factory=list)
    backup: Path | None = None

    @property
    def changes_files(self) -> bool:
        ex = self.examination
        return bool(
            self.cut_at is not None
            or self.rebuild_main
            or self.rebuild_tables
            or self.rewind_tables
            or self.catch_up_tables
            or self.new_replica
            or ex.record_damaged
            or ex.cut_short
            or ex.temp_files
            or ex.loose_modes
        )


def plan_repair(ex: Examination) -> RepairPlan:
    """Decide what to rebuild from what check found.

    A checkpoint that passes its checksum is kept, even where it covers lines the log loses: its
    records are the user's data, verified. Only damaged or missing checkpoints are rebuilt from the
    log, and a kept one that covered the cut part is rewritten to cover the shorter log."""
    plan = RepairPlan(ex)
    if ex.log_size is None:
        plan.unrepairable.append(("repair.no_log", {"file": _sidecar(ex.path, "log").name}))
        return plan
    end = ex.intact_end
    if ex.first_bad is not None:
        plan.cut_at = ex.first_bad
    elif ex.unfinished:  # repairing anyway: the parts no commit closed go too
        plan.cut_at = ex.log_size
    meta = ex.main_meta
    owners = {t.owner for t in ex.table_files.values() if t.ok and t.owner}
    replica = meta["replica"] if meta else (next(iter(owners)) if len(owners) == 1 else None)
    lost_ids = {origin for line in ex.lost for origin, _ in line.ids}
    lost_unknown = any(not line.ids for line in ex.lost if line.size)
    kept_seq = ex.local_seq.get(replica, 0) if replica else 0
    plan.new_replica = (
        replica is None
        or ex.cut_short > 0
        or replica in lost_ids
        or (meta is not None and int(meta["seq"]) > kept_seq)
        or (meta is None and lost_unknown)
    )
    plan.rebuild_main = meta is None or (ex.main_offset <= end and ex.main_offset not in ex.boundaries)
    gaps = [p for p in ex.problems if p[0] == "check.seq_gap"]
    if gaps and ex.first_bad is None:
        plan.unrepairable.append(("repair.gaps", {"count": len(gaps)}))
    listed = set(meta.get("tables", [])) if meta else set()
    candidates = (set(ex.table_files) | listed | ex.tables_in_log) - set(TABLES)
    for table in sorted(candidates):
        tf = ex.table_files.get(table)
        if tf is None:
            needed = table in listed or table in ex.tables_before_main or plan.rebuild_main
            if needed and (table in ex.tables_in_log or table in listed):
                plan.rebuild_tables.append(table)
        elif not tf.ok or (tf.offset <= end and tf.offset not in ex.boundaries):
            plan.rebuild_tables.append(table)
        elif tf.offset > end or plan.new_replica:
            plan.rewind_tables.append(table)
    # A table file must hold every change to it up to the main file's offset (opening starts there).
    main_after = end if plan.rebuild_main else min(ex.main_offset, end)
    for table, tf in sorted(ex.table_files.items()):
        if table in plan.rebuild_tables or not tf.ok:
            continue
        offset = min(tf.offset, end)
        if offset < main_after and ex.last_write.get(table, 0) > offset:
            plan.catch_up_tables.append(table)
            if table in plan.rewind_tables:
                plan.rewind_tables.remove(table)
    return plan


def _backup_dir(path: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}-repair-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}-repair-{stamp}-{n}")
    return target


def _copy_private(src: Path, dest: Path, length: int | None = None) -> None:
    """Copy ``src`` (its first ``length`` bytes) to ``dest``, mode 0600, synced before returning."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, open(src, "rb") as fh:
        remaining = length
        while remaining is None or remaining > 0:
            chunk = fh.read(1 << 20 if remaining is None else min(1 << 20, remaining))
            if not chunk:
                break
            out.write(chunk)
            if remaining is not None:
                remaining -= len(chunk)
        out.flush()
        os.fsync(out.fileno())


def repair(path: str | os.PathLike[str], dry_run: bool = False) -> RepairPlan:
    """Back up the files it will change, then cut the log after its last good line and rebuild
    every checkpoint that is damaged or holds more than the log. With ``dry_run`` only the plan."""
    path = Path(path)
    lock = _Lock(_sidecar(path, "lock"))
    with lock.hold(exclusive=True):
        ex = examine(path, locked=True)
        plan = plan_repair(ex)
        if ex.clean or dry_run or plan.unrepairable or not plan.changes_files:
            return plan
        _carry_out(plan)
        if lock._fd is not None:  # the log as repaired is the committed log from now on
            st = os.stat(_sidecar(path, "log"))
            write_commit_record(lock._fd, st.st_size, st.st_ino)
            if ex.record_damaged:
                os.ftruncate(lock._fd, 20)
                plan.done.append(("repair.record", {"file": lock.path.name}))
    return plan


def _carry_out(plan: RepairPlan) -> None:
    ex = plan.examination
    path = ex.path
    log_path = _sidecar(path, "log")
    end = ex.intact_end
    changed = [log_path] if plan.cut_at is not None else []
    if plan.rebuild_main:
        changed.append(path)
    changed += [_sidecar(path, t) for t in [*plan.rebuild_tables, *plan.rewind_tables, *plan.catch_up_tables]]
    if plan.new_replica and path not in changed:
        changed.append(path)
    changed = [p for p in changed if p.exists()]
    if changed:
        backup = plan.backup = _backup_dir(path)
        backup.mkdir(mode=0o700)
        os.chmod(backup, 0o700)
        for file_path in changed:
            _copy_private(file_path, backup / file_path.name)
        _fsync_dir(backup)
        plan.done.append(("repair.backup", {"dir": str(backup), "count": len(changed)}))
    if (
        plan.cut_at is not None
        or plan.rebuild_main
        or plan.rebuild_tables
        or plan.rewind_tables
        or plan.catch_up_tables
        or plan.new_replica
    ):
        _rebuild(plan, end)
    for temp in ex.temp_files:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        plan.done.append(("repair.temp_removed", {"file": temp.name}))
    for file_path in ex.loose_modes:
        os.chmod(file_path, 0o600)
        plan.done.append(("repair.mode_fixed", {"file": file_path.name}))


def _own_to_foreign(records: dict[str, dict[str, Any]], old: str) -> None:
    """Records whose last writer was this replica say so with a bare number; once the store is a
    new replica, that writer is named."""
    for record in records.values():
        last = record.get("_op")
        if isinstance(last, int):
            record["_op"] = f"{old}:{last}"


def _rebuild(plan: RepairPlan, end: int) -> None:
    ex = plan.examination
    path = ex.path
    log_path = _sidecar(path, "log")
    owners = {t.owner for t in ex.table_files.values() if t.ok and t.owner}
    old = ex.main_meta["replica"] if ex.main_meta else (next(iter(owners)) if len(owners) == 1 else None)
    replica = new_id() if plan.new_replica or old is None else old
    if ex.main_meta is not None and not plan.rebuild_main:
        main_view = unseal(path.read_bytes(), legacy=True)
        meta = main_view[META]["store"]
    else:
        main_view = None
        meta = {"schema": SCHEMA_VERSION, "name": "", "created": datetime.now().isoformat(timespec="seconds")}
    if "sums_from" not in meta:
        meta["sums_from"] = ex.first_sealed if ex.first_sealed is not None else 0
    meta["sums_from"] = min(int(meta["sums_from"]), end)
    replay_meta = {**meta, "replica": replica, "seq": 0, "hlc": [0, 0]}
    view = Store.replayed(path, replay_meta, plan.rebuild_tables, end)
    for table in plan.rebuild_tables:
        data = {META: {"table": {"log_offset": end, "replica": replica}}, table: view.get(table, {})}
        write_private(_sidecar(path, table), seal(orjson.dumps(data)))
        plan.done.append(
            ("repair.rebuilt", {"file": _sidecar(path, table).name, "records": len(data[table])})
        )
    main_after = end if main_view is None else min(int(meta.get("log_offset", 0)), end)
    for table in plan.catch_up_tables:
        file_path = _sidecar(path, table)
        data = unseal(file_path.read_bytes(), legacy=True)
        if replica != old and old is not None:
            _own_to_foreign(data[table], old)
        start = min(int(data[META]["table"]["log_offset"]), end)
        scratch = {**replay_meta, "seq": 0, "hlc": [0, 0]}
        caught = Store.replayed(path, scratch, [table], main_after, start=start, records={table: data[table]})
        data = {META: {"table": {"log_offset": main_after, "replica": replica}}, table: caught[table]}
        write_private(file_path, seal(orjson.dumps(data)))
        plan.done.append(("repair.caught_up", {"file": file_path.name, "records": len(data[table])}))
    for table in plan.rewind_tables:
        file_path = _sidecar(path, table)
        data = unseal(file_path.read_bytes(), legacy=True)
        if replica != old and old is not None:
            _own_to_foreign(data[table], old)
        offset = min(int(data[META]["table"]["log_offset"]), end)
        data[META]["table"] = {"log_offset": offset, "replica": replica}
        write_private(file_path, seal(orjson.dumps(data)))
        plan.done.append(("repair.kept", {"file": file_path.name, "records": len(data[table])}))
    if plan.cut_at is not None:
        tmp = log_path.with_name(f".{log_path.name}.{os.getpid()}.{new_id()[-6:]}.tmp")
        try:
            _copy_private(log_path, tmp, end)
            os.replace(tmp, log_path)  # a new file: whoever indexed the old one sees it changed
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        _fsync_dir(path.parent)
        plan.done.append(("repair.cut", {"file": log_path.name, "offset": end, "count": len(ex.lost)}))
    if main_view is None:
        main_view = {META: {"store": meta}, **{t: view.get(t, {}) for t in TABLES}}
        meta.update(seq=replay_meta["seq"], hlc=replay_meta["hlc"], log_offset=end)
        plan.done.append(
            ("repair.rebuilt", {"file": path.name, "records": sum(len(view[t]) for t in TABLES)})
        )
    else:
        meta["log_offset"] = min(int(meta.get("log_offset", 0)), end)
        if replica != old:
            for table in TABLES:
                _own_to_foreign(main_view.get(table, {}), old)
            meta.update(seq=replay_meta["seq"], hlc=max(meta["hlc"], replay_meta["hlc"]))
    meta["replica"] = replica
    present = {t for t, tf in ex.table_files.items() if tf.ok} | set(plan.rebuild_tables)
    meta["tables"] = sorted(present)
    write_private(path, seal(orjson.dumps(main_view)))
    if plan.new_replica:
        plan.done.append(("repair.new_replica", {"replica": replica}))
