"""Drill-down through GraphQL: the rows behind every count, paged with cursors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.storage.ingest import IngestOptions, ingest_table
from tests.api.conftest import Query

# Every test runs on the index path and on the scan path (conftest.index_path).
pytestmark = pytest.mark.usefixtures("index_path")

SPLIT = '{ model(name: "m") { run(name: "v1") { split(name: "test") { %s } } } }'
LABELS = ["A", "B", "C", "D"]


def data(body: dict) -> Any:
    assert "errors" not in body, body
    return body["data"]["model"]["run"]["split"]


def ids(connection: dict) -> list[str]:
    return [node["id"] for node in connection["nodes"]]


def error_code(body: dict) -> str:
    assert len(body.get("errors", [])) == 1, body
    return body["errors"][0]["extensions"]["code"]


# --- the hand-checked store (tests/api/conftest.py ROWS) ----------------------


def test_a_cell_lists_its_rows_by_confidence(gql: Query) -> None:
    m = data(gql(SPLIT % """metrics {
        desc: rows(actual: "A", predicted: "A") { totalCount nodes { id confidence correct } }
        asc: rows(actual: "A", predicted: "A", orderBy: CONFIDENCE_ASC) { nodes { id } }
    }"""))["metrics"]
    assert m["desc"]["totalCount"] == 2
    assert m["desc"]["nodes"] == [
        {"id": "r0", "confidence": pytest.approx(0.9), "correct": True},
        {"id": "r7", "confidence": pytest.approx(0.3), "correct": True},
    ]
    assert ids(m["asc"]) == ["r7", "r0"]


def test_none_cells_are_reached_through_outcomes_and_explicit_nulls(gql: Query) -> None:
    m = data(gql(SPLIT % """metrics(threshold: 0.5) {
        abstained: rows(actual: "A", outcome: ABSTAINED) { totalCount nodes { id actual predicted confidence correct } }
        unlabeled: rows(predicted: "A", outcome: UNLABELED) { nodes { id actual predicted } }
        nullActual: rows(actual: null, predicted: "A") { nodes { id } }
        nullPredicted: rows(actual: "C", predicted: null) { nodes { id } }
    }"""))["metrics"]
    assert m["abstained"] == {"totalCount": 1, "nodes": [
        {"id": "r7", "actual": "A", "predicted": None, "confidence": pytest.approx(0.3), "correct": False}
    ]}
    assert m["unlabeled"]["nodes"] == [{"id": "r4", "actual": None, "predicted": "A"}]
    assert ids(m["nullActual"]) == ["r4"]
    assert ids(m["nullPredicted"]) == ["r5"]


def test_outcomes_partition_the_rows(gql: Query) -> None:
    m = data(gql(SPLIT % """metrics {
        total
        correct: rows(outcome: CORRECT) { totalCount nodes { id } }
        incorrect: rows(outcome: INCORRECT) { totalCount nodes { id } }
        abstained: rows(outcome: ABSTAINED) { totalCount nodes { id } }
        unlabeled: rows(outcome: UNLABELED) { totalCount nodes { id } }
    }"""))["metrics"]
    assert ids(m["correct"]) == ["r0", "r2", "r5", "r7"]
    assert ids(m["incorrect"]) == ["r6", "r1"]
    assert ids(m["abstained"]) == ["r3"]
    assert ids(m["unlabeled"]) == ["r4"]
    parts = ("correct", "incorrect", "abstained", "unlabeled")
    assert sum(m[k]["totalCount"] for k in parts) == m["total"]


def test_a_label_lists_its_true_and_false_positives_and_negatives(gql: Query) -> None:
    m = data(gql(SPLIT % """metrics { label(name: "A") {
        tp fp fn tn
        TP: rows(outcome: TP) { totalCount nodes { id } }
        FP: rows(outcome: FP) { totalCount nodes { id } }
        FN: rows(outcome: FN) { totalCount nodes { id } }
        TN: rows(outcome: TN, orderBy: ID) { totalCount nodes { id } }
    } }"""))["metrics"]["label"]
    assert ids(m["TP"]) == ["r0", "r7"]
    assert ids(m["FP"]) == ["r6", "r4"]
    assert ids(m["FN"]) == ["r1"]
    assert ids(m["TN"]) == ["r2", "r3", "r5"]
    for outcome in ("tp", "fp", "fn", "tn"):
        assert m[outcome.upper()]["totalCount"] == m[outcome]


def test_class_filter_keeps_its_labels_rows_and_the_none_row_on_request(gql: Query) -> None:
    m = data(gql(SPLIT % """metrics(labels: ["C", "A"]) {
        total
        all: rows { totalCount }
        unlabeled: rows(outcome: UNLABELED) { nodes { id } }
        outside: rows(actual: "B") { totalCount }
        toOutside: rows(actual: "A", predicted: "B") { nodes { id } }
    }"""))["metrics"]
    assert m["all"]["totalCount"] == m["total"] == 5
    assert ids(m["unlabeled"]) == ["r4"]
    assert m["outside"]["totalCount"] == 0
    assert ids(m["toOutside"]) == ["r1"]


def test_where_restricts_the_rows(gql: Query) -> None:
    m = data(gql(SPLIT % """metrics(where: [{column: "channel", in: ["email"]}]) {
        rows { totalCount nodes { id } }
    }"""))["metrics"]
    assert m["rows"]["totalCount"] == 4
    assert ids(m["rows"]) == ["r6", "r0", "r2", "r4"]


def test_pages_follow_the_end_cursor(gql: Query) -> None:
    query = SPLIT % """metrics { rows(orderBy: ID, first: 3, after: $after) {
        totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"""
    query = "query($after: String) " + query
    seen, after = [], None
    while True:
        page = data(gql(query, after=after))["metrics"]["rows"]
        assert page["totalCount"] == 8
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"r{i}" for i in range(8)]


def test_fields_return_metadata_as_ingested(gql: Query) -> None:
    m = data(gql(SPLIT % """metrics { rows(orderBy: ID, first: 1) { nodes {
        all: fields some: fields(names: ["length"]) } } }"""))["metrics"]
    node = m["rows"]["nodes"][0]
    assert node["all"] == {"channel": "email", "length": 10}
    assert node["some"] == {"length": 10}


@pytest.mark.parametrize("first", [0, 1001, -5])
def test_first_outside_one_to_a_thousand_is_bad_user_input(gql: Query, first: int) -> None:
    body = gql(SPLIT % f"metrics {{ rows(first: {first}) {{ totalCount }} }}")
    assert error_code(body) == "BAD_USER_INPUT"
    assert "first" in body["errors"][0]["message"]


@pytest.mark.parametrize("cursor", ["garbage", "", "AAAA", "ATEyMzQ1Njc4__________w", "%%%"])
def test_a_malformed_cursor_is_bad_user_input(gql: Query, cursor: str) -> None:
    body = gql("query($c: String) " + SPLIT % "metrics { rows(after: $c) { totalCount } }", c=cursor)
    assert error_code(body) == "BAD_USER_INPUT"
    assert "cursor" in body["errors"][0]["message"]


def test_a_cursor_of_another_query_is_bad_user_input(gql: Query) -> None:
    first = data(gql(SPLIT % 'metrics { rows(actual: "A", first: 1) { pageInfo { endCursor } } }'))
    cursor = first["metrics"]["rows"]["pageInfo"]["endCursor"]
    others = [
        'metrics { rows(actual: "B", after: $c) { totalCount } }',
        'metrics { rows(actual: "A", orderBy: CONFIDENCE_ASC, after: $c) { totalCount } }',
        'metrics(threshold: 0.5) { rows(actual: "A", after: $c) { totalCount } }',
        'metrics(where: [{column: "length", gt: 1}]) { rows(actual: "A", after: $c) { totalCount } }',
        'metrics { label(name: "A") { rows(outcome: FP, after: $c) { totalCount } } }',
    ]
    for other in others:
        body = gql("query($c: String) " + SPLIT % other, c=cursor)
        assert error_code(body) == "BAD_USER_INPUT", other
        assert "different query" in body["errors"][0]["message"]
    same = gql("query($c: String) " + SPLIT % 'metrics { rows(actual: "A", after: $c) { nodes { id } } }', c=cursor)
    assert ids(data(same)["metrics"]["rows"]) == ["r1", "r7"]


def test_unknown_labels_and_columns_are_bad_user_input(gql: Query) -> None:
    for field in ('rows(actual: "Z") { totalCount }', 'rows(predicted: "Z") { totalCount }',
                  'rows { nodes { fields(names: ["nope"]) } }'):
        body = gql(SPLIT % f"metrics {{ {field} }}")
        assert error_code(body) == "BAD_USER_INPUT", field


# --- random stores: every cell, every order, both selection paths ------------


def random_table(seed: int, n: int = 300) -> pa.Table:
    """Labels, predictions, round confidences (many ties), and metadata of every kind."""
    rng = np.random.default_rng(seed)
    names = np.array(LABELS, dtype=object)
    actual = names[rng.integers(0, len(LABELS), n)]
    actual[rng.random(n) < 0.1] = None
    predicted = names[rng.integers(0, len(LABELS), n)]
    predicted[rng.random(n) < 0.1] = None
    confidence = rng.choice([0.2, 0.5, 0.7, 0.9, 1.0], n)
    score = rng.normal(50, 20, n)
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    when = (start + rng.integers(0, 60 * 86_400, n)) * 1_000_000
    return pa.table({
        "id": pa.array([f"id-{i}" for i in rng.permutation(n)]),
        "actual": pa.array(actual.tolist(), pa.string()),
        "predicted": pa.array(predicted.tolist(), pa.string()),
        "confidence": pa.array(confidence),
        "group": pa.array(rng.choice(["x", "y", "z", None], n, p=[0.5, 0.3, 0.15, 0.05]).tolist()),
        "score": pa.array(score, mask=rng.random(n) < 0.05),
        "count": pa.array(rng.integers(0, 10, n), pa.int32()),
        "when": pa.array(when.astype(np.int64), pa.timestamp("us", tz="UTC")),
        "flag": pa.array(rng.random(n) < 0.3),
    })


@contextmanager
def random_store(root: Path) -> Iterator[tuple[Query, pa.Table]]:
    """A store with one split of ``random_table``, and a query function over it."""
    table = random_table(11)
    ingest_table(root, table, "m", "v1", "test", IngestOptions(labels=tuple(LABELS)), source="random")
    with TestClient(create_app(Path(root))) as client:

        def run(query: str, **variables: Any) -> dict[str, Any]:
            return client.post("/graphql", json={"query": query, "variables": variables}).json()

        yield run, table


@pytest.fixture(scope="module")
def random_gql(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Query, pa.Table]]:
    with random_store(tmp_path_factory.mktemp("random")) as store:
        yield store


VIEWS = [
    "threshold: 0", "threshold: 0.7", 'threshold: 0.5, labels: ["C", "A"]',
    'threshold: 0.5, where: [{column: "group", in: ["x", "z"]}]',
    'threshold: 0.9, labels: ["D", "B"], where: [{column: "count", lt: 6}]',
]


@pytest.mark.parametrize("view", VIEWS)
def test_total_count_equals_the_matrix_cell_for_every_cell(
    random_gql: tuple[Query, pa.Table], view: str
) -> None:
    gql, _ = random_gql
    matrix = data(gql(SPLIT % f"metrics({view}) {{ confusionMatrix {{ labels counts }} }}"))
    names, counts = matrix["metrics"]["confusionMatrix"].values()
    aliases = []
    for i, a in enumerate(names):
        for j, p in enumerate(names):
            actual = "null" if a is None else f'"{a}"'
            predicted = "null" if p is None else f'"{p}"'
            aliases.append(f"c{i}_{j}: rows(actual: {actual}, predicted: {predicted}, first: 1) {{ totalCount }}")
    # The SPEC's spellings of the None cells.
    for i, a in enumerate(names[:-1]):
        aliases.append(f'n{i}: rows(actual: "{a}", outcome: ABSTAINED, first: 1) {{ totalCount }}')
        aliases.append(f'u{i}: rows(predicted: "{a}", outcome: UNLABELED, first: 1) {{ totalCount }}')
    found: dict[str, Any] = {}
    for start in range(0, len(aliases), 30):  # under the alias limit
        part = " ".join(aliases[start:start + 30])
        found |= data(gql(SPLIT % f"metrics({view}) {{ {part} }}"))["metrics"]
    last = len(names) - 1
    for i in range(len(names)):
        for j in range(len(names)):
            assert found[f"c{i}_{j}"]["totalCount"] == counts[i][j], (names[i], names[j])
        if i < last:
            assert found[f"n{i}"]["totalCount"] == counts[i][last]
            assert found[f"u{i}"]["totalCount"] == counts[last][i]


@pytest.mark.parametrize("view", VIEWS)
def test_label_rows_count_tp_fp_fn_tn(random_gql: tuple[Query, pa.Table], view: str) -> None:
    gql, _ = random_gql
    kinds = ("tp", "fp", "fn", "tn")
    rows = " ".join(f"{o}Rows: rows(outcome: {o.upper()}, first: 1) {{ totalCount }}" for o in kinds)
    m = data(gql(SPLIT % f"metrics({view}) {{ perLabel {{ tp fp fn tn {rows} }} }}"))
    for label in m["metrics"]["perLabel"]:
        for outcome in kinds:
            assert label[f"{outcome}Rows"]["totalCount"] == label[outcome], label


def walk(gql: Query, view: str, selection: str, order: str, first: int) -> tuple[list[str], set[int]]:
    query = "query($after: String) " + SPLIT % (
        f"metrics({view}) {{ rows({selection} orderBy: {order}, first: {first}, after: $after) {{"
        " totalCount nodes { id } pageInfo { hasNextPage endCursor } } }"
    )
    seen: list[str] = []
    totals: set[int] = set()
    after = None
    while True:
        page = data(gql(query, after=after))["metrics"]["rows"]
        seen += ids(page)
        totals.add(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            return seen, totals
        after = page["pageInfo"]["endCursor"]


def expected_ids(table: pa.Table, order: str, keep: np.ndarray) -> list[str]:
    confidence = table["confidence"].to_numpy().astype(np.float32)
    rows = np.flatnonzero(keep)
    ids_ = table["id"].to_pylist()
    if order == "ID":
        return sorted(ids_[i] for i in rows)
    sign = -1.0 if order == "CONFIDENCE_DESC" else 1.0
    return [ids_[i] for i in sorted(rows, key=lambda i: (sign * float(confidence[i]), i))]


@pytest.mark.parametrize("order", ["CONFIDENCE_DESC", "CONFIDENCE_ASC", "ID"])
@pytest.mark.parametrize("where", ["", 'where: [{column: "group", in: ["x", "y"]}]'])
def test_paging_returns_every_row_once_in_order(
    random_gql: tuple[Query, pa.Table], order: str, where: str
) -> None:
    gql, table = random_gql
    view = f"threshold: 0.7 {where}".strip()
    in_view = np.ones(table.num_rows, dtype=bool)
    if where:
        in_view = np.isin(np.array(table["group"].to_pylist(), dtype=object), ["x", "y"])
    actual = np.array(table["actual"].to_pylist(), dtype=object)
    predicted = np.array(table["predicted"].to_pylist(), dtype=object)
    kept = table["confidence"].to_numpy().astype(np.float32) >= np.float32(0.7)
    answered = np.where(kept, predicted, None)
    cases = {
        "": in_view,
        "outcome: INCORRECT,": in_view & (actual != None) & (answered != None) & (actual != answered),  # noqa: E711
        'actual: "B", outcome: ABSTAINED,': in_view & (actual == "B") & (answered == None),  # noqa: E711
    }
    for selection, keep in cases.items():
        seen, totals = walk(gql, view, selection, order, first=7)
        assert seen == expected_ids(table, order, keep), selection
        assert totals == {int(keep.sum())}


def test_a_row_without_a_prediction_has_no_confidence(gql) -> None:
    body = gql('{ model(name: "m") { run(name: "v1") { split(name: "test") { metrics {'
               ' rows(actual: "B", outcome: ABSTAINED) { nodes { id predicted confidence } } } } } } }')
    nodes = body["data"]["model"]["run"]["split"]["metrics"]["rows"]["nodes"]
    assert nodes == [{"id": "r3", "predicted": None, "confidence": None}]
