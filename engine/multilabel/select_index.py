"""A label's drill-down page by walking the ``LabelSetIndex``, without a scan.

``LabelMetrics.rows(outcome:)`` orders a label's TP, FP, FN or TN rows by
the label's own confidence (0 where the row does not predict it), keys as
``engine.select.order_key`` makes them: (confidence, position) descending or
ascending, so its cursors are those of the scan (``select_flagged``). In key
order the rows are:

- descending: the label's run in the index (predictions with confidence > 0,
  by confidence descending, ties by position: exactly key order), then every
  row whose label confidence is 0, by position;
- ascending: the rows of confidence 0 by position, then the run backwards,
  each stretch of equal confidence forwards (ties by position).

A kept outcome (TP, FP) walks only the run's kept prefix (confidence >= t,
found by binary search), the others only the rest of it and the rows of
confidence 0; descending, a block of the run whose checkpoints say it holds
no match (FP rows sit at the low end of a frequent label's run) is stepped
over whole. Each row on the way is tested (is the label actual, is it kept
at the threshold) until ``limit + 1`` rows match. A page costs the rows walked up
to its last match: a few hundred for a label's common outcomes, up to the
whole split for one so rare that it has fewer than a page of rows (bounded
by the scan's N, never worse).
"""

from __future__ import annotations

import numpy as np

from evalql.engine.arrays import frozen
from evalql.engine.confusion import as_threshold
from evalql.engine.index import kept_prefix
from evalql.engine.jit import count_rows, inline_jit, jit
from evalql.engine.multilabel.columns import csr_arrays
from evalql.engine.multilabel.index import LabelSetIndex
from evalql.engine.select import NO_CURSOR, TOP_BITS, Page, order_key, page_of


@inline_jit
def _label_bits(i, predicted_offsets, predicted_codes, confidence_bits, label):
    # Row i's confidence of ``label`` as sort bits; 0 when it does not predict it.
    for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
        if predicted_codes[j] == label:
            return max(np.int64(confidence_bits[j]), np.int64(0))
    return np.int64(0)


@inline_jit
def _passes(i, actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
            threshold, label, actual_is, kept_is):
    # Is ``label`` actual in row i as asked, and kept at the threshold as asked?
    actual = False
    for j in range(actual_offsets[i], actual_offsets[i + 1]):
        if actual_codes[j] == label:
            actual = True
            break
    if actual != actual_is:
        return False
    kept = False
    for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
        if predicted_codes[j] == label:
            kept = confidence[j] >= threshold
            break
    return kept == kept_is


@jit
def _walk_label(run_conf, run_bits, run_rows, actual_in, block, actual_offsets, actual_codes,
                predicted_offsets, predicted_codes, confidence, confidence_bits, threshold,
                label, actual_is, kept_is, descending, after, cap, most):
    keys = np.empty(cap, dtype=np.int64)
    found = 0
    walked = 0
    n_rows = actual_offsets.shape[0] - 1
    # The run's entries with confidence > 0 are its prefix [0, z); the kept
    # ones (confidence >= t) its prefix [0, b). A kept outcome is found only
    # in [0, b), the others only in [b, z): the walk skips the other part
    # (FN and TN of a frequent label would otherwise step over millions of
    # kept predictions first).
    z = run_bits.shape[0]
    while z > 0 and run_bits[z - 1] <= 0:
        z -= 1
    b = min(kept_prefix(run_conf, 0, run_conf.shape[0], threshold), z)
    first, last = (0, b) if kept_is else (b, z)
    for phase in range(2):
        in_run = (phase == 0) == descending
        if in_run:
            m = first if descending else last - 1
            while (m < last if descending else m >= first) and found < cap and found < most:
                if descending:
                    # A whole block the checkpoints say holds no match
                    # (actual_in[b]: entries of the run's first b blocks
                    # with the label actual) is stepped over.
                    b = m // block
                    if m % block == 0 and m + block <= last and b + 1 < actual_in.shape[0]:
                        hits = actual_in[b + 1] - actual_in[b]
                        if hits == (0 if actual_is else block):
                            m += block
                            continue
                    s, e = m, m + 1
                    m += 1
                else:
                    # A stretch of equal confidence, walked forwards.
                    s = m
                    while s > first and run_bits[s - 1] == run_bits[m]:
                        s -= 1
                    e = m + 1
                    m = s - 1
                for q in range(s, e):
                    i = run_rows[q]
                    key = order_key(run_bits[q], i, descending)
                    if key <= after or found >= cap:
                        continue
                    walked += 1
                    if _passes(i, actual_offsets, actual_codes, predicted_offsets,
                               predicted_codes, confidence, threshold, label, actual_is,
                               kept_is):
                        keys[found] = key
                        found += 1
        elif not (kept_is and threshold > 0):  # rows of confidence 0 are kept only at t <= 0
            start = 0
            zero_high = np.int64(TOP_BITS) if descending else np.int64(0)
            if after >= 0 and (after >> 32) == zero_high:
                start = (after & 0xFFFFFFFF) + 1
            elif after >= 0 and not descending:
                start = n_rows  # the cursor is past the zero rows
            for i in range(start, n_rows):
                if found >= cap or found >= most:
                    break
                if _label_bits(i, predicted_offsets, predicted_codes, confidence_bits,
                               label) != 0:
                    continue  # in the run
                walked += 1
                if _passes(i, actual_offsets, actual_codes, predicted_offsets,
                           predicted_codes, confidence, threshold, label, actual_is,
                           kept_is):
                    keys[found] = (zero_high << 32) | np.int64(i)
                    found += 1
    return keys[:found].copy(), walked


def label_rows_from_index(
    index: LabelSetIndex,
    label: int,
    actual_is: bool,
    kept_is: bool,
    threshold: float,
    descending: bool,
    after: int,
    limit: int,
    total: int,
) -> Page:
    """Label ``label``'s rows where it is actual (or not) and kept at
    ``threshold`` (or not), after cursor ``after``, ordered by its confidence:
    the page ``select_flagged(match_rows(...), label_confidence(...))`` gives,
    keys and cursors included. ``total`` is how many rows match in all (the
    label's TP, FP, FN or TN); a first page stops once it has found them all.

    Example: for a label with predictions at confidences 0.9 (row 2, actual)
    and 0.4 (row 0, not actual), its TP at t = 0.5 descending is row ``[2]``.
    """
    lo, hi = int(index.run_offsets[label]), int(index.run_offsets[label + 1])
    first = int(index.checkpoint_offsets[label])
    last = int(index.checkpoint_offsets[label + 1])
    actual_in = np.ascontiguousarray(index.checkpoints[first:last, label], dtype=np.int64)
    run_conf = frozen(index.conf[lo:hi], np.float32)
    run_rows = frozen(index.rows[lo:hi], np.int32)
    arrays = csr_arrays(index.columns)
    most = total if after == NO_CURSOR else limit + 1
    keys, walked = _walk_label(
        run_conf, run_conf.view(np.int32), run_rows, frozen(actual_in, np.int64),
        np.int64(index.block), *arrays, arrays[4].view(np.int32),
        as_threshold(threshold), np.int32(label), bool(actual_is), bool(kept_is), bool(descending),
        np.int64(after), limit + 1, max(most, 0),
    )
    # Counted after the walk, unlike a scan (counted before it starts): how
    # many rows a walk reads is known only once it has found its page, and
    # it is at most the split's N, what a scan would have counted up front.
    count_rows(int(walked))
    return page_of(keys, total, limit)
