"""Query.compare: two splits joined on id, what the candidate fixed and broke."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from sklearn.metrics import hamming_loss
from sklearn.preprocessing import MultiLabelBinarizer
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.storage.ingest import IngestOptions, ingest_table
from tests.api.conftest import small_table
from tests.api.test_rows import LABELS, error_code, random_table
from tests.oracle import sklearn_prf

# Every test runs on the index path and on the scan path (conftest.index_path).
pytestmark = pytest.mark.usefixtures("index_path")

# The candidate of conftest.ROWS: ids shuffled, r2 missing, r8 new.
CANDIDATE = [
    ("r7", "A", "A", 0.8),
    ("r6", "C", "C", 0.9),
    ("r5", "C", "C", 0.45),
    ("r4", None, "A", 0.9),
    ("r3", "B", "B", 0.6),
    ("r1", "A", "B", 0.9),
    ("r0", "A", "B", 0.9),
    ("r8", "A", "A", 0.9),
]

COMPARE = """query($b: SplitRef!, $c: SplitRef!, $t: Float!, $change: Change!, $first: Int!, $after: String) {
  compare(baseline: $b, candidate: $c, threshold: $t) {
    baseline { accuracy } candidate { accuracy } fixed regressed
    rows(change: $change, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id actual predicted correct baseline { id predicted correct } }
    }
  }
}"""

V1 = {"model": "m", "run": "v1", "split": "test"}
V2 = {"model": "m", "run": "v2", "split": "test"}


def table_of(rows: list[tuple]) -> pa.Table:
    ids, actual, predicted, confidence = zip(*rows, strict=True)
    return pa.table({
        "id": pa.array(ids), "actual": pa.array(actual, pa.string()),
        "predicted": pa.array(predicted, pa.string()), "confidence": pa.array(confidence),
    })


def client_for(root: Path, tables: dict[str, pa.Table]) -> TestClient:
    for run, table in tables.items():
        ingest_table(root, table, "m", run, "test", IngestOptions(labels=("A", "B", "C", "D")))
    return TestClient(create_app(root))


@pytest.fixture
def compare(tmp_path: Path) -> Iterator[Any]:
    with client_for(tmp_path, {"v1": small_table(), "v2": table_of(CANDIDATE)}) as client:

        def run(**variables: Any) -> dict[str, Any]:
            defaults = {"b": V1, "c": V2, "t": 0.5, "change": "FIXED", "first": 50, "after": None}
            body = {"query": COMPARE, "variables": defaults | variables}
            return client.post("/graphql", json=body).json()

        yield run


def test_fixed_and_regressed_rows_are_joined_on_id(compare: Any) -> None:
    c = compare()["data"]["compare"]
    # accuracy over the 7 labeled rows of each side (r4 has no actual label)
    assert (c["baseline"]["accuracy"], c["candidate"]["accuracy"]) == (2 / 7, 4 / 7)
    assert (c["fixed"], c["regressed"]) == (3, 1)
    assert c["rows"]["totalCount"] == 3
    assert c["rows"]["nodes"][0] == {
        "id": "r3", "actual": "B", "predicted": "B", "correct": True,
        "baseline": {"id": "r3", "predicted": None, "correct": False},
    }
    assert [n["id"] for n in c["rows"]["nodes"]] == ["r3", "r6", "r7"]  # baseline order
    regressed = compare(change="REGRESSED")["data"]["compare"]["rows"]["nodes"]
    assert regressed == [{"id": "r0", "actual": "A", "predicted": "B", "correct": False,
                          "baseline": {"id": "r0", "predicted": "A", "correct": True}}]


def test_the_threshold_applies_to_both_splits(compare: Any) -> None:
    c = compare(t=0.0)["data"]["compare"]
    assert (c["fixed"], c["regressed"]) == (2, 1)  # r5 and r7 are right in both at 0


def test_changed_rows_page_with_cursors(compare: Any) -> None:
    first = compare(first=2)["data"]["compare"]["rows"]
    assert [n["id"] for n in first["nodes"]] == ["r3", "r6"] and first["pageInfo"]["hasNextPage"]
    rest = compare(first=2, after=first["pageInfo"]["endCursor"])["data"]["compare"]["rows"]
    assert [n["id"] for n in rest["nodes"]] == ["r7"] and not rest["pageInfo"]["hasNextPage"]
    foreign = compare(change="REGRESSED", after=first["pageInfo"]["endCursor"])
    assert error_code(foreign) == "BAD_USER_INPUT"


def test_a_split_compared_with_itself_changes_nothing(compare: Any) -> None:
    c = compare(c=V1)["data"]["compare"]
    assert (c["fixed"], c["regressed"], c["rows"]["nodes"]) == (0, 0, [])


@pytest.mark.parametrize("ref, code", [
    ({"model": "nope", "run": "v1", "split": "test"}, "NOT_FOUND"),
    ({"model": "m", "run": "nope", "split": "test"}, "NOT_FOUND"),
    ({"model": "m", "run": "v1", "split": "nope"}, "NOT_FOUND"),
])
def test_unknown_splits_are_not_found(compare: Any, ref: dict, code: str) -> None:
    assert error_code(compare(c=ref)) == code
    assert error_code(compare(b=ref)) == code


def test_bad_threshold_and_first_are_bad_user_input(compare: Any) -> None:
    assert error_code(compare(t=1.5)) == "BAD_USER_INPUT"
    assert error_code(compare(first=0)) == "BAD_USER_INPUT"


def test_runs_over_the_same_rows_match_a_numpy_count(tmp_path: Path) -> None:
    base = random_table(5, n=500)
    rng = np.random.default_rng(6)
    predicted = np.array(base["predicted"].to_pylist(), dtype=object)
    flip = rng.random(len(predicted)) < 0.3
    predicted[flip] = rng.choice(["A", "B", "C", "D"], flip.sum())
    cand = base.set_column(2, "predicted", pa.array(predicted.tolist(), pa.string()))
    with client_for(tmp_path, {"v1": base, "v2": cand}) as client:
        body = client.post("/graphql", json={"query": COMPARE, "variables": {
            "b": V1, "c": V2, "t": 0.7, "change": "FIXED", "first": 1000}}).json()
    c = body["data"]["compare"]
    actual = np.array(base["actual"].to_pylist(), dtype=object)
    kept = base["confidence"].to_numpy().astype(np.float32) >= np.float32(0.7)
    was = kept & (np.array(base["predicted"].to_pylist(), dtype=object) == actual) & (actual != None)  # noqa: E711
    now = kept & (predicted == actual) & (actual != None)  # noqa: E711
    assert (c["fixed"], c["regressed"]) == (int((now & ~was).sum()), int((was & ~now).sum()))
    ids = np.array(base["id"].to_pylist())
    assert [n["id"] for n in c["rows"]["nodes"]] == ids[now & ~was].tolist()


# --- per-label deltas, multilabel, two models, filters (issue 15) -------------------

DELTAS = """query($b: SplitRef!, $c: SplitRef!, $t: Float!, $labels: [String!], $where: [RowFilter!],
                  $change: Change!) {
  compare(baseline: $b, candidate: $c, threshold: $t, labels: $labels, where: $where) {
    fixed regressed mcnemarPValue deltaHammingScore
    perLabel { label deltaPrecision deltaRecall deltaF1 deltaSupport }
    rows(change: $change, first: 1000) { totalCount nodes { id baseline { id } } }
  }
}"""

NONE = "<none>"  # scikit-learn's stand-in for None: never one of the labels


@dataclass(frozen=True)
class Side:
    """One split as the oracle sees it: ids, per-row verdicts (1, 0, -1) and
    scikit-learn's per-label (precision, recall, f1, support), None where 0/0."""

    ids: list[str]
    verdicts: np.ndarray
    per_label: dict[str, tuple[float | None, float | None, float | None, int]]


def sklearn_per_label(y_true: Any, y_pred: Any, names: list[str], labels: list[Any]) -> dict:
    """Per label: scikit-learn's precision, recall, F1 and support, None where
    evalql says null (0/0: no prediction, no support, or neither of them nor FP/FN)."""
    p, r, f, s = sklearn_prf(y_true, y_pred, labels, None)
    out = {}
    for i, name in enumerate(names):
        if isinstance(y_true, np.ndarray) and y_true.ndim == 2:  # an indicator matrix
            t, q = y_true[:, labels[i]].astype(bool), y_pred[:, labels[i]].astype(bool)
        else:
            t, q = y_true == labels[i], y_pred == labels[i]
        tp, fp, fn = int((t & q).sum()), int((~t & q).sum()), int((t & ~q).sum())
        out[name] = (None if tp + fp == 0 else float(p[i]), None if tp + fn == 0 else float(r[i]),
                     None if tp + fp + fn == 0 else float(f[i]), int(s[i]))
    return out


def multiclass_side(table: pa.Table, t: float, names: list[str], labels: list[str] | None,
                    keep: np.ndarray) -> Side:
    actual = np.array(table["actual"].to_pylist(), dtype=object)
    predicted = np.array(table["predicted"].to_pylist(), dtype=object)
    confidence = np.array(table["confidence"].to_pylist(), dtype=np.float32)
    kept = (predicted != None) & (confidence >= np.float32(t))  # noqa: E711
    right = kept & (predicted == actual) & (actual != None)  # noqa: E711
    # A row without an actual label is never judged (as accuracy leaves it out).
    judged = keep & (actual != None) & (np.isin(actual, labels) if labels is not None else True)  # noqa: E711
    y_true = np.where(actual == None, NONE, actual)[keep].astype(str)  # noqa: E711
    y_pred = np.where(kept, predicted, NONE)[keep].astype(str)
    shown = labels if labels is not None else names
    return Side(table["id"].to_pylist(), np.where(judged, right.astype(int), -1),
                sklearn_per_label(y_true, y_pred, shown, shown))


def expected_comparison(base: Side, cand: Side) -> tuple[int, int, list[str], list[dict]]:
    """fixed, regressed, the fixed ids in the baseline's order, and perLabel."""
    position = {i: j for j, i in enumerate(cand.ids)}
    fixed, regressed = [], 0
    for i, row_id in enumerate(base.ids):
        j = position.get(row_id)
        if j is None or base.verdicts[i] < 0 or cand.verdicts[j] < 0:
            continue
        if base.verdicts[i] == 0 and cand.verdicts[j] == 1:
            fixed.append(row_id)
        regressed += int(base.verdicts[i] == 1 and cand.verdicts[j] == 0)
    names = list(base.per_label) + [n for n in cand.per_label if n not in base.per_label]
    rows = []
    for name in names:
        b, c = base.per_label.get(name), cand.per_label.get(name)
        deltas = [None if b is None or c is None or b[k] is None or c[k] is None else c[k] - b[k]
                  for k in range(3)]
        support = None if b is None or c is None else c[3] - b[3]
        rows.append({"label": name, "deltaPrecision": deltas[0], "deltaRecall": deltas[1],
                     "deltaF1": deltas[2], "deltaSupport": support})
    rows.sort(key=lambda r: (r["deltaF1"] is None, -abs(r["deltaF1"] or 0.0)))  # stable
    return len(fixed), regressed, fixed, rows


def assert_comparison(c: dict, base: Side, cand: Side) -> None:
    fixed, regressed, fixed_ids, per_label = expected_comparison(base, cand)
    assert (c["fixed"], c["regressed"]) == (fixed, regressed)
    n = fixed + regressed
    assert c["mcnemarPValue"] == pytest.approx(
        1.0 if n == 0 else binomtest(fixed, n, 0.5).pvalue, rel=1e-12)
    assert c["rows"]["totalCount"] == fixed
    assert [r["id"] for r in c["rows"]["nodes"]] == fixed_ids
    assert all(r["baseline"]["id"] == r["id"] for r in c["rows"]["nodes"])
    assert [r["label"] for r in c["perLabel"]] == [r["label"] for r in per_label]
    for got, want in zip(c["perLabel"], per_label, strict=True):
        for key, value in want.items():
            assert got[key] == (value if value is None else pytest.approx(value, abs=1e-12)), key


def ask_compare(client: TestClient, **variables: Any) -> dict:
    defaults = {"b": V1, "c": V2, "t": 0.5, "labels": None, "where": None, "change": "FIXED"}
    return client.post("/graphql", json={"query": DELTAS, "variables": defaults | variables}).json()


def served(root: Path, tables: dict[tuple[str, str], tuple[pa.Table, IngestOptions]]) -> TestClient:
    for (model, run), (table, options) in tables.items():
        ingest_table(root, table, model, run, "test", options)
    return TestClient(create_app(root))


ABCD = IngestOptions(labels=("A", "B", "C", "D"))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n=st.integers(20, 300), t=st.sampled_from([0.0, 0.5, 0.7, 1.0]))
def test_per_label_deltas_are_scikit_learns_per_label_metrics_subtracted(
    seed: int, n: int, t: float
) -> None:
    base, cand = random_table(seed, n=n), random_table(seed + 1, n=max(n - 10, 1))  # ids 0..n-11
    with TemporaryDirectory() as root, served(
        Path(root), {("m", "v1"): (base, ABCD), ("m", "v2"): (cand, ABCD)}
    ) as client:
        for labels, where in ((None, None), (["D", "B"], None),
                              (None, [{"column": "group", "in": ["x"]}])):
            body = ask_compare(client, t=t, labels=labels, where=where)
            assert "errors" not in body, body
            sides = [multiclass_side(table, t, LABELS, labels,
                                     np.array([g == "x" for g in table["group"].to_pylist()])
                                     if where else np.ones(len(table), bool))
                     for table in (base, cand)]
            assert_comparison(body["data"]["compare"], *sides)
            assert body["data"]["compare"]["deltaHammingScore"] is None


def test_deltas_sort_by_the_size_of_the_f1_change_with_nulls_last(tmp_path: Path) -> None:
    # Worked by hand at 0.5 (conftest.ROWS against CANDIDATE): baseline A P=R=F1=1/3,
    # B 1/2 each, C P null R=F1=0, D null; candidate A P=2/3 R=1/2 F1=4/7, B P=1/3
    # R=1 F1=1/2, C P=1 R=1/2 F1=2/3, D null.
    with served(tmp_path, {("m", "v1"): (small_table(), ABCD),
                           ("m", "v2"): (table_of(CANDIDATE), ABCD)}) as client:
        rows = ask_compare(client)["data"]["compare"]["perLabel"]
    assert [r["label"] for r in rows] == ["C", "A", "B", "D"]
    want = {
        "C": (None, 0.5, 2 / 3, 0), "A": (1 / 3, 1 / 6, 4 / 7 - 1 / 3, 1),
        "B": (-1 / 6, 0.5, 0.0, -1), "D": (None, None, None, 0),
    }
    for r in rows:
        got = (r["deltaPrecision"], r["deltaRecall"], r["deltaF1"], r["deltaSupport"])
        for value, expected in zip(got, want[r["label"]], strict=True):
            assert value == (None if expected is None else pytest.approx(expected, abs=1e-12))


ML_LABELS = ("billing", "bug", "refund", "urgent")
ML = IngestOptions(task="multilabel", labels=ML_LABELS)


def multilabel_rows(seed: int, n: int) -> dict[str, list]:
    rng = np.random.default_rng(seed)
    actual, predicted, confidence = [], [], []
    for _ in range(n):
        actual.append(sorted(rng.choice(ML_LABELS, rng.integers(0, 3), replace=False).tolist()))
        guess = rng.choice(ML_LABELS, rng.integers(0, 4), replace=False).tolist()
        predicted.append(guess)
        confidence.append(np.round(rng.random(len(guess)), 2).tolist())
    return {"id": [f"r{i}" for i in rng.permutation(n)], "actual": actual,
            "predicted": predicted, "confidence": confidence,
            "channel": rng.choice(["chat", "email"], n).tolist()}


def multilabel_side(rows: dict, t: float, labels: list[str] | None, keep: np.ndarray) -> Side:
    binarizer = MultiLabelBinarizer(classes=ML_LABELS)
    kept = [[p for p, c in zip(ps, cs, strict=True) if np.float32(c) >= np.float32(t)]
            for ps, cs in zip(rows["predicted"], rows["confidence"], strict=True)]
    y, p = binarizer.fit_transform(rows["actual"]), binarizer.transform(kept)
    shown = list(labels or ML_LABELS)
    columns = [ML_LABELS.index(x) for x in shown]
    exact = (y[:, columns] == p[:, columns]).all(axis=1)
    return Side(rows["id"], np.where(keep, exact.astype(int), -1),
                sklearn_per_label(y[keep], p[keep], shown, columns))


@pytest.mark.parametrize("t", [0.0, 0.5, 0.8])
@pytest.mark.parametrize("labels, channel", [(None, None), (["urgent", "bug"], None),
                                             (None, "chat")])
def test_multilabel_compare_judges_rows_by_exact_match(tmp_path: Path, t, labels, channel) -> None:
    base, cand = multilabel_rows(1, 300), multilabel_rows(2, 280)
    refs = {"b": {"model": "tags", "run": "v1", "split": "test"},
            "c": {"model": "tags", "run": "v2", "split": "test"}}
    where = None if channel is None else [{"column": "channel", "in": [channel]}]
    with served(tmp_path, {("tags", "v1"): (pa.table(base), ML),
                           ("tags", "v2"): (pa.table(cand), ML)}) as client:
        body = ask_compare(client, t=t, labels=labels, where=where, **refs)
    assert "errors" not in body, body
    sides = []
    for rows in (base, cand):
        keep = np.array([channel is None or c == channel for c in rows["channel"]])
        sides.append(multilabel_side(rows, t, labels, keep))
    c = body["data"]["compare"]
    assert_comparison(c, *sides)
    hamming = []
    for rows in (base, cand):
        keep = np.array([channel is None or c == channel for c in rows["channel"]])
        binarizer = MultiLabelBinarizer(classes=ML_LABELS)
        kept = [[p for p, q in zip(ps, cs, strict=True) if np.float32(q) >= np.float32(t)]
                for ps, cs in zip(rows["predicted"], rows["confidence"], strict=True)]
        columns = [ML_LABELS.index(x) for x in (labels or ML_LABELS)]
        y = binarizer.fit_transform(rows["actual"])[keep][:, columns]
        p = binarizer.transform(kept)[keep][:, columns]
        hamming.append(1 - hamming_loss(y, p))
    assert c["deltaHammingScore"] == pytest.approx(hamming[1] - hamming[0], abs=1e-12)


def test_two_models_join_labels_by_name_and_compare_rows_on_their_own_labels(
    tmp_path: Path,
) -> None:
    base = random_table(11, n=200)
    cand_labels = ("B", "A", "E")  # C and D only in the baseline's model, E only in the candidate's
    rng = np.random.default_rng(12)
    cand = base.set_column(2, "predicted", pa.array(
        rng.choice(list(cand_labels), len(base)).tolist(), pa.string()))
    actual = np.array(base["actual"].to_pylist(), dtype=object)
    moved = np.isin(actual, ["C", "D"])
    actual[moved] = rng.choice(list(cand_labels), moved.sum())
    cand = cand.set_column(1, "actual", pa.array(actual.tolist(), pa.string()))
    other = {"model": "other", "run": "v1", "split": "test"}
    with served(tmp_path, {("m", "v1"): (base, ABCD),
                           ("other", "v1"): (cand, IngestOptions(labels=cand_labels))}) as client:
        body = ask_compare(client, c=other, t=0.5)
        assert "errors" not in body, body
        sides = [multiclass_side(base, 0.5, LABELS, None, np.ones(len(base), bool)),
                 multiclass_side(cand, 0.5, list(cand_labels), None, np.ones(len(cand), bool))]
        c = body["data"]["compare"]
        assert_comparison(c, *sides)
        assert {r["label"] for r in c["perLabel"]} == {"A", "B", "C", "D", "E"}
        for row in c["perLabel"]:
            if row["label"] in ("C", "D", "E"):  # one side lacks the label
                assert set(row.values()) == {row["label"], None}
        # A label has to be one of both models'
        error = ask_compare(client, c=other, labels=["C"])["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and '"C"' in error["message"]
        both = ask_compare(client, c=other, labels=["A", "B"])
        assert "errors" not in both, both


def test_a_multiclass_and_a_multilabel_split_are_not_compared(tmp_path: Path) -> None:
    tags = {"model": "tags", "run": "v1", "split": "test"}
    with served(tmp_path, {("m", "v1"): (small_table(), ABCD),
                           ("tags", "v1"): (pa.table(multilabel_rows(1, 20)), ML)}) as client:
        for variables in ({"c": tags}, {"b": tags, "c": V1}):
            error = ask_compare(client, **variables)["errors"][0]
            assert error["extensions"]["code"] == "BAD_USER_INPUT"
            assert "two models of one task" in error["message"]
            assert "multilabel" in error["message"] and "multiclass" in error["message"]


def test_ids_missing_from_one_side_are_never_fixed_regressed_or_listed(compare: Any) -> None:
    # r2 is only in the baseline, r8 only in the candidate (CANDIDATE above).
    for t in (0.0, 0.5, 0.9):
        for change in ("FIXED", "REGRESSED"):
            rows = compare(t=t, change=change)["data"]["compare"]["rows"]
            ids = {n["id"] for n in rows["nodes"]} | {n["baseline"]["id"] for n in rows["nodes"]}
            assert not ids & {"r2", "r8"}
    # r8 alone would be fixed (wrong nowhere, right in the candidate); r2 alone regressed
    # (right in the baseline): neither counts.
    c = compare(t=0.0)["data"]["compare"]
    assert (c["fixed"], c["regressed"]) == (2, 1)


def test_a_cursor_belongs_to_its_comparisons_filters(tmp_path: Path) -> None:
    query = """query($where: [RowFilter!], $after: String) {
      compare(baseline: {model: "m", run: "v1", split: "test"},
              candidate: {model: "m", run: "v2", split: "test"}, threshold: 0.5, where: $where) {
        rows(change: FIXED, first: 1, after: $after) { pageInfo { endCursor } } } }"""
    where = [{"column": "group", "in": ["x", "y"]}]
    tables = {("m", "v1"): (random_table(3), ABCD), ("m", "v2"): (random_table(4), ABCD)}
    with served(tmp_path, tables) as client:
        def ask(**variables: Any) -> dict:
            return client.post("/graphql", json={"query": query, "variables": variables}).json()

        cursor = ask(where=where)["data"]["compare"]["rows"]["pageInfo"]["endCursor"]
        assert "errors" not in ask(where=where, after=cursor)
        assert error_code(ask(after=cursor)) == "BAD_USER_INPUT"
