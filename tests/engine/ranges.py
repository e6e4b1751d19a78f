"""Row ranges as the kernels see them: a scan is cut into ranges of rows, one
a core, and the wrapper adds up (or joins) the ranges' results. These helpers
cut small inputs into many ranges, so merging is exercised on one core too,
and with more ranges than rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from evalql.engine import jit
from evalql.engine.arrays import columns, frozen, row_mask
from evalql.engine.jit import chunk_bounds


@contextmanager
def rows_cut_into(ranges: int) -> Iterator[None]:
    """Every scan cut into ``ranges`` ranges of rows, whatever their number."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jit, "n_chunks", lambda n_rows: ranges)
        yield


def each_range(
    kernel: Callable[..., Any], n: int, chunks: int, *args: Any
) -> tuple[list[Any], Any]:
    """``kernel(*args, lo, hi)`` over ``chunks`` ranges of rows ``0..n`` one by
    one, and over all of them at once."""
    return [kernel(*args, lo, hi) for lo, hi in chunk_bounds(n, chunks)], kernel(*args, 0, n)


def assert_summed(kernel: Callable[..., Any], n: int, chunks: int, *args: Any) -> None:
    """The ranges' results, added up (array by array for a tuple), are the whole's."""
    parts, whole = each_range(kernel, n, chunks, *args)
    if not isinstance(whole, tuple):
        parts, whole = [(part,) for part in parts], (whole,)
    for i, one in enumerate(whole):
        np.testing.assert_array_equal(sum(part[i] for part in parts), one)


def assert_joined(kernel: Callable[..., Any], n: int, chunks: int, *args: Any) -> None:
    """The ranges' per-row results, joined in order, are the whole's."""
    parts, whole = each_range(kernel, n, chunks, *args)
    np.testing.assert_array_equal(np.concatenate(parts), whole)


@dataclass(frozen=True)
class RandomColumns:
    """A split's columns as kernels take them (read-only, fixed dtypes)."""

    actual: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray
    mask: tuple[np.ndarray, bool]  # as ``row_mask`` hands it to a kernel
    every: np.ndarray  # actual_ok accepting every label and None


def random_columns(rng: np.random.Generator, n: int, n_labels: int) -> RandomColumns:
    """``n`` random rows of ``n_labels`` labels (None included). The mask drops
    the first half of the rows, so the first ranges hold none: the merge has
    to ignore what such a range reports."""
    actual, predicted, confidence = columns(
        rng.integers(-1, n_labels, n), rng.integers(-1, n_labels, n), rng.random(n)
    )
    mask = row_mask((rng.random(n) > 0.3) & (np.arange(n) > n // 2), n)
    return RandomColumns(actual, predicted, confidence, mask, frozen(np.ones(n_labels + 1), np.bool_))
