"""Validation of an input table: every refusal is an IngestError naming the
file, the column, the 1-based data row and the value.

One validator per task (``VALIDATORS``). Multiclass label columns go through
``_label_column``, multilabel ones through ``_label_lists``; both produce a
``ValidTable`` that ingest encodes the same way up to the list layout.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from evalql.storage.errors import IngestError
from evalql.storage.metadata import stored_metadata

if TYPE_CHECKING:
    from evalql.storage.ingest import IngestOptions

T = TypeVar("T")
R = TypeVar("R")

RESERVED_PREFIX = "__"

# float32 softmax output can land a rounding error outside [0, 1], such as
# 1.0000001; values this close are clipped, anything further out is refused.
PROBABILITY_TOLERANCE = 1e-6

# Size limits: a row page, a message or a breakdown key carries these whole,
# so a 1 MB label or 5,000 columns would make every answer that holds them huge.
MAX_ID_BYTES = 1024  # UTF-8
MAX_LABEL_BYTES = 1024  # UTF-8
MAX_COLUMN_NAME = 256  # characters
MAX_COLUMNS = 1000

# The text Arrow parses as a float64; used only to find the first row that
# is not a number, once a cast has failed.
_NUMBER_TEXT = r"^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|nan|inf|infinity)$"


@dataclass(frozen=True)
class ValidTable:
    """A validated table, ready to encode and write.

    Multiclass: ``actual`` and ``predicted`` are dictionary arrays of string
    labels, int32 indices (null = None; an entry no row uses may be in the
    dictionary), and ``confidence`` has one value a row. Multilabel: they are
    large_list<string> arrays without nulls (a null list became the empty
    list), offsets starting at 0, no label twice in a row; ``confidence`` has
    one value per predicted label, aligned with ``predicted.values``.
    """

    ids: pa.Array | pa.ChunkedArray  # string, unique, no nulls
    actual: pa.Array  # dictionary<string>, null = no annotation; multilabel: large_list<string>
    predicted: pa.Array  # dictionary<string>, null = no prediction; multilabel: large_list<string>
    confidence: np.ndarray  # float32 in [0, 1]
    scores: np.ndarray | None  # float32 (N, K), columns in score_labels order
    score_labels: tuple[str, ...] | None
    metadata: pa.Table
    labels: tuple[str, ...]  # the split's own dictionary: sorted, seen ∪ --labels
    actual_column: str
    predicted_column: str
    task: str = "multiclass"

    @property
    def n_rows(self) -> int:
        return len(self.ids)


def column_type(dtype: pa.DataType) -> str:
    """The short type name of a metadata column (see ``ColumnInfo.type``).

    ``column_type(pa.large_string())`` -> ``"string"``; ``pa.list_(pa.int8())`` -> ``"other"``.
    """
    if pa.types.is_dictionary(dtype):
        return column_type(dtype.value_type)
    checks = (
        (_is_text, "string"),
        (pa.types.is_integer, "int"),
        (pa.types.is_floating, "float"),
        (pa.types.is_boolean, "bool"),
        (pa.types.is_timestamp, "timestamp"),
        (pa.types.is_date, "date"),
    )
    return next((name for check, name in checks if check(dtype)), "other")


def validate_multiclass(table: pa.Table, options: IngestOptions, source: str) -> ValidTable:
    """Check ``table`` against the multiclass input rules (SPEC "Input rows")."""
    _check_column_names(table, source)
    if table.num_rows == 0:
        raise IngestError(source, "the file has no rows")
    for name in (options.actual_column, options.predicted_column):
        _require(table, name, source)
    given = _given_labels(options.labels, source)
    order = given or options.model_labels  # the label order of the scores lists
    # The columns are independent: checked side by side, one a core; the
    # refusal is the one a column-after-column check would have made.
    (actual, held), (predicted, also_held), ids, confidence, scores, metadata = in_order(
        lambda: _labels_held(_label_column(table, options.actual_column, source)),
        lambda: _labels_held(_label_column(table, options.predicted_column, source)),
        lambda: _ids(table, options.id_column, source),
        lambda: _confidence(table, options.confidence_column, source),
        lambda: _scores(table, options.scores_column, order, source),
        lambda: _metadata(table, options, source),
    )
    seen = held | also_held
    valid = ValidTable(
        ids=ids,
        actual=actual,
        predicted=predicted,
        confidence=confidence,
        scores=scores,
        score_labels=order if options.scores_column in table.column_names else None,
        metadata=metadata,
        labels=tuple(sorted(seen | set(given or ()))),
        actual_column=options.actual_column,
        predicted_column=options.predicted_column,
    )
    if given is not None:
        check_labels_within(valid, given, "--labels", source)
    return valid


def validate_multilabel(table: pa.Table, options: IngestOptions, source: str) -> ValidTable:
    """Check ``table`` against the multilabel input rules (SPEC "Input rows").

    ``actual`` and ``predicted`` are lists of labels, a null list meaning the
    empty set; ``confidence`` lists are aligned with ``predicted`` (a missing
    column, a null list or a null entry means 1.0). ``scores``, when given,
    are lists of one probability per label, in --labels' order (the model's
    when its labels are fixed), checked as multiclass scores are.
    """
    _check_column_names(table, source)
    if table.num_rows == 0:
        raise IngestError(source, "the file has no rows")
    for name in (options.actual_column, options.predicted_column):
        _require(table, name, source)
    given = _given_labels(options.labels, source)
    actual = _label_lists(table, options.actual_column, source)
    predicted = _label_lists(table, options.predicted_column, source)
    seen = _distinct(actual.values) | _distinct(predicted.values)
    order = given or options.model_labels  # the label order of the scores lists
    valid = ValidTable(
        ids=_ids(table, options.id_column, source),
        actual=actual,
        predicted=predicted,
        confidence=_list_confidence(table, options.confidence_column, predicted, source),
        scores=_scores(table, options.scores_column, order, source),
        score_labels=order if options.scores_column in table.column_names else None,
        metadata=_metadata(table, options, source),
        labels=tuple(sorted(seen | set(given or ()))),
        actual_column=options.actual_column,
        predicted_column=options.predicted_column,
        task="multilabel",
    )
    if given is not None:
        check_labels_within(valid, given, "--labels", source)
    return valid


VALIDATORS: dict[str, Callable[[pa.Table, IngestOptions, str], ValidTable]] = {
    "multiclass": validate_multiclass,
    "multilabel": validate_multilabel,
}


def check_labels_within(
    valid: ValidTable, allowed: Collection[str], what: str, source: str
) -> None:
    """Refuse the first row whose actual or predicted label is not in ``allowed``."""
    allowed_array = pa.array(list(allowed), pa.string())
    found = []
    columns = {valid.actual_column: valid.actual, valid.predicted_column: valid.predicted}
    for name, column in columns.items():
        if pa.types.is_dictionary(column.type):  # multiclass: test each label once
            entries = column.dictionary
            outside = pc.and_(pc.is_valid(entries), pc.invert(pc.is_in(entries, allowed_array)))
            row = _first_row_using(column, outside)
            if row is not None:
                found.append((row, name, column[row].as_py()))
            continue
        values, row_of = _labels_and_rows(column)
        outside = pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=allowed_array)))
        index = _first_true(outside)
        if index is not None:
            found.append((row_of(index), name, values[index].as_py()))
    if found:
        row, name, label = min(found)
        message = f"label {label!r} is not one of {what} ({preview(allowed)})"
        raise IngestError(source, message, name, row + 1)


def _labels_and_rows(column: pa.Array) -> tuple[pa.Array, Callable[[int], int]]:
    """Every label of a label column and a map from its index to its 0-based
    row: the identity for strings, the parent list for lists (in row order)."""
    if not _is_list(column.type):
        return column, lambda index: index
    parents = pc.list_parent_indices(column).to_numpy(zero_copy_only=False)
    return pc.list_flatten(column), lambda index: int(parents[index])


def _is_text(dtype: pa.DataType) -> bool:
    return (
        pa.types.is_string(dtype) or pa.types.is_large_string(dtype)
        or pa.types.is_string_view(dtype)
    )


def _check_column_names(table: pa.Table, source: str) -> None:
    if table.num_columns > MAX_COLUMNS:
        message = f"the file has {table.num_columns:,} columns; at most {MAX_COLUMNS:,} are allowed"
        raise IngestError(source, message, _shown_name(table.column_names[MAX_COLUMNS]))
    seen: set[str] = set()
    for name in table.column_names:
        if len(name) > MAX_COLUMN_NAME:
            message = (
                f"the column name is {len(name):,} characters long; "
                f"at most {MAX_COLUMN_NAME} are allowed"
            )
            raise IngestError(source, message, _shown_name(name))
        if name in seen:
            raise IngestError(source, "the column name appears twice", name)
        if name.startswith(RESERVED_PREFIX):
            raise IngestError(source, f"names starting with {RESERVED_PREFIX!r} are reserved", name)
        seen.add(name)


def _shown_name(name: str, limit: int = 60) -> str:
    """A column name for a message, cut after ``limit`` characters."""
    return name if len(name) <= limit else name[:limit] + "…"


def _check_sizes(
    values: pa.Array, limit: int, what: str, name: str, source: str,
    row_of: Callable[[int], int] = lambda index: index + 1,
) -> None:
    """Refuse the first value longer than ``limit`` UTF-8 bytes, with its row."""
    index = _first_true(pc.greater(pc.binary_length(values), limit))
    if index is not None:
        size = len(values[index].as_py().encode())
        message = f"the {what} is {size:,} bytes long; at most {limit:,} are allowed"
        raise IngestError(source, message, name, row_of(index))


def _require(table: pa.Table, name: str, source: str) -> None:
    if name not in table.column_names:
        present = ", ".join(table.column_names)
        raise IngestError(source, f"required column is missing (the file has: {present})", name)


def _given_labels(labels: tuple[str, ...] | None, source: str) -> tuple[str, ...] | None:
    if labels is None:
        return None
    labels = tuple(labels)
    if not labels:
        raise IngestError(source, "--labels has to name at least one label")
    if "" in labels:
        raise IngestError(source, "--labels names an empty label")
    long = next((label for label in labels if len(label.encode()) > MAX_LABEL_BYTES), None)
    if long is not None:
        message = (
            f"--labels names a label of {len(long.encode()):,} bytes; "
            f"at most {MAX_LABEL_BYTES:,} are allowed"
        )
        raise IngestError(source, message)
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise IngestError(source, f"--labels names {duplicates[0]!r} more than once")
    return labels


def _label_column(table: pa.Table, name: str, source: str) -> pa.DictionaryArray:
    """A label column as a dictionary array of strings with int32 indices;
    integers become their decimal text, because CSV and JSON readers infer
    labels such as 0 and 1 as numbers.

    Labels repeat (100 labels over 100M rows), so the rules are checked once
    per distinct label, and a refused one is named with the first row that
    holds it; the stored codes come from the dictionary the same way
    (``storage.ingest``), so no row's label is ever materialised as a string.
    """
    column = table.column(name)
    dtype = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if pa.types.is_null(dtype):
        no_labels = pa.array([], pa.string())
        return pa.DictionaryArray.from_arrays(pa.nulls(len(column), pa.int32()), no_labels)
    if not (_is_text(dtype) or pa.types.is_integer(dtype)):
        hint = "; a list of labels means --task multilabel" if _is_list(dtype) else ""
        raise IngestError(source, f"labels have to be strings, not {dtype}{hint}", name)
    labels = _dictionary_encoded(column)
    # CSV reads an empty cell as null; an empty label elsewhere would
    # mean something else by format, so it is refused everywhere.
    empty = _first_row_using(labels, pc.equal(labels.dictionary, ""))
    if empty is not None:
        raise IngestError(source, "a label is empty; leave it null for none", name, empty + 1)
    too_long = pc.greater(pc.binary_length(labels.dictionary), MAX_LABEL_BYTES)
    long_row = _first_row_using(labels, too_long)
    if long_row is not None:
        size = len(labels[long_row].as_py().encode())
        message = f"the label is {size:,} bytes long; at most {MAX_LABEL_BYTES:,} are allowed"
        raise IngestError(source, message, name, long_row + 1)
    return labels


def _dictionary_encoded(column: pa.ChunkedArray) -> pa.DictionaryArray:
    """``column`` (text or integers, dictionary-encoded or not) as one
    dictionary array: string entries, int32 indices."""
    if pa.types.is_dictionary(column.type) and any(c.dictionary.null_count for c in column.chunks):
        column = column.cast(column.type.value_type)  # Arrow cannot unify null entries
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)  # integers hash faster than their text
    array = column.combine_chunks()  # one dictionary for all chunks (unified)
    indices = array.indices
    if indices.type != pa.int32():
        indices = indices.cast(pa.int32())
    entries = array.dictionary
    if entries.type != pa.string():
        entries = pc.cast(entries, pa.string())  # distinct integers have distinct text
    return pa.DictionaryArray.from_arrays(indices, entries)


def _first_row_using(labels: pa.DictionaryArray, entries: pa.Array) -> int | None:
    """The 0-based first row whose label is a dictionary entry marked in
    ``entries`` (a boolean array over the dictionary), or None."""
    marked = np.flatnonzero(pc.fill_null(entries, False).to_numpy(zero_copy_only=False))
    if not len(marked):
        return None
    return _first_true(pc.is_in(labels.indices, pa.array(marked, labels.indices.type)))


# Rows a slice for the per-row passes: a slice's temporaries (8 MB of
# float64 or int64) stay under glibc's mmap threshold, so they reuse freed
# heap instead of faulting in fresh, zeroed pages each time.
SLICE_ROWS = 1 << 20


def used_entries(labels: pa.DictionaryArray) -> np.ndarray:
    """A bool per dictionary entry: does any row hold it (nulls aside)."""
    n = len(labels.dictionary)
    indices = labels.indices
    if indices.type not in (pa.int32(), pa.int64()):  # room for the null rows' n
        indices = indices.cast(pa.int64())
    used = np.zeros(n + 1, dtype=bool)
    for start in range(0, len(indices), SLICE_ROWS):
        part = indices.slice(start, SLICE_ROWS)
        if part.null_count:
            part = pc.fill_null(part, n)  # null rows count at n, left out below
        used |= np.bincount(part.to_numpy(), minlength=n + 1) > 0
    return used[:n]


def _labels_held(labels: pa.DictionaryArray) -> tuple[pa.DictionaryArray, set[str]]:
    """``labels`` and the labels some row holds."""
    entries = labels.dictionary.filter(pa.array(used_entries(labels), pa.bool_()))
    return labels, set(entries.drop_null().to_pylist())


def _label_lists(table: pa.Table, name: str, source: str) -> pa.LargeListArray:
    """A multilabel column as large_list<string>: a null list becomes the empty
    list; a null label or a label twice in one row is refused."""
    column = table.column(name).combine_chunks()
    if pa.types.is_null(column.type):
        return _lists(np.zeros(len(column), dtype=np.int64), pa.array([], pa.string()))
    if not _is_list(column.type):
        message = (
            f"labels have to be lists for --task multilabel, not {column.type} "
            "(one label a row is --task multiclass; CSV cannot hold lists)"
        )
        raise IngestError(source, message, name)
    lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
    values = pc.list_flatten(column)  # skips null lists, as their lengths say
    dtype = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
    if not (_is_text(dtype) or pa.types.is_integer(dtype) or pa.types.is_null(dtype)):
        raise IngestError(source, f"labels have to be strings, not {dtype}", name)
    values = pc.cast(values, pa.string())
    rows = np.repeat(np.arange(len(column)), lengths)
    null_index = _first_true(pc.is_null(values))
    if null_index is not None:
        row = int(rows[null_index]) + 1
        raise IngestError(source, "a label in the list is missing (null)", name, row)
    # As for one label a row: an empty label would read as none in one format
    # and as a label in another.
    empty = _first_true(pc.equal(values, ""))
    if empty is not None:
        message = "a label in the list is empty; leave it out of the list"
        raise IngestError(source, message, name, int(rows[empty]) + 1)
    _check_sizes(values, MAX_LABEL_BYTES, "label", name, source, lambda i: int(rows[i]) + 1)
    _check_distinct_in_rows(values, rows, name, source)
    return _lists(lengths.astype(np.int64), values)


def _lists(lengths: np.ndarray, values: pa.Array) -> pa.LargeListArray:
    offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    return pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), values)


def _check_distinct_in_rows(values: pa.Array, rows: np.ndarray, name: str, source: str) -> None:
    """Refuse the first row that lists a label twice."""
    encoded = values.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    keys = rows.astype(np.int64) * max(len(encoded.dictionary), 1) + codes
    ordered = np.sort(keys)
    if not np.any(ordered[1:] == ordered[:-1]):
        return  # the common case, found without the slower argsort
    order = np.argsort(keys, kind="stable")
    repeated = order[1:][keys[order[1:]] == keys[order[:-1]]]  # every later occurrence
    if len(repeated):
        index = int(repeated.min())
        message = f"label {values[index].as_py()!r} appears twice in the list"
        raise IngestError(source, message, name, int(rows[index]) + 1)


def _list_confidence(
    table: pa.Table, name: str, predicted: pa.LargeListArray, source: str
) -> np.ndarray:
    """One float32 confidence per predicted label; a missing column, a null
    list or a null entry means 1.0."""
    confidence = np.ones(len(predicted.values), dtype=np.float32)
    if name not in table.column_names:
        return confidence
    column = table.column(name).combine_chunks()
    if pa.types.is_null(column.type):
        return confidence
    value_type = column.type.value_type if _is_list(column.type) else None
    if value_type is None or not (_may_be_numbers(value_type) or pa.types.is_null(value_type)):
        message = f"confidence has to be a list of numbers for --task multilabel, not {column.type}"
        raise IngestError(source, message, name)
    given = pc.is_valid(column).to_numpy(zero_copy_only=False)
    lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
    expected = np.diff(predicted.offsets.to_numpy())
    wrong = np.flatnonzero(given & (lengths != expected))
    if len(wrong):
        row = int(wrong[0])
        message = (
            f"{lengths[row]} confidences for {expected[row]} predicted labels; "
            "the lists have to be aligned"
        )
        raise IngestError(source, message, name, row + 1)
    flat = pc.list_flatten(column)  # the given lists' entries, in row order
    rows = np.repeat(np.flatnonzero(given), lengths[given])

    def row_of(index: int) -> int:
        return int(rows[index]) + 1

    numbers = _numbers(flat, "confidence has to be a list of numbers", name, source, row_of)
    values = pc.fill_null(numbers, 1.0).to_numpy(zero_copy_only=False)
    values = _check_probabilities(values, name, source, row_of)
    confidence[np.repeat(given, expected)] = values.astype(np.float32)
    return confidence


def _distinct(labels: pa.Array) -> set[str]:
    return set(pc.unique(labels.drop_null()).to_pylist())


def _ids(table: pa.Table, name: str, source: str) -> pa.Array | pa.ChunkedArray:
    """The ids as strings: the column when present, else the row numbers "0".."N-1"."""
    if name not in table.column_names:
        return _as_text(pa.chunked_array([pa.array(np.arange(table.num_rows))]))
    column = table.column(name)
    dtype = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if not (_is_text(dtype) or pa.types.is_integer(dtype)):
        raise IngestError(source, f"ids have to be strings or integers, not {dtype}", name)
    if pa.types.is_integer(column.type):
        return _integer_ids(column, name, source)
    ids = pc.cast(column.combine_chunks(), pa.string())
    null_row = _first_true(pc.is_null(ids))
    if null_row is not None:
        raise IngestError(source, "the id is missing (null)", name, null_row + 1)
    _check_sizes(ids, MAX_ID_BYTES, "id", name, source)
    if len(ids.dictionary_encode().dictionary) != len(ids):
        _raise_first_duplicate(ids, name, source)
    return ids


def _integer_ids(column: pa.ChunkedArray, name: str, source: str) -> pa.ChunkedArray:
    """Integer ids as their decimal text. That text is canonical, so distinct
    integers are distinct ids, and at most 20 bytes, far under MAX_ID_BYTES:
    both are checked on the integers, without hashing a string."""
    null_row = _first_true(pc.is_null(column)) if column.null_count else None
    if null_row is not None:
        raise IngestError(source, "the id is missing (null)", name, null_row + 1)
    ids = _as_text(column)
    if not _distinct_integers(column):
        _raise_first_duplicate(ids.combine_chunks(), name, source)
    return ids


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Integers as strings, converted a slice per thread. Left in chunks:
    ingest joins them once the input is gone (storage.ingest)."""
    slices = [column.slice(start, SLICE_ROWS) for start in range(0, len(column), SLICE_ROWS)]
    parts = in_threads(lambda part: pc.cast(part, pa.string()).chunks, slices)
    return pa.chunked_array([chunk for part in parts for chunk in part], pa.string())


def _distinct_integers(column: pa.ChunkedArray) -> bool:
    """Whether no integer repeats (no nulls here). Ids are mostly row numbers
    or a dense range: then a table of seen values, one byte for each value in
    [min, max], answers in one pass; a sparse range sorts (n log n)."""
    n = len(column)
    bounds = pc.min_max(column)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    span = high - low + 1
    if span < n:
        return False  # more rows than values in the range
    if span > 2 * n or pa.types.is_uint64(column.type):  # uint64 - low could wrap
        values = np.sort(column.to_numpy())
        return not np.any(values[1:] == values[:-1])
    seen = np.zeros(span, dtype=bool)
    for start in range(0, n, SLICE_ROWS):
        part = column.slice(start, SLICE_ROWS).to_numpy()
        seen[np.subtract(part, low, dtype=np.int64)] = True
    return int(np.count_nonzero(seen)) == n


def in_order(*tasks: Callable[[], Any]) -> list[Any]:
    """Each task's result, in order, the tasks run on a thread per core. The
    first task in order that failed raises (the others run to their end or
    are dropped), so the error is the one running them in turn would raise."""
    pool = ThreadPoolExecutor(os.cpu_count() or 1)
    try:
        futures = [pool.submit(task) for task in tasks]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(cancel_futures=True)


def in_threads(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[work(item) for item in items]`` on a thread per core: Arrow's
    kernels and NumPy's copies let go of the GIL, so the cores share the rows."""
    if len(items) < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(min(len(items), os.cpu_count() or 1)) as pool:
        return list(pool.map(work, items))


def _raise_first_duplicate(ids: pa.Array, name: str, source: str) -> None:
    # dictionary_encode gives each distinct id a code; a row whose code was
    # seen before is a duplicate, and we report the earliest such row.
    codes = ids.dictionary_encode().indices.to_numpy()
    first_rows = np.unique(codes, return_index=True)[1]
    is_first = np.zeros(len(ids), dtype=bool)
    is_first[first_rows] = True
    row = int(np.argmin(is_first))
    earlier = int(first_rows[codes[row]])
    message = f"duplicate id {ids[row].as_py()!r} (first in row {earlier + 1})"
    raise IngestError(source, message, name, row + 1)


def _confidence(table: pa.Table, name: str, source: str) -> np.ndarray:
    """Confidences as float32; a null or a missing column means 1.0."""
    if name not in table.column_names:
        return np.ones(table.num_rows, dtype=np.float32)
    column = table.column(name)
    if pa.types.is_float32(column.type) or pa.types.is_float64(column.type):
        return _float_confidence(column, name, source)
    numbers = _numbers(column.combine_chunks(), "confidence has to be a number", name, source,
                       lambda i: i + 1)
    values = pc.fill_null(numbers, 1.0).to_numpy(zero_copy_only=False)
    return _check_probabilities(values, name, source, lambda i: i + 1).astype(np.float32)


def _float_confidence(column: pa.ChunkedArray, name: str, source: str) -> np.ndarray:
    """``_confidence`` of a float column, a slice per thread into one float32
    array: the same checks in float64, without a float64 copy of the column."""
    confidence = np.empty(len(column), dtype=np.float32)

    def check(start: int) -> None:
        part = pc.fill_null(column.slice(start, SLICE_ROWS), 1.0)
        values = part.to_numpy().astype(np.float64)
        clipped = _check_probabilities(values, name, source, lambda i: start + i + 1)
        confidence[start : start + len(values)] = clipped

    # The first slice in order that fails raises: the first bad row.
    in_order(*(lambda start=start: check(start) for start in range(0, len(column), SLICE_ROWS)))
    return confidence


def _scores(
    table: pa.Table, name: str, labels: tuple[str, ...] | None, source: str
) -> np.ndarray | None:
    """Scores as a float32 (N, K) matrix, K = len(labels), or None without the column.

    ``labels`` is the order of every list: --labels, or the model's labels when
    they are already fixed.
    """
    if name not in table.column_names:
        return None
    if labels is None:
        message = (
            "scores need --labels, the label order of every list "
            "(unless the model's labels are already fixed)"
        )
        raise IngestError(source, message, name)
    column = table.column(name).combine_chunks()
    if not _is_list(column.type):
        raise IngestError(source, f"scores have to be lists of numbers, not {column.type}", name)
    _check_score_lengths(column, len(labels), name, source)
    k = len(labels)

    def row_of(index: int) -> int:
        return index // k + 1

    values = _numbers(pc.list_flatten(column), "scores have to be numbers", name, source, row_of)
    null_row = _first_true(pc.is_null(values))
    if null_row is not None:
        raise IngestError(source, "a score is missing (null)", name, row_of(null_row))
    flat = _check_probabilities(values.to_numpy(zero_copy_only=False), name, source, row_of)
    return flat.astype(np.float32).reshape(len(column), k)


def _check_score_lengths(column: pa.Array, k: int, name: str, source: str) -> None:
    null_row = _first_true(pc.is_null(column))
    if null_row is not None:
        raise IngestError(source, "the scores are missing (null)", name, null_row + 1)
    lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
    wrong = np.flatnonzero(lengths != k)
    if len(wrong):
        row = int(wrong[0])
        message = f"{lengths[row]} scores, expected {k} (one per label of --labels)"
        raise IngestError(source, message, name, row + 1)


def _numbers(
    values: pa.Array, what: str, name: str, source: str, row_of: Callable[[int], int]
) -> pa.Array:
    """``values`` as float64 (nulls kept). Text that reads as numbers is taken;
    the first text that does not is refused with its row.

    ``["0.5", "high"]`` -> IngestError "column 'confidence', row 2: value
    'high' is not a number".
    """
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if _is_number(values.type) or pa.types.is_null(values.type):
        return pc.cast(values, pa.float64())
    if not _is_text(values.type):
        raise IngestError(source, f"{what}, not {values.type}", name)
    try:
        return pc.cast(values, pa.float64())
    except pa.ArrowInvalid:
        text = pc.match_substring_regex(values, _NUMBER_TEXT, ignore_case=True)
        index = _first_true(pc.invert(text))
        if index is None:  # Arrow refused text the pattern accepts: no row to name
            raise IngestError(source, f"{what}, not {values.type}", name) from None
        message = f"value {values[index].as_py()!r} is not a number"
        raise IngestError(source, message, name, row_of(index)) from None


def _check_probabilities(
    values: np.ndarray, name: str, source: str, row_of: Callable[[int], int]
) -> np.ndarray:
    """``values`` clipped to [0, 1]; refuses the first NaN or value further
    than ``PROBABILITY_TOLERANCE`` outside. ``row_of`` maps index -> row.

    ``[0.5, 1.0000001]`` -> ``[0.5, 1.0]``; ``[1.00001]`` -> IngestError
    "value 1.00001 is outside [0, 1]" (the value at full precision).
    """
    low, high = -PROBABILITY_TOLERANCE, 1 + PROBABILITY_TOLERANCE
    bad = np.flatnonzero(np.isnan(values) | (values < low) | (values > high))
    if len(bad):
        index = int(bad[0])
        value = float(values[index])
        problem = "NaN is not a probability" if np.isnan(value) else f"{value!r} is outside [0, 1]"
        raise IngestError(source, f"value {problem}", name, row_of(index))
    return np.clip(values, 0.0, 1.0)


def _metadata(table: pa.Table, options: IngestOptions, source: str) -> pa.Table:
    """The metadata columns, as stored (``storage.metadata``)."""
    reserved = {
        options.id_column, options.actual_column, options.predicted_column,
        options.confidence_column, options.scores_column,
    }
    metadata = table.drop_columns([name for name in table.column_names if name in reserved])
    return stored_metadata(metadata, source)


def _is_number(dtype: pa.DataType) -> bool:
    return pa.types.is_integer(dtype) or pa.types.is_floating(dtype)


def _may_be_numbers(dtype: pa.DataType) -> bool:
    """Numbers, or text that ``_numbers`` reads as numbers row by row."""
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    return _is_number(dtype) or _is_text(dtype)


def _is_list(dtype: pa.DataType) -> bool:
    return (
        pa.types.is_list(dtype) or pa.types.is_large_list(dtype)
        or pa.types.is_fixed_size_list(dtype)
    )


def _first_true(mask: pa.Array) -> int | None:
    """Index of the first true value of a boolean array (nulls count as false)."""
    index = pc.index(pc.fill_null(mask, False), True).as_py()
    return None if index < 0 else index


def preview(labels: Collection[str], limit: int = 10) -> str:
    """Up to ``limit`` labels for a message: ``'a', 'b', … (40 in all)``."""
    shown = ", ".join(repr(label) for label in list(labels)[:limit])
    return shown + (f", … ({len(labels)} in all)" if len(labels) > limit else "")
