"""Metrics by metadata: a view's rows cut by a column (``Metrics.breakdown``).

One slice per value of a string or bool column (largest first), ``bins``
equal-width bins between the smallest and largest value of a number or time
column (in value order, empty bins included). Null values form one more
slice, last, with key "null" and ``isNull: true``. Each slice carries the
condition that selects it, and its view is the view with that condition
added, so the slices' counts add up to the view's ``total``. (NaN in a float
column is the one exception: no filter selects it, so such rows are in no
slice.)

Where the task has confusion matrices and they fit, every slice's matrix is
counted in the same pass and given to the slice's view (``View.preset``), so
a slice's metrics cost no scan of their own. A multilabel view's slices count
its rows (a class filter drops none) and each slice's metrics are computed on
the slice's view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from evalql.api import backends, limits
from evalql.api.errors import BadUserInput, CostLimit, one_of
from evalql.engine.breakdown import (
    binned_counts,
    code_counts,
    confusion_by_bin,
    confusion_by_code,
    value_range,
)
from evalql.storage.columns import categories, numbers
from evalql.storage.filters import Condition

if TYPE_CHECKING:
    from evalql.api.views.base import View
    from evalql.storage.datasets import SplitData, SplitStore
    from evalql.storage.snapshot import Snapshot


@dataclass(frozen=True)
class Slice:
    """One slice: its key, bounds, row count, and the view of its rows."""

    key: str
    count: int
    low: float | None
    high: float | None
    is_null: bool
    view: View


@dataclass(frozen=True)
class _Part:
    """A slice before it is bound to a view."""

    key: str
    count: int
    condition: Condition
    low: float | None = None
    high: float | None = None
    is_null: bool = False
    matrix: np.ndarray | None = None  # the slice view's confusion counts, when known


# The latest catalog snapshot's slices by column (one store per server).
_slices_of: tuple[Snapshot, dict[str, int]] | None = None


def slices_by_column(store: SplitStore) -> dict[str, int]:
    """For the static cost (api/cost.py): every metadata column of the store,
    by name, with the most slices besides the null slice a breakdown of it
    can make in any split: 2 for a bool column, its number of values for a
    string column as ingest recorded it, at most ``MAX_SLICES`` (the
    breakdown refuses more; ``MAX_SLICES`` too for a split ingested before
    the count was kept), 0 for a number or time column, whose bins decide.
    The same object until the catalog changes."""
    global _slices_of
    snapshot = store.catalog.snapshot()
    if _slices_of is not None and _slices_of[0] is snapshot:
        return _slices_of[1]
    slices: dict[str, int] = {}
    for split in snapshot.all_splits():
        for column in split.columns:
            most = {"string": _string_slices(column.values), "bool": 2}.get(column.type, 0)
            slices[column.name] = max(slices.get(column.name, 0), most)
    _slices_of = (snapshot, slices)
    return slices


def _string_slices(values: int | None) -> int:
    return limits.MAX_SLICES if values is None else min(values, limits.MAX_SLICES)


async def breakdown(view: View, column: str, bins: int) -> list[Slice]:
    """``Metrics.breakdown``: the view's rows cut by ``column``."""
    limits.check_within("bins", bins, 1, limits.MAX_BINS)
    kinds = {c.name: c.type for c in view.split.columns}
    if column not in kinds:
        raise BadUserInput(f'unknown column "{column}"; the columns are {one_of(kinds)}')
    kind = kinds[column]
    if kind in ("string", "bool"):
        parts = await view.request.run(_by_value, view, column)
    elif kind in ("int", "float", "timestamp", "date"):
        parts = await view.request.run(_by_bin, view, column, kind, bins)
    else:
        raise BadUserInput(f'column "{column}" is of type {kind}, which cannot be broken down')
    slices = []
    for p in parts:
        at = view.with_rows(view.threshold, (*view.conditions, p.condition))
        if p.matrix is not None:
            at.preset(p.matrix)  # counted with every other slice in one pass
        slices.append(Slice(p.key, p.count, p.low, p.high, p.is_null, at))
    return slices


def _by_value(view: View, column: str) -> list[_Part]:
    remote = backends.for_split(view.request.store, view.split)
    if remote is not None:  # counted per fragment where it lives, added up by value
        values, counts, matrices = remote.breakdown_values(
            view.split, view.conditions, column, view.threshold, view.actual_ok())
        if not limits.is_dense(len(view.model.labels), len(values) + 1):
            matrices = None
    else:
        values, counts, matrices = _value_counts(view, column)
    present = np.flatnonzero(counts[:-1])
    if len(present) > limits.MAX_SLICES:
        raise CostLimit(
            f'column "{column}" has {len(present):,} distinct values in this view; a '
            f"breakdown makes at most {limits.MAX_SLICES:,} slices: narrow the view with "
            "where, or break down a numeric or time column"
        )
    texts = [_text(values[i]) for i in present]
    ranked = sorted(range(len(present)), key=lambda j: (-counts[present[j]], texts[j]))
    parts = [
        _Part(key=texts[j], count=int(counts[present[j]]),
              condition=Condition(column, isin=(texts[j],)),
              matrix=_matrix(matrices, present[j]))
        for j in ranked
    ]
    return parts + _null_part(column, int(counts[-1]), _matrix(matrices, -1))


def _value_counts(view: View, column: str) -> tuple[list[object], np.ndarray, np.ndarray | None]:
    """In process: the column's values, rows of the view per value (null
    last), and every value's matrix when they fit."""
    data = view._load()
    codes, values = data.memo(("breakdown-codes", column),
                              lambda: categories(data.metadata, column))
    actual_ok = view.actual_ok()
    count = partial(confusion_by_code, codes, len(values))
    matrices = view._group_matrices(data, len(values) + 1, count)
    if matrices is not None:
        counts = _totals(matrices, actual_ok)
    else:  # the mask only here: the matrices test the filter inside their scan
        counts = code_counts(codes, len(values), view._actual_codes(data), actual_ok,
                             view._mask(data))
    _release_column(data, codes)
    return values, counts, matrices


def _release_column(data: SplitData, column: np.ndarray) -> None:
    """A breakdown reads its column whole, once: its pages of the split's
    file (when it is a view of them, not a copy) are given back, so they do
    not stay in the resident set (40 MB a 4-byte column at 10M rows). The
    next breakdown maps them again: 3-5 ms of one core for 40 MB."""
    data.release(column)


def _by_bin(view: View, column: str, kind: str, bins: int) -> list[_Part]:
    remote = backends.for_split(view.request.store, view.split)
    if remote is not None:  # the range, then the bins, per fragment where it lives
        found, ticks, nulls = remote.breakdown_range(
            view.split, view.conditions, column, kind, view.actual_ok())
    else:
        data = view._load()
        values, valid, ticks = data.memo(("breakdown-values", column),
                                         lambda: numbers(data.metadata, column, kind))
        actual, actual_ok, mask = view._actual_codes(data), view.actual_ok(), view._mask(data)
        found = value_range(values, valid, actual, actual_ok, mask)
        if found is None:
            nulls = binned_counts(values, valid, np.zeros(2), actual, actual_ok, mask)[-1]
    if found is None:  # no row of the view has a value
        return _null_part(column, int(nulls))
    low, high = found
    edges = _edges(low, high, bins, ticks)  # in the filter's unit: values, or seconds
    # Compared with the values exactly as the slice's filter will compare them.
    compared = edges if ticks is None else np.array([e * ticks[0] / ticks[1] for e in edges])
    if remote is not None:
        dense = limits.is_dense(len(view.model.labels), len(edges))
        counts, matrices = remote.breakdown_bins(view.split, view.conditions, column, kind,
                                                 compared, view.threshold, view.actual_ok(),
                                                 dense)
    else:
        count = partial(confusion_by_bin, values, valid, compared)
        matrices = view._group_matrices(data, len(edges), count)
        if matrices is not None:
            counts = _totals(matrices, actual_ok)
        else:
            counts = binned_counts(values, valid, compared, actual, actual_ok, mask)
        _release_column(data, values)
    parts = []
    for i in range(len(edges) - 1):
        last = i == len(edges) - 2
        lo, hi = float(edges[i]), float(edges[i + 1])
        bound = {"lte": hi} if last else {"lt": hi}
        label = _time_text if ticks is not None else _number_text
        parts.append(_Part(
            key=f"[{label(lo)}, {label(hi)}{']' if last else ')'}",
            count=int(counts[i]), condition=Condition(column, gte=lo, **bound), low=lo, high=hi,
            matrix=_matrix(matrices, i),
        ))
    return parts + _null_part(column, int(counts[-1]), _matrix(matrices, -1))


def _edges(
    low: float, high: float, bins: int, ticks: tuple[int, int] | None
) -> np.ndarray:
    """Equal-width edges from ``low`` to ``high`` (one bin when they are equal).

    On a time column ``low``/``high`` are ticks and the edges seconds, widened by
    an ulp where needed so the filter's ``seconds * numerator / denominator``
    still takes the first and last rows in.
    """
    if ticks is None:
        # An integer above 2**53 may round either way as a float: widen by an
        # ulp so the first and last bins still take the extreme rows in.
        first, last = float(low), float(high)
        while first > low:
            first = float(np.nextafter(first, -np.inf))
        while last < high:
            last = float(np.nextafter(last, np.inf))
    else:
        numerator, denominator = ticks
        first = low * denominator / numerator
        last = high * denominator / numerator
        while first * numerator / denominator > low:
            first = float(np.nextafter(first, -np.inf))
        while last * numerator / denominator < high:
            last = float(np.nextafter(last, np.inf))
    if first == last:
        return np.array([first, last])
    edges = first + (last - first) * np.arange(bins + 1) / bins
    edges[-1] = last
    return edges


def _null_part(column: str, count: int, matrix: np.ndarray | None = None) -> list[_Part]:
    if count == 0:
        return []
    return [_Part(key="null", count=count, condition=Condition(column, is_null=True),
                  is_null=True, matrix=matrix)]


def _totals(matrices: np.ndarray, actual_ok: np.ndarray) -> np.ndarray:
    """Rows of the view per group: those whose actual label it keeps."""
    return matrices[:, actual_ok, :].sum(axis=(1, 2))


def _matrix(matrices: np.ndarray | None, group: int) -> np.ndarray | None:
    return None if matrices is None else matrices[group]


def _number_text(value: float) -> str:
    """``_number_text(20.0)`` -> ``"20"``; ``_number_text(0.125)`` -> ``"0.125"``."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _time_text(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
