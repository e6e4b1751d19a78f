"""A model of 1,000 labels through GraphQL: the per-label table and the largest
confusion cells against scikit-learn, with the matrix counted dense and, past
the dense limit, sparse (``engine.cells``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from starlette.testclient import TestClient

from evalql.api import limits
from evalql.api.app import create_app
from evalql.storage.ingest import IngestOptions, ingest_table

pytestmark = pytest.mark.usefixtures("index_path")

K, N = 1_000, 6_000
NAMES = [f"l{i:04d}" for i in range(K)]


def reference(seed: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, K + 1) ** 1.1
    actual = rng.choice(K, N, p=weights / weights.sum())
    predicted = np.where(rng.random(N) < 0.6, actual, rng.choice(K, N, p=weights / weights.sum()))
    actual[rng.random(N) < 0.03] = K  # None
    predicted[rng.random(N) < 0.03] = K
    confidence = np.round(rng.random(N), 2).astype(np.float32)  # ties
    channel = rng.choice(["chat", "email"], N)
    return {"actual": actual, "predicted": predicted, "confidence": confidence,
            "channel": channel}


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict]]:
    c = reference()
    names = np.array([*NAMES, None], dtype=object)
    table = pa.table({
        "id": np.arange(N),
        "actual": pa.array(names[c["actual"]].tolist(), pa.string()),
        "predicted": pa.array(names[c["predicted"]].tolist(), pa.string()),
        "confidence": c["confidence"],
        "channel": c["channel"],
    })
    root = tmp_path_factory.mktemp("many")
    ingest_table(root, table, "m", "v1", "test", IngestOptions(labels=tuple(NAMES)),
                 source="many")
    with TestClient(create_app(root)) as client:
        yield client, c


def ask(client: TestClient, fields: str, t: float, labels: list[str] | None = None,
        where: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    query = ("query($t: Float!, $labels: [String!], $where: [RowFilter!]) { model(name: \"m\") "
             "{ run(name: \"v1\") { split(name: \"test\") { metrics(threshold: $t, labels: "
             "$labels, where: $where) { %s } } } } }" % fields)
    body = client.post("/graphql", json={"query": query, "variables": {
        "t": t, "labels": labels, "where": where}}).json()
    return body


def sklearn_cells(c: dict[str, np.ndarray], t: float, codes: list[int], rows: np.ndarray,
                  min_count: int, off_diagonal: bool, first: int) -> list[dict[str, Any]]:
    kept = (c["predicted"] < K) & (c["confidence"] >= np.float32(t))
    p = np.where(kept, c["predicted"], K)
    index = [*codes, K]
    matrix = confusion_matrix(c["actual"][rows], p[rows], labels=index)
    found = sorted(
        (-int(matrix[i, j]), i, j)
        for i in range(len(index)) for j in range(len(index))
        if matrix[i, j] >= max(min_count, 1) and not (off_diagonal and i == j)
    )[:first]
    name = [*(NAMES[k] for k in codes), None]
    return [{"actual": name[i], "predicted": name[j], "count": -n} for n, i, j in found]


CELLS = "confusionMatrix { cells(minCount: %d, offDiagonal: %s, first: %d) " \
        "{ actual predicted count } }"


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("t", [0.0, 0.43])
def test_the_largest_cells_equal_scikit_learn_dense_or_sparse(
    many, monkeypatch: pytest.MonkeyPatch, dense: bool, t: float
) -> None:
    client, c = many
    if not dense:
        monkeypatch.setattr(limits, "MAX_MATRIX_CELLS", 100)
    rng = np.random.default_rng(int(t * 100))
    chosen = sorted(rng.choice(K, 300, replace=False).tolist(), key=lambda _: rng.random())
    cases = [
        (None, None, 1, False, 100),
        (None, None, 2, True, 37),
        (chosen, None, 1, False, 50),
        (None, ["chat"], 1, True, 1000),
        (chosen, ["email"], 3, False, 20),
    ]
    for labels, channel, min_count, off, first in cases:
        where = None if channel is None else [{"column": "channel", "in": channel}]
        rows = np.ones(N, bool) if channel is None else np.isin(c["channel"], channel)
        codes = list(range(K)) if labels is None else labels
        body = ask(client, CELLS % (min_count, str(off).lower(), first), t,
                   None if labels is None else [NAMES[k] for k in labels], where)
        got = body["data"]["model"]["run"]["split"]["metrics"]["confusionMatrix"]["cells"]
        assert got == sklearn_cells(c, t, codes, rows, min_count, off, first)


def test_past_the_dense_limit_counts_are_refused_and_cells_answer(
    many, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = many
    monkeypatch.setattr(limits, "MAX_MATRIX_CELLS", 100)
    refused = ask(client, "confusionMatrix { counts }", 0.5)
    assert refused["errors"][0]["extensions"]["code"] == "COST_LIMIT"
    answered = ask(client, "confusionMatrix { labels cells(first: 3) { count } }", 0.5)
    matrix = answered["data"]["model"]["run"]["split"]["metrics"]["confusionMatrix"]
    assert matrix["labels"] == [*NAMES, None]
    assert len(matrix["cells"]) == 3


@pytest.mark.parametrize("dense", [True, False])
def test_the_per_label_table_and_one_label_equal_scikit_learn(
    many, monkeypatch: pytest.MonkeyPatch, dense: bool
) -> None:
    client, c = many
    if not dense:
        monkeypatch.setattr(limits, "MAX_MATRIX_CELLS", 100)
    t = 0.31
    body = ask(client, "perLabel { __typename label p: precision recall f1 support predicted "
                       "tp fp fn tn } label(name: \"l0007\") { label precision tp fn tn }", t)
    m = body["data"]["model"]["run"]["split"]["metrics"]
    kept = (c["predicted"] < K) & (c["confidence"] >= np.float32(t))
    p = np.where(kept, c["predicted"], K)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        precision, recall, f1, support = precision_recall_fscore_support(
            c["actual"], p, labels=list(range(K)), average=None, zero_division=np.nan)
    rows = m["perLabel"]
    assert [r["label"] for r in rows] == NAMES
    assert {r["__typename"] for r in rows} == {"LabelMetrics"}
    for k in (0, 1, 7, 99, 500, 999):
        r = rows[k]
        tp = int(((c["actual"] == k) & (p == k)).sum())
        assert (r["tp"], r["support"]) == (tp, int(support[k]))
        assert r["predicted"] == int((p == k).sum())
        assert r["tp"] + r["fp"] + r["fn"] + r["tn"] == N
        for got, want in ((r["p"], precision[k]), (r["recall"], recall[k]), (r["f1"], f1[k])):
            assert (got is None and np.isnan(want)) or got == pytest.approx(want)
    one = m["label"]
    assert one == {key: rows[7][alias] for key, alias in
                   (("label", "label"), ("precision", "p"), ("tp", "tp"), ("fn", "fn"),
                    ("tn", "tn"))}
