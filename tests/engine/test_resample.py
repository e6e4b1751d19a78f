"""engine.resample: each resample is a multinomial draw of the view's rows
over its confusion cells, merged exactly, and reproducible by seed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalql.engine import resample
from evalql.engine.resample import merged_cells, resample_counts

SMALL = settings(max_examples=25, deadline=None)


@st.composite
def confusions(draw: st.DrawFn) -> tuple[np.ndarray, list[int] | None]:
    n_labels = draw(st.integers(1, 4))
    cells = (n_labels + 1) ** 2
    counts = draw(st.lists(st.integers(0, 400) | st.just(0), min_size=cells, max_size=cells))
    labels = draw(st.none() | st.permutations(range(n_labels)).flatmap(
        lambda order: st.integers(1, n_labels).map(lambda k: list(order[:k]))))
    return np.array(counts, dtype=np.int64).reshape(n_labels + 1, n_labels + 1), labels


@SMALL
@given(case=confusions(), seed=st.integers(0, 10**6))
def test_every_resample_keeps_the_rows_and_the_cells_they_can_land_in(
    case: tuple[np.ndarray, list[int] | None], seed: int
) -> None:
    counts, labels = case
    codes = list(range(counts.shape[0] - 1)) if labels is None else labels
    r = resample_counts(counts, labels, 40, seed)
    assert r.tp.shape == r.actual.shape == r.predicted.shape == (40, len(codes))
    rows, cols, merged = merged_cells(counts, np.array(codes))
    assert merged.sum() == counts.sum()
    # a label's TP, support and predictions come only from cells holding rows
    for i, c in enumerate(codes):
        assert (r.tp[:, i] == 0).all() or counts[c, c] > 0
        assert (r.actual[:, i] == 0).all() or counts[c].sum() > 0
        assert (r.predicted[:, i] == 0).all() or counts[:, c].sum() > 0
    assert (r.tp <= r.actual).all() and (r.tp <= r.predicted).all()
    # every label filtered in: each resample's supports and None row add up to N
    if labels is None:
        none_row = counts.shape[0] - 1
        assert (r.actual.sum(axis=1) <= counts.sum()).all()
        if counts[none_row].sum() == 0:
            assert (r.actual.sum(axis=1) == counts.sum()).all()


def test_merged_cells_sum_cells_that_add_to_the_same_counts() -> None:
    counts = np.array([[5, 1, 2], [3, 4, 0], [6, 7, 8]])
    rows, cols, merged = merged_cells(counts, np.array([0]))
    table = {(int(a), int(p)): int(n) for a, p, n in zip(rows, cols, merged, strict=True)}
    assert table == {(0, 0): 5, (0, -1): 3, (-1, 0): 9, (-1, -1): 19}


@pytest.mark.parametrize("rows", [6, 5000])  # categorical draws only; Poisson variates too
def test_resampled_counts_have_the_multinomial_mean_and_variance(rows: int) -> None:
    p = np.array([[0.5, 0.1, 0.02], [0.05, 0.2, 0.03], [0.04, 0.06, 0.0]])
    counts = np.rint(p * rows).astype(np.int64)
    n = counts.sum()
    r = resample_counts(counts, None, 4000, 11)
    cells = {"tp0": (r.tp[:, 0], counts[0, 0]), "support1": (r.actual[:, 1], counts[1].sum()),
             "predicted0": (r.predicted[:, 0], counts[:, 0].sum())}
    for name, (drawn, k) in cells.items():
        share = k / n
        # 4,000 draws: the mean within 5 standard errors, the variance within 10%
        assert abs(drawn.mean() - k) < 5 * np.sqrt(n * share * (1 - share) / 4000), name
        assert drawn.var() == pytest.approx(n * share * (1 - share), rel=0.1), name


def test_the_poisson_variates_follow_numpys_algorithms() -> None:
    # Means on both sides of 10 (multiplication below, PTRS above), and large.
    for lam in (0.3, 4.0, 9.9, 10.0, 37.0, 2500.0):
        constants = [float(c[0]) for c in resample._poisson_constants(np.array([lam]))]
        generator = np.random.default_rng(5)
        drawn = np.array([resample._poisson(generator, *constants) for _ in range(3000)])
        assert drawn.mean() == pytest.approx(lam, rel=5 / np.sqrt(3000 * lam)), lam
        assert drawn.var() == pytest.approx(lam, rel=0.15), lam


def test_the_same_seed_gives_the_same_resamples_on_any_number_of_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counts = np.array([[900, 30, 5], [40, 700, 9], [3, 8, 0]])
    first = resample_counts(counts, None, 3 * resample.BLOCK + 5, 42)
    monkeypatch.setattr(resample, "CORES", 1)
    again = resample_counts(counts, None, 3 * resample.BLOCK + 5, 42)
    for name in ("tp", "actual", "predicted"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    other = resample_counts(counts, None, 3 * resample.BLOCK + 5, 43)
    assert not np.array_equal(first.tp, other.tp)


def test_empty_views_and_bad_arguments() -> None:
    r = resample_counts(np.zeros((3, 3), dtype=np.int64), None, 3, 0)
    assert r.tp.shape == (3, 2) and not r.tp.any()
    with pytest.raises(ValueError, match="resamples"):
        resample_counts(np.ones((2, 2), dtype=np.int64), None, 0, 0)
    with pytest.raises(ValueError, match="seed"):
        resample_counts(np.ones((2, 2), dtype=np.int64), None, 1, -1)
