"""Selecting the rows of a view in order: the rows behind every count.

Which rows match is a ``Predicate`` on each row's confusion cell at the
threshold: ``actual_ok[a] and predicted_ok[p] and relation(a, p)``, with
``a`` the actual code and ``p`` the prediction after abstention (index K =
None). A confusion cell, a label's false positives and "every wrong row" are
all predicates.

Rows come in a total order given by a 64-bit key, ``(sort << 32) | position``:
``sort`` is the confidence's float32 bit pattern (monotone for confidences in
[0, 1]), flipped for descending order, or a row's rank by id. Ties are thus
broken by position in the split, and a page continues after the key of the
last row it returned (keyset paging): a deep page costs what a first page
costs, and walking every page returns each row exactly once.

Two ways to find a page:

- ``select_from_index`` walks a ``ThresholdIndex``. The rows of a cell at
  threshold t are a prefix of the cell's run (kept) or suffixes of runs plus
  the (a, None) run (abstained), each already in confidence order, so a page
  is a k-way merge of sorted runs that starts with one binary search per run:
  O(k log N + page log k), no scan. Under a row mask the walk steps over the
  rows outside it: O(page / share of rows kept).
- ``select_by_scan`` scans the columns once (under a row mask), keeping the
  best ``limit`` keys after the cursor in a bounded heap per range of rows
  (one range per core), then merging the heaps: O(N), with no N-sized
  temporary. It serves orders the index does not keep (by
  id) and label sets too large for an index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import columns, frozen, row_mask
from evalql.engine.index import ThresholdIndex, kept_prefix
from evalql.engine.jit import inline_jit, jit, map_rows, sum_rows
from evalql.engine.kernels import as_threshold, cell_of

ANY_RELATION = 0
SAME_LABEL = 1  # a label was predicted and it is the actual label
OTHER_LABEL = 2  # a label was predicted and the actual is another label

NO_CURSOR = -1  # every key is >= 0, so "after -1" is the first page
_TOP = 0x7FFFFFFF
_POSITION_BITS = 0xFFFFFFFF
_NO_KEY = 0x7FFFFFFFFFFFFFFF  # above every key


@dataclass(frozen=True)
class Predicate:
    """Which rows match: ``actual_ok[a] and predicted_ok[p] and relation(a, p)``.

    ``actual_ok`` and ``predicted_ok`` are bool arrays of length K + 1 (index
    K = None); ``p`` is the prediction at the view's threshold.
    """

    actual_ok: np.ndarray
    predicted_ok: np.ndarray
    relation: int = ANY_RELATION

    @classmethod
    def every(cls, n_labels: int) -> Predicate:
        """Every row."""
        return cls(np.ones(n_labels + 1, dtype=np.bool_), np.ones(n_labels + 1, dtype=np.bool_))

    @property
    def n_labels(self) -> int:
        return self.actual_ok.shape[0] - 1

    def fingerprint(self) -> bytes:
        """Bytes that differ between predicates matching differently."""
        return self.actual_ok.tobytes() + self.predicted_ok.tobytes() + bytes([self.relation])


@dataclass(frozen=True)
class Page:
    """Rows after a cursor, in order, and how many rows match in all."""

    rows: np.ndarray  # int32 positions in the split
    keys: np.ndarray  # int64 order keys, ascending; a cursor is one of them
    total: int  # every matching row, not only those after the cursor
    has_next: bool


# --- shared pieces -----------------------------------------------------------


@inline_jit
def _key(bits, position, descending):
    # -0.0 has the sign bit set; it equals 0.0, so it sorts as 0.0.
    b = max(np.int64(bits), np.int64(0))
    high = _TOP - b if descending else b
    return (high << 32) | np.int64(position)


@inline_jit
def _matches(a, p, actual_ok, predicted_ok, relation, n_labels):
    # Branch-free: short-circuit branches on random data mispredict, which
    # made a scan four times slower than the arithmetic.
    labeled = (a < n_labels) & (p < n_labels)
    related = (
        (relation == ANY_RELATION)
        | ((relation == SAME_LABEL) & (a == p) & labeled)
        | ((relation == OTHER_LABEL) & (a != p) & labeled)
    )
    return actual_ok[a] & predicted_ok[p] & related


@jit
def _heap_push_bounded(heap, size, key):
    """Keep the ``len(heap)`` smallest keys in a max-heap; returns the new size."""
    cap = heap.shape[0]
    if size < cap:
        i = size
        heap[i] = key
        while i > 0:
            parent = (i - 1) >> 1
            if heap[parent] >= heap[i]:
                break
            heap[parent], heap[i] = heap[i], heap[parent]
            i = parent
        return size + 1
    if key >= heap[0]:
        return size
    heap[0] = key
    i = 0
    while True:
        left, right, largest = 2 * i + 1, 2 * i + 2, i
        if left < cap and heap[left] > heap[largest]:
            largest = left
        if right < cap and heap[right] > heap[largest]:
            largest = right
        if largest == i:
            return size
        heap[largest], heap[i] = heap[i], heap[largest]
        i = largest


# --- the scan ----------------------------------------------------------------


@inline_jit
def _offer(heap, size, key, cap):
    # Push into a range's bounded heap; once full, its top is the key to beat.
    size = _heap_push_bounded(heap, size, key)
    return size, heap[0] if size == cap else _NO_KEY


@jit
def _scan_select(
    actual, predicted, confidence, sort_bits, mask, use_mask, threshold, n_labels,
    actual_ok, predicted_ok, relation, descending, after, cap, lo, hi,
):
    # Rows lo .. hi-1: their best ``cap`` keys after ``after`` (unsorted) and
    # how many rows match.
    heap = np.empty(cap, dtype=np.int64)
    size = np.int64(0)  # not a literal 0, which would compile _heap_push_bounded twice
    total = 0
    worst = _NO_KEY  # the heap's largest key once it is full
    for i in range(lo, hi):
        # One branch a row: the tests are arithmetic, as in _matches.
        a, p = cell_of(actual, predicted, confidence, i, threshold, n_labels)
        hit = _matches(a, p, actual_ok, predicted_ok, relation, n_labels)
        if use_mask:
            hit &= mask[i]
        total += hit
        key = _key(sort_bits[i], i, descending)
        if hit & (key > after) & (key < worst):
            size, worst = _offer(heap, size, key, cap)
    return heap[:size], total


def _merge_heaps(parts: list[tuple[np.ndarray, int]], cap: int) -> tuple[np.ndarray, int]:
    """The page's keys from the ranges' heaps: the best ``cap`` of their union,
    in key order (keys are distinct, so any cut into ranges gives the same),
    and the ranges' matching rows added up."""
    keys = np.sort(np.concatenate([heap for heap, _ in parts]))[:cap]
    return keys, sum(int(total) for _, total in parts)


def select_by_scan(
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    sort_bits: np.ndarray,
    threshold: float,
    predicate: Predicate,
    descending: bool,
    after: int,
    limit: int,
    mask: np.ndarray | None = None,
) -> Page:
    """The first ``limit`` matching rows with a key above ``after``, by one scan.

    Parameters
    ----------
    actual, predicted : int32 label codes, ``-1`` = None.
    confidence : float32, the confidence of ``predicted``.
    sort_bits : int32, what rows are ordered by: ``confidence_bits(confidence)``
        or a rank (e.g. by id); ties go by position.
    threshold : a prediction with ``confidence < threshold`` counts as None.
    predicate : which rows match.
    descending : order by ``sort_bits`` descending (then position ascending).
    after : the key of the last row of the previous page, or ``NO_CURSOR``.
    limit : rows per page, >= 1.
    mask : optional bool row filter.

    Returns
    -------
    Page : rows and keys in order, the number of matching rows, and whether
        more follow.

    Example: codes ``[0, 0, 1]``, confidences ``[0.5, 0.9, 0.7]``, every row,
    descending, limit 2 gives rows ``[1, 2]`` and ``has_next`` True.

    Notes
    -----
    An empty selection gives an empty page with ``total`` 0.
    """
    actual, predicted, confidence = columns(actual, predicted, confidence)
    n = actual.shape[0]
    sort_bits = _sort_bits(sort_bits, n)
    flags, use_mask = row_mask(mask, n)
    parts = map_rows(
        _scan_select, n, actual, predicted, confidence, sort_bits, flags, use_mask,
        as_threshold(threshold), predicate.n_labels, *_cells(predicate),
        bool(descending), np.int64(after), limit + 1,
    )
    return _page(*_merge_heaps(parts, limit + 1), limit)


@jit
def _flagged_select(flags, sort_bits, descending, after, cap, lo, hi):
    # ``_scan_select`` with the match already decided per row.
    heap = np.empty(cap, dtype=np.int64)
    size = np.int64(0)  # not a literal 0, which would compile _heap_push_bounded twice
    total = 0
    worst = _NO_KEY
    for i in range(lo, hi):
        hit = flags[i]
        total += hit
        key = _key(sort_bits[i], i, descending)
        if hit & (key > after) & (key < worst):
            size, worst = _offer(heap, size, key, cap)
    return heap[:size], total


def select_flagged(
    flags: np.ndarray,
    sort_bits: np.ndarray,
    descending: bool,
    after: int,
    limit: int,
) -> Page:
    """``select_by_scan`` for rows already matched: the first ``limit`` rows
    where ``flags`` holds with a key above ``after``.

    For selections a ``Predicate`` on confusion cells cannot express, such as
    a multilabel view's (``engine.multilabel.match_rows`` flags them). The
    keys, hence the cursors and the order (``sort_bits``, ties by position),
    are those of ``select_by_scan``.

    Example: flags ``[True, False, True]``, sort bits of ``[0.5, 0.9, 0.7]``,
    descending, limit 1 gives row ``[2]``, ``total`` 2 and ``has_next`` True.
    """
    flags = frozen(flags, np.bool_)
    n = flags.shape[0]
    parts = map_rows(
        _flagged_select, n, flags, _sort_bits(sort_bits, n, "flags"), bool(descending),
        np.int64(after), limit + 1,
    )
    return _page(*_merge_heaps(parts, limit + 1), limit)


# --- the index walk ----------------------------------------------------------


@jit
def _first_at_or_below(bits, lo, hi, b):
    # bits[lo:hi] is non-increasing (clamped at 0): first j with bits[j] <= b.
    while lo < hi:
        mid = (lo + hi) >> 1
        if max(bits[mid], 0) > b:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit
def _first_below(bits, lo, hi, b):
    while lo < hi:
        mid = (lo + hi) >> 1
        if max(bits[mid], 0) >= b:
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
def _walk_cells(offsets, sorted_conf, n_labels, threshold, actual_ok, predicted_ok, relation,
                starts, ends):
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
            cut = hi if p == n_labels else lo + kept_prefix(sorted_conf, lo, hi, threshold)
            if cut > lo and _matches(a, p, actual_ok, predicted_ok, relation, n_labels):
                count = _emit(starts, ends, count, lo, cut)
            if hi > cut and _matches(a, n_labels, actual_ok, predicted_ok, relation, n_labels):
                count = _emit(starts, ends, count, cut, hi)
    return count


@inline_jit
def _emit(starts, ends, count, lo, hi):
    if starts.shape[0] > 0:
        starts[count] = lo
        ends[count] = hi
    return count + 1


@jit
def _segments(offsets, sorted_conf, n_labels, threshold, actual_ok, predicted_ok, relation):
    none = np.empty(0, dtype=np.int64)
    count = _walk_cells(offsets, sorted_conf, n_labels, threshold, actual_ok, predicted_ok,
                        relation, none, none)
    starts = np.empty(count, dtype=np.int64)
    ends = np.empty(count, dtype=np.int64)
    _walk_cells(offsets, sorted_conf, n_labels, threshold, actual_ok, predicted_ok, relation,
                starts, ends)
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
            g0 = _first_at_or_below(bits, lo, hi, max(bits[hi - 1], 0))
            j = g0
    else:
        high = after >> 32
        b = _TOP - high if descending else high
        g0 = _first_at_or_below(bits, lo, hi, b)
        g1 = _first_below(bits, g0, hi, b)
        j = _first_after(order, g0, g1, after & _POSITION_BITS)
        if descending:
            g0, g1 = lo, hi
    state[0], state[1], state[2] = j, g0, g1
    _settle(bits, lo, hi, descending, state)


@jit
def _settle(bits, lo, hi, descending, state):
    # Past the end of the current group: move to the next one, if any.
    if state[0] < state[2]:
        return
    if descending or state[1] == lo:
        state[0] = -1
        return
    end = state[1]
    start = _first_at_or_below(bits, lo, end, max(bits[end - 1], 0))
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
            keys[size] = _key(bits[j], order[j], descending)
            segs[size] = s
            size += 1
    for i in range((size >> 1) - 1, -1, -1):
        _heap_sift_down(keys, segs, size, i)
    out = np.empty(cap, dtype=np.int64)
    n = 0
    while n < cap and size > 0:
        # Under a row mask, rows outside it are walked past: O(page / share kept).
        if not use_mask or mask[keys[0] & _POSITION_BITS]:
            out[n] = keys[0]
            n += 1
        s = segs[0]
        state[s, 0] += 1
        _settle(bits, starts[s], ends[s], descending, state[s])
        j = state[s, 0]
        if j >= 0:
            keys[0] = _key(bits[j], order[j], descending)
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
    sorted_conf = frozen(index.sorted_conf, np.float32)
    starts, ends = _segments(
        frozen(index.offsets, np.int64), sorted_conf, index.n_labels,
        as_threshold(threshold), *_cells(predicate),
    )
    order = frozen(index.order, np.int32)
    flags, use_mask = row_mask(mask, order.shape[0])
    keys = _merge_select(
        order, frozen(confidence_bits(sorted_conf), np.int32), starts, ends,
        bool(descending), np.int64(after), limit + 1, flags, use_mask,
    )
    return _page(keys, -1 if use_mask else int((ends - starts).sum()), limit)


def matching_total(counts: np.ndarray, predicate: Predicate) -> int:
    """How many rows of a (K+1)x(K+1) confusion matrix ``predicate`` matches.

    Example: for ``Predicate.every(k)`` it is ``counts.sum()``.
    """
    size = counts.shape[0]
    codes = np.arange(size)
    same = codes[:, None] == codes[None, :]
    labeled = (codes[:, None] < size - 1) & (codes[None, :] < size - 1)
    cells = predicate.actual_ok[:, None] & predicate.predicted_ok[None, :]
    if predicate.relation == SAME_LABEL:
        cells &= same & labeled
    elif predicate.relation == OTHER_LABEL:
        cells &= ~same & labeled
    return int(counts[cells].sum())


# --- comparisons -------------------------------------------------------------


@inline_jit
def _right(actual, predicted, confidence, threshold, i):
    # Arithmetic, not short-circuit branches (see _matches).
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
    return _page(keys, -1, limit)


# --- helpers -----------------------------------------------------------------


def confidence_bits(confidence: np.ndarray) -> np.ndarray:
    """The float32 confidences' bit patterns as int32, a zero-copy view.

    For values in [0, 1] they order as the values do (-0.0 aside, which the
    kernels read as 0.0), so they serve as sort keys.
    """
    return np.asarray(confidence, dtype=np.float32).view(np.int32)


def _sort_bits(sort_bits: np.ndarray, n: int, rows: str = "the columns") -> np.ndarray:
    # A kernel reads sort_bits[i] for every row: a shorter one would overrun.
    bits = frozen(sort_bits, np.int32)
    if bits.shape != (n,):
        raise ValueError(f"{rows} and sort_bits have to be the same length")
    return bits


def _cells(predicate: Predicate) -> tuple[np.ndarray, np.ndarray, int]:
    """A predicate as the kernels take it: (actual_ok, predicted_ok, relation)."""
    return (
        frozen(predicate.actual_ok, np.bool_),
        frozen(predicate.predicted_ok, np.bool_),
        int(predicate.relation),
    )


def _join(join: np.ndarray | None) -> tuple[bool, np.ndarray]:
    return join is not None, frozen(join, np.int32)


def _page(keys: np.ndarray, total: int, limit: int) -> Page:
    shown = keys[:limit]
    rows = (shown & _POSITION_BITS).astype(np.int32)
    return Page(rows=rows, keys=shown, total=total, has_next=len(keys) > limit)

