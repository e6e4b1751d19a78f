"""Metrics of a view: the summary, the averages, the matrix and the per-label table."""

from __future__ import annotations

import math

import numpy as np
import strawberry

from api.errors import BadUserInput
from api.scalars import Matrix
from api.types.enums import Average
from api.views import View
from engine.averaging import average as average_of
from engine.metrics import PER_LABEL, LabelCounts


def _opt(value: float) -> float | None:
    """NaN (undefined, 0/0) is null in the API."""
    return None if math.isnan(value) else float(value)


@strawberry.type(description="One cell of a confusion matrix; null is None.")
class ConfusionCell:
    actual: str | None
    predicted: str | None
    count: int


@strawberry.type(description="Counts per (actual, predicted) over the view's labels plus None.")
class ConfusionMatrix:
    names: strawberry.Private[list[str | None]]
    array: strawberry.Private[np.ndarray]

    @strawberry.field(description="Row and column order; the last entry, null, is None.")
    def labels(self) -> list[str | None]:
        return self.names

    @strawberry.field(description="counts[actual][predicted], serialized whole.")
    def counts(self) -> Matrix:
        return self.array

    @strawberry.field(description="Non-empty cells, largest first (ties in matrix order).")
    def cells(
        self, min_count: int = 1, off_diagonal: bool = False, first: int = 100
    ) -> list[ConfusionCell]:
        if not 1 <= first <= 10_000:
            raise BadUserInput(f"first has to be within 1..10000, got {first}")
        a, p = np.nonzero(self.array >= max(min_count, 1))
        if off_diagonal:
            keep = a != p
            a, p = a[keep], p[keep]
        values = self.array[a, p]
        order = np.lexsort((p, a, -values))[:first]
        return [
            ConfusionCell(actual=self.names[a[i]], predicted=self.names[p[i]], count=int(values[i]))
            for i in order
        ]


@strawberry.type(description="One label's one-vs-rest counts and metrics in a view.")
class LabelMetrics:
    label: str
    precision: float | None
    recall: float | None
    f1: float | None
    accuracy: float | None
    support: int
    predicted: int
    tp: int
    fp: int
    fn: int
    tn: int
    view: strawberry.Private[View]
    code: strawberry.Private[int]  # the label's code in the model's label order

    @classmethod
    def table(cls, view: View, c: LabelCounts) -> list[LabelMetrics]:
        """One entry per label of ``c``, in the view's label order."""
        values = {name: fn(c) for name, fn in PER_LABEL.items()}
        return [
            cls(
                label=name,
                view=view,
                code=int(c.labels[i]),
                **{metric: _opt(v[i]) for metric, v in values.items()},
                support=int(c.support[i]), predicted=int(c.predicted[i]),
                tp=int(c.tp[i]), fp=int(c.fp[i]), fn=int(c.fn[i]), tn=int(c.tn[i]),
            )
            for i, name in enumerate(view.label_names)
        ]


@strawberry.type(description="How often a label (null = None) is the actual and the predicted one.")
class LabelCount:
    label: str | None
    actual: int
    predicted: int


@strawberry.type(description="Metrics of one view: a split at a threshold, class and row filter.")
class Metrics:
    view: strawberry.Private[View]

    @strawberry.field(description="Predictions with confidence below it count as None.")
    def threshold(self) -> float:
        return self.view.threshold

    @strawberry.field(description="Rows in the view; with a class filter, those of its labels.")
    async def total(self) -> int:
        return (await self.view.summary()).total

    @strawberry.field(description="Rows with a prediction at or above the threshold.")
    async def predicted(self) -> int:
        return (await self.view.summary()).predicted

    @strawberry.field(description="Rows whose predicted label equals the actual label.")
    async def correct(self) -> int:
        return (await self.view.summary()).correct

    @strawberry.field(description="predicted / total.")
    async def coverage(self) -> float | None:
        return _opt((await self.view.summary()).coverage)

    @strawberry.field(description="correct / total: abstentions count as errors.")
    async def accuracy(self) -> float | None:
        return _opt((await self.view.summary()).accuracy)

    @strawberry.field(description="correct / predicted: accuracy on what the model answered.")
    async def selective_accuracy(self) -> float | None:
        return _opt((await self.view.summary()).selective_accuracy)

    @strawberry.field(description="Averaged precision over the view's labels.")
    async def precision(self, average: Average = Average.MACRO) -> float | None:
        return average_of("precision", await self.view.label_counts(), average.value)

    @strawberry.field(description="Averaged recall over the view's labels.")
    async def recall(self, average: Average = Average.MACRO) -> float | None:
        return average_of("recall", await self.view.label_counts(), average.value)

    @strawberry.field(description="Averaged F1 over the view's labels.")
    async def f1(self, average: Average = Average.MACRO) -> float | None:
        return average_of("f1", await self.view.label_counts(), average.value)

    @strawberry.field(description="Null for multiclass models.")
    def hamming_score(self) -> float | None:
        return None

    @strawberry.field(description="Exact-match ratio; equals accuracy for multiclass.")
    async def subset_accuracy(self) -> float | None:
        return _opt((await self.view.summary()).accuracy)

    @strawberry.field(description="The confusion matrix on the view's labels plus None.")
    async def confusion_matrix(self) -> ConfusionMatrix:
        return ConfusionMatrix(names=[*self.view.label_names, None], array=await self.view.matrix())

    @strawberry.field(description="One entry per label of the view, in the view's label order.")
    async def per_label(self) -> list[LabelMetrics]:
        return LabelMetrics.table(self.view, await self.view.label_counts())

    @strawberry.field(description="One label's metrics; null when the view does not cover it.")
    async def label(self, name: str) -> LabelMetrics | None:
        names = self.view.label_names
        if name not in self.view.model.labels:
            raise BadUserInput(f'label "{name}" is not a label of model "{self.view.model.name}"')
        if name not in names:
            return None
        return LabelMetrics.table(self.view, await self.view.label_counts())[names.index(name)]

    @strawberry.field(description="Actual and predicted counts per label, None last.")
    async def label_distribution(self) -> list[LabelCount]:
        totals = await self.view.totals()
        codes = [*self.view.codes, len(totals.actual) - 1]
        names = [*self.view.label_names, None]
        actual, predicted = totals.actual, totals.predicted
        return [
            LabelCount(label=name, actual=int(actual[c]), predicted=int(predicted[c]))
            for name, c in zip(names, codes, strict=True)
        ]
