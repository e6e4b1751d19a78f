"""A multilabel model through GraphQL, against scikit-learn."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import accuracy_score, hamming_loss, precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer
from starlette.testclient import TestClient

from api.app import create_app
from storage.ingest import IngestOptions, ingest_table

LABELS = ["billing", "bug", "refund", "urgent"]


def random_rows(seed: int, n: int = 300) -> dict[str, list]:
    rng = np.random.default_rng(seed)
    actual, predicted, confidence = [], [], []
    for _ in range(n):
        actual.append(sorted(rng.choice(LABELS, rng.integers(0, 3), replace=False).tolist()))
        guess = rng.choice(LABELS, rng.integers(0, 4), replace=False).tolist()
        predicted.append(guess)
        confidence.append(np.round(rng.random(len(guess)), 2).tolist())
    return {"id": [f"r{i}" for i in range(n)], "actual": actual, "predicted": predicted,
            "confidence": confidence, "channel": rng.choice(["chat", "email"], n).tolist()}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    root: Path = tmp_path_factory.mktemp("ml")
    rows = random_rows(3)
    ingest_table(root, pa.table(rows), "tags", "v1", "test",
                 IngestOptions(task="multilabel", labels=tuple(LABELS)), source="tags")
    with TestClient(create_app(root)) as client:
        yield client, rows


QUERY = """query($t: Float!, $labels: [String!], $where: [RowFilter!]) {
  model(name: "tags") { task run(name: "v1") { split(name: "test") {
    metrics(threshold: $t, labels: $labels, where: $where) {
      total predicted coverage accuracy hammingScore subsetAccuracy
      macro: f1 micro: f1(average: MICRO) weighted: precision(average: WEIGHTED)
      perLabel { label precision recall f1 support tp fp fn tn }
      confusionMatrix { labels counts }
} } } } }"""


def indicator(rows: dict, t: float, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    binarizer = MultiLabelBinarizer(classes=LABELS)
    kept = [[p for p, c in zip(ps, cs, strict=True) if np.float32(c) >= np.float32(t)]
            for ps, cs in zip(rows["predicted"], rows["confidence"], strict=True)]
    y = binarizer.fit_transform(rows["actual"])[keep]
    p = binarizer.transform(kept)[keep]
    return y, p


@pytest.mark.parametrize("t", [0.0, 0.5, 0.73])
@pytest.mark.parametrize("labels", [None, ["urgent", "billing"]])
@pytest.mark.parametrize("channel", [None, "chat"])
def test_multilabel_metrics_equal_scikit_learn(served, t, labels, channel) -> None:
    client, rows = served
    where = None if channel is None else [{"column": "channel", "in": [channel]}]
    body = client.post("/graphql", json={"query": QUERY, "variables": {
        "t": t, "labels": labels, "where": where}}).json()
    assert "errors" not in body, body
    m = body["data"]["model"]["run"]["split"]["metrics"]
    keep = np.array([channel is None or c == channel for c in rows["channel"]])
    y, p = indicator(rows, t, keep)
    columns = [LABELS.index(x) for x in (labels or LABELS)]
    assert body["data"]["model"]["task"] == "MULTILABEL"
    assert m["total"] == keep.sum()
    assert m["predicted"] == int((p[:, columns].sum(axis=1) > 0).sum())
    assert m["hammingScore"] == pytest.approx(1 - hamming_loss(y[:, columns], p[:, columns]))
    assert m["accuracy"] == m["hammingScore"]
    assert m["subsetAccuracy"] == pytest.approx(accuracy_score(y[:, columns], p[:, columns]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for key, average, metric in (("macro", "macro", 2), ("micro", "micro", 2), ("weighted", "weighted", 0)):
            expected = precision_recall_fscore_support(y, p, labels=columns, average=average)[metric]
            assert m[key] == pytest.approx(expected), key
        per = precision_recall_fscore_support(y, p, labels=columns, average=None)
    for i, row in enumerate(m["perLabel"]):
        assert row["support"] == per[3][i]
        assert row["tp"] + row["fp"] + row["fn"] + row["tn"] == keep.sum()
        assert (row["f1"] or 0.0) == pytest.approx(per[2][i])
    # counts[i][j]: rows with label i actual and j kept; diagonal = TP
    matrix = m["confusionMatrix"]["counts"]
    assert [matrix[i][i] for i in range(len(columns))] == [row["tp"] for row in m["perLabel"]]
    assert m["confusionMatrix"]["labels"] == [*(labels or LABELS), None]
