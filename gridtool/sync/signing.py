"""Each committed transaction carries its author's signature, whoever relays it.

Why: a bundle's signature only says who packed it. A relay (the office laptop) passes on other
laptops' changes, and must be able to delay them but never forge or alter one. So every
transaction is signed by the replica that made it, when it is committed (one Ed25519 signature
per transaction, not per operation), over its portable content: its id, its operations as they
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
from typing import Any

from gridtool.sync.operations import Op, canonical, shareable
from gridtool.sync.peer_input import ULID
from gridtool.sync.roster import _private_key, _public_raw, key_id, key_path
from gridtool.validate import Invalid, check_text

TX_CONTEXT = b"gridtool-tx-1\n"  # what the signature is over, so no other signed text can pass for it
HEADER_KEYS = frozenset({"tx", "n", "key", "sig", "actor", "at"})
PORTABLE = ("actor", "at")


def content(header: dict[str, Any], ops: list[Op]) -> bytes:
    """The bytes a transaction's signature covers: its id, its operations, its actor and time."""
    body: dict[str, Any] = {"tx": header["tx"], "ops": [shareable(op) for op in ops]}
    for name in PORTABLE:
        if header.get(name) is not None:
            body[name] = header[name]
    return TX_CONTEXT + canonical(body)


def sign(private: Any, header: dict[str, Any], ops: list[Op]) -> dict[str, str]:
    """The ``key`` and ``sig`` entries for a transaction this replica made."""
    raw = _public_raw(private)
    return {"key": key_id(raw), "sig": base64.b64encode(private.sign(content(header, ops))).decode()}


def content_of_lines(header: dict[str, Any], lines: list[bytes]) -> bytes:
    """:func:`content` built from the operations' lines as a bundle carries them (canonical JSON
    each, as the exporter writes them) instead of serialising them again: a first sync's 200,000
    operations cost half a second that way. Lines that are not canonical give other bytes, and
    the signature is then checked against :func:`content` itself."""
    head = b"".join(
        b'"%s":%s,' % (name.encode(), canonical(header[name]))
        for name in PORTABLE
        if header.get(name) is not None
    )
    return TX_CONTEXT + b'{%s"ops":[%s],"tx":%s}' % (head, b",".join(lines), canonical(header["tx"]))


def verify(raw_key: bytes, header: dict[str, Any], ops: list[Op], lines: list[bytes] | None = None) -> bool:
    """Whether ``header``'s signature holds over the transaction (``lines``: its operations as
    they came, tried first)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        signature = base64.b64decode(header["sig"], validate=True)
        key = Ed25519PublicKey.from_public_bytes(raw_key)
    except (ValueError, TypeError):
        return False
    if lines is not None:
        try:
            key.verify(signature, content_of_lines(header, lines))
            return True
        except InvalidSignature:
            pass
    try:
        key.verify(signature, content(header, ops))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


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
