"""The Trust issue's engine math, warm, against scikit-learn/scipy in the same run.

Engine functions only (the GraphQL wiring comes later), on the reference data
(default 10M rows x 100 labels, Zipf-skewed, with confidence; the Parquet file
under bench/data/ is generated once and reused):

- the F1 bootstrap: 1,000 resamples of the (K+1)^2 matrix, per average
  (its target: at most 50 ms at K = 100);
- compare of two 10M-row runs (target: under 1 s);
- agreement metrics from the matrix (balanced accuracy, MCC, kappa, F-beta,
  the normalised matrix), the scan that counts the matrix timed apart;
- Wilson intervals and McNemar's exact test;
- the top-label reliability diagram and ECE from the confidences, and the
  ROC/PR curves and recall threshold of one label, at the full row count;
- compare of two runs of the same rows (the candidate fixes a fifth of the
  rows, breaks a few), row i being row i and through a shuffled id join:
  each run's verdicts, the fixed/regressed counts and McNemar's p-value,
  against the same counts in NumPy;
- Brier score, log loss and ROC/PR curves from score vectors, on the first
  ``--score-rows`` rows (1M by default: 10M x 100 float32 scores are 4 GB, and
  scikit-learn's float64 one-hot copies twice that), with synthetic scores
  whose argmax is the prediction.

scikit-learn runs once per metric (each takes seconds at 10M rows), the
engine ``--repeats`` times (median); every engine answer is checked against
scikit-learn's and the table says so.

    python bench/trust.py                       # 10M x 100
    python bench/trust.py --rows 1000000 --repeats 5
"""

from __future__ import annotations

import argparse
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from common import (
    Dataset,
    fmt_ratio,
    fmt_seconds,
    generate,
    load_arrays,
    log,
    markdown_table,
    print_machine,
    time_runs,
)

from evalql.engine import agreement, calibration, compare, intervals, score_curves, significance
from evalql.engine.confusion import confusion_counts
from evalql.engine.metrics import label_counts, submatrix
from evalql.engine.ranking import precision_steps, threshold_for_recall
from evalql.engine.warm import warm

THRESHOLD = 0.5


class Report:
    """Rows of the result table: engine median, scikit-learn once, agreement."""

    def __init__(self, repeats: int) -> None:
        self.repeats = repeats
        self.rows: list[list[str]] = []

    def add(self, name: str, engine: Callable[[], Any], reference: Callable[[], Any] | None,
            same: Callable[[Any, Any], bool] | None = None, note: str = "") -> Any:
        log(f"  {name}")
        answer: list[Any] = []
        timing = time_runs(lambda _: answer.append(engine()), self.repeats)
        sk_seconds: float | None = None
        check = "—"
        if reference is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                started = time.perf_counter()
                expected = reference()
                sk_seconds = time.perf_counter() - started
            check = "yes" if same is None or same(answer[-1], expected) else "NO"
        ratio = sk_seconds / timing.median if sk_seconds is not None else None
        self.rows.append([name, fmt_seconds(timing.median), fmt_seconds(sk_seconds),
                          fmt_ratio(ratio), check, note])
        return answer[-1]

    def print(self) -> None:
        print(markdown_table(["what", "evalql (median)", "scikit-learn/scipy", "ratio",
                              "equal", "note"], self.rows))


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def codes_for_sklearn(actual: np.ndarray, predicted: np.ndarray, confidence: np.ndarray,
                      k: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes with None as K, predictions under the threshold abstained."""
    a = np.where(actual < 0, k, actual)
    p = np.where((predicted < 0) | (confidence < np.float32(THRESHOLD)), k, predicted)
    return a, p


def synthetic_scores(predicted: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """(N, K) float32 probabilities whose argmax is the prediction (when there is one)."""
    rng = np.random.default_rng(seed)
    weights = rng.gamma(0.3, size=(predicted.shape[0], k))
    rows = np.flatnonzero(predicted >= 0)
    weights[rows, predicted[rows]] += weights[rows].max(axis=1) + 0.5
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def bootstrap_rows(report: Report, counts: np.ndarray, k: int) -> None:
    labels = np.arange(k)
    for how in ("MACRO", "MICRO", "WEIGHTED"):
        point = agreement.f_beta_average(label_counts(counts, labels), 1.0, how)
        got = report.add(f"f1 bootstrap, {how}, 1,000 resamples, K = {k} (target 50 ms)",
                         lambda how=how: intervals.f1_interval(counts, labels, how, 0.95, 1000, 0),
                         None)
        report.rows[-1][-1] = f"[{got.low:.5f}, {got.high:.5f}] around {point:.5f}"


def agreement_rows(report: Report, counts: np.ndarray, a: np.ndarray, p: np.ndarray,
                   k: int) -> None:
    from sklearn.metrics import (
        balanced_accuracy_score,
        cohen_kappa_score,
        confusion_matrix,
        fbeta_score,
        matthews_corrcoef,
    )

    judged = a < k
    labels = np.arange(k)
    order = np.arange(k + 1)
    report.add("balanced accuracy (from the matrix)",
               lambda: agreement.balanced_accuracy(counts),
               lambda: balanced_accuracy_score(a[judged], p[judged]), close)
    report.add("Matthews corrcoef (from the matrix)",
               lambda: agreement.matthews_corrcoef(counts),
               lambda: matthews_corrcoef(a[judged], p[judged]), close)
    for weights, sk in (("NONE", None), ("QUADRATIC", "quadratic")):
        report.add(f"Cohen's kappa, {weights} (from the matrix)",
                   lambda weights=weights: agreement.cohen_kappa(counts, None, weights),
                   lambda sk=sk: cohen_kappa_score(a[judged], p[judged], labels=order,
                                                   weights=sk), close)
    report.add("F-beta(2), MACRO (from the matrix)",
               lambda: agreement.f_beta_average(label_counts(counts, labels), 2.0, "MACRO"),
               lambda: fbeta_score(a, p, beta=2.0, labels=labels, average="macro"), close)
    report.add("normalised matrix, TRUE (from the matrix)",
               lambda: agreement.normalized(submatrix(counts, labels), "TRUE"),
               lambda: confusion_matrix(a, p, labels=order, normalize="true"),
               lambda x, y: np.allclose(x, y, rtol=1e-12, atol=1e-15))


def interval_rows(report: Report, counts: np.ndarray) -> None:
    from scipy.stats import binomtest

    correct, labeled = int(np.trace(counts[:-1, :-1])), int(counts[:-1].sum())
    report.add("Wilson interval of accuracy",
               lambda: intervals.wilson_interval(correct, labeled),
               lambda: binomtest(correct, labeled).proportion_ci(method="wilson"),
               lambda x, y: close(x.low, y.low, 1e-12) and close(x.high, y.high, 1e-12))
    fixed, regressed = 401_000, 409_500
    report.add(f"McNemar exact p, {fixed:,} vs {regressed:,} rows",
               lambda: significance.mcnemar_p_value(fixed, regressed),
               lambda: binomtest(fixed, fixed + regressed, 0.5).pvalue,
               lambda x, y: close(x, y, 1e-8))


def confidence_rows(report: Report, actual: np.ndarray, predicted: np.ndarray,
                    confidence: np.ndarray, k: int, label: int) -> None:
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve, roc_curve

    kept = (actual >= 0) & (predicted >= 0) & (confidence >= np.float32(THRESHOLD))

    def engine_curve() -> tuple[np.ndarray, np.ndarray, float]:
        bins = calibration.reliability_from_confidence(actual, predicted, confidence, k, 15,
                                                       THRESHOLD)
        filled = bins.count > 0
        return (bins.accuracy()[filled], bins.mean_probability()[filled],
                calibration.expected_calibration_error(bins))

    report.add("reliability diagram + ECE, 15 bins (top label)", engine_curve,
               lambda: calibration_curve(predicted[kept] == actual[kept], confidence[kept],
                                         n_bins=15),
               lambda x, y: np.allclose(x[0], y[0], rtol=1e-12)
               and np.allclose(x[1], y[1], rtol=1e-9))
    score = np.where(predicted == label, confidence, np.float32(0))
    y = actual == label

    def engine_curves() -> tuple:
        steps = score_curves.steps_from_confidence(actual, predicted, confidence, label)
        return score_curves.roc_curve(steps, 101), score_curves.pr_curve(steps, 101)

    def same_curves(x: tuple, ref: tuple) -> bool:
        (fpr, tpr, thresholds), (precision, recall, _) = ref
        keep = score_curves.vertex_indices(len(thresholds), 101)
        return (np.allclose(x[0].false_positive_rate, fpr[keep], rtol=1e-12)
                and np.allclose(x[0].true_positive_rate, tpr[keep], rtol=1e-12)
                and np.allclose(x[1].precision, precision[::-1][keep], rtol=1e-12)
                and np.allclose(x[1].recall, recall[::-1][keep], rtol=1e-12))

    report.add(f"ROC + PR curve of label {label}, 101 points (confidence)", engine_curves,
               lambda: (roc_curve(y, score, drop_intermediate=False),
                        precision_recall_curve(y, score)), same_curves)
    support = int(np.count_nonzero(y))
    report.add(f"threshold for recall 0.8, label {label}",
               lambda: threshold_for_recall(
                   precision_steps(actual, predicted, confidence, label), 0.8, support),
               None)


def score_rows(report: Report, actual: np.ndarray, predicted: np.ndarray, k: int,
               label: int) -> None:
    from sklearn.metrics import brier_score_loss, log_loss, roc_curve

    n = actual.shape[0]
    log(f"  synthetic scores for {n:,} rows")
    scores = synthetic_scores(predicted, k)
    rows = actual >= 0
    note = f"{n:,} rows with scores"
    losses = report.add("Brier score + log loss (scores)",
                        lambda: calibration.score_losses(scores, actual),
                        lambda: (brier_score_loss(actual[rows], scores[rows], labels=range(k)),
                                 log_loss(actual[rows], scores[rows], labels=range(k))),
                        # scikit-learn sums float32 scores in float32
                        lambda x, y: close(x.brier, y[0], 1e-4) and close(x.log_loss, y[1], 1e-4),
                        note)
    assert losses.rows == rows.sum()
    report.add("reliability diagram + ECE, 15 bins (top score)",
               lambda: calibration.reliability_from_scores(scores, actual, 15), None, note=note)

    def same_roc(x: score_curves.RocCurve, ref: tuple) -> bool:
        fpr, tpr, thresholds = ref
        keep = score_curves.vertex_indices(len(thresholds), 101)
        return (np.allclose(x.false_positive_rate, fpr[keep], rtol=1e-12)
                and np.allclose(x.true_positive_rate, tpr[keep], rtol=1e-12))

    report.add(f"ROC curve of label {label}, 101 points (scores)",
               lambda: score_curves.roc_curve(
                   score_curves.steps_from_scores(scores, actual, label), 101),
               lambda: roc_curve(actual == label, scores[:, label], drop_intermediate=False),
               same_roc, note)


def compare_rows(report: Report, actual: np.ndarray, predicted: np.ndarray,
                 confidence: np.ndarray, k: int) -> None:
    """Two runs of the same rows: compare's verdicts, counts and p-value."""
    rng = np.random.default_rng(1)
    n = len(actual)
    cand = predicted.copy()
    fix = rng.random(n) < 0.2
    cand[fix] = actual[fix]
    broken = rng.random(n) < 0.02
    cand[broken] = rng.integers(0, k, int(broken.sum()))
    base_columns = compare.Columns(actual, predicted, confidence)
    shuffled = rng.permutation(n).astype(np.int32)  # candidate row j holds base row order[j]
    join = np.empty(n, np.int32)
    join[shuffled] = np.arange(n, dtype=np.int32)
    cand_columns = compare.Columns(actual[shuffled], cand[shuffled], confidence[shuffled])

    def engine(joined: bool) -> tuple[int, int, float]:
        b = compare.verdicts(base_columns, THRESHOLD)
        if joined:
            c = compare.verdicts(cand_columns, THRESHOLD)
            fixed, regressed = compare.count_changes(b, c, join)
        else:
            c = compare.verdicts(compare.Columns(actual, cand, confidence), THRESHOLD)
            fixed, regressed = compare.count_changes(b, c, None)
        return fixed, regressed, significance.mcnemar_p_value(fixed, regressed)

    def reference(joined: bool) -> tuple[int, int]:
        kept = confidence >= np.float32(THRESHOLD)
        labeled = actual >= 0
        was = labeled & kept & (predicted == actual)
        if joined:  # the candidate's verdicts in its own order, gathered by the join
            c = cand_columns
            now = ((c.actual >= 0) & (c.confidence >= np.float32(THRESHOLD))
                   & (c.predicted == c.actual))[join]
        else:
            now = labeled & kept & (cand == actual)
        return int((labeled & now & ~was).sum()), int((labeled & was & ~now).sum())

    def same(got: tuple[int, int, float], want: tuple[int, int]) -> bool:
        return got[:2] == want

    for joined in (False, True):
        how = "through a shuffled id join" if joined else "row i is row i"
        got = report.add(f"compare of two runs, {how}", lambda joined=joined: engine(joined),
                         lambda joined=joined: reference(joined), same)
        report.rows[-1][-1] = f"fixed {got[0]:,}, regressed {got[1]:,}, p = {got[2]:.3g} (NumPy reference)"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--score-rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=10, help="engine runs per row")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    ds = Dataset(args.rows, args.labels)
    k = ds.labels
    # The machine may be shared: its load says how far the figures are from
    # an idle machine's.
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print_machine([("load average at start (1, 5, 15 min)", load)])
    log("warming the kernels")
    warm()
    generate(ds)
    log("reading the arrays")
    arrays = load_arrays(ds)
    actual, predicted, confidence = arrays.actual, arrays.predicted, arrays.confidence
    report = Report(args.repeats)
    log("timing")
    counts = report.add(f"confusion matrix scan ({ds.title}, t = {THRESHOLD})",
                        lambda: confusion_counts(actual, predicted, confidence, THRESHOLD, k),
                        None)
    a, p = codes_for_sklearn(actual, predicted, confidence, k)
    bootstrap_rows(report, counts, k)
    agreement_rows(report, counts, a, p, k)
    interval_rows(report, counts)
    compare_rows(report, actual, predicted, confidence, k)
    label = 10  # a mid-frequency label of the Zipf ranks
    confidence_rows(report, actual, predicted, confidence, k, label)
    n = min(args.score_rows, args.rows)
    score_rows(report, actual[:n], predicted[:n], k, label)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Load average at the end (1, 5, 15 min): {load}")
    print()
    print(f"Dataset: {ds.rows:,} rows x {k} labels (Zipf actual labels, ~80% correct, 2% null "
          f"actual, 2% null predicted), threshold {THRESHOLD}. evalql: engine functions, warm, "
          f"median of {args.repeats}; scikit-learn/scipy: one run each, on the same arrays "
          f"(None as code K). Rows \"from the matrix\" start from the counted matrix.")
    print()
    report.print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
