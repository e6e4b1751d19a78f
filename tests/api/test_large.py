"""Splits of more than 100,000 rows through GraphQL, so every kernel runs in
several row ranges (engine.jit.MIN_PARALLEL_ROWS is 65,536) on both the index
path and the scan path, checked against scikit-learn and NumPy."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import confusion_matrix, hamming_loss, precision_recall_fscore_support
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.engine.jit import MIN_PARALLEL_ROWS
from evalql.storage.ingest import IngestOptions, ingest_table

pytestmark = pytest.mark.usefixtures("index_path")

N = 150_000
ML_N = 110_000
LABELS = ["A", "B", "C", "D", "E"]
NONE = len(LABELS)  # the None code in the reference arrays


def columns(seed: int = 11) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    actual = rng.choice(NONE + 1, N, p=[0.3, 0.25, 0.2, 0.15, 0.05, 0.05])
    predicted = np.where(rng.random(N) < 0.7, actual, rng.integers(0, NONE + 1, N))
    confidence = np.round(rng.random(N), 3).astype(np.float32)  # many ties
    channel = rng.choice(["chat", "email", "phone"], N)
    return {"actual": actual, "predicted": predicted, "confidence": confidence,
            "channel": channel}


def tag_table(seed: int = 12) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.random((ML_N, len(LABELS))) < 0.3  # actual label indicators
    confidence = np.round(rng.random((ML_N, len(LABELS))), 2).astype(np.float32)
    predicted = (rng.random((ML_N, len(LABELS))) < 0.6) & (y | (rng.random(y.shape) < 0.3))
    names = np.array(LABELS)
    table = pa.table({
        "id": np.arange(ML_N),
        "actual": pa.array([names[row].tolist() for row in y], pa.list_(pa.string())),
        "predicted": pa.array([names[row].tolist() for row in predicted],
                              pa.list_(pa.string())),
        "confidence": pa.array([c[p].tolist() for c, p in zip(confidence, predicted,
                                                              strict=True)],
                               pa.list_(pa.float32())),
    })
    return table, y, predicted, confidence


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict, Any]]:
    assert N > 2 * MIN_PARALLEL_ROWS and ML_N > MIN_PARALLEL_ROWS
    root: Path = tmp_path_factory.mktemp("big")
    c = columns()
    names = np.array([*LABELS, None], dtype=object)
    table = pa.table({
        "id": np.arange(N),
        "actual": pa.array(names[c["actual"]], pa.string()),
        "predicted": pa.array(names[c["predicted"]], pa.string()),
        "confidence": c["confidence"],
        "channel": c["channel"],
    })
    ingest_table(root, table, "m", "v1", "big", IngestOptions(labels=tuple(LABELS)),
                 source="big")
    tags = tag_table()
    ingest_table(root, tags[0], "tags", "v1", "big",
                 IngestOptions(task="multilabel", labels=tuple(LABELS)), source="tags")
    with TestClient(create_app(root)) as client:
        yield client, c, tags


TYPES = {"t": "Float!", "where": "[RowFilter!]", "after": "String"}


def ask(client: TestClient, query: str, model: str = "m", **variables: Any) -> dict[str, Any]:
    declared = ", ".join(f"${name}: {TYPES[name]}" for name in variables)
    document = (f'query({declared}) {{ model(name: "{model}") {{ run(name: "v1") '
                f'{{ split(name: "big") {{ {query} }} }} }} }}')
    body = client.post("/graphql", json={"query": document, "variables": variables}).json()
    assert "errors" not in body, body["errors"]
    return body["data"]["model"]["run"]["split"]


def kept(c: dict, t: float) -> np.ndarray:
    """The predictions at ``t``: None (code K) below it."""
    return np.where(c["confidence"] >= np.float32(t), c["predicted"], NONE)


PAGE = """metrics(threshold: $t, where: $where) {
  total predicted correct confusionMatrix { counts }
  perLabel { label precision recall f1 support tp fp fn tn }
}"""


@pytest.mark.parametrize("t", [0.0, 0.37])
@pytest.mark.parametrize("channel", [None, "email"])
def test_a_metrics_page_equals_scikit_learn(big, t: float, channel: str | None) -> None:
    client, c, _ = big
    where = None if channel is None else [{"column": "channel", "in": [channel]}]
    m = ask(client, PAGE, t=t, where=where)["metrics"]
    rows = slice(None) if channel is None else c["channel"] == channel
    y, p = c["actual"][rows], kept(c, t)[rows]
    expected = confusion_matrix(y, p, labels=list(range(NONE + 1)))
    assert m["confusionMatrix"]["counts"] == expected.tolist()
    assert (m["total"], m["predicted"], m["correct"]) == (
        len(y), int((p != NONE).sum()), int(((p == y) & (p != NONE)).sum()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        precision, recall, f1, support = precision_recall_fscore_support(
            y, p, labels=list(range(NONE)), average=None)
    for i, row in enumerate(m["perLabel"]):
        assert row["support"] == support[i]
        assert row["precision"] == pytest.approx(precision[i])
        assert row["recall"] == pytest.approx(recall[i])
        assert row["f1"] == pytest.approx(f1[i])


def test_a_drill_down_page_deep_in_a_cell_is_the_numpy_order(big) -> None:
    client, c, _ = big
    t = 0.25
    cell = np.flatnonzero((c["actual"] == 0) & (kept(c, t) == 1))
    # Confidence descending, ties by position in the split.
    expected = cell[np.lexsort((cell, -c["confidence"][cell]))]
    query = ('metrics(threshold: $t, where: $where) { rows(actual: "A", predicted: "B", '
             'first: 500, after: $after) { totalCount nodes { id confidence } '
             'pageInfo { hasNextPage endCursor } } }')
    seen: list[int] = []
    after, more = None, True
    while more:  # every page, the cell's rows spread over every kernel range
        page = ask(client, query, t=t, after=after, where=None)["metrics"]["rows"]
        assert page["totalCount"] == len(cell) > 1000
        seen += [int(node["id"]) for node in page["nodes"]]
        after, more = page["pageInfo"]["endCursor"], page["pageInfo"]["hasNextPage"]
    assert seen == expected.tolist()
    filtered = ask(client, query, t=t, after=None,
                   where=[{"column": "channel", "in": ["phone"]}])["metrics"]["rows"]
    phone = expected[c["channel"][expected] == "phone"]
    assert filtered["totalCount"] == len(phone)
    assert [int(n["id"]) for n in filtered["nodes"]] == phone[:500].tolist()


def test_a_curve_equals_the_metrics_scikit_learn_gives_at_each_threshold(big) -> None:
    client, c, _ = big
    points = ask(client, 'metrics(threshold: $t) { curve(points: 6, label: "C") '
                         '{ threshold coverage accuracy precision recall } }', t=0)
    for point in points["metrics"]["curve"]:
        p = kept(c, point["threshold"])
        assert point["coverage"] == pytest.approx((p != NONE).mean())
        # accuracy over the labelled rows (Trust issue; was over every row)
        labeled = c["actual"] != NONE
        assert point["accuracy"] == pytest.approx((p == c["actual"])[labeled].mean())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            precision, recall, _, _ = precision_recall_fscore_support(
                c["actual"], p, labels=[2], average=None)
        assert point["precision"] == pytest.approx(precision[0])
        assert point["recall"] == pytest.approx(recall[0])


def test_a_multilabel_page_and_curve_equal_scikit_learn(big) -> None:
    client, _, (_, y, predicted, confidence) = big
    got = ask(client, "metrics(threshold: $t) { total hammingScore micro: f1(average: MICRO) "
                      "perLabel { tp fp fn } curve(points: 3) { threshold accuracy } "
                      'rows(actual: "B", predicted: "B", first: 5) { totalCount } }',
              model="tags", t=0.5)["metrics"]
    p = predicted & (confidence >= np.float32(0.5))
    assert got["total"] == ML_N
    assert got["hammingScore"] == pytest.approx(1 - hamming_loss(y, p))
    _, _, f1, _ = precision_recall_fscore_support(y, p, average="micro")
    assert got["micro"] == pytest.approx(f1)
    assert [row["tp"] for row in got["perLabel"]] == (y & p).sum(axis=0).tolist()
    assert got["rows"]["totalCount"] == int((y[:, 1] & p[:, 1]).sum())
    for point in got["curve"]:
        at = predicted & (confidence >= np.float32(point["threshold"]))
        assert point["accuracy"] == pytest.approx(1 - hamming_loss(y, at))
