"""scikit-learn as the oracle.

Its UndefinedMetricWarning (0/0 set to 0.0) is expected here and silenced on
the oracle call alone; everywhere else warnings stay errors.
"""

from __future__ import annotations

import warnings

from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import precision_recall_fscore_support


def sklearn_prf(
    y_true: list[str], y_pred: list[str], labels: list[str], average: str | None
) -> tuple:
    """``precision_recall_fscore_support`` with ``zero_division`` at its default."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return precision_recall_fscore_support(y_true, y_pred, labels=labels, average=average)
