"""Breakdowns by metadata and the confidence histogram, through GraphQL."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest

from tests.api.conftest import Query
from tests.api.test_rows import SPLIT, VIEWS, data, error_code, random_store

# Every test runs on the index path and on the scan path (conftest.index_path).
pytestmark = pytest.mark.usefixtures("index_path")

SUMMARY = "total predicted correct accuracy precision confusionMatrix { counts }"


@pytest.fixture(scope="module")
def random_gql(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Query, pa.Table]]:
    with random_store(tmp_path_factory.mktemp("random")) as store:
        yield store


def test_histogram_counts_every_prediction_by_confidence(gql: Query) -> None:
    m = data(gql(SPLIT % "metrics(threshold: 0.5) { confidenceHistogram(bins: 2) { low high count correct } }"))
    assert m["metrics"]["confidenceHistogram"] == [
        {"low": 0.0, "high": 0.5, "count": 2, "correct": 2},  # r5, r7: abstained at 0.5, still counted
        {"low": 0.5, "high": 1.0, "count": 5, "correct": 2},  # r3 has no prediction: in no bin
    ]


def test_histogram_labeled_leaves_out_predictions_without_an_actual_label(gql: Query) -> None:
    m = data(gql(SPLIT % """metrics(threshold: 0.5) {
        confidenceHistogram(bins: 2) { count correct labeled } }"""))
    # r4 (no actual label, predicted A at 0.7) counts in the second bin, not in
    # its labeled rows: correct / labeled is the bin's accuracy
    assert m["metrics"]["confidenceHistogram"] == [
        {"count": 2, "correct": 2, "labeled": 2}, {"count": 5, "correct": 2, "labeled": 4},
    ]
    only = data(gql(SPLIT % """metrics(labels: ["A", "B", "C"]) {
        confidenceHistogram(bins: 2) { count labeled } }"""))["metrics"]["confidenceHistogram"]
    assert all(b["labeled"] == b["count"] for b in only)  # a class filter's rows are labeled


@pytest.mark.parametrize("threshold", [0.0, 0.7])
def test_histogram_labeled_equals_numpy_on_a_random_split(
    random_gql: tuple[Query, pa.Table], threshold: float
) -> None:
    gql, table = random_gql
    m = data(gql(SPLIT % f"""metrics(threshold: {threshold}) {{
        confidenceHistogram(bins: 4) {{ low high count labeled }} }}"""))["metrics"]
    actual = np.array(table["actual"].to_pylist(), dtype=object)
    predicted = np.array(table["predicted"].to_pylist(), dtype=object)
    confidence = np.array(table["confidence"].to_pylist(), dtype=np.float32)
    labeled = (predicted != None) & (actual != None)  # noqa: E711
    bins = np.minimum((confidence * 4).astype(int), 3)  # equal width, the last closed
    assert [b["labeled"] for b in m["confidenceHistogram"]] == [
        int((labeled & (bins == i)).sum()) for i in range(4)
    ]


@pytest.mark.parametrize("view", VIEWS)
def test_histogram_bins_from_the_threshold_up_add_up_to_predicted_and_correct(
    random_gql: tuple[Query, pa.Table], view: str
) -> None:
    gql, table = random_gql
    m = data(gql(SPLIT % f"metrics({view}) {{ threshold predicted correct confidenceHistogram(bins: 10) {{ low count correct }} }}"))["metrics"]
    kept = [b for b in m["confidenceHistogram"] if b["low"] >= m["threshold"] - 1e-9]
    assert sum(b["count"] for b in kept) == m["predicted"]
    assert sum(b["correct"] for b in kept) == m["correct"]
    if view == "threshold: 0":
        with_prediction = table["predicted"].is_valid().to_numpy(zero_copy_only=False).sum()
        assert sum(b["count"] for b in m["confidenceHistogram"]) == with_prediction


def test_histogram_with_one_bin_and_a_thousand_bins(gql: Query) -> None:
    m = data(gql(SPLIT % "metrics { one: confidenceHistogram(bins: 1) { count } many: confidenceHistogram(bins: 1000) { count } }"))
    assert m["metrics"]["one"] == [{"count": 7}]
    assert sum(b["count"] for b in m["metrics"]["many"]) == 7


@pytest.mark.parametrize("field", ["confidenceHistogram(bins: 0) { count }",
                                   "confidenceHistogram(bins: 1001) { count }",
                                   'breakdown(column: "length", bins: 0) { key }',
                                   'breakdown(column: "nope") { key }'])
def test_bad_bins_and_unknown_columns_are_bad_user_input(gql: Query, field: str) -> None:
    assert error_code(gql(SPLIT % f"metrics {{ {field} }}")) == "BAD_USER_INPUT"


def test_string_breakdown_gives_a_slice_per_value_largest_first(gql: Query) -> None:
    m = data(gql(SPLIT % """metrics(threshold: 0.5) { breakdown(column: "channel") {
        key low high count isNull metrics { total labeled correct accuracy } } }"""))
    assert m["metrics"]["breakdown"] == [  # a tie: by value
        {"key": "chat", "low": None, "high": None, "count": 4, "isNull": False,
         "metrics": {"total": 4, "labeled": 4, "correct": 0, "accuracy": 0.0}},
        # r4 has no actual label: in the slice's total, not in its accuracy
        {"key": "email", "low": None, "high": None, "count": 4, "isNull": False,
         "metrics": {"total": 4, "labeled": 3, "correct": 2, "accuracy": 2 / 3}},
    ]


def test_numeric_breakdown_gives_equal_width_bins_in_order(gql: Query) -> None:
    m = data(gql(SPLIT % 'metrics { breakdown(column: "length", bins: 7) { key low high count } }'))
    slices = m["metrics"]["breakdown"]
    assert [s["key"] for s in slices] == [
        "[10, 20)", "[20, 30)", "[30, 40)", "[40, 50)", "[50, 60)", "[60, 70)", "[70, 80]"
    ]
    assert [s["count"] for s in slices] == [1, 1, 1, 1, 1, 1, 2]
    assert (slices[0]["low"], slices[-1]["high"]) == (10.0, 80.0)


def test_slices_nest(gql: Query) -> None:
    m = data(gql(SPLIT % """metrics { breakdown(column: "channel") { key metrics {
        breakdown(column: "length", bins: 1) { key count } } } }"""))
    assert [s["metrics"]["breakdown"] for s in m["metrics"]["breakdown"]] == [
        [{"key": "[20, 80]", "count": 4}], [{"key": "[10, 70]", "count": 4}]
    ]


def test_too_many_distinct_values_is_a_cost_limit(
    random_gql: tuple[Query, pa.Table], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("evalql.api.limits.MAX_SLICES", 2)
    gql, _ = random_gql
    body = gql(SPLIT % 'metrics { breakdown(column: "group") { key } }')
    assert error_code(body) == "COST_LIMIT"
    assert "3 distinct values" in body["errors"][0]["message"]


def row_filter(column: str, piece: dict) -> str:
    """The where-condition a slice stands for, written by hand from its key and bounds."""
    if piece["isNull"]:
        return f'{{column: "{column}", isNull: true}}'
    if piece["low"] is None:
        return f'{{column: "{column}", in: ["{piece["key"]}"]}}'
    upper = "lte" if piece["key"].endswith("]") else "lt"
    return f'{{column: "{column}", gte: {piece["low"]!r}, {upper}: {piece["high"]!r}}}'


@pytest.mark.parametrize("column", ["group", "flag", "score", "count", "when"])
@pytest.mark.parametrize("view", [VIEWS[0], VIEWS[2], VIEWS[4]])
def test_slices_add_up_to_the_view_and_equal_a_where_view(
    random_gql: tuple[Query, pa.Table], column: str, view: str
) -> None:
    gql, _ = random_gql
    m = data(gql(SPLIT % f"""metrics({view}) {{ total breakdown(column: "{column}", bins: 6) {{
        key low high count isNull metrics {{ {SUMMARY} }} }} }}"""))["metrics"]
    slices = m["breakdown"]
    assert sum(s["count"] for s in slices) == m["total"]
    assert all(s["count"] == s["metrics"]["total"] for s in slices)
    labels = view.split("labels: ")[1].split("]")[0] + "]" if "labels" in view else "null"
    base = view.split("where: [")[1].rstrip("]") + ", " if "where" in view else ""
    threshold = view.split(",")[0]
    aliases = " ".join(
        f"s{i}: metrics({threshold}, labels: {labels}, where: [{base}{row_filter(column, s)}]) {{ {SUMMARY} }}"
        for i, s in enumerate(slices)
    )
    where_views = data(gql(SPLIT % aliases))
    for i, s in enumerate(slices):
        assert where_views[f"s{i}"] == s["metrics"], s["key"]


def test_time_breakdown_keys_are_iso_dates(random_gql: tuple[Query, pa.Table]) -> None:
    gql, table = random_gql
    slices = data(gql(SPLIT % 'metrics { breakdown(column: "when", bins: 4) { key low high } }'))["metrics"]["breakdown"]
    first = table["when"].to_numpy().astype("datetime64[s]").min()
    assert slices[0]["key"].startswith("[" + str(first).replace(" ", "T"))
    assert slices[0]["low"] == pytest.approx(first.astype(np.int64), abs=1)
    assert slices[-1]["key"].endswith("+00:00]")
