"""Metrics of a view: the summary, the averages, the matrix and the per-label table."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from typing import TypeAlias, TypeVar

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from evalql.api.limits import MAX_CURVE_POINTS, MAX_FIRST, MAX_RESAMPLES, check_within
from evalql.api.plain_fields import PlainRows
from evalql.api.scalars import Matrix, nullable
from evalql.api.types.calibration import CalibrationMetrics
from evalql.api.types.curves import CurvePoint, PrPoint, RocPoint, ThresholdChoice
from evalql.api.types.enums import (
    Average,
    CohenWeights,
    LabelOutcome,
    Normalize,
    Outcome,
    RowOrder,
)
from evalql.api.types.insights import Insight
from evalql.api.types.rows import RowConnection
from evalql.api.types.slices import HistogramBin, Slice
from evalql.api.views import Interval as Bounds
from evalql.api.views import LabelRow, LabelTable, View

T = TypeVar("T")
# A field read off the view's counts: its value when the view is counted
# already (View.when_counted), else an awaitable of it.
Ready: TypeAlias = T | Awaitable[T]


@strawberry.type(description="One cell of a confusion matrix; null is None.")
class ConfusionCell:
    actual: str | None
    predicted: str | None
    count: int


@strawberry.type(description="Counts per (actual, predicted) over the view's labels plus None.")
class ConfusionMatrix:
    names: strawberry.Private[list[str | None]]
    view: strawberry.Private[View]
    normalize: strawberry.Private[Normalize]

    @strawberry.field(description="Row and column order; the last entry, null, is None.")
    def labels(self) -> list[str | None]:
        return self.names

    @strawberry.field(
        description="counts[actual][predicted], serialized whole: integers, or with "
        "confusionMatrix(normalize:) other than NONE, the shares as floats. Refused "
        "(COST_LIMIT) past the dense-matrix limit; cells answers at any label count."
    )
    async def counts(self) -> Matrix:
        if self.normalize is Normalize.NONE:
            return await self.view.matrix()
        return await self.view.normalized_matrix(self.normalize.value)

    @strawberry.field(
        description="Non-empty cells, largest first (ties in matrix order); always counts."
    )
    async def cells(
        self, min_count: int = 1, off_diagonal: bool = False, first: int = 100
    ) -> list[ConfusionCell]:
        check_within("first", first, 1, MAX_FIRST)
        c = await self.view.matrix_cells(min_count, off_diagonal, first)
        return [
            ConfusionCell(actual=self.names[a], predicted=self.names[p], count=n)
            for a, p, n in zip(c.actual.tolist(), c.predicted.tolist(), c.count.tolist(),
                               strict=True)
        ]


@strawberry.type(description="A two-sided confidence interval at a confidence level.")
class Interval:
    low: float
    high: float
    level: float

    @classmethod
    def of(cls, bounds: Bounds | None) -> Interval | None:
        return None if bounds is None else cls(low=bounds.low, high=bounds.high, level=bounds.level)


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
    def from_row(cls, view: View, r: LabelRow) -> LabelMetrics:
        return cls(
            label=r.label, view=view, code=r.code,
            **{metric: nullable(value) for metric, value in r.ratios.items()},
            support=r.support, predicted=r.predicted, tp=r.tp, fp=r.fp, fn=r.fn, tn=r.tn,
        )

    @classmethod
    def table(cls, view: View, t: LabelTable) -> PlainRows[LabelMetrics]:
        """The per-label table as columns of this type's attributes: a
        selection of plain fields is answered from them without an object a
        label (api/plain_fields.py); any other builds the label's object."""
        columns: dict[str, list[object]] = {
            "label": list(t.names),
            **{metric: [nullable(v) for v in values]
               for metric, values in t.ratios.items()},
            "support": t.support, "predicted": t.predicted,
            "tp": t.tp, "fp": t.fp, "fn": t.fn, "tn": t.tn,
        }

        def item(i: int) -> LabelMetrics:
            return cls(view=view, code=t.codes[i],
                       **{name: values[i] for name, values in columns.items()})

        return PlainRows(columns, len(t.names), item)

    @strawberry.field(
        description=(
            "Average precision of ranking the view's rows by this label's score "
            "(scores[label] when the split has scores, else the confidence where "
            "the prediction is this label and 0 elsewhere), as scikit-learn's "
            "average_precision_score. Multilabel: the score is the label's predicted "
            "confidence (at any threshold, 0 where the row does not predict it) and "
            "the positives are the rows with the label among their actual labels. "
            "Independent of the threshold and the class filter. Null when the "
            "label has no positives or no negatives in the view."
        )
    )
    async def average_precision(self) -> float | None:
        return nullable((await self.view.ranking(self.code))[0])

    @strawberry.field(
        description=(
            "Area under the ROC curve of the same ranking as averagePrecision, as "
            "scikit-learn's roc_auc_score (ties count half). Independent of the "
            "threshold. Null when the label has no positives or no negatives."
        )
    )
    async def roc_auc(self) -> float | None:
        return nullable((await self.view.ranking(self.code))[1])

    @strawberry.field(
        description=(
            "The ROC curve of the same ranking as rocAuc: its exact vertices, one per "
            "distinct score from the highest down after a first at threshold null "
            "(+inf), as roc_curve(y, score, drop_intermediate=False); more than "
            "`points` vertices are cut to `points` evenly spaced by index, the first "
            "and last kept (2..10,001). Independent of the threshold and the class "
            "filter; the row filter applies. Empty for an empty view."
        )
    )
    async def roc_curve(self, points: int = 101) -> list[RocPoint]:
        return RocPoint.list_of(await self.view.roc_curve(self.code, points))

    @strawberry.field(
        description=(
            "The precision-recall curve of the same ranking as averagePrecision: "
            "precision_recall_curve's vertices from the strictest threshold down, the "
            "first at threshold null (+inf, precision 1, recall 0); cut to `points` "
            "as rocCurve."
        )
    )
    async def pr_curve(self, points: int = 101) -> list[PrPoint]:
        return PrPoint.list_of(await self.view.pr_curve(self.code, points))

    @strawberry.field(
        description=(
            "TN / (TN + FP): the true negative rate, recall of \"not this label\" "
            "(TN counts every row of the view neither actual nor predicted this label, "
            "unlabeled rows included). Null when the label has no negatives."
        )
    )
    async def specificity(self) -> float | None:
        return await self.view.label_rate("specificity", self.code)

    @strawberry.field(
        description="FP / (FP + TN) = 1 - specificity. Null when the label has no negatives."
    )
    async def false_positive_rate(self) -> float | None:
        return await self.view.label_rate("falsePositiveRate", self.code)

    @strawberry.field(
        description=(
            "Wilson score interval of precision, TP of TP + FP rows (level in (0, 1)). "
            "Null when the label is never predicted."
        )
    )
    async def precision_interval(self, level: float = 0.95) -> Interval | None:
        return Interval.of(await self.view.label_interval("precision", self.code, level))

    @strawberry.field(
        description=(
            "Wilson score interval of recall, TP of TP + FN rows (level in (0, 1)). "
            "Null when the label has no support."
        )
    )
    async def recall_interval(self, level: float = 0.95) -> Interval | None:
        return Interval.of(await self.view.label_interval("recall", self.code, level))

    @strawberry.field(
        description=(
            "This label's TP, FP, FN or TN rows (as many as tp, fp, fn, tn count: every "
            "row of the view, the class filter aside), paged with cursors. Multilabel: "
            "TP = actual and kept, FP = kept and not actual, FN = actual and not kept, "
            "TN = neither; CONFIDENCE_* order by this label's own confidence."
        )
    )
    async def rows(
        self,
        outcome: LabelOutcome,
        order_by: RowOrder = RowOrder.CONFIDENCE_DESC,
        first: int = 50,
        after: str | None = None,
    ) -> RowConnection:
        page = await self.view.label_rows(self.code, outcome.value, order_by.value, first, after)
        return RowConnection.from_page(page)


@strawberry.type(description="How often a label (null = None) is the actual and the predicted one.")
class LabelCount:
    label: str | None
    actual: int
    predicted: int


# Metrics fields read straight off the view's counts (View.when_counted).
COUNTED_FIELDS = frozenset({
    "total", "labeled", "predicted", "correct", "coverage", "accuracy", "selectiveAccuracy",
    "precision", "recall", "f1", "hammingScore", "subsetAccuracy",
})


def reads_counts(selections: list[Selection]) -> bool:
    """Whether a selection on Metrics (fragments looked into) asks for a
    field of ``COUNTED_FIELDS``."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name in COUNTED_FIELDS:
                return True
        elif reads_counts(selection.selections):
            return True
    return False


@strawberry.type(description="Metrics of one view: a split at a threshold, class and row filter.")
class Metrics(CalibrationMetrics):
    view: strawberry.Private[View]

    @classmethod
    def of(cls, view: View, selections: list[Selection]) -> Metrics | Awaitable[Metrics]:
        """The view's Metrics; when the query reads fields off its counts, an
        awaitable that counts first, so those fields complete at once (and
        a query asking none of them computes no counts)."""
        metrics = cls(view=view)
        return metrics._counted_first() if reads_counts(selections) else metrics

    async def _counted_first(self) -> Metrics:
        # A failure is left to the fields: each awaits the counts again and
        # reports the error at its own path, as without this step.
        with contextlib.suppress(Exception):
            await self.view.counted()
        return self

    @strawberry.field(description="Predictions with confidence below it count as None.")
    def threshold(self) -> float:
        return self.view.threshold

    def _average(self, metric: str, average: Average) -> Ready[float | None]:
        return self.view.when_counted(lambda c: self.view.average_of(c, metric, average.value))

    @strawberry.field(
        graphql_type=int,
        description="Rows in the view; with a class filter, those of its labels.",
    )
    def total(self) -> Ready[int]:
        return self.view.when_counted(lambda c: c.summary.total)

    @strawberry.field(
        graphql_type=int,
        description="Rows with an actual label: the rows accuracy judges (rows without "
        "ground truth cannot be judged). With a class filter, equal to total. "
        "Multilabel: every row (an empty actual set is an answer)."
    )
    def labeled(self) -> Ready[int]:
        return self.view.when_counted(lambda c: c.summary.labeled)

    @strawberry.field(
        graphql_type=int,
        description="Rows with a prediction at or above the threshold, labeled or not."
    )
    def predicted(self) -> Ready[int]:
        return self.view.when_counted(lambda c: c.summary.predicted)

    @strawberry.field(
        graphql_type=int,
        description="Rows whose predicted label equals the actual label. Multilabel: "
        "exact matches, rows whose kept labels are exactly the actual labels (on the "
        "view's labels; a row with neither counts)."
    )
    def correct(self) -> Ready[int]:
        return self.view.when_counted(lambda c: c.summary.correct)

    @strawberry.field(
        graphql_type=float | None,
        description="predicted / total (every row of the view, labeled or not).",
    )
    def coverage(self) -> Ready[float | None]:
        return self.view.when_counted(lambda c: nullable(c.summary.coverage))

    @strawberry.field(
        graphql_type=float | None,
        description="correct / labeled: abstentions count as errors; rows without an "
        "actual label are left out, so the class filter with every label gives the "
        "same accuracy as no filter. Null when no row is labeled. Multilabel: the "
        "Hamming score."
    )
    def accuracy(self) -> Ready[float | None]:
        return self.view.when_counted(lambda c: nullable(c.summary.accuracy))

    @strawberry.field(
        graphql_type=float | None,
        description="correct / (labeled rows with a prediction at or above the "
        "threshold): accuracy on the judged rows the model answered. Null when there "
        "is none. Multilabel: exact matches among the rows with a kept label."
    )
    def selective_accuracy(self) -> Ready[float | None]:
        return self.view.when_counted(lambda c: nullable(c.summary.selective_accuracy))

    @strawberry.field(
        graphql_type=float | None,
        description="Averaged precision over the view's labels.",
    )
    def precision(self, average: Average = Average.MACRO) -> Ready[float | None]:
        return self._average("precision", average)

    @strawberry.field(
        graphql_type=float | None,
        description="Averaged recall over the view's labels.",
    )
    def recall(self, average: Average = Average.MACRO) -> Ready[float | None]:
        return self._average("recall", average)

    @strawberry.field(
        graphql_type=float | None,
        description="Averaged F1 over the view's labels.",
    )
    def f1(self, average: Average = Average.MACRO) -> Ready[float | None]:
        return self._average("f1", average)

    @strawberry.field(
        graphql_type=float | None,
        description="1 - Hamming loss (multilabel); null for multiclass models.",
    )
    def hamming_score(self) -> Ready[float | None]:
        return self.view.when_counted(lambda c: nullable(c.summary.hamming_score))

    @strawberry.field(
        graphql_type=float | None,
        description="Exact-match ratio; equals accuracy for multiclass.",
    )
    def subset_accuracy(self) -> Ready[float | None]:
        return self.view.when_counted(lambda c: nullable(c.summary.subset_accuracy))

    @strawberry.field(
        description=(
            "Mean recall over the view's labels that occur as an actual label, over "
            "the judged rows: rows whose actual label is a view's label (unlabeled rows "
            "are left out; an abstention or a label outside the view is a class of its "
            "own), as scikit-learn's balanced_accuracy_score. Null when no row is "
            "judged, and for multilabel models."
        )
    )
    async def balanced_accuracy(self) -> float | None:
        return await self.view.balanced_accuracy()

    @strawberry.field(
        description=(
            "Multiclass Matthews correlation coefficient of the judged rows (see "
            "balancedAccuracy; None is a class), as scikit-learn's matthews_corrcoef. "
            "Null when undefined (one actual or one predicted class, where "
            "scikit-learn says 0), and for multilabel models."
        )
    )
    async def matthews_corrcoef(self) -> float | None:
        return await self.view.matthews_corrcoef()

    @strawberry.field(
        description=(
            "Cohen's kappa between actual and predicted label of the judged rows (see "
            "balancedAccuracy), as scikit-learn's cohen_kappa_score with labels in the "
            "order: the view's labels, the other labels, None (see CohenWeights). Null "
            "when undefined (no judged rows, or no expected disagreement), and for "
            "multilabel models."
        )
    )
    async def cohen_kappa(self, weights: CohenWeights = CohenWeights.NONE) -> float | None:
        return await self.view.cohen_kappa(weights.value)

    @strawberry.field(
        description=(
            "F-beta, (1 + β²) TP / (β² (TP + FN) + TP + FP), averaged over the view's "
            "labels as f1 is (beta >= 0; 1 is F1, 0 precision), as scikit-learn's "
            "fbeta_score. Multilabel: from the per-label counts of perLabel."
        )
    )
    async def f_beta(self, beta: float, average: Average = Average.MACRO) -> float | None:
        return await self.view.f_beta(beta, average.value)

    @strawberry.field(
        description=(
            "Wilson score interval of accuracy, correct of labeled rows (level in "
            "(0, 1)), as scipy's binomtest(...).proportion_ci(method=\"wilson\"). "
            "Null when no row is labeled and for multilabel models."
        )
    )
    async def accuracy_interval(self, level: float = 0.95) -> Interval | None:
        return Interval.of(await self.view.accuracy_interval(level))

    @strawberry.field(
        description=(
            "Bootstrap percentile interval of f1(average): the view's rows resampled "
            "with replacement `resamples` times (a multinomial draw over the confusion "
            "matrix's cells), F1 averaged in each, and the (1 - level)/2 and "
            "(1 + level)/2 quantiles taken; the same seed gives the same interval. "
            f"resamples is 1..{MAX_RESAMPLES:,}; COST_LIMIT when it is estimated to "
            "take too long. Null for an empty view and for multilabel models."
        )
    )
    async def f1_interval(
        self,
        average: Average = Average.MACRO,
        level: float = 0.95,
        resamples: int = 1000,
        seed: int = 0,
    ) -> Interval | None:
        return Interval.of(await self.view.f1_interval(average.value, level, resamples, seed))

    @strawberry.field(
        description="The confusion matrix on the view's labels plus None; counts divided "
        "as scikit-learn's confusion_matrix(normalize=) unless NONE (see Normalize)."
    )
    def confusion_matrix(self, normalize: Normalize = Normalize.NONE) -> ConfusionMatrix:
        return ConfusionMatrix(names=[*self.view.label_names, None], view=self.view,
                               normalize=normalize)

    @strawberry.field(description="One entry per label of the view, in the view's label order.")
    async def per_label(self) -> list[LabelMetrics]:
        return LabelMetrics.table(self.view, await self.view.label_table())  # type: ignore[return-value]

    @strawberry.field(description="One label's metrics; null when the view does not cover it.")
    async def label(self, name: str) -> LabelMetrics | None:
        row = await self.view.label(name)
        return None if row is None else LabelMetrics.from_row(self.view, row)

    @strawberry.field(description="What is worth telling about this view, most severe first.")
    async def insights(self) -> list[Insight]:
        return [Insight.from_record(r) for r in await self.view.insights()]

    @strawberry.field(description="Actual and predicted counts per label, None last.")
    async def label_distribution(self) -> list[LabelCount]:
        actual, predicted = await self.view.distribution()
        names = [*self.view.label_names, None]
        return [
            LabelCount(label=name, actual=int(a), predicted=int(p))
            for name, a, p in zip(names, actual, predicted, strict=True)
        ]

    @strawberry.field(
        description=(
            "The rows behind a count, paged with cursors (first: 1..1000). actual and "
            "predicted are label names, null for None (so a ConfusionCell's actual and "
            "predicted select its cell); outcome partitions the rows (see Outcome). "
            "rows(actual: A, predicted: B) is the cell A→B, rows(actual: A, outcome: "
            "ABSTAINED) is A→None, rows(predicted: B, outcome: UNLABELED) is None→B. "
            "With a class filter: rows whose actual label is in it, plus the "
            "None row when asked for (UNLABELED or actual: null). totalCount equals the "
            "matching count of the matrix or summary. Multilabel, on the view's labels: "
            "actual: A = A is among the actual labels, predicted: B = B is kept, null = "
            "no such label, so (actual, predicted) is a cell of the multilabel matrix; "
            "CORRECT / INCORRECT = exact match or not (correct, total - correct); "
            "ABSTAINED = no label kept (total - predicted); UNLABELED = no actual label; "
            "every row of the view is a candidate, and all conditions given hold."
        )
    )
    async def rows(
        self,
        actual: str | None = strawberry.UNSET,
        predicted: str | None = strawberry.UNSET,
        outcome: Outcome | None = None,
        order_by: RowOrder = RowOrder.CONFIDENCE_DESC,
        first: int = 50,
        after: str | None = None,
    ) -> RowConnection:
        kind = None if outcome is None else outcome.value
        page = await self.view.rows(actual, predicted, kind, order_by.value, first, after)
        return RowConnection.from_page(page)

    @strawberry.field(
        description=(
            "The calibration picture: bins equal-width bins over [0, 1] (the last one "
            "includes 1.0; bins 1..1000) counting the view's rows with a prediction, "
            "also those abstained at the threshold, how many are right, and how many "
            "have an actual label (labeled: correct / labeled is the bin's accuracy). From "
            "the threshold up (when it is an edge) the bins add up to predicted and correct. "
            "Multilabel: the bins count predicted (row, label) pairs of the view's "
            "labels by their confidence, and correct those whose label is actual (a TP "
            "once kept), so from the threshold up they add up to the sums of perLabel's "
            "predicted and tp."
        )
    )
    async def confidence_histogram(self, bins: int = 10) -> list[HistogramBin]:
        return HistogramBin.from_bins(self.view, await self.view.histogram(bins))

    @strawberry.field(
        description=(
            "The view's rows cut by a metadata column: one slice per value of a string "
            "or bool column, largest first (at most 1000, else COST_LIMIT); `bins` "
            "equal-width bins between the smallest and largest value of a number or "
            "time column, in order. Rows without a value form a last slice, \"null\". "
            "The counts add up to total; each slice's metrics is this view with the "
            "slice's condition added."
        )
    )
    async def breakdown(self, column: str, bins: int = 10) -> list[Slice]:
        return [Slice.from_cut(c) for c in await self.view.breakdown(column, bins)]

    @strawberry.field(
        description=(
            "The threshold slider in one call: `points` thresholds evenly spaced over "
            "[0, 1] (t = i / (points - 1)), each point equal to metrics(threshold: t) "
            "of this view (its class and row filter; its own threshold plays no "
            "part): coverage, accuracy, selectiveAccuracy, and precision, recall, "
            "f1 of `label`, or their MACRO averages when label is null (multilabel: "
            "accuracy is the Hamming score, selectiveAccuracy the exact matches among "
            "the rows with a kept label, both on the view's labels). "
            f"points is 2..{MAX_CURVE_POINTS}."
        )
    )
    async def curve(self, label: str | None = None, points: int = 101) -> list[CurvePoint]:
        return [CurvePoint.from_values(v) for v in await self.view.curve(label, points)]

    @strawberry.field(
        description=(
            "The mean of averagePrecision over the view's labels where it is defined "
            "(labels with positives and negatives), as scikit-learn averages over "
            "the labels present; null when it is defined for none."
        )
    )
    async def mean_average_precision(self) -> float | None:
        return await self.view.mean_average_precision()

    @strawberry.field(
        description=(
            "Share of the view's rows whose actual label is among the k highest "
            "scores (ties count in the row's favour), over the same rows as "
            "accuracy (labeled ones). Independent of the threshold. Null "
            "when the split has no scores."
        )
    )
    async def top_k_accuracy(self, k: int) -> float | None:
        share = await self.view.top_k_accuracy(k)
        return None if share is None else nullable(share)

    @strawberry.field(
        description=(
            "The lowest threshold at which `label`'s precision is at least "
            "`minPrecision`, with the label's recall and the view's coverage there: "
            "the point of the precision-recall curve a user asks for (\"how low can "
            "the threshold go and keep 95% precision?\"). Searched exactly over the "
            "distinct confidences of the label's predictions, not a grid; the lowest "
            "qualifying threshold keeps the most predictions, so it has the highest "
            "recall of them. 0 when every prediction of the label qualifies; null "
            "when no threshold reaches the precision."
        )
    )
    async def threshold_for_precision(
        self, label: str, min_precision: float
    ) -> ThresholdChoice | None:
        chosen = await self.view.threshold_for_precision(label, min_precision)
        return None if chosen is None else ThresholdChoice(view=chosen[0], code=chosen[1])

    @strawberry.field(
        description=(
            "The highest threshold at which `label`'s recall (TP over its support) is "
            "at least `minRecall`, with the label's precision and the view's coverage "
            "there. Recall only grows as the threshold falls, so the highest qualifying "
            "threshold keeps the fewest predictions and so has the best precision "
            "among them. Searched exactly over the distinct confidences of the label's "
            "predictions. 1 when minRecall is 0; null when no threshold reaches it "
            "(or the label has no support)."
        )
    )
    async def threshold_for_recall(
        self, label: str, min_recall: float
    ) -> ThresholdChoice | None:
        chosen = await self.view.threshold_for_recall(label, min_recall)
        return None if chosen is None else ThresholdChoice(view=chosen[0], code=chosen[1])
