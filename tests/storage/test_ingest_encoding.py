"""How ingest encodes the columns it checks: labels through their dictionary
(checked once per distinct label, named by the first row that holds it),
integer ids checked as integers, confidences a slice at a time. Small slices
(monkeypatched) make the slice edges show on a few rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import evalql.storage.ingest as ingest_module
import evalql.storage.validate as validate_module
from evalql.storage.catalog import Catalog
from evalql.storage.datasets import SplitData, SplitStore
from evalql.storage.errors import IngestError
from evalql.storage.ingest import IngestOptions, file_checksum, ingest_table


def load(root: Path, split: str = "s") -> SplitData:
    store = SplitStore(root)
    info = store.catalog.split("m", "r", split)
    assert info is not None
    return store.load(info)


def decoded(data: SplitData, codes: np.ndarray) -> list[str | None]:
    return [data.labels[code] if code >= 0 else None for code in codes]


def chunked_dictionary(chunks: list[tuple[list[str | None], list[int | None]]]) -> pa.ChunkedArray:
    """A dictionary column of one chunk per (dictionary, indices), each its own dictionary."""
    arrays = [
        pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(entries, pa.string()))
        for entries, indices in chunks
    ]
    return pa.chunked_array(arrays)


def table(n: int, **columns: object) -> pa.Table:
    base: dict[str, object] = {
        "actual": pa.array(["a"] * n), "predicted": pa.array(["a"] * n),
    }
    base.update(columns)
    return pa.table(base)


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate_module, "SLICE_ROWS", 3)
    monkeypatch.setattr(ingest_module, "SLICE_ROWS", 3)


def test_chunks_with_their_own_dictionaries_store_the_labels_they_hold(
    root: Path, small_slices: None
) -> None:
    # The unused entries, "" and "ghost", are neither refused nor labels.
    # A null entry is a null label.
    actual = chunked_dictionary([
        (["dog", "", "cat"], [0, 2, None, 0]),
        (["ghost", "cat", "bird", None], [1, 2, 3]),
    ])
    predicted = chunked_dictionary([(["x" * 2000, "cat"], [1, 1, 1, 1]), (["cat"], [0, None, 0])])
    ingest_table(root, table(7, actual=actual, predicted=predicted), "m", "r", "s")
    data = load(root)
    assert data.labels == ("bird", "cat", "dog")
    assert decoded(data, data.columns.actual) == ["dog", "cat", None, "dog", "cat", "bird", None]
    assert decoded(data, data.columns.predicted) == ["cat"] * 4 + ["cat", None, "cat"]


def test_an_empty_label_in_a_dictionary_is_refused_at_the_first_row_holding_it(root: Path) -> None:
    actual = chunked_dictionary([(["", "a"], [1, 1]), (["a", ""], [0, 0, 1, 1])])
    with pytest.raises(IngestError, match=r"column 'actual', row 5: a label is empty"):
        ingest_table(root, table(6, actual=actual), "m", "r", "s")


def test_a_long_label_in_a_dictionary_is_refused_with_its_size_and_row(root: Path) -> None:
    predicted = chunked_dictionary([(["a", "é" * 600], [0, 0, 1])])
    with pytest.raises(IngestError, match=r"column 'predicted', row 3: the label is 1,200 bytes"):
        ingest_table(root, table(3, predicted=predicted), "m", "r", "s")


def test_the_earliest_row_outside_the_labels_is_named_across_both_columns(root: Path) -> None:
    actual = chunked_dictionary([(["a", "zebra"], [0, 0, 0, 1])])
    predicted = chunked_dictionary([(["a", "yak"], [0, 0, 1, 1])])
    options = IngestOptions(labels=("a",))
    with pytest.raises(IngestError, match=r"column 'predicted', row 3: label 'yak'"):
        ingest_table(root, table(4, actual=actual, predicted=predicted), "m", "r", "s", options)


def test_integer_labels_plain_or_dictionary_encoded_are_kept_as_text(root: Path) -> None:
    actual = pa.array([3, 10, None, 3]).dictionary_encode()
    columns = {"actual": actual, "predicted": pa.array([10, 10, 2, None], pa.int8())}
    ingest_table(root, table(4, **columns), "m", "r", "s")
    data = load(root)
    assert data.labels == ("10", "2", "3")
    assert decoded(data, data.columns.actual) == ["3", "10", None, "3"]
    assert decoded(data, data.columns.predicted) == ["10", "10", "2", None]


@given(
    labels=st.lists(st.sampled_from(["a", "b", "c", "dd", None]), min_size=1, max_size=30),
    cuts=st.lists(st.integers(0, 30), max_size=3),
    encode=st.booleans(),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_labels_in_any_chunking_come_back_as_given(
    tmp_path_factory: pytest.TempPathFactory, labels: list[str | None], cuts: list[int],
    encode: bool,
) -> None:
    root = tmp_path_factory.mktemp("store")
    bounds = sorted({0, len(labels), *(cut for cut in cuts if cut < len(labels))})
    parts = [pa.array(labels[a:b], pa.string()) for a, b in zip(bounds, bounds[1:], strict=False)]
    column = pa.chunked_array([part.dictionary_encode() if encode else part for part in parts])
    ingest_table(root, table(len(labels), actual=column, predicted=column), "m", "r", "s")
    data = load(root)
    assert data.labels == tuple(sorted({label for label in labels if label is not None}))
    assert decoded(data, data.columns.actual) == labels
    assert decoded(data, data.columns.predicted) == labels


IDS = {
    "dense, shuffled": [5, 3, 4, 2, 1, 0, 6],
    "sparse": [10**12, -5, 7, 10**15, 0, 3, 99],
    "negative, dense": [-3, -1, -2, 0, 1, 2, 3],
}


@pytest.mark.parametrize("ids", IDS.values(), ids=IDS.keys())
def test_integer_ids_in_slices_are_stored_as_their_text(
    root: Path, small_slices: None, ids: list[int]
) -> None:
    column = pa.chunked_array([pa.array(ids[:2]), pa.array(ids[2:])])
    ingest_table(root, table(7, id=column), "m", "r", "s")
    assert load(root).ids.to_pylist() == [str(i) for i in ids]


DUPLICATES = {
    "dense, across chunks": ([0, 1, 2, 3, 4, 5, 1], 7, 2),
    "sparse": ([10**12, 3, -9, 10**12, 5, 6, 7], 4, 1),
    "more rows than values": ([1, 2, 3, 1, 2, 3, 2], 4, 1),
    "uint64": ([2**63 + 1, 2**64 - 1, 2**63 + 1, 0, 1, 2, 3], 3, 1),
    "int8": ([-128, 127, 0, 1, 2, 3, 127], 7, 2),
}


@pytest.mark.parametrize("ids, row, first", DUPLICATES.values(), ids=DUPLICATES.keys())
def test_a_duplicate_integer_id_is_refused_with_its_first_row(
    root: Path, small_slices: None, ids: list[int], row: int, first: int
) -> None:
    dtype = pa.uint64() if max(ids) >= 2**63 else pa.int8() if max(ids) == 127 else pa.int64()
    column = pa.chunked_array([pa.array(ids[:3], dtype), pa.array(ids[3:], dtype)])
    expected = rf"column 'id', row {row}: duplicate id '{ids[row - 1]}' \(first in row {first}\)"
    with pytest.raises(IngestError, match=expected):
        ingest_table(root, table(7, id=column), "m", "r", "s")


def test_a_null_integer_id_is_refused_with_its_row(root: Path) -> None:
    column = pa.chunked_array([pa.array([1, 2], pa.int64()), pa.array([3, None, 5], pa.int64())])
    with pytest.raises(IngestError, match=r"column 'id', row 4: the id is missing"):
        ingest_table(root, table(5, id=column), "m", "r", "s")


@pytest.mark.parametrize("dtype", [pa.float32(), pa.float64()])
def test_confidences_in_slices_keep_order_nulls_and_clipping(
    root: Path, small_slices: None, dtype: pa.DataType
) -> None:
    values = [0.25, None, 1.0000001, 0.5, -1e-7, 0.75, None, 1.0]
    column = pa.chunked_array([pa.array(values[:5], dtype), pa.array(values[5:], dtype)])
    ingest_table(root, table(8, confidence=column), "m", "r", "s")
    stored = load(root).columns.confidence
    expected = np.array([0.25, 1.0, 1.0, 0.5, 0.0, 0.75, 1.0, 1.0], np.float32)
    np.testing.assert_array_equal(stored, expected)


def test_the_first_bad_confidence_is_named_though_a_later_slice_is_bad_too(
    root: Path, small_slices: None
) -> None:
    values = [0.5, 0.5, 0.5, 0.5, 1.5, 0.5, float("nan"), 0.5]
    column = pa.array(values, pa.float32())
    with pytest.raises(IngestError, match=r"column 'confidence', row 5: value 1.5 is outside"):
        ingest_table(root, table(8, confidence=column), "m", "r", "s")


def test_a_dictionary_metadata_column_counts_only_the_values_rows_hold(root: Path) -> None:
    channel = chunked_dictionary([(["web", "unused"], [0, 0, None]), (["chat"], [0, None])])
    ingest_table(root, table(5, channel=channel), "m", "r", "s")
    info = Catalog(root).split("m", "r", "s")
    assert info is not None
    assert [(column.name, column.values) for column in info.columns] == [("channel", 2)]


def test_the_checksum_hashed_while_writing_is_the_stored_files(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Buffers of 1,000 bytes and more are hashed on the second thread.
    monkeypatch.setattr(ingest_module._HashedFile, "PARALLEL_BYTES", 1000)
    n = 50_000
    confidence = np.random.default_rng(0).random(n)
    ingest_table(root, table(n, id=pa.array(np.arange(n)), confidence=confidence), "m", "r", "s")
    info = Catalog(root).split("m", "r", "s")
    assert info is not None and info.checksum is not None
    assert info.checksum == file_checksum(root / info.path)


def test_a_dictionary_metadata_column_with_a_null_entry_is_stored_with_its_values(
    root: Path,
) -> None:
    # Arrow cannot join chunks whose dictionaries hold a null; the strings are
    # decoded and encoded again instead of failing with Arrow's error.
    channel = chunked_dictionary([(["web", None], [0, 1, None]), (["chat"], [0, 0])])
    ingest_table(root, table(5, channel=channel), "m", "r", "s")
    stored = load(root).metadata.column("channel")
    assert stored.to_pylist() == ["web", None, None, "chat", "chat"]
    assert pa.types.is_dictionary(stored.type)
