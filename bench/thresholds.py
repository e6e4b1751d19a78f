"""Threshold curves and ranking metrics at 10M rows x 100 labels, against scikit-learn.

Engine-level (no server): arrays are generated in NumPy directly, Zipf-skewed
labels with a probability row per sample (``scores``), ``predicted`` its argmax
and ``confidence`` its maximum, as a softmax classifier would give.

    .venv/bin/python bench/thresholds.py [--rows 10000000] [--labels 100]
                                         [--sklearn-labels 100] [--only curve|ranking]

Timed, each the median of a few warm runs:
- a 101-point curve (every point's totals plus the metrics a CurvePoint
  reads): from the threshold index (no row filter), from one scan with a row
  mask, and from the filter's own index;
- scikit-learn's way to the same curve: one confusion matrix and
  precision_recall_fscore_support per threshold (timed once, times 101);
- average precision and ROC AUC of every label, by scores and by confidence,
  on one thread and on two (as the server's pool runs labels), against
  average_precision_score / roc_auc_score label by label (values checked equal).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evalql.engine.averaging import AVERAGED_METRICS, average  # noqa: E402
from evalql.engine.curves import grid, index_threshold_counts, threshold_counts  # noqa: E402
from evalql.engine.index import ThresholdIndex  # noqa: E402
from evalql.engine.metrics import label_counts, summary  # noqa: E402
from evalql.engine.ranking import (  # noqa: E402
    average_precision,
    rank_by_confidence,
    rank_by_scores,
    roc_auc,
)


def log(message: str) -> None:
    print(message, flush=True)


def median_seconds(fn: Callable[[], object], repeats: int = 5) -> float:
    fn()  # warm: compile or load kernels, fault pages in
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def generate(rows: int, labels: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Zipf-skewed actual labels; scores a noisy softmax leaning to the truth."""
    rng = np.random.default_rng(seed)
    weights = np.arange(1, labels + 1, dtype=np.float64) ** -1.1
    actual = rng.choice(labels, size=rows, p=weights / weights.sum()).astype(np.int32)
    scores = np.empty((rows, labels), dtype=np.float32)
    step = 500_000
    for lo in range(0, rows, step):
        hi = min(rows, lo + step)
        logits = rng.standard_normal((hi - lo, labels), dtype=np.float32)
        logits[np.arange(hi - lo), actual[lo:hi]] += 2.5
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        scores[lo:hi] = logits
    predicted = scores.argmax(axis=1).astype(np.int32)
    confidence = scores.max(axis=1)
    actual[rng.random(rows) < 0.02] = -1
    predicted[rng.random(rows) < 0.02] = -1
    segment = rng.integers(0, 4, rows)
    return {"actual": actual, "predicted": predicted, "confidence": confidence,
            "scores": scores, "mask": segment == 0}


def curve_points(counts: object, labels: np.ndarray) -> list[tuple[float, ...]]:
    """What Metrics.curve computes per point (MACRO averages, summary ratios)."""
    points = []
    for j in range(len(counts.thresholds)):  # type: ignore[attr-defined]
        totals = counts.totals(j)  # type: ignore[attr-defined]
        s = summary(totals)
        c = label_counts(totals, labels)
        points.append((s.coverage, s.accuracy, s.selective_accuracy,
                       *(average(m, c, "MACRO") for m in AVERAGED_METRICS)))
    return points


def sklearn_one_threshold(a: dict[str, np.ndarray], labels: int, t: float) -> None:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    kept = np.where(a["confidence"] >= np.float32(t), a["predicted"], -1)
    codes = list(range(labels))
    confusion_matrix(a["actual"], kept, labels=[*codes, -1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        precision_recall_fscore_support(a["actual"], kept, labels=codes, average="macro")


def bench_curve(a: dict[str, np.ndarray], k: int) -> None:
    log("\n101-point curve (MACRO over all labels)")
    thresholds = grid(101)
    codes = np.arange(k)
    start = time.perf_counter()
    index = ThresholdIndex.build(a["actual"], a["predicted"], a["confidence"], k)
    log(f"  threshold index build (once per split, not per query): {time.perf_counter() - start:.2f} s")
    mask = a["mask"]
    start = time.perf_counter()
    subset = ThresholdIndex.build(a["actual"][mask], a["predicted"][mask], a["confidence"][mask], k)
    log(f"  filter's index build (background, once per filter): {time.perf_counter() - start:.2f} s")
    cases = {
        "no filter, index": lambda: index_threshold_counts(index, thresholds),
        f"row filter ({mask.mean():.0%} rows), one scan": lambda: threshold_counts(
            a["actual"], a["predicted"], a["confidence"], thresholds, k, mask),
        "row filter, the filter's index": lambda: index_threshold_counts(subset, thresholds),
    }
    for name, counts_of in cases.items():
        counting = median_seconds(counts_of)
        total = median_seconds(lambda c=counts_of: curve_points(c(), codes))
        log(f"  {name:<38} counts {counting * 1e3:7.1f} ms   with metrics {total * 1e3:7.1f} ms")
    one = median_seconds(lambda: sklearn_one_threshold(a, k, 0.5), repeats=1)
    log(f"  scikit-learn, one threshold (confusion_matrix + prfs): {one:.2f} s"
        f" -> 101 points ~ {101 * one:.0f} s")


def bench_ranking(a: dict[str, np.ndarray], k: int, sklearn_labels: int) -> None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    log(f"\naverage precision + ROC AUC of all {k} labels")
    codes = np.arange(k)

    def by_scores(labels: np.ndarray) -> object:
        return rank_by_scores(a["scores"], a["actual"], labels)

    def on_threads(workers: int) -> None:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda c: by_scores(np.array([c])), codes))

    by_conf = median_seconds(lambda: rank_by_confidence(
        a["actual"], a["predicted"], a["confidence"], codes, k), repeats=3)
    log(f"  by confidence (no scores), all labels, 1 thread: {by_conf:.2f} s")
    one_thread = median_seconds(lambda: by_scores(codes), repeats=1)
    log(f"  by scores, 1 thread:  {one_thread:.2f} s ({one_thread / k * 1e3:.0f} ms a label)")
    two = median_seconds(lambda: on_threads(2), repeats=1)
    log(f"  by scores, 2 threads: {two:.2f} s (labels on a pool, as the server runs them)")

    ours = by_scores(codes)
    ap, auc = average_precision(ours), roc_auc(ours)
    spent = {"AP": 0.0, "AUC": 0.0}
    for c in range(sklearn_labels):
        y, score = a["actual"] == c, a["scores"][:, c]
        start = time.perf_counter()
        expected_ap = average_precision_score(y, score)
        middle = time.perf_counter()
        expected_auc = roc_auc_score(y, score)
        spent["AP"] += middle - start
        spent["AUC"] += time.perf_counter() - middle
        assert abs(ap[c] - expected_ap) <= 1e-9 * max(1.0, expected_ap), (c, ap[c], expected_ap)
        assert abs(auc[c] - expected_auc) <= 1e-9, (c, auc[c], expected_auc)
    for name, seconds in spent.items():
        per_label = seconds / sklearn_labels
        log(f"  scikit-learn {name} label by label: {per_label:.2f} s a label"
            f" ({sklearn_labels} timed) -> {per_label * k:.0f} s for {k}; values equal")
    sk = sum(spent.values()) / sklearn_labels * k
    log(f"  speed-up (both metrics, ours computes them in one pass): {sk / one_thread:.0f}x on"
        f" 1 thread, {sk / two:.0f}x on 2; AP alone:"
        f" {spent['AP'] / sklearn_labels * k / one_thread:.0f}x on 1 thread,"
        f" {spent['AP'] / sklearn_labels * k / two:.0f}x on 2")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--sklearn-labels", type=int, default=None,
                        help="labels to time scikit-learn on (default: all)")
    parser.add_argument("--only", choices=("curve", "ranking"), default=None)
    args = parser.parse_args(argv)
    log(f"{args.rows:,} rows x {args.labels} labels, {os.cpu_count()} cores")
    start = time.perf_counter()
    arrays = generate(args.rows, args.labels)
    log(f"generated in {time.perf_counter() - start:.1f} s")
    if args.only != "ranking":
        bench_curve(arrays, args.labels)
    if args.only != "curve":
        bench_ranking(arrays, args.labels, args.sklearn_labels or args.labels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
