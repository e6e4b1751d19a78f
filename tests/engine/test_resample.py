"""engine.resample: each resample is a multinomial draw of the view's rows
over its confusion cells, merged exactly, and reproducible by seed."""

from __future__ import annotations

import math

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
    assert merged_cells(counts, np.array(codes)).counts.sum() == counts.sum()
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


def table(cells: resample.Cells) -> dict[tuple[int, int, int], int]:
    return {(int(a), int(p), int(t)): int(n)
            for a, p, t, n in zip(cells.rows, cells.cols, cells.tps, cells.counts, strict=True)}


def test_merged_cells_sum_cells_that_add_to_the_same_counts() -> None:
    counts = np.array([[5, 1, 2], [3, 4, 0], [6, 7, 8]])
    assert table(merged_cells(counts, np.array([0]))) == {
        (0, 0, 0): 5, (0, -1, -1): 3, (-1, 0, -1): 9, (-1, -1, -1): 19}
    # (0, 1) and (1, 0) add 1 to the support + predictions of both labels
    assert table(merged_cells(counts, np.array([0, 1]), "PAIRS")) == {
        (0, 0, 0): 5, (1, 1, 1): 4, (0, 1, -1): 4, (-1, 0, -1): 8, (-1, 1, -1): 7,
        (-1, -1, -1): 8}
    # summed over labels: the diagonal, both sides, one side, neither
    assert table(merged_cells(counts, np.array([0, 1]), "POOLED")) == {
        (0, 0, 0): 9, (0, 0, -1): 4, (0, -1, -1): 2, (-1, 0, -1): 13, (-1, -1, -1): 8}
    with pytest.raises(ValueError, match="merge has to be one of"):
        merged_cells(counts, np.array([0]), "ROWS")


def multinomial_view(method: int) -> np.ndarray:
    """A confusion matrix whose resamples are drawn by ``method``."""
    if method == resample.POISSON:  # many rows over many cells
        return np.random.default_rng(1).integers(10, 60, (8, 8))
    p = np.array([[0.5, 0.1, 0.02], [0.05, 0.2, 0.03], [0.04, 0.06, 0.0]])
    return np.rint(p * (6 if method == resample.ROWS else 5000)).astype(np.int64)


@pytest.mark.parametrize("method", [resample.ROWS, resample.BINOMIALS, resample.POISSON])
def test_resampled_counts_have_the_multinomial_mean_and_variance(method: int) -> None:
    counts = multinomial_view(method)
    n = counts.sum()
    assert resample.choose_method(counts[counts > 0]) == method
    r = resample_counts(counts, None, 2000, 11)
    cells = {"tp0": (r.tp[:, 0], counts[0, 0]), "support1": (r.actual[:, 1], counts[1].sum()),
             "predicted0": (r.predicted[:, 0], counts[:, 0].sum())}
    for name, (drawn, k) in cells.items():
        share = k / n
        # 2,000 draws: the mean within 5 standard errors, the variance within
        # 15% (4.7 of its standard errors)
        assert abs(drawn.mean() - k) < 5 * np.sqrt(n * share * (1 - share) / 2000), name
        assert drawn.var() == pytest.approx(n * share * (1 - share), rel=0.15), name


def test_pairs_keep_each_labels_support_plus_predictions_and_pooled_their_sums() -> None:
    counts = multinomial_view(resample.POISSON)
    labels = np.array([3, 0, 6])
    cells = resample_counts(counts, labels, 500, 3)
    pairs = resample_counts(counts, labels, 500, 3, "PAIRS")
    pooled = resample_counts(counts, labels, 500, 3, "POOLED")
    assert pooled.tp.shape == (500, 1) and pairs.merge == "PAIRS"
    both = {name: r.actual + r.predicted for name, r in (("cells", cells), ("pairs", pairs))}
    for i, c in enumerate(labels):  # the same distribution: means and spreads agree
        expected = counts[c].sum() + counts[:, c].sum()
        for name, drawn in both.items():
            assert drawn[:, i].mean() == pytest.approx(expected, rel=0.01), name
        assert pairs.tp[:, i].mean() == pytest.approx(counts[c, c], rel=0.02)
        assert both["pairs"][:, i].std() == pytest.approx(both["cells"][:, i].std(), rel=0.2)
    pooled_support = counts[labels].sum()
    assert pooled.actual[:, 0].mean() == pytest.approx(pooled_support, rel=0.01)
    assert pooled.tp[:, 0].mean() == pytest.approx(counts[labels, labels].sum(), rel=0.02)


def test_the_poisson_variates_have_the_poisson_distribution() -> None:
    # Means on both sides of 10 (inversion below, PTRS above), and large;
    # below 10 the frequencies of each value too.
    state = resample._stream(np.random.default_rng(5))
    for lam in (0.3, 4.0, 9.9, 10.0, 37.0, 2500.0):
        constants = [float(c[0]) for c in resample._poisson_constants(np.array([lam]))]
        drawn = np.array([resample._poisson(state, *constants) for _ in range(3000)])
        assert drawn.mean() == pytest.approx(lam, rel=5 / np.sqrt(3000 * lam)), lam
        assert drawn.var() == pytest.approx(lam, rel=0.15), lam
        if lam < 10:
            k = np.arange(int(lam) + 1)
            pmf = np.exp(-lam + k * np.log(lam) - np.array([math.lgamma(i + 1) for i in k]))
            seen = np.bincount(drawn, minlength=k.size)[: k.size] / drawn.size
            assert np.all(np.abs(seen - pmf) < 5 * np.sqrt(pmf * (1 - pmf) / drawn.size)), lam


def test_the_uniforms_are_uniform_and_the_streams_differ_by_seed() -> None:
    state = resample._stream(np.random.default_rng(1))
    u = np.array([resample._uniform(state) for _ in range(20_000)])
    assert u.min() >= 0 and u.max() < 1
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    assert np.all(np.abs(counts - 2000) < 5 * np.sqrt(2000 * 0.9))
    other = resample._stream(np.random.default_rng(2))
    assert not np.array_equal(other, resample._stream(np.random.default_rng(1)))


def test_small_cells_beside_large_ones_have_the_multinomial_spread() -> None:
    # Many cells of 1 to 5 rows (tabled Poisson variates, the missing rows
    # placed one by one) beside a few large ones (PTRS variates, the missing
    # rows by binomials).
    counts = np.concatenate([np.tile([1, 2, 3, 5], 300), [40_000, 25_000, 9_000]])
    matrix = np.zeros((35, 35), dtype=np.int64)
    matrix.ravel()[: counts.size] = counts
    assert resample.choose_method(counts) == resample.POISSON
    r = resample_counts(matrix, None, 1500, 9)
    n = counts.sum()
    for column, k in ((0, matrix[0].sum()), (3, matrix[3].sum()), (33, matrix[33].sum())):
        share = k / n
        drawn = r.actual[:, column]
        assert abs(drawn.mean() - k) < 5 * np.sqrt(n * share * (1 - share) / 1500)
        assert drawn.var() == pytest.approx(n * share * (1 - share), rel=0.2)
    assert (r.actual.sum(axis=1) <= n).all()


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


def test_the_estimated_cost_grows_with_cells_and_resamples_and_falls_with_merging() -> None:
    rng = np.random.default_rng(4)
    small, large = rng.integers(0, 100, (11, 11)), rng.integers(0, 100, (101, 101))
    assert resample.estimated_seconds(small, None, 1000) < resample.estimated_seconds(
        large, None, 1000)
    assert resample.estimated_seconds(large, None, 100) < resample.estimated_seconds(
        large, None, 1000)
    merges = [resample.estimated_seconds(large, None, 1000, m) for m in resample.MERGES]
    assert merges == sorted(merges, reverse=True)  # CELLS, PAIRS, POOLED
    assert resample.estimated_seconds(np.zeros((3, 3), np.int64), None, 1000) == 0


def test_empty_views_and_bad_arguments() -> None:
    r = resample_counts(np.zeros((3, 3), dtype=np.int64), None, 3, 0)
    assert r.tp.shape == (3, 2) and not r.tp.any()
    with pytest.raises(ValueError, match="resamples"):
        resample_counts(np.ones((2, 2), dtype=np.int64), None, 0, 0)
    with pytest.raises(ValueError, match="seed"):
        resample_counts(np.ones((2, 2), dtype=np.int64), None, 1, -1)


@pytest.mark.parametrize("lam", [0.3, 4.0, 37.0, 2500.0])
@pytest.mark.parametrize("narrow", [False, True])
def test_the_tabled_poisson_variates_have_the_poisson_distribution(lam: float, narrow: bool) -> None:
    # A cell's table as the plan sizes it, and a table cut short on purpose,
    # so that draws walk on past its end term by term (else ~1e-12 likely).
    start, width = (int(v[0]) for v in resample._tables(np.array([lam])))
    if narrow:
        width = max(2, int(math.sqrt(lam)))
    inverse = 1.0 / np.maximum(np.arange(start + width + 2, dtype=np.float64), 1.0)
    cdf = np.empty(width + 1)
    guide = np.empty(resample.TABLE_GUIDE * width, dtype=np.int64)
    beyond = resample._tabulate(lam, start, width, inverse, cdf, guide)
    state = resample._stream(np.random.default_rng(int(lam * 10) + narrow))
    drawn = np.array([resample._from_table(resample._uniform(state), lam, start, width, cdf,
                                           guide, beyond) for _ in range(20_000)])
    assert drawn.mean() == pytest.approx(lam, rel=5 / np.sqrt(20_000 * lam))
    assert drawn.var() == pytest.approx(lam, rel=0.1)
    # the frequency of each value within two standard deviations of the mean
    spread = math.sqrt(lam)
    k = np.arange(max(0, int(lam - 2 * spread)), int(lam + 2 * spread) + 1)
    pmf = np.exp(-lam + k * np.log(lam) - np.array([math.lgamma(i + 1.0) for i in k]))
    seen = np.array([(drawn == i).mean() for i in k])
    assert np.all(np.abs(seen - pmf) < 5 * np.sqrt(pmf * (1 - pmf) / drawn.size) + 1e-4)
    if narrow:
        assert (drawn >= start + width).any()  # the walk past the table was taken
