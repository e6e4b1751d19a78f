"""Threshold questions: the points of a curve, and the threshold that reaches a precision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import numpy as np
import strawberry

from evalql.api.scalars import nullable
from evalql.api.views import View
from evalql.engine.averaging import AVERAGED_METRICS, average
from evalql.engine.curves import ThresholdCounts
from evalql.engine.metrics import PER_LABEL, LabelCounts, Summary, label_counts, summary
from evalql.engine.multilabel.counts import MultilabelSummary, MultilabelThresholdCounts

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
    def series(
        cls,
        counts: ThresholdCounts | MultilabelThresholdCounts,
        thresholds: np.ndarray,
        view: View,
        label: int | None,
    ) -> list[CurvePoint]:
        """One point per threshold, ``thresholds[j]`` being the value counted at ``j``."""
        codes = view.codes if label is None else np.array([label])
        points = []
        for j, t in enumerate(thresholds):
            if isinstance(counts, MultilabelThresholdCounts):
                at = counts.at(j)
                s, c = at.summary, at.label_counts(codes)
            else:
                totals = counts.totals(j)
                s = summary(totals, None if view.class_filter is None else view.codes)
                c = label_counts(totals, codes)
            points.append(cls.at(s, c, float(t), label is None))
        return points

    @classmethod
    def at(
        cls, s: Summary | MultilabelSummary, c: LabelCounts, threshold: float, macro: bool
    ) -> CurvePoint:
        """The point of one threshold's summary and label counts (the view's
        labels for a MACRO point, else the one label), through the same engine
        calls as Metrics."""
        if macro:
            ratios = {m: average(m, c, "MACRO") for m in AVERAGED_METRICS}
        else:
            ratios = {m: nullable(PER_LABEL[m](c)[0]) for m in AVERAGED_METRICS}
        return cls(
            threshold=threshold,
            coverage=nullable(s.coverage),
            accuracy=nullable(s.accuracy),
            selective_accuracy=nullable(s.selective_accuracy),
            **ratios,
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
        return await self._label_metric("precision")

    @strawberry.field(description="The label's recall at the threshold.")
    async def recall(self) -> float | None:
        return await self._label_metric("recall")

    @strawberry.field(description="predicted / total of the view at the threshold.")
    async def coverage(self) -> float | None:
        return nullable((await self.view.summary()).coverage)

    @strawberry.field(description="Every metric of the view at the threshold.")
    def metrics(self) -> Annotated[Metrics, strawberry.lazy("evalql.api.types.metrics")]:
        from evalql.api.types.metrics import Metrics

        return Metrics(view=self.view)

    async def _label_metric(self, name: str) -> float | None:
        c = await self.view.label_counts(np.array([self.code]))
        return nullable(PER_LABEL[name](c)[0])
