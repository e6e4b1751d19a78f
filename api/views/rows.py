"""Rows as a view shows them, and pages of them with cursors.

Both tasks page through the same keys (``engine.select.order_key``), so a
page is a ``Page`` of positions whatever found it (a scan, an index walk, a
multilabel row test), and its rows are ``RowRecord``s a GraphQL ``Row`` maps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from evalql.api.cursors import encode_cursor
from evalql.api.errors import BadUserInput, one_of
from evalql.engine.select import Page
from evalql.storage.columns import id_rank, json_column
from evalql.storage.datasets import SplitData

# A label's one-vs-rest outcome as (is the label actual, is it predicted):
# the rows LabelMetrics.rows(outcome:) selects, for both tasks.
LABEL_OUTCOMES = {
    "TP": (True, True),
    "FP": (False, True),
    "FN": (True, False),
    "TN": (False, False),
}


class Sheet:
    """The metadata of one page's rows, taken column by column on first use."""

    def __init__(self, data: SplitData, positions: np.ndarray) -> None:
        self.table = data.metadata
        self.positions = pa.array(positions, pa.int64())
        self._columns: dict[str, list[Any]] = {}
        self._reported = False

    def column(self, name: str) -> list[Any]:
        if name not in self._columns:
            self._columns[name] = json_column(self.table, name, self.positions)
        return self._columns[name]

    def fields(self, names: list[str] | None, i: int) -> dict[str, Any]:
        """Row ``i``'s metadata values (all columns when ``names`` is None)."""
        known = self.table.column_names
        unknown = [name for name in names or () if name not in known]
        if unknown:
            # Every row of the page asks; one error says it, the other rows stay empty.
            if self._reported:
                return {}
            self._reported = True
            raise BadUserInput(f'unknown column "{unknown[0]}"; the columns are {one_of(known)}')
        return {name: self.column(name)[i] for name in (known if names is None else names)}


@dataclass
class RowRecord:
    """One row of a split at a view's threshold (see the GraphQL ``Row``)."""

    id: str
    actual: str | None
    predicted: str | None
    confidence: float | None
    correct: bool
    sheet: Sheet
    at: int  # the row's place in the sheet
    actual_labels: list[str] | None = None  # multilabel only, as the next two
    predicted_labels: list[str] | None = None
    predicted_confidences: list[float] | None = None
    baseline: RowRecord | None = None  # in a comparison: the baseline's row


@dataclass
class RowPage:
    """The rows of one page, each with its cursor, and every matching row's count."""

    records: list[RowRecord]
    cursors: list[str]
    total: int
    has_next: bool
    end_cursor: str | None = field(init=False)

    def __post_init__(self) -> None:
        self.end_cursor = self.cursors[-1] if self.cursors else None

    @classmethod
    def of(cls, page: Page, records: list[RowRecord], query: bytes, total: int) -> RowPage:
        cursors = [encode_cursor(query, int(key)) for key in page.keys]
        return cls(records, cursors, total, page.has_next)


def shortest(value: np.float32) -> float:
    """A float32 as the shortest decimal that reads back as it: 0.995, not
    0.9950000047683716, so it can be pasted back as a threshold."""
    return float(np.format_float_positional(value, unique=True))


def id_order(data: SplitData) -> np.ndarray:
    """Each row's rank by id, sorted once per split and kept with it."""
    def rank() -> np.ndarray:
        ranks = id_rank(data.ids)
        data.release(data.ids)  # read whole once: its pages need not stay mapped
        return ranks

    return data.memo("id-rank", rank)
