"""A summary metric across a model's runs: what ``Model.history`` plots.

Each point is one run's view of the split, at the threshold given, with no
class or row filter, asked for the metric exactly as the ``Metrics`` field of
that name asks it (``SUMMARY_METRICS`` calls the same view methods), so a
point always equals ``run { split { metrics { <field> } } }``.

The runs' splits are measured one after the other, never at once: each is
loaded through the split store, counted, and may leave the store's memory
budget before the next is loaded, so a history of many runs needs the memory
of one split (plus whatever the budget keeps cached).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from evalql.api import limits
from evalql.api.errors import BadUserInput, CostLimit, one_of
from evalql.api.scalars import nullable
from evalql.api.views.base import Request, View
from evalql.storage.catalog import Catalog
from evalql.storage.model import ModelInfo, RunInfo, SplitInfo

Measure = Callable[[View, str], Awaitable[float | None]]


async def _summary(view: View, name: str) -> float:
    return getattr(await view.summary(), name)


# SummaryMetric's values -> how the Metrics field of that name is computed,
# given the view and the average (MACRO, MICRO, WEIGHTED; read by the averages).
SUMMARY_METRICS: dict[str, Measure] = {
    "ACCURACY": lambda view, how: _summary(view, "accuracy"),
    "SELECTIVE_ACCURACY": lambda view, how: _summary(view, "selective_accuracy"),
    "COVERAGE": lambda view, how: _summary(view, "coverage"),
    "PRECISION": lambda view, how: view.average("precision", how),
    "RECALL": lambda view, how: view.average("recall", how),
    "F1": lambda view, how: view.average("f1", how),
    "BALANCED_ACCURACY": lambda view, how: view.balanced_accuracy(),
    "MATTHEWS_CORRCOEF": lambda view, how: view.matthews_corrcoef(),
    "COHEN_KAPPA": lambda view, how: view.cohen_kappa("NONE"),
    "HAMMING_SCORE": lambda view, how: _summary(view, "hamming_score"),
    "SUBSET_ACCURACY": lambda view, how: _summary(view, "subset_accuracy"),
}


@dataclass(frozen=True)
class HistoryValue:
    """One run's value of the metric; ``value`` None where it is undefined."""

    run: str
    created_at: datetime
    value: float | None


def runs_with_split(catalog: Catalog, model: str, split: str) -> list[tuple[RunInfo, SplitInfo]]:
    """The runs of ``model`` that have a split ``split``, oldest first."""
    found = ((run, catalog.split(model, run.name, split)) for run in catalog.runs(model))
    return [(run, info) for run, info in found if info is not None]


async def history(
    request: Request, model: ModelInfo, split: str, metric: str, threshold: float, how: str
) -> list[HistoryValue]:
    """``metric`` of split ``split`` in each run of ``model`` that has it, by
    creation time; COST_LIMIT past ``limits.MAX_HISTORY_RUNS`` such runs."""
    if metric not in SUMMARY_METRICS:
        raise BadUserInput(f"metric has to be one of {one_of(SUMMARY_METRICS)}, got {metric!r}")
    if not 0.0 <= threshold <= 1.0:  # also when no run has the split
        raise BadUserInput(f"threshold has to be within [0, 1], got {threshold}")
    runs = runs_with_split(request.store.catalog, model.name, split)
    if len(runs) > limits.MAX_HISTORY_RUNS:
        raise CostLimit(
            f'model "{model.name}" has {len(runs):,} runs with a split "{split}"; a history '
            f"reads at most {limits.MAX_HISTORY_RUNS:,}"
        )
    measure = SUMMARY_METRICS[metric]
    points = []
    for run, info in runs:  # one split at a time (see the module docstring)
        value = await measure(View.get(request, model, info, threshold), how)
        points.append(HistoryValue(run.name, run.created_at, nullable(value)))
    return points
