"""The normalised confusion matrix and calibration (issue 15), each equal to
scikit-learn's: confusion_matrix(normalize=), calibration_curve,
brier_score_loss and log_loss.

Multiclass rows are encoded as scikit-learn sees them (tests/api/test_trust.py):
labels by code, None (no actual label, or no prediction kept at the
threshold) as one more class, code K, last in the matrix.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, confusion_matrix, log_loss
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.api.limits import MAX_BINS
from evalql.storage.ingest import IngestOptions, ingest_table
from tests.api.conftest import ROWS, Query
from tests.api.test_multilabel import random_rows
from tests.api.test_trust import encoded

# Every test runs on the index path and on the scan path (conftest.index_path).
pytestmark = pytest.mark.usefixtures("index_path")

NAMES = ["A", "B", "C"]
SMALL = [(a, p, c) for _, a, p, c, _, _ in ROWS]


def metrics_of(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    return body["data"]["model"]["run"]["split"]["metrics"]


MATRIX = """query($t: Float!, $n: Normalize!) {
  model(name: "m") { run(name: "v1") { split(name: "test") { metrics(threshold: $t) {
    confusionMatrix(normalize: $n) { labels counts cells(first: 100) { count } }
    plain: confusionMatrix { counts }
  } } } }
}"""


@pytest.mark.parametrize("t", [0.0, 0.5, 0.85])
@pytest.mark.parametrize("how", ["NONE", "TRUE", "PRED", "ALL"])
def test_normalized_confusion_matrix_equals_scikit_learn(gql: Query, t: float, how: str) -> None:
    m = metrics_of(gql(MATRIX, t=t, n=how))
    y_true, y_pred = encoded(SMALL, NAMES, t)
    labels = list(range(len(NAMES) + 1))
    normalize = None if how == "NONE" else how.lower()
    want = confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)
    got = m["confusionMatrix"]["counts"]
    assert m["confusionMatrix"]["labels"] == [*NAMES, None]
    np.testing.assert_allclose(np.array(got, dtype=float), want, rtol=0, atol=1e-12)
    counts = confusion_matrix(y_true, y_pred, labels=labels)
    assert m["plain"]["counts"] == counts.tolist()
    if how == "NONE":
        assert got == counts.tolist()
        assert all(isinstance(x, int) for row in got for x in row)
    # cells keep counts whatever the normalisation.
    assert sorted(c["count"] for c in m["confusionMatrix"]["cells"]) == sorted(
        int(x) for x in counts.ravel() if x > 0
    )


CURVE = """query($t: Float!, $bins: Int!) {
  model(name: "m") { run(name: "v1") { split(name: "test") { metrics(threshold: $t) {
    calibrationSource brierScore logLoss
    expectedCalibrationError(bins: $bins)
    calibrationCurve(bins: $bins) { low high meanConfidence accuracy count }
  } } } }
}"""


def top_label_rows(t: float) -> tuple[np.ndarray, np.ndarray]:
    """(right, confidence) of the rows with an actual label and a kept prediction."""
    rows = [
        (p == a, np.float32(c)) for a, p, c in SMALL
        if a is not None and p is not None and c is not None and np.float32(c) >= np.float32(t)
    ]
    return np.array([r for r, _ in rows]), np.array([c for _, c in rows], dtype=np.float64)


@pytest.mark.parametrize("t", [0.0, 0.5])
@pytest.mark.parametrize("bins", [1, 4, 5, 15])
def test_calibration_curve_from_confidence_equals_scikit_learn(
    gql: Query, t: float, bins: int
) -> None:
    m = metrics_of(gql(CURVE, t=t, bins=bins))
    assert m["calibrationSource"] == "CONFIDENCE"
    assert m["brierScore"] is None and m["logLoss"] is None
    curve = m["calibrationCurve"]
    assert len(curve) == bins
    np.testing.assert_allclose([b["low"] for b in curve], np.linspace(0, 1, bins + 1)[:-1])
    np.testing.assert_allclose([b["high"] for b in curve], np.linspace(0, 1, bins + 1)[1:])
    y, p = top_label_rows(t)
    assert sum(b["count"] for b in curve) == len(y)
    full = [b for b in curve if b["count"] > 0]
    assert all(b["meanConfidence"] is None and b["accuracy"] is None
               for b in curve if b["count"] == 0)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=bins, strategy="uniform")
    np.testing.assert_allclose([b["accuracy"] for b in full], prob_true, rtol=1e-12)
    np.testing.assert_allclose([b["meanConfidence"] for b in full], prob_pred, rtol=1e-7)
    ece = sum(abs(b["accuracy"] - b["meanConfidence"]) * b["count"] for b in full) / len(y)
    assert m["expectedCalibrationError"] == pytest.approx(ece, abs=1e-12)


def test_calibration_bins_are_bounded(gql: Query) -> None:
    for bins in (0, MAX_BINS + 1):
        body = gql(CURVE, t=0.0, bins=bins)
        assert body.get("errors"), body


LABELS = ("A", "B", "C")


@pytest.fixture
def scored(tmp_path: Path) -> Iterator[tuple[TestClient, pa.Table]]:
    rng = np.random.default_rng(11)
    n = 300
    actual = rng.choice([0, 1, 2, -1], size=n, p=[0.4, 0.3, 0.25, 0.05])
    raw = rng.random((n, 3)) ** 2 + 0.01
    raw[np.arange(n), np.maximum(actual, 0)] += rng.random(n)
    scores = (raw / raw.sum(axis=1, keepdims=True)).astype(np.float32)
    predicted = scores.argmax(axis=1)
    names = np.array([*LABELS, None], dtype=object)
    table = pa.table({
        "id": np.arange(n),
        "actual": pa.array(names[actual], pa.string()),
        "predicted": pa.array(names[predicted], pa.string()),
        "confidence": scores.max(axis=1),
        "scores": pa.array(list(scores), pa.list_(pa.float32())),
    })
    ingest_table(tmp_path, table, "s", "v1", "test", IngestOptions(labels=LABELS), source="s")
    with TestClient(create_app(tmp_path)) as client:
        yield client, table


SCORED = """query($bins: Int!, $labels: [String!]) {
  model(name: "s") { run(name: "v1") { split(name: "test") { metrics(threshold: 0.9, labels: $labels) {
    calibrationSource brierScore logLoss
    expectedCalibrationError(bins: $bins)
    calibrationCurve(bins: $bins) { meanConfidence accuracy count }
  } } } }
}"""


@pytest.mark.parametrize("labels", [None, ["A", "C"]])
def test_brier_log_loss_and_curve_from_scores_equal_scikit_learn(scored, labels) -> None:
    client, table = scored
    body = client.post(
        "/graphql", json={"query": SCORED, "variables": {"bins": 10, "labels": labels}}
    ).json()
    m = metrics_of(body)
    assert m["calibrationSource"] == "SCORES"
    scores = np.array(table["scores"].to_pylist(), dtype=np.float32)
    code = {name: i for i, name in enumerate(LABELS)}
    actual = np.array([-1 if a is None else code[a] for a in table["actual"].to_pylist()])
    keep = np.isin(actual, [code[x] for x in labels or LABELS])
    y, s = actual[keep], scores[keep]
    assert m["brierScore"] == pytest.approx(
        brier_score_loss(y, s, labels=[0, 1, 2]), rel=1e-6)
    assert m["logLoss"] == pytest.approx(log_loss(y, s, labels=[0, 1, 2]), rel=1e-6)
    # The threshold (0.9) does not apply to scores: every judged row counts.
    top = s.argmax(axis=1)
    right, p = top == y, s.max(axis=1).astype(np.float64)
    curve = m["calibrationCurve"]
    assert sum(b["count"] for b in curve) == len(y)
    full = [b for b in curve if b["count"] > 0]
    prob_true, prob_pred = calibration_curve(right, p, n_bins=10)
    np.testing.assert_allclose([b["accuracy"] for b in full], prob_true, rtol=1e-12)
    np.testing.assert_allclose([b["meanConfidence"] for b in full], prob_pred, rtol=1e-7)
    ece = sum(abs(b["accuracy"] - b["meanConfidence"]) * b["count"] for b in full) / len(y)
    assert m["expectedCalibrationError"] == pytest.approx(ece, abs=1e-12)


def test_multilabel_calibration_is_null(tmp_path: Path) -> None:
    names = ("billing", "bug", "refund", "urgent")
    ingest_table(tmp_path, pa.table(random_rows(4)), "m", "v1", "test",
                 IngestOptions(task="multilabel", labels=names), source="tags")
    with TestClient(create_app(tmp_path)) as client:
        body = client.post("/graphql", json={
            "query": CURVE, "variables": {"t": 0.5, "bins": 10}}).json()
    m = metrics_of(body)
    assert m["calibrationSource"] == "CONFIDENCE"
    assert m["brierScore"] is None and m["logLoss"] is None
    assert m["expectedCalibrationError"] is None and m["calibrationCurve"] == []
