"""Threshold questions: the points of a curve, and the threshold that reaches a precision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from evalql.api.scalars import nullable
from evalql.api.views import CurveValues, View

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
