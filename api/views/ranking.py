"""Ranking metrics of a view, which the threshold does not move: average
precision, ROC AUC, a label's ROC and precision-recall curves, top-k
accuracy, and the exact threshold searches.

Written once for both tasks on what each task's view supplies (its ranking
of rows by score, ``_rank``, its precision steps, ``_steps``, and a label's
steps over every row, ``_label_steps``). ``View`` takes them in as a mixin,
so its own module stays one idea.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np

from evalql.api import backends, limits
from evalql.api.errors import BadUserInput
from evalql.api.views.rows import shortest
from evalql.engine.metrics import divide
from evalql.engine.ranking import (
    PrecisionSteps,
    average_precision,
    roc_auc,
    threshold_for_precision,
    threshold_for_recall,
)
from evalql.engine.score_curves import PrCurve, RocCurve, pr_curve, roc_curve


class RankingMetrics:
    """Mixin of ``View``: ranking metrics and threshold searches."""

    # Supplied by View: model, codes, request, split, conditions, _load, _mask, _once, code_of,
    # at_threshold, label_counts, and each task's _ranked_together, _rank,
    # _steps, _label_steps and _top_k.
    model: Any
    codes: Any

    async def ranking(self, code: int) -> tuple[float, float]:
        """Average precision and ROC AUC of label ``code`` (NaN when undefined).

        They rank the rows by score, so the view's threshold and class filter
        do not change them; its row filter does. Labels ranked in one pass
        (``_ranked_together``) are computed together.
        """
        codes = self._ranked_together(code)
        ap, auc = await self._once(("ranking", codes), lambda: self._ranking(codes))
        i = codes.index(code)
        return float(ap[i]), float(auc[i])

    def _ranking(self, codes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        remote = backends.for_split(self.request.store, self.split)
        if remote is not None and not self.split.has_scores:  # fragments hold no scores
            r = remote.ranking(self.split, self.conditions, np.array(codes))
            return average_precision(r), roc_auc(r)
        data = self._load()
        rows = self._mask(data)

        def compute() -> tuple[np.ndarray, np.ndarray]:
            r = self._rank(data, np.array(codes), rows)
            return average_precision(r), roc_auc(r)

        if rows is None:  # threshold-free, so kept with the split for every request
            return data.memo(("ranking", codes), compute)
        return compute()

    async def mean_average_precision(self) -> float | None:
        """The mean of averagePrecision over the labels where it is defined."""
        ranked = await asyncio.gather(*(self.ranking(int(c)) for c in self.codes))
        defined = [ap for ap, _ in ranked if not math.isnan(ap)]
        return float(np.mean(defined)) if defined else None

    async def top_k_accuracy(self, k: int) -> float | None:
        """Share of the rows whose actual label is among the k highest scores;
        None without scores, NaN for no row."""
        n_labels = len(self.model.labels)
        limits.check_within("k", k, 1, n_labels, "the labels")
        counted = await self._top_k(k)
        return None if counted is None else float(divide(*counted))

    async def threshold_for_precision(
        self, label: str, min_precision: float
    ) -> tuple[Any, int] | None:
        """The view at the lowest threshold where ``label``'s precision is at
        least ``min_precision``, and the label's code; None when none is."""
        if not 0.0 <= min_precision <= 1.0:
            raise BadUserInput(f"minPrecision has to be within [0, 1], got {min_precision}")
        code = self.code_of(label)
        steps = await self._once(("steps", code), lambda: self._precision_steps(code))
        t = threshold_for_precision(steps, min_precision)
        return None if t is None else (self.at_threshold(shortest(t)), code)

    async def threshold_for_recall(
        self, label: str, min_recall: float
    ) -> tuple[Any, int] | None:
        """The view at the highest threshold where ``label``'s recall is at
        least ``min_recall``, and the label's code; None when none is."""
        if not 0.0 <= min_recall <= 1.0:
            raise BadUserInput(f"minRecall has to be within [0, 1], got {min_recall}")
        code = self.code_of(label)
        steps = await self._once(("steps", code), lambda: self._precision_steps(code))
        support = int((await self.label_counts(np.array([code]))).support[0])
        t = threshold_for_recall(steps, min_recall, support)
        return None if t is None else (self.at_threshold(shortest(t)), code)

    def _precision_steps(self, code: int) -> PrecisionSteps:
        remote = backends.for_split(self.request.store, self.split)
        if remote is not None:  # each fragment's steps, merged by confidence
            return remote.precision_steps(self.split, self.conditions, code)
        data = self._load()
        rows = self._mask(data)
        if rows is None:
            return data.memo(("precision-steps", code), lambda: self._steps(data, code, None))
        return self._steps(data, code, rows)

    async def roc_curve(self, code: int, points: int) -> RocCurve:
        """Label ``code``'s ROC curve: its exact vertices (one per distinct
        score, from +inf down), at most ``points`` of them kept."""
        return (await self._score_curves(code, points))[0]

    async def pr_curve(self, code: int, points: int) -> PrCurve:
        """Label ``code``'s precision-recall curve, as ``roc_curve``."""
        return (await self._score_curves(code, points))[1]

    def _score_curves(self, code: int, points: int) -> Any:
        limits.check_within("points", points, 2, limits.MAX_SCORE_CURVE_POINTS)
        return self._once(("score-curves", code, points), lambda: self._curves_of(code, points))

    def _curves_of(self, code: int, points: int) -> tuple[RocCurve, PrCurve]:
        # Both curves from one ranking. What is kept is the cut curves, at
        # most ``points`` vertices each: the steps hold a vertex per distinct
        # score, up to a row each (tens of bytes a row of the split).
        data = self._load()
        rows = self._mask(data)

        def compute() -> tuple[RocCurve, PrCurve]:
            steps = self._label_steps(data, code, rows)
            return roc_curve(steps, points), pr_curve(steps, points)

        if rows is None:  # threshold-free, so kept with the split for every request
            return data.memo(("score-curves", code, points), compute)
        return compute()
