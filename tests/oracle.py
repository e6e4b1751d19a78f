"""scikit-learn as the oracle, for the engine and the API tests alike.

``y_true`` and ``y_pred`` are what scikit-learn reads: label strings for a
multiclass view (None as a sentinel string that is never in ``labels``, so it
is never averaged over), or label-indicator matrices for a multilabel view
(``labels`` are then column indices). Its UndefinedMetricWarning (0/0 set to
0.0) is expected here and silenced on the oracle call alone; everywhere else
warnings stay errors.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    multilabel_confusion_matrix,
    precision_recall_fscore_support,
)

from evalql.engine.averaging import AVERAGED_METRICS, AVERAGES, average
from evalql.engine.metrics import PER_LABEL, LabelCounts

# Two different sentinels for accuracy: with one, a row with actual None and
# predicted None would look correct to accuracy_score, and SPEC says it never is.
NO_ACTUAL, NO_PREDICTION = "__no_actual__", "__no_prediction__"


def quietly(metric: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """scikit-learn's answer, its warnings about 0/0 (the value it then
    reports, 0.0 by default) and absent or lone classes silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
        warnings.filterwarnings("ignore", "A single label was found")
        warnings.filterwarnings("ignore", "No positive class found in y_true")
        return metric(*args, **kwargs)


def sklearn_accuracy(y_true: Sequence[str], y_pred: Sequence[str], selective: bool = False) -> float:
    """Accuracy as SPEC defines it, by scikit-learn's ``accuracy_score``: over
    the rows with an actual label (``y_true`` not ``NO_ACTUAL``), an abstention
    (``NO_PREDICTION``) being a class of its own, so always wrong. With
    ``selective`` only the labeled rows that were answered count. NaN when no
    row counts."""
    keep = [
        i for i, (t, p) in enumerate(zip(y_true, y_pred, strict=True))
        if t != NO_ACTUAL and not (selective and p == NO_PREDICTION)
    ]
    if not keep:
        return float("nan")
    return float(accuracy_score([y_true[i] for i in keep], [y_pred[i] for i in keep]))


def sklearn_prf(y_true: Any, y_pred: Any, labels: Sequence[Any], average: str | None) -> tuple:
    """``precision_recall_fscore_support`` with ``zero_division`` at its default."""
    return quietly(precision_recall_fscore_support, y_true, y_pred, labels=labels, average=average)


def assert_outcomes_match(c: LabelCounts, y_true: Any, y_pred: Any, labels: Sequence[Any]) -> None:
    """Per-label TP, FP, FN and TN of ``c`` are scikit-learn's
    ``multilabel_confusion_matrix`` (one-vs-rest, every row of the view)."""
    matrices = multilabel_confusion_matrix(y_true, y_pred, labels=labels)
    for name, cell in (("tn", (0, 0)), ("fp", (0, 1)), ("fn", (1, 0)), ("tp", (1, 1))):
        np.testing.assert_array_equal(getattr(c, name), matrices[:, cell[0], cell[1]], name)


def assert_per_label_matches(c: LabelCounts, y_true: Any, y_pred: Any, labels: Sequence[Any]) -> None:
    """Per-label precision, recall, F1 and support of ``c`` are scikit-learn's,
    and null (NaN) exactly where the counts make them 0/0, where it says 0.0."""
    expected = sklearn_prf(y_true, y_pred, labels, None)
    undefined = {
        "precision": c.tp + c.fp == 0,
        "recall": c.tp + c.fn == 0,
        "f1": c.tp + c.fp + c.fn == 0,
    }
    for metric, sklearn_values in zip(AVERAGED_METRICS, expected[:3], strict=True):
        values = PER_LABEL[metric](c)
        np.testing.assert_array_equal(np.isnan(values), undefined[metric], err_msg=metric)
        np.testing.assert_allclose(
            np.nan_to_num(values), sklearn_values, rtol=0, atol=1e-12, err_msg=metric
        )
    np.testing.assert_array_equal(c.support, expected[3])


def assert_averages_match(c: LabelCounts, y_true: Any, y_pred: Any, labels: Sequence[Any]) -> None:
    """Macro, micro and weighted precision, recall and F1 of ``c`` are scikit-learn's."""
    for how in AVERAGES:
        expected = sklearn_prf(y_true, y_pred, labels, how.lower())
        for metric, value in zip(AVERAGED_METRICS, expected[:3], strict=True):
            assert average(metric, c, how) == pytest.approx(value, rel=0, abs=1e-12), (metric, how)
