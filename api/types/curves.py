"""Threshold questions: the points of a curve, a label's ROC and
precision-recall vertices, and the threshold that reaches a precision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import numpy as np
import strawberry

from evalql.api.scalars import nullable
from evalql.api.views import CurveValues, PrCurve, RocCurve, View
from evalql.api.views.rows import shortest

if TYPE_CHECKING:
    from evalql.api.types.metrics import Metrics


@strawberry.type(
    description=(
        "The view's metrics at one threshold of a curve, equal to what "
        "metrics(threshold: t) answers: precision, recall and f1 of the curve's "
        "label, or their MACRO averages over the view's labels when it has none."
    )
)
class CurvePoint:
    threshold: float
    coverage: float | None
    accuracy: float | None
    selective_accuracy: float | None
    precision: float | None
    recall: float | None
    f1: float | None

    @classmethod
    def from_values(cls, v: CurveValues) -> CurvePoint:
        return cls(
            threshold=v.threshold,
            coverage=nullable(v.coverage),
            accuracy=nullable(v.accuracy),
            selective_accuracy=nullable(v.selective_accuracy),
            **{metric: nullable(value) for metric, value in v.ratios.items()},
        )


@strawberry.type(
    description=(
        "One vertex of a label's ROC curve: at threshold t the rows scoring at "
        "least t count as predicted positive. The first vertex is at threshold "
        "null (+inf: nothing kept, rates 0), as roc_curve's first one."
    )
)
class RocPoint:
    threshold: float | None = strawberry.field(
        description=(
            "The score (the shortest decimal float32 reads back as it); null for the "
            "first vertex (+inf in scikit-learn)."
        )
    )
    false_positive_rate: float | None = strawberry.field(
        description="FP / negatives; null when the label has no negatives."
    )
    true_positive_rate: float | None = strawberry.field(
        description="TP / positives; null when the label has no positives."
    )

    @classmethod
    def list_of(cls, c: RocCurve) -> list[RocPoint]:
        return [
            cls(threshold=_finite(t), false_positive_rate=nullable(f),
                true_positive_rate=nullable(r))
            for t, f, r in zip(c.thresholds.tolist(), c.false_positive_rate.tolist(),
                               c.true_positive_rate.tolist(), strict=True)
        ]


@strawberry.type(
    description=(
        "One vertex of a label's precision-recall curve, from the strictest "
        "threshold down: the first at threshold null (+inf: precision 1, "
        "recall 0), the point precision_recall_curve appends last."
    )
)
class PrPoint:
    threshold: float | None = strawberry.field(
        description="The score; null for the first vertex (+inf)."
    )
    precision: float | None = strawberry.field(
        description="TP / (TP + FP) of the rows scoring at least the threshold."
    )
    recall: float | None = strawberry.field(
        description="TP / positives; null when the label has no positives."
    )

    @classmethod
    def list_of(cls, c: PrCurve) -> list[PrPoint]:
        return [
            cls(threshold=_finite(t), precision=nullable(p), recall=nullable(r))
            for t, p, r in zip(c.thresholds.tolist(), c.precision.tolist(), c.recall.tolist(),
                               strict=True)
        ]


def _finite(t: float) -> float | None:
    """A vertex's float32 score as the shortest decimal that reads back as it
    (0.7, not 0.699999988079071); +inf (GraphQL has no infinity) as null."""
    return None if t == float("inf") else shortest(np.float32(t))


@strawberry.type(
    description=(
        "A threshold chosen for a label, with the label's precision and recall "
        "and the view's coverage there; metrics is the whole view at it."
    )
)
class ThresholdChoice:
    view: strawberry.Private[View]  # the same view at the chosen threshold
    code: strawberry.Private[int]  # the label's code

    @strawberry.field(
        description=(
            "The lowest threshold reaching the precision: 0 or a confidence of one "
            "of the label's predictions, as the shortest decimal that float32 "
            "rounds to it (so metrics(threshold: …) of it keeps that prediction)."
        )
    )
    def threshold(self) -> float:
        return self.view.threshold

    @strawberry.field(description="The label's precision at the threshold.")
    async def precision(self) -> float | None:
        return nullable(await self.view.label_metric("precision", self.code))

    @strawberry.field(description="The label's recall at the threshold.")
    async def recall(self) -> float | None:
        return nullable(await self.view.label_metric("recall", self.code))

    @strawberry.field(description="predicted / total of the view at the threshold.")
    async def coverage(self) -> float | None:
        return nullable((await self.view.summary()).coverage)

    @strawberry.field(description="Every metric of the view at the threshold.")
    def metrics(self) -> Annotated[Metrics, strawberry.lazy("evalql.api.types.metrics")]:
        from evalql.api.types.metrics import Metrics

        return Metrics(view=self.view)
