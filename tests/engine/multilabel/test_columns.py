"""engine.multilabel.columns: the checks every kernel wrapper makes, and
read-only arrays as Arrow hands them over."""

from __future__ import annotations

import numpy as np
import pytest

from evalql.engine.multilabel.columns import LabelSets
from evalql.engine.multilabel.counts import multilabel_counts
from evalql.engine.multilabel.rows import RowTests, label_confidence, match_rows
from tests.engine.multilabel.sets import label_sets, random_sets


def test_read_only_arrays_are_accepted_as_arrow_hands_them_over() -> None:
    sets, y, confidence = random_sets(500, 4, seed=1)
    for array in vars(sets).values():
        array.flags.writeable = False
    mask = np.ones(500, dtype=np.bool_)
    mask.flags.writeable = False
    counts = multilabel_counts(sets, 0.5, 4, mask, matrix=True)
    np.testing.assert_array_equal(counts.support, y.sum(axis=0))
    assert counts.matrix is not None and counts.matrix.shape == (5, 5)
    assert match_rows(sets, 0.5, 4, RowTests(exact=True), mask).shape == (500,)
    assert label_confidence(sets, 1).shape == (500,)


def test_columns_of_the_wrong_shape_are_refused() -> None:
    good = label_sets([[0]], [[0]], [[0.5]])
    with pytest.raises(ValueError, match="same length"):
        multilabel_counts(LabelSets(*list(vars(good).values())[:4], np.ones(2)), 0.5, 1)
    short = LabelSets(np.zeros(3, np.int64), *list(vars(good).values())[1:])
    with pytest.raises(ValueError, match="offsets"):
        multilabel_counts(short, 0.5, 1, matrix=True)
    beyond = LabelSets(np.array([0, 5]), *list(vars(good).values())[1:])
    with pytest.raises(ValueError, match="within"):
        match_rows(beyond, 0.5, 1, RowTests(exact=True))
    with pytest.raises(ValueError, match="mask"):
        multilabel_counts(good, 0.5, 1, mask=np.ones(3, dtype=np.bool_))
    with pytest.raises(ValueError, match="label codes"):
        multilabel_counts(good, 0.5, 1, labels=[1])
