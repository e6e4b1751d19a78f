"""Calibration of a view: do the model's probabilities mean what they say?

Brier score and log loss from the split's ``(N, K)`` scores, and the
top-label reliability diagram with its expected calibration error, from the
scores where the split has them, else from the top-1 confidences (the
engine's definitions, engine/calibration.py). ``View`` takes them in as a
mixin. A multilabel split with scores is calibrated pair by pair, each (row,
label) score one binary probability (engine/multilabel/calibration.py); one
without scores has no top-label diagram and gets nulls and an empty curve.
The diagram from confidences of a split on a cluster is summed there, per
fragment (``api.backends``); the rest reads the split in process.
"""

from __future__ import annotations

from typing import Any

from evalql.api import backends, limits
from evalql.api.scalars import nullable
from evalql.engine.calibration import (
    ReliabilityBins,
    ScoreLosses,
    expected_calibration_error,
    reliability_from_confidence,
    reliability_from_scores,
    score_losses,
)
from evalql.engine.multilabel.calibration import pair_reliability, pair_score_losses
from evalql.storage.datasets import MulticlassColumns, MultilabelColumns, SplitData

SCORES = "SCORES"
CONFIDENCE = "CONFIDENCE"


class CalibrationMetrics:
    """Mixin of ``View``: Brier score, log loss, reliability diagram and ECE."""

    # Supplied by View: request, model, split, conditions, selected, threshold,
    # _load, _mask, _once.
    request: Any
    model: Any
    split: Any
    conditions: Any
    selected: Any
    threshold: float

    def _calibration_columns(self, data: SplitData) -> MulticlassColumns | None:
        """The columns calibration reads; None where the task has no
        top-label diagram (multilabel)."""
        return None

    def _pair_columns(self, data: SplitData) -> MultilabelColumns | None:
        """Multilabel columns with scores, read pair by pair; None otherwise."""
        return None

    def calibration_source(self) -> str:
        """SCORES when the split has a scores matrix, else CONFIDENCE."""
        return SCORES if self.split.has_scores else CONFIDENCE

    async def score_losses(self) -> ScoreLosses | None:
        """Brier score and log loss of the judged rows; None without scores."""
        if not self.split.has_scores:
            return None
        return await self._once("score-losses", self._score_losses)  # type: ignore[attr-defined]

    def _score_losses(self) -> ScoreLosses | None:
        data = self._load()  # type: ignore[attr-defined]
        pairs = self._pair_columns(data)
        if pairs is not None and pairs.scores is not None:
            return pair_score_losses(pairs, pairs.scores, self.selected, self._mask(data))  # type: ignore[attr-defined]
        c = self._calibration_columns(data)
        if c is None or c.scores is None:
            return None
        return score_losses(c.scores, c.actual, self.selected, self._mask(data))  # type: ignore[attr-defined]

    async def brier_score(self) -> float | None:
        losses = await self.score_losses()
        return None if losses is None else nullable(losses.brier)

    async def log_loss(self) -> float | None:
        losses = await self.score_losses()
        return None if losses is None else nullable(losses.log_loss)

    async def reliability(self, bins: int) -> ReliabilityBins | None:
        """The top-label reliability diagram in ``bins`` equal-width bins;
        None where the task has none."""
        limits.check_within("bins", bins, 1, limits.MAX_BINS)
        return await self._once(("reliability", bins), lambda: self._reliability(bins))  # type: ignore[attr-defined]

    def _reliability(self, bins: int) -> ReliabilityBins | None:
        if not self.split.has_scores:
            return self._confidence_reliability(bins)
        data = self._load()  # type: ignore[attr-defined]
        rows = self._mask(data)  # type: ignore[attr-defined]
        pairs = self._pair_columns(data)
        if pairs is not None and pairs.scores is not None:
            return pair_reliability(pairs, pairs.scores, bins, self.selected, rows)
        c = self._calibration_columns(data)
        if c is None or c.scores is None:
            return None
        return reliability_from_scores(c.scores, c.actual, bins, self.selected, rows)

    def _confidence_reliability(self, bins: int) -> ReliabilityBins | None:
        """Blocking: the top-label diagram from the confidences, on the split's
        cluster when it has one; None where the task has none (multilabel)."""
        remote = backends.for_split(self.request.store, self.split)
        if remote is not None:
            return remote.reliability(self.split, self.conditions, bins, self.threshold,
                                      self.selected)
        data = self._load()  # type: ignore[attr-defined]
        c = self._calibration_columns(data)
        if c is None:
            return None
        return reliability_from_confidence(
            c.actual, c.predicted, c.confidence, len(self.model.labels), bins, self.threshold,
            self.selected, self._mask(data),  # type: ignore[attr-defined]
        )

    async def expected_calibration_error(self, bins: int) -> float | None:
        diagram = await self.reliability(bins)
        return None if diagram is None else nullable(expected_calibration_error(diagram))
