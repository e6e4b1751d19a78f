"""Trust: agreement metrics, intervals, significance and the threshold for a
recall, each equal to scikit-learn's or scipy's value.

Multiclass rows are encoded as scikit-learn sees them (engine/agreement.py):
labels by code, None (no actual label, or no prediction kept at the
threshold) as one more class, code K. Balanced accuracy, MCC and kappa judge
the rows whose actual label is in the view; F-beta counts every row.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import binomtest
from sklearn.metrics import (
    balanced_accuracy_score,
    cohen_kappa_score,
    fbeta_score,
    matthews_corrcoef,
)
from starlette.testclient import TestClient

from evalql.api import limits
from evalql.api.app import create_app
from evalql.storage.ingest import IngestOptions, ingest_table
from tests.api.conftest import ROWS, Query
from tests.api.test_compare import CANDIDATE, V1, V2, client_for, table_of
from tests.api.test_multilabel import random_rows
from tests.api.test_rows import LABELS as RANDOM_LABELS
from tests.api.test_rows import random_table

# Every test runs on the index path and on the scan path (conftest.index_path).
pytestmark = pytest.mark.usefixtures("index_path")

SMALL_LABELS = ["A", "B", "C"]

AGREEMENT = """query($t: Float!, $labels: [String!], $beta: Float!) {
  model(name: "%s") { run(name: "v1") { split(name: "test") {
    metrics(threshold: $t, labels: $labels) {
      correct total labeled
      balancedAccuracy matthewsCorrcoef
      kappa: cohenKappa linear: cohenKappa(weights: LINEAR)
      quadratic: cohenKappa(weights: QUADRATIC)
      macro: fBeta(beta: $beta) micro: fBeta(beta: $beta, average: MICRO)
      weighted: fBeta(beta: $beta, average: WEIGHTED)
      accuracyInterval { low high level }
      at90: accuracyInterval(level: 0.9) { low high level }
      perLabel {
        label tp fp fn specificity falsePositiveRate
        precisionInterval { low high level } recallInterval(level: 0.8) { low high level }
      }
} } } } }"""


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    return body["data"]["model"]["run"]["split"]["metrics"]


def encoded(
    rows: list[tuple[Any, Any, Any]], names: list[str], t: float
) -> tuple[np.ndarray, np.ndarray]:
    """(actual, predicted) codes of (actual, predicted, confidence) rows, None as K."""
    code = {name: i for i, name in enumerate(names)}
    none = len(names)
    actual = [none if a is None else code[a] for a, _, _ in rows]
    predicted = [
        none if p is None or c is None or np.float32(c) < np.float32(t) else code[p]
        for _, p, c in rows
    ]
    return np.array(actual), np.array(predicted)


def expected(
    rows: list[tuple[Any, Any, Any]], names: list[str], t: float, labels: list[str] | None,
    beta: float,
) -> dict[str, Any]:
    y_true, y_pred = encoded(rows, names, t)
    k = len(names)
    selected = list(range(k)) if labels is None else [names.index(x) for x in labels]
    judged = np.isin(y_true, selected)
    order = [*selected, *(c for c in range(k) if c not in selected), k]
    a, p = y_true[judged], y_pred[judged]
    with warnings.catch_warnings():  # "y_pred contains classes not in y_true": expected
        warnings.simplefilter("ignore")
        return _expected(a, p, y_true, y_pred, order, selected, beta)


def _expected(
    a: np.ndarray, p: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray,
    order: list[int], selected: list[int], beta: float,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "balancedAccuracy": balanced_accuracy_score(a, p),
        "matthewsCorrcoef": matthews_corrcoef(a, p),
        "kappa": cohen_kappa_score(a, p, labels=order),
        "linear": cohen_kappa_score(a, p, labels=order, weights="linear"),
        "quadratic": cohen_kappa_score(a, p, labels=order, weights="quadratic"),
    }
    for how in ("macro", "micro", "weighted"):
        values[how] = fbeta_score(y_true, y_pred, beta=beta, labels=selected, average=how,
                                  zero_division=0)
    return values


def wilson(k: int, n: int, level: float) -> tuple[float, float]:
    ci = binomtest(k, n).proportion_ci(level, method="wilson")
    return ci.low, ci.high


def check_page(m: dict[str, Any], want: dict[str, Any]) -> None:
    for field, value in want.items():
        if field == "matthewsCorrcoef" and m[field] is None:  # undefined: scikit-learn says 0
            assert value == 0.0
            continue
        assert m[field] == pytest.approx(value, abs=1e-12), field
    for name, level in (("accuracyInterval", 0.95), ("at90", 0.9)):
        interval = m[name]
        assert interval["level"] == level
        assert (interval["low"], interval["high"]) == pytest.approx(
            wilson(m["correct"], m["labeled"], level), abs=1e-12)  # over labeled rows
    for row in m["perLabel"]:
        tp, fp, fn = row["tp"], row["fp"], row["fn"]
        if tp + fp:
            got = row["precisionInterval"]
            assert (got["low"], got["high"]) == pytest.approx(wilson(tp, tp + fp, 0.95), abs=1e-12)
        else:
            assert row["precisionInterval"] is None
        if tp + fn:
            got = row["recallInterval"]
            assert got["level"] == 0.8
            assert (got["low"], got["high"]) == pytest.approx(wilson(tp, tp + fn, 0.8), abs=1e-12)
        else:
            assert row["recallInterval"] is None


@pytest.mark.parametrize("t", [0.0, 0.5, 0.85])
@pytest.mark.parametrize("labels", [None, ["A", "C"], ["C", "B", "A"]])
@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_agreement_and_intervals_equal_scikit_learn_on_the_small_store(
    gql: Query, t: float, labels: list[str] | None, beta: float
) -> None:
    m = data(gql(AGREEMENT % "m", t=t, labels=labels, beta=beta))
    rows = [(a, p, c) for _, a, p, c, _, _ in ROWS]
    want = expected(rows, SMALL_LABELS, t, labels, beta)
    check_page(m, want)


def test_specificity_and_fpr_equal_scikit_learn_on_the_small_store(gql: Query) -> None:
    m = data(gql(AGREEMENT % "m", t=0.5, labels=None, beta=1.0))
    y_true, y_pred = encoded([(a, p, c) for _, a, p, c, _, _ in ROWS], SMALL_LABELS, 0.5)
    for code, row in enumerate(m["perLabel"]):
        negatives = y_true != code
        tnr = float(np.mean(y_pred[negatives] != code))  # recall_score of "not code"
        assert row["specificity"] == pytest.approx(tnr, abs=1e-12)
        assert row["falsePositiveRate"] == pytest.approx(1 - tnr, abs=1e-12)


@pytest.fixture
def random_client(tmp_path: Path) -> Iterator[tuple[TestClient, list[tuple[Any, Any, Any]]]]:
    table = random_table(5, 400)
    ingest_table(tmp_path, table, "r", "v1", "test",
                 IngestOptions(labels=tuple(RANDOM_LABELS)), source="random")
    rows = list(zip(table["actual"].to_pylist(), table["predicted"].to_pylist(),
                    table["confidence"].to_pylist(), strict=True))
    with TestClient(create_app(tmp_path)) as client:
        yield client, rows


def ask(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    return client.post("/graphql", json={"query": query, "variables": variables}).json()


@pytest.mark.parametrize("t", [0.0, 0.6])
@pytest.mark.parametrize("labels", [None, RANDOM_LABELS[:2]])
def test_agreement_equals_scikit_learn_on_a_random_split(random_client, t, labels) -> None:
    client, rows = random_client
    m = data(ask(client, AGREEMENT % "r", t=t, labels=labels, beta=0.7))
    check_page(m, expected(rows, list(RANDOM_LABELS), t, labels, 0.7))


F1_INTERVAL = """query($average: Average!, $seed: Int!, $resamples: Int!, $level: Float!) {
  model(name: "r") { run(name: "v1") { split(name: "test") { metrics {
    f1(average: $average)
    f1Interval(average: $average, seed: $seed, resamples: $resamples, level: $level) {
      low high level
    }
} } } } }"""


@pytest.mark.parametrize("average", ["MACRO", "MICRO", "WEIGHTED"])
def test_f1_interval_is_reproducible_by_seed_and_contains_the_estimate(
    random_client, average: str
) -> None:
    client, _ = random_client
    args = {"average": average, "resamples": 500, "level": 0.9}
    first = data(ask(client, F1_INTERVAL, seed=7, **args))
    again = data(ask(client, F1_INTERVAL, seed=7, **args))
    other = data(ask(client, F1_INTERVAL, seed=8, **args))
    assert first == again
    assert first["f1Interval"] != other["f1Interval"]
    interval = first["f1Interval"]
    assert interval["level"] == 0.9
    assert interval["low"] <= first["f1"] <= interval["high"]
    assert interval["low"] < interval["high"]


def error(body: dict[str, Any]) -> tuple[str, str]:
    [e] = body["errors"]
    return e["extensions"]["code"], e["message"]


def test_f1_interval_bounds_its_resamples_and_its_time(random_client, monkeypatch) -> None:
    client, _ = random_client
    args = {"average": "MACRO", "seed": 0, "level": 0.95}
    code, message = error(ask(client, F1_INTERVAL, resamples=limits.MAX_RESAMPLES + 1, **args))
    assert code == "BAD_USER_INPUT" and "resamples" in message
    assert error(ask(client, F1_INTERVAL, resamples=0, **args))[0] == "BAD_USER_INPUT"
    assert error(ask(client, F1_INTERVAL, resamples=10, seed=0, average="MACRO",
                     level=1.0))[0] == "BAD_USER_INPUT"
    monkeypatch.setattr(limits, "MAX_INTERVAL_SECONDS", 0.0)
    code, message = error(ask(client, F1_INTERVAL, resamples=10, **args))
    assert code == "COST_LIMIT" and "f1Interval" in message


def test_mcnemar_p_value_equals_scipys_exact_binomial_test(tmp_path: Path) -> None:
    client = client_for(tmp_path, {"v1": table_of([r[:4] for r in ROWS]),
                                   "v2": table_of(CANDIDATE)})
    query = """query($b: SplitRef!, $c: SplitRef!, $t: Float!) {
      compare(baseline: $b, candidate: $c, threshold: $t) { fixed regressed mcnemarPValue }
    }"""
    with client:
        for t in (0.0, 0.5, 0.85):
            body = ask(client, query, b=V1, c=V2, t=t)
            assert "errors" not in body, body
            c = body["data"]["compare"]
            n = c["fixed"] + c["regressed"]
            want = 1.0 if n == 0 else binomtest(c["fixed"], n, 0.5).pvalue
            assert c["mcnemarPValue"] == pytest.approx(want, rel=1e-12)


RECALL = """query($label: String!, $min: Float!) {
  model(name: "m") { run(name: "v1") { split(name: "test") { metrics {
    thresholdForRecall(label: $label, minRecall: $min) {
      threshold recall precision metrics { threshold }
    }
} } } } }"""


@pytest.mark.parametrize("label", SMALL_LABELS)
@pytest.mark.parametrize("min_recall", [0.0, 0.3, 0.5, 0.7, 1.0])
def test_threshold_for_recall_is_the_highest_reaching_the_recall(
    gql: Query, label: str, min_recall: float
) -> None:
    body = gql(RECALL, label=label, min=min_recall)
    assert "errors" not in body, body
    chosen = body["data"]["model"]["run"]["split"]["metrics"]["thresholdForRecall"]
    support = sum(a == label for _, a, _, _, _, _ in ROWS)

    def recall(t: float) -> float:
        hits = sum(a == label and p == label and c is not None and np.float32(c) >= np.float32(t)
                   for _, a, p, c, _, _ in ROWS)
        return hits / support

    candidates = [1.0, *(float(np.float32(c)) for _, _, p, c, _, _ in ROWS if p == label)]
    reaching = [t for t in candidates if recall(t) >= min_recall]
    if not reaching:
        assert chosen is None
        return
    best = max(reaching)
    assert chosen["threshold"] == pytest.approx(best, abs=1e-7)
    assert chosen["metrics"]["threshold"] == chosen["threshold"]
    assert chosen["recall"] == pytest.approx(recall(best), abs=1e-12)


def test_threshold_for_recall_refuses_a_recall_outside_0_1(gql: Query) -> None:
    body = gql(RECALL, label="A", min=1.5)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


MULTILABEL = """query($t: Float!, $beta: Float!) {
  model(name: "tags") { run(name: "v1") { split(name: "test") { metrics(threshold: $t) {
    balancedAccuracy matthewsCorrcoef cohenKappa accuracyInterval { low }
    f1Interval { low }
    macro: fBeta(beta: $beta) micro: fBeta(beta: $beta, average: MICRO)
    weighted: fBeta(beta: $beta, average: WEIGHTED)
    perLabel { label specificity falsePositiveRate precisionInterval { low high }
               tp fp }
} } } } }"""


@pytest.mark.parametrize("t", [0.0, 0.5])
def test_multilabel_f_beta_and_specificity_from_per_label_counts(tmp_path: Path, t) -> None:
    names = ["billing", "bug", "refund", "urgent"]
    rows = random_rows(4)
    ingest_table(tmp_path, pa.table(rows), "tags", "v1", "test",
                 IngestOptions(task="multilabel", labels=tuple(names)), source="tags")
    n = len(rows["id"])
    actual, kept = np.zeros((n, len(names)), bool), np.zeros((n, len(names)), bool)
    for i in range(n):
        for name in rows["actual"][i]:
            actual[i, names.index(name)] = True
        for name, c in zip(rows["predicted"][i], rows["confidence"][i], strict=True):
            kept[i, names.index(name)] = np.float32(c) >= np.float32(t)
    with TestClient(create_app(tmp_path)) as client:
        m = data(ask(client, MULTILABEL, t=t, beta=2.0))
    for name in ("balancedAccuracy", "matthewsCorrcoef", "cohenKappa", "accuracyInterval",
                 "f1Interval"):
        assert m[name] is None, name
    for how in ("macro", "micro", "weighted"):
        want = fbeta_score(actual, kept, beta=2.0, average=how, zero_division=0)
        assert m[how] == pytest.approx(want, abs=1e-12), how
    for j, row in enumerate(m["perLabel"]):
        tnr = float(np.mean(~kept[~actual[:, j], j]))
        assert row["specificity"] == pytest.approx(tnr, abs=1e-12)
        assert row["falsePositiveRate"] == pytest.approx(1 - tnr, abs=1e-12)
        low, high = wilson(row["tp"], row["tp"] + row["fp"], 0.95)
        assert (row["precisionInterval"]["low"], row["precisionInterval"]["high"]) == (
            pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))
