"""Comparing two runs of a model row by row: rows fixed and rows regressed.

A base row is right when a label was predicted at the threshold and it equals
the actual label; anything else (wrong, abstained, unlabeled) is wrong. A row
is fixed when it is wrong in the base and right in the candidate, regressed
the other way round. ``count_changes`` counts both in one scan;
``changed_rows`` pages through one kind by position, as ``engine.select``
pages (``Page``, with ``limit + 1`` keys telling whether more follow).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import columns, frozen
from evalql.engine.confusion import as_threshold
from evalql.engine.jit import inline_jit, jit, sum_rows
from evalql.engine.select import Page, page_of


@inline_jit
def _right(actual, predicted, confidence, threshold, i):
    # Arithmetic, not short-circuit branches (see engine.select.matches).
    return np.int64((actual[i] >= 0) & (predicted[i] == actual[i]) & (confidence[i] >= threshold))


@inline_jit
def _change(join, use_join, a0, p0, c0, a1, p1, c1, threshold, i):
    # 1 = fixed (wrong -> right), 2 = regressed (right -> wrong), 0 = neither
    # or the id is missing from the candidate.
    j = join[i] if use_join else i
    present = np.int64(j >= 0)
    was = _right(a0, p0, c0, threshold, i)
    now = _right(a1, p1, c1, threshold, max(j, 0))
    return present * (now * (1 - was) + 2 * was * (1 - now))


@jit
def _count_changes(join, use_join, a0, p0, c0, a1, p1, c1, threshold, lo, hi):
    counts = np.zeros(3, dtype=np.int64)
    for i in range(lo, hi):
        counts[_change(join, use_join, a0, p0, c0, a1, p1, c1, threshold, i)] += 1
    return counts


@jit
def _changed_rows(join, use_join, a0, p0, c0, a1, p1, c1, threshold, want, after, cap):
    out = np.empty(cap, dtype=np.int64)
    n = 0
    for i in range(after + 1, a0.shape[0]):
        if _change(join, use_join, a0, p0, c0, a1, p1, c1, threshold, i) == want:
            out[n] = i
            n += 1
            if n == cap:
                break
    return out[:n]


FIXED, REGRESSED = 1, 2


@dataclass(frozen=True)
class Columns:
    """One split's label codes (int32, -1 = None) and float32 confidences."""

    actual: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray

    def astuple(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return columns(self.actual, self.predicted, self.confidence)


def count_changes(
    base: Columns, cand: Columns, join: np.ndarray | None, threshold: float
) -> tuple[int, int]:
    """Rows right in ``cand`` and wrong in ``base`` (fixed), and the reverse (regressed).

    ``join[i]`` is the candidate row of base row ``i`` (-1: none), or None when
    row i is row i in both. Right means a label was predicted at the threshold
    and it equals the actual label; anything else (wrong, abstained,
    unlabeled) is wrong. Rows missing from the candidate count as neither.
    """
    use_join, links = _join(join)
    counts = sum_rows(
        _count_changes, len(base.actual), links, use_join, *base.astuple(),
        *cand.astuple(), as_threshold(threshold),
    )
    return int(counts[FIXED]), int(counts[REGRESSED])


def changed_rows(
    base: Columns, cand: Columns, join: np.ndarray | None, threshold: float,
    change: int, after: int, limit: int,
) -> Page:
    """Base rows with ``change`` (FIXED or REGRESSED) after position ``after``,
    in position order, as ``count_changes`` defines them. ``keys`` are the
    positions; ``total`` is -1 (``count_changes`` counts them)."""
    use_join, links = _join(join)
    keys = _changed_rows(
        links, use_join, *base.astuple(), *cand.astuple(), as_threshold(threshold),
        int(change), np.int64(after), limit + 1,
    )
    return page_of(keys, -1, limit)


def _join(join: np.ndarray | None) -> tuple[bool, np.ndarray]:
    return join is not None, frozen(join, np.int32)

