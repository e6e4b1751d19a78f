"""Bootstrap resamples of a confusion matrix, drawn cell by cell.

Resampling a view's N rows with replacement gives every cell of its
confusion matrix a new count, and together those counts are one draw of
Multinomial(N, counts / N). So a resample costs O(cells), whatever N is,
and a resample's per-label TP, support and predicted counts are sums of
cells.

A multinomial draw here is exact and costs about one random variate per
cell (NumPy's ``multinomial`` spends a binomial, several times dearer, on each):

1. Poissonization: X_i ~ Poisson(mu p_i), independent, mu = N - 2 sqrt(N).
   Given their total T, (X_i) is Multinomial(T, p).
2. When T > N (about 2% of draws) the cells are drawn again: conditioning
   on T <= N leaves step 1's multinomial as it is.
3. The N - T rows still missing are added one at a time, each to cell i
   with probability p_i (inversion through a guide table over the integer
   cumulative counts: O(1) expected per row).

So the result is Multinomial(N, p) exactly. With few rows (N at most twice
the number of cells) step 1 is skipped and all N rows are drawn as in step 3.
Poisson variates are NumPy's algorithms (transformed rejection, PTRS, for
means of 10 and more; multiplication of uniforms below), with each cell's
constants computed once for all resamples.

Randomness comes from NumPy Generators, one per block of ``BLOCK``
resamples seeded by ``(seed, block)``: the resamples are the same for a seed
whatever the number of cores running the blocks.

Cells that add to the same per-label counts are merged before drawing (a
class filter's outside cells all add nothing, say): the merged counts are
the multinomial of the merged probabilities, so this is exact too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import frozen
from evalql.engine.jit import CORES, chunk_bounds, inline_jit, jit, map_ranges

BLOCK = 32  # resamples per random stream


@dataclass(frozen=True)
class Resamples:
    """Per-label counts of each resample: arrays of shape (resamples, labels).

    ``labels`` are the codes of the class filter, in its order; ``tp`` are
    the diagonal cells, ``actual`` the row sums (TP + FN, the support) and
    ``predicted`` the column sums (TP + FP).
    """

    labels: np.ndarray
    tp: np.ndarray
    actual: np.ndarray
    predicted: np.ndarray


@inline_jit
def _poisson(generator, lam, enlam, loglam, a, b, invalpha, vr):
    # One Poisson(lam) variate; the other arguments are lam's constants.
    if lam < 10.0:
        k = 0
        product = generator.random()
        while product > enlam:
            k += 1
            product *= generator.random()
        return k
    while True:
        u = generator.random() - 0.5
        v = generator.random()
        us = 0.5 - abs(u)
        if us <= 0.0:  # pragma: no cover (u = -0.5, probability 2**-53; divides by us)
            continue
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        bound = -lam + k * loglam - math.lgamma(k + 1.0)
        if v == 0.0 or math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= bound:
            return k


@inline_jit
def _category(generator, cumulative, guide, n_rows):
    # The cell of one row drawn uniformly from the N: the first cell whose
    # cumulative count passes the row's index.
    row = min(np.int64(generator.random() * n_rows), n_rows - 1)
    i = guide[(row * guide.shape[0]) // n_rows]
    while cumulative[i] <= row:
        i += 1
    return i


@jit
def _resample_block(generator, rows, cols, cumulative, guide, lam, enlam, loglam, a, b,
                    invalpha, vr, n_rows, poissonize, n_labels, count):
    # ``count`` resamples; ``rows``/``cols`` give each merged cell's label
    # position (-1 for none) as an actual and as a predicted label.
    tp = np.zeros((count, n_labels), dtype=np.int64)
    actual = np.zeros((count, n_labels), dtype=np.int64)
    predicted = np.zeros((count, n_labels), dtype=np.int64)
    cells = lam.shape[0]
    drawn = np.zeros(cells, dtype=np.int64)
    for r in range(count):
        total = n_rows + 1 if poissonize else 0
        while total > n_rows:
            total = 0
            for i in range(cells):
                x = _poisson(generator, lam[i], enlam[i], loglam[i], a[i], b[i], invalpha[i],
                             vr[i])
                drawn[i] = x
                total += x
        for _ in range(n_rows - total):
            drawn[_category(generator, cumulative, guide, n_rows)] += 1
        for i in range(cells):
            x = drawn[i]
            drawn[i] = 0
            if rows[i] >= 0:
                actual[r, rows[i]] += x
                if rows[i] == cols[i]:
                    tp[r, rows[i]] += x
            if cols[i] >= 0:
                predicted[r, cols[i]] += x
    return tp, actual, predicted


@dataclass(frozen=True)
class _Plan:
    """The merged cells and every constant the kernel reads, computed once."""

    rows: np.ndarray
    cols: np.ndarray
    cumulative: np.ndarray
    guide: np.ndarray
    poisson: tuple[np.ndarray, ...]  # lam, enlam, loglam, a, b, invalpha, vr
    n_rows: int
    poissonize: bool
    n_labels: int

    def kernel_args(self) -> tuple:
        return (self.rows, self.cols, self.cumulative, self.guide, *self.poisson, self.n_rows,
                self.poissonize, self.n_labels)


def merged_cells(
    counts: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, cols, merged)``: the matrix's cells merged by what they add to.

    A cell (a, p) adds to the support of a when a is in ``labels``, to the
    predictions of p when p is, and to the TP of a when a = p. ``rows`` and
    ``cols`` are those positions in ``labels`` (-1 outside), ``merged`` the
    summed counts; empty cells are dropped.

    Example: K = 2, labels ``[0]``: cells (1, 1), (1, None) and (None, 1)
    all become the one cell (-1, -1).
    """
    size = counts.shape[0]
    position = np.full(size, -1, dtype=np.int64)
    position[np.asarray(labels, dtype=np.intp)] = np.arange(len(labels))
    actual, predicted = np.nonzero(counts)
    width = len(labels) + 1
    key = (position[actual] + 1) * width + (position[predicted] + 1)
    sums = np.bincount(key, weights=counts[actual, predicted], minlength=width * width)
    merged_keys = np.flatnonzero(sums)
    merged = np.rint(sums[merged_keys]).astype(np.int64)
    return merged_keys // width - 1, merged_keys % width - 1, merged


def _poisson_constants(lam: np.ndarray) -> tuple[np.ndarray, ...]:
    # numpy's random_poisson: multiplication below 10, PTRS's constants above
    # (computed at 10 or more only, where they are defined).
    big = np.maximum(lam, 10.0)
    b = 0.931 + 2.53 * np.sqrt(big)
    a = -0.059 + 0.02483 * b
    return lam, np.exp(-lam), np.log(big), a, b, 1.1239 + 1.1328 / (b - 3.4), 0.9277 - 3.6224 / (
        b - 2)


def _plan(counts: np.ndarray, labels: np.ndarray) -> _Plan:
    rows, cols, merged = merged_cells(counts, labels)
    n_rows = int(merged.sum())
    cells = merged.shape[0]
    poissonize = n_rows > 2 * cells
    mean = max(n_rows - 2.0 * math.sqrt(n_rows), 0.0) if poissonize else 0.0
    cumulative = np.cumsum(merged)
    starts = np.arange(cells, dtype=np.int64) * n_rows // max(cells, 1)
    guide = np.searchsorted(cumulative, starts, side="right")
    lam = merged * (mean / n_rows) if n_rows else np.zeros(0)
    constants = _poisson_constants(lam)
    return _Plan(
        rows=frozen(rows, np.int64), cols=frozen(cols, np.int64),
        cumulative=frozen(cumulative, np.int64), guide=frozen(guide, np.int64),
        poisson=tuple(frozen(c, np.float64) for c in constants), n_rows=n_rows,
        poissonize=poissonize, n_labels=len(labels),
    )


def resample_counts(
    counts: np.ndarray, labels: np.ndarray | None, resamples: int, seed: int
) -> Resamples:
    """Per-label counts of ``resamples`` bootstrap resamples of a view's rows.

    Parameters
    ----------
    counts : the ``(K + 1) x (K + 1)`` confusion matrix of the view.
    labels : the class filter's codes (None: every label).
    resamples : how many resamples, at least 1.
    seed : a non-negative integer; the same seed gives the same resamples.

    Returns
    -------
    Resamples, arrays of shape ``(resamples, len(labels))``. An empty view
    resamples to zeros.

    Each resample resamples all N rows of the view (every cell, None's
    included), as scikit-learn's metrics on a resampled ``y_true``/``y_pred``
    would see them. Cost: about one Poisson variate per non-empty cell and
    2 sqrt(N) categorical draws per resample.
    """
    if resamples < 1:
        raise ValueError(f"resamples has to be at least 1, got {resamples}")
    if seed < 0:
        raise ValueError(f"seed has to be a non-negative integer, got {seed}")
    codes = np.arange(counts.shape[0] - 1) if labels is None else np.asarray(labels)
    plan = _plan(np.asarray(counts), codes)
    blocks = -(-resamples // BLOCK)

    def run(lo: int, hi: int) -> list[tuple[np.ndarray, ...]]:
        parts = []
        for block in range(lo, hi):
            count = min(BLOCK, resamples - block * BLOCK)
            generator = np.random.default_rng([seed, block])
            parts.append(_resample_block(generator, *plan.kernel_args(), count))
        return parts

    parts = [p for chunk in map_ranges(run, chunk_bounds(blocks, min(CORES, blocks)))
             for p in chunk]
    tp, actual, predicted = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return Resamples(labels=codes, tp=tp, actual=actual, predicted=predicted)
