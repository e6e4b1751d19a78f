"""Insight rules on hand-made counts: every kind triggered by a crafted view
and absent from a clean one, the Wilson criterion at its edge, and the
719-row split of the Trust issue."""

from __future__ import annotations

import numpy as np
import pytest

from evalql.engine import insights as rules
from evalql.engine.calibration import ReliabilityBins, calibration_edges
from evalql.engine.insights import Inputs, insights
from evalql.engine.intervals import wilson_interval
from evalql.engine.metrics import LabelCounts, Totals, label_counts, summary

KINDS = {
    "confusion", "low_recall", "low_precision", "abstention", "unlabeled", "overfitting",
    "high_confidence_errors", "calibration", "class_imbalance", "low_support",
}


def bins(count: list[int], hits: list[int], probability: list[float]) -> ReliabilityBins:
    """A reliability diagram with ``len(count)`` bins, mean probabilities given."""
    count_, hits_ = np.array(count, dtype=np.int64), np.array(hits, dtype=np.int64)
    return ReliabilityBins(calibration_edges(len(count)), count_, hits_,
                           count_ * np.array(probability, dtype=np.float64))


def top_bin(rows: int, right: int, probability: float, n_bins: int) -> ReliabilityBins:
    """Every row in the last of ``n_bins`` bins."""
    count, hits, p = [0] * n_bins, [0] * n_bins, [0.0] * n_bins
    count[-1], hits[-1], p[-1] = rows, right, probability
    return bins(count, hits, p)


def clean_matrix() -> np.ndarray:
    """Four labels of 500 rows, each right 96% of the time, errors spread."""
    counts = np.zeros((5, 5), dtype=np.int64)
    for a in range(4):
        counts[a, a] = 480
        for p in range(4):
            if p != a:
                counts[a, p] = 6
        counts[a, 4] = 2
    return counts


def run(counts: np.ndarray, unlabeled: int | None = None, **parts) -> list[rules.Finding]:
    k = counts.shape[0] - 1
    unlabeled = int(counts[-1].sum()) if unlabeled is None else unlabeled
    return insights(Inputs(counts, label_counts(counts, np.arange(k)), summary(counts),
                           unlabeled, **parts))


def clean_parts(counts: np.ndarray) -> dict:
    s = summary(counts)
    calibrated = top_bin(s.correct, s.correct, s.correct / s.correct, rules.CALIBRATION_BINS)
    return {
        "balanced": s.accuracy,
        "confident": top_bin(s.correct, s.correct, 0.95, rules.CONFIDENCE_BINS),
        "reliability": calibrated,
        "pair": (s, s),
    }


def kinds(found: list[rules.Finding]) -> set[str]:
    return {f.kind for f in found}


def test_a_clean_view_has_no_insight() -> None:
    counts = clean_matrix()
    assert run(counts, **clean_parts(counts)) == []


def crafted() -> tuple[np.ndarray, dict]:
    """A view that shows every kind: label 1 goes to 0, label 2 is rarely
    found, label 3 has 12 rows and is mostly predicted wrongly, many
    abstentions and unlabeled rows; the
    training split is far better, the confident predictions are often wrong."""
    counts = np.array([
        [900, 10, 5, 40, 150],
        [150, 300, 0, 0, 50],
        [60, 20, 40, 0, 80],
        [6, 3, 0, 3, 0],
        [90, 30, 30, 0, 0],
    ])
    s = summary(counts)
    training = summary(np.diag([1000, 500, 200, 12, 0]))
    parts = {
        "balanced": float(np.mean(np.diag(counts)[:4] / counts[:4].sum(axis=1))),
        "confident": top_bin(1000, 800, 0.95, rules.CONFIDENCE_BINS),
        "reliability": top_bin(s.answered, s.correct, 0.97, rules.CALIBRATION_BINS),
        "pair": (training, s),
    }
    return counts, parts


def test_a_crafted_view_shows_every_kind_most_severe_first() -> None:
    counts, parts = crafted()
    found = run(counts, **parts)
    assert kinds(found) == KINDS
    order = [rules.SEVERITY_ORDER[f.severity] for f in found]
    assert order == sorted(order)
    # Weak labels first, weakest first: label 3's precision (3 of 43), then
    # label 2's recall (40 of 200).
    assert [(f.kind, f.codes, f.severity) for f in found[:2]] == [
        ("low_precision", (3,), "critical"), ("low_recall", (2,), "critical"),
    ]
    assert found[1].value == 40 / 200 and found[1].base == 200


@pytest.mark.parametrize("kind", sorted(KINDS - {"confusion", "low_recall"}))
def test_each_kind_is_absent_when_its_part_of_the_view_is_clean(kind: str) -> None:
    counts, parts = crafted()
    clean = clean_parts(clean_matrix())
    fixes = {
        "overfitting": {"pair": None},
        "high_confidence_errors": {"confident": clean["confident"]},
        "calibration": {"reliability": None},
    }
    if kind in fixes:
        assert kind not in kinds(run(counts, **(parts | fixes[kind])))
    else:
        assert kind in kinds(run(counts, **parts))
        assert kind not in kinds(run(clean_matrix(), **clean))


def test_a_share_is_a_confusion_from_where_its_wilson_low_end_reaches_5_percent() -> None:
    n = 200
    edge = next(k for k in range(n) if wilson_interval(k, n).low >= rules.CONFUSION_SHARE)
    for k, reported in ((edge - 1, False), (edge, True)):
        counts = np.zeros((3, 3), dtype=np.int64)
        counts[0, 0], counts[0, 1], counts[1, 1] = n - k, k, 500
        found = rules.confusions(counts, label_counts(counts, np.arange(2)))
        assert bool(found) is reported, k
    assert wilson_interval(edge, n).low - rules.CONFUSION_SHARE < 0.01  # it is the edge


def test_a_rate_over_too_few_rows_is_not_reported_however_large() -> None:
    # 1 of 1 row of label 1 goes to 0: 100%, but its interval is 21%..100%.
    counts = np.array([[500, 0, 0], [1, 0, 0], [0, 0, 0]])
    found = rules.confusions(counts, label_counts(counts, np.arange(2)))
    assert found == []
    low = rules.low_support(label_counts(counts, np.arange(2)))
    assert [(f.codes, f.rows) for f in low] == [((1,), 1)]


def test_the_719_row_split_of_the_issue_reports_9_of_70_eights_as_ones() -> None:
    # Ten digits; "eight" (70 rows) goes to "one" 9 times; the rest is right.
    support = [71, 73, 71, 73, 72, 72, 72, 72, 70, 73]
    assert sum(support) == 719
    counts = np.zeros((11, 11), dtype=np.int64)
    counts[np.arange(10), np.arange(10)] = support
    counts[8, 8], counts[8, 1] = 61, 9
    found = rules.confusions(counts, label_counts(counts, np.arange(10)))
    assert [(f.codes, f.rows, f.base) for f in found] == [((8, 1), 9, 70)]
    # A confusion, though its low end (6.9%) is under twice the share: info.
    assert found[0].value == pytest.approx(9 / 70) and found[0].severity == "info"
    assert found[0].interval.low == pytest.approx(0.0691, abs=1e-4)


def test_small_but_clear_recall_and_precision_are_reported_with_their_interval() -> None:
    # Label 1: 2 of 30 rows found (7%, interval 2%..21%): critical.
    counts = np.array([[500, 0, 0], [28, 2, 0], [0, 0, 0]])
    [low] = rules.weak_labels(label_counts(counts, np.arange(2)))
    assert (low.kind, low.codes, low.severity) == ("low_recall", (1,), "critical")
    assert low.rows == 2 and low.base == 30 and low.interval.high < rules.CRITICAL_RATE


def test_overfitting_needs_the_gap_beyond_both_intervals() -> None:
    held_out = summary(np.array([[800, 200], [0, 0]]))  # 80% of 1,000 rows
    near = summary(np.array([[830, 170], [0, 0]]))  # 83%: within noise of 80%
    far = summary(np.array([[900, 100], [0, 0]]))
    assert rules.overfitting(near, held_out) is None
    finding = rules.overfitting(far, held_out)
    assert finding is not None and finding.value == pytest.approx(0.1)
    assert finding.compared == (0.9, 0.8)


def test_calibration_gap_reports_the_ece_and_ignores_sampling_noise() -> None:
    noisy = top_bin(50, 45, 0.97, rules.CALIBRATION_BINS)  # 90% right at 97%, 50 rows
    assert rules.calibration_gap(noisy) is None
    clear = top_bin(2000, 1600, 0.97, rules.CALIBRATION_BINS)
    finding = rules.calibration_gap(clear)
    assert finding is not None and finding.value == pytest.approx(0.17)
    assert finding.compared == pytest.approx((0.97, 0.8))


def test_class_imbalance_names_the_label_recalled_worst() -> None:
    counts = np.array([[950, 50, 0], [40, 10, 0], [0, 0, 0]])
    c, s = label_counts(counts, np.arange(2)), summary(counts)
    balanced = (950 / 1000 + 10 / 50) / 2
    finding = rules.class_imbalance(s, c, balanced)
    assert finding is not None and finding.codes == (1,)
    assert finding.value == pytest.approx(s.accuracy - balanced)
    assert rules.class_imbalance(s, c, None) is None


# --- caps: thousands of labels, a few insights ---------------------------------


def many_weak_labels(k: int, seed: int = 0) -> Totals:
    """``k`` labels, each found in 5%..45% of its 15..400 rows (the rest
    abstained) and predicted wrongly for unlabeled rows as often again: weak
    recall and precision everywhere, with evidence of every strength."""
    rng = np.random.default_rng(seed)
    support = rng.integers(15, 400, k)
    tp = (support * rng.uniform(0.05, 0.45, k)).astype(np.int64)
    fp = (tp * rng.uniform(0.5, 3.0, k)).astype(np.int64)
    actual = np.append(support, fp.sum())  # None's rows: the false positives
    predicted = np.append(tp + fp, (support - tp).sum())
    return Totals(tp=tp, actual=actual, predicted=predicted, abstained=np.append(support - tp, 0))


def strongest(c: LabelCounts, kind: str) -> list[tuple[float, int, int]]:
    """Every finding of a weak-label kind, by brute force: (high end, -rows, code)."""
    base = c.support if kind == "low_recall" else c.predicted
    found = []
    for i, code in enumerate(c.labels):
        bounds = wilson_interval(int(c.tp[i]), int(base[i])) if base[i] else None
        if (bounds is not None and bounds.high - bounds.low <= rules.SUPPORT_WIDTH
                and bounds.high < rules.LOW_RATE):
            found.append((bounds.high, -int(base[i]), int(code)))
    return sorted(found)


@pytest.mark.parametrize("k", [40, 10_000])
def test_many_weak_labels_give_the_strongest_few_of_each_kind_and_count_the_rest(k: int) -> None:
    c = label_counts(many_weak_labels(k), np.arange(k))
    found = rules.weak_labels(c)
    highs = [f.interval.high for f in found]
    assert highs == sorted(highs)  # strongest evidence first, across both kinds
    for kind in ("low_recall", "low_precision"):
        expected = strongest(c, kind)
        assert len(expected) > rules.MAX_WEAK_LABELS  # the cap has something to cut
        of_kind = [f for f in found if f.kind == kind]
        assert [f.codes[0] for f in of_kind] == [code for _, _, code in expected][
            : rules.MAX_WEAK_LABELS]
        assert [f.more for f in of_kind] == [0] * (rules.MAX_WEAK_LABELS - 1) + [
            len(expected) - rules.MAX_WEAK_LABELS]


def test_weak_labels_rank_by_the_interval_not_by_the_rate() -> None:
    # Label 0: 0 of 12 rows (0%, interval 0%..24%); label 1: 100 of 1,000
    # (10%, interval 8%..12%): label 1 is known to be weak more surely.
    totals = Totals(tp=np.array([0, 100]), actual=np.array([12, 1000, 0]),
                    predicted=np.array([0, 100, 912]), abstained=np.array([12, 900, 0]))
    found = rules.weak_labels(label_counts(totals, np.arange(2)))
    assert [(f.kind, f.codes) for f in found] == [("low_recall", (1,)), ("low_recall", (0,))]


def test_a_view_of_many_labels_keeps_every_capped_kind_at_its_cap() -> None:
    k = 400
    totals = many_weak_labels(k, seed=1)
    totals.tp[:60] = 0  # 60 labels of 15..400 rows, never found
    counts = np.zeros((k + 1, k + 1), dtype=np.int64)
    counts[np.arange(k), np.arange(k)] = totals.tp
    # Half of each label's rows go to the next label: a confusion each.
    moved = (totals.actual[:k] - totals.tp) // 2
    counts[np.arange(k), (np.arange(k) + 1) % k] = moved
    counts[np.arange(k), k] = totals.actual[:k] - totals.tp - moved
    counts[k, :k] = 3
    counts[:7, :] = 0  # and seven labels without a row
    c = label_counts(counts, np.arange(k))
    found = insights(Inputs(counts, c, summary(counts), int(counts[-1].sum())))
    caps = {"low_recall": rules.MAX_WEAK_LABELS, "low_precision": rules.MAX_WEAK_LABELS,
            "confusion": rules.MAX_CONFUSIONS, "low_support": rules.MAX_LOW_SUPPORT}
    for kind, cap in caps.items():
        of_kind = [f for f in found if f.kind == kind]
        assert len(of_kind) == cap, kind
        assert of_kind[-1].more > 0 and all(f.more == 0 for f in of_kind[:-1]), kind
    confusions = [f for f in found if f.kind == "confusion"]
    lows = [f.interval.low for f in confusions]
    assert lows == sorted(lows, reverse=True)
    support = [f.rows for f in found if f.kind == "low_support"]
    assert support == sorted(support) and support[0] == 0


def test_a_rule_under_its_cap_counts_nothing_more() -> None:
    counts, parts = crafted()
    assert all(f.more == 0 for f in run(counts, **parts))


def test_low_support_reads_every_label_its_interval_could_flag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Labels of 0..60 rows, each found in every possible number of them: the
    # rule (which gives only small labels an interval) agrees with reading
    # every label's interval, and the edge lies among them (38 rows flagged).
    support = np.array([n for n in range(61) for _ in range(n + 1)] + [0])
    tp = np.array([k for n in range(61) for k in range(n + 1)] + [0])
    c = LabelCounts(labels=np.arange(len(support)), tp=tp, fp=np.zeros_like(tp),
                    fn=support - tp, n=int(support.sum()))
    expected = [code for code in c.labels if support[code] == 0
                or wilson_interval(int(tp[code]), int(support[code])).high
                - wilson_interval(int(tp[code]), int(support[code])).low > rules.SUPPORT_WIDTH]
    assert max(support[expected]) == 38
    found = rules.low_support(c)
    assert found[-1].more == len(expected) - rules.MAX_LOW_SUPPORT
    monkeypatch.setattr(rules, "MAX_LOW_SUPPORT", len(support))  # no cap: every one
    assert sorted(f.codes[0] for f in rules.low_support(c)) == sorted(expected)
