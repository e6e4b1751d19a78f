"""``evalql report``: the API's numbers and scikit-learn's, in a terminal."""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import classification_report
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.api.cli import main
from evalql.api.report import (
    CSV_HEADER,
    ReportError,
    as_dict,
    build_report,
    format_table,
    parse_where,
)
from evalql.engine.intervals import wilson_interval
from evalql.storage.ingest import IngestOptions, ingest_table
from tests.api.conftest import Query
from tests.oracle import quietly

METRICS = """query($t: Float!, $labels: [String!], $where: [RowFilter!]) {
  model(name: "m") { run(name: "v1") { split(name: "test") {
    metrics(threshold: $t, labels: $labels, where: $where) {
      total labeled predicted correct coverage accuracy selectiveAccuracy hammingScore
      subsetAccuracy
      pMACRO: precision(average: MACRO) rMACRO: recall(average: MACRO) fMACRO: f1(average: MACRO)
      pMICRO: precision(average: MICRO) rMICRO: recall(average: MICRO) fMICRO: f1(average: MICRO)
      pWEIGHTED: precision(average: WEIGHTED) rWEIGHTED: recall(average: WEIGHTED)
      fWEIGHTED: f1(average: WEIGHTED)
      perLabel { label precision recall f1 support predicted tp fp fn tn }
} } } } }"""

VIEWS = [
    (0.0, None, {}),
    (0.5, None, {}),
    (0.75, ["C", "A"], {}),
    (0.0, None, {"channel": ("email",)}),
    (0.5, ["B"], {"length": ("10", "20", "40")}),
    (0.0, None, {"channel": ("chat",), "length": ("20", "60")}),
    (0.0, None, {"channel": ("nobody",)}),
]


def _api_where(where: dict[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    return [{"column": column, "in": list(values)} for column, values in where.items()]


@pytest.mark.parametrize(("t", "labels", "where"), VIEWS)
def test_the_reports_numbers_are_the_apis_for_the_same_view(
    store: Path, gql: Query, t: float, labels: list[str] | None,
    where: dict[str, tuple[str, ...]],
) -> None:
    api = gql(METRICS, t=t, labels=labels, where=_api_where(where))
    assert "errors" not in api, api
    expected = api["data"]["model"]["run"]["split"]["metrics"]
    report = as_dict(build_report(store, "m", "v1", "test", t, labels, where))
    for key in ("total", "labeled", "predicted", "correct", "coverage", "accuracy",
                "selectiveAccuracy", "hammingScore", "subsetAccuracy"):
        assert report[key] == expected[key], key
    for how, values in report["averages"].items():
        for metric, value in values.items():
            assert value == expected[f"{metric[0]}{how}"], (how, metric)
    rows = [{k: v for k, v in row.items() if not k.endswith("Interval")}
            for row in report["perLabel"]]
    assert rows == expected["perLabel"]


def test_a_multilabel_report_is_the_apis_too(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    labels = ["billing", "bug", "refund"]
    actual, predicted, confidence = [], [], []
    for _ in range(120):
        actual.append(sorted(rng.choice(labels, rng.integers(0, 3), replace=False).tolist()))
        guess = rng.choice(labels, rng.integers(0, 3), replace=False).tolist()
        predicted.append(guess)
        confidence.append(np.round(rng.random(len(guess)), 2).tolist())
    table = pa.table({"actual": actual, "predicted": predicted, "confidence": confidence,
                      "channel": rng.choice(["chat", "email"], 120).tolist()})
    ingest_table(tmp_path, table, "m", "v1", "test",
                 IngestOptions(task="multilabel", labels=tuple(labels)), source="tags")
    with TestClient(create_app(tmp_path)) as client:
        for t, selected, where in [(0.0, None, {}), (0.4, ["refund", "billing"],
                                                     {"channel": ("chat",)})]:
            variables = {"t": t, "labels": selected, "where": _api_where(where)}
            body = client.post("/graphql", json={"query": METRICS, "variables": variables}).json()
            expected = body["data"]["model"]["run"]["split"]["metrics"]
            report = as_dict(build_report(tmp_path, "m", "v1", "test", t, selected, where))
            assert report["task"] == "multilabel"
            for key in ("total", "labeled", "predicted", "correct", "accuracy", "hammingScore",
                        "subsetAccuracy", "selectiveAccuracy"):
                assert report[key] == expected[key], key
            assert report["averages"]["MICRO"]["f1"] == expected["fMICRO"]
            rows = [{k: v for k, v in row.items() if not k.endswith("Interval")}
                    for row in report["perLabel"]]
            assert rows == expected["perLabel"]


LABELS = ("a", "b", "c", "d")
NONE = "<none>"  # None as a class of its own, never one of LABELS

row = st.tuples(
    st.sampled_from([*LABELS, None]),
    st.sampled_from([*LABELS, None]),
    st.floats(0, 1, width=32),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row, min_size=1, max_size=60),
       selected=st.none() | st.permutations(LABELS).flatmap(
           lambda order: st.integers(1, len(LABELS)).map(lambda n: list(order[:n]))))
def test_at_threshold_zero_the_report_is_scikit_learns_classification_report(
    rows: list[tuple[str | None, str | None, float]], selected: list[str] | None,
) -> None:
    actual, predicted, confidence = (list(column) for column in zip(*rows, strict=True))
    table = pa.table({"actual": pa.array(actual, pa.string()),
                      "predicted": pa.array(predicted, pa.string()),
                      "confidence": pa.array(confidence, pa.float32())})
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        ingest_table(root, table, "m", "v1", "test", IngestOptions(labels=LABELS), source="t")
        report = build_report(root, "m", "v1", "test", 0.0, selected)
    names = list(LABELS) if selected is None else selected
    y_true = [NONE if a is None else a for a in actual]
    y_pred = [NONE if p is None else p for p in predicted]
    expected = quietly(classification_report, y_true, y_pred, labels=names, output_dict=True)
    for line in report.rows:
        want = expected[line.label]
        assert np.nan_to_num(line.precision) == pytest.approx(want["precision"], abs=1e-12)
        assert np.nan_to_num(line.recall) == pytest.approx(want["recall"], abs=1e-12)
        assert np.nan_to_num(line.f1) == pytest.approx(want["f1-score"], abs=1e-12)
        assert line.support == want["support"]
    micro = expected.get("micro avg")
    if micro is None:  # scikit-learn names it accuracy when every class is a label
        micro = {key: expected["accuracy"] for key in ("precision", "recall", "f1-score")}
    for how, name in (("MACRO", "macro avg"), ("MICRO", None), ("WEIGHTED", "weighted avg")):
        want = micro if name is None else expected[name]
        for metric, key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert report.averages[how][metric] == pytest.approx(want[key], abs=1e-12)
    assert report.support == expected["macro avg"]["support"]


def test_intervals_are_wilsons_of_precision_and_recall(store: Path) -> None:
    report = build_report(store, "m", "v1", "test", 0.5, level=0.9)
    for line in report.rows:
        assert line.precision_interval == wilson_interval(line.tp, line.tp + line.fp, 0.9)
        assert line.recall_interval == wilson_interval(line.tp, line.tp + line.fn, 0.9)


def test_where_values_of_one_column_are_alternatives_and_columns_must_all_hold() -> None:
    assert parse_where(["channel=email", "length=10", "channel=chat", "x=a=b"]) == {
        "channel": ("email", "chat"), "length": ("10",), "x": ("a=b",)
    }
    with pytest.raises(ReportError, match="COLUMN=VALUE"):
        parse_where(["channel"])


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["report", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_table_looks_like_classification_report(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run_cli(capsys, "--model", "m", "--run", "v1", "--split", "test",
                               "--threshold", "0.5", "--data", str(store))
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "m/v1/test  threshold 0.5"
    header = next(line for line in lines if "precision" in line and "recall" in line)
    assert header.split()[:7] == ["precision", "recall", "f1-score", "support", "TP", "FP", "FN"]
    # A: r0 right; r4 (unlabeled) and r6 (C) false positives; r1 (B) and r7
    # (0.3, dropped) false negatives.
    assert "A     0.3333  0.3333    0.3333        3   1   2   2" in out
    assert [line.split()[0] for line in lines[-3:]] == ["macro", "micro", "weighted"]
    # r0 and r2 of the 7 labeled rows (r4 has no actual label; until the Trust
    # issue it counted, 0.2500 = 2 of 8)
    assert "labeled  7" in out and "accuracy  0.2857" in out


def test_json_is_one_object_with_full_precision_and_nulls(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run_cli(capsys, "--model", "m", "--run", "v1", "--split", "test",
                             "--threshold", "0.96", "--labels", "C,A", "--format", "json",
                             "--data", str(store))
    assert status == 0
    data = json.loads(out)
    assert data["labels"] == ["C", "A"] and data["predicted"] == 0
    assert data["selectiveAccuracy"] is None
    assert [row["label"] for row in data["perLabel"]] == ["C", "A"]
    assert data["perLabel"][0]["precision"] is None
    assert data["perLabel"][0]["precisionInterval"] is None
    recall = data["perLabel"][0]["recallInterval"]  # C: 0 of 2 rows found
    assert recall["low"] == 0.0 and 0 < recall["high"] < 1 and recall["level"] == 0.95
    status, out, _ = run_cli(capsys, "--model", "m", "--run", "v1", "--split", "test",
                             "--format", "json", "--data", str(store))
    data = json.loads(out)
    assert data["averages"]["MACRO"]["f1"] == as_dict(
        build_report(store, "m", "v1", "test"))["averages"]["MACRO"]["f1"]


def test_csv_is_the_per_label_table_with_a_header_row(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run_cli(capsys, "--model", "m", "--run", "v1", "--split", "test",
                             "--format", "csv", "--where", "channel=email",
                             "--data", str(store))
    assert status == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == CSV_HEADER
    assert [r[0] for r in rows[1:]] == ["A", "B", "C"]
    report = build_report(store, "m", "v1", "test", where={"channel": ("email",)})
    for line, cells in zip(report.rows, rows[1:], strict=True):
        assert cells[4:10] == [str(v) for v in (line.support, line.predicted, line.tp, line.fp,
                                                 line.fn, line.tn)]
        for value, cell in ((line.precision, cells[1]), (line.recall, cells[2])):
            assert (cell == "") if math.isnan(value) else float(cell) == value


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "x"], 'evalql report: there is no model "x" in '),
    (["--run", "v9"], 'evalql report: model "m" has no run "v9"; it has "v1"'),
    (["--split", "dev"], 'evalql report: run "m/v1" has no split "dev"; it has "test"'),
    (["--labels", "A,Z"], 'evalql report: label "Z" is not a label of model "m"; '
                          'it has "A", "B" or "C"'),
    (["--where", "colour=red"], "evalql report: unknown column 'colour'; the columns are: "
                                "channel, length"),
    (["--where", "length=ten"], "evalql report: "),
    (["--where", "length"], "evalql report: --where takes COLUMN=VALUE, got 'length'"),
    (["--threshold", "1.5"], "evalql report: --threshold has to be within [0, 1], got 1.5"),
])
def test_a_wrong_name_gets_one_line_and_a_non_zero_exit(
    store: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str,
) -> None:
    given_args = {"--model": "m", "--run": "v1", "--split": "test"}
    extra: list[str] = []
    for flag, value in zip(args[::2], args[1::2], strict=True):
        if flag in given_args:
            given_args[flag] = value
        else:
            extra += [flag, value]
    argv = [part for pair in given_args.items() for part in pair]
    status, out, err = run_cli(capsys, *argv, *extra, "--data", str(store))
    assert status == 1 and out == ""
    assert err.startswith(message) and err.count("\n") == 1, err


def test_a_folder_without_a_store_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run_cli(capsys, "--model", "m", "--run", "v1", "--split", "test",
                             "--data", str(tmp_path / "nothing"))
    assert status == 1 and err.startswith("evalql report: ") and err.count("\n") == 1


def test_an_empty_view_reports_undefined_values_as_dashes(store: Path) -> None:
    text = format_table(build_report(store, "m", "v1", "test", where={"channel": ("nobody",)}))
    assert "accuracy  -" in text
    assert "     A          -       -         -        0   0   0   0" in text
