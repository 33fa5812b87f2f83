import base64
import itertools

from hypothesis import given
from hypothesis import strategies as st

from gridtool.ids import IdMinter, new_id, random_part, short

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def test_ids_sort_in_creation_order_and_never_repeat() -> None:
    ids = [new_id() for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(i) == 26 and set(i) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for i in ids)
    assert len({short(i) for i in ids}) == len(ids)


def test_the_time_part_is_the_ulid_timestamp() -> None:
    assert new_id(now_ms=0).startswith("0000000000")
    assert new_id(now_ms=1_795_000_000_000) < new_id(now_ms=1_795_000_000_001)


@given(st.integers(min_value=0, max_value=(1 << 80) - 1))
def test_the_random_part_is_base32_in_crockfords_alphabet(value: int) -> None:
    rfc4648 = base64.b32encode(value.to_bytes(10, "big")).decode()
    crockford = rfc4648.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CROCKFORD))
    assert random_part(value) == crockford
    assert (random_part(value) < random_part(value + 1)) or value == (1 << 80) - 1


def test_a_minter_makes_ids_that_sort_in_making_order_across_batches() -> None:
    mint = IdMinter()
    made = [mint() for _ in range(IdMinter.BATCH * 2 + 10)]
    assert len(set(made)) == len(made) and made == sorted(made)
    assert all(len(i) == 26 and set(i) <= set(CROCKFORD) for i in made)
    assert len({i[:10] for i in made}) == 1  # one millisecond: the minter's
    values = [sum(CROCKFORD.index(c) << 5 * (15 - n) for n, c in enumerate(i[10:])) for i in made]
    assert all(random_part(v) == i[10:] for v, i in zip(values, made, strict=True))
    steps = [b - a for a, b in itertools.pairwise(values)]
    assert min(steps) >= 1 and max(steps) <= 1 << 32
    assert all(a[-8:] != b[-8:] for a, b in itertools.pairwise(made))
