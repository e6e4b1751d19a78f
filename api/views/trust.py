"""Trust metrics of a view: agreement, intervals, significance.

Written once for both tasks on what each task's view supplies (its judged
totals and counts, ``None`` for multilabel where a metric is not defined),
with the engine's definitions (engine/agreement.py, engine/intervals.py).
``View`` takes them in as a mixin, so its own module stays one idea.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from evalql.api import limits
from evalql.api.errors import BadUserInput
from evalql.api.scalars import nullable
from evalql.engine import agreement
from evalql.engine.intervals import Interval, f1_interval, f_beta_interval_seconds, wilson_interval
from evalql.engine.metrics import false_positive_rate, specificity


class TrustMetrics:
    """Mixin of ``View``: the metrics issue 15 adds, as the view's methods."""

    # Supplied by View: selected, summary, label_counts, _once, and each
    # task's _judged_totals / _judged_counts (None where undefined).
    selected: Any

    async def balanced_accuracy(self) -> float | None:
        """Mean recall over the view's labels with support (judged rows only);
        None where undefined or for multilabel."""
        totals = await self._judged_totals()
        if totals is None:
            return None
        return nullable(agreement.balanced_accuracy(totals, self.selected))

    async def matthews_corrcoef(self) -> float | None:
        counts = await self._judged_counts()
        if counts is None:
            return None
        return nullable(agreement.matthews_corrcoef(counts, self.selected))

    async def cohen_kappa(self, weights: str) -> float | None:
        counts = await self._judged_counts()
        if counts is None:
            return None
        return nullable(agreement.cohen_kappa(counts, self.selected, weights))

    async def f_beta(self, beta: float, how: str) -> float:
        """F-beta averaged ``how`` over the view's labels (both tasks)."""
        _check_beta(beta)
        return agreement.f_beta_average(await self.label_counts(), beta, how)

    async def label_rate(self, metric: str, code: int) -> float | None:
        """Label ``code``'s ``specificity`` or ``falsePositiveRate``; None if undefined."""
        c = await self.label_counts(np.array([code]))
        fn = specificity if metric == "specificity" else false_positive_rate
        return nullable(float(fn(c)[0]))

    async def normalized_matrix(self, how: str) -> np.ndarray:
        """The view's confusion matrix (its labels plus None) divided as
        scikit-learn's ``normalize=`` (NONE, TRUE, PRED, ALL); NONE keeps counts."""
        return agreement.normalized(await self.matrix(), how)

    async def accuracy_interval(self, level: float) -> Interval | None:
        """Wilson interval of accuracy (correct of the labeled rows); None
        for multilabel and for a view without a labeled row."""
        _check_level(level)
        if await self._judged_totals() is None:
            return None
        s = await self.summary()
        return wilson_interval(s.correct, s.labeled, level)

    async def label_interval(self, metric: str, code: int, level: float) -> Interval | None:
        """Wilson interval of label ``code``'s precision (TP of TP + FP) or
        recall (TP of TP + FN); None when its denominator is 0."""
        _check_level(level)
        c = await self.label_counts(np.array([code]))
        tp = int(c.tp[0])
        other = int(c.fp[0]) if metric == "precision" else int(c.fn[0])
        return wilson_interval(tp, tp + other, level)

    async def f1_interval(
        self, how: str, level: float, resamples: int, seed: int
    ) -> Interval | None:
        """Bootstrap percentile interval of F1 averaged ``how``; None for
        multilabel and an empty view; COST_LIMIT when it would take too long."""
        _check_level(level)
        limits.check_within("resamples", resamples, 1, limits.MAX_RESAMPLES)
        if not 0 <= seed < 2**32:
            raise BadUserInput(f"seed has to be within 0..{2**32 - 1}, got {seed}")
        counts = await self._judged_counts()
        if counts is None:
            return None
        seconds = f_beta_interval_seconds(counts, self.selected, how, resamples)
        limits.check_seconds("f1Interval", seconds)
        return await self._once(
            ("f1-interval", how, level, resamples, seed),
            lambda: f1_interval(counts, self.selected, how, level, resamples, seed),
        )


def _check_beta(beta: float) -> None:
    if not (beta >= 0 and math.isfinite(beta)):
        raise BadUserInput(f"beta has to be a finite number at least 0, got {beta}")


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise BadUserInput(f"level has to be between 0 and 1 (exclusive), got {level}")
