"""Every refused input: a one-line IngestError naming file, column and row,
and a store left exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evalql.storage.catalog import Catalog
from evalql.storage.errors import IngestError
from evalql.storage.ingest import IngestOptions, ingest_file, ingest_table
from tests.storage.conftest import predictions, snapshot, write

Attempt = Callable[[Path, Path], object]


@dataclass(frozen=True)
class Case:
    attempt: Attempt  # (store root, inputs directory) -> ingest
    expected: tuple[str, ...]  # parts of str(error)


DEFAULTS = IngestOptions()


def table_case(
    table: pa.Table, *expected: str, model: str = "m", split: str = "new",
    options: IngestOptions = DEFAULTS,
) -> Case:
    def attempt(root: Path, inputs: Path) -> object:
        return ingest_table(root, table, model, "r", split, options, source="preds.arrow")

    return Case(attempt, ("preds.arrow: ", *expected))


def file_case(name: str, content: Callable[[Path], object], *expected: str) -> Case:
    def attempt(root: Path, inputs: Path) -> object:
        path = inputs / name
        content(path)
        return ingest_file(root, path, "m", "r", "new")

    return Case(attempt, (name, *expected))


def truncated_parquet(path: Path) -> None:
    pq.write_table(predictions(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def random_bytes(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(4096))


CASES = {
    "missing predicted column": table_case(
        predictions(predicted=None), "column 'predicted'", "required column is missing"
    ),
    "missing actual column": table_case(predictions(actual=None), "column 'actual'"),
    "duplicate id": table_case(
        predictions(id=pa.array([1, 2, 1, 2])), "column 'id', row 3", "duplicate id '1'"
    ),
    "duplicate text id": table_case(
        predictions(id=pa.array(["x", "y", "z", "y"]).dictionary_encode()),
        "column 'id', row 4", "duplicate id 'y' (first in row 2)",
    ),
    "null id": table_case(predictions(id=pa.array(["a", None, "c", "d"])), "column 'id', row 2"),
    "confidence above 1": table_case(
        predictions(confidence=pa.array([0.5, None, 1.3, 0.2])),
        "column 'confidence', row 3: value 1.3 is outside [0, 1]",
    ),
    "confidence below 0": table_case(
        predictions(confidence=pa.array([-0.1, None, 0.3, 0.2])),
        "column 'confidence', row 1", "-0.1 is outside [0, 1]",
    ),
    "confidence NaN": table_case(
        predictions(confidence=pa.array([0.1, 0.2, 0.3, float("nan")])),
        "column 'confidence', row 4", "NaN",
    ),
    "confidence as text": table_case(
        predictions(confidence=pa.array(["0.5", None, "high", "0.2"])),
        "column 'confidence', row 3: value 'high' is not a number",
    ),
    "confidence as booleans": table_case(
        predictions(confidence=pa.array([True] * 4)),
        "column 'confidence': confidence has to be a number, not bool",
    ),
    "confidence just beyond the float32 tolerance": table_case(
        predictions(confidence=pa.array([0.5, None, 1.0000123, 0.2])),
        "column 'confidence', row 3: value 1.0000123 is outside [0, 1]",
    ),
    "confidence just below 0 beyond the tolerance": table_case(
        predictions(confidence=pa.array([0.5, None, -2e-06, 0.2])),
        "column 'confidence', row 3: value -2e-06 is outside [0, 1]",
    ),
    "a model name with a slash": table_case(
        predictions(), "the model name 'a/b' cannot contain '/'", model="a/b"
    ),
    "a split name with a newline": table_case(
        predictions(), "the split name 'x\\ny' has to be printable", split="x\ny"
    ),
    "a split name with surrounding spaces": table_case(
        predictions(), "the split name ' test' cannot start or end with a space", split=" test"
    ),
    "a model name longer than 200 characters": table_case(
        predictions(), "is 201 characters long; at most 200 are allowed", model="m" * 201
    ),
    "labels as floats": table_case(
        predictions(actual=pa.array([1.5] * 4)), "column 'actual'", "strings"
    ),
    "reserved column name": table_case(predictions(__secret=pa.array([1] * 4)), "'__secret'"),
    "label outside --labels": table_case(
        predictions(), "column 'actual', row 4", "label 'bird'",
        options=IngestOptions(labels=("cat", "dog")),
    ),
    "label outside the fixed labels of the model": table_case(
        predictions(actual=pa.array(["a", "b", "zebra", None]), predicted=pa.array(["a"] * 4)),
        "column 'actual', row 3", "label 'zebra'", "fixed labels of model fixed",
        model="fixed",
    ),
    "--labels that differ from the model's": table_case(
        predictions(actual=pa.array(["a"] * 4), predicted=pa.array(["b"] * 4)),
        "--labels differ", model="fixed", options=IngestOptions(labels=("b", "a")),
    ),
    "--labels naming a label twice": table_case(
        predictions(), "more than once", options=IngestOptions(labels=("cat", "cat"))
    ),
    "an empty label": table_case(
        predictions(predicted=pa.array(["cat", "dog", "", "cat"])),
        "column 'predicted', row 3", "a label is empty",
    ),
    "--labels naming an empty label": table_case(
        predictions(), "--labels names an empty label", options=IngestOptions(labels=("cat", ""))
    ),
    "wrong task for the model": table_case(
        predictions(), "model multi is multilabel; this file is multiclass", model="multi"
    ),
    "single labels as multilabel": table_case(
        predictions(), "column 'actual'", "have to be lists for --task multilabel, not string",
        options=IngestOptions(task="multilabel"),
    ),
    "existing split without --replace": table_case(
        predictions(), "split m/r/existing already exists (use --replace)", split="existing"
    ),
    "scores of the wrong length": table_case(
        predictions(scores=pa.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0], [1.0], [0.3, 0.7, 0.0]])),
        "column 'scores', row 3", "1 scores, expected 3",
        options=IngestOptions(labels=("bird", "cat", "dog")),
    ),
    "scores outside [0, 1]": table_case(
        predictions(scores=pa.array([[0.1, 0.2, 0.7]] * 3 + [[0.1, 0.2, 1.7]])),
        "column 'scores', row 4", "1.7 is outside [0, 1]",
        options=IngestOptions(labels=("bird", "cat", "dog")),
    ),
    "scores without --labels": table_case(
        predictions(scores=pa.array([[0.5, 0.5]] * 4)), "column 'scores'", "--labels"
    ),
    "empty csv file": file_case("empty.csv", lambda p: p.write_bytes(b""), "cannot read"),
    "csv with a header only": file_case(
        "header.csv", lambda p: p.write_text("id,actual,predicted\n"), "no rows"
    ),
    "corrupt parquet": file_case("corrupt.parquet", random_bytes, "cannot read"),
    "truncated parquet": file_case("truncated.parquet", truncated_parquet, "cannot read"),
    "unknown suffix": file_case(
        "preds.xlsx", lambda p: p.write_bytes(b"x"), "unknown file type '.xlsx'", ".parquet"
    ),
    "missing file": file_case("nowhere.csv", lambda p: None, "no such file"),
    "a directory": file_case("folder.csv", lambda p: p.mkdir(), ": is a directory"),
    "a csv confidence that is not a number": file_case(
        "preds.csv",
        lambda p: p.write_text("id,actual,predicted,confidence\n1,a,a,0.5\n2,a,b,0.4\n3,b,b,high\n"),
        ": column 'confidence', row 3: value 'high' is not a number",
    ),
    "a json array": file_case(
        "preds.json",
        lambda p: p.write_text('[{"actual": "a", "predicted": "a"}, {"actual": "b", "predicted": "a"}]'),
        ": expected JSON Lines: one object per line, not a JSON array",
    ),
}


@pytest.fixture
def populated(root: Path) -> Path:
    """A store with a split m/r/existing, a fixed-label model and a multilabel model."""
    ingest_table(root, predictions(), "m", "r", "existing")
    fixed = predictions(actual=pa.array(["a"] * 4), predicted=pa.array(["b"] * 4))
    ingest_table(root, fixed, "fixed", "r", "s", IngestOptions(labels=("a", "b")))
    tags = pa.table({"actual": pa.array([["a"], []]), "predicted": pa.array([["a"], ["a"]])})
    ingest_table(root, tags, "multi", "r", "s", IngestOptions(task="multilabel"))
    return root


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_refused_with_a_clear_error_and_no_change(
    populated: Path, inputs: Path, case: Case
) -> None:
    before = snapshot(populated)
    with pytest.raises(IngestError) as caught:
        case.attempt(populated, inputs)
    message = str(caught.value)
    assert "\n" not in message
    for part in case.expected:
        assert part in message
    assert snapshot(populated) == before


def test_a_bad_file_does_not_create_a_store(root: Path, inputs: Path) -> None:
    path = write(predictions(confidence=pa.array([2.0] * 4)), inputs / "preds.csv")
    with pytest.raises(IngestError, match=r"preds\.csv: column 'confidence', row 1"):
        ingest_file(root, path, "m", "r", "s")
    assert not root.exists()


def test_an_empty_model_name_is_refused(root: Path) -> None:
    with pytest.raises(IngestError, match="^<table>: the model name '' is empty$"):
        ingest_table(root, predictions(), "", "r", "s")
    assert not root.exists()


def test_names_of_200_printable_characters_with_spaces_and_unicode_are_accepted(root: Path) -> None:
    name = "é model v1 " + "x" * 189
    assert len(name) == 200
    summary = ingest_table(root, predictions(), name, "run 2", "test (held out)")
    assert summary.model == name and Catalog(root).split(name, "run 2", "test (held out)")


def test_the_catalog_keeps_the_multilabel_task(populated: Path) -> None:
    assert Catalog(populated).model("multi").task == "multilabel"
