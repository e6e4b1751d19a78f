"""Accuracy over labelled rows through GraphQL (issue 15): labeled, accuracy,
selectiveAccuracy and everything that reads them, against scikit-learn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.storage.ingest import IngestOptions, ingest_table
from tests.api.conftest import Query
from tests.api.test_rows import LABELS, SPLIT, data, random_store
from tests.oracle import NO_ACTUAL, NO_PREDICTION, sklearn_accuracy

# Every test runs on the index path and on the scan path (conftest.index_path).
pytestmark = pytest.mark.usefixtures("index_path")

SUMMARY = "total labeled predicted correct coverage accuracy selectiveAccuracy"


@pytest.fixture(scope="module")
def random_gql(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Query, pa.Table]]:
    with random_store(tmp_path_factory.mktemp("random")) as store:
        yield store


def as_named(table: pa.Table, t: float) -> tuple[list[str], list[str]]:
    """scikit-learn's view of the split at ``t``: no actual label and no kept
    prediction as two different sentinels."""
    actual = table["actual"].to_pylist()
    predicted = table["predicted"].to_pylist()
    confidence = np.array(table["confidence"].to_pylist(), dtype=np.float32)
    y_true = [NO_ACTUAL if a is None else a for a in actual]
    y_pred = [p if p is not None and confidence[i] >= np.float32(t) else NO_PREDICTION
              for i, p in enumerate(predicted)]
    return y_true, y_pred


def assert_ratio(value: float | None, expected: float) -> None:
    if np.isnan(expected):
        assert value is None
    else:
        assert value == pytest.approx(expected, rel=0, abs=1e-12)


@pytest.mark.parametrize("t", [0.0, 0.5, 0.7, 1.0])
def test_accuracy_is_scikit_learns_on_the_labelled_rows(
    random_gql: tuple[Query, pa.Table], t: float
) -> None:
    gql, table = random_gql
    m = data(gql(SPLIT % f"metrics(threshold: {t}) {{ {SUMMARY} }}"))["metrics"]
    y_true, y_pred = as_named(table, t)
    assert m["total"] == len(y_true)
    assert m["labeled"] == sum(a != NO_ACTUAL for a in y_true)
    assert m["predicted"] == sum(p != NO_PREDICTION for p in y_pred)
    assert m["coverage"] == pytest.approx(m["predicted"] / m["total"])
    assert_ratio(m["accuracy"], sklearn_accuracy(y_true, y_pred))
    assert_ratio(m["selectiveAccuracy"], sklearn_accuracy(y_true, y_pred, selective=True))


@pytest.mark.parametrize("t", [0.0, 0.5, 0.9])
def test_every_label_as_the_class_filter_gives_the_accuracy_of_no_filter(
    random_gql: tuple[Query, pa.Table], t: float
) -> None:
    gql, _ = random_gql
    fields = f"{SUMMARY} accuracyInterval {{ low high }} curve(points: 5) {{ accuracy selectiveAccuracy }}"
    m = data(gql(SPLIT % f"""none: metrics(threshold: {t}) {{ {fields} }}
        every: metrics(threshold: {t}, labels: {list(reversed(LABELS))!r}) {{ {fields} }}"""
                 .replace("'", '"')))
    none, every = m["none"], m["every"]
    for name in ("labeled", "correct", "accuracy", "selectiveAccuracy", "accuracyInterval",
                 "curve"):
        assert every[name] == none[name], name
    # total and coverage still count the unlabeled rows, which no class filter keeps
    assert every["total"] == every["labeled"] < none["total"]


def test_breakdown_slices_and_compare_judge_the_labelled_rows_only(tmp_path: Path) -> None:
    # r1 unlabeled and predicted "A": a false positive of A, no error
    rows = [("r0", "A", "A", "x"), ("r1", None, "A", "x"), ("r2", "B", "A", "y"),
            ("r3", None, None, "y"), ("r4", "B", "B", "y")]
    ids, actual, predicted, group = (list(c) for c in zip(*rows, strict=True))
    base = pa.table({"id": ids, "actual": pa.array(actual, pa.string()),
                     "predicted": pa.array(predicted, pa.string()), "group": group})
    # the candidate gets r1's actual label right... but the baseline could not
    # judge r1: neither fixed nor regressed. r2 is fixed.
    cand = base.set_column(1, "actual", pa.array(["A", "A", "B", None, "B"], pa.string()))
    cand = cand.set_column(2, "predicted", pa.array(["A", "A", "B", "B", "B"], pa.string()))
    options = IngestOptions(labels=("A", "B"))
    ingest_table(tmp_path, base, "m", "v1", "test", options)
    ingest_table(tmp_path, cand, "m", "v2", "test", options)
    query = """{ model(name: "m") { run(name: "v1") { split(name: "test") { metrics {
        labeled accuracy label(name: "A") { precision }
        breakdown(column: "group") { key metrics { total labeled accuracy } } } } } }
      compare(baseline: {model: "m", run: "v1", split: "test"},
              candidate: {model: "m", run: "v2", split: "test"}) {
        baseline { accuracy } candidate { labeled accuracy } fixed regressed } }"""
    with TestClient(create_app(tmp_path)) as client:
        body = client.post("/graphql", json={"query": query}).json()
    assert "errors" not in body, body
    m = body["data"]["model"]["run"]["split"]["metrics"]
    assert (m["labeled"], m["accuracy"]) == (3, 2 / 3)
    assert m["label"]["precision"] == pytest.approx(1 / 3)  # r1 stays a false positive of A
    assert m["breakdown"] == [
        {"key": "y", "metrics": {"total": 3, "labeled": 2, "accuracy": 0.5}},
        {"key": "x", "metrics": {"total": 2, "labeled": 1, "accuracy": 1.0}},
    ]
    c = body["data"]["compare"]
    assert (c["baseline"]["accuracy"], c["candidate"]["labeled"], c["candidate"]["accuracy"]) == (
        2 / 3, 4, 1.0)
    assert (c["fixed"], c["regressed"]) == (1, 0)  # r2 only; r1 was not judged in v1


def test_every_row_unlabeled_leaves_accuracy_null(tmp_path: Path) -> None:
    table = pa.table({"actual": pa.array([None, None], pa.string()),
                      "predicted": pa.array(["A", None], pa.string())})
    ingest_table(tmp_path, table, "m", "v1", "test", IngestOptions(labels=("A",)))
    with TestClient(create_app(tmp_path)) as client:
        body = client.post("/graphql", json={"query": SPLIT % f"metrics {{ {SUMMARY} }}"}).json()
    m = data(body)["metrics"]
    assert m == {"total": 2, "labeled": 0, "predicted": 1, "correct": 0, "coverage": 0.5,
                 "accuracy": None, "selectiveAccuracy": None}
