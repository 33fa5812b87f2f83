"""Sync by file exchange: offline replicas swap signed bundle files and converge, losing nothing.

Why it works this way (see "Sync by file exchange" in DESIGN.md):

* Every change already is an operation in the store's log, ``{id: [origin, seq], hlc, t, r, set|del,
  pred}``. A bundle carries operations; an import writes them to the local log verbatim (so they can
  be passed on and the view rebuilt), in one store transaction. It reads the bundle twice as a
  stream: once to check all of it, then to apply it a batch at a time, the transaction written in
  parts (``Transaction.write_part``), so no import holds every operation at once.
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

Where each part lives (a newcomer's map):

* :mod:`~gridtool.sync.operations`: operations as they travel (canonical JSON, their order).
* :mod:`~gridtool.sync.bundle`: the bundle file format, writing and reading it.
* :mod:`~gridtool.sync.roster`: this laptop's key, the roster of trusted keys, the sync state.
* :mod:`~gridtool.sync.signing`: each transaction's author signature, and checking it.
* :mod:`~gridtool.sync.peer_input`: every incoming operation checked, bounded and validated.
* :mod:`~gridtool.sync.log`: reading the store's log (vectors, deltas, histories).
* :mod:`~gridtool.sync.applying`: checking, planning and applying an import a batch at a time,
  held changes, status.
* :mod:`~gridtool.sync.conflicts`: the merge, conflicts, and settling them.
* :mod:`~gridtool.sync.derived`: fields a higher layer derives (an issue's status from its
  timeline), worked out again after each import; the issues layer registers how.

Files beside the store (all mode 0600): ``NAME.json.sync-key`` (this replica's Ed25519 private key,
never in a bundle), ``NAME.json.sync-key-id`` (that key's id and replica, so a lost key is noticed
instead of replaced) and ``NAME.json.sync-state`` (trust roster, peers' vectors, held operations,
imported bundle ids).
"""

from __future__ import annotations

from gridtool import store as store_module
from gridtool.errors import InputError
from gridtool.store import SCHEMA_VERSION
from gridtool.sync.applying import (
    FUTURE_MS,
    Held,
    ImportResult,
    accept_clock,
    held,
    import_bundle,
    release,
    status,
)
from gridtool.sync.bundle import (
    FEATURES,
    FORMAT_VERSION,
    MAX_BUNDLE_BYTES,
    MAX_MEMBER_BYTES,
    MAX_RATIO,
    MIN_PASSPHRASE,
    SYNC_TABLES,
    Bundle,
    ExportResult,
    export_bundle,
    is_encrypted,
    read_bundle,
)
from gridtool.sync.conflicts import (
    HUMAN_FIELDS,
    Conflict,
    cascade,
    conflict_title,
    conflicts,
    find_conflict,
    materialize,
    record_conflicts,
    resolve,
    shown_value,
)
from gridtool.sync.log import all_ops, history, vector
from gridtool.sync.operations import (
    Key,
    Op,
    SyncError,
    _iso,
    _now_ms,
    _sha256,
    canonical,
    clock_ahead_ms,
    op_ref,
    shareable,
    stamp,
)
from gridtool.sync.roster import (
    KEY_PREFIX,
    _private_key,
    _public_raw,
    key_id,
    key_path,
    load_state,
    parse_public_key,
    peer_name,
    public_key_text,
    state_path,
    trust_add,
    trust_list,
    trust_revoke,
    whoami,
)

__all__ = [
    "FEATURES",
    "FORMAT_VERSION",
    "FUTURE_MS",
    "HUMAN_FIELDS",
    "KEY_PREFIX",
    "MAX_BUNDLE_BYTES",
    "MAX_MEMBER_BYTES",
    "MAX_RATIO",
    "MIN_PASSPHRASE",
    "SCHEMA_VERSION",
    "SYNC_TABLES",
    "Bundle",
    "Conflict",
    "ExportResult",
    "Held",
    "ImportResult",
    "InputError",
    "Key",
    "Op",
    "SyncError",
    "_iso",
    "_now_ms",
    "_private_key",
    "_public_raw",
    "_sha256",
    "accept_clock",
    "all_ops",
    "canonical",
    "cascade",
    "clock_ahead_ms",
    "conflict_title",
    "conflicts",
    "export_bundle",
    "find_conflict",
    "held",
    "history",
    "import_bundle",
    "is_encrypted",
    "key_id",
    "key_path",
    "load_state",
    "materialize",
    "op_ref",
    "parse_public_key",
    "peer_name",
    "public_key_text",
    "read_bundle",
    "record_conflicts",
    "release",
    "resolve",
    "shareable",
    "shown_value",
    "stamp",
    "state_path",
    "status",
    "store_module",
    "trust_add",
    "trust_list",
    "trust_revoke",
    "vector",
    "whoami",
]


def _register() -> None:
    from gridtool.sync import signing

    store_module.register_tx_signer(signing.sign_commit)


_register()  # every transaction committed once sync is loaded is signed by its author
