"""Paging by walking a threshold index: ``select_by_scan``'s pages without a scan.

The rows of a cell at threshold t are a prefix of the cell's run (kept) or
suffixes of runs plus the (a, None) run (abstained), each already in
confidence order, so a page is a k-way merge of sorted runs that starts with
one binary search per run: O(k log N + page log k), no scan. Under a row mask
the walk steps over the rows outside it: O(page / share of rows kept). Keys,
cursors and pages are those of ``engine.select`` (``order_key``).

A worked example. Two labels (K = 2, None = 2) and seven rows::

    row          0    1    2    3    4    5    6
    actual       0    0    0    1    0    0    0
    predicted    0    1    0    1    0    None 1
    confidence   0.9  0.8  0.4  0.7  0.6  0.0  0.3

The index (``ThresholdIndex``) holds the runs of cells (a, p) by confidence
descending: (0, 0) rows ``[0, 4, 2]`` (0.9, 0.6, 0.4); (0, 1) rows ``[1, 6]``
(0.8, 0.3); (0, None) row ``[5]``; (1, 1) row ``[3]``.

The rows of cell (0, None) at t = 0.5, descending, two a page: the runs of
actual 0 are cut where confidence drops below 0.5 by one binary search each,
and the abstained rows are their tails plus the (0, None) run: ``[2]`` (0.4),
``[6]`` (0.3) and ``[5]`` (0.0), so ``total`` is 3 without a scan. Page 1
merges the runs' heads: rows ``[2, 6]``, ``has_next`` True, its cursor the key
of row 6, ``((TOP_BITS - bits(0.3)) << 32) | 6``. Page 2 starts each run after
that key, by binary search again: run ``[2]`` and run ``[6]`` have nothing
left, so page 2 is row ``[5]``, ``has_next`` False. The kept rows of (0, 0)
at t = 0.5 are the run's prefix ``[0, 4]``.
"""

from __future__ import annotations

import numpy as np

from evalql.engine.arrays import frozen, row_mask
from evalql.engine.confusion import as_threshold
from evalql.engine.index import ThresholdIndex, kept_in_run
from evalql.engine.jit import inline_jit, jit
from evalql.engine.select import (
    POSITION_BITS,
    TOP_BITS,
    Page,
    Predicate,
    confidence_bits,
    matches,
    order_key,
    page_of,
    predicate_arrays,
)


@inline_jit
def _bits_at(order, bits, j):
    # The confidence bits of the index's j-th row, read through its row number.
    return bits[order[j]]


@jit
def _first_at_or_below(order, bits, lo, hi, b):
    # bits[order[lo:hi]] is non-increasing (clamped at 0): first j with bits <= b.
    while lo < hi:
        mid = (lo + hi) >> 1
        if max(_bits_at(order, bits, mid), 0) > b:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit
def _first_below(order, bits, lo, hi, b):
    while lo < hi:
        mid = (lo + hi) >> 1
        if max(_bits_at(order, bits, mid), 0) >= b:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit
def _first_after(order, lo, hi, position):
    # order[lo:hi] is ascending (one confidence's rows): first j with order[j] > position.
    while lo < hi:
        mid = (lo + hi) >> 1
        if order[mid] <= position:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit
def _walk_cells(offsets, order, confidence, sample, n_labels, threshold, actual_ok, predicted_ok,
                relation, starts, ends):
    # The runs of matching rows: per index cell (a, p), the kept prefix
    # belongs to (a, p) at the threshold and the rest to (a, None). With
    # empty ``starts`` and ``ends`` it only counts them.
    size = n_labels + 1
    count = 0
    for a in range(size):
        if not actual_ok[a]:
            continue
        for p in range(size):
            lo = offsets[a * size + p]
            hi = offsets[a * size + p + 1]
            if hi == lo:
                continue
            cut = hi if p == n_labels else lo + kept_in_run(order, confidence, sample, lo, hi,
                                                            threshold)
            if cut > lo and matches(a, p, actual_ok, predicted_ok, relation, n_labels):
                count = _emit(starts, ends, count, lo, cut)
            if hi > cut and matches(a, n_labels, actual_ok, predicted_ok, relation, n_labels):
                count = _emit(starts, ends, count, cut, hi)
    return count


@inline_jit
def _emit(starts, ends, count, lo, hi):
    if starts.shape[0] > 0:
        starts[count] = lo
        ends[count] = hi
    return count + 1


@jit
def _segments(offsets, order, confidence, sample, n_labels, threshold, actual_ok, predicted_ok,
              relation):
    none = np.empty(0, dtype=np.int64)
    count = _walk_cells(offsets, order, confidence, sample, n_labels, threshold, actual_ok,
                        predicted_ok, relation, none, none)
    starts = np.empty(count, dtype=np.int64)
    ends = np.empty(count, dtype=np.int64)
    _walk_cells(offsets, order, confidence, sample, n_labels, threshold, actual_ok, predicted_ok,
                relation, starts, ends)
    return starts, ends


@jit
def _start(order, bits, lo, hi, descending, after, state):
    # Where a run's rows with a key above ``after`` begin. state = (cur, group
    # start, group end); cur = -1 when none is left. Descending walks the run
    # forward. Ascending walks its equal-confidence groups backward, each
    # forward, because ties go by position ascending in both orders.
    if after < 0:
        if descending:
            g0, g1, j = lo, hi, lo
        else:
            g1 = hi
            g0 = _first_at_or_below(order, bits, lo, hi, max(_bits_at(order, bits, hi - 1), 0))
            j = g0
    else:
        high = after >> 32
        b = TOP_BITS - high if descending else high
        g0 = _first_at_or_below(order, bits, lo, hi, b)
        g1 = _first_below(order, bits, g0, hi, b)
        j = _first_after(order, g0, g1, after & POSITION_BITS)
        if descending:
            g0, g1 = lo, hi
    state[0], state[1], state[2] = j, g0, g1
    _settle(order, bits, lo, hi, descending, state)


@jit
def _settle(order, bits, lo, hi, descending, state):
    # Past the end of the current group: move to the next one, if any.
    if state[0] < state[2]:
        return
    if descending or state[1] == lo:
        state[0] = -1
        return
    end = state[1]
    start = _first_at_or_below(order, bits, lo, end, max(_bits_at(order, bits, end - 1), 0))
    state[0], state[1], state[2] = start, start, end


@jit
def _heap_sift_down(keys, segs, size, i):
    while True:
        left, right, least = 2 * i + 1, 2 * i + 2, i
        if left < size and keys[left] < keys[least]:
            least = left
        if right < size and keys[right] < keys[least]:
            least = right
        if least == i:
            return
        keys[least], keys[i] = keys[i], keys[least]
        segs[least], segs[i] = segs[i], segs[least]
        i = least


@jit
def _merge_select(order, bits, starts, ends, descending, after, cap, mask, use_mask):
    k = starts.shape[0]
    state = np.empty((k, 3), dtype=np.int64)
    keys = np.empty(k, dtype=np.int64)
    segs = np.empty(k, dtype=np.int64)
    size = np.int64(0)  # not a literal 0, which would compile _heap_sift_down again
    for s in range(k):
        _start(order, bits, starts[s], ends[s], descending, after, state[s])
        j = state[s, 0]
        if j >= 0:
            keys[size] = order_key(_bits_at(order, bits, j), order[j], descending)
            segs[size] = s
            size += 1
    for i in range((size >> 1) - 1, -1, -1):
        _heap_sift_down(keys, segs, size, i)
    out = np.empty(cap, dtype=np.int64)
    n = 0
    while n < cap and size > 0:
        # Under a row mask, rows outside it are walked past: O(page / share kept).
        if not use_mask or mask[keys[0] & POSITION_BITS]:
            out[n] = keys[0]
            n += 1
        s = segs[0]
        state[s, 0] += 1
        _settle(order, bits, starts[s], ends[s], descending, state[s])
        j = state[s, 0]
        if j >= 0:
            keys[0] = order_key(_bits_at(order, bits, j), order[j], descending)
        else:
            size -= 1
            keys[0], segs[0] = keys[size], segs[size]
        _heap_sift_down(keys, segs, size, np.int64(0))
    return out[:n]


def select_from_index(
    index: ThresholdIndex,
    threshold: float,
    predicate: Predicate,
    descending: bool,
    after: int,
    limit: int,
    mask: np.ndarray | None = None,
) -> Page:
    """``select_by_scan`` ordered by confidence, answered from a threshold index.

    Only confidence orders: the index keeps each cell's rows by confidence.
    Cost O(k log N + limit log k) for the k runs the predicate touches (one for a
    cell with a prediction, up to K + 1 for an abstained cell), whatever the
    page's depth. ``total`` is the sum of the runs' lengths, the same numbers
    ``ThresholdIndex.counts_at`` adds into the confusion matrix.

    With a row ``mask`` (over the split's rows, which the index covers) the
    walk skips rows outside it, costing O(limit / share of rows kept), and
    ``total`` is -1: count it with ``matching_total`` on the view's matrix.
    """
    order = frozen(index.order, np.int32)
    confidence = frozen(index.confidence, np.float32)
    starts, ends = _segments(
        frozen(index.offsets, np.int64), order, confidence, frozen(index.sample, np.float32),
        index.n_labels, as_threshold(threshold), *predicate_arrays(predicate),
    )
    flags, use_mask = row_mask(mask, confidence.shape[0])
    keys = _merge_select(
        order, frozen(confidence_bits(confidence), np.int32), starts, ends,
        bool(descending), np.int64(after), limit + 1, flags, use_mask,
    )
    return page_of(keys, -1 if use_mask else int((ends - starts).sum()), limit)

