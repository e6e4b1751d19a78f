"""engine.ranking.threshold_for_recall against a brute-force scan."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from evalql.engine.confusion import confusion_counts
from evalql.engine.metrics import label_counts, recall
from evalql.engine.ranking import precision_steps, threshold_for_recall
from tests.engine.strategies import SETTINGS, View, views

GOALS = st.sampled_from([0.0, 0.25, 0.5, 0.75, 0.9, 1.0]) | st.floats(-0.5, 1.5)


def recall_at(view: View, label: int, t: float) -> float:
    counts = confusion_counts(view.actual, view.predicted, view.confidence, t, view.n_labels)
    return float(recall(label_counts(counts, [label]))[0])


@SETTINGS
@given(data=st.data(), view=views(min_rows=1), goal=GOALS)
def test_the_threshold_for_a_recall_is_the_highest_that_reaches_it(
    data: st.DataObject, view: View, goal: float
) -> None:
    label = data.draw(st.integers(0, view.n_labels - 1))
    support = int(np.count_nonzero(view.actual == label))
    steps = precision_steps(view.actual, view.predicted, view.confidence, label)
    found = threshold_for_recall(steps, goal, support)
    if support == 0:
        assert found is None
        return
    if goal <= 0:
        assert found == np.float32(1.0)
        return
    # Brute force: the label's recall changes only at its own confidences.
    own = view.confidence[view.predicted == label]
    reaching = [float(t) for t in set(own) if recall_at(view, label, t) >= goal]
    assert found == (max(reaching) if reaching else None)
    if found is not None and found < 1:  # one float32 step higher no longer reaches it
        assert recall_at(view, label, float(np.nextafter(found, np.float32(2)))) < goal


def test_the_highest_threshold_keeps_the_fewest_predictions() -> None:
    # Label 0, support 4: recall 1/4 at 0.9, 2/4 at 0.8, 3/4 at 0.3.
    actual = np.array([0, 0, 0, 0, 1], dtype=np.int32)
    predicted = np.array([0, 0, 0, 1, 0], dtype=np.int32)
    confidence = np.array([0.9, 0.8, 0.3, 0.9, 0.85], dtype=np.float32)
    steps = precision_steps(actual, predicted, confidence, 0)
    assert threshold_for_recall(steps, 0.5, 4) == np.float32(0.8)
    assert threshold_for_recall(steps, 0.75, 4) == np.float32(0.3)
    assert threshold_for_recall(steps, 0.9, 4) is None  # one row is predicted as another label
    assert threshold_for_recall(steps, 0.0, 4) == np.float32(1.0)
    assert threshold_for_recall(steps, 0.5, 0) is None
