"""Metadata columns as ingest stores them: which Arrow types are accepted, and
the type each is stored as, so that every stored column is served by
``where``, ``breakdown`` and ``fields`` (or, for the "other" kinds, refused
by the first two with BAD_USER_INPUT and returned by ``fields`` as JSON).

==========================================  ==================================
input type                                  stored as
==========================================  ==================================
string, large_string                        as is (repeated values dictionary-
                                            encoded)
string_view                                 large_string
bool, int8-int64, uint8-uint32,             as is
float32, float64
uint64                                      int64, when every value fits
float16                                     float32
timestamp[s|ms|us] (any time zone)          as is
timestamp[ns]                               timestamp[us]: sub-microsecond
                                            digits are dropped
date32                                      as is
date64                                      date32
dictionary<T>                               T as above (dictionary<string>
                                            stays encoded)
extension types                             their storage type
run-end encoded                             decoded
"other": null, decimal, binary, time,       as is, inside lists too
duration, struct, list, map                 (time64[ns] and duration[ns] as
                                            [us], string_view inside as
                                            large_string)
==========================================  ==================================

Refused, with one line naming the column and the type: interval, union,
list_view and anything newer. Refused with the row: a uint64 beyond int64, a
timestamp or date outside the years 1 to 9999 (what a time column's values
become in ``fields``), a time zone the system does not know.

Why ns becomes us: ``fields`` returns times through Python's datetime, which
holds microseconds; Arrow refuses to convert a nanosecond value that is not a
whole microsecond, and the query would fail. Filters and bins compare ticks
exactly in every unit, so nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from evalql.storage.errors import IngestError

_INT64_MAX = 2**63 - 1
# Timestamps have to become a datetime in any time zone, so a day of margin
# at either end of Python's years 1 to 9999; dates need none.
_FIRST_SECOND = -62135596800 + 86_400  # 0001-01-02T00:00:00Z
_LAST_SECOND = 253402300799 - 86_400  # 9999-12-30T23:59:59Z
_FIRST_DAY, _LAST_DAY = -719162, 2932896  # 0001-01-01, 9999-12-31
_TICKS_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}

_SIMPLE = (
    pa.types.is_null, pa.types.is_boolean, pa.types.is_integer, pa.types.is_float32,
    pa.types.is_float64, pa.types.is_decimal, pa.types.is_string, pa.types.is_large_string,
    pa.types.is_binary, pa.types.is_large_binary, pa.types.is_fixed_size_binary,
    pa.types.is_date32, pa.types.is_time32,
)


class _Refused(Exception):
    """A type no query could serve (internal: becomes an IngestError)."""


def stored_metadata(table: pa.Table, source: str) -> pa.Table:
    """The metadata columns of ``table`` as they will be stored (see the
    module docstring); IngestError for a type or value that cannot be."""
    columns = {name: stored_column(table.column(name), name, source) for name in table.column_names}
    return pa.table(columns) if columns else table


def stored_column(column: pa.ChunkedArray, name: str, source: str) -> pa.ChunkedArray:
    """One metadata column as stored; ``column`` is the input's."""
    try:
        column = _plain(column)
        dtype = column.type
        if pa.types.is_uint64(dtype):
            return _uint64(column, name, source)
        if pa.types.is_timestamp(dtype):
            return _timestamps(column, name, source)
        if pa.types.is_date64(dtype):
            return _dates(_days(column), name, source)
        if pa.types.is_date32(dtype):
            return _dates(column, name, source)
        target = _stored_type(dtype)
        if target != dtype:
            column = _cast(column, target)
        _check_nested_times(column, name, source)
        return column
    except _Refused as refused:
        message = (
            f"type {refused.args[0]} cannot be stored as metadata (no query could "
            "serve it); convert the column or leave it out"
        )
        raise IngestError(source, message, name) from None


def _cast(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    try:
        return column.cast(target, safe=False)  # safe=False: ns -> us truncates
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        raise _Refused(column.type) from None  # say, an extension type inside a struct


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Extension types as their storage, run-end encoding decoded, and a
    dictionary of anything but strings decoded (filters and bins read values)."""
    dtype = column.type
    if isinstance(dtype, pa.BaseExtensionType):
        return _plain(pa.chunked_array([c.storage for c in column.chunks], dtype.storage_type))
    if pa.types.is_run_end_encoded(dtype):
        decoded = [pc.run_end_decode(c) for c in column.chunks]
        return _plain(pa.chunked_array(decoded, dtype.value_type))
    if pa.types.is_dictionary(dtype):
        value = dtype.value_type
        # A null among a dictionary's entries: Arrow cannot join such chunks
        # into the one chunk stored, so the strings are decoded (and encoded
        # again when they repeat, storage.ingest).
        held_null = any(chunk.dictionary.null_count for chunk in column.chunks)
        if (pa.types.is_string(value) or pa.types.is_large_string(value)) and not held_null:
            return column
        return _plain(column.cast(value))
    return column


def _stored_type(dtype: pa.DataType) -> pa.DataType:
    """The type a value of ``dtype`` is stored as inside the "other" kinds and
    for plain scalars; _Refused for a type no query could serve."""
    if any(check(dtype) for check in _SIMPLE):
        return dtype
    if pa.types.is_float16(dtype):
        return pa.float32()
    if pa.types.is_string_view(dtype):
        return pa.large_string()
    if pa.types.is_binary_view(dtype):
        return pa.large_binary()
    if pa.types.is_timestamp(dtype):
        return pa.timestamp("us", dtype.tz) if dtype.unit == "ns" else dtype
    if pa.types.is_time64(dtype):
        return pa.time64("us")
    if pa.types.is_duration(dtype):
        return pa.duration("us") if dtype.unit == "ns" else dtype
    if pa.types.is_date64(dtype):
        return dtype  # inside lists and structs; a column of dates becomes date32
    if pa.types.is_dictionary(dtype):
        value = dtype.value_type
        if pa.types.is_string(value) or pa.types.is_large_string(value):
            return dtype  # filters test each distinct string once (see storage.filters)
        return _stored_type(value)
    return _nested_type(dtype)


def _nested_type(dtype: pa.DataType) -> pa.DataType:
    if pa.types.is_struct(dtype):
        return pa.struct([_field(dtype.field(i)) for i in range(dtype.num_fields)])
    if pa.types.is_list(dtype):
        return pa.list_(_field(dtype.value_field))
    if pa.types.is_large_list(dtype):
        return pa.large_list(_field(dtype.value_field))
    if pa.types.is_fixed_size_list(dtype):
        return pa.list_(_field(dtype.value_field), dtype.list_size)
    if pa.types.is_map(dtype):
        return pa.map_(_field(dtype.key_field), _field(dtype.item_field), dtype.keys_sorted)
    raise _Refused(dtype)


def _field(field: pa.Field) -> pa.Field:
    return field.with_type(_stored_type(field.type))


def _uint64(column: pa.ChunkedArray, name: str, source: str) -> pa.ChunkedArray:
    """uint64 as int64, which filters and bins compare exactly; refused from
    the first value that does not fit."""
    too_big = pc.greater(column, pa.scalar(_INT64_MAX, pa.uint64()))
    row = _first_true(too_big)
    if row is not None:
        message = (
            f"value {column[row].as_py()} does not fit in int64 (uint64 columns are "
            "stored as int64)"
        )
        raise IngestError(source, message, name, row + 1)
    return column.cast(pa.int64())


def _timestamps(column: pa.ChunkedArray, name: str, source: str) -> pa.ChunkedArray:
    dtype = column.type
    _check_time_zone(dtype, name, source)
    if dtype.unit == "ns":
        # Floor, not truncation toward zero, so a time before 1970 keeps its microsecond.
        ticks = column.cast(pa.int64()).to_numpy(zero_copy_only=False)
        valid = column.is_valid().to_numpy(zero_copy_only=False)
        micros = np.floor_divide(np.where(valid, ticks, 0), 1000)
        us = pa.array(micros, pa.int64(), mask=~valid).cast(pa.timestamp("us", dtype.tz))
        column = pa.chunked_array([us])
    unit = column.type.unit
    low, high = _FIRST_SECOND * _TICKS_PER_SECOND[unit], _LAST_SECOND * _TICKS_PER_SECOND[unit]
    _check_range(column, pa.int64(), (low, high), name, source, f"{unit} since 1970-01-01")
    return column


def _days(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """date64 (milliseconds) as date32 (days), flooring a time of day away."""
    millis = column.cast(pa.int64()).to_numpy(zero_copy_only=False)
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    days = np.floor_divide(np.where(valid, millis, 0), 86_400_000)
    # Beyond int32 the range check below refuses; clip so the cast cannot wrap.
    days = np.clip(days, np.iinfo(np.int32).min, np.iinfo(np.int32).max).astype(np.int32)
    return pa.chunked_array([pa.array(days, pa.int32(), mask=~valid).cast(pa.date32())])


def _dates(column: pa.ChunkedArray, name: str, source: str) -> pa.ChunkedArray:
    bounds = (_FIRST_DAY, _LAST_DAY)
    _check_range(column, pa.int32(), bounds, name, source, "days since 1970-01-01")
    return column


def _check_range(
    column: pa.ChunkedArray, ticks: pa.DataType, bounds: tuple[int, int], name: str,
    source: str, unit: str,
) -> None:
    """Refuse the first value outside ``bounds`` (in ticks), naming its row.

    ``-300000000000`` seconds -> "the time -300000000000 s since 1970-01-01 is
    outside the years 1 to 9999".
    """
    values = column.cast(ticks)
    outside = pc.or_(pc.less(values, bounds[0]), pc.greater(values, bounds[1]))
    row = _first_true(outside)
    if row is not None:
        message = f"the time {values[row].as_py()} {unit} is outside the years 1 to 9999"
        raise IngestError(source, message, name, row + 1)


def _check_time_zone(dtype: pa.TimestampType, name: str, source: str) -> None:
    if dtype.tz is None:
        return
    try:
        pa.scalar(0, dtype).as_py()
    except (pa.ArrowException, ValueError, KeyError):
        raise IngestError(source, f"unknown time zone {dtype.tz!r}", name) from None


def _check_nested_times(column: pa.ChunkedArray, name: str, source: str) -> None:
    """The timestamps and dates inside lists, structs and maps: the same range
    as a column of them (no row: the value sits somewhere inside a row)."""
    if not pa.types.is_nested(column.type):
        return
    for chunk in column.chunks:
        for leaf in _leaves(chunk):
            if pa.types.is_timestamp(leaf.type):
                _check_time_zone(leaf.type, name, source)
                per_second = _TICKS_PER_SECOND[leaf.type.unit]
                bounds = (_FIRST_SECOND * per_second, _LAST_SECOND * per_second)
                ticks = pa.int64()
            elif pa.types.is_date32(leaf.type) or pa.types.is_date64(leaf.type):
                scale = 1 if pa.types.is_date32(leaf.type) else 86_400_000
                bounds, ticks = (_FIRST_DAY * scale, _LAST_DAY * scale), pa.int64()
            else:
                continue
            values = leaf.cast(ticks)
            outside = pc.or_(pc.less(values, bounds[0]), pc.greater(values, bounds[1]))
            if _first_true(outside) is not None:
                message = f"a {leaf.type} value inside the {column.type} is outside years 1 to 9999"
                raise IngestError(source, message, name)


def _leaves(array: pa.Array) -> Iterator[pa.Array]:
    """The arrays of scalars inside a nested array (values under a null
    parent included: checking them too is only stricter)."""
    dtype = array.type
    if pa.types.is_struct(dtype):
        for i in range(dtype.num_fields):
            yield from _leaves(array.field(i))
    elif pa.types.is_map(dtype):
        yield from _leaves(array.keys)
        yield from _leaves(array.items)
    elif pa.types.is_list(dtype) or pa.types.is_large_list(dtype) or \
            pa.types.is_fixed_size_list(dtype):
        yield from _leaves(array.flatten())
    else:
        yield array


def _first_true(mask: pa.ChunkedArray) -> int | None:
    index = pc.index(pc.fill_null(mask, False), True).as_py()
    return None if index < 0 else index
