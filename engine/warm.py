"""Every kernel, warmed group by group, in the order a front-end needs them.

A group is one engine module (``multilabel.counts`` for a module of a
package), so a request waits only for the kernels of the modules it calls.
Warming a group calls its public functions on tiny arrays of the served dtypes
and layout (int32 codes, float32 confidences, read-only as the store hands
them out), so Numba compiles, or loads from its cache, every specialisation
serving will ask for.

``python -m evalql.engine.warm`` is the compile process a server starts: it
warms every group, filling Numba's on-disk cache, and prints one line per
group (``ready NAME SECONDS COMPILED``, COMPILED counting the functions
Numba compiled rather than loaded from its cache). A name written to its stdin moves that group
to the front, so a request waiting for one kernel does not wait for the rest.
Compiling holds the GIL, so it runs in its own process, never in the server.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # kernel modules are imported by their group only
    from evalql.engine.multilabel.columns import LabelSets


def _readonly(*arrays: np.ndarray) -> None:
    for array in arrays:
        array.flags.writeable = False


def _columns(n: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    codes, confidence = np.zeros(n, np.int32), np.ones(n, np.float32)
    _readonly(codes, confidence)
    return codes, codes, confidence


def _mask(n: int = 4) -> np.ndarray:
    mask = np.ones(n, bool)
    _readonly(mask)
    return mask


def _warm_confusion() -> None:
    from evalql.engine.confusion import confusion_counts, label_totals

    actual, predicted, confidence = _columns()
    for rows in (None, _mask()):
        confusion_counts(actual, predicted, confidence, 0.5, 1, rows)
        label_totals(actual, predicted, confidence, 0.5, 1, rows)


def _warm_cells() -> None:
    from evalql.engine.cells import largest_cells, rows_by_actual, sparse_confusion

    groups = rows_by_actual(*_columns(), 1)
    for rows in (None, _mask()):
        largest_cells(sparse_confusion(groups, 0.5, 1, rows), np.arange(2), 1, False, 1)


def _warm_index() -> None:
    from evalql.engine.index import ThresholdIndex

    actual, predicted, confidence = _columns()
    ThresholdIndex.build(actual, predicted, confidence, 1).counts_at(np.float32(0.5))


def _warm_curves() -> None:
    from evalql.engine.curves import (
        confusion_counts_at,
        grid,
        index_threshold_counts,
        threshold_counts,
    )
    from evalql.engine.index import ThresholdIndex

    actual, predicted, confidence = _columns()
    thresholds = grid(3)
    index_threshold_counts(ThresholdIndex.build(actual, predicted, confidence, 1), thresholds)
    for rows in (None, _mask()):
        threshold_counts(actual, predicted, confidence, thresholds, 1, rows)
        confusion_counts_at(actual, predicted, confidence, thresholds, 1, rows)


def _warm_select_index() -> None:
    from evalql.engine.index import ThresholdIndex
    from evalql.engine.select import NO_CURSOR, Predicate
    from evalql.engine.select_index import select_from_index

    actual, predicted, confidence = _columns()
    index = ThresholdIndex.build(actual, predicted, confidence, 1)
    for rows in (None, _mask()):
        select_from_index(index, 0.5, Predicate.every(1), True, NO_CURSOR, 2, rows)


def _warm_select() -> None:
    from evalql.engine import select

    actual, predicted, confidence = _columns()
    mask = _mask()
    every = select.Predicate.every(1)
    bits = select.confidence_bits(confidence)
    start = select.NO_CURSOR
    for rows in (None, mask):
        select.select_by_scan(actual, predicted, confidence, bits, 0.5, every, True, start, 2,
                              rows)
    select.select_flagged(mask, bits, True, start, 2)


def _warm_compare() -> None:
    from evalql.engine import compare
    from evalql.engine.select import NO_CURSOR

    columns = compare.Columns(*_columns())
    for ok in (None, np.ones(3, np.bool_)):
        for mask in (None, _mask()):
            judged = compare.verdicts(columns, 0.5, ok, mask)
    for join in (None, np.zeros(len(judged), np.int32)):
        compare.count_changes(judged, judged, join)
        compare.changed_rows(judged, judged, join, compare.FIXED, NO_CURSOR, 2)


def _warm_histogram() -> None:
    from evalql.engine import histogram
    from evalql.engine.index import ThresholdIndex

    actual, predicted, confidence = _columns()
    every = np.ones(2, dtype=bool)
    edges = np.linspace(0.0, 1.0, 3)
    index = ThresholdIndex.build(actual, predicted, confidence, 1)
    histogram.index_confidence_histogram(index, edges, every)
    for rows in (None, _mask()):
        histogram.confidence_histogram(actual, predicted, confidence, edges, every, rows)


def _warm_breakdown() -> None:
    from evalql.engine import breakdown
    from evalql.engine.arrays import RowTest

    actual, predicted, confidence = _columns()
    mask = _mask()
    every = np.ones(2, dtype=bool)
    edges = np.linspace(0.0, 1.0, 3)
    for rows in (None, mask):
        breakdown.code_counts(actual, 1, actual, every, rows)
        breakdown.confusion_by_code(actual, 1, actual, predicted, confidence, 0.5, 1, rows)
        for values in (np.zeros(4, np.int64), np.zeros(4, np.float64)):
            for valid in (None, mask):
                breakdown.value_range(values, valid, actual, every, rows)
                breakdown.binned_counts(values, valid, edges, actual, every, rows)
                breakdown.confusion_by_bin(values, valid, edges, actual, predicted,
                                           confidence, 0.5, 1, rows)
    # A view's filter tested inside the breakdown's scan (api/views/multiclass.py).
    test = RowTest.of_mask(mask)
    breakdown.confusion_by_code(actual, 1, actual, predicted, confidence, 0.5, 1, test)
    for values in (np.zeros(4, np.int64), np.zeros(4, np.float64)):
        for valid in (None, mask):
            breakdown.confusion_by_bin(values, valid, edges, actual, predicted, confidence,
                                       0.5, 1, test)


def _label_sets() -> LabelSets:
    from evalql.engine.multilabel.columns import LabelSets

    # Two rows in CSR form: actual {0}, predicted {0: 0.9}; actual {},
    # predicted {0: 0.1}.
    sets = LabelSets(
        actual_offsets=np.array([0, 1, 1], np.int64),
        actual_codes=np.zeros(1, np.int32),
        predicted_offsets=np.array([0, 1, 2], np.int64),
        predicted_codes=np.zeros(2, np.int32),
        predicted_confidence=np.array([0.9, 0.1], np.float32),
    )
    _readonly(*vars(sets).values())
    return sets


def _warm_multilabel_counts() -> None:
    from evalql.engine.multilabel.counts import multilabel_counts

    sets = _label_sets()
    for rows in (None, _mask(2)):
        multilabel_counts(sets, 0.5, 1, rows, matrix=True)


def _warm_multilabel_index() -> None:
    from evalql.engine.multilabel.index import LabelSetIndex

    index = LabelSetIndex.build(_label_sets(), 1)
    assert index is not None
    index.counts_at(0.5)


def _warm_multilabel_rows() -> None:
    from evalql.engine.multilabel import rows as ml_rows

    sets = _label_sets()
    for rows in (None, _mask(2)):
        ml_rows.match_rows(sets, 0.5, 1, ml_rows.RowTests(exact=True), rows)
    ml_rows.label_confidence(sets, 0)
    ml_rows.top_confidence(sets, 0.5)


def _warm_multilabel_select_index() -> None:
    from evalql.engine.multilabel.index import LabelSetIndex
    from evalql.engine.multilabel.select_index import label_rows_from_index

    index = LabelSetIndex.build(_label_sets(), 1)
    assert index is not None
    for descending in (True, False):
        label_rows_from_index(index, 0, True, True, 0.5, descending, -1, 1, 1)


def _warm_multilabel_curves() -> None:
    from evalql.engine.multilabel.curves import multilabel_threshold_counts, pair_histogram

    sets = _label_sets()
    edges = np.linspace(0.0, 1.0, 3)
    for rows in (None, _mask(2)):
        multilabel_threshold_counts(sets, np.array([0.0, 1.0]), 1, rows)
        pair_histogram(sets, edges, 1, rows)


def _warm_multilabel_ranking() -> None:
    from evalql.engine.multilabel.ranking import (
        label_precision_steps,
        label_steps,
        rank_label_sets,
        rank_label_sets_by_scores,
    )

    sets = _label_sets()
    scores = np.full((2, 1), 0.5, dtype=np.float32)
    _readonly(scores)
    for rows in (None, _mask(2)):
        rank_label_sets(sets, [0], 1, rows)
        label_precision_steps(sets, 0, rows)
        rank_label_sets_by_scores(sets, scores, [0], rows)
        label_steps(sets, 0, rows, scores)


def _warm_ranking() -> None:
    from evalql.engine import ranking

    actual, predicted, confidence = _columns()
    scores = np.full((4, 1), 0.5, dtype=np.float32)
    _readonly(scores)
    for rows in (None, _mask()):
        ranking.rank_by_scores(scores, actual, np.array([0]), rows)
        ranking.rank_by_confidence(actual, predicted, confidence, np.array([0]), 1, rows)
        steps = ranking.confidence_steps(actual, predicted, confidence, np.array([0]), 1, rows)
        ranking.ranking_of_steps(ranking.merge_ranking_steps(steps, steps))
        ranking.precision_steps(actual, predicted, confidence, 0, rows)
        ranking.top_k_hits(scores, actual, 1, rows)


def _warm_multilabel_calibration() -> None:
    from evalql.engine.multilabel.calibration import pair_reliability, pair_score_losses

    sets = _label_sets()
    scores = np.full((2, 1), 0.5, dtype=np.float32)
    _readonly(scores)
    for rows in (None, _mask(2)):
        pair_reliability(sets, scores, 2, None, rows)
        pair_score_losses(sets, scores, None, rows)


def _warm_calibration() -> None:
    from evalql.engine import calibration

    actual, predicted, confidence = _columns()
    scores = np.full((4, 2), 0.5, dtype=np.float32)
    _readonly(scores)
    for rows in (None, _mask()):
        calibration.reliability_from_confidence(actual, predicted, confidence, 1, 2, 0.5,
                                                None, rows)
        calibration.reliability_from_scores(scores, actual, 2, None, rows)
        calibration.score_losses(scores, actual, None, rows)


def _warm_score_curves() -> None:
    from evalql.engine.score_curves import steps_from_confidence, steps_from_scores

    actual = _columns()[0]
    scores = np.full((4, 1), 0.5, dtype=np.float32)
    _readonly(scores)
    for rows in (None, _mask()):
        steps_from_scores(scores, actual, 0, rows)
        steps_from_confidence(*_columns(), 0, rows)


def _warm_resample() -> None:
    from evalql.engine.resample import resample_counts

    # Row by row (few rows), binomials (few cells), Poisson variates (many of both).
    for counts in (np.ones((2, 2)), np.full((2, 2), 1000), np.full((10, 10), 100)):
        resample_counts(counts.astype(np.int64), None, 1, 0)


# In the order a metrics page asks for them: its counts (by scan, then from
# the index), then curves, drill-down, comparisons, histograms and
# breakdowns, multilabel (its counts first), ranking, then calibration, score
# curves and bootstrap resamples. A group is named after its module below
# ``evalql.engine`` (``group_of``).
GROUPS: dict[str, Callable[[], None]] = {
    "confusion": _warm_confusion,
    "index": _warm_index,
    "curves": _warm_curves,
    "select_index": _warm_select_index,
    "select": _warm_select,
    "compare": _warm_compare,
    "histogram": _warm_histogram,
    "breakdown": _warm_breakdown,
    # Sparse cells serve only label sets past the dense matrix's limit
    # (thousands of labels); a page that needs them asks for them first.
    "cells": _warm_cells,
    "multilabel.counts": _warm_multilabel_counts,
    "multilabel.index": _warm_multilabel_index,
    "multilabel.rows": _warm_multilabel_rows,
    "multilabel.select_index": _warm_multilabel_select_index,
    "multilabel.curves": _warm_multilabel_curves,
    "multilabel.ranking": _warm_multilabel_ranking,
    "ranking": _warm_ranking,
    "calibration": _warm_calibration,
    "multilabel.calibration": _warm_multilabel_calibration,
    "score_curves": _warm_score_curves,
    "resample": _warm_resample,
}


def group_of(module: str) -> str | None:
    """The warm group a kernel's module belongs to: its path below the engine;
    None outside the engine.

    Example: ``"evalql.engine.multilabel.counts"`` gives ``"multilabel.counts"``
    and ``"evalql.engine.confusion"`` gives ``"confusion"``.
    """
    prefix = __name__.rpartition(".")[0] + "."
    if not module.startswith(prefix):
        return None
    return module[len(prefix):]


def warm(groups: Iterable[str] | None = None) -> None:
    """Load (or compile) the kernels of ``groups``, every group by default."""
    for name in GROUPS if groups is None else groups:
        GROUPS[name]()


def _serve(stdin: Iterable[str], out: Callable[[str], None]) -> None:
    """The compile process's loop: warm every group, urgent ones first."""
    urgent: list[str] = []
    lock = threading.Lock()

    def listen() -> None:
        for line in stdin:
            with lock:
                urgent.append(line.strip())

    threading.Thread(target=listen, daemon=True).start()
    # Numba's compile events tell a kernel compiled from one loaded from the
    # cache, so the server knows whether this is a first start.
    import numba.core.event as events

    pending = list(GROUPS)
    out(f"groups {' '.join(pending)}")
    while pending:
        with lock:
            wanted = [name for name in urgent if name in pending]
        name = wanted[0] if wanted else pending[0]
        pending.remove(name)
        started = time.perf_counter()
        with events.install_recorder("numba:compile") as recorder:
            GROUPS[name]()
        compiled = sum(1 for _, event in recorder.buffer if event.is_start)
        out(f"ready {name} {time.perf_counter() - started:.3f} {compiled}")


def main() -> int:
    """Entry point of ``python -m evalql.engine.warm``."""

    def out(line: str) -> None:
        print(line, flush=True)

    try:
        _serve(sys.stdin, out)
    except BrokenPipeError:  # the server went away: nobody needs the rest
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
