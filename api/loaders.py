"""Structures derived from a loaded split, built once and kept with it.

They live in the split's memo (``SplitData.memo``), so they are evicted with
the split and never outlive a replace: a replaced split has a new version,
hence a new ``SplitData``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from engine.index import ThresholdIndex
from storage.datasets import SplitData
from storage.filters import Condition, row_mask

# Row masks of recent filters, per split: moving the threshold slider under a
# fixed filter reuses the mask instead of re-reading the metadata columns.
MASK_CACHE_BYTES = 256 << 20


def threshold_index(data: SplitData) -> ThresholdIndex:
    """The split's threshold index (built on first use, about 0.4 s at 10M rows)."""
    return data.memo(
        "threshold-index",
        lambda: ThresholdIndex.build(data.actual, data.predicted, data.confidence, data.n_labels),
    )


class _MaskCache:
    """An LRU of row masks bounded in bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._masks: OrderedDict[tuple[Condition, ...], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Condition, ...]) -> np.ndarray | None:
        with self._lock:
            mask = self._masks.get(key)
            if mask is not None:
                self._masks.move_to_end(key)
            return mask

    def put(self, key: tuple[Condition, ...], mask: np.ndarray) -> None:
        with self._lock:
            self._masks[key] = mask
            used = sum(m.nbytes for m in self._masks.values())
            while used > self.budget and len(self._masks) > 1:
                used -= self._masks.popitem(last=False)[1].nbytes


def cached_mask(data: SplitData, conditions: tuple[Condition, ...]) -> np.ndarray | None:
    """The row mask of ``conditions`` on the split (None for no conditions)."""
    if not conditions:
        return None
    cache = data.memo("masks", lambda: _MaskCache(MASK_CACHE_BYTES))
    mask = cache.get(conditions)
    if mask is None:
        mask = row_mask(data.metadata, conditions)
        mask.flags.writeable = False  # shared across requests
        cache.put(conditions, mask)
    return mask
