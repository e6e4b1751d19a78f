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
- POISSON: one cheap variate per cell, for many rows and many cells:
  1. X_i ~ Poisson(mu p_i), independent, mu = N - 2 sqrt(N): given their
     total T, (X_i) is Multinomial(T, p);
  2. when T > N (about 2% of draws) that resample's cells are drawn again:
     conditioning on T <= N leaves step 1's multinomial as it is;
  3. the N - T rows still missing (a multinomial of them) are added: a
     large cell's share by one binomial given the rows left, as in
     BINOMIALS, the small cells' rows one by one, as in ROWS.
  Each block of resamples is drawn cell by cell: a cell's Poisson
  distribution is tabulated once (its distribution function from ten
  standard deviations below the mean, where less than 1e-21 of the mass
  lies, to seven above, walked on exactly past the end) and each resample
  draws from the table by inversion through a guide table: one uniform and
  about one comparison. Cells of 10,000 rows or more draw by NumPy's
  transformed rejection (PTRS) instead, whose cost does not grow with the
  mean, as do the resamples drawn again in step 2.

Randomness: one NumPy Generator per block of ``BLOCK`` resamples, seeded by
``(seed, block)``, so the resamples are the same for a seed whatever the
number of cores running the blocks. Binomials come from it; ROWS and
POISSON, which need one or two uniforms per row or cell, draw those
from an xoshiro256++ stream the block's Generator seeds, inlined in the
kernel: a uniform costs about 1.5 ns there against 12 ns through the
Generator (measured), which would be most of a resample's cost at 100
labels.

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

BLOCK = 500  # resamples per random stream; a POISSON table serves a block
# POISSON draws with a mean SHIFT standard deviations below the rows, so that
# about 2% of draws overshoot (and are drawn again), and GUIDE guide-table
# entries per cell for the rows placed one by one.
SHIFT = 2.0
GUIDE = 4
# A cell's Poisson table spans its mean -LOW_SIGMAS to +HIGH_SIGMAS standard
# deviations (plus a few values, for small means); cells of TABLE_MAX rows or
# more draw by PTRS, whose cost does not grow with the mean.
LOW_SIGMAS, HIGH_SIGMAS, TABLE_MAX = 10.0, 7.0, 10_000.0
TABLE_GUIDE = 2  # guide entries a table value: a draw walks ~0.2 steps

# How a resample is drawn (module docstring), and what one step of each
# costs, in nanoseconds measured on the bench machine (only ratios matter):
# a row placed by the guide table, a binomial through the Generator, a
# Poisson variate from a cell's table, one entry of a table (built once a
# block), a Poisson variate by PTRS.
ROWS, BINOMIALS, POISSON = 0, 1, 2
COST_ROW, COST_BINOMIAL, COST_POISSON, COST_TABLE, COST_PTRS = 6.0, 90.0, 5.0, 5.0, 25.0


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
def _step(s0, s1, s2, s3):
    # One xoshiro256++ step (Blackman and Vigna) on the four words: a double
    # in [0, 1) from the top 53 bits, and the next words. Hot loops keep the
    # words in local variables: through an array, every step would load and
    # store them.
    result = _wrapping_add(_rotl(_wrapping_add(s0, s3), 23), s0)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    return (result >> np.uint64(11)) * (1.0 / 9007199254740992.0), s0, s1, s2, _rotl(s3, 45)


@inline_jit
def _uniform(state):
    # ``_step`` on the four words of ``state``, updated in place.
    u, state[0], state[1], state[2], state[3] = _step(state[0], state[1], state[2], state[3])
    return u


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
def _category(u, cumulative, guide, n_rows):
    # The cell of the row at ``u`` (uniform in [0, 1)) of the N: the first
    # cell whose cumulative count passes the row's index.
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
def _rows_or_binomials(generator, state, rows, cols, tps, counts, cumulative, guide, method,
                       n_labels, count):
    # ``count`` resamples drawn one after the other, by ROWS or BINOMIALS;
    # ``rows``, ``cols`` and ``tps`` give the label position (-1 for none)
    # whose support, predictions and TP each merged cell adds to. BINOMIALS
    # draws from ``generator``, ROWS from the xoshiro256++ ``state`` (four
    # uint64 words, updated in place). One column more than the labels:
    # position -1 adds there, unread, so adding a cell's rows takes no branch.
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
            for _ in range(n_rows):
                drawn[_category(_uniform(state), cumulative, guide, n_rows)] += 1
        for i in range(cells):
            x = drawn[i]
            drawn[i] = 0
            actual[r, rows[i]] += x  # -1 indexes the spare column
            predicted[r, cols[i]] += x
            tp[r, tps[i]] += x
    return tp[:, :n_labels].copy(), actual[:, :n_labels].copy(), predicted[:, :n_labels].copy()


@inline_jit
def _tabulate(lam, start, width, inverse, cdf, guide):
    # Poisson(lam)'s distribution function at start, start + 1, ... into
    # cdf[:width], then 2 (past any uniform: a walk stops there), and
    # guide[g] = the first k with cdf[k] > g / (TABLE_GUIDE width). Returns the
    # probability of start + width, where a draw past the table goes on.
    p = math.exp(-lam + start * math.log(lam) - math.lgamma(start + 1.0))
    total = 0.0
    for k in range(width):
        total += p
        cdf[k] = total
        p *= lam * inverse[start + k + 1]
    cdf[width] = 2.0
    entries = TABLE_GUIDE * width
    k = 0
    for g in range(entries):
        target = g / entries
        while k < width - 1 and cdf[k] <= target:
            k += 1
        guide[g] = k
    return p


@inline_jit
def _from_table(u, lam, start, width, cdf, guide, beyond):
    # The Poisson(lam) variate at ``u`` (uniform in [0, 1)), by inversion of
    # the table ``_tabulate`` made.
    k = guide[np.int64(u * (TABLE_GUIDE * width))]
    while cdf[k] <= u:
        k += 1
    if k < width:
        return start + k
    # past the table (probability about 1e-12 and less): on, term by term
    total = cdf[width - 1]
    p = beyond
    k = start + width
    while True:
        total += p
        if u < total or p == 0.0:
            return k
        k += 1
        p *= lam / k


@jit
def _poisson_block(generator, state, rows, cols, tps, counts, lam, start, width, enlam, loglam,
                   a, b, invalpha, vr, inverse, binomial, placed, placed_cumulative,
                   placed_guide, n_labels, count):
    # ``count`` resamples by POISSON (module docstring), cell by cell: a
    # cell's table is built once for all of them. Arrays are (positions + 1,
    # resamples), so a cell's resamples add to consecutive counters. The
    # rows a draw leaves missing go to the ``binomial`` cells by conditional
    # binomials (from ``generator``), then the rest to the ``placed`` cells
    # row by row.
    tp = np.zeros((n_labels + 1, count), dtype=np.int64)
    actual = np.zeros((n_labels + 1, count), dtype=np.int64)
    predicted = np.zeros((n_labels + 1, count), dtype=np.int64)
    total = np.zeros(count, dtype=np.int64)
    drawn = np.zeros(count, dtype=np.int64)
    cells = lam.shape[0]
    n_rows = counts.sum()
    n_placed = placed_cumulative[-1] if placed.shape[0] > 0 else 0
    w_max = 1
    for i in range(cells):
        w_max = max(w_max, width[i])
    cdf = np.empty(w_max + 1, dtype=np.float64)
    table_guide = np.empty(TABLE_GUIDE * w_max, dtype=np.int64)
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    for i in range(cells):
        li, ri, ci, ti = lam[i], rows[i], cols[i], tps[i]
        if li >= TABLE_MAX:
            state[0], state[1], state[2], state[3] = s0, s1, s2, s3
            for r in range(count):
                x = _poisson(state, li, enlam[i], loglam[i], a[i], b[i], invalpha[i], vr[i])
                actual[ri, r] += x  # -1 indexes the spare row
                predicted[ci, r] += x
                tp[ti, r] += x
                total[r] += x
            s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
            continue
        lo, w = start[i], width[i]
        beyond = _tabulate(li, lo, w, inverse, cdf, table_guide)
        for r in range(count):
            u, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
            drawn[r] = _from_table(u, li, lo, w, cdf, table_guide, beyond)
        # apart from the draws, so that these loops vectorise
        for r in range(count):
            actual[ri, r] += drawn[r]
        for r in range(count):
            predicted[ci, r] += drawn[r]
        for r in range(count):
            tp[ti, r] += drawn[r]
        for r in range(count):
            total[r] += drawn[r]
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    for r in range(count):
        while total[r] > n_rows:  # rejected: this resample's cells again
            actual[:, r] = 0
            predicted[:, r] = 0
            tp[:, r] = 0
            total[r] = 0
            for i in range(cells):
                x = _poisson(state, lam[i], enlam[i], loglam[i], a[i], b[i], invalpha[i], vr[i])
                actual[rows[i], r] += x
                predicted[cols[i], r] += x
                tp[tps[i], r] += x
                total[r] += x
        # the missing rows: Multinomial(left, p) as a binomial for each
        # large cell given the rows left, then the small cells' share row
        # by row
        left, mass = n_rows - total[r], n_rows
        for j in range(binomial.shape[0]):
            i = binomial[j]
            x = left if counts[i] == mass else generator.binomial(left, counts[i] / mass)
            mass -= counts[i]
            left -= x
            actual[rows[i], r] += x
            predicted[cols[i], r] += x
            tp[tps[i], r] += x
        s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
        for _ in range(left):
            u, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
            i = placed[_category(u, placed_cumulative, placed_guide, n_placed)]
            actual[rows[i], r] += 1
            predicted[cols[i], r] += 1
            tp[tps[i], r] += 1
        state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return (tp[:n_labels].T.copy(), actual[:n_labels].T.copy(),
            predicted[:n_labels].T.copy())


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
    """The merged cells and every constant the kernels read, computed once."""

    cells: Cells
    cumulative: np.ndarray
    guide: np.ndarray
    # POISSON: each cell's mean, its table's first value and length
    lam: np.ndarray
    start: np.ndarray
    width: np.ndarray
    # enlam, loglam, a, b, invalpha, vr: PTRS's constants of each cell
    ptrs: tuple[np.ndarray, ...]
    inverse: np.ndarray  # 1 / k up to the longest table's end
    # the rows a draw leaves missing: cells given theirs by a binomial, and
    # the others' indices, cumulative counts and guide table
    binomial: np.ndarray
    placed: tuple[np.ndarray, np.ndarray, np.ndarray]
    method: int

    def cell_args(self) -> tuple[np.ndarray, ...]:
        """The merged cells' label positions, in the kernels' argument order."""
        c = self.cells
        return (frozen(c.rows, np.int64), frozen(c.cols, np.int64), frozen(c.tps, np.int64))

    def poisson_args(self) -> tuple:
        """``_poisson_block``'s arguments after the two random streams, in its order."""
        return (*self.cell_args(), frozen(self.cells.counts, np.int64), self.lam, self.start,
                self.width, *self.ptrs, self.inverse, self.binomial, *self.placed,
                self.cells.width)


def _poisson_constants(lam: np.ndarray) -> tuple[np.ndarray, ...]:
    # numpy's random_poisson: multiplication below 10, PTRS's constants above
    # (computed at 10 or more only, where they are defined).
    big = np.maximum(lam, 10.0)
    b = 0.931 + 2.53 * np.sqrt(big)
    a = -0.059 + 0.02483 * b
    return lam, np.exp(-lam), np.log(big), a, b, 1.1239 + 1.1328 / (b - 3.4), 0.9277 - 3.6224 / (
        b - 2)


def _tables(lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # each tabled cell's first value and number of values (module docstring);
    # a cell drawn by PTRS has none
    spread = np.sqrt(lam)
    start = np.maximum(np.floor(lam - LOW_SIGMAS * spread - 5.0), 0.0)
    end = np.ceil(lam + HIGH_SIGMAS * spread + 10.0)
    tabled = lam < TABLE_MAX
    width = np.where(tabled, end - start + 1.0, 0.0)
    return np.where(tabled, start, 0.0).astype(np.int64), width.astype(np.int64)


def choose_method(counts: np.ndarray) -> int:
    """The cheapest way to draw a resample of the rows of (merged) cell
    ``counts``: ROWS, BINOMIALS or POISSON (module docstring), by their cost
    models.

    Example: 10M rows over 10,000 cells is POISSON; over 5 cells, BINOMIALS;
    100 rows over 50 cells, ROWS.
    """
    costs = _costs(np.asarray(counts))
    return min(costs, key=lambda method: costs[method])


def _costs(counts: np.ndarray) -> dict[int, float]:
    # nanoseconds a resample costs, by method
    n_rows, cells = int(counts.sum()), counts.shape[0]
    # POISSON: a variate a cell, the cells' tables built once a block, the
    # rows left to place after a draw (its mean sits SHIFT standard
    # deviations low), and the draws rejected (beyond SHIFT sigmas, ~2%)
    # drawn again by PTRS
    fixed = (SHIFT + 0.05) * math.sqrt(n_rows)
    rejected = 1.0 - NormalDist().cdf(SHIFT)
    tables = COST_TABLE * float(_tables(counts.astype(np.float64))[1].sum()) / BLOCK
    return {
        ROWS: COST_ROW * n_rows,
        BINOMIALS: COST_BINOMIAL * cells,
        POISSON: COST_POISSON * cells + tables + COST_ROW * fixed
        + rejected * COST_PTRS * cells,
    }


def estimated_seconds(
    counts: np.ndarray, labels: np.ndarray | None, resamples: int, merge: str = "CELLS"
) -> float:
    """What ``resample_counts`` will take on one core, by the cost model.

    For a caller to refuse a request before paying for it: at 1,000 labels
    a matrix has up to a million cells, and 1,000 resamples of it cost
    minutes. Example: 1,000 resamples of a 10M-row view over 10,000 cells
    are about a tenth of a second (cores split it).
    """
    codes = np.arange(counts.shape[0] - 1) if labels is None else np.asarray(labels)
    cells = merged_cells(np.asarray(counts), codes, merge)
    return resamples * min(_costs(cells.counts).values()) * 1e-9


def _guide(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # the cumulative counts and GUIDE guide-table entries a cell, so that a
    # row's draw rarely walks past its entry (``_category``)
    n_rows, size = int(counts.sum()), counts.shape[0]
    cumulative = np.cumsum(counts)
    starts = np.arange(GUIDE * size, dtype=np.int64) * n_rows // max(GUIDE * size, 1)
    guide = np.searchsorted(cumulative, starts, side="right")
    return frozen(cumulative, np.int64), frozen(guide, np.int64)


def _plan(cells: Cells) -> _Plan:
    counts = cells.counts
    n_rows = int(counts.sum())
    method = choose_method(counts)
    mean = max(n_rows - SHIFT * math.sqrt(n_rows), 0.0) if method == POISSON else 0.0
    cumulative, guide = _guide(counts)
    lam = counts * (mean / n_rows if n_rows else 0.0)
    start, width = _tables(lam)
    longest = int((start + width).max(initial=0)) + 2
    inverse = 1.0 / np.maximum(np.arange(longest, dtype=np.float64), 1.0)
    # a cell takes its share of the ~SHIFT sqrt(N) missing rows as one
    # binomial when placing them row by row would cost more
    missing = (SHIFT + 0.05) * math.sqrt(n_rows)
    by_binomial = counts * (missing / max(n_rows, 1)) * COST_ROW > COST_BINOMIAL
    placed = np.flatnonzero(~by_binomial)
    return _Plan(
        cells=cells, cumulative=cumulative, guide=guide,
        lam=frozen(lam, np.float64), start=frozen(start, np.int64),
        width=frozen(width, np.int64),
        ptrs=tuple(frozen(c, np.float64) for c in _poisson_constants(lam)[1:]),
        inverse=frozen(inverse, np.float64),
        binomial=frozen(np.flatnonzero(by_binomial), np.int64),
        placed=(frozen(placed, np.int64), *_guide(counts[placed])), method=method,
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
    per merged cell, or a Poisson variate per merged cell (from a table
    built once for a block of resamples) and 2 sqrt(N) row draws
    (``choose_method``).
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
            if plan.method == POISSON:
                parts.append(_poisson_block(generator, state, *plan.poisson_args(), count))
            else:
                parts.append(_rows_or_binomials(
                    generator, state, *plan.cell_args(), frozen(plan.cells.counts, np.int64),
                    plan.cumulative, plan.guide, plan.method, plan.cells.width, count))
        return parts

    parts = [p for chunk in map_ranges(run, chunk_bounds(blocks, min(CORES, blocks)))
             for p in chunk]
    tp, actual, predicted = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return Resamples(labels=codes, tp=tp, actual=actual, predicted=predicted, merge=merge)
