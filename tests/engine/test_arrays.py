"""engine.arrays: columns, masks and read-only views as every kernel takes them."""

from __future__ import annotations

import numpy as np
import pytest

from evalql.engine.arrays import columns, frozen, pack_mask, row_mask, unpack_mask


def test_frozen_is_a_read_only_view_without_a_copy_and_none_is_empty() -> None:
    codes = np.arange(3, dtype=np.int32)
    view = frozen(codes, np.int32)
    assert not view.flags.writeable and np.shares_memory(view, codes)
    assert codes.flags.writeable  # the caller's array stays as it was
    empty = frozen(None, np.bool_)
    assert empty.dtype == np.bool_ and empty.shape == (0,) and not empty.flags.writeable


def test_columns_of_different_lengths_are_refused() -> None:
    actual, predicted, confidence = columns([0, 1], [1, -1], [0.5, 0.25])
    assert (actual.dtype, predicted.dtype, confidence.dtype) == (np.int32, np.int32, np.float32)
    with pytest.raises(ValueError, match="the same length"):
        columns([0, 1], [1], [0.5, 0.25])
    with pytest.raises(ValueError, match="the same length"):
        columns([0, 1], [1, 0], [0.5])


def test_no_mask_is_an_empty_flag_array_and_a_mask_of_another_length_is_refused() -> None:
    flags, use_mask = row_mask(None, 4)
    assert flags.shape == (0,) and use_mask is False
    flags, use_mask = row_mask(np.array([True, False]), 2)
    assert flags.tolist() == [True, False] and use_mask is True
    with pytest.raises(ValueError, match="as long as the columns"):
        row_mask(np.ones(3, dtype=bool), 4)


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 200])
def test_a_packed_mask_unpacks_to_itself_one_bit_a_row(n: int) -> None:
    mask = np.random.default_rng(n).random(n) < 0.5
    words = pack_mask(mask)
    assert words.dtype == np.int64 and words.shape == (-(-n // 64),)
    np.testing.assert_array_equal(unpack_mask(words, n), mask)


def test_pack_mask_docstring_example_holds() -> None:
    assert pack_mask(np.array([True, False, True])).tolist() == [5]
