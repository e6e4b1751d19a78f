"""Multiclass views: one label a row, counted as a (K+1)x(K+1) confusion matrix.

The matrix at the view's threshold comes from the request's DataLoader
(``Context.confusion``), keyed by (split, filter, threshold): views of one
request under one filter share one index lookup or one scan, whatever their
thresholds. Every other count (the per-label table, the summary, the label
distribution) is read off the matrix's totals; with too many labels for a
matrix, off the totals one scan gives (``engine.confusion.label_totals``).

Drill-down pages are cell predicates (``engine.select.Predicate``): by a
walk of the split's threshold index when it is ready, else by a scan; both
give the same keys, so a cursor of one is good for the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import strawberry

from evalql.api import backends, limits, split_cache
from evalql.api.backends import CompareSide
from evalql.api.views.arguments import label_code
from evalql.api.views.base import View, register
from evalql.api.views.rows import LABEL_OUTCOMES, RowRecord, Sheet, id_order, shortest
from evalql.engine.cells import Cells, rows_by_actual, sparse_confusion
from evalql.engine.compare import Columns, verdicts
from evalql.engine.confusion import as_threshold, kept_predictions, label_totals
from evalql.engine.curves import ThresholdCounts, index_threshold_counts, threshold_counts
from evalql.engine.histogram import confidence_histogram, index_confidence_histogram
from evalql.engine.metrics import LabelCounts, Summary, Totals, label_counts, summary
from evalql.engine.ranking import (
    PrecisionSteps,
    Ranking,
    precision_steps,
    rank_by_confidence,
    rank_by_scores,
    top_k_hits,
)
from evalql.engine.score_curves import LabelSteps, steps_from_confidence, steps_from_scores
from evalql.engine.select import (
    ANY_RELATION,
    OTHER_LABEL,
    SAME_LABEL,
    Page,
    Predicate,
    confidence_bits,
    matching_total,
    select_by_scan,
)
from evalql.engine.select_index import select_from_index
from evalql.storage.datasets import MulticlassColumns, SplitData


@dataclass(frozen=True)
class MatrixCounts:
    """A multiclass view's counts at one threshold, as the protocol reads them."""

    totals: Totals
    codes: np.ndarray  # the view's labels
    selected: np.ndarray | None  # its class filter's codes

    # A page's fields each ask for these (ten summary numbers, three
    # averages): worked out once per view, not once per field.
    @cached_property
    def summary(self) -> Summary:
        return summary(self.totals, self.selected)

    def label_counts(self, labels: np.ndarray | None = None) -> LabelCounts:
        return self._view_label_counts if labels is None else label_counts(self.totals, labels)

    @cached_property
    def _view_label_counts(self) -> LabelCounts:
        return label_counts(self.totals, self.codes)


@dataclass(frozen=True)
class MatrixCurve:
    """A multiclass view's counts at each threshold of a curve."""

    counts: ThresholdCounts
    codes: np.ndarray
    selected: np.ndarray | None

    def at(self, j: int) -> MatrixCounts:
        return MatrixCounts(self.counts.totals(j), self.codes, self.selected)


@register("multiclass")
class MulticlassView(View):
    """A view of a multiclass split."""

    # The totals of the matrix last summed, and the counts built on them.
    _summed: tuple[np.ndarray, Totals] | None = None
    _counted: MatrixCounts | None = None

    @property
    def n_labels(self) -> int:
        return len(self.model.labels)

    def _columns(self, data: SplitData) -> MulticlassColumns:
        columns = data.columns
        assert isinstance(columns, MulticlassColumns), "a multiclass model's split"
        return columns

    @property
    def _counts_key(self) -> split_cache.CountsKey:
        return (self.split, self.conditions, as_threshold(self.threshold), self.model)

    # --- counts ---------------------------------------------------------------

    async def counts(self) -> np.ndarray:
        limits.check_dense(self.n_labels)
        return await self.request.confusion.load(self._counts_key)

    def preset(self, counts: np.ndarray) -> None:
        self.request.confusion.prime(self._counts_key, counts)

    async def _totals(self) -> Totals:
        """Per-label diagonal, row and column sums: all but the matrix itself."""
        if limits.is_dense(self.n_labels):
            counts = await self.counts()  # shares the matrix's pass
            # Summed once per view: every field of a page reads the totals.
            if self._summed is None or self._summed[0] is not counts:
                self._summed = (counts, Totals.of_matrix(counts))
            return self._summed[1]
        return await self._once("totals", self._scan_totals)

    def _scan_totals(self) -> Totals:
        # Too many labels for a matrix: O(K) sums from one scan.
        remote = backends.for_split(self.request.store, self.split)
        if remote is not None:
            return remote.totals(self.split, self.conditions, self.threshold)
        data = self._load()
        c = self._columns(data)
        return label_totals(
            c.actual, c.predicted, c.confidence, self.threshold, self.n_labels, self._mask(data)
        )

    def counted_now(self) -> MatrixCounts | None:
        return self._counted

    async def counted(self) -> MatrixCounts:
        totals = await self._totals()
        # One MatrixCounts per totals, so its summary and label counts are
        # worked out once for all the fields that read them.
        if self._counted is None or self._counted.totals is not totals:
            self._counted = MatrixCounts(totals, self.codes, self.selected)
        return self._counted

    async def _cells(self) -> Cells:
        if limits.is_dense(self.n_labels):
            return await super()._cells()
        # Too many labels for a matrix: its non-empty cells from rows grouped
        # by actual label (built once per split), one pass at the threshold.
        return await self._once("cells", self._sparse_cells)

    def _sparse_cells(self) -> Cells:
        data = self._load()
        c = self._columns(data)
        groups = data.memo(("rows-by-actual",), lambda: rows_by_actual(
            c.actual, c.predicted, c.confidence, self.n_labels))
        return sparse_confusion(groups, self.threshold, self.n_labels, self._mask(data))

    async def distribution(self) -> tuple[np.ndarray, np.ndarray]:
        totals = await self._totals()
        codes = np.append(self.codes, len(totals.actual) - 1)
        return totals.actual[codes], totals.predicted[codes]

    async def _confusions(self) -> np.ndarray | None:
        return await self.counts() if limits.is_dense(self.n_labels) else None

    def _calibration_columns(self, data: SplitData) -> MulticlassColumns:
        return self._columns(data)

    async def _judged_totals(self) -> Totals:
        return await self._totals()

    async def _judged_counts(self) -> np.ndarray:
        return await self.counts()

    def _curve_counts(self, thresholds: np.ndarray) -> MatrixCurve:
        remote = backends.for_split(self.request.store, self.split)
        if remote is not None:
            counts = remote.curve_counts(self.split, self.conditions, thresholds)
            return MatrixCurve(counts, self.codes, self.selected)
        data = self._load()
        # An index answers with binary searches, without a pass over rows.
        index = split_cache.threshold_index(data, self.conditions)
        if index is not None:
            counts = index_threshold_counts(index, thresholds)
        else:
            c = self._columns(data)
            counts = threshold_counts(
                c.actual, c.predicted, c.confidence, thresholds, self.n_labels, self._mask(data)
            )
        return MatrixCurve(counts, self.codes, self.selected)

    # --- ranking ----------------------------------------------------------------

    def _ranked_together(self, code: int) -> tuple[int, ...]:
        # With scores each label is its own sort (labels run in parallel on
        # the pool); without, one pass ranks every label.
        return (code,) if self.split.has_scores else tuple(range(self.n_labels))

    def _rank(self, data: SplitData, codes: np.ndarray, rows: np.ndarray | None) -> Ranking:
        c = self._columns(data)
        if c.scores is not None:
            return rank_by_scores(c.scores, c.actual, codes, rows)
        return rank_by_confidence(c.actual, c.predicted, c.confidence, codes, self.n_labels, rows)

    def _steps(self, data: SplitData, code: int, rows: np.ndarray | None) -> PrecisionSteps:
        c = self._columns(data)
        return precision_steps(c.actual, c.predicted, c.confidence, code, rows)

    def _label_steps(self, data: SplitData, code: int, rows: np.ndarray | None) -> LabelSteps:
        c = self._columns(data)
        if c.scores is not None:
            return steps_from_scores(c.scores, c.actual, code, rows)
        return steps_from_confidence(c.actual, c.predicted, c.confidence, code, rows)

    async def _top_k(self, k: int) -> tuple[int, int] | None:
        if not self.split.has_scores:
            return None
        return await self._once(("top-k", k), lambda: self._top_k_hits(k))

    def _top_k_hits(self, k: int) -> tuple[int, int] | None:
        data = self._load()
        c = self._columns(data)
        if c.scores is None:
            return None
        return top_k_hits(c.scores, c.actual, k, self._mask(data), self.selected)

    # --- rows -------------------------------------------------------------------

    def _cell_selection(
        self, actual: str | None, predicted: str | None, outcome: str | None
    ) -> Predicate:
        """The rows ``Metrics.rows`` selects, as a predicate on confusion cells.

        With a class filter the rows are those whose actual label is in it (the
        rows ``total`` counts), plus, when asked for explicitly (UNLABELED, or
        ``actual: null``), the rows without an actual label: the None row the
        filtered matrix still shows. An ``actual`` label outside the filter
        selects nothing.
        """
        k = self.n_labels
        actual_ok = np.ones(k + 1, dtype=np.bool_)
        predicted_ok = np.ones(k + 1, dtype=np.bool_)
        relation = ANY_RELATION
        if self.class_filter is not None:
            actual_ok[:] = False
            actual_ok[self.codes] = True
            actual_ok[k] = outcome == "UNLABELED" or actual is None
        if actual is not strawberry.UNSET:
            actual_ok &= _only(k, self._code(actual, "actual"))
        if predicted is not strawberry.UNSET:
            predicted_ok &= _only(k, self._code(predicted, "predicted"))
        if outcome == "CORRECT":
            relation = SAME_LABEL
        elif outcome == "INCORRECT":
            relation = OTHER_LABEL
        elif outcome == "ABSTAINED":
            actual_ok[k] = False
            predicted_ok &= _only(k, k)
        elif outcome == "UNLABELED":
            actual_ok &= _only(k, k)
        return Predicate(actual_ok, predicted_ok, relation)

    def _label_selection(self, code: int, outcome: str) -> Predicate:
        """A label's one-vs-rest rows, over every row of the view (as tp/fp/fn/tn count)."""
        only = _only(self.n_labels, code)
        actual_is, predicted_is = LABEL_OUTCOMES[outcome]
        return Predicate(only if actual_is else ~only, only if predicted_is else ~only)

    def _code(self, name: str | None, argument: str) -> int:
        """A label's code; None (null) is K."""
        return self.n_labels if name is None else label_code(self.model, name, argument)

    async def _page(
        self, selection: Predicate, order: str, after: int, limit: int
    ) -> tuple[Page, list[RowRecord], int]:
        page, records = await self.request.run(self._select_rows, selection, order, after, limit)
        if page.total >= 0:
            return page, records, page.total
        # A filtered walk does not see every matching row; the view's matrix
        # (shared with its other fields) counts them.
        return page, records, matching_total(await self.counts(), selection)

    def _select_rows(
        self, predicate: Predicate, order: str, after: int, limit: int
    ) -> tuple[Page, list[RowRecord]]:
        page = self._select(predicate, order, after, limit)
        return page, self.records(page.rows)

    def _select(self, predicate: Predicate, order: str, after: int, limit: int) -> Page:
        """A page by walking the split's threshold index, when it is ready
        (it keeps every cell's rows in confidence order, so a page is a merge
        of runs; under a row filter the walk skips the rows outside it), else
        by a scan. Id order scans. A split on a remote backend (``api.backends``)
        merges its fragments' pages."""
        remote = backends.for_split(self.request.store, self.split) if order != "ID" else None
        if remote is not None:
            return remote.select(self.split, self.conditions, self.threshold, predicate,
                                 order == "CONFIDENCE_DESC", after, limit)
        data = self._load()
        c = self._columns(data)
        rows = self._mask(data)
        descending = order == "CONFIDENCE_DESC"
        if order == "ID":
            bits, descending = id_order(data), False
        else:
            index = split_cache.threshold_index(data)
            if index is not None:
                return select_from_index(
                    index, self.threshold, predicate, descending, after, limit, rows
                )
            bits = confidence_bits(c.confidence)
        return select_by_scan(
            c.actual, c.predicted, c.confidence, bits, self.threshold, predicate,
            descending, after, limit, rows,
        )

    def records(self, positions: np.ndarray) -> list[RowRecord]:
        data = self._load()
        c = self._columns(data)
        positions = np.asarray(positions, dtype=np.int64)
        ids = data.ids_at(positions)  # and gives back the pages it mapped
        actual, predicted = c.actual[positions], c.predicted[positions]
        confidence = c.confidence[positions]
        kept = kept_predictions(predicted, confidence, self.threshold)
        labels = self.model.labels
        sheet = Sheet(data, positions)
        return [
            RowRecord(
                id=ids[i],
                actual=labels[actual[i]] if actual[i] >= 0 else None,
                predicted=labels[predicted[i]] if kept[i] else None,
                # No prediction at all has no confidence (ingest stored 1.0 for it).
                confidence=shortest(confidence[i]) if predicted[i] >= 0 else None,
                correct=bool(kept[i] and predicted[i] == actual[i]),
                sheet=sheet,
                at=i,
            )
            for i in range(len(positions))
        ]

    # --- histogram, breakdown, compare ------------------------------------------

    def _histogram(
        self, edges: np.ndarray, actual_ok: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        # actual_ok (K + 1, None last) picks rows by actual label; by default
        # the view's rows.
        ok = self.actual_ok() if actual_ok is None else actual_ok
        remote = backends.for_split(self.request.store, self.split)
        if remote is not None:
            return remote.histogram(self.split, self.conditions, edges, ok)
        data = self._load()
        rows = self._mask(data)
        index = split_cache.threshold_index(data) if rows is None else None
        if index is not None:
            return index_confidence_histogram(index, edges, ok)
        c = self._columns(data)
        return confidence_histogram(
            c.actual, c.predicted, c.confidence, edges.astype(np.float32), ok, rows
        )

    def _unlabeled_histogram(self, edges: np.ndarray) -> np.ndarray:
        if self.class_filter is not None:  # its rows all have an actual label
            return super()._unlabeled_histogram(edges)
        only_none = np.zeros(self.n_labels + 1, dtype=np.bool_)
        only_none[-1] = True
        return self._histogram(edges, only_none)[0]

    def _actual_codes(self, data: SplitData) -> np.ndarray:
        return self._columns(data).actual

    def _group_matrices(
        self, data: SplitData, groups: int, count: Callable[..., np.ndarray]
    ) -> np.ndarray | None:
        if not limits.is_dense(self.n_labels, groups):
            return None
        c = self._columns(data)
        # The filter tested inside the scan: a filter asked for once costs no
        # mask pass and keeps nothing (as the page's counts, split_cache.row_test).
        return count(c.actual, c.predicted, c.confidence, self.threshold, self.n_labels,
                     split_cache.row_test(data, self.conditions))

    def verdicts(self, data: SplitData) -> np.ndarray:
        # Right: the kept prediction is the actual label. A class filter
        # judges the rows of its actual labels only, as the view counts them.
        c = self._columns(data)
        return verdicts(Columns(c.actual, c.predicted, c.confidence), self.threshold,
                        self._judged(), self._mask(data))

    def compare_side(self) -> CompareSide:
        return CompareSide(self.split, self.conditions, self.threshold, self._judged())

    def _judged(self) -> np.ndarray | None:
        # The actual labels verdicts judge: the class filter's, or every one.
        return None if self.class_filter is None else self.actual_ok()


def _only(n_labels: int, code: int) -> np.ndarray:
    return np.arange(n_labels + 1) == code
