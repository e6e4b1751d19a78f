"""Metrics by metadata (``breakdown``) and the confidence histogram.

``breakdown(column)`` cuts a view's rows by a metadata column: one slice per
value of a string or bool column (largest first), ``bins`` equal-width bins
between the smallest and largest value of a number or time column (in value
order, empty bins included). Null values form one more slice, last, with key
"null" and ``isNull: true``. Each slice carries the condition that selects
it, and its ``metrics`` are the view with that condition added, so the slices'
counts add up to the view's ``total``. (NaN in a float column is the one
exception: no filter selects it, so such rows are in no slice.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import numpy as np
import pyarrow as pa
import strawberry

from evalql.api.errors import BadUserInput, CostLimit, one_of
from evalql.api.loaders import threshold_index
from evalql.api.views import MAX_MATRIX_CELLS, View
from evalql.engine.breakdown import (
    binned_counts,
    code_counts,
    confusion_by_bin,
    confusion_by_code,
    value_range,
)
from evalql.engine.histogram import confidence_histogram, index_confidence_histogram
from evalql.engine.multilabel.curves import pair_histogram
from evalql.storage.datasets import SplitData
from evalql.storage.filters import Condition

if TYPE_CHECKING:
    from evalql.api.types.metrics import Metrics

MAX_BINS = 1000
MAX_SLICES = 1000  # distinct values of a string column, per breakdown

# Ticks per second of a time column, as storage.filters reads gt/gte/lt/lte
# on it: seconds * numerator / denominator.
_TICKS = {"s": (1, 1), "ms": (1_000, 1), "us": (10**6, 1), "ns": (10**9, 1)}
_DAY = (1, 86_400)


@strawberry.type(description="Rows of a view with a prediction, by confidence.")
class HistogramBin:
    low: float
    high: float = strawberry.field(description="Exclusive, except for the last bin's 1.0.")
    count: int = strawberry.field(description="Rows with a prediction of this confidence.")
    correct: int = strawberry.field(description="Of those, rows predicted right.")


@strawberry.type(description="The rows of a view with one value (or in one bin) of a column.")
class Slice:
    key: str = strawberry.field(
        description='The value; "[low, high)" for a bin (the last bin is closed); '
        '"null" for the rows without a value.'
    )
    low: float | None = strawberry.field(
        description="A bin's bounds; seconds since the Unix epoch on time columns."
    )
    high: float | None
    count: int = strawberry.field(description="Rows of the slice in the view: metrics.total.")
    is_null: bool = strawberry.field(description="The slice of rows without a value.")
    view: strawberry.Private[View]

    @strawberry.field(description="The same view with the slice's condition added.")
    def metrics(self) -> Annotated[Metrics, strawberry.lazy("evalql.api.types.metrics")]:
        from evalql.api.types.metrics import Metrics  # the two types refer to each other

        return Metrics(view=self.view)


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


async def histogram(view: View, bins: int) -> list[HistogramBin]:
    """``Metrics.confidenceHistogram``: ``bins`` equal-width bins over [0, 1].

    Multilabel: the bins count predicted (row, label) pairs of the view's
    labels, also those below the threshold, and ``correct`` those whose label
    is actual in the row (a TP once kept), so from the threshold up they add
    up to the labels' summed ``predicted`` and ``tp``.
    """
    _check_bins(bins)
    edges = np.arange(bins + 1) / bins  # 3 / 5 is 0.6, where linspace says 0.6000000000000001
    count, correct = await view.ctx.run(_histogram, view, edges)
    return [
        HistogramBin(low=float(edges[i]), high=float(edges[i + 1]),
                     count=int(count[i]), correct=int(correct[i]))
        for i in range(bins)
    ]


def _histogram(view: View, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    data = view._load()
    mask = view._mask()
    if data.multilabel is not None:
        labels = None if view.class_filter is None else view.codes
        return pair_histogram(data.multilabel, edges, data.n_labels, mask, labels)
    if mask is None and (data.n_labels + 1) ** 2 <= MAX_MATRIX_CELLS:
        return index_confidence_histogram(threshold_index(data), edges, _actual_ok(view))
    return confidence_histogram(
        data.actual, data.predicted, data.confidence, edges.astype(np.float32),
        _actual_ok(view), mask,
    )


async def breakdown(view: View, column: str, bins: int) -> list[Slice]:
    """``Metrics.breakdown``: the view's rows cut by ``column``.

    Slices of a multilabel view count its rows (a class filter drops none)
    and each slice's metrics are computed on their own, on the slice's view.
    """
    _check_bins(bins)
    kinds = {c.name: c.type for c in view.split.columns}
    if column not in kinds:
        raise BadUserInput(f'unknown column "{column}"; the columns are {one_of(kinds)}')
    kind = kinds[column]
    if kind in ("string", "bool"):
        parts = await view.ctx.run(_by_value, view, column)
    elif kind in ("int", "float", "timestamp", "date"):
        parts = await view.ctx.run(_by_bin, view, column, kind, bins)
    else:
        raise BadUserInput(f'column "{column}" is of type {kind}, which cannot be broken down')
    labels = None if view.class_filter is None else list(view.class_filter)
    slices = []
    for p in parts:
        conditions = (*view.conditions, p.condition)
        at = View.get(view.ctx, view.model, view.split, view.threshold, labels, conditions)
        if p.matrix is not None:
            at.preset("counts", p.matrix)  # counted with every other slice in one pass
        slices.append(Slice(key=p.key, low=p.low, high=p.high, count=p.count,
                            is_null=p.is_null, view=at))
    return slices


def _by_value(view: View, column: str) -> list[_Part]:
    data = view._load()
    codes, values = _categories(data, column)
    actual, actual_ok, mask = _actual(view), _actual_ok(view), view._mask()
    matrices = None
    if actual is not None and _fits(len(values) + 1, data.n_labels):
        matrices = confusion_by_code(
            codes, len(values), data.actual, data.predicted, data.confidence,
            view.threshold, data.n_labels, mask,
        )
        counts = _totals(matrices, actual_ok)
    else:
        counts = code_counts(codes, len(values), actual, actual_ok, mask)
    present = np.flatnonzero(counts[:-1])
    if len(present) > MAX_SLICES:
        raise CostLimit(
            f'column "{column}" has {len(present):,} distinct values in this view; a '
            f"breakdown makes at most {MAX_SLICES:,} slices: narrow the view with where, "
            "or break down a numeric or time column"
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


def _by_bin(view: View, column: str, kind: str, bins: int) -> list[_Part]:
    data = view._load()
    values, valid, ticks = _numbers(data, column, kind)
    actual, actual_ok, mask = _actual(view), _actual_ok(view), view._mask()
    found = value_range(values, valid, actual, actual_ok, mask)
    if found is None:  # no row of the view has a value
        nulls = binned_counts(values, valid, np.zeros(2), actual, actual_ok, mask)[-1]
        return _null_part(column, int(nulls))
    low, high = found
    edges = _edges(low, high, bins, ticks)  # in the filter's unit: values, or seconds
    # Compared with the values exactly as the slice's filter will compare them.
    compared = edges if ticks is None else np.array([e * ticks[0] / ticks[1] for e in edges])
    matrices = None
    if actual is not None and _fits(len(edges), data.n_labels):
        matrices = confusion_by_bin(
            values, valid, compared, data.actual, data.predicted, data.confidence,
            view.threshold, data.n_labels, mask,
        )
        counts = _totals(matrices, actual_ok)
    else:
        counts = binned_counts(values, valid, compared, actual, actual_ok, mask)
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


def _fits(groups: int, n_labels: int) -> bool:
    """Whether one confusion matrix per slice fits the dense-matrix budget."""
    return groups * (n_labels + 1) ** 2 <= MAX_MATRIX_CELLS


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


def _check_bins(bins: int) -> None:
    if not 1 <= bins <= MAX_BINS:
        raise BadUserInput(f"bins has to be within 1..{MAX_BINS}, got {bins}")


def _actual(view: View) -> np.ndarray | None:
    """The actual codes that decide a row's place in the view; None when
    every row of the mask is in it (a multilabel view)."""
    return None if view.multilabel else view._load().actual


def _actual_ok(view: View) -> np.ndarray:
    """The view's rows by actual label: a class filter keeps its labels' rows."""
    k = len(view.model.labels)
    if view.class_filter is None:
        return np.ones(k + 1, dtype=np.bool_)
    ok = np.zeros(k + 1, dtype=np.bool_)
    ok[view.codes] = True
    return ok


# --- columns as arrays (kept with the split: a slider reuses them) -------------


def _single(data: SplitData, column: str) -> pa.Array:
    chunked = data.metadata.column(column)
    if chunked.num_chunks == 1:
        return chunked.chunk(0)
    if pa.types.is_dictionary(chunked.type):
        chunked = chunked.cast(chunked.type.value_type)  # chunks may differ in dictionary
    return chunked.combine_chunks()


def _categories(data: SplitData, column: str) -> tuple[np.ndarray, list[object]]:
    """int32 codes per row (-1 = null) and the values they stand for."""

    def build() -> tuple[np.ndarray, list[object]]:
        array = _single(data, column)
        if not pa.types.is_dictionary(array.type):
            array = array.dictionary_encode()
        codes = array.indices.cast(pa.int32()).fill_null(-1).to_numpy(zero_copy_only=False)
        codes.flags.writeable = False
        return codes, array.dictionary.to_pylist()

    return data.memo(("breakdown-codes", column), build)


def _numbers(
    data: SplitData, column: str, kind: str
) -> tuple[np.ndarray, np.ndarray | None, tuple[int, int] | None]:
    """Values (int64 or float64), the valid-row mask (None: no nulls), and a
    time column's ticks per second."""

    def build() -> tuple[np.ndarray, np.ndarray | None, tuple[int, int] | None]:
        array = _single(data, column)
        valid = None
        if array.null_count:
            valid = array.is_valid().to_numpy(zero_copy_only=False)
        ticks = None
        if kind == "timestamp":
            ticks = _TICKS[array.type.unit]
        elif pa.types.is_date32(array.type):
            ticks = _DAY
        elif pa.types.is_date64(array.type):
            ticks = _TICKS["ms"]
        if kind == "float" or pa.types.is_uint64(array.type):
            target = pa.float64()
        else:
            target = pa.int64()
        if ticks is not None and pa.types.is_date32(array.type):
            array = array.cast(pa.int32())
        array = array.cast(target)
        if valid is not None:
            array = array.fill_null(0)
        values = array.to_numpy(zero_copy_only=False)
        values.flags.writeable = False
        return values, valid, ticks

    return data.memo(("breakdown-values", column), build)
