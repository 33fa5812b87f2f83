"""Record ids that are unique across replicas (ULIDs), and the short forms people type."""

from __future__ import annotations

import base64
import os
import time
from functools import lru_cache

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_FROM_RFC4648 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD)
SHORT_LEN = 8


@lru_cache(maxsize=4)
def _time_part(ms: int) -> str:
    chars = []
    for _ in range(10):
        chars.append(_CROCKFORD[ms & 31])
        ms >>= 5
    return "".join(reversed(chars))


def new_id(now_ms: int | None = None) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, 26 Crockford base-32 characters.

    Sorting ids sorts records by creation time, and two laptops never mint the same id.
    """
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    # 80 random bits are exactly 16 base-32 digits: encode them in C, then map to Crockford's alphabet.
    return _time_part(ms) + base64.b32encode(os.urandom(10)).decode().translate(_FROM_RFC4648)


def short(record_id: str) -> str:
    """The last characters of an id: random, so unique enough to show and to type."""
    return record_id[-SHORT_LEN:]
