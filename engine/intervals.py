"""Confidence intervals: Wilson score intervals of proportions, and bootstrap
percentile intervals of averaged F-scores.

Accuracy, precision and recall are proportions k / n of rows, so they get
Wilson's interval, which stays inside [0, 1] and behaves at k = 0 and k = n
where the normal ("Wald") interval collapses. An averaged F1 is no
proportion; its interval comes from resampling the view's rows
(``engine.resample``) and taking percentiles of the resampled averages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from evalql.engine.agreement import f_beta_averages
from evalql.engine.averaging import AVERAGES
from evalql.engine.metrics import LabelCounts
from evalql.engine.resample import estimated_seconds, resample_counts


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval at ``level`` (e.g. 0.95)."""

    low: float
    high: float
    level: float


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level has to be between 0 and 1 (exclusive), got {level!r}")


def normal_quantile(level: float) -> float:
    """z such that a standard normal lies within ±z with probability ``level``.

    Example: ``normal_quantile(0.95)`` is 1.959963984540054.
    """
    _check_level(level)
    return NormalDist().inv_cdf(0.5 + 0.5 * level)


def wilson_interval(k: int, n: int, level: float = 0.95) -> Interval | None:
    """The Wilson score interval of the proportion ``k / n``.

    center ± z / (2(n + z²)) · sqrt(4 n p q + z²), with p = k / n, q = 1 - p
    and center = (2 n p + z²) / (2(n + z²)), in Newcombe's (1998) form, as
    scipy's ``binomtest(k, n).proportion_ci(level, method="wilson")`` and
    statsmodels' ``proportion_confint(method="wilson")`` compute it.

    Example: ``wilson_interval(8, 10)`` is about (0.490, 0.943).

    Notes
    -----
    None when n = 0: no rows, no proportion. At k = 0 the low end is exactly
    0, at k = n the high end exactly 1 (as scipy). Raises ValueError unless
    0 <= k <= n and 0 < level < 1.
    """
    z = normal_quantile(level)
    if not 0 <= k <= n:
        raise ValueError(f"a proportion needs 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return None
    p = k / n
    denominator = 2 * (n + z * z)
    center = (2 * n * p + z * z) / denominator
    delta = z / denominator * math.sqrt(4 * n * p * (1 - p) + z * z)
    low = 0.0 if k == 0 else center - delta
    high = 1.0 if k == n else center + delta
    return Interval(low=low, high=high, level=level)


def percentile_interval(values: np.ndarray, level: float = 0.95) -> Interval:
    """The percentile bootstrap interval: the (1 - level)/2 and (1 + level)/2
    quantiles of ``values`` (NumPy's default, linear interpolation)."""
    _check_level(level)
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return Interval(low=float(low), high=float(high), level=level)


def f_beta_interval(
    counts: np.ndarray,
    labels: np.ndarray | None = None,
    average: str = "MACRO",
    level: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
    beta: float = 1.0,
) -> Interval | None:
    """A bootstrap percentile interval of the averaged F-beta (F1 by default).

    Parameters
    ----------
    counts : the view's ``(K + 1) x (K + 1)`` confusion matrix.
    labels : the class filter's codes (None: every label).
    average : MACRO, MICRO or WEIGHTED, as ``engine.agreement.f_beta_average``.
    level : the interval's confidence level, in (0, 1).
    resamples : how many bootstrap resamples of the view's rows.
    seed : the same seed gives the same interval.
    beta : F-beta's β; 1 is F1.

    Each resample draws the view's N rows with replacement (every row, so
    unlabeled rows stay false positives and abstentions false negatives) and
    averages F-beta over ``labels`` as the point estimate does; the interval
    is the percentiles of those averages. Cost: O(non-empty cells) per
    resample, whatever N, fewer for MACRO F1 and MICRO (``cheapest_merge``).

    Notes
    -----
    None for an empty view (N = 0): there is nothing to resample. An interval
    need not contain the point estimate when the resampled averages are very
    skewed, but for all but tiny views it does.
    """
    _check_level(level)
    if average not in AVERAGES:  # refused before the resampling, not after
        raise ValueError(f"average has to be one of {AVERAGES}, got {average!r}")
    if int(np.asarray(counts).sum()) == 0:
        return None
    drawn = resample_counts(counts, labels, resamples, seed, cheapest_merge(average, beta))
    c = LabelCounts(
        labels=drawn.labels, tp=drawn.tp, fp=drawn.predicted - drawn.tp,
        fn=drawn.actual - drawn.tp, n=int(np.asarray(counts).sum()),
    )
    return percentile_interval(f_beta_averages(c, beta, average), level)


def cheapest_merge(average: str, beta: float) -> str:
    """The fewest cells a resample of this average needs (``engine.resample``):
    MICRO reads only the counts summed over labels, MACRO F1 each label's TP
    and support + predictions, the rest each label's three counts."""
    if average == "MICRO":
        return "POOLED"
    return "PAIRS" if average == "MACRO" and beta == 1 else "CELLS"


def f_beta_interval_seconds(
    counts: np.ndarray, labels: np.ndarray | None, average: str, resamples: int,
    beta: float = 1.0,
) -> float:
    """What ``f_beta_interval`` will take on one core, by the resampling cost
    model (``engine.resample.estimated_seconds``): for a caller to refuse a
    request too costly to answer."""
    return estimated_seconds(counts, labels, resamples, cheapest_merge(average, beta))


def f1_interval(
    counts: np.ndarray,
    labels: np.ndarray | None = None,
    average: str = "MACRO",
    level: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> Interval | None:
    """``f_beta_interval`` with β = 1: the interval of F1 averaged by ``average``."""
    return f_beta_interval(counts, labels, average, level, resamples, seed, beta=1.0)

