"""Insights through the API: a clean split has none, the Trust issue's
719-row split gets its confusion, overfitting finds the sibling split
through the catalog, each insight's evidence passed straight back shows it,
and the demo shows every kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.storage.demo import PRIORITY_MODEL, build_demo
from evalql.storage.ingest import IngestOptions, ingest_table

KINDS = {
    "confusion", "low_recall", "low_precision", "abstention", "unlabeled", "overfitting",
    "high_confidence_errors", "calibration", "class_imbalance", "low_support",
}
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

INSIGHTS = """query($model: String!, $run: String!, $split: String!, $t: Float!,
                    $labels: [String!], $where: [RowFilter!]) {
  model(name: $model) { run(name: $run) { split(name: $split) {
    metrics(threshold: $t, labels: $labels, where: $where) {
      insights { kind severity labels message value
                 evidence { split threshold labels where rows label labelRows } }
} } } } }"""


def table(actual: list[str | None], predicted: list[str | None], confidence: list[float],
          channel: list[str] | None = None) -> pa.Table:
    n = len(actual)
    columns = {
        "id": pa.array([f"r{i}" for i in range(n)]),
        "actual": pa.array(actual, pa.string()),
        "predicted": pa.array(predicted, pa.string()),
        "confidence": pa.array(confidence, pa.float64()),
    }
    if channel is not None:
        columns["channel"] = pa.array(channel)
    return pa.table(columns)


def perfect(labels: tuple[str, ...], per_label: int, channel: bool = True) -> pa.Table:
    actual = [name for name in labels for _ in range(per_label)]
    channels = ["email" if i % 2 else "chat" for i in range(len(actual))] if channel else None
    return table(actual, actual, [1.0] * len(actual), channels)


def digits_719() -> pa.Table:
    """The issue's validation split: 719 rows of ten digits, every row right
    at confidence 0.99 but 9 of the 70 "eight" rows, predicted "one" at 0.6."""
    support = [71, 73, 71, 73, 72, 72, 72, 72, 70, 73]
    actual, predicted, confidence = [], [], []
    for name, n in zip(DIGITS, support, strict=True):
        wrong = 9 if name == "eight" else 0
        actual += [name] * n
        predicted += ["one"] * wrong + [name] * (n - wrong)
        confidence += [0.6] * wrong + [0.99] * (n - wrong)
    return table(actual, predicted, confidence)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    def add(model: str, run: str, split: str, t: pa.Table) -> None:
        ingest_table(tmp_path, t, model, run, split, IngestOptions(), source="test")

    add("clean", "v1", "train", perfect(("a", "b", "c"), 400))
    add("clean", "v1", "test", perfect(("a", "b", "c"), 200))
    add("digits", "v1", "validation", digits_719())
    # train is perfect, test right 60% of the time; train has no channel column.
    add("split-pair", "v1", "train", perfect(("a", "b"), 300, channel=False))
    actual = ["a", "b"] * 200
    predicted = [x if i % 5 < 3 else ("b" if x == "a" else "a") for i, x in enumerate(actual)]
    add("split-pair", "v1", "test",
        table(actual, predicted, [0.7] * 400, ["chat", "email"] * 200))
    with TestClient(create_app(tmp_path)) as c:
        yield c


def insights_of(client: TestClient, model: str, split: str, run: str = "v1", t: float = 0.0,
                **args: Any) -> list[dict[str, Any]]:
    variables = {"model": model, "run": run, "split": split, "t": t, **args}
    body = client.post("/graphql", json={"query": INSIGHTS, "variables": variables}).json()
    assert "errors" not in body, body
    return body["data"]["model"]["run"]["split"]["metrics"]["insights"]


def test_a_clean_split_has_no_insight(client: TestClient) -> None:
    assert insights_of(client, "clean", "test") == []
    assert insights_of(client, "clean", "train") == []


def test_the_719_row_split_of_the_issue_gets_its_confusion_and_nothing_else(
    client: TestClient,
) -> None:
    [found] = insights_of(client, "digits", "validation")
    assert found["kind"] == "confusion" and found["labels"] == ["eight", "one"]
    assert found["value"] == pytest.approx(9 / 70)
    assert found["message"] == (
        '13% of "eight" rows (9 of 70) are predicted as "one" (95% interval 7%–23%)'
    )
    assert found["evidence"]["rows"] == {
        "actual": "eight", "predicted": "one", "orderBy": "CONFIDENCE_DESC",
    }


def test_overfitting_compares_the_training_split_of_the_same_run(client: TestClient) -> None:
    on_test = [i for i in insights_of(client, "split-pair", "test") if i["kind"] == "overfitting"]
    on_train = [i for i in insights_of(client, "split-pair", "train")
                if i["kind"] == "overfitting"]
    assert len(on_test) == len(on_train) == 1
    assert on_test[0]["value"] == pytest.approx(0.4) == on_train[0]["value"]
    assert on_test[0]["evidence"]["split"] == "train"
    assert on_train[0]["evidence"]["split"] == "test"
    assert on_test[0]["message"] == (
        '100% of rows are right on "train" but 60% on "test" (same run): '
        "the model may be overfitting"
    )


def test_overfitting_is_left_out_when_the_sibling_lacks_a_filtered_column(
    client: TestClient,
) -> None:
    where = [{"column": "channel", "in": ["chat"]}]
    found = insights_of(client, "split-pair", "test", where=where)
    assert "overfitting" not in {i["kind"] for i in found}
    assert all(i["evidence"]["where"] == where for i in found)


ROWS = """query($split: String!, $t: Float!, $labels: [String!], $where: [RowFilter!],
               $actual: String, $predicted: String, $outcome: Outcome, $orderBy: RowOrder!) {
  model(name: "%s") { run(name: "v1") { split(name: $split) {
    metrics(threshold: $t, labels: $labels, where: $where) {
      accuracy
      rows(actual: $actual, predicted: $predicted, outcome: $outcome, orderBy: $orderBy,
           first: 1000) { totalCount nodes { confidence } }
} } } } }""" % PRIORITY_MODEL

LABEL_ROWS = """query($split: String!, $t: Float!, $labels: [String!], $where: [RowFilter!],
                     $label: String!, $outcome: LabelOutcome!, $orderBy: RowOrder!) {
  model(name: "%s") { run(name: "v1") { split(name: $split) {
    metrics(threshold: $t, labels: $labels, where: $where) {
      label(name: $label) { support predicted tp recallInterval { low high }
                            rows(outcome: $outcome, orderBy: $orderBy) { totalCount } }
} } } } }""" % PRIORITY_MODEL


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("demo")
    build_demo(root)
    with TestClient(create_app(root)) as c:
        yield c


def back(client: TestClient, query: str, evidence: dict[str, Any], **more: Any) -> dict:
    """Pass an insight's evidence straight back as variables."""
    variables = {"split": evidence["split"], "t": evidence["threshold"],
                 "labels": evidence["labels"], "where": evidence["where"], **more}
    body = client.post("/graphql", json={"query": query, "variables": variables}).json()
    assert "errors" not in body, body
    return body["data"]["model"]["run"]["split"]["metrics"]


@pytest.mark.parametrize("t", [0.0, 0.95])
def test_each_insight_s_evidence_passed_back_shows_it(demo: TestClient, t: float) -> None:
    found = insights_of(demo, PRIORITY_MODEL, "test", t=t)
    for insight in found:
        e, kind = insight["evidence"], insight["kind"]
        if e["rows"] is not None:
            shown = back(demo, ROWS, e, **e["rows"])["rows"]
            assert shown["totalCount"] > 0, kind
            if kind == "high_confidence_errors":
                # The first rows listed are the confident mistakes the message counts.
                wrong = int(insight["message"].split(" ")[0])
                confidences = [n["confidence"] for n in shown["nodes"]]
                assert all(c > 0.9 for c in confidences[:wrong]), kind
                assert all(c <= 0.9 for c in confidences[wrong:]), kind
        if e["labelRows"] is not None:
            shown = back(demo, LABEL_ROWS, e, label=e["label"], **e["labelRows"])["label"]
            assert shown["rows"]["totalCount"] > 0, kind
        if kind == "low_support":
            shown = back(demo, LABEL_ROWS, e, label=e["label"], outcome="FN",
                         orderBy="CONFIDENCE_DESC")["label"]
            interval = shown["recallInterval"]
            assert interval["high"] - interval["low"] == pytest.approx(insight["value"])
        if kind == "overfitting":
            # value is training accuracy minus this split's, each as metrics gives it.
            assert e["split"] == "train"
            train = back(demo, ROWS, e, orderBy="ID")["accuracy"]
            here = back(demo, ROWS, {**e, "split": "test"}, orderBy="ID")["accuracy"]
            assert insight["value"] == pytest.approx(train - here)


DEMO_VIEWS = [
    (PRIORITY_MODEL, "v1", "test", 0.0),
    (PRIORITY_MODEL, "v1", "test", 0.95),
    ("support-intent", "v1", "validation", 0.5),
    ("support-tags", "v1", "validation", 0.5),
]


def test_the_demo_shows_every_kind(demo: TestClient) -> None:
    shown = {}
    for model, run, split, t in DEMO_VIEWS:
        shown[model, t] = {i["kind"] for i in insights_of(demo, model, split, run=run, t=t)}
    assert set().union(*shown.values()) == KINDS
    # The small model's test split alone shows all but abstention at 0, and
    # abstention once the threshold is raised.
    assert shown[PRIORITY_MODEL, 0.0] == KINDS - {"abstention"}
    assert "abstention" in shown[PRIORITY_MODEL, 0.95]
    # Multilabel views have no top-label diagram or balanced accuracy.
    assert not shown["support-tags", 0.5] & {"calibration", "class_imbalance",
                                             "high_confidence_errors", "confusion"}


def test_insight_thresholds_agree_with_the_api_s_wilson_intervals(demo: TestClient) -> None:
    # The low_support rule reads the same interval LabelMetrics.recallInterval gives.
    found = insights_of(demo, PRIORITY_MODEL, "test")
    [support] = [i for i in found if i["kind"] == "low_support"]
    assert support["labels"] == ["urgent"]
    assert np.isclose(support["value"], 0.4495, atol=1e-4)


def test_many_weak_labels_give_a_few_insights_the_last_counting_the_rest(
    tmp_path: Path,
) -> None:
    # 60 labels of 100 rows; label j is found in 5 + j % 30 of them (the rest
    # left unanswered): every recall is low, the rarest finds the surest.
    names = [f"label-{j:02d}" for j in range(60)]
    actual, predicted = [], []
    for j, name in enumerate(names):
        found = 5 + j % 30
        actual += [name] * 100
        predicted += [name] * found + [None] * (100 - found)
    ingest_table(tmp_path, table(actual, predicted, [0.9] * len(actual)), "many", "v1",
                 "test", IngestOptions(), source="test")
    with TestClient(create_app(tmp_path)) as c:
        found = insights_of(c, "many", "test")
    weak = [i for i in found if i["kind"] == "low_recall"]
    # 5 found of 100 is the strongest evidence; labels 0 and 30 tie, as do 1 and 31.
    assert [i["labels"][0] for i in weak] == [
        "label-00", "label-30", "label-01", "label-31", "label-02"]
    assert weak[-1]["message"] == (
        '"label-02" is found in only 7% of its 100 rows (95% interval 3%–14%); '
        "55 more labels with low recall not listed"
    )
    assert all("more" not in i["message"] for i in weak[:-1])
