"""A multilabel model through GraphQL, against scikit-learn."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    hamming_loss,
    roc_auc_score,
)
from sklearn.preprocessing import MultiLabelBinarizer
from starlette.testclient import TestClient

from evalql.api import split_cache
from evalql.api.app import create_app
from evalql.storage.ingest import IngestOptions, ingest_table
from tests.oracle import sklearn_prf

# Every test runs on the index path and on the scan path (conftest.index_path).
pytestmark = pytest.mark.usefixtures("index_path")

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
    for key, average, metric in (("macro", "macro", 2), ("micro", "micro", 2), ("weighted", "weighted", 0)):
        expected = sklearn_prf(y, p, columns, average)[metric]
        assert m[key] == pytest.approx(expected), key
    per = sklearn_prf(y, p, columns, None)
    for i, row in enumerate(m["perLabel"]):
        assert row["support"] == per[3][i]
        assert row["tp"] + row["fp"] + row["fn"] + row["tn"] == keep.sum()
        assert (row["f1"] or 0.0) == pytest.approx(per[2][i])
    # counts[i][j]: rows with label i actual and j kept; diagonal = TP
    matrix = m["confusionMatrix"]["counts"]
    assert [matrix[i][i] for i in range(len(columns))] == [row["tp"] for row in m["perLabel"]]
    assert m["confusionMatrix"]["labels"] == [*(labels or LABELS), None]


# --- drill-down, ranking, curves, histogram, breakdown ---------------------------

SPLIT = 'model(name: "tags") { run(name: "v1") { split(name: "test") { %s } } }'


def ask(client: TestClient, body: str, **variables: object) -> dict:
    """Post ``{ model { run { split { body } } } }``; the split's data, or fail on errors."""
    params = ", ".join(f"${name}: {kind}" for name, kind in (
        ("t", "Float!"), ("labels", "[String!]"), ("where", "[RowFilter!]"),
        ("after", "String"), ("order", "RowOrder!"),
    ) if name in variables)
    query = f"query{'(' + params + ')' if params else ''} {{ {SPLIT % body} }}"
    response = client.post("/graphql", json={"query": query, "variables": variables}).json()
    assert "errors" not in response, response
    return response["data"]["model"]["run"]["split"]


def error_code(client: TestClient, body: str) -> str:
    response = client.post("/graphql", json={"query": "{ " + SPLIT % body + " }"}).json()
    assert response.get("data") is None or "errors" in response, response
    return response["errors"][0]["extensions"]["code"]


def kept_sets(rows: dict, t: float) -> list[dict[str, np.float32]]:
    """Each row's kept labels and their float32 confidences."""
    return [{p: np.float32(c) for p, c in zip(ps, cs, strict=True) if np.float32(c) >= np.float32(t)}
            for ps, cs in zip(rows["predicted"], rows["confidence"], strict=True)]


def in_view(rows: dict, channel: str | None) -> list[int]:
    return [i for i, c in enumerate(rows["channel"]) if channel is None or c == channel]


def ids(connection: dict) -> set[str]:
    assert connection["totalCount"] == len(connection["nodes"])
    return {node["id"] for node in connection["nodes"]}


LABEL_ROWS = """metrics(threshold: $t, labels: $labels, where: $where) { perLabel { label tp fp fn tn
  TP: rows(outcome: TP, first: 1000) { totalCount nodes { id } }
  FP: rows(outcome: FP, first: 1000) { totalCount nodes { id } }
  FN: rows(outcome: FN, first: 1000) { totalCount nodes { id } }
  TN: rows(outcome: TN, first: 1000) { totalCount nodes { id } } } }"""


@pytest.mark.parametrize("t", [0.0, 0.5])
@pytest.mark.parametrize("labels", [None, ["urgent", "billing"]])
@pytest.mark.parametrize("channel", [None, "chat"])
def test_a_labels_rows_are_exactly_its_tp_fp_fn_and_tn(served, t, labels, channel) -> None:
    client, rows = served
    where = None if channel is None else [{"column": "channel", "in": [channel]}]
    table = ask(client, LABEL_ROWS, t=t, labels=labels, where=where)["metrics"]["perLabel"]
    kept = kept_sets(rows, t)
    for entry in table:
        c = entry["label"]
        for outcome, actual_is, kept_is in (("TP", True, True), ("FP", False, True),
                                            ("FN", True, False), ("TN", False, False)):
            expected = {rows["id"][i] for i in in_view(rows, channel)
                        if (c in rows["actual"][i]) == actual_is and (c in kept[i]) == kept_is}
            assert entry[outcome]["totalCount"] == entry[outcome.lower()], (c, outcome)
            assert ids(entry[outcome]) == expected, (c, outcome)


EXACT_ROWS = """metrics(threshold: $t, labels: $labels, where: $where) { total correct predicted
  right: rows(outcome: CORRECT, first: 1000) { totalCount nodes { id correct } }
  wrong: rows(outcome: INCORRECT, first: 1000) { totalCount nodes { id correct } }
  abstained: rows(outcome: ABSTAINED, first: 1000) { totalCount }
  unlabeled: rows(outcome: UNLABELED, first: 1000) { totalCount }
  labelDistribution { label actual } }"""


@pytest.mark.parametrize("t", [0.0, 0.73])
@pytest.mark.parametrize("labels", [None, ["urgent", "billing"]])
@pytest.mark.parametrize("channel", [None, "email"])
def test_correct_rows_are_the_exact_matches_on_the_views_labels_and_incorrect_the_rest(
    served, t, labels, channel
) -> None:
    client, rows = served
    where = None if channel is None else [{"column": "channel", "in": [channel]}]
    m = ask(client, EXACT_ROWS, t=t, labels=labels, where=where)["metrics"]
    chosen = set(labels or LABELS)
    kept = kept_sets(rows, t)
    exact = {rows["id"][i] for i in in_view(rows, channel)
             if set(rows["actual"][i]) & chosen == set(kept[i]) & chosen}
    assert m["right"]["totalCount"] == m["correct"] and ids(m["right"]) == exact
    assert m["wrong"]["totalCount"] == m["total"] - m["correct"]
    assert ids(m["wrong"]) == {rows["id"][i] for i in in_view(rows, channel)} - exact
    assert all(n["correct"] for n in m["right"]["nodes"])
    assert not any(n["correct"] for n in m["wrong"]["nodes"])
    assert m["abstained"]["totalCount"] == m["total"] - m["predicted"]
    assert m["unlabeled"]["totalCount"] == m["labelDistribution"][-1]["actual"]


@pytest.mark.parametrize("labels", [None, ["urgent", "billing"]])
def test_every_matrix_cells_rows_are_as_many_as_its_count(served, labels) -> None:
    client, _ = served
    m = ask(client, "metrics(threshold: 0.5, labels: $labels) { confusionMatrix { labels counts } }",
            labels=labels)["metrics"]["confusionMatrix"]
    names = m["labels"]
    quoted = [json.dumps(name) for name in names]  # null for None
    for i, actual in enumerate(quoted):
        cells = " ".join(
            f"c{j}: rows(actual: {actual}, predicted: {predicted}, first: 1) {{ totalCount }}"
            for j, predicted in enumerate(quoted)
        )
        got = ask(client, f"metrics(threshold: 0.5, labels: $labels) {{ {cells} }}",
                  labels=labels)["metrics"]
        assert [got[f"c{j}"]["totalCount"] for j in range(len(names))] == m["counts"][i], names[i]
    # The SPEC's names for the None cells reach the same rows.
    first = quoted[0]
    got = ask(client, f"""metrics(threshold: 0.5, labels: $labels) {{
        a: rows(actual: {first}, outcome: ABSTAINED) {{ totalCount }}
        u: rows(predicted: {first}, outcome: UNLABELED) {{ totalCount }} }}""",
              labels=labels)["metrics"]
    assert got["a"]["totalCount"] == m["counts"][0][-1]
    assert got["u"]["totalCount"] == m["counts"][-1][0]


def walk(client: TestClient, connection: str, order: str, **variables: object) -> list[dict]:
    """Every page of ``connection`` (a Metrics field with $after and $order), 17 at a time."""
    nodes: list[dict] = []
    after = None
    while True:
        page = ask(client, f"metrics(threshold: 0.5) {{ {connection} }}",
                   after=after, order=order, **variables)["metrics"]
        while "pageInfo" not in page:  # descend through label(name:) { ... }
            page = next(iter(page.values()))
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            assert len(nodes) == page["totalCount"]
            return nodes
        after = page["pageInfo"]["endCursor"]


PAGE = "{ totalCount nodes { id confidence predictedLabels predictedConfidences } " \
       "pageInfo { hasNextPage endCursor } }"


@pytest.mark.parametrize("order", ["CONFIDENCE_DESC", "CONFIDENCE_ASC", "ID"])
def test_paging_returns_every_row_exactly_once_in_the_orders_sequence(served, order) -> None:
    client, rows = served
    position = {id_: i for i, id_ in enumerate(rows["id"])}
    kept = kept_sets(rows, 0.5)

    def expected(candidates: list[int], key) -> list[str]:
        if order == "ID":
            return sorted(rows["id"][i] for i in candidates)
        sign = -1 if order == "CONFIDENCE_DESC" else 1
        return [rows["id"][i] for i in sorted(candidates, key=lambda i: (sign * key(i), i))]

    wrong = walk(client, f"rows(outcome: INCORRECT, orderBy: $order, first: 17, after: $after) "
                         f"{PAGE}", order)
    candidates = [i for i in range(len(rows["id"])) if set(rows["actual"][i]) != set(kept[i])]
    top = [max(kept[i].values(), default=np.float32(0)) for i in range(len(rows["id"]))]
    assert [n["id"] for n in wrong] == expected(candidates, lambda i: top[i])
    for node in wrong:  # the order's key is the row's confidence (null: nothing kept)
        i = position[node["id"]]
        shown = node["confidence"]
        assert (shown is None) if not kept[i] else np.float32(shown) == top[i]

    negatives = walk(client, 'label(name: "bug") { rows(outcome: TN, orderBy: $order, first: 17, '
                             f'after: $after) {PAGE} }}', order)
    own = [dict(zip(ps, cs, strict=True)).get("bug", 0.0)
           for ps, cs in zip(rows["predicted"], rows["confidence"], strict=True)]
    candidates = [i for i in range(len(rows["id"]))
                  if "bug" not in rows["actual"][i] and "bug" not in kept[i]]
    assert [n["id"] for n in negatives] == expected(candidates, lambda i: np.float32(own[i]))


def test_rows_list_the_actual_labels_and_the_kept_ones_by_confidence(served) -> None:
    client, rows = served
    labels = ["urgent", "billing"]
    nodes = ask(client, """metrics(threshold: 0.5, labels: $labels) {
        rows(orderBy: ID, first: 1000) { nodes { id actual predicted confidence correct
          actualLabels predictedLabels predictedConfidences } } }""",
                labels=labels)["metrics"]["rows"]["nodes"]
    assert len(nodes) == len(rows["id"])
    kept = kept_sets(rows, 0.5)
    for node in nodes:
        i = rows["id"].index(node["id"])
        ranked = sorted(kept[i].items(), key=lambda item: (-item[1], LABELS.index(item[0])))
        assert node["actual"] is None and node["predicted"] is None
        assert node["actualLabels"] == sorted(rows["actual"][i], key=LABELS.index)
        assert node["predictedLabels"] == [label for label, _ in ranked]
        assert [np.float32(c) for c in node["predictedConfidences"]] == [c for _, c in ranked]
        if ranked:
            assert np.float32(node["confidence"]) == ranked[0][1]
        else:
            assert node["confidence"] is None
        on_s = set(labels)
        assert node["correct"] == (set(rows["actual"][i]) & on_s == set(kept[i]) & on_s)


RANKING = """metrics(where: $where) { meanAveragePrecision
  perLabel { label averagePrecision rocAuc } }"""


@pytest.mark.parametrize("channel", [None, "chat"])
def test_average_precision_and_roc_auc_equal_scikit_learn_on_the_indicator_column(
    served, channel
) -> None:
    client, rows = served
    where = None if channel is None else [{"column": "channel", "in": [channel]}]
    m = ask(client, RANKING, where=where)["metrics"]
    view = in_view(rows, channel)
    for entry in m["perLabel"]:
        c = entry["label"]
        truth = np.array([c in rows["actual"][i] for i in view])
        score = np.array([np.float32(dict(zip(rows["predicted"][i], rows["confidence"][i],
                                               strict=True)).get(c, 0.0)) for i in view])
        assert entry["averagePrecision"] == pytest.approx(average_precision_score(truth, score))
        assert entry["rocAuc"] == pytest.approx(roc_auc_score(truth, score))
    aps = [entry["averagePrecision"] for entry in m["perLabel"]]
    assert m["meanAveragePrecision"] == pytest.approx(np.mean(aps))


CURVE = """metrics(labels: $labels, where: $where) {
  curve(label: %s, points: 5) { threshold coverage accuracy selectiveAccuracy precision recall f1 } }
  %s"""
AT = """m%d: metrics(threshold: %s, labels: $labels, where: $where) { coverage accuracy
  selectiveAccuracy precision recall f1 label(name: "urgent") { precision recall f1 } }"""


@pytest.mark.parametrize("label", [None, "urgent"])
@pytest.mark.parametrize("labels", [None, ["urgent", "billing"]])
@pytest.mark.parametrize("channel", [None, "chat"])
def test_curve_points_equal_the_metrics_at_their_thresholds(served, label, labels, channel):
    client, _ = served
    where = None if channel is None else [{"column": "channel", "in": [channel]}]
    thresholds = [0.0, 0.25, 0.5, 0.75, 1.0]
    views = " ".join(AT % (j, t) for j, t in enumerate(thresholds))
    got = ask(client, CURVE % (json.dumps(label), views), labels=labels, where=where)
    for j, point in enumerate(got["metrics"]["curve"]):
        at = got[f"m{j}"]
        assert point["threshold"] == thresholds[j]
        ratios = at["label"] if label else at
        for name in ("coverage", "accuracy", "selectiveAccuracy"):
            assert point[name] == at[name], (j, name)
        for name in ("precision", "recall", "f1"):
            assert point[name] == ratios[name], (j, name)


def test_histogram_bins_from_the_threshold_up_add_up_to_predicted_and_tp(served) -> None:
    client, _ = served
    m = ask(client, """metrics(threshold: 0.5, labels: $labels) {
        confidenceHistogram(bins: 4) { low high count correct labeled }
        perLabel { predicted tp } total labeled }""",
            labels=["refund", "bug"])["metrics"]
    upper = [b for b in m["confidenceHistogram"] if b["low"] >= 0.5]
    assert sum(b["count"] for b in upper) == sum(e["predicted"] for e in m["perLabel"])
    assert sum(b["correct"] for b in upper) == sum(e["tp"] for e in m["perLabel"])
    # every multilabel row is labeled (an empty actual set is an answer)
    assert m["labeled"] == m["total"]
    assert all(b["labeled"] == b["count"] for b in m["confidenceHistogram"])


def test_breakdown_slices_are_the_view_with_the_slices_condition(served) -> None:
    client, _ = served
    fields = "total correct hammingScore f1(average: MICRO)"
    m = ask(client, f"""metrics(threshold: 0.5) {{ total breakdown(column: "channel") {{
        key count metrics {{ {fields} }} }} }}
        chat: metrics(threshold: 0.5, where: [{{column: "channel", in: ["chat"]}}]) {{ {fields} }}
        """)
    slices = {s["key"]: s for s in m["metrics"]["breakdown"]}
    assert sum(s["count"] for s in slices.values()) == m["metrics"]["total"]
    assert slices["chat"]["metrics"] == m["chat"]
    assert slices["chat"]["count"] == m["chat"]["total"]


def test_threshold_for_precision_is_a_threshold_where_the_label_reaches_it(served) -> None:
    client, _ = served
    m = ask(client, """metrics { thresholdForPrecision(label: "bug", minPrecision: 0.5) {
        threshold precision recall metrics { label(name: "bug") { precision recall } } } }""")
    choice = m["metrics"]["thresholdForPrecision"]
    assert choice["precision"] >= 0.5
    assert choice["metrics"]["label"] == {"precision": choice["precision"],
                                          "recall": choice["recall"]}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    """Three rows: "a" is actual everywhere (no negatives), "c" nowhere (no positives)."""
    root: Path = tmp_path_factory.mktemp("tiny")
    rows = {"id": ["x", "y", "z"], "actual": [["a", "b"], ["a"], ["a"]],
            "predicted": [["a", "c"], ["b"], []], "confidence": [[0.9, 0.4], [0.6], []],
            "channel": ["chat", "chat", "email"]}
    ingest_table(root, pa.table(rows), "tags", "v1", "test",
                 IngestOptions(task="multilabel", labels=("a", "b", "c")), source="tiny")
    with TestClient(create_app(root)) as client:
        yield client


def test_ranking_is_null_for_a_label_without_positives_or_negatives(tiny) -> None:
    m = ask(tiny, "metrics { meanAveragePrecision perLabel { label averagePrecision rocAuc } }")
    table = {e["label"]: e for e in m["metrics"]["perLabel"]}
    assert table["a"]["averagePrecision"] is None and table["a"]["rocAuc"] is None
    assert table["c"]["averagePrecision"] is None and table["c"]["rocAuc"] is None
    # "b": positive x scores 0 (not predicted), negatives y 0.6 and z 0.
    assert table["b"] == {"label": "b", "averagePrecision": pytest.approx(1 / 3), "rocAuc": 0.25}
    assert m["metrics"]["meanAveragePrecision"] == pytest.approx(1 / 3)


def test_a_row_shows_its_sets_at_the_threshold(tiny) -> None:
    m = ask(tiny, """metrics(threshold: 0.5) { rows(orderBy: ID) { nodes { id confidence correct
        actualLabels predictedLabels } } label(name: "c") { rows(outcome: TN) { totalCount } } }""")
    assert m["metrics"]["rows"]["nodes"] == [
        {"id": "x", "confidence": 0.9, "correct": False, "actualLabels": ["a", "b"],
         "predictedLabels": ["a"]},
        {"id": "y", "confidence": 0.6, "correct": False, "actualLabels": ["a"],
         "predictedLabels": ["b"]},
        {"id": "z", "confidence": None, "correct": False, "actualLabels": ["a"],
         "predictedLabels": []},
    ]
    assert m["metrics"]["label"]["rows"]["totalCount"] == 3  # "c" at 0.4 is dropped


@pytest.mark.parametrize("body", [
    'metrics { rows(first: 0) { totalCount } }',
    'metrics { rows(first: 1001) { totalCount } }',
    'metrics { rows(after: "not a cursor") { totalCount } }',
    'metrics { rows(actual: "nope") { totalCount } }',
    'metrics { rows(predicted: "nope") { totalCount } }',
    'metrics { label(name: "nope") { tp } }',
    'metrics { label(name: "a") { rows(outcome: FP, first: 0) { totalCount } } }',
    'metrics { curve(label: "nope") { f1 } }',
    'metrics { topKAccuracy(k: 1) }',
    'metrics(threshold: 1.5) { total }',
])
def test_bad_input_is_a_bad_user_input_error(tiny, body) -> None:
    assert error_code(tiny, body) == "BAD_USER_INPUT"


def test_a_cursor_of_another_query_is_refused(tiny) -> None:
    m = ask(tiny, 'metrics { label(name: "a") { rows(outcome: TP, first: 1) { pageInfo { '
                  'endCursor } } } }')
    cursor = m["metrics"]["label"]["rows"]["pageInfo"]["endCursor"]
    for other in ('label(name: "a") { rows(outcome: FN, after: "%s") { totalCount } }',
                  'label(name: "b") { rows(outcome: TP, after: "%s") { totalCount } }',
                  'rows(outcome: CORRECT, after: "%s") { totalCount }'):
        assert error_code(tiny, "metrics { " + other % cursor + " }") == "BAD_USER_INPUT"


def test_a_multilabel_split_compared_with_itself_changes_nothing(tiny) -> None:
    # Multilabel compare (exact match, per-label deltas): tests/api/test_compare.py.
    ref = '{model: "tags", run: "v1", split: "test"}'
    response = tiny.post("/graphql", json={"query": f"{{ compare(baseline: {ref}, "
                                                    f"candidate: {ref}) {{ fixed regressed "
                                                    "deltaHammingScore mcnemarPValue } }"}).json()
    assert response["data"]["compare"] == {"fixed": 0, "regressed": 0, "deltaHammingScore": 0.0,
                                           "mcnemarPValue": 1.0}


def test_once_the_index_is_built_views_answer_as_the_scan_does(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(split_cache, "MODE", "index")
    rows = random_rows(5, n=400)
    ingest_table(tmp_path, pa.table(rows), "tags", "v1", "test",
                 IngestOptions(task="multilabel", labels=tuple(LABELS)), source="tags")
    body = """metrics(threshold: $t, where: $where) { total predicted correct hammingScore
        selectiveAccuracy f1(average: MICRO) perLabel { tp fp fn tn } confusionMatrix { counts }
        curve(points: 11) { coverage accuracy f1 } }"""
    every_row = [{"column": "channel", "in": ["chat", "email"]}]  # a filter scans
    with TestClient(create_app(tmp_path)) as client:
        store = client.app.state.store  # type: ignore[attr-defined]
        data = store.load(store.catalog.split("tags", "v1", "test"))
        assert split_cache.label_set_index(data) is not None
        for t in (0.0, 0.3, 0.65, 1.0):
            assert ask(client, body, t=t, where=None) == ask(client, body, t=t, where=every_row)
