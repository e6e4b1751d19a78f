"""Averaging per-label precision, recall and F1 into one number.

As scikit-learn's ``precision_recall_fscore_support`` with ``labels=`` and the
default ``zero_division``: a per-label value that is undefined (NaN) counts as
0 in MACRO and WEIGHTED, and MICRO divides summed counts, 0/0 giving 0.
"""

from __future__ import annotations

import numpy as np

from evalql.engine.metrics import PER_LABEL, LabelCounts, divide

AVERAGES = ("MACRO", "MICRO", "WEIGHTED")
AVERAGED_METRICS = ("precision", "recall", "f1")


def _micro(metric: str, c: LabelCounts) -> float:
    tp, fp, fn = int(c.tp.sum()), int(c.fp.sum()), int(c.fn.sum())
    num, den = {
        "precision": (tp, tp + fp),
        "recall": (tp, tp + fn),
        "f1": (2 * tp, 2 * tp + fp + fn),
    }[metric]
    return float(np.nan_to_num(divide(num, den)))


def average(metric: str, c: LabelCounts, how: str) -> float:
    """Average ``metric`` ("precision", "recall" or "f1") over the labels of ``c``.

    Notes
    -----
    - MACRO: unweighted mean of the per-label values, undefined ones as 0.
      0 when there are no labels.
    - WEIGHTED: mean weighted by support; 0 when the total support is 0
      (scikit-learn's result with ``zero_division`` at its default).
    - MICRO: the metric of the summed TP, FP and FN; None is never a label,
      so abstentions add to FN and unlabeled predictions to FP. 0 for 0/0.
    """
    if metric not in AVERAGED_METRICS:
        raise ValueError(f"metric has to be one of {AVERAGED_METRICS}, got {metric!r}")
    if how not in AVERAGES:
        raise ValueError(f"average has to be one of {AVERAGES}, got {how!r}")
    if how == "MICRO":
        return _micro(metric, c)
    values = np.nan_to_num(PER_LABEL[metric](c))
    if values.size == 0:
        return 0.0
    if how == "MACRO":
        return float(values.mean())
    weights = c.support
    if weights.sum() == 0:
        return 0.0
    return float(np.average(values, weights=weights))
