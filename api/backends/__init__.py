"""Where a view's scans run: in process (the default), or on a cluster.

The seam is narrow on purpose. A multiclass view asks ``for_split`` before
it scans; when a remote backend is installed for its store and the split is
large enough, the view asks that backend for the merged partial results
(confusion counts at thresholds, label totals, per-threshold counts, the
confidence histogram, a breakdown's counts and matrices, a label's
precision steps, the rankings of a split without scores, the reliability
diagram from confidences, a page of order keys) instead of running the
kernels itself, and the fixed and regressed rows of a compare of two runs
over the same rows in the same order. A multilabel view asks for its
counts at a threshold, its curves' counts and its pair histogram
(``for_split(..., "multilabel")``). Everything else (rankings by a score
matrix, top-k, calibration from scores, a compare joined on id, id order,
the rest of a multilabel view, the rows of a page) stays local: see
docs/scaling.md.

``api.backends.dask`` is the one remote backend; only it imports dask, and
only when ``evalql serve --dask`` (or a test) installs it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

# Types of the protocol only: ``evalql serve``'s options read the defaults
# below, and the command line starts without the engine (Numba) imported.
if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

    from evalql.engine.calibration import ReliabilityBins
    from evalql.engine.curves import ThresholdCounts
    from evalql.engine.metrics import Totals
    from evalql.engine.multilabel.counts import MultilabelCounts, MultilabelThresholdCounts
    from evalql.engine.ranking import PrecisionSteps, Ranking
    from evalql.engine.select import Page, Predicate
    from evalql.storage.datasets import SplitStore
    from evalql.storage.filters import Condition
    from evalql.storage.model import SplitInfo

# The Dask backend's defaults live here, not in api.backends.dask, so that
# ``evalql serve``'s options can say them without importing dask.
# The scheduler's address when ``--dask`` is not given.
DASK_ADDRESS_VARIABLE = "EVALQL_DASK"
# 2M rows: 24 MB of columns and 16 MB of index per fragment, about 10-20 ms
# of kernel time each (bench/distributed.py), so a task's overhead (~1 ms
# on the scheduler) stays small and a billion rows are 500 tasks.
DEFAULT_FRAGMENT_ROWS = 2_000_000
# Below this a split is scanned in process: one machine's cores answer a
# 10M-row split in tens of milliseconds, less than a cluster's round trips.
DEFAULT_MIN_ROWS = 10_000_000


@dataclass(frozen=True)
class CompareSide:
    """One side of a compare as its verdicts are taken (``engine.compare.verdicts``):
    the split, its row filter, its threshold, and the actual labels it judges
    (bool K + 1, None last; None: every label)."""

    split: SplitInfo
    conditions: tuple[Condition, ...]
    threshold: float
    actual_ok: np.ndarray | None


class Backend(Protocol):
    """Merged partial results of a split's fragments, as the local kernels give them."""

    def handles(self, split: SplitInfo, task: str = "multiclass") -> bool:
        """Whether this backend answers for ``split``, a split of a ``task``
        model (large enough, a task it runs)."""
        ...

    def confusion_at(
        self, split: SplitInfo, conditions: tuple[Condition, ...],
        thresholds: Sequence[np.float32],
    ) -> list[np.ndarray]:
        """The (K+1)x(K+1) confusion counts of the rows ``conditions`` keep at each
        of ``thresholds`` (ascending float32), as ``api.split_cache.confusion_at``."""
        ...

    def totals(
        self, split: SplitInfo, conditions: tuple[Condition, ...], threshold: float
    ) -> Totals:
        """The label totals at ``threshold`` (``engine.confusion.label_totals``):
        what a split of labels too many for a dense matrix counts."""
        ...

    def curve_counts(
        self, split: SplitInfo, conditions: tuple[Condition, ...], thresholds: np.ndarray
    ) -> ThresholdCounts:
        """The counts at each of a curve's ``thresholds``
        (``engine.curves.threshold_counts``)."""
        ...

    def histogram(
        self, split: SplitInfo, conditions: tuple[Condition, ...], edges: np.ndarray,
        actual_ok: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predictions and right ones per confidence bin of ``edges``, rows whose
        actual label ``actual_ok`` keeps (``engine.histogram.confidence_histogram``)."""
        ...

    def breakdown_values(
        self, split: SplitInfo, conditions: tuple[Condition, ...], column: str,
        threshold: float, actual_ok: np.ndarray,
    ) -> tuple[list[object], np.ndarray, np.ndarray | None]:
        """A breakdown by the values of a string or bool ``column``: the values
        seen, the view's rows per value (nulls last) and, when they fit, every
        value's matrix at ``threshold`` (``fragments.value_slices_part``)."""
        ...

    def breakdown_range(
        self, split: SplitInfo, conditions: tuple[Condition, ...], column: str, kind: str,
        actual_ok: np.ndarray,
    ) -> tuple[tuple[float, float] | None, tuple[int, int] | None, int]:
        """The lowest and highest value of a numeric ``column`` over the view's
        rows (None: none), its ticks per second (time columns) and its null
        rows: what a breakdown by bins cuts (``fragments.column_range_part``)."""
        ...

    def breakdown_bins(
        self, split: SplitInfo, conditions: tuple[Condition, ...], column: str, kind: str,
        edges: np.ndarray, threshold: float, actual_ok: np.ndarray, dense: bool,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """A breakdown by the bins of ``edges``: the view's rows per bin (nulls
        last) and, when ``dense``, each bin's matrix at ``threshold``
        (``fragments.bin_slices_part``)."""
        ...

    def precision_steps(
        self, split: SplitInfo, conditions: tuple[Condition, ...], code: int
    ) -> PrecisionSteps:
        """Label ``code``'s kept TP and FP at each distinct confidence of its
        predictions (``engine.ranking.precision_steps``)."""
        ...

    def ranking(
        self, split: SplitInfo, conditions: tuple[Condition, ...], codes: np.ndarray
    ) -> Ranking:
        """The ranking of labels ``codes`` by confidence, for a split without
        scores (``engine.ranking.rank_by_confidence``), float for float."""
        ...

    def reliability(
        self, split: SplitInfo, conditions: tuple[Condition, ...], bins: int,
        threshold: float, labels: np.ndarray | None,
    ) -> ReliabilityBins:
        """The top-label reliability diagram from the confidences of the rows
        ``conditions`` keep whose actual label is in ``labels`` (every label
        when None), predictions kept at ``threshold``
        (``engine.calibration.reliability_from_confidence``)."""
        ...

    def label_set_counts(
        self, split: SplitInfo, conditions: tuple[Condition, ...], threshold: float,
        labels: np.ndarray | None, matrix: bool,
    ) -> MultilabelCounts:
        """A multilabel split's counts at ``threshold`` on the class filter
        ``labels`` (``engine.multilabel.counts.multilabel_counts``)."""
        ...

    def unlabeled_rows(
        self, split: SplitInfo, conditions: tuple[Condition, ...], threshold: float,
        labels: np.ndarray | None,
    ) -> int:
        """A multilabel split's rows without an actual label of ``labels``
        (every label when None; ``engine.multilabel.rows.unlabeled_rows``)."""
        ...

    def label_set_curve(
        self, split: SplitInfo, conditions: tuple[Condition, ...], thresholds: np.ndarray,
        labels: np.ndarray | None,
    ) -> MultilabelThresholdCounts:
        """A multilabel split's counts at each of ``thresholds``
        (``engine.multilabel.curves.multilabel_threshold_counts``)."""
        ...

    def pair_histogram(
        self, split: SplitInfo, conditions: tuple[Condition, ...], edges: np.ndarray,
        labels: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A multilabel split's predicted pairs per confidence bin, and the
        right ones (``engine.multilabel.curves.pair_histogram``)."""
        ...

    def compare_counts(self, base: CompareSide, cand: CompareSide) -> tuple[int, int] | None:
        """Fixed and regressed rows of ``cand`` against ``base`` when the two
        splits hold the same ids in the same row order
        (``engine.compare.count_changes`` without a join); None when they do
        not, and the caller joins on id."""
        ...

    def compare_page(
        self, base: CompareSide, cand: CompareSide, change: int, after: int, limit: int,
    ) -> Page | None:
        """The baseline positions after ``after`` whose change is ``change``
        (``engine.compare.changed_rows`` without a join: FIXED or REGRESSED),
        when the splits hold the same ids in the same order; None when not."""
        ...

    def select(
        self, split: SplitInfo, conditions: tuple[Condition, ...], threshold: float,
        predicate: Predicate, descending: bool, after: int, limit: int,
    ) -> Page:
        """A page of the rows matching ``predicate`` at ``threshold``: the
        ``limit`` best after order key ``after``, and how many match
        (``engine.select.page_of``)."""
        ...


_installed: dict[Path, Backend] = {}
_lock = threading.Lock()


def _key(root: Path) -> Path:
    return Path(root).resolve()


def install(root: Path, backend: Backend) -> None:
    """Send the scans of the store at ``root`` to ``backend`` (for its large splits)."""
    with _lock:
        _installed[_key(root)] = backend


def uninstall(root: Path) -> Backend | None:
    """Scan the store at ``root`` in process again; the backend it had, if any."""
    with _lock:
        return _installed.pop(_key(root), None)


def for_split(store: SplitStore, split: SplitInfo, task: str = "multiclass") -> Backend | None:
    """The backend that answers for ``split`` of ``store``, a split of a ``task``
    model (what the caller's view counts); None: scan in process."""
    if not _installed:
        return None
    backend = _installed.get(_key(store.root))
    return backend if backend is not None and backend.handles(split, task) else None
