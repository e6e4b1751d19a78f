"""Metrics through GraphQL on the hand-checked store of conftest.ROWS."""

from __future__ import annotations

import pytest

from evalql.api.errors import CostLimit
from evalql.api.views.multiclass import MulticlassView
from tests.api.conftest import Query

# Every test runs on the index path and on the scan path (conftest.index_path).
pytestmark = pytest.mark.usefixtures("index_path")

METRICS = """
query($t: Float!, $labels: [String!], $where: [RowFilter!]) {
  model(name: "m") { run(name: "v1") { split(name: "test") {
    metrics(threshold: $t, labels: $labels, where: $where) {
      threshold total labeled predicted correct coverage accuracy selectiveAccuracy subsetAccuracy
      precision recall f1
      micro: precision(average: MICRO)
      weighted: f1(average: WEIGHTED)
      confusionMatrix { labels counts }
      perLabel { label precision recall f1 accuracy support predicted tp fp fn tn }
    }
  } } }
}
"""


def metrics(gql: Query, t: float = 0.0, **args: object) -> dict:
    body = gql(METRICS, t=t, **args)
    assert "errors" not in body, body
    return body["data"]["model"]["run"]["split"]["metrics"]


def test_summary_at_threshold_zero_counts_abstentions_as_errors(gql: Query) -> None:
    # r4 has no actual label: counted in total and predicted (coverage), left
    # out of accuracy (Trust issue; accuracy was correct / total = 0.5 before)
    m = metrics(gql)
    assert (m["total"], m["labeled"], m["predicted"], m["correct"]) == (8, 7, 7, 4)
    assert m["accuracy"] == pytest.approx(4 / 7)
    assert m["coverage"] == 0.875
    assert m["selectiveAccuracy"] == pytest.approx(4 / 6)  # r3 (B) abstained, r4 unlabeled
    assert m["subsetAccuracy"] == m["accuracy"]


def test_confusion_matrix_has_a_none_row_and_column(gql: Query) -> None:
    matrix = metrics(gql)["confusionMatrix"]
    assert matrix["labels"] == ["A", "B", "C", None]
    assert matrix["counts"] == [
        [2, 1, 0, 0],
        [0, 1, 0, 1],
        [1, 0, 1, 0],
        [1, 0, 0, 0],
    ]


def test_per_label_table_matches_hand_counts(gql: Query) -> None:
    table = {row["label"]: row for row in metrics(gql)["perLabel"]}
    a = table["A"]
    assert (a["tp"], a["fp"], a["fn"], a["tn"], a["support"], a["predicted"]) == (2, 2, 1, 3, 3, 4)
    assert a["precision"] == 0.5
    assert a["recall"] == pytest.approx(2 / 3)
    assert a["f1"] == pytest.approx(4 / 7)
    assert a["accuracy"] == pytest.approx(5 / 8)
    assert table["C"]["precision"] == 1.0


def test_averages_follow_scikit_learn(gql: Query) -> None:
    m = metrics(gql)
    assert m["precision"] == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert m["micro"] == pytest.approx(4 / 7)  # tp 4, fp 3
    f1s = {"A": 4 / 7, "B": 0.5, "C": 2 / 3}
    support = {"A": 3, "B": 2, "C": 2}
    assert m["weighted"] == pytest.approx(sum(f1s[k] * support[k] for k in f1s) / 7)


def test_threshold_turns_low_confidence_predictions_into_abstentions(gql: Query) -> None:
    m = metrics(gql, t=0.5)
    assert (m["total"], m["predicted"], m["correct"]) == (8, 5, 2)
    assert m["confusionMatrix"]["counts"][0] == [1, 1, 0, 1]  # A→A at 0.3 abstains
    assert m["confusionMatrix"]["counts"][2] == [1, 0, 0, 1]  # C→C at 0.4 abstains


def test_a_confidence_equal_to_the_threshold_is_kept(gql: Query) -> None:
    assert metrics(gql, t=0.7)["confusionMatrix"]["counts"][3] == [1, 0, 0, 0]
    assert metrics(gql, t=0.70001)["confusionMatrix"]["counts"][3] == [0, 0, 0, 1]


def test_class_filter_is_a_submatrix_in_the_filters_order(gql: Query) -> None:
    m = metrics(gql, labels=["C", "A"])
    assert m["confusionMatrix"]["labels"] == ["C", "A", None]
    assert m["confusionMatrix"]["counts"] == [[1, 1, 0], [0, 2, 0], [0, 1, 0]]
    assert (m["total"], m["predicted"], m["correct"]) == (5, 5, 3)
    assert [row["label"] for row in m["perLabel"]] == ["C", "A"]
    assert m["precision"] == pytest.approx((1.0 + 0.5) / 2)


def test_where_on_a_string_column_restricts_the_rows(gql: Query) -> None:
    m = metrics(gql, where=[{"column": "channel", "in": ["email"]}])
    assert (m["total"], m["correct"]) == (4, 2)


def test_where_conditions_are_anded(gql: Query) -> None:
    where = [{"column": "length", "gt": 45}, {"column": "channel", "in": ["chat"]}]
    m = metrics(gql, where=where)
    assert (m["total"], m["predicted"], m["correct"]) == (2, 2, 2)


def test_undefined_per_label_values_are_null(gql: Query) -> None:
    m = metrics(gql, t=1.0)  # no kept prediction reaches 1.0
    table = {row["label"]: row for row in m["perLabel"]}
    assert table["C"]["precision"] is None
    assert table["C"]["f1"] == 0.0  # fn > 0, so F1 is defined and 0


def test_label_and_distribution_and_cells(gql: Query) -> None:
    body = gql(
        """{ model(name: "m") { run(name: "v1") { split(name: "test") { metrics {
             label(name: "B") { tp fp fn }
             labelDistribution { label actual predicted }
             confusionMatrix { cells(offDiagonal: true, first: 2) { actual predicted count } }
        } } } } }"""
    )
    m = body["data"]["model"]["run"]["split"]["metrics"]
    assert m["label"] == {"tp": 1, "fp": 1, "fn": 1}
    assert m["labelDistribution"][-1] == {"label": None, "actual": 1, "predicted": 1}
    assert m["labelDistribution"][0] == {"label": "A", "actual": 3, "predicted": 4}
    assert m["confusionMatrix"]["cells"] == [
        {"actual": "A", "predicted": "B", "count": 1},
        {"actual": "B", "predicted": None, "count": 1},
    ]


def test_too_many_labels_for_a_matrix_still_answer_everything_else(gql: Query, monkeypatch) -> None:
    import evalql.api.limits

    expected = metrics(gql, t=0.5)
    monkeypatch.setattr(evalql.api.limits, "MAX_MATRIX_CELLS", 10)  # the 3-label store needs 16
    body = gql(METRICS.replace("confusionMatrix { labels counts }", ""), t=0.5)
    got = body["data"]["model"]["run"]["split"]["metrics"]
    assert got == {k: v for k, v in expected.items() if k != "confusionMatrix"}
    refused = gql(METRICS, t=0.5)
    assert refused["errors"][0]["extensions"]["code"] == "COST_LIMIT"
    assert "cells" in refused["errors"][0]["message"]


def test_insights_of_a_tiny_view_say_only_that_its_labels_have_too_few_rows(gql: Query) -> None:
    body = gql(
        '{ model(name: "m") { run(name: "v1") { split(name: "test") { metrics {'
        " insights { kind severity labels message value evidence { split label rows } } } } } } }"
    )
    found = body["data"]["model"]["run"]["split"]["metrics"]["insights"]
    assert [(i["kind"], i["labels"]) for i in found] == [
        ("low_support", ["B"]), ("low_support", ["C"]), ("low_support", ["A"]),
    ]
    assert found[0]["message"] == '"B" has only 2 rows: its recall is known only to within 9%–91%'
    assert found[0]["evidence"] == {"split": "test", "label": "B", "rows": None}


SPLIT = 'model(name: "m") { run(name: "v1") { split(name: "test") { %s } } }'


def test_summary_fields_read_the_counts_counted_once_before_them_and_only_when_asked(
    gql: Query, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = metrics(gql, t=0.5)
    counted: list[object] = []
    real = MulticlassView.counted

    async def spy(self: MulticlassView) -> object:
        counted.append(self)
        return await real(self)

    monkeypatch.setattr(MulticlassView, "counted", spy)
    # through a named and an inline fragment, the same numbers as plainly asked
    query = ("query { " + SPLIT % 'metrics(threshold: 0.5) { ...S ... on Metrics { f1 } }'
             + " } fragment S on Metrics { total accuracy precision }")
    body = gql(query)
    assert "errors" not in body, body
    got = body["data"]["model"]["run"]["split"]["metrics"]
    assert got == {k: expected[k] for k in ("total", "accuracy", "precision", "f1")}
    # Split.metrics counted the view first; the four fields read that, with no
    # count (nor coroutine) of their own
    assert len(counted) == 1
    # a selection reading nothing off the counts counts nothing
    counted.clear()
    body = gql("query { " + SPLIT % "metrics(threshold: 0.5) { threshold }" + " }")
    assert body["data"]["model"]["run"]["split"]["metrics"] == {"threshold": 0.5}
    assert counted == []


def test_a_failed_count_is_reported_at_each_field_that_reads_it(
    gql: Query, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable(self: MulticlassView) -> object:
        raise CostLimit("too dear")

    monkeypatch.setattr(MulticlassView, "counted", unavailable)
    body = gql("query { " + SPLIT % "metrics(threshold: 0.5) { threshold total accuracy }" + " }")
    paths = sorted(e["path"][-1] for e in body["errors"])
    assert paths == ["accuracy", "total"]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"COST_LIMIT"}
