"""Summary metrics of agreement between the actual and the predicted label.

Balanced accuracy, Matthews correlation, Cohen's kappa, averaged F-beta and
the normalised confusion matrix, all from the ``(K + 1) x (K + 1)`` matrix of
``engine.confusion.confusion_counts`` (index K is None), with a class filter
S given as label codes (None: every label, in code order).

Which rows they judge follows the Trust issue's "accuracy = correct /
labeled": balanced accuracy, MCC and kappa judge the rows whose actual label
is in S, and nothing else. Rows without ground truth cannot be judged, so
they are left out, and S with every label equals no filter. A judged row's
prediction stays what it is: a label in S, a label outside S, or None
(abstained), each a class of its own. In scikit-learn's terms, each equals
the function called on those rows' codes, with None as the code K:

- ``balanced_accuracy_score(y_true, y_pred)``;
- ``matthews_corrcoef(y_true, y_pred)``;
- ``cohen_kappa_score(y_true, y_pred, labels=order, weights=w)``, ``order``
  being S, then the other labels in code order, then None (``kappa_order``).

F-beta and the normalised matrix follow ``precision_recall_fscore_support``
and ``confusion_matrix`` instead, exactly as the per-label table and the
matrix do (SPEC): F-beta counts every row of the view (an unlabeled row
predicted c is a false positive of c), the normalised matrix is the matrix
the API shows, None row and column included.
"""

from __future__ import annotations

import math

import numpy as np

from evalql.engine.averaging import AVERAGES
from evalql.engine.metrics import LabelCounts, Totals, divide, f_beta, totals_of

KAPPA_WEIGHTS = ("NONE", "LINEAR", "QUADRATIC")
NORMALIZATIONS = ("NONE", "TRUE", "PRED", "ALL")


def _selected(n_labels: int, labels: np.ndarray | None) -> np.ndarray:
    if labels is None:
        return np.arange(n_labels, dtype=np.intp)
    return np.asarray(labels, dtype=np.intp)


def balanced_accuracy(counts: np.ndarray | Totals, labels: np.ndarray | None = None) -> float:
    """The mean recall over the labels of S that occur as an actual label.

    Recall of c is TP / (TP + FN), abstentions and predictions outside S
    being false negatives. Equal to scikit-learn's ``balanced_accuracy_score``
    on the judged rows (module docstring), which averages over the classes
    of ``y_true`` only. Needs only the matrix's totals, so it works for label
    sets too large for a matrix.

    Notes
    -----
    NaN when no row has an actual label in S (scikit-learn refuses empty
    input). Labels of S without support are left out, not counted as 0.
    """
    t = totals_of(counts)
    selected = _selected(t.tp.shape[0], labels)
    support = t.actual[selected]
    present = support > 0
    if not present.any():
        return float("nan")
    return float(np.mean(divide(t.tp[selected], support)[present]))


def judged_matrix(counts: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """The square matrix the agreement metrics read: rows and columns in
    ``kappa_order`` (S, the other labels, None), the rows of actual labels
    outside S (and actual None) zeroed, so only judged rows count.

    Example: K = 2, S = [1]: rows and columns are [1, 0, None], and only
    row 1 keeps its counts.
    """
    if labels is None:  # the order is the codes' own: no reordering to pay for
        judged = np.array(counts, dtype=np.int64)
        judged[-1] = 0
        return judged
    order = kappa_order(counts.shape[0] - 1, labels)
    judged = np.array(counts[np.ix_(order, order)], dtype=np.int64)
    judged[len(labels):, :] = 0
    return judged


def kappa_order(n_labels: int, labels: np.ndarray | None = None) -> np.ndarray:
    """S, then the labels outside S in code order, then None (code K).

    The order the weighted kappa measures distances in. Example: K = 4,
    S = [2, 0] gives ``[2, 0, 1, 3, 4]``.
    """
    selected = _selected(n_labels, labels)
    rest = np.setdiff1d(np.arange(n_labels, dtype=np.intp), selected)
    return np.concatenate([selected, rest, [n_labels]]).astype(np.intp)


def matthews_corrcoef(counts: np.ndarray, labels: np.ndarray | None = None) -> float:
    """The multiclass Matthews correlation coefficient of the judged rows.

    With t the judged matrix's row sums, p its column sums, c its trace and
    s its total: (c s - t.p) / sqrt((s² - p.p)(s² - t.t)), as scikit-learn's
    ``matthews_corrcoef`` (module docstring for the rows and classes). The
    sums are exact integers; only the last division is in floating point.

    Notes
    -----
    NaN when (s² - p.p)(s² - t.t) = 0: no judged rows, a single actual
    class, or a single predicted class. scikit-learn answers 0.0 there.
    """
    judged = judged_matrix(counts, labels)
    t = [int(v) for v in judged.sum(axis=1)]
    p = [int(v) for v in judged.sum(axis=0)]
    s, c = sum(t), int(np.trace(judged))
    cov_tp = c * s - sum(a * b for a, b in zip(t, p, strict=True))
    cov_pp = s * s - sum(b * b for b in p)
    cov_tt = s * s - sum(a * a for a in t)
    if cov_pp * cov_tt == 0:
        return float("nan")
    return cov_tp / (math.sqrt(cov_pp) * math.sqrt(cov_tt))


def kappa_weights(size: int, weights: str) -> np.ndarray:
    """scikit-learn's disagreement weights: NONE 1 off the diagonal, LINEAR
    ``|i - j|``, QUADRATIC ``(i - j)²``, over positions ``0 .. size-1``."""
    if weights not in KAPPA_WEIGHTS:
        raise ValueError(f"weights has to be one of {KAPPA_WEIGHTS}, got {weights!r}")
    position = np.arange(size, dtype=np.float64)
    distance = np.abs(position[:, None] - position[None, :])
    if weights == "NONE":
        return (distance > 0).astype(np.float64)
    return distance if weights == "LINEAR" else distance**2


def cohen_kappa(
    counts: np.ndarray, labels: np.ndarray | None = None, weights: str = "NONE"
) -> float:
    """Cohen's kappa between actual and predicted labels of the judged rows.

    1 - sum(w * O) / sum(w * E), O the judged matrix, E the matrix expected
    from its row and column sums alone (``outer(column sums, row sums) / s``)
    and w the disagreement weights (``kappa_weights``) over ``kappa_order``:
    S, the other labels, then None. So with LINEAR or QUADRATIC weights an
    abstention counts as a prediction one step past the last label.
    As scikit-learn's ``cohen_kappa_score(..., labels=order, weights=...)``;
    both sums are computed in O(K²) without building w (``disagreement``).

    Notes
    -----
    NaN when sum(w * E) = 0: no judged rows, or every judged row actual and
    predicted as the one same label (scikit-learn's ``replace_undefined_by``
    default, NaN).
    """
    observed, expected = disagreement(judged_matrix(counts, labels), weights)
    if expected == 0:
        return float("nan")
    return float(1 - observed / expected)


def disagreement(matrix: np.ndarray, weights: str) -> tuple[float, float]:
    """``(sum(w * O), sum(w * E))`` of kappa for a square count matrix O.

    Equal to the sums over ``kappa_weights`` but linear in the cells: NONE
    from the trace, LINEAR from the cells below and above the diagonal
    weighted by their row and column index, QUADRATIC from
    (i - j)² = i² + j² - 2ij; the expected matrix's sums from prefix sums of
    its margins. Observed sums are exact integers.
    """
    if weights not in KAPPA_WEIGHTS:
        raise ValueError(f"weights has to be one of {KAPPA_WEIGHTS}, got {weights!r}")
    rows, cols = matrix.sum(axis=1), matrix.sum(axis=0)
    total = int(rows.sum())
    if total == 0:
        return 0.0, 0.0
    index = np.arange(matrix.shape[0], dtype=np.int64)
    r, c = rows.astype(np.float64), cols.astype(np.float64)
    if weights == "NONE":
        return float(total - int(np.trace(matrix))), float(total - (c @ r) / total)
    if weights == "LINEAR":
        below, above = np.tril(matrix, -1), np.triu(matrix, 1)
        observed = (int(index @ below.sum(axis=1)) - int(index @ below.sum(axis=0))
                    + int(index @ above.sum(axis=0)) - int(index @ above.sum(axis=1)))
        # sum over i of c_i * sum over j < i of (i - j) r_j, and the same mirrored
        before_r = np.cumsum(r) - r
        before_jr = np.cumsum(index * r) - index * r
        before_c = np.cumsum(c) - c
        before_ic = np.cumsum(index * c) - index * c
        spread = c @ (index * before_r - before_jr) + r @ (index * before_c - before_ic)
        return float(observed), float(spread / total)
    squares = index * index
    observed = (int(squares @ rows) + int(squares @ cols)
                - 2 * int(index @ (matrix @ index)))
    # exact in Python integers: each product can pass 2**63
    spread = (int(squares @ cols) * total + int(squares @ rows) * total
              - 2 * int(index @ cols) * int(index @ rows))
    return float(observed), spread / total


def f_beta_average(c: LabelCounts, beta: float, how: str) -> float:
    """F-beta averaged over the labels of ``c`` (MACRO, MICRO or WEIGHTED).

    As ``engine.averaging.average`` averages F1, and scikit-learn's
    ``fbeta_score(..., labels=S, average=...)``; ``f_beta_averages`` of one view.

    Notes
    -----
    As ``engine.averaging.average``: undefined per-label values count as 0
    in MACRO and WEIGHTED; MACRO over no labels and WEIGHTED with no support
    are 0; MICRO of 0/0 is 0.
    """
    return float(f_beta_averages(c, beta, how))


def f_beta_averages(c: LabelCounts, beta: float, how: str) -> np.ndarray:
    """``f_beta_average`` for counts with leading axes: ``c.tp``, ``c.fp`` and
    ``c.fn`` of shape ``(..., L)`` give one average per leading index, e.g.
    per bootstrap resample (``engine.intervals``)."""
    if how not in AVERAGES:
        raise ValueError(f"average has to be one of {AVERAGES}, got {how!r}")
    tp, fp, fn = (np.asarray(x, dtype=np.int64) for x in (c.tp, c.fp, c.fn))
    if how == "MICRO":
        pooled = LabelCounts(labels=c.labels, tp=tp.sum(-1), fp=fp.sum(-1), fn=fn.sum(-1), n=c.n)
        return np.nan_to_num(f_beta(pooled, beta))
    values = np.nan_to_num(f_beta(LabelCounts(c.labels, tp, fp, fn, c.n), beta))
    if values.shape[-1] == 0:
        return np.zeros(values.shape[:-1])
    if how == "MACRO":
        return values.mean(axis=-1)
    support = tp + fn
    return np.nan_to_num(divide((values * support).sum(axis=-1), support.sum(axis=-1)))


def normalized(matrix: np.ndarray, how: str) -> np.ndarray:
    """A confusion matrix divided as scikit-learn's ``confusion_matrix(normalize=)``.

    TRUE divides each row by its sum (rows are actual labels: each row then
    shows where that label's rows went), PRED each column by its sum, ALL
    every cell by the total. NONE gives the matrix back as it is. Apply it to
    the matrix the API shows (``engine.metrics.submatrix``): its None row and
    column are normalised like any other.

    Notes
    -----
    A row (TRUE) or column (PRED) summing to 0, or an empty matrix (ALL),
    gives 0 in every cell, as scikit-learn's ``nan_to_num`` does.
    """
    if how not in NORMALIZATIONS:
        raise ValueError(f"normalize has to be one of {NORMALIZATIONS}, got {how!r}")
    if how == "NONE":
        return matrix
    if how == "TRUE":
        share = divide(matrix, matrix.sum(axis=1, keepdims=True))
    elif how == "PRED":
        share = divide(matrix, matrix.sum(axis=0, keepdims=True))
    else:
        share = divide(matrix, matrix.sum())
    return np.nan_to_num(share)
