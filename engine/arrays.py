"""Arrays as kernels take them: fixed dtypes, read-only, one "no mask".

Numba compiles a kernel once per argument type, and a read-only array is a
type of its own. The store hands out read-only columns, so every array a
kernel reads goes through ``frozen``: one specialisation per kernel instead of
two, which halves what a fresh install compiles.
"""

from __future__ import annotations

from dataclasses import dataclass

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


# --- rows a scan counts, tested inside the scan ------------------------------

# A kernel drops a row by adding DROPPED to its cell index and clipping at
# the dump cell past the last real one: arithmetic, not a branch, because a
# row filter's answer is as unpredictable as a coin toss, and a mispredicted
# branch per row cost more than the whole count (measured 2-3x).
DROPPED = np.int64(1 << 40)


def pack_mask(mask: np.ndarray) -> np.ndarray:
    """A bool mask as a bitset: 64-bit words, row ``i`` at bit ``i % 64`` of
    word ``i // 64`` (1 bit a row, an eighth of the bool mask's bytes). The
    words are int64, the dtype of every other integer a kernel computes with
    (Numba turns int64 mixed with uint64 into float64).

    Example: ``pack_mask([True, False, True])`` is ``[5]``.
    """
    packed = np.packbits(np.asarray(mask, dtype=np.bool_), bitorder="little")
    padded = np.zeros(-(-packed.shape[0] // 8) * 8, dtype=np.uint8)
    padded[: packed.shape[0]] = packed
    return padded.view(np.int64)


def unpack_mask(words: np.ndarray, n: int) -> np.ndarray:
    """The bool mask of ``n`` rows a ``pack_mask`` bitset holds."""
    bits = np.unpackbits(np.asarray(words).view(np.uint8), count=n, bitorder="little")
    return bits.view(np.bool_)


@dataclass(frozen=True)
class RowTest:
    """Which rows a scan counts, decided inside the scan: no mask pass first.

    A row counts when every given part holds:

    - ``keep[codes[i]]`` (``codes``: the dictionary codes of one metadata
      column, ``keep``: the filter's answer for each distinct value, looked
      up as the scan reads the row);
    - ``low <= values[i] <= high`` (``values``: one int64 column, compared
      as the scan reads it);
    - bit ``i`` of ``bits`` is set (a ``pack_mask`` bitset of the filter's
      other conditions).

    Example: codes ``[0, 2, 1]`` and keep ``[True, False, True]`` count rows 0 and 1.
    """

    codes: np.ndarray | None = None  # int32, one a row
    keep: np.ndarray | None = None  # bool, one a code
    bits: np.ndarray | None = None  # int64 words of pack_mask
    values: np.ndarray | None = None  # int64, one a row
    low: int = -(2**63)
    high: int = 2**63 - 1

    @classmethod
    def of_mask(cls, mask: np.ndarray) -> RowTest:
        """The rows of a bool mask."""
        return cls(bits=pack_mask(mask))

    def kernel_args(self, n: int) -> tuple[np.ndarray, ...]:
        """``(codes, drop, words, values, bounds)`` as kernels take them:
        empty arrays for absent parts; ``drop`` is ``DROPPED`` for each code
        the filter rejects, else 0, padded to a power of two so that the
        kernel's ``codes[i] & (len(drop) - 1)`` never reads outside it (codes
        come from Arrow's dictionary, so they are not checked one by one: that
        would be the mask pass this avoids); ``bounds`` is ``[low, high]``.

        Raises ValueError when ``codes`` or ``values`` is not ``n`` long, or
        ``bits`` has too few words: a compiled loop would read past them.
        """
        codes, drop = frozen(None, np.int32), frozen(None, np.int64)
        if self.codes is not None:
            codes = frozen(self.codes, np.int32)
            keep = np.asarray(self.keep, dtype=np.bool_)
            if codes.shape != (n,):
                raise ValueError("codes have to be as long as the columns")
            table = np.full(1 << max(0, int(keep.shape[0] - 1).bit_length()), DROPPED)
            table[: keep.shape[0]] = np.where(keep, 0, DROPPED)
            drop = frozen(table, np.int64)
        words = frozen(None, np.int64)
        if self.bits is not None:
            words = frozen(self.bits, np.int64)
            if words.shape[0] * 64 < n:
                raise ValueError("bits has to hold a bit for every row")
        values = frozen(None, np.int64)
        if self.values is not None:
            values = frozen(self.values, np.int64)
            if values.shape != (n,):
                raise ValueError("values have to be as long as the columns")
        bounds = frozen(np.array([self.low, self.high], dtype=np.int64), np.int64)
        return codes, drop, words, values, bounds


def row_test(rows: np.ndarray | RowTest | None, n: int) -> tuple[np.ndarray, ...]:
    """The kernel arguments of a bool mask, a ``RowTest`` or None ("every row")."""
    if rows is None:
        return RowTest().kernel_args(n)
    if isinstance(rows, RowTest):
        return rows.kernel_args(n)
    if np.shape(rows) != (n,):
        raise ValueError("mask has to be as long as the columns")
    return RowTest.of_mask(rows).kernel_args(n)
