"""Record ids that are unique across replicas (ULIDs), and the short forms people type."""

from __future__ import annotations

import hashlib
import os
import time
from array import array
from functools import lru_cache
from itertools import accumulate, repeat
from operator import add

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [_CROCKFORD[i >> 5] + _CROCKFORD[i & 31] for i in range(1024)]  # 10 bits -> 2 digits
SHORT_LEN = 8
_RANDOM_MAX = (1 << 80) - 1
_last: tuple[int, int] = (-1, 0)


@lru_cache(maxsize=4)
def _time_part(ms: int) -> str:
    chars = []
    for _ in range(10):
        chars.append(_CROCKFORD[ms & 31])
        ms >>= 5
    return "".join(reversed(chars))


def new_id(now_ms: int | None = None) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, 26 Crockford base-32 characters.

    Sorting ids sorts records by creation time, and two laptops never mint the same id. Within one
    millisecond the random part still grows (as in the ULID spec's monotonic mode), so records made
    together sort in the order they were entered; it grows by a random step rather than by one, so
    two neighbours' short ids differ in several characters and a typo finds nothing instead of the
    next household.
    """
    global _last
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    last_ms, last_random = _last
    step = 1 + int.from_bytes(os.urandom(5), "big")
    if ms == last_ms and last_random + step <= _RANDOM_MAX:
        random = last_random + step
    else:
        random = int.from_bytes(os.urandom(10), "big") >> 1  # leave room to count up
    _last = (ms, random)
    return _time_part(ms) + random_part(random)


def random_part(value: int) -> str:
    """80 bits as 16 Crockford digits, ten bits at a time (4x faster than base64.b32encode, which
    is pure Python; an import mints 100,000 ids)."""
    p = _PAIRS
    return (
        p[value >> 70 & 1023]
        + p[value >> 60 & 1023]
        + p[value >> 50 & 1023]
        + p[value >> 40 & 1023]
        + p[value >> 30 & 1023]
        + p[value >> 20 & 1023]
        + p[value >> 10 & 1023]
        + p[value & 1023]
    )


class IdMinter:
    """Ids for many records made at once (an import mints 100,000): ULIDs as :func:`new_id`
    makes them, the minter's millisecond then a random part that grows by a random step, so the
    records sort in the order they were made and neighbours' short ids differ in several
    characters. The steps are 32-bit and drawn 4,096 at a time, so the top half of the random
    part changes once in a few hundred ids and only the bottom half is spelt out for each."""

    BATCH = 4096

    def __init__(self) -> None:
        self._prefix = _time_part(time.time_ns() // 1_000_000)
        self._next = int.from_bytes(os.urandom(10), "big") >> 2  # headroom: steps never pass 80 bits
        self._pool: list[str] = []

    def __call__(self) -> str:
        if not self._pool:
            self._pool = self._batch()
        return self._pool.pop()

    def _batch(self) -> list[str]:
        steps = array("I", os.urandom(4 * self.BATCH))
        values = list(accumulate(map(add, steps, repeat(1)), initial=self._next))
        self._next = values.pop()
        p, pool = _PAIRS, []
        high, head = -1, ""
        for value in reversed(values):  # popped from the end: the first id comes first
            if value >> 40 != high:
                high = value >> 40
                head = (
                    self._prefix
                    + p[high >> 30 & 1023]
                    + p[high >> 20 & 1023]
                    + p[high >> 10 & 1023]
                    + p[high & 1023]
                )
            pool.append(
                head + p[value >> 30 & 1023] + p[value >> 20 & 1023] + p[value >> 10 & 1023] + p[value & 1023]
            )
        return pool


def derived_id(base: str, purpose: str) -> str:
    """A ULID-shaped id that every replica computes the same for the same ``base`` id and ``purpose``.

    For records that must exist at most once per other record (the points credit of an order): two
    laptops that both write it make one record, which sync can merge or flag, not two to add up.
    It keeps ``base``'s time part, so it sorts beside what it belongs to.
    """
    digest = hashlib.sha256(f"{base}/{purpose}".encode()).digest()[:10]
    return base[:10] + random_part(int.from_bytes(digest, "big"))


def short(record_id: str) -> str:
    """The last characters of an id: random, so unique enough to show and to type."""
    return record_id[-SHORT_LEN:]
