"""engine.multilabel.calibration: each (row, label) pair of the view is one
binary probability, checked against scikit-learn on the flattened indicator
and score matrices: brier_score_loss, log_loss and calibration_curve."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss

from evalql.engine.calibration import expected_calibration_error
from evalql.engine.multilabel.calibration import pair_reliability, pair_score_losses
from tests.engine.multilabel.sets import SETTINGS, MultilabelView, filters, multilabel_views
from tests.engine.strategies import CONFIDENCES


@SETTINGS
@given(data=st.data(), view=multilabel_views(), bins=st.integers(1, 12))
def test_pairs_give_scikit_learns_brier_log_loss_and_calibration_curve(
    data: st.DataObject, view: MultilabelView, bins: int
) -> None:
    scores = data.draw(hnp.arrays(np.float32, (view.n_rows, view.n_labels), elements=CONFIDENCES))
    labels, mask = data.draw(filters(view))
    in_view = np.ones(view.n_rows, bool) if mask is None else mask
    chosen = sorted(view.chosen(labels))
    y, _ = view.indicators()
    truth, p = y[in_view][:, chosen].ravel(), scores[in_view][:, chosen].ravel()
    losses = pair_score_losses(view.sets, scores, labels, mask)
    diagram = pair_reliability(view.sets, scores, bins, labels, mask)
    assert losses.rows == truth.size == diagram.count.sum()
    if truth.size == 0:
        assert math.isnan(losses.brier) and math.isnan(losses.log_loss)
        assert math.isnan(expected_calibration_error(diagram))
        return
    assert losses.brier == pytest.approx(brier_score_loss(truth, p), rel=1e-6, abs=1e-12)
    assert losses.log_loss == pytest.approx(
        log_loss(truth, p, labels=[False, True]), rel=1e-5, abs=1e-6)
    prob_true, prob_pred = calibration_curve(truth, p, n_bins=bins)
    full = diagram.count > 0
    np.testing.assert_allclose(diagram.accuracy()[full], prob_true, rtol=1e-12)
    np.testing.assert_allclose(diagram.mean_probability()[full], prob_pred, rtol=1e-7)
    gap = np.abs(prob_true - prob_pred) @ diagram.count[full] / truth.size
    assert expected_calibration_error(diagram) == pytest.approx(gap, abs=1e-12)


def test_scores_have_to_be_a_matrix_of_the_rows() -> None:
    from tests.engine.multilabel.sets import label_sets

    sets = label_sets([[0]], [[0]])
    with pytest.raises(ValueError, match="N rows"):
        pair_score_losses(sets, np.zeros((2, 1), np.float32))
