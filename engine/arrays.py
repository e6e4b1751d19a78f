"""Arrays as kernels take them: fixed dtypes, read-only, one "no mask".

Numba compiles a kernel once per argument type, and a read-only array is a
type of its own. The store hands out read-only columns, so every array a
kernel reads goes through ``frozen``: one specialisation per kernel instead of
two, which halves what a fresh install compiles.
"""

from __future__ import annotations

import numpy as np


def frozen(array: np.ndarray | None, dtype: type[np.generic]) -> np.ndarray:
    """``array`` as ``dtype``, read-only (a view, not a copy); None is empty.

    Example: ``frozen(None, np.bool_)`` is an empty read-only bool array.
    """
    view = np.asarray(array if array is not None else np.zeros(0), dtype=dtype).view()
    view.flags.writeable = False
    return view


def columns(
    actual: np.ndarray, predicted: np.ndarray, confidence: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three columns of a split as kernels read them (int32, int32, float32).

    Raises ValueError when their lengths differ: a compiled loop would read
    past the shorter one.
    """
    actual, predicted = frozen(actual, np.int32), frozen(predicted, np.int32)
    confidence = frozen(confidence, np.float32)
    if not actual.shape == predicted.shape == confidence.shape:
        raise ValueError("actual, predicted and confidence have to be the same length")
    return actual, predicted, confidence


def row_mask(mask: np.ndarray | None, n: int) -> tuple[np.ndarray, bool]:
    """``(flags, use_mask)``: the mask as kernels take it, empty for "every row".

    One compiled kernel serves both cases. Raises ValueError when the mask's
    length is not ``n``.
    """
    if mask is not None and np.shape(mask) != (n,):
        raise ValueError("mask has to be as long as the columns")
    return frozen(mask, np.bool_), mask is not None
