"""Per-split derived structures: filtered indexes answer as the scan does."""

from __future__ import annotations

import numpy as np

from evalql.api.loaders import cached_mask, filtered_index
from evalql.engine.confusion import as_threshold, confusion_counts
from evalql.storage.datasets import SplitStore
from evalql.storage.filters import Condition


def test_a_filtered_index_counts_what_the_masked_scan_counts(store) -> None:
    splits = SplitStore(store)
    data = splits.load(splits.catalog.split("m", "v1", "test"))
    conditions = (Condition("channel", isin=("chat",)),)
    index = filtered_index(data, conditions, wait=True)
    mask = cached_mask(data, conditions)
    assert mask.sum() == 4
    for t in (0.0, 0.3, 0.35, 0.6, 0.61, 1.0):
        expected = confusion_counts(data.actual, data.predicted, data.confidence, t, 3, mask)
        np.testing.assert_array_equal(index.counts_at(as_threshold(t)), expected)
