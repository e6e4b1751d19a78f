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
  Poisson variates are exact: NumPy's transformed rejection (PTRS) for
  means of 10 and more, inversion of the distribution function below,
  each cell's constants computed once for all resamples.

Randomness: one NumPy Generator per block of ``BLOCK`` resamples, seeded by
``(seed, block)``, so the resamples are the same for a seed whatever the
number of cores running the blocks. BINOMIALS draws its variates from it;
ROWS and POISSON, which need one or two uniforms per row or cell, draw them
from an xoshiro256++ stream the block's Generator seeds, inlined in the
kernel: a uniform costs about 1.5 ns there against 12 ns through the
Generator (measured), which is most of a resample's cost at 100 labels.

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
from statistics import NormalDist

import numba
import numpy as np

from evalql.engine.arrays import frozen
from evalql.engine.jit import CORES, chunk_bounds, inline_jit, jit, map_ranges

BLOCK = 32  # resamples per random stream
# POISSON draws with a mean SHIFT standard deviations below the rows, so that
# about 2% of draws overshoot (and are drawn again), and GUIDE guide-table
# entries per cell for the rows placed one by one.
SHIFT = 2.0
GUIDE = 4

# How a resample is drawn (module docstring), and what one step of each
# costs, in nanoseconds measured on the bench machine (only ratios matter):
# a row placed by the guide table, a binomial through the Generator, a
# Poisson variate of a big cell (PTRS, means from about 10), a row of the
# row-drawn group.
ROWS, BINOMIALS, POISSON = 0, 1, 2
COST_ROW, COST_BINOMIAL, COST_POISSON, COST_GROUP_ROW = 6.0, 90.0, 25.0, 3.0


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
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@inline_jit
def _wrapping_add(x, y):
    return x + y  # modulo 2**64, as xoshiro wants


if numba.config.DISABLE_JIT:  # plain Python (.ci/run runs the engine tests so)

    def _wrapping_add(x, y):  # type: ignore[no-redef]
        # NumPy warns when a uint64 sum wraps, which is the point here.
        return np.uint64((int(x) + int(y)) & 0xFFFFFFFFFFFFFFFF)


@inline_jit
def _uniform(state):
    # One xoshiro256++ step (Blackman and Vigna) on the four words of
    # ``state``; its top 53 bits as a double in [0, 1).
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    result = _wrapping_add(_rotl(_wrapping_add(s0, s3), 23), s0)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    state[0], state[1], state[2], state[3] = s0, s1, s2, _rotl(s3, 45)
    return (result >> np.uint64(11)) * (1.0 / 9007199254740992.0)


# log k! for small k, read instead of computed: PTRS's slower test needs it
# for about a third of the variates at means near 10 (lgamma costs ~40 ns).
_LOG_FACTORIALS = np.array([math.lgamma(k + 1.0) for k in range(1024)])


@inline_jit
def _log_factorial(k):
    if k < _LOG_FACTORIALS.shape[0]:
        return _LOG_FACTORIALS[k]
    return math.lgamma(k + 1.0)


@inline_jit
def _poisson(state, lam, enlam, loglam, a, b, invalpha, vr):
    # One Poisson(lam) variate; the other arguments are lam's constants.
    if lam < 10.0:  # inversion: one uniform, about lam + 1 steps
        u = _uniform(state)
        k = 0
        p = enlam
        cdf = p
        while u > cdf and p > 0.0:
            k += 1
            p *= lam / k
            cdf += p
        return k
    while True:  # PTRS, as NumPy's random_poisson
        u = _uniform(state) - 0.5
        v = _uniform(state)
        us = 0.5 - abs(u)
        if us <= 0.0:  # pragma: no cover (u = -0.5, probability 2**-53; divides by us)
            continue
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        # numpy's log(v) + log(invalpha) - log(a / us² + b), in one log
        bound = -lam + k * loglam - _log_factorial(k)
        if v == 0.0 or math.log(v * invalpha / (a / (us * us) + b)) <= bound:
            return k


@inline_jit
def _category(state, cumulative, guide, n_rows):
    # The cell of one row drawn uniformly from the N: the first cell whose
    # cumulative count passes the row's index.
    u = _uniform(state)
    row = min(np.int64(u * n_rows), n_rows - 1)
    # the guide entry from u too: an integer division would cost more than
    # the rest of the draw. In exact arithmetic the entry never starts past
    # the row's cell; the step back covers a product rounded up.
    i = guide[min(np.int64(u * guide.shape[0]), guide.shape[0] - 1)]
    while i > 0 and cumulative[i - 1] > row:
        i -= 1
    while cumulative[i] <= row:
        i += 1
    return i


@jit
def _resample_block(generator, state, rows, cols, tps, counts, cumulative, guide, big, owner,
                    lam, enlam, loglam, a, b, invalpha, vr, method, n_labels, count):
    # ``count`` resamples; ``rows``, ``cols`` and ``tps`` give the label
    # position (-1 for none) whose support, predictions and TP each merged
    # cell adds to. BINOMIALS draws from ``generator``, the others from the
    # xoshiro256++ ``state`` (four uint64 words, updated in place).
    # One column more than the labels: position -1 adds there, unread, so
    # adding a cell's rows takes no branch.
    tp = np.zeros((count, n_labels + 1), dtype=np.int64)
    actual = np.zeros((count, n_labels + 1), dtype=np.int64)
    predicted = np.zeros((count, n_labels + 1), dtype=np.int64)
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
            rejected = False
            while total > n_rows:
                if rejected:  # start again from zeros (the group adds to its cells)
                    drawn[:] = 0
                rejected = True
                total = 0
                for j in range(big.shape[0]):
                    x = _poisson(state, lam[j], enlam[j], loglam[j], a[j], b[j], invalpha[j],
                                 vr[j])
                    drawn[big[j]] = x
                    total += x
                g = big.shape[0]
                grouped = _poisson(state, lam[g], enlam[g], loglam[g], a[g], b[g], invalpha[g],
                                   vr[g])
                for _ in range(grouped):
                    drawn[owner[np.int64(_uniform(state) * owner.shape[0])]] += 1
                total += grouped
            for _ in range(n_rows - total):
                drawn[_category(state, cumulative, guide, n_rows)] += 1
        for i in range(cells):
            x = drawn[i]
            drawn[i] = 0
            actual[r, rows[i]] += x  # -1 indexes the spare column
            predicted[r, cols[i]] += x
            tp[r, tps[i]] += x
    return tp[:, :n_labels].copy(), actual[:, :n_labels].copy(), predicted[:, :n_labels].copy()


def _stream(generator: np.random.Generator) -> np.ndarray:
    """A xoshiro256++ state seeded by ``generator`` (never all zero)."""
    state = generator.integers(0, 2**64, size=4, dtype=np.uint64, endpoint=False)
    state[0] |= np.uint64(1)
    return state


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
    big: np.ndarray  # POISSON: the cells drawn one variate each
    owner: np.ndarray  # POISSON: the cell of each row of the row-drawn group
    # lam, enlam, loglam, a, b, invalpha, vr: of each big cell, then the group
    poisson: tuple[np.ndarray, ...]
    method: int

    def kernel_args(self) -> tuple:
        c = self.cells
        return (frozen(c.rows, np.int64), frozen(c.cols, np.int64), frozen(c.tps, np.int64),
                frozen(c.counts, np.int64), self.cumulative, self.guide, self.big, self.owner,
                *self.poisson, self.method, c.width)


def _poisson_constants(lam: np.ndarray) -> tuple[np.ndarray, ...]:
    # numpy's random_poisson: multiplication below 10, PTRS's constants above
    # (computed at 10 or more only, where they are defined).
    big = np.maximum(lam, 10.0)
    b = 0.931 + 2.53 * np.sqrt(big)
    a = -0.059 + 0.02483 * b
    return lam, np.exp(-lam), np.log(big), a, b, 1.1239 + 1.1328 / (b - 3.4), 0.9277 - 3.6224 / (
        b - 2)


def choose_method(counts: np.ndarray) -> int:
    """The cheapest way to draw a resample of the rows of (merged) cell
    ``counts``: ROWS, BINOMIALS or POISSON (module docstring), by their cost
    models.

    Example: 10M rows over 10,000 cells is POISSON; over 5 cells, BINOMIALS;
    100 rows over 50 cells, ROWS.
    """
    costs = _costs(np.asarray(counts))
    return min(costs, key=lambda method: costs[method])


def row_drawn(counts: np.ndarray) -> np.ndarray:
    """Which cells POISSON draws as one group, row by row: those whose few
    rows cost less to place one by one than a Poisson variate of their own.

    Independent Poisson counts summed over a group are Poisson, and given
    their sum the group's cells are a multinomial of it, so the group draws
    one Poisson total and places each of its rows in a cell by one uniform
    index into the group's rows: exact, and branch-free where a small
    mean's own variate is a loop of mispredicted branches.
    """
    return np.asarray(counts) * COST_GROUP_ROW < COST_POISSON


def _costs(counts: np.ndarray) -> dict[int, float]:
    # nanoseconds a resample costs, by method
    n_rows, cells = int(counts.sum()), counts.shape[0]
    small = row_drawn(counts)
    # POISSON: rows left to place after a draw (its mean sits SHIFT standard
    # deviations low), and the rejected draws (beyond SHIFT sigmas, ~2%)
    fixed = (SHIFT + 0.05) * math.sqrt(n_rows)
    passes = 1.0 / NormalDist().cdf(SHIFT)
    grouped = COST_GROUP_ROW * float(counts[small].sum())
    return {
        ROWS: COST_ROW * n_rows,
        BINOMIALS: COST_BINOMIAL * cells,
        POISSON: passes * (COST_POISSON * (cells - np.count_nonzero(small)) + grouped)
        + COST_ROW * fixed,
    }


def estimated_seconds(
    counts: np.ndarray, labels: np.ndarray | None, resamples: int, merge: str = "CELLS"
) -> float:
    """What ``resample_counts`` will take on one core, by the cost model.

    For a caller to refuse a request before paying for it: at 1,000 labels
    a matrix has up to a million cells, and 1,000 resamples of it cost
    minutes. Example: 1,000 resamples of a 10M-row view over 10,000 cells
    are about a quarter of a second (cores split it).
    """
    codes = np.arange(counts.shape[0] - 1) if labels is None else np.asarray(labels)
    cells = merged_cells(np.asarray(counts), codes, merge)
    return resamples * min(_costs(cells.counts).values()) * 1e-9


def _plan(cells: Cells) -> _Plan:
    counts = cells.counts
    n_rows, size = int(counts.sum()), counts.shape[0]
    method = choose_method(counts)
    mean = max(n_rows - SHIFT * math.sqrt(n_rows), 0.0) if method == POISSON else 0.0
    cumulative = np.cumsum(counts)
    # GUIDE entries a cell: a row draw then rarely walks past its entry
    starts = np.arange(GUIDE * size, dtype=np.int64) * n_rows // max(GUIDE * size, 1)
    guide = np.searchsorted(cumulative, starts, side="right")
    small = row_drawn(counts) if method == POISSON else np.zeros(size, dtype=bool)
    big = np.flatnonzero(~small)
    owner = np.repeat(np.flatnonzero(small), counts[small]).astype(np.int32)
    # the big cells' means, then the group's
    lam = np.append(counts[big], counts[small].sum()) * (mean / n_rows if n_rows else 0.0)
    return _Plan(
        cells=cells, cumulative=frozen(cumulative, np.int64), guide=frozen(guide, np.int64),
        big=frozen(big, np.int64), owner=frozen(owner, np.int32),
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
            state = _stream(generator)
            parts.append(_resample_block(generator, state, *plan.kernel_args(), count))
        return parts

    parts = [p for chunk in map_ranges(run, chunk_bounds(blocks, min(CORES, blocks)))
             for p in chunk]
    tp, actual, predicted = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return Resamples(labels=codes, tp=tp, actual=actual, predicted=predicted, merge=merge)
