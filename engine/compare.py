"""Comparing two runs row by row: rows fixed and rows regressed.

Each split first gets a verdict per row (int8): 1 = right, 0 = wrong,
-1 = not judged (outside the view: its row filter or class filter; or, with
one label a row, no actual label: a row without ground truth is left out of
accuracy, so it can never be fixed or regressed). Each task
says what right means (``verdicts`` here for one label a row: a label was
predicted at the threshold and it equals the actual label; for label sets
``engine.multilabel.rows.match_rows`` with ``exact=True``). The change of a
row is then written once, for both tasks: fixed when wrong in the base and
right in the candidate, regressed the other way round, nothing when the id
is missing from the candidate or either side does not judge the row.
``count_changes`` counts both in one scan; ``changed_rows`` pages through
one kind by position, as ``engine.select`` pages (``Page``, with
``limit + 1`` keys telling whether more follow).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import columns, frozen, row_mask
from evalql.engine.confusion import as_threshold, kept_code
from evalql.engine.jit import jit, map_rows, sum_rows
from evalql.engine.select import Page, page_of

RIGHT, WRONG, NOT_JUDGED = 1, 0, -1
# None for kept_code where no label count is at hand: past every int32 code.
_PAST_CODES = np.int64(1 << 31)


@jit
def _verdicts(actual, predicted, confidence, threshold, actual_ok, use_labels, mask, use_mask,
              lo, hi):
    out = np.empty(hi - lo, dtype=np.int8)
    for i in range(lo, hi):
        a = actual[i]
        # A row without an actual label cannot be judged (as for accuracy).
        judged = a >= 0 and (not use_mask or mask[i]) and (not use_labels or actual_ok[a])
        # Right: the prediction kept at the threshold is the actual label.
        # (cell_of's clipped a in place of actual[i] made this scan 9x
        # slower, 132 against 15 ms for 10M rows, Numba 0.60.)
        right = kept_code(predicted[i], confidence[i], threshold, _PAST_CODES) == a
        out[i - lo] = (1 if right else 0) if judged else -1
    return out


# Base row i's (baseline verdict, candidate verdict) is one cell
# 3 (was + 1) + (now + 1) of 0..8, so counting is a histogram with no branch
# on the verdicts. A base row whose id the candidate lacks is now = NOT_JUDGED,
# never looked up in the candidate. Both kernels spell the cell out in their
# loop: behind a helper, inlined or not, the scan measured 15 to 20 times
# slower (0.7-0.9 s against 40-50 ms for 10M rows), as it did with int8
# arithmetic in the index.


@jit
def _count_pairs(join, use_join, base, cand, lo, hi):
    counts = np.zeros(9, dtype=np.int64)
    for i in range(lo, hi):
        j = np.int64(join[i]) if use_join else np.int64(i)
        now = np.int64(cand[j]) if j >= 0 else np.int64(NOT_JUDGED)
        counts[(np.int64(base[i]) + 1) * 3 + now + 1] += 1
    return counts


@jit
def _rows_in_cell(join, use_join, base, cand, cell, after, cap):
    out = np.empty(cap, dtype=np.int64)
    n = 0
    for i in range(after + 1, base.shape[0]):
        j = np.int64(join[i]) if use_join else np.int64(i)
        now = np.int64(cand[j]) if j >= 0 else np.int64(NOT_JUDGED)
        if (np.int64(base[i]) + 1) * 3 + now + 1 == cell:
            out[n] = i
            n += 1
            if n == cap:
                break
    return out[:n]


FIXED, REGRESSED = 1, 2
# The cell of each change: fixed is (WRONG, RIGHT), regressed (RIGHT, WRONG).
_CELL = {FIXED: 3 * (WRONG + 1) + RIGHT + 1, REGRESSED: 3 * (RIGHT + 1) + WRONG + 1}


@dataclass(frozen=True)
class Columns:
    """One split's label codes (int32, -1 = None) and float32 confidences."""

    actual: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray

    def astuple(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return columns(self.actual, self.predicted, self.confidence)


def verdicts(
    split: Columns,
    threshold: float,
    actual_ok: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Per row of a one-label-a-row split: RIGHT, WRONG or NOT_JUDGED (int8).

    Parameters
    ----------
    split : the split's columns.
    threshold : predictions below it are abstentions.
    actual_ok : bool (K + 1,), None last: the rows judged by actual label
        (a class filter); None judges every label. Rows with actual None are
        never judged, whatever its last entry.
    mask : bool (N,): the rows judged (a row filter); None = every row.

    Notes
    -----
    Right means a label was predicted at the threshold and it equals the
    actual label; another label or an abstention is wrong; a row without an
    actual label is not judged (accuracy leaves it out). Example: actual
    ``[0, 1, -1]``, predicted ``[0, 0, 0]``, all confident: ``[1, 0, -1]``;
    with ``actual_ok = [True, False, True]``, ``[1, -1, -1]``.
    """
    n = len(split.actual)
    flags, use_mask = row_mask(mask, n)
    use_labels = actual_ok is not None
    ok = frozen(np.ones(1, np.bool_) if actual_ok is None else actual_ok, np.bool_)
    parts = map_rows(_verdicts, n, *split.astuple(), as_threshold(threshold), ok, use_labels,
                     flags, use_mask)
    return np.concatenate(parts) if parts else np.empty(0, np.int8)


def verdicts_of(right: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Verdicts from a task's per-row "right" flags (bool, N) and a row mask.

    Example: right ``[True, False, True]``, mask ``[True, True, False]``:
    ``[1, 0, -1]``.
    """
    out = np.asarray(right, dtype=np.int8).copy()
    if mask is not None:
        out[~np.asarray(mask, dtype=np.bool_)] = NOT_JUDGED
    return out


def count_changes(
    base: np.ndarray, cand: np.ndarray, join: np.ndarray | None
) -> tuple[int, int]:
    """Rows right in ``cand`` and wrong in ``base`` (fixed), and the reverse (regressed).

    ``base`` and ``cand`` are the two splits' verdicts (``verdicts``);
    ``join[i]`` is the candidate row of base row ``i`` (-1: none), or None when
    row i is row i in both. Rows missing from the candidate, or not judged by
    either side, count as neither; a missing row is never read.

    Example: base ``[0, 1, 1, -1]``, cand ``[1, 0, 1, 1]``: (1, 1).
    """
    use_join, links, b, c = _checked(base, cand, join)
    counts = sum_rows(_count_pairs, len(b), links, use_join, b, c)
    return int(counts[_CELL[FIXED]]), int(counts[_CELL[REGRESSED]])


def changed_rows(
    base: np.ndarray, cand: np.ndarray, join: np.ndarray | None,
    change: int, after: int, limit: int,
) -> Page:
    """Base rows with ``change`` (FIXED or REGRESSED) after position ``after``,
    in position order, as ``count_changes`` defines them. ``keys`` are the
    positions; ``total`` is -1 (``count_changes`` counts them)."""
    use_join, links, b, c = _checked(base, cand, join)
    keys = _rows_in_cell(links, use_join, b, c, _CELL[change], np.int64(after), limit + 1)
    return page_of(keys, -1, limit)


def _checked(
    base: np.ndarray, cand: np.ndarray, join: np.ndarray | None
) -> tuple[bool, np.ndarray, np.ndarray, np.ndarray]:
    # The O(1) checks that keep the compiled loops in bounds.
    b, c = frozen(base, np.int8), frozen(cand, np.int8)
    if join is None and len(b) != len(c):
        raise ValueError(f"without a join the verdicts have to be as long, got {len(b)} "
                         f"and {len(c)}")
    if join is not None and len(join) != len(b):
        raise ValueError("the join has to give one candidate row per base row")
    return join is not None, frozen(join, np.int32), b, c
