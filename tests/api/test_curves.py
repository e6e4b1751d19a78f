"""Curves, ranking metrics, the threshold for a precision and alias batching,
through GraphQL, against metrics(threshold:) and scikit-learn."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score
from starlette.testclient import TestClient

from evalql.api import split_cache
from evalql.api.app import create_app
from evalql.engine import curves
from evalql.storage.ingest import IngestOptions, ingest_table
from tests.api.conftest import Query

# Every test runs on the index path and on the scan path (conftest.index_path).
pytestmark = pytest.mark.usefixtures("index_path")

LABELS = ("A", "B", "C", "D")  # D is never an actual label: no positives
ROUND = np.float32([0.0, 0.25, 0.5, 0.7, 0.9, 1.0])  # grid values, so ties at thresholds


def random_table(n: int = 400, seed: int = 5) -> pa.Table:
    rng = np.random.default_rng(seed)
    actual = rng.choice([0, 1, 2, -1], size=n, p=[0.45, 0.3, 0.2, 0.05])
    predicted = np.where(rng.random(n) < 0.7, actual, rng.integers(0, 4, n))
    predicted[rng.random(n) < 0.05] = -1
    confidence = np.where(rng.random(n) < 0.5, rng.choice(ROUND, n), rng.random(n))
    scores = rng.random((n, 4)).astype(np.float32)
    scores[rng.random((n, 4)) < 0.3] = 0.5  # ties
    names = np.array([*LABELS, None], dtype=object)
    return pa.table({
        "id": np.arange(n),
        "actual": pa.array(names[actual], pa.string()),
        "predicted": pa.array(names[predicted], pa.string()),
        "confidence": confidence.astype(np.float32),
        "scores": pa.array(list(scores), pa.list_(pa.float32())),
        "channel": rng.choice(["email", "chat"], n),
    })


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Query]:
    root = tmp_path_factory.mktemp("scored")
    table = random_table()
    options = IngestOptions(labels=LABELS)
    ingest_table(root, table, "s", "v1", "test", options, source="scored")
    ingest_table(root, table.drop_columns(["scores"]), "s", "v1", "plain", options, source="plain")
    with TestClient(create_app(root)) as client:

        def run(query: str, **variables: Any) -> dict[str, Any]:
            response = client.post("/graphql", json={"query": query, "variables": variables})
            assert response.status_code == 200, response.text
            return response.json()

        run.table = table  # type: ignore[attr-defined]
        yield run


def split_query(body: str, split: str = "test") -> str:
    return f'{{ model(name: "s") {{ run(name: "v1") {{ split(name: "{split}") {{ {body} }} }} }} }}'


def data_of(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    return body["data"]["model"]["run"]["split"]


def error_code(body: dict[str, Any]) -> str:
    return body["errors"][0]["extensions"]["code"]


POINT_FIELDS = "coverage accuracy selectiveAccuracy precision recall f1"


EMAIL = 'where: [{column: "channel", in: ["email"]}]'
CURVE_CASES = [
    (label, args)
    for args in ("", EMAIL, 'labels: ["C", "A"]', f'labels: ["C", "A"], {EMAIL}')
    for label in (None, "A", "D")
    if not (label == "D" and "labels" in args)  # D is outside that class filter
]


@pytest.mark.parametrize("split", ["test", "plain"])
@pytest.mark.parametrize(("label", "args"), CURVE_CASES)
def test_each_curve_point_equals_metrics_at_its_threshold(
    scored: Query, split: str, label: str | None, args: str
) -> None:
    points = 21
    if label is None:
        fields, label_arg = POINT_FIELDS, "null"
    else:
        label_arg = f'"{label}"'
        fields = f"coverage accuracy selectiveAccuracy label(name: {label_arg}) {{ precision recall f1 }}"
    at = " ".join(
        f"t{j}: metrics(threshold: {j / (points - 1)!r} {args}) {{ {fields} }}"
        for j in range(points)
    )
    curve = (
        f"c: metrics(threshold: 0.3 {args}) "
        f"{{ curve(label: {label_arg}, points: {points}) {{ threshold {POINT_FIELDS} }} }}"
    )
    got = data_of(scored(split_query(f"{curve} {at}", split)))
    assert len(got["c"]["curve"]) == points
    for j, point in enumerate(got["c"]["curve"]):
        expected = dict(got[f"t{j}"])
        expected.update(expected.pop("label", None) or {})
        assert point["threshold"] == j / (points - 1)
        assert {k: point[k] for k in expected} == expected


def test_a_curve_threshold_equal_to_a_confidence_keeps_that_prediction(gql: Query) -> None:
    # conftest ROWS: r4 (None -> A) has confidence 0.7, exactly grid(11)[7].
    body = gql('{ model(name: "m") { run(name: "v1") { split(name: "test") { metrics {'
               ' curve(points: 11) { threshold coverage } } } } } }')
    curve = body["data"]["model"]["run"]["split"]["metrics"]["curve"]
    kept = {p["threshold"]: p["coverage"] for p in curve}
    assert kept[0.7] == 4 / 8  # 0.9, 0.8, 0.7 and 0.95 are kept
    assert kept[0.8] == 3 / 8


def test_curve_points_outside_the_range_and_unknown_labels_are_refused(scored: Query) -> None:
    for args, message in (
        ("points: 1", "points has to be within 2..1001"),
        ("points: 1002", "points has to be within 2..1001"),
        ('label: "Z"', 'label "Z" is not a label of model "s"'),
    ):
        body = scored(split_query(f"metrics {{ curve({args}) {{ threshold }} }}"))
        assert error_code(body) == "BAD_USER_INPUT"
        assert message in body["errors"][0]["message"]
    body = scored(split_query('metrics(labels: ["A"]) { curve(label: "B") { threshold } }'))
    assert "outside the view's labels" in body["errors"][0]["message"]


RANKING = "metrics(where: $where) { meanAveragePrecision perLabel { label averagePrecision rocAuc } }"


@pytest.mark.parametrize("split", ["test", "plain"])
@pytest.mark.parametrize("filtered", [False, True])
def test_average_precision_and_roc_auc_match_scikit_learn(
    scored: Query, split: str, filtered: bool
) -> None:
    where = [{"column": "channel", "in": ["email"]}] if filtered else None
    query = "query($where: [RowFilter!]) " + split_query(RANKING, split)
    got = data_of(scored(query, where=where))["metrics"]
    table = scored.table  # type: ignore[attr-defined]
    rows = np.array(table["channel"].to_pylist()) == "email" if filtered else slice(None)
    actual = np.array(table["actual"].to_pylist(), dtype=object)[rows]
    if split == "test":
        score = np.array(table["scores"].to_pylist(), dtype=np.float32)[rows]
    else:
        predicted = np.array(table["predicted"].to_pylist(), dtype=object)[rows]
        confidence = table["confidence"].to_numpy()[rows]
        score = np.stack([np.where(predicted == c, confidence, 0) for c in LABELS], axis=1)
    defined = []
    for i, entry in enumerate(got["perLabel"]):
        y = actual == entry["label"]
        if not y.any():
            assert entry["averagePrecision"] is None and entry["rocAuc"] is None
            continue
        defined.append(average_precision_score(y, score[:, i]))
        assert entry["averagePrecision"] == pytest.approx(defined[-1], rel=1e-12)
        assert entry["rocAuc"] == pytest.approx(roc_auc_score(y, score[:, i]), rel=1e-12)
    assert got["meanAveragePrecision"] == pytest.approx(np.mean(defined), rel=1e-12)


def test_ranking_metrics_do_not_depend_on_the_threshold(scored: Query) -> None:
    got = data_of(scored(split_query(
        'a: metrics(threshold: 0) { label(name: "A") { averagePrecision rocAuc } }'
        'b: metrics(threshold: 0.9) { label(name: "A") { averagePrecision rocAuc } }'
    )))
    assert got["a"] == got["b"]


def test_top_k_accuracy_counts_the_actual_label_among_the_highest_scores(scored: Query) -> None:
    got = data_of(scored(split_query("metrics { t1: topKAccuracy(k: 1) t4: topKAccuracy(k: 4) }")))
    table = scored.table  # type: ignore[attr-defined]
    actual = np.array(table["actual"].to_pylist(), dtype=object)
    scores = np.array(table["scores"].to_pylist(), dtype=np.float32)
    codes = np.array([LABELS.index(a) if a else -1 for a in actual])
    own = scores[np.arange(len(codes)), codes]
    higher = (scores > own[:, None]).sum(axis=1)
    # over the labeled rows, as accuracy (Trust issue: unlabeled rows used to count as misses)
    labeled = codes >= 0
    assert got["metrics"]["t1"] == pytest.approx(np.mean(higher[labeled] < 1))
    assert got["metrics"]["t4"] == 1.0


def test_top_k_accuracy_is_null_without_scores_and_k_has_to_fit(scored: Query) -> None:
    got = data_of(scored(split_query("metrics { topKAccuracy(k: 2) }", "plain")))
    assert got["metrics"]["topKAccuracy"] is None
    body = scored(split_query("metrics { topKAccuracy(k: 5) }"))
    assert error_code(body) == "BAD_USER_INPUT" and "k has to be within 1..4" in body["errors"][0]["message"]


CHOICE = (
    'metrics(where: $where) {{ thresholdForPrecision(label: "A", minPrecision: {goal}) {{'
    " threshold precision recall coverage"
    ' metrics { threshold coverage label(name: "A") { precision recall } } } }'
)


@pytest.mark.parametrize("filtered", [False, True])
def test_the_threshold_for_a_precision_is_the_lowest_confidence_that_reaches_it(
    scored: Query, filtered: bool
) -> None:
    where = [{"column": "channel", "in": ["email"]}] if filtered else None
    query = "query($where: [RowFilter!]) " + split_query(CHOICE.replace("{goal}", "0.8"))
    query = query.replace("{{", "{").replace("}}", "}")
    choice = data_of(scored(query, where=where))["metrics"]["thresholdForPrecision"]
    t = choice["threshold"]
    assert choice["precision"] >= 0.8
    assert choice["metrics"]["threshold"] == t
    assert choice["metrics"]["label"] == {"precision": choice["precision"], "recall": choice["recall"]}
    assert choice["coverage"] == choice["metrics"]["coverage"]
    # The threshold is one of A's confidences (kept, so >=), and the next
    # confidence below it does not reach the precision.
    table = scored.table  # type: ignore[attr-defined]
    rows = np.array(table["channel"].to_pylist()) == "email" if filtered else slice(None)
    predicted = np.array(table["predicted"].to_pylist(), dtype=object)[rows]
    confidence = table["confidence"].to_numpy()[rows][predicted == "A"]
    assert np.float32(t) in confidence
    below = confidence[confidence < np.float32(t)]
    if below.size:
        lower = float(np.format_float_positional(below.max(), unique=True))
        q = "query($where: [RowFilter!]) " + split_query(
            f'metrics(threshold: {lower!r}, where: $where) {{ label(name: "A") {{ precision }} }}'
        )
        assert data_of(scored(q, where=where))["metrics"]["label"]["precision"] < 0.8


def test_the_threshold_for_an_unreachable_precision_is_null(scored: Query) -> None:
    got = data_of(scored(split_query(
        'metrics { d: thresholdForPrecision(label: "D", minPrecision: 0.01) { threshold } '
        'a: thresholdForPrecision(label: "A", minPrecision: 1) { threshold precision } }'
    )))["metrics"]
    assert got["d"] is None  # D is predicted but never right
    assert got["a"] is None or got["a"]["precision"] == 1.0


def test_the_threshold_for_a_precision_refuses_a_precision_outside_zero_one(scored: Query) -> None:
    body = scored(split_query('metrics { thresholdForPrecision(label: "A", minPrecision: 1.5) { threshold } }'))
    assert error_code(body) == "BAD_USER_INPUT"
    assert "minPrecision has to be within [0, 1], got 1.5" in body["errors"][0]["message"]


def test_aliases_at_several_thresholds_under_one_filter_share_one_scan(
    scored: Query, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[np.ndarray] = []
    real = curves.confusion_counts_at  # the scan confusion_counts_within runs

    def spy(*args: Any, **kwargs: Any) -> np.ndarray:
        calls.append(np.array(args[3]))
        return real(*args, **kwargs)

    def no_single_scans(*args: Any, **kwargs: Any) -> np.ndarray:
        raise AssertionError("a view scanned on its own")

    # No filtered index yet: the first request under a filter scans.
    monkeypatch.setattr(split_cache, "MODE", "scan")
    monkeypatch.setattr(curves, "confusion_counts_at", spy)
    monkeypatch.setattr(split_cache, "confusion_counts", no_single_scans)
    where = '[{column: "channel", in: ["chat"]}]'
    fields = "coverage precision confusionMatrix { counts }"
    batched = data_of(scored(split_query(
        f"t50: metrics(threshold: 0.5, where: {where}) {{ {fields} }} "
        f"t90: metrics(threshold: 0.9, where: {where}) {{ {fields} }} "
        f'c90: metrics(threshold: 0.9, where: {where}, labels: ["B"]) {{ {fields} }}'
    )))
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], np.float32([0.5, 0.9]))
    monkeypatch.undo()
    for alias, t in (("t50", 0.5), ("t90", 0.9)):
        alone = data_of(scored(split_query(f"metrics(threshold: {t}, where: {where}) {{ {fields} }}")))
        assert batched[alias] == alone["metrics"]
