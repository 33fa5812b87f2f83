"""Record ids that are unique across replicas (ULIDs), and the short forms people type."""

from __future__ import annotations

import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SHORT_LEN = 8


def new_id(now_ms: int | None = None) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, 26 Crockford base-32 characters.

    Sorting ids sorts records by creation time, and two laptops never mint the same id.
    """
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def short(record_id: str) -> str:
    """The last characters of an id: random, so unique enough to show and to type."""
    return record_id[-SHORT_LEN:]
