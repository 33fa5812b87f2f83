"""Sync by file exchange: offline replicas swap signed bundle files and converge, losing nothing.

Why it works this way (see "Sync by file exchange" in DESIGN.md):

* Every change already is an operation in the store's log, ``{id: [origin, seq], hlc, t, r, set|del,
  pred}``. A bundle carries operations; an import writes them to the local log verbatim (so they can
  be passed on and the view rebuilt), in one store transaction.
* A record's view is a pure function of its operations (:func:`materialize`): each field takes the
  value of the operation with the highest ``(hlc, origin)`` that wrote it, and the record is gone
  when its highest operation is a delete. Operations arriving out of order carry an ``eff`` note in
  the local log saying what they do to the view, so log replay in local order gives that function.
* Conflicts are a pure function of the operations too (:func:`record_conflicts`): a field's visible
  values are those no later writer's ``pred`` chain covers; two or more differing ones conflict. Every
  replica holding the same operations computes the same conflicts, and settling one is an operation
  whose ``pred`` names every visible value, so it syncs like any edit.
* The log holds, for every origin, a gap-free run ``1..n`` of its operations: an operation past a
  gap (or stamped more than a day ahead of this laptop's clock) is held back in the sync state until
  the gap fills. So this replica's version vector is simply the highest ``seq`` per origin.

Files beside the store (all mode 0600): ``NAME.json.sync-key`` (this replica's Ed25519 private key,
never in a bundle) and ``NAME.json.sync-state`` (trust roster, peers' vectors, held operations,
imported bundle ids).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from gridtool import store as store_module
from gridtool.errors import InputError
from gridtool.ids import new_id
from gridtool.store import SCHEMA_VERSION, Store, collector_paused, write_private

FORMAT_VERSION = 2  # 2: each transaction travels with its author's signature (1: operations only)
FEATURES = frozenset({"ops", "tx"})  # must-understand features this version knows how to apply
MEMBERS = ("manifest.json", "ops.jsonl", "signature")
MAX_BUNDLE_BYTES = 256 << 20
MAX_MEMBER_BYTES = {"manifest.json": 1 << 20, "ops.jsonl": 1 << 30, "signature": 1 << 10}
FUTURE_MS = 86_400_000  # operations stamped more than a day ahead of this clock are held back
HUMAN_FIELDS = frozenset({"status", "phone", "worker_phone", "id_number"})  # never settled by the clock
ENC_MAGIC = b"GRIDTOOL-SYNC-AESGCM-1\n"
SCRYPT_N = 2**15
MIN_PASSPHRASE = 10  # characters: anyone holding a bundle can try short ones offline, without limit
KEY_PREFIX = "ed25519:"
STATE_VERSION = 1

Op = dict[str, Any]
Key = tuple[str, str]  # (table, record id)


class SyncError(InputError):
    """A bundle or sync request refused with a one-line reason; nothing was written."""


# -- small helpers ----------------------------------------------------------------------------


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


def _guard_ms(state: dict[str, Any]) -> int:
    """This laptop's time for the clock guard: its clock, or the latest one it read at an earlier
    import (a clock reset to last year still knows roughly what time it is). Not the hybrid clock,
    which other laptops' stamps push forward: each import could let the next one a day further."""
    return max(_now_ms(), state.get("clock_high", 0))


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone().isoformat(timespec="minutes")


def shareable(op: Op) -> Op:
    """An operation as it travels: without this replica's local ``eff`` note."""
    if "eff" in op:
        op = {k: v for k, v in op.items() if k != "eff"}
    return op


# -- state and keys ---------------------------------------------------------------------------


def state_path(store: Store) -> Path:
    return store.sidecar("sync-state")


def key_path(store: Store) -> Path:
    return store.sidecar("sync-key")


def _empty_state() -> dict[str, Any]:
    return {
        "v": STATE_VERSION,
        "trust": {},
        "revoked": {},
        "peers": {},
        "imported": [],
        "held": [],
        "forks": [],
        "authors": {},
        "unverified": [],
        "held_tx": [],
    }


def load_state(store: Store) -> dict[str, Any]:
    try:
        raw = state_path(store).read_bytes()
    except FileNotFoundError:
        return _empty_state()
    try:
        state = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SyncError("sync.state_corrupt", path=str(state_path(store)), reason=str(exc)[:80]) from None
    for name, default in _empty_state().items():
        state.setdefault(name, default)
    return state


def _save_state(store: Store, state: dict[str, Any]) -> None:
    write_private(state_path(store), orjson.dumps(state, option=orjson.OPT_SORT_KEYS))


def _private_key(store: Store) -> Any:
    """This replica's signing key, made on first use; the file is mode 0600 and never shipped."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = key_path(store)
    if not path.exists():
        with store.lock.hold(exclusive=True):
            if not path.exists():
                key = Ed25519PrivateKey.generate()
                write_private(path, base64.b64encode(key.private_bytes_raw()) + b"\n")
    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_bytes().strip()))
    except ValueError:
        raise SyncError("sync.key_corrupt", path=str(path)) from None


def _public_raw(private_key: Any) -> bytes:
    return private_key.public_key().public_bytes_raw()


def key_id(public_raw: bytes) -> str:
    """A short fingerprint of a public key: what a manifest names, and what people compare."""
    return _sha256(public_raw)[:16]


def public_key_text(public_raw: bytes) -> str:
    return KEY_PREFIX + base64.b64encode(public_raw).decode("ascii")


def parse_public_key(text: str) -> bytes:
    body = text.strip()
    if body.startswith(KEY_PREFIX):
        body = body[len(KEY_PREFIX) :]
    try:
        raw = base64.b64decode(body, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise SyncError("sync.bad_key")
    return raw


def whoami(store: Store) -> dict[str, Any]:
    """What a worker reads out to the office: replica id, name, public key and its fingerprint."""
    raw = _public_raw(_private_key(store))
    ms, counter = store.meta["hlc"]
    return {
        "replica": store.replica,
        "name": store.meta.get("name", ""),
        "public_key": public_key_text(raw),
        "key_id": key_id(raw),
        "clock": _iso(_now_ms()),
        "hlc": [ms, counter],
        "seq": store.meta["seq"],
        "ahead_ms": clock_ahead_ms(store),
    }


# -- trust roster -----------------------------------------------------------------------------


def trust_add(store: Store, name: str, public_key: str) -> dict[str, Any]:
    """Accept bundles signed by ``public_key`` from now on, under ``name``."""
    name = name.strip()
    if not name:
        raise SyncError("sync.trust_no_name")
    raw = parse_public_key(public_key)
    kid = key_id(raw)
    if key_path(store).exists() and kid == key_id(_public_raw(_private_key(store))):
        # its own bundles are accepted anyway; under a roster name they would pass for a peer's
        raise SyncError("sync.trust_self")
    with store.lock.hold(exclusive=True):
        state = load_state(store)
        if kid in state["revoked"]:
            raise SyncError("sync.trust_was_revoked", name=state["revoked"][kid])
        existing = state["trust"].get(name)
        if existing and existing["key_id"] != kid:
            raise SyncError("sync.trust_name_taken", name=name)
        for other, entry in state["trust"].items():
            if entry["key_id"] == kid and other != name:
                raise SyncError("sync.trust_key_taken", name=other)
        entry = {"key": public_key_text(raw), "key_id": kid}
        state["trust"][name] = entry
        _save_state(store, state)
    if any(item["h"].get("key") == kid for item in state.get("unverified", [])):
        release(store)  # what waited for this key applies now
    return {"name": name, **entry}


def trust_list(store: Store) -> list[dict[str, Any]]:
    state = load_state(store)
    rows = [{"name": n, "key_id": e["key_id"], "revoked": False} for n, e in state["trust"].items()]
    rows += [{"name": n, "key_id": kid, "revoked": True} for kid, n in state["revoked"].items()]
    return sorted(rows, key=lambda r: (r["revoked"], r["name"]))


def trust_revoke(store: Store, name: str) -> dict[str, Any]:
    """Refuse this key's bundles from now on (a lost laptop); what was imported stays."""
    with store.lock.hold(exclusive=True):
        state = load_state(store)
        entry = state["trust"].pop(name, None)
        if entry is None:
            raise SyncError("sync.trust_unknown", name=name)
        kid = entry["key_id"]
        state["revoked"][kid] = name
        theirs = {replica for replica, author_key in state.get("authors", {}).items() if author_key == kid}
        state["held"] = [op for op in state["held"] if op["id"][0] not in theirs]  # refused from now on
        state["unverified"] = [i for i in state.get("unverified", []) if i["h"].get("key") != kid]
        _save_state(store, state)
    return {"name": name, "key_id": entry["key_id"]}


def _name_of_key(state: dict[str, Any], kid: str) -> str | None:
    for name, entry in state["trust"].items():
        if entry["key_id"] == kid:
            return name
    return None


def peer_name(store: Store, state: dict[str, Any], replica: str) -> str:
    """How a person knows another replica: its roster name, else its id's tail."""
    if replica == store.replica:
        return store.meta.get("name") or replica[-6:]
    peer = state["peers"].get(replica)
    if peer:
        name = _name_of_key(state, peer.get("key_id", ""))
        if name:
            return name
    return replica[-6:]


# -- the merge: pure functions of a record's operations ----------------------------------------


def materialize(ops: list[Op]) -> tuple[dict[str, Any] | None, list[Any] | None]:
    """A record's fields (None when deleted) and the id of its highest operation."""
    if not ops:
        return None, None
    top = max(ops, key=stamp)
    if top.get("del"):
        return None, list(top["id"])
    return _merged_fields(ops), list(top["id"])


def _merged_fields(ops: list[Op]) -> dict[str, Any]:
    """Every field's latest value by ``(hlc, origin)``, whatever the deletes say."""
    fields: dict[str, Any] = {}
    best: dict[str, tuple[int, int, str, int]] = {}
    for op in ops:
        changes = op.get("set")
        if not changes:
            continue
        s = stamp(op)
        for name, value in changes.items():
            if name not in best or s > best[name]:
                best[name] = s
                fields[name] = value
    return fields


def _naive(before: tuple[dict[str, Any] | None, Any], op: Op) -> tuple[dict[str, Any] | None, list[Any]]:
    """What the store's plain ``_apply`` would make of ``op`` over ``before``."""
    if op.get("del"):
        return None, list(op["id"])
    return {**(before[0] or {}), **op["set"]}, list(op["id"])


@dataclass
class Conflict:
    """Two or more concurrent values of one field, or an edit concurrent with a delete."""

    id: str
    table: str
    record: str
    field: str  # "*" for edit-versus-delete
    human: bool  # must a person settle it (issue status, ID number, phone, deletes)?
    options: list[dict[str, Any]]  # {"op": "origin:seq", "origin", "hlc", "value" | "deleted"}
    winner: int  # index into options of what the view shows now
    restored: list[dict[str, Any]] = field(default_factory=list)  # set by resolve: see cascade()

    def as_dict(self, show_pii: bool = False) -> dict[str, Any]:
        """The conflict for ``--format json``: personal data masked as in every list, unless asked."""
        from gridtool.views import mask_field

        options = self.options
        if not show_pii:
            options = []
            for option in self.options:
                if "value" in option:
                    value = option["value"]
                    if isinstance(value, dict):  # an edit against a delete: every field it wrote
                        value = {k: mask_field(k, v) for k, v in value.items()}
                    else:
                        value = mask_field(self.field, value)
                    option = {**option, "value": value}
                options.append(option)
        return {
            "id": self.id,
            "table": self.table,
            "record": self.record,
            "field": self.field,
            "human": self.human,
            "winner": self.winner,
            "options": options,
        }


def conflict_title(conflict: Conflict) -> str:
    """What a conflict is about, as the CLI and the dashboard list it: badge, table, record, field."""
    from gridtool.i18n import field_label, t, table_label

    badge = t("sync.badge_human") if conflict.human else t("sync.badge_auto")
    name = t("sync.field_record") if conflict.field == "*" else field_label(conflict.field)
    return f"{badge}  {table_label(conflict.table)} {conflict.record[-6:]} · {name}"


def shown_value(conflict: Conflict, option: dict[str, Any], show_pii: bool = False) -> str:
    """One side of a conflict as a person reads it, personal data masked unless asked."""
    from gridtool.i18n import t
    from gridtool.views import mask_field

    if option.get("deleted"):
        return t("sync.value_deleted")
    value = option.get("value")
    if isinstance(value, dict) and conflict.field == "*":  # the edit against a delete: what it changed
        shown = {k: v if show_pii else mask_field(k, v) for k, v in sorted(value.items())}
        return ", ".join(
            f"{k}={v if isinstance(v, str) else orjson.dumps(v).decode()}" for k, v in shown.items()
        )
    if not show_pii:
        value = mask_field(conflict.field, value)
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _conflict_id(table: str, record: str, name: str, refs: list[str]) -> str:
    return _sha256("\x00".join([table, record, name, *sorted(refs)]).encode())[:8]


def _ancestors(ops: list[Op]) -> dict[tuple[str, int], set[tuple[str, int]]]:
    """For each operation, every operation of the record its ``pred`` chain reaches."""
    known = {(op["id"][0], op["id"][1]) for op in ops}
    anc: dict[tuple[str, int], set[tuple[str, int]]] = {}
    for op in sorted(ops, key=stamp):  # a predecessor always has a lower clock (the HLC absorbs it)
        mine: set[tuple[str, int]] = set()
        for p in op.get("pred") or ():
            ref = (p[0], p[1])
            if ref in known:
                mine.add(ref)
                mine |= anc.get(ref, set())
        anc[(op["id"][0], op["id"][1])] = mine
    return anc


def record_conflicts(table: str, record: str, ops: list[Op]) -> list[Conflict]:
    """The conflicts of one record: the same on every replica that holds the same operations."""
    if len(ops) < 2 or len({op["id"][0] for op in ops}) < 2:
        return []  # one origin's operations on a record always form a chain
    anc = _ancestors(ops)
    covered: set[tuple[str, int]] = set().union(*anc.values())
    ident = {id(op): (op["id"][0], op["id"][1]) for op in ops}
    heads = [op for op in ops if ident[id(op)] not in covered]
    out: list[Conflict] = []
    top = max(ops, key=stamp)
    if any(op.get("del") for op in heads) and any("set" in op for op in heads):
        heads.sort(key=stamp)
        options = [_option(op, value=op.get("set"), deleted=bool(op.get("del"))) for op in heads]
        winner = next((i for i, op in enumerate(heads) if op is top), len(heads) - 1)
        refs = [o["op"] for o in options]
        out.append(
            Conflict(_conflict_id(table, record, "*", refs), table, record, "*", True, options, winner)
        )
    # Field by field, on a record that is there: a delete hides nothing here (it is the conflict
    # above), so a value written before a concurrent delete still competes with the others.
    names = [] if top.get("del") else sorted({name for op in ops for name in (op.get("set") or ())})
    for name in names:
        writers = [op for op in ops if name in (op.get("set") or ())]
        hidden: set[tuple[str, int]] = set().union(*(anc[ident[id(w)]] for w in writers))
        visible = [w for w in writers if ident[id(w)] not in hidden]
        if len(visible) < 2 or len({canonical(w["set"][name]) for w in visible}) < 2:
            continue
        visible.sort(key=stamp)
        options = [_option(op, value=op["set"][name]) for op in visible]
        refs = [o["op"] for o in options]
        cid = _conflict_id(table, record, name, refs)
        out.append(Conflict(cid, table, record, name, name in HUMAN_FIELDS, options, len(options) - 1))
    return out


def _option(op: Op, value: Any = None, deleted: bool = False) -> dict[str, Any]:
    option: dict[str, Any] = {"op": op_ref(op["id"]), "origin": op["id"][0], "hlc": list(op["hlc"])}
    if deleted:
        option["deleted"] = True
    else:
        option["value"] = value
    return option


# -- reading the log ------------------------------------------------------------------------


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
    stop = tail.rfind(b"\n") + 1
    found: list[Op] = []
    pos = start
    vector = dict(idx["vector"])
    marks = idx["marks"]
    for line in tail[:stop].split(b"\n")[:-1]:
        entry = orjson.loads(line)
        ops = entry["ops"]
        pos += len(line) + 1
        if since is not None:
            beyond = [op for op in ops if op["id"][1] > since.get(op["id"][0], 0)]
            found += beyond
            if entries is not None and beyond:
                entries.append(entry)
        if pos <= idx["size"]:
            continue  # already indexed: read only for the delta
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


def conflicts(store: Store, ops: dict[Key, list[Op]] | None = None) -> list[Conflict]:
    """Every unsettled conflict in the store, oldest record first."""
    return _all_conflicts(history(store) if ops is None else ops)


def _all_conflicts(history: dict[Key, list[Op]]) -> list[Conflict]:
    out: list[Conflict] = []
    for (table, record), ops in history.items():
        if len(ops) > 1:
            out += record_conflicts(table, record, ops)
    return sorted(out, key=lambda c: (c.table, c.record, c.field))


# -- admitting operations -------------------------------------------------------------------


def _admit(candidates: list[Op], have: dict[str, int], now_ms: int) -> tuple[list[Op], list[Op], list[Op]]:
    """Split new operations into those to apply now, those past a gap, and those from the future.

    An operation is applied only when it is the next ``seq`` of its origin and every ``pred`` is
    held, so the log stays gap-free and the vector never claims an operation it lacks.
    """
    have = dict(have)
    pending = candidates  # a sender's log order is already causal: usually one pass takes all
    accepted: list[Op] = []
    future = [op for op in pending if op["hlc"][0] > now_ms + FUTURE_MS]
    pending = [op for op in pending if op["hlc"][0] <= now_ms + FUTURE_MS]
    progress = True
    while progress and pending:
        progress = False
        rest: list[Op] = []
        for op in pending:
            origin, seq = op["id"]
            ready = seq == have.get(origin, 0) + 1
            if ready:
                for p in op.get("pred") or ():
                    if p[1] > have.get(p[0], 0):
                        ready = False
                        break
            if ready:
                have[origin] = seq
                accepted.append(op)
                progress = True
            else:
                rest.append(op)
        pending = rest
    return accepted, pending, future


# -- bundles: writing -----------------------------------------------------------------------


@dataclass
class ExportResult:
    path: Path
    bundle: str
    ops: int
    size: int
    full: bool
    encrypted: bool
    ahead_ms: int = 0  # this laptop's hybrid clock ahead of its wall clock: see clock_ahead_ms


def _peer_vector(store: Store, state: dict[str, Any], peer: str) -> dict[str, int]:
    """What ``peer`` (roster name or replica id) last said it holds; empty when not known yet."""
    entry = state["trust"].get(peer)
    if entry is not None:
        for replica, known in state["peers"].items():
            if known.get("key_id") == entry["key_id"] and replica != store.replica:
                return dict(known.get("vector", {}))
        return {}
    matches = [r for r in state["peers"] if r == peer or (len(peer) >= 4 and r.endswith(peer.upper()))]
    if len(matches) == 1:
        return dict(state["peers"][matches[0]].get("vector", {}))
    raise SyncError("sync.unknown_peer", peer=peer)


def export_bundle(
    store: Store,
    dest: str | os.PathLike[str],
    peer: str | None = None,
    full: bool = False,
    passphrase: str | None = None,
    since: dict[str, int] | None = None,
) -> ExportResult:
    """Write a signed bundle of what ``peer`` lacks (everything when unknown or ``full``).

    ``since`` overrides the assumed vector (tests use it to model a lost, optimistic delivery).
    """
    with collector_paused():
        return _export(store, dest, peer, full, passphrase, since)


def _export(
    store: Store,
    dest: str | os.PathLike[str],
    peer: str | None,
    full: bool,
    passphrase: str | None,
    since: dict[str, int] | None,
) -> ExportResult:
    if store.owns(dest):  # before the key is made or anything read: the store's files stay as they are
        raise SyncError("sync.target_is_store", path=str(dest))
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE:
        raise SyncError("sync.passphrase_short", min=MIN_PASSPHRASE, length=len(passphrase))
    private = _private_key(store)
    public = _public_raw(private)
    with store.lock.hold(exclusive=False):
        store.refresh()
        state = load_state(store)
        if since is None:
            since = {} if full or peer is None else _peer_vector(store, state, peer)
        mine, units = _units_since(store, state, since, private)
    sort = orjson.OPT_SORT_KEYS
    lines: list[bytes] = []
    count = 0
    for header, ops in units:
        lines.append(orjson.dumps({**header, "n": len(ops)}, option=sort))
        lines += [orjson.dumps(op if "eff" not in op else shareable(op), option=sort) for op in ops]
        count += len(ops)
    if not all(line.isascii() for line in lines):
        text = b"\n".join(lines).decode("utf-8")
        if not unicodedata.is_normalized("NFC", text):  # rare: only then walk every value
            lines = [canonical(orjson.loads(line)) for line in lines]
    body = b"\n".join(lines) + (b"\n" if lines else b"")
    manifest = {
        "format": FORMAT_VERSION,
        "features": sorted(FEATURES),
        "schema": SCHEMA_VERSION,
        "bundle": new_id(),
        "sender": store.replica,
        "key_id": key_id(public),
        "vector": mine,
        "assumed": {o: s for o, s in since.items() if s},
        "created": _now_ms(),
        "ops": count,
        "members": {"ops.jsonl": {"sha256": _sha256(body), "size": len(body)}},
    }
    manifest_bytes = canonical(manifest)
    signature = base64.b64encode(private.sign(manifest_bytes)) + b"\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in (("manifest.json", manifest_bytes), ("ops.jsonl", body), ("signature", signature)):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zf.writestr(info, data, compresslevel=1)  # 3x faster than the default, 25% bigger
    data = buffer.getvalue()
    if passphrase:
        data = _encrypt(data, passphrase)
    path = Path(dest)
    try:
        write_private(path, data)
    except OSError as exc:
        raise SyncError("sync.cannot_write", path=str(path), reason=exc.strerror or str(exc)) from None
    return ExportResult(
        path, manifest["bundle"], count, len(data), not since, bool(passphrase), clock_ahead_ms(store)
    )


Unit = tuple[dict[str, Any], list[Op]]  # a transaction as it travels: its header and its operations


def _units_since(
    store: Store, state: dict[str, Any], since: dict[str, int], private: Any
) -> tuple[dict[str, int], list[Unit]]:
    """The transactions holding what a peer at ``since`` lacks, each whole (its signature covers
    all its operations), in log order. A transaction adopted in parts (some of it was held back)
    is gathered from its lines; when a part lies before where the walk started, walk again."""
    lowered = dict(since)
    for _ in range(3):
        entries: list[dict[str, Any]] = []
        mine = _walk_log(store, state, lowered, entries)[0]
        units = _entry_units(store, entries, private)
        short = {}
        for header, ops in units:
            if "seqs" in header and len(ops) < header["seqs"][1] - header["seqs"][0] + 1:
                origin = ops[0]["id"][0]
                short[origin] = min(short.get(origin, header["seqs"][0]), header["seqs"][0])
        if not short:
            break
        for origin, first in short.items():
            lowered[origin] = min(lowered.get(origin, 0), first - 1)
    out: list[Unit] = []
    for header, ops in units:
        if any(op["id"][1] > since.get(op["id"][0], 0) for op in ops):
            out.append(({k: v for k, v in header.items() if k not in ("origin", "seqs")}, ops))
    return mine, out


def _entry_units(store: Store, entries: list[dict[str, Any]], private: Any) -> list[Unit]:
    """Log lines as transactions: this replica's own (signed now if committed unsigned), others'
    still under their authors' signatures, and runs of operations an older version adopted
    without one (they travel unsigned, as before)."""
    from gridtool.sync import signing

    units: list[Unit] = []
    relayed: dict[tuple[str, str], Unit] = {}
    for entry in entries:
        ops = entry["ops"]
        if "sig" in entry and "txs" not in entry:  # this replica's own, signed when committed
            header = {"tx": entry["tx"], "key": entry["key"], "sig": entry["sig"]}
            for name in signing.PORTABLE:
                if entry.get(name) is not None:
                    header[name] = entry[name]
            units.append((header, [op if "eff" not in op else shareable(op) for op in ops]))
            continue
        ops = [op if "eff" not in op else shareable(op) for op in ops]
        covered: set[tuple[str, int]] = set()
        by_origin: dict[str, dict[int, Op]] = {}
        if "txs" in entry:
            for op in ops:
                by_origin.setdefault(op["id"][0], {})[op["id"][1]] = op
        for header in entry.get("txs", ()):
            origin, (first, last) = header["origin"], header["seqs"]
            mine = by_origin.get(origin, {})
            part = [mine[seq] for seq in range(first, last + 1) if seq in mine]
            covered.update((origin, op["id"][1]) for op in part)
            key = (origin, header["tx"])
            if key in relayed:
                relayed[key][1].extend(part)
            else:
                relayed[key] = (header, part)
                units.append(relayed[key])
        rest = [op for op in ops if (op["id"][0], op["id"][1]) not in covered]
        runs: list[list[Op]] = []
        for op in rest:
            if runs and runs[-1][0]["id"][0] == op["id"][0]:
                runs[-1].append(op)
            else:
                runs.append([op])
        for number, run in enumerate(runs):
            header = {"tx": entry["tx"] if len(runs) == 1 else f"{entry['tx']}.{number}"}
            for name in signing.PORTABLE:
                if entry.get(name) is not None:
                    header[name] = entry[name]
            if run[0]["id"][0] == store.replica:
                if len(runs) == 1 and "sig" in entry and "txs" not in entry:
                    header.update(key=entry["key"], sig=entry["sig"])
                else:  # committed before this version, or with no key yet: signed by its author now
                    header.update(signing.sign(private, header, run))
            units.append((header, run))
    return units


def _derive(passphrase: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=8, p=1).derive(passphrase.encode("utf-8"))


def _encrypt(data: bytes, passphrase: str) -> bytes:
    """AES-256-GCM under a key scrypt derives from the community passphrase (never stored)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    return ENC_MAGIC + salt + nonce + AESGCM(_derive(passphrase, salt)).encrypt(nonce, data, ENC_MAGIC)


def _decrypt(data: bytes, passphrase: str | None) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not passphrase:
        raise SyncError("sync.needs_passphrase")
    body = data[len(ENC_MAGIC) :]
    salt, nonce, sealed = body[:16], body[16:28], body[28:]
    try:
        return AESGCM(_derive(passphrase, salt)).decrypt(nonce, sealed, ENC_MAGIC)
    except (InvalidTag, ValueError):
        raise SyncError("sync.bad_passphrase") from None


def is_encrypted(path: str | os.PathLike[str]) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(ENC_MAGIC)) == ENC_MAGIC
    except OSError:
        return False


# -- bundles: reading -----------------------------------------------------------------------


@dataclass
class Bundle:
    manifest: dict[str, Any]
    ops: list[Op]
    signer: str  # roster name, or this replica's own name
    units: list[tuple[dict[str, Any] | None, list[Op]]] = field(default_factory=list)
    controls: bool = True  # whether ops.jsonl may hold a control character (see peer_input)


def read_bundle(store: Store, src: str | os.PathLike[str], passphrase: str | None = None) -> Bundle:
    """Open and check a bundle: size, names, signature, versions, hashes. Writes nothing."""
    path = Path(src)
    try:
        size = path.stat().st_size
        if size > MAX_BUNDLE_BYTES:
            raise SyncError("sync.too_large", size=size, limit=MAX_BUNDLE_BYTES)
        data = path.read_bytes()
    except FileNotFoundError:
        raise SyncError("sync.no_file", path=str(path)) from None
    except IsADirectoryError:
        raise SyncError("sync.no_file", path=str(path)) from None
    except OSError as exc:
        raise SyncError("sync.cannot_read", path=str(path), reason=exc.strerror or str(exc)) from None
    if data.startswith(ENC_MAGIC):
        data = _decrypt(data, passphrase)
    members = _unzip(data, ("manifest.json", "signature"))  # ops.jsonl only once the signature holds
    if "signature" not in members:
        raise SyncError("sync.unsigned")
    try:
        manifest = orjson.loads(members["manifest.json"])
        if not isinstance(manifest, dict):
            raise ValueError("not an object")
    except (orjson.JSONDecodeError, ValueError):
        raise SyncError("sync.bad_manifest") from None
    fmt = manifest.get("format")
    if not isinstance(fmt, int):
        raise SyncError("sync.bad_manifest")
    if fmt > FORMAT_VERSION:
        raise SyncError("sync.too_new", found=fmt, supported=FORMAT_VERSION)
    unknown = sorted(set(manifest.get("features") or ()) - FEATURES)
    if unknown:
        raise SyncError("sync.unknown_features", features=", ".join(map(str, unknown)))
    if manifest.get("schema") != SCHEMA_VERSION:
        raise SyncError("sync.schema", found=manifest.get("schema"), supported=SCHEMA_VERSION)
    signer = _check_signature(store, manifest, members["manifest.json"], members["signature"])
    try:
        expected = manifest["members"]["ops.jsonl"]
        well_formed = (
            isinstance(manifest["bundle"], str)
            and isinstance(manifest["sender"], str)
            and isinstance(manifest["vector"], dict)
            and all(isinstance(o, str) and type(n) is int for o, n in manifest["vector"].items())
            and isinstance(expected, dict)
        )
    except (KeyError, TypeError):
        well_formed = False
    if not well_formed:
        raise SyncError("sync.bad_manifest")
    known = load_state(store)["peers"].get(manifest["sender"], {}).get("key_id")
    if known and known != manifest.get("key_id"):  # a trusted key speaking for another laptop
        raise SyncError("sync.sender_mismatch", name=signer)
    body = _unzip(data, ("ops.jsonl",))["ops.jsonl"]
    if len(body) != expected.get("size") or _sha256(body) != expected.get("sha256"):
        raise SyncError("sync.damaged")
    from gridtool.sync.peer_input import may_hold_controls

    units = _parse_units(body, fmt)
    ops = [op for _, ops in units for op in ops]
    return Bundle(manifest, ops, signer, units, may_hold_controls(body))


MAX_RATIO = 200  # deflate packs this project's JSON some 5 to 20 times; a bomb, thousands of times


def _unzip(data: bytes, wanted: tuple[str, ...]) -> dict[str, bytes]:
    """Check every member's name and declared size, then inflate only ``wanted``, each capped at
    its limit and at :data:`MAX_RATIO` times its packed size (the declared sizes may lie)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise SyncError("sync.not_bundle") from None
    with zf:
        infos = zf.infolist()
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            if (
                name in seen
                or name.startswith(("/", "\\"))
                or "/" in name
                or "\\" in name
                or ".." in name
                or ":" in name
            ):
                raise SyncError("sync.unsafe_name", name=name[:60])
            if name not in MEMBERS:
                raise SyncError("sync.unknown_member", name=name[:60])
            seen.add(name)
            if info.file_size > MAX_MEMBER_BYTES[name]:
                raise SyncError("sync.oversized", name=name, limit=MAX_MEMBER_BYTES[name])
            if info.file_size > max(info.compress_size * MAX_RATIO, 1 << 16):
                raise SyncError("sync.bomb", name=name, ratio=MAX_RATIO)
        if "manifest.json" not in seen or "ops.jsonl" not in seen:
            raise SyncError("sync.not_bundle")
        members: dict[str, bytes] = {}
        for info in infos:
            if info.filename not in wanted:
                continue
            limit = min(MAX_MEMBER_BYTES[info.filename], max(info.compress_size * MAX_RATIO, 1 << 16))
            try:
                with zf.open(info) as fh:
                    content = fh.read(limit + 1)  # the declared size may lie: never read past the limit
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError):
                raise SyncError("sync.damaged") from None
            if len(content) > limit:
                raise SyncError("sync.oversized", name=info.filename, limit=limit)
            members[info.filename] = content
        return members


def _check_signature(store: Store, manifest: dict[str, Any], signed: bytes, signature: bytes) -> str:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    kid = manifest.get("key_id")
    state = load_state(store)
    if kid in state["revoked"]:
        raise SyncError("sync.revoked", name=state["revoked"][kid])
    own = _public_raw(_private_key(store)) if key_path(store).exists() else None
    if own is not None and kid == key_id(own):
        raw, signer = own, store.meta.get("name") or store.replica[-6:]
    else:
        name = _name_of_key(state, str(kid))
        if name is None:
            raise SyncError("sync.untrusted", key_id=str(kid)[:16])
        raw, signer = parse_public_key(state["trust"][name]["key"]), name
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(signature.strip()), signed)
    except (InvalidSignature, ValueError):
        raise SyncError("sync.bad_signature", name=signer) from None
    return signer


SYNC_TABLES = frozenset(
    {
        "grid_cells",
        "buildings",
        "leads",
        "households",
        "members",
        "issues",
        "events",
        "teams",
        "volunteers",
        "orders",
        "points",
        "visit_plans",
        "visits",
    }
)
"""The tables a bundle may write: a table name becomes part of a file name beside the store, so
an operation for ``log`` or ``sync_state`` must never get that far."""


def _parse_units(body: bytes, fmt: int) -> list[tuple[dict[str, Any] | None, list[Op]]]:
    """The transactions of ``ops.jsonl``: a header line then its operations (format 2), or, in a
    bundle of format 1, runs of one author's operations with no header (no author's signature)."""
    from gridtool.sync.signing import header_ok

    items = _parse_ops(body, headers=fmt >= 2)
    units: list[tuple[dict[str, Any] | None, list[Op]]] = []
    if fmt < 2:
        for op in items:
            if units and units[-1][1][0]["id"][0] == op["id"][0]:
                units[-1][1].append(op)
            else:
                units.append((None, [op]))
        return units
    index = 0
    while index < len(items):
        header = items[index]
        if not header_ok(header, len(items) - index - 1):
            raise SyncError("sync.bad_ops", line=index + 1)
        ops = items[index + 1 : index + 1 + header["n"]]
        for number, op in enumerate(ops, start=index + 2):
            if "tx" in op:  # a header where its transaction's operations should be
                raise SyncError("sync.bad_ops", line=number)
        units.append((header, ops))
        index += 1 + header["n"]
    return units


def _parse_ops(body: bytes, headers: bool = False) -> list[Op]:
    lines = [line for line in body.split(b"\n") if line.strip()]
    try:
        ops = orjson.loads(b"[" + b",".join(lines) + b"]")  # one parse for the whole bundle
    except orjson.JSONDecodeError:
        ops = None
    if ops is None or len(ops) != len(lines):
        for number, line in enumerate(lines, start=1):  # find the line to name in the message
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                raise SyncError("sync.bad_ops", line=number) from None
        raise SyncError("sync.bad_ops", line=len(lines))
    for number, op in enumerate(ops, start=1):  # the rest of each operation: peer_input.check_op
        if type(op) is not dict or "eff" in op or ("tx" in op and not headers):
            raise SyncError("sync.bad_ops", line=number)
    return ops


# -- importing ------------------------------------------------------------------------------


@dataclass
class Held:
    origin: str
    name: str
    count: int
    reason: str  # "gap" or "future"
    first_missing: int = 0
    latest_ms: int = 0


@dataclass
class ImportResult:
    bundle: str
    sender: str
    signer: str
    already: bool = False
    dry_run: bool = False
    applied: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    new_conflicts: list[Conflict] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)  # revoked author's name -> operations


def import_bundle(
    store: Store,
    src: str | os.PathLike[str],
    dry_run: bool = False,
    passphrase: str | None = None,
    actor: str | None = None,
) -> ImportResult:
    """Check a bundle, then apply what is new in one store transaction (nothing on ``dry_run``)."""
    with collector_paused():
        return _import(store, src, dry_run, passphrase, actor)


def _import(
    store: Store, src: str | os.PathLike[str], dry_run: bool, passphrase: str | None, actor: str | None
) -> ImportResult:
    bundle = read_bundle(store, src, passphrase)
    manifest = bundle.manifest
    result = ImportResult(manifest["bundle"], manifest["sender"], bundle.signer, dry_run=dry_run)
    with store.lock.hold(exclusive=not dry_run):
        store.refresh()
        state = load_state(store)
        if manifest["bundle"] in state["imported"]:
            result.already = True
            return result
        if manifest["sender"] != store.replica:  # so messages name the sender from the roster
            state["peers"].setdefault(manifest["sender"], {})["key_id"] = manifest.get("key_id")
        _check_peer_input(store, state, bundle.ops, bundle.controls)
        checked = _verify(store, state, bundle.units, manifest)
        plan = _plan(store, state, checked.ops, _guard_ms(state))
        _tell(store, state, plan, result)
        result.refused = checked.refused
        if dry_run:
            return result
        _apply_plan(store, state, plan, actor, checked.headers)
        state["imported"].append(manifest["bundle"])
        peer = state["peers"].setdefault(manifest["sender"], {})
        if manifest["sender"] != store.replica:
            peer["key_id"] = manifest.get("key_id")
            merged = dict(peer.get("vector", {}))
            for origin, seq in (manifest.get("vector") or {}).items():
                if isinstance(seq, int) and seq > merged.get(origin, 0):
                    merged[origin] = seq
            peer["vector"] = merged
            peer["last_import"] = _now_ms()
        else:
            state["peers"].pop(manifest["sender"], None)
        _save_state(store, state)
    return result


def _check_peer_input(store: Store, state: dict[str, Any], ops: list[Op], controls: bool = True) -> None:
    """Refuse the bundle at its first operation that is no honest peer's (see peer_input)."""
    from gridtool.sync.peer_input import PeerInputError, check_op, check_ops, check_sequences

    try:
        check_ops(ops, controls)
    except PeerInputError:
        for op in ops:  # name the operation: the first that check_op refuses
            try:
                check_op(op, controls)
            except PeerInputError as error:
                ident = op.get("id")
                origin = ident[0] if type(ident) is list and ident and type(ident[0]) is str else "?"
                error.author = peer_name(store, state, origin)
                error.table, error.record = str(op.get("t", ""))[:40], str(op.get("r", ""))[:40]
                raise
        raise
    try:
        check_sequences(ops)
    except PeerInputError as error:
        error.author = peer_name(store, state, error.author)
        raise


@dataclass
class _Verified:
    ops: list[Op] = field(default_factory=list)  # what may be planned and applied
    headers: list[dict[str, Any]] = field(default_factory=list)  # their signed transactions
    refused: dict[str, int] = field(default_factory=dict)


def _verify(
    store: Store,
    state: dict[str, Any],
    units: list[tuple[dict[str, Any] | None, list[Op]]],
    manifest: dict[str, Any] | None,
) -> _Verified:
    """Check each transaction against its author's key, whoever relayed it (see signing).

    Every author (replica id) is tied to one key and every key to one author, from the first
    signature seen (this replica's own from the start, a bundle's key to its sender): a trusted
    laptop signing in another's name is refused. A transaction under a key not on the roster waits
    in ``state["unverified"]`` (``sync held``) until it is; a revoked key's are refused and counted.
    A transaction without a signature (made before this version) is taken on the bundle's word
    only from its own author, or from a relay for an author never seen signing.
    """
    from gridtool.sync import signing
    from gridtool.sync.peer_input import PeerInputError

    authors: dict[str, str] = state.setdefault("authors", {})
    signers = set(state.get("signers", []))
    owner = {kid: replica for replica, kid in authors.items()}
    own_kid = key_id(_public_raw(_private_key(store))) if key_path(store).exists() else None
    if own_kid:
        authors[store.replica], owner[own_kid] = own_kid, store.replica
    have = _walk_log(store, state)[0]
    sender = manifest.get("sender") if manifest else None
    bundle_kid = manifest.get("key_id") if manifest else None
    revoked = state["revoked"]
    if sender and bundle_kid and sender not in authors and bundle_kid not in owner:
        authors[sender], owner[bundle_kid] = bundle_kid, sender
    pending = [(item["h"], item["ops"]) for item in state.get("unverified", [])] + list(units)
    state["unverified"] = []
    out = _Verified()
    seen: set[tuple[str, int]] = set()

    def refuse(kid: str, ops: list[Op]) -> None:
        name = revoked[kid]
        out.refused[name] = out.refused.get(name, 0) + len(ops)

    for header, ops in pending:
        if not ops:
            continue
        origin = signing.author_of(ops)
        if origin is None:
            raise SyncError("sync.tx_mixed")
        first, last = ops[0]["id"][1], ops[-1]["id"][1]
        if (origin, first) in seen:
            continue
        seen.add((origin, first))
        bound = authors.get(origin)
        if header is None or "sig" not in header:
            if last <= have.get(origin, 0):
                out.ops += ops  # held already: compared with this log's copy, never applied again
            elif bound in revoked:
                refuse(bound, ops)
            elif origin == store.replica and bundle_kid != own_kid:
                error = PeerInputError("sync.peer_forged_own")
                error.author, error.table, error.record = (
                    peer_name(store, state, origin),
                    ops[0]["t"],
                    ops[0]["r"],
                )
                raise error
            elif (origin == sender and bound in (None, bundle_kid)) or origin not in signers:
                out.ops += ops
            else:
                state["unverified"].append({"h": header, "ops": ops, "why": "unsigned"})
            continue
        kid = header["key"]
        if kid in revoked:
            if last > have.get(origin, 0):  # what came before the revocation stays, unremarked
                refuse(kid, ops)
            continue
        if kid == own_kid:
            raw = _public_raw(_private_key(store))
        else:
            name = _name_of_key(state, kid)
            if name is None:
                state["unverified"].append({"h": header, "ops": ops, "why": "unknown_key"})
                continue
            raw = parse_public_key(state["trust"][name]["key"])
        if (bound is not None and bound != kid) or owner.get(kid, origin) != origin:
            signer = store.meta.get("name") if kid == own_kid else _name_of_key(state, kid)
            raise SyncError(
                "sync.forged_author", signer=signer or kid, author=peer_name(store, state, origin)
            )
        if not signing.verify(raw, header, ops):
            raise SyncError("sync.tx_bad_signature", author=peer_name(store, state, origin))
        authors[origin], owner[kid] = kid, origin
        signers.add(origin)
        out.ops += ops
        relay = {k: v for k, v in header.items() if k != "n"}
        out.headers.append({**relay, "origin": origin, "seqs": [first, last]})
    state["signers"] = sorted(signers)
    return out


def release(store: Store, actor: str | None = None) -> ImportResult:
    """Apply what waits for a key that is now on the roster (``trust add`` calls this)."""
    with store.lock.hold(exclusive=True), collector_paused():
        store.refresh()
        state = load_state(store)
        result = ImportResult("", "", "")
        if not state.get("unverified"):
            return result
        checked = _verify(store, state, [], None)
        plan = _plan(store, state, checked.ops, _guard_ms(state))
        _tell(store, state, plan, result)
        result.refused = checked.refused
        _apply_plan(store, state, plan, actor, checked.headers)
        _save_state(store, state)
    return result


def _tell(store: Store, state: dict[str, Any], plan: _Plan, result: ImportResult) -> None:
    """Put in ``result`` what ``plan`` does: its counts, new conflicts and what stays held."""
    result.applied = len(plan.logged)
    result.added, result.updated, result.deleted = plan.added, plan.updated, plan.deleted
    result.new_conflicts = plan.new_conflicts
    result.held = _summarise_held(store, state, plan.vector_after, plan.gap, plan.future)


def _apply_plan(
    store: Store,
    state: dict[str, Any],
    plan: _Plan,
    actor: str | None,
    headers: list[dict[str, Any]] | None = None,
) -> None:
    """Write what ``_plan`` admitted in one transaction and keep the rest held (state not saved).

    The log line keeps each adopted transaction's header (its author's key and signature, and
    its operations' range), so this replica passes it on as its author signed it.
    """
    every = [*state.get("held_tx", []), *(headers or [])]
    by_op: dict[tuple[str, int], int] = {}
    for number, header in enumerate(every):
        first, last = header["seqs"]
        for seq in range(first, last + 1):
            by_op[(header["origin"], seq)] = number
    if plan.logged:  # _plan has read every table these touch, before the big log line lands
        with store.transaction(actor=actor) as tx:
            used: dict[int, None] = {}
            for op in plan.logged:
                tx.adopt(op)
                number = by_op.get((op["id"][0], op["id"][1]))
                if number is not None:
                    used[number] = None
            tx.relayed = [every[n] for n in used]
        _index_append(store, state, plan.vector_after)
    still = {
        by_op[(op["id"][0], op["id"][1])]
        for op in plan.gap + plan.future
        if (op["id"][0], op["id"][1]) in by_op
    }
    state["held_tx"] = [every[n] for n in sorted(still)]
    state["held"] = plan.gap + plan.future
    state["clock_high"] = max(state.get("clock_high", 0), _now_ms())
    state["forks"] = plan.forks


def held(store: Store) -> list[Held]:
    """What is held back, by origin and reason (past a gap, or stamped in the future)."""
    store.refresh()
    state = load_state(store)
    with store.lock.hold(exclusive=False):
        mine = _walk_log(store, state)[0]
    guard = _guard_ms(state) + FUTURE_MS
    return _summarise_held(
        store,
        state,
        mine,
        [op for op in state["held"] if op["hlc"][0] <= guard],
        [op for op in state["held"] if op["hlc"][0] > guard],
    )


def accept_clock(store: Store, peer: str, actor: str | None = None) -> ImportResult:
    """Apply what the clock guard holds back from ``peer``, after a person decided to trust it.

    A laptop whose clock ran ahead keeps stamping its changes at that future time even after the
    clock is fixed (its hybrid clock never goes back), so without this its changes would wait
    until the calendar caught up. Accepting moves this laptop's own notion of "now" (the guard's
    time, and with the applied operations its hybrid clock) to the latest stamp held from the
    peer, so this laptop's next changes carry that time too and its peers will be asked the same.
    """
    with store.lock.hold(exclusive=True), collector_paused():
        store.refresh()
        state = load_state(store)
        guard = _guard_ms(state) + FUTURE_MS
        future = [op for op in state["held"] if op["hlc"][0] > guard]
        origins = {op["id"][0] for op in future}
        needle = peer.strip()
        matches = sorted(
            o
            for o in origins
            if needle in (o, peer_name(store, state, o)) or (len(needle) >= 4 and o.endswith(needle.upper()))
        )
        if len(matches) != 1:
            raise SyncError("sync.nothing_held", peer=peer)
        latest = max(op["hlc"][0] for op in future if op["id"][0] == matches[0])
        state["clock_high"] = max(state.get("clock_high", 0), latest)
        plan = _plan(store, state, [], _guard_ms(state))
        result = ImportResult("", matches[0], peer_name(store, state, matches[0]))
        _tell(store, state, plan, result)
        _apply_plan(store, state, plan, actor)
        _save_state(store, state)
    return result


def clock_ahead_ms(store: Store) -> int:
    """How far this laptop's hybrid clock runs ahead of its wall clock (0 when it does not).

    After the clock was once set ahead, every change is still stamped at that time, and peers hold
    them back as from the future: the laptop itself says so (whoami, status, export).
    """
    return max(0, store.meta["hlc"][0] - _now_ms())


@dataclass
class _Plan:
    logged: list[Op]
    gap: list[Op]
    future: list[Op]
    vector_after: dict[str, int]
    added: int = 0
    updated: int = 0
    deleted: int = 0
    new_conflicts: list[Conflict] = field(default_factory=list)
    forks: list[list[str]] = field(default_factory=list)


def _fields(record: dict[str, Any] | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {k: v for k, v in record.items() if k != "id" and not k.startswith("_")}


def _plan(store: Store, state: dict[str, Any], incoming: list[Op], now_ms: int) -> _Plan:
    """Work out which operations apply, what each does to the view, and what conflicts arise.

    Most operations extend the only head of their record (their ``pred`` is the operation the view
    shows last) or create a record: the view alone says what they do, and no conflict can arise.
    Only records with concurrent operations (``forks``) need their history read from the log.
    """
    candidates: dict[tuple[str, int], Op] = {}
    for op in [*state["held"], *incoming]:
        candidates.setdefault((op["id"][0], op["id"][1]), op)
    have, _ = _walk_log(store, state)
    known = [op for op in incoming if op["id"][1] <= have.get(op["id"][0], 0)]
    if known:
        _same_as_held(store, state, have, known)
    fresh = [op for op in candidates.values() if op["id"][1] > have.get(op["id"][0], 0)]
    accepted, gap, future = _admit(fresh, have, now_ms)
    forks = {(k[0], k[1]) for k in state.get("forks", [])}
    views = {table: store.records(table) for table in sorted({op["t"] for op in accepted})}
    fast: dict[Key, tuple[dict[str, Any] | None, Any]] = {}
    before: dict[Key, tuple[dict[str, Any] | None, Any]] = {}
    slow: set[Key] = set()
    for op in accepted:
        key = (op["t"], op["r"])
        if key in slow:
            continue
        if key not in fast:
            if key in forks:
                slow.add(key)
                continue
            seen = views[op["t"]].get(op["r"])
            head = store.last_op(seen)[0] if seen is not None else None
            fast[key] = before[key] = (_fields(seen), head)
        rec, head = fast[key]
        pred = op.get("pred") or []
        if not pred and rec is None and head is None and "set" in op:
            fast[key] = (op["set"], op["id"])  # a create: never changed in place, so no copy
        elif (not pred and rec is None and head is None) or (rec is not None and pred == [head]):
            fast[key] = _naive(fast[key], op)
        else:
            slow.add(key)
    history: dict[Key, list[Op]] = {}
    if slow:
        _, history = _scan(store, slow)
    conflicts_before = {c.id for key in slow for c in record_conflicts(*key, history.get(key, []))}
    current: dict[Key, tuple[dict[str, Any] | None, Any]] = {}
    for key in slow:
        before[key] = current[key] = materialize(history.get(key, []))
    logged: list[Op] = []
    for op in accepted:
        key = (op["t"], op["r"])
        entry = op
        if key in slow:
            ops = history.setdefault(key, [])
            ops.append(op)
            merged = materialize(ops)
            if _naive(current[key], op) != merged:
                entry = {**op, "eff": {"rec": merged[0], "op": merged[1]}}
            current[key] = merged
        logged.append(entry)
    after = dict(have)
    for op in accepted:
        after[op["id"][0]] = max(after.get(op["id"][0], 0), op["id"][1])
    plan = _Plan(logged, gap, future, after)
    for key, (old, _) in before.items():
        new = current[key][0] if key in slow else fast[key][0]
        if old is None and new is not None:
            plan.added += 1
        elif old is not None and new is None:
            plan.deleted += 1
        elif old != new:
            plan.updated += 1
    for key in sorted(slow):
        ops = history[key]
        plan.new_conflicts += [c for c in record_conflicts(*key, ops) if c.id not in conflicts_before]
        if _head_count(ops) > 1:
            forks.add(key)
        else:
            forks.discard(key)
    plan.forks = sorted([list(k) for k in forks])
    return plan


def _same_as_held(store: Store, state: dict[str, Any], have: dict[str, int], known: list[Op]) -> None:
    """Refuse a bundle whose operation has an id this log holds with other content.

    Two laptops then use one replica id (a copied or restored store): each numbers its own
    operations 1, 2, 3, so keeping whichever arrived first would split the community's data for
    good. Only the log from the lowest such ``seq`` on is read, so fresh deltas cost nothing here.
    """
    since = dict(have)
    for op in known:
        origin, seq = op["id"]
        since[origin] = min(since[origin], seq - 1)
    _, held_ops = _walk_log(store, state, since)
    mine = {(op["id"][0], op["id"][1]): op for op in held_ops}
    for op in known:
        local = mine.get((op["id"][0], op["id"][1]))
        if local is None:
            continue
        local = shareable(local)
        if local != op and canonical(local) != canonical(op):
            raise SyncError("sync.replica_clash", replica=op["id"][0][-6:])


def _head_count(ops: list[Op]) -> int:
    anc = _ancestors(ops)
    covered: set[tuple[str, int]] = set().union(*anc.values())
    return sum((op["id"][0], op["id"][1]) not in covered for op in ops)


def _summarise_held(
    store: Store, state: dict[str, Any], have: dict[str, int], gap: list[Op], future: list[Op]
) -> list[Held]:
    out: list[Held] = []
    by_origin: dict[tuple[str, str], list[Op]] = {}
    for reason, ops in (("gap", gap), ("future", future)):
        for op in ops:
            by_origin.setdefault((op["id"][0], reason), []).append(op)
    for item in state.get("unverified", []):
        ops = item["ops"]
        by_origin.setdefault((ops[0]["id"][0], item["why"]), []).extend(ops)
    for (origin, reason), ops in sorted(by_origin.items()):
        out.append(
            Held(
                origin,
                peer_name(store, state, origin),
                len(ops),
                reason,
                first_missing=have.get(origin, 0) + 1,
                latest_ms=max(op["hlc"][0] for op in ops),
            )
        )
    return out


# -- status and settling conflicts -----------------------------------------------------------


def status(store: Store) -> dict[str, Any]:
    """Known peers, what each has acknowledged and still lacks, held operations, open conflicts."""
    store.refresh()
    state = load_state(store)
    with store.lock.hold(exclusive=False), collector_paused():
        mine, history = _scan(store, None)  # one read of the log for the vector and the conflicts
        found = _all_conflicts(history)
        del history
    peers = []
    for replica, peer in sorted(state["peers"].items()):
        acked = peer.get("vector", {})
        lacks = sum(max(0, seq - acked.get(origin, 0)) for origin, seq in mine.items())
        peers.append(
            {
                "replica": replica,
                "name": peer_name(store, state, replica),
                "acknowledged": acked,
                "lacks": lacks,
                "last_import": _iso(peer["last_import"]) if peer.get("last_import") else "",
            }
        )
    held = _summarise_held(
        store,
        state,
        mine,
        [op for op in state["held"] if op["hlc"][0] <= _guard_ms(state) + FUTURE_MS],
        [op for op in state["held"] if op["hlc"][0] > _guard_ms(state) + FUTURE_MS],
    )
    return {
        "replica": store.replica,
        "name": store.meta.get("name", ""),
        "vector": mine,
        "peers": peers,
        "held": [h.__dict__ for h in held],
        "conflicts": {"human": sum(c.human for c in found), "auto": sum(not c.human for c in found)},
        "imported": len(state["imported"]),
        "ahead_ms": clock_ahead_ms(store),
    }


def find_conflict(store: Store, ref: str, ops: dict[Key, list[Op]] | None = None) -> Conflict:
    matches = (
        [c for c in conflicts(store, ops) if c.id.startswith(ref.strip().lower())] if ref.strip() else []
    )
    if len(matches) != 1:
        raise SyncError("sync.no_conflict", ref=ref)
    return matches[0]


PHONE_FIELDS = frozenset({"phone", "worker_phone"})


def _take_value(store: Store, conflict: Conflict, text: str, ops: list[Op]) -> Any:
    """The value ``--take`` names: one of those shown, or new text checked like the field's own edit.

    Text stays text (``0003`` is not the number 3), and a new value passes the validator the
    field's edit uses, because a settled value syncs to every laptop with no further check.
    """
    for option in conflict.options:
        value = option.get("value")
        if not option.get("deleted") and (
            text == value or text == str(value) or text == canonical(value).decode()
        ):
            return value
    from gridtool.errors import Problem, ValidationError
    from gridtool.validate import Invalid, check_id_number, check_mobile

    name = conflict.field
    register_kind = _register_kind(conflict.table)
    if register_kind is not None:  # a register record: its own cleaning, on the record with the value
        from gridtool import register

        merged = {**_merged_fields(ops), name: text}
        try:
            clean = register.validate(store, register_kind, merged, own_id=conflict.record)
        except ValidationError as err:
            mine = [p for p in err.problems if p.field == name]
            if mine:
                raise ValidationError(mine) from None
            return text.strip()  # other fields' old troubles are not this decision's
        return clean.get(name, text.strip())
    try:
        if name in PHONE_FIELDS:
            return check_mobile(text)
        if name == "id_number":
            return check_id_number(text)
    except Invalid as bad:
        raise ValidationError([Problem(name, bad.key, dict(bad.params), None)]) from None
    if conflict.table == "issues" and name == "status":
        from gridtool.issues import STATUSES

        if text.strip() not in STATUSES:
            raise ValidationError(
                [Problem(name, "issue.unknown_choice", {"known": ", ".join(STATUSES)}, text.strip())]
            )
        return text.strip()
    if any(not isinstance(o.get("value"), str) for o in conflict.options if not o.get("deleted")):
        raise SyncError("sync.take_shown_only")  # a number or a list: no checked way to read text as one
    return text


def _register_kind(table: str) -> str | None:
    from gridtool.register import KINDS

    return next((name for name, k in KINDS.items() if k.table == table), None)


def resolve(
    store: Store,
    ref: str,
    take: str | None = None,
    keep: str | None = None,
    actor: str | None = None,
) -> tuple[Conflict, Any]:
    """Settle a conflict with one operation over every visible value; returns what was kept.

    ``keep`` is ``"mine"`` (this replica's value, else what the view shows) or ``"theirs"`` (the
    newest value from elsewhere); ``take`` is any value typed in. Keeping a deleted record also
    restores what was deleted with it (:func:`cascade`), listed in the conflict's ``restored``.
    """
    if (take is None) == (keep is None):
        raise SyncError("sync.resolve_how")
    with store.lock.hold(exclusive=True):
        every = history(store)
        conflict = find_conflict(store, ref, every)
        if conflict.field == "*" and take is not None:
            raise SyncError("sync.take_on_delete")
        ops = every[(conflict.table, conflict.record)]
        options = conflict.options
        mine_idx = [i for i, o in enumerate(options) if o["origin"] == store.replica]
        mine = mine_idx[-1] if mine_idx else conflict.winner
        if take is not None:
            chosen: dict[str, Any] | None = None
            value = _take_value(store, conflict, take, ops)
        else:
            others = [i for i in range(len(options)) if i != mine and options[i]["origin"] != store.replica]
            if keep == "theirs" and not others:
                raise SyncError("sync.no_theirs")
            chosen = options[mine] if keep == "mine" else options[others[-1]]
            value = chosen.get("value")
        current = store.records(conflict.table).get(conflict.record)
        pred = [o["op"].rsplit(":", 1) for o in options]
        pred = [[origin, int(seq)] for origin, seq in pred]
        if current is not None:
            for p in store.last_op(current):
                if p not in pred:
                    pred.append(p)
        if conflict.field == "*":
            if chosen is not None and chosen.get("deleted"):
                change: dict[str, Any] = {"del": True}
                value = None
            else:
                change = {"set": _merged_fields(ops)}
        elif current is None:
            change = {"set": {**_merged_fields(ops), conflict.field: value}}
        else:
            change = {"set": {conflict.field: value}}
        restore = cascade(store, conflict, every) if "set" in change and conflict.field == "*" else []
        with store.transaction(actor=actor) as tx:
            tx.settle(conflict.table, conflict.record, change, pred)
            for item in restore:
                tx.settle(item["table"], item["record"], {"set": item["fields"]}, [item["deleted_by"]])
        conflict.restored = restore
    return conflict, value


def cascade(store: Store, conflict: Conflict, ops: dict[Key, list[Op]] | None = None) -> list[dict[str, Any]]:
    """Records deleted together with the record of an edit-versus-delete conflict (its members).

    Keeping the record brings these back too, so a household is never restored without the people
    in it. They are the delete operations its writer made just before the record's own delete (as
    ``register.remove`` does, in one transaction) on records that name the kept record, and that
    nothing has written since; anything else touched meanwhile stays as it is and, if concurrent,
    shows as a conflict of its own.
    """
    if conflict.field != "*":
        return []
    starts = [o["op"].rsplit(":", 1) for o in conflict.options if o.get("deleted")]
    if not starts:
        return []
    every = history(store) if ops is None else ops
    by_id = {(op["id"][0], op["id"][1]): op for record_ops in every.values() for op in record_ops}
    found: list[dict[str, Any]] = []
    for origin, seq_text in starts:
        seq = int(seq_text) - 1
        while (origin, seq) in by_id and by_id[(origin, seq)].get("del"):
            op = by_id[(origin, seq)]
            record_ops = every[(op["t"], op["r"])]
            fields = _merged_fields(record_ops)
            if conflict.record in fields.values() and materialize(record_ops) == (None, [origin, seq]):
                found.append(
                    {"table": op["t"], "record": op["r"], "fields": fields, "deleted_by": [origin, seq]}
                )
            seq -= 1
    return sorted(found, key=lambda item: (item["table"], item["record"]))


def all_ops(store: Store) -> Iterator[Op]:
    """Every operation as it would travel (for tests and the bench)."""
    for op in store.operations():
        yield shareable(op)


def _register() -> None:
    from gridtool.sync import signing

    store_module.register_tx_signer(signing.sign_commit)


_register()  # every transaction committed once sync is loaded is signed by its author
