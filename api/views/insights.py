"""Insights of a view, each with the arguments that show its evidence.

The engine's rules (engine/insights.py) read what the view already has: its
counts and summary, balanced accuracy, the reliability diagrams (histogram
kernels, one pass each) and, for overfitting, the summary of the same view
on the run's sibling split (training against validation, valid, val or
test), found through the catalog. Nothing here runs unless ``insights`` is
asked. ``View`` takes this in as a mixin.

Each insight's ``Evidence`` holds arguments a client passes straight back:
``split(name: split) { metrics(threshold:, labels:, where:) }`` shows it,
and ``rows`` are the arguments of that ``Metrics.rows(...)`` (``label`` and
``labelRows``: of ``label(name:) { rows(...) }``) that list the rows behind it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from evalql.engine.calibration import ReliabilityBins
from evalql.engine.insights import (
    CALIBRATION_BINS,
    CONFIDENCE_BINS,
    Finding,
    Inputs,
    insights,
)
from evalql.engine.metrics import LabelCounts, Summary
from evalql.engine.multilabel.counts import MultilabelSummary
from evalql.storage.datasets import MulticlassColumns, SplitData
from evalql.storage.filters import Condition

CONFIDENCE_DESC = "CONFIDENCE_DESC"
# Split names (compared case-insensitively) that pair up for overfitting: a
# training split with the first held-out one a run has, and the reverse.
TRAINING_SPLITS = ("training", "train")
HELD_OUT_SPLITS = ("validation", "valid", "val", "test")


@dataclass(frozen=True)
class Evidence:
    """Where an insight shows: the ``metrics(...)`` arguments of a split of
    the same run, and the rows behind it (None where no row list shows it)."""

    split: str
    threshold: float
    labels: list[str] | None
    where: list[dict[str, Any]] | None
    rows: dict[str, Any] | None = None  # Metrics.rows(...) arguments
    label: str | None = None  # Metrics.label(name:)
    label_rows: dict[str, Any] | None = None  # that label's LabelMetrics.rows(...)


@dataclass(frozen=True)
class InsightRecord:
    """One insight: the engine's finding, the label names it concerns, its
    evidence, and for overfitting the (training, held-out) split names."""

    finding: Finding
    labels: list[str]
    evidence: Evidence
    splits: tuple[str, str] | None = None


def row_filters(conditions: tuple[Condition, ...]) -> list[dict[str, Any]] | None:
    """A view's conditions as the ``where`` argument (RowFilter objects) that
    gives them; None without conditions."""
    if not conditions:
        return None
    names = (("in", "isin"), ("gt", "gt"), ("gte", "gte"), ("lt", "lt"), ("lte", "lte"),
             ("isNull", "is_null"))
    filters = []
    for c in conditions:
        given = {key: getattr(c, attr) for key, attr in names if getattr(c, attr) is not None}
        if "in" in given:
            given["in"] = list(given["in"])
        filters.append({"column": c.column, **given})
    return filters


def sibling_name(name: str, available: list[str]) -> tuple[str, str] | None:
    """(training, held-out) split names for a split named ``name`` among a
    run's ``available`` splits, or None: a training split is paired with
    the first of validation, valid, val, test there; a held-out split with
    training, then train. Case does not matter.

    ``sibling_name("val", ["train", "val"])`` -> ``("train", "val")``.
    """
    lower = {split.lower(): split for split in available}
    if name.lower() in TRAINING_SPLITS:
        other = next((lower[s] for s in HELD_OUT_SPLITS if s in lower), None)
        return None if other is None else (name, other)
    if name.lower() in HELD_OUT_SPLITS:
        other = next((lower[s] for s in TRAINING_SPLITS if s in lower), None)
        return None if other is None else (other, name)
    return None


class InsightMetrics:
    """Mixin of ``View``: its insights with their evidence."""

    # Supplied by View (its attributes, methods of its other mixins and of
    # each task), declared here so these methods read as typed; annotations
    # only, so nothing here shadows View's definitions.
    request: Any
    model: Any
    split: Any
    threshold: float
    class_filter: tuple[str, ...] | None
    conditions: tuple[Condition, ...]
    selected: np.ndarray | None
    label_counts: Callable[[], Awaitable[LabelCounts]]
    summary: Callable[[], Awaitable[Summary | MultilabelSummary]]
    distribution: Callable[[], Awaitable[tuple[np.ndarray, np.ndarray]]]
    balanced_accuracy: Callable[[], Awaitable[float | None]]
    reliability: Callable[[int], Awaitable[ReliabilityBins | None]]
    _confusions: Callable[[], Awaitable[np.ndarray | None]]
    _once: Callable[[Hashable, Callable[[], Any]], Awaitable[Any]]
    _load: Callable[[], SplitData]
    _mask: Callable[[SplitData], np.ndarray | None]
    _calibration_columns: Callable[[SplitData], MulticlassColumns | None]
    _confidence_reliability: Callable[[int], ReliabilityBins | None]

    async def insights(self) -> list[InsightRecord]:
        """The view's insights, most severe first, from the counts its other
        fields share."""
        c, s = await self.label_counts(), await self.summary()
        unlabeled = int((await self.distribution())[0][-1])
        pair_names, pair = await self._training_pair()
        inputs = Inputs(
            counts=await self._confusions(),
            c=c, s=s, unlabeled=unlabeled,
            balanced=await self.balanced_accuracy(),
            confident=await self._once("confident-bins", self._confident_bins),
            reliability=await self.reliability(CALIBRATION_BINS),
            pair=pair,
        )
        return [self._record(f, pair_names) for f in insights(inputs)]

    def _confident_bins(self) -> ReliabilityBins | None:
        """Blocking: the top-label diagram from the confidences, in bins with
        HIGH_CONFIDENCE on an edge; None where the task has none."""
        return self._confidence_reliability(CONFIDENCE_BINS)

    async def _training_pair(self) -> tuple[tuple[str, str] | None, Any]:
        """The (training, held-out) split names and summaries of this view on
        both splits of the pair; (None, None) when the run has no such pair or
        the sibling lacks a column of the row filter."""
        catalog = self.request.store.catalog
        available = catalog.splits(self.split.model, self.split.run)
        names = sibling_name(self.split.name, [s.name for s in available])
        if names is None:
            return None, None
        other_name = names[1] if names[0] == self.split.name else names[0]
        other = next(s for s in available if s.name == other_name)
        columns = {column.name for column in other.columns}
        if any(c.column not in columns for c in self.conditions):
            return None, None
        sibling = self._on_split(other)
        here, there = await self.summary(), await sibling.summary()
        return names, ((here, there) if names[0] == self.split.name else (there, here))

    def _on_split(self, split: Any) -> Any:
        """The request's view of the same arguments on another split of the run."""
        from evalql.api.views.base import View  # base imports this module

        labels = None if self.class_filter is None else list(self.class_filter)
        return View.get(self.request, self.model, split, self.threshold, labels, self.conditions)

    def _evidence(self, split: str | None = None, **shown: Any) -> Evidence:
        labels = None if self.class_filter is None else list(self.class_filter)
        return Evidence(split=split or self.split.name, threshold=self.threshold, labels=labels,
                        where=row_filters(self.conditions), **shown)

    def _record(self, f: Finding, pair: tuple[str, str] | None) -> InsightRecord:
        names = [self.model.labels[code] for code in f.codes]
        first = names[0] if names else None
        shown: dict[str, Any] = {}
        split = None
        if f.kind == "confusion":
            shown["rows"] = {"actual": names[0], "predicted": names[1],
                             "orderBy": CONFIDENCE_DESC}
        elif f.kind in ("low_recall", "class_imbalance"):
            shown.update(label=first, label_rows={"outcome": "FN", "orderBy": CONFIDENCE_DESC})
        elif f.kind == "low_precision":
            shown.update(label=first, label_rows={"outcome": "FP", "orderBy": CONFIDENCE_DESC})
        elif f.kind == "low_support":
            shown["label"] = first
        elif f.kind == "abstention":
            shown["rows"] = {"outcome": "ABSTAINED", "orderBy": CONFIDENCE_DESC}
        elif f.kind == "unlabeled":
            shown["rows"] = {"outcome": "UNLABELED", "orderBy": CONFIDENCE_DESC}
        elif f.kind == "high_confidence_errors":
            shown["rows"] = {"outcome": "INCORRECT", "orderBy": CONFIDENCE_DESC}
        elif f.kind == "calibration":
            # Overconfident: the confident mistakes; underconfident: the
            # right answers given with the least confidence.
            over = f.compared[0] > f.compared[1]
            shown["rows"] = ({"outcome": "INCORRECT", "orderBy": CONFIDENCE_DESC} if over
                             else {"outcome": "CORRECT", "orderBy": "CONFIDENCE_ASC"})
        elif f.kind == "overfitting" and pair is not None:
            # The other split of the pair shows the other number.
            split = pair[1] if pair[0] == self.split.name else pair[0]
        return InsightRecord(f, names, self._evidence(split, **shown),
                             pair if f.kind == "overfitting" else None)
