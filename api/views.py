"""A view — (split, threshold, class filter, row filter) — and its lazy results.

A ``View`` is the backing object of a GraphQL ``Metrics`` value. Every field of
that value asks the view, and the view computes each piece (the row mask, the
confusion counts, the per-label counts) at most once per request, off the
event loop, however many fields and aliases ask for it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from typing import Any

import numpy as np

from evalql.api.context import Context
from evalql.api.errors import BadUserInput, CostLimit, one_of
from evalql.api.loaders import cached_mask, filtered_index, ready_threshold_index, threshold_index
from evalql.engine.confusion import as_threshold, confusion_counts, label_totals
from evalql.engine.curves import (
    ThresholdCounts,
    confusion_counts_at,
    grid,
    index_threshold_counts,
    threshold_counts,
)
from evalql.engine.insights import Finding, insights
from evalql.engine.metrics import LabelCounts, Summary, Totals, label_counts, submatrix, summary
from evalql.engine.multilabel.counts import (
    MultilabelCounts,
    MultilabelSummary,
    MultilabelThresholdCounts,
    multilabel_counts,
)
from evalql.engine.multilabel.curves import multilabel_threshold_counts
from evalql.engine.multilabel.index import LabelSetIndex
from evalql.engine.multilabel.ranking import label_precision_steps, rank_label_sets
from evalql.engine.multilabel.rows import RowTests, match_rows
from evalql.engine.ranking import (
    PrecisionSteps,
    average_precision,
    precision_steps,
    rank_by_confidence,
    rank_by_scores,
    roc_auc,
    top_k_hits,
)
from evalql.storage.datasets import SplitData
from evalql.storage.filters import Condition
from evalql.storage.model import ModelInfo, SplitInfo

# A dense (K+1)^2 matrix per scan chunk: past this many cells it costs more
# memory than a request may take, so it is refused instead of computed.
MAX_MATRIX_CELLS = 4_000_000


class View:
    """One view of a split; create through ``View.get`` to share per request."""

    def __init__(
        self,
        ctx: Context,
        model: ModelInfo,
        split: SplitInfo,
        threshold: float,
        class_filter: tuple[str, ...] | None,
        conditions: tuple[Condition, ...],
    ) -> None:
        self.ctx = ctx
        self.model = model
        self.split = split
        self.threshold = threshold
        self.class_filter = class_filter
        self.conditions = conditions
        self._tasks: dict[str, asyncio.Future[Any]] = {}

    @classmethod
    def get(
        cls,
        ctx: Context,
        model: ModelInfo,
        split: SplitInfo,
        threshold: float,
        class_filter: list[str] | None = None,
        conditions: tuple[Condition, ...] = (),
    ) -> View:
        """The request's view for these arguments, validated and shared."""
        if not 0.0 <= threshold <= 1.0:
            raise BadUserInput(f"threshold has to be within [0, 1], got {threshold}")
        selected = None if class_filter is None else _checked_labels(model, class_filter)
        key = (split.model, split.run, split.name, split.version,
               float(as_threshold(threshold)), selected, conditions)
        if key not in ctx.views:
            ctx.views[key] = cls(ctx, model, split, threshold, selected, conditions)
        return ctx.views[key]

    def _once(self, name: str, compute: Callable[[], Any]) -> Awaitable[Any]:
        if name not in self._tasks:
            self._tasks[name] = asyncio.ensure_future(self.ctx.run(compute))
        return self._tasks[name]

    def preset(self, name: str, value: Any) -> None:
        """Give the view a result computed elsewhere, as ``_once`` would keep it.

        A breakdown counts every slice's confusion matrix in one pass and
        presets ``"counts"`` on each slice's view, so a slice's metrics cost no
        scan of their own. Call on the event loop; a result already there stays.
        """
        if name not in self._tasks:
            future = asyncio.get_running_loop().create_future()
            future.set_result(value)
            self._tasks[name] = future

    @cached_property
    def codes(self) -> np.ndarray:
        """The selected labels' codes, in the class filter's order."""
        if self.class_filter is None:
            return np.arange(len(self.model.labels))
        index = {name: i for i, name in enumerate(self.model.labels)}
        return np.array([index[name] for name in self.class_filter], dtype=np.intp)

    @property
    def label_names(self) -> list[str]:
        return [self.model.labels[i] for i in self.codes]

    def _load(self) -> SplitData:
        return self.ctx.store.load(self.split)

    def _mask(self) -> np.ndarray | None:
        return cached_mask(self._load(), self.conditions)

    def _counts(self) -> np.ndarray:
        data = self._load()
        if (data.n_labels + 1) ** 2 > MAX_MATRIX_CELLS:
            raise CostLimit(
                f"a {data.n_labels}-label confusion matrix is over the limit of "
                f"{MAX_MATRIX_CELLS:,} cells for a dense view"
            )
        mask = self._mask()
        if mask is None:
            # No row filter: K^2 binary searches in the index, not a scan,
            # once the index is built (it builds in the background meanwhile).
            index = ready_threshold_index(data)
            if index is None:
                return confusion_counts(
                    data.actual, data.predicted, data.confidence, self.threshold, data.n_labels
                )
            return index.counts_at(as_threshold(self.threshold))
        index = filtered_index(data, self.conditions)
        if index is not None:
            return index.counts_at(as_threshold(self.threshold))
        return self._batched_counts(data, mask)

    async def counts(self) -> np.ndarray:
        """The full (K+1)x(K+1) confusion counts of the view's rows."""
        if self.multilabel:
            counts = (await self.multilabel_counts()).matrix
            if counts is None:
                raise CostLimit(
                    f"a {len(self.model.labels)}-label confusion matrix is over the limit "
                    f"of {MAX_MATRIX_CELLS:,} cells for a dense view"
                )
            return counts
        return await self._once("counts", self._counts)

    @property
    def multilabel(self) -> bool:
        return self.model.task == "multilabel"

    def _label_set_index(self, data: SplitData) -> LabelSetIndex | None:
        # The index covers views of every row and label, when it is built.
        dense = (data.n_labels + 1) ** 2 <= MAX_MATRIX_CELLS
        if self.class_filter is None and not self.conditions and dense:
            return label_set_index(data)
        return None

    def _multilabel_counts(self) -> MultilabelCounts:
        data = self._load()
        index = self._label_set_index(data)
        if index is not None:
            return index.counts_at(self.threshold)
        return multilabel_counts(
            data.multilabel, self.threshold, data.n_labels, self._mask(),
            labels=None if self.class_filter is None else self.codes,
            matrix=(data.n_labels + 1) ** 2 <= MAX_MATRIX_CELLS,
        )

    async def multilabel_counts(self) -> MultilabelCounts:
        """Per-label counts, row summary and matrix of a multilabel view, in one pass.

        A view of every row and label is answered by the split's
        ``LabelSetIndex`` once it is built (in the background, after the
        first such view asks); until then, and for views with a row or class
        filter, by a scan.
        """
        return await self._once("multilabel", self._multilabel_counts)

    def _unlabeled_rows(self) -> int:
        # Rows without an actual label of the view's labels: the None row of
        # a multilabel matrix and distribution.
        data = self._load()
        assert data.multilabel is not None
        mask = self._mask()
        if self.class_filter is None:
            empty = np.diff(data.multilabel.actual_offsets) == 0
            return int(np.count_nonzero(empty if mask is None else empty & mask))
        empty = match_rows(data.multilabel, self.threshold, data.n_labels,
                           RowTests(actual_empty=True), mask, self.codes)
        return int(np.count_nonzero(empty))

    async def distribution(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows per actual and per predicted label: the view's labels, then None.

        Multilabel: a row counts once under each of its labels; None counts
        the rows with no actual label and the rows with no kept prediction.
        """
        if self.multilabel:
            counts = await self.multilabel_counts()
            unlabeled = await self._once("unlabeled", self._unlabeled_rows)
            unanswered = counts.summary.total - counts.summary.predicted
            actual = np.append(counts.support[self.codes], unlabeled)
            return actual, np.append(counts.predicted[self.codes], unanswered)
        totals = await self.totals()
        codes = np.append(self.codes, len(totals.actual) - 1)
        return totals.actual[codes], totals.predicted[codes]

    async def matrix(self) -> np.ndarray:
        """The confusion matrix on the selected labels plus None."""
        return submatrix(await self.counts(), self.codes)

    def _totals(self) -> Totals:
        data = self._load()
        if (data.n_labels + 1) ** 2 <= MAX_MATRIX_CELLS:
            return Totals.of_matrix(self._counts())
        # Too many labels for a matrix: O(K) sums from one scan.
        return label_totals(
            data.actual, data.predicted, data.confidence,
            self.threshold, data.n_labels, self._mask(),
        )

    async def totals(self) -> Totals:
        """Per-label diagonal, row and column sums: all but the matrix itself."""
        if (len(self.model.labels) + 1) ** 2 <= MAX_MATRIX_CELLS:
            return Totals.of_matrix(await self.counts())  # shares the matrix's pass
        return await self._once("totals", self._totals)

    async def insights(self) -> list[Finding]:
        """The view's insights, from the counts its other fields share."""
        c, s = await self.label_counts(), await self.summary()
        dense = (len(self.model.labels) + 1) ** 2 <= MAX_MATRIX_CELLS
        # A multilabel matrix counts co-occurrence, not confusion: no pairs from it.
        counts = await self.counts() if dense and not self.multilabel else None
        unlabeled = int((await self.distribution())[0][-1])
        return insights(counts, c, s, unlabeled)

    async def label_counts(self, codes: np.ndarray | None = None) -> LabelCounts:
        """Per-label TP/FP/FN/TN of ``codes`` (default: the view's labels)."""
        codes = self.codes if codes is None else codes
        if self.multilabel:
            return (await self.multilabel_counts()).label_counts(codes)
        return label_counts(await self.totals(), codes)

    async def summary(self) -> Summary | MultilabelSummary:
        """Total, predicted and correct rows (of the class filter's rows, if any)."""
        if self.multilabel:
            return (await self.multilabel_counts()).summary
        selected = None if self.class_filter is None else self.codes
        return summary(await self.totals(), selected)

    # --- thresholds and ranking: curves, the alias batch, AP / ROC AUC ------

    def require_multiclass(self, what: str) -> None:
        """BAD_USER_INPUT unless the view is of a multiclass model.

        For the parts only defined on the multiclass columns: a multilabel
        split has none, and must get an error, not zeros.
        """
        if self.model.task != "multiclass":
            raise BadUserInput(
                f'{what} is not available for {self.model.task} models '
                f'(model "{self.model.name}" is {self.model.task})'
            )

    def code_of(self, name: str) -> int:
        """The code of label ``name``, which has to be one of the view's labels."""
        code = label_code(self.model, name)
        if name not in self.label_names:
            raise BadUserInput(
                f'label "{name}" is outside the view\'s labels {one_of(self.label_names)}'
            )
        return code

    def at_threshold(self, threshold: float) -> View:
        """The request's view of the same labels and rows at another threshold."""
        labels = None if self.class_filter is None else list(self.class_filter)
        return View.get(self.ctx, self.model, self.split, threshold, labels, self.conditions)

    async def threshold_counts(
        self, points: int
    ) -> ThresholdCounts | MultilabelThresholdCounts:
        """Counts at ``points`` thresholds evenly spaced over [0, 1]: a curve's.

        The view's own threshold plays no part; its row filter does (and, for
        a multilabel view, its class filter: exact matches are on its labels).
        """
        return await self._once(f"curve:{points}", lambda: self._threshold_counts(points))

    def _threshold_counts(self, points: int) -> ThresholdCounts | MultilabelThresholdCounts:
        data = self._load()
        thresholds = grid(points)
        if data.multilabel is not None:
            index = self._label_set_index(data)
            if index is not None:
                return index.threshold_counts(thresholds)
            return multilabel_threshold_counts(
                data.multilabel, thresholds, data.n_labels, self._mask(),
                labels=None if self.class_filter is None else self.codes,
            )
        if (data.n_labels + 1) ** 2 <= MAX_MATRIX_CELLS:
            # An index answers with binary searches, without a pass over rows.
            if not self.conditions:
                return index_threshold_counts(threshold_index(data), thresholds)
            index = filtered_index(data, self.conditions)
            if index is not None:
                return index_threshold_counts(index, thresholds)
        return threshold_counts(
            data.actual, data.predicted, data.confidence, thresholds, data.n_labels, self._mask()
        )

    # A row-filtered view without a built index scans; views of one request
    # that share the split and the filter (aliases at other thresholds) share
    # one scan. See ``_batched_counts``.
    _batch: _ThresholdBatch | None = None

    def _same_rows(self, other: View) -> bool:
        return (self.split == other.split) and (self.conditions == other.conditions)

    def _batched_counts(self, data: SplitData, mask: np.ndarray) -> np.ndarray:
        """The counts of a row-filtered view, from one scan that counts every
        threshold the request's views of the same rows ask for.

        Runs on a pool thread. The request's views all exist by then (the
        resolvers that create them run before any count is computed), so the
        first view to get here gathers its peers' thresholds, and the first
        to claim the batch scans while the others wait for its result.
        """
        with _BATCH_LOCK:
            if self._batch is None:
                room = max(1, MAX_MATRIX_CELLS // (data.n_labels + 1) ** 2 - 1)
                others = [v for v in list(self.ctx.views.values())
                          if isinstance(v, View) and v is not self and v._batch is None
                          and self._same_rows(v)]
                peers = [self, *others][:room]
                batch = _ThresholdBatch([as_threshold(v.threshold) for v in peers])
                for view in peers:
                    view._batch = batch
            batch = self._batch

        def scan(thresholds: np.ndarray) -> np.ndarray:
            if len(thresholds) == 1:
                return confusion_counts(
                    data.actual, data.predicted, data.confidence, thresholds[0],
                    data.n_labels, mask,
                )[np.newaxis]
            return confusion_counts_at(
                data.actual, data.predicted, data.confidence, thresholds, data.n_labels, mask
            )

        return batch.counts_at(as_threshold(self.threshold), scan)

    async def ranking(self, code: int) -> tuple[float, float]:
        """Average precision and ROC AUC of label ``code`` (NaN when undefined).

        They rank the rows by score, so the view's threshold and class filter
        do not change them; its row filter does. With scores each label is its
        own sort (labels run in parallel on the pool); without, one pass ranks
        every label, so all are computed together; so does a multilabel split,
        ranking each label by its predicted confidence (0 where not predicted).
        """
        if self.split.has_scores:
            codes: tuple[int, ...] = (code,)
            key = f"ranking:{code}"
        else:
            codes = tuple(range(len(self.model.labels)))
            key = "ranking"
        ap, auc = await self._once(key, lambda: self._ranking(codes))
        i = 0 if len(codes) == 1 else code
        return float(ap[i]), float(auc[i])

    def _ranking(self, codes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        data = self._load()
        mask = self._mask()

        def compute() -> tuple[np.ndarray, np.ndarray]:
            if data.multilabel is not None:
                r = rank_label_sets(data.multilabel, np.array(codes), data.n_labels, mask)
            elif data.scores is not None:
                r = rank_by_scores(data.scores, data.actual, np.array(codes), mask)
            else:
                r = rank_by_confidence(
                    data.actual, data.predicted, data.confidence, np.array(codes),
                    data.n_labels, mask,
                )
            return average_precision(r), roc_auc(r)

        if mask is None:  # threshold-free, so kept with the split for every request
            return data.memo(("ranking", codes), compute)
        return compute()

    async def top_k(self, k: int) -> tuple[int, int] | None:
        """Rows whose actual label is among the ``k`` highest scores, and rows
        counted (those of the class filter's labels, if any); None without scores."""
        self.require_multiclass("topKAccuracy")
        if not self.split.has_scores:
            return None
        return await self._once(f"top-k:{k}", lambda: self._top_k(k))

    def _top_k(self, k: int) -> tuple[int, int] | None:
        data = self._load()
        if data.scores is None:
            return None
        selected = None if self.class_filter is None else self.codes
        return top_k_hits(data.scores, data.actual, k, self._mask(), selected)

    async def precision_steps(self, code: int) -> PrecisionSteps:
        """Label ``code``'s kept TP and FP at each distinct confidence of its predictions."""
        return await self._once(f"steps:{code}", lambda: self._precision_steps(code))

    def _precision_steps(self, code: int) -> PrecisionSteps:
        data = self._load()
        mask = self._mask()

        def compute() -> PrecisionSteps:
            if data.multilabel is not None:
                return label_precision_steps(data.multilabel, code, mask)
            return precision_steps(data.actual, data.predicted, data.confidence, code, mask)

        if mask is None:
            return data.memo(("precision-steps", code), compute)
        return compute()


# One background thread builds multilabel indexes (a few seconds at 10M
# rows): the requests that come before it is done scan instead of waiting.
_INDEXER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evalql-background-label-sets")


def label_set_index(data: SplitData, wait: bool = False) -> LabelSetIndex | None:
    """The multilabel split's ``LabelSetIndex``, once built; None before (and
    for a split too large for one).

    The first call starts building it in the background, kept with the split
    (``SplitData.memo``) like the multiclass threshold index; ``wait=True``
    blocks until it is built.
    """
    assert data.multilabel is not None
    columns = data.multilabel
    future: Future[LabelSetIndex | None] = data.memo(
        "label-set-index", lambda: _INDEXER.submit(LabelSetIndex.build, columns, data.n_labels)
    )
    if wait:
        future.exception()  # waits; a failed build leaves the views scanning
    if future.done() and future.exception() is None:
        return future.result()
    return None


_BATCH_LOCK = threading.Lock()


class _ThresholdBatch:
    """Thresholds that views of one request ask of the same rows, counted in
    one scan by whichever view claims the batch first."""

    def __init__(self, thresholds: list[np.float32]) -> None:
        self.thresholds = np.unique(np.array(thresholds, dtype=np.float32))
        self._claimed = False
        self._result: Future[np.ndarray] = Future()

    def counts_at(
        self, threshold: np.float32, scan: Callable[[np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """The counts at ``threshold`` (one of the batch's), scanning if first to ask."""
        with _BATCH_LOCK:
            owner = not self._claimed
            self._claimed = True
        if owner:
            try:
                self._result.set_result(scan(self.thresholds))
            except BaseException as error:
                self._result.set_exception(error)
        matrices = self._result.result()
        return matrices[int(np.searchsorted(self.thresholds, threshold))]


def label_code(model: ModelInfo, name: str, argument: str = "label") -> int:
    """The code of ``name`` in the model's label order, or an error listing them."""
    if name not in model.labels:
        raise BadUserInput(
            f'{argument} "{name}" is not a label of model "{model.name}"; '
            f"it has {one_of(model.labels)}"
        )
    return model.labels.index(name)


def _checked_labels(model: ModelInfo, names: list[str]) -> tuple[str, ...]:
    for name in names:
        label_code(model, name)
    if len(set(names)) != len(names):
        raise BadUserInput("labels has to list each label once")
    if not names:
        raise BadUserInput("labels has to name at least one label (or be omitted)")
    return tuple(names)
