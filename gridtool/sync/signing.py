"""Each committed transaction carries its author's signature, whoever relays it.

Why: a bundle's signature only says who packed it. A relay (the office laptop) passes on other
laptops' changes, and must be able to delay them but never forge or alter one. So every
transaction is signed by the replica that made it, when it is committed (one Ed25519 signature
per transaction, not per operation), over the digest of its portable content: its id, its operations as they
travel, its actor and time. The key id and signature sit beside that content on the log line and
in every bundle, so a transaction verifies on its own, without its author's other transactions
(a laptop will later receive only its own grid cells' transactions).

A receiver ties each author (replica id) to the key that first signed for it, and from then on
accepts that author's transactions only under that key: a trusted laptop cannot write in another's
name. Transactions under a key not on the roster are held back until it is; a revoked key's
transactions are refused from any relay; what was imported before stays.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from gridtool.sync.operations import Op, canonical, shareable
from gridtool.sync.peer_input import ULID
from gridtool.sync.roster import _private_key, _public_raw, key_id, key_path
from gridtool.validate import Invalid, check_text

TX_CONTEXT = b"gridtool-tx-2\n"  # what the signature is over, so no other signed text can pass for it
HEADER_KEYS = frozenset({"tx", "n", "key", "sig", "actor", "at"})
PORTABLE = ("actor", "at")


def content(header: dict[str, Any], ops: list[Op]) -> bytes:
    """The bytes a transaction's signature covers, through their digest (see :func:`message`):
    its id, its operations, its actor and time, as canonical JSON."""
    body: dict[str, Any] = {"tx": header["tx"], "ops": [shareable(op) for op in ops]}
    for name in PORTABLE:
        if header.get(name) is not None:
            body[name] = header[name]
    return canonical(body)


def message(digest: bytes) -> bytes:
    """What is signed: the SHA-256 of a transaction's content, not the content itself, so a
    transaction of a million operations is checked as its lines stream by, never held whole."""
    return TX_CONTEXT + digest


def sign(private: Any, header: dict[str, Any], ops: list[Op]) -> dict[str, str]:
    """The ``key`` and ``sig`` entries for a transaction this replica made."""
    raw = _public_raw(private)
    signed = private.sign(message(hashlib.sha256(content(header, ops)).digest()))
    return {"key": key_id(raw), "sig": base64.b64encode(signed).decode()}


def content_ends(header: dict[str, Any]) -> tuple[bytes, bytes]:
    """What :func:`content` holds before its operations and after them (keys sorted: actor, at,
    ops, tx), so it can be hashed from the operations' lines as they stream by."""
    head = b"".join(
        b'"%s":%s,' % (name.encode(), canonical(header[name]))
        for name in PORTABLE
        if header.get(name) is not None
    )
    return b'{%s"ops":[' % head, b'],"tx":%s}' % canonical(header["tx"])


class ContentHash:
    """The digest of a transaction's content fed its operations' lines as a bundle carries them
    (canonical JSON each, as the exporter writes them), instead of serialising them again: a
    first sync's 200,000 operations cost half a second that way. Lines that are not canonical
    give another digest; a transaction small enough to hold is then checked against
    :func:`content` itself."""

    def __init__(self, header: dict[str, Any]) -> None:
        before, self.after = content_ends(header)
        self.hash = hashlib.sha256(before)
        self.empty = True

    def add(self, lines: list[bytes]) -> None:
        if lines:
            if not self.empty:
                self.hash.update(b",")
            self.hash.update(b",".join(lines))
            self.empty = False

    def digest(self) -> bytes:
        self.hash.update(self.after)
        return self.hash.digest()


def verify_digest(raw_key: bytes, header: dict[str, Any], digest: bytes) -> bool:
    """Whether ``header``'s signature holds over a transaction whose content has ``digest``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        signature = base64.b64decode(header["sig"], validate=True)
        Ed25519PublicKey.from_public_bytes(raw_key).verify(signature, message(digest))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def verify(raw_key: bytes, header: dict[str, Any], ops: list[Op], lines: list[bytes] | None = None) -> bool:
    """Whether ``header``'s signature holds over the transaction (``lines``: its operations as
    they came, tried first)."""
    if lines is not None:
        streamed = ContentHash(header)
        streamed.add(lines)
        if verify_digest(raw_key, header, streamed.digest()):
            return True
    try:
        digest = hashlib.sha256(content(header, ops)).digest()
    except (TypeError, ValueError, KeyError):
        return False
    return verify_digest(raw_key, header, digest)


def sign_commit(store: Any, entry: dict[str, Any]) -> dict[str, str]:
    """The store's commit hook: sign a transaction of this replica's own operations.

    A store that has no key yet (sync never used) commits unsigned; its transactions are signed
    when first exported, by the same key, which makes no difference to a receiver.
    """
    ops = entry["ops"]
    if not ops or any(op["id"][0] != store.replica for op in ops) or not key_path(store).exists():
        return {}
    return sign(_private_key(store), entry, ops)


def header_ok(header: Any, available: int) -> bool:
    """The shape of a transaction's header line in a bundle."""
    if type(header) is not dict or not HEADER_KEYS.issuperset(header):
        return False
    n, tx = header.get("n"), header.get("tx")
    if type(n) is not int or not 1 <= n <= available or type(tx) is not str or not 1 <= len(tx) <= 64:
        return False
    signed = "key" in header or "sig" in header
    if signed and not (
        type(header.get("key")) is str
        and len(header["key"]) == 16
        and type(header.get("sig")) is str
        and len(header["sig"]) <= 100
    ):
        return False
    try:
        for name in PORTABLE:
            if header.get(name) is not None:
                check_text(header[name], name)
    except Invalid:
        return False
    return True


def author_of(ops: list[Op]) -> str | None:
    """The one replica whose operations a transaction holds (None when they are several or none)."""
    origins = {op["id"][0] for op in ops}
    if len(origins) != 1:
        return None
    origin = next(iter(origins))
    return origin if ULID.fullmatch(origin) else None
