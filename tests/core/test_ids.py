from gridtool.ids import new_id, short


def test_ids_sort_in_creation_order_and_never_repeat() -> None:
    ids = [new_id() for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(i) == 26 and set(i) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for i in ids)
    assert len({short(i) for i in ids}) == len(ids)


def test_the_time_part_is_the_ulid_timestamp() -> None:
    assert new_id(now_ms=0).startswith("0000000000")
    assert new_id(now_ms=1_795_000_000_000) < new_id(now_ms=1_795_000_000_001)
