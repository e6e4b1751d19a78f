"""Metadata columns out of Arrow: as JSON for rows, as NumPy for breakdowns.

Also the time units that filters and breakdowns share: a time column stores
ticks, and ``ticks = seconds * numerator / denominator`` for its type
(``ticks_per_second``).
"""

from __future__ import annotations

import base64
import hashlib
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TICKS_PER_SECOND = {"s": (1, 1), "ms": (1_000, 1), "us": (10**6, 1), "ns": (10**9, 1)}
DAY = (1, 86_400)  # date32 counts days


def ticks_per_second(dtype: pa.DataType) -> tuple[int, int] | None:
    """(numerator, denominator) of a time type's ticks per second; None for
    other types. ``ticks_per_second(pa.date32())`` -> ``(1, 86400)``."""
    if pa.types.is_timestamp(dtype):
        return TICKS_PER_SECOND[dtype.unit]
    if pa.types.is_date32(dtype):
        return DAY
    if pa.types.is_date64(dtype):
        return TICKS_PER_SECOND["ms"]  # date64 stores ms
    return None


# --- JSON, for the rows of a page --------------------------------------------


def json_value(value: Any) -> Any:
    """A metadata value as JSON: timestamps and dates as ISO 8601, NaN as null.

    ``json_value(datetime(2024, 1, 2, tzinfo=UTC))`` -> ``"2024-01-02T00:00:00+00:00"``.
    """
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return value


def json_column(table: pa.Table, name: str, positions: pa.Array) -> list[Any]:
    """Column ``name``'s values at ``positions`` (int64), as JSON."""
    return [json_value(v) for v in table.column(name).take(positions).to_pylist()]


def ids_at(ids: pa.Array, positions: np.ndarray) -> list[str]:
    """The ids at ``positions``."""
    return ids.take(pa.array(positions, pa.int64())).to_pylist()


# --- NumPy, for breakdowns and orders ----------------------------------------


def single(table: pa.Table, column: str) -> pa.Array:
    """A column as one array (a copy only when it has several chunks)."""
    chunked = table.column(column)
    if chunked.num_chunks == 1:
        return chunked.chunk(0)
    if pa.types.is_dictionary(chunked.type):
        chunked = chunked.cast(chunked.type.value_type)  # chunks may differ in dictionary
    return chunked.combine_chunks()


def categories(table: pa.Table, column: str) -> tuple[np.ndarray, list[object]]:
    """int32 codes per row (-1 = null) and the values they stand for."""
    array = single(table, column)
    if not pa.types.is_dictionary(array.type):
        array = array.dictionary_encode()
    indices = array.indices
    if indices.type == pa.int32() and indices.null_count == 0:
        # Ingest writes int32 codes: a view of the file, no copy (40 MB at 10M rows).
        codes = indices.to_numpy(zero_copy_only=True)
    else:
        codes = indices.cast(pa.int32()).fill_null(-1).to_numpy(zero_copy_only=False)
    codes.flags.writeable = False
    return codes, array.dictionary.to_pylist()


def numbers(
    table: pa.Table, column: str, kind: str
) -> tuple[np.ndarray, np.ndarray | None, tuple[int, int] | None]:
    """Values (int64 or float64), the valid-row mask (None: no nulls), and a
    time column's ticks per second."""
    array = single(table, column)
    valid = None
    if array.null_count:
        valid = array.is_valid().to_numpy(zero_copy_only=False)
    ticks = ticks_per_second(array.type)
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


def id_rank(ids: pa.Array) -> np.ndarray:
    """Each row's rank by id (int32, read-only): ids as strings in code point order."""
    order = pc.sort_indices(ids).to_numpy()
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    rank.flags.writeable = False
    return rank


def ids_digest(ids: pa.Array) -> bytes:
    """A 16-byte digest of ids in their order: equal ids give equal digests, so
    two splits' row ranges are proven to hold the same ids without moving
    them (a cluster's fragments, ``api.backends.fragments``). Ids of another
    Arrow type are hashed as strings.

    SHA-256 (truncated) of the count, each id's length and the ids' bytes:
    the lengths and the bytes determine the ids. SHA-256 rather than BLAKE2b
    because CPUs hash it in hardware (measured 2x faster here).
    """
    if not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
        ids = ids.cast(pa.string())
    digest = hashlib.sha256(f"{len(ids)} {ids.null_count}".encode())
    if ids.null_count:
        digest.update(np.asarray(ids.is_null(), dtype=np.bool_).tobytes())
    width = np.int64 if pa.types.is_large_string(ids.type) else np.int32
    buffers = ids.buffers()
    offsets = np.frombuffer(buffers[1], dtype=width)[ids.offset : ids.offset + len(ids) + 1]
    if len(offsets):
        # Lengths, not offsets: a slice's offsets start where it starts in the buffer.
        digest.update(np.diff(offsets).tobytes())  # int32 or int64, as the type is
        if buffers[2] is not None:
            digest.update(memoryview(buffers[2])[int(offsets[0]) : int(offsets[-1])])
    return digest.digest()[:16]


def join_ids(base: pa.Array, cand: pa.Array) -> np.ndarray | None:
    """The position in ``cand`` of each id of ``base`` (int32, -1: absent);
    None when the two are equal, row i being row i in both."""
    if base.equals(cand):
        return None
    found = pc.index_in(base, value_set=cand).fill_null(-1)
    join = found.cast(pa.int32()).to_numpy(zero_copy_only=False)
    join.flags.writeable = False
    return join
