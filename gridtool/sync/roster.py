"""This replica's key, the roster of trusted keys, and the sync state file beside the store.

The roster (``sync trust``) says whose bundles and transactions are believed; the state file holds
it with the peers' vectors, held operations and imported bundle ids. The private key never leaves
the laptop (mode 0600, never in a bundle)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson

from gridtool.store import Store, write_private
from gridtool.sync.operations import SyncError, _iso, _now_ms, _sha256, clock_ahead_ms

KEY_PREFIX = "ed25519:"


STATE_VERSION = 1


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
                lost = _key_made_before(store)
                if lost is not None:
                    raise SyncError("sync.key_lost", path=str(path), key_id=lost)
                key = Ed25519PrivateKey.generate()
                write_private(path, base64.b64encode(key.private_bytes_raw()) + b"\n")
                # After the key: a crash between the two leaves a key, never a note of one that is not.
                made = {"replica": store.replica, "key_id": key_id(_public_raw(key))}
                write_private(store.sidecar("sync-key-id"), orjson.dumps(made) + b"\n")
    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_bytes().strip()))
    except ValueError:
        raise SyncError("sync.key_corrupt", path=str(path)) from None


def _key_made_before(store: Store) -> str | None:
    """The id of a key this replica already had, if anything says so: the note made beside the
    key when it was made, or a transaction of this replica's own that it signed.

    Peers bind a replica to the first key they see sign for it (a first export signs the changes
    made before the key in the bundle only, so the note is what remembers it), and a new key would
    get every later change refused as forged. Only runs while no key file exists."""
    try:
        made = orjson.loads(store.sidecar("sync-key-id").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        made = None
    if (
        isinstance(made, dict)
        and made.get("replica") == store.replica
        and isinstance(made.get("key_id"), str)
    ):
        return made["key_id"]
    for _, entry in store._read_log(0, store.committed_size(), mentioning=b'"sig":'):
        own = entry["ops"] and all(op["id"][0] == store.replica for op in entry["ops"])
        if own and "txs" not in entry and isinstance(entry.get("key"), str) and "sig" in entry:
            return entry["key"]
    return None


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
        from gridtool.sync.applying import release

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
