"""The view protocol: a (split, threshold, class filter, row filter), whatever the task.

A ``View`` is the backing object of a GraphQL ``Metrics`` value. Every field
of that value asks the view, and the view computes each piece (the row mask,
the counts) at most once per request, off the event loop, however many
fields and aliases ask for it.

``View.get`` picks the task once, from the model: ``MulticlassView`` or
``MultilabelView`` (``register`` fills the registry). Each task supplies its
own counting (the abstract methods below: counts at the view's threshold and
over a curve's thresholds, the matrix and label distribution, ranking, row
selections and pages, the histogram), and both hand back the same currency:
a ``Counted`` (the row summary and per-label TP/FP/FN/TN). Everything built
on it is written here once: averages, the per-label table, insights, curve
points, mean average precision, the threshold for a precision, paging with
cursors. A new metric therefore goes into ``engine.metrics`` (per label) or
the summaries, and reaches both tasks through this module.

Row arguments arrive as the GraphQL enums' values: ``outcome`` is "CORRECT",
"INCORRECT", "ABSTAINED", "UNLABELED" or None; a label outcome "TP", "FP",
"FN" or "TN"; ``order`` "CONFIDENCE_DESC", "CONFIDENCE_ASC" or "ID".
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import cached_property
from typing import Any, Protocol, TypeVar

import numpy as np
from strawberry.dataloader import DataLoader

from evalql.api import limits
from evalql.api.backends import CompareSide
from evalql.api.cursors import decode_cursor, fingerprint
from evalql.api.errors import BadUserInput, CostLimit, one_of
from evalql.api.split_cache import CountsKey, mask
from evalql.api.views import breakdown
from evalql.api.views.arguments import checked_labels, conditions_of, label_code
from evalql.api.views.calibration import CalibrationMetrics
from evalql.api.views.insights import InsightMetrics
from evalql.api.views.ranking import RankingMetrics
from evalql.api.views.results import CurveValues, HistogramBin, LabelRow, LabelTable
from evalql.api.views.rows import RowPage, RowRecord
from evalql.api.views.trust import TrustMetrics
from evalql.engine.averaging import AVERAGED_METRICS, average
from evalql.engine.cells import Cells, largest_cells
from evalql.engine.confusion import as_threshold
from evalql.engine.curves import grid
from evalql.engine.metrics import (
    PER_LABEL,
    LabelCounts,
    Summary,
    Totals,
    submatrix,
)
from evalql.engine.multilabel.counts import MultilabelSummary
from evalql.engine.ranking import (
    PrecisionSteps,
    Ranking,
)
from evalql.engine.score_curves import LabelSteps
from evalql.engine.select import Page
from evalql.storage.datasets import SplitData, SplitStore
from evalql.storage.filters import Condition
from evalql.storage.model import ModelInfo, SplitInfo

T = TypeVar("T")


class Request(Protocol):
    """What a view takes from the request's context (``api.context.Context``)."""

    store: SplitStore
    views: dict[Hashable, Any]
    confusion: DataLoader[CountsKey, np.ndarray]

    async def run(self, fn: Callable[..., T], *args: Any) -> T: ...


class Counted(Protocol):
    """A view's counts at one threshold, whatever its task."""

    @property
    def summary(self) -> Summary | MultilabelSummary: ...

    def label_counts(self, labels: np.ndarray | None = None) -> LabelCounts:
        """Per-label counts of ``labels`` (default: the view's labels)."""
        ...


class CountedOver(Protocol):
    """A view's counts at each threshold of a curve."""

    def at(self, j: int) -> Counted: ...


_TASKS: dict[str, type[View]] = {}


def register(task: str) -> Callable[[type[View]], type[View]]:
    """Make a View class the one ``View.get`` picks for models of ``task``."""

    def add(cls: type[View]) -> type[View]:
        _TASKS[task] = cls
        return cls

    return add


class View(TrustMetrics, CalibrationMetrics, RankingMetrics, InsightMetrics, ABC):
    """One view of a split; create through ``View.get`` to share per request."""

    def __init__(
        self,
        request: Request,
        model: ModelInfo,
        split: SplitInfo,
        threshold: float,
        class_filter: tuple[str, ...] | None,
        conditions: tuple[Condition, ...],
    ) -> None:
        self.request = request
        self.model = model
        self.split = split
        self.threshold = threshold
        self.class_filter = class_filter
        self.conditions = conditions
        self._tasks: dict[Hashable, asyncio.Future[Any]] = {}

    @classmethod
    def get(
        cls,
        request: Request,
        model: ModelInfo,
        split: SplitInfo,
        threshold: float,
        labels: list[str] | None = None,
        conditions: tuple[Condition, ...] = (),
        where: Sequence[Any] | None = None,
    ) -> View:
        """The request's view for these arguments, validated and shared.

        ``where`` (GraphQL RowFilters) is another way to give ``conditions``.
        """
        if labels is not None:  # bounded before each name is looked up
            k = len(model.labels)
            limits.check_length("labels", len(labels), k, "labels", f"the model has {k}")
        if where is not None:
            conditions = conditions_of(where)
        if not 0.0 <= threshold <= 1.0:
            raise BadUserInput(f"threshold has to be within [0, 1], got {threshold}")
        selected = None if labels is None else checked_labels(model, labels)
        key = (split.model, split.run, split.name, split.version,
               float(as_threshold(threshold)), selected, conditions)
        if key not in request.views:
            if len(request.views) >= limits.MAX_VIEWS:
                raise CostLimit(
                    f"the request asks for more than {limits.MAX_VIEWS:,} views (metrics, "
                    "slices of breakdowns, compare sides): ask for fewer slices per request"
                )
            if model.task not in _TASKS:
                raise ValueError(f"task has to be one of {one_of(_TASKS)}, got {model.task!r}")
            task = _TASKS[model.task]
            request.views[key] = task(request, model, split, threshold, selected, conditions)
        return request.views[key]

    def _once(self, key: Hashable, compute: Callable[[], Any]) -> Awaitable[Any]:
        if key not in self._tasks:
            self._tasks[key] = asyncio.ensure_future(self.request.run(compute))
        return self._tasks[key]

    # --- the view's labels and rows ------------------------------------------

    @cached_property
    def codes(self) -> np.ndarray:
        """The selected labels' codes, in the class filter's order."""
        if self.class_filter is None:
            return np.arange(len(self.model.labels))
        index = {name: i for i, name in enumerate(self.model.labels)}
        return np.array([index[name] for name in self.class_filter], dtype=np.intp)

    @property
    def selected(self) -> np.ndarray | None:
        """The class filter's codes; None without one."""
        return None if self.class_filter is None else self.codes

    @property
    def label_names(self) -> list[str]:
        return [self.model.labels[i] for i in self.codes]

    def actual_ok(self) -> np.ndarray:
        """The view's rows by actual label (K + 1, None last): a class filter
        keeps its labels' rows."""
        k = len(self.model.labels)
        if self.class_filter is None:
            return np.ones(k + 1, dtype=np.bool_)
        ok = np.zeros(k + 1, dtype=np.bool_)
        ok[self.codes] = True
        return ok

    def _load(self) -> SplitData:
        """Blocking: the split's data (call on a pool thread), coded in the
        view's label order even when an ingest has extended the model's
        labels since the view was resolved."""
        return self.request.store.load(self.split, self.model)

    def _mask(self, data: SplitData | None = None) -> np.ndarray | None:
        return mask(self._load() if data is None else data, self.conditions)

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
        return self.with_rows(threshold, self.conditions)

    def with_rows(self, threshold: float, conditions: tuple[Condition, ...]) -> View:
        """The request's view of the same labels at ``threshold`` under ``conditions``."""
        labels = None if self.class_filter is None else list(self.class_filter)
        return View.get(self.request, self.model, self.split, threshold, labels, conditions)

    def unavailable(self, what: str) -> BadUserInput:
        """The error for a part only the other task defines (an error, not zeros)."""
        task = self.model.task
        return BadUserInput(
            f'{what} is not available for {task} models (model "{self.model.name}" is {task})'
        )

    # --- what each task supplies ---------------------------------------------

    @abstractmethod
    async def counted(self) -> Counted:
        """The view's counts at its threshold (one pass, shared by its fields)."""

    @abstractmethod
    async def counts(self) -> np.ndarray:
        """The full (K+1)x(K+1) matrix of the view's rows; COST_LIMIT past the limit."""

    @abstractmethod
    async def distribution(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows per actual and per predicted label: the view's labels, then None."""

    @abstractmethod
    async def _confusions(self) -> np.ndarray | None:
        """The matrix insights may read pairs from; None when it has none."""

    @abstractmethod
    def _curve_counts(self, thresholds: np.ndarray) -> CountedOver:
        """Blocking: the view's counts at each of ``thresholds``."""

    @abstractmethod
    def _ranked_together(self, code: int) -> tuple[int, ...]:
        """The labels ranked in one pass with label ``code``."""

    @abstractmethod
    def _rank(self, data: SplitData, codes: np.ndarray, rows: np.ndarray | None) -> Ranking:
        """Blocking: the rows ranked by each label's score."""

    @abstractmethod
    def _steps(self, data: SplitData, code: int, rows: np.ndarray | None) -> PrecisionSteps:
        """Blocking: label ``code``'s TP and FP at each distinct confidence."""

    @abstractmethod
    def _label_steps(self, data: SplitData, code: int, rows: np.ndarray | None) -> LabelSteps:
        """Blocking: label ``code``'s positives and negatives scoring at least
        each distinct score, over every row of ``rows`` (its ROC/PR vertices)."""

    @abstractmethod
    async def _top_k(self, k: int) -> tuple[int, int] | None:
        """Rows whose actual label is among the k highest scores, and rows counted."""

    @abstractmethod
    def _cell_selection(
        self, actual: str | None, predicted: str | None, outcome: str | None
    ) -> Any:
        """The rows ``Metrics.rows`` selects (``actual``/``predicted`` UNSET when not given)."""

    @abstractmethod
    def _label_selection(self, code: int, outcome: str) -> Any:
        """Label ``code``'s TP, FP, FN or TN rows."""

    @abstractmethod
    async def _page(
        self, selection: Any, order: str, after: int, limit: int
    ) -> tuple[Page, list[RowRecord], int]:
        """The selection's rows after key ``after``, and how many match in all."""

    @abstractmethod
    def records(self, positions: np.ndarray) -> list[RowRecord]:
        """Blocking: the rows at ``positions``, as the view sees them."""

    @abstractmethod
    def _histogram(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Blocking: predictions and right ones per confidence bin."""

    def _unlabeled_histogram(self, edges: np.ndarray) -> np.ndarray:
        """Blocking: of ``_histogram``'s predictions, those per bin on rows
        without an actual label; none where every row is labeled (multilabel,
        and any class filter)."""
        return np.zeros(len(edges) - 1, dtype=np.int64)

    def _actual_codes(self, data: SplitData) -> np.ndarray | None:
        """The actual codes that decide a row's place in a breakdown's slices
        (the class filter); None when every row of the mask is in the view."""
        return None

    def _group_matrices(
        self, data: SplitData, groups: int, count: Callable[..., np.ndarray]
    ) -> np.ndarray | None:
        """A breakdown's confusion matrices, one per group, counted in one pass
        by ``count(actual, predicted, confidence, threshold, K, mask)``; None
        when the task has none or they do not fit (each slice then counts)."""
        return None

    def preset(self, counts: np.ndarray) -> None:
        """Give the view its confusion counts, counted with a breakdown's slices."""
        raise NotImplementedError("only a view with confusion matrices is preset")

    @abstractmethod
    def verdicts(self, data: SplitData) -> np.ndarray:
        """Blocking: per row of the split, whether the view's task counts it
        right (1), wrong (0) or leaves it out of the view (-1), as
        ``engine.compare`` reads them."""

    def compare_side(self) -> CompareSide | None:
        """What a cluster needs to take ``verdicts`` on the split's fragments;
        None where the task's verdicts are taken in process only (multilabel)."""
        return None

    async def _judged_totals(self) -> Totals | None:
        """The per-label totals balanced accuracy reads; None where the task
        does not define it (multilabel)."""
        return None

    async def _judged_counts(self) -> np.ndarray | None:
        """The (K+1)x(K+1) matrix MCC, kappa and the F1 bootstrap read; None
        where the task does not define them (multilabel)."""
        return None

    def counted_now(self) -> Counted | None:
        """The view's counts when this request has counted them already, else None."""
        return None

    # --- built on them, once for both tasks ----------------------------------

    def when_counted(self, read: Callable[[Counted], T]) -> T | Awaitable[T]:
        """``read(counts)`` at once when the view is counted, else an awaitable
        of it. A field read off the counts then completes without a coroutine
        of its own: graphql-core runs every awaitable field as a task, which
        cost more than the field (the summary page has ten)."""
        counted = self.counted_now()
        if counted is not None:
            return read(counted)
        return self._read_counted(read)

    async def _read_counted(self, read: Callable[[Counted], T]) -> T:
        return read(await self.counted())

    async def summary(self) -> Summary | MultilabelSummary:
        """Total, predicted and correct rows (of the class filter's rows, if any)."""
        return (await self.counted()).summary

    async def label_counts(self, codes: np.ndarray | None = None) -> LabelCounts:
        """Per-label TP/FP/FN/TN of ``codes`` (default: the view's labels)."""
        return (await self.counted()).label_counts(codes)

    async def average(self, metric: str, how: str) -> float:
        """``metric`` averaged ``how`` (MACRO, MICRO, WEIGHTED) over the view's labels."""
        return self.average_of(await self.counted(), metric, how)

    @staticmethod
    def average_of(counted: Counted, metric: str, how: str) -> float:
        """``average`` from the view's counts."""
        return average(metric, counted.label_counts(None), how)

    async def per_label(self) -> list[LabelRow]:
        """One entry per label of the view, in the view's label order."""
        return (await self.label_table()).rows()

    async def label_table(self) -> LabelTable:
        """``per_label`` column by column (what a GraphQL list of plain
        fields is completed from, api/plain_fields.py)."""
        return _label_table(await self.label_counts(), self.label_names)

    async def label(self, name: str) -> LabelRow | None:
        """Label ``name``'s entry; None when the view does not cover it."""
        code = label_code(self.model, name)
        if name not in self.label_names:
            return None
        # Counts of this one label only: O(1) rows, not the table of K.
        return _label_table(await self.label_counts(np.array([code])), [name]).rows()[0]

    async def label_metric(self, metric: str, code: int) -> float:
        """One per-label metric of label ``code``."""
        return float(PER_LABEL[metric](await self.label_counts(np.array([code])))[0])

    async def matrix(self) -> np.ndarray:
        """The confusion matrix on the selected labels plus None."""
        return submatrix(await self.counts(), self.codes)

    async def matrix_cells(self, min_count: int, off_diagonal: bool, first: int) -> Cells:
        """The ``first`` largest cells of ``matrix()`` with at least ``min_count``
        rows (off the diagonal only, if asked), largest first, ties in matrix
        order; codes are positions in the matrix (its labels, None last)."""
        index = np.append(self.codes, len(self.model.labels))
        return largest_cells(
            await self._cells(), index, min_count, off_diagonal, first
        )

    async def _cells(self) -> Cells:
        """The non-empty cells of the view's full confusion matrix."""
        counts = await self.counts()
        a, p = np.nonzero(counts)
        return Cells(a, p, counts[a, p])

    async def curve(self, label: str | None, points: int) -> list[CurveValues]:
        """``points`` thresholds evenly spaced over [0, 1], each the metrics of
        the view there: of ``label``, or MACRO over its labels."""
        limits.check_within("points", points, 2, limits.MAX_CURVE_POINTS)
        code = None if label is None else self.code_of(label)
        thresholds = grid(points)
        counts = await self._once(("curve", points), lambda: self._curve_counts(thresholds))
        codes = self.codes if code is None else np.array([code])
        values = []
        for j, t in enumerate(thresholds):
            at = counts.at(j)
            s, c = at.summary, at.label_counts(codes)
            if code is None:
                ratios = {m: average(m, c, "MACRO") for m in AVERAGED_METRICS}
            else:
                ratios = {m: float(PER_LABEL[m](c)[0]) for m in AVERAGED_METRICS}
            values.append(CurveValues(float(t), s.coverage, s.accuracy, s.selective_accuracy,
                                      ratios))
        return values

    async def histogram(self, bins: int) -> list[HistogramBin]:
        """``bins`` equal-width bins over [0, 1] of the predictions' confidences."""
        edges = _histogram_edges(bins)
        count, correct = await self._once(("histogram", bins), lambda: self._histogram(edges))
        return [
            HistogramBin(float(edges[i]), float(edges[i + 1]), int(count[i]), int(correct[i]))
            for i in range(bins)
        ]

    async def histogram_labeled(self, bins: int) -> np.ndarray:
        """Per bin of ``histogram(bins)``, the predictions on rows with an actual
        label: the bin's correct / labeled is its accuracy, as the view's
        accuracy is correct / labeled. Counted only when asked for."""
        edges = _histogram_edges(bins)
        count, _ = await self._once(("histogram", bins), lambda: self._histogram(edges))
        unlabeled = await self._once(
            ("histogram-unlabeled", bins), lambda: self._unlabeled_histogram(edges)
        )
        return count - unlabeled

    async def breakdown(self, column: str, bins: int) -> list[breakdown.Slice]:
        """The view's rows cut by a metadata column (see ``views.breakdown``)."""
        return await breakdown.breakdown(self, column, bins)

    async def rows(
        self,
        actual: str | None,
        predicted: str | None,
        outcome: str | None,
        order: str,
        first: int,
        after: str | None,
    ) -> RowPage:
        """``Metrics.rows``: ``actual``/``predicted`` are label names, None for
        None, ``strawberry.UNSET`` when not given."""
        selection = self._cell_selection(actual, predicted, outcome)
        return await self._paged(selection, order, first, after)

    async def label_rows(
        self, code: int, outcome: str, order: str, first: int, after: str | None
    ) -> RowPage:
        """``LabelMetrics.rows``: label ``code``'s TP, FP, FN or TN rows."""
        return await self._paged(self._label_selection(code, outcome), order, first, after)

    async def _paged(self, selection: Any, order: str, first: int, after: str | None) -> RowPage:
        limits.check_within("first", first, 1, limits.MAX_FIRST)
        split = self.split
        query = fingerprint(
            "rows", split.model, split.run, split.name, split.version,
            float(as_threshold(self.threshold)), self.conditions, selection.fingerprint(), order,
        )
        key = decode_cursor(after, query)
        page, records, total = await self._page(selection, order, key, first)
        return RowPage.of(page, records, query, total)


def _histogram_edges(bins: int) -> np.ndarray:
    """``bins`` equal-width edges over [0, 1]; ``bins`` checked against its bound."""
    limits.check_within("bins", bins, 1, limits.MAX_BINS)
    return np.arange(bins + 1) / bins  # 3 / 5 is 0.6, where linspace says 0.6000000000000001


def _label_table(c: LabelCounts, names: list[str]) -> LabelTable:
    """The per-label table of counts ``c`` (labels named ``names``, in order).

    Each column goes to Python once (``tolist``): indexing NumPy arrays and
    LabelCounts' derived properties per label made a table of 10,000 labels
    quadratic (0.55 s of a 1.9 s page)."""
    return LabelTable(
        names=names, codes=c.labels.tolist(),
        ratios={metric: fn(c).tolist() for metric, fn in PER_LABEL.items()},
        support=c.support.tolist(), predicted=c.predicted.tolist(),
        tp=c.tp.tolist(), fp=c.fp.tolist(), fn=c.fn.tolist(), tn=c.tn.tolist(),
    )
