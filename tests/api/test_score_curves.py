"""LabelMetrics.rocCurve and prCurve, and multilabel scores (issue 15): each
curve's vertices equal scikit-learn's roc_curve(drop_intermediate=False) /
precision_recall_curve on (actual == label, score); multilabel AP and ROC
AUC with a scores column equal average_precision_score / roc_auc_score on
each label's score column, and its calibration (Brier, log loss, the
reliability diagram) scikit-learn's on the flattened (row, label) pairs.

The score of label c is scores[:, c] when the split has scores, else the
confidence where the prediction is c and 0 elsewhere (SPEC); multilabel
without scores, the confidence of c where the row predicts it. The view's
threshold and class filter do not move a curve; its row filter does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from starlette.testclient import TestClient

from evalql.api import limits
from evalql.api.app import create_app
from evalql.storage.errors import IngestError
from evalql.storage.ingest import IngestOptions, ingest_table
from tests.oracle import quietly

LABELS = ("A", "B", "C")
TAGS = ("billing", "bug", "refund", "urgent")

CURVES = """query($points: Int!, $t: Float!, $labels: [String!], $where: [RowFilter!]) {
  model(name: "%s") { run(name: "v1") { split(name: "test") {
    metrics(threshold: $t, labels: $labels, where: $where) { perLabel {
      label averagePrecision rocAuc
      rocCurve(points: $points) { threshold falsePositiveRate truePositiveRate }
      prCurve(points: $points) { threshold precision recall }
} } } } } }"""


def ask(client: TestClient, model: str, points: int = 101, t: float = 0.0,
        labels: list[str] | None = None, channel: str | None = None) -> list[dict[str, Any]]:
    where = None if channel is None else [{"column": "channel", "in": [channel]}]
    body = client.post("/graphql", json={"query": CURVES % model, "variables": {
        "points": points, "t": t, "labels": labels, "where": where}}).json()
    assert "errors" not in body, body
    return body["data"]["model"]["run"]["split"]["metrics"]["perLabel"]


def keep(n: int, points: int) -> np.ndarray:
    """The vertices a curve of n keeps at ``points`` (evenly spaced, ends kept)."""
    if n <= points:
        return np.arange(n)
    return np.unique(np.rint(np.linspace(0, n - 1, points)).astype(np.int64))


def none_as_nan(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def assert_like_scikit_learn(entry: dict[str, Any], y: np.ndarray, score: np.ndarray,
                             points: int) -> None:
    """The entry's curves against scikit-learn's vertices (all of them when
    ``points`` is at least their number), and each curve's ends kept."""
    roc, pr = entry["rocCurve"], entry["prCurve"]
    fpr, tpr, roc_t = quietly(roc_curve, y, score, drop_intermediate=False)
    precision, recall, pr_t = quietly(precision_recall_curve, y, score)
    at = keep(len(roc_t), points)
    assert len(roc) == len(at) <= points and len(pr) == len(at)
    # thresholds: null for +inf, else the float32 score as its shortest decimal
    assert roc[0]["threshold"] is None and pr[0]["threshold"] is None
    got_t = np.array([p["threshold"] for p in roc[1:]], dtype=np.float32)
    np.testing.assert_array_equal(got_t, roc_t[at][1:].astype(np.float32))
    np.testing.assert_array_equal(
        np.array([p["threshold"] for p in pr[1:]], dtype=np.float32), got_t)
    np.testing.assert_allclose(none_as_nan([p["falsePositiveRate"] for p in roc]), fpr[at],
                               rtol=1e-12)
    np.testing.assert_allclose(none_as_nan([p["truePositiveRate"] for p in roc]), tpr[at],
                               rtol=1e-12)
    np.testing.assert_allclose([p["precision"] for p in pr], precision[::-1][at], rtol=1e-12)
    if y.any():
        np.testing.assert_allclose([p["recall"] for p in pr], recall[::-1][at], rtol=1e-12)
    else:  # no positives: recall is 0/0 (scikit-learn says 1 and warns)
        assert all(p["recall"] is None for p in pr)


# --- multiclass ------------------------------------------------------------------


def multiclass_table(seed: int, n: int, scores: bool) -> pa.Table:
    rng = np.random.default_rng(seed)
    actual = rng.choice([0, 1, 2, -1], size=n, p=[0.45, 0.3, 0.2, 0.05])
    raw = rng.random((n, 3)) ** 2 + 0.01
    raw[np.arange(n), np.maximum(actual, 0)] += rng.random(n)
    probabilities = np.round(raw / raw.sum(axis=1, keepdims=True), 2).astype(np.float32)
    predicted = np.where(rng.random(n) < 0.05, -1, probabilities.argmax(axis=1))
    names = np.array([*LABELS, None], dtype=object)
    columns: dict[str, Any] = {
        "id": np.arange(n),
        "actual": pa.array(names[actual], pa.string()),
        "predicted": pa.array(names[predicted], pa.string()),
        # rounded, so many scores tie
        "confidence": np.round(probabilities.max(axis=1), 1),
        "channel": rng.choice(["chat", "email"], n),
    }
    if scores:
        columns["scores"] = pa.array(list(probabilities), pa.list_(pa.float32()))
    return pa.table(columns)


@pytest.fixture(scope="module")
def multiclass(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict]]:
    root: Path = tmp_path_factory.mktemp("curves")
    tables = {"scored": multiclass_table(5, 400, True), "plain": multiclass_table(6, 400, False)}
    for name, table in tables.items():
        ingest_table(root, table, name, "v1", "test", IngestOptions(labels=LABELS), source=name)
    with TestClient(create_app(root)) as client:
        yield client, tables


def multiclass_scores(table: pa.Table, code: int) -> np.ndarray:
    """Label ``code``'s score per row: its scores entry, else the confidence
    where it is predicted and 0 elsewhere."""
    if "scores" in table.column_names:
        return np.array(table["scores"].to_pylist(), dtype=np.float32)[:, code]
    predicted = np.array(table["predicted"].to_pylist(), dtype=object)
    confidence = np.array(table["confidence"].to_pylist(), dtype=np.float32)
    return np.where(predicted == LABELS[code], confidence, np.float32(0))


@pytest.mark.parametrize("model", ["scored", "plain"])
@pytest.mark.parametrize("points", [2, 7, 101, 10_001])
@pytest.mark.parametrize("channel", [None, "chat"])
def test_multiclass_curves_are_scikit_learns_vertices(multiclass, model, points, channel) -> None:
    client, tables = multiclass
    table = tables[model]
    rows = np.ones(table.num_rows, bool) if channel is None else (
        np.array(table["channel"].to_pylist()) == channel)
    actual = np.array(table["actual"].to_pylist(), dtype=object)
    for code, entry in enumerate(ask(client, model, points, channel=channel)):
        y = actual[rows] == LABELS[code]
        score = multiclass_scores(table, code)[rows]
        assert_like_scikit_learn(entry, y, score, points)
        # the curve's AUC is rocAuc (trapezoids over every vertex)
        if points >= 1000:
            fpr = [p["falsePositiveRate"] for p in entry["rocCurve"]]
            tpr = [p["truePositiveRate"] for p in entry["rocCurve"]]
            assert np.trapezoid(tpr, fpr) == pytest.approx(entry["rocAuc"], rel=1e-12)


def test_the_threshold_and_class_filter_leave_a_curve_as_it_is(multiclass) -> None:
    client, _ = multiclass
    plain = {e["label"]: e for e in ask(client, "scored")}
    moved = ask(client, "scored", t=0.8, labels=["C", "A"])
    assert [e["label"] for e in moved] == ["C", "A"]
    for entry in moved:
        assert entry == plain[entry["label"]]


@pytest.mark.parametrize("points", [1, limits.MAX_SCORE_CURVE_POINTS + 1])
def test_points_outside_their_bounds_are_refused(multiclass, points) -> None:
    client, _ = multiclass
    body = client.post("/graphql", json={"query": CURVES % "scored", "variables": {
        "points": points, "t": 0.0, "labels": None, "where": None}}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "points" in body["errors"][0]["message"]


# --- multilabel ------------------------------------------------------------------


def multilabel_rows(seed: int, n: int, scores: bool) -> dict[str, list]:
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {"id": [], "actual": [], "predicted": [], "confidence": [],
                             "channel": rng.choice(["chat", "email"], n).tolist()}
    matrix = np.round(rng.random((n, len(TAGS))), 2)
    for i in range(n):
        rows["id"].append(f"r{i}")
        actual = rng.random(len(TAGS)) < 0.25 + 0.5 * matrix[i]
        rows["actual"].append([t for t, a in zip(TAGS, actual, strict=True) if a])
        guess = [j for j in range(len(TAGS)) if matrix[i, j] >= 0.5]
        rows["predicted"].append([TAGS[j] for j in guess])
        rows["confidence"].append([float(matrix[i, j]) for j in guess])
    if scores:
        rows["scores"] = matrix.tolist()
    return rows


@pytest.fixture(scope="module")
def multilabel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict]]:
    root: Path = tmp_path_factory.mktemp("ml-curves")
    data = {"tags": multilabel_rows(7, 300, True), "bare": multilabel_rows(8, 300, False)}
    for name, rows in data.items():
        ingest_table(root, pa.table(rows), name, "v1", "test",
                     IngestOptions(task="multilabel", labels=TAGS), source=name)
    with TestClient(create_app(root)) as client:
        yield client, data


def multilabel_truth_and_scores(rows: dict[str, list]) -> tuple[np.ndarray, np.ndarray]:
    """The indicator matrix Y and each label's score column."""
    y = np.array([[t in row for t in TAGS] for row in rows["actual"]])
    if "scores" in rows:
        return y, np.array(rows["scores"], dtype=np.float32)
    score = np.zeros(y.shape, dtype=np.float32)
    for i, (labels, confidence) in enumerate(zip(rows["predicted"], rows["confidence"],
                                                 strict=True)):
        for label, c in zip(labels, confidence, strict=True):
            score[i, TAGS.index(label)] = c
    return y, score


@pytest.mark.parametrize("model", ["tags", "bare"])
@pytest.mark.parametrize("channel", [None, "email"])
def test_multilabel_ap_auc_and_curves_equal_scikit_learn_per_label(
    multilabel, model, channel
) -> None:
    client, data = multilabel
    rows = data[model]
    y, score = multilabel_truth_and_scores(rows)
    view = np.ones(len(y), bool) if channel is None else np.array(rows["channel"]) == channel
    for code, entry in enumerate(ask(client, model, 10_001, t=0.6, channel=channel)):
        truth, s = y[view, code], score[view, code]
        assert entry["averagePrecision"] == pytest.approx(average_precision_score(truth, s))
        assert entry["rocAuc"] == pytest.approx(roc_auc_score(truth, s))
        assert_like_scikit_learn(entry, truth, s, 10_001)
    # and cut to 5 vertices
    for code, entry in enumerate(ask(client, model, 5, channel=channel)):
        assert_like_scikit_learn(entry, y[view, code], score[view, code], 5)


def test_multilabel_scores_reach_ap_which_the_confidences_alone_miss(multilabel) -> None:
    # Rows not predicting a label still carry its probability in scores.
    client, data = multilabel
    y, score = multilabel_truth_and_scores(data["tags"])
    for code, entry in enumerate(ask(client, "tags")):
        predicted_only = np.where(score[:, code] >= 0.5, score[:, code], 0)
        assert entry["averagePrecision"] == pytest.approx(
            average_precision_score(y[:, code], score[:, code]))
        assert entry["averagePrecision"] != pytest.approx(
            average_precision_score(y[:, code], predicted_only))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), n=st.integers(1, 40), points=st.integers(2, 12))
def test_random_multilabel_scores_against_scikit_learn(tmp_path_factory, seed, n, points) -> None:
    root = tmp_path_factory.mktemp("ml-random")
    rows = multilabel_rows(seed, n, True)
    ingest_table(root, pa.table(rows), "tags", "v1", "test",
                 IngestOptions(task="multilabel", labels=TAGS), source="tags")
    y, score = multilabel_truth_and_scores(rows)
    with TestClient(create_app(root)) as client:
        for code, entry in enumerate(ask(client, "tags", points)):
            truth = y[:, code]
            defined = truth.any() and not truth.all()
            ap = average_precision_score(truth, score[:, code]) if defined else None
            assert entry["averagePrecision"] == pytest.approx(ap)
            assert_like_scikit_learn(entry, truth, score[:, code], points)


# --- multilabel scores at ingest ---------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ([[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.5]], "row 2: 3 scores, expected 4"),
        ([[0.1, 0.2, 0.3, 0.4], [0.5, float("nan"), 0.5, 0.5]], "row 2"),
        ([[0.1, 0.2, 0.3, 1.5], [0.5, 0.5, 0.5, 0.5]], "row 1"),
        ([[0.1, 0.2, 0.3, 0.4], None], "row 2: the scores are missing"),
    ],
)
def test_bad_multilabel_scores_are_refused_with_one_line(tmp_path: Path, scores, message) -> None:
    rows = {"id": ["a", "b"], "actual": [["bug"], []], "predicted": [["bug"], ["refund"]],
            "scores": scores}
    with pytest.raises(IngestError) as caught:
        ingest_table(tmp_path, pa.table(rows), "tags", "v1", "test",
                     IngestOptions(task="multilabel", labels=TAGS), source="tags.jsonl")
    text = str(caught.value)
    assert "\n" not in text and "scores" in text and message in text, text


def test_multilabel_scores_need_the_label_order(tmp_path: Path) -> None:
    rows = {"id": ["a"], "actual": [["bug"]], "predicted": [["bug"]], "scores": [[0.9]]}
    with pytest.raises(IngestError, match="scores need --labels"):
        ingest_table(tmp_path, pa.table(rows), "tags", "v1", "test",
                     IngestOptions(task="multilabel"), source="tags.jsonl")


CALIBRATION = """query($labels: [String!], $where: [RowFilter!]) {
  model(name: "tags") { run(name: "v1") { split(name: "test") {
    metrics(threshold: 0.7, labels: $labels, where: $where) {
      calibrationSource brierScore logLoss expectedCalibrationError(bins: 10)
      calibrationCurve(bins: 10) { meanConfidence accuracy count }
} } } } }"""


@pytest.mark.parametrize("labels", [None, ["urgent", "billing"]])
@pytest.mark.parametrize("channel", [None, "chat"])
def test_multilabel_calibration_reads_every_pair_of_the_score_matrix(
    multilabel, labels, channel
) -> None:
    client, data = multilabel
    rows = data["tags"]
    where = None if channel is None else [{"column": "channel", "in": [channel]}]
    body = client.post("/graphql", json={"query": CALIBRATION, "variables": {
        "labels": labels, "where": where}}).json()
    assert "errors" not in body, body
    m = body["data"]["model"]["run"]["split"]["metrics"]
    y, score = multilabel_truth_and_scores(rows)
    view = np.ones(len(y), bool) if channel is None else np.array(rows["channel"]) == channel
    chosen = [TAGS.index(t) for t in labels or TAGS]
    truth, p = y[view][:, chosen].ravel(), score[view][:, chosen].ravel()
    assert m["calibrationSource"] == "SCORES"
    assert m["brierScore"] == pytest.approx(brier_score_loss(truth, p), rel=1e-6)
    assert m["logLoss"] == pytest.approx(log_loss(truth, p), rel=1e-5)
    curve = m["calibrationCurve"]
    assert sum(b["count"] for b in curve) == truth.size
    full = [b for b in curve if b["count"] > 0]
    prob_true, prob_pred = calibration_curve(truth, p, n_bins=10)
    np.testing.assert_allclose([b["accuracy"] for b in full], prob_true, rtol=1e-12)
    np.testing.assert_allclose([b["meanConfidence"] for b in full], prob_pred, rtol=1e-7)
    ece = sum(abs(b["accuracy"] - b["meanConfidence"]) * b["count"] for b in full) / truth.size
    assert m["expectedCalibrationError"] == pytest.approx(ece, abs=1e-12)
