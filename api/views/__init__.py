"""Views: what the GraphQL types ask, for either task, behind one protocol.

``View.get`` picks ``MulticlassView`` or ``MultilabelView`` by the model's
task (see ``views.base``); the types never ask which. This package is the
only way down from the types to the engine and storage: the records the types
hold (the catalog's ``ModelInfo``, ``RunInfo``, ``SplitInfo``, ``ColumnInfo``,
the engine's insight ``Finding``, ``Interval``, ``RocCurve`` and ``PrCurve``)
are named here for them.
"""

from __future__ import annotations

from evalql.api.views import multiclass, multilabel  # noqa: F401 - each registers its task
from evalql.api.views.arguments import conditions_of
from evalql.api.views.base import View
from evalql.api.views.breakdown import Slice
from evalql.api.views.compare import LabelDelta, Pair
from evalql.api.views.history import SUMMARY_METRICS, HistoryValue, history
from evalql.api.views.results import CurveValues, HistogramBin, LabelRow, LabelTable
from evalql.api.views.rows import RowPage, RowRecord, Sheet
from evalql.engine.insights import Finding
from evalql.engine.intervals import Interval
from evalql.engine.score_curves import PrCurve, RocCurve
from evalql.storage.model import ColumnInfo, ModelInfo, RunInfo, SplitInfo

__all__ = [
    "ColumnInfo",
    "CurveValues",
    "Finding",
    "HistogramBin",
    "HistoryValue",
    "Interval",
    "LabelDelta",
    "LabelRow",
    "LabelTable",
    "ModelInfo",
    "Pair",
    "PrCurve",
    "RowPage",
    "RocCurve",
    "RowRecord",
    "RunInfo",
    "SUMMARY_METRICS",
    "Sheet",
    "Slice",
    "SplitInfo",
    "View",
    "conditions_of",
    "history",
]
