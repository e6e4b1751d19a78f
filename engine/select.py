"""Selecting the rows of a view in order: the rows behind every count, by scan.

Which rows match is a ``Predicate`` on each row's confusion cell at the
threshold: ``actual_ok[a] and predicted_ok[p] and relation(a, p)``, with
``a`` the actual code and ``p`` the prediction after abstention (index K =
None). A confusion cell, a label's false positives and "every wrong row" are
all predicates.

Rows come in a total order given by a 64-bit key, ``(sort << 32) | position``
(``order_key``): ``sort`` is the confidence's float32 bit pattern (monotone
for confidences in [0, 1]), flipped for descending order, or a row's rank by
id. Ties are thus broken by position in the split, and a page continues after
the key of the last row it returned (keyset paging): a deep page costs what a
first page costs, and walking every page returns each row exactly once.

Two ways to find a page, with the same keys and so the same pages:

- ``select_by_scan`` (here) scans the columns once (under a row mask),
  keeping the best ``limit`` keys after the cursor in a bounded heap per range
  of rows (one range per core), then merging the heaps: O(N), with no N-sized
  temporary. It serves orders the index does not keep (by id) and label sets
  too large for an index; ``select_flagged`` does the same for rows already
  matched (a multilabel view's).
- ``engine.select_index.select_from_index`` walks a ``ThresholdIndex``:
  O(k log N + page log k), no scan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import columns, frozen, row_mask
from evalql.engine.confusion import as_threshold, cell_of
from evalql.engine.jit import inline_jit, jit, map_rows

ANY_RELATION = 0
SAME_LABEL = 1  # a label was predicted and it is the actual label
OTHER_LABEL = 2  # a label was predicted and the actual is another label

NO_CURSOR = -1  # every key is >= 0, so "after -1" is the first page
TOP_BITS = 0x7FFFFFFF  # the highest sort bits: a descending key's sort is TOP_BITS - bits
POSITION_BITS = 0xFFFFFFFF  # a key's low half: the row's position
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
def order_key(bits, position, descending):
    # -0.0 has the sign bit set; it equals 0.0, so it sorts as 0.0.
    b = max(np.int64(bits), np.int64(0))
    high = TOP_BITS - b if descending else b
    return (high << 32) | np.int64(position)


@inline_jit
def matches(a, p, actual_ok, predicted_ok, relation, n_labels):
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
        hit = matches(a, p, actual_ok, predicted_ok, relation, n_labels)
        if use_mask:
            hit &= mask[i]
        total += hit
        key = order_key(sort_bits[i], i, descending)
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
        as_threshold(threshold), predicate.n_labels, *predicate_arrays(predicate),
        bool(descending), np.int64(after), limit + 1,
    )
    return page_of(*_merge_heaps(parts, limit + 1), limit)


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
        key = order_key(sort_bits[i], i, descending)
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
    a multilabel view's (``engine.multilabel.rows.match_rows`` flags them). The
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
    return page_of(*_merge_heaps(parts, limit + 1), limit)


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


def predicate_arrays(predicate: Predicate) -> tuple[np.ndarray, np.ndarray, int]:
    """A predicate as the kernels take it: (actual_ok, predicted_ok, relation)."""
    return (
        frozen(predicate.actual_ok, np.bool_),
        frozen(predicate.predicted_ok, np.bool_),
        int(predicate.relation),
    )


def page_of(keys: np.ndarray, total: int, limit: int) -> Page:
    """The ``Page`` of ``limit`` rows from ``limit + 1`` keys (or fewer): the
    extra key only says that more follow."""
    shown = keys[:limit]
    rows = (shown & POSITION_BITS).astype(np.int32)
    return Page(rows=rows, keys=shown, total=total, has_next=len(keys) > limit)

