"""Naming conflicts for people: masked values that read alike get their differing digits back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gridtool.conflict_names import unmask_differences
from gridtool.views import mask_field

phones = st.from_regex(r"\A1[3-9]\d{9}\Z", fullmatch=True)


@given(st.lists(phones, min_size=2, max_size=3, unique=True))
def test_phones_that_mask_alike_are_told_apart_and_stay_masked_elsewhere(numbers: list[str]) -> None:
    masked = [mask_field("phone", n) for n in numbers]
    shown = unmask_differences(masked, numbers)
    assert len(set(shown)) == len(shown)  # a person can tell them apart
    for text, mask, number in zip(shown, masked, numbers, strict=True):
        assert all(c in (m, d) for c, m, d in zip(text, mask, number, strict=True))
        same = [i for i in range(len(number)) if len({n[i] for n in numbers}) == 1]
        assert all(text[i] == mask[i] for i in same)  # what all share stays masked


def test_values_that_already_read_differently_are_left_alone() -> None:
    assert unmask_differences(["139****0001", "139****0002"], ["13900000001", "13900000002"]) == [
        "139****0001",
        "139****0002",
    ]
    assert unmask_differences(["139****0001", "139****0001"], ["13912340001", "13912350001"]) == [
        "139***40001",
        "139***50001",
    ]
