"""Bootstrap resamples of a confusion matrix, drawn cell by cell.

Resampling a view's N rows with replacement gives every cell of its
confusion matrix a new count, and together those counts are one draw of
Multinomial(N, counts / N). So a resample costs O(cells), whatever N is,
and a resample's per-label TP, support and predicted counts are sums of
cells.

Every multinomial draw here is exact, by whichever of three ways costs
least for the view's N rows and m cells (``choose_method``):

- ROWS: each of the N rows lands in cell i with probability p_i (inversion
  through a guide table over the integer cumulative counts: O(1) expected
  per row). For few rows.
- BINOMIALS: cell by cell, Binomial(rows left, p_i / mass left), as NumPy's
  ``multinomial``: m - 1 binomial variates, each costly to set up. For few
  cells.
- POISSON: about one cheap variate per cell, for many rows and many cells:
  1. X_i ~ Poisson(mu p_i), independent, mu = N - 2 sqrt(N): given their
     total T, (X_i) is Multinomial(T, p);
  2. when T > N (about 2% of draws) the cells are drawn again: conditioning
     on T <= N leaves step 1's multinomial as it is;
  3. the N - T rows still missing are added as in ROWS.
  Poisson variates are NumPy's algorithms (transformed rejection, PTRS, for
  means of 10 and more; multiplication of uniforms below), each cell's
  constants computed once for all resamples.

Randomness comes from NumPy Generators, one per block of ``BLOCK``
resamples seeded by ``(seed, block)``: the resamples are the same for a seed
whatever the number of cores running the blocks.

Cells that add the same to what is read are merged before drawing: the
merged counts are the multinomial of the merged probabilities, so this is
exact too, and each resample costs O(merged cells). Three ways to merge
(``MERGES``), by what the statistic reads:

- CELLS: per-label TP, support and predictions (every average); the cells a
  class filter leaves out all add nothing and become one;
- PAIRS: per-label TP and support + predictions, which is all F1 reads
  (2 TP / (support + predicted)): cells (a, p) and (p, a) become one, about
  halving the cells;
- POOLED: TP, support and predictions summed over the labels, all a micro
  average reads: at most five cells, whatever K.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import frozen
from evalql.engine.jit import CORES, chunk_bounds, inline_jit, jit, map_ranges

BLOCK = 32  # resamples per random stream

# How a resample is drawn (module docstring), and what one step of each
# costs, in nanoseconds measured on the bench machine (only ratios matter).
ROWS, BINOMIALS, POISSON = 0, 1, 2
COST_ROW, COST_BINOMIAL, COST_POISSON = 12.0, 90.0, 45.0


MERGES = ("CELLS", "PAIRS", "POOLED")


@dataclass(frozen=True)
class Resamples:
    """Per-label counts of each resample: arrays of shape (resamples, labels).

    ``labels`` are the codes of the class filter, in its order; ``tp`` are
    the diagonal cells, ``actual`` the row sums (TP + FN, the support) and
    ``predicted`` the column sums (TP + FP). Merged by PAIRS, only
    ``actual + predicted`` is each label's (each alone is not); POOLED, the
    arrays have one column, the sums over the labels.
    """

    labels: np.ndarray
    tp: np.ndarray
    actual: np.ndarray
    predicted: np.ndarray
    merge: str


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
        # numpy's log(v) + log(invalpha) - log(a / us² + b), in one log
        bound = -lam + k * loglam - math.lgamma(k + 1.0)
        if v == 0.0 or math.log(v * invalpha / (a / (us * us) + b)) <= bound:
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
def _resample_block(generator, rows, cols, tps, counts, cumulative, guide, lam, enlam, loglam,
                    a, b, invalpha, vr, method, n_labels, count):
    # ``count`` resamples; ``rows``, ``cols`` and ``tps`` give the label
    # position (-1 for none) whose support, predictions and TP each merged
    # cell adds to.
    tp = np.zeros((count, n_labels), dtype=np.int64)
    actual = np.zeros((count, n_labels), dtype=np.int64)
    predicted = np.zeros((count, n_labels), dtype=np.int64)
    cells = counts.shape[0]
    n_rows = cumulative[cells - 1] if cells > 0 else 0
    drawn = np.zeros(cells, dtype=np.int64)
    for r in range(count):
        if method == BINOMIALS:
            left = n_rows
            for i in range(cells - 1):
                # p_i over the mass of cells i.. , from integer counts
                x = generator.binomial(left, counts[i] / (n_rows - cumulative[i] + counts[i]))
                drawn[i] = x
                left -= x
            if cells > 0:
                drawn[cells - 1] = left
        else:
            total = n_rows + 1 if method == POISSON else 0
            while total > n_rows:
                total = 0
                for i in range(cells):
                    x = _poisson(generator, lam[i], enlam[i], loglam[i], a[i], b[i],
                                 invalpha[i], vr[i])
                    drawn[i] = x
                    total += x
            for _ in range(n_rows - total):
                drawn[_category(generator, cumulative, guide, n_rows)] += 1
        for i in range(cells):
            x = drawn[i]
            drawn[i] = 0
            if rows[i] >= 0:
                actual[r, rows[i]] += x
            if cols[i] >= 0:
                predicted[r, cols[i]] += x
            if tps[i] >= 0:
                tp[r, tps[i]] += x
    return tp, actual, predicted


@dataclass(frozen=True)
class Cells:
    """Merged cells: the label positions each adds to (-1: none) and its rows."""

    rows: np.ndarray  # adds to this position's support
    cols: np.ndarray  # to this position's predictions
    tps: np.ndarray  # to this position's TP
    counts: np.ndarray
    width: int  # positions: the labels, or 1 when pooled


def merged_cells(counts: np.ndarray, labels: np.ndarray, merge: str = "CELLS") -> Cells:
    """The matrix's non-empty cells merged by what they add to (module docstring).

    A cell (a, p) adds to the support of a when a is in ``labels``, to the
    predictions of p when p is, and to the TP of a when a = p; positions are
    indices into ``labels``.

    Example: K = 2, labels ``[0]``: cells (1, 1), (1, None) and (None, 1)
    all become the one cell that adds nothing; merged by PAIRS, (0, 1) and
    (1, 0) become one cell adding to the support of label 0.
    """
    if merge not in MERGES:
        raise ValueError(f"merge has to be one of {MERGES}, got {merge!r}")
    position = np.full(counts.shape[0], -1, dtype=np.int64)
    position[np.asarray(labels, dtype=np.intp)] = np.arange(len(labels))
    actual, predicted = np.nonzero(counts)
    rows, cols = position[actual], position[predicted]
    diagonal = (actual == predicted) & (rows >= 0)
    width = len(labels)
    if merge == "POOLED":
        rows, cols, width = np.minimum(rows, 0), np.minimum(cols, 0), 1
    elif merge == "PAIRS":  # only the sum of the two positions' counts is read
        rows, cols = np.minimum(rows, cols), np.maximum(rows, cols)
    side = width + 1
    key = ((rows + 1) * side + cols + 1) * 2 + diagonal
    sums = np.bincount(key, weights=counts[actual, predicted], minlength=2 * side * side)
    keys = np.flatnonzero(sums)
    rows, cols = keys // 2 // side - 1, keys // 2 % side - 1
    return Cells(rows=rows, cols=cols, tps=np.where(keys % 2 == 1, rows, -1),
                 counts=np.rint(sums[keys]).astype(np.int64), width=width)


@dataclass(frozen=True)
class _Plan:
    """The merged cells and every constant the kernel reads, computed once."""

    cells: Cells
    cumulative: np.ndarray
    guide: np.ndarray
    poisson: tuple[np.ndarray, ...]  # lam, enlam, loglam, a, b, invalpha, vr
    method: int

    def kernel_args(self) -> tuple:
        c = self.cells
        return (frozen(c.rows, np.int64), frozen(c.cols, np.int64), frozen(c.tps, np.int64),
                frozen(c.counts, np.int64), self.cumulative, self.guide, *self.poisson,
                self.method, c.width)


def _poisson_constants(lam: np.ndarray) -> tuple[np.ndarray, ...]:
    # numpy's random_poisson: multiplication below 10, PTRS's constants above
    # (computed at 10 or more only, where they are defined).
    big = np.maximum(lam, 10.0)
    b = 0.931 + 2.53 * np.sqrt(big)
    a = -0.059 + 0.02483 * b
    return lam, np.exp(-lam), np.log(big), a, b, 1.1239 + 1.1328 / (b - 3.4), 0.9277 - 3.6224 / (
        b - 2)


def choose_method(n_rows: int, cells: int) -> int:
    """The cheapest way to draw a resample of ``n_rows`` rows over ``cells``
    cells: ROWS, BINOMIALS or POISSON (module docstring), by their cost models.

    Example: 10M rows over 10,000 cells is POISSON; over 5 cells, BINOMIALS;
    100 rows over 50 cells, ROWS.
    """
    costs = _costs(n_rows, cells)
    return min(costs, key=lambda method: costs[method])


def _costs(n_rows: int, cells: int) -> dict[int, float]:
    # nanoseconds a resample costs, by method
    return {
        ROWS: COST_ROW * n_rows,
        BINOMIALS: COST_BINOMIAL * cells,
        POISSON: COST_POISSON * cells + COST_ROW * 2 * math.sqrt(n_rows),
    }


def estimated_seconds(
    counts: np.ndarray, labels: np.ndarray | None, resamples: int, merge: str = "CELLS"
) -> float:
    """What ``resample_counts`` will take on one core, by the cost model.

    For a caller to refuse a request before paying for it: at 1,000 labels
    a matrix has up to a million cells, and 1,000 resamples of it cost
    minutes. Example: 1,000 resamples of a 10M-row view over 10,000 cells
    are about half a second (cores split it).
    """
    codes = np.arange(counts.shape[0] - 1) if labels is None else np.asarray(labels)
    cells = merged_cells(np.asarray(counts), codes, merge)
    costs = _costs(int(cells.counts.sum()), cells.counts.shape[0])
    return resamples * min(costs.values()) * 1e-9


def _plan(cells: Cells) -> _Plan:
    n_rows, size = int(cells.counts.sum()), cells.counts.shape[0]
    method = choose_method(n_rows, size)
    mean = max(n_rows - 2.0 * math.sqrt(n_rows), 0.0) if method == POISSON else 0.0
    cumulative = np.cumsum(cells.counts)
    starts = np.arange(size, dtype=np.int64) * n_rows // max(size, 1)
    guide = np.searchsorted(cumulative, starts, side="right")
    lam = cells.counts * (mean / n_rows) if n_rows else np.zeros(0)
    return _Plan(
        cells=cells, cumulative=frozen(cumulative, np.int64), guide=frozen(guide, np.int64),
        poisson=tuple(frozen(c, np.float64) for c in _poisson_constants(lam)), method=method,
    )


def resample_counts(
    counts: np.ndarray, labels: np.ndarray | None, resamples: int, seed: int,
    merge: str = "CELLS",
) -> Resamples:
    """Per-label counts of ``resamples`` bootstrap resamples of a view's rows.

    Parameters
    ----------
    counts : the ``(K + 1) x (K + 1)`` confusion matrix of the view.
    labels : the class filter's codes (None: every label).
    resamples : how many resamples, at least 1.
    seed : a non-negative integer; the same seed gives the same resamples.
    merge : CELLS, PAIRS or POOLED: what the counts are needed for (module
        docstring); the fewer cells, the cheaper.

    Returns
    -------
    Resamples, arrays of shape ``(resamples, len(labels))`` (one column when
    POOLED). An empty view resamples to zeros.

    Each resample resamples all N rows of the view (every cell, None's
    included), as scikit-learn's metrics on a resampled ``y_true``/``y_pred``
    would see them. Cost per resample: the least of N row draws, a binomial
    per merged cell, or a Poisson variate per merged cell and 2 sqrt(N) row
    draws (``choose_method``).
    """
    if resamples < 1:
        raise ValueError(f"resamples has to be at least 1, got {resamples}")
    if seed < 0:
        raise ValueError(f"seed has to be a non-negative integer, got {seed}")
    codes = np.arange(counts.shape[0] - 1) if labels is None else np.asarray(labels)
    plan = _plan(merged_cells(np.asarray(counts), codes, merge))
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
    return Resamples(labels=codes, tp=tp, actual=actual, predicted=predicted, merge=merge)
