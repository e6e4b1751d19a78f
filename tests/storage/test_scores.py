"""The scores column: every bad value is a one-line IngestError naming the
column and the row, and the store is left as it was; good scores load as a
float32 (N, K) block in the model's label order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from evalql.storage.datasets import SplitStore
from evalql.storage.errors import IngestError
from evalql.storage.ingest import IngestOptions, ingest_file, ingest_table
from tests.storage.conftest import predictions, snapshot, write

LABELS = IngestOptions(labels=("bird", "cat", "dog"))
GOOD = [[0.1, 0.2, 0.7], [0.3, 0.3, 0.4], [1.0, 0.0, 0.0], [0.5, 0.25, 0.25]]


FLOAT_LISTS = pa.list_(pa.float64())


def with_scores(rows: list, dtype: pa.DataType = FLOAT_LISTS) -> pa.Table:
    return predictions(scores=pa.array(rows, dtype))


BAD = {
    "a row of the wrong length": (
        with_scores([*GOOD[:2], [0.5, 0.5], GOOD[3]]), "row 3", "2 scores, expected 3"
    ),
    "a NaN score": (
        with_scores([*GOOD[:3], [0.5, float("nan"), 0.5]]), "row 4", "NaN is not a probability"
    ),
    "a score above 1": (with_scores([[0.1, 1.2, 0.0], *GOOD[1:]]), "row 1", "1.2 is outside [0, 1]"),
    "a negative score": (with_scores([GOOD[0], [0.5, -0.1, 0.6], *GOOD[2:]]), "row 2", "outside [0, 1]"),
    "a null list": (with_scores([GOOD[0], None, *GOOD[2:]]), "row 2", "the scores are missing (null)"),
    "a null score": (with_scores([*GOOD[:2], [0.5, None, 0.5], GOOD[3]]), "row 3", "a score is missing (null)"),
    "scores that are not numbers": (
        with_scores([["0.1", "0.2", "0.7"]] * 2 + [["0.5", "x", "0.5"], ["1", "0", "0"]], pa.list_(pa.string())),
        "row 3: value 'x' is not a number",
    ),
    "scores that are plain numbers": (
        predictions(scores=pa.array([0.5] * 4)), "scores have to be lists of numbers, not double"
    ),
    "a score just beyond the float32 tolerance": (
        with_scores([*GOOD[:3], [0.5, 1.00001, 0.0]]), "row 4", "value 1.00001 is outside [0, 1]"
    ),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_scores_are_refused_naming_the_column_and_row_and_the_store_is_unchanged(
    root: Path, case: tuple
) -> None:
    table, *expected = case
    ingest_table(root, predictions(), "other", "r", "s")
    before = snapshot(root)
    with pytest.raises(IngestError) as caught:
        ingest_table(root, table, "m", "r", "s", LABELS, source="preds.parquet")
    message = str(caught.value)
    assert "\n" not in message and "preds.parquet: column 'scores'" in message
    for part in expected:
        assert part in message
    assert snapshot(root) == before


def test_scores_without_labels_are_refused(root: Path) -> None:
    with pytest.raises(IngestError, match="scores need --labels"):
        ingest_table(root, with_scores(GOOD), "m", "r", "s")


def test_a_nan_score_in_a_parquet_file_names_the_file(root: Path, inputs: Path) -> None:
    path = write(with_scores([*GOOD[:3], [float("nan")] * 3]), inputs / "preds.parquet")
    with pytest.raises(IngestError, match=r"preds\.parquet: column 'scores', row 4"):
        ingest_file(root, path, "m", "r", "s", LABELS)


def test_good_scores_load_as_float32_in_the_label_order(root: Path) -> None:
    ingest_table(root, with_scores(GOOD), "m", "r", "s", LABELS)
    store = SplitStore(root)
    data = store.load(store.catalog.split("m", "r", "s"))
    assert data.columns.scores is not None and data.columns.scores.dtype == np.float32
    np.testing.assert_array_equal(data.columns.scores, np.array(GOOD, dtype=np.float32))


def test_a_later_split_of_a_model_with_fixed_labels_may_carry_scores_without_labels(
    root: Path,
) -> None:
    ingest_table(root, with_scores(GOOD), "m", "r", "first", LABELS)
    ingest_table(root, with_scores(GOOD[::-1]), "m", "r", "second")
    store = SplitStore(root)
    data = store.load(store.catalog.split("m", "r", "second"))
    np.testing.assert_array_equal(data.columns.scores, np.array(GOOD[::-1], dtype=np.float32))


def test_scores_of_a_model_whose_labels_are_not_fixed_still_need_labels(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "first")
    with pytest.raises(IngestError, match="scores need --labels"):
        ingest_table(root, with_scores(GOOD), "m", "r", "second")


def test_scores_within_the_float32_tolerance_are_clipped_to_0_and_1(root: Path) -> None:
    ingest_table(root, with_scores([[1.0000001, 0.0, -5e-7], *GOOD[1:]]), "m", "r", "s", LABELS)
    store = SplitStore(root)
    data = store.load(store.catalog.split("m", "r", "s"))
    np.testing.assert_array_equal(data.columns.scores[0], np.array([1.0, 0.0, 0.0], dtype=np.float32))
