"""storage.columns.ids_digest: equal ids in the same order, equal digests,
however the arrays were sliced or built; anything else, another digest."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from evalql.storage.columns import ids_digest

ids = st.lists(st.text(max_size=4), max_size=30)


@settings(max_examples=200, deadline=None)
@given(values=ids, before=ids, after=ids)
def test_a_slice_digests_as_a_fresh_array_of_the_same_ids(
    values: list[str], before: list[str], after: list[str]
) -> None:
    whole = pa.array(before + values + after, pa.string())
    part = whole.slice(len(before), len(values))
    assert ids_digest(part) == ids_digest(pa.array(values, pa.string()))
    assert ids_digest(part) == ids_digest(pa.array(values, pa.large_string()).cast(pa.string()))


@settings(max_examples=200, deadline=None)
@given(first=ids, second=ids)
def test_other_ids_or_another_order_digest_otherwise(first: list[str], second: list[str]) -> None:
    if first != second:
        assert ids_digest(pa.array(first, pa.string())) != ids_digest(pa.array(second, pa.string()))


def test_moving_a_character_between_two_ids_changes_the_digest() -> None:
    assert ids_digest(pa.array(["ab", "c"])) != ids_digest(pa.array(["a", "bc"]))
    assert ids_digest(pa.array(["a", None])) != ids_digest(pa.array(["a", ""]))
    assert ids_digest(pa.array([1, 2])) == ids_digest(pa.array(["1", "2"]))
