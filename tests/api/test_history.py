"""History and run metadata: Run.meta, Model.history, --run-meta and runMeta.

Every history point is checked against the Metrics field of the same name on
that run's split (the one definition both read), for every SummaryMetric,
both tasks, several thresholds and averages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from starlette.testclient import TestClient

from evalql.api import limits
from evalql.api.app import create_app
from evalql.api.cli import main
from evalql.api.settings import ServeSettings
from evalql.storage.catalog import Catalog
from evalql.storage.ingest import IngestOptions, ingest_table
from tests.api.test_multilabel import LABELS as TAGS
from tests.api.test_multilabel import random_rows
from tests.api.test_mutations import csv_bytes, upload
from tests.api.test_rows import LABELS, random_table

pytestmark = pytest.mark.usefixtures("index_path")

METRICS = [
    "ACCURACY", "SELECTIVE_ACCURACY", "COVERAGE", "PRECISION", "RECALL", "F1",
    "BALANCED_ACCURACY", "MATTHEWS_CORRCOEF", "COHEN_KAPPA", "HAMMING_SCORE", "SUBSET_ACCURACY",
]
# SummaryMetric -> the Metrics field it plots ($average is history's average).
FIELDS = {
    "ACCURACY": "accuracy", "SELECTIVE_ACCURACY": "selectiveAccuracy", "COVERAGE": "coverage",
    "PRECISION": "precision(average: $average)", "RECALL": "recall(average: $average)",
    "F1": "f1(average: $average)", "BALANCED_ACCURACY": "balancedAccuracy",
    "MATTHEWS_CORRCOEF": "matthewsCorrcoef", "COHEN_KAPPA": "cohenKappa",
    "HAMMING_SCORE": "hammingScore", "SUBSET_ACCURACY": "subsetAccuracy",
}

HISTORY = """query($model: String!, $split: String!, $metric: SummaryMetric!, $t: Float! = 0,
                  $average: Average! = MACRO) {
  model(name: $model) { history(split: $split, metric: $metric, threshold: $t,
                                average: $average) { run createdAt value } }
}"""


def metrics_query(metric: str) -> str:
    average = ", $average: Average!" if "$average" in FIELDS[metric] else ""
    return (
        f"query($model: String!, $split: String!, $t: Float!{average}) {{"
        " model(name: $model) { runs { name createdAt split(name: $split) {"
        f" metrics(threshold: $t) {{ value: {FIELDS[metric]} }} }} }} }} }}"
    )


def post(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def runs_in(root: Path, model: str, tables: dict[str, pa.Table], options: IngestOptions) -> None:
    for run, table in tables.items():
        ingest_table(root, table, model, run, "test", options)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Model m (multiclass): runs ingested v3, v1, v2 (so creation order is not
    name order), and v0 without the split; model tags (multilabel): v1, v2."""
    root = tmp_path_factory.mktemp("history")
    options = IngestOptions(labels=tuple(LABELS))
    runs_in(root, "m", {"v3": random_table(3), "v1": random_table(1), "v2": random_table(2)},
            options)
    ingest_table(root, random_table(4), "m", "v0", "other", options)
    tags = IngestOptions(task="multilabel", labels=tuple(TAGS))
    runs_in(root, "tags", {"v1": pa.table(random_rows(5)), "v2": pa.table(random_rows(6))}, tags)
    with TestClient(create_app(root)) as client:
        yield client


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize(("t", "average"), [(0.0, "MACRO"), (0.6, "MICRO"), (0.9, "WEIGHTED")])
def test_each_point_equals_the_metrics_field_of_that_run_for_every_metric(
    served: TestClient, metric: str, t: float, average: str
) -> None:
    for model in ("m", "tags"):
        variables = {"model": model, "split": "test", "t": t, "average": average}
        points = post(served, HISTORY, metric=metric, **variables)["data"]["model"]["history"]
        runs = post(served, metrics_query(metric), **variables)["data"]["model"]["runs"]
        expected = [
            {"run": r["name"], "createdAt": r["createdAt"], "value": r["split"]["metrics"]["value"]}
            for r in runs if r["split"] is not None
        ]
        assert points == expected


def test_points_are_ordered_by_creation_and_runs_without_the_split_are_left_out(
    served: TestClient,
) -> None:
    points = post(served, HISTORY, model="m", split="test", metric="ACCURACY")
    history = points["data"]["model"]["history"]
    assert [p["run"] for p in history] == ["v3", "v1", "v2"]
    times = [datetime.fromisoformat(p["createdAt"]) for p in history]
    assert times == sorted(times) and len(set(times)) == 3
    assert all(0 < p["value"] < 1 for p in history)
    other = post(served, HISTORY, model="m", split="other", metric="F1")["data"]["model"]
    assert [p["run"] for p in other["history"]] == ["v0"]
    nowhere = post(served, HISTORY, model="m", split="nowhere", metric="F1")["data"]["model"]
    assert nowhere["history"] == []


def test_metrics_a_task_does_not_define_are_null_points(served: TestClient) -> None:
    def values(model: str, metric: str) -> list[Any]:
        body = post(served, HISTORY, model=model, split="test", metric=metric)
        return [p["value"] for p in body["data"]["model"]["history"]]

    assert values("m", "HAMMING_SCORE") == [None, None, None]
    for metric in ("BALANCED_ACCURACY", "MATTHEWS_CORRCOEF", "COHEN_KAPPA"):
        assert values("tags", metric) == [None, None]
    for metric in ("HAMMING_SCORE", "SUBSET_ACCURACY"):
        assert all(isinstance(v, float) for v in values("tags", metric))


def test_an_empty_split_gives_null_where_a_ratio_is_undefined(tmp_path: Path) -> None:
    """Every row unlabeled and abstained: accuracy and coverage are 0/0 or 0."""
    table = pa.table({"id": ["a", "b"], "actual": pa.array([None, None], pa.string()),
                      "predicted": pa.array([None, None], pa.string())})
    ingest_table(tmp_path, table, "e", "v1", "test", IngestOptions(labels=("A", "B")))
    with TestClient(create_app(tmp_path)) as client:
        for metric in ("ACCURACY", "SELECTIVE_ACCURACY", "BALANCED_ACCURACY"):
            body = post(client, HISTORY, model="e", split="test", metric=metric)
            assert body["data"]["model"]["history"][0]["value"] is None, metric
        body = post(client, HISTORY, model="e", split="test", metric="COVERAGE")
        assert body["data"]["model"]["history"][0]["value"] == 0.0


def test_a_bad_threshold_is_refused_even_when_no_run_has_the_split(served: TestClient) -> None:
    for split in ("test", "nowhere"):
        body = post(served, HISTORY, model="m", split=split, metric="F1", t=1.5)
        [error] = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["message"] == "threshold has to be within [0, 1], got 1.5"


def test_an_unknown_metric_is_refused_by_the_enum(served: TestClient) -> None:
    body = post(served, HISTORY, model="m", split="test", metric="AUC")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_history_past_the_run_bound_is_refused(
    served: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_HISTORY_RUNS", 2)
    [error] = post(served, HISTORY, model="m", split="test", metric="F1")["errors"]
    assert error["extensions"]["code"] == "COST_LIMIT"
    assert error["message"] == (
        'model "m" has 3 runs with a split "test"; a history reads at most 2'
    )


def test_history_measures_one_run_at_a_time_through_the_split_store(
    served: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No two runs' loads overlap: each split is counted before the next loads."""
    from evalql.storage.datasets import SplitStore

    loading, overlaps, seen = [0], [], []
    original = SplitStore.load

    def load(self: SplitStore, info: Any, *args: Any, **kwargs: Any) -> Any:
        loading[0] += 1
        overlaps.append(loading[0])
        seen.append(info.run)
        try:
            return original(self, info, *args, **kwargs)
        finally:
            loading[0] -= 1

    monkeypatch.setattr(SplitStore, "load", load)
    body = post(served, HISTORY, model="m", split="test", metric="F1", t=0.55)
    assert len(body["data"]["model"]["history"]) == 3
    assert max(overlaps) == 1 and set(seen) == {"v1", "v2", "v3"}


# --- Run.meta, the mutation and the CLI -----------------------------------------------------

META = '{ model(name: "%s") { runs { name meta } } }'


def test_run_meta_is_an_empty_object_without_metadata(client: TestClient) -> None:
    body = post(client, META % "m")
    assert body["data"]["model"]["runs"] == [{"name": "v1", "meta": {}}]


def test_run_meta_returns_what_ingest_stored_with_its_types(tmp_path: Path) -> None:
    meta = {"commit": "ab12cd3", "lr": 0.001, "epochs": 3, "frozen": True}
    ingest_table(tmp_path, random_table(1), "m", "v1", "test", IngestOptions(run_meta=meta))
    with TestClient(create_app(tmp_path)) as client:
        assert post(client, META % "m")["data"]["model"]["runs"] == [{"name": "v1", "meta": meta}]


@pytest.fixture
def writer(store: Path) -> Iterator[TestClient]:
    settings = ServeSettings(allowed_hosts=("*",), allow_writes=True)
    with TestClient(create_app(store, settings=settings)) as client:
        yield client


def test_the_mutation_stores_run_meta_and_a_later_ingest_merges_it(writer: TestClient) -> None:
    first = upload(writer, csv_bytes(), run="v9", split="a", runMeta={"commit": "ab12", "lr": 0.1})
    assert "errors" not in first.json(), first.text
    upload(writer, csv_bytes(), run="v9", split="b", runMeta={"lr": 0.01, "note": "restart"})
    runs = post(writer, META % "new")["data"]["model"]["runs"]
    assert runs == [{"name": "v9", "meta": {"commit": "ab12", "lr": 0.01, "note": "restart"}}]
    upload(writer, csv_bytes(), run="v9", split="b", replace=True, runMeta={"note": None})
    runs = post(writer, META % "new")["data"]["model"]["runs"]
    assert runs == [{"name": "v9", "meta": {"commit": "ab12", "lr": 0.01}}]


def test_run_meta_as_a_literal_object_in_the_document(writer: TestClient) -> None:
    query = ('mutation($file: Upload!) { ingest(file: $file, model: "lit", run: "v1", '
             'split: "s", runMeta: {commit: "ab12", lr: 0.5, tags: "a,b"}) { name } }')
    form = {"operations": json.dumps({"query": query, "variables": {"file": None}}),
            "map": json.dumps({"0": ["variables.file"]})}
    response = writer.post("/graphql", data=form, files={"0": ("p.csv", csv_bytes())},
                           headers={"Apollo-Require-Preflight": "true"})
    assert response.json() == {"data": {"ingest": {"name": "s"}}}
    runs = post(writer, META % "lit")["data"]["model"]["runs"]
    assert runs == [{"name": "v1", "meta": {"commit": "ab12", "lr": 0.5, "tags": "a,b"}}]


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (["commit=ab12"], "runMeta: run metadata has to be an object of key → value, not a list"),
        ({"": "x"}, "runMeta: run metadata has an empty key"),
        ({"a": {"b": 1}}, "runMeta: run metadata values have to be strings, numbers or "
                          "booleans, not an object"),
    ],
)
def test_bad_run_meta_is_refused_and_nothing_is_stored(
    writer: TestClient, store: Path, meta: object, message: str
) -> None:
    body = upload(writer, csv_bytes(), run="v9", runMeta=meta).json()
    [error] = body["errors"]
    assert (error["extensions"]["code"], error["message"]) == ("BAD_USER_INPUT", message)
    assert Catalog(store).run("new", "v9") is None


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_run_meta_is_repeatable_and_merges_across_ingests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, preds = tmp_path / "store", tmp_path / "preds.csv"
    preds.write_bytes(csv_bytes())
    base = ["ingest", str(preds), "--model", "m", "--run", "v1", "--data", str(data)]
    status, _, err = cli(capsys, *base, "--split", "a", "--run-meta", "commit=ab12",
                         "--run-meta", "lr=0.1", "--run-meta", "query=a=b", "--run-meta", "empty=")
    assert (status, err) == (0, "")
    assert Catalog(data).run("m", "v1").meta == {
        "commit": "ab12", "lr": "0.1", "query": "a=b", "empty": "",
    }
    assert cli(capsys, *base, "--split", "b", "--run-meta", "lr=0.01",
               "--run-meta", "lr=0.02")[0] == 0
    assert Catalog(data).run("m", "v1").meta == {
        "commit": "ab12", "lr": "0.02", "query": "a=b", "empty": "",
    }


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("lr", "evalql ingest: --run-meta 'lr' has no '=': give it as key=value\n"),
        ("=0.1", "evalql ingest: --run-meta '=0.1' has an empty key: give it as key=value\n"),
        (" =x", "evalql ingest: --run-meta ' =x' has an empty key: give it as key=value\n"),
    ],
)
def test_cli_run_meta_of_bad_form_is_one_line_and_nothing_is_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pair: str, message: str
) -> None:
    data, preds = tmp_path / "store", tmp_path / "preds.csv"
    preds.write_bytes(csv_bytes())
    status, out, err = cli(capsys, "ingest", str(preds), "--model", "m", "--run", "v1",
                           "--split", "a", "--data", str(data), "--run-meta", pair)
    assert (status, out, err) == (1, "", message)
    assert not data.exists()
