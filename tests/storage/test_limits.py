"""Size limits at ingest: ids and labels up to 1 KiB, column names up to 256
characters, at most 1,000 columns; each refused with one line and no change."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from evalql.storage.errors import IngestError
from evalql.storage.ingest import IngestOptions, ingest_table
from tests.storage.conftest import predictions, snapshot

LONG = "é" * 513  # 1,026 UTF-8 bytes, 513 characters
MULTILABEL = IngestOptions(task="multilabel")


def lists(actual: list, predicted: list) -> pa.Table:
    return pa.table({
        "id": pa.array(["a", "b", "c"]),
        "actual": pa.array(actual, pa.list_(pa.string())),
        "predicted": pa.array(predicted, pa.list_(pa.string())),
    })


CASES = {
    "a long id": (
        predictions(id=pa.array(["1", "2", "x" * 1025, "4"])), IngestOptions(),
        "column 'id', row 3: the id is 1,025 bytes long; at most 1,024 are allowed",
    ),
    "a long label counted in bytes": (
        predictions(actual=pa.array(["cat", LONG, None, "bird"])), IngestOptions(),
        "column 'actual', row 2: the label is 1,026 bytes long; at most 1,024 are allowed",
    ),
    "a long predicted label": (
        predictions(predicted=pa.array(["dog", "dog", "cat", "y" * 5000])), IngestOptions(),
        "column 'predicted', row 4: the label is 5,000 bytes long; at most 1,024 are allowed",
    ),
    "a long label in --labels": (
        predictions(), IngestOptions(labels=("cat", "dog", "bird", LONG)),
        "--labels names a label of 1,026 bytes; at most 1,024 are allowed",
    ),
    "a long label in a list": (
        lists([["a"], [], ["b", "z" * 2000]], [["a"], ["b"], []]), MULTILABEL,
        "column 'actual', row 3: the label is 2,000 bytes long; at most 1,024 are allowed",
    ),
    "an empty label in a list": (
        lists([["a"], [], ["b"]], [["a"], ["b", ""], []]), MULTILABEL,
        "column 'predicted', row 2: a label in the list is empty; leave it out of the list",
    ),
    "a long column name": (
        predictions(**{"n" * 257: pa.array([1, 2, 3, 4])}), IngestOptions(),
        f"column '{'n' * 60}…': the column name is 257 characters long; at most 256 are allowed",
    ),
    "too many columns": (
        predictions(**{f"c{i}": pa.array([i] * 4) for i in range(1000)}), IngestOptions(),
        "column 'c991': the file has 1,009 columns; at most 1,000 are allowed",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_limit_is_refused_with_one_line_and_no_change(
    root: Path, case: tuple[pa.Table, IngestOptions, str]
) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    ingest_table(root, lists([["a"], [], ["b"]], [["a"], ["b"], []]), "tags", "r", "s",
                 MULTILABEL)
    before = snapshot(root)
    table, options, message = case
    model = "tags" if options.task == "multilabel" else "m"
    with pytest.raises(IngestError) as caught:
        ingest_table(root, table, model, "r", "new", options, source="preds.parquet")
    assert str(caught.value) == f"preds.parquet: {message}"
    assert "\n" not in str(caught.value)
    assert snapshot(root) == before


def test_values_at_each_limit_are_accepted(root: Path) -> None:
    exactly = "é" * 512  # 1,024 bytes
    table = predictions(
        id=pa.array(["1", "2", "i" * 1024, "4"]),
        actual=pa.array(["cat", exactly, None, "bird"]),
        **{"n" * 256: pa.array([1, 2, 3, 4])},
        **{f"c{i}": pa.array([i] * 4) for i in range(1000 - 10)},
    )
    assert table.num_columns == 1000
    summary = ingest_table(root, table, "m", "r", "s")
    assert summary.rows == 4 and summary.metadata_columns == 996
