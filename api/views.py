"""A view — (split, threshold, class filter, row filter) — and its lazy results.

A ``View`` is the backing object of a GraphQL ``Metrics`` value. Every field of
that value asks the view, and the view computes each piece (the row mask, the
confusion counts, the per-label counts) at most once per request, off the
event loop, however many fields and aliases ask for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import Any

import numpy as np

from api.context import Context
from api.errors import BadUserInput, CostLimit, one_of
from api.loaders import cached_mask, filtered_index, threshold_index
from engine.kernels import as_threshold, confusion_counts, label_totals
from engine.metrics import LabelCounts, Summary, Totals, label_counts, submatrix, summary
from storage.datasets import SplitData
from storage.filters import Condition
from storage.model import ModelInfo, SplitInfo

# A dense (K+1)^2 matrix per scan chunk: past this many cells it costs more
# memory than a request may take, so it is refused instead of computed.
MAX_MATRIX_CELLS = 4_000_000


class View:
    """One view of a split; create through ``View.get`` to share per request."""

    def __init__(
        self,
        ctx: Context,
        model: ModelInfo,
        split: SplitInfo,
        threshold: float,
        class_filter: tuple[str, ...] | None,
        conditions: tuple[Condition, ...],
    ) -> None:
        self.ctx = ctx
        self.model = model
        self.split = split
        self.threshold = threshold
        self.class_filter = class_filter
        self.conditions = conditions
        self._tasks: dict[str, asyncio.Future[Any]] = {}

    @classmethod
    def get(
        cls,
        ctx: Context,
        model: ModelInfo,
        split: SplitInfo,
        threshold: float,
        class_filter: list[str] | None = None,
        conditions: tuple[Condition, ...] = (),
    ) -> View:
        """The request's view for these arguments, validated and shared."""
        if not 0.0 <= threshold <= 1.0:
            raise BadUserInput(f"threshold has to be within [0, 1], got {threshold}")
        selected = None if class_filter is None else _checked_labels(model, class_filter)
        key = (split.model, split.run, split.name, split.version,
               float(as_threshold(threshold)), selected, conditions)
        if key not in ctx.views:
            ctx.views[key] = cls(ctx, model, split, threshold, selected, conditions)
        return ctx.views[key]

    def _once(self, name: str, compute: Callable[[], Any]) -> Awaitable[Any]:
        if name not in self._tasks:
            self._tasks[name] = asyncio.ensure_future(self.ctx.run(compute))
        return self._tasks[name]

    @cached_property
    def codes(self) -> np.ndarray:
        """The selected labels' codes, in the class filter's order."""
        if self.class_filter is None:
            return np.arange(len(self.model.labels))
        index = {name: i for i, name in enumerate(self.model.labels)}
        return np.array([index[name] for name in self.class_filter], dtype=np.intp)

    @property
    def label_names(self) -> list[str]:
        return [self.model.labels[i] for i in self.codes]

    def _load(self) -> SplitData:
        return self.ctx.store.load(self.split)

    def _mask(self) -> np.ndarray | None:
        return cached_mask(self._load(), self.conditions)

    def _counts(self) -> np.ndarray:
        data = self._load()
        if (data.n_labels + 1) ** 2 > MAX_MATRIX_CELLS:
            raise CostLimit(
                f"a {data.n_labels}-label confusion matrix is over the limit of "
                f"{MAX_MATRIX_CELLS:,} cells for a dense view"
            )
        mask = self._mask()
        if mask is None:
            # No row filter: K^2 binary searches in the index, not a scan.
            return threshold_index(data).counts_at(as_threshold(self.threshold))
        index = filtered_index(data, self.conditions)
        if index is not None:
            return index.counts_at(as_threshold(self.threshold))
        return confusion_counts(
            data.actual, data.predicted, data.confidence, self.threshold, data.n_labels, mask
        )

    async def counts(self) -> np.ndarray:
        """The full (K+1)x(K+1) confusion counts of the view's rows."""
        return await self._once("counts", self._counts)

    async def matrix(self) -> np.ndarray:
        """The confusion matrix on the selected labels plus None."""
        return submatrix(await self.counts(), self.codes)

    def _totals(self) -> Totals:
        data = self._load()
        if (data.n_labels + 1) ** 2 <= MAX_MATRIX_CELLS:
            return Totals.of_matrix(self._counts())
        # Too many labels for a matrix: O(K) sums from one scan.
        return label_totals(
            data.actual, data.predicted, data.confidence,
            self.threshold, data.n_labels, self._mask(),
        )

    async def totals(self) -> Totals:
        """Per-label diagonal, row and column sums: all but the matrix itself."""
        if (len(self.model.labels) + 1) ** 2 <= MAX_MATRIX_CELLS:
            return Totals.of_matrix(await self.counts())  # shares the matrix's pass
        return await self._once("totals", self._totals)

    async def label_counts(self) -> LabelCounts:
        """Per-label TP/FP/FN/TN of the selected labels."""
        return label_counts(await self.totals(), self.codes)

    async def summary(self) -> Summary:
        """Total, predicted and correct rows (of the class filter's rows, if any)."""
        selected = None if self.class_filter is None else self.codes
        return summary(await self.totals(), selected)


def _checked_labels(model: ModelInfo, names: list[str]) -> tuple[str, ...]:
    known = set(model.labels)
    for name in names:
        if name not in known:
            raise BadUserInput(
                f'label "{name}" is not a label of model "{model.name}"; '
                f"it has {one_of(model.labels)}"
            )
    if len(set(names)) != len(names):
        raise BadUserInput("labels has to list each label once")
    if not names:
        raise BadUserInput("labels has to name at least one label (or be omitted)")
    return tuple(names)
