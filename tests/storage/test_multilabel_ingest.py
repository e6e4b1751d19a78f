"""Multilabel ingest: list columns round trip to CSR arrays in the model's label
order, and every refused input is a one-line IngestError naming the file, the
column and the row, with the store left exactly as it was."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from evalql.engine.multilabel.counts import multilabel_counts
from evalql.storage.catalog import CATALOG_FILE, Catalog
from evalql.storage.datasets import (
    MulticlassColumns,
    MultilabelColumns,
    SplitData,
    SplitStore,
)
from evalql.storage.errors import CorruptSplitError, IngestError
from evalql.storage.ingest import IngestOptions, ingest_file, ingest_table
from tests.storage.conftest import predictions, snapshot, write

MULTILABEL = IngestOptions(task="multilabel")
LISTS = pa.list_(pa.string())
FLOATS = pa.list_(pa.float64())

IDS = ["t1", "t2", "t3", "t4", "t5"]
ACTUAL = [["billing", "refund"], ["bug"], None, [], ["urgent", "bug"]]
PREDICTED = [["refund", "billing"], ["bug", "urgent"], ["billing"], None, []]
CONFIDENCE = [[0.9, 0.4], None, [None], None, []]
# What loading gives back: a null list is the empty set, a null confidence 1.0.
ACTUAL_SETS = [["billing", "refund"], ["bug"], [], [], ["urgent", "bug"]]
PREDICTED_SETS = [["refund", "billing"], ["bug", "urgent"], ["billing"], [], []]
CONFIDENCES = [[0.9, 0.4], [1.0, 1.0], [1.0], [], []]


def tag_rows(**overrides: object) -> pa.Table:
    """Five multilabel rows with a metadata column; ``overrides`` replace or,
    given None, drop columns."""
    columns: dict[str, object] = {
        "id": pa.array(IDS),
        "actual": pa.array(ACTUAL, LISTS),
        "predicted": pa.array(PREDICTED, LISTS),
        "confidence": pa.array(CONFIDENCE, FLOATS),
        "channel": pa.array(["email", "chat", "email", "phone", "chat"]),
    }
    columns.update(overrides)
    return pa.table({name: array for name, array in columns.items() if array is not None})


def load(root: Path, model: str = "tags", run: str = "r", split: str = "s") -> SplitData:
    store = SplitStore(root)
    info = store.catalog.split(model, run, split)
    assert info is not None
    return store.load(info)


def label_sets(data: SplitData) -> tuple[list[list[str]], list[list[str]], list[list[float]]]:
    """Each row's actual labels, predicted labels and confidences, decoded."""
    columns = data.columns
    assert isinstance(columns, MultilabelColumns)
    actual, predicted, confidence = [], [], []
    for row in range(data.n_rows):
        actual.append([data.labels[c] for c in columns.actual_of(row)])
        codes, confidences = columns.predicted_of(row)
        predicted.append([data.labels[c] for c in codes])
        confidence.append(confidences.tolist())
    return actual, predicted, confidence


# --- round trips ----------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl", ".feather"])
def test_every_list_format_round_trips_to_the_same_label_sets(
    root: Path, inputs: Path, suffix: str
) -> None:
    path = write(tag_rows(), inputs / f"tags{suffix}")
    summary = ingest_file(root, path, "tags", "r", "s", MULTILABEL)
    data = load(root)
    assert (summary.rows, summary.labels) == (5, 4)
    assert data.task == "multilabel" and Catalog(root).model("tags").task == "multilabel"
    assert data.labels == ("billing", "bug", "refund", "urgent")
    assert data.n_rows == 5 and data.ids.to_pylist() == IDS
    actual, predicted, confidence = label_sets(data)
    assert actual == ACTUAL_SETS and predicted == PREDICTED_SETS
    assert confidence == [pytest.approx(row) for row in CONFIDENCES]
    assert data.metadata.column_names == ["channel"]
    assert [(c.name, c.type) for c in data.info.columns] == [("channel", "string")]


def test_the_csr_arrays_have_fixed_dtypes_and_are_read_only_views(root: Path) -> None:
    ingest_table(root, tag_rows(), "tags", "r", "s", MULTILABEL)
    columns = load(root).columns
    assert isinstance(columns, MultilabelColumns) and columns.n_rows == 5
    assert columns.actual_offsets.tolist() == [0, 2, 3, 3, 3, 5]
    assert columns.predicted_offsets.tolist() == [0, 2, 4, 5, 5, 5]
    dtypes = {
        "actual_offsets": np.int64, "actual_codes": np.int32, "predicted_offsets": np.int64,
        "predicted_codes": np.int32, "predicted_confidence": np.float32,
    }
    for name, dtype in dtypes.items():
        array = getattr(columns, name)
        assert array.dtype == dtype, name
        assert not array.flags.writeable, name
        assert not array.flags.owndata, name  # a view of the mapped file, not a copy


def test_a_multilabel_split_has_label_sets_and_no_multiclass_columns(root: Path) -> None:
    ingest_table(root, tag_rows(), "tags", "r", "s", MULTILABEL)
    data = load(root)
    assert isinstance(data.columns, MultilabelColumns) and data.n_rows == 5
    assert not hasattr(data.columns, "actual") and not hasattr(data, "actual")


def test_a_multiclass_split_has_no_label_sets(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    data = load(root, "m")
    assert data.task == "multiclass" and isinstance(data.columns, MulticlassColumns)
    assert data.n_rows == 4 and len(data.columns.actual) == 4


def test_a_missing_confidence_column_means_full_confidence(root: Path) -> None:
    ingest_table(root, tag_rows(confidence=None), "tags", "r", "s", MULTILABEL)
    assert load(root).columns.predicted_confidence.tolist() == [1.0] * 5


def test_an_all_null_column_means_empty_sets(root: Path) -> None:
    table = tag_rows(predicted=pa.nulls(5), confidence=pa.nulls(5))
    ingest_table(root, table, "tags", "r", "s", MULTILABEL)
    actual, predicted, _ = label_sets(load(root))
    assert actual == ACTUAL_SETS and predicted == [[]] * 5


def test_integer_labels_in_lists_are_kept_as_text(root: Path) -> None:
    table = tag_rows(
        actual=pa.array([[1, 2], [], None, [3], [1]]),
        predicted=pa.array([[2], [1], [], None, [10]]),
        confidence=None,
    )
    ingest_table(root, table, "tags", "r", "s", MULTILABEL)
    data = load(root)
    assert data.labels == ("1", "10", "2", "3")
    assert label_sets(data)[0] == [["1", "2"], [], [], ["3"], ["1"]]


def test_codes_follow_the_model_when_a_later_split_adds_labels(root: Path) -> None:
    ingest_table(root, tag_rows(), "tags", "r", "s", MULTILABEL)
    store = SplitStore(root)
    before = store.load(store.catalog.split("tags", "r", "s"))
    later = tag_rows(actual=pa.array([["account"], [], [], [], ["zebra"]], LISTS))
    ingest_table(root, later, "tags", "r", "s2", MULTILABEL)
    after = store.load(store.catalog.split("tags", "r", "s"))
    assert after.labels == ("account", "billing", "bug", "refund", "urgent", "zebra")
    assert not np.array_equal(after.columns.actual_codes, before.columns.actual_codes)
    assert label_sets(after) == label_sets(before)
    assert not after.columns.actual_codes.flags.writeable


def test_fixed_labels_keep_their_order(root: Path) -> None:
    options = IngestOptions(task="multilabel", labels=("urgent", "refund", "bug", "billing", "x"))
    ingest_table(root, tag_rows(), "tags", "r", "s", options)
    data = load(root)
    assert data.labels == options.labels
    assert label_sets(data)[1] == PREDICTED_SETS


def test_replacing_a_multilabel_split_serves_the_new_rows(root: Path) -> None:
    ingest_table(root, tag_rows(), "tags", "r", "s", MULTILABEL)
    replacement = tag_rows(actual=pa.array([["bug"]] * 5, LISTS))
    options = IngestOptions(task="multilabel", replace=True)
    assert ingest_table(root, replacement, "tags", "r", "s", options).replaced
    assert label_sets(load(root))[0] == [["bug"]] * 5


def test_the_loaded_columns_feed_the_engine_as_they_are(root: Path) -> None:
    ingest_table(root, tag_rows(), "tags", "r", "s", MULTILABEL)
    data = load(root)
    counts = multilabel_counts(data.columns, 0.5, data.n_labels)
    # t1 keeps refund (0.9) and drops billing (0.4); t3 predicts billing at 1.0.
    assert dict(zip(data.labels, counts.tp.tolist(), strict=True)) == {
        "billing": 0, "bug": 1, "refund": 1, "urgent": 0,
    }
    assert counts.predicted.tolist() == [1, 1, 1, 1]
    assert counts.support.tolist() == [1, 2, 1, 1]
    assert (counts.summary.total, counts.summary.correct) == (5, 1)  # t4: nothing, nothing


def test_a_split_whose_file_disagrees_with_the_models_task_is_corrupt(root: Path) -> None:
    ingest_table(root, tag_rows(), "tags", "r", "s", MULTILABEL)
    ingest_table(root, tag_rows(), "tags", "r", "s2", MULTILABEL)
    with closing(sqlite3.connect(root / CATALOG_FILE)) as conn:
        conn.execute("UPDATE models SET task = 'multiclass' WHERE name = 'tags'")
        conn.commit()
    with pytest.raises(CorruptSplitError, match="holds a multilabel split"):
        load(root)


# --- refusals ---------------------------------------------------------------------


BAD = {
    "actual as plain strings": (
        tag_rows(actual=pa.array(["a", "b", None, "c", "d"])),
        "column 'actual'", "have to be lists for --task multilabel, not string",
    ),
    "predicted as plain strings": (
        tag_rows(predicted=pa.array(["a", "b", None, "c", "d"])), "column 'predicted'", "lists",
    ),
    "labels that are floats": (
        tag_rows(actual=pa.array([[1.5], [], [], [], []])),
        "column 'actual'", "labels have to be strings, not double",
    ),
    "a null label in a list": (
        tag_rows(actual=pa.array([["a"], [], ["b", None], [], []], LISTS)),
        "column 'actual', row 3", "a label in the list is missing (null)",
    ),
    "a label twice in an actual list": (
        tag_rows(actual=pa.array([["a"], ["b", "c", "b"], [], [], ["a", "a"]], LISTS)),
        "column 'actual', row 2", "label 'b' appears twice in the list",
    ),
    "a label twice in a predicted list": (
        tag_rows(
            predicted=pa.array([["a"], [], [], [], ["x", "x"]], LISTS),
            confidence=pa.array([[0.5], [], [], [], [0.1, 0.2]], FLOATS),
        ),
        "column 'predicted', row 5", "label 'x' appears twice",
    ),
    "confidence as plain numbers": (
        tag_rows(confidence=pa.array([0.5] * 5)),
        "column 'confidence'", "has to be a list of numbers for --task multilabel, not double",
    ),
    "confidence lists of text": (
        tag_rows(confidence=pa.array([["0.9", "0.4"], ["0.5", "high"], None, None, []])),
        "column 'confidence', row 2: value 'high' is not a number",
    ),
    "confidence lists of booleans": (
        tag_rows(confidence=pa.array([[True]] * 5)), "column 'confidence'",
        "has to be a list of numbers for --task multilabel, not list<item: bool>",
    ),
    "a confidence just beyond the float32 tolerance": (
        tag_rows(confidence=pa.array([[0.9, 0.4], [0.5, 1.00001], None, None, []], FLOATS)),
        "column 'confidence', row 2: value 1.00001 is outside [0, 1]",
    ),
    "a confidence list shorter than its predicted list": (
        tag_rows(confidence=pa.array([[0.9, 0.4], [0.3], None, None, []], FLOATS)),
        "column 'confidence', row 2", "1 confidences for 2 predicted labels",
    ),
    "confidences for a row without predictions": (
        tag_rows(confidence=pa.array([[0.9, 0.4], None, None, [0.5], []], FLOATS)),
        "column 'confidence', row 4", "1 confidences for 0 predicted labels",
    ),
    "a NaN confidence": (
        tag_rows(confidence=pa.array([[0.9, 0.4], [0.1, float("nan")], None, None, []], FLOATS)),
        "column 'confidence', row 2", "NaN is not a probability",
    ),
    "a confidence above 1": (
        tag_rows(confidence=pa.array([[0.9, 0.4], None, [1.5], None, []], FLOATS)),
        "column 'confidence', row 3", "1.5 is outside [0, 1]",
    ),
    "a negative confidence": (
        tag_rows(confidence=pa.array([[0.9, -0.4], None, None, None, []], FLOATS)),
        "column 'confidence', row 1", "-0.4 is outside [0, 1]",
    ),
    "scores without the label order": (
        tag_rows(scores=pa.array([[0.5, 0.5]] * 5)), "column 'scores'", "scores need --labels",
    ),
    "a missing predicted column": (
        tag_rows(predicted=None), "column 'predicted'", "required column is missing",
    ),
    "a duplicate id": (
        tag_rows(id=pa.array(["a", "b", "a", "c", "d"])), "column 'id', row 3", "duplicate id 'a'",
    ),
}

BAD_FOR_THE_MODEL = {
    "a label outside --labels": (
        tag_rows(), "new", IngestOptions(task="multilabel", labels=("billing", "bug", "refund")),
        ("column 'predicted', row 2", "label 'urgent' is not one of --labels"),
    ),
    "a label outside the fixed labels of the model": (
        tag_rows(actual=pa.array([["a"], [], [], ["b", "c"], []], LISTS), predicted=pa.nulls(5),
                 confidence=None),
        "fixed-tags", MULTILABEL,
        ("column 'actual', row 4", "label 'c'", "fixed labels of model fixed-tags"),
    ),
    "a predicted label outside the fixed labels comes first when its row does": (
        tag_rows(actual=pa.array([["a"], [], [], ["c"], []], LISTS),
                 predicted=pa.array([[], ["z"], [], [], []], LISTS), confidence=None),
        "fixed-tags", MULTILABEL, ("column 'predicted', row 2", "label 'z'"),
    ),
    "a multilabel file into a multiclass model": (
        tag_rows(), "m", MULTILABEL, ("model m is multiclass; this file is multilabel",),
    ),
    "a multiclass file into a multilabel model": (
        predictions(), "tags", IngestOptions(), ("model tags is multilabel; this file is multiclass",),
    ),
    "a multilabel file without --task multilabel": (
        tag_rows(), "tags", IngestOptions(),
        ("column 'actual'", "a list of labels means --task multilabel"),
    ),
    "an existing split without --replace": (
        tag_rows(), "tags", MULTILABEL, ("split tags/r/existing already exists",),
    ),
}


@pytest.fixture
def populated(root: Path) -> Path:
    """A multiclass model m, a multilabel model tags and a fixed-label one, each
    with a split r/existing."""
    ingest_table(root, predictions(), "m", "r", "existing")
    ingest_table(root, tag_rows(), "tags", "r", "existing", MULTILABEL)
    fixed = tag_rows(actual=pa.array([["a"]] * 5, LISTS), predicted=pa.nulls(5), confidence=None)
    options = IngestOptions(task="multilabel", labels=("a", "b"))
    ingest_table(root, fixed, "fixed-tags", "r", "existing", options)
    return root


def refused(root: Path, attempt: object, *expected: str) -> None:
    before = snapshot(root)
    with pytest.raises(IngestError) as caught:
        attempt()
    message = str(caught.value)
    assert "\n" not in message
    for part in expected:
        assert part in message
    assert snapshot(root) == before


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_multilabel_input_is_refused_with_a_clear_error_and_no_change(
    populated: Path, case: tuple
) -> None:
    table, *expected = case
    refused(
        populated,
        lambda: ingest_table(populated, table, "tags", "r", "new", MULTILABEL, source="tags.arrow"),
        "tags.arrow: ", *expected,
    )


@pytest.mark.parametrize("case", BAD_FOR_THE_MODEL.values(), ids=BAD_FOR_THE_MODEL.keys())
def test_input_the_model_forbids_is_refused_with_no_change(populated: Path, case: tuple) -> None:
    table, model, options, expected = case
    split = "existing" if "existing" in expected[0] else "new"
    refused(
        populated,
        lambda: ingest_table(populated, table, model, "r", split, options, source="tags.arrow"),
        "tags.arrow: ", *expected,
    )


def test_a_csv_file_cannot_hold_label_lists(populated: Path, inputs: Path) -> None:
    path = inputs / "tags.csv"
    path.write_text("id,actual,predicted\n1,billing,refund\n")
    refused(
        populated,
        lambda: ingest_file(populated, path, "tags", "r", "new", MULTILABEL),
        "tags.csv: column 'actual'", "CSV cannot hold lists",
    )
