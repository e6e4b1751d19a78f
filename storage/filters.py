"""Row filters on metadata columns: conditions in, a NumPy bool mask out.

``row_mask(table, [Condition("region", isin=("eu",)), Condition("age", gte=18)])``
-> ``array([True, False, ...])``, the rows where every condition holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from evalql.storage.columns import ticks_per_second
from evalql.storage.errors import StoreError
from evalql.storage.validate import column_type

# gt/gte/lt/lte on time columns are seconds since the epoch; a column stores
# ticks, and ticks = seconds * numerator / denominator for its type
# (storage.columns.ticks_per_second).

# Each comparison, and how to round a bound so that comparing integers with
# the rounded bound means the same as comparing them with the exact one:
# v > 2.5 is v > 2, v >= 2.5 is v >= 3. Integer columns and time ticks are
# then compared as integers, exactly, whatever their size (a float64 cast of
# nanosecond ticks would lose precision, and Arrow refuses it).
_COMPARISONS = (
    ("gt", pc.greater, math.floor),
    ("gte", pc.greater_equal, math.ceil),
    ("lt", pc.less, math.ceil),
    ("lte", pc.less_equal, math.floor),
)
_INT64 = (-(2**63), 2**63 - 1)


class FilterError(StoreError):
    """A condition that cannot apply: unknown column, bad value, wrong type."""


@dataclass(frozen=True)
class Condition:
    """A test on one column; every given part must hold. ``isin`` values are
    text (parsed for number and bool columns); gt/gte/lt/lte on timestamp and
    date columns are seconds since the Unix epoch (UTC). A null value only
    ever satisfies ``is_null=True``."""

    column: str
    isin: tuple[str, ...] | None = None
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    is_null: bool | None = None


def row_mask(table: pa.Table, conditions: Sequence[Condition]) -> np.ndarray | None:
    """Bool mask (N,) of the rows where all ``conditions`` hold; None when there are none."""
    if not conditions:
        return None
    mask = _condition_mask(table, conditions[0])
    for condition in conditions[1:]:
        mask &= _condition_mask(table, condition)
    return mask


def _condition_mask(table: pa.Table, condition: Condition) -> np.ndarray:
    column = _column(table, condition.column)
    if pa.types.is_dictionary(column.type) and _only_isin(condition):
        return _dictionary_isin(column, condition)
    column = _decoded(column)
    kind = column_type(column.type)
    if kind == "other":
        message = f"column {condition.column!r} has type {column.type}, which cannot be filtered"
        raise FilterError(message)
    mask = np.ones(table.num_rows, dtype=bool)
    for part in _parts(column, kind, condition):
        # A comparison with null is null; null never satisfies a condition.
        mask &= pc.fill_null(part, False).to_numpy(zero_copy_only=False)
    return mask


def _parts(column: pa.ChunkedArray, kind: str, condition: Condition) -> list[pa.ChunkedArray]:
    parts = []
    if condition.is_null is not None:
        parts.append(pc.is_null(column) if condition.is_null else pc.is_valid(column))
    if condition.isin is not None:
        values = _value_set(condition.isin, column.type, kind, condition.column)
        parts.append(pc.is_in(column, value_set=values))
    for name, compare, rounding in _COMPARISONS:
        bound = getattr(condition, name)
        if bound is not None:
            parts.append(_compare(column, kind, compare, rounding, float(bound), condition.column))
    return parts


def _column(table: pa.Table, name: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        known = ", ".join(table.column_names) or "none, this split has no metadata columns"
        raise FilterError(f"unknown column {name!r}; the columns are: {known}")
    return table.column(name)


def _decoded(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        return pc.cast(column, column.type.value_type)  # compare values, not codes
    return column


def _only_isin(condition: Condition) -> bool:
    bounds = (condition.gt, condition.gte, condition.lt, condition.lte, condition.is_null)
    return condition.isin is not None and all(b is None for b in bounds)


def _dictionary_isin(column: pa.ChunkedArray, condition: Condition) -> np.ndarray:
    """``in`` on a dictionary-encoded column: test each distinct value once, then
    look the answers up by code — about 10x faster than comparing N strings."""
    parts = []
    for chunk in column.chunks:
        kind = column_type(chunk.type)
        values = _value_set(condition.isin, chunk.type.value_type, kind, condition.column)
        hits = pc.is_in(chunk.dictionary, value_set=values).to_numpy(zero_copy_only=False)
        if not len(hits):
            parts.append(np.zeros(len(chunk), dtype=bool))
        elif chunk.null_count == 0:
            parts.append(hits[chunk.indices.to_numpy()])  # zero-copy codes
        else:
            codes = chunk.indices.fill_null(0).to_numpy()
            parts.append(hits[codes] & chunk.is_valid().to_numpy(zero_copy_only=False))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


@dataclass(frozen=True)
class CodeTest:
    """An ``in`` condition as a lookup: row ``i`` passes when ``keep[codes[i]]``.

    ``codes`` are the column's dictionary codes (read-only, zero-copy when the
    column has no nulls; a null is the extra last code, never kept), ``keep``
    the condition's answer for each distinct value. A scan can test it as it
    reads the row, with no mask built first (``engine.arrays.RowTest``).
    """

    codes: np.ndarray  # int32, one a row
    keep: np.ndarray  # bool, one a code


def code_test(table: pa.Table, condition: Condition) -> CodeTest | None:
    """``condition`` as a ``CodeTest`` when it is only an ``in`` on a
    dictionary-encoded column of one chunk with int32 codes; else None (ask
    ``row_mask``). Errors as ``row_mask`` raises them.

    Example: channel ``["chat", "mail", "chat"]`` (dictionary chat=0, mail=1)
    ``in ("mail",)`` gives codes ``[0, 1, 0]`` and keep ``[False, True, False]``.
    """
    column = _column(table, condition.column)
    if not (pa.types.is_dictionary(column.type) and _only_isin(condition)):
        return None
    if column.num_chunks != 1 or column.type.index_type != pa.int32():
        return None
    chunk = column.chunks[0]
    kind = column_type(chunk.type)
    values = _value_set(condition.isin or (), chunk.type.value_type, kind, condition.column)
    hits = pc.is_in(chunk.dictionary, value_set=values).to_numpy(zero_copy_only=False)
    keep = np.append(hits.astype(np.bool_), False)  # the last code: null
    if chunk.null_count == 0:
        codes = chunk.indices.to_numpy()  # zero-copy
    else:
        codes = chunk.indices.fill_null(len(hits)).to_numpy(zero_copy_only=False)
    codes.flags.writeable = False
    return CodeTest(codes, keep)


@dataclass(frozen=True)
class RangeTest:
    """Comparisons as inclusive integer bounds: row ``i`` passes when
    ``low <= values[i] <= high`` (``values``: the column's int64 integers or
    time ticks, read-only and zero-copy; ``low > high`` keeps no row)."""

    values: np.ndarray  # int64, one a row
    low: int
    high: int


def range_test(table: pa.Table, condition: Condition) -> RangeTest | None:
    """``condition`` as a ``RangeTest`` when it is only gt/gte/lt/lte on an
    int64 or timestamp column of one chunk without nulls; else None (ask
    ``row_mask``). Bounds round as ``row_mask`` rounds them, so both keep
    the same rows. Errors as ``row_mask`` raises them.

    Example: ``length`` ``gt=2.5, lte=10`` gives low 3, high 10.
    """
    column = _column(table, condition.column)
    parts = [(name, rounding, getattr(condition, name)) for name, _, rounding in _COMPARISONS]
    if condition.isin is not None or condition.is_null is not None:
        return None
    if all(bound is None for _, _, bound in parts) or column.num_chunks != 1 or column.null_count:
        return None
    kind = column_type(column.type)
    if kind == "int" and column.type == pa.int64():
        values, (numerator, denominator) = column, (1, 1)
    elif kind == "timestamp":
        values, (numerator, denominator) = _ticks(column)
    else:
        return None
    low, high = _INT64
    for name, rounding, bound in parts:
        if bound is None:
            continue
        if math.isnan(bound):
            raise FilterError(f"a bound on column {condition.column!r} has to be a number, not NaN")
        limit = _int_bound(float(bound) * numerator / denominator, rounding).as_py()
        # v > b is v >= b + 1 for integers, v < b is v <= b - 1.
        if name in ("gt", "gte"):
            low = max(low, limit + (name == "gt"))
        else:
            high = min(high, limit - (name == "lt"))
    array = values.chunks[0].to_numpy()
    array.flags.writeable = False
    return RangeTest(array, max(low, _INT64[0]), min(high, _INT64[1]))


def _value_set(values: tuple[str, ...], dtype: pa.DataType, kind: str, name: str) -> pa.Array:
    """``values`` as an array of the column's type, for ``is_in``."""
    if kind == "string":
        return pa.array([str(v) for v in values], pa.string()).cast(dtype)
    if kind == "bool":
        return pa.array([_parse_bool(v, name) for v in values], pa.bool_())
    if kind == "int":
        limits = np.iinfo(dtype.to_pandas_dtype())
        parsed = (_parse_int(v, name) for v in values)
        # A value the column's type cannot hold cannot match; drop it.
        kept = [v for v in parsed if v is not None and limits.min <= v <= limits.max]
        return pa.array(kept, dtype)
    if kind == "float":
        return pa.array([_parse_float(v, name) for v in values], pa.float64()).cast(dtype)
    raise FilterError(
        f"'in' does not apply to the {kind} column {name!r}; use gt/gte/lt/lte "
        "with seconds since the Unix epoch"
    )


def _parse_bool(value: str, name: str) -> bool:
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise FilterError(f"column {name!r} is bool; {value!r} has to be true or false")
    return text == "true"


def _parse_int(value: str, name: str) -> int | None:
    """The integer ``value`` names; None for a number with a fraction (it matches no int)."""
    number = _parse_float(value, name)
    try:
        return int(str(value).strip())
    except ValueError:
        return int(number) if number.is_integer() else None


def _parse_float(value: str, name: str) -> float:
    try:
        return float(str(value).strip())
    except ValueError:
        raise FilterError(f"column {name!r} is numeric; {value!r} is not a number") from None


def _compare(
    column: pa.ChunkedArray,
    kind: str,
    compare: Callable,
    rounding: Callable[[float], int],
    bound: float,
    name: str,
) -> pa.ChunkedArray:
    if math.isnan(bound):
        raise FilterError(f"a bound on column {name!r} has to be a number, not NaN")
    if kind == "float":
        return compare(column, pa.scalar(bound))
    if kind == "int":
        return compare(column, _int_bound(bound, rounding))
    if kind in ("timestamp", "date"):
        ticks, (numerator, denominator) = _ticks(column)
        exact = bound * numerator / denominator
        return compare(ticks, _int_bound(exact, rounding))
    raise FilterError(
        f"column {name!r} is {kind}; gt/gte/lt/lte need a number, timestamp or date column"
    )


def _int_bound(bound: float, rounding: Callable[[float], int]) -> pa.Scalar:
    if math.isinf(bound):  # beyond every value: clip to the type's range
        return pa.scalar(_INT64[0] if bound < 0 else _INT64[1], pa.int64())
    return pa.scalar(min(max(rounding(bound), _INT64[0]), _INT64[1]), pa.int64())


def _ticks(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, tuple[int, int]]:
    """The integers a time column stores, and its ticks per second."""
    ticks = ticks_per_second(column.type)
    assert ticks is not None, column.type
    stored = pa.int32() if pa.types.is_date32(column.type) else pa.int64()
    return pc.cast(column, stored), ticks
