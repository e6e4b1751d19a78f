"""engine.intervals: Wilson intervals against scipy, the bootstrap F1 interval
by its promises (reproducible by seed, around the point estimate)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from evalql.engine.agreement import f_beta_average
from evalql.engine.averaging import average
from evalql.engine.intervals import (
    f1_interval,
    f_beta_interval,
    f_beta_interval_seconds,
    normal_quantile,
    percentile_interval,
    wilson_interval,
)
from evalql.engine.metrics import label_counts

LEVELS = st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99, 0.999]) | st.floats(0.01, 0.999)
# The bootstrap's kernel runs as Python when CI turns the JIT off: a few
# examples of a few hundred resamples each.
BOOTSTRAP = settings(max_examples=15, deadline=None)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 10**7), data=st.data(), level=LEVELS)
def test_wilson_interval_matches_scipy(n: int, data: st.DataObject, level: float) -> None:
    k = data.draw(st.integers(0, n) | st.sampled_from([0, n, n // 2]))
    got = wilson_interval(k, n, level)
    expected = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    assert got is not None and got.level == level
    assert got.low == pytest.approx(expected.low, rel=1e-12, abs=1e-15)
    assert got.high == pytest.approx(expected.high, rel=1e-12, abs=1e-15)
    assert 0 <= got.low <= k / n <= got.high <= 1


def test_wilson_interval_edges() -> None:
    assert wilson_interval(0, 0) is None
    none_right, all_right = wilson_interval(0, 20), wilson_interval(20, 20)
    assert none_right is not None and all_right is not None
    assert none_right.low == 0.0 and all_right.high == 1.0
    assert none_right.high == pytest.approx(1 - all_right.low)
    assert normal_quantile(0.95) == pytest.approx(1.959963984540054, rel=1e-15)
    for k, n, level in ((3, 2, 0.95), (-1, 2, 0.95), (1, 2, 1.0), (1, 2, 0.0)):
        with pytest.raises(ValueError):
            wilson_interval(k, n, level)


def test_percentile_interval_takes_the_middle_level_of_values() -> None:
    values = np.arange(101, dtype=np.float64)
    got = percentile_interval(values, 0.9)
    assert (got.low, got.high, got.level) == (pytest.approx(5.0), pytest.approx(95.0), 0.9)


@st.composite
def confusions(draw: st.DrawFn) -> np.ndarray:
    """A (K+1)^2 confusion matrix with room for the bootstrap to move."""
    n_labels = draw(st.integers(1, 5))
    cells = (n_labels + 1) ** 2
    counts = draw(st.lists(st.integers(0, 60), min_size=cells, max_size=cells))
    return np.array(counts, dtype=np.int64).reshape(n_labels + 1, n_labels + 1)


@BOOTSTRAP
@given(counts=confusions(), how=st.sampled_from(["MACRO", "MICRO", "WEIGHTED"]),
       seed=st.integers(0, 2**32))
def test_the_bootstrap_is_reproducible_by_seed(counts: np.ndarray, how: str, seed: int) -> None:
    first = f1_interval(counts, None, how, 0.9, 200, seed)
    assert first == f1_interval(counts, None, how, 0.9, 200, seed)
    if first is None:
        assert counts.sum() == 0
        return
    assert first.level == 0.9 and 0 <= first.low <= first.high <= 1


def test_different_seeds_give_different_resamples() -> None:
    counts = np.array([[50, 10, 3], [8, 40, 2], [4, 5, 0]])
    assert f1_interval(counts, seed=1, resamples=200) != f1_interval(counts, seed=2,
                                                                     resamples=200)


@BOOTSTRAP
@given(counts=confusions(), how=st.sampled_from(["MACRO", "MICRO", "WEIGHTED"]),
       level=st.sampled_from([0.8, 0.95]))
def test_the_interval_contains_the_point_estimate(
    counts: np.ndarray, how: str, level: float
) -> None:
    # Non-degenerate: each label with support and predictions, a few hundred rows.
    counts = counts + np.diag(np.full(counts.shape[0], 40))
    labels = np.arange(counts.shape[0] - 1)
    point = average("f1", label_counts(counts, labels), how)
    got = f1_interval(counts, labels, how, level, 300, 0)
    assert got is not None and got.low <= point <= got.high


def test_the_interval_narrows_as_rows_grow() -> None:
    small = np.array([[30, 10, 2], [6, 25, 3], [2, 3, 0]])
    narrow, wide = f1_interval(small * 100, resamples=300), f1_interval(small, resamples=300)
    assert narrow is not None and wide is not None
    assert narrow.high - narrow.low < (wide.high - wide.low) / 5


def test_a_class_filter_and_beta_reach_the_resampled_average() -> None:
    counts = np.array([[30, 10, 2, 1], [6, 25, 3, 0], [9, 1, 40, 3], [2, 3, 0, 0]])
    labels = np.array([2, 0])
    got = f_beta_interval(counts, labels, "MACRO", 0.95, 300, 0, beta=2.0)
    point = f_beta_average(label_counts(counts, labels), 2.0, "MACRO")
    every = f_beta_interval(counts, None, "MACRO", 0.95, 300, 0, beta=2.0)
    assert got is not None and got.low <= point <= got.high and got != every


def test_edge_views() -> None:
    assert f1_interval(np.zeros((3, 3), dtype=np.int64)) is None
    # every row unlabeled: no support, nothing right: F1 is 0 in every resample
    unlabeled = np.array([[0, 0, 0], [0, 0, 0], [4, 5, 1]])
    got = f1_interval(unlabeled, resamples=50)
    assert got is not None and (got.low, got.high) == (0.0, 0.0)
    # every row abstained
    assert f1_interval(np.array([[0, 7], [0, 0]]), resamples=50) == f1_interval(
        np.array([[0, 3], [0, 0]]), resamples=50)
    # a single class, always right: every resample says 1
    got = f1_interval(np.array([[9, 0], [0, 0]]), resamples=50)
    assert got is not None and (got.low, got.high) == (1.0, 1.0)
    with pytest.raises(ValueError, match="level"):
        f1_interval(unlabeled, level=1.5)
    with pytest.raises(ValueError, match="average has to be one of"):
        f1_interval(unlabeled, average="SAMPLES")


def test_the_cost_estimate_follows_the_average() -> None:
    counts = np.random.default_rng(2).integers(0, 1000, (51, 51))
    macro, micro, weighted = (f_beta_interval_seconds(counts, None, how, 1000)
                              for how in ("MACRO", "MICRO", "WEIGHTED"))
    assert micro < macro < weighted
    assert f_beta_interval_seconds(counts, None, "MACRO", 1000, beta=2.0) == weighted


def test_a_thousand_labels() -> None:
    rng = np.random.default_rng(3)
    counts = rng.poisson(0.005, (1001, 1001)) + np.diag(rng.poisson(20, 1001))
    labels = np.arange(1000)
    got = f1_interval(counts, labels, "MACRO", 0.95, 20, 0)
    point = average("f1", label_counts(counts, labels), "MACRO")
    assert got is not None and got.low <= point <= got.high
    assert math.isclose(got.high - got.low, 0, abs_tol=0.05)
