"""Calibration fields of ``Metrics``: Brier score, log loss, the reliability
diagram and the expected calibration error (the view computes them,
``views/calibration.py``). ``Metrics`` takes them in as a base class, so
its own module stays within bounds."""

from __future__ import annotations

import strawberry

from evalql.api.limits import MAX_BINS
from evalql.api.scalars import nullable
from evalql.api.types.enums import CalibrationSource
from evalql.api.views import View


@strawberry.type(description="One bin of a reliability diagram.")
class CalibrationBin:
    low: float = strawberry.field(description="Exclusive, except for the first bin's 0.")
    high: float = strawberry.field(description="Inclusive.")
    mean_confidence: float | None = strawberry.field(
        description="Mean probability of the bin's rows; null for an empty bin."
    )
    accuracy: float | None = strawberry.field(
        description="How often the bin's rows were right; null for an empty bin."
    )
    count: int = strawberry.field(description="Rows in the bin.")


_ROWS = (
    "Rows count when they have an actual label (of the view's labels, under a class "
    "filter); from confidences, also only rows with a prediction kept at the "
    "threshold. From scores the threshold does not apply."
)
_PAIRS = (
    "Multilabel with scores: every (row, label) pair of the view's labels is one "
    "binary probability, as scikit-learn on the flattened Y[:, S] and P[:, S]"
)


@strawberry.type
class CalibrationMetrics:
    view: strawberry.Private[View]

    @strawberry.field(
        description="SCORES when the split has score vectors, else CONFIDENCE: what "
        "calibrationCurve and expectedCalibrationError are computed from."
    )
    def calibration_source(self) -> CalibrationSource:
        return CalibrationSource(self.view.calibration_source())

    @strawberry.field(
        description="Multiclass Brier score from the scores: mean over labelled rows of "
        "sum_k (p_k - y_k)², halved for two labels, as scikit-learn's brier_score_loss("
        f"labels=range(K)). {_PAIRS}: the mean over pairs of (p - y)². Null without "
        "scores."
    )
    async def brier_score(self) -> float | None:
        return await self.view.brier_score()

    @strawberry.field(
        description="Log loss from the scores: mean over labelled rows of -log p_actual "
        "(clipped to float32's eps), as scikit-learn's log_loss(labels=range(K)). "
        f"{_PAIRS}: the binary log loss of the pairs. Null without scores."
    )
    async def log_loss(self) -> float | None:
        return await self.view.log_loss()

    @strawberry.field(
        description="Sum over calibrationCurve's bins of |accuracy - meanConfidence| x "
        f"count / rows (bins is 1..{MAX_BINS:,}). Null when no row counts, and for "
        "multilabel models without scores."
    )
    async def expected_calibration_error(self, bins: int = 15) -> float | None:
        return await self.view.expected_calibration_error(bins)

    @strawberry.field(
        description="The top-label reliability diagram: rows binned by their top "
        "probability (the highest score, else the top-1 confidence) into `bins` "
        "equal-width bins over [0, 1], each with how often that label was the actual "
        "one, as sklearn.calibration.calibration_curve(strategy=\"uniform\") on "
        f"(top label == actual, top probability). {_ROWS} {_PAIRS}: calibration_curve("
        "label is actual, its score) over the pairs. Empty for multilabel models "
        "without scores."
    )
    async def calibration_curve(self, bins: int = 15) -> list[CalibrationBin]:
        diagram = await self.view.reliability(bins)
        if diagram is None:
            return []
        mean, hit = diagram.mean_probability(), diagram.accuracy()
        return [
            CalibrationBin(
                low=float(diagram.low[i]), high=float(diagram.high[i]),
                mean_confidence=nullable(mean[i]), accuracy=nullable(hit[i]),
                count=int(diagram.count[i]),
            )
            for i in range(len(diagram.count))
        ]
