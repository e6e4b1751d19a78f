"""Multilabel views: label sets a row, each (row, label) pair one decision.

One scan (``engine.multilabel.counts.multilabel_counts``) gives the per-label
counts, the row summary on the class filter S and the multilabel matrix; a
view of every row and label is answered by the split's ``LabelSetIndex``
once it is built (in the background, after the first such view asks).
A split on a cluster (``api.backends``) has its counts, curves and pair
histogram summed there, fragment by fragment (row ranges of its lists).

Drill-down selects with ``engine.multilabel.rows.match_rows`` (a
``SetSelection``) and pages the flagged rows with the multiclass keys and
cursors; a label's outcome, once the split's index is ready, is paged by
walking it instead (``engine.multilabel.select_index``: same keys, no scan):

- ``LabelMetrics.rows(outcome:)``: the label's TP (actual and kept), FP
  (kept, not actual), FN (actual, not kept), TN (neither), over every row of
  the view, as tp/fp/fn/tn count; ordered by the label's own stored
  confidence (also below the threshold; 0 where the row does not predict it).
- ``Metrics.rows``: on the view's labels S, ``actual: A`` is "A is actual",
  ``predicted: B`` "B is kept", null for either side "no such label at all",
  so ``(actual, predicted)`` selects the multilabel matrix cell; CORRECT /
  INCORRECT are exact match or not (``correct`` / ``total - correct``),
  ABSTAINED is "no kept label" (``total - predicted``), UNLABELED "no actual
  label"; all given conditions hold together. Ordered by the row's highest
  kept confidence (0 when nothing is kept), which is ``Row.confidence``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import strawberry

from evalql.api import backends, limits, split_cache
from evalql.api.cursors import fingerprint
from evalql.api.views.arguments import label_code
from evalql.api.views.base import CountedOver, View, register
from evalql.api.views.rows import LABEL_OUTCOMES, RowRecord, Sheet, id_order, shortest
from evalql.engine.compare import verdicts_of
from evalql.engine.confusion import as_threshold
from evalql.engine.multilabel.counts import MultilabelCounts, multilabel_counts
from evalql.engine.multilabel.curves import multilabel_threshold_counts, pair_histogram
from evalql.engine.multilabel.index import LabelSetIndex
from evalql.engine.multilabel.ranking import (
    label_precision_steps,
    label_steps,
    rank_label_sets,
    rank_label_sets_by_scores,
)
from evalql.engine.multilabel.rows import (
    RowTests,
    label_confidence,
    match_rows,
    top_confidence,
    unlabeled_rows,
)
from evalql.engine.multilabel.select_index import label_rows_from_index
from evalql.engine.ranking import PrecisionSteps, Ranking
from evalql.engine.score_curves import LabelSteps
from evalql.engine.select import Page, confidence_bits, select_flagged
from evalql.storage.datasets import MultilabelColumns, SplitData


@dataclass(frozen=True)
class SetSelection:
    """Which rows of a multilabel view, and the confidence that orders them."""

    tests: RowTests
    labels: tuple[int, ...] | None  # the label columns the tests look at; None = all
    order_label: int | None  # order by this label's confidence; None = the row's top kept

    def fingerprint(self) -> bytes:
        return fingerprint(self.tests, self.labels, self.order_label)


@register("multilabel")
class MultilabelView(View):
    """A view of a multilabel split."""

    @property
    def n_labels(self) -> int:
        return len(self.model.labels)

    def _columns(self, data: SplitData) -> MultilabelColumns:
        columns = data.columns
        assert isinstance(columns, MultilabelColumns), "a multilabel model's split"
        return columns

    def _index(self, data: SplitData) -> LabelSetIndex | None:
        # The index covers views of every row and label.
        if self.class_filter is None and not self.conditions:
            return split_cache.label_set_index(data)
        return None

    # --- counts ---------------------------------------------------------------

    def counted_now(self) -> MultilabelCounts | None:
        task = self._tasks.get("counts")
        if task is None or not task.done() or task.cancelled() or task.exception() is not None:
            return None
        return task.result()

    async def counted(self) -> MultilabelCounts:
        """Per-label counts, row summary and matrix of the view, in one pass."""
        return await self._once("counts", self._count)

    def _count(self) -> MultilabelCounts:
        remote = backends.for_split(self.request.store, self.split, "multilabel")
        if remote is not None:
            return remote.label_set_counts(self.split, self.conditions, self.threshold,
                                           self.selected, limits.is_dense(self.n_labels))
        data = self._load()
        index = self._index(data)
        if index is not None:
            return index.counts_at(self.threshold)
        return multilabel_counts(
            self._columns(data), self.threshold, self.n_labels, self._mask(data),
            labels=self.selected, matrix=limits.is_dense(self.n_labels),
        )

    async def counts(self) -> np.ndarray:
        matrix = (await self.counted()).matrix
        if matrix is None:  # counted without one: too many labels
            limits.check_dense(self.n_labels)
        assert matrix is not None
        return matrix

    async def distribution(self) -> tuple[np.ndarray, np.ndarray]:
        """A row counts once under each of its labels; None counts the rows
        with no actual label and the rows with no kept prediction."""
        counts = await self.counted()
        unlabeled = await self._once("unlabeled", self._unlabeled_rows)
        unanswered = counts.summary.total - counts.summary.predicted
        actual = np.append(counts.support[self.codes], unlabeled)
        return actual, np.append(counts.predicted[self.codes], unanswered)

    def _unlabeled_rows(self) -> int:
        # Rows without an actual label of the view's labels: the None row of
        # the matrix and distribution.
        labels = None if self.class_filter is None else self.codes
        remote = backends.for_split(self.request.store, self.split, "multilabel")
        if remote is not None:
            return remote.unlabeled_rows(self.split, self.conditions, self.threshold, labels)
        data = self._load()
        return unlabeled_rows(self._columns(data), self.threshold, self.n_labels,
                              self._mask(data), labels)

    async def _confusions(self) -> None:
        return None  # a multilabel matrix counts co-occurrence, not confusion

    def _curve_counts(self, thresholds: np.ndarray) -> CountedOver:
        # Exact matches are on the view's labels, so its class filter counts.
        remote = backends.for_split(self.request.store, self.split, "multilabel")
        if remote is not None:
            return remote.label_set_curve(self.split, self.conditions, thresholds, self.selected)
        data = self._load()
        index = self._index(data)
        if index is not None:
            return index.threshold_counts(thresholds)
        return multilabel_threshold_counts(
            self._columns(data), thresholds, self.n_labels, self._mask(data),
            labels=self.selected,
        )

    # --- ranking ----------------------------------------------------------------

    def _ranked_together(self, code: int) -> tuple[int, ...]:
        # With scores each label is its own sort (labels run in parallel on
        # the pool); without, one pass ranks every label by its predicted
        # confidence (0 where not predicted).
        return (code,) if self.split.has_scores else tuple(range(self.n_labels))

    def _rank(self, data: SplitData, codes: np.ndarray, rows: np.ndarray | None) -> Ranking:
        c = self._columns(data)
        if c.scores is not None:
            return rank_label_sets_by_scores(c, c.scores, codes, rows)
        return rank_label_sets(c, codes, self.n_labels, rows)

    def _label_steps(self, data: SplitData, code: int, rows: np.ndarray | None) -> LabelSteps:
        c = self._columns(data)
        return label_steps(c, code, rows, c.scores)

    def _pair_columns(self, data: SplitData) -> MultilabelColumns | None:
        c = self._columns(data)
        return c if c.scores is not None else None

    def _steps(self, data: SplitData, code: int, rows: np.ndarray | None) -> PrecisionSteps:
        return label_precision_steps(self._columns(data), code, rows)

    async def _top_k(self, k: int) -> tuple[int, int] | None:
        raise self.unavailable("topKAccuracy")

    # --- rows -------------------------------------------------------------------

    def _cell_selection(
        self, actual: str | None, predicted: str | None, outcome: str | None
    ) -> SetSelection:
        """The rows ``Metrics.rows`` selects, on the view's labels S.

        ``actual: A`` means A is among the row's actual labels, ``actual: null``
        that none of S is; likewise ``predicted`` for the labels kept at the
        threshold. So ``(actual, predicted)`` is a cell of the multilabel matrix,
        whose count is the number of rows (a row adds at most 1 to a cell). A
        label outside S selects nothing. Conditions that cannot hold together
        (``predicted: B`` with ABSTAINED) select nothing.
        """
        actual_has = predicted_has = exact = None
        if actual is not strawberry.UNSET and actual is not None:
            actual_has = label_code(self.model, actual, "actual")
        if predicted is not strawberry.UNSET and predicted is not None:
            predicted_has = label_code(self.model, predicted, "predicted")
        if outcome in ("CORRECT", "INCORRECT"):
            exact = outcome == "CORRECT"
        # An explicit null (None) side is "no such label"; so are the outcomes.
        no_actual = actual is None or outcome == "UNLABELED"
        no_predicted = predicted is None or outcome == "ABSTAINED"
        tests = RowTests(
            actual_has=actual_has, actual_empty=True if no_actual else None,
            predicted_has=predicted_has, predicted_empty=True if no_predicted else None,
            exact=exact,
        )
        labels = None if self.class_filter is None else tuple(int(c) for c in self.codes)
        return SetSelection(tests, labels=labels, order_label=None)

    def _label_selection(self, code: int, outcome: str) -> SetSelection:
        """A label's TP, FP, FN or TN rows: is it actual, is it kept."""
        actual_is, kept_is = LABEL_OUTCOMES[outcome]
        tests = RowTests(
            actual_has=code if actual_is else None,
            actual_lacks=None if actual_is else code,
            predicted_has=code if kept_is else None,
            predicted_lacks=None if kept_is else code,
        )
        return SetSelection(tests, labels=None, order_label=code)

    async def _page(
        self, selection: SetSelection, order: str, after: int, limit: int
    ) -> tuple[Page, list[RowRecord], int]:
        page, records = await self.request.run(self._select_rows, selection, order, after, limit)
        return page, records, page.total

    def _select_rows(
        self, selection: SetSelection, order: str, after: int, limit: int
    ) -> tuple[Page, list[RowRecord]]:
        """Flag the matching rows, then page them by key; a label's outcome
        by walking the split's index instead, when it is ready."""
        data = self._load()
        sets = self._columns(data)
        index = self._index(data) if order != "ID" else None
        if index is not None and selection.order_label is not None:
            page = self._label_page(index, selection, order, after, limit)
            return page, self.records(page.rows)
        flags = match_rows(sets, self.threshold, self.n_labels, selection.tests,
                           self._mask(data), selection.labels)
        if order == "ID":
            page = select_flagged(flags, id_order(data), False, after, limit)
        else:
            if selection.order_label is None:
                confidence = top_confidence(sets, self.threshold)
            else:
                confidence = label_confidence(sets, selection.order_label)
            descending = order == "CONFIDENCE_DESC"
            page = select_flagged(flags, confidence_bits(confidence), descending, after, limit)
        return page, self.records(page.rows)

    def _label_page(
        self, index: LabelSetIndex, selection: SetSelection, order: str, after: int, limit: int
    ) -> Page:
        """A page of ``_label_selection``'s rows from the index (same keys,
        order and cursors as the scan); its total is the label's count."""
        code = selection.order_label
        assert code is not None
        actual_is = selection.tests.actual_has is not None
        kept_is = selection.tests.predicted_has is not None
        c = index.counts_at(self.threshold).label_counts([code])
        total = {(True, True): c.tp, (False, True): c.fp, (True, False): c.fn,
                 (False, False): c.tn}[actual_is, kept_is]
        return label_rows_from_index(index, code, actual_is, kept_is, self.threshold,
                                     order == "CONFIDENCE_DESC", after, limit, int(total[0]))

    def records(self, positions: np.ndarray) -> list[RowRecord]:
        """Label lists at the view's threshold, exact match on its labels."""
        data = self._load()
        sets = self._columns(data)
        positions = np.asarray(positions, dtype=np.int64)
        ids = data.ids_at(positions)  # and gives back the pages it mapped
        names = self.model.labels
        selected = np.zeros(len(names), dtype=np.bool_)
        selected[self.codes] = True
        threshold = as_threshold(self.threshold)
        sheet = Sheet(data, positions)
        rows = []
        for i, position in enumerate(positions):
            actual = np.sort(sets.actual_of(position))
            codes, confidence = sets.predicted_of(position)
            kept = confidence >= threshold
            order = np.lexsort((codes[kept], -confidence[kept]))  # confidence desc, then code
            kept_codes, kept_confidence = codes[kept][order], confidence[kept][order]
            exact = set(actual[selected[actual]].tolist()) == set(
                kept_codes[selected[kept_codes]].tolist()
            )
            shown = [shortest(c) for c in kept_confidence]
            rows.append(RowRecord(
                id=ids[i], actual=None, predicted=None,
                confidence=shown[0] if shown else None, correct=exact,
                actual_labels=[names[c] for c in actual],
                predicted_labels=[names[c] for c in kept_codes],
                predicted_confidences=shown, sheet=sheet, at=i,
            ))
        return rows

    # --- compare ------------------------------------------------------------------

    def verdicts(self, data: SplitData) -> np.ndarray:
        # Right: the kept label set equals the actual set on the view's labels
        # (an exact match, the rows ``correct`` counts). Every row is judged.
        right = match_rows(self._columns(data), self.threshold, self.n_labels,
                           RowTests(exact=True), None, self.selected)
        return verdicts_of(right, self._mask(data))

    # --- histogram ----------------------------------------------------------------

    def _histogram(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted (row, label) pairs of the view's labels, also those below
        the threshold, and ``correct`` those whose label is actual in the row
        (a TP once kept), so from the threshold up the bins add up to the
        labels' summed ``predicted`` and ``tp``."""
        remote = backends.for_split(self.request.store, self.split, "multilabel")
        if remote is not None:
            return remote.pair_histogram(self.split, self.conditions, edges, self.selected)
        data = self._load()
        return pair_histogram(self._columns(data), edges, self.n_labels, self._mask(data),
                              self.selected)
