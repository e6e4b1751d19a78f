"""Insight rules on hand-made counts."""

from __future__ import annotations

import numpy as np

from evalql.engine.insights import insights
from evalql.engine.metrics import label_counts, summary


def matrix() -> np.ndarray:
    # labels 0, 1, 2 and None; label 1's rows often go to 0, label 2 is rarely found
    return np.array([
        [90, 5, 0, 5],
        [30, 60, 0, 10],
        [10, 5, 8, 7],
        [2, 0, 0, 0],
    ])


def test_a_label_often_predicted_as_another_is_a_confusion() -> None:
    counts = matrix()
    found = insights(counts, label_counts(counts, np.arange(3)), summary(counts), 0)
    confusion = [f for f in found if f.kind == "confusion"]
    assert confusion[0].codes == (1, 0) and confusion[0].rows == 30
    assert confusion[0].value == 0.3 and confusion[0].severity == "warning"


def test_a_label_found_in_few_of_its_rows_is_low_recall_and_most_severe_first() -> None:
    counts = matrix()
    found = insights(counts, label_counts(counts, np.arange(3)), summary(counts), 0)
    assert found[0].kind == "low_recall" and found[0].codes == (2,)
    assert found[0].severity == "critical" and found[0].value == 8 / 30
    assert [f.severity for f in found] == sorted(
        (f.severity for f in found), key=["critical", "warning", "info"].index
    )


def test_rates_over_too_few_rows_and_undefined_rates_are_not_reported() -> None:
    counts = np.array([[1, 0, 0], [0, 0, 5], [0, 0, 0]])  # label 1: recall 0 over 5 rows
    found = insights(counts, label_counts(counts, np.arange(2)), summary(counts), 0)
    assert found == []


def test_a_high_abstention_rate_is_reported_as_info() -> None:
    counts = np.array([[50, 0, 50], [0, 0, 0], [0, 0, 0]])
    found = insights(counts, label_counts(counts, np.arange(2)), summary(counts), 0)
    [abstention] = [f for f in found if f.kind == "abstention"]
    assert abstention.value == 0.5 and abstention.rows == 50 and abstention.severity == "info"


def test_many_rows_without_ground_truth_are_reported_as_info() -> None:
    # 30 rows, 6 of them unlabeled (20%): above the 5% share, over enough rows.
    counts = np.array([[24, 0], [6, 0]])
    found = insights(counts, label_counts(counts, np.arange(1)), summary(counts), 6)
    [unlabeled] = [f for f in found if f.kind == "unlabeled"]
    assert unlabeled.value == 0.2 and unlabeled.rows == 6 and unlabeled.severity == "info"
    few = insights(counts, label_counts(counts, np.arange(1)), summary(counts), 1)
    assert [f for f in few if f.kind == "unlabeled"] == []
